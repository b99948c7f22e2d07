import { expect } from 'chai';
import type { Redis } from 'ioredis';
import { freshDatabase, startTalus, useTalus, type TalusProcess } from './support/harness.js';
import { errorOf } from './support/assert.js';

/**
 * The generic keyspace family against Redis 7.0 semantics: DEL, EXISTS,
 * TYPE, the EXPIRE/TTL family, KEYS, SCAN, RANDOMKEY, RENAME, MOVE, COPY,
 * TOUCH, OBJECT, DBSIZE, FLUSHDB, FLUSHALL, SWAPDB; then the same
 * enumerations over a db mostly evicted to PostgreSQL, and across a restart.
 */

/** The error message a command fails with (fails the test if it succeeds). */

/** Every key a full SCAN returns, in order of return (duplicates kept). */
async function scanAll(r: Redis, ...opts: Array<string | number>): Promise<string[]> {
  const out: string[] = [];
  let cursor = '0';
  let calls = 0;
  do {
    const [next, keys] = (await r.call('scan', cursor, ...opts)) as [string, string[]];
    out.push(...keys);
    cursor = next;
    if (++calls > 100_000) throw new Error('SCAN does not terminate');
  } while (cursor !== '0');
  return out;
}

/** Skip the test when another family's command is not served (yet). */
async function needs(ctx: Mocha.Context, p: Promise<unknown>): Promise<void> {
  try {
    await p;
  } catch (err) {
    if ((err as Error).message.startsWith('ERR unknown command')) ctx.skip();
    throw err;
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('keys: generic keyspace commands', function () {
  this.timeout(60_000);
  let srv: TalusProcess;
  let r: Redis;

  useTalus([], (s, c) => {
    srv = s;
    r = c;
  });
  beforeEach(async () => {
    await r.select(0);
    await r.flushall();
  });

  describe('DEL, UNLINK, EXISTS, TYPE, TOUCH', () => {
    it('DEL deletes and counts the keys that existed', async () => {
      await r.set('a', '1');
      await r.set('b', '2');
      expect(await r.del('a', 'b', 'c', 'a')).to.equal(2);
      expect(await r.get('a')).to.equal(null);
      expect(await r.del('a')).to.equal(0);
    });

    it('UNLINK behaves like DEL', async () => {
      await r.set('a', '1');
      expect(await r.unlink('a', 'nokey')).to.equal(1);
      expect(await r.exists('a')).to.equal(0);
    });

    it('EXISTS counts every argument, duplicates included', async () => {
      await r.set('a', '1');
      await r.set('', 'empty key');
      expect(await r.exists('a', 'a', 'b', '')).to.equal(3);
      expect(await r.exists('nokey')).to.equal(0);
    });

    it('TYPE names the type, "none" for no key', async () => {
      await r.set('s', 'x');
      expect(await r.type('s')).to.equal('string');
      expect(await r.type('nokey')).to.equal('none');
    });

    it('TYPE of collections', async function () {
      await needs(this, r.call('sadd', 'set', 'a'));
      expect(await r.type('set')).to.equal('set');
    });

    it('TOUCH counts existing keys', async () => {
      await r.set('a', '1');
      expect(await r.touch('a', 'b', 'a')).to.equal(2);
    });

    it('arity errors', async () => {
      expect(await errorOf(r.call('del'))).to.equal("ERR wrong number of arguments for 'del' command");
      expect(await errorOf(r.call('type', 'a', 'b'))).to.equal("ERR wrong number of arguments for 'type' command");
      expect(await errorOf(r.call('expire', 'a'))).to.equal("ERR wrong number of arguments for 'expire' command");
    });
  });

  describe('EXPIRE family, TTL family, PERSIST', () => {
    it('EXPIRE / PEXPIRE / EXPIREAT / PEXPIREAT set a TTL', async () => {
      await r.set('k', 'v');
      expect(await r.expire('k', 100)).to.equal(1);
      expect(await r.ttl('k')).to.be.within(99, 100);
      expect(await r.pexpire('k', 50_000)).to.equal(1);
      expect(await r.pttl('k')).to.be.within(49_000, 50_000);
      const at = Math.floor(Date.now() / 1000) + 200;
      expect(await r.expireat('k', at)).to.equal(1);
      expect(await r.expiretime('k')).to.equal(at);
      expect(await r.pexpiretime('k')).to.equal(at * 1000);
      const pat = Date.now() + 300_000;
      expect(await r.pexpireat('k', pat)).to.equal(1);
      expect(await r.pexpiretime('k')).to.equal(pat);
      expect(await r.expiretime('k')).to.equal(Math.floor((pat + 500) / 1000));
    });

    it('TTL family: -2 without key, -1 without TTL', async () => {
      expect([await r.ttl('x'), await r.pttl('x'), await r.expiretime('x'), await r.pexpiretime('x')]).to.deep.equal([-2, -2, -2, -2]);
      await r.set('x', 'v');
      expect([await r.ttl('x'), await r.pttl('x'), await r.expiretime('x'), await r.pexpiretime('x')]).to.deep.equal([-1, -1, -1, -1]);
    });

    it('TTL rounds to the nearest second', async () => {
      await r.set('x', 'v', 'PX', 1400);
      expect(await r.ttl('x')).to.equal(1);
      await r.set('x', 'v', 'PX', 1600);
      expect(await r.ttl('x')).to.equal(2);
    });

    it('keys expire when their time comes', async () => {
      await r.set('x', 'v');
      expect(await r.pexpire('x', 60)).to.equal(1);
      expect(await r.get('x')).to.equal('v');
      await sleep(120);
      expect(await r.get('x')).to.equal(null);
      expect(await r.exists('x')).to.equal(0);
      expect(await r.ttl('x')).to.equal(-2);
    });

    it('a time in the past deletes the key', async () => {
      await r.set('x', 'v');
      expect(await r.expire('x', -10)).to.equal(1);
      expect(await r.exists('x')).to.equal(0);
      await r.set('x', 'v');
      expect(await r.expireat('x', 1)).to.equal(1);
      expect(await r.exists('x')).to.equal(0);
      await r.set('x', 'v');
      expect(await r.pexpire('x', 0)).to.equal(1);
      expect(await r.exists('x')).to.equal(0);
      await r.set('x', 'v');
      expect(await r.call('pexpireat', 'x', '-9223372036854770000')).to.equal(1);
      expect(await r.ttl('x')).to.equal(-2);
    });

    it('missing keys answer 0', async () => {
      for (const opt of [[], ['NX'], ['XX'], ['GT'], ['LT']]) {
        expect(await r.call('expire', 'none', '100', ...opt)).to.equal(0);
      }
      expect(await r.persist('none')).to.equal(0);
    });

    it('NX / XX / GT / LT', async () => {
      const check = async (setup: string[], args: string[], reply: number, ttl: [number, number]) => {
        await r.call('set', 'foo', 'bar', ...setup);
        expect(await r.call('expire', 'foo', ...args), args.join(' ')).to.equal(reply);
        expect(await r.ttl('foo'), args.join(' ')).to.be.within(ttl[0], ttl[1]);
      };
      await check(['EX', '100'], ['200', 'NX'], 0, [90, 100]);
      await check([], ['200', 'NX'], 1, [190, 200]);
      await check(['EX', '100'], ['200', 'XX'], 1, [190, 200]);
      await check([], ['200', 'XX'], 0, [-1, -1]);
      await check(['EX', '100'], ['200', 'GT'], 1, [190, 200]);
      await check(['EX', '200'], ['100', 'GT'], 0, [190, 200]);
      await check([], ['200', 'GT'], 0, [-1, -1]);
      await check(['EX', '100'], ['200', 'LT'], 0, [90, 100]);
      await check(['EX', '200'], ['100', 'LT'], 1, [90, 100]);
      await check([], ['100', 'LT'], 1, [90, 100]);
      await check(['EX', '200'], ['100', 'LT', 'XX'], 1, [90, 100]);
      await check([], ['200', 'LT', 'XX'], 0, [-1, -1]);
      await check(['EX', '100'], ['50', 'gt'], 0, [90, 100]);
      await check(['EX', '100'], ['200', 'lt'], 0, [90, 100]);
      await r.set('foo', 'bar', 'EX', 100);
      expect(await r.call('expire', 'foo', '-10', 'LT')).to.equal(1);
      expect(await r.ttl('foo')).to.equal(-2);
    });

    it('option errors', async () => {
      await r.set('foo', 'bar');
      expect(await errorOf(r.call('expire', 'foo', '200', 'LT', 'GT'))).to.equal(
        'ERR GT and LT options at the same time are not compatible');
      for (const o of [['NX', 'GT'], ['NX', 'LT'], ['NX', 'XX'], ['XX', 'NX']]) {
        expect(await errorOf(r.call('expire', 'foo', '200', ...o))).to.equal(
          'ERR NX and XX, GT or LT options at the same time are not compatible');
      }
      expect(await errorOf(r.call('expire', 'foo', '200', 'AB'))).to.equal('ERR Unsupported option AB');
      expect(await errorOf(r.call('pexpire', 'foo', '200', 'XX', 'AB'))).to.equal('ERR Unsupported option AB');
      // options are checked before the time
      expect(await errorOf(r.call('expire', 'foo', 'x', 'AB'))).to.equal('ERR Unsupported option AB');
      expect(await errorOf(r.call('expire', 'foo', ''))).to.equal('ERR value is not an integer or out of range');
      expect(await errorOf(r.call('expire', 'foo', '1.5'))).to.equal('ERR value is not an integer or out of range');
      expect(await r.ttl('foo')).to.equal(-1);
    });

    it('invalid expire time on overflow', async () => {
      await r.set('foo', 'bar');
      for (const t of ['9223370399119966', '9223372036854776', '10000000000000000', '18446744073709561',
        '-9223372036854776', '-9999999999999999']) {
        expect(await errorOf(r.call('expire', 'foo', t)), t).to.equal("ERR invalid expire time in 'expire' command");
      }
      expect(await errorOf(r.call('expireat', 'foo', '9223372036854776'))).to.equal(
        "ERR invalid expire time in 'expireat' command");
      expect(await errorOf(r.call('pexpire', 'foo', '9223372036854770000'))).to.equal(
        "ERR invalid expire time in 'pexpire' command");
      expect(await r.ttl('foo')).to.equal(-1);
      expect(await r.call('pexpireat', 'foo', '9223372036854770000')).to.equal(1);
      expect(await r.ttl('foo')).to.be.greaterThan(1e12);
      // the largest time still commits (clamped to what a bigint holds) and writes go on
      expect(await r.call('pexpireat', 'foo', '9223372036854775807')).to.equal(1);
      expect(BigInt((await r.call('pexpiretime', 'foo')) as number) > 9223372036854770000n).to.equal(true);
      expect(await r.set('after', 'x')).to.equal('OK');
    });

    it('PERSIST removes the TTL', async () => {
      await r.set('x', 'foo');
      await r.expire('x', 50);
      expect(await r.ttl('x')).to.equal(50);
      expect(await r.persist('x')).to.equal(1);
      expect(await r.ttl('x')).to.equal(-1);
      expect(await r.persist('x')).to.equal(0);
      expect(await r.get('x')).to.equal('foo');
    });

    it('SET without KEEPTTL clears an EXPIRE', async () => {
      await r.set('x', 'a');
      await r.expire('x', 100);
      await r.set('x', 'b');
      expect(await r.ttl('x')).to.equal(-1);
    });
  });

  describe('KEYS', () => {
    beforeEach(async () => {
      for (const k of ['key_x', 'key_y', 'key_z', 'foo_a', 'foo_b', 'foo_c', 'hello', 'hallo', 'hxllo', 'hllo', 'heeeello', 'a*b']) {
        await r.set(k, 'v');
      }
    });

    it('matches glob patterns', async () => {
      const keys = async (p: string) => (await r.keys(p)).sort();
      expect(await keys('foo*')).to.deep.equal(['foo_a', 'foo_b', 'foo_c']);
      expect(await keys('*')).to.have.length(12);
      expect(await keys('h?llo')).to.deep.equal(['hallo', 'hello', 'hxllo']);
      expect(await keys('h*llo')).to.deep.equal(['hallo', 'heeeello', 'hello', 'hllo', 'hxllo']);
      expect(await keys('h[ae]llo')).to.deep.equal(['hallo', 'hello']);
      expect(await keys('h[^e]llo')).to.deep.equal(['hallo', 'hxllo']);
      expect(await keys('h[a-b]llo')).to.deep.equal(['hallo']);
      expect(await keys('a\\*b')).to.deep.equal(['a*b']);
      expect(await keys('nothing*')).to.deep.equal([]);
      expect(await keys('*_[xy]')).to.deep.equal(['key_x', 'key_y']);
    });

    it('"*" includes the empty key; other patterns do not', async () => {
      await r.set('', 'v');
      expect(await r.keys('*')).to.include('');
      expect(await r.keys('**')).not.to.include('');
    });

    it('skips expired and deleted keys', async () => {
      await r.set('foo_a', 'v', 'PX', 30);
      await r.del('foo_b');
      await sleep(60);
      expect((await r.keys('foo*')).sort()).to.deep.equal(['foo_c']);
    });

    it('a long nested pattern is cheap', async () => {
      await r.set('a'.repeat(40), '1');
      expect(await r.keys('a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*b')).to.deep.equal([]);
    });
  });

  describe('SCAN', () => {
    async function populate(n: number, prefix = 'key:') {
      const p = r.pipeline();
      for (let i = 0; i < n; i++) p.set(`${prefix}${i}`, 'AAA');
      await p.exec();
    }

    it('returns every key exactly once, whatever the COUNT', async () => {
      await populate(1000);
      for (const count of [[], ['COUNT', 1], ['COUNT', 5], ['COUNT', 77], ['COUNT', 5000]]) {
        const keys = await scanAll(r, ...count);
        expect(keys, String(count)).to.have.length(1000);
        expect(new Set(keys).size).to.equal(1000);
      }
    });

    it('COUNT bounds the page size', async () => {
      await populate(100);
      const [cursor, keys] = (await r.call('scan', '0', 'COUNT', '7')) as [string, string[]];
      expect(cursor).not.to.equal('0');
      expect(keys.length).to.be.at.most(7);
    });

    it('MATCH filters', async () => {
      await populate(1000);
      const keys = await scanAll(r, 'MATCH', 'key:1??');
      expect(new Set(keys).size).to.equal(100);
      expect(keys).to.have.length(100);
      expect(await scanAll(r, 'MATCH', '*9', 'COUNT', 3)).to.have.length(100);
    });

    it('TYPE filters', async () => {
      await populate(300);
      expect(await scanAll(r, 'TYPE', 'list')).to.deep.equal([]);
      expect(await scanAll(r, 'TYPE', 'string')).to.have.length(300);
      expect(await scanAll(r, 'TYPE', 'STRING', 'MATCH', 'key:*', 'COUNT', 10)).to.have.length(300);
      expect(await scanAll(r, 'TYPE', 'nosuchtype')).to.deep.equal([]);
    });

    it('TYPE filters collections', async function () {
      await needs(this, r.call('sadd', 'set1', 'a'));
      await populate(20);
      expect(await scanAll(r, 'TYPE', 'set')).to.deep.equal(['set1']);
    });

    it('keys present for the whole scan are returned under writes', async () => {
      await populate(500);
      const seen = new Set<string>();
      let cursor = '0';
      let n = 0;
      do {
        const [next, keys] = (await r.call('scan', cursor, 'COUNT', '20')) as [string, string[]];
        for (const k of keys) seen.add(k);
        cursor = next;
        // add and delete other keys meanwhile
        await r.set(`added:${n}`, 'x');
        await r.del(`added:${n - 3}`);
        n++;
      } while (cursor !== '0');
      for (let i = 0; i < 500; i++) expect(seen.has(`key:${i}`), `key:${i}`).to.equal(true);
    });

    it('a cursor may be used again', async () => {
      await populate(50);
      const [cursor] = (await r.call('scan', '0', 'COUNT', '10')) as [string, string[]];
      const a = (await r.call('scan', cursor, 'COUNT', '10')) as [string, string[]];
      const b = (await r.call('scan', cursor, 'COUNT', '10')) as [string, string[]];
      expect(a[1]).to.have.length(10);
      expect(a[1]).to.deep.equal(b[1]);
      const next = async (cur: string) => ((await r.call('scan', cur, 'COUNT', '10')) as [string, string[]])[1];
      expect(await next(a[0])).to.deep.equal(await next(b[0]));
    });

    it('errors', async () => {
      expect(await errorOf(r.call('scan', 'abc'))).to.equal('ERR invalid cursor');
      expect(await errorOf(r.call('scan', '0', 'COUNT', '0'))).to.equal('ERR syntax error');
      expect(await errorOf(r.call('scan', '0', 'COUNT', 'x'))).to.equal('ERR value is not an integer or out of range');
      expect(await errorOf(r.call('scan', '0', 'MATCH'))).to.equal('ERR syntax error');
      expect(await errorOf(r.call('scan', '0', 'FOO', 'bar'))).to.equal('ERR syntax error');
    });

    it('a cursor it did not give (another server before a failover, a restart) starts the walk over, as Redis takes any number', async () => {
      await r.mset('sc:a', '1', 'sc:b', '2');
      expect(await r.call('scan', '123456789012', 'MATCH', 'sc:*', 'COUNT', '1000')).to.deep.equal(await r.call('scan', '0', 'MATCH', 'sc:*', 'COUNT', '1000'));
      expect(((await r.call('scan', '18446744073709551615', 'COUNT', '1000')) as [string, string[]])[1]).to.include.members(['sc:a', 'sc:b']);
      await r.del('sc:a', 'sc:b');
    });

    it('an empty db ends at once', async () => {
      expect(await r.call('scan', '0')).to.deep.equal(['0', []]);
    });
  });

  describe('RANDOMKEY', () => {
    it('returns each key sometimes', async () => {
      await r.set('foo', 'x');
      await r.set('bar', 'y');
      const seen = new Set<string | null>();
      for (let i = 0; i < 100; i++) seen.add(await r.randomkey());
      expect([...seen].sort()).to.deep.equal(['bar', 'foo']);
    });

    it('nil for an empty db, and after the last key is gone', async () => {
      expect(await r.randomkey()).to.equal(null);
      await r.set('x', '10');
      await r.del('x');
      expect(await r.randomkey()).to.equal(null);
    });

    it('never returns an expired key', async () => {
      await r.set('gone', 'x', 'PX', 20);
      await r.set('here', 'x');
      await sleep(50);
      for (let i = 0; i < 20; i++) expect(await r.randomkey()).to.equal('here');
    });
  });

  describe('RENAME, RENAMENX', () => {
    it('renames, replacing the target', async () => {
      await r.set('a', '1');
      await r.set('b', '2');
      expect(await r.rename('a', 'b')).to.equal('OK');
      expect(await r.get('b')).to.equal('1');
      expect(await r.exists('a')).to.equal(0);
      expect(await r.dbsize()).to.equal(1);
    });

    it('errors and same-name cases', async () => {
      expect(await errorOf(r.rename('nokey', 'x'))).to.equal('ERR no such key');
      expect(await errorOf(r.renamenx('nokey', 'x'))).to.equal('ERR no such key');
      expect(await errorOf(r.rename('nokey', 'nokey'))).to.equal('ERR no such key');
      await r.set('k', 'v');
      expect(await r.rename('k', 'k')).to.equal('OK');
      expect(await r.renamenx('k', 'k')).to.equal(0);
      expect(await r.get('k')).to.equal('v');
    });

    it('RENAMENX only when the target does not exist', async () => {
      await r.set('a', 'foo');
      await r.set('b', 'bar');
      expect(await r.renamenx('a', 'b')).to.equal(0);
      expect([await r.get('a'), await r.get('b')]).to.deep.equal(['foo', 'bar']);
      expect(await r.renamenx('a', 'c')).to.equal(1);
      expect([await r.get('a'), await r.get('c')]).to.deep.equal([null, 'foo']);
    });

    it('moves the TTL and does not inherit the target\'s', async () => {
      await r.set('a', 'foo', 'EX', 100);
      await r.rename('a', 'b');
      expect(await r.ttl('b')).to.be.within(99, 100);
      await r.set('c', 'x');
      await r.set('d', 'y', 'EX', 100);
      await r.rename('c', 'd');
      expect(await r.ttl('d')).to.equal(-1);
    });

    it('renames collections as independent copies', async function () {
      await needs(this, r.call('sadd', 's1', 'a', 'b'));
      await r.rename('s1', 's2');
      expect(await r.type('s2')).to.equal('set');
      expect((await r.call('smembers', 's2') as string[]).sort()).to.deep.equal(['a', 'b']);
      expect(await r.exists('s1')).to.equal(0);
    });
  });

  describe('MOVE', () => {
    it('moves a key to another db with its TTL', async () => {
      await r.set('mykey', 'foobar', 'EX', 100);
      expect(await r.move('mykey', 1)).to.equal(1);
      expect([await r.exists('mykey'), await r.dbsize()]).to.deep.equal([0, 0]);
      await r.select(1);
      expect([await r.get('mykey'), await r.dbsize()]).to.deep.equal(['foobar', 1]);
      expect(await r.ttl('mykey')).to.be.within(99, 100);
      await r.select(0);
      await r.set('plain', 'x');
      await r.move('plain', 1);
      await r.select(1);
      expect(await r.ttl('plain')).to.equal(-1);
    });

    it('does not overwrite a key in the target db', async () => {
      await r.select(1);
      await r.set('k', 'there');
      await r.select(0);
      await r.set('k', 'here');
      expect(await r.move('k', 1)).to.equal(0);
      expect(await r.get('k')).to.equal('here');
      expect(await r.move('nokey', 1)).to.equal(0);
    });

    it('errors', async () => {
      await r.set('k', 'v');
      expect(await errorOf(r.call('move', 'k', 'notanumber'))).to.equal('ERR value is not an integer or out of range');
      expect(await errorOf(r.call('move', 'k', '16'))).to.equal('ERR DB index is out of range');
      expect(await errorOf(r.call('move', 'k', '-1'))).to.equal('ERR DB index is out of range');
      expect(await errorOf(r.call('move', 'k', '0'))).to.equal('ERR source and destination objects are the same');
      expect(await errorOf(r.call('move', 'nokey', '0'))).to.equal('ERR source and destination objects are the same');
    });
  });

  describe('COPY', () => {
    it('copies a string in the same db and to another db', async () => {
      await r.set('mykey', 'foobar');
      expect(await r.copy('mykey', 'mynewkey')).to.equal(1);
      expect([await r.get('mynewkey'), await r.dbsize()]).to.deep.equal(['foobar', 2]);
      expect(await r.call('copy', 'mykey', 'mynewkey', 'DB', '1')).to.equal(1);
      await r.select(1);
      expect([await r.get('mynewkey'), await r.dbsize()]).to.deep.equal(['foobar', 1]);
    });

    it('REPLACE', async () => {
      await r.set('a', 'hello');
      await r.set('b', 'old');
      expect(await r.copy('a', 'b')).to.equal(0);
      expect(await r.get('b')).to.equal('old');
      expect(await r.call('copy', 'a', 'b', 'REPLACE')).to.equal(1);
      expect(await r.get('b')).to.equal('hello');
      expect(await r.call('copy', 'nokey', 'b', 'REPLACE')).to.equal(0);
      expect(await r.get('b')).to.equal('hello');
    });

    it('copies are independent', async () => {
      await r.set('a', 'foobar');
      await r.call('copy', 'a', 'b', 'DB', '1');
      await r.select(1);
      await r.set('b', 'hoge');
      await r.select(0);
      expect(await r.get('a')).to.equal('foobar');
    });

    it('copies the TTL and creates none', async () => {
      await r.set('a', 'x', 'EX', 100);
      await r.copy('a', 'b');
      expect(await r.ttl('b')).to.be.within(99, 100);
      await r.set('c', 'x');
      await r.set('d', 'y', 'EX', 100);
      await r.call('copy', 'c', 'd', 'REPLACE');
      expect(await r.ttl('d')).to.equal(-1);
    });

    it('copies collections independently', async function () {
      await needs(this, r.call('sadd', 's1', 'a', 'b'));
      await r.copy('s1', 's2');
      await r.call('sadd', 's1', 'c');
      expect((await r.call('smembers', 's2') as string[]).sort()).to.deep.equal(['a', 'b']);
      expect((await r.call('smembers', 's1') as string[]).sort()).to.deep.equal(['a', 'b', 'c']);
    });

    it('errors', async () => {
      await r.set('a', 'x');
      expect(await errorOf(r.call('copy', 'a', 'b', 'DB', 'notanumber'))).to.equal('ERR value is not an integer or out of range');
      expect(await errorOf(r.call('copy', 'a', 'b', 'DB', '99'))).to.equal('ERR DB index is out of range');
      expect(await errorOf(r.call('copy', 'a', 'b', 'FOO'))).to.equal('ERR syntax error');
      expect(await errorOf(r.call('copy', 'a', 'b', 'DB'))).to.equal('ERR syntax error');
      expect(await errorOf(r.call('copy', 'a', 'a'))).to.equal('ERR source and destination objects are the same');
      expect(await errorOf(r.call('copy', 'a', 'a', 'DB', '0'))).to.equal('ERR source and destination objects are the same');
      expect(await r.call('copy', 'a', 'a', 'DB', '1')).to.equal(1);
    });
  });

  describe('OBJECT', () => {
    it('ENCODING of strings', async () => {
      await r.set('i', '12345');
      await r.set('e', 'x'.repeat(44));
      await r.set('w', 'x'.repeat(45));
      await r.set('z', '0123');
      expect(await r.object('ENCODING', 'i')).to.equal('int');
      expect(await r.object('ENCODING', 'e')).to.equal('embstr');
      expect(await r.object('ENCODING', 'w')).to.equal('raw');
      expect(await r.object('ENCODING', 'z')).to.equal('embstr');
      expect(await r.object('ENCODING', 'nokey')).to.equal(null);
    });

    it('ENCODING of sets follows set-max-intset-entries', async function () {
      await needs(this, r.call('sadd', 'ints', '1', '2', '3'));
      await r.call('sadd', 'strs', '1', 'a');
      expect(await r.object('ENCODING', 'ints')).to.equal('intset');
      expect(await r.object('ENCODING', 'strs')).to.equal('hashtable');
    });

    it('REFCOUNT, IDLETIME, FREQ', async () => {
      await r.set('k', 'v');
      expect(await r.object('REFCOUNT', 'k')).to.equal(1);
      expect(await r.object('IDLETIME', 'k')).to.equal(0);
      expect(await r.object('REFCOUNT', 'nokey')).to.equal(null);
      expect(await r.object('IDLETIME', 'nokey')).to.equal(null);
      expect(await errorOf(r.object('FREQ', 'k'))).to.match(/^ERR An LFU maxmemory policy is not selected/);
    });

    it('FREQ under an LFU policy; IDLETIME is then refused', async function () {
      await r.set('k', 'v');
      await needs(this, r.call('config', 'set', 'maxmemory-policy', 'allkeys-lfu'));
      try {
        expect(await r.object('FREQ', 'k')).to.be.a('number');
        expect(await errorOf(r.object('IDLETIME', 'k'))).to.match(/^ERR An LFU maxmemory policy is selected, idle time not tracked/);
      } finally {
        await r.call('config', 'set', 'maxmemory-policy', 'allkeys-lru');
      }
    });

    it('IDLETIME grows; TYPE/TTL/EXISTS do not reset it, TOUCH does', async () => {
      await r.set('k', 'v');
      await sleep(2100);
      await r.ttl('k');
      await r.type('k');
      await r.exists('k');
      expect(await r.object('IDLETIME', 'k')).to.be.at.least(2);
      await r.touch('k');
      expect(await r.object('IDLETIME', 'k')).to.equal(0);
    });

    it('HELP and errors', async () => {
      const help = (await r.object('HELP')) as string[];
      expect(help[0]).to.match(/^OBJECT <subcommand>/);
      expect(help.some((l) => l.startsWith('ENCODING'))).to.equal(true);
      expect(await errorOf(r.call('object', 'foo'))).to.equal("ERR unknown subcommand 'foo'. Try OBJECT HELP.");
      expect(await errorOf(r.call('object', 'encoding'))).to.equal(
        "ERR wrong number of arguments for 'object|encoding' command");
      expect(await errorOf(r.call('object', 'help', 'x'))).to.equal("ERR wrong number of arguments for 'object|help' command");
      expect(await errorOf(r.call('object'))).to.equal("ERR wrong number of arguments for 'object' command");
    });
  });

  describe('DBSIZE, FLUSHDB, FLUSHALL, SWAPDB', () => {
    it('DBSIZE counts keys of the selected db', async () => {
      await r.set('a', '1');
      await r.set('b', '2');
      await r.select(1);
      await r.set('c', '3');
      expect(await r.dbsize()).to.equal(1);
      await r.select(0);
      expect(await r.dbsize()).to.equal(2);
      await r.del('a');
      expect(await r.dbsize()).to.equal(1);
    });

    it('FLUSHDB empties the selected db only', async () => {
      await r.set('a', '1');
      await r.select(1);
      await r.set('b', '2');
      expect(await r.flushdb('ASYNC')).to.equal('OK');
      expect(await r.dbsize()).to.equal(0);
      expect(await r.get('b')).to.equal(null);
      await r.select(0);
      expect(await r.get('a')).to.equal('1');
      expect(await r.call('flushdb', 'sync')).to.equal('OK');
      expect(await r.keys('*')).to.deep.equal([]);
    });

    it('FLUSHALL empties every db', async () => {
      await r.set('a', '1');
      await r.select(2);
      await r.set('b', '2');
      expect(await r.flushall()).to.equal('OK');
      expect(await r.dbsize()).to.equal(0);
      await r.select(0);
      expect(await r.dbsize()).to.equal(0);
    });

    it('FLUSHDB/FLUSHALL syntax errors', async () => {
      expect(await errorOf(r.call('flushdb', 'now'))).to.equal('ERR syntax error');
      expect(await errorOf(r.call('flushall', 'async', 'sync'))).to.equal('ERR syntax error');
    });

    it('SWAPDB swaps the data; clients keep their db index', async () => {
      const other = srv.client();
      await r.set('in0', 'zero');
      await r.select(1);
      await r.set('in1', 'one', 'EX', 100);
      await other.select(0);
      expect(await other.get('in0')).to.equal('zero');
      expect(await r.swapdb(0, 1)).to.equal('OK');
      // r is on 1, other on 0: each now sees what the other db held
      expect(await r.get('in0')).to.equal('zero');
      expect(await r.get('in1')).to.equal(null);
      expect(await other.get('in1')).to.equal('one');
      expect(await other.get('in0')).to.equal(null);
      expect(await other.ttl('in1')).to.be.within(99, 100);
      expect(await other.keys('*')).to.deep.equal(['in1']);
      expect(await r.dbsize()).to.equal(1);
      await r.set('new1', 'x');
      await r.select(0);
      expect(await r.get('new1')).to.equal(null);
      other.disconnect();
    });

    it('SWAPDB errors', async () => {
      expect(await errorOf(r.call('swapdb', 'a', '1'))).to.equal('ERR invalid first DB index');
      expect(await errorOf(r.call('swapdb', '0', 'b'))).to.equal('ERR invalid second DB index');
      expect(await errorOf(r.call('swapdb', '0', '16'))).to.equal('ERR DB index is out of range');
      expect(await errorOf(r.call('swapdb', '-1', '0'))).to.equal('ERR DB index is out of range');
      expect(await r.swapdb(3, 3)).to.equal('OK');
    });
  });

  describe('MULTI', () => {
    it('MOVE and COPY across dbs inside a transaction', async function () {
      await needs(this, r.call('multi'));
      await r.call('discard');
      await r.set('a', '1');
      const res = await r.multi().move('a', 2).call('copy', 'nokey', 'b', 'DB', '3').exec();
      expect(res).to.deep.equal([[null, 1], [null, 0]]);
      await r.select(2);
      expect(await r.get('a')).to.equal('1');
    });
  });
});

describe('keys: a db mostly in PostgreSQL (maxmemory 1mb)', function () {
  this.timeout(180_000);
  const N = 20_000;
  let url: string;
  let srv: TalusProcess;
  let r: Redis;
  const value = 'v'.repeat(100);

  before(async () => {
    url = await freshDatabase();
    srv = await startTalus(['--maxmemory', '1mb'], { databaseUrl: url });
    r = srv.client();
    for (let i = 0; i < N; i += 1000) {
      const p = r.pipeline();
      for (let j = i; j < i + 1000; j++) {
        if (j % 10 === 0) p.set(`key:${j}`, value, 'EX', 100_000);
        else p.set(`key:${j}`, value);
      }
      await p.exec();
    }
    // keys that expire while cold
    const p = r.pipeline();
    for (let j = 0; j < 50; j++) p.set(`exp:${j}`, value, 'PX', 400);
    await p.exec();
    // push the early keys out of memory
    for (let i = 0; i < 3000; i += 1000) {
      const q = r.pipeline();
      for (let j = i; j < i + 1000; j++) q.set(`filler:${j}`, value);
      await q.exec();
    }
    await r.del(...Array.from({ length: 3000 }, (_, j) => `filler:${j}`));
    // db 7 and db 8, for SWAPDB against commands waiting for cold keys
    await r.select(7);
    await r.set('race', 'seven');
    const q = r.pipeline();
    for (let j = 0; j < 2000; j++) q.set(`r:${j}`, 'x');
    await q.exec();
    await r.select(8);
    await r.set('race', 'eight');
    await r.select(0);
    await sleep(600);
  });
  after(async () => {
    await srv?.stop();
  });

  it('most keys were evicted', async () => {
    const m = /evicted_keys:(\d+)/.exec(await r.info('stats'));
    expect(m, 'INFO stats evicted_keys').not.to.equal(null);
    expect(Number(m![1])).to.be.greaterThan(N / 2);
  });

  it('DBSIZE counts cold keys (expired ones until active expiry reclaims them)', async () => {
    expect(await r.dbsize()).to.be.within(N, N + 50);
    for (let i = 0; i < 50 && (await r.dbsize()) !== N; i++) await sleep(100);
    expect(await r.dbsize()).to.equal(N);
  });

  it('KEYS reads PostgreSQL for cold keys and skips expired ones', async () => {
    expect(await r.keys('*')).to.have.length(N);
    const ones = await r.keys('key:1*');
    expect(ones).to.have.length(11_111);
    expect(new Set(ones).size).to.equal(11_111);
    expect((await r.keys('key:1?3')).sort()).to.deep.equal(Array.from({ length: 10 }, (_, i) => `key:1${i}3`));
    expect(await r.keys('*:1999[0-9]')).to.have.length(10);
    expect(await r.keys('exp:*')).to.deep.equal([]);
    expect(await r.keys('nothing*')).to.deep.equal([]);
  });

  it('SCAN returns every key exactly once', async () => {
    const all = await scanAll(r, 'COUNT', 1000);
    expect(all).to.have.length(N);
    expect(new Set(all).size).to.equal(N);
    const small = await scanAll(r, 'MATCH', 'key:19*', 'COUNT', 100);
    expect(small).to.have.length(1111);
    expect(new Set(small).size).to.equal(1111);
    expect(await scanAll(r, 'MATCH', '*7', 'TYPE', 'string', 'COUNT', 500)).to.have.length(N / 10);
    expect(await scanAll(r, 'TYPE', 'hash', 'COUNT', 5000)).to.deep.equal([]);
    expect(await scanAll(r, 'MATCH', 'exp:*', 'COUNT', 5000)).to.deep.equal([]);
  });

  it('EXISTS, TYPE, TTL, GET of cold keys', async () => {
    expect(await r.exists('key:1', 'key:2', 'key:3', 'nokey', 'exp:1')).to.equal(3);
    expect(await r.type('key:7')).to.equal('string');
    expect(await r.ttl('key:10')).to.be.within(99_000, 100_000);
    expect(await r.ttl('key:11')).to.equal(-1);
    expect(await r.ttl('exp:2')).to.equal(-2);
    expect(await r.get('key:123')).to.equal(value);
  });

  it('RENAME, COPY and MOVE of cold keys', async () => {
    expect(await r.rename('key:20', 'renamed:20')).to.equal('OK');
    expect(await r.ttl('renamed:20')).to.be.within(99_000, 100_000);
    expect(await r.copy('key:21', 'copied:21')).to.equal(1);
    expect(await r.move('key:22', 5)).to.equal(1);
    expect(await r.exists('key:20', 'key:21', 'key:22')).to.equal(1);
    expect(await r.keys('renamed:*')).to.deep.equal(['renamed:20']);
  });

  it('RANDOMKEY returns existing keys', async () => {
    for (let i = 0; i < 20; i++) {
      const k = await r.randomkey();
      expect(k).to.match(/^(key|copied|renamed):\d+$/);
    }
  });

  it('DEL of a cold key shows in KEYS, SCAN and DBSIZE', async () => {
    const before = await r.dbsize();
    expect(await r.del('key:30', 'key:31')).to.equal(2);
    expect(await r.dbsize()).to.equal(before - 2);
    expect(await r.keys('key:3?')).to.have.length(8);
    const all = await scanAll(r, 'MATCH', 'key:3?', 'COUNT', 3);
    expect(all.sort()).to.deep.equal(['key:32', 'key:33', 'key:34', 'key:35', 'key:36', 'key:37', 'key:38', 'key:39']);
  });

  it('EXPIRE and PERSIST of cold keys', async () => {
    expect(await r.expire('key:40', 50_000)).to.equal(1);
    expect(await r.persist('key:50')).to.equal(1);
    expect(await r.ttl('key:40')).to.be.within(49_000, 50_000);
    expect(await r.ttl('key:50')).to.equal(-1);
    expect(await r.pexpire('key:41', -1)).to.equal(1);
    expect(await r.keys('key:41')).to.deep.equal([]);
  });

  describe('after a restart', () => {
    before(async () => {
      await srv.stop();
      srv = await startTalus(['--maxmemory', '1mb'], { databaseUrl: url });
      r = srv.client();
    });

    it('a command waiting for a cold key follows its db through SWAPDB', async () => {
      const a = srv.client();
      const b = srv.client();
      await a.select(7);
      await b.ping();
      // a's EXISTS waits for the load of 2001 cold keys when b's SWAPDB runs:
      // it must count in db 7 either before the swap (2001) or after it (1)
      const names = ['race', ...Array.from({ length: 2000 }, (_, j) => `r:${j}`)];
      const [got] = await Promise.all([a.exists(...names), b.swapdb(7, 8)]);
      expect(got).to.be.oneOf([1, 2001]);
      expect(await a.get('race')).to.equal('eight');
      expect(await b.swapdb(7, 8)).to.equal('OK');
      expect(await a.get('race')).to.equal('seven');
      a.disconnect();
      b.disconnect();
    });

    it('every key and TTL is still there', async () => {
      // copied +1, moved -1, deleted -2, expired -1
      const n = N - 3;
      expect(await r.dbsize()).to.equal(n);
      expect(await r.keys('*')).to.have.length(n);
      expect(await r.get('key:999')).to.equal(value);
      expect(await r.ttl('key:10')).to.be.within(99_000, 100_000);
      expect(await r.ttl('key:40')).to.be.within(49_000, 50_000);
      expect(await r.ttl('key:50')).to.equal(-1);
      expect(await r.get('renamed:20')).to.equal(value);
      expect(await r.get('copied:21')).to.equal(value);
      expect(await r.exists('key:20', 'key:22', 'key:30', 'key:41')).to.equal(0);
      await r.select(5);
      expect(await r.get('key:22')).to.equal(value);
      expect(await r.dbsize()).to.equal(1);
      await r.select(0);
      expect(await scanAll(r, 'COUNT', 2000)).to.have.length(n);
    });

    it('SWAPDB of cold dbs', async () => {
      expect(await r.swapdb(0, 6)).to.equal('OK');
      expect(await r.dbsize()).to.equal(0);
      expect(await r.get('key:999')).to.equal(null);
      await r.select(6);
      expect(await r.get('key:999')).to.equal(value);
      expect(await r.keys('key:99?')).to.have.length(10);
      expect(await r.swapdb(0, 6)).to.equal('OK');
      await r.select(0);
      expect(await r.get('key:998')).to.equal(value);
    });

    it('FLUSHDB forgets cold keys', async () => {
      expect(await r.flushdb()).to.equal('OK');
      expect(await r.dbsize()).to.equal(0);
      expect(await r.get('key:5')).to.equal(null);
      expect(await r.keys('*')).to.deep.equal([]);
      expect(await scanAll(r)).to.deep.equal([]);
      expect(await r.randomkey()).to.equal(null);
      await r.select(5);
      expect(await r.get('key:22')).to.equal(value);
    });

    it('and stays flushed across another restart', async () => {
      await srv.stop();
      srv = await startTalus(['--maxmemory', '1mb'], { databaseUrl: url });
      r = srv.client();
      expect(await r.dbsize()).to.equal(0);
      expect(await r.get('key:5')).to.equal(null);
      await r.select(5);
      expect(await r.dbsize()).to.equal(1);
    });
  });
});
