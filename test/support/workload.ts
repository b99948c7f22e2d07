/**
 * A randomized write workload over every writing command family, for the
 * change-log replay test: commands as argument lists, drawn from a seeded
 * PRNG, on binary (some long) key names grouped in pools by type so that
 * most commands apply. Keys of the `volatile` pool get TTLs of a few ms and
 * are only ever overwritten, deleted, read or given a new absolute expiry:
 * commands whose effect depends on a value that a replay, run later, would
 * see expired are kept off them (a follower applying the log live sees keys
 * the primary has not yet expired; a replay after the fact does not).
 */
import { PayloadWriter, WRITE_TYPES } from '../../src/util/rdb-value.js';

export type Cmd = Array<string | Buffer>;


/** mulberry32: small, fast, and the same sequence for a seed everywhere. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const WORKLOAD_DBS = [0, 1, 2, 3];
/** short TTLs stay under this (ms): wait longer than it before comparing */
export const SHORT_TTL_MS = 250;
const HOUR_MS = 3_600_000;

type Pool = 'str' | 'num' | 'hash' | 'list' | 'set' | 'zset' | 'vol' | 'volc' | 'big' | 'block';

export class Workload {
  rand: () => number;
  private blockTurn = 0;
  private readonly pools = new Map<Pool, Buffer[]>();
  /** big collections above the paging threshold, by type */
  readonly big: { hash: Buffer; list: Buffer; set: Buffer; zset: Buffer }[];

  /**
   * Workloads of one seed share their key names; `stream` picks the
   * sequence of commands (concurrent clients on the same keys).
   */
  /**
   * `deterministic`: only commands whose replies and results depend on the
   * data alone (no short TTLs, no random pops), to compare servers.
   */
  constructor(seed: number, readonly bigMembers: number, stream = 0, readonly deterministic = false) {
    this.rand = prng(seed);
    const sizes: Record<Pool, number> = { str: 40, num: 12, hash: 30, list: 30, set: 30, zset: 30, vol: 30, volc: 10, big: 0, block: 4 };
    for (const [pool, n] of Object.entries(sizes) as Array<[Pool, number]>) {
      const names: Buffer[] = [];
      for (let i = 0; i < n; i++) names.push(this.name(pool, i, i === 1 && n > 20));
      this.pools.set(pool, names);
    }
    this.rand = prng(seed + stream * 0x9e3779b9);
    // Collections with short TTLs are created whole by a few commands in a row:
    // a concurrent client adding to one before it expires would make a later
    // replay differ (it sees the key expired), so each stream has its own.
    this.pools.set('volc', this.pools.get('volc')!.map((_, i) => Buffer.from(`volc:${stream}-${i}:`)));
    this.big = [0, 1].map((i) => ({
      hash: Buffer.from(`big:hash:${i}`),
      list: Buffer.from(`big:list:${i}`),
      set: Buffer.from(`big:set:${i}`),
      zset: Buffer.from(`big:zset:${i}`),
    }));
  }

