/**
 * DUMP and RESTORE against a real redis-server 7.0.15, both ways: every
 * type and the encodings Redis chooses for it (int-encoded, raw and
 * LZF-compressed strings, HyperLogLogs; quicklists of listpacks and plain
 * nodes; intsets and hashtable sets; listpack and hashtable hashes; listpack
 * and skiplist sorted sets) is dumped by one server, restored in the other
 * and read back; RESTORE's options and errors are compared reply for reply.
 */
import { expect } from 'chai';
import { Redis } from 'ioredis';
import { restartable, startTalus, type TalusProcess } from './support/harness.js';
import { crc64 } from '../src/util/crc64.js';
import { redisServerAvailable, startRedisServer, type RedisServer } from './support/redis-server.js';

const seq = <T>(n: number, f: (i: number) => T): T[] => Array.from({ length: n }, (_, i) => f(i));

async function build(c: Redis): Promise<void> {
  await c.set('s-int', '12345');
  await c.set('s-int64', '123456789012345');
  await c.set('s-neg', '-7');
  await c.set('s-raw', 'hello');
  await c.set('s-lzf', 'abc'.repeat(1000));
  await c.set('s-bin', Buffer.from([0, 1, 2, 255, 13, 10]));
  await c.set('s-ttl', 'v', 'PX', 100_000_000);
  await c.pfadd('s-hll', ...seq(3000, (i) => `e${i}`));
  await c.pfadd('s-hll-sparse', 'a', 'b');
  await c.rpush('l-small', 'a', 'b', '1', '-5', '300000', 'x'.repeat(100));
  await c.rpush('l-big', ...seq(20000, (i) => (i % 3 ? `v${i}` : String(i * 7919))));
  await c.rpush('l-plain', 'x'.repeat(20000), 'y', 'z'.repeat(9000));
  await c.sadd('set-int', 1, 2, 3, -100, 70000, 5000000000);
  await c.sadd('set-str', 'a', 'b', 'c', '1');
  await c.sadd('set-big', ...seq(5000, (i) => `m${i}`));
  await c.hset('h-small', 'f1', 'v1', 'f2', '2', 'f3', '-3');
  await c.hset('h-big', ...seq(2000, (i) => [`f${i}`, i % 2 ? `val${i}` : String(i)]).flat());
  await c.hset('h-long', 'f', 'x'.repeat(200));
  await c.zadd('z-small', 1, 'a', 2.5, 'b', '-inf', 'c', 'inf', 'd', 0, 'e', 1e300, 'f');
  await c.zadd('z-big', ...seq(1000, (i) => [String(i * 1.5), `m${i}`]).flat());
  await c.zadd('z-long', '-0', 'x'.repeat(100), '3', 'y');
}


/** A payload around a body: RDB version 9 (an older server's) and the CRC. */
function payload(body: Buffer): Buffer {
  const b = Buffer.concat([body, Buffer.from([9, 0])]);
  const crc = Buffer.alloc(8);
  crc.writeBigUInt64LE(crc64(b));
  return Buffer.concat([b, crc]);
}

/** An RDB string: 6-bit or 14-bit length, then the bytes. */
function rdbString(s: string | Buffer): Buffer {
  const b = Buffer.from(s);
  return Buffer.concat([b.length < 64 ? Buffer.from([b.length]) : Buffer.from([0x40 | (b.length >> 8), b.length & 0xff]), b]);
}

