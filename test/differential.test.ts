import { expect } from 'chai';
import { startTalus, talusInfo, type TalusProcess } from './support/harness.js';
import { redisServerAvailable, startRedisServer, type RedisServer } from './support/redis-server.js';
import {
  ALL_FAMILIES,
  HASHES,
  HYPERLOGLOG,
  KEYS,
  LISTS,
  SETS,
  SORTING,
  TRANSACTIONS,
  ZSETS,
  formatDivergence,
  frameEnd,
  RawConnection,
  runDifferential,
  show,
  showCommand,
  type Arg,
  type DiffOptions,
} from './support/differential.js';

/**
 * Random command sequences, sent to Debian's redis-server and to Talus, must
 * get the same replies. Knobs (environment):
 *   DIFF_SEED=n        run only this seed (to reproduce a reported divergence)
 *   DIFF_SEEDS=n       number of seeds (default 50), starting at DIFF_SEED_BASE (default 1)
 *   DIFF_STEPS=n       commands per seed (default 400)
 *   DIFF_EXCLUDE=a,b   commands to leave out
 *   DIFF_KEYS=n        a smaller key space (more collisions)
 * Only commands both servers know are generated (see test/support/differential.ts).
 */
const env = process.env;
const seeds = env.DIFF_SEED
  ? [Number(env.DIFF_SEED)]
  : Array.from({ length: Number(env.DIFF_SEEDS ?? 50) }, (_, i) => Number(env.DIFF_SEED_BASE ?? 1) + i);
const steps = Number(env.DIFF_STEPS ?? 400);
const exclude = (env.DIFF_EXCLUDE ?? '').split(',').filter(Boolean);
const resp3 = (seed: number) => seed % 4 === 3;

