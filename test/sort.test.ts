import { expect } from 'chai';
import type { Redis } from 'ioredis';
import { freshDatabase, startTalus, useTalus, type TalusProcess } from './support/harness.js';
import { errorOf, WRONGTYPE } from './support/assert.js';

/**
 * SORT and SORT_RO against Redis 7.0 semantics: numeric and ALPHA sorts,
 * LIMIT, BY (keys and hash fields, constant = no sort), GET (#, keys, hash
 * fields), STORE, over lists, sets and sorted sets; and BY/GET keys that
 * are cold (evicted to PostgreSQL) when SORT runs.
 */


const sort = (r: Redis, ...args: Array<string | number>) => r.call('sort', ...args.map(String)) as Promise<unknown>;

describe('SORT', function () {
  this.timeout(60_000);
  let srv: TalusProcess;
  let r: Redis;

  useTalus([], (s, c) => {
    srv = s;
    r = c;
  });
  beforeEach(async () => {
    await r.flushall();
  });

  it('sorts lists numerically, DESC, ALPHA, with LIMIT', async () => {
    await r.rpush('l', '3', '1', '2', '10', '1.5');
    expect(await sort(r, 'l')).to.deep.equal(['1', '1.5', '2', '3', '10']);
    expect(await sort(r, 'l', 'DESC')).to.deep.equal(['10', '3', '2', '1.5', '1']);
    expect(await sort(r, 'l', 'ALPHA')).to.deep.equal(['1', '1.5', '10', '2', '3']);
    expect(await sort(r, 'l', 'ALPHA', 'DESC', 'LIMIT', 0, 2)).to.deep.equal(['3', '2']);
    expect(await sort(r, 'l', 'LIMIT', 1, 2)).to.deep.equal(['1.5', '2']);
    expect(await sort(r, 'l', 'LIMIT', -5, 2)).to.deep.equal(['1', '1.5']);
    expect(await sort(r, 'l', 'LIMIT', 10, 2)).to.deep.equal([]);
    expect(await sort(r, 'l', 'LIMIT', 3, -1)).to.deep.equal(['3', '10']);
    expect(await sort(r, 'nokey')).to.deep.equal([]);
    await r.rpush('sp', ' 1', '3', '', 'inf', '-inf');
    expect(await sort(r, 'sp')).to.deep.equal(['-inf', '', ' 1', '3', 'inf']);
  });

  it('errors', async () => {
    await r.rpush('l', '1', 'x', '3');
    expect(await errorOf(sort(r, 'l'))).to.equal("ERR One or more scores can't be converted into double");
    await r.rpush('big', '1e400');
    expect(await errorOf(sort(r, 'big'))).to.equal("ERR One or more scores can't be converted into double");
    expect(await errorOf(sort(r, 'l', 'STORE', 'dst'))).to.equal("ERR One or more scores can't be converted into double");
    expect(await r.exists('dst')).to.equal(0);
    expect(await sort(r, 'l', 'ALPHA')).to.deep.equal(['1', '3', 'x']);
    expect(await errorOf(sort(r, 'l', 'foo'))).to.equal('ERR syntax error');
    expect(await errorOf(sort(r, 'l', 'LIMIT', 1))).to.equal('ERR syntax error');
    expect(await errorOf(sort(r, 'l', 'LIMIT', 'a', 'b'))).to.equal('ERR value is not an integer or out of range');
    expect(await errorOf(sort(r, 'l', 'STORE'))).to.equal('ERR syntax error');
    expect(await errorOf(r.call('sort_ro', 'l', 'ALPHA', 'STORE', 'dst'))).to.equal('ERR syntax error');
    await r.set('str', 'x');
    expect(await errorOf(sort(r, 'str'))).to.equal(WRONGTYPE);
    await r.hset('h', 'a', '1');
    expect(await errorOf(r.call('sort_ro', 'h'))).to.equal(WRONGTYPE);
  });

  it('BY keys and hash fields, GET #, keys, hash fields and constants', async () => {
    await r.rpush('l', '3', '1', '2');
    await r.mset('w_1', '30', 'w_2', '10', 'w_3', '20', 'o_1', 'one', 'o_2', 'two');
    await r.hset('h_1', 'f', 'c', 'name', 'n1');
    await r.hset('h_2', 'f', 'a');
    await r.hset('h_3', 'f', 'b', 'name', 'n3');
    expect(await sort(r, 'l', 'BY', 'w_*')).to.deep.equal(['2', '3', '1']);
    expect(await sort(r, 'l', 'BY', 'w_*', 'DESC', 'LIMIT', 0, 1)).to.deep.equal(['1']);
    expect(await sort(r, 'l', 'BY', 'h_*->f', 'ALPHA')).to.deep.equal(['2', '3', '1']);
    expect(await sort(r, 'l', 'BY', 'w_*', 'GET', '#', 'GET', 'o_*', 'GET', 'h_*->name')).to.deep.equal([
      '2', 'two', null, '3', null, 'n3', '1', 'one', 'n1',
    ]);
    expect(await sort(r, 'l', 'GET', 'const')).to.deep.equal([null, null, null]);
    // a missing BY value counts as 0 (numeric) or sorts first (ALPHA)
    await r.rpush('l', '4');
    expect(await sort(r, 'l', 'BY', 'w_*')).to.deep.equal(['4', '2', '3', '1']);
    expect(await sort(r, 'l', 'BY', 'h_*->f', 'ALPHA', 'DESC')).to.deep.equal(['1', '3', '2', '4']);
    // the wrong type under a pattern key reads as missing
    await r.sadd('w_4', 'x');
    expect(await sort(r, 'l', 'GET', 'w_*')).to.deep.equal(['30', '10', '20', null]);
    expect(await sort(r, 'l', 'GET', 'w_*->f')).to.deep.equal([null, null, null, null]);
    // "->" with nothing after it is part of the key name
    await r.set('x_1->', 'arrow');
    expect(await sort(r, 'l', 'GET', 'x_*->')).to.deep.equal(['arrow', null, null, null]);
    await r.mset('w_4', 'notanumber');
    expect(await errorOf(sort(r, 'l', 'BY', 'w_*'))).to.equal("ERR One or more scores can't be converted into double");
  });

  it('BY a constant: native order (lists, zsets), LIMIT and DESC', async () => {
    await r.rpush('l', 'c', 'a', 'b');
    expect(await sort(r, 'l', 'BY', 'nosort')).to.deep.equal(['c', 'a', 'b']);
    expect(await sort(r, 'l', 'BY', 'nosort', 'DESC')).to.deep.equal(['b', 'a', 'c']);
    expect(await sort(r, 'l', 'BY', 'nosort', 'LIMIT', 1, 5)).to.deep.equal(['a', 'b']);
    await r.zadd('z', 1, 'a', 5, 'b', 2, 'c', 10, 'd', 3, 'e');
    expect(await sort(r, 'z', 'BY', 'nosort')).to.deep.equal(['a', 'c', 'e', 'b', 'd']);
    expect(await sort(r, 'z', 'BY', 'nosort', 'DESC', 'LIMIT', 0, 2)).to.deep.equal(['d', 'b']);
    expect(await sort(r, 'z', 'BY', 'nosort', 'LIMIT', -10, 100)).to.deep.equal(['a', 'c', 'e', 'b', 'd']);
    expect(await sort(r, 'z', 'ALPHA', 'DESC')).to.deep.equal(['e', 'd', 'c', 'b', 'a']);
    const tx = await r.multi().call('sort', 'z', 'BY', 'nosort', 'ASC').call('sort', 'z', 'BY', 'nosort', 'DESC').exec();
    expect(tx).to.deep.equal([[null, ['a', 'c', 'e', 'b', 'd']], [null, ['d', 'b', 'e', 'c', 'a']]]);
  });

  it('sets: sorted, and BY nosort + STORE sorts ALPHA for a deterministic result', async () => {
    await r.sadd('s', '5', '3', '9', '1');
    expect(await sort(r, 's')).to.deep.equal(['1', '3', '5', '9']);
    expect(await sort(r, 's', 'DESC', 'LIMIT', 0, 2)).to.deep.equal(['9', '5']);
    expect(await sort(r, 's', 'BY', 'nosort', 'STORE', 'dst')).to.equal(4);
    expect(await r.lrange('dst', 0, -1)).to.deep.equal(['1', '3', '5', '9']);
    expect(((await r.call('sort_ro', 's', 'BY', 'nosort')) as string[]).sort()).to.deep.equal(['1', '3', '5', '9']);
  });

  it('STORE writes a list, replaces any type, deletes on an empty result', async () => {
    await r.rpush('l', '3', '1', '2');
    await r.mset('w_1', 'a', 'w_2', 'b');
    await r.set('dst', 'string');
    expect(await sort(r, 'l', 'STORE', 'dst')).to.equal(3);
    expect(await r.type('dst')).to.equal('list');
    expect(await r.lrange('dst', 0, -1)).to.deep.equal(['1', '2', '3']);
    expect(await sort(r, 'l', 'GET', '#', 'GET', 'w_*', 'STORE', 'dst')).to.equal(6);
    expect(await r.lrange('dst', 0, -1)).to.deep.equal(['1', 'a', '2', 'b', '3', '']);
    expect(await sort(r, 'nokey', 'STORE', 'dst')).to.equal(0);
    expect(await r.exists('dst')).to.equal(0);
    expect(await sort(r, 'l', 'LIMIT', 5, 5, 'STORE', 'dst')).to.equal(0);
    expect(await r.exists('dst')).to.equal(0);
    // the last STORE wins
    expect(await sort(r, 'l', 'STORE', 'a', 'STORE', 'b')).to.equal(3);
    expect(await r.exists('a')).to.equal(0);
    expect(await r.llen('b')).to.equal(3);
    // a client blocked on the destination is served
    const waiter = srv.client();
    const p = waiter.blpop('dst', 5);
    await new Promise((res) => setTimeout(res, 100));
    expect(await sort(r, 'l', 'DESC', 'STORE', 'dst')).to.equal(3);
    expect(await p).to.deep.equal(['dst', '3']);
    waiter.disconnect();
  });

  it('reports its keys like Redis (COMMAND GETKEYS)', async function () {
    let keys: unknown;
    try {
      keys = await r.call('command', 'getkeys', 'sort', 'abc', 'store', 'def');
    } catch (err) {
      if ((err as Error).message.includes('unknown')) this.skip();
      throw err;
    }
    expect(keys).to.deep.equal(['abc', 'def']);
    expect(await r.call('command', 'getkeys', 'sort', 'abc', 'store', 'x', 'store', 'def')).to.deep.equal(['abc', 'def']);
    expect(await r.call('command', 'getkeys', 'sort_ro', 'abc')).to.deep.equal(['abc']);
  });
});

