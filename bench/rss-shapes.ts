/**
 * Memory bound whatever the client's shape: Talus with --maxmemory 64mb must
 * keep its RSS under maxmemory + 200 MB through
 *   1. pipe:  the real `redis-cli --pipe` mass-inserting 10,240 SETs of 64 KiB (640 MB);
 *   2. mset:  8 clients at once, each one pipeline of 80 MSETs of 16 x 64 KiB (640 MB);
 *   3. cold:  after a restart, pipelined GETs of every 64 KiB value of shape 1 (all cold),
 *             4 clients, pipelines of 1000, each value checked;
 *   4. slow:  one connection sends 5,000 GETs of a 64 KiB value (320 MB of replies), reads
 *             nothing for 5 s, then reads at 32 MB/s;
 *   5. big:   8 clients at once, each SETting 2 values of 16 MB (256 MB), then each reading
 *             its values back (most of them cold by then), each value checked;
 *   6. subs:  20 subscribers that stop reading and one that reads, while a publisher sends
 *             2,000 messages of 64 KiB (125 MB to each subscriber); the reader gets every one.
 *   7. mget:  after the restart, 64 clients at once, each one MGET of --mget-width (600) of
 *             shape 1's values, mostly cold, windows overlapping (38 MB of reply each; at
 *             2,000, 128 MB each, one reply is twice maxmemory and the bound is not met);
 *   8. many:  400 clients at once, each a pipeline of 100 GETs of shape 1's values (2.5 GB);
 *   9. wide:  a hash of 200,000 fields of 100 bytes, then --wide-clients (32) clients at
 *             once, each HGETALL of it (23 MB of reply each).
 *  10. megs:  320 values of 1 MB written before the restart, then 32 clients at once, each a
 *             pipeline of 10 GETs of distinct ones (all cold).
 *  11. lists: a list of 1,000,000 elements of 50 bytes written before the restart, then 16
 *             clients at once, each LRANGE 0 -1 of it (cold: streamed from PostgreSQL).
 *  12. writers: 128 clients at once, each one SET of an 8 MB value (1 GB).
 *  13. keys:  1,000,000 keys of 8 bytes written before the restart, then 16 clients at once,
 *             half KEYS *, half SCAN 0 COUNT 1000000 (all cold: about 30 MB of reply each).
 *  14. zranges: a sorted set of 500,000 members written before the restart, then 16 clients
 *             at once, each ZRANGEBYSCORE -inf +inf WITHSCORES of it (cold: streamed).
 * Run in the order pipe, mset, (restart), cold, megs, mget, many, slow, big, writers, subs, lists, keys, zranges, wide:
 * the later shapes find the earlier ones' values and malloc's holes.
 * Peak RSS per shape: the kernel's VmHWM (reset before each shape through
 * /proc/<pid>/clear_refs) and VmRSS sampled every 50 ms, whichever is higher.
 *
 *   node dist/bench/rss-shapes.js [--maxmemory-mb 64] [--scale 1] [--shapes pipe,mset,cold,megs,mget,many,slow,big,writers,subs,lists,keys,zranges,wide]
 *                                 [--talus-args '--appendfsync everysec']
 * (--scale multiplies every shape's volume; extra Talus options go in --talus-args)
 */
import { Redis } from 'ioredis';
import { option } from './support.js';
import { restartable, stopPostgres } from '../test/support/harness.js';
import { peakRssMb, pipelinedGets, pipelinedMsets, redisCliPipe, resetPeak, rssSampler, shapeValue, slowReader } from '../test/support/client-shapes.js';

const maxmemoryMb = Number(option('maxmemory-mb', '64'));
const scale = Number(option('scale', '1'));
const shapes = option('shapes', 'pipe,mset,cold,megs,mget,many,slow,big,writers,subs,lists,keys,zranges,wide').split(',');
const extra = option('talus-args', '').split(/\s+/).filter(Boolean);
const KB64 = 64 * 1024;
const limitMb = maxmemoryMb + 200;
const pipeKeys = Math.round(10_240 * scale);

const server = restartable(['--maxmemory', `${maxmemoryMb}mb`, ...extra]);
let client = await server.restart();
let pid = Number(await client.info('server').then((t) => /process_id:(\d+)/.exec(t)?.[1]));
const results: Array<{ shape: string; peak: number; secs: number; note: string }> = [];