describe('differential: Talus vs redis-server', function () {
  // long soaks (DIFF_SEEDS x DIFF_STEPS) get ~5 ms per command, and 3 minutes at least
  this.timeout(Math.max(180_000, seeds.length * steps * 5));
  let redis: RedisServer | undefined;
  let redis2: RedisServer | undefined;
  let talus: TalusProcess | undefined;
  /** a hot set of one byte: keys go cold after nearly every command, and collections of 3+ members come back paged */
  let paged: TalusProcess | undefined;

  before(async function () {
    if (!redisServerAvailable()) {
      console.warn('      redis-server not installed: differential tests skipped');
      this.skip();
    }
    [redis, redis2, talus] = await Promise.all([
      startRedisServer(),
      startRedisServer(),
      // durability is not what is compared here: reply without waiting for commits
      startTalus(['--appendfsync', 'everysec']),
    ]);
    paged = await startTalus(['--appendfsync', 'everysec', '--maxmemory', '1', '--paged-collection-threshold', '2']);
  });

  after(async () => {
    await Promise.all([redis?.stop(), redis2?.stop(), talus?.stop(), paged?.stop()]);
  });

  it('frames RESP2/RESP3 replies split anywhere', () => {
    const replies = ['+OK\r\n', '$5\r\nhe\r\nl\r\n', '*2\r\n:1\r\n$-1\r\n', '%1\r\n+a\r\n~2\r\n,1.5\r\n#t\r\n', '|1\r\n+k\r\n+v\r\n:7\r\n', '_\r\n'];
    for (const r of replies) {
      const b = Buffer.from(r);
      expect(frameEnd(b, 0), r).to.equal(b.length);
      for (let cut = 0; cut < b.length; cut++) expect(frameEnd(b.subarray(0, cut), 0), `${r} cut at ${cut}`).to.equal(-1);
    }
  });

  it('fixed cases once found by the fuzzer answer like redis-server', async () => {
    const p = `fixed${process.pid}:`;
    const k = (name: string) => Buffer.from(p + name, 'latin1');
    const b = (s: string) => Buffer.from(s, 'latin1');
    const cases: Arg[][] = [
      // an empty cursor is cursor 0; a cursor ends at a NUL byte (strtoul on a C string)
      ['HSET', k('h'), 'f', 'v'], ['SADD', k('s'), 'm'], ['ZADD', k('z'), '1', 'm'],
      ['SCAN', '', 'MATCH', `${p}h`, 'COUNT', '1000'], ['SCAN', b('0\x00junk'), 'MATCH', `${p}h`, 'COUNT', '1000'],
      ['HSCAN', k('h'), ''], ['SSCAN', k('s'), ''], ['ZSCAN', k('z'), ''], ['HSCAN', k('h'), b('\x00')], ['SSCAN', k('s'), ' 0'],
      // unknown commands and subcommands echo raw bytes, each cut at a NUL and the list at 128 bytes
      [b('FOO\x00bar'), b('a\x00b'), b('\xff\xfe'), 'x'.repeat(100), 'y'.repeat(100), 'z'],
      [b('f\r\noo'), ...Array.from({ length: 14 }, (_, i) => String(i))],
      [b('\x00')], ['c'.repeat(200), 'd'.repeat(300)], [b('\xce\xa9'), b('\xce\xa9\xff')],
      ['OBJECT', b('\xffsub\x00x')], ['CONFIG', b('a\x00b')], ['CLIENT', b('\xe2\x82\xac')], ['COMMAND', 'x'.repeat(300)],
      ['MULTI'], [b('nosuch\xff'), 'a'], ['EXEC'],
      // a subcommand's arity and an unknown subcommand are refused before MULTI queues them
      ['MULTI'], ['XINFO', 'GROUPS', k('x'), '0'], ['EXEC'], ['MULTI'], ['XINFO', 'NOSUCH'], ['OBJECT', 'ENCODING'], ['EXEC'], ['MULTI'], ['COMMAND'], ['DISCARD'],
      ['SET', k('e'), 'v'], ['EXPIRE', k('e'), '100', b('FO\xffO\x00x')], ['EXPIRE', k('e'), '100', b('F\rOO\r\n')],
      ['HELLO', '2', b('\xffopt\r\n')], ['CLIENT', 'LIST', 'TYPE', b('\xffx\x00y')],
      // cjson.decode: a NUL in the first two bytes is UTF-16/32; a later one ends the text (a C string)
      ...['\x00', '[1,\x00]', '1\x00', '"a\x00b"', '[\x00', '\x00\x00', '{"a":\x001}', '[1, 2]\x00', 'nul\x00', '+1', '[+0x10, +inf, -inf, 01]', '+', '+x', '-x', '+-1'].map((t) => ['EVAL', 'return cjson.decode(ARGV[1])', '0', b(t)]),
      // a range of 1,024 members or more is encoded at once (encodedScoredPairs), scores as Redis prints them
      ['ZADD', k('bigz'), ...Array.from({ length: 1100 }, (_, i) => [['0', '-0', '1.5', '-2.25', '1e300', 'inf', '-inf', '0.1', '5e-324'][i % 9]!, `m${i}`]).flat()],
      ['ZRANGE', k('bigz'), '0', '-1', 'WITHSCORES'], ['ZREVRANGEBYSCORE', k('bigz'), '+inf', '-inf', 'WITHSCORES'], ['ZRANGE', k('bigz'), '0', '-1'],
      // KEYS from a script over keys that are cold (the paged Talus): the script waits for the scan
      ['SET', k('ka1'), '1'], ['SET', k('ka2'), '2'], ['EVAL', "return #redis.call('KEYS', KEYS[1])", '1', `${p}ka*`],
      ['EVAL', "return redis.call('KEYS', KEYS[1])[1]", '1', `${p}ka1*`],
      // EVALSHA refuses a SHA of the wrong length, FCALL an unknown function, before numkeys (a long long) is read
      ['EVALSHA', 'x', '9223372036854775808'], ['EVALSHA', 'x', '-1'], ['EVALSHA', 'f'.repeat(40), '-0'], ['EVALSHA', 'f'.repeat(40), '-1'],
      ['EVAL', 'return 1', '007'], ['EVAL', 'return 1', '-0'], ['EVAL', 'return 1', '9007199254740993'], ['FCALL', 'nosuchfn', 'x'],
      // the coordinates in GEO's range error are C's %f: every integer digit, ties to even
      ['GEOADD', k('geo'), '1e39', '0', 'm'], ['GEOADD', k('geo'), '180.0078125', '-85.0000005', 'm'], ['GEOADD', k('geo'), '-1e21', '1e300', 'm'],
      // a db index is a long long, then an int: past 2^31 it is out of range, past 2^63 not an integer
      ['MOVE', k('e'), '9223372036854775807'], ['MOVE', k('e'), '2147483648'], ['MOVE', k('e'), '-2147483649'], ['MOVE', k('e'), '9223372036854775808'],
      ['COPY', k('e'), k('e2'), 'DB', '2147483648'], ['SELECT', '2147483648'], ['SELECT', '9223372036854775808'], ['SWAPDB', '0', '2147483648'],
      // HELLO's version is a long long: past int64 it is not an integer, not an unsupported version
      ['HELLO', '99999999999999999999'], ['HELLO', '9223372036854775808'], ['HELLO', '9223372036854775807'], ['HELLO', '03'], ['HELLO', '-0'], ['HELLO', ''],
      // SORT reads numbers as strtod does a C string: "\x00" is 0, "3\x00x" is 3
      ['RPUSH', k('l'), b('\x00'), b('3\x00x'), '2', b(' 1\x00')], ['SORT', k('l')], ['SORT', k('l'), 'DESC'],
      ['RPUSH', k('l2'), 'a', 'b', 'c'], ['SET', k('w_a'), b('\x00'), ], ['SET', k('w_b'), b('-1\x00z')], ['SET', k('w_c'), b('\x00\x00')],
      ['SORT', k('l2'), 'BY', `${p}w_*`], ['HSET', k('hw_a'), 'f', b('5\x00')], ['SORT', k('l2'), 'BY', `${p}hw_*->f`],
      ['RPUSH', k('l3'), b('x\x00')], ['SORT', k('l3')],
      // LPOS RANK LLONG_MIN: Redis's negated rank stays negative, so its COUNT test overflows and every match is returned
      ['RPUSH', k('lp'), 'm', 'x', 'm', 'm'], ['LPOS', k('lp'), 'm', 'RANK', '-9223372036854775808', 'COUNT', '1'],
      ['LPOS', k('lp'), 'm', 'RANK', '-9223372036854775808', 'COUNT', '2', 'MAXLEN', '3'], ['LPOS', k('lp'), 'm', 'RANK', '-9223372036854775808'],
      // options are compared as C strings (strcasecmp): a NUL ends them; so do score bounds (strtod)
      ['SET', k('e'), 'v', b('NX\x00junk')], ['EXPIRE', k('e'), '100', b('NX\x00junk')], ['ZADD', k('zq'), b('CH\x00x'), '1', 'a', '2', 'b'],
      ['ZRANGE', k('zq'), '0', '-1', b('WITHSCORES\x00')], ['LPOS', k('nol'), 'a', b('RANK\x00'), '1'],
      ['ZRANGEBYSCORE', k('zq'), b('1\x00x'), b('(2\x00')], ['ZCOUNT', k('zq'), b('\x00'), b('(\x002')], ['ZCOUNT', k('zq'), '', '('],
      ['BITCOUNT', k('e'), '0', '1', b('BIT\x00x')], ['GETEX', k('e'), b('PERSIST\x00')], ['LINSERT', k('nol'), b('BEFORE\x00'), 'a', 'b'],
      // RESTORE's relative TTL is added to now in a signed 64-bit integer: past INT64_MAX it wraps, the key is born expired
      // (Talus once kept it, with a time past 2^63 its commit could not encode: the process exited)
      ['RPUSH', k('rl'), 'a', 'b', 'c'], ['SET', k('rs'), 'v'],
      ['EVAL', "return redis.call('RESTORE', KEYS[1], ARGV[1], redis.call('DUMP', KEYS[2]), 'REPLACE')", '2', k('rs'), k('rl'), '9223372036854775807'],
      ['EXISTS', k('rs')], ['LRANGE', k('rs'), '0', '-1'],
      ['EVAL', "return redis.call('RESTORE', KEYS[1], ARGV[1], redis.call('DUMP', KEYS[2]), 'ABSTTL')", '2', k('rs2'), k('rl'), '9223372036854775807'],
      // (an expiry past 2^53 ms is kept rounded: docs/compatibility.md)
      ['EXISTS', k('rs2')], ['LRANGE', k('rs2'), '0', '-1'], ['PEXPIREAT', k('rs2'), '9223372036854775807'], ['PERSIST', k('rs2')],
      // string.format's integer conversions take 64 bits as Redis's Lua does (this Lua's own are 32-bit)
      ...["'%d', 1765150000000", "'%020d|%-15d|', 1765150000000, -4294967296", "'%+d % d', 4294967296, 3e9", "'%x %X %#x', 4294967296, 1765150000000, 2^40",
        "'%x', -4294967297", "'%d %d %d', 1e308, 0/0, -1.9e10", "'%d %s %d', '3000000000', 'a', 7", "'%5.2f %d %%', 1.5, 2^53 + 2"]
        .map((f) => ['EVAL', `return string.format(${f})`, '0']),
      // MEMORY USAGE's SAMPLES: an integer, not negative, the option repeatable (the size itself is Talus's own)
      ['MEMORY', 'USAGE', k('nokey'), 'SAMPLES', 'x'], ['MEMORY', 'USAGE', k('nokey'), 'SAMPLES', '-1'], ['MEMORY', 'USAGE', k('nokey'), 'SAMPLES', '5', 'SAMPLES', '0'],
      ['MEMORY', 'USAGE', k('nokey'), 'SAMPLES'], ['MEMORY', 'USAGE', k('nokey'), 'FOO', '1'], ['MEMORY', 'USAGE', k('nokey'), 'SAMPLES', '9223372036854775808'],
      // WAIT's timeout has its own error text; CLIENT LIST ID takes any integer, matching no client for 0 or less
      ['WAIT', '0', 'x'], ['WAIT', 'x', '0'], ['WAIT', '0', '-1'], ['CLIENT', 'LIST', 'ID', '0'], ['CLIENT', 'LIST', 'ID', '-1', '0'], ['CLIENT', 'LIST', 'ID', 'x'],
      // BITCOUNT: an empty negative range is 0 before the unit is read
      ['SET', k('bits'), 'foo'], ['BITCOUNT', k('bits'), '-2', '-3', ''], ['BITCOUNT', k('nobits'), '-2', '-3', ''],
      ['BITCOUNT', k('bits'), '-2', '-3', 'FOO'], ['BITCOUNT', k('bits'), '1', '2', 'FOO'],
      // -0 scores: a listpack stores 0, a skiplist keeps -0 (a long member, SORT, a big *STORE result)
      ['ZADD', k('z0'), '-0', 'm'], ['ZSCORE', k('z0'), 'm'], ['ZRANGE', k('z0'), '0', '-1', 'WITHSCORES'], ['OBJECT', 'ENCODING', k('z0')],
      ['ZINCRBY', k('z0'), '-0', 'n'], ['ZSCORE', k('z0'), 'n'], ['ZADD', k('z0'), 'INCR', '-0', 'o'],
      ['ZADD', k('zl'), '-0', 'x'.repeat(70)], ['ZADD', k('zl'), '-0', 'm2', '0', 'm3'], ['ZRANGE', k('zl'), '0', '-1', 'WITHSCORES'],
      ['ZDIFF', '1', k('zl'), 'WITHSCORES'], ['ZUNION', '1', k('z0'), 'WEIGHTS', '-0', 'WITHSCORES'], ['OBJECT', 'ENCODING', k('zl')],
      ['ZINCRBY', k('zl'), '0', 'm2'], ['ZSCORE', k('zl'), 'm2'], ['ZADD', k('zl'), '0', 'm2'], ['ZSCORE', k('zl'), 'm2'],
      ['ZADD', k('zs'), '1', 'a'], ['SORT', k('zs')], ['ZADD', k('zs'), '-0', 'b'], ['ZSCORE', k('zs'), 'b'], ['OBJECT', 'ENCODING', k('zs')],
      ['ZPOPMAX', k('zs')], ['ZADD', k('zs'), '-0', 'c'], ['ZRANGE', k('zs'), '0', '-1', 'WITHSCORES'], ['ZSCAN', k('zs'), '0', 'MATCH', 'c'],
      ['ZUNIONSTORE', k('u1'), '1', k('zl')], ['ZRANGE', k('u1'), '0', '-1', 'WITHSCORES'],
      ['ZUNIONSTORE', k('u2'), '1', k('zs')], ['ZRANGE', k('u2'), '0', '-1', 'WITHSCORES'], ['OBJECT', 'ENCODING', k('u2')],
      ['ZINTERSTORE', k('u3'), '1', k('zs'), 'WEIGHTS', '-1'], ['ZRANGE', k('u3'), '0', '-1', 'WITHSCORES'],
      ['ZRANGESTORE', k('r1'), k('zl'), '0', '-1'], ['ZRANGE', k('r1'), '0', '-1', 'WITHSCORES'],
      ['ZRANGESTORE', k('r2'), k('zs'), '-inf', '+inf', 'BYSCORE'], ['ZRANGE', k('r2'), '0', '-1', 'WITHSCORES'],
      ['COPY', k('zs'), k('zc')], ['ZADD', k('zc'), '-0', 'd'], ['ZRANGE', k('zc'), '0', '-1', 'WITHSCORES'],
      ['RENAME', k('zc'), k('zc2')], ['ZADD', k('zc2'), '-0', 'e'], ['ZMSCORE', k('zc2'), 'd', 'e', 'a'],
      ['SET', k('f0'), '0'], ['INCRBYFLOAT', k('f0'), '-0'], ['INCRBYFLOAT', k('f1'), '-0'], ['HINCRBYFLOAT', k('hf'), 'f', '-0'],
      ['SET', k('f2'), '-0'], ['INCRBYFLOAT', k('f2'), '0'],
      // a sparse HLL ending in a cut XZERO reads its second byte past the end of the string; a PFADD splitting it
      // leaves a byte there that later commands read, as long as Redis keeps the string (SETRANGE, RENAME: not COPY)
      ['PFMERGE', k('hll')], ['SETRANGE', k('hll'), '16', b('\xa4')], ['APPEND', k('hll'), b('\xc2\x80')], ['APPEND', k('hll'), 'x'],
      ['PFADD', k('hll'), '10617'], ['SETRANGE', k('hll'), '8', b('\x01')], ['RENAME', k('hll'), k('hll2')], ['COPY', k('hll2'), k('hll3')],
      ['PFDEBUG', 'DECODE', k('hll2')], ['PFDEBUG', 'DECODE', k('hll3')], ['PFCOUNT', k('hll2')], ['PFCOUNT', k('hll3')],
      ['PFADD', k('hll2'), '36510', '26639', '18009', '46376'], ['PFADD', k('hll3'), '36510', '26639', '18009', '46376'],
      ['GET', k('hll2')], ['GET', k('hll3')],
      // SORT in MULTI after a command that puts elements in its key: the BY/GET keys those name are loaded before EXEC
      ['SET', k('w_2.5'), '7'], ['HSET', k('h_x'), 'g', 'hx'], ['SADD', k('src'), 'x', 'y'], ['SET', k('w_y'), '1'],
      ['MULTI'], ['RPUSH', k('ls'), '2.5', 'x'], ['SORT', k('ls'), 'ALPHA', 'GET', `${p}w_*`, 'GET', `${p}h_*->g`], ['EXEC'],
      ['MULTI'], ['SUNIONSTORE', k('ss'), k('src')], ['SORT', k('ss'), 'BY', `${p}w_*`, 'GET', '#', 'GET', `${p}h_*->g`], ['EXEC'],
    ];
    // the same against the paged Talus: the encoding must survive eviction (hot set of 1 byte)
    for (const port of [talus!.port, paged!.port]) {
      const ref = await RawConnection.connect(redis!.port);
      const sub = await RawConnection.connect(port);
      try {
        await ref.call(['DEL', ...cases.flat().filter((a) => Buffer.from(a).toString('latin1').startsWith(p))]);
        for (const args of cases) {
          const [a, t] = await Promise.all([ref.call(args), sub.call(args)]);
          expect(show(t), `${port === paged!.port ? 'paged: ' : ''}${showCommand(args)}`).to.equal(show(a));
        }
      } finally {
        ref.close();
        sub.close();
      }
    }
  });

  it('the generator is deterministic and the comparators are sound (redis vs redis)', async () => {
    const opts: DiffOptions = {
      reference: { name: 'redis', port: redis!.port },
      subject: { name: 'redis-2', port: redis2!.port },
      seeds: seeds.slice(0, 8),
      steps,
      resp3,
      exclude,
    };
    const res = await runDifferential(opts);
    expect(res.divergence, res.divergence && formatDivergence(res.divergence, 'redis', 'redis-2')).to.equal(undefined);
    expect(res.used.length).to.be.greaterThan(30);
  });

  it('Talus answers every generated sequence like redis-server', async () => {
    const res = await runDifferential({
      reference: { name: 'redis', port: redis!.port },
      subject: { name: 'talus', port: talus!.port },
      families: ALL_FAMILIES,
      seeds,
      steps,
      resp3,
      exclude,
    });
    console.log(
      `      ${res.commandsSent} commands over ${res.seedsRun} seed(s); generated: ${res.used.join(' ') || '(none)'}` +
        `\n      not generated (unknown to Talus or excluded): ${res.skipped.join(' ') || '(none)'}`,
    );
    expect(res.divergence, res.divergence && formatDivergence(res.divergence)).to.equal(undefined);
    expect(res.used, 'Talus knows none of the generated commands').to.include.members(['get', 'set']);
  });

  it('HyperLogLog sequences answer like redis-server, value bytes included (hll-sparse-max-bytes 3000, then 120)', async () => {
    for (const max of ['3000', '120']) {
      for (const ep of [redis!.port, talus!.port, paged!.port]) {
        const conn = await RawConnection.connect(ep);
        await conn.call(['CONFIG', 'SET', 'hll-sparse-max-bytes', max]);
        conn.close();
      }
      for (const subject of [talus!, paged!]) {
        const res = await runDifferential({
          reference: { name: 'redis', port: redis!.port },
          subject: { name: subject === paged ? 'talus-cold' : 'talus', port: subject.port },
          families: [HYPERLOGLOG],
          seeds: seeds.slice(0, Math.max(1, Math.ceil(seeds.length / 5))).map((s) => s + (max === '3000' ? 200_000 : 300_000) + (subject === paged ? 50_000 : 0)),
          steps,
          resp3,
          exclude,
        });
        console.log(`      hll-sparse-max-bytes ${max}: ${res.commandsSent} commands over ${res.seedsRun} seed(s)`);
        expect(res.divergence, res.divergence && formatDivergence(res.divergence)).to.equal(undefined);
      }
    }
    for (const ep of [redis!.port, talus!.port, paged!.port]) {
      const conn = await RawConnection.connect(ep);
      await conn.call(['CONFIG', 'SET', 'hll-sparse-max-bytes', '3000']);
      conn.close();
    }
  });

  it('cold keys and paged collections answer like redis-server (hot set of 1 byte, paging above 2 members)', async () => {
    const res = await runDifferential({
      reference: { name: 'redis', port: redis!.port },
      subject: { name: 'talus-paged', port: paged!.port },
      families: [LISTS, HASHES, SETS, ZSETS, KEYS, SORTING, TRANSACTIONS],
      seeds: seeds.slice(0, Math.max(1, Math.ceil(seeds.length / 2))),
      steps,
      resp3,
      exclude,
    });
    console.log(`      ${res.commandsSent} commands over ${res.seedsRun} seed(s)`);
    expect(res.divergence, res.divergence && formatDivergence(res.divergence, 'redis', 'talus-paged')).to.equal(undefined);
    // the run must really have read parts of paged collections, not just whole keys
    const info = await paged!.client().info('everything');
    const field = (name: string) => Number(new RegExp(`${name}:(\\d+)`).exec(info)?.[1] ?? 0);
    expect(field('evicted_keys')).to.be.greaterThan(0);
    expect(field('paged_opens')).to.be.greaterThan(0);
    expect(field('paged_partial_reads')).to.be.greaterThan(0);
    // with maxmemory 1 every whole read of a paged value by a client is streamed from PostgreSQL
    expect(field('paged_streamed_reads')).to.be.greaterThan(0);
  });

  it('pipelines of 16 on cold keys and paged collections answer like redis-server (requests parsed ahead, keys prefetched)', async () => {
    const before = (await talusInfo(paged!.client())).key_read_queries!;
    const res = await runDifferential({
      reference: { name: 'redis', port: redis!.port },
      subject: { name: 'talus-paged', port: paged!.port },
      families: ALL_FAMILIES,
      seeds: seeds.slice(0, Math.max(1, Math.ceil(seeds.length / 2))).map((s) => s + 100_000),
      steps,
      resp3,
      exclude,
      pipeline: 16,
    });
    console.log(`      ${res.commandsSent} commands over ${res.seedsRun} seed(s)`);
    expect(res.divergence, res.divergence && formatDivergence(res.divergence, 'redis', 'talus-paged')).to.equal(undefined);
    const after = (await talusInfo(paged!.client())).key_read_queries!;
    expect(after - before, 'key reads').to.be.greaterThan(0);
  });
});
