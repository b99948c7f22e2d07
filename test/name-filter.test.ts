import { expect } from 'chai';
import type { Redis } from 'ioredis';
import { freshDatabase, startTalus, talusInfo, type TalusProcess } from './support/harness.js';

/**
 * Names known absent (docs/architecture.md): after a restart, or once
 * eviction left a db incomplete, a command on a name that has no row
 * (a new key, a missing one) is answered without reading PostgreSQL when the
 * db's name filter rules the name out; names that have a row are never
 * ruled out.
 */

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Wait until no db's filter is being built. */
async function filtersBuilt(r: Redis): Promise<Record<string, number>> {
  for (let i = 0; i < 300; i++) {
    const info = await talusInfo(r);
    if (info.name_filters_building === 0) return info;
    await sleep(50);
  }
  throw new Error('name filters not built in 15 s');
}

/** Unload every clean key (maxmemory 1 byte for a moment): the next commands find their keys in PostgreSQL only. */
async function evictAll(r: Redis): Promise<void> {
  const [, was] = (await r.config('GET', 'maxmemory')) as string[];
  await r.config('SET', 'maxmemory', '1');
  for (let i = 0; i < 100 && (await talusInfo(r)).hot_set_entries! > 0; i++) await sleep(50);
  await r.config('SET', 'maxmemory', was!);
}

const LONG = `long:${'x'.repeat(3000)}`;

/** One key of every type (and a long name, a TTL) in db 0, and a few in db 1. */
async function writeEveryType(r: Redis): Promise<void> {
  await r.set('str', 'v');
  await r.set('ttl', 'v', 'EX', 1000);
  await r.hset('hash', 'f1', 'a', 'f2', 'b');
  await r.rpush('list', 'a', 'b', 'c');
  await r.sadd('set', 'm1', 'm2');
  await r.zadd('zset', 1, 'a', 2, 'b');
  await r.xadd('stream', '1-1', 'f', 'v');
  await r.pfadd('hll', 'a', 'b');
  await r.set(LONG, 'long value');
  await r.set('counter', '10');
  const p = r.pipeline().select(1);
  for (let i = 0; i < 10; i++) p.set(`db1:${i}`, `v${i}`);
  await p.select(0).exec();
}

async function expectEveryType(r: Redis): Promise<void> {
  expect(await r.get('str')).to.equal('v');
  expect(await r.ttl('ttl')).to.be.within(900, 1000);
  expect(await r.hgetall('hash')).to.deep.equal({ f1: 'a', f2: 'b' });
  expect(await r.lrange('list', 0, -1)).to.deep.equal(['a', 'b', 'c']);
  expect((await r.smembers('set')).sort()).to.deep.equal(['m1', 'm2']);
  expect(await r.zrange('zset', '0', '-1', 'WITHSCORES')).to.deep.equal(['a', '1', 'b', '2']);
  expect(await r.xlen('stream')).to.equal(1);
  expect(await r.pfcount('hll')).to.equal(2);
  expect(await r.get(LONG)).to.equal('long value');
  expect(await r.exists('str', 'hash', 'list', 'set', 'zset', 'stream', LONG)).to.equal(7);
}

