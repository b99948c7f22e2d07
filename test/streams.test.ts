import { expect } from 'chai';
import { Redis } from 'ioredis';
import { freshDatabase, infoFields, startTalus, type TalusProcess } from './support/harness.js';
import { applyChangelog, describeEffect, readChangelog } from './support/changelog-replay.js';
import { redisServerAvailable, startRedisServer } from './support/redis-server.js';

/**
 * Streams end to end: entries, metadata and consumer groups across a
 * restart (read back from PostgreSQL), XREAD BLOCK woken by another
 * client's XADD, a job-queue style script (XADD MAXLEN ~ inside EVAL), and
 * the change log replayed into a real redis-server giving the same streams.
 */

/** XINFO STREAM as a plain object (first-entry/last-entry kept as arrays). */
async function info(r: Redis, key: string): Promise<Record<string, unknown>> {
  const flat = (await r.call('XINFO', 'STREAM', key)) as unknown[];
  const out: Record<string, unknown> = {};
  for (let i = 0; i < flat.length; i += 2) out[flat[i] as string] = flat[i + 1];
  return out;
}

describe('streams', function () {
  this.timeout(120_000);
  let url: string;
  let srv: TalusProcess | undefined;
  let r: Redis;

  before(async () => {
    url = await freshDatabase();
    srv = await startTalus([], { databaseUrl: url });
    r = srv.client();
  });
  after(async () => {
    await srv?.stop();
  });

  it('keeps entries, last ID, entries added, max deleted ID and groups across a restart', async () => {
    for (let i = 1; i <= 20; i++) await r.xadd('s', `${i}-1`, 'f', `v${i}`, 'g', Buffer.from([0, 255, i]));
    await r.xdel('s', '5-1', '20-1');
    await r.xtrim('s', 'MAXLEN', 15);
    await r.call('XSETID', 's', '30-0', 'ENTRIESADDED', '25');
    await r.xadd('empty', 'MAXLEN', '0', '7-7', 'a', 'b');
    const groups = await r.call('XGROUP', 'CREATE', 's', 'g1', '0').catch((e: Error) => e);
    const hasGroups = groups === 'OK';
    if (hasGroups) {
      await r.call('XREADGROUP', 'GROUP', 'g1', 'alice', 'COUNT', '3', 'STREAMS', 's', '>');
      await r.call('XACK', 's', 'g1', '7-1');
    }
    const before = { range: await r.xrangeBuffer('s', '-', '+'), info: await info(r, 's'), empty: await info(r, 'empty') };
    const pendingBefore = hasGroups ? await r.call('XPENDING', 's', 'g1', '-', '+', '10') : null;
    const groupsBefore = hasGroups ? await r.call('XINFO', 'GROUPS', 's') : null;
    await srv!.stop();
    srv = await startTalus([], { databaseUrl: url });
    r = srv.client();
    expect(await r.type('s')).to.equal('stream');
    expect(await r.xrangeBuffer('s', '-', '+')).to.deep.equal(before.range);
    expect(await info(r, 's')).to.deep.equal(before.info);
    expect(await info(r, 'empty')).to.deep.equal(before.empty);
    if (hasGroups) {
      expect(await r.call('XINFO', 'GROUPS', 's')).to.deep.equal(groupsBefore);
      const pending = (await r.call('XPENDING', 's', 'g1', '-', '+', '10')) as unknown[][];
      expect(pending.map((p) => [p[0], p[1], p[3]])).to.deep.equal((pendingBefore as unknown[][]).map((p) => [p[0], p[1], p[3]]));
    }
  });

  it('XREAD BLOCK is woken by an XADD from another client', async () => {
    const reader = srv!.client();
    const writer = srv!.client();
    await writer.del('wake');
    const read = reader.call('XREAD', 'BLOCK', '0', 'STREAMS', 'wake', '$');
    // the reader is blocked once the server counts it
    for (;;) {
      const m = /blocked_clients:(\d+)/.exec(await writer.info('clients'));
      if (Number(m![1]) > 0) break;
      await new Promise((res) => setTimeout(res, 10));
    }
    await writer.xadd('wake', '9-9', 'job', '1');
    // (ioredis hands a one-stream XREAD reply back without its outer array)
    expect(await read).to.deep.equal(['wake', [['9-9', ['job', '1']]]]);
  });

  it('XREADGROUP BLOCK is woken by an XADD and the delivery is pending', async () => {
    const reader = srv!.client();
    const writer = srv!.client();
    await writer.del('jobs');
    await writer.call('XGROUP', 'CREATE', 'jobs', 'workers', '$', 'MKSTREAM');
    const read = reader.call('XREADGROUP', 'GROUP', 'workers', 'w1', 'BLOCK', '0', 'STREAMS', 'jobs', '>');
    for (;;) {
      const m = /blocked_clients:(\d+)/.exec(await writer.info('clients'));
      if (Number(m![1]) > 0) break;
      await new Promise((res) => setTimeout(res, 10));
    }
    await writer.xadd('jobs', '3-3', 'job', 'a');
    expect(await read).to.deep.equal(['jobs', [['3-3', ['job', 'a']]]]);
    const summary = (await writer.call('XPENDING', 'jobs', 'workers')) as unknown[];
    expect(summary).to.deep.equal([1, '3-3', '3-3', [['w1', '1']]]);
    expect(await writer.call('XACK', 'jobs', 'workers', '3-3')).to.equal(1);
  });

  it('runs a job-queue script: XADD MAXLEN ~ inside EVAL', async () => {
    const script = `
      local id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], '*', 'event', 'added', 'jobId', ARGV[2])
      return {id, redis.call('XLEN', KEYS[1])}`;
    let last: [string, number] = ['', 0];
    for (let i = 0; i < 250; i++) last = (await r.eval(script, 1, 'bull:q:events', '100', String(i))) as [string, number];
    expect(last[0]).to.match(/^\d+-\d+$/);
    // approximate trimming removes whole nodes of 100 entries only
    expect(last[1]).to.be.at.least(100).and.below(200);
    const [first] = (await r.xrange('bull:q:events', '-', '+', 'COUNT', 1)) as Array<[string, string[]]>;
    expect(first![1]).to.deep.equal(['event', 'added', 'jobId', String(250 - last[1])]);
  });

  it('a follower gets streams and groups by full sync and by the live change log', async () => {
    await r.del('fs');
    for (let i = 1; i <= 30; i++) await r.xadd('fs', 'MAXLEN', '~', '20', `${i}-0`, 'f', `v${i}`);
    await r.xdel('fs', '25-0');
    await r.call('XGROUP', 'CREATE', 'fs', 'g', '0');
    await r.call('XREADGROUP', 'GROUP', 'g', 'c1', 'COUNT', '3', 'STREAMS', 'fs', '>');
    await r.call('XACK', 'fs', 'g', '2-0');
    await r.call('XGROUP', 'CREATECONSUMER', 'fs', 'g', 'c9');
    // a last ID below the max deleted ID (XSETID without MAXDELETEDID allows it): by full sync ...
    const lowLastId = async (key: string) => {
      await r.del(key);
      await r.xadd(key, '1-0', 'a', 'b');
      await r.xadd(key, '50-0', 'a', 'b');
      await r.xdel(key, '50-0');
      await r.call('XSETID', key, '34-0');
    };
    await lowLastId('fs2');
    const follower = await startTalus(['--replicaof', '127.0.0.1', String(srv!.port)], { databaseUrl: await freshDatabase() });
    try {
      const f = follower.client();
      // a follower answers -LOADING until its full sync is loaded and committed
      while ((await infoFields(f, 'replication')).master_link_status !== 'up') await new Promise((res) => setTimeout(res, 50));
      const state = async (c: Redis) => [
        await c.xrange('fs', '-', '+'),
        await info(c, 'fs').catch(() => ({})),
        ((await c.call('XINFO', 'GROUPS', 'fs').catch(() => [])) as unknown[]),
        ((await c.call('XPENDING', 'fs', 'g', '-', '+', '100').catch(() => [])) as unknown[][]).map((p) => [p[0], p[1], p[3]]),
        await info(c, 'fs2').catch(() => ({})),
        await info(c, 'fs3').catch(() => ({})),
      ];
      const same = async () => JSON.stringify(await state(f)) === JSON.stringify(await state(r));
      while (!(await same())) await new Promise((res) => setTimeout(res, 50));
      await lowLastId('fs3'); // ... and by the live change log
      await r.xadd('fs', '40-0', 'x', 'y');
      await r.call('XREADGROUP', 'GROUP', 'g', 'c2', 'STREAMS', 'fs', '>');
      await r.call('XCLAIM', 'fs', 'g', 'c3', '0', '3-0');
      while (!(await same())) await new Promise((res) => setTimeout(res, 50));
      expect(await state(f)).to.deep.equal(await state(r));
    } finally {
      await follower.stop();
    }
  });

  it('the change log rebuilds the same streams in redis-server', async function () {
    if (!redisServerAvailable()) this.skip();
    await r.flushall();
    await r.xadd('a', '1-1', 'x', '1');
    await r.xadd('a', 'MAXLEN', '~', '2', '2-*', 'x', '2');
    for (let i = 3; i < 240; i++) await r.xadd('a', 'MAXLEN', '~', '50', `${i}-0`, 'x', String(i));
    await r.xdel('a', '200-0', '239-0');
    await r.xtrim('a', 'MINID', '~', '150');
    await r.xtrim('a', 'MINID', '160');
    await r.call('XSETID', 'a', '500-0', 'ENTRIESADDED', '999', 'MAXDELETEDID', '400-0');
    await r.xadd('b', 'MAXLEN', '0', '5-5', 'k', 'v');
    const hasGroups = (await r.call('XGROUP', 'CREATE', 'a', 'g', '0').catch(() => null)) === 'OK';
    if (hasGroups) {
      await r.call('XREADGROUP', 'GROUP', 'g', 'c1', 'COUNT', '5', 'STREAMS', 'a', '>');
      await r.call('XACK', 'a', 'g', '161-0');
      await r.call('XCLAIM', 'a', 'g', 'c2', '0', '162-0');
      await r.call('XGROUP', 'CREATECONSUMER', 'a', 'g', 'c3');
    }
    const redis = await startRedisServer();
    try {
      const other = new Redis({ port: redis.port, host: '127.0.0.1' });
      // wait for the commit of what was written
      await r.set('barrier', '1');
      const failures = await applyChangelog(other, await readChangelog(url));
      expect(failures.map((f) => `${describeEffect(f.record.effect)}: ${f.error}`)).to.deep.equal([]);
      for (const key of ['a', 'b']) {
        expect(await other.xrange(key, '-', '+')).to.deep.equal(await r.xrange(key, '-', '+'));
        const [mine, theirs] = [await info(r, key), await info(other, key)];
        for (const f of ['length', 'last-generated-id', 'max-deleted-entry-id', 'entries-added', 'recorded-first-entry-id', 'groups']) {
          expect(mine[f], f).to.deep.equal(theirs[f]);
        }
      }
      if (hasGroups) {
        const pending = async (c: Redis) => ((await c.call('XPENDING', 'a', 'g', '-', '+', '100')) as unknown[][]).map((p) => [p[0], p[1], p[3]]);
        expect(await pending(other)).to.deep.equal(await pending(r));
        const groups = async (c: Redis) => ((await c.call('XINFO', 'GROUPS', 'a')) as unknown[][]).map((g) => g.filter((_, i) => i !== 5));
        expect(await groups(other)).to.deep.equal(await groups(r));
      }
      other.disconnect();
    } finally {
      await redis.stop();
    }
  });
});
