import { expect } from 'chai';
import type { Redis } from 'ioredis';
import { freshDatabase, startTalus, useTalus, type TalusProcess } from './support/harness.js';
import { rawReplies } from './support/raw-resp.js';
import { HASH_FIELD_OVERHEAD, HashValue } from '../src/keyspace/values/hash.js';
import { COLLECTION_OVERHEAD, RANDOM_INDEX_OVERHEAD } from '../src/keyspace/values/set.js';
import { MemberChanges } from '../src/keyspace/values/changes.js';
import { errorOf, WRONGTYPE } from './support/assert.js';

/**
 * The hash family against Redis 7.0 semantics (replies and error strings),
 * binary fields and values, RESP3 reply shapes, and durability: restarts and
 * hashes evicted to PostgreSQL, read back and modified cold.
 */


/** Skip the test when another family's command is not served (yet). */
async function needs(ctx: Mocha.Context, p: Promise<unknown>): Promise<void> {
  try {
    await p;
  } catch (err) {
    if ((err as Error).message.startsWith('ERR unknown command')) ctx.skip();
    throw err;
  }
}

/** INFO talus keys_loaded: cold keys read from PostgreSQL so far (undefined if not reported). */
async function keysLoaded(r: Redis): Promise<number | undefined> {
  const info = (await r.info('talus').catch(() => '')) as string;
  const m = /keys_loaded:(\d+)/.exec(info);
  return m ? Number(m[1]) : undefined;
}

const b = (s: string) => Buffer.from(s, 'latin1');
const sorted = (xs: string[]) => [...xs].sort();

/** Every field/value pair a full HSCAN returns (duplicates kept). */
async function hscanAll(r: Redis, key: string, ...opts: Array<string | number>): Promise<Array<[string, string]>> {
  const out: Array<[string, string]> = [];
  let cursor = '0';
  let calls = 0;
  do {
    const [next, items] = (await r.call('hscan', key, cursor, ...opts)) as [string, string[]];
    for (let i = 0; i < items.length; i += 2) out.push([items[i]!, items[i + 1]!]);
    cursor = next;
    if (++calls > 100_000) throw new Error('HSCAN does not terminate');
  } while (cursor !== '0');
  return out;
}