describe('SORT with cold keys', function () {
  this.timeout(120_000);
  let srv: TalusProcess | undefined;
  afterEach(async () => {
    await srv?.stop();
    srv = undefined;
  });

  it('loads BY/GET keys evicted to PostgreSQL (also inside MULTI), and STORE survives a restart', async () => {
    const url = await freshDatabase();
    srv = await startTalus(['--maxmemory', '1mb'], { databaseUrl: url });
    let r = srv.client();
    const n = 200;
    const ids = Array.from({ length: n }, (_, i) => String(i));
    await r.rpush('ids', ...ids);
    const weights = ids.map((i) => (Number(i) * 7919) % 1000);
    const p = r.pipeline();
    for (const i of ids) {
      p.set(`w_${i}`, String(weights[Number(i)]));
      p.hset(`obj_${i}`, 'name', `name${i}`);
    }
    await p.exec();
    const expected = [...ids].sort((a, b) => weights[Number(a)]! - weights[Number(b)]! || (a < b ? -1 : 1));
    const filler = 'x'.repeat(4000);
    const fill = async (tag: string) => {
      for (let i = 0; i < 1000; i += 100) {
        const q = r.pipeline();
        for (let j = i; j < i + 100; j++) q.set(`filler${j}`, filler + tag);
        await q.exec();
      }
    };
    await fill('a');
    const info = await r.info('stats');
    expect(Number(/evicted_keys:(\d+)/.exec(info)?.[1] ?? '1')).to.be.greaterThan(0);
    expect(await sort(r, 'ids', 'BY', 'w_*', 'GET', '#', 'GET', 'obj_*->name', 'LIMIT', 0, 3)).to.deep.equal(
      expected.slice(0, 3).flatMap((i) => [i, `name${i}`]),
    );
    await fill('b');
    expect(await sort(r, 'ids', 'BY', 'w_*')).to.deep.equal(expected);
    await fill('c');
    const tx = await r.multi().call('sort', 'ids', 'BY', 'w_*', 'LIMIT', 0, 5).exec();
    expect(tx).to.deep.equal([[null, expected.slice(0, 5)]]);
    await fill('d');
    expect(await sort(r, 'ids', 'BY', 'w_*', 'GET', 'w_*', 'STORE', 'sorted')).to.equal(n);
    await srv.stop();

    srv = await startTalus(['--maxmemory', '1mb'], { databaseUrl: url });
    r = srv.client();
    expect(await r.lrange('sorted', 0, -1)).to.deep.equal(expected.map((i) => String(weights[Number(i)])));
    expect(await r.call('sort_ro', 'ids', 'BY', 'obj_*->name', 'ALPHA', 'LIMIT', 0, 3)).to.deep.equal(['0', '1', '10']);
  });
});
