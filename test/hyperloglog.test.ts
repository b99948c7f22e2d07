/**
 * HyperLogLog values are Redis's bytes: a value written by redis-server
 * counts the same in Talus and the other way round; PFCOUNT's cache refresh
 * is a change WATCH sees (as Redis's signalModifiedKey); the value survives
 * eviction and a restart (it is a string in PostgreSQL); errors are Redis's.
 * Sequences are compared with redis-server in test/differential.test.ts.
 */
import { expect } from 'chai';
import { Redis } from 'ioredis';
import { restartable, startTalus, type TalusProcess } from './support/harness.js';
import { redisServerAvailable, startRedisServer, type RedisServer } from './support/redis-server.js';

describe('HyperLogLog', function () {
  this.timeout(120_000);
  let srv: TalusProcess;
  let redis: RedisServer | undefined;
  let t: Redis;
  let r: Redis | undefined;

  before(async () => {
    srv = await startTalus(['--appendfsync', 'everysec']);
    t = srv.client();
    if (redisServerAvailable()) {
      redis = await startRedisServer();
      r = new Redis(redis.port, { lazyConnect: false });
    }
  });
  after(async () => {
    r?.disconnect();
    await redis?.stop();
    await srv.stop();
  });

  const elements = (n: number, tag: string) => Array.from({ length: n }, (_, i) => `${tag}-${i}`);

  it('values written by redis-server count the same in Talus, and Talus values in redis-server (sparse and dense)', async function () {
    if (r === undefined) this.skip();
    for (const n of [0, 3, 200, 5000]) {
      await r!.del('x');
      if (n === 0) await r!.pfadd('x');
      else for (let i = 0; i < n; i += 1000) await r!.pfadd('x', ...elements(Math.min(1000, n - i), `r${i}`));
      const fromRedis = await r!.getBuffer('x');
      await t.set(`from-redis-${n}`, fromRedis!);
      expect(await t.pfcount(`from-redis-${n}`)).to.equal(await r!.pfcount('x'));
      // the refreshed cache is the same bytes on both sides
      expect((await t.getBuffer(`from-redis-${n}`))!.equals((await r!.getBuffer('x'))!)).to.equal(true);
      // and further additions keep the bytes equal
      await r!.pfadd('x', 'one', 'more');
      await t.pfadd(`from-redis-${n}`, 'one', 'more');
      expect((await t.getBuffer(`from-redis-${n}`))!.equals((await r!.getBuffer('x'))!)).to.equal(true);
      const fromTalus = await t.getBuffer(`from-redis-${n}`);
      await r!.set('back', fromTalus!);
      expect(await r!.pfcount('back')).to.equal(await t.pfcount(`from-redis-${n}`));
    }
  });

  it('PFCOUNT that refreshes the cached cardinality aborts a WATCHing transaction; a cached one does not', async () => {
    await t.del('w');
    await t.pfadd('w', 'a', 'b', 'c');
    const other = srv.client();
    await t.watch('w');
    expect(await other.pfcount('w')).to.equal(3); // refreshes the cache: a change
    expect(await t.multi().get('nothing').exec()).to.equal(null);
    await t.watch('w');
    expect(await other.pfcount('w')).to.equal(3); // cached: no change
    expect(await t.multi().get('nothing').exec()).to.deep.equal([[null, null]]);
    other.disconnect();
    // the header's top bit: stale after an add that changed a register, clear after PFCOUNT
    await t.pfadd('w', 'd');
    expect((await t.getrangeBuffer('w', 15, 15))[0]).to.equal(0x80);
    await t.pfcount('w');
    expect((await t.getrangeBuffer('w', 15, 15))[0]).to.equal(0x00);
  });

  it('the value survives eviction and a restart: PFCOUNT reads it back from PostgreSQL', async () => {
    const s = restartable(['--appendfsync', 'always', '--maxmemory', '1']);
    try {
      const c = await s.restart();
      await c.pfadd('cold', ...elements(3000, 'c'));
      await c.pfadd('cold2', ...elements(20, 'd'));
      const n = await c.pfcount('cold');
      const u = await c.pfcount('cold', 'cold2');
      await c.set('filler', 'x'.repeat(1000)); // keeps the hot set over its limit
      expect(await c.pfcount('cold')).to.equal(n);
      expect(await c.pfcount('cold', 'cold2')).to.equal(u);
      const c2 = await s.restart();
      expect(await c2.pfcount('cold')).to.equal(n);
      expect(await c2.pfcount('cold', 'cold2')).to.equal(u);
      expect(await c2.call('PFDEBUG', 'ENCODING', 'cold')).to.equal('dense');
    } finally {
      await s.stop();
    }
  });

  it('replies with Redis error strings', async () => {
    await t.set('str', 'not an hll');
    await t.lpush('list', 'x');
    const err = async (p: Promise<unknown>) => p.then(() => 'no error', (e: Error) => e.message);
    expect(await err(t.pfadd('str', 'a'))).to.equal('WRONGTYPE Key is not a valid HyperLogLog string value.');
    expect(await err(t.pfcount('list'))).to.equal('WRONGTYPE Operation against a key holding the wrong kind of value');
    expect(await err(t.pfmerge('dst', 'str'))).to.equal('WRONGTYPE Key is not a valid HyperLogLog string value.');
    await t.del('bad');
    await t.pfadd('bad', 'a', 'b', 'c');
    await t.append('bad', 'hello');
    expect(await err(t.pfcount('bad'))).to.equal('INVALIDOBJ Corrupted HLL object detected');
    expect(await err(t.call('PFDEBUG', 'GETREG', 'nokey'))).to.equal('ERR The specified key does not exist');
    expect(await err(t.call('PFDEBUG', 'NOSUCH', 'bad'))).to.equal("ERR Unknown PFDEBUG subcommand 'NOSUCH'");
    await t.del('dense');
    await t.pfadd('dense', 'a');
    expect(await t.call('PFDEBUG', 'TODENSE', 'dense')).to.equal(1);
    expect(await t.call('PFDEBUG', 'TODENSE', 'dense')).to.equal(0);
    expect(await err(t.call('PFDEBUG', 'DECODE', 'dense'))).to.equal('ERR HLL encoding is not sparse');
    expect(await t.call('PFSELFTEST')).to.equal('OK');
  });
});