describe('hashes', function () {
  this.timeout(60_000);
  let srv: TalusProcess;
  let r: Redis;

  useTalus([], (s, c) => {
    srv = s;
    r = c;
  });
  beforeEach(async () => {
    await r.del('h', 'h2', 's', 'nokey', 'big');
  });

  describe('HSET / HGET / HMGET / HMSET / HSETNX', () => {
    it('HSET adds many pairs and counts only new fields', async () => {
      expect(await r.hset('h', 'a', '1', 'b', '2')).to.equal(2);
      expect(await r.hset('h', 'a', 'x', 'c', '3')).to.equal(1);
      expect(await r.hset('h', 'd', '4', 'd', '5')).to.equal(1);
      expect(await r.hget('h', 'a')).to.equal('x');
      expect(await r.hget('h', 'd')).to.equal('5');
      expect(await r.hget('h', 'zz')).to.equal(null);
      expect(await r.hget('nokey', 'a')).to.equal(null);
      expect(await r.hlen('h')).to.equal(4);
    });

    it('HSET / HMSET with an odd number of arguments fail like Redis', async () => {
      expect(await errorOf(r.call('hset', 'h', 'a', '1', 'b'))).to.equal("ERR wrong number of arguments for 'hset' command");
      expect(await errorOf(r.call('hset', 'h', 'a'))).to.equal("ERR wrong number of arguments for 'hset' command");
      expect(await errorOf(r.call('hmset', 'h', 'a', '1', 'b'))).to.equal("ERR wrong number of arguments for 'hmset' command");
      expect(await r.exists('h')).to.equal(0);
    });

    it('HMSET replies OK; HMGET returns nil for missing fields and keys', async () => {
      expect(await r.hmset('h', 'a', '1', 'b', '2')).to.equal('OK');
      expect(await r.hmget('h', 'a', 'zz', 'b')).to.deep.equal(['1', null, '2']);
      expect(await r.hmget('nokey', 'a', 'b')).to.deep.equal([null, null]);
      expect(await errorOf(r.call('hmget', 'h'))).to.equal("ERR wrong number of arguments for 'hmget' command");
    });

    it('HSETNX sets only missing fields, creating the key', async () => {
      expect(await r.hsetnx('h', 'a', '1')).to.equal(1);
      expect(await r.hsetnx('h', 'a', '2')).to.equal(0);
      expect(await r.hget('h', 'a')).to.equal('1');
      expect(await r.hsetnx('h', 'b', '2')).to.equal(1);
      expect(await r.hlen('h')).to.equal(2);
    });

    it('HEXISTS and HSTRLEN', async () => {
      await r.hset('h', 'a', 'hello', 'e', '');
      expect(await r.hexists('h', 'a')).to.equal(1);
      expect(await r.hexists('h', 'zz')).to.equal(0);
      expect(await r.hexists('nokey', 'a')).to.equal(0);
      expect(await r.hstrlen('h', 'a')).to.equal(5);
      expect(await r.hstrlen('h', 'e')).to.equal(0);
      expect(await r.hstrlen('h', 'zz')).to.equal(0);
      expect(await r.hstrlen('nokey', 'a')).to.equal(0);
      for (const v of ['-9223372036854775808', '9223372036854775807', '9223372036854775808', '0', '-1']) {
        await r.hset('h', 'n', v);
        expect(await r.hstrlen('h', 'n')).to.equal(v.length);
      }
    });
  });

  describe('HGETALL / HKEYS / HVALS / HLEN / HDEL', () => {
    it('return every field and value', async () => {
      await r.hset('h', 'a', '1', 'b', '2', 'c', '3');
      expect(await r.hgetall('h')).to.deep.equal({ a: '1', b: '2', c: '3' });
      expect(sorted(await r.hkeys('h'))).to.deep.equal(['a', 'b', 'c']);
      expect(sorted(await r.hvals('h'))).to.deep.equal(['1', '2', '3']);
      // HKEYS and HVALS walk the same order
      const keys = await r.hkeys('h');
      const vals = await r.hvals('h');
      expect(keys.map((k) => ({ a: '1', b: '2', c: '3' })[k])).to.deep.equal(vals);
    });

    it('on a missing key: empty replies and 0', async () => {
      expect(await r.hgetall('nokey')).to.deep.equal({});
      expect(await r.hkeys('nokey')).to.deep.equal([]);
      expect(await r.hvals('nokey')).to.deep.equal([]);
      expect(await r.hlen('nokey')).to.equal(0);
      expect(await r.hdel('nokey', 'a')).to.equal(0);
    });

    it('HDEL counts removed fields and deletes the key when it empties', async () => {
      await r.hset('h', 'a', '1', 'b', '2', 'c', '3');
      expect(await r.hdel('h', 'x', 'y')).to.equal(0);
      expect(await r.hdel('h', 'a', 'c', 'f', 'a')).to.equal(2);
      expect(await r.hgetall('h')).to.deep.equal({ b: '2' });
      await r.hset('h', 'a', '1', 'c', '3');
      expect(await r.hdel('h', 'a', 'b', 'c', 'd', 'e')).to.equal(3);
      expect(await r.exists('h')).to.equal(0);
      expect(await r.call('type', 'h')).to.equal('none');
    });
  });

  describe('HINCRBY / HINCRBYFLOAT', () => {
    it('HINCRBY creates keys and fields, and adds 64-bit integers', async () => {
      expect(await r.hincrby('h', 'n', 2)).to.equal(2);
      expect(await r.hincrby('h', 'n', 3)).to.equal(5);
      await r.hset('h', 'm', '17179869184');
      expect(await r.hincrby('h', 'm', 17179869184)).to.equal(34359738368);
      expect(await r.hget('h', 'm')).to.equal('34359738368');
      await r.hset('h', 'big', '-9223372036854775484');
      expect(await r.call('hincrby', 'h', 'big', '-1')).to.equal(-9223372036854775485);
      expect(await r.hget('h', 'big')).to.equal('-9223372036854775485');
    });

    it('HINCRBY errors', async () => {
      await r.hset('h', 'sp', ' 11', 'sp2', '11 ', 'f', '1.5', 'max', '9223372036854775807');
      for (const f of ['sp', 'sp2', 'f']) {
        expect(await errorOf(r.hincrby('h', f, 1))).to.equal('ERR hash value is not an integer');
      }
      expect(await errorOf(r.hincrby('h', 'max', 1))).to.equal('ERR increment or decrement would overflow');
      expect(await errorOf(r.call('hincrby', 'h', 'x', 'abc'))).to.equal('ERR value is not an integer or out of range');
      expect(await errorOf(r.call('hincrby', 'nokey', 'x', '1.5'))).to.equal('ERR value is not an integer or out of range');
      expect(await r.exists('nokey')).to.equal(0);
      expect(await r.hget('h', 'max')).to.equal('9223372036854775807');
    });

    it('HINCRBYFLOAT adds and formats like Redis', async () => {
      expect(await r.hincrbyfloat('h', 'f', '2.5')).to.equal('2.5');
      expect(await r.hincrbyfloat('h', 'f', '3.5')).to.equal('6');
      expect(await r.hget('h', 'f')).to.equal('6');
      await r.del('h');
      expect(await r.hincrbyfloat('h', 'g', '1.23')).to.equal('1.23');
      expect(await r.hincrbyfloat('h', 'g', '0.77')).to.equal('2');
      expect(await r.hincrbyfloat('h', 'g', '-0.1')).to.equal('1.9');
      await r.hset('h', 'i', '17179869184');
      expect(await r.hincrbyfloat('h', 'i', '17179869184')).to.equal('34359738368');
      expect(await r.hincrbyfloat('h', 'e', '5.0e3')).to.equal('5000');
      // long double precision, as in Redis
      expect(await r.hincrbyfloat('h', 'p', '0.1')).to.equal('0.1');
      expect(await r.hincrbyfloat('h', 'p', '0.2')).to.equal('0.3');
      await r.hset('h', 'q', '1.5');
      expect(await r.hincrbyfloat('h', 'q', '9223372036854775807')).to.equal('9223372036854775808');
      await r.hset('h', 'd', '1.7976931348623157e308');
      expect((await r.hincrbyfloat('h', 'd', '1.7976931348623157e308')).slice(0, 20)).to.equal('35953862697246313999');
    });

    it('HINCRBYFLOAT errors', async () => {
      await r.hset('h', 'sp', ' 11', 'sp2', '11 ', 'nul', '1\x002', 'huge', '1e4932', 'txt', 'abc');
      for (const f of ['sp', 'sp2', 'nul', 'txt']) {
        expect(await errorOf(r.hincrbyfloat('h', f, '1'))).to.equal('ERR hash value is not a float');
      }
      expect(await errorOf(r.hincrbyfloat('h', 'huge', '1e4932'))).to.equal(
        'ERR increment would produce NaN or Infinity',
      );
      expect(await errorOf(r.hincrbyfloat('h', 'x', 'abc'))).to.equal('ERR value is not a valid float');
      expect(await errorOf(r.hincrbyfloat('hfoo', 'field', '+inf'))).to.equal('ERR value is NaN or Infinity');
      expect(await errorOf(r.hincrbyfloat('hfoo', 'field', 'nan'))).to.equal('ERR value is not a valid float');
      expect(await r.exists('hfoo')).to.equal(0);
      expect(await r.hget('h', 'huge')).to.equal('1e4932');
    });
  });

  describe('HRANDFIELD', () => {
    beforeEach(async () => {
      await r.hset('h', 'a', '1', 'b', '2', 'c', '3', 'd', '4', 'e', '5');
    });

    it('without count: one field, nil for a missing key', async () => {
      const seen = new Set<string>();
      for (let i = 0; i < 200; i++) seen.add((await r.hrandfield('h')) as string);
      expect(sorted([...seen])).to.deep.equal(['a', 'b', 'c', 'd', 'e']);
      expect(await r.hrandfield('nokey')).to.equal(null);
    });

    it('positive counts return distinct fields, at most all of them', async () => {
      for (const n of [1, 2, 4]) {
        const res = (await r.call('hrandfield', 'h', n)) as string[];
        expect(res).to.have.length(n);
        expect(new Set(res).size).to.equal(n);
        for (const f of res) expect(['a', 'b', 'c', 'd', 'e']).to.include(f);
      }
      for (const n of [5, 10]) {
        expect(sorted((await r.call('hrandfield', 'h', n)) as string[])).to.deep.equal(['a', 'b', 'c', 'd', 'e']);
        const wv = (await r.call('hrandfield', 'h', n, 'WITHVALUES')) as string[];
        expect(wv).to.have.length(10);
        for (let i = 0; i < wv.length; i += 2) expect(Number(wv[i + 1])).to.equal(' abcde'.indexOf(wv[i]!));
      }
    });

    it('negative counts may repeat fields', async () => {
      const res = (await r.call('hrandfield', 'h', -100)) as string[];
      expect(res).to.have.length(100);
      expect(new Set(res).size).to.be.at.most(5);
      const wv = (await r.call('hrandfield', 'h', -20, 'withvalues')) as string[];
      expect(wv).to.have.length(40);
      for (let i = 0; i < wv.length; i += 2) expect(Number(wv[i + 1])).to.equal(' abcde'.indexOf(wv[i]!));
    });

    it('count 0, missing keys, and errors', async () => {
      expect(await r.call('hrandfield', 'h', 0)).to.deep.equal([]);
      expect(await r.call('hrandfield', 'nokey', 5)).to.deep.equal([]);
      expect(await r.call('hrandfield', 'nokey', -5, 'withvalues')).to.deep.equal([]);
      expect(await errorOf(r.call('hrandfield', 'h', 2, 'foo'))).to.equal('ERR syntax error');
      expect(await errorOf(r.call('hrandfield', 'h', 2, 'withvalues', 'x'))).to.equal('ERR syntax error');
      expect(await errorOf(r.call('hrandfield', 'h', 'x'))).to.equal('ERR value is not an integer or out of range');
      expect(await errorOf(r.call('hrandfield', 'h', '-9223372036854775808'))).to.equal(
        'ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807',
      );
      expect(await errorOf(r.call('hrandfield', 'h', '-9223372036854770000', 'withvalues'))).to.equal('ERR value is out of range');
    });

    it('RESP3: WITHVALUES pairs are nested arrays', async () => {
      await r.del('h');
      await r.hset('h', 'a', '1');
      const [, one, neg, none, plain] = await rawReplies(srv.port, [
        ['HELLO', '3'],
        ['HRANDFIELD', 'h', '1', 'WITHVALUES'],
        ['HRANDFIELD', 'h', '-2', 'WITHVALUES'],
        ['HRANDFIELD', 'nokey'],
        ['HRANDFIELD', 'h', '3'],
      ]);
      expect(one!.toString()).to.equal('*1\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n');
      expect(neg!.toString()).to.equal('*2\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n*2\r\n$1\r\na\r\n$1\r\n1\r\n');
      expect(none!.toString()).to.equal('_\r\n');
      expect(plain!.toString()).to.equal('*1\r\n$1\r\na\r\n');
    });
  });

  describe('HSCAN', () => {
    it('small hashes come back whole with cursor 0', async () => {
      await r.hset('h', 'a', '1', 'b', '2', 'c', '3');
      const [cursor, items] = (await r.call('hscan', 'h', '0', 'COUNT', '1')) as [string, string[]];
      expect(cursor).to.equal('0');
      expect(items).to.have.length(6);
      expect(await r.call('hscan', 'nokey', '0')).to.deep.equal(['0', []]);
    });

    it('iterates a big hash completely, with COUNT and MATCH', async () => {
      const fields: string[] = [];
      for (let i = 0; i < 1000; i++) fields.push(`f${i}`, `v${i}`);
      await r.hset('big', ...fields);
      const all = await hscanAll(r, 'big', 'COUNT', 37);
      const seen = new Map(all);
      expect(seen.size).to.equal(1000);
      for (const [f, v] of seen) expect(v).to.equal(`v${f.slice(1)}`);
      const matched = await hscanAll(r, 'big', 'MATCH', 'f1*');
      expect(sorted([...new Set(matched.map(([f]) => f))])).to.deep.equal(
        sorted(Array.from({ length: 1000 }, (_, i) => `f${i}`).filter((f) => f.startsWith('f1'))),
      );
    });

    it('returns every field present for the whole scan while the hash changes', async () => {
      const fields: string[] = [];
      for (let i = 0; i < 600; i++) fields.push(`f${i}`, 'x');
      await r.hset('big', ...fields);
      const seen = new Set<string>();
      let cursor = '0';
      let step = 0;
      do {
        const [next, items] = (await r.call('hscan', 'big', cursor, 'COUNT', 20)) as [string, string[]];
        for (let i = 0; i < items.length; i += 2) seen.add(items[i]!);
        cursor = next;
        // churn: delete some fields (>= 300) and add new ones
        await r.hdel('big', `f${300 + step}`);
        await r.hset('big', `new${step}`, 'y');
        step++;
      } while (cursor !== '0');
      for (let i = 0; i < 300; i++) expect(seen.has(`f${i}`), `f${i}`).to.equal(true);
    });

    it('errors', async () => {
      await r.hset('h', 'a', '1');
      expect(await errorOf(r.call('hscan', 'h', 'abc'))).to.equal('ERR invalid cursor');
      expect(await errorOf(r.call('hscan', 'h', ' 1'))).to.equal('ERR invalid cursor');
      expect(await errorOf(r.call('hscan', 'h', '0', 'COUNT', '0'))).to.equal('ERR syntax error');
      expect(await errorOf(r.call('hscan', 'h', '0', 'COUNT', 'x'))).to.equal('ERR value is not an integer or out of range');
      expect(await errorOf(r.call('hscan', 'h', '0', 'MATCH'))).to.equal('ERR syntax error');
      expect(await errorOf(r.call('hscan', 'h', '0', 'TYPE', 'string'))).to.equal('ERR syntax error');
      expect(await errorOf(r.call('hscan', 'h'))).to.equal("ERR wrong number of arguments for 'hscan' command");
    });
  });

  describe('types, binary data and RESP3', () => {
    it('every hash command fails with WRONGTYPE on a string', async () => {
      await r.set('s', 'x');
      const cmds: Array<Array<string | number>> = [
        ['hset', 's', 'a', '1'], ['hsetnx', 's', 'a', '1'], ['hget', 's', 'a'], ['hmget', 's', 'a'],
        ['hmset', 's', 'a', '1'], ['hgetall', 's'], ['hdel', 's', 'a'], ['hlen', 's'], ['hexists', 's', 'a'],
        ['hkeys', 's'], ['hvals', 's'], ['hstrlen', 's', 'a'], ['hincrby', 's', 'a', 1],
        ['hincrbyfloat', 's', 'a', 1], ['hrandfield', 's'], ['hrandfield', 's', 2], ['hscan', 's', 0],
      ];
      for (const [cmd, ...args] of cmds) expect(await errorOf(r.call(cmd as string, ...args)), String(cmd)).to.equal(WRONGTYPE);
      expect(await r.get('s')).to.equal('x');
      await r.hset('h', 'a', '1');
      expect(await errorOf(r.get('h'))).to.equal(WRONGTYPE);
      expect(await r.call('type', 'h')).to.equal('hash');
    });

    it('fields and values are binary safe', async () => {
      const f1 = Buffer.from([0, 1, 2, 255, 13, 10]);
      const v1 = Buffer.from([255, 0, 128, 10]);
      const f2 = Buffer.from('\u00e9t\u00e9', 'utf8');
      await r.hset(b('h'), f1, v1, f2, Buffer.alloc(0));
      expect(await r.hgetBuffer('h', f1)).to.deep.equal(v1);
      expect(await r.hgetBuffer('h', f2)).to.deep.equal(Buffer.alloc(0));
      expect(await r.hstrlen('h', f1)).to.equal(4);
      // (HSCAN of a small hash returns it whole; ioredis would turn HGETALL into an object with string keys)
      const [, all] = (await r.callBuffer('hscan', 'h', '0')) as [Buffer, Buffer[]];
      const pairs = new Map<string, string>();
      for (let i = 0; i < all.length; i += 2) pairs.set(all[i]!.toString('hex'), all[i + 1]!.toString('hex'));
      expect(pairs).to.deep.equal(new Map([[f1.toString('hex'), v1.toString('hex')], [f2.toString('hex'), '']]));
      expect(await r.hexists('h', Buffer.from([0, 1, 2, 255, 13]))).to.equal(0);
      expect(await r.hdel('h', f1)).to.equal(1);
      expect(await r.hlen('h')).to.equal(1);
    });

    it('RESP3: HGETALL is a map', async () => {
      await r.hset('h', 'a', '1');
      const [, map, empty, keys] = await rawReplies(srv.port, [
        ['HELLO', '3'],
        ['HGETALL', 'h'],
        ['HGETALL', 'nokey'],
        ['HKEYS', 'nokey'],
      ]);
      expect(map!.toString()).to.equal('%1\r\n$1\r\na\r\n$1\r\n1\r\n');
      expect(empty!.toString()).to.equal('%0\r\n');
      expect(keys!.toString()).to.equal('*0\r\n');
    });

    it('works with DEL, TYPE, EXISTS, RENAME, COPY and EXPIRE', async function () {
      await r.hset('h', 'a', '1', 'b', '2');
      expect(await r.del('h')).to.equal(1);
      expect(await r.exists('h')).to.equal(0);
      await r.hset('h', 'a', '1', 'b', '2');
      await needs(this, r.rename('h', 'h2'));
      expect(await r.hgetall('h2')).to.deep.equal({ a: '1', b: '2' });
      expect(await r.exists('h')).to.equal(0);
      await needs(this, r.call('copy', 'h2', 'h'));
      await r.hset('h', 'c', '3');
      expect(await r.hlen('h2')).to.equal(2);
      expect(await r.hlen('h')).to.equal(3);
      await needs(this, r.pexpire('h', 100));
      await new Promise((res) => setTimeout(res, 150));
      expect(await r.hget('h', 'a')).to.equal(null);
      expect(await r.exists('h')).to.equal(0);
    });
  });
});