async function measure(shape: string, run: () => Promise<string>): Promise<void> {
  if (!shapes.includes(shape)) return;
  await new Promise((r) => setTimeout(r, 1000)); // let the previous shape's garbage go
  const hwm = resetPeak(pid);
  const sampler = rssSampler(pid);
  const t = Date.now();
  let note: string;
  try {
    note = await run();
  } catch (err) {
    note = `FAILED: ${(err as Error).message}`;
  }
  const secs = (Date.now() - t) / 1000;
  const peak = Math.max(sampler.stop(), hwm ? peakRssMb(pid) : 0);
  results.push({ shape, peak, secs, note });
  console.log(`${shape.padEnd(7)} peak RSS ${peak.toFixed(0).padStart(4)} MB  (${secs.toFixed(1)} s) ${note}`);
}

console.log(`Talus pid ${pid}, maxmemory ${maxmemoryMb} MB, bound ${limitMb} MB, scale ${scale}${extra.length ? `, ${extra.join(' ')}` : ''}`);
await measure('pipe', async () => {
  await redisCliPipe(server.port, 'pipe:', pipeKeys, KB64);
  return `${pipeKeys} SETs of 64 KiB through redis-cli --pipe`;
});
await measure('mset', async () => {
  const msetsPerClient = Math.round(80 * scale);
  await pipelinedMsets(server.port, 'mset:', { clients: 8, msetsPerClient, valuesPerMset: 16, size: KB64 });
  return `8 clients x ${msetsPerClient} MSETs of 16 x 64 KiB`;
});
if (shapes.includes('megs')) await redisCliPipe(server.port, 'megs:', 320, 1 << 20);
const listLength = Math.round(1_000_000 * scale);
const listElement = (i: number) => `e${i}`.padEnd(50, 'y');
if (shapes.includes('lists')) {
  for (let i = 0; i < listLength; i += 10_000) {
    const elements: string[] = [];
    for (let j = i; j < Math.min(listLength, i + 10_000); j++) elements.push(listElement(j));
    await client.rpush('lists', ...elements);
  }
}
const manyKeys = Math.round(1_000_000 * scale);
if (shapes.includes('keys')) await redisCliPipe(server.port, 'k:', manyKeys, 8);
const zsetMembers = Math.round(500_000 * scale);
if (shapes.includes('zranges')) {
  for (let i = 0; i < zsetMembers; i += 10_000) {
    const args: Array<string | number> = [];
    for (let j = i; j < Math.min(zsetMembers, i + 10_000); j++) args.push(j, `m${j}`.padEnd(40, 'z'));
    await client.zadd('zranges', ...args);
  }
}
if (['cold', 'megs', 'lists', 'keys', 'zranges'].some((s) => shapes.includes(s))) {
  client = await server.restart();
  pid = Number(await client.info('server').then((t) => /process_id:(\d+)/.exec(t)?.[1]));
}
await measure('cold', async () => {
  const wrong = await pipelinedGets(server.port, 'pipe:', { count: pipeKeys, size: KB64, clients: 4, pipeline: 1000 });
  if (wrong > 0) throw new Error(`${wrong} wrong values`);
  return `${pipeKeys} cold GETs of 64 KiB, 4 clients, pipelines of 1000`;
});
await measure('megs', async () => {
  // 320 values of 1 MB written before the restart: all cold now
  let wrong = 0;
  await Promise.all(Array.from({ length: 32 }, async (_, c) => {
    const r = new Redis({ port: server.port, maxRetriesPerRequest: 0 });
    try {
      const p = r.pipeline();
      const ids = Array.from({ length: 10 }, (_, k) => c * 10 + k);
      for (const i of ids) p.getBuffer(`megs:${i}`);
      const res = (await p.exec())!;
      ids.forEach((i, k) => { if (res[k]![0] || !(res[k]![1] as Buffer).equals(shapeValue(i, 1 << 20))) wrong++; });
    } finally {
      r.disconnect();
    }
  }));
  if (wrong > 0) throw new Error(`${wrong} wrong values`);
  return '32 clients at once, each a pipeline of 10 GETs of distinct cold 1 MB values';
});
await measure('mget', async () => {
  // after the restart above most of shape 1's values are cold
  const clients = 64;
  const width = Math.min(pipeKeys, Number(option('mget-width', '600')));
  let wrong = 0;
  await Promise.all(Array.from({ length: clients }, async (_, c) => {
    const r = new Redis({ port: server.port, maxRetriesPerRequest: 0 });
    try {
      const ids = Array.from({ length: width }, (_, k) => (c * 157 + k) % pipeKeys);
      const values = await r.mgetBuffer(...ids.map((i) => `pipe:${i}`));
      ids.forEach((i, k) => { if (!values[k]?.equals(shapeValue(i, KB64))) wrong++; });
    } finally {
      r.disconnect();
    }
  }));
  if (wrong > 0) throw new Error(`${wrong} wrong values`);
  return `${clients} clients at once, each one MGET of ${width} mostly cold 64 KiB values`;
});
await measure('many', async () => {
  const clients = 400;
  const perClient = 100;
  let wrong = 0;
  await Promise.all(Array.from({ length: clients }, async (_, c) => {
    const r = new Redis({ port: server.port, maxRetriesPerRequest: 0 });
    try {
      const p = r.pipeline();
      const ids = Array.from({ length: perClient }, (_, k) => (c * 13 + k * 7) % pipeKeys);
      for (const i of ids) p.getBuffer(`pipe:${i}`);
      const res = (await p.exec())!;
      ids.forEach((i, k) => { if (res[k]![0] || !(res[k]![1] as Buffer).equals(shapeValue(i, KB64))) wrong++; });
    } finally {
      r.disconnect();
    }
  }));
  if (wrong > 0) throw new Error(`${wrong} wrong values`);
  return `${clients} clients at once, each a pipeline of ${perClient} GETs of 64 KiB`;
});
await measure('slow', async () => {
  const count = Math.round(5000 * scale);
  await client.get('pipe:0');
  const replyBytes = count * (KB64 + 10); // "$65536\r\n" + value + "\r\n"
  const r = await slowReader(server.port, 'pipe:0', { count, replyBytes, stallMs: 5000, bytesPerSecond: 32 << 20 });
  return `${count} GETs of 64 KiB read after 5 s at 32 MB/s: ${(r.received / 2 ** 20).toFixed(0)} MB received` +
    (r.closedByServer ? ' (closed by the server)' : '');
});

