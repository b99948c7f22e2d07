import net from 'node:net';

/**
 * Differential testing: the same command sequences go to a real redis-server
 * and to Talus over raw RESP sockets, and the replies are compared byte for
 * byte (or with a named comparator where Redis itself is not deterministic:
 * TTL drift, unordered collections).
 *
 * Sequences come from a seeded generator over a small key space (so keys
 * collide, change type, expire and get renamed onto each other), including
 * wrong arity, syntax errors and wrong types. Commands are grouped in families
 * (tables of generators below); a generator is used only when the server
 * under test knows the command (probed at start), so families light up as
 * they are implemented. To cover a new command, add a row to its family.
 */

// ---------------------------------------------------------------------------
// Raw RESP connection

export type Arg = string | Buffer;

export function encodeCommand(args: Arg[]): Buffer {
  const parts: Buffer[] = [Buffer.from(`*${args.length}\r\n`)];
  for (const a of args) {
    const b = typeof a === 'string' ? Buffer.from(a) : a;
    parts.push(Buffer.from(`$${b.length}\r\n`), b, CRLF);
  }
  return Buffer.concat(parts);
}

const CRLF = Buffer.from('\r\n');

/** Index just past the reply that starts at `pos`, or -1 if `buf` does not hold all of it yet. */
export function frameEnd(buf: Buffer, pos: number): number {
  if (pos >= buf.length) return -1;
  const eol = buf.indexOf(CRLF, pos);
  if (eol < 0) return -1;
  const type = String.fromCharCode(buf[pos]!);
  const head = buf.toString('latin1', pos + 1, eol);
  const next = eol + 2;
  switch (type) {
    case '+': case '-': case ':': case '_': case ',': case '#': case '(':
      return next;
    case '$': case '!': case '=': {
      const n = Number(head);
      if (n < 0) return next;
      return buf.length >= next + n + 2 ? next + n + 2 : -1;
    }
    case '*': case '~': case '>': case '%': case '|': {
      let n = Number(head);
      if (n < 0) return next;
      if (type === '%' || type === '|') n *= 2;
      let p = next;
      for (let i = 0; i < n; i++) {
        p = frameEnd(buf, p);
        if (p < 0) return -1;
      }
      // an attribute is followed by the reply it annotates
      return type === '|' ? frameEnd(buf, p) : p;
    }
    default:
      // not RESP: take the line (inline error or garbage) so the diff shows it
      return next;
  }
}

/** One connection sending one command at a time and returning the raw reply bytes. */
export class RawConnection {
  private buf: Buffer = Buffer.alloc(0);
  private waiting: { resolve: (b: Buffer) => void; timer: NodeJS.Timeout } | undefined;
  private closed = false;

  private constructor(private readonly socket: net.Socket, readonly timeoutMs: number) {
    socket.on('data', (d: Buffer) => {
      this.buf = this.buf.length ? Buffer.concat([this.buf, d]) : d;
      this.deliver();
    });
    const onGone = () => {
      this.closed = true;
      if (this.waiting) {
        clearTimeout(this.waiting.timer);
        const w = this.waiting;
        this.waiting = undefined;
        w.resolve(Buffer.from(`<connection closed>${this.buf.length ? ' after ' + show(this.buf) : ''}`));
      }
    };
    socket.on('close', onGone);
    socket.on('error', onGone);
  }

  static connect(port: number, host = '127.0.0.1', timeoutMs = 10_000): Promise<RawConnection> {
    return new Promise((resolve, reject) => {
      const s = net.connect({ port, host }, () => {
        s.off('error', reject);
        s.setNoDelay(true);
        resolve(new RawConnection(s, timeoutMs));
      });
      s.once('error', reject);
    });
  }

  /** Send one command; resolves with its complete raw reply ('<timeout>' / '<connection closed>' markers otherwise). */
  call(args: Arg[]): Promise<Buffer> {
    if (this.waiting) throw new Error('RawConnection.call: one command at a time');
    if (this.closed) return Promise.resolve(Buffer.from('<connection closed>'));
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiting = undefined;
        resolve(Buffer.from(`<timeout after ${this.timeoutMs} ms>`));
      }, this.timeoutMs);
      this.waiting = { resolve, timer };
      this.socket.write(encodeCommand(args));
      this.deliver();
    });
  }

  private deliver(): void {
    if (!this.waiting || this.buf.length === 0) return;
    const end = frameEnd(this.buf, 0);
    if (end < 0) return;
    const reply = this.buf.subarray(0, end);
    this.buf = this.buf.subarray(end);
    const w = this.waiting;
    this.waiting = undefined;
    clearTimeout(w.timer);
    w.resolve(Buffer.from(reply));
  }

  close(): void {
    this.socket.destroy();
  }
}

// ---------------------------------------------------------------------------
// Decoding and comparison

export type RespValue =
  | { t: string; v: string | null }
  | { t: string; items: RespValue[] };

