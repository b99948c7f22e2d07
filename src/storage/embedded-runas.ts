import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { Logger } from '../observability/logger.js';

/**
 * Which user the embedded PostgreSQL's processes run as. PostgreSQL refuses
 * to run as root (geteuid() == 0), so when Talus runs as root:
 *
 * - by default in a user namespace (`unshare --user --map-user=N`): inside it
 *   the process's uid is N, which PostgreSQL accepts, while every file access
 *   is made as root's own uid outside. Files Talus created (root's) are seen
 *   inside as N's, so PostgreSQL's ownership check on its data dir passes, and
 *   a data dir below a mode-700 folder such as /root is reachable. No system
 *   user is needed. The process has no capabilities (exec as non-root uid N
 *   drops them), so it reaches exactly what root's owner bits allow.
 * - where user namespaces are refused (many containers, util-linux < 2.38) or
 *   disabled (`embedded-pg-user-namespace no`), as the `postgres` system user
 *   (created if missing), which must be able to reach the data dir; the
 *   binaries are copied once to /var/cache/talus when it cannot reach them
 *   (an npm install under /root).
 * - a data dir made by an earlier Talus as the `postgres` user (owned by a
 *   non-root uid) keeps being run as its owner.
 */
export interface RunAs {
  /** how it runs, for the log */
  readonly how: string;
  /** the native dir (bin, lib, share) of the binaries to run */
  readonly nativeDir: string;
  /** the command that runs `file args` as the chosen user */
  command(file: string, args: string[]): { file: string; args: string[]; uid?: number; gid?: number };
  /** hand a file or dir Talus (root) created to the server's user */
  own(file: string): void;
}

/** A start-up failure with its cause and its fix, printed as one line. */
export class EmbeddedStartError extends Error {
  constructor(cause: string, fix: string) {
    super(`embedded PostgreSQL cannot start: ${cause}. Fix: ${fix}`);
  }
}

const NO_EMBEDDED = 'or set database-url / DATABASE_URL to use a PostgreSQL you run';

export function chooseRunAs(opts: {
  nativeDir: string;
  root: string;
  pgdata: string;
  userNamespace: boolean;
  log: Logger;
}): RunAs {
  const { nativeDir, root, pgdata, log } = opts;
  if (process.getuid?.() !== 0) {
    return { how: 'as the current user', nativeDir, command: (file, args) => ({ file, args }), own: () => undefined };
  }
  const existing = fs.existsSync(path.join(pgdata, 'PG_VERSION')) ? fs.statSync(pgdata) : undefined;
  if (existing && existing.uid !== 0) return asUser(existing.uid, existing.gid, opts, `${pgdata} belongs to it`);

  let refused = 'embedded-pg-user-namespace is no';
  if (opts.userNamespace) {
    const ns = userNamespace(nativeDir);
    if (typeof ns !== 'string') return ns;
    refused = `user namespaces are refused: ${ns}`;
    log.verbose(`${refused}; running PostgreSQL as the postgres user`);
  }
  if (existing) {
    throw new EmbeddedStartError(
      `${pgdata} belongs to root, which PostgreSQL can only run on in a user namespace, and ${refused}`,
      `allow user namespaces (embedded-pg-user-namespace yes), or \`chown -R postgres: '${pgdata}'\`, ${NO_EMBEDDED}`,
    );
  }
  const ids = ensurePostgresUser(refused);
  return asUser(ids.uid, ids.gid, opts, refused);
}

/** Root's own uid seen as a non-root user inside a new user namespace; a string says why not. */
function userNamespace(nativeDir: string): RunAs | string {
  const inside = insideIds();
  if (!inside) return 'no non-root user in /etc/passwd to appear as';
  const prefix = ['--user', `--map-user=${inside.uid}`, `--map-group=${inside.gid}`, '--'];
  try {
    execFileSync('unshare', [...prefix, 'true'], { stdio: 'pipe', timeout: 10_000 });
  } catch (err) {
    const e = err as { stderr?: Buffer; message: string };
    return (e.stderr?.toString().trim() || e.message).split('\n')[0]!;
  }
  return {
    how: `in a user namespace (root seen as uid ${inside.uid})`,
    nativeDir,
    command: (file, args) => ({ file: 'unshare', args: [...prefix, file, ...args] }),
    own: () => undefined,
  };
}

/**
 * The uid (and its group) to appear as inside the namespace: initdb and a
 * single-user postgres look their user up by uid, so it must have a passwd
 * entry. Not the overflow uid 65534, which is also how every unmapped uid
 * appears inside: a data dir of another user would then look like ours.
 */
function insideIds(): { uid: number; gid: number } | undefined {
  let passwd: string;
  try {
    passwd = fs.readFileSync('/etc/passwd', 'utf8');
  } catch {
    return undefined;
  }
  const users = passwd.split('\n').map((line) => line.split(':')).filter((f) => f.length >= 4)
    .map((f) => ({ name: f[0], uid: Number(f[2]), gid: Number(f[3]) }))
    .filter((u) => Number.isInteger(u.uid) && Number.isInteger(u.gid) && u.uid > 0 && u.uid < 65534 && u.gid > 0 && u.gid < 65534);
  return users.find((u) => u.name === 'postgres') ?? users[0];
}

