import { expect } from 'chai';
import pg from 'pg';
import type { Redis } from 'ioredis';
import { freshDatabase, startTalus, tempDir, type TalusProcess } from './support/harness.js';
import { errorOf } from './support/assert.js';
import { decodeSegment } from '../src/replication/changelog.js';

/**
 * The string family against Redis 7.0 semantics (replies and error strings
 * checked against redis-server 7.0.15): GET/SET with every option, SETNX,
 * SETEX, PSETEX, MGET, MSET, MSETNX, GETSET, GETDEL, GETEX, APPEND, STRLEN,
 * the INCR family, INCRBYFLOAT (x87 long double results), SETRANGE,
 * GETRANGE, SUBSTR, LCS; binary safety, the effects written to the change
 * log, and values surviving a restart.
 */

/** The error message a command fails with (fails the test if it succeeds). */

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Bytes that break naive text handling: NUL, CR LF, invalid UTF-8. */
const BINARY = Buffer.from([0x00, 0x0d, 0x0a, 0xff, 0xfe, 0x80, 0x24, 0x2a, 0x00, 0xc3, 0x28]);

/** Decode a RESP array of bulk strings (a change-log effect) into latin1 strings. */
function decodeEffect(b: Buffer): string[] {
  let i = b.indexOf('\r\n');
  const n = Number(b.toString('latin1', 1, i));
  i += 2;
  const out: string[] = [];
  for (let k = 0; k < n; k++) {
    const end = b.indexOf('\r\n', i);
    const len = Number(b.toString('latin1', i + 1, end));
    out.push(b.toString('latin1', end + 2, end + 2 + len));
    i = end + 2 + len + 2;
  }
  return out;
}