export function decode(buf: Buffer, pos = 0): [RespValue, number] {
  const eol = buf.indexOf(CRLF, pos);
  const type = String.fromCharCode(buf[pos]!);
  const head = buf.toString('latin1', pos + 1, eol < 0 ? buf.length : eol);
  const next = eol + 2;
  switch (type) {
    case '$': case '!': case '=': {
      const n = Number(head);
      if (n < 0) return [{ t: type, v: null }, next];
      return [{ t: type, v: buf.toString('latin1', next, next + n) }, next + n + 2];
    }
    case '*': case '~': case '>': case '%': case '|': {
      let n = Number(head);
      if (n < 0) return [{ t: type, v: null }, next];
      if (type === '%' || type === '|') n *= 2;
      const items: RespValue[] = [];
      let p = next;
      for (let i = 0; i < n; i++) {
        const [v, q] = decode(buf, p);
        items.push(v);
        p = q;
      }
      return [{ t: type, items }, p];
    }
    default:
      return [{ t: type, v: head }, eol < 0 ? buf.length : next];
  }
}

function canon(v: RespValue): string {
  return 'items' in v ? `${v.t}[${v.items.map(canon).join(',')}]` : `${v.t}${JSON.stringify(v.v)}`;
}

/** Decides whether Redis's and Talus's raw replies to one command agree. */
export type Comparator = (expected: Buffer, actual: Buffer) => boolean;

export const exact: Comparator = (a, b) => a.equals(b);

/** Integer replies that may drift by `tol` when non-negative (TTL, PTTL, EXPIRETIME); negatives exact. */
export function approxInt(tol: number): Comparator {
  return (a, b) => {
    if (a.equals(b)) return true;
    const x = intReply(a);
    const y = intReply(b);
    if (x === undefined || y === undefined) return false;
    if (x < 0 || y < 0) return x === y;
    return Math.abs(x - y) <= tol;
  };
}

function intReply(b: Buffer): number | undefined {
  const m = /^:(-?\d+)\r\n$/.exec(b.toString('latin1'));
  return m ? Number(m[1]) : undefined;
}

/** Arrays/sets compared as multisets (SMEMBERS, KEYS, HKEYS...). Same reply type required. */
export const unordered: Comparator = (a, b) => {
  if (a.equals(b)) return true;
  const [x] = decode(a);
  const [y] = decode(b);
  if (!('items' in x) || !('items' in y) || x.t !== y.t) return false;
  return sameMultiset(x.items.map(canon), y.items.map(canon));
};

/** Field/value pairs in any order (HGETALL as RESP2 array or RESP3 map). */
export const unorderedPairs: Comparator = (a, b) => {
  if (a.equals(b)) return true;
  const [x] = decode(a);
  const [y] = decode(b);
  if (!('items' in x) || !('items' in y) || x.t !== y.t) return false;
  const pairs = (items: RespValue[]) => {
    const out: string[] = [];
    for (let i = 0; i + 1 < items.length; i += 2) out.push(canon(items[i]!) + '=>' + canon(items[i + 1]!));
    return out;
  };
  return sameMultiset(pairs(x.items), pairs(y.items));
};

function sameMultiset(a: string[], b: string[]): boolean {
  if (a.length !== b.length) return false;
  const sa = [...a].sort();
  const sb = [...b].sort();
  return sa.every((s, i) => s === sb[i]);
}

/** Escaped, single-line rendering of raw bytes for reports. */
export function show(b: Buffer, max = 300): string {
  let s = '';
  for (const c of b.subarray(0, max)) {
    if (c === 0x0d) s += '\\r';
    else if (c === 0x0a) s += '\\n';
    else if (c === 0x5c) s += '\\\\';
    else if (c >= 0x20 && c < 0x7f) s += String.fromCharCode(c);
    else s += '\\x' + c.toString(16).padStart(2, '0');
  }
  return b.length > max ? `${s}... (${b.length} bytes)` : s;
}

/** A command as redis-cli would take it (quoted where needed). */
export function showCommand(args: Arg[]): string {
  return args
    .map((a) => {
      const b = typeof a === 'string' ? Buffer.from(a) : a;
      const plain = b.length > 0 && [...b].every((c) => c > 0x20 && c < 0x7f && c !== 0x22 && c !== 0x27 && c !== 0x5c);
      return plain ? b.toString('latin1') : `"${show(b, 200).replace(/"/g, '\\"')}"`;
    })
    .join(' ');
}

// ---------------------------------------------------------------------------
// Seeded generation

/** sfc32: small, fast, good enough, and identical on every platform. */
export class Rng {
  private a: number; private b: number; private c: number; private d: number;
  constructor(seed: number) {
    this.a = 0x9e3779b9; this.b = 0x243f6a88; this.c = 0xb7e15162; this.d = seed >>> 0;
    for (let i = 0; i < 16; i++) this.next();
  }
  next(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return (t >>> 0) / 4294967296;
  }
  /** integer in [lo, hi] */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(xs: readonly T[]): T {
    return xs[Math.floor(this.next() * xs.length)]!;
  }
}

