import { expect } from 'chai';
import type { Redis } from 'ioredis';
import { restartable, talusInfo } from './support/harness.js';

/**
 * Keys, hash fields and set / sorted-set members longer than a btree index
 * entry holds (util/indexed-names.ts: indexed by prefix and digest, kept
 * whole beside it) behave like any other name: binary-safe, cold and paged,
 * renamed, scanned and sorted, across restarts (every key is cold after one).
 */
const SIZES = [3 << 10, 64 << 10, 1 << 20];
/** below the filler members each collection gets: big collections are paged when cold */
const THRESHOLD = '4';

/** A binary name of `size` bytes: a tag, then every byte value (NUL, CR, LF, 0xff...). */
function longName(tag: string, size: number): Buffer {
  const b = Buffer.alloc(size);
  b.write(tag, 'latin1');
  for (let i = tag.length; i < size; i++) b[i] = (i * 131 + tag.length * 7) & 0xff;
  return b;
}

/** `size` bytes of the same prefix, then `tail`: long names the index cannot tell apart by their first bytes. */
function sharedPrefix(size: number, tail: string): Buffer {
  return Buffer.concat([Buffer.alloc(size - tail.length, 'p'), Buffer.from(tail)]);
}

const sortBuffers = (list: Buffer[]) => [...list].sort(Buffer.compare);
const hex = (list: Buffer[]) => list.map((b) => b.toString('hex'));