describe('hashes: durability', function () {
  this.timeout(120_000);
  let srv: TalusProcess | undefined;
  afterEach(async () => {
    await srv?.stop();
    srv = undefined;
  });

  const bin = Buffer.from([0, 255, 13, 10, 7]);

  it('survives a restart: fields, updates, deletions and binary data', async () => {
    const url = await freshDatabase();
    srv = await startTalus([], { databaseUrl: url });
    let r = srv.client();
    const pairs: string[] = [];
    for (let i = 0; i < 300; i++) pairs.push(`f${i}`, `v${i}`);
    await r.hset('h', ...pairs);
    await r.hset(b('bin'), bin, bin, 'plain', bin);
    await r.hset('h', 'f1', 'updated');
    await r.hdel('h', 'f2', 'f3');
    await r.hincrbyfloat('h', 'fl', '1.25');
    await r.hincrby('h', 'n', 41);
    await r.hset('gone', 'a', '1');
    await r.hdel('gone', 'a');
    await srv.stop();

    srv = await startTalus([], { databaseUrl: url });
    r = srv.client();
    const all = await r.hgetall('h');
    expect(Object.keys(all)).to.have.length(300 - 2 + 2);
    expect(all.f0).to.equal('v0');
    expect(all.f1).to.equal('updated');
    expect(all.f2).to.equal(undefined);
    expect(all.f299).to.equal('v299');
    expect(all.fl).to.equal('1.25');
    expect(all.n).to.equal('41');
    expect(await r.hgetBuffer('bin', bin)).to.deep.equal(bin);
    expect(await r.hgetBuffer('bin', 'plain')).to.deep.equal(bin);
    expect(await r.exists('gone')).to.equal(0);
    // modify after reload, restart again
    await r.hdel('h', 'f0');
    await r.hset('h', 'f1', 'again', 'added', 'x');
    await srv.stop();

    srv = await startTalus([], { databaseUrl: url });
    r = srv.client();
    expect(await r.hlen('h')).to.equal(300 - 3 + 3);
    expect(await r.hmget('h', 'f0', 'f1', 'added')).to.deep.equal([null, 'again', 'x']);
  });

  it('cold keys (evicted under maxmemory 1mb) read back and modify correctly', async () => {
    const url = await freshDatabase();
    srv = await startTalus(['--maxmemory', '1mb'], { databaseUrl: url });
    let r = srv.client();
    const expected = new Map<string, Map<string, string>>();
    for (let k = 0; k < 20; k++) {
      const m = new Map<string, string>();
      const args: string[] = [];
      for (let i = 0; i < 50; i++) {
        m.set(`f${i}`, `k${k}v${i}`);
        args.push(`f${i}`, `k${k}v${i}`);
      }
      expected.set(`hash${k}`, m);
      await r.hset(`hash${k}`, ...args);
    }
    await r.hset(b('binhash'), bin, bin);
    // ~4 MB of strings push the hashes out of memory
    const filler = 'x'.repeat(4000);
    for (let i = 0; i < 1000; i += 100) {
      const p = r.pipeline();
      for (let j = i; j < i + 100; j++) p.set(`filler${j}`, filler);
      await p.exec();
    }
    const loadedBefore = await keysLoaded(r);
    for (const [k, m] of expected) expect(new Map(Object.entries(await r.hgetall(k))), k).to.deep.equal(m);
    // they really came from PostgreSQL
    if (loadedBefore !== undefined) expect((await keysLoaded(r))! - loadedBefore).to.be.at.least(20);
    expect(await r.hgetBuffer('binhash', bin)).to.deep.equal(bin);

    // evict again, then modify cold keys
    for (let i = 0; i < 1000; i += 100) {
      const p = r.pipeline();
      for (let j = i; j < i + 100; j++) p.set(`filler${j}`, filler + j);
      await p.exec();
    }
    expect(await r.hdel('hash0', 'f0', 'f1', 'nope')).to.equal(2);
    expect(await r.hset('hash1', 'f0', 'new', 'extra', 'e')).to.equal(1);
    expect(await r.hincrby('hash2', 'counter', 5)).to.equal(5);
    const all3: string[] = [];
    for (let i = 0; i < 50; i++) all3.push(`f${i}`);
    expect(await r.hdel('hash3', ...all3)).to.equal(50);
    expect(await r.exists('hash3')).to.equal(0);
    expect(await r.hdel(b('binhash'), bin)).to.equal(1);
    await srv.stop();

    srv = await startTalus(['--maxmemory', '1mb'], { databaseUrl: url });
    r = srv.client();
    const h0 = await r.hgetall('hash0');
    expect(Object.keys(h0)).to.have.length(48);
    expect(h0.f0).to.equal(undefined);
    expect(h0.f2).to.equal('k0v2');
    const h1 = await r.hgetall('hash1');
    expect(Object.keys(h1)).to.have.length(51);
    expect(h1.f0).to.equal('new');
    expect(h1.extra).to.equal('e');
    expect(await r.hget('hash2', 'counter')).to.equal('5');
    expect(await r.hlen('hash2')).to.equal(51);
    expect(await r.exists('hash3')).to.equal(0);
    expect(await r.exists('binhash')).to.equal(0);
    expect(new Map(Object.entries(await r.hgetall('hash19')))).to.deep.equal(expected.get('hash19'));
  });
});