/** A ziplist (the compact encoding before listpacks) of short strings and small integers. */
function ziplist(items: Array<string | number>): Buffer {
  const entries: Buffer[] = [];
  let prev = 0;
  for (const it of items) {
    let enc: Buffer;
    if (typeof it === 'number') {
      if (it >= 0 && it <= 12) enc = Buffer.from([0xf1 + it]);
      else if (it >= -128 && it <= 127) enc = Buffer.from([0xfe, it & 0xff]);
      else {
        enc = Buffer.alloc(3);
        enc[0] = 0xc0;
        enc.writeInt16LE(it, 1);
      }
    } else {
      const b = Buffer.from(it);
      enc = Buffer.concat([Buffer.from([b.length]), b]);
    }
    const e = Buffer.concat([prev < 254 ? Buffer.from([prev]) : Buffer.from([0xfe, prev & 0xff, (prev >> 8) & 0xff, 0, 0]), enc]);
    entries.push(e);
    prev = e.length;
  }
  const body = Buffer.concat(entries);
  const head = Buffer.alloc(10);
  head.writeUInt32LE(10 + body.length + 1, 0);
  head.writeUInt32LE(10 + body.length - prev, 4);
  head.writeUInt16LE(items.length, 8);
  return Buffer.concat([head, body, Buffer.from([0xff])]);
}

type Snapshot = [string, unknown, boolean];

async function snapshot(c: Redis, k: string): Promise<Snapshot> {
  const type = await c.type(k);
  let v: unknown;
  if (type === 'string') v = (await c.getBuffer(k))!.toString('hex');
  else if (type === 'list') v = await c.lrange(k, 0, -1);
  else if (type === 'set') v = (await c.smembers(k)).sort();
  else if (type === 'hash') v = Object.entries(await c.hgetall(k)).sort();
  else if (type === 'zset') v = await c.zrange(k, '0', '-1', 'WITHSCORES');
  return [type, v, (await c.pttl(k)) > 0];
}

