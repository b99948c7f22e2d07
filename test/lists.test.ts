import { expect } from 'chai';
import type { Redis } from 'ioredis';
import { freshDatabase, startTalus, useTalus, type TalusProcess } from './support/harness.js';
import { rawReplies } from './support/raw-resp.js';
import { ListValue } from '../src/keyspace/values/list.js';
import { listCodec } from '../src/storage/list-codec.js';
import type { FlushBatch } from '../src/storage/batch.js';
import type { Entry } from '../src/keyspace/types.js';
import { errorOf, WRONGTYPE } from './support/assert.js';

/**
 * The list family against Redis 7.0 semantics (replies and error strings),
 * binary elements, RESP2/RESP3 nil shapes, the blocking commands, and
 * durability: restarts (clean and kill -9) and lists evicted to PostgreSQL,
 * read back and modified cold.
 */


/** Skip the test when another family's command is not served (yet). */
async function needs(ctx: Mocha.Context, p: Promise<unknown>): Promise<void> {
  try {
    await p;
  } catch (err) {
    if (/^ERR unknown (sub)?command/.test((err as Error).message)) ctx.skip();
    throw err;
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const raw = (s: string) => Buffer.from(s, 'latin1');

/** Wait until `n` clients are blocked, by INFO when it exists, else by a pause. */
async function blockedClients(r: Redis, n: number): Promise<void> {
  for (let i = 0; i < 200; i++) {
    let info: string;
    try {
      info = (await r.call('info', 'clients')) as string;
    } catch {
      await sleep(200);
      return;
    }
    const m = /blocked_clients:(\d+)/.exec(info);
    if (!m) {
      await sleep(200);
      return;
    }
    if (Number(m[1]) === n) return;
    await sleep(10);
  }
  throw new Error(`never saw ${n} blocked clients`);
}

describe('lists', function () {
  this.timeout(60_000);
  let srv: TalusProcess;
  let r: Redis;

  useTalus([], (s, c) => {
    srv = s;
    r = c;
  });
  beforeEach(async () => {
    await r.del('l', 'l2', 'src', 'dst', 's', 'nokey', 'bin', 'b1', 'b2');
  });

  describe('pushes and reads', () => {
    it('LPUSH/RPUSH are variadic and return the new length', async () => {
      expect(await r.lpush('l', 'a', 'b', 'c')).to.equal(3);
      expect(await r.rpush('l', '0', '1')).to.equal(5);
      expect(await r.lrange('l', 0, -1)).to.deep.equal(['c', 'b', 'a', '0', '1']);
      expect(await r.llen('l')).to.equal(5);
      expect(await r.llen('nokey')).to.equal(0);
    });

    it('LPUSHX/RPUSHX only push to existing lists', async () => {
      expect(await r.lpushx('l', 'a')).to.equal(0);
      expect(await r.rpushx('l', 'a')).to.equal(0);
      expect(await r.exists('l')).to.equal(0);
      await r.rpush('l', 'm');
      expect(await r.lpushx('l', 'b', 'a')).to.equal(3);
      expect(await r.rpushx('l', 'y', 'z')).to.equal(5);
      expect(await r.lrange('l', 0, -1)).to.deep.equal(['a', 'b', 'm', 'y', 'z']);
    });

    it('LINDEX handles negative and out-of-range indexes', async () => {
      await r.rpush('l', 'a', 'b', 'c');
      expect(await r.lindex('l', 0)).to.equal('a');
      expect(await r.lindex('l', -1)).to.equal('c');
      expect(await r.lindex('l', -3)).to.equal('a');
      expect(await r.lindex('l', 3)).to.equal(null);
      expect(await r.lindex('l', -4)).to.equal(null);
      expect(await r.lindex('nokey', 0)).to.equal(null);
      expect(await r.lindex('nokey', 'x')).to.equal(null); // key checked first, as in Redis
      expect(await errorOf(r.lindex('l', 'x'))).to.equal('ERR value is not an integer or out of range');
    });

    it('LRANGE clamps like Redis', async () => {
      await r.rpush('l', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9');
      expect(await r.lrange('l', 1, -2)).to.deep.equal(['1', '2', '3', '4', '5', '6', '7', '8']);
      expect(await r.lrange('l', -3, -1)).to.deep.equal(['7', '8', '9']);
      expect(await r.lrange('l', 6, 2)).to.deep.equal([]);
      expect(await r.lrange('l', -1000, 1000)).to.have.length(10);
      expect(await r.lrange('l', 0, -11)).to.deep.equal([]);
      expect(await r.lrange('l', 0, -10)).to.deep.equal(['0']);
      expect(await r.lrange('nokey', 0, -1)).to.deep.equal([]);
      expect(await errorOf(r.lrange('nokey', 'x', 1))).to.equal('ERR value is not an integer or out of range');
    });

    it('every list command answers WRONGTYPE on other types', async () => {
      await r.set('s', 'x');
      for (const cmd of [
        ['lpush', 's', 'a'], ['rpush', 's', 'a'], ['lpushx', 's', 'a'], ['rpushx', 's', 'a'],
        ['lpop', 's'], ['rpop', 's', '2'], ['llen', 's'], ['lindex', 's', '0'], ['lset', 's', '0', 'a'],
        ['lrange', 's', '0', '1'], ['ltrim', 's', '0', '1'], ['linsert', 's', 'before', 'a', 'b'],
        ['lrem', 's', '0', 'a'], ['lpos', 's', 'a'], ['lmove', 's', 'l', 'left', 'left'],
        ['rpoplpush', 's', 'l'], ['lmpop', '1', 's', 'left'], ['blpop', 's', '0'], ['brpop', 's', '0'],
        ['blmove', 's', 'l', 'left', 'right', '0'], ['brpoplpush', 's', 'l', '0'], ['blmpop', '0', '1', 's', 'left'],
      ]) {
        expect(await errorOf(r.call(cmd[0]!, ...cmd.slice(1))), cmd.join(' ')).to.equal(WRONGTYPE);
      }
      expect(await r.get('s')).to.equal('x');
    });

    it('keeps binary elements intact', async () => {
      const elems = [Buffer.from([0, 1, 2, 0xff, 0x0d, 0x0a]), Buffer.alloc(0), Buffer.from([0xc3, 0x28]), Buffer.alloc(70_000, 0xab)];
      await r.rpush(raw('bin\x00'), ...elems);
      expect(await r.lrangeBuffer(raw('bin\x00'), 0, -1)).to.deep.equal(elems);
      expect(await r.lindexBuffer(raw('bin\x00'), 2)).to.deep.equal(elems[2]);
      expect(await r.lpos(raw('bin\x00'), elems[0]!)).to.equal(0);
      expect(await r.lrem(raw('bin\x00'), 0, Buffer.alloc(0))).to.equal(1);
      expect(await r.lpopBuffer(raw('bin\x00'))).to.deep.equal(elems[0]);
      expect(await r.rpopBuffer(raw('bin\x00'))).to.deep.equal(elems[3]);
      await r.del(raw('bin\x00'));
    });
  });

  describe('pops', () => {
    it('LPOP/RPOP without and with a count', async () => {
      await r.rpush('l', 'a', 'b', 'c', 'd', 'e', 'f', 'g');
      expect(await r.lpop('l')).to.equal('a');
      expect(await r.rpop('l')).to.equal('g');
      expect(await r.lpop('l', 2)).to.deep.equal(['b', 'c']);
      expect(await r.rpop('l', 2)).to.deep.equal(['f', 'e']);
      expect(await r.lpop('l', 0)).to.deep.equal([]);
      expect(await r.rpop('l', 10)).to.deep.equal(['d']);
      expect(await r.exists('l')).to.equal(0);
      expect(await r.lpop('l')).to.equal(null);
    });

    it('LPOP/RPOP argument errors', async () => {
      expect(await errorOf(r.call('lpop', 'l', '1', '1'))).to.equal("ERR wrong number of arguments for 'lpop' command");
      expect(await errorOf(r.call('rpop', 'l', '-1'))).to.equal('ERR value is out of range, must be positive');
      expect(await errorOf(r.call('lpop', 'l', 'x'))).to.equal('ERR value is out of range, must be positive');
    });

    for (const proto of [2, 3]) {
      it(`nil shapes in RESP${proto}`, async () => {
        const nil = proto === 2 ? '$-1\r\n' : '_\r\n';
        const nilArray = proto === 2 ? '*-1\r\n' : '_\r\n';
        const replies = await rawReplies(srv.port, [
          ['hello', String(proto)],
          ['del', 'nokey', 'l'],
          ['rpush', 'l', 'x'],
          ['lpop', 'l', '0'],
          ['rpop', 'l', '0'],
          ['lpop', 'nokey'],
          ['lpop', 'nokey', '0'],
          ['rpop', 'nokey', '1'],
          ['lmpop', '1', 'nokey', 'left'],
          ['lindex', 'nokey', '0'],
          ['lpos', 'l', 'zz'],
          ['blpop', 'nokey', '0.01'],
          ['blmove', 'nokey', 'l', 'left', 'left', '0.01'],
          ['multi'],
          ['blpop', 'nokey', '0'],
          ['brpoplpush', 'nokey', 'l', '0'],
          ['exec'],
        ]);
        const text = replies.slice(3).map((b) => b.toString('latin1'));
        expect(text.slice(0, 9)).to.deep.equal(['*0\r\n', '*0\r\n', nil, nilArray, nilArray, nilArray, nil, nil, nilArray]);
        expect(text[9]).to.equal(nilArray); // BLMOVE timeout: a nil array, as Redis 7 replies
        // inside MULTI: BLPOP gives a nil array, BRPOPLPUSH a nil bulk
        expect(text[13]).to.equal(`*2\r\n${nilArray}${nil}`);
      });
    }
  });

  describe('LSET / LTRIM / LINSERT / LREM', () => {
    it('LSET', async () => {
      expect(await errorOf(r.lset('nokey', 0, 'x'))).to.equal('ERR no such key');
      expect(await errorOf(r.call('lset', 'nokey', 'x', 'y'))).to.equal('ERR no such key');
      await r.rpush('l', 'a', 'b', 'c');
      expect(await r.lset('l', 1, 'B')).to.equal('OK');
      expect(await r.lset('l', -1, 'C')).to.equal('OK');
      expect(await errorOf(r.lset('l', 3, 'x'))).to.equal('ERR index out of range');
      expect(await errorOf(r.lset('l', -4, 'x'))).to.equal('ERR index out of range');
      expect(await errorOf(r.call('lset', 'l', 'x', 'y'))).to.equal('ERR value is not an integer or out of range');
      expect(await r.lrange('l', 0, -1)).to.deep.equal(['a', 'B', 'C']);
    });

    it('LTRIM', async () => {
      const trim = async (a: number, b: number) => {
        await r.del('l');
        await r.rpush('l', '1', '2', '3', '4', '5');
        expect(await r.ltrim('l', a, b)).to.equal('OK');
        return r.lrange('l', 0, -1);
      };
      expect(await trim(0, 0)).to.deep.equal(['1']);
      expect(await trim(1, -2)).to.deep.equal(['2', '3', '4']);
      expect(await trim(-2, -1)).to.deep.equal(['4', '5']);
      expect(await trim(-10, 10)).to.deep.equal(['1', '2', '3', '4', '5']);
      expect(await trim(0, -6)).to.deep.equal([]);
      expect(await r.exists('l')).to.equal(0);
      expect(await trim(3, 1)).to.deep.equal([]);
      expect(await r.ltrim('nokey', 0, 1)).to.equal('OK');
      expect(await errorOf(r.call('ltrim', 'nokey', 'a', '1'))).to.equal('ERR value is not an integer or out of range');
    });

    it('LINSERT', async () => {
      expect(await r.linsert('nokey', 'BEFORE', 'a', 'b')).to.equal(0);
      await r.rpush('l', 'a', 'b', 'c', 'd');
      expect(await r.linsert('l', 'BEFORE', 'c', 'zz')).to.equal(5);
      expect(await r.linsert('l', 'AFTER', 'c', 'yy')).to.equal(6);
      expect(await r.linsert('l', 'AFTER', 'd', 'dd')).to.equal(7);
      expect(await r.call('linsert', 'l', 'before', 'a', 'aa')).to.equal(8);
      expect(await r.linsert('l', 'AFTER', 'bad', 'x')).to.equal(-1);
      expect(await r.lrange('l', 0, -1)).to.deep.equal(['aa', 'a', 'b', 'zz', 'c', 'yy', 'd', 'dd']);
      expect(await errorOf(r.call('linsert', 'l', 'middle', 'a', 'b'))).to.equal('ERR syntax error');
      expect(await errorOf(r.call('linsert', 'nokey', 'middle', 'a', 'b'))).to.equal('ERR syntax error');
    });

    it('LREM from the head, the tail and everywhere', async () => {
      const fill = async () => {
        await r.del('l');
        await r.rpush('l', 'x', 'foo', 'bar', 'foo', 'zap', 'foo', 'y');
      };
      await fill();
      expect(await r.lrem('l', 2, 'foo')).to.equal(2);
      expect(await r.lrange('l', 0, -1)).to.deep.equal(['x', 'bar', 'zap', 'foo', 'y']);
      await fill();
      expect(await r.lrem('l', -2, 'foo')).to.equal(2);
      expect(await r.lrange('l', 0, -1)).to.deep.equal(['x', 'foo', 'bar', 'zap', 'y']);
      await fill();
      expect(await r.lrem('l', 0, 'foo')).to.equal(3);
      expect(await r.lrange('l', 0, -1)).to.deep.equal(['x', 'bar', 'zap', 'y']);
      expect(await r.lrem('l', 0, 'nothing')).to.equal(0);
      expect(await r.lrem('nokey', 0, 'a')).to.equal(0);
      expect(await errorOf(r.call('lrem', 'l', 'x', 'a'))).to.equal('ERR value is not an integer or out of range');
      await r.del('l');
      await r.rpush('l', 'a', 'a');
      expect(await r.lrem('l', 0, 'a')).to.equal(2);
      expect(await r.exists('l')).to.equal(0);
    });
  });

  describe('LPOS', () => {
    beforeEach(async () => {
      await r.rpush('l', 'a', 'b', 'c', '1', '2', '3', 'c', 'c');
    });

    it('RANK, COUNT and MAXLEN', async () => {
      expect(await r.lpos('l', 'a')).to.equal(0);
      expect(await r.lpos('l', 'c')).to.equal(2);
      expect(await r.lpos('l', 'c', 'RANK', 2)).to.equal(6);
      expect(await r.lpos('l', 'c', 'RANK', 4)).to.equal(null);
      expect(await r.lpos('l', 'c', 'RANK', -1)).to.equal(7);
      expect(await r.lpos('l', 'c', 'RANK', -2)).to.equal(6);
      expect(await r.lpos('l', 'c', 'COUNT', 0)).to.deep.equal([2, 6, 7]);
      expect(await r.lpos('l', 'c', 'COUNT', 2)).to.deep.equal([2, 6]);
      expect(await r.call('lpos', 'l', 'c', 'COUNT', '0', 'RANK', '2')).to.deep.equal([6, 7]);
      expect(await r.call('lpos', 'l', 'c', 'COUNT', '2', 'RANK', '-1')).to.deep.equal([7, 6]);
      expect(await r.lpos('l', 'c', 'COUNT', 0, 'MAXLEN', 1)).to.deep.equal([]);
      expect(await r.lpos('l', 'c', 'COUNT', 0, 'MAXLEN', 3)).to.deep.equal([2]);
      expect(await r.call('lpos', 'l', 'c', 'COUNT', '0', 'MAXLEN', '3', 'RANK', '-1')).to.deep.equal([7, 6]);
      expect(await r.lpos('l', 'x', 'COUNT', 2)).to.deep.equal([]);
      expect(await r.lpos('nokey', 'x', 'COUNT', 2)).to.deep.equal([]);
      expect(await r.lpos('nokey', 'x')).to.equal(null);
    });

    it('argument errors', async () => {
      expect(await errorOf(r.call('lpos', 'l', 'c', 'RANK', '0'))).to.equal(
        "ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list",
      );
      expect(await errorOf(r.call('lpos', 'l', 'c', 'RANK', 'x'))).to.equal('ERR value is not an integer or out of range');
      expect(await errorOf(r.call('lpos', 'l', 'c', 'COUNT', '-1'))).to.equal("ERR COUNT can't be negative");
      expect(await errorOf(r.call('lpos', 'l', 'c', 'MAXLEN', '-1'))).to.equal("ERR MAXLEN can't be negative");
      expect(await errorOf(r.call('lpos', 'l', 'c', 'COUNT'))).to.equal('ERR syntax error');
      expect(await errorOf(r.call('lpos', 'l', 'c', 'FOO', '1'))).to.equal('ERR syntax error');
    });
  });

  describe('LMOVE / RPOPLPUSH / LMPOP', () => {
    for (const from of ['LEFT', 'RIGHT'] as const) {
      for (const to of ['LEFT', 'RIGHT'] as const) {
        it(`LMOVE ${from} ${to}`, async () => {
          await r.rpush('src', 'a', 'b', 'c');
          await r.rpush('dst', 'x');
          const moved = await r.call('lmove', 'src', 'dst', from, to);
          expect(moved).to.equal(from === 'LEFT' ? 'a' : 'c');
          expect(await r.lrange('dst', 0, -1)).to.deep.equal(to === 'LEFT' ? [moved, 'x'] : ['x', moved]);
          expect(await r.llen('src')).to.equal(2);
        });
      }
    }

    it('rotates a list onto itself and deletes emptied sources', async () => {
      await r.rpush('l', 'a', 'b', 'c');
      expect(await r.rpoplpush('l', 'l')).to.equal('c');
      expect(await r.lrange('l', 0, -1)).to.deep.equal(['c', 'a', 'b']);
      expect(await r.lmove('l', 'l', 'LEFT', 'RIGHT')).to.equal('c');
      expect(await r.lrange('l', 0, -1)).to.deep.equal(['a', 'b', 'c']);
      await r.rpush('src', 'only');
      expect(await r.rpoplpush('src', 'dst')).to.equal('only');
      expect(await r.exists('src')).to.equal(0);
      expect(await r.lrange('dst', 0, -1)).to.deep.equal(['only']);
      await r.del('l');
      await r.rpush('l', 'solo');
      expect(await r.lmove('l', 'l', 'RIGHT', 'LEFT')).to.equal('solo');
      expect(await r.lrange('l', 0, -1)).to.deep.equal(['solo']);
    });

    it('missing sources and wrong types leave everything as it was', async () => {
      expect(await r.rpoplpush('nokey', 'dst')).to.equal(null);
      expect(await r.exists('dst')).to.equal(0);
      await r.rpush('src', 'a', 'b');
      await r.set('s', 'x');
      expect(await errorOf(r.rpoplpush('src', 's'))).to.equal(WRONGTYPE);
      expect(await r.lrange('src', 0, -1)).to.deep.equal(['a', 'b']);
      expect(await errorOf(r.call('lmove', 'src', 'dst', 'up', 'left'))).to.equal('ERR syntax error');
      expect(await errorOf(r.call('lmove', 'src', 'dst', 'left', 'down'))).to.equal('ERR syntax error');
    });

    it('LMPOP pops from the first non-empty list', async () => {
      await r.rpush('l2', '1', '2', '3', '4', '5');
      expect(await r.call('lmpop', '2', 'l', 'l2', 'LEFT')).to.deep.equal(['l2', ['1']]);
      expect(await r.call('lmpop', '2', 'l', 'l2', 'RIGHT', 'COUNT', '2')).to.deep.equal(['l2', ['5', '4']]);
      await r.rpush('l', 'a');
      expect(await r.call('lmpop', '2', 'l', 'l2', 'RIGHT', 'COUNT', '10')).to.deep.equal(['l', ['a']]);
      expect(await r.call('lmpop', '2', 'l', 'l2', 'LEFT', 'COUNT', '10')).to.deep.equal(['l2', ['2', '3']]);
      expect(await r.call('lmpop', '2', 'l', 'l2', 'LEFT')).to.equal(null);
      expect(await r.exists('l', 'l2')).to.equal(0);
    });

    it('LMPOP argument errors', async () => {
      expect(await errorOf(r.call('lmpop', '1', 'l'))).to.equal("ERR wrong number of arguments for 'lmpop' command");
      expect(await errorOf(r.call('lmpop', '0', 'l', 'LEFT'))).to.equal('ERR numkeys should be greater than 0');
      expect(await errorOf(r.call('lmpop', 'a', 'l', 'LEFT'))).to.equal('ERR numkeys should be greater than 0');
      expect(await errorOf(r.call('lmpop', '2', 'l', 'LEFT'))).to.equal('ERR syntax error');
      expect(await errorOf(r.call('lmpop', '1', 'l', 'bad'))).to.equal('ERR syntax error');
      expect(await errorOf(r.call('lmpop', '1', 'l', 'LEFT', 'COUNT', '1', 'COUNT', '2'))).to.equal('ERR syntax error');
      expect(await errorOf(r.call('lmpop', '1', 'l', 'LEFT', 'COUNT', '0'))).to.equal('ERR count should be greater than 0');
      expect(await errorOf(r.call('lmpop', '1', 'l', 'LEFT', 'COUNT', 'x'))).to.equal('ERR count should be greater than 0');
    });
  });

  describe('blocking', () => {
    let others: Redis[] = [];
    const other = () => {
      const c = srv.client();
      others.push(c);
      return c;
    };
    afterEach(() => {
      for (const c of others) c.disconnect();
      others = [];
    });

    it('BLPOP is served by a later LPUSH from another client', async () => {
      const a = other();
      const p = a.blpop('b1', 0);
      await blockedClients(r, 1);
      expect(await r.lpush('b1', 'x', 'y')).to.equal(2);
      expect(await p).to.deep.equal(['b1', 'y']);
      expect(await r.lrange('b1', 0, -1)).to.deep.equal(['x']);
      // the blocked client goes on working afterwards
      expect(await a.ping()).to.equal('PONG');
    });

    it('serves at once when a key has data, in argument order', async () => {
      await r.rpush('b2', 'two');
      expect(await r.blpop('b1', 'b2', 1)).to.deep.equal(['b2', 'two']);
      await r.rpush('b1', 'a', 'b');
      expect(await r.brpop('b1', 'b2', 1)).to.deep.equal(['b1', 'b']);
    });

    it('times out with a null reply', async () => {
      const t0 = Date.now();
      expect(await r.blpop('b1', 0.2)).to.equal(null);
      const took = Date.now() - t0;
      expect(took).to.be.at.least(180).and.below(2000);
      expect(await r.call('blmpop', '0.05', '2', 'b1', 'b2', 'LEFT')).to.equal(null);
      expect(await r.call('brpoplpush', 'b1', 'b2', '0.01')).to.equal(null);
    });

    it('timeout argument errors', async () => {
      expect(await errorOf(r.call('blpop', 'b1', 'x'))).to.equal('ERR timeout is not a float or out of range');
      expect(await errorOf(r.call('blpop', 'b1', '-1'))).to.equal('ERR timeout is negative');
      expect(await errorOf(r.call('blpop', 'b1', 'nan'))).to.equal('ERR timeout is not a float or out of range');
      expect(await errorOf(r.call('brpoplpush', 'b1', 'b2', '-0.5'))).to.equal('ERR timeout is negative');
      expect(await errorOf(r.call('blmove', 'b1', 'b2', 'left', 'up', '1'))).to.equal('ERR syntax error');
      expect(await errorOf(r.call('blmpop', 'x', '1', 'b1', 'left'))).to.equal('ERR timeout is not a float or out of range');
      expect(await errorOf(r.call('blmpop', '0', '0', 'b1', 'left'))).to.equal('ERR numkeys should be greater than 0');
    });

    it('serves blocked clients of one key in FIFO order', async () => {
      const a = other();
      const b = other();
      const pa = a.brpop('b1', 0);
      await blockedClients(r, 1);
      const pb = b.brpop('b1', 0);
      await blockedClients(r, 2);
      await r.rpush('b1', 'first');
      expect(await pa).to.deep.equal(['b1', 'first']);
      await r.rpush('b1', 'second');
      expect(await pb).to.deep.equal(['b1', 'second']);
    });

    it('one push of several elements serves several clients', async () => {
      const a = other();
      const b = other();
      const pa = a.blpop('b1', 0);
      await blockedClients(r, 1);
      const pb = b.call('blmpop', '0', '1', 'b1', 'RIGHT', 'COUNT', '2');
      await blockedClients(r, 2);
      await r.rpush('b1', '1', '2', '3', '4');
      expect(await pa).to.deep.equal(['b1', '1']);
      expect(await pb).to.deep.equal(['b1', ['4', '3']]);
      expect(await r.lrange('b1', 0, -1)).to.deep.equal(['2']);
    });

    it('blocks on several keys and is served by whichever gets data', async () => {
      const a = other();
      const p = a.blpop('b1', 'b2', 0);
      await blockedClients(r, 1);
      await r.rpush('b2', 'z');
      expect(await p).to.deep.equal(['b2', 'z']);
      expect(await r.exists('b2')).to.equal(0);
    });

    it('BLMOVE waits for the source and pushes to the destination', async () => {
      const a = other();
      await r.rpush('dst', 'old');
      const p = a.blmove('src', 'dst', 'RIGHT', 'LEFT', 0);
      await blockedClients(r, 1);
      await r.rpush('src', 'a', 'b');
      expect(await p).to.equal('b');
      expect(await r.lrange('dst', 0, -1)).to.deep.equal(['b', 'old']);
      expect(await r.lrange('src', 0, -1)).to.deep.equal(['a']);
    });

    it('a BLMOVE that pushes into a key wakes a client blocked on it', async () => {
      const a = other();
      const b = other();
      const pb = b.blpop('dst', 0);
      await blockedClients(r, 1);
      const pa = a.blmove('src', 'dst', 'LEFT', 'RIGHT', 0);
      await blockedClients(r, 2);
      await r.rpush('src', 'foo');
      expect(await pa).to.equal('foo');
      expect(await pb).to.deep.equal(['dst', 'foo']);
      expect(await r.exists('src', 'dst')).to.equal(0);
    });

    it('pushes inside MULTI/EXEC wake after EXEC, seeing its final state', async function () {
      const a = other();
      const p = a.blpop('b1', 0);
      await blockedClients(r, 1);
      const res = await r.multi().lpush('b1', 'a').lpush('b1', 'b').lpush('b1', 'c').exec();
      if (res === null || res.some(([err]) => err && /unknown command/.test(err.message))) this.skip();
      expect(await p).to.deep.equal(['b1', 'c']);
      expect(await r.lrange('b1', 0, -1)).to.deep.equal(['b', 'a']);
    });

    it('keys made ready by one EXEC are served in the order they were pushed', async function () {
      const a = other();
      const b = other();
      const pa = a.blpop('b1', 'b2', 0);
      await blockedClients(r, 1);
      const pb = b.blpop('b2', 'b1', 0);
      await blockedClients(r, 2);
      const res = await r.multi().rpush('b2', 'x').rpush('b1', 'y').exec();
      if (res === null || res.some(([err]) => err && /unknown command/.test(err.message))) this.skip();
      // b2 was signalled first: its first waiter (a) gets x; b then gets b1's y
      expect(await pa).to.deep.equal(['b2', 'x']);
      expect(await pb).to.deep.equal(['b1', 'y']);
    });

    it('a list renamed into place wakes a blocked client', async function () {
      const a = other();
      const p = a.blpop('b1', 0);
      await blockedClients(r, 1);
      await r.rpush('l', 'abc', 'def');
      await needs(this, r.rename('l', 'b1'));
      expect(await p).to.deep.equal(['b1', 'abc']);
      expect(await r.lrange('b1', 0, -1)).to.deep.equal(['def']);
    });

    it('does not block inside MULTI', async function () {
      await r.rpush('b2', 'x');
      const res = await r.multi().blpop('b1', 0).brpoplpush('b1', 'b2', 0).blpop('b2', 0).exec();
      if (res === null || res.some(([err]) => err && /unknown command/.test(err.message))) this.skip();
      expect(res.map(([, v]) => v)).to.deep.equal([null, null, ['b2', 'x']]);
    });

    it('a wrong-type destination is an error for the served client; the element stays', async () => {
      const a = other();
      await r.set('s', 'x');
      const p = errorOf(a.brpoplpush('src', 's', 0));
      await blockedClients(r, 1);
      await r.rpush('src', 'e');
      expect(await p).to.equal(WRONGTYPE);
      expect(await r.lrange('src', 0, -1)).to.deep.equal(['e']);
    });

    it('a client that disconnects while blocked is forgotten', async () => {
      const a = other();
      a.on('error', () => undefined);
      void a.blpop('b1', 0).catch(() => undefined);
      await blockedClients(r, 1);
      a.disconnect();
      await blockedClients(r, 0);
      await sleep(50);
      await r.rpush('b1', 'kept');
      await sleep(50);
      expect(await r.lrange('b1', 0, -1)).to.deep.equal(['kept']);
      // another client blocking afterwards is served normally
      const b = other();
      expect(await b.blpop('b1', 1)).to.deep.equal(['b1', 'kept']);
    });

    it('a blocked client keeps its later pipelined commands in order', async () => {
      const a = other();
      const p = Promise.all([a.blpop('b1', 0), a.lpush('b2', 'after'), a.llen('b1')]);
      await blockedClients(r, 1);
      expect(await r.exists('b2')).to.equal(0);
      await r.rpush('b1', 'x', 'y');
      expect(await p).to.deep.equal([['b1', 'x'], 1, 1]);
    });

    it('CLIENT UNBLOCK ends a wait with the timeout reply or an error', async function () {
      const a = other();
      const id = (await a.client('ID')) as number;
      const p = a.blpop('b1', 0);
      await blockedClients(r, 1);
      await needs(this, r.call('client', 'unblock', String(id)));
      expect(await p).to.equal(null);
      const p2 = errorOf(a.blpop('b1', 0));
      await blockedClients(r, 1);
      expect(await r.call('client', 'unblock', String(id), 'ERROR')).to.equal(1);
      expect(await p2).to.equal('UNBLOCKED client unblocked via CLIENT UNBLOCK');
      expect(await r.call('client', 'unblock', String(id))).to.equal(0);
    });
  });
});

/** A model of one list for the randomized durability test. */
function randomOps(r: Redis, key: string, model: string[], n: number, rnd: () => number): Promise<unknown>[] {
  const out: Promise<unknown>[] = [];
  const pick = () => (model.length ? model[Math.floor(rnd() * model.length)]! : 'none');
  for (let i = 0; i < n; i++) {
    const v = `v${Math.floor(rnd() * 50)}`;
    switch (Math.floor(rnd() * 9)) {
      case 0: model.unshift(v); out.push(r.lpush(key, v)); break;
      case 1: model.push(v, v + 'b'); out.push(r.rpush(key, v, v + 'b')); break;
      case 2: model.shift(); out.push(r.lpop(key)); break;
      case 3: model.pop(); out.push(r.rpop(key)); break;
      case 4: {
        if (!model.length) break;
        const idx = Math.floor(rnd() * model.length);
        model[idx] = v;
        out.push(r.lset(key, idx, v));
        break;
      }
      case 5: {
        const pivot = pick();
        const at = model.indexOf(pivot);
        const before = rnd() < 0.5;
        if (at >= 0) model.splice(before ? at : at + 1, 0, v);
        out.push(r.call('linsert', key, before ? 'BEFORE' : 'AFTER', pivot, v));
        break;
      }
      case 6: {
        const target = pick();
        const count = Math.floor(rnd() * 5) - 2;
        let removed = 0;
        if (count >= 0) {
          for (let k = 0; k < model.length && (count === 0 || removed < count); ) {
            if (model[k] === target) {
              model.splice(k, 1);
              removed++;
            } else k++;
          }
        } else {
          for (let k = model.length - 1; k >= 0 && removed < -count; k--) {
            if (model[k] === target) {
              model.splice(k, 1);
              removed++;
            }
          }
        }
        out.push(r.lrem(key, count, target));
        break;
      }
      case 7: {
        if (rnd() < 0.7) break;
        const a = Math.floor(rnd() * 3);
        const b = -1 - Math.floor(rnd() * 3);
        const len = model.length;
        const s = a;
        const e = len + b;
        const kept = s > e || s >= len ? [] : model.slice(s, e + 1);
        model.splice(0, model.length, ...kept);
        out.push(r.ltrim(key, a, b));
        break;
      }
      default: model.push(v); out.push(r.rpush(key, v));
    }
  }
  return out;
}

function mulberry32(seed: number): () => number {
  let a = seed;
  return () => {
    a |= 0;
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('lists: durability', function () {
  this.timeout(180_000);
  let srv: TalusProcess | undefined;
  afterEach(async () => {
    await srv?.stop();
    srv = undefined;
  });

  it('survives clean restarts and kill -9 after every kind of change', async () => {
    const databaseUrl = await freshDatabase();
    srv = await startTalus([], { databaseUrl });
    let r = srv.client();
    const models = new Map<string, string[]>();
    const rnd = mulberry32(42);
    for (let round = 0; round < 6; round++) {
      for (let k = 0; k < 8; k++) {
        const key = `rl${k}`;
        const model = models.get(key) ?? [];
        models.set(key, model);
        await Promise.all(randomOps(r, key, model, 60, rnd));
      }
      // binary and large elements too
      if (round === 0) {
        await r.rpush('bin', Buffer.from([0, 0xff, 13, 10]), Buffer.alloc(100_000, 7));
      }
      for (const [key, model] of models) expect(await r.lrange(key, 0, -1), `${key} round ${round}`).to.deep.equal(model);
      // every reply was acknowledged after its commit: kill -9 loses nothing
      if (round % 2 === 0) await srv.kill();
      else await srv.stop();
      srv = await startTalus([], { databaseUrl });
      r = srv.client();
      for (const [key, model] of models) {
        expect(await r.lrange(key, 0, -1), `${key} after restart ${round}`).to.deep.equal(model);
        expect(await r.llen(key)).to.equal(model.length);
      }
      expect(await r.lrangeBuffer('bin', 0, -1)).to.deep.equal([Buffer.from([0, 0xff, 13, 10]), Buffer.alloc(100_000, 7)]);
    }
  });

  it('long queues: pushes at one end, pops at the other, across restarts', async () => {
    const databaseUrl = await freshDatabase();
    srv = await startTalus([], { databaseUrl });
    let r = srv.client();
    let head = 0;
    let tail = 0;
    for (let round = 0; round < 3; round++) {
      const p: Promise<unknown>[] = [];
      for (let i = 0; i < 500; i++) p.push(r.rpush('q', String(tail++)));
      for (let i = 0; i < 300; i++) p.push(r.lpop('q').then(() => head++));
      await Promise.all(p);
      await srv.stop();
      srv = await startTalus([], { databaseUrl });
      r = srv.client();
      const all = await r.lrange('q', 0, -1);
      expect(all.length).to.equal(tail - head);
      expect(all[0]).to.equal(String(head));
      expect(all[all.length - 1]).to.equal(String(tail - 1));
      expect(await r.lindex('q', 10)).to.equal(String(head + 10));
    }
  });

  it('lists evicted under maxmemory are loaded back, changed cold, and survive a restart', async () => {
    const databaseUrl = await freshDatabase();
    srv = await startTalus(['--maxmemory', '1mb'], { databaseUrl });
    let r = srv.client();
    const N = 300;
    const elem = (k: number, i: number) => `key${k}-elem${i}-` + 'x'.repeat(200);
    for (let k = 0; k < N; k += 20) {
      const p = r.pipeline();
      for (let j = k; j < k + 20; j++) p.rpush(`cold${j}`, ...Array.from({ length: 20 }, (_, i) => elem(j, i)));
      await p.exec();
    }
    // ~300 * 20 * 250 bytes: far over 1mb, so most of them are cold now
    const evicted = /evicted_keys:(\d+)/.exec((await r.info('stats').catch(() => '')) as string);
    if (evicted) expect(Number(evicted[1])).to.be.above(100);
    for (let k = 0; k < N; k++) {
      const all = await r.lrange(`cold${k}`, 0, -1);
      expect(all.length, `cold${k}`).to.equal(20);
      expect(all[7]).to.equal(elem(k, 7));
    }
    // changes to cold lists: each one loads first
    for (let k = 0; k < N; k += 7) {
      await r.lpush(`cold${k}`, 'head');
      await r.rpop(`cold${k}`);
      await r.lset(`cold${k}`, 5, 'five');
      await r.linsert(`cold${k}`, 'AFTER', elem(k, 10), 'ins');
      await r.lrem(`cold${k}`, 1, elem(k, 2));
    }
    const expected = (k: number) => {
      const m = Array.from({ length: 20 }, (_, i) => elem(k, i));
      if (k % 7 !== 0) return m;
      m.unshift('head');
      m.pop();
      m[5] = 'five';
      m.splice(m.indexOf(elem(k, 10)) + 1, 0, 'ins');
      m.splice(m.indexOf(elem(k, 2)), 1);
      return m;
    };
    for (let k = 0; k < N; k++) expect(await r.lrange(`cold${k}`, 0, -1), `cold${k}`).to.deep.equal(expected(k));
    await srv.stop();
    srv = await startTalus(['--maxmemory', '1mb'], { databaseUrl });
    r = srv.client();
    for (let k = 0; k < N; k++) expect(await r.lrange(`cold${k}`, 0, -1), `cold${k} after restart`).to.deep.equal(expected(k));
  });

  it('a client blocked on a cold key is served when it is pushed', async () => {
    const databaseUrl = await freshDatabase();
    srv = await startTalus(['--maxmemory', '1mb'], { databaseUrl });
    const r = srv.client();
    const a = srv.client();
    await r.rpush('dest', 'd0');
    // push everything else out of memory
    for (let k = 0; k < 200; k += 20) {
      const p = r.pipeline();
      for (let j = k; j < k + 20; j++) p.rpush(`fill${j}`, ...Array.from({ length: 20 }, () => 'y'.repeat(300)));
      await p.exec();
    }
    const p = a.blmove('src', 'dest', 'LEFT', 'LEFT', 0);
    await blockedClients(r, 1);
    await r.rpush('src', 'moved');
    expect(await p).to.equal('moved');
    expect(await r.lrange('dest', 0, -1)).to.deep.equal(['moved', 'd0']);
  });
});

/**
 * The flush protocol of ListValue without a server: random operations,
 * stages applied to a simulated talus.lists table (rows by position), some
 * of them failing (unstage), and the table must always read back as the list.
 */
describe('lists: ListValue change tracking', () => {
  interface Staged {
    ops: Array<{ name: string; row: unknown[] }>;
    token: unknown;
    value: ListValue;
  }

  /** Stage like the flusher does: the rows to write, taken synchronously. */
  function stage(v: ListValue): Staged {
    const ops: Staged['ops'] = [];
    const batch = { add: (w: { name: string }, ...row: unknown[]) => ops.push({ name: w.name, row }) } as unknown as FlushBatch;
    const token = listCodec.stage(batch, { keyId: 1, value: v } as unknown as Entry);
    return { ops, token, value: v };
  }

  /** The commit of a stage: succeeds (rows written) or fails (changes handed back). */
  function settle(rows: Map<number, Buffer>, st: Staged, current: ListValue, ok: boolean): void {
    if (!ok) {
      listCodec.unstage!({ keyId: 1, value: current } as unknown as Entry, st.token);
      return;
    }
    const touched = new Set<number>();
    for (const { name, row } of st.ops) {
      if (name === 'list_put') {
        const pos = row[1] as number;
        expect(touched.has(pos), `row ${pos} written twice in one batch`).to.equal(false);
        touched.add(pos);
        rows.set(pos, row[2] as Buffer);
      } else if (name === 'list_del') {
        const [lo, hi] = [row[1] as number, row[2] as number];
        for (const p of [...rows.keys()]) {
          if (p >= lo && p < hi) {
            expect(touched.has(p), `row ${p} deleted and written in one batch`).to.equal(false);
            rows.delete(p);
          }
        }
      }
    }
  }

  function readBack(rows: Map<number, Buffer>): string[] {
    const pos = [...rows.keys()].sort((a, b) => a - b);
    if (pos.length === 0) return [];
    return ListValue.fromRows(pos, pos.map((p) => rows.get(p)!)).range(0, rows.size - 1).map((b) => b.toString());
  }

  it('PostgreSQL rows always match the list after each successful flush, failed ones included', () => {
    const rnd = mulberry32(7);
    for (let run = 0; run < 40; run++) {
      let v = new ListValue();
      let model: string[] = [];
      let rows = new Map<number, Buffer>();
      let inflight: Staged | undefined;
      let n = 0;
      for (let step = 0; step < 400; step++) {
        const s = `e${n++}`;
        const b = Buffer.from(s);
        const op = Math.floor(rnd() * 10);
        if (op === 0) (v.pushHead(b), model.unshift(s));
        else if (op === 1) (v.pushTail(b), model.push(s));
        else if (op === 2 && model.length) (v.popHead(), model.shift());
        else if (op === 3 && model.length) (v.popTail(), model.pop());
        else if (op === 4 && model.length) {
          const i = Math.floor(rnd() * model.length);
          v.set(i, b);
          model[i] = s;
        } else if (op === 5) {
          const i = Math.floor(rnd() * (model.length + 1));
          v.insert(i, b);
          model.splice(i, 0, s);
        } else if (op === 6 && model.length) {
          const idx = [...new Set(Array.from({ length: 1 + Math.floor(rnd() * 3) }, () => Math.floor(rnd() * model.length)))].sort((x, y) => x - y);
          v.removeIndexes(idx);
          for (let k = idx.length - 1; k >= 0; k--) model.splice(idx[k]!, 1);
        } else if (op === 7 && model.length) {
          const l = Math.floor(rnd() * 3);
          const r = Math.floor(rnd() * 3);
          v.trim(l, r);
          model.splice(0, Math.min(l, model.length));
          model.splice(Math.max(0, model.length - r), r);
        } else if (op === 8 || op === 9) {
          if (inflight === undefined) {
            inflight = stage(v);
          } else {
            const ok = rnd() < 0.7;
            const st = inflight;
            inflight = undefined;
            const before = new Map(rows);
            settle(rows, st, v, ok);
            if (!ok) expect(rows).to.deep.equal(before);
            if (ok && rnd() < 0.2) {
              // evicted once clean, loaded back: tracking restarts from the rows
              settle(rows, stage(v), v, true);
              expect(readBack(rows)).to.deep.equal(model);
              const pos = [...rows.keys()].sort((a, c) => a - c);
              if (pos.length) v = ListValue.fromRows(pos, pos.map((p) => rows.get(p)!));
            }
          }
        }
        expect(v.length).to.equal(model.length);
        if (model.length === 0) {
          // the key is deleted (rows to the janitor); a new key is a new incarnation
          rows = new Map();
          v = new ListValue();
          model = [];
          inflight = undefined;
        }
      }
      if (inflight) settle(rows, inflight, v, true);
      settle(rows, stage(v), v, true);
      expect(readBack(rows), `run ${run}`).to.deep.equal(model);
      expect([...v].map((b) => b.toString())).to.deep.equal(model);
    }
  });
});