describe('hashes: HashValue (in process)', () => {
  const recount = (v: HashValue) => {
    let n = COLLECTION_OVERHEAD;
    for (const [f, val] of v) n += f.length + val.length + HASH_FIELD_OVERHEAD;
    return n;
  };

  it('keeps its byte count and change tracking in step; clones are independent', () => {
    const v = new HashValue();
    v.set('a', Buffer.from('1'));
    v.set('b', Buffer.from('22'));
    v.changes = new MemberChanges();
    v.changes.fresh = false;
    expect(v.set('a', Buffer.from('longer value'))).to.equal(false);
    expect(v.set('c', Buffer.alloc(0))).to.equal(true);
    expect(v.delete('b')).to.equal(true);
    expect(v.delete('zz')).to.equal(false);
    expect([...v.changes.changed].sort()).to.deep.equal(['a', 'b', 'c']);
    expect(v.bytes).to.equal(recount(v));
    v.random();
    v.set('d', Buffer.from('x'));
    v.delete('c');
    expect(v.bytes).to.equal(recount(v) + v.size * RANDOM_INDEX_OVERHEAD);
    const copy = v.clone();
    expect(copy.bytes).to.equal(recount(copy));
    expect(copy.changes.fresh).to.equal(true);
    copy.set('a', Buffer.from('changed'));
    expect(v.get('a')!.toString()).to.equal('longer value');
  });
});