describe('DUMP / RESTORE', function () {
  this.timeout(180_000);
  let srv: TalusProcess;
  let redis: RedisServer;
  let t: Redis;
  let r: Redis;

  before(async function () {
    if (!redisServerAvailable()) this.skip();
    [srv, redis] = await Promise.all([startTalus(['--appendfsync', 'everysec']), startRedisServer()]);
    t = srv.client();
    r = new Redis(redis.port);
    await build(r);
    await build(t);
  });
  after(async () => {
    r?.disconnect();
    await Promise.all([redis?.stop(), srv?.stop()]);
  });

  for (const direction of ['redis -> talus', 'talus -> redis'] as const) {
    it(`restores every type and encoding ${direction}`, async () => {
      const [src, dst] = direction === 'redis -> talus' ? [r, t] : [t, r];
      const keys = (await r.keys('*')).filter((k) => !k.startsWith('R')).sort();
      expect(keys.length).to.equal(21);
      for (const k of keys) {
        const p = await src.dumpBuffer(k);
        const pttl = await src.pttl(k);
        expect(await dst.restore(`R${k}`, pttl > 0 ? pttl : 0, p, 'REPLACE'), k).to.equal('OK');
        expect(await snapshot(dst, `R${k}`), k).to.deep.equal(await snapshot(src, k));
        // the two servers built the same data (a HyperLogLog's cached count aside, which PFCOUNT below refreshes)
        if (!k.startsWith('s-hll')) expect(await snapshot(src, k), k).to.deep.equal(await snapshot(r, k));
      }
      // a restored HyperLogLog counts as the original
      expect(await dst.pfcount('Rs-hll')).to.equal(await r.pfcount('s-hll'));
    });
  }

  it('answers RESTORE options and errors like redis-server', async () => {
    const p = await r.dumpBuffer('s-raw');
    const corrupt = Buffer.from(p);
    corrupt[3] = corrupt[3]! ^ 1;
    const newer = Buffer.from(p);
    newer[newer.length - 10] = 11; // RDB version 11
    const stream = Buffer.concat([Buffer.from([15]), p.subarray(1)]);
    const cases: Array<Array<string | Buffer>> = [
      ['restore', 's-raw', '0', p], ['restore', 'n1', '-1', p], ['restore', 'n1', '0', corrupt], ['restore', 'n1', '0', 'abc'],
      ['restore', 'n1', '0', newer], ['restore', 'n1', '0', p, 'foo'], ['restore', 'n1', '0', p, 'idletime', '-1'],
      ['restore', 'n1', '0', p, 'freq', '300'], ['restore', 'n1', '0', p, 'freq', '3', 'idletime', '4'], ['restore', 'n1', '0', p, 'idletime'],
      ['restore', 'n2', '0', p, 'idletime', '10'], ['restore', 'n3', '1', p, 'absttl'], ['exists', 'n3'], ['dump', 'nokey'],
      ['restore', 'n4', 'x', p], ['restore', 's-raw', '0', p, 'REPLACE', 'ABSTTL', '5'], ['restore', 's-raw', '1', p, 'REPLACE', 'ABSTTL'],
      ['exists', 's-raw'], ['restore', 'n5', '0', stream], ['restore', 'n6', '0', p, 'replace\x00x'], ['get', 'n6'],
    ];
    for (const c of cases) {
      const [a, b] = await Promise.all([r.callBuffer(c[0] as string, ...c.slice(1)).catch((e: Error) => `E:${e.message}`), t.callBuffer(c[0] as string, ...c.slice(1)).catch((e: Error) => `E:${e.message}`)]);
      expect(String(b), c.slice(0, 3).map(String).join(' ')).to.equal(String(a));
    }
  });

  it('restores the older encodings redis-server 7.0 still reads (ziplists, quicklist 1, plain lists, text scores) as redis-server does', async () => {
    const zl = (items: Array<string | number>) => rdbString(ziplist(items));
    const payloads: Record<string, Buffer> = {
      'old-list-ziplist': payload(Buffer.concat([Buffer.from([10]), zl(['a', 5, -100, 1000, 'bcd'])])),
      'old-quicklist': payload(Buffer.concat([Buffer.from([14, 2]), zl(['x', 1]), zl([12, 'y'.repeat(40)])])),
      'old-list-plain': payload(Buffer.concat([Buffer.from([1, 3]), rdbString('p'), rdbString('q'), rdbString('r')])),
      'old-hash-ziplist': payload(Buffer.concat([Buffer.from([13]), zl(['f1', 'v1', 'f2', 7, 'f3', -3])])),
      'old-zset-ziplist': payload(Buffer.concat([Buffer.from([12]), zl(['m1', 1, 'm2', '2.5', 'm3', 300])])),
      'old-zset-text': payload(Buffer.concat([Buffer.from([3, 3]), rdbString('a'), Buffer.from([3]), Buffer.from('1.5'), rdbString('b'), Buffer.from([254]), rdbString('c'), Buffer.from([255])])),
    };
    for (const [k, p] of Object.entries(payloads)) {
      expect(await r.restore(k, 0, p, 'REPLACE'), `redis ${k}`).to.equal('OK');
      expect(await t.restore(k, 0, p, 'REPLACE'), `talus ${k}`).to.equal('OK');
      expect(await snapshot(t, k), k).to.deep.equal(await snapshot(r, k));
    }
  });

  it('dumps a cold, paged collection whole', async () => {
    const s = restartable(['--appendfsync', 'everysec', '--maxmemory', '1', '--paged-collection-threshold', '2']);
    try {
      const c = await s.restart();
      await c.zadd('cold-z', ...seq(5000, (i) => [String(i / 3), `m${i}`]).flat());
      await c.rpush('cold-l', ...seq(5000, (i) => `e${i}`));
      const c2 = await s.restart();
      for (const k of ['cold-z', 'cold-l']) {
        expect(await r.restore(k, 0, (await c2.dumpBuffer(k))!, 'REPLACE')).to.equal('OK');
        expect(await snapshot(r, k), k).to.deep.equal(await snapshot(c2, k));
      }
      expect(await r.zcard('cold-z')).to.equal(5000);
    } finally {
      await s.stop();
    }
  });

  it('moves a collection of a million members through DUMP and RESTORE', async () => {
    const n = 1_000_000;
    for (let i = 0; i < n; i += 50_000) await t.sadd('huge', ...seq(50_000, (j) => `member:${i + j}`));
    const p = await t.dumpBuffer('huge');
    expect(await r.restore('huge', 0, p, 'REPLACE')).to.equal('OK');
    expect(await r.scard('huge')).to.equal(n);
    const back = await r.dumpBuffer('huge');
    expect(await t.restore('huge2', 0, back)).to.equal('OK');
    expect(await t.scard('huge2')).to.equal(n);
    expect(await t.sismember('huge2', 'member:999999')).to.equal(1);
    await t.del('huge', 'huge2');
  });
});

