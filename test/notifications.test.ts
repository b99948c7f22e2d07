/**
 * Keyspace notifications, side by side with redis-server 7.0.15: the same
 * commands run on both with notify-keyspace-events "AKEnm" while a client
 * PSUBSCRIBEd to every channel collects what each publishes; the two
 * sequences of (channel, message) must be equal. The script touches every
 * writing command Talus has, the del of emptied collections, new keys,
 * key misses, and expiry (lazy and active).
 */
import { expect } from 'chai';
import { Redis } from 'ioredis';
import { startTalus, type TalusProcess } from './support/harness.js';
import { redisServerAvailable, startRedisServer, type RedisServer } from './support/redis-server.js';
import { PayloadWriter, WRITE_TYPES } from '../src/util/rdb-value.js';

type Cmd = Array<string | number | Buffer>;

/** A DUMP payload of the string "v" (RESTORE below). */
const PAYLOAD = (() => {
  const w = new PayloadWriter();
  w.byte(WRITE_TYPES.string);
  w.string(Buffer.from('v'));
  return w.finish();
})();

const SCRIPT: Cmd[] = [
  // strings
  ['set', 's', 'v'], ['set', 's', 'w', 'ex', 100], ['setnx', 's', 'x'], ['setnx', 's2', 'x'], ['setex', 's3', 100, 'v'],
  ['psetex', 's4', 100000, 'v'], ['getset', 's', 'g'], ['mset', 'm1', 'a', 'm2', 'b'], ['msetnx', 'm3', 'c', 'm4', 'd'],
  ['append', 's', 'x'], ['append', 'newapp', 'x'], ['setrange', 's', 1, 'zz'], ['incr', 'n'], ['incrby', 'n', 5], ['decr', 'n'],
  ['decrby', 'n', 2], ['incrbyfloat', 'f', '1.5'], ['getdel', 'm1'], ['getex', 'm2', 'ex', 100], ['getex', 'm2', 'persist'],
  ['setbit', 'bits', 7, 1], ['bitop', 'or', 'bdest', 'bits', 'bits'], ['bitfield', 'bf', 'set', 'u8', 0, 255],
  ['get', 'missing'], ['strlen', 'missing2'],
  // hyperloglog: PFCOUNT's cache refresh and PFDEBUG's conversion notify nothing; PFMERGE is a pfadd
  ['pfadd', 'hl', 'a', 'b'], ['pfadd', 'hl', 'a'], ['pfcount', 'hl'], ['pfcount', 'hl', 'nohl'], ['pfmerge', 'hl2', 'hl'], ['pfmerge', 'hl2'],
  ['pfadd', 'hl3'], ['pfdebug', 'todense', 'hl3'], ['pfdebug', 'getreg', 'hl'], ['pfadd', 'hl3', 'x'],
  // RESTORE: restore; REPLACE of an existing key; born expired (ABSTTL in the past) deletes what REPLACE replaces
  ['restore', 'rs', 0, PAYLOAD], ['restore', 'rs', 0, PAYLOAD, 'replace'], ['restore', 'rs', 0, PAYLOAD], ['restore', 'rs', 1, PAYLOAD, 'replace', 'absttl'],
  // generic
  ['expire', 's3', 1000], ['pexpire', 's3', 100000], ['expireat', 's3', 4000000000], ['pexpireat', 's3', 4000000000000],
  ['persist', 's3'], ['rename', 'm2', 'm2r'], ['renamenx', 'm2r', 'm3'], ['renamenx', 'm2r', 'm2rr'], ['copy', 'm2rr', 'cp'],
  ['move', 'cp', 1], ['del', 'm3', 'm4', 'nokey'], ['unlink', 'm2rr'], ['expire', 's2', 0], ['touch', 's'],
  // lists
  ['rpush', 'l', 'a', 'b', 'c', 'd'], ['lpush', 'l', 'z'], ['lpushx', 'l', 'y'], ['rpushx', 'l', 'e'], ['lpushx', 'nol', 'x'],
  ['linsert', 'l', 'before', 'a', 'q'], ['lset', 'l', 0, 'w'], ['lrem', 'l', 1, 'q'], ['ltrim', 'l', 0, 4], ['lpop', 'l'],
  ['rpop', 'l', 2], ['lmove', 'l', 'l2', 'left', 'right'], ['rpoplpush', 'l', 'l2'], ['lmpop', 1, 'l2', 'left', 'count', 5],
  ['rpush', 'l3', 'x'], ['blpop', 'l3', 0], ['rpush', 'l4', 'x'], ['brpoplpush', 'l4', 'l5', 0], ['blmove', 'l5', 'l6', 'left', 'left', 0],
  ['blmpop', 0, 1, 'l6', 'right'],
  // hashes
  ['hset', 'h', 'a', 1, 'b', 2], ['hsetnx', 'h', 'c', 3], ['hsetnx', 'h', 'c', 4], ['hmset', 'h', 'd', 4], ['hincrby', 'h', 'a', 5],
  ['hincrbyfloat', 'h', 'b', '0.5'], ['hdel', 'h', 'a', 'zz'], ['hdel', 'h', 'b', 'c', 'd'],
  // sets
  ['sadd', 'st', 'a', 'b', 'c', 'd'], ['sadd', 'st', 'a'], ['srem', 'st', 'a'], ['smove', 'st', 'st2', 'b'], ['spop', 'st'],
  ['sadd', 'st3', 'x', 'y'], ['sinterstore', 'sdst', 'st3', 'st3'], ['sunionstore', 'sdst2', 'st3', 'st2'],
  ['sdiffstore', 'sdst3', 'st3', 'st3'], ['sdiffstore', 'sdst', 'st3', 'st3'], ['spop', 'st3', 5], ['srem', 'st2', 'b'],
  // sorted sets
  ['zadd', 'z', 1, 'a', 2, 'b', 3, 'c', 4, 'd', 5, 'e'], ['zadd', 'z', 'xx', 'incr', 1, 'a'], ['zincrby', 'z', 2, 'b'],
  ['zrem', 'z', 'c'], ['zremrangebyscore', 'z', 0, 1], ['zremrangebyrank', 'z', 0, 0], ['zadd', 'z', 0, 'aa', 0, 'ab'],
  ['zremrangebylex', 'z', '[aa', '[aa'], ['zpopmin', 'z'], ['zpopmax', 'z'], ['zadd', 'z2', 1, 'x', 2, 'y'],
  ['zunionstore', 'zu', 1, 'z2'], ['zinterstore', 'zi', 2, 'z2', 'zu'], ['zdiffstore', 'zd', 2, 'z2', 'zu'],
  ['zrangestore', 'zr', 'z2', 0, 0], ['zmpop', 1, 'z2', 'min', 'count', 5], ['zadd', 'z3', 1, 'a'], ['bzpopmin', 'z3', 0],
  ['zadd', 'z4', 1, 'a'], ['bzmpop', 0, 1, 'z4', 'max'],
  // streams
  ['xadd', 'xs', '1-1', 'f', 'v'], ['xadd', 'xs', 'maxlen', 1, '2-1', 'f', 'v'], ['xadd', 'xs', 'nomkstream', '3-1', 'f', 'v'],
  ['xadd', 'noxs', 'nomkstream', '3-1', 'f', 'v'], ['xadd', 'xs', '1-1', 'f', 'v'], ['xdel', 'xs', '2-1', '9-9'], ['xtrim', 'xs', 'maxlen', 0],
  ['xsetid', 'xs', '10-0'], ['xgroup', 'create', 'xs', 'g', '0'], ['xgroup', 'create', 'xs2', 'g', '$', 'mkstream'],
  ['xgroup', 'createconsumer', 'xs', 'g', 'c1'], ['xadd', 'xs', '11-0', 'f', 'v'], ['xreadgroup', 'group', 'g', 'c2', 'streams', 'xs', '>'],
  ['xack', 'xs', 'g', '11-0'], ['xclaim', 'xs', 'g', 'c3', 0, '11-0', 'force'], ['xautoclaim', 'xs', 'g', 'c4', 0, '0'],
  ['xgroup', 'setid', 'xs', 'g', '$'], ['xgroup', 'delconsumer', 'xs', 'g', 'c1'], ['xgroup', 'destroy', 'xs', 'g'],
  ['xgroup', 'destroy', 'xs', 'g'],
  // sort ... store
  ['rpush', 'srt', 3, 1, 2], ['sort', 'srt', 'store', 'srtd'], ['sort', 'nolist', 'store', 'srtd'],
  // transactions, db-wide
  ['multi'], ['set', 't1', 1], ['lpush', 't2', 'x'], ['exec'],
  ['swapdb', 0, 1], ['swapdb', 0, 1], ['flushdb'], ['set', 'after', 'flush'], ['flushall'],
];

