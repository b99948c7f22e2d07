/**
 * Replication under load, Talus beside redis-server 7.0.15 in the same run:
 *
 * 1. durable SET throughput of a leader (Talus appendfsync always; Redis
 *    appendonly yes, appendfsync always, repl-diskless-sync-delay 0) with 0, 1 and 2 followers attached:
 *    redis-benchmark -c 50 -P 1 -t set (rounds 0, 1, 2, 2, 1, 0 followers,
 *    averaged per count), and the ratio 2 followers / none;
 * 2. replication lag under a sustained SET load (redis-benchmark -c 50 in the
 *    background): a sampler SETs a key on the leader and, from the moment the
 *    leader acknowledged it, polls the follower until the value is there;
 *    p50/p99 of that time;
 * 3. full sync of --mb MB (16 KB values) while a client keeps GETting random
 *    keys of the leader: sync MB/s, the leader's GET p50/p99 before and during
 *    the sync, and how long the follower answered -LOADING (Redis: its RDB
 *    load; Talus: applying the received snapshot).
 *
 *   npx tsc -b && node dist/bench/replication-load.js [--mb 1024] [--requests 30000] [--samples 300] [--skip-redis]
 *     [--only-sync | --only-throughput] [--embedded]
 *
 * --only-sync runs part 3 alone (the full sync), --only-throughput part 1 alone.
 * --embedded gives each Talus its own embedded PostgreSQL, as each redis-server
 * has its own AOF (by default they share one PostgreSQL server, a database each,
 * and so one WAL and its fsyncs).
 *
 * Every server runs on this machine: followers take CPU from their leader
 * (on 2 cores that is most of the cost of attaching them).
 */
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { Redis } from 'ioredis';
import { startTalus, stopPostgres, type TalusProcess } from '../test/support/harness.js';
import { startRedisServer } from '../test/support/redis-server.js';
import { option } from './support.js';

const mb = Number(option('mb', '1024'));
const requests = option('requests', '30000');
const samplesWanted = Number(option('samples', '300'));
const skipRedis = process.argv.includes('--skip-redis');
const onlySync = process.argv.includes('--only-sync');
const onlyThroughput = process.argv.includes('--only-throughput');
const embedded = process.argv.includes('--embedded');
const VALUE_BYTES = 16 * 1024;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Server {
  port: number;
  stop(): Promise<void>;
}