/** XADD with explicit IDs and the same history on both servers. */
async function buildStreams(c: Redis): Promise<void> {
  // many entries in several nodes, same and differing fields, integers in fields and values
  for (let i = 1; i <= 1000; i += 100) {
    const cmds = seq(100, (j) => i + j).map((n) => ['xadd', 'x-many', `${n}-${n % 3}`, ...(n % 7 ? ['f', `v${n}`, 'g', String(n * 31)] : ['other', String(-n), '12', 'x'])]);
    await c.multi(cmds).exec();
  }
  // deleted entries: the first ones, some in the middle, the whole second node
  await c.multi(seq(500, (i) => ['xadd', 'x-del', `${i + 1}-0`, 'k', `v${i}`])).exec();
  await c.xdel('x-del', '1-0', '2-0', '250-0', '251-0', '499-0', ...seq(100, (i) => `${i + 101}-0`));
  // trimmed: whole nodes (~), then entries of the first node (=)
  await c.multi(seq(1000, (i) => ['xadd', 'x-trim', `${i + 5}-1`, 'a', String(i)])).exec();
  await c.xtrim('x-trim', 'MAXLEN', '~', 550);
  await c.xtrim('x-trim', 'MAXLEN', 420);
  // groups with pending entries and several consumers
  await c.multi(seq(300, (i) => ['xadd', 'x-groups', `${1000 + i}-${i}`, 'job', `j${i}`, 'n', String(i)])).exec();
  await c.xgroup('CREATE', 'x-groups', 'g1', '0');
  await c.xgroup('CREATE', 'x-groups', 'g2', '$', 'ENTRIESREAD', '300');
  await c.xgroup('CREATE', 'x-groups', 'g3', '1100-0');
  await c.xgroup('CREATE', 'x-groups', '7', '0');
  await c.xgroup('CREATECONSUMER', 'x-groups', 'g1', 'idle-one');
  await c.xreadgroup('GROUP', 'g1', 'alice', 'COUNT', 10, 'STREAMS', 'x-groups', '>');
  await c.xreadgroup('GROUP', 'g1', 'bob', 'COUNT', 25, 'STREAMS', 'x-groups', '>');
  await c.xreadgroup('GROUP', 'g1', '12', 'COUNT', 3, 'STREAMS', 'x-groups', '>');
  await c.xreadgroup('GROUP', 'g3', 'carol', 'COUNT', 4, 'STREAMS', 'x-groups', '>');
  await c.call('XREADGROUP', 'GROUP', '7', 'dave', 'NOACK', 'COUNT', 7, 'STREAMS', 'x-groups', '>');
  await c.xack('x-groups', 'g1', '1001-1', '1003-3', '1012-12');
  await c.xclaim('x-groups', 'g1', 'bob', 0, '1000-0', '1002-2', 'RETRYCOUNT', 5);
  await c.xdel('x-groups', '1005-5', '1030-30');
  // an empty stream with groups; a stream emptied by XDEL; one with XSETID's metadata
  await c.xgroup('CREATE', 'x-empty', 'g', '$', 'MKSTREAM');
  await c.xgroup('CREATE', 'x-empty', 'h', '0');
  await c.xadd('x-emptied', '5-5', 'a', 'b');
  await c.xdel('x-emptied', '5-5');
  await c.xgroup('CREATE', 'x-emptied', 'g', '0');
  await c.xadd('x-setid', '10-1', 'a', 'b');
  await c.xsetid('x-setid', '99-9', 'ENTRIESADDED', 5000, 'MAXDELETEDID', '50-0');
  // big fields and values: nodes end on bytes (stream-node-max-bytes), 12-bit and 32-bit listpack strings
  for (let i = 0; i < 30; i++) await c.xadd('x-big', `${i + 1}-0`, 'field'.repeat(i % 5 + 1), 'v'.repeat(i * 97), 'n', String(2 ** 40 + i), 'big', i % 10 === 0 ? 'z'.repeat(70_000) : 'small');
  await c.xadd('x-ids', '18446744073709551615-5', 'max', '1');
}

