import { expect } from 'chai';
import net from 'node:net';
import type { Redis } from 'ioredis';
import { fillCollections, restartable, talusInfo } from './support/harness.js';
import { resp } from './support/client-shapes.js';
import { WHOLE_READ_PAGE_ROWS } from '../src/storage/whole-read.js';

/**
 * Whole reads of collections too big for the hot set (keyspace/paging.ts,
 * `stream` accesses): a client's HGETALL, HKEYS, HVALS, SMEMBERS or LRANGE of
 * a paged value gets the rows written as PostgreSQL gives them, from a
 * snapshot taken before the command ran, instead of the value read whole
 * into memory. With maxmemory 8 MB, past 6,554 rows (a quarter of it at
 * 320 bytes a member).
 */
const M = 2 * WHOLE_READ_PAGE_ROWS + 3000;
const LONG_SCORE = 500;
const LONG = ['z', 'a', 'q', 'b', 'y'].map((last) => `${'L'.repeat(2600)}${last}`);
/** big:z in Redis's order: by score, then member bytes */
const zsetOrder = (): Array<[string, number]> =>
  [...Array.from({ length: M }, (_, j): [string, number] => [`m${j}`, j % 977]), ...LONG.map((m): [string, number] => [m, LONG_SCORE])].sort(
    (a, b) => a[1] - b[1] || Buffer.compare(Buffer.from(a[0]), Buffer.from(b[0])),
  );