await measure('big', async () => {
  const perClient = Math.max(1, Math.round(2 * scale));
  const value = (c: number, i: number) => Buffer.alloc(16 << 20, 97 + ((c * perClient + i) % 26));
  const clients = Array.from({ length: 8 }, () => new Redis({ port: server.port }));
  try {
    await Promise.all(clients.map(async (c, n) => {
      for (let i = 0; i < perClient; i++) await c.set(`big:${n}:${i}`, value(n, i));
    }));
    let wrong = 0;
    await Promise.all(clients.map(async (c, n) => {
      for (let i = 0; i < perClient; i++) if (!(await c.getBuffer(`big:${n}:${i}`))?.equals(value(n, i))) wrong++;
    }));
    if (wrong > 0) throw new Error(`${wrong} wrong values`);
  } finally {
    for (const c of clients) c.disconnect();
  }
  return `8 clients x ${perClient} SETs of 16 MB at once, then GETs of them`;
});

await measure('writers', async () => {
  // many clients at once, each one big value: each is stopped after its first chunks (server/big-reads.ts)
  const clients = Math.max(1, Math.round(128 * scale));
  const value = (c: number) => Buffer.alloc(8 << 20, 97 + (c % 26));
  await Promise.all(Array.from({ length: clients }, async (_, c) => {
    const r = new Redis({ port: server.port, maxRetriesPerRequest: 0 });
    try {
      await r.set(`writers:${c}`, value(c));
    } finally {
      r.disconnect();
    }
  }));
  const check = new Redis({ port: server.port });
  try {
    for (const c of [0, clients - 1]) if (!(await check.getBuffer(`writers:${c}`))?.equals(value(c))) throw new Error(`writers:${c} is wrong`);
  } finally {
    check.disconnect();
  }
  return `${clients} clients at once, each one SET of 8 MB`;
});

await measure('subs', async () => {
  const count = Math.round(2000 * scale);
  const stalled = await Promise.all(Array.from({ length: 20 }, async () => {
    const s = new Redis({ port: server.port });
    await s.subscribe('shapes');
    s.stream.pause(); // reads nothing from now on
    return s;
  }));
  const reader = new Redis({ port: server.port });
  let received = 0;
  reader.on('messageBuffer', () => received++);
  await reader.subscribe('shapes');
  const message = Buffer.alloc(KB64, 'p');
  try {
    for (let sent = 0; sent < count; sent += 100) {
      await Promise.all(Array.from({ length: Math.min(100, count - sent) }, () => client.publish('shapes', message)));
    }
    for (let i = 0; i < 200 && received < count; i++) await new Promise((r) => setTimeout(r, 50));
    if (received !== count) throw new Error(`the reading subscriber got ${received} of ${count}`);
  } finally {
    for (const s of [...stalled, reader]) s.disconnect();
  }
  const closed = /evicted_clients:(\d+)/.exec(await client.info('stats'))?.[1];
  return `20 stalled subscribers and a reader, ${count} PUBLISHes of 64 KiB (evicted_clients ${closed})`;
});

