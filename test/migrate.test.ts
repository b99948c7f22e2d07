/**
 * MIGRATE against real servers: Talus -> redis-server, Talus -> Talus and
 * redis-server -> Talus (Talus's RESTORE as the target). The same scenario
 * runs with redis-server 7.0.15 as the source, and every MIGRATE reply must
 * be its reply byte for byte: every type with its TTL, COPY, REPLACE, KEYS,
 * AUTH, AUTH2, a target that refuses (BUSYKEY, wrong password, no password,
 * a db out of range), a target that is down, inside MULTI. Then what only
 * Talus has to prove: the keys stay claimed while the target answers (other
 * keys do not wait), WATCH and keyspace notifications see the deletions,
 * the connection is cached, and a target that never answers gives IOERR
 * within the timeout.
 */
import net from 'node:net';
import { expect } from 'chai';
import { Redis } from 'ioredis';
import { startTalus, type TalusProcess } from './support/harness.js';
import { freePort, redisServerAvailable, startRedisServer, type RedisServer } from './support/redis-server.js';
import { RawConnection, show, type Arg } from './support/differential.js';

const PASS = 'sec';

/** Keys of every type (and a TTL), under `p`. */
async function build(c: Redis, p: string): Promise<void> {
  await c.set(`${p}str`, 'hello');
  await c.set(`${p}int`, '12345');
  await c.set(`${p}bin`, Buffer.from([0, 1, 255, 13, 10]));
  await c.set(`${p}ttl`, 'v', 'PX', 100_000);
  await c.rpush(`${p}list`, 'a', 'b', '3', 'x'.repeat(100));
  await c.sadd(`${p}set`, 'a', 'b', 'c');
  await c.sadd(`${p}intset`, 1, 2, 3);
  await c.hset(`${p}hash`, 'f1', 'v1', 'f2', '2');
  await c.expire(`${p}hash`, 5000);
  await c.zadd(`${p}zset`, 1, 'a', 2.5, 'b', '-inf', 'c');
  await c.pfadd(`${p}hll`, 'a', 'b', 'c');
}
const TYPED = ['str', 'int', 'bin', 'ttl', 'list', 'set', 'intset', 'hash', 'zset', 'hll'];

async function snapshot(c: Redis, k: string): Promise<unknown[]> {
  const type = await c.type(k);
  let v: unknown;
  if (type === 'string') v = (await c.getBuffer(k))?.toString('hex');
  else if (type === 'list') v = await c.lrange(k, 0, -1);
  else if (type === 'set') v = (await c.smembers(k)).sort();
  else if (type === 'hash') v = Object.entries(await c.hgetall(k)).sort();
  else if (type === 'zset') v = await c.zrange(k, '0', '-1', 'WITHSCORES');
  const pttl = await c.pttl(k);
  return [type, v, pttl > 0 ? 'ttl' : pttl];
}

async function raw(port: number, commands: Arg[][]): Promise<string[]> {
  const conn = await RawConnection.connect(port, '127.0.0.1', 15_000);
  try {
    const out: string[] = [];
    for (const c of commands) out.push(show(await conn.call(c), 1000));
    return out;
  } finally {
    conn.close();
  }
}

/**
 * MIGRATE's calls from `source` to `target` (keys under `p`), and their
 * replies. The data moved is checked by the caller; the replies are
 * compared with redis-server's as a source.
 */