describe('long names', function () {
  this.timeout(300_000);
  const talus = restartable(['--paged-collection-threshold', THRESHOLD]);
  let r: Redis;
  const restart = async () => void (r = await talus.restart());

  before(restart);
  after(async () => {
    await talus.stop();
  });

  it('keys, fields and members of 3 KB, 64 KB and 1 MB in every family survive a restart, paged collections included', async () => {
    const filler = ['f1', 'f2', 'f3', 'f4', 'f5', 'f6'];
    for (const size of SIZES) {
      const k = (t: string) => longName(`${t}:${size}:`, size);
      const m = (t: string) => longName(`member ${t} ${size} `, size);
      await r.set(k('str'), m('value'));
      await r.hset(k('hash'), m('a'), 'va', m('b'), 'vb', ...filler.flatMap((f) => [f, f]));
      await r.rpush(k('list'), m('a'), 'x', m('b'));
      await r.sadd(k('set'), m('a'), m('b'), ...filler);
      await r.zadd(k('zset'), 1, m('a'), 2, m('b'), ...filler.flatMap((f, i) => [10 + i, f]));
    }
    await restart();
    for (const size of SIZES) {
      const k = (t: string) => longName(`${t}:${size}:`, size);
      const m = (t: string) => longName(`member ${t} ${size} `, size);
      expect((await r.getBuffer(k('str')))!.equals(m('value'))).to.equal(true);
      // cold paged collections: point reads by member
      expect(await r.hget(k('hash'), m('b'))).to.equal('vb');
      expect(await r.hget(k('hash'), longName('absent', size))).to.equal(null);
      expect(await r.sismember(k('set'), m('a'))).to.equal(1);
      expect(await r.smismember(k('set'), m('b'), longName('absent', size))).to.deep.equal([1, 0]);
      expect(await r.zscore(k('zset'), m('b'))).to.equal('2');
      expect(await r.zrank(k('zset'), m('b'))).to.equal(1);
      expect(hex(await r.zrangeBuffer(k('zset'), '0', '1'))).to.deep.equal(hex([m('a'), m('b')]));
      expect(hex(await r.zrangebyscoreBuffer(k('zset'), 1, 2))).to.deep.equal(hex([m('a'), m('b')]));
      expect(hex(await r.lrangeBuffer(k('list'), 0, -1))).to.deep.equal(hex([m('a'), Buffer.from('x'), m('b')]));
      // whole reads give the names back whole
      expect(hex(sortBuffers(await r.hkeysBuffer(k('hash'))))).to.deep.equal(hex(sortBuffers([m('a'), m('b'), ...filler.map((f) => Buffer.from(f))])));
      expect(hex(sortBuffers(await r.smembersBuffer(k('set'))))).to.deep.equal(hex(sortBuffers([m('a'), m('b'), ...filler.map((f) => Buffer.from(f))])));
    }
    // changes to long members of cold paged values: overwrite, delete
    const size = SIZES[1]!;
    const k = (t: string) => longName(`${t}:${size}:`, size);
    const m = (t: string) => longName(`member ${t} ${size} `, size);
    expect(await r.hset(k('hash'), m('a'), 'changed')).to.equal(0);
    expect(await r.hdel(k('hash'), m('b'))).to.equal(1);
    expect(await r.srem(k('set'), m('b'))).to.equal(1);
    expect(await r.zadd(k('zset'), 5, m('a'))).to.equal(0);
    expect(await r.zrem(k('zset'), m('b'))).to.equal(1);
    await restart();
    expect(await r.hget(k('hash'), m('a'))).to.equal('changed');
    expect(await r.hexists(k('hash'), m('b'))).to.equal(0);
    expect(await r.hlen(k('hash'))).to.equal(filler.length + 1);
    expect(await r.sismember(k('set'), m('b'))).to.equal(0);
    expect(await r.zscore(k('zset'), m('a'))).to.equal('5');
    expect(await r.zscore(k('zset'), m('b'))).to.equal(null);
    expect(await r.zcard(k('zset'))).to.equal(filler.length + 1);
    expect((await talusInfo(r)).flusher_failures).to.equal(0);
  });

  it('sorted-set members sharing a long prefix keep byte order among themselves and short members, paged and cold', async () => {
    const a = sharedPrefix(3000, 'a');
    const b = sharedPrefix(3000, 'b');
    const c = sharedPrefix(3000, 'c');
    const d = sharedPrefix(5000, 'd'); // same first 3000 bytes, longer
    const short = Buffer.alloc(2000, 'p'); // a prefix of all of them: below
    const shortAfter = Buffer.from('q'); // above
    const members = [a, b, c, d, short, shortAfter];
    const p = r.pipeline();
    for (const x of [c, a, d, b, short, shortAfter]) p.zadd('ties', 7, x);
    p.zadd('ties', 1, 'low', 9, 'high', 8, 'h1', 8, 'h2');
    for (const x of members) p.zadd('lex', 0, x);
    await p.exec();
    const expected = hex([Buffer.from('low'), ...sortBuffers(members)]);
    const ranks = async () => Promise.all(members.map(async (x) => r.zrank('ties', x)));
    const memoryRanks = await ranks();
    const memoryOrder = hex(await r.zrangeBuffer('ties', '0', '6'));
    expect(memoryOrder).to.deep.equal(expected);

    // cold and paged: ranks, rank windows cut through the run, score windows, lex order
    await restart();
    expect(await ranks()).to.deep.equal(memoryRanks);
    await restart();
    for (let lo = 0; lo <= 6; lo++) {
      for (let hi = lo; hi <= 6; hi++) {
        expect(hex(await r.zrangeBuffer('ties', String(lo), String(hi))), `ZRANGE ${lo} ${hi}`).to.deep.equal(expected.slice(lo, hi + 1));
      }
      await restart();
    }
    expect(hex(await r.zrevrangeBuffer('ties', 4, 6))).to.deep.equal(expected.slice(3, 6).reverse());
    await restart();
    expect(hex(await r.zrangebyscoreBuffer('ties', 7, 7, 'LIMIT', 2, 2))).to.deep.equal(expected.slice(3, 5));
    await restart();
    expect(hex(await r.zrevrangebyscoreBuffer('ties', 7, '-inf', 'LIMIT', 1, 3))).to.deep.equal(expected.slice(0, 7).reverse().slice(1, 4));
    await restart();
    const lex = await r.zrangebylexBuffer('lex', Buffer.concat([Buffer.from('['), short]), Buffer.concat([Buffer.from('('), shortAfter]));
    expect(hex(lex)).to.deep.equal(hex(sortBuffers([a, b, c, d, short])));
    expect((await talusInfo(r)).flusher_failures).to.equal(0);
  });

  it('long keys are renamed, moved, copied, scanned, sorted by and expired, cold', async () => {
    const key = (t: string) => longName(`key:${t}:`, 64 << 10);
    // pattern prefixes: no '*' or '->' inside
    const weightPrefix = Buffer.concat([Buffer.from('weight_'), Buffer.alloc(3000, 'w')]);
    const objectPrefix = Buffer.concat([Buffer.from('obj_'), Buffer.alloc(70_000, 'o')]);
    const sameStart = [sharedPrefix(3000, 'x1'), sharedPrefix(3000, 'x2'), Buffer.concat([sharedPrefix(3000, 'x3'), Buffer.alloc(67_000, 'z')])];
    await r.flushall();
    await r.set(key('a'), '1');
    await r.sadd(key('s'), 'm');
    await r.set(key('w'), '3');
    await r.set(key('copy'), 'c');
    for (const k of sameStart) await r.set(k, 'same');
    await r.set('short', 's');
    await r.rpush('ids', '1', '2');
    await r.set(Buffer.concat([weightPrefix, Buffer.from('1')]), '20');
    await r.set(Buffer.concat([weightPrefix, Buffer.from('2')]), '10');
    await r.set(Buffer.concat([objectPrefix, Buffer.from('1')]), 'one');
    await r.set(Buffer.concat([objectPrefix, Buffer.from('2')]), 'two');
    await r.set(key('ttl'), 'gone soon');
    await r.pexpire(key('ttl'), 1500);
    const live = [key('a'), key('s'), key('w'), key('copy'), ...sameStart, Buffer.from('short'), Buffer.from('ids'),
      Buffer.concat([weightPrefix, Buffer.from('1')]), Buffer.concat([weightPrefix, Buffer.from('2')]),
      Buffer.concat([objectPrefix, Buffer.from('1')]), Buffer.concat([objectPrefix, Buffer.from('2')])];

    // the complete db is scanned in memory: the same walk as PostgreSQL's, so a cursor works in both
    const scanAll = async (match?: Buffer, count = 3) => {
      const seen: Buffer[] = [];
      let cursor = '0';
      do {
        const [next, keys] = (match
          ? await r.callBuffer('SCAN', cursor, 'MATCH', match, 'COUNT', count)
          : await r.callBuffer('SCAN', cursor, 'COUNT', count)) as [Buffer, Buffer[]];
        cursor = next.toString();
        seen.push(...keys);
      } while (cursor !== '0');
      return hex(sortBuffers(seen));
    };
    const withoutTtl = hex(sortBuffers(live));
    const memoryScan = await scanAll();
    expect(memoryScan.filter((k) => k !== key('ttl').toString('hex'))).to.deep.equal(withoutTtl);

    await restart();
    // cold: KEYS and SCAN walk PostgreSQL
    const prefix = Buffer.alloc(2990, 'p');
    expect(hex(sortBuffers((await r.callBuffer('KEYS', Buffer.concat([prefix, Buffer.from('*')]))) as Buffer[]))).to.deep.equal(hex(sortBuffers(sameStart)));
    expect(await scanAll(Buffer.concat([sharedPrefix(2999, 'x'), Buffer.from('*')]), 1)).to.deep.equal(hex(sortBuffers(sameStart)));
    expect(await scanAll(Buffer.from('key:*'), 2)).to.deep.include.members(hex([key('a'), key('s'), key('w'), key('copy')]));
    // RANDOMKEY returns whole keys
    const random = await r.randomkeyBuffer();
    expect(hex(live).concat(key('ttl').toString('hex'))).to.include(random!.toString('hex'));

    // SORT BY and GET patterns naming long keys
    const byPattern = Buffer.concat([weightPrefix, Buffer.from('*')]);
    const getPattern = Buffer.concat([objectPrefix, Buffer.from('*')]);
    expect(await r.sort('ids', 'BY', byPattern as unknown as string, 'GET', getPattern as unknown as string)).to.deep.equal(['two', 'one']);

    // RENAME, MOVE, COPY of cold long keys to long keys
    expect(await r.rename(key('a'), key('renamed'))).to.equal('OK');
    expect(await r.move(key('s'), 3)).to.equal(1);
    expect(await r.copy(key('copy'), key('copied'))).to.equal(1);
    // active expiry of a cold key
    await new Promise((resolve) => setTimeout(resolve, 1600));
    for (let i = 0; i < 100 && (await r.dbsize()) > live.length; i++) await new Promise((resolve) => setTimeout(resolve, 100));
    expect(await r.dbsize()).to.equal(live.length); // one moved out, one copied, the TTL one expired
    await restart();
    expect(await r.exists(key('a'))).to.equal(0);
    expect(await r.get(key('renamed'))).to.equal('1');
    expect(await r.exists(key('s'))).to.equal(0);
    expect(await r.get(key('copy'))).to.equal('c');
    expect(await r.get(key('copied'))).to.equal('c');
    expect(await r.exists(key('ttl'))).to.equal(0);
    await r.select(3);
    expect(await r.smembers(key('s'))).to.deep.equal(['m']);
    expect(await r.flushdb()).to.equal('OK');
    await r.select(0);
    expect(await r.flushdb()).to.equal('OK');
    await restart();
    expect(await r.dbsize()).to.equal(0);
    await r.select(3);
    expect(await r.dbsize()).to.equal(0);
    expect((await talusInfo(r)).flusher_failures).to.equal(0);
  });
});