const KEY_NAMES = ['a', 'b', 'c', 'd', 'e', 'f', 'k y', 'k\x00z'];
const MEMBERS = ['m1', 'm2', 'm3', 'x', '1', '2.5', '', 'm\xff'];
const INT_EDGES = ['9223372036854775807', '-9223372036854775808', '9223372036854775806', '-9223372036854775807',
  '4611686018427387904', '18446744073709551616'];
const NOT_INTS = ['01', '+1', ' 1', '1 ', '1.0', '0x10', '1e3', 'abc', '', '-0', '- 1'];
const FLOATS = ['1.5', '-0.25', '3.0e3', '1e-5', '0.1', '10.50', '-inf', 'inf', 'nan', '5.0e300', '1.7976931348623157e308'];
const TEXTS = ['hello', 'foo bar', 'x', '', 'Ω≈ç', 'line\r\nbreak', 'tab\tsep'];

/** What a generator gets: the seeded RNG and this sequence's key space. */
export class Gen {
  /** set by the runner: another usable, non-group command (possibly mangled) */
  other: () => Step = () => ({ args: ['PING'] });
  constructor(readonly rng: Rng, readonly prefix: string) {}
  /** one of a few keys (collisions intended); occasionally a fresh one */
  key(): Buffer {
    const name = this.rng.chance(0.05) ? `fresh${this.rng.int(0, 1_000_000)}` : this.rng.pick(KEY_NAMES);
    return Buffer.from(this.prefix + name, 'latin1');
  }
  keys(min: number, max: number): Buffer[] {
    const n = this.rng.int(min, max);
    return Array.from({ length: n }, () => this.key());
  }
  int(lo: number, hi: number): string {
    return String(this.rng.int(lo, hi));
  }
  pick<T>(xs: readonly T[]): T {
    return this.rng.pick(xs);
  }
  chance(p: number): boolean {
    return this.rng.chance(p);
  }
  /** an integer-ish argument: mostly small, sometimes int64 edges or not an integer at all */
  intArg(): string {
    const r = this.rng.next();
    if (r < 0.7) return String(this.rng.int(-100, 100));
    if (r < 0.85) return this.rng.pick(INT_EDGES);
    return this.rng.pick(NOT_INTS);
  }
  floatArg(): string {
    return this.rng.chance(0.6) ? this.rng.pick(FLOATS) : this.intArg();
  }
  /** a value: numbers (so INCR and friends work), text, binary, long */
  value(): Buffer {
    const r = this.rng.next();
    if (r < 0.35) return Buffer.from(String(this.rng.int(-1000, 1000)));
    if (r < 0.45) return Buffer.from(this.rng.pick(INT_EDGES));
    if (r < 0.55) return Buffer.from(this.rng.pick(FLOATS));
    if (r < 0.6) return Buffer.from(this.rng.pick(NOT_INTS));
    if (r < 0.85) return Buffer.from(this.rng.pick(TEXTS));
    if (r < 0.95) return Buffer.from([0, 255, 13, 10, this.rng.int(0, 255)]);
    return Buffer.alloc(this.rng.int(50, 300), String.fromCharCode(97 + this.rng.int(0, 25)));
  }
  member(): Buffer {
    return Buffer.from(this.rng.pick(MEMBERS), 'latin1');
  }
  /** a far expiry in seconds (never reached during a run) */
  ttlSeconds(): string {
    return String(this.rng.int(1000, 1_000_000));
  }
  /** seconds for EXPIRE-like commands: far future mostly, sometimes <= 0 (deletes at once) or invalid */
  expireSeconds(): string {
    const r = this.rng.next();
    if (r < 0.75) return this.ttlSeconds();
    if (r < 0.9) return this.rng.pick(['0', '-1', '-100']);
    return this.rng.pick(['abc', '1.5', '9223372036854775807', '']);
  }
  /** an absolute unix time in seconds: far future, or the past */
  unixSeconds(): string {
    return this.rng.chance(0.8)
      ? String(Math.floor(Date.now() / 1000) + this.rng.int(10_000, 10_000_000))
      : this.rng.pick(['1', '1000000000', String(Math.floor(Date.now() / 1000) - 100)]);
  }
}

/** One command to send to both servers. */
export interface Step {
  args: Arg[];
  /** how to compare the replies; default byte-exact */
  compare?: Comparator;
}

/** One command (its arguments, or a Step with a comparator), or a group of commands sent in order. */
export type Generator = (g: Gen) => Arg[] | Step | Step[];

export interface CommandGen {
  /** the command as the probe sends it (lower case; first word of the generated args) */
  name: string;
  gen: Generator;
  weight?: number;
}

export interface Family {
  name: string;
  commands: CommandGen[];
}

const ttlCompare = approxInt(2);
const pttlCompare = approxInt(2000);
const cmp = (compare: Comparator) => (args: Arg[]): Step => ({ args, compare });

// ---------------------------------------------------------------------------
// Families. Each row: command name, generator, optional weight.