  int(n: number): number {
    return Math.floor(this.rand() * n);
  }
  chance(p: number): boolean {
    return this.rand() < p;
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)]!;
  }

  /** A pool's name: its prefix, an index, random binary bytes; a long one (over 2560 bytes) when asked. */
  private name(pool: Pool, i: number, long: boolean): Buffer {
    const tail = Buffer.alloc(long ? 3000 : this.int(6));
    for (let j = 0; j < tail.length; j++) tail[j] = this.int(256);
    return Buffer.concat([Buffer.from(`${pool}:${i}:`), tail]);
  }

  key(pool: Pool): Buffer {
    return this.pick(this.pools.get(pool)!);
  }

  bytes(): Buffer {
    const r = this.rand();
    const n = r < 0.7 ? this.int(16) : r < 0.97 ? 16 + this.int(200) : 200 + this.int(6000);
    const b = Buffer.alloc(n);
    for (let j = 0; j < n; j++) b[j] = this.chance(0.5) ? 97 + this.int(6) : this.int(256);
    return b;
  }

  /** A member from a small alphabet, so members collide and get updated. */
  member(): Buffer {
    if (this.chance(0.05)) return this.bytes();
    return Buffer.from([0x6d, this.int(40), ...(this.chance(0.3) ? [0xff, 0x0d, 0x0a] : [])]);
  }

  score(): string {
    const r = this.rand();
    if (r < 0.02) return this.pick(['inf', '-inf', '+inf']);
    if (r < 0.5) return String(this.int(50) - 10);
    return (this.rand() * 200 - 100).toFixed(this.int(6));
  }

  longTtlMs(): number {
    return HOUR_MS + this.int(HOUR_MS);
  }
  shortTtlMs(): number {
    return 1 + this.int(SHORT_TTL_MS);
  }

  /** Commands that (re)create the big collections of `set` with `bigMembers` members each. */
  seedBig(set: number): Cmd[] {
    const b = this.big[set]!;
    const h: Cmd = ['HSET', b.hash];
    const l: Cmd = ['RPUSH', b.list];
    const s: Cmd = ['SADD', b.set];
    const z: Cmd = ['ZADD', b.zset];
    for (let i = 0; i < this.bigMembers; i++) {
      const m = Buffer.from(`member:${i}:${this.int(1e6)}`);
      h.push(m, this.bytes());
      l.push(m);
      s.push(m);
      z.push(String(this.int(1000)), m);
    }
    return [['DEL', b.hash, b.list, b.set, b.zset], h, l, s, z];
  }

  /** One step: one command, or a few that belong together. */
  next(): Cmd[] {
    const r = this.rand();
    if (r < 0.16) return [this.stringCmd()];
    if (r < 0.2) return [this.bitCmd()];
    if (r < 0.3) return [this.hashCmd()];
    if (r < 0.42) return [this.listCmd()];
    if (r < 0.52) return [this.setCmd()];
    if (r < 0.64) return [this.zsetCmd()];
    if (r < 0.74) return [this.genericCmd()];
    if (r < 0.84) return this.deterministic ? [this.stringCmd()] : this.volatileCmds();
    if (r < 0.9) return [this.bigCmd()];
    if (r < 0.93) return this.transaction();
    if (r < 0.935) return [this.sortCmd()];
    if (r < 0.9365) return [['SWAPDB', String(this.pick(WORKLOAD_DBS)), String(this.pick(WORKLOAD_DBS))]];
    if (r < 0.96) return [this.streamCmd()];
    return [this.readCmd()];
  }

  private anyKey(): Buffer {
    return this.key(this.pick<Pool>(['str', 'num', 'hash', 'list', 'set', 'zset']));
  }

  stringCmd(): Cmd {
    const k = this.key('str');
    const n = this.key('num');
    switch (this.int(25)) {
      case 0: return ['SET', k, this.bytes()];
      case 1: return ['SET', k, this.bytes(), 'EX', String(3600 + this.int(3600))];
      case 2: return ['SET', k, this.bytes(), this.pick(['NX', 'XX']), ...(this.chance(0.5) ? ['GET'] : [])];
      case 3: return ['SET', k, this.bytes(), 'KEEPTTL'];
      case 4: return ['SETNX', k, this.bytes()];
      case 5: return ['SETEX', k, String(3600 + this.int(100)), this.bytes()];
      case 6: return ['PSETEX', k, String(this.longTtlMs()), this.bytes()];
      case 7: return ['GETSET', k, this.bytes()];
      case 8: return ['GETDEL', k];
      case 9: return ['GETEX', k, ...this.pick<string[]>([['PERSIST'], ['EX', '7200'], ['PXAT', String(Date.now() + this.longTtlMs())], []])];
      case 10: return ['MSET', k, this.bytes(), this.key('str'), this.bytes()];
      case 11: return ['MSETNX', k, this.bytes(), this.key('str'), this.bytes()];
      case 12: return ['APPEND', k, this.bytes()];
      case 13: return ['SETRANGE', k, String(this.int(40)), this.bytes()];
      case 14: return ['INCR', n];
      case 15: return ['DECR', n];
      case 16: return ['INCRBY', n, String(this.int(2000) - 1000)];
      case 17: return ['DECRBY', n, String(this.int(100))];
      case 18: return ['INCRBYFLOAT', n, (this.rand() * 10 - 5).toFixed(3)];
      case 19: return ['SET', n, String(this.int(1000)), ...(this.chance(0.3) ? ['PX', String(this.longTtlMs())] : [])];
      case 20: return ['SET', k, this.bytes(), this.pick(['PXAT', 'EXAT']), String(Date.now() - 1000)];
      case 21: return ['GETEX', k, this.pick(['PXAT', 'EXAT']), '1']; // in the past: deletes
      case 22: return ['SET', Buffer.concat([Buffer.from('w:'), this.member()]), String(this.int(20))]; // SORT ... BY weights
      case 23: return ['HSET', Buffer.concat([Buffer.from('o:'), this.member()]), 'f', this.bytes()]; // SORT ... GET objects
      default: return ['SET', k, this.bytes(), 'GET'];
    }
  }

  bitCmd(): Cmd {
    const k = this.key('str');
    // HyperLogLogs (strings): a few keys of their own, sometimes a string key (not an HLL: an error)
    const hll = (): Buffer => (this.chance(0.1) ? this.key('str') : Buffer.from(`hll:${this.int(3)}`));
    switch (this.int(8)) {
      case 7: return ['PFDEBUG', this.pick(['TODENSE', 'GETREG']), hll()];
      case 4: return ['PFADD', hll(), ...Array.from({ length: this.chance(0.1) ? 300 + this.int(1500) : this.int(8) }, () => String(this.int(100_000)))];
      case 5: return ['PFCOUNT', hll(), ...(this.chance(0.3) ? [hll()] : [])];
      case 6: return ['PFMERGE', hll(), hll(), hll()];
      case 0: return ['SETBIT', k, String(this.int(400)), String(this.int(2))];
      case 1: return ['BITOP', this.pick(['AND', 'OR', 'XOR']), k, this.key('str'), this.key('str')];
      case 2: return ['BITOP', 'NOT', k, this.key('str')];
      default:
        return ['BITFIELD', k, 'SET', this.pick(['u8', 'i16', 'u4']), String(this.int(64)), String(this.int(300)), 'INCRBY', 'i8', String(this.int(32)), String(this.int(20)),
          ...(this.chance(0.5) ? ['OVERFLOW', this.pick(['SAT', 'FAIL', 'WRAP']), 'INCRBY', 'u8', '8', '200'] : [])];
    }
  }

  /** the ms part of the next explicit stream ID (mostly rising, so most XADDs are accepted) */
  private streamMs = 1;

  /**
   * Streams: a few keys of their own, sometimes a string key (WRONGTYPE).
   * Explicit IDs only when the replies are compared with redis-server (`*`
   * reads the clock); consumer groups claim with a min-idle-time of 0, so
   * what they deliver does not depend on time.
   */
  streamCmd(): Cmd {
    const k = this.chance(0.05) ? this.key('str') : Buffer.from(`xs:${this.int(3)}`);
    const id = (): string => `${Math.max(1, this.streamMs - this.int(4))}-${this.int(3)}`;
    const group = (): string => `g${this.int(2)}`;
    const consumer = (): string => `c${this.int(3)}`;
    const trim = (): string[] =>
      this.chance(0.7) ? ['MAXLEN', this.pick(['=', '~']), String(this.int(30))] : ['MINID', this.pick(['=', '~']), id()];
    switch (this.int(12)) {
      case 0:
      case 1:
      case 2: {
        this.streamMs += this.int(3);
        const newId = this.deterministic || this.chance(0.5) ? `${this.streamMs}-${this.int(3)}` : '*';
        return ['XADD', k, ...(this.chance(0.3) ? trim() : []), newId, this.member(), this.bytes(), ...(this.chance(0.3) ? [this.member(), this.bytes()] : [])];
      }
      case 3: return ['XDEL', k, id(), id()];
      case 4: return ['XTRIM', k, ...trim()];
      case 5: return ['XSETID', k, `${this.streamMs + this.int(3)}-${this.int(5)}`];
      case 6: return ['XGROUP', 'CREATE', k, group(), this.pick(['$', '0', id()]), ...(this.chance(0.5) ? ['MKSTREAM'] : [])];
      case 7: return this.chance(0.5) ? ['XGROUP', 'SETID', k, group(), this.pick(['$', '0', id()])] : ['XGROUP', this.pick(['DESTROY', 'CREATECONSUMER', 'DELCONSUMER']), k, group(), consumer()].slice(0, this.chance(0.3) ? 4 : 5);
      case 8:
      case 9: return ['XREADGROUP', 'GROUP', group(), consumer(), 'COUNT', String(1 + this.int(4)), ...(this.chance(0.2) ? ['NOACK'] : []), 'STREAMS', k, this.chance(0.8) ? '>' : '0'];
      case 10: return ['XACK', k, group(), id(), id()];
      default:
        return this.chance(0.5)
          ? ['XCLAIM', k, group(), consumer(), '0', id(), id(), ...(this.chance(0.3) ? ['JUSTID'] : [])]
          : ['XAUTOCLAIM', k, group(), consumer(), '0', '0-0', 'COUNT', String(1 + this.int(4)), ...(this.chance(0.3) ? ['JUSTID'] : [])];
    }
  }

  hashCmd(): Cmd {
    const k = this.key('hash');
    switch (this.int(7)) {
      case 0: return ['HSET', k, this.member(), this.bytes(), ...(this.chance(0.5) ? [this.member(), this.bytes()] : [])];
      case 1: return ['HSETNX', k, this.member(), this.bytes()];
      case 2: return ['HMSET', k, this.member(), this.bytes(), this.member(), this.bytes()];
      case 3: return ['HDEL', k, this.member(), this.member()];
      case 4: return ['HINCRBY', k, Buffer.from(`n${this.int(5)}`), String(this.int(100) - 50)];
      case 5: return ['HINCRBYFLOAT', k, Buffer.from(`f${this.int(5)}`), (this.rand() * 4 - 2).toFixed(4)];
      default: return ['HSET', k, this.member(), this.bytes()];
    }
  }

  listCmd(): Cmd {
    const k = this.key('list');
    const end = () => this.pick(['LEFT', 'RIGHT']);
    switch (this.int(16)) {
      case 0: return ['LPUSH', k, this.bytes(), this.member()];
      case 1: return ['RPUSH', k, this.member(), this.bytes(), this.member()];
      case 2: return ['LPUSHX', k, this.member()];
      case 3: return ['RPUSHX', k, this.member()];
      case 4: return ['LPOP', k, ...(this.chance(0.5) ? [String(this.int(3))] : [])];
      case 5: return ['RPOP', k, ...(this.chance(0.5) ? [String(1 + this.int(3))] : [])];
      case 6: return ['LSET', k, String(this.int(10) - 5), this.bytes()];
      case 7: return ['LTRIM', k, String(this.int(4) - 1), String(this.int(30) - 5)];
      case 8: return ['LINSERT', k, this.pick(['BEFORE', 'AFTER']), this.member(), this.bytes()];
      case 9: return ['LREM', k, String(this.int(5) - 2), this.member()];
      case 10: return ['LMOVE', k, this.key('list'), end(), end()];
      case 11: return ['RPOPLPUSH', k, this.key('list')];
      case 12: return ['LMPOP', '2', k, this.key('list'), end(), ...(this.chance(0.5) ? ['COUNT', String(1 + this.int(3))] : [])];
      default: return ['RPUSH', k, this.member(), this.member()];
    }
  }

  setCmd(): Cmd {
    const k = this.key('set');
    switch (this.int(9)) {
      case 0: return ['SADD', k, this.member(), this.member(), this.member()];
      case 1: return ['SREM', k, this.member(), this.member()];
      case 2: return this.deterministic ? ['SREM', k, this.member()] : ['SPOP', k, ...(this.chance(0.5) ? [String(this.int(4))] : [])];
      case 3: return ['SMOVE', k, this.key('set'), this.member()];
      case 4: return ['SINTERSTORE', k, this.key('set'), this.key('set')];
      case 5: return ['SUNIONSTORE', k, this.key('set'), this.key('set')];
      case 6: return ['SDIFFSTORE', k, this.key('set'), this.key('set')];
      default: return ['SADD', k, this.member()];
    }
  }

  zsetCmd(): Cmd {
    const k = this.key('zset');
    const lex = () => this.pick(['-', '+', '[m', '(m\x10', '[m\x20']);
    switch (this.int(20)) {
      case 0: return ['ZADD', k, this.score(), this.member(), this.score(), this.member()];
      case 1: return ['ZADD', k, ...this.pick<string[]>([['NX'], ['XX'], ['GT'], ['LT'], ['XX', 'CH'], ['GT', 'CH']]), this.score(), this.member()];
      case 2: return ['ZADD', k, 'INCR', this.score(), this.member()];
      case 3: return ['ZINCRBY', k, this.score(), this.member()];
      case 4: return ['ZRANGESTORE', k, this.key('zset'), String(this.int(5)), String(this.int(20) - 5), ...(this.chance(0.3) ? ['REV'] : [])];
      case 5: return ['ZREM', k, this.member(), this.member()];
      case 6: return ['ZREMRANGEBYRANK', k, String(this.int(5)), String(this.int(5) + 1)];
      case 7: return ['ZREMRANGEBYSCORE', k, String(this.int(40) - 10), `(${this.int(40)}`];
      // by lex over members of different scores: unspecified in Redis (compared servers may differ)
      case 8: return this.deterministic ? ['ZREMRANGEBYSCORE', k, '-inf', String(this.int(40) - 30)] : ['ZREMRANGEBYLEX', k, lex(), lex()];
      case 9: return ['ZPOPMIN', k, ...(this.chance(0.5) ? [String(this.int(3))] : [])];
      case 10: return ['ZPOPMAX', k, ...(this.chance(0.5) ? [String(1 + this.int(3))] : [])];
      case 11: return ['ZMPOP', '2', k, this.key('zset'), this.pick(['MIN', 'MAX']), 'COUNT', String(1 + this.int(3))];
      case 12: return ['ZUNIONSTORE', k, '2', this.key('zset'), this.key('zset'), ...(this.chance(0.5) ? ['WEIGHTS', '2', '-1', 'AGGREGATE', this.pick(['SUM', 'MIN', 'MAX'])] : [])];
      case 13: return ['ZINTERSTORE', k, '2', this.key('zset'), this.key('set')];
      case 14: return ['ZDIFFSTORE', k, '2', this.key('zset'), this.key('zset')];
      // geo: points kept as sorted-set scores; the searches' stores log themselves. Distances
      // (STOREDIST) come from Node's sin/cos/asin, which differ from glibc's in the last bit for
      // about 1 point in 10 (docs/compatibility.md): not in the part compared with redis-server.
      case 15: return ['GEOADD', k, ...this.lonLat(), this.member(), ...this.lonLat(), this.member()];
      case 16: return ['GEOSEARCHSTORE', this.key('zset'), k, 'FROMLONLAT', ...this.lonLat(), 'BYRADIUS', String(100 + this.int(3000)), 'km', ...(!this.deterministic && this.chance(0.5) ? ['STOREDIST'] : [])];
      case 17: return ['GEORADIUS', k, ...this.lonLat(), String(100 + this.int(3000)), 'km', this.deterministic ? 'STORE' : this.pick(['STORE', 'STOREDIST']), this.key('zset')];
      case 18: return ['GEORADIUSBYMEMBER', k, this.member(), String(100 + this.int(3000)), 'km', 'STORE', this.key('zset')];
      default: return ['ZADD', k, this.score(), this.member()];
    }
  }

  /** A longitude and latitude near one of a few places (so that searches find points). */
  lonLat(): [string, string] {
    const [lon, lat] = this.pick([[13.36, 38.11], [15.08, 37.5], [-73.98, 40.75], [2.35, 48.85]]);
    return [(lon + this.int(200) / 100).toFixed(4), (lat + this.int(200) / 100).toFixed(4)];
  }

  genericCmd(): Cmd {
    const k = this.anyKey();
    const db = () => String(this.pick(WORKLOAD_DBS));
    switch (this.int(17)) {
      case 15: return this.restore();
      case 0: return ['DEL', k, this.anyKey()];
      case 1: return ['UNLINK', k];
      case 2: return ['EXPIRE', k, String(3600 + this.int(3600)), ...(this.chance(0.3) ? [this.pick(['NX', 'XX', 'GT', 'LT'])] : [])];
      case 3: return ['PEXPIRE', k, String(this.longTtlMs())];
      case 4: return ['EXPIREAT', k, String(Math.floor((Date.now() + this.longTtlMs()) / 1000))];
      case 5: return ['PEXPIREAT', k, String(Date.now() + this.longTtlMs())];
      case 6: return ['PEXPIREAT', k, String(Date.now() - 10_000)]; // in the past: deletes
      case 7: return ['PERSIST', k];
      case 8: case 9: return ['RENAME', k, this.chance(0.8) ? this.sameType(k) : this.anyKey()];
      case 10: return ['RENAMENX', k, this.sameType(k)];
      case 11: return ['MOVE', k, db()];
      case 12: return ['COPY', k, this.sameType(k), ...(this.chance(0.5) ? ['REPLACE'] : [])];
      case 13: return ['COPY', k, k, 'DB', db(), ...(this.chance(0.5) ? ['REPLACE'] : [])];
      case 14: return ['EXPIRE', k, '-1']; // deletes
      default: return ['DEL', k];
    }
  }

  /** RESTORE of a small value of any type (a DUMP payload built here), with REPLACE mostly, a TTL sometimes. */
  private restore(): Cmd {
    const pool = this.pick<Pool>(['str', 'hash', 'list', 'set', 'zset']);
    const w = new PayloadWriter();
    const n = 1 + this.int(5);
    const type = (pool === 'str' ? 'string' : pool) as keyof typeof WRITE_TYPES;
    w.byte(WRITE_TYPES[type]);
    if (pool === 'str') w.string(this.bytes());
    else w.length(n);
    // distinct members: Redis keeps a small hash with duplicate fields as it is (a corrupted value), Talus refuses it
    const members = new Map<string, Buffer>();
    while (pool !== 'str' && pool !== 'list' && members.size < n) {
      const m = this.member();
      members.set(m.toString('latin1'), m);
    }
    for (let i = 0; pool === 'list' && i < n; i++) w.string(this.bytes());
    for (const m of members.values()) {
      w.string(m);
      if (pool === 'hash') w.string(this.bytes());
      else if (pool === 'zset') w.binaryDouble(Number(this.score().replace(/^\+?inf$/, 'Infinity').replace(/^-inf$/, '-Infinity')));
    }
    const ttl = this.chance(0.3) ? String(this.longTtlMs()) : '0';
    // RESTORE-ASKING is RESTORE outside a cluster
    const name = this.chance(0.2) ? 'RESTORE-ASKING' : 'RESTORE';
    return [name, this.key(pool), ttl, w.finish(), ...(this.chance(0.8) ? ['REPLACE'] : [])];
  }

  private sameType(k: Buffer): Buffer {
    return this.key(k.toString('latin1').split(':')[0] as Pool);
  }

  /** Short TTLs (expire lazily, actively and cold): only overwrites, deletes, reads and absolute expiries. */
  volatileCmds(): Cmd[] {
    const k = this.key('vol');
    const ttl = () => String(this.shortTtlMs());
    switch (this.int(14)) {
      case 0: case 1: return [['SET', k, this.bytes(), 'PX', ttl()]];
      case 2: return [['SET', k, String(this.int(100)), 'PX', ttl(), ...(this.chance(0.5) ? ['NX'] : [])]];
      case 3: return [['SET', k, this.bytes(), 'EX', String(3600)]];
      case 4: return [['PEXPIRE', k, ttl()]];
      case 5: return [['PSETEX', k, ttl(), this.bytes()]];
      case 6: return [['INCR', k]];
      case 7: return [['GETEX', k, 'PX', ttl()]];
      case 8: return [['GETDEL', k]];
      case 9: return [['DEL', k]];
      case 10: {
        // a collection created whole, then given a short TTL
        const c = this.key('volc');
        const create = this.pick<Cmd>([
          ['RPUSH', c, this.member(), this.member()],
          ['HSET', c, this.member(), this.bytes()],
          ['SADD', c, this.member(), this.member()],
          ['ZADD', c, this.score(), this.member()],
        ]);
        return [['DEL', c], create, ['PEXPIRE', c, ttl()]];
      }
      case 11: return [['EXISTS', k, this.key('volc')]];
      case 12: return [['PTTL', k]];
      default: return [['GET', k]];
    }
  }

  /** Point commands on the big (paged) collections, and now and then one that reads them whole or moves them. */
  bigCmd(): Cmd {
    const b = this.pick(this.big);
    const m = () => Buffer.from(`member:${this.int(this.bigMembers + 50)}:${this.int(1e6)}`);
    switch (this.int(32)) {
      case 0: return ['HSET', b.hash, m(), this.bytes()];
      case 1: return ['HDEL', b.hash, m()];
      case 2: return ['HGET', b.hash, m()];
      case 3: return ['LPUSH', b.list, this.member()];
      case 4: return ['RPOP', b.list, ...(this.chance(0.3) ? [String(this.int(4))] : [])];
      case 5: return ['LSET', b.list, String(this.int(this.bigMembers) - 10), this.bytes()];
      case 6: return ['LINDEX', b.list, String(this.int(this.bigMembers))];
      case 7: return ['SADD', b.set, m()];
      case 8: return ['SREM', b.set, m()];
      case 9: return this.deterministic ? ['SREM', b.set, m()] : ['SPOP', b.set, ...(this.chance(0.3) ? [String(this.int(4))] : [])];
      case 10: return ['ZADD', b.zset, this.score(), m()];
      case 11: return ['ZPOPMIN', b.zset];
      case 12: return ['ZREM', b.zset, m()];
      case 13: return ['ZINCRBY', b.zset, this.score(), m()];
      case 14: return ['ZRANGEBYSCORE', b.zset, String(this.int(500)), '+inf', 'LIMIT', '0', '3'];
      case 15: return ['HINCRBY', b.hash, m(), String(this.int(9))];
      case 16: return ['ZRANGESTORE', this.key('zset'), b.zset, String(this.int(900)), '+inf', 'BYSCORE', 'LIMIT', '0', String(1 + this.int(5))];
      case 17: return ['ZRANGESTORE', this.key('zset'), b.zset, String(this.int(20)), String(this.int(30)), ...(this.chance(0.5) ? ['REV'] : [])];
      case 18: return ['RPOPLPUSH', b.list, this.key('list')];
      case 19: return ['LMOVE', this.key('list'), b.list, 'LEFT', this.pick(['LEFT', 'RIGHT'])];
      case 20: return ['SMOVE', this.key('set'), b.set, this.member()];
      case 21: return ['SMOVE', b.set, this.key('set'), m()];
      case 22: return ['ZPOPMAX', b.zset, String(1 + this.int(3))];
      case 23: return ['LTRIM', b.list, '0', String(this.bigMembers - this.int(5))];
      case 24: return ['ZREMRANGEBYSCORE', b.zset, String(this.int(1000)), String(this.int(1000))];
      case 25: return ['LINSERT', b.list, 'BEFORE', m(), this.member()];
      case 26: return ['SINTERSTORE', this.key('set'), b.set, this.pick(this.big).set];
      case 27: return ['MOVE', this.pick([b.hash, b.list, b.set, b.zset]), String(this.pick(WORKLOAD_DBS))];
      case 28: return ['COPY', this.pick([b.hash, b.set]), this.key(this.pick<Pool>(['hash', 'set'])), 'REPLACE'];
      case 29: return ['EXPIRE', this.pick([b.hash, b.list, b.set, b.zset]), String(7200 + this.int(100))];
      case 30: return ['PERSIST', this.pick([b.hash, b.list, b.set, b.zset])];
      default: return this.pick<Cmd>([['RENAME', b.list, this.pick(this.big).list], ['ZREMRANGEBYRANK', b.zset, '0', '1'], ['RENAME', b.zset, this.pick(this.big).zset]]);
    }
  }

  transaction(): Cmd[] {
    const out: Cmd[] = [['MULTI']];
    for (let n = 1 + this.int(5); n > 0; n--) {
      out.push(this.pick([() => this.stringCmd(), () => this.hashCmd(), () => this.listCmd(), () => this.setCmd(), () => this.zsetCmd(), () => this.genericCmd()])());
      // the db changing inside the transaction; blocking pops that do not block there
      if (this.chance(0.1)) out.push(['SELECT', String(this.pick(WORKLOAD_DBS))]);
      if (this.chance(0.02)) out.push(['SWAPDB', String(this.pick(WORKLOAD_DBS)), String(this.pick(WORKLOAD_DBS))]);
      if (this.chance(0.05)) out.push(this.pick<Cmd>([['BLPOP', this.key('list'), '1'], ['BZPOPMAX', this.key('zset'), '1'], ['BLMOVE', this.key('list'), this.key('list'), 'RIGHT', 'LEFT', '1']]));
    }
    out.push([this.chance(0.1) ? 'DISCARD' : 'EXEC']);
    return out;
  }

  sortCmd(): Cmd {
    const src = this.key(this.pick<Pool>(['list', 'set', 'zset']));
    const opts: string[] = [];
    if (this.chance(0.3)) opts.push('BY', 'w:*', 'GET', '#', 'GET', 'o:*->f');
    else if (this.chance(0.6)) opts.push('ALPHA');
    else if (this.chance(0.5)) opts.push('BY', 'nosort');
    if (this.chance(0.4)) opts.push('LIMIT', String(this.int(3)), String(this.int(10)));
    if (this.chance(0.4)) opts.push('DESC');
    return ['SORT', src, ...opts, 'STORE', this.key('list')];
  }

  readCmd(): Cmd {
    switch (this.int(8)) {
      case 0: return ['GET', this.key('str')];
      case 1: return ['HGETALL', this.key('hash')];
      case 2: return ['LRANGE', this.key('list'), '0', '-1'];
      case 3: return ['SMEMBERS', this.key('set')];
      case 4: return ['ZRANGE', this.key('zset'), '0', '-1', 'WITHSCORES'];
      case 5: return ['EXISTS', this.anyKey(), this.key('vol')];
      case 6: return ['TYPE', this.anyKey()];
      default: return ['MGET', this.key('str'), this.key('vol'), this.key('num')];
    }
  }

  /**
   * A blocking pop on an (empty) key of the `block` pool in db 0, and what
   * serves it: commands run in db 0 unless they SELECT (pushes, moves and
   * stores into the key, a transaction, MOVE from db 1, SWAPDB).
   */
  blockingPair(): { block: Cmd; serve: Cmd[] } {
    const k = this.key('block');
    const zk = Buffer.concat([Buffer.from('z'), k]);
    const src = this.key('list');
    const zsrc = this.key('zset');
    const t = '2';
    // the blocking commands in turn (each one served), what serves them at random
    const turn = this.blockTurn++ % 9;
    if (turn >= 6) {
      const block = ([['BZPOPMIN', zk, t], ['BZPOPMAX', zk, t], ['BZMPOP', t, '1', zk, 'MAX', 'COUNT', '2']] as Cmd[])[turn - 6]!;
      const serve = this.pick<Cmd[]>([
        [['ZADD', zk, this.score(), this.member(), this.score(), this.member()]],
        [['ZINCRBY', zk, this.score(), this.member()]],
        [['ZADD', zsrc, '1', this.member()], ['ZUNIONSTORE', zk, '2', zsrc, this.key('zset')]],
        [['ZADD', zsrc, '1', this.member()], ['ZRANGESTORE', zk, zsrc, '0', '-1']],
        [['ZADD', zsrc, '2', this.member()], ['COPY', zsrc, zk]],
      ]);
      return { block, serve };
    }
    const block = ([
      ['BLPOP', k, t],
      ['BRPOP', this.key('block'), k, t],
      ['BRPOPLPUSH', k, src, t],
      ['BLMOVE', k, src, 'LEFT', 'RIGHT', t],
      ['BLMOVE', k, k, 'RIGHT', 'LEFT', t],
      ['BLMPOP', t, '1', k, 'LEFT', 'COUNT', '2'],
    ] as Cmd[])[turn]!;
    const serve = this.pick<Cmd[]>([
      [['RPUSH', k, this.member(), this.member()]],
      [['LPUSH', k, this.member()]],
      [['RPUSH', src, this.member()], ['LMOVE', src, k, 'LEFT', 'RIGHT']],
      [['RPUSH', src, this.member()], ['RPOPLPUSH', src, k]],
      [['MULTI'], ['RPUSH', k, this.member()], ['LPUSH', k, this.member()], ['RPOP', k], ['EXEC']],
      [['RPUSH', src, this.member()], ['SORT', src, 'ALPHA', 'STORE', k]],
      [['RPUSH', src, this.member()], ['RENAME', src, k]],
      [['RPUSH', src, this.member()], ['COPY', src, k, 'REPLACE']],
      [['SELECT', '1'], ['DEL', k], ['RPUSH', k, this.member(), this.member()], ['MOVE', k, '0'], ['SELECT', '0']],
      [['SELECT', '1'], ['RPUSH', k, this.member()], ['SWAPDB', '0', '1'], ['SELECT', '0']],
    ]);
    return { block, serve };
  }
}