await measure('lists', async () => {
  // written before the restart: cold, and paged (a collection this big is never read into memory whole)
  let wrong = 0;
  await Promise.all(Array.from({ length: 16 }, async () => {
    const r = new Redis({ port: server.port, maxRetriesPerRequest: 0 });
    try {
      const all = await r.lrange('lists', 0, -1);
      if (all.length !== listLength || all[0] !== listElement(0) || all[listLength - 1] !== listElement(listLength - 1)) wrong++;
    } finally {
      r.disconnect();
    }
  }));
  if (wrong > 0) throw new Error(`${wrong} clients got a wrong list`);
  return `16 clients at once, each LRANGE 0 -1 of a cold list of ${listLength} elements of 50 bytes`;
});
await measure('keys', async () => {
  const count = Number(await client.dbsize());
  let wrong = 0;
  await Promise.all(Array.from({ length: 16 }, async (_, n) => {
    const r = new Redis({ port: server.port, maxRetriesPerRequest: 0 });
    try {
      // one SCAN call returns COUNT keys at most
      const got = n % 2 === 0 ? (await r.keys('*')).length : ((await r.scan('0', 'COUNT', 1_000_000)) as [string, string[]])[1].length;
      if (got !== (n % 2 === 0 ? count : Math.min(count, 1_000_000))) wrong++;
    } finally {
      r.disconnect();
    }
  }));
  if (wrong > 0) throw new Error(`${wrong} clients got a wrong count of keys`);
  return `16 clients at once, 8 KEYS * and 8 SCAN 0 COUNT 1000000 of ${count} cold keys`;
});
await measure('zranges', async () => {
  let wrong = 0;
  await Promise.all(Array.from({ length: 16 }, async () => {
    const r = new Redis({ port: server.port, maxRetriesPerRequest: 0 });
    try {
      const all = await r.zrangebyscore('zranges', '-inf', '+inf', 'WITHSCORES');
      if (all.length !== 2 * zsetMembers || all[1] !== '0' || all[2 * zsetMembers - 2] !== `m${zsetMembers - 1}`.padEnd(40, 'z')) wrong++;
    } finally {
      r.disconnect();
    }
  }));
  if (wrong > 0) throw new Error(`${wrong} clients got a wrong range`);
  return `16 clients at once, each ZRANGEBYSCORE -inf +inf WITHSCORES of a cold sorted set of ${zsetMembers} members`;
});
await measure('wide', async () => {
  const fields = Math.round(200_000 * scale);
  const p = client.pipeline();
  for (let i = 0; i < fields; i += 1000) {
    const args: string[] = [];
    for (let f = i; f < Math.min(fields, i + 1000); f++) args.push(`f${f}`, `v${f}`.padEnd(100, 'x'));
    p.hset('wide', ...args);
  }
  for (const [err] of (await p.exec())!) if (err) throw err;
  const clients = Number(option('wide-clients', '32'));
  let wrong = 0;
  await Promise.all(Array.from({ length: clients }, async () => {
    const r = new Redis({ port: server.port, maxRetriesPerRequest: 0 });
    try {
      const n = await r.hlen('wide');
      const all = await r.hgetall('wide');
      if (n !== fields || Object.keys(all).length !== fields) wrong++;
    } finally {
      r.disconnect();
    }
  }));
  if (wrong > 0) throw new Error(`${wrong} clients got a wrong hash`);
  return `${clients} clients at once, each HGETALL of a hash of ${fields} fields of 100 bytes`;
});
client.disconnect();
await server.stop();
await stopPostgres();
const ok = results.every((r) => r.peak <= limitMb && !r.note.startsWith('FAILED'));
console.log(`bound maxmemory + 200 MB = ${limitMb} MB: ${ok ? 'OK' : 'FAIL'} (max peak ${Math.max(0, ...results.map((r) => r.peak)).toFixed(0)} MB)`);
process.exit(ok ? 0 : 1);