describe('strings: the string family', function () {
  this.timeout(60_000);
  let srv: TalusProcess;
  let r: Redis;
  let url: string;
  let db: pg.Client;
  let n = 0;
  /** a key name no other test uses */
  const k = (tag = 'k') => `${tag}:${++n}`;

  before(async () => {
    url = await freshDatabase();
    srv = await startTalus([], { databaseUrl: url });
    r = srv.client();
    db = new pg.Client({ connectionString: url });
    await db.connect();
  });
  after(async () => {
    await db?.end();
    await srv?.stop();
  });

  /** Effects logged for `key` (as latin1 strings) with seq > `after`, once committed. */
  async function effectsFor(key: string, after: number, expected: number): Promise<string[][]> {
    let rows: string[][] = [];
    for (let i = 0; i < 100; i++) {
      rows = (await effectsAfter(after)).filter((e) => e[1] === key);
      if (rows.length >= expected) return rows;
      await sleep(50);
    }
    return rows;
  }
  /** Every committed effect with seq > `after`, decoded from the change-log segments. */
  async function effectsAfter(after: number): Promise<string[][]> {
    const res = await db.query<{ first_seq: string; records: Buffer }>(
      'SELECT first_seq, records FROM talus.changelog WHERE last_seq > $1 ORDER BY first_seq', [after]);
    return res.rows
      .flatMap((row) => decodeSegment(Number(row.first_seq), row.records))
      .filter((rec) => rec.seq > after)
      .map((rec) => decodeEffect(rec.effect));
  }
  async function lastSeq(): Promise<number> {
    // wait until the flusher has written everything issued so far
    await sleep(100);
    const res = await db.query<{ seq: string | null }>('SELECT max(last_seq) AS seq FROM talus.changelog');
    return Number(res.rows[0]!.seq ?? 0);
  }

  /**
   * Make `key` a non-string (set, list or hash: whichever family is served);
   * skips the test while no other type exists.
   */
  async function makeOtherType(ctx: Mocha.Context, key: string): Promise<void> {
    for (const cmd of [['sadd', key, 'x'], ['rpush', key, 'x'], ['hset', key, 'f', 'v']]) {
      try {
        await r.call(cmd[0]!, ...cmd.slice(1));
        return;
      } catch (err) {
        if (!(err as Error).message.startsWith('ERR unknown command')) throw err;
      }
    }
    ctx.skip();
  }

  /** PTTL when the keys family serves it; undefined otherwise. */
  async function pttl(key: string): Promise<number | undefined> {
    try {
      return (await r.pttl(key)) as number;
    } catch (err) {
      if ((err as Error).message.startsWith('ERR unknown command')) return undefined;
      throw err;
    }
  }

  describe('arity', () => {
    const cases: Array<[string, number]> = [
      ['get', 0], ['get', 2], ['set', 1], ['setnx', 1], ['setnx', 3], ['setex', 2], ['psetex', 2],
      ['mget', 0], ['mset', 1], ['msetnx', 1], ['getset', 1], ['getdel', 0], ['getdel', 2], ['getex', 0],
      ['append', 1], ['strlen', 0], ['incr', 0], ['decr', 2], ['incrby', 1], ['decrby', 3], ['incrbyfloat', 1],
      ['setrange', 2], ['getrange', 2], ['substr', 4], ['lcs', 1],
    ];
    for (const [cmd, argc] of cases) {
      it(`${cmd} with ${argc} argument(s) is an arity error`, async () => {
        const args = Array.from({ length: argc }, (_, i) => `a${i}`);
        expect(await errorOf(r.call(cmd, ...args))).to.equal(`ERR wrong number of arguments for '${cmd}' command`);
      });
    }
    it('MSET and MSETNX need pairs', async () => {
      expect(await errorOf(r.call('mset', 'a', '1', 'b'))).to.equal("ERR wrong number of arguments for 'mset' command");
      expect(await errorOf(r.call('msetnx', 'a', '1', 'b'))).to.equal("ERR wrong number of arguments for 'msetnx' command");
    });
  });

  describe('COMMAND INFO', () => {
    it('reports Redis arity, flags and key positions', async function () {
      let info: unknown[];
      try {
        info = (await r.call('command', 'info', 'get', 'set', 'mset', 'lcs', 'getdel', 'setrange')) as unknown[];
      } catch (err) {
        if ((err as Error).message.startsWith('ERR unknown command')) this.skip();
        throw err;
      }
      const byName = new Map((info as unknown[][]).map((x) => [x[0] as string, x]));
      expect(byName.get('get')!.slice(1, 6)).to.deep.equal([2, ['readonly', 'fast'], 1, 1, 1]);
      expect(byName.get('set')!.slice(1, 6)).to.deep.equal([-3, ['write', 'denyoom'], 1, 1, 1]);
      expect(byName.get('mset')!.slice(1, 6)).to.deep.equal([-3, ['write', 'denyoom'], 1, -1, 2]);
      expect(byName.get('lcs')!.slice(1, 6)).to.deep.equal([-3, ['readonly'], 1, 2, 1]);
      expect(byName.get('getdel')!.slice(1, 6)).to.deep.equal([2, ['write', 'fast'], 1, 1, 1]);
      expect(byName.get('setrange')!.slice(1, 6)).to.deep.equal([4, ['write', 'denyoom'], 1, 1, 1]);
    });
  });

  describe('GET and SET', () => {
    it('sets and gets, including the empty string', async () => {
      const key = k();
      expect(await r.set(key, 'foobar')).to.equal('OK');
      expect(await r.get(key)).to.equal('foobar');
      expect(await r.set(key, '')).to.equal('OK');
      expect(await r.get(key)).to.equal('');
      expect(await r.get(k())).to.equal(null);
    });

    it('is binary-safe in keys and values', async () => {
      const key = Buffer.concat([Buffer.from('bin:'), BINARY]);
      await r.set(key, BINARY);
      expect((await r.getBuffer(key))!.equals(BINARY)).to.equal(true);
      expect(await r.strlen(key)).to.equal(BINARY.length);
      expect(await r.get(Buffer.concat([Buffer.from('bin:'), BINARY.subarray(0, 3)]))).to.equal(null);
    });

    it('keeps a big value intact', async () => {
      const key = k();
      const big = Buffer.alloc(3_000_000);
      for (let i = 0; i < big.length; i++) big[i] = (i * 7919) & 0xff;
      await r.set(key, big);
      expect((await r.getBuffer(key))!.equals(big)).to.equal(true);
    });

    it('NX and XX', async () => {
      const key = k();
      expect(await r.call('set', key, '1', 'XX')).to.equal(null);
      expect(await r.get(key)).to.equal(null);
      expect(await r.call('set', key, '1', 'nx')).to.equal('OK');
      expect(await r.call('set', key, '2', 'NX')).to.equal(null);
      expect(await r.get(key)).to.equal('1');
      expect(await r.call('set', key, '3', 'xx')).to.equal('OK');
      expect(await r.get(key)).to.equal('3');
      expect(await r.call('set', key, '4', 'NX', 'NX')).to.equal(null);
    });

    it('GET returns the old value, with NX and XX too', async () => {
      const key = k();
      expect(await r.call('set', key, 'a', 'GET')).to.equal(null);
      expect(await r.call('set', key, 'b', 'get')).to.equal('a');
      expect(await r.get(key)).to.equal('b');
      expect(await r.call('set', key, 'c', 'NX', 'GET')).to.equal('b');
      expect(await r.get(key)).to.equal('b');
      expect(await r.call('set', key, 'd', 'GET', 'XX')).to.equal('b');
      expect(await r.get(key)).to.equal('d');
      const missing = k();
      expect(await r.call('set', missing, 'x', 'GET', 'XX')).to.equal(null);
      expect(await r.get(missing)).to.equal(null);
      expect(await r.call('set', missing, 'x', 'GET', 'NX')).to.equal(null);
      expect(await r.get(missing)).to.equal('x');
    });

    it('syntax errors', async () => {
      const key = k();
      for (const opts of [
        ['non-existing-option'], ['NX', 'XX'], ['XX', 'NX'], ['EX'], ['EX', '10', 'PX', '100'], ['KEEPTTL', 'EX', '10'],
        ['EX', '10', 'KEEPTTL'], ['PXAT', '1', 'EXAT', '1'], ['PERSIST'], ['GET', 'foo'],
      ]) {
        expect(await errorOf(r.call('set', key, 'v', ...opts)), opts.join(' ')).to.equal('ERR syntax error');
      }
      expect(await r.get(key)).to.equal(null);
    });

    it('an expiry unit may repeat (the last value wins), as may NX and KEEPTTL', async () => {
      const key = k();
      expect(await r.call('set', key, 'v', 'PX', '100000', 'PX', '200')).to.equal('OK');
      const t = await pttl(key);
      if (t !== undefined) expect(t).to.be.within(1, 200);
      expect(await r.call('set', key, 'v', 'KEEPTTL', 'KEEPTTL')).to.equal('OK');
      await sleep(350);
      expect(await r.get(key)).to.equal(null);
    });

    it('invalid expire times', async () => {
      const key = k();
      for (const [unit, v] of [
        ['EX', '0'], ['PX', '-1'], ['EXAT', '0'], ['PXAT', '-5'], ['EX', '9223372036854775807'], ['PX', '9223372036854775807'],
        ['EX', '9223372036854776'],
      ]) {
        expect(await errorOf(r.call('set', key, 'v', unit!, v!)), `${unit} ${v}`).to.equal("ERR invalid expire time in 'set' command");
      }
      expect(await errorOf(r.call('set', key, 'v', 'EX', 'abc'))).to.equal('ERR value is not an integer or out of range');
      expect(await errorOf(r.call('set', key, 'v', 'EX', '1.5'))).to.equal('ERR value is not an integer or out of range');
      // the expiry is validated before GET's type check or NX
      expect(await errorOf(r.call('set', key, 'v', 'EX', '0', 'GET'))).to.equal("ERR invalid expire time in 'set' command");
      expect(await r.get(key)).to.equal(null);
      // the largest times are accepted
      expect(await r.call('set', key, 'v', 'PXAT', '9223372036854775807')).to.equal('OK');
      expect(await r.call('set', key, 'v', 'EXAT', '9223372036854775')).to.equal('OK');
      expect(await r.get(key)).to.equal('v');
    });

    it('EX, PX, EXAT and PXAT expire the key', async () => {
      const a = k(), b = k(), c = k(), d = k();
      await r.call('set', a, 'v', 'PX', '150');
      await r.call('set', b, 'v', 'PXAT', String(Date.now() + 150));
      await r.call('set', c, 'v', 'EX', '100');
      await r.call('set', d, 'v', 'EXAT', String(Math.floor(Date.now() / 1000) + 100));
      const tc = await pttl(c);
      if (tc !== undefined) {
        expect(tc).to.be.within(99_000, 100_000);
        expect(await pttl(d)).to.be.within(98_000, 100_000);
      }
      expect(await r.get(a)).to.equal('v');
      await sleep(300);
      expect(await r.get(a)).to.equal(null);
      expect(await r.get(b)).to.equal(null);
      expect(await r.get(c)).to.equal('v');
      expect(await r.get(d)).to.equal('v');
    });

    it('a plain SET clears the TTL, KEEPTTL keeps it', async () => {
      const a = k(), b = k();
      await r.call('set', a, 'v', 'PX', '200');
      await r.call('set', b, 'v', 'PX', '200');
      await r.set(a, 'w');
      expect(await r.call('set', b, 'w', 'KEEPTTL')).to.equal('OK');
      if ((await pttl(a)) !== undefined) {
        expect(await pttl(a)).to.equal(-1);
        expect(await pttl(b)).to.be.within(1, 200);
      }
      await sleep(350);
      expect(await r.get(a)).to.equal('w');
      expect(await r.get(b)).to.equal(null);
    });

    it('an absolute time already past deletes the key', async () => {
      const key = k();
      await r.set(key, 'old');
      expect(await r.call('set', key, 'new', 'PXAT', '1', 'GET')).to.equal('old');
      expect(await r.get(key)).to.equal(null);
      expect(await r.call('set', key, 'new', 'EXAT', '1')).to.equal('OK');
      expect(await r.get(key)).to.equal(null);
    });

    it('SET overwrites a key of another type; SET GET on it is WRONGTYPE', async function () {
      const key = k();
      await makeOtherType(this, key);
      expect(await errorOf(r.call('set', key, 'v', 'GET'))).to.equal('WRONGTYPE Operation against a key holding the wrong kind of value');
      expect(await r.call('set', key, 'v')).to.equal('OK');
      expect(await r.get(key)).to.equal('v');
    });

    it('GET of another type is WRONGTYPE', async function () {
      const key = k();
      await makeOtherType(this, key);
      expect(await errorOf(r.get(key))).to.equal('WRONGTYPE Operation against a key holding the wrong kind of value');
    });
  });

  describe('SETNX, SETEX, PSETEX, GETSET', () => {
    it('SETNX sets only a missing key', async () => {
      const key = k();
      expect(await r.setnx(key, 'a')).to.equal(1);
      expect(await r.setnx(key, 'b')).to.equal(0);
      expect(await r.get(key)).to.equal('a');
    });

    it('SETNX treats an expired key as missing', async () => {
      const key = k();
      await r.call('set', key, 'a', 'PX', '50');
      await sleep(120);
      expect(await r.setnx(key, 'b')).to.equal(1);
      expect(await r.get(key)).to.equal('b');
    });

    it('SETEX and PSETEX set a value with a TTL', async () => {
      const a = k(), b = k();
      expect(await r.setex(a, 100, 'v')).to.equal('OK');
      expect(await r.psetex(b, 150, 'w')).to.equal('OK');
      expect(await r.get(a)).to.equal('v');
      expect(await r.get(b)).to.equal('w');
      await sleep(300);
      expect(await r.get(a)).to.equal('v');
      expect(await r.get(b)).to.equal(null);
    });

    it('SETEX and PSETEX errors', async () => {
      const key = k();
      expect(await errorOf(r.call('setex', key, '0', 'v'))).to.equal("ERR invalid expire time in 'setex' command");
      expect(await errorOf(r.call('setex', key, '-1', 'v'))).to.equal("ERR invalid expire time in 'setex' command");
      expect(await errorOf(r.call('psetex', key, '0', 'v'))).to.equal("ERR invalid expire time in 'psetex' command");
      expect(await errorOf(r.call('setex', key, 'x', 'v'))).to.equal('ERR value is not an integer or out of range');
      expect(await r.get(key)).to.equal(null);
    });

    it('GETSET returns the old value and drops the TTL', async () => {
      const key = k();
      expect(await r.getset(key, 'a')).to.equal(null);
      await r.call('set', key, 'b', 'PX', '150');
      expect(await r.getset(key, 'c')).to.equal('b');
      await sleep(250);
      expect(await r.get(key)).to.equal('c');
    });

    it('GETSET on another type is WRONGTYPE', async function () {
      const key = k();
      await makeOtherType(this, key);
      expect(await errorOf(r.getset(key, 'v'))).to.match(/^WRONGTYPE/);
    });
  });

  describe('MGET, MSET, MSETNX', () => {
    it('MSET sets every pair, the last of a repeated key wins; MGET reads them', async () => {
      const a = k(), b = k(), c = k();
      expect(await r.mset(a, '10', b, 'foo bar', c, 'x x\n\n\r\n', a, '11')).to.equal('OK');
      expect(await r.mget(a, b, c, k())).to.deep.equal(['11', 'foo bar', 'x x\n\n\r\n', null]);
    });

    it('MSET of more keys than the lookup memos hold (16): repeated keys, keys of other types, each key once in MGET and DBSIZE', async function () {
      // Keyspace.entryOf and keyName remember a command's last 16 keys: past
      // them, and with a key repeated across that boundary, every key must
      // still resolve to its one entry.
      const keys = Array.from({ length: 20 }, () => k());
      const other = k();
      await makeOtherType(this, other);
      const before = await r.dbsize();
      const args: string[] = [];
      keys.forEach((key, i) => args.push(key, `v${i}`));
      args.push(keys[0]!, 'again', other, 'now a string', keys[19]!, 'last', keys[3]!, 'x');
      expect(await r.mset(...args)).to.equal('OK');
      expect(await r.dbsize()).to.equal(before + 20);
      const expected = keys.map((_, i) => `v${i}`);
      expected[0] = 'again';
      expected[19] = 'last';
      expected[3] = 'x';
      expect(await r.mget(...keys, other)).to.deep.equal([...expected, 'now a string']);
      expect(await r.type(other)).to.equal('string');
    });

    it('MSET drops existing TTLs', async () => {
      const a = k();
      await r.call('set', a, 'v', 'PX', '100');
      await r.mset(a, 'w');
      await sleep(200);
      expect(await r.get(a)).to.equal('w');
    });

    it('MGET returns nil for keys of other types', async function () {
      const a = k(), s = k();
      await r.set(a, 'v');
      await makeOtherType(this, s);
      expect(await r.mget(a, s)).to.deep.equal(['v', null]);
    });

    it('MSETNX sets all or nothing', async () => {
      const a = k(), b = k(), c = k();
      await r.set(a, 'old');
      expect(await r.msetnx(b, '1', c, '2', a, '3')).to.equal(0);
      expect(await r.mget(a, b, c)).to.deep.equal(['old', null, null]);
      expect(await r.msetnx(b, '1', c, '2')).to.equal(1);
      expect(await r.mget(b, c)).to.deep.equal(['1', '2']);
      const d = k();
      expect(await r.msetnx(d, 'x', d, 'y')).to.equal(1);
      expect(await r.get(d)).to.equal('y');
    });

    it('MSET is binary-safe', async () => {
      const a = k();
      await r.mset(a, BINARY);
      expect((await r.mgetBuffer(a))[0]!.equals(BINARY)).to.equal(true);
    });
  });

  describe('GETDEL and GETEX', () => {
    it('GETDEL returns and deletes', async () => {
      const key = k();
      await r.set(key, 'bar');
      expect(await r.getdel(key)).to.equal('bar');
      expect(await r.getdel(key)).to.equal(null);
      expect(await r.get(key)).to.equal(null);
    });

    it('GETEX without options is a GET', async () => {
      const key = k();
      await r.call('set', key, 'v', 'PX', '150');
      expect(await r.getex(key)).to.equal('v');
      await sleep(250);
      expect(await r.getex(key)).to.equal(null);
    });

    it('GETEX EX, PX, EXAT, PXAT set the TTL', async () => {
      const a = k(), b = k(), c = k(), d = k();
      for (const x of [a, b, c, d]) await r.set(x, 'v');
      expect(await r.call('getex', a, 'PX', '150')).to.equal('v');
      expect(await r.call('getex', b, 'pxat', String(Date.now() + 150))).to.equal('v');
      expect(await r.call('getex', c, 'EX', '100', 'EX', '100')).to.equal('v');
      expect(await r.call('getex', d, 'EXAT', String(Math.floor(Date.now() / 1000) + 100))).to.equal('v');
      const t = await pttl(c);
      if (t !== undefined) {
        expect(t).to.be.within(99_000, 100_000);
        expect(await pttl(a)).to.be.within(1, 150);
      }
      await sleep(300);
      expect(await r.mget(a, b, c, d)).to.deep.equal([null, null, 'v', 'v']);
    });

    it('GETEX PERSIST removes the TTL', async () => {
      const key = k();
      await r.call('set', key, 'v', 'PX', '150');
      expect(await r.call('getex', key, 'persist')).to.equal('v');
      if ((await pttl(key)) !== undefined) expect(await pttl(key)).to.equal(-1);
      await sleep(250);
      expect(await r.get(key)).to.equal('v');
    });

    it('GETEX with a past absolute time deletes the key after returning it', async () => {
      const key = k();
      await r.set(key, 'v');
      expect(await r.call('getex', key, 'PXAT', '1')).to.equal('v');
      expect(await r.get(key)).to.equal(null);
    });

    it('GETEX errors', async () => {
      const key = k();
      await r.set(key, 'v');
      for (const opts of [['foo'], ['NX'], ['XX'], ['GET'], ['KEEPTTL'], ['PERSIST', 'EX', '10'], ['EX', '10', 'PX', '10'], ['EX']]) {
        expect(await errorOf(r.call('getex', key, ...opts)), opts.join(' ')).to.equal('ERR syntax error');
      }
      expect(await errorOf(r.call('getex', key, 'EX', '0'))).to.equal("ERR invalid expire time in 'getex' command");
      expect(await errorOf(r.call('getex', key, 'PX', 'x'))).to.equal('ERR value is not an integer or out of range');
      // a missing key is looked up before the time is validated
      expect(await r.call('getex', k(), 'EX', '0')).to.equal(null);
      expect(await errorOf(r.call('getex', k(), 'foo'))).to.equal('ERR syntax error');
    });

    it('GETDEL and GETEX on another type are WRONGTYPE', async function () {
      const key = k();
      await makeOtherType(this, key);
      expect(await errorOf(r.getdel(key))).to.match(/^WRONGTYPE/);
      expect(await errorOf(r.call('getex', key, 'persist'))).to.match(/^WRONGTYPE/);
    });
  });

  describe('APPEND and STRLEN', () => {
    it('APPEND creates and extends, binary-safe', async () => {
      const key = k();
      expect(await r.append(key, 'foo')).to.equal(3);
      expect(await r.append(key, BINARY)).to.equal(3 + BINARY.length);
      expect((await r.getBuffer(key))!.equals(Buffer.concat([Buffer.from('foo'), BINARY]))).to.equal(true);
      expect(await r.append(key, '')).to.equal(3 + BINARY.length);
    });

    it('APPEND of nothing to a missing key creates an empty string', async () => {
      const key = k();
      expect(await r.append(key, '')).to.equal(0);
      expect(await r.get(key)).to.equal('');
    });

    it('APPEND keeps the TTL', async () => {
      const key = k();
      await r.call('set', key, 'a', 'PX', '60000');
      await r.append(key, 'b');
      expect(await r.get(key)).to.equal('ab');
      expect(await r.pttl(key)).to.be.within(1, 60000);
    });

    it('STRLEN', async () => {
      const key = k();
      expect(await r.strlen(key)).to.equal(0);
      await r.set(key, '-555');
      expect(await r.strlen(key)).to.equal(4);
      await r.set(key, 'foozzz0123456789 baz');
      expect(await r.strlen(key)).to.equal(20);
    });

    it('APPEND and STRLEN on another type are WRONGTYPE', async function () {
      const key = k();
      await makeOtherType(this, key);
      expect(await errorOf(r.append(key, 'v'))).to.match(/^WRONGTYPE/);
      expect(await errorOf(r.strlen(key))).to.match(/^WRONGTYPE/);
    });
  });

  describe('INCR, DECR, INCRBY, DECRBY', () => {
    it('count from a missing key', async () => {
      const key = k();
      expect(await r.incr(key)).to.equal(1);
      expect(await r.get(key)).to.equal('1');
      expect(await r.incrby(key, 10)).to.equal(11);
      expect(await r.decr(key)).to.equal(10);
      expect(await r.decrby(key, 20)).to.equal(-10);
      expect(await r.get(key)).to.equal('-10');
    });

    it('work beyond 32 bits and up to the int64 limits', async () => {
      const key = k();
      await r.set(key, '17179869184');
      expect(await r.incrby(key, 17179869184)).to.equal(34359738368);
      await r.set(key, '9223372036854775806');
      expect(await r.call('incr', key)).to.equal(9223372036854775807);
      expect(await r.get(key)).to.equal('9223372036854775807');
      expect(await errorOf(r.incr(key))).to.equal('ERR increment or decrement would overflow');
      await r.set(key, '-9223372036854775808');
      expect(await errorOf(r.decr(key))).to.equal('ERR increment or decrement would overflow');
      expect(await errorOf(r.call('incrby', key, '-1'))).to.equal('ERR increment or decrement would overflow');
      expect(await r.get(key)).to.equal('-9223372036854775808');
    });

    it('DECRBY of the smallest int64 is refused', async () => {
      const key = k();
      await r.set(key, '0');
      expect(await errorOf(r.call('decrby', key, '-9223372036854775808'))).to.equal('ERR decrement would overflow');
    });

    it('reject values that are not strict integers', async () => {
      const key = k();
      for (const v of ['    11', '11    ', ' 11 ', '+1', '01', '-0', '1.0', '', 'abc', '99999999999999999999', '1\x00']) {
        await r.set(key, v);
        expect(await errorOf(r.incr(key)), JSON.stringify(v)).to.equal('ERR value is not an integer or out of range');
      }
      expect(await errorOf(r.call('incrby', k(), 'x'))).to.equal('ERR value is not an integer or out of range');
      expect(await errorOf(r.call('incrby', k(), '9223372036854775808'))).to.equal('ERR value is not an integer or out of range');
    });

    it('keep the TTL', async () => {
      const key = k();
      await r.call('set', key, '5', 'PX', '150');
      expect(await r.incr(key)).to.equal(6);
      await sleep(250);
      expect(await r.get(key)).to.equal(null);
    });

    it('INCR on another type is WRONGTYPE', async function () {
      const key = k();
      await makeOtherType(this, key);
      expect(await errorOf(r.incr(key))).to.match(/^WRONGTYPE/);
      // the increment argument is checked first
      expect(await errorOf(r.call('incrby', key, 'x'))).to.equal('ERR value is not an integer or out of range');
    });
  });

  describe('INCRBYFLOAT', () => {
    it('computes in long double like Redis on x86-64', async () => {
      const key = k();
      expect(await r.incrbyfloat(key, '1')).to.equal('1');
      expect(await r.incrbyfloat(key, '0.25')).to.equal('1.25');
      await r.set(key, '0.1');
      expect(await r.incrbyfloat(key, '0.2')).to.equal('0.3');
      await r.set(key, '1');
      expect(await r.incrbyfloat(key, '-1.1')).to.equal('-0.1');
      await r.set(key, '10.50');
      expect(await r.incrbyfloat(key, '0.1')).to.equal('10.6');
      expect(await r.incrbyfloat(key, '-5')).to.equal('5.6');
      await r.set(key, '5.0e3');
      expect(await r.incrbyfloat(key, '2.0e2')).to.equal('5200');
      expect(await r.incrbyfloat(key, '0x10')).to.equal('5216');
      expect(await r.incrbyfloat(key, '0x1.8p3')).to.equal('5228');
      await r.set(key, '17179869184');
      expect(await r.incrbyfloat(key, '1.5')).to.equal('17179869185.5');
      const h = k();
      expect(await r.incrbyfloat(h, '1.23456789012345678901234567890')).to.equal('1.23456789012345679');
      expect(await r.incrbyfloat(h, '1e20')).to.equal('100000000000000000000');
      const t = k();
      expect(await r.incrbyfloat(t, '1e-20')).to.equal('0');
      expect(await r.incrbyfloat(k(), '2.5e-17')).to.equal('0.00000000000000002');
      expect(await r.incrbyfloat(k(), '1.5e-17')).to.equal('0.00000000000000002');
      expect(await r.incrbyfloat(k(), '123456789012345678901234567890.5')).to.equal('123456789012345678899921813504');
    });

    it('prints big results in full', async () => {
      const key = k();
      const out = await r.incrbyfloat(key, '1e400');
      expect(out).to.have.length(401);
      expect(out.startsWith('10000000000000000000281880683947586514586453433629052038625910693539685534008629862039363994848324160522')).to.equal(true);
      expect(out.endsWith('946880')).to.equal(true);
    });

    it('never yields negative zero', async () => {
      const key = k();
      await r.incrbyfloat(key, String(1 / 41));
      expect(await r.incrbyfloat(key, String(-1 / 41))).to.equal('0');
      expect(await r.incrbyfloat(k(), '-1e-20')).to.equal('0');
      expect(await r.get(key)).to.equal('0');
    });

    it('rejects invalid floats, in the value or the increment', async () => {
      const key = k();
      for (const v of ['    11', '11    ', ' 11 ', 'abc', '1e', '1\x002', 'nan', '1e5000', '1e-5000', '']) {
        await r.set(key, v);
        expect(await errorOf(r.incrbyfloat(key, '1')), JSON.stringify(v)).to.equal('ERR value is not a valid float');
      }
      await r.set(key, '1');
      for (const v of [' 1', 'x', 'nan', '1e5000', '0x', '1.5.', '']) {
        expect(await errorOf(r.call('incrbyfloat', key, v)), JSON.stringify(v)).to.equal('ERR value is not a valid float');
      }
      expect(await errorOf(r.call('incrbyfloat', key, 'x'.repeat(6000)))).to.equal('ERR value is not a valid float');
      expect(await r.get(key)).to.equal('1');
    });

    it('refuses NaN and infinity results', async () => {
      const key = k();
      await r.set(key, '0');
      expect(await errorOf(r.incrbyfloat(key, '+inf'))).to.equal('ERR increment would produce NaN or Infinity');
      expect(await errorOf(r.incrbyfloat(key, '-Infinity'))).to.equal('ERR increment would produce NaN or Infinity');
      await r.set(key, '1.18973149535723176502e+4932');
      expect(await errorOf(r.incrbyfloat(key, '1e4932'))).to.equal('ERR increment would produce NaN or Infinity');
      expect(await r.get(key)).to.equal('1.18973149535723176502e+4932');
    });

    it('keeps the TTL', async () => {
      const key = k();
      await r.call('set', key, '1.5', 'PX', '60000');
      expect(await r.incrbyfloat(key, '1')).to.equal('2.5');
      expect(await r.pttl(key)).to.be.within(1, 60000);
    });

    it('INCRBYFLOAT on another type is WRONGTYPE', async function () {
      const key = k();
      await makeOtherType(this, key);
      expect(await errorOf(r.incrbyfloat(key, '1'))).to.match(/^WRONGTYPE/);
    });
  });

  describe('SETRANGE, GETRANGE, SUBSTR', () => {
    it('SETRANGE on a missing key pads with zero bytes', async () => {
      const key = k();
      expect(await r.setrange(key, 0, '')).to.equal(0);
      expect(await r.get(key)).to.equal(null);
      expect(await r.setrange(key, 1, 'foo')).to.equal(4);
      expect(await r.get(key)).to.equal('\x00foo');
    });

    it('SETRANGE overwrites and extends', async () => {
      const key = k();
      await r.set(key, 'foo');
      expect(await r.setrange(key, 0, 'b')).to.equal(3);
      expect(await r.get(key)).to.equal('boo');
      expect(await r.setrange(key, 0, '')).to.equal(3);
      expect(await r.setrange(key, 1, 'b')).to.equal(3);
      expect(await r.get(key)).to.equal('bbo');
      expect(await r.setrange(key, 4, 'bar')).to.equal(7);
      expect(await r.get(key)).to.equal('bbo\x00bar');
      await r.set(key, '1234');
      expect(await r.setrange(key, 5, BINARY)).to.equal(5 + BINARY.length);
      expect((await r.getBuffer(key))!.equals(Buffer.concat([Buffer.from('1234\x00'), BINARY]))).to.equal(true);
    });

    it('SETRANGE errors', async () => {
      const key = k();
      expect(await errorOf(r.setrange(key, 536870912 - 4, 'world'))).to.equal('ERR string exceeds maximum allowed size (proto-max-bulk-len)');
      await r.set(key, 'hello');
      expect(await errorOf(r.setrange(key, -1, 'world'))).to.equal('ERR offset is out of range');
      expect(await errorOf(r.setrange(key, 536870912 - 4, 'world'))).to.equal('ERR string exceeds maximum allowed size (proto-max-bulk-len)');
      expect(await errorOf(r.call('setrange', key, '9223372036854775807', 'A'))).to.equal('ERR string exceeds maximum allowed size (proto-max-bulk-len)');
      expect(await errorOf(r.call('setrange', key, 'x', 'A'))).to.equal('ERR value is not an integer or out of range');
      expect(await r.setrange(key, 536870912, '')).to.equal(5);
      expect(await r.get(key)).to.equal('hello');
    });

    it('SETRANGE keeps the TTL', async () => {
      const key = k();
      await r.call('set', key, 'abc', 'PX', '60000');
      await r.setrange(key, 1, 'X');
      expect(await r.get(key)).to.equal('aXc');
      expect(await r.pttl(key)).to.be.within(1, 60000);
    });

    it('GETRANGE', async () => {
      const key = k();
      expect(await r.getrange(k(), 0, -1)).to.equal('');
      await r.set(key, 'Hello World');
      expect(await r.getrange(key, 0, 3)).to.equal('Hell');
      expect(await r.getrange(key, 0, -1)).to.equal('Hello World');
      expect(await r.getrange(key, -4, -1)).to.equal('orld');
      expect(await r.getrange(key, 5, 3)).to.equal('');
      expect(await r.getrange(key, 5, 5000)).to.equal(' World');
      expect(await r.getrange(key, -5000, 10000)).to.equal('Hello World');
      expect(await r.getrange(key, -1, -5)).to.equal('');
      expect(await r.getrange(key, -100, -99)).to.equal('H');
      expect(await r.call('getrange', key, '0', '4294967297')).to.equal('Hello World');
      expect(await r.call('substr', key, '1', '2')).to.equal('el');
      await r.set(key, '');
      expect(await r.getrange(key, 0, -1)).to.equal('');
      await r.set(key, BINARY);
      expect((await r.getrangeBuffer(key, 1, 3)).equals(BINARY.subarray(1, 4))).to.equal(true);
    });

    it('GETRANGE errors', async () => {
      const key = k();
      expect(await errorOf(r.call('getrange', key, 'a', '1'))).to.equal('ERR value is not an integer or out of range');
      expect(await errorOf(r.call('getrange', key, '0', '99999999999999999999'))).to.equal('ERR value is not an integer or out of range');
    });

    it('SETRANGE and GETRANGE on another type are WRONGTYPE', async function () {
      const key = k();
      await makeOtherType(this, key);
      expect(await errorOf(r.setrange(key, 0, 'bar'))).to.match(/^WRONGTYPE/);
      expect(await errorOf(r.getrange(key, 0, 1))).to.match(/^WRONGTYPE/);
    });
  });

  describe('LCS', () => {
    const rna1 = 'CACCTTCCCAGGTAACAAACCAACCAACTTTCGATCTCTTGTAGATCTGTTCTCTAAACGAACTTTAAAATCTGTGTGGCTGTCACTCGGCTGCATGCTTAGTGCACTCACGCAGTATAATTAATAACTAATTACTGTCGTTGACAGGACACGAGTAACTCGTCTATCTTCTGCAGGCTGCTTACGGTTTCGTCCGTGTTGCAGCCGATCATCAGCACATCTAGGTTTCGTCCGGGTGTG';
    const rna2 = 'ATTAAAGGTTTATACCTTCCCAGGTAACAAACCAACCAACTTTCGATCTCTTGTAGATCTGTTCTCTAAACGAACTTTAAAATCTGTGTGGCTGTCACTCGGCTGCATGCTTAGTGCACTCACGCAGTATAATTAATAACTAATTACTGTCGTTGACAGGACACGAGTAACTCGTCTATCTTCTGCAGGCTGCTTACGGTTTCGTCCGTGTTGCAGCCGATCATCAGCACATCTAGGTTT';
    const rnalcs = 'ACCTTCCCAGGTAACAAACCAACCAACTTTCGATCTCTTGTAGATCTGTTCTCTAAACGAACTTTAAAATCTGTGTGGCTGTCACTCGGCTGCATGCTTAGTGCACTCACGCAGTATAATTAATAACTAATTACTGTCGTTGACAGGACACGAGTAACTCGTCTATCTTCTGCAGGCTGCTTACGGTTTCGTCCGTGTTGCAGCCGATCATCAGCACATCTAGGTTT';

    it('returns the common subsequence, its length, or its ranges', async () => {
      const a = k(), b = k();
      await r.mset(a, rna1, b, rna2);
      expect(await r.call('lcs', a, b)).to.equal(rnalcs);
      expect(await r.call('lcs', a, b, 'LEN')).to.equal(rnalcs.length);
      expect(await r.call('lcs', a, b, 'IDX')).to.deep.equal([
        'matches',
        [[[238, 238], [239, 239]], [[236, 236], [238, 238]], [[229, 230], [236, 237]], [[224, 224], [235, 235]], [[1, 222], [13, 234]]],
        'len', 227,
      ]);
      expect(await r.call('lcs', a, b, 'idx', 'withmatchlen')).to.deep.equal([
        'matches',
        [[[238, 238], [239, 239], 1], [[236, 236], [238, 238], 1], [[229, 230], [236, 237], 2], [[224, 224], [235, 235], 1], [[1, 222], [13, 234], 222]],
        'len', 227,
      ]);
      expect(await r.call('lcs', a, b, 'IDX', 'WITHMATCHLEN', 'MINMATCHLEN', '5')).to.deep.equal([
        'matches', [[[1, 222], [13, 234], 222]], 'len', 227,
      ]);
    });

    it('the documented example, and missing keys as empty strings', async () => {
      const a = k(), b = k();
      await r.mset(a, 'ohmytext', b, 'mynewtext');
      expect(await r.call('lcs', a, b)).to.equal('mytext');
      expect(await r.call('lcs', a, b, 'IDX', 'MINMATCHLEN', '4', 'WITHMATCHLEN')).to.deep.equal([
        'matches', [[[4, 7], [5, 8], 4]], 'len', 6,
      ]);
      expect(await r.call('lcs', a, b, 'IDX', 'MINMATCHLEN', '-5')).to.deep.equal([
        'matches', [[[4, 7], [5, 8]], [[2, 3], [0, 1]]], 'len', 6,
      ]);
      expect(await r.call('lcs', a, k())).to.equal('');
      expect(await r.call('lcs', k(), k(), 'IDX')).to.deep.equal(['matches', [], 'len', 0]);
    });

    it('is binary-safe', async () => {
      const a = k(), b = k();
      await r.mset(a, Buffer.from([0, 1, 0xff, 2, 0]), b, Buffer.from([0xff, 0, 3, 0]));
      expect((await r.callBuffer('lcs', a, b)) as Buffer).to.deep.equal(Buffer.from([0xff, 0]));
    });

    it('errors', async function () {
      const a = k(), b = k();
      expect(await errorOf(r.call('lcs', a, b, 'foo'))).to.equal('ERR syntax error');
      expect(await errorOf(r.call('lcs', a, b, 'MINMATCHLEN'))).to.equal('ERR syntax error');
      expect(await errorOf(r.call('lcs', a, b, 'MINMATCHLEN', 'x'))).to.equal('ERR value is not an integer or out of range');
      expect(await errorOf(r.call('lcs', a, b, 'IDX', 'LEN'))).to.equal('ERR If you want both the length and indexes, please just use IDX.');
      await makeOtherType(this, b);
      expect(await errorOf(r.call('lcs', a, b, 'foo'))).to.equal('ERR The specified keys must contain string values');
    });
  });

  describe('bitmaps: SETBIT, GETBIT, BITCOUNT, BITPOS, BITOP, BITFIELD', () => {
    it('SETBIT returns the old bit and grows the string with zero bytes', async () => {
      const key = k();
      expect(await r.setbit(key, 1, 1)).to.equal(0);
      expect((await r.getBuffer(key))!).to.deep.equal(Buffer.from([0x40]));
      await r.set(key, '@');
      expect(await r.setbit(key, 2, 1)).to.equal(0);
      expect(await r.setbit(key, 1, 0)).to.equal(1);
      expect((await r.getBuffer(key))!).to.deep.equal(Buffer.from([0x20]));
      expect(await r.setbit(key, 23, 1)).to.equal(0);
      expect((await r.getBuffer(key))!).to.deep.equal(Buffer.from([0x20, 0x00, 0x01]));
      const z = k();
      expect(await r.setbit(z, 0, 0)).to.equal(0);
      expect((await r.getBuffer(z))!).to.deep.equal(Buffer.from([0]));
    });

    it('SETBIT and GETBIT errors', async () => {
      const key = k();
      for (const off of ['-1', '4294967296', 'x', '1.5']) {
        expect(await errorOf(r.call('setbit', key, off, '1')), off).to.equal('ERR bit offset is not an integer or out of range');
        expect(await errorOf(r.call('getbit', key, off)), off).to.equal('ERR bit offset is not an integer or out of range');
      }
      for (const bit of ['-1', '2', '10', 'x', '01']) {
        expect(await errorOf(r.call('setbit', key, '0', bit)), bit).to.equal('ERR bit is not an integer or out of range');
      }
      expect(await errorOf(r.call('setbit', key, '0'))).to.equal("ERR wrong number of arguments for 'setbit' command");
      expect(await r.get(key)).to.equal(null);
    });

    it('GETBIT reads bits, 0 past the end or for a missing key', async () => {
      const key = k();
      await r.set(key, '`');
      expect(await Promise.all([0, 1, 2, 3, 8, 10000].map((i) => r.getbit(key, i)))).to.deep.equal([0, 1, 1, 0, 0, 0]);
      expect(await r.getbit(k(), 0)).to.equal(0);
    });

    it('SETBIT keeps the TTL', async () => {
      const key = k();
      await r.call('set', key, 'a', 'PX', '60000');
      await r.setbit(key, 7, 0);
      expect(await r.get(key)).to.equal('`');
      expect(await r.pttl(key)).to.be.within(1, 60000);
    });

    it('BITCOUNT with BYTE and BIT ranges', async () => {
      const key = k();
      await r.set(key, 'foobar');
      expect(await r.bitcount(key)).to.equal(26);
      expect(await r.bitcount(key, 0, 0)).to.equal(4);
      expect(await r.bitcount(key, 1, 1)).to.equal(6);
      expect(await r.call('bitcount', key, '1', '1', 'BYTE')).to.equal(6);
      expect(await r.call('bitcount', key, '5', '30', 'BIT')).to.equal(17);
      expect(await r.call('bitcount', key, '-5', '-1', 'bit')).to.equal(2);
      expect(await r.bitcount(key, -1, -2)).to.equal(0);
      expect(await r.bitcount(key, 100, 200)).to.equal(0);
      expect(await r.bitcount(k())).to.equal(0);
      const big = k();
      const buf = Buffer.alloc(10_001, 0xff);
      await r.set(big, buf);
      expect(await r.bitcount(big)).to.equal(80_008);
      expect(await r.call('bitcount', big, '3', '80000', 'BIT')).to.equal(79_998);
    });

    it('BITCOUNT errors (a missing key is 0 before any parsing)', async () => {
      const key = k();
      expect(await r.call('bitcount', key, 'a', 'b')).to.equal(0);
      await r.set(key, 'foobar');
      expect(await errorOf(r.call('bitcount', key, '1'))).to.equal('ERR syntax error');
      expect(await errorOf(r.call('bitcount', key, 'a', 'b'))).to.equal('ERR value is not an integer or out of range');
      expect(await errorOf(r.call('bitcount', key, '0', '1', 'foo'))).to.equal('ERR syntax error');
      expect(await errorOf(r.call('bitcount', key, '0', '1', 'bit', 'x'))).to.equal('ERR syntax error');
    });

    it('BITPOS', async () => {
      const key = k();
      await r.set(key, Buffer.from([0xff, 0xf0, 0x00]));
      expect(await r.bitpos(key, 0)).to.equal(12);
      expect(await r.bitpos(key, 1)).to.equal(0);
      expect(await r.bitpos(key, 1, 2)).to.equal(-1);
      expect(await r.call('bitpos', key, '1', '7', '15', 'BIT')).to.equal(7);
      expect(await r.call('bitpos', key, '0', '0', '11', 'BIT')).to.equal(-1);
      const ff = k();
      await r.set(ff, Buffer.from([0xff, 0xff, 0xff]));
      expect(await r.bitpos(ff, 0)).to.equal(24);
      expect(await r.bitpos(ff, 0, 0)).to.equal(24);
      expect(await r.bitpos(ff, 0, 0, -1)).to.equal(-1);
      expect(await r.call('bitpos', ff, '0', '0', '-1', 'bit')).to.equal(-1);
      expect(await r.bitpos(k(), 0)).to.equal(0);
      expect(await r.bitpos(k(), 1)).to.equal(-1);
      await r.set(key, '');
      expect(await r.bitpos(key, 0)).to.equal(-1);
    });

    it('BITPOS errors', async () => {
      const key = k();
      await r.set(key, 'x');
      expect(await errorOf(r.call('bitpos', key, '2'))).to.equal('ERR The bit argument must be 1 or 0.');
      expect(await errorOf(r.call('bitpos', key, 'x'))).to.equal('ERR value is not an integer or out of range');
      expect(await errorOf(r.call('bitpos', key, '0', 'x'))).to.equal('ERR value is not an integer or out of range');
      expect(await errorOf(r.call('bitpos', key, '0', '0', 'x', 'foo'))).to.equal('ERR syntax error');
      expect(await errorOf(r.call('bitpos', key, '0', '0', '1', 'bit', 'x'))).to.equal('ERR syntax error');
      expect(await r.call('bitpos', k(), '0', 'x')).to.equal(0);
    });

    it('BITOP AND, OR, XOR, NOT with zero padding; an empty result deletes the destination', async () => {
      const a = k(), b = k(), d = k();
      await r.mset(a, Buffer.from([0xff, 0x0f, 0xaa]), b, Buffer.from([0x0f, 0xff]));
      expect(await r.bitop('AND', d, a, b)).to.equal(3);
      expect(await r.getBuffer(d)).to.deep.equal(Buffer.from([0x0f, 0x0f, 0x00]));
      expect(await r.bitop('OR', d, a, b, k())).to.equal(3);
      expect(await r.getBuffer(d)).to.deep.equal(Buffer.from([0xff, 0xff, 0xaa]));
      expect(await r.bitop('XOR', d, a, b)).to.equal(3);
      expect(await r.getBuffer(d)).to.deep.equal(Buffer.from([0xf0, 0xf0, 0xaa]));
      expect(await r.bitop('NOT', d, b)).to.equal(2);
      expect(await r.getBuffer(d)).to.deep.equal(Buffer.from([0xf0, 0x00]));
      expect(await r.bitop('NOT', a, a)).to.equal(3);
      expect(await r.getBuffer(a)).to.deep.equal(Buffer.from([0x00, 0xf0, 0x55]));
      await r.call('set', d, 'x', 'PX', '100');
      expect(await r.bitop('OR', d, k(), k())).to.equal(0);
      expect(await r.get(d)).to.equal(null);
    });

    it('BITOP errors', async () => {
      const a = k(), d = k();
      expect(await errorOf(r.call('bitop', 'foo', d, a))).to.equal('ERR syntax error');
      expect(await errorOf(r.call('bitop', 'not', d, a, a))).to.equal('ERR BITOP NOT must be called with a single source key.');
      expect(await errorOf(r.call('bitop', 'and', d))).to.equal("ERR wrong number of arguments for 'bitop' command");
    });

    it('BITFIELD GET, SET, INCRBY and the #n form', async () => {
      const key = k();
      expect(await r.call('bitfield', key, 'SET', 'i8', '0', '-100', 'GET', 'i8', '0', 'GET', 'u8', '0')).to.deep.equal([0, -100, 156]);
      expect(await r.call('bitfield', key, 'set', 'u8', '#1', '255', 'get', 'u8', '8', 'incrby', 'u2', '100', '1', 'get', 'u4', '#25')).to.deep.equal([0, 255, 1, 4]);
      expect(await r.call('bitfield', key)).to.deep.equal([]);
      expect(await r.call('bitfield', k(), 'get', 'i64', '0', 'get', 'u63', '100')).to.deep.equal([0, 0]);
    });

    it('BITFIELD overflow WRAP, SAT and FAIL', async () => {
      const key = k();
      expect(
        await r.call('bitfield', key, 'set', 'i8', '0', '100', 'incrby', 'i8', '0', '100', 'overflow', 'sat', 'incrby', 'i8', '0', '100',
          'overflow', 'fail', 'incrby', 'i8', '0', '100', 'overflow', 'wrap', 'incrby', 'i8', '0', '100'),
      ).to.deep.equal([0, -56, 44, null, -112]);
      expect(
        await r.call('bitfield', key, 'set', 'u8', '0', '100', 'incrby', 'u8', '0', '200', 'overflow', 'sat', 'incrby', 'u8', '0', '200',
          'incrby', 'u8', '0', '-300', 'overflow', 'fail', 'incrby', 'u8', '0', '-1', 'overflow', 'wrap', 'incrby', 'u8', '0', '-1'),
      ).to.deep.equal([144, 44, 244, 0, null, 255]);
      // Redis's int64 arithmetic: a huge negative SET value saturates to the maximum
      expect(await r.call('bitfield', key, 'overflow', 'sat', 'set', 'i8', '0', '-9223372036854775808', 'get', 'i8', '0')).to.deep.equal([-1, 127]);
      const w = k();
      expect(
        await r.call('bitfield', w, 'set', 'i64', '0', '9223372036854775807', 'incrby', 'i64', '0', '1', 'overflow', 'sat',
          'incrby', 'i64', '0', '-1', 'incrby', 'i64', '0', '-9223372036854775808'),
      ).to.deep.equal([0, -9223372036854775808, -9223372036854775808, -9223372036854775808]);
    });

    it('BITFIELD creates and grows the string even when FAIL writes nothing', async () => {
      const key = k();
      expect(await r.call('bitfield', key, 'overflow', 'fail', 'incrby', 'u8', '8', '300')).to.deep.equal([null]);
      expect(await r.getBuffer(key)).to.deep.equal(Buffer.from([0, 0]));
    });

    it('BITFIELD errors and BITFIELD_RO', async () => {
      const key = k();
      for (const t of ['i65', 'u64', 'I8', 'x8', 'i0', 'u']) {
        expect(await errorOf(r.call('bitfield', key, 'get', t, '0')), t).to.equal(
          'ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.');
      }
      expect(await errorOf(r.call('bitfield', key, 'get', 'u8', '-1'))).to.equal('ERR bit offset is not an integer or out of range');
      expect(await errorOf(r.call('bitfield', key, 'get', 'u8', '#-1'))).to.equal('ERR bit offset is not an integer or out of range');
      expect(await errorOf(r.call('bitfield', key, 'set', 'u8', '0'))).to.equal('ERR syntax error');
      expect(await errorOf(r.call('bitfield', key, 'set', 'u8', '0', 'x'))).to.equal('ERR value is not an integer or out of range');
      expect(await errorOf(r.call('bitfield', key, 'overflow', 'foo'))).to.equal('ERR Invalid OVERFLOW type specified');
      expect(await errorOf(r.call('bitfield', key, 'foo'))).to.equal('ERR syntax error');
      expect(await errorOf(r.call('bitfield_ro', key, 'set', 'u8', '0', '1'))).to.equal('ERR BITFIELD_RO only supports the GET subcommand');
      expect(await r.exists(key)).to.equal(0);
      await r.set(key, 'A');
      expect(await r.call('bitfield_ro', key, 'get', 'u8', '0', 'get', 'i4', '4')).to.deep.equal([65, 1]);
      expect(await r.call('bitfield_ro', key)).to.deep.equal([]);
    });

    it('bitmap commands on another type are WRONGTYPE', async function () {
      const key = k();
      await makeOtherType(this, key);
      for (const cmd of [['setbit', key, '0', '1'], ['getbit', key, '0'], ['bitcount', key], ['bitpos', key, '1'],
        ['bitop', 'not', k(), key], ['bitfield', key, 'set', 'u8', '0', '1'], ['bitfield_ro', key, 'get', 'u8', '0']]) {
        expect(await errorOf(r.call(cmd[0]!, ...cmd.slice(1))), cmd[0]).to.match(/^WRONGTYPE/);
      }
    });
  });

  describe('effects in the change log', () => {
    it('SET logs the value and an absolute PXAT', async () => {
      const key = k('fx');
      const from = await lastSeq();
      await r.set(key, 'v');
      const at = Date.now() + 100_000;
      await r.call('set', key, 'w', 'EX', '100');
      await r.call('set', key, 'x', 'KEEPTTL');
      await r.call('set', key, 'y', 'NX'); // not written: no effect
      const fx = await effectsFor(key, from, 3);
      expect(fx).to.have.length(3);
      expect(fx[0]).to.deep.equal(['SET', key, 'v']);
      expect(fx[1]!.slice(0, 4)).to.deep.equal(['SET', key, 'w', 'PXAT']);
      expect(Number(fx[1]![4])).to.be.within(at - 1000, at + 1000);
      expect(fx[2]).to.deep.equal(['SET', key, 'x', 'PXAT', fx[1]![4]]);
    });

    it('INCR, INCRBYFLOAT and GETSET log the resulting value, keeping the TTL', async () => {
      const key = k('fx');
      const from = await lastSeq();
      await r.call('set', key, '10', 'PXAT', '99999999999999');
      await r.incrby(key, 5);
      await r.incrbyfloat(key, '0.5');
      await r.getset(key, 'z');
      const fx = await effectsFor(key, from, 4);
      expect(fx).to.deep.equal([
        ['SET', key, '10', 'PXAT', '99999999999999'],
        ['SET', key, '15', 'PXAT', '99999999999999'],
        ['SET', key, '15.5', 'PXAT', '99999999999999'],
        ['SET', key, 'z'],
      ]);
    });

    it('APPEND and SETRANGE log the bytes they wrote; GETDEL logs DEL', async () => {
      const key = k('fx');
      const from = await lastSeq();
      await r.append(key, 'ab');
      await r.append(key, 'cd');
      await r.setrange(key, 6, 'z');
      await r.getdel(key);
      const fx = await effectsFor(key, from, 4);
      expect(fx).to.deep.equal([
        ['SET', key, 'ab'],
        ['SETRANGE', key, '2', 'cd'],
        ['SETRANGE', key, '6', 'z'],
        ['DEL', key],
      ]);
    });

    it('GETEX logs PEXPIREAT, PERSIST or DEL; a plain GETEX logs nothing', async () => {
      const key = k('fx');
      const from = await lastSeq();
      await r.set(key, 'v');
      await r.call('getex', key);
      await r.call('getex', key, 'PXAT', '99999999999999');
      await r.call('getex', key, 'PERSIST');
      await r.call('getex', key, 'PERSIST'); // no TTL left: nothing to log
      await r.call('getex', key, 'PXAT', '1');
      const fx = await effectsFor(key, from, 4);
      expect(fx).to.deep.equal([
        ['SET', key, 'v'],
        ['PEXPIREAT', key, '99999999999999'],
        ['PERSIST', key],
        ['DEL', key],
      ]);
    });

    it('SETBIT logs itself when it changes something; BITFIELD logs the bytes it changed; BITOP logs SET or DEL', async () => {
      const key = k('fx'), d = k('fx');
      const from = await lastSeq();
      await r.setbit(key, 7, 1);
      await r.setbit(key, 7, 1); // unchanged: nothing logged
      await r.setbit(key, 100, 0); // grows the string
      await r.call('bitfield', key, 'SET', 'u8', '#20', '65', 'GET', 'u8', '0');
      await r.call('bitfield', key, 'SET', 'u8', '#20', '65'); // same value: nothing logged
      await r.call('bitfield', key, 'INCRBY', 'u4', '0', '1');
      await r.bitop('NOT', d, key);
      await r.bitop('AND', d, k('fx'));
      const fx = await effectsFor(key, from, 4);
      expect(fx).to.deep.equal([
        ['SETBIT', key, '7', '1'],
        ['SETBIT', key, '100', '0'],
        ['SETRANGE', key, '20', 'A'],
        ['SETRANGE', key, '0', '\x11'],
      ]);
      const fd = await effectsFor(d, from, 2);
      expect(fd.map((e) => e[0])).to.deep.equal(['SET', 'DEL']);
      expect(fd[0]![2]).to.have.length(21);
    });

    it('MSET and MSETNX log MSET', async () => {
      const a = k('fx'), b = k('fx');
      const from = await lastSeq();
      await r.mset(a, '1', b, '2');
      await r.msetnx(a, '3'); // refused: nothing logged
      const fx = (await effectsAfter(from)).filter((e) => e.includes(a));
      expect(fx).to.deep.equal([['MSET', a, '1', b, '2']]);
    });
  });

  describe('persistence', () => {
    it('values, TTLs and binary data survive a restart', async () => {
      const url2 = await freshDatabase();
      const dir = tempDir('strings');
      let s = await startTalus([], { databaseUrl: url2, dir });
      let c = s.client();
      const binKey = Buffer.concat([Buffer.from('b:'), BINARY]);
      await c.set('plain', 'hello');
      await c.set(binKey, BINARY);
      await c.incrby('counter', 41);
      await c.incr('counter');
      await c.incrbyfloat('float', '0.1');
      await c.incrbyfloat('float', '0.2');
      await c.append('log', 'one,');
      await c.append('log', 'two');
      await c.setrange('range', 3, 'x');
      await c.mset('m1', 'a', 'm2', 'b');
      await c.call('set', 'ttl-long', 'stays', 'EX', '1000');
      await c.call('set', 'ttl-short', 'goes', 'PX', '1500');
      await c.set('deleted', 'x');
      await c.getdel('deleted');
      await c.setbit('bits', 9, 1);
      await c.call('bitfield', 'bits', 'SET', 'u8', '#3', '200');
      await s.stop();

      s = await startTalus([], { databaseUrl: url2, dir });
      c = s.client();
      try {
        expect(await c.get('plain')).to.equal('hello');
        expect((await c.getBuffer(binKey))!.equals(BINARY)).to.equal(true);
        expect(await c.get('counter')).to.equal('42');
        expect(await c.incr('counter')).to.equal(43);
        expect(await c.get('float')).to.equal('0.3');
        expect(await c.get('log')).to.equal('one,two');
        expect(await c.get('range')).to.equal('\x00\x00\x00x');
        expect(await c.mget('m1', 'm2')).to.deep.equal(['a', 'b']);
        expect(await c.get('ttl-long')).to.equal('stays');
        expect(await c.get('deleted')).to.equal(null);
        expect(await c.getBuffer('bits')).to.deep.equal(Buffer.from([0, 0x40, 0, 200]));
        const t = await (async () => {
          try {
            return await c.pttl('ttl-long');
          } catch {
            return undefined;
          }
        })();
        if (t !== undefined) expect(t).to.be.within(990_000, 1_000_000);
        await sleep(1600);
        expect(await c.get('ttl-short')).to.equal(null);
      } finally {
        await s.stop();
      }
    });
  });
});
