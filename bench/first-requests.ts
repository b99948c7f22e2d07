/**
 * The first requests after a restart, with no warm-up at all: what users see
 * after a restart or a failover.
 *
 * Keys (built once in --dir, and reused by later runs on the same dir):
 *   big:hash f<i> -> v<i>, big:zset m<i> score i, big:list v<i> at index i,
 *   --members (1,000,000) members each; big:zset:del, a sorted set of the same
 *   size that the DEL round deletes (rebuilt on the next run).
 * Each round (--rounds, default 3):
 *   1. stop Talus (SIGTERM) and start it again on the same dir;
 *   2. at once, one connection (its connect time reported apart) sends
 *      --requests (900) sequential requests, each a random HGET, ZSCORE or
 *      LINDEX of a random member/index of the big keys; each is timed and its
 *      reply checked; p50/p99/max reported;
 * and, after the last round, a restart whose first request is DEL big:zset:del.
 * Targets (issue 11): p99 of the 900 < 5 ms, the DEL < 10 ms.
 *
 *   node dist/bench/first-requests.js [--dir /tmp/talus-first-requests] [--members 1000000]
 *        [--maxmemory-mb 64] [--requests 900] [--rounds 3] [--no-del] [--slowest] [--talus-args "..."]
 */
import fs from 'node:fs';
import type { Redis } from 'ioredis';
import { option } from './support.js';
import { startTalus, type TalusProcess } from '../test/support/harness.js';

const dir = option('dir', '/tmp/talus-first-requests');
const members = Number(option('members', '1000000'));
const maxmemoryMb = Number(option('maxmemory-mb', '64'));
const requests = Number(option('requests', '900'));
const rounds = Number(option('rounds', '3'));
const withDel = !process.argv.includes('--no-del');
const extraArgs = option('talus-args', '').split(' ').filter(Boolean);
const talusArgs = ['--maxmemory', `${maxmemoryMb}mb`, '--appendfsync', 'everysec', ...extraArgs];
const TARGET_P99_MS = 5;
const TARGET_DEL_MS = 10;
const BATCH = 1000;
const INFLIGHT = 32;

fs.mkdirSync(dir, { recursive: true });
fs.chmodSync(dir, 0o755); // as root, the embedded PostgreSQL runs as `postgres` and must reach its dir

let srv: TalusProcess | undefined;
process.on('exit', () => {
  if (srv && srv.proc.exitCode === null && srv.proc.signalCode === null) srv.proc.kill('SIGTERM');
});
const client = (): Redis => {
  const c = srv!.client({ enableReadyCheck: false, maxRetriesPerRequest: 0 });
  c.on('error', () => undefined);
  return c;
};
const ms = (t: bigint) => Number(process.hrtime.bigint() - t) / 1e6;
const fmt = (x: number) => (x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2));
const rand = (n: number) => Math.floor(Math.random() * n);

function stats(xs: number[]): { p50: number; p99: number; max: number } {
  const s = [...xs].sort((a, b) => a - b);
  const at = (q: number) => s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))]!;
  return { p50: at(0.5), p99: at(0.99), max: s[s.length - 1]! };
}

async function restart(): Promise<number> {
  await srv?.stop();
  const t = Date.now();
  srv = await startTalus(talusArgs, { embedded: true, dir });
  return Date.now() - t;
}

/**
 * Milliseconds until the client's connection is ready (TCP connect and the
 * client library's own handshake commands). Timed apart: the requests are
 * what is measured, and the client's first connection also pays for code
 * the bench process has not run yet.
 */
async function connected(c: Redis): Promise<number> {
  const t = process.hrtime.bigint();
  if (c.status !== 'ready') await new Promise((resolve) => c.once('ready', resolve));
  return ms(t);
}

/** `cmd key args...` for members [0, n) in commands of BATCH members, INFLIGHT outstanding. */
async function fill(c: Redis, cmd: string, key: string, argsOf: (i: number, out: (string | number)[]) => void): Promise<void> {
  const pending = new Set<Promise<unknown>>();
  for (let lo = 0; lo < members; lo += BATCH) {
    const args: (string | number)[] = [key];
    for (let i = lo; i < Math.min(lo + BATCH, members); i++) argsOf(i, args);
    const p: Promise<unknown> = c.call(cmd, args).finally(() => pending.delete(p));
    pending.add(p);
    if (pending.size >= INFLIGHT) await Promise.race(pending);
  }
  await Promise.all(pending);
}