/** What a stream shows, times aside (seen-time, delivery-time, idle differ between the servers). */
async function streamView(c: Redis, k: string): Promise<unknown> {
  const full = (await c.call('XINFO', 'STREAM', k, 'FULL')) as unknown[];
  const f = new Map<string, unknown>();
  for (let i = 0; i < full.length; i += 2) f.set(full[i] as string, full[i + 1]);
  const groups = ((f.get('groups') as unknown[][]) ?? []).map((g) => {
    const out: unknown[] = [];
    for (let i = 0; i < g.length; i += 2) {
      if (g[i] === 'pending') out.push('pending', (g[i + 1] as unknown[][]).map((p) => [p[0], p[1], p[3]]));
      else if (g[i] === 'consumers') {
        out.push('consumers', (g[i + 1] as unknown[][]).map((cn) => [cn[1], cn[5], (cn[7] as unknown[][]).map((p) => [p[0], p[2]])]));
      } else out.push(g[i], g[i + 1]);
    }
    return out;
  });
  const view: Record<string, unknown> = {
    full: ['length', 'radix-tree-keys', 'last-generated-id', 'max-deleted-entry-id', 'entries-added', 'entries'].map((n) => [n, f.get(n)]),
    groups,
    range: await c.xrange(k, '-', '+'),
    revFew: await c.xrevrange(k, '+', '-', 'COUNT', 3),
    infoGroups: await c.call('XINFO', 'GROUPS', k),
  };
  for (const g of (view.infoGroups as unknown[][])) {
    const name = g[1] as string;
    view[`consumers ${name}`] = ((await c.call('XINFO', 'CONSUMERS', k, name)) as unknown[][]).map((cn) => [cn[1], cn[3]]);
    view[`pending ${name}`] = await c.xpending(k, name);
    view[`pending+ ${name}`] = ((await c.xpending(k, name, '-', '+', 1000)) as unknown[][]).map((p) => [p[0], p[1], p[3]]);
  }
  return view;
}