async function run(port: number): Promise<string[]> {
  const c = new Redis({ port, host: '127.0.0.1', maxRetriesPerRequest: 1 });
  const sub = new Redis({ port, host: '127.0.0.1', maxRetriesPerRequest: 1 });
  const got: string[] = [];
  try {
    await c.flushall();
    await c.config('SET', 'notify-keyspace-events', 'AKEnm');
    sub.on('pmessage', (_p: string, channel: string, message: string) => got.push(`${channel} ${message}`));
    await sub.psubscribe('*');
    for (const cmd of SCRIPT) await c.call(String(cmd[0]), cmd.slice(1).map((a) => (Buffer.isBuffer(a) ? a : String(a)))).catch(() => undefined);
    // lazy expiry: a key past its time, then read
    await c.set('lazy', 'v', 'PX', 30);
    await new Promise((r) => setTimeout(r, 60));
    await c.get('lazy');
    await c.call('PING', []);
    await sub.ping(); // every message published before this reply
    await new Promise((r) => setTimeout(r, 100));
    return got;
  } finally {
    await c.config('SET', 'notify-keyspace-events', '').catch(() => undefined);
    c.disconnect();
    sub.disconnect();
  }
}

describe('keyspace notifications, side by side with redis-server', function () {
  this.timeout(120_000);
  let talus: TalusProcess;
  let redis: RedisServer | undefined;

  before(async function () {
    if (!redisServerAvailable()) this.skip();
    // active expiry off on both sides so that lazy expiry is what the script sees
    redis = await startRedisServer(['--enable-debug-command', 'yes']);
    talus = await startTalus(['--enable-debug-command', 'yes']);
  });
  after(async () => {
    await talus?.stop();
    await redis?.stop();
  });

  it('every writing command publishes the events Redis publishes, in its order', async () => {
    for (const port of [talus.port, redis!.port]) {
      const c = new Redis({ port, host: '127.0.0.1' });
      await c.call('DEBUG', ['SET-ACTIVE-EXPIRE', '0']);
      c.disconnect();
    }
    const expected = await run(redis!.port);
    const actual = await run(talus.port);
    expect(expected.length).to.be.greaterThan(150);
    // the first difference, with some context, reads better than two 300-line arrays
    const at = expected.findIndex((e, i) => actual[i] !== e);
    const context = at < 0 ? '' : `first difference at ${at}:\n  redis: ${expected.slice(at, at + 6).join(' | ')}\n  talus: ${actual.slice(at, at + 6).join(' | ')}`;
    expect(actual, context).to.deep.equal(expected);
  });

  it('expired events come from active expiry too, of keys in memory and of keys only in PostgreSQL', async () => {
    const c = talus.client();
    const sub = talus.client();
    await c.call('DEBUG', ['SET-ACTIVE-EXPIRE', '1']);
    await c.config('SET', 'notify-keyspace-events', 'Ex');
    const got: string[] = [];
    sub.on('pmessage', (_p: string, channel: string, message: string) => got.push(`${channel} ${message}`));
    await sub.psubscribe('__keyevent@*');
    await c.set('hot', 'v', 'PX', 50);
    await c.set('cold', 'v', 'PX', 800);
    await c.call('SAVE', []);
    // unload every clean key from memory: cold now lives only in PostgreSQL
    await c.config('SET', 'maxmemory-policy', 'allkeys-lru');
    await c.config('SET', 'maxmemory', '1');
    await c.config('SET', 'maxmemory', '0');
    const deadline = Date.now() + 10_000;
    while (got.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(got.sort()).to.deep.equal(['__keyevent@0__:expired cold', '__keyevent@0__:expired hot']);
    await c.config('SET', 'notify-keyspace-events', '');
  });

  it('CONFIG GET shows the classes the way Redis normalizes them', async () => {
    const c = talus.client();
    const r = new Redis({ port: redis!.port, host: '127.0.0.1' });
    try {
      for (const flags of ['gKE', '$lshzxeKE', 'KA', 'EA', 'AKEnm', 'Kn', 'mE', 'xg$E']) {
        await c.config('SET', 'notify-keyspace-events', flags);
        await r.config('SET', 'notify-keyspace-events', flags);
        expect(await c.config('GET', 'notify-keyspace-events'), flags).to.deep.equal(await r.config('GET', 'notify-keyspace-events'));
      }
    } finally {
      r.disconnect();
    }
  });
});
