import { expect } from 'chai';
import type { Redis } from 'ioredis';
import { freshDatabase, startTalus, useTalus, type TalusProcess } from './support/harness.js';
import { rawReplies } from './support/raw-resp.js';
import { ZSetValue } from '../src/keyspace/values/zset.js';
import { errorOf, WRONGTYPE } from './support/assert.js';

/**
 * The sorted set family against Redis 7.0 semantics: replies and error
 * strings, score formatting (%.17g, inf), lex and score ranges, RESP3 reply
 * shapes, blocking pops, and durability (restarts, cold keys evicted to
 * PostgreSQL and read back).
 */


const NOT_FLOAT = 'ERR value is not a valid float';
const RANGE_NOT_FLOAT = 'ERR min or max is not a float';
const LEX_ERR = 'ERR min or max not valid string range item';
const b = (s: string) => Buffer.from(s, 'latin1');
/** ZRANGE with any argument types (ioredis's typings want strings for some forms). */
const zrange = (r: Redis, ...args: Array<string | number>) => r.call('zrange', ...args.map(String)) as Promise<string[]>;

describe('sorted set value (ordered index)', () => {
  const rnd = (n: number) => Math.floor(Math.random() * n);

  it('keeps order, ranks and counts under random inserts, updates and removals', () => {
    for (const n of [10, 300, 4000]) {
      const z = new ZSetValue();
      const ref = new Map<string, number>();
      for (let i = 0; i < n * 6; i++) {
        const m = `m${rnd(n)}`;
        if (rnd(10) < 6) {
          const s = rnd(50) - 25 + (rnd(3) === 0 ? 0.5 : 0);
          z.set(m, s);
          ref.set(m, s);
        } else {
          z.remove(m);
          ref.delete(m);
        }
      }
      z.tree.verify();
      const want = [...ref].sort((x, y) => x[1] - y[1] || (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0));
      expect(z.slice(0, z.size)).to.deep.equal(want);
      for (let k = 0; k < 100 && want.length > 0; k++) {
        const i = rnd(want.length);
        expect(z.rank(want[i]![0])).to.equal(i);
        expect(z.at(i)).to.deep.equal(want[i]);
      }
      for (let k = 0; k < 20; k++) {
        const bound = rnd(50) - 25;
        expect(z.countWhile((s) => s < bound)).to.equal(want.filter(([, s]) => s < bound).length);
      }
      const rev: Array<[string, number]> = [];
      z.walk(z.size - 1, true, (m, s) => void rev.push([m, s]));
      expect(rev).to.deep.equal([...want].reverse());
      for (const [m] of want) z.remove(m);
      z.tree.verify();
      expect(z.size).to.equal(0);
    }
  });

  it('handles bulk appends and removals of every other member', () => {
    const z = new ZSetValue();
    for (let i = 0; i < 50_000; i++) z.set(`k${i}`, i);
    z.tree.verify();
    for (let i = 0; i < 50_000; i += 2) z.remove(`k${i}`);
    z.tree.verify();
    expect(z.size).to.equal(25_000);
    expect(z.rank('k4001')).to.equal(2000);
    expect(z.at(0)).to.deep.equal(['k1', 1]);
  });
});