async function scenario(source: Redis, sourcePort: number, target: Redis, targetPort: number, p: string, downPort: number): Promise<string[]> {
  const to = (key: string, ...opts: Arg[]): Arg[] => ['MIGRATE', '127.0.0.1', String(targetPort), key, '3', '5000', ...opts];
  const replies: string[] = [];
  const run = async (...commands: Arg[][]) => replies.push(...(await raw(sourcePort, commands)));
  await run(['MIGRATE', '127.0.0.1', String(targetPort), `${p}missing`, '0', '1000']);
  // refusals: no password, a wrong one, a db the target lacks
  await source.set(`${p}c1`, 'one');
  await run(to(`${p}c1`), to(`${p}c1`, 'AUTH', 'wrong'), to(`${p}c1`, 'AUTH2', 'default', 'wrong'));
  await run(['MIGRATE', '127.0.0.1', String(targetPort), `${p}c1`, '99', '5000', 'AUTH', PASS]);
  await target.select(0);
  await target.del(`${p}c1`);
  await target.select(3);
  await target.del(`${p}c1`);
  // COPY keeps it here; again without it: BUSYKEY there; REPLACE overwrites
  await run(to(`${p}c1`, 'COPY', 'AUTH', PASS), ['EXISTS', `${p}c1`], to(`${p}c1`, 'AUTH', PASS), ['EXISTS', `${p}c1`]);
  await source.set(`${p}c1`, 'two');
  await run(to(`${p}c1`, 'REPLACE', 'AUTH2', 'default', PASS), ['EXISTS', `${p}c1`]);
  // KEYS: one refused by the target, one missing here; the others move
  await source.mset(`${p}k1`, '1', `${p}k2`, '2', `${p}k3`, '3');
  await target.set(`${p}k2`, 'there');
  await run(to('', 'AUTH', PASS, 'KEYS', `${p}k1`, `${p}k2`, `${p}k3`, `${p}nokey`), ['EXISTS', `${p}k1`, `${p}k2`, `${p}k3`]);
  await run(to('', 'AUTH', PASS, 'KEYS', `${p}nokey`, `${p}nokey2`));
  // argument errors, in Redis's order
  await run(
    to(`${p}k2`, 'KEYS', 'a'), to(`${p}k2`, 'FOO'), to(`${p}k2`, 'AUTH'), to(`${p}k2`, 'AUTH2', 'u'),
    ['MIGRATE', '127.0.0.1', String(targetPort), `${p}k2`, 'x', 'y'], ['MIGRATE', '127.0.0.1', String(targetPort), `${p}k2`, '0', 'y'],
    ['MIGRATE', '127.0.0.1', String(targetPort), `${p}k2`, 'x', '100'], ['MIGRATE', '127.0.0.1'],
  );
  // a target that is down, and one whose name does not resolve
  await run(['MIGRATE', '127.0.0.1', String(downPort), `${p}k2`, '0', '1000'], ['MIGRATE', 'nonexistent.invalid', '6379', `${p}k2`, '0', '1000']);
  // inside MULTI: the transaction goes on after it, in order
  await source.set(`${p}m1`, 'v');
  await run(['MULTI'], to(`${p}m1`, 'AUTH', PASS), ['EXISTS', `${p}m1`], ['SET', `${p}m2`, 'x'], to(`${p}m2`, 'AUTH', PASS), ['EXISTS', `${p}m2`], ['EXEC']);
  // every type, one by one, with its TTL
  for (const t of TYPED) await run(to(`${p}${t}`, 'AUTH', PASS), ['EXISTS', `${p}${t}`]);
  return replies;
}

