/**
 * Large collections: one hash, set, zset and list of --members members each
 * (1,000,000 by default), plus 10,000 small strings, under --maxmemory 64mb.
 *
 * 1. Fill: ioredis connections sending multi-member HSET/SADD/ZADD/RPUSH
 *    (--batch members per command, --inflight commands outstanding per
 *    connection, --conns-per-key connections per key, one for the list so
 *    its order holds); the four keys fill concurrently.
 *      hash big:hash  f<i> -> v<i>      set  big:set  m<i>
 *      zset big:zset  m<i> score i      list big:list v<i> at index i
 *      strings str:<i> -> s<i>; small:{hash,set,zset,list} of 100 members
 *    Then SAVE: with appendfsync everysec the replies come before the
 *    commits; SAVE returns once PostgreSQL has everything (backlog time).
 * 2. Point reads on cold keys: for each command type, Talus is stopped
 *    (SIGTERM commits everything and stops its embedded PostgreSQL) and
 *    started again on the same --dir, so the big key is cold. 200 requests of
 *    the same command on the small key of that type warm code paths up, then
 *    --warmup-requests (3000) on a paged key of the same type with 20,000
 *    members (warm:*) warm up the paged read path in V8 and Talus's
 *    PostgreSQL connections: right after a start both cost several times
 *    their steady cost (measured: a new backend's first few thousand queries,
 *    even `SELECT 1`, have a p99 5x that of later ones). Those requests are
 *    reported too ("after restart"). Then the RSS baseline is taken and
 *    --samples sequential requests go to random members/indexes of the big
 *    key (the first one hits it cold), until
 *    --budget-seconds have passed; each is timed with process.hrtime.bigint()
 *    and its reply checked. The Talus RSS (/proc/<pid>/status VmRSS) is
 *    sampled every 20 ms; "RSS rise" = max during the requests - baseline.
 *    Targets (issue): ZSCORE, HGET, LINDEX p99 < 5 ms and RSS rise < 20 MB;
 *    HEXISTS, SISMEMBER, ZRANK, ZRANGE 0 9, ZREVRANGEBYSCORE +inf -inf LIMIT 0 10,
 *    ZRANGEBYSCORE from a random score LIMIT 0 10, LRANGE 0 9 and LRANGE of 10 from
 *    the middle half are judged against the same figures for information,
 *    and "HGET small" (the same procedure on the warm 100-member hash) shows
 *    the floor of latency and RSS rise that is not due to the big keys.
 * 3. DEL: restart again (all four keys cold), warm the strings up (MGET),
 *    DEL the four warm:* keys (cold, paged; timed and reported) and 500 fresh
 *    strings (so DEL's path is warm), and run --get-conns connections of
 *    sequential GETs on random strings; 1 s in,
 *    DEL the hash, zset, set and list (cold) one after the other, each timed;
 *    the load runs on for at least 1 s after the last DEL and --get-window-ms
 *    in all. Targets: each DEL replies in < 10 ms; the p99 of the GETs that
 *    overlapped the DELs < 20 ms (the whole window is reported too).
 *
 * It is a benchmark: PASS/FAIL is printed, the exit code is 0 unless the run
 * itself broke. The data dir is removed at the end unless --keep-dir.
 *
 *   node dist/bench/bigkeys.js [--members 1000000] [--maxmemory-mb 64] [--samples 2000]
 *        [--budget-seconds 60] [--appendfsync everysec] [--batch 1000] [--inflight 64]
 *        [--conns-per-key 2] [--strings 10000] [--get-conns 4] [--get-window-ms 3000]
 *        [--settle-seconds 0] [--warmup-requests 3000] [--keep-dir]
 *
 * --settle-seconds waits that long after loading before the measurements, so
 * PostgreSQL's autovacuum/analyze of the freshly loaded rows is out of the way.
 */
import fs from 'node:fs';
import type { Redis } from 'ioredis';
import { option, rssMb } from './support.js';
import { startTalus, stopPostgres, tempDir, type TalusProcess } from '../test/support/harness.js';

