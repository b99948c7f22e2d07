import { expect } from 'chai';
import type { Redis } from 'ioredis';
import { fillCollections, restartable, talusInfo } from './support/harness.js';
import { WHOLE_READ_PAGE_ROWS } from '../src/storage/whole-read.js';

/**
 * Big collections served page-wise (src/keyspace/paging.ts): a cold hash,
 * set, sorted set or list above `paged-collection-threshold` members is not
 * read whole for point commands. Checked through INFO talus (paged_opens,
 * paged_partial_reads, paged_whole_reads) and the hot-set size, and for
 * correctness against what was written, across restarts.
 */
const N = 2000;
const THRESHOLD = '100';

describe('paged collections', function () {
  this.timeout(120_000);
  const talus = restartable(['--paged-collection-threshold', THRESHOLD]);
  let r: Redis;
  const restart = async () => void (r = await talus.restart());
  const info = () => talusInfo(r);

  before(async () => {
    await restart();
    await fillCollections(r, { hash: 'h', set: 's', zset: 'z', list: 'l' }, N);
    await restart();
  });

  after(async () => {
    await talus.stop();
  });

  it('point reads of cold big keys read only what they need', async () => {
    const before = await info();
    expect(await r.hget('h', 'f1234')).to.equal('v1234');
    expect(await r.hmget('h', 'f1', 'nope', 'f1999')).to.deep.equal(['v1', null, 'v1999']);
    expect(await r.hexists('h', 'f7')).to.equal(1);
    expect(await r.hstrlen('h', 'f10')).to.equal(3);
    expect(await r.hlen('h')).to.equal(N);
    expect(await r.sismember('s', 'm5')).to.equal(1);
    expect(await r.smismember('s', 'm5', 'x')).to.deep.equal([1, 0]);
    expect(await r.scard('s')).to.equal(N);
    expect(await r.zscore('z', 'm77')).to.equal('77');
    expect(await r.zmscore('z', 'm1', 'x')).to.deep.equal(['1', null]);
    expect(await r.zrank('z', 'm1500')).to.equal(1500);
    expect(await r.zrevrank('z', 'm1500')).to.equal(N - 1 - 1500);
    expect(await r.zrange('z', '10', '12', 'WITHSCORES')).to.deep.equal(['m10', '10', 'm11', '11', 'm12', '12']);
    expect(await r.zrange('z', '0', '1', 'REV')).to.deep.equal([`m${N - 1}`, `m${N - 2}`]);
    expect(await r.zrevrange('z', 5, 6)).to.deep.equal([`m${N - 6}`, `m${N - 7}`]);
    expect(await r.zcard('z')).to.equal(N);
    expect(await r.lindex('l', 0)).to.equal('e0');
    expect(await r.lindex('l', -1)).to.equal(`e${N - 1}`);
    expect(await r.lindex('l', 1000)).to.equal('e1000');
    expect(await r.lrange('l', 100, 104)).to.deep.equal(['e100', 'e101', 'e102', 'e103', 'e104']);
    expect(await r.lrange('l', -3, -1)).to.deep.equal([`e${N - 3}`, `e${N - 2}`, `e${N - 1}`]);
    expect(await r.llen('l')).to.equal(N);
    expect(await r.type('z')).to.equal('zset');
    expect(await r.object('ENCODING', 'h')).to.equal('hashtable');
    const after = await info();
    expect(after.paged_opens! - before.paged_opens!).to.equal(4);
    expect(after.paged_partial_reads! - before.paged_partial_reads!).to.be.greaterThan(10);
    expect(after.paged_whole_reads).to.equal(before.paged_whole_reads);
    // four collections of 2000 members would be several hundred KB in memory
    expect(after.hot_set_bytes).to.be.below(60_000);
  });

  it('writes to paged values are correct and survive a restart', async () => {
    expect(await r.hset('h', 'f1', 'changed', 'new', 'x')).to.equal(1);
    expect(await r.hdel('h', 'f2', 'missing')).to.equal(1);
    expect(await r.hincrby('h', 'counter', 5)).to.equal(5);
    expect(await r.hsetnx('h', 'f3', 'no')).to.equal(0);
    expect(await r.sadd('s', 'm1', 'new')).to.equal(1);
    expect(await r.srem('s', 'm2', 'missing')).to.equal(1);
    expect(await r.smove('s', 's2', 'm3')).to.equal(1);
    expect(await r.zadd('z', -1, 'first', 5000, 'm0')).to.equal(1);
    expect(await r.zincrby('z', 1, 'm1')).to.equal('2');
    expect(await r.zrem('z', 'm2')).to.equal(1);
    expect(await r.lpush('l', 'head')).to.equal(N + 1);
    expect(await r.rpush('l', 'tail')).to.equal(N + 2);
    expect(await r.lset('l', 2, 'set')).to.equal('OK');
    expect(await r.lpop('l', 2)).to.deep.equal(['head', 'e0']);
    expect(await r.rpop('l')).to.equal('tail');
    expect(await r.rpoplpush('l', 'l')).to.equal(`e${N - 1}`);
    const before = await info();
    expect(before.paged_whole_reads).to.equal(0);

    await restart();
    expect(await r.hmget('h', 'f1', 'f2', 'new', 'counter', 'f3')).to.deep.equal(['changed', null, 'x', '5', 'v3']);
    expect(await r.hlen('h')).to.equal(N + 1);
    expect(await r.smismember('s', 'm1', 'm2', 'm3', 'new')).to.deep.equal([1, 0, 0, 1]);
    expect(await r.scard('s')).to.equal(N - 1);
    expect(await r.smembers('s2')).to.deep.equal(['m3']);
    expect(await r.zrange('z', '0', '2', 'WITHSCORES')).to.deep.equal(['first', '-1', 'm1', '2', 'm3', '3']);
    expect(await r.zrange('z', '-1', '-1', 'WITHSCORES')).to.deep.equal(['m0', '5000']);
    expect(await r.zcard('z')).to.equal(N);
    expect(await r.lrange('l', 0, 2)).to.deep.equal([`e${N - 1}`, 'set', 'e2']);
    expect(await r.llen('l')).to.equal(N - 1);
  });

  it('ranks and rank ranges stay right around changes not yet committed', async () => {
    // pipelined: the ZADDs are still being committed when the rank reads arrive
    const res = await r
      .pipeline()
      .zadd('z', -5, 'a', -4, 'b')
      .zrank('z', 'b')
      .zrange('z', '0', '3')
      .zrem('z', 'a')
      .zrange('z', '0', '1')
      .zpopmin('z')
      .zrank('z', 'm1')
      .exec();
    expect(res!.map(([err, v]) => err ?? v)).to.deep.equal([2, 1, ['a', 'b', 'first', 'm1'], 1, ['b', 'first'], ['b', '-4'], 1]);
  });

  it('a transaction that shifts list indexes reads the whole list first', async () => {
    const res = await r.multi().lpush('l', 'x', 'y').lindex('l', 3).lrange('l', 0, 3).exec();
    expect(res!.map(([err, v]) => err ?? v)).to.deep.equal([N + 1, 'set', ['y', 'x', `e${N - 1}`, 'set']]);
  });

  it('commands over every member read the whole value, then run as usual', async () => {
    await restart();
    const before = await info();
    const all = await r.hgetall('h');
    expect(Object.keys(all)).to.have.length(N + 1);
    expect(all.f1).to.equal('changed');
    expect(await r.sinter('s', 's')).to.have.length(N - 1);
    expect(await r.zcount('z', 10, 12)).to.equal(3);
    expect(await r.linsert('l', 'BEFORE', 'e5', 'ins')).to.equal(N + 2);
    const after = await info();
    expect(after.paged_whole_reads! - before.paged_whole_reads!).to.equal(4);
  });

  it('RENAME and MOVE hand a cold big key over without reading it; its members follow across restarts', async () => {
    await restart();
    const before = await info();
    await r.set('taken', 'old value');
    expect(await r.rename('h', 'taken')).to.equal('OK'); // replaces a key
    expect(await r.renamenx('s', 's-renamed')).to.equal(1);
    expect(await r.move('z', 1)).to.equal(1);
    expect(await r.rename('l', 'l2')).to.equal('OK');
    expect(await r.rename('l2', 'l')).to.equal('OK'); // and back, before the commit
    expect(await r.exists('h', 's', 'z')).to.equal(0);
    expect(await r.hget('taken', 'f1')).to.equal('changed');
    const after = await info();
    expect(after.paged_whole_reads).to.equal(before.paged_whole_reads);
    expect(after.hot_set_bytes).to.be.below(60_000);

    await restart();
    expect(await r.exists('h', 's', 'z', 'l2')).to.equal(0);
    expect(await r.hlen('taken')).to.equal(N + 1);
    expect(await r.hmget('taken', 'f1', 'f2', 'f1999')).to.deep.equal(['changed', null, 'v1999']);
    expect(await r.scard('s-renamed')).to.equal(N - 1);
    expect(await r.sismember('s-renamed', 'm1999')).to.equal(1);
    expect(await r.llen('l')).to.be.above(N);
    await r.select(1);
    expect(await r.zcard('z')).to.equal(N);
    expect(await r.zscore('z', 'm1999')).to.equal('1999');
    expect(await r.move('z', 0)).to.equal(1);
    await r.select(0);
    expect(await r.rename('taken', 'h')).to.equal('OK');
    expect(await r.rename('s-renamed', 's')).to.equal('OK');
    await restart();
    expect(await r.hget('h', 'f1')).to.equal('changed');
    expect(await r.zscore('z', 'm5')).to.equal('5');
    expect(await r.scard('s')).to.equal(N - 1);
  });

  it('score ranges read a window at the end they start from, not the whole set', async () => {
    await restart();
    // z now: first -1, m1 2, m3..m1999 at their index, m0 5000 (earlier tests)
    const model: Array<[string, number]> = [['first', -1], ['m1', 2]];
    for (let i = 3; i < N; i++) model.push([`m${i}`, i]);
    model.push(['m0', 5000]);
    const names = (from: number, to: number) => model.filter(([, sc]) => sc >= from && sc <= to).map(([m]) => m);
    const before = await info();
    expect(await r.zrangebyscore('z', '-inf', '+inf', 'LIMIT', 0, 3)).to.deep.equal(['first', 'm1', 'm3']);
    expect(await r.zrevrangebyscore('z', '+inf', '-inf', 'WITHSCORES', 'LIMIT', 0, 3)).to.deep.equal(
      ['m0', '5000', 'm1999', '1999', 'm1998', '1998']);
    expect(await r.zrangebyscore('z', '(1000', 1010)).to.deep.equal(names(1001, 1010));
    expect(await r.zrange('z', 1500, '(1490', 'BYSCORE', 'REV', 'LIMIT', 2, 3)).to.deep.equal(['m1498', 'm1497', 'm1496']);
    expect(await r.zrangebyscore('z', 3000, 4000)).to.deep.equal([]);
    expect(await r.zrevrangebyscore('z', 1, -10)).to.deep.equal(['first']);
    expect(await r.zrangebyscore('z', 1998, '+inf', 'LIMIT', 1, 5)).to.deep.equal(['m1999', 'm0']);
    expect(await r.zrangestore('zdst', 'z', 10, 12, 'BYSCORE')).to.equal(3);
    const after = await info();
    expect(after.paged_whole_reads).to.equal(before.paged_whole_reads);
    expect(after.paged_partial_reads! - before.paged_partial_reads!).to.be.at.least(8);
    // no LIMIT and more elements than a window holds: read whole
    expect(await r.zrangebyscore('z', '-inf', '+inf')).to.deep.equal(model.map(([m]) => m));
    expect((await info()).paged_whole_reads).to.equal(before.paged_whole_reads! + 1);
  });

  it('lex ranges of a set whose scores are all equal read a window, not the whole set; other sets read whole', async () => {
    // an autocomplete set: every score 0, members in byte order (long ones sharing their first 2,560 bytes too)
    const words = Array.from({ length: N }, (_, i) => `w${(i * 7919) % N}`);
    const long = ['y', 'a', 'q'].map((last) => `${'L'.repeat(2600)}${last}`);
    await r.zadd('lex', ...[...words, ...long].flatMap((m) => [0, m]));
    await r.zadd('lexmixed', ...words.flatMap((m, i) => [i % 3, m]));
    await restart();
    const sorted = [...words, ...long].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
    const within = (lo: string, hi: string) => sorted.filter((m) => m >= lo && m < hi);
    const before = await info();
    expect(await r.zrangebylex('lex', '[w12', '(w13', 'LIMIT', 0, 5)).to.deep.equal(within('w12', 'w13').slice(0, 5));
    expect(await r.zrevrangebylex('lex', '(w13', '[w12', 'LIMIT', 2, 3)).to.deep.equal(within('w12', 'w13').reverse().slice(2, 5));
    expect(await r.zrangebylex('lex', '-', '+', 'LIMIT', 0, 2)).to.deep.equal(sorted.slice(0, 2));
    expect(await r.zrevrangebylex('lex', '+', '-', 'LIMIT', 0, 4)).to.deep.equal([...sorted].reverse().slice(0, 4));
    expect(await r.zrange('lex', '(w999', '+', 'BYLEX', 'LIMIT', 0, 3)).to.deep.equal(sorted.filter((m) => m > 'w999').slice(0, 3));
    expect(await r.zrange('lex', '[L', '-', 'BYLEX', 'REV', 'LIMIT', 0, 10)).to.deep.equal(
      sorted.filter((m) => m <= 'L').reverse().slice(0, 10));
    expect(await r.zrangebylex('lex', '[w5', '[w5')).to.deep.equal(['w5']);
    expect(await r.zrangebylex('lex', '(x', '+')).to.deep.equal([]);
    // a negative offset is an empty answer, read nothing for (it once sent PostgreSQL a LIMIT out of range)
    expect(await r.call('ZRANGE', 'lex', '[x', '[z', 'REV', 'BYLEX', 'LIMIT', '-9223372036854775808', '4')).to.deep.equal([]);
    expect(await r.zrangestore('lexdst', 'lex', '[w19', '(w2', 'BYLEX', 'LIMIT', 0, 7)).to.equal(7);
    expect(await r.zrange('lexdst', '0', '-1')).to.deep.equal(within('w19', 'w2').slice(0, 7));
    const after = await info();
    expect(after.paged_whole_reads).to.equal(before.paged_whole_reads);
    expect(after.paged_partial_reads! - before.paged_partial_reads!).to.be.at.least(5);
    // a member added with the same score keeps the lex reads partial, one with another score does not
    await r.zadd('lex', 0, 'w12a');
    expect(await r.zrangebylex('lex', '[w12', '(w13', 'LIMIT', 0, 3)).to.deep.equal(['w12', 'w120', 'w1200']);
    expect(await r.zrangebylex('lex', '(w129', '[w12a')).to.deep.equal(['w1290', 'w1291', 'w1292', 'w1293', 'w1294', 'w1295', 'w1296', 'w1297', 'w1298', 'w1299', 'w12a']);
    expect((await info()).paged_whole_reads).to.equal(before.paged_whole_reads);
    await r.zadd('lex', 1, 'w12b');
    expect(await r.zrangebylex('lex', '[w12', '(w13', 'LIMIT', 0, 3)).to.deep.equal(['w12', 'w120', 'w1200']);
    expect((await info()).paged_whole_reads).to.equal(before.paged_whole_reads! + 1);
    // scores that differ: the whole set, and Redis's walk in (score, member) order
    const mixed = await r.zrangebylex('lexmixed', '-', '+', 'LIMIT', 0, 4);
    expect(mixed).to.deep.equal(words.map((m, i): [string, number] => [m, i % 3]).sort((a, b) => a[1] - b[1] || (a[0] < b[0] ? -1 : 1)).slice(0, 4).map(([m]) => m));
    expect((await info()).paged_whole_reads).to.equal(before.paged_whole_reads! + 2);
  });

  it('DEL of a cold big key reads none of its members', async () => {
    await restart();
    const before = await info();
    expect(await r.del('h', 's', 'z', 'l')).to.equal(4);
    expect(await r.exists('h', 's', 'z', 'l')).to.equal(0);
    const after = await info();
    expect(after.paged_whole_reads).to.equal(before.paged_whole_reads);
    expect(after.paged_partial_reads).to.equal(before.paged_partial_reads);
    await restart();
    expect(await r.exists('h', 's', 'z', 'l')).to.equal(0);
  });

  it('a whole read longer than a cursor page takes every page once, and what memory changed wins', async () => {
    const M = 2 * WHOLE_READ_PAGE_ROWS + 100;
    await fillCollections(r, { hash: 'wide', zset: 'scores', list: 'long' }, M);
    await restart();
    // changed while paged, before the whole reads: memory wins over the rows
    await r.hset('wide', 'f5', 'changed');
    await r.hdel('wide', `f${WHOLE_READ_PAGE_ROWS + 7}`);
    await r.lset('long', WHOLE_READ_PAGE_ROWS + 9, 'set');
    await r.zadd('scores', -1, `m${M - 1}`);
    const before = await info();
    const all = await r.hgetall('wide');
    expect(Object.keys(all)).to.have.length(M - 1);
    expect(all.f5).to.equal('changed');
    expect(all[`f${WHOLE_READ_PAGE_ROWS + 7}`]).to.equal(undefined);
    for (const j of [0, WHOLE_READ_PAGE_ROWS - 1, WHOLE_READ_PAGE_ROWS, 2 * WHOLE_READ_PAGE_ROWS, M - 1]) expect(all[`f${j}`]).to.equal(`v${j}`);
    const list = await r.lrange('long', 0, -1);
    expect(list).to.have.length(M);
    expect(list[WHOLE_READ_PAGE_ROWS + 9]).to.equal('set');
    expect(list.filter((e, j) => e !== `e${j}`)).to.deep.equal(['set']);
    const members = await r.zrange('scores', '0', '-1');
    expect(members).to.have.length(M);
    expect(members[0]).to.equal(`m${M - 1}`);
    expect(new Set(members).size).to.equal(M);
    expect((await info()).paged_whole_reads! - before.paged_whole_reads!).to.equal(3);
  });

  it('HSCAN, SSCAN and ZSCAN of cold big keys read a page at a time, every member once', async () => {
    await fillCollections(r, { hash: 'scan:h', set: 'scan:s', zset: 'scan:z' }, 5000, (j) => j / 7);
    await restart();
    const before = await info();
    const scanAll = async (cmd: string, key: string, count: number, match?: string) => {
      const seen = new Map<string, string | undefined>();
      let cursor = '0';
      let calls = 0;
      do {
        const [next, page] = (await r.call(cmd, key, cursor, 'COUNT', String(count), ...(match ? ['MATCH', match] : []))) as [string, string[]];
        cursor = next;
        calls++;
        const step = cmd === 'SSCAN' ? 1 : 2;
        for (let i = 0; i < page.length; i += step) {
          expect(seen.has(page[i]!), `${cmd} returned ${page[i]} twice`).to.equal(false);
          seen.set(page[i]!, page[i + 1]);
        }
      } while (cursor !== '0');
      return { seen, calls };
    };
    const h = await scanAll('HSCAN', 'scan:h', 100);
    const s = await scanAll('SSCAN', 'scan:s', 250, 'm1*');
    const z = await scanAll('ZSCAN', 'scan:z', 300);
    const after = await info();
    expect(after.paged_whole_reads, 'no scan read a whole value').to.equal(before.paged_whole_reads);
    expect(h.seen.size).to.equal(5000);
    expect(h.calls).to.be.within(50, 52);
    expect(h.seen.get('f7')).to.equal('v7');
    expect([...s.seen.keys()].sort()).to.deep.equal((await r.smembers('scan:s')).filter((m) => m.startsWith('m1')).sort());
    expect(z.seen.size).to.equal(5000);
    expect(z.seen.get('m12')).to.equal(String(await r.zscore('scan:z', 'm12')));
  });

  it('a paged scan returns every member present throughout, with writes between its calls, and goes on after a whole read', async () => {
    await restart();
    const all = new Set(await r.sscan('s', '0', 'COUNT', '1').then(() => r.smembers('scan:s')));
    await restart();
    const seen = new Set<string>();
    let cursor = '0';
    let calls = 0;
    do {
      const [next, page] = await r.sscan('scan:s', cursor, 'COUNT', '97');
      cursor = next;
      for (const m of page) seen.add(m);
      // members come and go meanwhile (never those present throughout)
      await r.sadd('scan:s', `new${calls}`);
      if (calls === 5) await r.srem('scan:s', 'new1');
      // half way, a command over every member makes the value resident: the scan goes on in the same order
      if (++calls === 10) expect(await r.sinter('scan:s', 'scan:s')).to.have.length.above(0);
    } while (cursor !== '0');
    for (const m of all) expect(seen.has(m), m).to.equal(true);
    expect((await info()).paged_whole_reads).to.be.at.least(1);
  });

  it('HSCAN of a paged value inside MULTI and from a script', async () => {
    await restart();
    const [[, tx]] = (await r.multi().hscan('scan:h', '0', 'COUNT', '5').exec())!;
    const [cursor, page] = tx as [string, string[]];
    expect(page).to.have.length(10);
    expect(cursor).to.not.equal('0');
    const fromScript = (await r.eval("return redis.call('HSCAN', KEYS[1], ARGV[1], 'COUNT', 5)", 1, 'scan:h', cursor)) as [string, string[]];
    expect(fromScript[1]).to.have.length(10);
    expect(fromScript[1].filter((x, i) => i % 2 === 0 && page.includes(x))).to.deep.equal([]);
  });
});