describe('sorted sets', function () {
  this.timeout(60_000);
  let srv: TalusProcess;
  let r: Redis;

  useTalus([], (s, c) => {
    srv = s;
    r = c;
  });
  beforeEach(async () => {
    await r.del('z', 'z1', 'z2', 'z3', 's1', 'dst', 'str', 'nokey', 'big');
  });

  describe('ZADD / ZINCRBY', () => {
    it('adds, updates and counts', async () => {
      expect(await r.zadd('z', 1, 'a', 2, 'b', 3, 'c')).to.equal(3);
      expect(await r.zadd('z', 5, 'x', 20, 'b', 3, 'c')).to.equal(1);
      expect(await zrange(r, 'z', 0, -1, 'WITHSCORES')).to.deep.equal(['a', '1', 'c', '3', 'x', '5', 'b', '20']);
      expect(await r.zadd('z', 'CH', 10, 'a', 20, 'b', 30, 'new')).to.equal(2);
      expect(await r.zcard('z')).to.equal(5);
    });

    it('NX / XX / GT / LT / CH', async () => {
      await r.zadd('z', 10, 'x', 20, 'y', 30, 'z');
      expect(await r.zadd('z', 'NX', 11, 'x', 21, 'y', 100, 'a', 200, 'b')).to.equal(2);
      expect(await r.zscore('z', 'x')).to.equal('10');
      expect(await r.zadd('z', 'XX', 5, 'foo', 11, 'x')).to.equal(0);
      expect(await r.zscore('z', 'x')).to.equal('11');
      expect(await r.zscore('z', 'foo')).to.equal(null);
      expect(await r.zadd('z', 'GT', 'CH', 5, 'foo', 12, 'x', 19, 'y')).to.equal(2);
      expect(await r.zscore('z', 'y')).to.equal('20');
      expect(await r.zadd('z', 'LT', 'XX', 'CH', 1, 'x', 50, 'z', 1, 'nope')).to.equal(1);
      expect(await r.zscore('z', 'x')).to.equal('1');
      expect(await r.zadd('nokey', 'XX', 1, 'a')).to.equal(0);
      expect(await r.exists('nokey')).to.equal(0);
    });

    it('INCR and ZINCRBY reply with the new score, or nil when not applied', async () => {
      expect(await r.zincrby('z', 1.5, 'a')).to.equal('1.5');
      expect(await r.zincrby('z', -3, 'a')).to.equal('-1.5');
      expect(await r.zadd('z', 'INCR', 0.1, 'a')).to.equal('-1.3999999999999999');
      expect(await r.zadd('z', 'NX', 'INCR', 5, 'a')).to.equal(null);
      expect(await r.zadd('z', 'GT', 'INCR', -1, 'a')).to.equal(null);
      expect(await r.zadd('z', 'XX', 'INCR', 1, 'nope')).to.equal(null);
      expect(await r.zadd('nokey', 'XX', 'INCR', 1, 'a')).to.equal(null);
      await r.zadd('z', '+inf', 'i');
      expect(await r.zadd('z', 'LT', 'INCR', 1, 'i')).to.equal(null);
      expect(await r.zincrby('z', 1, 'i')).to.equal('inf');
      expect(await errorOf(r.zincrby('z', '-inf', 'i'))).to.equal('ERR resulting score is not a number (NaN)');
      expect(await r.zscore('z', 'i')).to.equal('inf');
    });

    it('errors', async () => {
      expect(await errorOf(r.zadd('z', 'XX', 'NX', 1, 'a'))).to.equal('ERR XX and NX options at the same time are not compatible');
      for (const opts of [['GT', 'LT'], ['GT', 'NX'], ['LT', 'NX']]) {
        expect(await errorOf(r.call('zadd', 'z', ...opts, '1', 'a'))).to.equal(
          'ERR GT, LT, and/or NX options at the same time are not compatible',
        );
      }
      expect(await errorOf(r.zadd('z', 'INCR', 1, 'a', 2, 'b'))).to.equal('ERR INCR option supports a single increment-element pair');
      expect(await errorOf(r.call('zadd', 'z', '1', 'a', '2'))).to.equal('ERR syntax error');
      expect(await errorOf(r.call('zadd', 'z', 'XX', '1'))).to.equal('ERR syntax error');
      expect(await errorOf(r.call('zadd', 'z', '1', 'a', '2x', 'b'))).to.equal(NOT_FLOAT);
      expect(await errorOf(r.call('zadd', 'z', 'nan', 'a'))).to.equal(NOT_FLOAT);
      expect(await errorOf(r.call('zadd', 'z', ' 1', 'a'))).to.equal(NOT_FLOAT);
      expect(await r.exists('z')).to.equal(0);
      expect(await errorOf(r.call('zincrby', 'z', 'x', 'a'))).to.equal(NOT_FLOAT);
      expect(await errorOf(r.call('zincrby', 'z', '1', 'a', '2'))).to.equal("ERR wrong number of arguments for 'zincrby' command");
      await r.set('str', 'x');
      expect(await errorOf(r.zadd('str', 1, 'a'))).to.equal(WRONGTYPE);
      expect(await errorOf(r.zincrby('str', 1, 'a'))).to.equal(WRONGTYPE);
    });

    it('formats scores like %.17g and accepts inf / hex / exponents', async () => {
      await r.call('zadd', 'z', '0.1', 'a', '1e17', 'b', '123456789012345678', 'c', '-inf', 'd', '+inf', 'e', '1.5e300', 'f', '0x10', 'g', '-0', 'h', '2.5E-5', 'i');
      expect(await r.zmscore('z', 'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'nope')).to.deep.equal([
        '0.10000000000000001', '1e+17', '1.2345678901234568e+17', '-inf', 'inf', '1.5000000000000001e+300', '16', '0', '2.5000000000000001e-05', null,
      ]);
      expect(await r.zmscore('nokey', 'a', 'b')).to.deep.equal([null, null]);
      expect(await errorOf(r.call('zmscore', 'z'))).to.equal("ERR wrong number of arguments for 'zmscore' command");
    });
  });

  describe('reads', () => {
    beforeEach(async () => {
      await r.zadd('z', 1, 'a', 2, 'b', 3, 'c', 4, 'd', 5, 'e');
    });

    it('ZCARD ZSCORE ZRANK ZREVRANK', async () => {
      expect(await r.zcard('z')).to.equal(5);
      expect(await r.zcard('nokey')).to.equal(0);
      expect(await r.zscore('z', 'c')).to.equal('3');
      expect(await r.zscore('nokey', 'c')).to.equal(null);
      expect(await r.zrank('z', 'a')).to.equal(0);
      expect(await r.zrank('z', 'e')).to.equal(4);
      expect(await r.zrevrank('z', 'a')).to.equal(4);
      expect(await r.zrank('z', 'nope')).to.equal(null);
      expect(await r.zrevrank('nokey', 'a')).to.equal(null);
      expect(await errorOf(r.call('zrank', 'z', 'a', 'WITHSCORE'))).to.equal("ERR wrong number of arguments for 'zrank' command");
    });

    it('ZCOUNT and ZLEXCOUNT', async () => {
      expect(await r.zcount('z', '-inf', '+inf')).to.equal(5);
      expect(await r.zcount('z', '(1', '3')).to.equal(2);
      expect(await r.zcount('z', '(1', '(3')).to.equal(1);
      expect(await r.zcount('z', 3, 1)).to.equal(0);
      expect(await r.zcount('nokey', 0, 1)).to.equal(0);
      expect(await errorOf(r.zcount('z', 'a', 1))).to.equal(RANGE_NOT_FLOAT);
      expect(await errorOf(r.zcount('z', 'nan', 1))).to.equal(RANGE_NOT_FLOAT);
      await r.zadd('z1', 0, 'a', 0, 'b', 0, 'c', 0, 'd');
      expect(await r.zlexcount('z1', '-', '+')).to.equal(4);
      expect(await r.zlexcount('z1', '[b', '(d')).to.equal(2);
      expect(await r.zlexcount('z1', '(b', '+')).to.equal(2);
      expect(await r.zlexcount('z1', '+', '-')).to.equal(0);
      expect(await r.zlexcount('z1', '-', '-')).to.equal(0);
      expect(await errorOf(r.zlexcount('z1', 'a', '+'))).to.equal(LEX_ERR);
      expect(await errorOf(r.zlexcount('z1', '-x', '+'))).to.equal(LEX_ERR);
    });

    it('ZRANGE by rank, REV, WITHSCORES', async () => {
      expect(await zrange(r, 'z', 0, -1)).to.deep.equal(['a', 'b', 'c', 'd', 'e']);
      expect(await zrange(r, 'z', -2, -1, 'WITHSCORES')).to.deep.equal(['d', '4', 'e', '5']);
      expect(await zrange(r, 'z', 0, 1, 'REV', 'WITHSCORES')).to.deep.equal(['e', '5', 'd', '4']);
      expect(await zrange(r, 'z', 3, 1)).to.deep.equal([]);
      expect(await zrange(r, 'z', 2, 100)).to.deep.equal(['c', 'd', 'e']);
      expect(await zrange(r, 'z', -100, 0)).to.deep.equal(['a']);
      expect(await r.call('zrange', 'z', '0', '9223372036854775807')).to.deep.equal(['a', 'b', 'c', 'd', 'e']);
      expect(await r.zrevrange('z', 0, 1, 'WITHSCORES')).to.deep.equal(['e', '5', 'd', '4']);
      expect(await r.zrevrange('z', 1, -2)).to.deep.equal(['d', 'c', 'b']);
      expect(await zrange(r, 'nokey', 0, -1)).to.deep.equal([]);
      expect(await errorOf(r.call('zrange', 'z', 'a', '1'))).to.equal('ERR value is not an integer or out of range');
      expect(await errorOf(r.call('zrange', 'z', '0', '1', 'LIMIT', '0', '1'))).to.equal(
        'ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX',
      );
      expect(await errorOf(r.call('zrange', 'z', '-', '+', 'BYLEX', 'WITHSCORES'))).to.equal(
        'ERR syntax error, WITHSCORES not supported in combination with BYLEX',
      );
      expect(await errorOf(r.call('zrange', 'z', '0', '1', 'BYSCORE', 'BYLEX'))).to.equal('ERR syntax error');
      expect(await errorOf(r.call('zrange', 'z', '0', '1', 'REV', 'REV'))).to.equal('ERR syntax error');
      expect(await errorOf(r.call('zrevrange', 'z', '0', '1', 'REV'))).to.equal('ERR syntax error');
      expect(await errorOf(r.call('zrange', 'z', '0', '1', 'LIMIT', '0'))).to.equal('ERR syntax error');
    });

    it('ZRANGE BYSCORE / ZRANGEBYSCORE / ZREVRANGEBYSCORE with LIMIT', async () => {
      expect(await zrange(r, 'z', '(2', '+inf', 'BYSCORE', 'WITHSCORES')).to.deep.equal(['c', '3', 'd', '4', 'e', '5']);
      expect(await zrange(r, 'z', '+inf', '-inf', 'BYSCORE', 'REV', 'LIMIT', 1, 2)).to.deep.equal(['d', 'c']);
      expect(await r.zrangebyscore('z', 2, 4)).to.deep.equal(['b', 'c', 'd']);
      expect(await r.zrangebyscore('z', '(2', '(4')).to.deep.equal(['c']);
      expect(await r.zrangebyscore('z', '-inf', '+inf', 'WITHSCORES', 'LIMIT', 1, 2)).to.deep.equal(['b', '2', 'c', '3']);
      expect(await r.zrangebyscore('z', '-inf', '+inf', 'LIMIT', 3, -1)).to.deep.equal(['d', 'e']);
      expect(await r.zrangebyscore('z', '-inf', '+inf', 'LIMIT', -1, 2)).to.deep.equal([]);
      expect(await r.zrangebyscore('z', '-inf', '+inf', 'LIMIT', 0, 0)).to.deep.equal([]);
      expect(await r.zrevrangebyscore('z', 4, 2, 'WITHSCORES')).to.deep.equal(['d', '4', 'c', '3', 'b', '2']);
      expect(await r.zrevrangebyscore('z', '+inf', '-inf', 'LIMIT', 1, 1)).to.deep.equal(['d']);
      expect(await r.zrangebyscore('z', 4, 2)).to.deep.equal([]);
      // bounds parse like strtod: whitespace before, exponents, overflow to inf
      expect(await r.zrangebyscore('z', ' 4', '1e400')).to.deep.equal(['d', 'e']);
      expect(await r.zrangebyscore('z', '(', '1')).to.deep.equal(['a']);
      expect(await errorOf(r.zrangebyscore('z', '1 ', 5))).to.equal(RANGE_NOT_FLOAT);
      expect(await errorOf(r.zrangebyscore('z', 'nan', 5))).to.equal(RANGE_NOT_FLOAT);
      expect(await errorOf(zrange(r, 'z', 'x', 1, 'BYSCORE'))).to.equal(RANGE_NOT_FLOAT);
      expect(await errorOf(r.call('zrangebyscore', 'z', '0', '1', 'BYLEX'))).to.equal('ERR syntax error');
    });

    it('lex ranges: ZRANGE BYLEX / ZRANGEBYLEX / ZREVRANGEBYLEX', async () => {
      await r.zadd('z1', 0, 'alpha', 0, 'bar', 0, 'cool', 0, 'down', 0, 'elephant', 0, 'foo', 0, 'great');
      expect(await r.zrangebylex('z1', '-', '+')).to.deep.equal(['alpha', 'bar', 'cool', 'down', 'elephant', 'foo', 'great']);
      expect(await r.zrangebylex('z1', '[bar', '(down')).to.deep.equal(['bar', 'cool']);
      expect(await r.zrangebylex('z1', '(bar', '[down')).to.deep.equal(['cool', 'down']);
      expect(await r.zrangebylex('z1', '[c', '[e')).to.deep.equal(['cool', 'down']);
      expect(await r.zrangebylex('z1', '-', '+', 'LIMIT', 2, 3)).to.deep.equal(['cool', 'down', 'elephant']);
      expect(await r.zrevrangebylex('z1', '[down', '(bar')).to.deep.equal(['down', 'cool']);
      expect(await r.zrevrangebylex('z1', '+', '-', 'LIMIT', 1, 2)).to.deep.equal(['foo', 'elephant']);
      expect(await zrange(r, 'z1', '[foo', '-', 'BYLEX', 'REV')).to.deep.equal(['foo', 'elephant', 'down', 'cool', 'bar', 'alpha']);
      expect(await r.zrangebylex('z1', '+', '-')).to.deep.equal([]);
      expect(await r.zrangebylex('z1', '[', '(a')).to.deep.equal([]);
      expect(await errorOf(r.zrangebylex('z1', 'bar', '+'))).to.equal(LEX_ERR);
      expect(await errorOf(r.zrangebylex('z1', '-', '++'))).to.equal(LEX_ERR);
      expect(await errorOf(r.call('zrangebylex', 'z1', '-', '+', 'WITHSCORES'))).to.equal(
        'ERR syntax error, WITHSCORES not supported in combination with BYLEX',
      );
      // binary members compare as bytes
      await r.zadd(b('z2'), 0, b('\x00'), 0, b('\xff'), 0, b('a'));
      expect(await r.zrangebylexBuffer(b('z2'), '-', '+')).to.deep.equal([b('\x00'), b('a'), b('\xff')]);
      expect(await r.zrangebylexBuffer(b('z2'), b('(a'), '+')).to.deep.equal([b('\xff')]);
    });

    it('WRONGTYPE on every read', async () => {
      await r.set('str', 'x');
      for (const cmd of [
        ['zcard', 'str'], ['zscore', 'str', 'a'], ['zrange', 'str', '0', '-1'], ['zrangebyscore', 'str', '0', '1'],
        ['zrank', 'str', 'a'], ['zcount', 'str', '0', '1'], ['zlexcount', 'str', '-', '+'], ['zmscore', 'str', 'a'],
        ['zrandmember', 'str'], ['zscan', 'str', '0'], ['zunion', '1', 'str'], ['zintercard', '1', 'str'],
      ]) {
        expect(await errorOf(r.call(cmd[0]!, ...cmd.slice(1))), cmd.join(' ')).to.equal(WRONGTYPE);
      }
    });
  });

  describe('writes and removals', () => {
    it('ZREM deletes the key when it empties', async () => {
      await r.zadd('z', 1, 'a', 2, 'b', 3, 'c');
      expect(await r.zrem('z', 'a', 'x', 'a')).to.equal(1);
      expect(await r.zrem('z', 'b', 'c', 'd')).to.equal(2);
      expect(await r.exists('z')).to.equal(0);
      expect(await r.zrem('nokey', 'a')).to.equal(0);
    });

    it('ZREMRANGEBYRANK / BYSCORE / BYLEX', async () => {
      await r.zadd('z', 1, 'a', 2, 'b', 3, 'c', 4, 'd', 5, 'e');
      expect(await r.zremrangebyrank('z', 1, -2)).to.equal(3);
      expect(await zrange(r, 'z', 0, -1)).to.deep.equal(['a', 'e']);
      expect(await r.zremrangebyrank('z', 5, 10)).to.equal(0);
      expect(await r.zremrangebyscore('z', '(1', '+inf')).to.equal(1);
      expect(await r.zremrangebyscore('z', '-inf', 1)).to.equal(1);
      expect(await r.exists('z')).to.equal(0);
      await r.zadd('z', 0, 'a', 0, 'b', 0, 'c', 0, 'd');
      expect(await r.zremrangebylex('z', '[b', '(d')).to.equal(2);
      expect(await zrange(r, 'z', 0, -1)).to.deep.equal(['a', 'd']);
      expect(await errorOf(r.zremrangebyscore('z', 'x', 1))).to.equal(RANGE_NOT_FLOAT);
      expect(await errorOf(r.zremrangebylex('z', 'x', '+'))).to.equal(LEX_ERR);
      expect(await errorOf(r.zremrangebyrank('z', 'x', 1))).to.equal('ERR value is not an integer or out of range');
      expect(await r.zremrangebyrank('nokey', 0, -1)).to.equal(0);
    });

    it('ZPOPMIN / ZPOPMAX', async () => {
      await r.zadd('z', 1, 'a', 2, 'b', 3, 'c', 4, 'd', 5, 'e');
      expect(await r.zpopmin('z')).to.deep.equal(['a', '1']);
      expect(await r.zpopmax('z', 2)).to.deep.equal(['e', '5', 'd', '4']);
      expect(await r.zpopmin('z', 0)).to.deep.equal([]);
      expect(await errorOf(r.zpopmin('z', -1))).to.equal('ERR value is out of range, must be positive');
      expect(await errorOf(r.call('zpopmin', 'z', '1', '2'))).to.equal('ERR syntax error');
      expect(await r.zpopmin('z', 10)).to.deep.equal(['b', '2', 'c', '3']);
      expect(await r.exists('z')).to.equal(0);
      expect(await r.zpopmin('nokey')).to.deep.equal([]);
    });

    it('ZMPOP', async () => {
      await r.zadd('z2', 1, 'a', 2, 'b', 3, 'c');
      expect(await r.call('zmpop', '2', 'nokey', 'z2', 'MIN')).to.deep.equal(['z2', [['a', '1']]]);
      expect(await r.call('zmpop', '1', 'z2', 'MAX', 'COUNT', '10')).to.deep.equal(['z2', [['c', '3'], ['b', '2']]]);
      expect(await r.exists('z2')).to.equal(0);
      expect(await r.call('zmpop', '1', 'z2', 'MIN')).to.equal(null);
      expect(await errorOf(r.call('zmpop', '0', 'z2', 'MIN'))).to.equal('ERR numkeys should be greater than 0');
      expect(await errorOf(r.call('zmpop', '1', 'z2', 'FOO'))).to.equal('ERR syntax error');
      expect(await errorOf(r.call('zmpop', '2', 'z2', 'MIN'))).to.equal('ERR syntax error');
      expect(await errorOf(r.call('zmpop', '1', 'z2', 'MIN', 'COUNT', '0'))).to.equal('ERR count should be greater than 0');
      expect(await errorOf(r.call('zmpop', '1', 'z2', 'MIN', 'COUNT', '1', 'COUNT', '1'))).to.equal('ERR syntax error');
    });

    it('ZRANGESTORE', async () => {
      await r.zadd('z', 1, 'a', 2, 'b', 3, 'c', 4, 'd');
      expect(await r.zrangestore('dst', 'z', 0, 1)).to.equal(2);
      expect(await zrange(r, 'dst', 0, -1, 'WITHSCORES')).to.deep.equal(['a', '1', 'b', '2']);
      expect(await r.call('zrangestore', 'dst', 'z', '(1', '+inf', 'BYSCORE', 'LIMIT', '1', '1')).to.equal(1);
      expect(await zrange(r, 'dst', 0, -1)).to.deep.equal(['c']);
      expect(await r.call('zrangestore', 'dst', 'z', '+inf', '-inf', 'BYSCORE', 'REV', 'LIMIT', '0', '2')).to.equal(2);
      expect(await zrange(r, 'dst', 0, -1)).to.deep.equal(['c', 'd']);
      expect(await r.zrangestore('dst', 'nokey', 0, -1)).to.equal(0);
      expect(await r.exists('dst')).to.equal(0);
      expect(await errorOf(r.call('zrangestore', 'dst', 'z', '0', '-1', 'WITHSCORES'))).to.equal('ERR syntax error');
      await r.set('str', 'x');
      expect(await errorOf(r.zrangestore('dst', 'str', 0, -1))).to.equal(WRONGTYPE);
      // the destination is replaced whatever its type
      expect(await r.zrangestore('str', 'z', 0, 0)).to.equal(1);
      expect(await r.type('str')).to.equal('zset');
    });
  });

  describe('ZUNION / ZINTER / ZDIFF / *STORE / ZINTERCARD', () => {
    beforeEach(async () => {
      await r.zadd('z1', 1, 'a', 2, 'b', 3, 'c');
      await r.zadd('z2', 10, 'b', 20, 'c', 30, 'd');
      await r.sadd('s1', 'c', 'd', 'e');
    });

    it('computes with weights, aggregates and plain sets', async () => {
      expect(await r.zunion(2, 'z1', 'z2', 'WITHSCORES')).to.deep.equal(['a', '1', 'b', '12', 'c', '23', 'd', '30']);
      expect(await r.zunion(3, 'z1', 'z2', 's1', 'WITHSCORES')).to.deep.equal(['a', '1', 'e', '1', 'b', '12', 'c', '24', 'd', '31']);
      expect(await r.zinter(2, 'z1', 'z2', 'WITHSCORES')).to.deep.equal(['b', '12', 'c', '23']);
      expect(await r.zinter(3, 'z1', 'z2', 's1', 'WITHSCORES')).to.deep.equal(['c', '24']);
      expect(await r.zinter(2, 'z1', 'z2', 'WEIGHTS', 2, 3, 'WITHSCORES')).to.deep.equal(['b', '34', 'c', '66']);
      expect(await r.zinter(2, 'z1', 'z2', 'AGGREGATE', 'MIN', 'WITHSCORES')).to.deep.equal(['b', '2', 'c', '3']);
      expect(await r.zunion(2, 'z1', 'z2', 'AGGREGATE', 'MAX')).to.deep.equal(['a', 'b', 'c', 'd']);
      expect(await r.zdiff(2, 'z1', 'z2', 'WITHSCORES')).to.deep.equal(['a', '1']);
      expect(await r.zdiff(2, 'z2', 's1', 'WITHSCORES')).to.deep.equal(['b', '10']);
      expect(await r.zunion(2, 'nokey', 'z1')).to.deep.equal(['a', 'b', 'c']);
      expect(await r.zinter(2, 'nokey', 'z1')).to.deep.equal([]);
      expect(await r.zintercard(2, 'z1', 'z2')).to.equal(2);
      expect(await r.zintercard(2, 'z1', 'z2', 'LIMIT', 1)).to.equal(1);
      expect(await r.zintercard(3, 'z1', 'z2', 's1')).to.equal(1);
    });

    it('inf and NaN handling', async () => {
      await r.zadd('z3', '+inf', 'a', '-inf', 'b');
      await r.zadd('dst', '-inf', 'a', '+inf', 'b');
      expect(await r.zunion(2, 'z3', 'dst', 'WITHSCORES')).to.deep.equal(['a', '0', 'b', '0']);
      expect(await r.zunion(1, 'z3', 'WEIGHTS', 0, 'WITHSCORES')).to.deep.equal(['a', '0', 'b', '0']);
      expect(await r.zinter(2, 'z3', 'z3', 'WEIGHTS', 1, 0, 'WITHSCORES')).to.deep.equal(['a', '0', 'b', '0']);
    });

    it('stores, replacing or deleting the destination', async () => {
      expect(await r.zunionstore('dst', 2, 'z1', 'z2')).to.equal(4);
      expect(await zrange(r, 'dst', 0, -1, 'WITHSCORES')).to.deep.equal(['a', '1', 'b', '12', 'c', '23', 'd', '30']);
      expect(await r.zinterstore('dst', 2, 'z1', 'z2', 'WEIGHTS', 1, 0)).to.equal(2);
      expect(await zrange(r, 'dst', 0, -1, 'WITHSCORES')).to.deep.equal(['b', '2', 'c', '3']);
      expect(await r.zdiffstore('dst', 2, 'z1', 'z1')).to.equal(0);
      expect(await r.exists('dst')).to.equal(0);
      expect(await r.zunionstore('z1', 2, 'z1', 's1')).to.equal(5);
      expect(await zrange(r, 'z1', 0, -1, 'WITHSCORES')).to.deep.equal(['a', '1', 'd', '1', 'e', '1', 'b', '2', 'c', '4']);
    });

    it('errors', async () => {
      expect(await errorOf(r.call('zunionstore', 'dst', '0', 'z1'))).to.equal("ERR at least 1 input key is needed for 'zunionstore' command");
      expect(await errorOf(r.call('zinter', '0', 'z1'))).to.equal("ERR at least 1 input key is needed for 'zinter' command");
      expect(await errorOf(r.call('zunionstore', 'dst', 'x', 'z1'))).to.equal('ERR value is not an integer or out of range');
      expect(await errorOf(r.call('zunionstore', 'dst', '3', 'z1', 'z2'))).to.equal('ERR syntax error');
      expect(await errorOf(r.call('zunion', '1', 'z1', 'WEIGHTS'))).to.equal('ERR syntax error');
      expect(await errorOf(r.call('zunion', '1', 'z1', 'WEIGHTS', 'x'))).to.equal('ERR weight value is not a float');
      expect(await errorOf(r.call('zunion', '1', 'z1', 'AGGREGATE', 'avg'))).to.equal('ERR syntax error');
      expect(await errorOf(r.call('zdiff', '1', 'z1', 'WEIGHTS', '1'))).to.equal('ERR syntax error');
      expect(await errorOf(r.call('zunionstore', 'dst', '1', 'z1', 'WITHSCORES'))).to.equal('ERR syntax error');
      expect(await errorOf(r.call('zintercard', '0', 'z1'))).to.equal("ERR at least 1 input key is needed for 'zintercard' command");
      expect(await errorOf(r.call('zintercard', '1', 'z1', 'LIMIT', '-1'))).to.equal("ERR LIMIT can't be negative");
      expect(await errorOf(r.call('zintercard', '1', 'z1', 'WITHSCORES'))).to.equal('ERR syntax error');
      await r.set('str', 'x');
      expect(await errorOf(r.zunionstore('dst', 2, 'z1', 'str'))).to.equal(WRONGTYPE);
    });
  });

  describe('ZRANDMEMBER / ZSCAN', () => {
    it('ZRANDMEMBER', async () => {
      await r.zadd('z', 1, 'a', 2, 'b', 3, 'c');
      expect(['a', 'b', 'c']).to.include(await r.zrandmember('z'));
      expect(await r.zrandmember('nokey')).to.equal(null);
      expect(await r.zrandmember('nokey', 5)).to.deep.equal([]);
      expect(await r.zrandmember('z', 0)).to.deep.equal([]);
      expect([...((await r.zrandmember('z', 10)) as string[])].sort()).to.deep.equal(['a', 'b', 'c']);
      const two = (await r.zrandmember('z', 2)) as string[];
      expect(new Set(two).size).to.equal(2);
      const many = (await r.zrandmember('z', -20)) as string[];
      expect(many).to.have.length(20);
      const ws = (await r.zrandmember('z', -5, 'WITHSCORES')) as string[];
      expect(ws).to.have.length(10);
      for (let i = 0; i < ws.length; i += 2) expect(await r.zscore('z', ws[i]!)).to.equal(ws[i + 1]);
      expect(await errorOf(r.call('zrandmember', 'z', '1', 'foo'))).to.equal('ERR syntax error');
      expect(await errorOf(r.call('zrandmember', 'z', 'x'))).to.equal('ERR value is not an integer or out of range');
      expect(await errorOf(r.call('zrandmember', 'z', '-9223372036854775807', 'WITHSCORES'))).to.equal('ERR value is out of range');
    });

    it('ZSCAN returns every member with its score', async () => {
      await r.zadd('z', 1, 'a', 2.5, 'b', '1e17', 'c');
      expect(await r.zscan('z', 0)).to.deep.equal(['0', ['a', '1', 'b', '2.5', 'c', '100000000000000000']]);
      expect(await r.zscan('nokey', 0)).to.deep.equal(['0', []]);
      expect(await errorOf(r.zscan('z', 'x'))).to.equal('ERR invalid cursor');
      const members: string[] = [];
      for (let i = 0; i < 1000; i += 100) {
        await r.zadd('big', ...Array.from({ length: 100 }, (_, k) => [i + k, `m${i + k}`]).flat());
      }
      let cursor = '0';
      const seen = new Map<string, string>();
      do {
        const [next, items] = await r.zscan('big', cursor, 'COUNT', 50);
        for (let k = 0; k < items.length; k += 2) seen.set(items[k]!, items[k + 1]!);
        cursor = next;
      } while (cursor !== '0');
      expect(seen.size).to.equal(1000);
      expect(seen.get('m999')).to.equal('999');
      const [, matched] = await r.zscan('big', 0, 'MATCH', 'm99*', 'COUNT', 5000);
      expect(matched).to.have.length(22);
      members.length = 0;
    });
  });

  describe('RESP3 shapes', () => {
    it('doubles and nested pairs', async () => {
      await r.zadd('z', 1, 'a', 2.5, 'b');
      await r.zadd('z1', 1, 'x');
      const replies = await rawReplies(srv.port, [
        ['HELLO', '3'],
        ['ZSCORE', 'z', 'b'],
        ['ZRANGE', 'z', '0', '-1', 'WITHSCORES'],
        ['ZRANGE', 'z', '0', '-1'],
        ['ZINCRBY', 'z', '1', 'a'],
        ['ZPOPMIN', 'z1'],
        ['ZADD', 'z1', '1', 'x'],
        ['ZPOPMIN', 'z1', '1'],
        ['ZMSCORE', 'z', 'a', 'nope'],
        ['ZUNION', '1', 'z', 'WITHSCORES'],
        ['ZADD', 'z3', 'inf', 'i'],
        ['ZSCORE', 'z3', 'i'],
        ['ZMPOP', '1', 'nokey', 'MIN'],
        ['ZRANDMEMBER', 'z3', '1', 'WITHSCORES'],
      ]);
      const text = replies.slice(1).map((x) => x.toString('latin1'));
      expect(text).to.deep.equal([
        ',2.5\r\n',
        '*2\r\n*2\r\n$1\r\na\r\n,1\r\n*2\r\n$1\r\nb\r\n,2.5\r\n',
        '*2\r\n$1\r\na\r\n$1\r\nb\r\n',
        ',2\r\n',
        '*2\r\n$1\r\nx\r\n,1\r\n',
        ':1\r\n',
        '*1\r\n*2\r\n$1\r\nx\r\n,1\r\n',
        '*2\r\n,2\r\n_\r\n',
        '*2\r\n*2\r\n$1\r\na\r\n,2\r\n*2\r\n$1\r\nb\r\n,2.5\r\n',
        ':1\r\n',
        ',inf\r\n',
        '_\r\n',
        '*1\r\n*2\r\n$1\r\ni\r\n,inf\r\n',
      ]);
      await r.del('z3');
    });
  });

  describe('blocking pops', () => {
    it('BZPOPMIN / BZPOPMAX serve at once or when a member arrives', async () => {
      await r.zadd('z', 1, 'a', 2, 'b');
      expect(await r.bzpopmin('nokey', 'z', 0)).to.deep.equal(['z', 'a', '1']);
      expect(await r.bzpopmax('z', 0)).to.deep.equal(['z', 'b', '2']);
      const waiter = srv.client();
      const p = waiter.bzpopmax('z1', 'z2', 5);
      await new Promise((res) => setTimeout(res, 100));
      await r.zadd('z2', 7, 'x', 8, 'y');
      expect(await p).to.deep.equal(['z2', 'y', '8']);
      expect(await zrange(r, 'z2', 0, -1)).to.deep.equal(['x']);
      expect(await waiter.bzpopmin('nokey', 0.05)).to.equal(null);
      await r.set('str', 'x');
      expect(await errorOf(r.bzpopmin('str', 0))).to.equal(WRONGTYPE);
      expect(await errorOf(r.bzpopmin('z', -1))).to.equal('ERR timeout is negative');
      expect(await errorOf(r.bzpopmin('z', 'x'))).to.equal('ERR timeout is not a float or out of range');
      waiter.disconnect();
    });

    it('BZMPOP', async () => {
      const waiter = srv.client();
      const p = waiter.call('bzmpop', '5', '2', 'z1', 'z2', 'MIN', 'COUNT', '2');
      await new Promise((res) => setTimeout(res, 100));
      await r.zunionstore('z1', 1, 'nokey');
      await r.zadd('z1', 3, 'c', 1, 'a', 2, 'b');
      expect(await p).to.deep.equal(['z1', [['a', '1'], ['b', '2']]]);
      expect(await r.call('bzmpop', '0.01', '1', 'nokey', 'MAX')).to.equal(null);
      expect(await r.call('bzmpop', '0', '1', 'z1', 'MAX')).to.deep.equal(['z1', [['c', '3']]]);
      expect(await errorOf(r.call('bzmpop', '0', '0', 'z1', 'MAX'))).to.equal('ERR numkeys should be greater than 0');
      waiter.disconnect();
    });

    it('inside MULTI a blocking pop does not block', async () => {
      const res = await r.multi().bzpopmin('nokey', 0).call('bzmpop', '0', '1', 'nokey', 'MIN').exec();
      expect(res).to.deep.equal([[null, null], [null, null]]);
    });
  });

  describe('bigger sets', () => {
    it('ranks, ranges and removals on 20000 members agree with a model', async () => {
      const n = 20_000;
      const scores = Array.from({ length: n }, (_, i) => (i * 7919) % 1000);
      for (let i = 0; i < n; i += 1000) {
        const args: Array<string | number> = [];
        for (let k = i; k < i + 1000; k++) args.push(scores[k]!, `m${k}`);
        await r.zadd('big', ...args);
      }
      const model = scores.map((s, i) => [`m${i}`, s] as [string, number]);
      model.sort((x, y) => x[1] - y[1] || (x[0] < y[0] ? -1 : 1));
      expect(await r.zcard('big')).to.equal(n);
      for (const i of [0, 1, 999, 10_000, n - 1]) {
        expect(await r.zrank('big', model[i]![0])).to.equal(i);
        expect(await r.zrevrank('big', model[i]![0])).to.equal(n - 1 - i);
      }
      expect(await zrange(r, 'big', 5000, 5004)).to.deep.equal(model.slice(5000, 5005).map(([m]) => m));
      expect(await r.zcount('big', 100, '(200')).to.equal(model.filter(([, s]) => s >= 100 && s < 200).length);
      expect(await r.zremrangebyscore('big', 0, 499)).to.equal(model.filter(([, s]) => s <= 499).length);
      const rest = model.filter(([, s]) => s > 499);
      expect(await zrange(r, 'big', 0, 2)).to.deep.equal(rest.slice(0, 3).map(([m]) => m));
      expect(await r.zrank('big', rest[rest.length - 1]![0])).to.equal(rest.length - 1);
    });
  });
});