const opt = option;
const members = Number(opt('members', '1000000'));
const maxmemoryMb = Number(opt('maxmemory-mb', '64'));
const samples = Number(opt('samples', '2000'));
const budgetMs = Number(opt('budget-seconds', '60')) * 1000;
const settleMs = Number(opt('settle-seconds', '0')) * 1000;
const fsync = opt('appendfsync', 'everysec');
const batch = Number(opt('batch', '1000'));
const inflight = Number(opt('inflight', '64'));
const connsPerKey = Number(opt('conns-per-key', '2'));
const stringKeys = Number(opt('strings', '10000'));
const getConns = Number(opt('get-conns', '4'));
const getWindowMs = Number(opt('get-window-ms', '3000'));
const warmupRequests = Number(opt('warmup-requests', '3000'));
const keepDir = process.argv.includes('--keep-dir');
if (keepDir) process.env.TALUS_KEEP_SCRATCH = '1'; // test/support/harness.ts removes its scratch dirs at exit otherwise

const TARGET_P99_MS = 5;
const TARGET_RSS_MB = 20;
const TARGET_DEL_MS = 10;
const TARGET_GET_P99_MS = 20;
const K = { hash: 'big:hash', set: 'big:set', zset: 'big:zset', list: 'big:list' } as const;
/** Small keys of the same types: each probe runs on them first, so that code paths, JIT and buffers are warm
 * before the RSS baseline is taken and the big key is touched. */
const SMALL = { hash: 'small:hash', set: 'small:set', zset: 'small:zset', list: 'small:list' } as const;
const SMALL_MEMBERS = 100;
const SMALL_WARMUP_REQUESTS = 200;
/** Paged keys (above the default paged-collection-threshold) that warm the paged read path up after each restart. */
const WARM = { hash: 'warm:hash', set: 'warm:set', zset: 'warm:zset', list: 'warm:list' } as const;
const WARM_MEMBERS = 20_000;
const talusArgs = ['--maxmemory', `${maxmemoryMb}mb`, '--appendfsync', fsync];
const clientOpts = { enableReadyCheck: false, maxRetriesPerRequest: 0 } as const;
const dir = tempDir('bigkeys');
const runStart = Date.now();

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const secs = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const fmt = (ms: number) => (ms >= 100 ? ms.toFixed(0) : ms >= 10 ? ms.toFixed(1) : ms.toFixed(2));
const passFail = (ok: boolean) => (ok ? 'PASS' : 'FAIL');
const rand = (n: number) => Math.floor(Math.random() * n);
const nowMs = () => Number(process.hrtime.bigint()) / 1e6;


/** Max VmRSS of `pid` from now until stop() (sampled every 20 ms). */
function rssWatch(pid: number): { stop(): number } {
  let max = rssMb(pid);
  const timer = setInterval(() => (max = Math.max(max, rssMb(pid))), 20);
  return {
    stop() {
      clearInterval(timer);
      return Math.max(max, rssMb(pid));
    },
  };
}

function stats(ms: number[]): { n: number; p50: number; p99: number; max: number } {
  const s = [...ms].sort((a, b) => a - b);
  const at = (q: number) => (s.length ? s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))]! : NaN);
  return { n: s.length, p50: at(0.5), p99: at(0.99), max: s.length ? s[s.length - 1]! : NaN };
}

async function infoMemory(c: Redis): Promise<string> {
  try {
    const text = String(await c.info('memory'));
    const mb = (k: string) => (Number(new RegExp(`${k}:(\\d+)`).exec(text)?.[1] ?? NaN) / 1024 / 1024).toFixed(1);
    return `used_memory ${mb('used_memory')} MB, used_memory_dataset ${mb('used_memory_dataset')} MB`;
  } catch {
    return 'INFO memory unavailable';
  }
}

let srv!: TalusProcess;
// A broken run must not leave Talus running: SIGTERM makes it commit and stop its PostgreSQL.
process.on('exit', () => {
  if (srv && srv.proc.exitCode === null && srv.proc.signalCode === null) srv.proc.kill('SIGTERM');
});
function client(): Redis {
  const c = srv.client(clientOpts);
  c.on('error', () => undefined);
  return c;
}

async function start(): Promise<number> {
  const t = Date.now();
  srv = await startTalus(talusArgs, { embedded: true, dir });
  return Date.now() - t;
}