/** A redis-server with appendfsync always (the leader's durability, as Talus's default). */
async function startRedisAof(): Promise<Server> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-redis-'));
  // repl-diskless-sync-delay 0: Redis 7.0 otherwise waits 5 s for more replicas before a full sync starts
  const server = await startRedisServer(['--appendonly', 'yes', '--appendfsync', 'always', '--repl-diskless-sync-delay', '0'], { dir });
  return {
    port: server.port,
    async stop() {
      // a leader with appendfsync always and replicas attached was seen not to exit on SIGTERM
      const kill = setTimeout(() => server.proc.kill('SIGKILL'), 5000);
      await server.stop();
      clearTimeout(kill);
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function field(r: Redis, section: string, name: string): Promise<string> {
  const m = new RegExp(`^${name}:(.*)$`, 'm').exec(await r.info(section));
  return m ? m[1]!.trim() : '';
}

async function attach(follower: Redis, leaderPort: number): Promise<void> {
  await follower.call('REPLICAOF', '127.0.0.1', String(leaderPort));
  while ((await field(follower, 'replication', 'master_link_status').catch(() => '')) !== 'up') await sleep(20);
}

async function detach(follower: Redis, leader: Redis, followers: number): Promise<void> {
  await follower.call('REPLICAOF', 'NO', 'ONE');
  while (Number(await field(leader, 'replication', 'connected_slaves')) !== followers) await sleep(20);
}

function benchmarkSet(port: number, clients: string, n: string): number {
  const out = execFileSync('redis-benchmark', ['-p', String(port), '-c', clients, '-n', n, '-P', '1', '-r', '100000', '-d', '64', '-t', 'set', '--csv'], {
    encoding: 'latin1',
    maxBuffer: 16 << 20,
  });
  const row = out.trim().split('\n').pop()!.split(',').map((f) => f.replace(/"/g, ''));
  return Number(row[1]);
}

function pct(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))]!;
}

/** 1: SET -P1 throughput with 0, 1, 2 followers. */
async function throughput(leaderPort: number, followers: Redis[]): Promise<Map<number, number>> {
  const l = new Redis({ port: leaderPort });
  const by = new Map<number, number[]>();
  const order = [0, 1, 2, 2, 1, 0];
  let attached = 0;
  for (const want of order) {
    while (attached < want) await attach(followers[attached++]!, leaderPort);
    while (attached > want) await detach(followers[--attached]!, l, attached);
    const rps = benchmarkSet(leaderPort, '50', requests);
    by.set(want, [...(by.get(want) ?? []), rps]);
  }
  l.disconnect();
  return new Map([...by].map(([k, v]) => [k, v.reduce((a, b) => a + b, 0) / v.length]));
}

/** 2: lag from the leader's acknowledgement to visible on the follower, under a SET load. */
async function lag(leaderPort: number, follower: Redis): Promise<{ p50: number; p99: number; n: number; rps: number }> {
  const l = new Redis({ port: leaderPort });
  await attach(follower, leaderPort);
  const load = spawn('redis-benchmark', ['-p', String(leaderPort), '-c', '50', '-n', '100000000', '-P', '1', '-r', '100000', '-d', '64', '-t', 'set', '-q'], { stdio: 'ignore' });
  await sleep(1000);
  const samples: number[] = [];
  const t0 = performance.now();
  let setsBefore = Number(await field(l, 'stats', 'total_commands_processed'));
  for (let i = 0; i < samplesWanted; i++) {
    const v = `v${i}`;
    await l.set('lag:probe', v);
    const acked = performance.now();
    while ((await follower.get('lag:probe')) !== v) {
      /* poll */
    }
    samples.push(performance.now() - acked);
    await sleep(10);
  }
  const seconds = (performance.now() - t0) / 1000;
  const rps = (Number(await field(l, 'stats', 'total_commands_processed')) - setsBefore) / seconds;
  setsBefore = 0;
  load.kill('SIGTERM');
  await new Promise((r) => load.once('exit', r));
  await detach(follower, l, 0);
  l.disconnect();
  samples.sort((a, b) => a - b);
  return { p50: pct(samples, 50), p99: pct(samples, 99), n: samples.length, rps };
}

/** GET latencies of random keys (one client, one request at a time) until `done()`. */
async function getLoop(r: Redis, keys: number, done: () => boolean): Promise<number[]> {
  const out: number[] = [];
  while (!done()) {
    const s = performance.now();
    await r.get(`big:${Math.floor(Math.random() * keys)}`);
    out.push(performance.now() - s);
  }
  return out.sort((a, b) => a - b);
}

/** 3: full sync of `mb` MB while the leader serves GETs. */
async function fullSync(leaderPort: number, follower: Redis): Promise<string> {
  const l = new Redis({ port: leaderPort });
  const keys = Math.round((mb * 1024 * 1024) / VALUE_BYTES);
  const value = Buffer.alloc(VALUE_BYTES, 'x');
  for (let i = 0; i < keys; i += 64) {
    const p = l.pipeline();
    for (let j = i; j < Math.min(keys, i + 64); j++) p.set(`big:${j}`, value);
    await p.exec();
  }
  const g = new Redis({ port: leaderPort });
  const before = await getLoop(g, keys, ((end) => () => performance.now() > end)(performance.now() + 3000));
  let synced = false;
  let loadingFirst = 0;
  let loadingLast = 0;
  const start = performance.now();
  const during = getLoop(g, keys, () => synced);
  const watcher = (async () => {
    const p = new Redis({ port: Number(follower.options.port), enableReadyCheck: false });
    while (!synced) {
      const reply = await p.get('big:0').catch((e: Error) => e);
      if (reply instanceof Error && reply.message.startsWith('LOADING')) {
        loadingLast = performance.now();
        loadingFirst ||= loadingLast;
      }
      await sleep(5);
    }
    p.disconnect();
  })();
  await follower.call('REPLICAOF', '127.0.0.1', String(leaderPort));
  while ((await field(follower, 'replication', 'master_link_status').catch(() => '')) !== 'up') await sleep(10);
  const syncMs = performance.now() - start;
  synced = true;
  const dur = await during;
  await watcher;
  g.disconnect();
  l.disconnect();
  const loadingMs = loadingFirst ? loadingLast - loadingFirst : 0;
  return `${mb} MB (${keys} keys of ${VALUE_BYTES / 1024} KB): synced in ${(syncMs / 1000).toFixed(1)} s = ${(mb / (syncMs / 1000)).toFixed(1)} MB/s; ` +
    `leader GET p50/p99 before ${pct(before, 50).toFixed(2)}/${pct(before, 99).toFixed(2)} ms (${before.length}), during ${pct(dur, 50).toFixed(2)}/${pct(dur, 99).toFixed(2)} ms (${dur.length}); ` +
    `follower answered LOADING for ${(loadingMs / 1000).toFixed(2)} s`;
}

async function suite(name: string, start: () => Promise<Server>): Promise<{ tp?: Map<number, number>; lag?: Awaited<ReturnType<typeof lag>>; sync: string }> {
  const leader = await start();
  const fa = await start();
  const fb = await start();
  try {
    const followers = [new Redis({ port: fa.port }), new Redis({ port: fb.port })];
    const tp = onlySync ? undefined : await throughput(leader.port, followers);
    if (tp) console.log(`${name}: SET -c 50 -P 1 rps with 0/1/2 followers: ${[0, 1, 2].map((n) => tp.get(n)!.toFixed(0)).join(' / ')}; 2 followers / none = ${(tp.get(2)! / tp.get(0)!).toFixed(2)}`);
    if (onlyThroughput) {
      for (const f of followers) f.disconnect();
      return { tp, sync: '' };
    }
    const lg = onlySync ? undefined : await lag(leader.port, followers[0]!);
    if (lg) console.log(`${name}: lag under a SET load of ${lg.rps.toFixed(0)} cmd/s: p50 ${lg.p50.toFixed(2)} ms, p99 ${lg.p99.toFixed(2)} ms (${lg.n} samples)`);
    const sync = await fullSync(leader.port, followers[1]!);
    console.log(`${name}: full sync of ${sync}`);
    for (const f of followers) f.disconnect();
    return { tp, lag: lg, sync };
  } finally {
    await Promise.all([fb.stop(), fa.stop(), leader.stop()]);
  }
}

console.log(`replication under load: ${os.cpus().length} cores, load ${os.loadavg().map((x) => x.toFixed(1)).join(' ')}; --mb ${mb} --requests ${requests} --samples ${samplesWanted}` +
  `; Talus on ${embedded ? 'an embedded PostgreSQL each' : 'one shared PostgreSQL'}`);
const talusProcs: TalusProcess[] = [];
try {
  const t = await suite('talus', async () => {
    const p = await startTalus([], { embedded });
    talusProcs.push(p);
    return p;
  });
  if (!skipRedis) {
    const r = await suite('redis', startRedisAof);
    const tr = (n: number) => (t.tp!.get(n)! / r.tp!.get(n)!).toFixed(2);
    if (!onlySync) {
      console.log(`talus / redis SET rps: ${tr(0)} (no follower), ${tr(1)} (1), ${tr(2)} (2)` +
        (t.lag && r.lag ? `; lag p99 talus ${t.lag.p99.toFixed(2)} ms vs redis ${r.lag.p99.toFixed(2)} ms` : ''));
    }
  }
} finally {
  await Promise.all(talusProcs.map((p) => p.stop()));
  await stopPostgres();
}