export const STRINGS: Family = {
  name: 'strings',
  commands: [
    {
      name: 'set', weight: 4, gen: (g) => {
        const args: Arg[] = ['SET', g.key(), g.value()];
        if (g.chance(0.4)) {
          const opts: Arg[][] = [['NX'], ['XX'], ['GET'], ['KEEPTTL'], ['EX', g.ttlSeconds()], ['PX', g.ttlSeconds() + '000'],
            ['EXAT', g.unixSeconds()], ['PXAT', g.unixSeconds() + '000'], ['EX', g.pick(['0', '-5', 'x'])]];
          const n = g.chance(0.7) ? 1 : 2;
          for (let i = 0; i < n; i++) args.push(...g.pick(opts));
        }
        return args;
      },
    },
    { name: 'get', weight: 4, gen: (g) => ['GET', g.key()] },
    { name: 'incr', weight: 2, gen: (g) => ['INCR', g.key()] },
    { name: 'decr', gen: (g) => ['DECR', g.key()] },
    { name: 'incrby', weight: 2, gen: (g) => ['INCRBY', g.key(), g.intArg()] },
    { name: 'decrby', gen: (g) => ['DECRBY', g.key(), g.intArg()] },
    { name: 'incrbyfloat', weight: 2, gen: (g) => ['INCRBYFLOAT', g.key(), g.floatArg()] },
    { name: 'append', weight: 2, gen: (g) => ['APPEND', g.key(), g.value()] },
    { name: 'strlen', gen: (g) => ['STRLEN', g.key()] },
    { name: 'getrange', weight: 2, gen: (g) => ['GETRANGE', g.key(), g.int(-20, 20), g.pick([g.int(-20, 20), '-1', '100', 'x'])] },
    { name: 'substr', gen: (g) => ['SUBSTR', g.key(), g.int(-10, 10), g.int(-10, 10)] },
    { name: 'setrange', weight: 2, gen: (g) => ['SETRANGE', g.key(), g.pick([g.int(0, 40), '-1', 'x', '0']), g.value()] },
    { name: 'mset', weight: 2, gen: (g) => ['MSET', ...Array.from({ length: g.rng.int(1, 3) }, () => [g.key(), g.value()]).flat()] },
    { name: 'msetnx', gen: (g) => ['MSETNX', ...Array.from({ length: g.rng.int(1, 3) }, () => [g.key(), g.value()]).flat()] },
    { name: 'mget', weight: 2, gen: (g) => ['MGET', ...g.keys(1, 4)] },
    { name: 'getset', gen: (g) => ['GETSET', g.key(), g.value()] },
    { name: 'getdel', gen: (g) => ['GETDEL', g.key()] },
    {
      name: 'getex', gen: (g) => {
        const opts: Arg[][] = [[], ['PERSIST'], ['EX', g.ttlSeconds()], ['PX', g.ttlSeconds() + '000'], ['EXAT', g.unixSeconds()], ['EX', '0'], ['FOO']];
        return ['GETEX', g.key(), ...g.pick(opts)];
      },
    },
    { name: 'setnx', gen: (g) => ['SETNX', g.key(), g.value()] },
    { name: 'setex', gen: (g) => ['SETEX', g.key(), g.pick([g.ttlSeconds(), g.ttlSeconds(), '0', '-1', 'x']), g.value()] },
    { name: 'psetex', gen: (g) => ['PSETEX', g.key(), g.pick([g.ttlSeconds() + '000', '0', 'x']), g.value()] },
    { name: 'lcs', gen: (g) => ['LCS', g.key(), g.key(), ...g.pick([[], ['LEN'], ['IDX'], ['IDX', 'WITHMATCHLEN'], ['IDX', 'MINMATCHLEN', g.int(0, 3)]])] },
  ],
};