await restart();
{
  const c = client();
  const t = Date.now();
  const want: Array<[string, () => Promise<number>, (c: Redis) => Promise<void>]> = [
    ['big:hash', () => c.hlen('big:hash'), (k) => fill(k, 'HSET', 'big:hash', (i, a) => a.push(`f${i}`, `v${i}`))],
    ['big:zset', () => c.zcard('big:zset'), (k) => fill(k, 'ZADD', 'big:zset', (i, a) => a.push(i, `m${i}`))],
    ['big:list', () => c.llen('big:list'), (k) => fill(k, 'RPUSH', 'big:list', (i, a) => a.push(`v${i}`))],
    ['big:zset:del', () => c.zcard('big:zset:del'), (k) => fill(k, 'ZADD', 'big:zset:del', (i, a) => a.push(i, `m${i}`))],
  ];
  const built: string[] = [];
  await Promise.all(want.map(async ([key, len, build]) => {
    if ((await len()) === members) return;
    await c.del(key);
    await build(client());
    built.push(key);
  }));
  if (built.length) {
    await c.call('SAVE', []); // everysec: wait until PostgreSQL has it all
    console.log(`built ${built.join(', ')} (${members} members each) in ${((Date.now() - t) / 1000).toFixed(0)} s`);
  }
}

console.log(`dir ${dir}, maxmemory ${maxmemoryMb} MB, ${members} members per key, Talus args: ${talusArgs.join(' ')}`);
const all: number[] = [];
for (let round = 1; round <= rounds; round++) {
  const startMs = await restart();
  const c = client();
  const connectMs = await connected(c);
  const lat: number[] = [];
  /** when each request started, in ms since the round's first one (for --slowest) */
  const at: number[] = [];
  const kinds: number[] = [];
  const roundStart = process.hrtime.bigint();
  let wrong = 0;
  for (let s = 0; s < requests; s++) {
    const i = rand(members);
    const kind = rand(3);
    kinds.push(kind);
    const t = process.hrtime.bigint();
    at.push(Number(t - roundStart) / 1e6);
    let ok: boolean;
    if (kind === 0) ok = (await c.hget('big:hash', `f${i}`)) === `v${i}`;
    else if (kind === 1) ok = Number(await c.zscore('big:zset', `m${i}`)) === i;
    else ok = (await c.lindex('big:list', i)) === `v${i}`;
    lat.push(ms(t));
    if (!ok) wrong++;
  }
  all.push(...lat);
  const st = stats(lat);
  if (process.argv.includes('--slowest')) {
    const slow = lat.map((x, i) => [x, i] as const).sort((a, b) => b[0] - a[0]).slice(0, 12);
    const kindName = ['HGET', 'ZSCORE', 'LINDEX'];
    console.log(`  slowest (ms @ request index, ms into the round, command): ${slow.map(([x, i]) => `${fmt(x)}@${i},${at[i]!.toFixed(0)},${kindName[kinds[i]!]}`).join(' ')}`);
    const byKind = kindName.map((name, k) => `${name} p50 ${fmt(stats(lat.filter((_, i) => kinds[i] === k)).p50)} p99 ${fmt(stats(lat.filter((_, i) => kinds[i] === k)).p99)}`);
    console.log(`  by command: ${byKind.join(', ')}`);
  }
  console.log(`round ${round}: start ${(startMs / 1000).toFixed(1)} s, connect ${fmt(connectMs)} ms; first ${requests} HGET/ZSCORE/LINDEX: first ${fmt(lat[0]!)} ms, ` +
    `p50 ${fmt(st.p50)}, p99 ${fmt(st.p99)}, max ${fmt(st.max)} ms, ${wrong} wrong`);
}
const st = stats(all);
console.log(`all ${all.length} first requests: p50 ${fmt(st.p50)}, p99 ${fmt(st.p99)}, max ${fmt(st.max)} ms ` +
  `(target p99 < ${TARGET_P99_MS} ms: ${st.p99 < TARGET_P99_MS ? 'PASS' : 'FAIL'})`);

if (withDel) {
  await restart();
  const c = client();
  await connected(c);
  const t = process.hrtime.bigint();
  const reply = await c.del('big:zset:del');
  const delMs = ms(t);
  console.log(`first request after restart, DEL of the ${members}-member sorted set: ${fmt(delMs)} ms (reply ${reply}; ` +
    `target < ${TARGET_DEL_MS} ms: ${delMs < TARGET_DEL_MS && reply === 1 ? 'PASS' : 'FAIL'})`);
}
await srv!.stop();
process.exit(0);