/** `why`: why PostgreSQL runs as this user (for the error when it cannot reach the data dir). */
function asUser(uid: number, gid: number, opts: { nativeDir: string; root: string; log: Logger }, why: string): RunAs {
  const blocked = firstUnreachable(opts.root, uid, gid);
  if (blocked !== undefined) {
    const mode = (fs.statSync(blocked).mode & 0o777).toString(8);
    throw new EmbeddedStartError(
      `PostgreSQL runs as ${userName(uid)} (uid ${uid}: ${why}), which cannot reach ${opts.root} (${blocked} is mode ${mode})`,
      `use a --dir it can reach (e.g. /var/lib/talus), allow user namespaces, ${NO_EMBEDDED}`,
    );
  }
  const nativeDir = reachableBinaries(opts.nativeDir, uid, gid, opts.log);
  return {
    how: `as ${userName(uid)} (uid ${uid})`,
    nativeDir,
    command: (file, args) => ({ file, args, uid, gid }),
    own: (file) => fs.chownSync(file, uid, gid),
  };
}

/** Whether the user can reach (cd into) a directory, asked of the kernel by a shell run as that user. */
function canReach(dir: string, uid: number, gid: number): boolean {
  return spawnSync('/bin/sh', ['-c', 'cd -- "$1"', 'sh', dir], { uid, gid, stdio: 'ignore' }).status === 0;
}

/** The first of `dir` and its ancestors the user cannot reach, if any. */
function firstUnreachable(dir: string, uid: number, gid: number): string | undefined {
  if (canReach(dir, uid, gid)) return undefined;
  const chain: string[] = [];
  for (let d = dir; ; d = path.dirname(d)) {
    chain.unshift(d);
    if (path.dirname(d) === d) break;
  }
  return chain.find((d) => !canReach(d, uid, gid)) ?? dir;
}

/**
 * The binaries as the user can run them: the package's own, or a copy in a
 * root-owned 0755 cache, made once per package version (an npm install in a
 * mode-700 home is out of the user's reach).
 */
function reachableBinaries(nativeDir: string, uid: number, gid: number, log: Logger): string {
  if (canReach(path.join(nativeDir, 'bin'), uid, gid)) return nativeDir;
  const pkg = JSON.parse(fs.readFileSync(path.join(nativeDir, '..', 'package.json'), 'utf8')) as { name: string; version: string };
  const cache = '/var/cache/talus';
  const target = path.join(cache, `${pkg.name.replace(/^@/, '').replace('/', '-')}-${pkg.version}`);
  if (!fs.existsSync(path.join(target, 'bin', 'postgres'))) {
    log.notice(`copying the PostgreSQL binaries to ${target}, where uid ${uid} can run them`);
    fs.mkdirSync(cache, { recursive: true, mode: 0o755 });
    fs.chmodSync(cache, 0o755);
    const tmp = `${target}.tmp-${process.pid}`;
    fs.rmSync(tmp, { recursive: true, force: true });
    fs.cpSync(nativeDir, tmp, { recursive: true, verbatimSymlinks: true, preserveTimestamps: true });
    fs.chmodSync(tmp, 0o755);
    fs.rmSync(target, { recursive: true, force: true });
    fs.renameSync(tmp, target);
  }
  if (!canReach(path.join(target, 'bin'), uid, gid)) {
    throw new EmbeddedStartError(
      `uid ${uid} can reach neither ${nativeDir} nor its copy in ${target}`,
      `make ${cache} reachable (mode 755), allow user namespaces, ${NO_EMBEDDED}`,
    );
  }
  return target;
}

function userName(uid: number): string {
  try {
    return execFileSync('id', ['-nu', String(uid)], { stdio: 'pipe' }).toString().trim();
  } catch {
    return `uid ${uid}`;
  }
}

/** The `postgres` system user (created if missing): the fallback when namespaces are refused. */
function ensurePostgresUser(why: string): { uid: number; gid: number } {
  const lookup = () => {
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { stdio: 'pipe' }).toString().trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { stdio: 'pipe' }).toString().trim());
    return { uid, gid };
  };
  try {
    return lookup();
  } catch {
    try {
      execFileSync('groupadd', ['-f', '-r', 'postgres'], { stdio: 'ignore' });
      execFileSync('useradd', ['-r', '-g', 'postgres', '-s', '/usr/sbin/nologin', 'postgres'], { stdio: 'ignore' });
      return lookup();
    } catch (err) {
      throw new EmbeddedStartError(
        `PostgreSQL cannot run as root, ${why}, and no \`postgres\` user could be created (${(err as Error).message.split('\n')[0]})`,
        `create one (useradd -r postgres), allow user namespaces, ${NO_EMBEDDED}`,
      );
    }
  }
}