describe('name filters', function () {
  this.timeout(180_000);
  let url: string;
  let srv: TalusProcess | undefined;
  let r: Redis;
  const start = async (args: string[] = []) => {
    await srv?.stop();
    srv = await startTalus(args, { databaseUrl: url });
    r = srv.client();
  };

  beforeEach(async () => {
    url = await freshDatabase();
  });
  afterEach(async () => {
    await srv?.stop();
    srv = undefined;
  });

  it('after a restart, answers new and missing names without reading, and finds every existing key', async () => {
    await start();
    await writeEveryType(r);
    await start();
    const built = await filtersBuilt(r);
    expect(built.name_filters_ready).to.equal(16);
    expect(built.name_filter_names).to.be.at.least(11);
    expect(built.name_filter_bytes).to.be.above(0);
    const before = await talusInfo(r);

    const p = r.pipeline();
    for (let i = 0; i < 200; i++) p.set(`new:${i}`, `n${i}`);
    for (let i = 0; i < 100; i++) p.incr(`ctr:${i}`);
    for (let i = 0; i < 100; i++) p.get(`missing:${i}`);
    const replies = (await p.exec())!;
    for (let i = 0; i < 200; i++) expect(replies[i]).to.deep.equal([null, 'OK']);
    for (let i = 0; i < 100; i++) expect(replies[200 + i]).to.deep.equal([null, 1]);
    for (let i = 0; i < 100; i++) expect(replies[300 + i]).to.deep.equal([null, null]);

    const after = await talusInfo(r);
    // a 1% false-positive rate: a few of the 400 may still be read
    expect(after.key_read_queries! - before.key_read_queries!, 'key read queries').to.be.at.most(10);
    expect(after.name_filter_reads_avoided! - before.name_filter_reads_avoided!).to.be.at.least(390);
    expect(after.unplanned_key_accesses).to.equal(0);

    // names with rows are found: every type, INCR of an existing counter, DBSIZE
    await expectEveryType(r);
    expect(await r.incr('counter')).to.equal(11);
    expect(await r.dbsize()).to.equal(10 + 300);
    await r.select(1);
    expect(await r.get('db1:3')).to.equal('v3');
    expect(await r.dbsize()).to.equal(10);
    await r.select(0);

    // what was written is there after another restart
    await start();
    expect(await r.get('new:199')).to.equal('n199');
    expect(await r.get('ctr:99')).to.equal('1');
    expect(await r.get('counter')).to.equal('11');
    expect(await r.dbsize()).to.equal(310);
  });

  it('a SET over an existing key of another type replaces it (its fields do not come back)', async () => {
    await start();
    await r.hset('h', 'f1', 'a', 'f2', 'b');
    await r.sadd('s', 'x');
    await start();
    await filtersBuilt(r);
    expect(await r.set('h', 'now a string')).to.equal('OK');
    expect(await r.sadd('s', 'y')).to.equal(1);
    await start();
    expect(await r.type('h')).to.equal('string');
    expect(await r.get('h')).to.equal('now a string');
    expect(await r.del('h')).to.equal(1);
    await r.hset('h', 'f3', 'c');
    expect(await r.hgetall('h')).to.deep.equal({ f3: 'c' });
    expect((await r.smembers('s')).sort()).to.deep.equal(['x', 'y']);
    expect(await r.dbsize()).to.equal(2);
  });

  it('keeps the names renamed, moved, copied and restored onto, and follows SWAPDB and FLUSHDB', async () => {
    await start();
    await r.set('a', '1');
    await r.set('b', '2');
    await r.set('c', '3');
    await r.set('d', '4');
    await r.set('gone', 'x');
    await r.select(1);
    await r.set('one', 'db1');
    await r.select(0);
    await start();
    await filtersBuilt(r);
    const dump = await r.dumpBuffer('d');
    expect(await r.rename('a', 'renamed')).to.equal('OK');
    expect(await r.move('b', 2)).to.equal(1);
    expect(await r.copy('c', 'copied')).to.equal(1);
    await r.restore('restored', 0, dump!);
    // db 1's filter goes to db 3 with its keys
    expect(await r.swapdb(1, 3)).to.equal('OK');
    await r.select(4);
    await r.set('x', 'y');
    await r.flushdb();
    await r.set('after-flush', 'z');
    await r.select(0);
    const check = async () => {
      expect(await r.mget('a', 'renamed', 'c', 'copied', 'restored', 'gone')).to.deep.equal([null, '1', '3', '3', '4', 'x']);
      await r.select(2);
      expect(await r.get('b')).to.equal('2');
      await r.select(3);
      expect(await r.get('one')).to.equal('db1');
      await r.select(1);
      expect(await r.dbsize()).to.equal(0);
      await r.select(4);
      expect(await r.get('x')).to.equal(null);
      expect(await r.get('after-flush')).to.equal('z');
      await r.select(0);
    };
    // in this process, once they are evicted (the filters as kept up), and after a restart (as built)
    await evictAll(r);
    await check();
    await start();
    await filtersBuilt(r);
    await check();
  });

  it('under maxmemory, names evicted are found and new names are not read', async () => {
    await start(['--maxmemory', '2mb']);
    const N = 30_000;
    for (let i = 0; i < N; i += 1000) {
      const p = r.pipeline();
      for (let j = i; j < i + 1000; j++) p.set(`k:${j}`, `value-${j}-${'p'.repeat(50)}`);
      await p.exec();
    }
    const info = await talusInfo(r);
    expect(info.hot_set_entries, 'entries resident').to.be.below(N);
    // the db started empty: its filter has been ready all along, holding every name created
    expect(info.name_filters_ready).to.equal(16);
    expect(info.name_filter_names).to.be.within(N * 0.98, N);
    const before = await talusInfo(r);
    const p = r.pipeline();
    for (let i = 0; i < 500; i++) p.set(`fresh:${i}`, 'f');
    for (let i = 0; i < 500; i++) p.get(`nothing:${i}`);
    for (let i = 0; i < N; i += 97) p.get(`k:${i}`);
    const replies = (await p.exec())!;
    for (let i = 0; i < 500; i++) expect(replies[i]).to.deep.equal([null, 'OK']);
    for (let i = 0; i < 500; i++) expect(replies[500 + i]).to.deep.equal([null, null]);
    let at = 1000;
    for (let i = 0; i < N; i += 97) expect(replies[at++]![1]).to.equal(`value-${i}-${'p'.repeat(50)}`);
    const after = await talusInfo(r);
    expect(after.name_filter_reads_avoided! - before.name_filter_reads_avoided!).to.be.at.least(960);
    expect(await r.dbsize()).to.equal(N + 500);

    // the same after a restart, the filter built from PostgreSQL's rows
    await start(['--maxmemory', '2mb']);
    const built = await filtersBuilt(r);
    expect(built.name_filter_names).to.be.within((N + 500) * 0.98, N + 500);
    const q = r.pipeline();
    for (let i = 0; i < 500; i++) q.get(`fresh:${i}`);
    for (let i = 0; i < 500; i++) q.incr(`new-counter:${i}`);
    for (let i = 0; i < N; i += 97) q.get(`k:${i}`);
    const again = (await q.exec())!;
    for (let i = 0; i < 500; i++) expect(again[i]).to.deep.equal([null, 'f']);
    for (let i = 0; i < 500; i++) expect(again[500 + i]).to.deep.equal([null, 1]);
    at = 1000;
    for (let i = 0; i < N; i += 97) expect(again[at++]![1]).to.equal(`value-${i}-${'p'.repeat(50)}`);
    expect(await r.dbsize()).to.equal(N + 1000);
  });

  it('names created while the filter is built, and acknowledged before kill -9, are read back', async () => {
    await start();
    const N = 60_000;
    for (let i = 0; i < N; i += 2000) {
      const p = r.pipeline();
      for (let j = i; j < i + 2000; j++) p.set(`old:${j}`, 'o');
      await p.exec();
    }
    await start(['--maxmemory', '1mb']);
    // at once, while the filter is built: writes of new names (and old ones, evicted as they go)
    const p = r.pipeline();
    for (let i = 0; i < 3000; i++) p.set(`during:${i}`, `d${i}`);
    for (let i = 0; i < 3000; i++) p.set(`old:${i * 20}`, 'changed');
    for (const [err] of (await p.exec())!) expect(err).to.equal(null);
    await filtersBuilt(r);
    const q = r.pipeline();
    for (let i = 0; i < 3000; i++) q.set(`built:${i}`, `b${i}`);
    for (const [err] of (await q.exec())!) expect(err).to.equal(null);
    const readBack = async () => {
      const g = r.pipeline();
      for (let i = 0; i < 3000; i++) g.get(`during:${i}`);
      for (let i = 0; i < 3000; i++) g.get(`built:${i}`);
      for (let i = 0; i < 3000; i++) g.get(`old:${i * 20}`);
      const got = (await g.exec())!.map(([, v]) => v);
      for (let i = 0; i < 3000; i++) {
        expect(got[i]).to.equal(`d${i}`);
        expect(got[3000 + i]).to.equal(`b${i}`);
        expect(got[6000 + i]).to.equal('changed');
      }
      expect(await r.dbsize()).to.equal(N + 6000);
    };
    // in this process once evicted: names created during the build are in the filter it made ready
    await evictAll(r);
    await readBack();
    await srv!.kill();
    await start(['--maxmemory', '1mb']);
    await filtersBuilt(r);
    await readBack();
  });

  it('a SWAPDB while a filter is built: the build follows its db to its new index', async () => {
    await start();
    const N = 60_000;
    for (let i = 0; i < N; i += 2000) {
      const p = r.pipeline();
      for (let j = i; j < i + 2000; j++) p.set(`k:${j}`, `v${j}`);
      await p.exec();
    }
    await start(['--maxmemory', '1mb']);
    // at once: the build of db 0 (six pages) is under way
    const building = (await talusInfo(r)).name_filters_building;
    expect(await r.swapdb(0, 1)).to.equal('OK');
    const built = await filtersBuilt(r);
    expect(built.name_filters_ready).to.equal(16);
    await evictAll(r);
    await r.select(1);
    const p = r.pipeline();
    for (let i = 0; i < N; i += 7) p.get(`k:${i}`);
    const got = (await p.exec())!.map(([, v]) => v);
    let at = 0;
    for (let i = 0; i < N; i += 7) expect(got[at++], `k:${i}`).to.equal(`v${i}`);
    expect(await r.dbsize()).to.equal(N);
    await r.select(0);
    expect(await r.dbsize()).to.equal(0);
    expect(await r.get('k:1')).to.equal(null);
    console.log(`      dbs being built when SWAPDB ran: ${building}`);
  });

  it('a db whose names outgrow name-filter-max-memory gives its filter up and reads again', async () => {
    await start(['--name-filter-max-memory', '8kb']);
    for (let i = 0; i < 20_000; i += 2000) {
      const p = r.pipeline();
      for (let j = i; j < i + 2000; j++) p.set(`k:${j}`, 'v');
      await p.exec();
    }
    const info = await talusInfo(r);
    expect(info.name_filters_given_up).to.equal(1);
    expect(info.name_filters_ready).to.equal(15);
    // at start, too big for the bound: no filter, every miss read, all answers right
    await start(['--name-filter-max-memory', '8kb', '--maxmemory', '1mb']);
    const built = await filtersBuilt(r);
    expect(built.name_filters_ready).to.equal(15);
    const before = await talusInfo(r);
    expect(await r.get('k:19999')).to.equal('v');
    expect(await r.get('absent')).to.equal(null);
    expect(await r.set('new', 'n')).to.equal('OK');
    const after = await talusInfo(r);
    expect(after.name_filter_reads_avoided).to.equal(before.name_filter_reads_avoided);
    expect(after.key_read_queries! - before.key_read_queries!).to.be.at.least(2);
    expect(await r.dbsize()).to.equal(20_001);
    // FLUSHDB gives the db a new filter
    await r.flushdb();
    expect((await talusInfo(r)).name_filters_ready).to.equal(16);
  });
});