describe('DUMP / RESTORE of streams', function () {
  this.timeout(180_000);
  let srv: TalusProcess;
  let redis: RedisServer;
  let t: Redis;
  let r: Redis;
  const keys = ['x-many', 'x-del', 'x-trim', 'x-groups', 'x-empty', 'x-emptied', 'x-setid', 'x-big', 'x-ids'];

  before(async function () {
    if (!redisServerAvailable()) this.skip();
    [srv, redis] = await Promise.all([startTalus(['--appendfsync', 'everysec']), startRedisServer()]);
    t = srv.client();
    r = new Redis(redis.port);
    // DUMP bytes compare only uncompressed (Talus writes no LZF)
    await r.config('SET', 'rdbcompression', 'no');
    await buildStreams(r);
    await buildStreams(t);
  });
  after(async () => {
    r?.disconnect();
    await Promise.all([redis?.stop(), srv?.stop()]);
  });

  it('builds the same streams on both servers (the reference for what follows)', async () => {
    // x-big too: Talus counts a node's listpack bytes as Redis lays them out, so nodes end on the same bytes (radix-tree-keys)
    for (const k of keys) expect(await streamView(t, k), k).to.deep.equal(await streamView(r, k));
  });

  it('dumps the same bytes as redis-server for the same history (no deleted entries inside nodes)', async () => {
    for (const k of ['x-many', 'x-emptied', 'x-setid', 'x-big', 'x-ids']) {
      const [a, b] = [(await r.dumpBuffer(k))!, (await t.dumpBuffer(k))!];
      expect(b.toString('hex'), k).to.equal(a.toString('hex'));
    }
  });

  for (const direction of ['redis -> talus', 'talus -> redis'] as const) {
    it(`restores streams with their nodes, groups, PELs and consumers ${direction}`, async () => {
      const [src, dst] = direction === 'redis -> talus' ? [r, t] : [t, r];
      for (const k of keys) {
        const p = (await src.dumpBuffer(k))!;
        expect(await dst.restore(`R${k}`, 0, p, 'REPLACE'), k).to.equal('OK');
        expect(await streamView(dst, `R${k}`), k).to.deep.equal(await streamView(src, k));
        // the restored stream goes on as the original: same node boundaries for XADD and approximate trims
        for (const c of [src, dst]) {
          const name = c === src ? k : `R${k}`;
          await c.xadd(name, '18446744073709551614-0', 'after', 'restore').catch(() => undefined);
          await c.xtrim(name, 'MAXLEN', '~', 200);
        }
        // Talus keeps no deleted entries, so its payload's nodes hold fewer entries than Redis's and fill later
        const fillsAlike = direction === 'redis -> talus' || !['x-del', 'x-trim', 'x-groups'].includes(k);
        if (fillsAlike) expect(await streamView(dst, `R${k}`), `${k} after XADD and XTRIM ~`).to.deep.equal(await streamView(src, k));
        // the times came along: a redis payload restored in Talus dumps back byte for byte
        if (direction === 'redis -> talus') {
          const again = (await r.dumpBuffer(k))!;
          await t.restore(`B${k}`, 0, again, 'REPLACE');
          const back = (await t.dumpBuffer(`B${k}`))!;
          if (k !== 'x-del' && k !== 'x-trim' && k !== 'x-groups') expect(back.equals(again), `${k} bytes`).to.equal(true);
        }
      }
      await Promise.all([r.del(...keys), t.del(...keys)]);
      await Promise.all([buildStreams(r), buildStreams(t)]);
    });
  }

  it('refuses truncated and corrupted stream payloads as redis-server, and never fails on them', async () => {
    const reply = (c: Redis, ...args: Array<string | Buffer>) => c.callBuffer('restore', ...args).then(String, (e: Error) => `E:${e.message}`);
    let random = 12345;
    const next = (n: number) => ((random = (random * 1103515245 + 12345) % 2 ** 31), random % n);
    for (const k of ['x-groups', 'x-del', 'x-empty', 'x-big']) {
      const p = (await r.dumpBuffer(k))!;
      const body = p.subarray(0, p.length - 8);
      for (let i = 0; i < 60; i++) {
        let b: Buffer;
        if (i % 2 === 0) b = Buffer.from(body.subarray(0, 1 + next(body.length - 1)));
        else {
          b = Buffer.from(body);
          for (let j = 0; j <= next(3); j++) b[next(b.length - 2)] ^= 1 << next(8);
        }
        // a valid footer: the checksum must not be what stops it
        const bad = Buffer.concat([b.subarray(0, b.length - 2), Buffer.from([10, 0])]);
        const crc = Buffer.alloc(8);
        crc.writeBigUInt64LE(crc64(bad));
        const fuzzed = Buffer.concat([bad, crc]);
        const got = await reply(t, 'fz', '0', fuzzed, 'REPLACE');
        expect(got === 'OK' || got === 'E:ERR Bad data format', `${k} #${i}: ${got}`).to.equal(true);
      }
      const cut = Buffer.concat([p.subarray(0, 5), p.subarray(6)]);
      expect(await reply(t, 'fz-new', '0', cut)).to.equal(await reply(r, 'fz-new', '0', cut));
    }
    expect(await t.ping()).to.equal('PONG');
  });
});