describe('MIGRATE', function () {
  this.timeout(180_000);
  let talus: TalusProcess;
  let talusTarget: TalusProcess;
  let redis: RedisServer;
  let redisTarget: RedisServer;
  let t: Redis;
  let r: Redis;
  let downPort: number;

  before(async function () {
    if (!redisServerAvailable()) this.skip();
    talus = await startTalus(['--appendfsync', 'everysec']); // the first start prepares the shared PostgreSQL
    [talusTarget, redis, redisTarget, downPort] = await Promise.all([
      startTalus(['--appendfsync', 'everysec', '--requirepass', PASS]),
      startRedisServer(),
      startRedisServer(['--requirepass', PASS]),
      freePort(),
    ]);
    t = talus.client();
    r = new Redis(redis.port);
  });
  after(async () => {
    r?.disconnect();
    await Promise.all([talus?.stop(), talusTarget?.stop(), redis?.stop(), redisTarget?.stop()]);
  });

  const targets = () => [
    { name: 'redis-server', port: redisTarget.port },
    { name: 'Talus', port: talusTarget.port },
  ];

  for (const which of [0, 1]) {
    it(`Talus -> ${['redis-server', 'Talus'][which]}: every reply as redis-server's as the source, every type moved with its TTL`, async () => {
      const target = targets()[which]!;
      const tc = new Redis({ port: target.port, password: PASS, db: 3 });
      try {
        const expectedData: Record<string, unknown[]> = {};
        await build(r, `r${which}:`);
        await build(t, `t${which}:`);
        for (const k of TYPED) expectedData[k] = await snapshot(t, `t${which}:${k}`);
        const expected = await scenario(r, redis.port, tc, target.port, `r${which}:`, downPort);
        const actual = await scenario(t, talus.port, tc, target.port, `t${which}:`, downPort);
        const diffs = expected.flatMap((e, i) => (e === actual[i] ? [] : [`#${i}: redis ${e} talus ${actual[i]}`]));
        expect(diffs, diffs.join('\n')).to.deep.equal([]);
        expect(actual.length).to.equal(expected.length);
        for (const k of TYPED) {
          expect(await snapshot(tc, `t${which}:${k}`), k).to.deep.equal(expectedData[k]);
          expect(await snapshot(tc, `t${which}:${k}`), k).to.deep.equal(await snapshot(tc, `r${which}:${k}`));
        }
        expect(await tc.pttl(`t${which}:ttl`)).to.be.within(90_000, 100_000);
        expect(await tc.get(`t${which}:c1`)).to.equal('two');
        expect(await tc.mget(`t${which}:k1`, `t${which}:k2`, `t${which}:k3`, `t${which}:m1`, `t${which}:m2`)).to.deep.equal(['1', 'there', '3', 'v', 'x']);
      } finally {
        tc.disconnect();
      }
    });
  }

  it('redis-server -> Talus: Talus restores what redis-server sends', async () => {
    const tc = new Redis({ port: talusTarget.port, password: PASS, db: 5 });
    try {
      await build(r, 'rt:');
      const before: Record<string, unknown[]> = {};
      for (const k of TYPED) before[k] = await snapshot(r, `rt:${k}`);
      const reply = await r.call('MIGRATE', '127.0.0.1', String(talusTarget.port), '', '5', '5000', 'AUTH', PASS, 'KEYS', ...TYPED.map((k) => `rt:${k}`));
      expect(reply).to.equal('OK');
      for (const k of TYPED) expect(await snapshot(tc, `rt:${k}`), k).to.deep.equal(before[k]);
      expect(await r.exists(...TYPED.map((k) => `rt:${k}`))).to.equal(0);
    } finally {
      tc.disconnect();
    }
  });

  it('keeps the keys claimed while the target answers; other keys are served meanwhile', async () => {
    // a target that answers each request 400 ms late
    const requests: Buffer[] = [];
    const slow = net.createServer((sock) => {
      sock.on('data', (d: Buffer) => {
        requests.push(d);
        const n = d.toString('latin1').split('\r\n').filter((l) => /^\*\d+$/.test(l)).length;
        setTimeout(() => sock.write('+OK\r\n'.repeat(n)), 400);
      });
    });
    await new Promise<void>((resolve) => slow.listen(0, '127.0.0.1', resolve));
    const port = (slow.address() as net.AddressInfo).port;
    const other = talus.client();
    const third = talus.client();
    try {
      await t.mset('claim:k', 'v', 'claim:other', 'o');
      const events: string[] = [];
      const migrating = t.call('MIGRATE', '127.0.0.1', String(port), 'claim:k', '0', '5000').then((x) => events.push(`migrate ${x}`));
      await new Promise((resolve) => setTimeout(resolve, 100));
      const sameKey = other.get('claim:k').then((x) => events.push(`get k ${x}`));
      const otherKey = await third.get('claim:other');
      events.push(`get other ${otherKey}`);
      await Promise.all([migrating, sameKey]);
      expect(events).to.deep.equal(['get other o', 'migrate OK', 'get k null']);
      // one cached connection: the next transfer needs no SELECT (same db)
      await t.set('claim:k2', 'v');
      expect(await t.call('MIGRATE', '127.0.0.1', String(port), 'claim:k2', '0', '5000')).to.equal('OK');
      const sent = Buffer.concat(requests).toString('latin1');
      expect(sent.match(/SELECT/g)?.length).to.equal(1);
      expect(sent.match(/RESTORE/g)?.length).to.equal(2);
    } finally {
      other.disconnect();
      third.disconnect();
      slow.close();
    }
  });

  it('a target that never answers: IOERR within the timeout, as redis-server, and the key stays', async () => {
    const mute = net.createServer((sock) => sock.on('data', () => undefined));
    await new Promise<void>((resolve) => mute.listen(0, '127.0.0.1', resolve));
    const port = String((mute.address() as net.AddressInfo).port);
    try {
      await Promise.all([t.set('mute:k', 'v'), r.set('mute:k', 'v')]);
      const started = Date.now();
      const [fromTalus] = await raw(talus.port, [['MIGRATE', '127.0.0.1', port, 'mute:k', '0', '500']]);
      const elapsed = Date.now() - started;
      const [fromRedis] = await raw(redis.port, [['MIGRATE', '127.0.0.1', port, 'mute:k', '0', '500']]);
      expect(fromTalus).to.equal(fromRedis);
      expect(fromTalus).to.include('IOERR error or timeout reading to target instance');
      expect(elapsed).to.be.below(3000);
      expect(await t.get('mute:k')).to.equal('v');
    } finally {
      mute.close();
    }
  });

  it('the deletions pass the mutation seam: WATCH aborts, keyspace notifications, and not from a script', async () => {
    const watcher = talus.client();
    const sub = talus.client();
    const tc = new Redis({ port: talusTarget.port, password: PASS });
    try {
      await t.config('SET', 'notify-keyspace-events', 'Eg');
      const dels: string[] = [];
      await sub.subscribe('__keyevent@0__:del');
      sub.on('message', (_ch: string, key: string) => dels.push(key));
      await t.set('seam:k', 'v');
      await watcher.watch('seam:k');
      expect(await t.call('MIGRATE', '127.0.0.1', String(talusTarget.port), 'seam:k', '0', '5000', 'AUTH', PASS)).to.equal('OK');
      const exec = await watcher.multi().get('seam:k').exec();
      expect(exec).to.equal(null);
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(dels).to.deep.equal(['seam:k']);
      expect(await tc.get('seam:k')).to.equal('v');
      await t.set('seam:s', 'v');
      const err = await t.eval(`return redis.pcall('MIGRATE', '127.0.0.1', '${talusTarget.port}', 'seam:s', '0', '5000')`, 0).catch((e: Error) => e.message);
      expect(String(err)).to.include('Talus cannot wait for this command inside a script');
      expect(await t.get('seam:s')).to.equal('v');
    } finally {
      await t.config('SET', 'notify-keyspace-events', '');
      watcher.disconnect();
      sub.disconnect();
      tc.disconnect();
    }
  });
});