export const KEYS: Family = {
  name: 'keys',
  commands: [
    { name: 'del', weight: 2, gen: (g) => ['DEL', ...g.keys(1, 3)] },
    { name: 'unlink', gen: (g) => ['UNLINK', ...g.keys(1, 3)] },
    { name: 'exists', weight: 2, gen: (g) => ['EXISTS', ...g.keys(1, 4)] },
    { name: 'type', weight: 2, gen: (g) => ['TYPE', g.key()] },
    { name: 'rename', gen: (g) => ['RENAME', g.key(), g.key()] },
    { name: 'renamenx', gen: (g) => ['RENAMENX', g.key(), g.key()] },
    { name: 'copy', gen: (g) => ['COPY', g.key(), g.key(), ...g.pick([[], ['REPLACE'], ['DB', '0'], ['FOO']])] },
    { name: 'touch', gen: (g) => ['TOUCH', ...g.keys(1, 3)] },
    {
      name: 'expire', weight: 2, gen: (g) =>
        ['EXPIRE', g.key(), g.expireSeconds(), ...(g.chance(0.3) ? [g.pick(['NX', 'XX', 'GT', 'LT', 'FOO'])] : [])],
    },
    { name: 'pexpire', gen: (g) => ['PEXPIRE', g.key(), g.pick([g.ttlSeconds() + '000', '0', '-1'])] },
    { name: 'expireat', gen: (g) => ['EXPIREAT', g.key(), g.unixSeconds(), ...(g.chance(0.2) ? [g.pick(['NX', 'XX', 'GT', 'LT'])] : [])] },
    { name: 'pexpireat', gen: (g) => ['PEXPIREAT', g.key(), g.unixSeconds() + '000'] },
    { name: 'persist', gen: (g) => ['PERSIST', g.key()] },
    { name: 'ttl', weight: 2, gen: (g) => cmp(ttlCompare)(['TTL', g.key()]) },
    { name: 'pttl', gen: (g) => cmp(pttlCompare)(['PTTL', g.key()]) },
    { name: 'expiretime', gen: (g) => cmp(ttlCompare)(['EXPIRETIME', g.key()]) },
    { name: 'pexpiretime', gen: (g) => cmp(pttlCompare)(['PEXPIRETIME', g.key()]) },
    { name: 'keys', gen: (g) => cmp(unordered)(['KEYS', `${g.prefix}${g.pick(['*', '?', '[a-c]', 'k*', 'fresh*'])}`]) },
  ],
};

export const CONNECTION: Family = {
  name: 'connection',
  commands: [
    { name: 'ping', gen: (g) => (g.chance(0.5) ? ['PING'] : ['PING', g.value()]) },
    { name: 'echo', gen: (g) => ['ECHO', g.value()] },
  ],
};

/** Other types on the same keys: WRONGTYPE paths for everything above. */
const members = (g: Gen, min: number, max: number) => Array.from({ length: g.rng.int(min, max) }, () => g.member());

export const LISTS: Family = {
  name: 'lists',
  commands: [
    { name: 'lpush', weight: 2, gen: (g) => ['LPUSH', g.key(), ...members(g, 1, 3)] },
    { name: 'rpush', weight: 2, gen: (g) => ['RPUSH', g.key(), ...members(g, 1, 3)] },
    { name: 'lpushx', gen: (g) => ['LPUSHX', g.key(), g.member()] },
    { name: 'llen', gen: (g) => ['LLEN', g.key()] },
    { name: 'lrange', weight: 2, gen: (g) => ['LRANGE', g.key(), g.int(-5, 5), g.int(-5, 5)] },
    { name: 'lindex', gen: (g) => ['LINDEX', g.key(), g.int(-4, 4)] },
    { name: 'lset', gen: (g) => ['LSET', g.key(), g.int(-3, 3), g.member()] },
    { name: 'linsert', gen: (g) => ['LINSERT', g.key(), g.pick(['BEFORE', 'AFTER', 'MIDDLE']), g.member(), g.member()] },
    { name: 'lrem', gen: (g) => ['LREM', g.key(), g.int(-2, 2), g.member()] },
    { name: 'ltrim', gen: (g) => ['LTRIM', g.key(), g.int(-4, 2), g.int(-3, 4)] },
    { name: 'lpos', gen: (g) => ['LPOS', g.key(), g.member(), ...g.pick([[], ['RANK', g.pick(['1', '-1', '2', '0'])], ['COUNT', g.int(0, 3)], ['MAXLEN', g.int(0, 3)]])] },
    { name: 'lpop', gen: (g) => ['LPOP', g.key(), ...(g.chance(0.3) ? [g.int(0, 3)] : [])] },
    { name: 'rpop', gen: (g) => ['RPOP', g.key(), ...(g.chance(0.3) ? [g.int(0, 3)] : [])] },
    { name: 'lmove', gen: (g) => ['LMOVE', g.key(), g.key(), g.pick(['LEFT', 'RIGHT']), g.pick(['LEFT', 'RIGHT', 'UP'])] },
    { name: 'rpoplpush', gen: (g) => ['RPOPLPUSH', g.key(), g.key()] },
  ],
};

export const HASHES: Family = {
  name: 'hashes',
  commands: [
    { name: 'hset', weight: 3, gen: (g) => ['HSET', g.key(), ...Array.from({ length: g.rng.int(1, 2) }, () => [g.member(), g.value()]).flat()] },
    { name: 'hsetnx', gen: (g) => ['HSETNX', g.key(), g.member(), g.value()] },
    { name: 'hget', weight: 2, gen: (g) => ['HGET', g.key(), g.member()] },
    { name: 'hmget', gen: (g) => ['HMGET', g.key(), ...members(g, 1, 3)] },
    { name: 'hlen', gen: (g) => ['HLEN', g.key()] },
    { name: 'hexists', gen: (g) => ['HEXISTS', g.key(), g.member()] },
    { name: 'hstrlen', gen: (g) => ['HSTRLEN', g.key(), g.member()] },
    { name: 'hdel', gen: (g) => ['HDEL', g.key(), ...members(g, 1, 2)] },
    { name: 'hgetall', gen: (g) => cmp(unorderedPairs)(['HGETALL', g.key()]) },
    { name: 'hkeys', gen: (g) => cmp(unordered)(['HKEYS', g.key()]) },
    { name: 'hvals', gen: (g) => cmp(unordered)(['HVALS', g.key()]) },
    { name: 'hincrby', gen: (g) => ['HINCRBY', g.key(), g.member(), g.intArg()] },
    { name: 'hincrbyfloat', gen: (g) => ['HINCRBYFLOAT', g.key(), g.member(), g.floatArg()] },
  ],
};

