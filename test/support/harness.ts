import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { Redis, type RedisOptions } from 'ioredis';
import { startEmbeddedPostgres, type EmbeddedCluster } from '../../src/storage/embedded.js';
import { Logger } from '../../src/observability/logger.js';

/**
 * Test fixtures: one real PostgreSQL for the whole run (embedded, or
 * TALUS_TEST_DATABASE_URL), a fresh database per Talus server, and Talus
 * servers as real child processes talked to over TCP.
 */
export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
/** the launcher users run (npm start): node with Talus's memory settings */
const LAUNCHER = path.join(ROOT, 'bin/talus');

let cluster: EmbeddedCluster | undefined;
let adminUrl: string | undefined;
let dbCounter = 0;
const tmpRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'talus-test-'));
// mkdtemp makes 0700 dirs; as root the embedded PostgreSQL runs as the
// `postgres` user, which must be able to reach its data dir below them.
fs.chmodSync(tmpRoot, 0o755);

export async function postgresUrl(): Promise<string> {
  if (adminUrl) return adminUrl;
  if (process.env.TALUS_TEST_DATABASE_URL) {
    adminUrl = process.env.TALUS_TEST_DATABASE_URL;
  } else {
    cluster = await startEmbeddedPostgres({ dir: path.join(tmpRoot, 'cluster'), port: 0, log: new Logger('warning') });
    adminUrl = cluster.url;
  }
  return adminUrl;
}

/** A new, empty database on the test cluster; returns its URL. */
export async function freshDatabase(): Promise<string> {
  const base = await postgresUrl();
  const name = `talus_t${process.pid}_${++dbCounter}`;
  const client = new pg.Client({ connectionString: base });
  await client.connect();
  try {
    await client.query(`DROP DATABASE IF EXISTS ${name}`);
    await client.query(`CREATE DATABASE ${name}`);
  } finally {
    await client.end();
  }
  const u = new URL(base);
  u.pathname = `/${name}`;
  return u.toString();
}

export async function stopPostgres(): Promise<void> {
  await cluster?.stop();
  cluster = undefined;
  adminUrl = undefined;
}

/** The run's scratch dirs (the shared cluster, servers' data dirs) can take gigabytes: gone with the process. */
export function removeScratch(): void {
  fs.rmSync(tmpRoot, { recursive: true, force: true });
}
process.on('exit', () => {
  if (!process.env.TALUS_KEEP_SCRATCH) removeScratch();
});

export function tempDir(prefix = 'srv'): string {
  const dir = fs.mkdtempSync(path.join(tmpRoot, `${prefix}-`));
  fs.chmodSync(dir, 0o755);
  return dir;
}

export interface TalusProcess {
  port: number;
  proc: ChildProcess;
  output: () => string;
  client(opts?: RedisOptions): Redis;
  /** SIGTERM and wait for exit */
  stop(): Promise<void>;
  /** SIGKILL and wait for exit */
  kill(): Promise<void>;
}

/** Output of every Talus started by this run, and how much of it was checked (takeSeamViolations). */
const outputs: Array<{ output: () => string; checked: number }> = [];

/**
 * Log lines, since the last call, of a Talus that changed a key without
 * reporting it at the mutation seam, or touched one before it was resident
 * (execution/executor.ts checkReported): a change the change log misses, or
 * a key taken for absent. The root hooks fail the test that caused one.
 */
export function takeSeamViolations(): string[] {
  const found: string[] = [];
  for (const o of outputs) {
    const text = o.output();
    for (const line of text.slice(o.checked).split('\n')) {
      if (line.includes('without reporting them') || line.includes('that were not resident')) found.push(line);
    }
    o.checked = text.length;
  }
  return found;
}

/**
 * Start Talus (bin/talus) with these options (redis-server style
 * `--name value` pairs). Uses a fresh database unless `--database-url` or
 * `embedded: true` is given.
 */