/** Talus's warning lines (`#`, or level warning in JSON) of this process so far, the first 10. */
function printWarnings(): void {
  const lines = srv.output().split('\n').filter((l) => / # |"level":"warning"/.test(l));
  for (const l of lines.slice(0, 10)) console.log(`  Talus: ${l.slice(0, 300)}`);
  if (lines.length > 10) console.log(`  Talus: ... ${lines.length - 10} more warning lines`);
}

/** SIGTERM (Talus commits everything dirty, stops its PostgreSQL), then start on the same dir. */
async function restart(): Promise<string> {
  printWarnings();
  let t = Date.now();
  await srv.stop();
  const stopMs = Date.now() - t;
  t = Date.now();
  await start();
  return `restart: stop ${secs(stopMs)}, start ${secs(Date.now() - t)}, pid ${srv.proc.pid}`;
}

// ---------------------------------------------------------------- 1. fill

/**
 * Send `cmd key <args of members [lo, hi)>` for every chunk of `batch`
 * members over these connections, each keeping `inflight` commands
 * outstanding. With one connection the chunks arrive in order (RPUSH).
 */
const progress = new Map<string, number>();
async function fill(conns: Redis[], cmd: string, key: string, n: number, argsOf: (i: number, out: (string | number)[]) => void): Promise<number> {
  const t = Date.now();
  let next = 0;
  let done = 0;
  await Promise.all(conns.map(async (c) => {
    const pending = new Set<Promise<void>>();
    while (next < n) {
      const lo = next;
      const hi = Math.min(lo + batch, n);
      next = hi;
      const args: (string | number)[] = [key];
      for (let i = lo; i < hi; i++) argsOf(i, args);
      const p: Promise<void> = c.call(cmd, args).then(() => {
        pending.delete(p);
        done += hi - lo;
        progress.set(key, done);
      });
      pending.add(p);
      if (pending.size >= inflight) await Promise.race(pending);
    }
    await Promise.all(pending);
  }));
  return Date.now() - t;
}

await start();
console.log(`Talus pid ${srv.proc.pid}, dir ${dir}, maxmemory ${maxmemoryMb} MB, appendfsync ${fsync}; ` +
  `${members} members per key, ${batch} per command, ${inflight} in flight per connection`);

{
  const watch = rssWatch(srv.proc.pid!);
  const t = Date.now();
  const conns = (n: number) => Array.from({ length: n }, () => client());
  const ticker = setInterval(() => {
    console.log(`  ${secs(Date.now() - t)}: ${[...progress].map(([k, n]) => `${k} ${n}`).join(', ')}; RSS ${rssMb(srv.proc.pid!).toFixed(0)} MB`);
  }, 10_000);
  const times = await Promise.all([
    fill(conns(connsPerKey), 'HSET', K.hash, members, (i, a) => a.push(`f${i}`, `v${i}`)),
    fill(conns(connsPerKey), 'SADD', K.set, members, (i, a) => a.push(`m${i}`)),
    fill(conns(connsPerKey), 'ZADD', K.zset, members, (i, a) => a.push(i, `m${i}`)),
    fill(conns(1), 'RPUSH', K.list, members, (i, a) => a.push(`v${i}`)),
  ]);
  clearInterval(ticker);
  const fillMs = Date.now() - t;
  const one = conns(1);
  await fill(one, 'HSET', SMALL.hash, SMALL_MEMBERS, (i, a) => a.push(`f${i}`, `v${i}`));
  await fill(one, 'SADD', SMALL.set, SMALL_MEMBERS, (i, a) => a.push(`m${i}`));
  await fill(one, 'ZADD', SMALL.zset, SMALL_MEMBERS, (i, a) => a.push(i, `m${i}`));
  await fill(one, 'RPUSH', SMALL.list, SMALL_MEMBERS, (i, a) => a.push(`v${i}`));
  await fill(one, 'HSET', WARM.hash, WARM_MEMBERS, (i, a) => a.push(`f${i}`, `v${i}`));
  await fill(one, 'SADD', WARM.set, WARM_MEMBERS, (i, a) => a.push(`m${i}`));
  await fill(one, 'ZADD', WARM.zset, WARM_MEMBERS, (i, a) => a.push(i, `m${i}`));
  await fill(one, 'RPUSH', WARM.list, WARM_MEMBERS, (i, a) => a.push(`v${i}`));
  const c = client();
  // everysec replies before the commit: SAVE waits until PostgreSQL has it all
  const tsave = Date.now();
  await c.call('SAVE', []);
  const saveMs = Date.now() - tsave;
  const ts = Date.now();
  for (let lo = 0; lo < stringKeys; lo += 1000) {
    const p = c.pipeline();
    for (let i = lo; i < Math.min(lo + 1000, stringKeys); i++) p.set(`str:${i}`, `s${i}`);
    for (const [err] of (await p.exec())!) if (err) throw err;
  }
  const stringsMs = Date.now() - ts;
  const dbsize = await c.dbsize();
  console.log(`load: ${secs(fillMs)} for 4 x ${members} members (hash ${secs(times[0])}, set ${secs(times[1])}, ` +
    `zset ${secs(times[2])}, list ${secs(times[3])}; ${Math.round((4 * members) / (fillMs / 1000))} members/s), ` +
    `SAVE (commit backlog drained) ${secs(saveMs)}, ` +
    `${stringKeys} strings ${secs(stringsMs)}; DBSIZE ${dbsize} (expected ${12 + stringKeys}); max RSS ${watch.stop().toFixed(0)} MB`);
  console.log(`  ${await infoMemory(c)}`);
  if (settleMs > 0) {
    console.log(`settling ${secs(settleMs)} (autovacuum of the loaded rows)`);
    await new Promise((r) => setTimeout(r, settleMs));
  }
}

// ---------------------------------------------------------------- 2. cold point reads

interface Probe {
  name: string;
  target: boolean;
  /** control: on the warm 100-member key, to show the latency and RSS floor of the same procedure */
  small?: boolean;
  /** command, args and a check of the reply for one random request on the keys `k` of `n` members */
  make(k: Record<keyof typeof K, string>, n: number): [string, (string | number)[], (reply: unknown) => boolean];
}

const seq = (lo: number, n: number, prefix: string) => Array.from({ length: n }, (_, j) => `${prefix}${lo + j}`);
const sameList = (a: unknown, b: string[]) => Array.isArray(a) && a.length === b.length && a.every((x, j) => String(x) === b[j]);
/** a start in the middle half of the list */
const midStart = (n: number) => Math.floor(n / 4) + rand(Math.max(1, Math.floor(n / 2) - 10));

const probes: Probe[] = [
  { name: 'HGET small', target: false, small: true, make: (k, n) => { const i = rand(n); return ['HGET', [k.hash, `f${i}`], (r) => r === `v${i}`]; } },
  { name: 'HGET', target: true, make: (k, n) => { const i = rand(n); return ['HGET', [k.hash, `f${i}`], (r) => r === `v${i}`]; } },
  { name: 'HEXISTS', target: false, make: (k, n) => { const i = rand(n); return ['HEXISTS', [k.hash, `f${i}`], (r) => r === 1]; } },
  { name: 'SISMEMBER', target: false, make: (k, n) => { const i = rand(n); return ['SISMEMBER', [k.set, `m${i}`], (r) => r === 1]; } },
  { name: 'ZSCORE', target: true, make: (k, n) => { const i = rand(n); return ['ZSCORE', [k.zset, `m${i}`], (r) => Number(r) === i]; } },
  { name: 'ZRANK', target: false, make: (k, n) => { const i = rand(n); return ['ZRANK', [k.zset, `m${i}`], (r) => r === i]; } },
  { name: 'ZRANGE 0 9', target: false, make: (k, n) => ['ZRANGE', [k.zset, 0, 9], (r) => sameList(r, seq(0, Math.min(10, n), 'm'))] },
  {
    // a leaderboard's top ten: the window at the high end, not the whole set
    name: 'ZREVRANGEBYSCORE top 10', target: false, make: (k, n) =>
      ['ZREVRANGEBYSCORE', [k.zset, '+inf', '-inf', 'LIMIT', 0, 10], (r) => sameList(r, seq(Math.max(0, n - 10), Math.min(10, n), 'm').reverse())],
  },
  {
    // ten from a random score on: counting the elements below it is O(rank), like ZRANK
    name: 'ZRANGEBYSCORE from x, 10', target: false, make: (k, n) => {
      const i = rand(Math.max(1, n - 10));
      return ['ZRANGEBYSCORE', [k.zset, i, '+inf', 'LIMIT', 0, 10], (r) => sameList(r, seq(i, 10, 'm'))];
    },
  },
  { name: 'LINDEX', target: true, make: (k, n) => { const i = rand(n); return ['LINDEX', [k.list, i], (r) => r === `v${i}`]; } },
  { name: 'LRANGE 0 9', target: false, make: (k, n) => ['LRANGE', [k.list, 0, 9], (r) => sameList(r, seq(0, Math.min(10, n), 'v'))] },
  {
    name: 'LRANGE mid 10', target: false, make: (k, n) => {
      const s = midStart(n);
      return ['LRANGE', [k.list, s, s + 9], (r) => sameList(r, seq(s, Math.min(10, n - s), 'v'))];
    },
  },
];

interface ProbeResult {
  name: string;
  target: boolean;
  small: boolean;
  n: number;
  first: number;
  p50: number;
  p99: number;
  max: number;
  /** p99 of the warm-up requests on the warm:* key, the first after the restart */
  afterRestartP99: number;
  rssRise: number;
  wrong: number;
  ok: boolean;
}
const results: ProbeResult[] = [];

for (const probe of probes) {
  const r = await restart();
  const c = client();
  const warmup = async (keys: Record<keyof typeof K, string>, n: number, requests: number): Promise<number[]> => {
    const lat: number[] = [];
    for (let s = 0; s < requests; s++) {
      const [cmd, args, check] = probe.make(keys, n);
      const t = process.hrtime.bigint();
      const reply = await c.call(cmd, args);
      lat.push(Number(process.hrtime.bigint() - t) / 1e6);
      if (!check(reply)) throw new Error(`warm-up ${cmd} ${args.join(' ')}: wrong reply`);
    }
    return lat;
  };
  await warmup(SMALL, SMALL_MEMBERS, SMALL_WARMUP_REQUESTS);
  const afterRestart = stats(await warmup(WARM, WARM_MEMBERS, warmupRequests));
  await sleep(500);
  const pid = srv.proc.pid!;
  const rss0 = rssMb(pid);
  const watch = rssWatch(pid);
  const lat: number[] = [];
  let wrong = 0;
  let firstErr = '';
  const t0 = Date.now();
  for (let s = 0; s < samples && (s === 0 || Date.now() - t0 < budgetMs); s++) {
    const [cmd, args, check] = probe.small ? probe.make(SMALL, SMALL_MEMBERS) : probe.make(K, members);
    const t = process.hrtime.bigint();
    let reply: unknown;
    try {
      reply = await c.call(cmd, args);
    } catch (err) {
      reply = err;
    }
    lat.push(Number(process.hrtime.bigint() - t) / 1e6);
    if (!check(reply)) {
      wrong++;
      if (!firstErr) firstErr = `${cmd} ${args.join(' ')} -> ${reply instanceof Error ? reply.message : JSON.stringify(reply)}`;
    }
  }
  const elapsed = Date.now() - t0;
  await sleep(200);
  const maxRss = watch.stop();
  const st = stats(lat);
  const rise = maxRss - rss0;
  const ok = st.p99 < TARGET_P99_MS && rise < TARGET_RSS_MB && wrong === 0;
  results.push({ name: probe.name, target: probe.target, small: probe.small ?? false, first: lat[0]!, ...st, afterRestartP99: afterRestart.p99, rssRise: rise, wrong, ok });
  console.log(`${probe.name.padEnd(13)} ${r}`);
  console.log(`  after restart, ${afterRestart.n} requests on the paged ${WARM_MEMBERS}-member key: ` +
    `p50 ${fmt(afterRestart.p50)}, p99 ${fmt(afterRestart.p99)}, max ${fmt(afterRestart.max)} ms`);
  console.log(`  ${st.n} requests in ${secs(elapsed)}${st.n < samples ? ` (budget of ${secs(budgetMs)} reached)` : ''}: ` +
    `first ${fmt(lat[0]!)} ms, p50 ${fmt(st.p50)}, p99 ${fmt(st.p99)}, max ${fmt(st.max)} ms; ` +
    `RSS ${rss0.toFixed(0)} -> max ${maxRss.toFixed(0)} MB (+${rise.toFixed(0)}), ${wrong} wrong replies; ` +
    `${probe.target ? 'target' : probe.small ? 'control' : 'extra'} ${passFail(ok)}`);
  if (firstErr) console.log(`  first wrong reply: ${firstErr}`);
  console.log(`  ${await infoMemory(c)}`);
}

// The data survived the restarts whole (run last: where a cold key is loaded whole, these load it).
{
  const c = client();
  const t = Date.now();
  const lens = [await c.hlen(K.hash), await c.scard(K.set), await c.zcard(K.zset), await c.llen(K.list)];
  console.log(`lengths after restarts: HLEN ${lens[0]} SCARD ${lens[1]} ZCARD ${lens[2]} LLEN ${lens[3]} ` +
    `(expected ${members} each: ${lens.every((n) => n === members) ? 'ok' : 'WRONG'}), ${secs(Date.now() - t)}`);
}

// ---------------------------------------------------------------- 3. DEL under GET load

console.log(`DEL           ${await restart()}`);
const delResults: Array<{ key: string; ms: number; reply: unknown }> = [];
let getStats: ReturnType<typeof stats>;
let getDuringDel: ReturnType<typeof stats>;
let getWrong = 0;
let firstWrongGet = '';
{
  const warm = client();
  const tw = Date.now();
  // one MGET of 1000 keys makes them resident in one batched load
  for (let lo = 0; lo < stringKeys; lo += 1000) {
    await warm.mget(seq(lo, Math.min(1000, stringKeys - lo), 'str:'));
  }
  console.log(`  ${stringKeys} strings warmed up in ${secs(Date.now() - tw)}`);
  // DEL's path after a restart (cold key row, first commits), then warm
  const warmDels: string[] = [];
  for (const key of Object.values(WARM)) {
    const t = process.hrtime.bigint();
    const reply = await warm.del(key);
    warmDels.push(`${key} ${fmt(Number(process.hrtime.bigint() - t) / 1e6)} ms (${reply})`);
  }
  console.log(`  after restart, DEL of the cold paged ${WARM_MEMBERS}-member keys: ${warmDels.join(', ')}`);
  for (let i = 0; i < 500; i++) await warm.set(`tmp:${i}`, 'x');
  for (let i = 0; i < 500; i++) await warm.del(`tmp:${i}`);
  const getters = Array.from({ length: getConns }, () => client());
  const delConn = client();
  await Promise.all([...getters, delConn].map((c) => c.ping()));
  const pid = srv.proc.pid!;
  const rss0 = rssMb(pid);
  const watch = rssWatch(pid);
  const gets: Array<{ t0: number; t1: number }> = [];
  let stop = false;
  const loops = getters.map(async (c) => {
    while (!stop) {
      const i = rand(stringKeys);
      const t0 = nowMs();
      let v: unknown;
      try {
        v = await c.get(`str:${i}`);
      } catch (err) {
        v = err;
      }
      gets.push({ t0, t1: nowMs() });
      if (v !== `s${i}` && getWrong++ === 0) {
        firstWrongGet = `GET str:${i} -> ${v instanceof Error ? v.message : JSON.stringify(v)} at ${fmt(nowMs() - windowStart)} ms`;
      }
    }
  });
  const windowStart = nowMs();
  await sleep(Math.min(1000, getWindowMs / 3));
  const delStart = nowMs();
  for (const key of [K.hash, K.zset, K.set, K.list]) {
    const t = process.hrtime.bigint();
    let reply: unknown;
    try {
      reply = await delConn.del(key);
    } catch (err) {
      reply = (err as Error).message;
    }
    delResults.push({ key, ms: Number(process.hrtime.bigint() - t) / 1e6, reply });
  }
  const delEnd = nowMs();
  // keep the load on for the rest of the window, and at least 1 s after the DELs
  await sleep(Math.max(1000, windowStart + getWindowMs - nowMs()));
  stop = true;
  await Promise.all(loops);
  const windowMs = nowMs() - windowStart;
  const maxRss = watch.stop();
  getStats = stats(gets.map((g) => g.t1 - g.t0));
  getDuringDel = stats(gets.filter((g) => g.t1 >= delStart && g.t0 <= delEnd).map((g) => g.t1 - g.t0));
  const exists = await delConn.exists(K.hash, K.zset, K.set, K.list);
  for (const d of delResults) {
    console.log(`  DEL ${d.key.padEnd(9)} ${fmt(d.ms).padStart(7)} ms (reply ${String(d.reply)}) ${passFail(d.ms < TARGET_DEL_MS && d.reply === 1)}`);
  }
  console.log(`  EXISTS of the four keys afterwards: ${exists} (expected 0)`);
  console.log(`  GET load, ${getConns} connections, ${secs(windowMs)}: ${getStats.n} GETs (${Math.round(getStats.n / (windowMs / 1000))}/s), ` +
    `p50 ${fmt(getStats.p50)}, p99 ${fmt(getStats.p99)}, max ${fmt(getStats.max)} ms, ${getWrong} wrong`);
  if (firstWrongGet) console.log(`  first wrong GET: ${firstWrongGet}`);
  console.log(`  GETs overlapping the DELs (${fmt(delEnd - delStart)} ms): ${getDuringDel.n}, ` +
    `p50 ${fmt(getDuringDel.p50)}, p99 ${fmt(getDuringDel.p99)}, max ${fmt(getDuringDel.max)} ms`);
  console.log(`  RSS ${rss0.toFixed(0)} -> max ${maxRss.toFixed(0)} MB; ${await infoMemory(delConn)}`);
}

// ---------------------------------------------------------------- summary

console.log(`\nSummary (maxmemory ${maxmemoryMb} MB, ${members} members; targets: p99 < ${TARGET_P99_MS} ms, ` +
  `RSS rise < ${TARGET_RSS_MB} MB, DEL < ${TARGET_DEL_MS} ms, GET p99 < ${TARGET_GET_P99_MS} ms)`);
console.log(`| command | requests | first ms | p50 ms | p99 ms | max ms | RSS rise MB | result | p99 ms of the ${warmupRequests} after restart (warm:*) |`);
console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: |');
for (const r of results) {
  console.log(`| ${r.name}${r.target ? '' : r.small ? ' (control, 100 members, warm)' : ' (extra)'} | ${r.n} | ${fmt(r.first)} | ${fmt(r.p50)} | ${fmt(r.p99)} | ${fmt(r.max)} | ` +
    `${r.rssRise.toFixed(0)} | ${passFail(r.ok)}${r.wrong ? `, ${r.wrong} wrong` : ''} | ${fmt(r.afterRestartP99)} |`);
}
const delOk = delResults.every((d) => d.ms < TARGET_DEL_MS && d.reply === 1);
// judged on the GETs that overlapped the DELs (the whole window's p99 would dilute them)
const getOk = getDuringDel.p99 < TARGET_GET_P99_MS && getWrong === 0;
console.log(`| DEL (hash, zset, set, list) | ${delResults.length} | ${delResults.map((d) => fmt(d.ms)).join(' / ')} | | | ` +
  `${fmt(Math.max(...delResults.map((d) => d.ms)))} | | ${passFail(delOk)} |`);
console.log(`| GET, whole ${secs(getWindowMs)}+ window | ${getStats.n} | | ${fmt(getStats.p50)} | ${fmt(getStats.p99)} | ${fmt(getStats.max)} | | |`);
console.log(`| GET overlapping the DELs | ${getDuringDel.n} | | ${fmt(getDuringDel.p50)} | ${fmt(getDuringDel.p99)} | ${fmt(getDuringDel.max)} | | ${passFail(getOk)} |`);
const targetsOk = results.filter((r) => r.target).every((r) => r.ok) && delOk && getOk;
console.log(`issue targets overall: ${passFail(targetsOk)}; whole run ${secs(Date.now() - runStart)}`);

printWarnings();
await srv.stop();
await stopPostgres();
if (!keepDir) fs.rmSync(dir, { recursive: true, force: true });
process.exit(0);