export const SETS: Family = {
  name: 'sets',
  commands: [
    { name: 'sadd', weight: 3, gen: (g) => ['SADD', g.key(), ...members(g, 1, 3)] },
    { name: 'srem', gen: (g) => ['SREM', g.key(), ...members(g, 1, 2)] },
    { name: 'scard', gen: (g) => ['SCARD', g.key()] },
    { name: 'sismember', gen: (g) => ['SISMEMBER', g.key(), g.member()] },
    { name: 'smismember', gen: (g) => ['SMISMEMBER', g.key(), ...members(g, 1, 3)] },
    { name: 'smembers', gen: (g) => cmp(unordered)(['SMEMBERS', g.key()]) },
    { name: 'smove', gen: (g) => ['SMOVE', g.key(), g.key(), g.member()] },
    { name: 'sinter', gen: (g) => cmp(unordered)(['SINTER', ...g.keys(1, 3)]) },
    { name: 'sunion', gen: (g) => cmp(unordered)(['SUNION', ...g.keys(1, 3)]) },
    { name: 'sdiff', gen: (g) => cmp(unordered)(['SDIFF', ...g.keys(1, 3)]) },
    { name: 'sintercard', gen: (g) => ['SINTERCARD', String(2), g.key(), g.key(), ...(g.chance(0.3) ? ['LIMIT', g.int(0, 2)] : [])] },
    { name: 'sinterstore', gen: (g) => ['SINTERSTORE', g.key(), ...g.keys(1, 2)] },
    { name: 'sunionstore', gen: (g) => ['SUNIONSTORE', g.key(), ...g.keys(1, 2)] },
    { name: 'sdiffstore', gen: (g) => ['SDIFFSTORE', g.key(), ...g.keys(1, 2)] },
  ],
};

export const ZSETS: Family = {
  name: 'zsets',
  commands: [
    {
      name: 'zadd', weight: 3, gen: (g) =>
        ['ZADD', g.key(), ...(g.chance(0.25) ? [g.pick(['NX', 'XX', 'GT', 'LT', 'CH', 'INCR'])] : []), g.floatArg(), g.member(),
          ...(g.chance(0.3) ? [g.floatArg(), g.member()] : [])],
    },
    { name: 'zincrby', gen: (g) => ['ZINCRBY', g.key(), g.floatArg(), g.member()] },
    { name: 'zscore', gen: (g) => ['ZSCORE', g.key(), g.member()] },
    { name: 'zmscore', gen: (g) => ['ZMSCORE', g.key(), ...members(g, 1, 3)] },
    { name: 'zcard', gen: (g) => ['ZCARD', g.key()] },
    { name: 'zrank', gen: (g) => ['ZRANK', g.key(), g.member()] },
    { name: 'zrevrank', gen: (g) => ['ZREVRANK', g.key(), g.member()] },
    { name: 'zrem', gen: (g) => ['ZREM', g.key(), ...members(g, 1, 2)] },
    { name: 'zrange', weight: 2, gen: (g) => ['ZRANGE', g.key(), g.int(-3, 3), g.int(-3, 3), ...(g.chance(0.3) ? ['REV'] : []), ...(g.chance(0.5) ? ['WITHSCORES'] : [])] },
    {
      name: 'zrangebyscore', gen: (g) =>
        ['ZRANGEBYSCORE', g.key(), g.pick(['-inf', '(1', '0', '-5.5', 'x']), g.pick(['+inf', '(10', '100', '2.5']),
          ...(g.chance(0.4) ? ['WITHSCORES'] : []), ...(g.chance(0.3) ? ['LIMIT', g.int(0, 2), g.int(-1, 3)] : [])],
    },
    // no ZRANGEBYLEX/ZLEXCOUNT: with mixed scores (as here) Redis leaves the result unspecified
    { name: 'zcount', gen: (g) => ['ZCOUNT', g.key(), g.pick(['-inf', '(0', '1']), g.pick(['+inf', '(5', '2.5'])] },
    { name: 'zpopmin', gen: (g) => ['ZPOPMIN', g.key(), ...(g.chance(0.4) ? [g.int(0, 3)] : [])] },
    { name: 'zpopmax', gen: (g) => ['ZPOPMAX', g.key(), ...(g.chance(0.4) ? [g.int(0, 3)] : [])] },
    { name: 'zremrangebyrank', gen: (g) => ['ZREMRANGEBYRANK', g.key(), g.int(-3, 1), g.int(-2, 3)] },
    { name: 'zunionstore', gen: (g) => ['ZUNIONSTORE', g.key(), '2', g.key(), g.key(), ...(g.chance(0.3) ? ['AGGREGATE', g.pick(['SUM', 'MIN', 'MAX'])] : [])] },
    { name: 'zinterstore', gen: (g) => ['ZINTERSTORE', g.key(), '2', g.key(), g.key(), ...(g.chance(0.3) ? ['WEIGHTS', g.floatArg(), '1'] : [])] },
  ],
};