describe('streamed replies of big collections', function () {
  this.timeout(120_000);
  const talus = restartable(['--maxmemory', '8mb', '--paged-collection-threshold', '100']);
  let r: Redis;
  const restart = async () => void (r = await talus.restart());
  const info = () => talusInfo(r);

  before(async () => {
    await restart();
    await fillCollections(r, { hash: 'big:h', set: 'big:s', list: 'big:l' }, M);
    // scores repeat (member order within a score), and long members share a score and their first
    // 2,560 bytes (the index orders those by digest: they come back in byte order all the same)
    await fillCollections(r, { zset: 'big:z' }, M, (j) => j % 977);
    await r.zadd('big:z', ...LONG.flatMap((m) => [LONG_SCORE, m]));
    await restart();
  });

  after(async () => talus.stop());

  it('HGETALL, HKEYS, HVALS, SMEMBERS and LRANGE of cold big collections are streamed, whole and right', async () => {
    const before = await info();
    const all = await r.hgetall('big:h');
    expect(Object.keys(all)).to.have.length(M);
    for (let j = 0; j < M; j += 997) expect(all[`f${j}`]).to.equal(`v${j}`);
    const keys = await r.hkeys('big:h');
    const vals = await r.hvals('big:h');
    expect(keys).to.have.length(M);
    // one order for both, as Redis gives for an unchanged hash
    expect(vals.every((v, i) => v === `v${keys[i]!.slice(1)}`)).to.equal(true);
    const members = await r.smembers('big:s');
    expect(new Set(members).size).to.equal(M);
    expect(members.every((m) => /^m\d+$/.test(m))).to.equal(true);
    const list = await r.lrange('big:l', 0, -1);
    expect(list.every((e, j) => e === `e${j}`) && list.length === M).to.equal(true);
    const middle = await r.lrange('big:l', 100, 100 + WHOLE_READ_PAGE_ROWS);
    expect(middle).to.have.length(WHOLE_READ_PAGE_ROWS + 1);
    expect(middle[0]).to.equal('e100');
    expect(middle.at(-1)).to.equal(`e${100 + WHOLE_READ_PAGE_ROWS}`);
    // a small range of the same list is read into the value as before
    expect(await r.lrange('big:l', -2, -1)).to.deep.equal([`e${M - 2}`, `e${M - 1}`]);
    const after = await info();
    expect(after.paged_streamed_reads! - before.paged_streamed_reads!).to.equal(6);
    expect(after.paged_whole_reads).to.equal(before.paged_whole_reads);
    expect(after.hot_set_bytes, 'nothing of them made resident').to.be.below(4 << 20);
  });

  it('ZRANGE and ZREVRANGE of a cold big sorted set are streamed in Redis order, long members included', async () => {
    const before = await info();
    const order = zsetOrder();
    const flat = (pairs: Array<[string, number]>) => pairs.flatMap(([m, sc]) => [m, String(sc)]);
    expect(await r.zrange('big:z', '0', '-1', 'WITHSCORES')).to.deep.equal(flat(order));
    expect(await r.zrange('big:z', '0', '-1')).to.deep.equal(order.map(([m]) => m));
    expect(await r.zrevrange('big:z', 0, -1, 'WITHSCORES')).to.deep.equal(flat([...order].reverse()));
    expect(await r.zrange('big:z', '10', '-10', 'REV')).to.deep.equal([...order].reverse().slice(10, -9).map(([m]) => m));
    const after = await info();
    expect(after.paged_streamed_reads! - before.paged_streamed_reads!).to.equal(4);
    expect(after.paged_whole_reads).to.equal(before.paged_whole_reads);
    // LIMIT offset -1 with a rank range: Redis takes it and ignores it
    expect(await r.zrange('big:z', '0', '-1', 'LIMIT', '3', '-1')).to.deep.equal(order.map(([m]) => m));
  });

  it('ZRANGEBYSCORE, ZREVRANGEBYSCORE and ZRANGE BYSCORE of long score ranges are streamed: bounds, LIMIT and order as Redis', async () => {
    const order = zsetOrder();
    const flat = (pairs: Array<[string, number]>) => pairs.flatMap(([m, sc]) => [m, String(sc)]);
    const within = (lo: number, hi: number, loex = false, hiex = false) =>
      order.filter(([, sc]) => (loex ? sc > lo : sc >= lo) && (hiex ? sc < hi : sc <= hi));
    const before = await info();
    expect(await r.zrangebyscore('big:z', '-inf', '+inf', 'WITHSCORES')).to.deep.equal(flat(order));
    expect(await r.zrevrangebyscore('big:z', '+inf', '-inf')).to.deep.equal([...order].reverse().map(([m]) => m));
    // exclusive bounds, the long members' score inside, an offset and a count
    expect(await r.zrangebyscore('big:z', '(3', '900', 'LIMIT', '7', '20000')).to.deep.equal(within(3, 900, true).slice(7, 20007).map(([m]) => m));
    expect(await r.zrange('big:z', '(960', '10', 'BYSCORE', 'REV', 'LIMIT', '5', '-1', 'WITHSCORES')).to.deep.equal(
      flat([...within(10, 960, false, true)].reverse().slice(5)));
    const after = await info();
    expect(after.paged_streamed_reads! - before.paged_streamed_reads!).to.equal(4);
    expect(after.paged_whole_reads).to.equal(before.paged_whole_reads);
    // short ranges and LIMITs are read into the value, as before
    expect(await r.zrangebyscore('big:z', '5', '5')).to.deep.equal(within(5, 5).map(([m]) => m));
    expect(await r.zrangebyscore('big:z', '-inf', '+inf', 'LIMIT', '100', '3')).to.deep.equal(order.slice(100, 103).map(([m]) => m));
    expect(await r.zrangebyscore('big:z', '-inf', '+inf', 'LIMIT', '-1', '3')).to.deep.equal([]);
    expect((await info()).paged_streamed_reads).to.equal(after.paged_streamed_reads);
  });

  it('a streamed reply shows the collection as the command saw it, and the replies behind it keep their order', async () => {
    await r.set('plain', 'x');
    await r.hset('big:h', 'f2', 'written before');
    const res = await r
      .pipeline()
      .hgetall('big:h')
      .hset('big:h', 'f0', 'changed')
      .hdel('big:h', 'f1')
      .ping()
      .hgetall('big:h')
      .get('plain')
      .lrange('big:l', 0, -1)
      .rpush('big:l', 'tail')
      .llen('big:l')
      .exec();
    const [first, hset, hdel, pong, second, plain, list, rpush, llen] = res!.map(([err, v]) => {
      if (err) throw err;
      return v;
    });
    const a = first as Record<string, string>;
    const b = second as Record<string, string>;
    expect([a.f0, a.f1, a.f2, Object.keys(a).length]).to.deep.equal(['v0', 'v1', 'written before', M]);
    expect([hset, hdel, pong]).to.deep.equal([0, 1, 'PONG']);
    expect([b.f0, b.f1, b.f2, Object.keys(b).length]).to.deep.equal(['changed', undefined, 'written before', M - 1]);
    expect(plain).to.equal('x');
    expect((list as string[]).length).to.equal(M);
    expect([rpush, llen]).to.deep.equal([M + 1, M + 1]);
    expect(await r.lindex('big:l', -1)).to.equal('tail');
  });

  it('RESP3 gets a map and a set', async () => {
    const s = net.connect({ port: talus.port, host: '127.0.0.1' });
    try {
      let got = Buffer.alloc(0);
      s.on('data', (d: Buffer) => (got = Buffer.concat([got, d])));
      s.write(Buffer.concat([resp('HELLO', '3'), resp('HGETALL', 'big:h'), resp('SMEMBERS', 'big:s'), resp('PING')]));
      for (let i = 0; i < 200 && !got.subarray(-7).equals(Buffer.from('+PONG\r\n')); i++) await new Promise((res) => setTimeout(res, 50));
      const text = got.toString('latin1');
      const hash = text.indexOf(`%${M - 1}\r\n`);
      const set = text.indexOf(`~${M}\r\n`);
      expect(hash, 'map header').to.be.above(0);
      expect(set, 'set header').to.be.above(hash);
      // every field and value of the map, then every member, then PONG
      expect(text.slice(hash, set).match(/\r\n\$/g)).to.have.length(2 * (M - 1));
      expect(text.slice(set).match(/\r\n\$/g)).to.have.length(M);
    } finally {
      s.destroy();
    }
  });

  it('clients that go away half way give their snapshots back', async () => {
    for (let round = 0; round < 3; round++) {
      const s = net.connect({ port: talus.port, host: '127.0.0.1' });
      s.on('error', () => undefined);
      await new Promise<void>((res) => s.once('connect', () => res()));
      s.write(Buffer.concat([resp('HGETALL', 'big:h'), resp('HGETALL', 'big:h'), resp('SMEMBERS', 'big:s')]));
      await new Promise<void>((res) => s.once('data', () => res()));
      s.destroy();
    }
    // two snapshots at most are open at once: leaked ones would leave these waiting
    const [h, set] = await Promise.all([r.hlen('big:h'), r.scard('big:s')]);
    const [all, members] = await Promise.all([r.hgetall('big:h'), r.smembers('big:s')]);
    expect([Object.keys(all).length, members.length]).to.deep.equal([h, set]);
  });

  it('a transaction and a script read the whole value instead (they answer as one reply)', async () => {
    const before = await info();
    const [[, tx]] = (await r.multi().hkeys('big:h').exec())!;
    expect(tx as string[]).to.have.length(await r.hlen('big:h'));
    expect(await r.eval("return #redis.call('SMEMBERS', KEYS[1])", 1, 'big:s')).to.equal(M);
    const after = await info();
    expect(after.paged_streamed_reads).to.equal(before.paged_streamed_reads);
    expect(after.paged_whole_reads! - before.paged_whole_reads!).to.equal(2);
  });
});