export async function startTalus(
  args: string[] = [],
  opts: { embedded?: boolean; databaseUrl?: string; dir?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<TalusProcess> {
  const full = ['--port', '0', '--bind', '127.0.0.1', '--dir', opts.dir ?? tempDir(), '--loglevel', 'notice', ...args];
  if (!opts.embedded && !args.includes('--database-url')) {
    full.push('--database-url', opts.databaseUrl ?? (await freshDatabase()));
  }
  const proc = spawn(LAUNCHER, full, { stdio: ['ignore', 'pipe', 'pipe'], cwd: ROOT, env: { ...process.env, NODE: process.execPath, ...opts.env } });
  let out = '';
  // TALUS_TEST_LOG_DIR keeps each server's output in a file (for a hang or a failure seen only now and then)
  const logFile = process.env.TALUS_TEST_LOG_DIR ? path.join(process.env.TALUS_TEST_LOG_DIR, `talus-${proc.pid}.log`) : undefined;
  if (logFile) proc.stdout!.on('data', (d: Buffer) => fs.appendFileSync(logFile, d)).resume();
  if (logFile) proc.stderr!.on('data', (d: Buffer) => fs.appendFileSync(logFile, d)).resume();
  const clients: Redis[] = [];
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`Talus did not start in time:\n${out}`)), 60_000);
    const onData = (d: Buffer) => {
      out += d.toString();
      const m = /Ready to accept connections .* port (\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    };
    proc.stdout!.on('data', onData);
    proc.stderr!.on('data', onData);
    proc.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`Talus exited with ${code} before it was ready:\n${out}`));
    });
  });
  outputs.push({ output: () => out, checked: 0 });
  const exited = new Promise<void>((resolve) => proc.on('exit', () => resolve()));
  const end = async (signal: NodeJS.Signals) => {
    for (const c of clients) c.disconnect();
    if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
    await exited;
  };
  return {
    port,
    proc,
    output: () => out,
    client(o: RedisOptions = {}) {
      const c = new Redis({ port, host: '127.0.0.1', lazyConnect: false, maxRetriesPerRequest: 1, ...o });
      clients.push(c);
      return c;
    },
    stop: () => end('SIGTERM'),
    kill: () => end('SIGKILL'),
  };
}

/**
 * One Talus on its own database that a test stops and starts again, so that
 * every key is cold (in PostgreSQL only) after each `restart`.
 */
export function restartable(args: string[]): { restart(): Promise<Redis>; stop(): Promise<void>; readonly port: number } {
  let url: string | undefined;
  let srv: TalusProcess | undefined;
  return {
    async restart() {
      await srv?.stop();
      url ??= await freshDatabase();
      srv = await startTalus(args, { databaseUrl: url });
      return srv.client();
    },
    stop: async () => srv?.stop(),
    get port() {
      return srv!.port;
    },
  };
}

/** The numeric fields of INFO talus. */
/** One INFO section's fields, as text. */
export async function infoFields(r: Redis, section: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const line of (await r.info(section)).split('\r\n')) {
    const i = line.indexOf(':');
    if (i > 0) out[line.slice(0, i)] = line.slice(i + 1);
  }
  return out;
}

export async function talusInfo(r: Redis): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const line of (await r.info('talus')).split('\r\n')) {
    const [k, v] = line.split(':');
    if (k && v !== undefined && /^-?\d+$/.test(v)) out[k] = Number(v);
  }
  return out;
}

/**
 * One Talus for a describe block: started (with these options) before its
 * tests and stopped after them; `ready` gets the process and a client.
 */
export function useTalus(args: string[], ready: (srv: TalusProcess, client: Redis) => void): void {
  let srv: TalusProcess | undefined;
  before(async () => {
    srv = await startTalus(args);
    ready(srv, srv.client());
  });
  after(async () => {
    await srv?.stop();
  });
}

/**
 * Send `signal` to the embedded PostgreSQL of a Talus started with this
 * `dir`: its postmaster and every backend (SIGSTOP freezes the one in a
 * query too, as a hung server or a network partition would).
 */
export function signalEmbeddedPostgres(dir: string, signal: NodeJS.Signals): void {
  const postmaster = Number(fs.readFileSync(path.join(dir, 'pg', 'postmaster.pid'), 'utf8').split('\n')[0]);
  const children = fs.readdirSync('/proc').filter((p) => /^\d+$/.test(p)).map(Number).filter((p) => {
    try {
      return fs.readFileSync(`/proc/${p}/stat`, 'utf8').replace(/^.*\) /, '').split(' ')[1] === String(postmaster);
    } catch {
      return false;
    }
  });
  for (const p of [postmaster, ...children]) process.kill(p, signal);
}

/**
 * Fill big collections through one pipeline, `count` members each, a
 * thousand per command: hash fields `f<j>` = `v<j>`, set members `m<j>`,
 * sorted-set members `m<j>` with score `score(j)` (default j), list elements
 * `e<j>` in order. Only the keys named are written.
 */
export async function fillCollections(
  r: Redis,
  keys: { hash?: string; set?: string; zset?: string; list?: string },
  count: number,
  score: (j: number) => number = (j) => j,
): Promise<void> {
  const p = r.pipeline();
  for (let i = 0; i < count; i += 1000) {
    const h: string[] = [];
    const s: string[] = [];
    const z: Array<string | number> = [];
    const l: string[] = [];
    for (let j = i; j < Math.min(count, i + 1000); j++) {
      h.push(`f${j}`, `v${j}`);
      s.push(`m${j}`);
      z.push(score(j), `m${j}`);
      l.push(`e${j}`);
    }
    if (keys.hash) p.hset(keys.hash, ...h);
    if (keys.set) p.sadd(keys.set, ...s);
    if (keys.zset) p.zadd(keys.zset, ...z);
    if (keys.list) p.rpush(keys.list, ...l);
  }
  for (const [err] of (await p.exec())!) if (err) throw err;
}