export const BITMAPS: Family = {
  name: 'bitmaps',
  commands: [
    { name: 'setbit', gen: (g) => ['SETBIT', g.key(), g.pick([g.int(0, 100), '-1', 'x', '4294967296']), g.pick(['0', '1', '1', '2'])] },
    { name: 'getbit', gen: (g) => ['GETBIT', g.key(), g.int(0, 120)] },
    { name: 'bitcount', gen: (g) => ['BITCOUNT', g.key(), ...g.pick([[], [g.int(-5, 5), g.int(-5, 5)], [g.int(-5, 5), g.int(-5, 5), g.pick(['BYTE', 'BIT'])]])] },
    { name: 'bitpos', gen: (g) => ['BITPOS', g.key(), g.pick(['0', '1']), ...g.pick([[], [g.int(-3, 3)], [g.int(-3, 3), g.int(-3, 3), g.pick(['BYTE', 'BIT'])]])] },
    { name: 'bitop', gen: (g) => ['BITOP', g.pick(['AND', 'OR', 'XOR', 'NOT']), g.key(), ...g.keys(1, 2)] },
  ],
};

export const SORTING: Family = {
  name: 'sort',
  commands: [
    { name: 'sort', gen: (g) => ['SORT', g.key(), ...g.pick([[], ['ALPHA'], ['DESC', 'ALPHA'], ['LIMIT', g.int(0, 2), g.int(-1, 3), 'ALPHA']])] },
    // BY nosort keeps a set's internal order: compare as a multiset
    { name: 'sort', gen: (g) => cmp(unordered)(['SORT', g.key(), 'BY', 'nosort']) },
  ],
};

/** MULTI ... EXEC blocks of other usable commands (QUEUED, EXECABORT, errors inside EXEC). */
export const TRANSACTIONS: Family = {
  name: 'transactions',
  commands: [
    {
      name: 'multi', weight: 2, gen: (g) => {
        // EXEC's reply holds the queued commands' replies: only exactly comparable ones inside
        const inner: Step[] = [];
        const n = g.rng.int(0, 4);
        for (let tries = 0; inner.length < n && tries < 50; tries++) {
          const s = g.other();
          if (s.compare === undefined || s.compare === exact) inner.push({ args: s.args });
        }
        const end = g.chance(0.1) ? 'DISCARD' : 'EXEC';
        return [{ args: ['MULTI'] }, ...inner, { args: [end] }];
      },
    },
  ],
};

export const ALL_FAMILIES: Family[] = [STRINGS, KEYS, CONNECTION, LISTS, HASHES, SETS, ZSETS, BITMAPS, SORTING, TRANSACTIONS];

// ---------------------------------------------------------------------------
// Running

export interface Endpoint {
  name: string;
  port: number;
  host?: string;
}

/** Which of these command names `ep` knows (an 'unknown command' reply means no). */
export async function probeCommands(ep: Endpoint, names: string[]): Promise<Set<string>> {
  const conn = await RawConnection.connect(ep.port, ep.host);
  const known = new Set<string>();
  try {
    for (const name of names) {
      const reply = (await conn.call([name.toUpperCase()])).toString('latin1');
      if (!reply.startsWith('-ERR unknown command')) known.add(name);
    }
  } finally {
    conn.close();
  }
  return known;
}

export interface Divergence {
  seed: number;
  /** key prefix of the sequence */
  prefix: string;
  /** index of the diverging command in the sequence */
  step: number;
  protocol: 2 | 3;
  command: string;
  expected: string;
  actual: string;
  /** the previous commands with both replies */
  context: string[];
  /** the whole sequence up to the divergence, one redis-cli line per command */
  reproducer: string[];
}

export interface DiffOptions {
  reference: Endpoint;
  subject: Endpoint;
  families?: Family[];
  /** seeds to run; each is one sequence on its own key prefix and connection */
  seeds: number[];
  steps: number;
  /** probability of a mangled command (arity or syntax error) */
  mangle?: number;
  /** use RESP3 (HELLO 3) for seeds where this returns true */
  resp3?: (seed: number) => boolean;
  /** commands to leave out even if both servers know them */
  exclude?: string[];
  contextLines?: number;
  /** key prefix before the seed; defaults to one unique per run, so runs never see each other's keys */
  keyTag?: string;
}

export interface DiffResult {
  commandsSent: number;
  seedsRun: number;
  used: string[];
  skipped: string[];
  divergence?: Divergence;
}