describe('sorted sets durability', function () {
  this.timeout(120_000);
  let srv: TalusProcess | undefined;
  afterEach(async () => {
    await srv?.stop();
    srv = undefined;
  });

  const bin = Buffer.from([0, 255, 13, 10, 7]);

  it('survives a restart: scores (inf, fractions), removals, pops, stores, binary members', async () => {
    const url = await freshDatabase();
    srv = await startTalus([], { databaseUrl: url });
    let r = srv.client();
    const args: Array<string | number> = [];
    for (let i = 0; i < 500; i++) args.push(i / 4, `m${i}`);
    await r.zadd('z', ...args);
    await r.zadd('z', '+inf', 'top', '-inf', 'bottom', '0.1', 'tenth', '-0', 'negzero');
    await r.zrem('z', 'm0', 'm1');
    await r.zincrby('z', 1000, 'm2');
    await r.zpopmax('z');
    await r.zadd(b('bin'), 1, bin, 2, 'plain');
    await r.zadd('other', 5, 'm10', 6, 'x');
    await r.zunionstore('union', 2, 'z', 'other', 'AGGREGATE', 'MAX');
    await r.zrangestore('top3', 'z', 0, 2);
    await r.zadd('gone', 1, 'a');
    await r.zpopmin('gone');
    await r.zremrangebyrank('z', 100, 109);
    await srv.stop();

    srv = await startTalus([], { databaseUrl: url });
    r = srv.client();
    expect(await r.zcard('z')).to.equal(500 + 4 - 2 - 1 - 10);
    expect(await r.zscore('z', 'm2')).to.equal('1000.5');
    expect(await r.zscore('z', 'top')).to.equal(null);
    expect(await r.zscore('z', 'bottom')).to.equal('-inf');
    expect(await r.zscore('z', 'tenth')).to.equal('0.10000000000000001');
    // 500+ members: Redis holds a skiplist, which keeps -0 (and so does its RDB reload)
    expect(await r.zscore('z', 'negzero')).to.equal('-0');
    expect(await zrange(r, 'z', 0, 2, 'WITHSCORES')).to.deep.equal(['bottom', '-inf', 'negzero', '-0', 'tenth', '0.10000000000000001']);
    expect(await r.zscore(b('bin'), bin)).to.equal('1');
    expect(await r.zrangeBuffer(b('bin'), '0', '0')).to.deep.equal([bin]);
    expect(await r.zscore('union', 'm10')).to.equal('5');
    expect(await r.zscore('union', 'x')).to.equal('6');
    expect(await zrange(r, 'top3', 0, -1)).to.deep.equal(['bottom', 'negzero', 'tenth']);
    expect(await r.exists('gone')).to.equal(0);
    // changes after a reload are written incrementally
    await r.zadd('z', 99, 'm3');
    await r.zrem('z', 'm4');
    await srv.stop();

    srv = await startTalus([], { databaseUrl: url });
    r = srv.client();
    expect(await r.zscore('z', 'm3')).to.equal('99');
    expect(await r.zscore('z', 'm4')).to.equal(null);
    expect(await r.zcard('z')).to.equal(490);
  });

  it('cold keys (evicted under maxmemory 1mb) read back and modify correctly', async () => {
    const url = await freshDatabase();
    srv = await startTalus(['--maxmemory', '1mb'], { databaseUrl: url });
    let r = srv.client();
    for (let k = 0; k < 20; k++) {
      const args: Array<string | number> = [];
      for (let i = 0; i < 50; i++) args.push(i, `m${k}_${i}`);
      await r.zadd(`zs${k}`, ...args);
    }
    await r.sadd('plainset', 'm3_1', 'extra');
    const filler = 'x'.repeat(4000);
    const fill = async (tag: string) => {
      for (let i = 0; i < 1000; i += 100) {
        const p = r.pipeline();
        for (let j = i; j < i + 100; j++) p.set(`filler${j}`, filler + tag);
        await p.exec();
      }
    };
    await fill('a');
    const info = await r.info('stats');
    expect(Number(/evicted_keys:(\d+)/.exec(info)?.[1] ?? '1')).to.be.greaterThan(0);
    for (let k = 0; k < 20; k++) {
      expect(await r.zcard(`zs${k}`)).to.equal(50);
      expect(await zrange(r, `zs${k}`, 10, 11, 'WITHSCORES')).to.deep.equal([`m${k}_10`, '10', `m${k}_11`, '11']);
    }
    await fill('b');
    expect(await r.zadd('zs0', 100, 'new', 5, 'm0_0')).to.equal(1);
    expect(await r.zrem('zs1', 'm1_0', 'm1_1')).to.equal(2);
    expect(await r.zincrby('zs2', 0.5, 'm2_3')).to.equal('3.5');
    expect(await r.zpopmax('zs4', 2)).to.deep.equal(['m4_49', '49', 'm4_48', '48']);
    expect(await r.zunionstore('zs5', 2, 'zs3', 'plainset')).to.equal(51);
    expect(await r.zremrangebyscore('zs6', '-inf', '+inf')).to.equal(50);
    await fill('c');
    expect(await r.zscore('zs0', 'm0_0')).to.equal('5');
    await srv.stop();

    srv = await startTalus(['--maxmemory', '1mb'], { databaseUrl: url });
    r = srv.client();
    expect(await r.zcard('zs0')).to.equal(51);
    expect(await zrange(r, 'zs0', -1, -1, 'WITHSCORES')).to.deep.equal(['new', '100']);
    expect(await r.zscore('zs0', 'm0_0')).to.equal('5');
    expect(await r.zcard('zs1')).to.equal(48);
    expect(await r.zscore('zs2', 'm2_3')).to.equal('3.5');
    expect(await r.zcard('zs4')).to.equal(48);
    expect(await r.zscore('zs5', 'm3_1')).to.equal('2');
    expect(await r.zscore('zs5', 'extra')).to.equal('1');
    expect(await r.exists('zs6')).to.equal(0);
    expect(await r.zrank('zs19', 'm19_49')).to.equal(49);
  });
});