/** Weighted choice over the usable generators. */
function chooser(gens: CommandGen[]): (rng: Rng) => CommandGen {
  const cum: number[] = [];
  let total = 0;
  for (const c of gens) {
    total += c.weight ?? 1;
    cum.push(total);
  }
  return (rng) => {
    const x = rng.next() * total;
    let i = 0;
    while (cum[i]! <= x) i++;
    return gens[i]!;
  };
}

/** Arity/syntax mutations: drop trailing arguments or append a junk one. */
function mangle(g: Gen, args: Arg[]): Arg[] {
  if (args.length > 1 && g.chance(0.6)) return args.slice(0, g.rng.int(1, args.length - 1));
  return [...args, g.pick(['junk', '0', '-1', ''])];
}

let runCounter = 0;

/** The steps one generator call yields; single commands are sometimes mangled. */
function generate(g: Gen, c: CommandGen, mangleP: number): Step[] {
  const out = c.gen(g);
  const isGroup = Array.isArray(out) && out.length > 0 && typeof out[0] === 'object' && !Buffer.isBuffer(out[0]);
  if (isGroup) return out as Step[];
  const step: Step = Array.isArray(out) ? { args: out as Arg[] } : (out as Step);
  // a mangled command may still be valid (fewer keys): keep the comparator
  if (g.chance(mangleP)) return [{ args: mangle(g, step.args), compare: step.compare }];
  return [step];
}

export async function runDifferential(opts: DiffOptions): Promise<DiffResult> {
  const families = opts.families ?? ALL_FAMILIES;
  const all = families.flatMap((f) => f.commands);
  const names = [...new Set(all.map((c) => c.name))];
  const [knownRef, knownSub] = await Promise.all([probeCommands(opts.reference, names), probeCommands(opts.subject, names)]);
  const exclude = new Set(opts.exclude ?? []);
  const usable = all.filter((c) => knownRef.has(c.name) && knownSub.has(c.name) && !exclude.has(c.name));
  const result: DiffResult = {
    commandsSent: 0,
    seedsRun: 0,
    used: [...new Set(usable.map((c) => c.name))],
    skipped: names.filter((n) => !usable.some((c) => c.name === n)),
  };
  if (usable.length === 0) return result;
  const choose = chooser(usable);
  const mangleP = opts.mangle ?? 0.03;
  const keep = opts.contextLines ?? 12;

  const tag = opts.keyTag ?? `d${process.pid % 1000}.${++runCounter}.`;
  for (const seed of opts.seeds) {
    const rng = new Rng(seed);
    const g = new Gen(rng, `${tag}${seed}:`);
    g.other = () => {
      for (;;) {
        const c = choose(rng);
        const steps = generate(g, c, mangleP);
        if (steps.length === 1) return steps[0]!;
      }
    };
    const ref = await RawConnection.connect(opts.reference.port, opts.reference.host);
    const sub = await RawConnection.connect(opts.subject.port, opts.subject.host);
    const protocol: 2 | 3 = opts.resp3?.(seed) ? 3 : 2;
    const history: string[] = [];
    const repro: string[] = [];
    try {
      if (protocol === 3) {
        // HELLO replies name the server: not compared
        await ref.call(['HELLO', '3']);
        await sub.call(['HELLO', '3']);
        repro.push('HELLO 3');
      }
      const pending: Step[] = [];
      for (let i = 0; i < opts.steps; i++) {
        if (pending.length === 0) pending.push(...generate(g, choose(rng), mangleP));
        const step = pending.shift()!;
        const [a, b] = await Promise.all([ref.call(step.args), sub.call(step.args)]);
        result.commandsSent++;
        const line = showCommand(step.args);
        repro.push(line);
        const agree = (step.compare ?? exact)(a, b);
        if (!agree) {
          result.divergence = {
            seed,
            prefix: g.prefix,
            step: i,
            protocol,
            command: line,
            expected: show(a),
            actual: show(b),
            context: history.slice(-keep),
            reproducer: repro,
          };
          return result;
        }
        history.push(`${line}  ->  ${show(a, 120)}${a.equals(b) ? '' : `  (talus: ${show(b, 120)})`}`);
      }
    } finally {
      ref.close();
      sub.close();
    }
    result.seedsRun++;
  }
  return result;
}

/** A human-readable report of a divergence (for assertion messages and logs). */
export function formatDivergence(d: Divergence, ref = 'redis', sub = 'talus'): string {
  return [
    `first divergence: seed ${d.seed}, command #${d.step} (RESP${d.protocol})`,
    `  command: ${d.command}`,
    `  ${ref}: ${d.expected}`,
    `  ${sub}: ${d.actual}`,
    `  preceding commands (${ref} reply):`,
    ...d.context.map((l) => `    ${l}`),
    `  rerun just this sequence: DIFF_SEED=${d.seed} npx mocha dist/test/differential.test.js`,
    `  full sequence (${d.reproducer.length} commands, keys prefixed ${d.prefix}):`,
    ...d.reproducer.slice(-200).map((l) => `    ${l}`),
  ].join('\n');
}
