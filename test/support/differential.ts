import net from 'node:net';

/**
 * Differential testing: the same command sequences go to a real redis-server
 * and to Talus over raw RESP sockets, and the replies are compared byte for
 * byte (or with a named comparator where Redis itself is not deterministic:
 * TTL drift, unordered collections, random members checked against the
 * collection read just before, SORT's order among equal ALPHA BY values).
 *
 * Sequences come from a seeded generator over a small key space (so keys
 * collide, change type, expire and get renamed onto each other), including
 * wrong arity, syntax errors and wrong types. Commands are grouped in families
 * (tables of generators below); a generator is used only when the server
 * under test knows the command (probed at start), so families light up as
 * they are implemented. To cover a new command, add a row to its family.
 * A row may return a group of steps (sent in order, never mangled): a read
 * whose reply a random command is then checked against, a command inside
 * MULTI, or a command that must not be mangled (a blocking one, whose
 * truncated or extended forms could block forever).
 *
 * Generated only in forms whose replies Redis defines: BYLEX ranges on keys
 * whose scores are all equal (or '-' '+'), SCANs returning whole small
 * collections, blocking commands in MULTI or with tiny timeouts, no
 * out-of-range floats (Redis's SORT then sees a stale ERANGE), no huge
 * negative random counts (Redis would try to send 2^63 elements).
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

/** One connection sending commands (one at a time, or a pipeline in one write) and returning the raw reply bytes. */
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
    return this.pipeline([args]).then((r) => r[0]!);
  }

  /** Send commands in one write; resolves with their raw replies, in order. */
  async pipeline(commands: Arg[][]): Promise<Buffer[]> {
    if (this.waiting) throw new Error('RawConnection: one call or pipeline at a time');
    if (!this.closed) this.socket.write(Buffer.concat(commands.map(encodeCommand)));
    const out: Buffer[] = [];
    for (let i = 0; i < commands.length; i++) out.push(await this.read());
    return out;
  }

  private read(): Promise<Buffer> {
    if (this.closed && this.buf.length === 0) return Promise.resolve(Buffer.from('<connection closed>'));
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiting = undefined;
        resolve(Buffer.from(`<timeout after ${this.timeoutMs} ms>`));
      }, this.timeoutMs);
      this.waiting = { resolve, timer };
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

/** Arrays whose items, taken `k` at a time (element + its GET values), form the same multiset. */
export function unorderedChunks(k: number): Comparator {
  return (a, b) => {
    if (a.equals(b)) return true;
    const [x] = decode(a);
    const [y] = decode(b);
    if (!('items' in x) || !('items' in y) || x.t !== y.t) return false;
    const cx = chunks(x.items, k);
    const cy = chunks(y.items, k);
    return cx !== undefined && cy !== undefined && sameMultiset(cx, cy);
  };
}

function chunks(items: RespValue[], k: number): string[] | undefined {
  if (items.length % k !== 0) return undefined;
  const out: string[] = [];
  for (let i = 0; i < items.length; i += k) out.push(items.slice(i, i + k).map(canon).join(','));
  return out;
}

/** Only the reply type and, for arrays, the length must agree (a random subset of a known size). */
export const sameLength: Comparator = (a, b) => {
  if (a.equals(b)) return true;
  const [x] = decode(a);
  const [y] = decode(b);
  return 'items' in x && 'items' in y && x.t === y.t && x.items.length === y.items.length;
};

/**
 * HSCAN/SSCAN/ZSCAN replies [cursor, items]: the cursor exact, the items as
 * a multiset (of pairs with `pairs`). With `numericValues` (ZSCAN), values
 * that read as the same double agree: Redis prints a skiplist's scores with
 * %.17Lg (4.6116860184273879e+18) and a listpack's as stored (integers up to
 * 2^62 in full), and SORT turns zsets into skiplists.
 */
export function scanCompare(pairs: boolean, numericValues = false): Comparator {
  const inner = pairs ? unorderedPairs : unordered;
  const norm = (v: RespValue): RespValue => {
    if (!numericValues || !('items' in v)) return v;
    return {
      t: v.t,
      items: v.items.map((it, i) => {
        if (i % 2 === 0 || 'items' in it || it.v === null) return it;
        const n = Number(it.v);
        return it.v.trim() !== '' && !Number.isNaN(n) ? { t: it.t, v: String(n) } : it;
      }),
    };
  };
  return (a, b) => {
    if (a.equals(b)) return true;
    const [x] = decode(a);
    const [y] = decode(b);
    if (!('items' in x) || !('items' in y) || x.t !== y.t || x.items.length !== 2 || y.items.length !== 2) return false;
    if (canon(x.items[0]!) !== canon(y.items[0]!)) return false;
    return inner(encodeValue(norm(x.items[1]!)), encodeValue(norm(y.items[1]!)));
  };
}

/** Re-encode a decoded value (enough for the comparators above: arrays and bulk/simple items). */
function encodeValue(v: RespValue): Buffer {
  if ('items' in v) {
    const n = v.t === '%' || v.t === '|' ? v.items.length / 2 : v.items.length;
    return Buffer.concat([Buffer.from(`${v.t}${n}\r\n`, 'latin1'), ...v.items.map(encodeValue)]);
  }
  if (v.v === null) return Buffer.from(`${v.t}-1\r\n`, 'latin1');
  if (v.t === '$' || v.t === '!' || v.t === '=') return Buffer.from(`${v.t}${v.v.length}\r\n${v.v}\r\n`, 'latin1');
  return Buffer.from(`${v.t}${v.v}\r\n`, 'latin1');
}

/**
 * SORT ... BY pattern ALPHA with `GET ... GET # GET pattern` last: Redis's
 * qsort leaves elements with equal BY values in no particular order. The
 * sequence of BY values (the last of each `k` items) must be identical, and
 * each run of equal BY values must hold the same rows; with LIMIT the runs
 * at either edge of the window may hold different rows of the run.
 */
export function sortTies(k: number, limited: boolean): Comparator {
  return (a, b) => {
    if (a.equals(b)) return true;
    const [x] = decode(a);
    const [y] = decode(b);
    if (!('items' in x) || !('items' in y) || x.t !== y.t || x.items.length !== y.items.length) return false;
    const cx = chunks(x.items, k);
    const cy = chunks(y.items, k);
    if (cx === undefined || cy === undefined) return false;
    const by = (items: RespValue[]) => Array.from({ length: items.length / k }, (_, i) => canon(items[i * k + k - 1]!));
    const bx = by(x.items);
    const bY = by(y.items);
    if (bx.some((s, i) => s !== bY[i])) return false;
    for (let i = 0; i < bx.length; ) {
      let j = i;
      while (j < bx.length && bx[j] === bx[i]) j++;
      const edge = limited && (i === 0 || j === bx.length);
      if (!edge && !sameMultiset(cx.slice(i, j), cy.slice(i, j))) return false;
      i = j;
    }
    return true;
  };
}

/**
 * Random replies (HRANDFIELD, SRANDMEMBER, ZRANDMEMBER, SPOP) checked against
 * the collection read just before: `cap` holds that read's reference reply
 * (filled by `capturing`). Errors, nils and empty replies must be identical;
 * otherwise the subject's reply must have the reference's type and length
 * and hold only elements (with their values/scores when `withValues`) of the
 * collection, all distinct when `distinct`.
 */
export interface Captured {
  ref?: RespValue;
}

export function capturing(cap: Captured, then: Comparator): Comparator {
  return (a, b) => {
    [cap.ref] = decode(a);
    return then(a, b);
  };
}

export function randomFrom(cap: Captured, kind: 'hash' | 'set' | 'zset', opts: { withValues?: boolean; distinct?: boolean } = {}): Comparator {
  return (a, b) => {
    if (a.equals(b)) return true;
    const ref = cap.ref;
    if (ref === undefined || !('items' in ref)) return false;
    // the collection as element names and element=>value pairs
    const names = new Set<string>();
    const pairs = new Set<string>();
    if (kind === 'set') {
      for (const it of ref.items) names.add(canon(it));
    } else if (ref.items.length > 0 && 'items' in ref.items[0]!) {
      for (const it of ref.items) {
        if (!('items' in it) || it.items.length !== 2) return false;
        names.add(canon(it.items[0]!));
        pairs.add(canon(it.items[0]!) + '=>' + canon(it.items[1]!));
      }
    } else {
      for (let i = 0; i + 1 < ref.items.length; i += 2) {
        names.add(canon(ref.items[i]!));
        pairs.add(canon(ref.items[i]!) + '=>' + canon(ref.items[i + 1]!));
      }
    }
    const [x] = decode(a);
    const [y] = decode(b);
    if (!('items' in x)) {
      // a single element (or nil / an error: those must be identical)
      return x.t === '$' && x.v !== null && y.t === '$' && !('items' in y) && y.v !== null && names.has(canon(y));
    }
    if (!('items' in y) || x.t !== y.t || x.items.length !== y.items.length || x.items.length === 0) return false;
    let got: string[];
    if (!opts.withValues) {
      got = y.items.map(canon);
      if (!got.every((s) => names.has(s))) return false;
    } else {
      const nested = 'items' in x.items[0]!;
      got = [];
      if (nested) {
        for (const it of y.items) {
          if (!('items' in it) || it.items.length !== 2) return false;
          got.push(canon(it.items[0]!) + '=>' + canon(it.items[1]!));
        }
      } else {
        for (let i = 0; i + 1 < y.items.length; i += 2) {
          if ('items' in y.items[i]!) return false;
          got.push(canon(y.items[i]!) + '=>' + canon(y.items[i + 1]!));
        }
      }
      if (!got.every((s) => pairs.has(s))) return false;
    }
    return !opts.distinct || new Set(got).size === got.length;
  };
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
/** RESTORE payloads: redis-server 7.0's DUMP of "hello" and of the list [a, b, 1], a bad checksum, junk */
const DUMPS = [
  Buffer.from('\x00\x05hello\n\x00cr\xdfve4 \n', 'latin1'),
  Buffer.from('\x12\x01\x02\x0f\x0f\x00\x00\x00\x03\x00\x81a\x02\x81b\x02\x01\x01\xff\n\x00\xe0\x1b\xabJG\xceY"', 'latin1'),
  Buffer.from('\x00\x05hello\n\x00cr\xdfve4 \x0b', 'latin1'),
  Buffer.from('junk'),
  Buffer.alloc(0),
];
/** expiry arguments that overflow once made milliseconds or absolute ('invalid expire time') */
const HUGE_EXPIRES = ['9223372036854775807', '9223372036854775', '-9223372036854775808', '9223372036854775806', '4611686018427387904'];
const NOT_INTS = ['01', '+1', ' 1', '1 ', '1.0', '0x10', '1e3', 'abc', '', '-0', '- 1'];
const FLOATS = ['1.5', '-0.25', '3.0e3', '1e-5', '0.1', '10.50', '-inf', 'inf', 'nan', '5.0e300', '1.7976931348623157e308'];
const COLLECTION_KINDS = ['list', 'hash', 'set', 'zset'] as const;
/** streams are not among the kinds `key()` picks from, so the other families' sequences stay as they were */
export type CollectionKind = (typeof COLLECTION_KINDS)[number] | 'stream';
const TEXTS = ['hello', 'foo bar', 'x', '', 'Ω≈ç', 'line\r\nbreak', 'tab\tsep'];

/** What a generator gets: the seeded RNG and this sequence's key space. */
export class Gen {
  /** set by the runner: another usable, non-group command (possibly mangled) */
  other: () => Step = () => ({ args: ['PING'] });
  private readonly names: readonly string[];
  private readonly perKind: number;
  /** `keySpace`: use only this many general key names (and at most that many keys per collection kind) */
  constructor(readonly rng: Rng, readonly prefix: string, keySpace?: number) {
    const n = keySpace === undefined ? KEY_NAMES.length : Math.max(1, Math.min(keySpace, KEY_NAMES.length));
    // the key with a NUL byte stays in the smallest spaces
    this.names = n === KEY_NAMES.length ? KEY_NAMES : n === 1 ? ['a'] : [...KEY_NAMES.slice(0, n - 1), 'k\x00z'];
    this.perKind = Math.min(3, n);
  }
  /** one of a few keys (collisions intended); occasionally a fresh one, or one of the collection keys below */
  key(): Buffer {
    const r = this.rng.next();
    const name = r < 0.05 ? `fresh${this.rng.int(0, 1_000_000)}` : r < 0.08 ? this.typedName(this.rng.pick(COLLECTION_KINDS)) : this.rng.pick(this.names);
    return Buffer.from(this.prefix + name, 'latin1');
  }
  keys(min: number, max: number): Buffer[] {
    const n = this.rng.int(min, max);
    return Array.from({ length: n }, () => this.key());
  }
  /**
   * Mostly one of three keys that the rows of one collection family use (so
   * collections grow and are read back, instead of mostly meeting other
   * types), otherwise any key (WRONGTYPE, collisions).
   */
  typed(kind: CollectionKind): Buffer {
    return this.rng.chance(0.35) ? this.key() : Buffer.from(this.prefix + this.typedName(kind), 'latin1');
  }
  typedKeys(kind: CollectionKind, min: number, max: number): Buffer[] {
    const n = this.rng.int(min, max);
    return Array.from({ length: n }, () => this.typed(kind));
  }
  private typedName(kind: CollectionKind): string {
    return `${kind === 'stream' ? 'X' : kind[0]!.toUpperCase()}${this.rng.int(1, this.perKind)}`;
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
    return this.rng.pick(['abc', '1.5', '9223372036854775807', '', '9223372036854775', '-9223372036854775808']);
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
            ['EXAT', g.unixSeconds()], ['PXAT', g.unixSeconds() + '000'], ['EX', g.pick(['0', '-5', 'x'])],
            [g.pick(['EX', 'PX', 'EXAT', 'PXAT']), g.pick(HUGE_EXPIRES)]];
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
    {
      name: 'getrange', weight: 2, gen: (g) =>
        ['GETRANGE', g.key(), g.chance(0.9) ? g.int(-20, 20) : g.pick(INT_EDGES), g.pick([g.int(-20, 20), '-1', '100', 'x', g.pick(INT_EDGES)])],
    },
    { name: 'substr', gen: (g) => ['SUBSTR', g.key(), g.int(-10, 10), g.int(-10, 10)] },
    // (an offset just under 512 MB would make Redis allocate it: only offsets past the limit)
    { name: 'setrange', weight: 2, gen: (g) => ['SETRANGE', g.key(), g.pick([g.int(0, 40), g.int(0, 40), '-1', 'x', '0', '536870912', '9223372036854775807']), g.value()] },
    { name: 'mset', weight: 2, gen: (g) => ['MSET', ...Array.from({ length: g.rng.int(1, 3) }, () => [g.key(), g.value()]).flat()] },
    { name: 'msetnx', gen: (g) => ['MSETNX', ...Array.from({ length: g.rng.int(1, 3) }, () => [g.key(), g.value()]).flat()] },
    { name: 'mget', weight: 2, gen: (g) => ['MGET', ...g.keys(1, 4)] },
    { name: 'getset', gen: (g) => ['GETSET', g.key(), g.value()] },
    { name: 'getdel', gen: (g) => ['GETDEL', g.key()] },
    {
      name: 'getex', gen: (g) => {
        const opts: Arg[][] = [[], ['PERSIST'], ['EX', g.ttlSeconds()], ['PX', g.ttlSeconds() + '000'], ['EXAT', g.unixSeconds()], ['EX', '0'], ['FOO'],
          [g.pick(['EX', 'PX', 'EXAT', 'PXAT']), g.pick(HUGE_EXPIRES)], ['PERSIST', 'EX', '10'], ['EX', '10', 'PX', '10000']];
        return ['GETEX', g.key(), ...g.pick(opts)];
      },
    },
    { name: 'setnx', gen: (g) => ['SETNX', g.key(), g.value()] },
    { name: 'setex', gen: (g) => ['SETEX', g.key(), g.pick([g.ttlSeconds(), g.ttlSeconds(), '0', '-1', 'x', g.pick(HUGE_EXPIRES)]), g.value()] },
    { name: 'psetex', gen: (g) => ['PSETEX', g.key(), g.pick([g.ttlSeconds() + '000', '0', 'x', g.pick(HUGE_EXPIRES)]), g.value()] },
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
    { name: 'move', weight: 0.5, gen: (g) => ['MOVE', g.key(), g.pick(['1', '1', '0', '16', '-1', 'x'])] },
    {
      name: 'restore', weight: 0.5, gen: (g) => {
        const opts = shuffled(g, [
          ...(g.chance(0.5) ? [['REPLACE']] : []), ...(g.chance(0.1) ? [['ABSTTL']] : []),
          ...(g.chance(0.1) ? [['IDLETIME', g.pick(['10', '-1', 'x'])]] : []), ...(g.chance(0.05) ? [['FREQ', g.pick(['5', '256'])]] : []),
        ]);
        return ['RESTORE', g.key(), g.pick(['0', '0', g.ttlSeconds() + '000', '-1', 'x']), g.pick(DUMPS), ...opts.flat()];
      },
    },
    {
      name: 'expire', weight: 2, gen: (g) =>
        ['EXPIRE', g.key(), g.expireSeconds(), ...(g.chance(0.3) ? [g.pick(['NX', 'XX', 'GT', 'LT', 'FOO'])] : []), ...(g.chance(0.08) ? [g.pick(['NX', 'XX', 'GT', 'LT', 'gt'])] : [])],
    },
    { name: 'pexpire', gen: (g) => ['PEXPIRE', g.key(), g.pick([g.ttlSeconds() + '000', '0', '-1', g.pick(HUGE_EXPIRES)])] },
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
    // only protocol versions HELLO refuses (a successful HELLO names the server); a group, so never mangled into a plain HELLO
    {
      name: 'hello', weight: 0.3, gen: (g) =>
        [{ args: ['HELLO', g.pick(['4', '1', 'x', '-1', '0', '', '99999999999999999999']), ...g.pick([[], ['AUTH', 'default', 'x'], ['SETNAME', 'n'], ['FOO']])] }],
    },
    // a connection's own name: names with spaces or newlines are refused, an empty one clears it
    { name: 'client', weight: 0.5, gen: (g) => (g.chance(0.5) ? ['CLIENT', 'GETNAME'] : ['CLIENT', 'SETNAME', g.pick(['conn-1', 'a b', '', 'x\n', 'Ω', 'n'.repeat(40)])]) },
  ],
};

/**
 * The collection families. Their rows mostly use `g.typed(kind)` keys (three
 * per kind, so collections grow and are read back) and otherwise any key
 * (other types: WRONGTYPE). Members and fields come from a small fixed set.
 */
const members = (g: Gen, min: number, max: number) => Array.from({ length: g.rng.int(min, max) }, () => g.member());

/** An index, rank or offset: mostly in [lo, hi], sometimes an int64 edge or not an integer at all. */
const indexArg = (g: Gen, lo: number, hi: number): string => (g.chance(0.88) ? g.int(lo, hi) : g.intArg());

/** The optional count of LPOP/RPOP/ZPOPMIN/ZPOPMAX/SPOP-like commands. */
const optCount = (g: Gen, p = 0.4): string[] =>
  g.chance(p) ? [g.pick([g.int(0, 3), g.int(0, 3), g.int(0, 3), '-1', 'x', '9223372036854775807', '-9223372036854775808'])] : [];

/** Options appended in a random order. */
function shuffled<T>(g: Gen, xs: T[]): T[] {
  const out = [...xs];
  for (let i = out.length - 1; i > 0; i--) {
    const j = g.rng.int(0, i);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/** `numkeys key... WHERE [COUNT n]` of LMPOP/BLMPOP/ZMPOP/BZMPOP, with bad numkeys, wheres and counts now and then. */
function mpopArgs(g: Gen, kind: CollectionKind, wheres: [string, string]): Arg[] {
  const keys = g.typedKeys(kind, 1, 3);
  const r = g.rng.next();
  const numkeys = r < 0.9 ? String(keys.length) : g.pick(['0', '-1', 'x', String(keys.length + 1), String(keys.length - 1)]);
  const args: Arg[] = [numkeys, ...keys, g.chance(0.95) ? g.pick([...wheres, wheres[0].toLowerCase()]) : 'UP'];
  if (g.chance(0.4)) args.push('COUNT', g.pick([g.int(1, 3), g.int(1, 3), '0', '-1', 'x', '9223372036854775807']));
  if (g.chance(0.03)) args.push('COUNT', '1');
  return args;
}

/**
 * A blocking command. Inside MULTI it does not block (a deterministic
 * nil/pop, any timeout); alone it gets a timeout so short that the nil after
 * it is cheap, or an invalid one. Alone it is a one-step group, so it is
 * never mangled into a blocking-forever form (a junk "0" timeout).
 */
function blocking(g: Gen, make: (timeout: string) => Arg[]): Step[] {
  if (g.chance(0.75)) return [{ args: ['MULTI'] }, { args: make(g.pick(['0', '0.01', '1', '-1', 'x', '0'])) }, { args: ['EXEC'] }];
  return [{ args: make(g.pick(['0.01', '0.01', '0.01', '0.001', '-1', 'x', '-0.5'])) }];
}

export const LISTS: Family = {
  name: 'lists',
  commands: [
    { name: 'del', weight: 0.3, gen: (g) => ['DEL', g.typed('list')] },
    { name: 'lpush', weight: 2, gen: (g) => ['LPUSH', g.typed('list'), ...members(g, 1, 3)] },
    { name: 'rpush', weight: 2, gen: (g) => ['RPUSH', g.typed('list'), ...members(g, 1, 3)] },
    { name: 'lpushx', gen: (g) => ['LPUSHX', g.typed('list'), ...members(g, 1, 2)] },
    { name: 'rpushx', gen: (g) => ['RPUSHX', g.typed('list'), ...members(g, 1, 2)] },
    { name: 'llen', gen: (g) => ['LLEN', g.typed('list')] },
    { name: 'lrange', weight: 2, gen: (g) => ['LRANGE', g.typed('list'), indexArg(g, -5, 5), indexArg(g, -5, 5)] },
    { name: 'lindex', gen: (g) => ['LINDEX', g.typed('list'), indexArg(g, -4, 4)] },
    { name: 'lset', gen: (g) => ['LSET', g.typed('list'), indexArg(g, -3, 3), g.member()] },
    { name: 'linsert', gen: (g) => ['LINSERT', g.typed('list'), g.pick(['BEFORE', 'AFTER', 'before', 'After', 'MIDDLE']), g.member(), g.member()] },
    { name: 'lrem', gen: (g) => ['LREM', g.typed('list'), indexArg(g, -2, 2), g.member()] },
    { name: 'ltrim', gen: (g) => ['LTRIM', g.typed('list'), indexArg(g, -4, 2), indexArg(g, -3, 4)] },
    {
      name: 'lpos', weight: 2, gen: (g) => {
        const opts: Arg[][] = [];
        const n = g.pick([0, 1, 1, 2, 3]);
        for (let i = 0; i < n; i++) {
          opts.push(g.pick([
            ['RANK', g.pick(['1', '-1', '2', '-2', '3', '0', 'x', '-9223372036854775808', '9223372036854775807'])],
            ['COUNT', g.pick(['0', '1', '2', '0', '-1', 'x'])],
            ['MAXLEN', g.pick(['0', '1', '2', '5', '-1'])],
            [g.pick(['rank', 'count', 'maxlen'])],
            ['FOO', '1'],
          ]));
        }
        return ['LPOS', g.typed('list'), g.member(), ...opts.flat()];
      },
    },
    { name: 'lpop', gen: (g) => ['LPOP', g.typed('list'), ...optCount(g, 0.35)] },
    { name: 'rpop', gen: (g) => ['RPOP', g.typed('list'), ...optCount(g, 0.35)] },
    { name: 'lmove', gen: (g) => ['LMOVE', g.typed('list'), g.typed('list'), g.pick(['LEFT', 'RIGHT', 'left']), g.pick(['LEFT', 'RIGHT', 'right', 'UP'])] },
    { name: 'rpoplpush', gen: (g) => ['RPOPLPUSH', g.typed('list'), g.typed('list')] },
    { name: 'lmpop', gen: (g) => ['LMPOP', ...mpopArgs(g, 'list', ['LEFT', 'RIGHT'])] },
    { name: 'blpop', weight: 0.5, gen: (g) => blocking(g, (t) => ['BLPOP', ...g.typedKeys('list', 1, 3), t]) },
    { name: 'brpop', weight: 0.5, gen: (g) => blocking(g, (t) => ['BRPOP', ...g.typedKeys('list', 1, 3), t]) },
    { name: 'brpoplpush', weight: 0.3, gen: (g) => blocking(g, (t) => ['BRPOPLPUSH', g.typed('list'), g.typed('list'), t]) },
    {
      name: 'blmove', weight: 0.4, gen: (g) =>
        blocking(g, (t) => ['BLMOVE', g.typed('list'), g.typed('list'), g.pick(['LEFT', 'RIGHT']), g.pick(['LEFT', 'RIGHT', 'UP']), t]),
    },
    { name: 'blmpop', weight: 0.4, gen: (g) => blocking(g, (t) => ['BLMPOP', t, ...mpopArgs(g, 'list', ['LEFT', 'RIGHT'])]) },
    // wrong arity of the commands generated only as groups above (one-step groups too: a junk "0"
    // appended by mangling would make them block forever)
    {
      name: 'blpop', weight: 0.2, gen: (g) => {
        const k = g.typed('list');
        return [{ args: g.pick<Arg[]>([['BLPOP', k], ['BRPOP', k], ['BRPOPLPUSH', k, k], ['BLMOVE', k, k, 'LEFT', 'RIGHT'], ['BLMPOP', '0.01', '1', k], ['BLPOP']]) }];
      },
    },
  ],
};

const HSCAN_MATCH = ['*', 'm*', '?', '[mx]*', 'x', '*1*', 'm\\1', '[^m]*', ''];

/** `cursor [MATCH p] [COUNT n]` of HSCAN/SSCAN/ZSCAN: whole-collection pages only (COUNT >= 10 on <= 8 elements), so replies are deterministic. */
function scanArgs(g: Gen): Arg[] {
  const cursor = g.chance(0.9) ? '0' : g.pick(['', 'x', '1.5', '-', ' 0']);
  const opts: Arg[][] = [];
  if (g.chance(0.5)) opts.push(['MATCH', g.pick(HSCAN_MATCH)]);
  if (g.chance(0.4)) opts.push(['COUNT', g.pick(['10', '20', '1000', '0', '-1', 'x'])]);
  if (g.chance(0.03)) opts.push(['NOVALUES']);
  return [cursor, ...shuffled(g, opts).flat()];
}

/**
 * HRANDFIELD/SRANDMEMBER/ZRANDMEMBER with a count: read the collection
 * first (compared as usual, and kept), then check the random reply against it.
 */
function randomRead(g: Gen, kind: 'hash' | 'set' | 'zset'): Step[] {
  const key = g.typed(kind);
  const cap: Captured = {};
  const read: Step =
    kind === 'hash' ? { args: ['HGETALL', key], compare: capturing(cap, unorderedPairs) }
      : kind === 'set' ? { args: ['SMEMBERS', key], compare: capturing(cap, unordered) }
        : { args: ['ZRANGE', key, '0', '-1', 'WITHSCORES'], compare: capturing(cap, exact) };
  const cmd = kind === 'hash' ? 'HRANDFIELD' : kind === 'set' ? 'SRANDMEMBER' : 'ZRANDMEMBER';
  const opt = kind === 'hash' ? 'WITHVALUES' : 'WITHSCORES';
  const args: Arg[] = [cmd, key];
  let withValues = false;
  let distinct = false;
  if (g.chance(0.75)) {
    const n = g.pick([-5, -3, -2, -1, 1, 1, 2, 3, 5, 10]);
    args.push(String(n));
    distinct = n > 0;
    if (kind !== 'set' && g.chance(0.5)) {
      args.push(opt);
      withValues = true;
    }
  }
  return [read, { args, compare: randomFrom(cap, kind, { withValues, distinct }) }];
}

/**
 * The deterministic forms of a random read: count 0, bad counts, bad
 * options, a count covering everything (compared as a multiset). Never a
 * huge negative count on its own: Redis would try to send 2^63 elements.
 */
function randomFixed(g: Gen, kind: CollectionKind, cmd: string, opt: string | undefined): Step[] {
  const huge = ['9223372036854775807', '4611686018427387904', '-4611686018427387904', '-9223372036854775807'];
  const count = g.pick(['0', '0', '-0', 'x', '1.5', '', '-9223372036854775808', ...(opt === undefined ? huge.slice(0, 2) : huge)]);
  const args: Arg[] = [cmd, g.typed(kind), count];
  const withOpt = opt !== undefined && (count.startsWith('-4') || count.startsWith('-92') || g.chance(0.5));
  if (withOpt) args.push(g.pick([opt, opt.toLowerCase(), 'FOO']));
  else if (g.chance(0.1)) args.push('FOO');
  // a one-step group: never mangled (dropping the count would make the reply random, dropping
  // WITHVALUES would leave a huge negative count alone)
  return [{ args, compare: huge.includes(count) && args.length === 3 ? unordered : exact }];
}

export const HASHES: Family = {
  name: 'hashes',
  commands: [
    { name: 'del', weight: 0.3, gen: (g) => ['DEL', g.typed('hash')] },
    { name: 'hset', weight: 3, gen: (g) => ['HSET', g.typed('hash'), ...Array.from({ length: g.rng.int(1, 3) }, () => [g.member(), g.value()]).flat()] },
    { name: 'hmset', gen: (g) => ['HMSET', g.typed('hash'), ...Array.from({ length: g.rng.int(1, 3) }, () => [g.member(), g.value()]).flat()] },
    { name: 'hsetnx', gen: (g) => ['HSETNX', g.typed('hash'), g.member(), g.value()] },
    { name: 'hget', weight: 2, gen: (g) => ['HGET', g.typed('hash'), g.member()] },
    { name: 'hmget', gen: (g) => ['HMGET', g.typed('hash'), ...members(g, 1, 3)] },
    { name: 'hlen', gen: (g) => ['HLEN', g.typed('hash')] },
    { name: 'hexists', gen: (g) => ['HEXISTS', g.typed('hash'), g.member()] },
    { name: 'hstrlen', gen: (g) => ['HSTRLEN', g.typed('hash'), g.member()] },
    { name: 'hdel', gen: (g) => ['HDEL', g.typed('hash'), ...members(g, 1, 3)] },
    { name: 'hgetall', gen: (g) => cmp(unorderedPairs)(['HGETALL', g.typed('hash')]) },
    { name: 'hkeys', gen: (g) => cmp(unordered)(['HKEYS', g.typed('hash')]) },
    { name: 'hvals', gen: (g) => cmp(unordered)(['HVALS', g.typed('hash')]) },
    { name: 'hincrby', gen: (g) => ['HINCRBY', g.typed('hash'), g.member(), g.intArg()] },
    { name: 'hincrbyfloat', gen: (g) => ['HINCRBYFLOAT', g.typed('hash'), g.member(), g.floatArg()] },
    { name: 'hrandfield', gen: (g) => randomRead(g, 'hash') },
    { name: 'hrandfield', weight: 0.4, gen: (g) => randomFixed(g, 'hash', 'HRANDFIELD', 'WITHVALUES') },
    { name: 'hrandfield', weight: 0.1, gen: () => [{ args: ['HRANDFIELD'] }] },
    { name: 'hscan', gen: (g) => cmp(scanCompare(true))(['HSCAN', g.typed('hash'), ...scanArgs(g)]) },
  ],
};

export const SETS: Family = {
  name: 'sets',
  commands: [
    { name: 'del', weight: 0.3, gen: (g) => ['DEL', g.typed('set')] },
    { name: 'sadd', weight: 3, gen: (g) => ['SADD', g.typed('set'), ...members(g, 1, 3)] },
    { name: 'srem', gen: (g) => ['SREM', g.typed('set'), ...members(g, 1, 2)] },
    { name: 'scard', gen: (g) => ['SCARD', g.typed('set')] },
    { name: 'sismember', gen: (g) => ['SISMEMBER', g.typed('set'), g.member()] },
    { name: 'smismember', gen: (g) => ['SMISMEMBER', g.typed('set'), ...members(g, 1, 3)] },
    { name: 'smembers', gen: (g) => cmp(unordered)(['SMEMBERS', g.typed('set')]) },
    { name: 'smove', gen: (g) => ['SMOVE', g.typed('set'), g.typed('set'), g.member()] },
    { name: 'sinter', gen: (g) => cmp(unordered)(['SINTER', ...g.typedKeys('set', 1, 3)]) },
    { name: 'sunion', gen: (g) => cmp(unordered)(['SUNION', ...g.typedKeys('set', 1, 3)]) },
    { name: 'sdiff', gen: (g) => cmp(unordered)(['SDIFF', ...g.typedKeys('set', 1, 3)]) },
    {
      name: 'sintercard', gen: (g) => {
        const keys = g.typedKeys('set', 1, 3);
        const numkeys = g.chance(0.9) ? String(keys.length) : g.pick(['0', '-1', 'x', String(keys.length + 1)]);
        const limit = g.chance(0.35) ? ['LIMIT', g.pick([g.int(0, 3), g.int(0, 3), '-1', 'x'])] : g.chance(0.03) ? ['FOO'] : [];
        return ['SINTERCARD', numkeys, ...keys, ...limit];
      },
    },
    { name: 'sinterstore', gen: (g) => ['SINTERSTORE', g.typed('set'), ...g.typedKeys('set', 1, 3)] },
    { name: 'sunionstore', gen: (g) => ['SUNIONSTORE', g.typed('set'), ...g.typedKeys('set', 1, 3)] },
    { name: 'sdiffstore', gen: (g) => ['SDIFFSTORE', g.typed('set'), ...g.typedKeys('set', 1, 3)] },
    { name: 'srandmember', gen: (g) => randomRead(g, 'set') },
    { name: 'srandmember', weight: 0.3, gen: (g) => randomFixed(g, 'set', 'SRANDMEMBER', undefined) },
    {
      // SPOP changes the set at random: copy it aside, check the pop against
      // the members read before, compare the size after, and put the copy back.
      name: 'spop', gen: (g) => {
        const key = g.typed('set');
        const tmp = Buffer.concat([key, Buffer.from('.spop')]);
        const cap: Captured = {};
        const n = g.chance(0.7) ? g.pick([1, 2, 3, 10]) : undefined;
        return [
          { args: ['COPY', key, tmp, 'REPLACE'] },
          { args: ['SMEMBERS', key], compare: capturing(cap, unordered) },
          { args: ['SPOP', key, ...(n === undefined ? [] : [String(n)])], compare: randomFrom(cap, 'set', { distinct: true }) },
          { args: ['SCARD', key] },
          { args: ['RENAME', tmp, key] },
        ];
      },
    },
    // (a one-step group: never mangled into a random SPOP)
    { name: 'spop', weight: 0.3, gen: (g) => [{ args: ['SPOP', g.typed('set'), g.pick(['0', '-1', 'x', '0']), ...(g.chance(0.2) ? ['1'] : [])] }] },
    { name: 'spop', weight: 0.15, gen: (g) => [{ args: [g.pick(['SPOP', 'SRANDMEMBER'])] }] },
    { name: 'sscan', gen: (g) => cmp(scanCompare(false))(['SSCAN', g.typed('set'), ...scanArgs(g)]) },
  ],
};

// No out-of-range numbers ('1e400', cursors or stream ID parts >= 2^64): Redis's strtod/strtoul leave errno = ERANGE
// behind, and a later SORT (which tests errno without clearing it) then fails its numeric
// conversion: a Redis quirk that depends on which command last cleared errno.
const SCORE_MIN = ['-inf', '-inf', '(-inf', '(1', '1', '0', '(0', '-5.5', '2.5', '(2.5', '-1', '1e1', ' 1', '+inf', 'x', '(', 'nan', '(1e300', '-1e300', '1 '];
const SCORE_MAX = ['+inf', '+inf', 'inf', '(10', '10', '100', '2.5', '(2.5', '1', '(1', '0', '-inf', '(+inf', 'x', '5.0e300', '(inf'];
const scoreRange = (g: Gen): string[] => [g.pick(SCORE_MIN), g.pick(SCORE_MAX)];

/**
 * Two keys used only by the lex rows, whose members all have score 0:
 * BYLEX results are specified only for equal scores (the general keys mix
 * scores, so there only the full range '-' '+' and bad ranges are generated).
 */
const lexKey = (g: Gen): Buffer => Buffer.from(`${g.prefix}lex${g.int(1, 2)}`, 'latin1');
const LEX_BOUNDS = ['-', '+', '[m1', '(m1', '[m', '(m2', '[x', '(x', '[', '(', '[1', '(2.5', '[m\xff', '(m3', '[m\xff\xff', '[z'];
const BAD_LEX = ['m1', '', 'x', '-inf', '+inf', '--'];

/** `key min max` of a lex command (max first with `rev`). */
function lexRange(g: Gen, rev: boolean): Arg[] {
  const bound = (s: string) => Buffer.from(s, 'latin1');
  if (g.chance(0.75)) {
    let lo = g.pick(LEX_BOUNDS);
    let hi = g.pick(LEX_BOUNDS);
    if (g.chance(0.04)) lo = g.pick(BAD_LEX);
    else if (g.chance(0.04)) hi = g.pick(BAD_LEX);
    return [lexKey(g), bound(lo), bound(hi)];
  }
  const r = g.rng.next();
  const [lo, hi] = r < 0.8 ? ['-', '+'] : r < 0.9 ? ['+', '-'] : [g.pick(BAD_LEX), '+'];
  const key = g.typed('zset');
  return rev ? [key, bound(hi), bound(lo)] : [key, bound(lo), bound(hi)];
}

/**
 * A ZADD/ZINCRBY score, -0 included: Redis keeps -0 in a skiplist-encoded
 * zset (a long member, more than 128 members, or after SORT) and stores 0 in
 * a listpack; Talus tracks which one Redis would use (ZSetValue.compact).
 */
const zscoreArg = (g: Gen): string => g.floatArg();

const limitOpt = (g: Gen): string[] =>
  ['LIMIT', indexArg(g, -1, 3), g.pick([g.int(-2, 4), g.int(0, 3), '-1', 'x', '9223372036854775807'])];

/** ZRANGE/ZRANGESTORE arguments after the key(s): by rank, score or lex, with REV, LIMIT, WITHSCORES. */
function zrangeArgs(g: Gen, store: boolean): { src: Arg[]; opts: Arg[] } {
  const mode = g.pick(['rank', 'rank', 'score', 'score', 'lex']);
  const rev = g.chance(0.35);
  const opts: Arg[][] = [];
  let src: Arg[];
  if (mode === 'rank') {
    src = [g.typed('zset'), indexArg(g, -4, 4), indexArg(g, -4, 4)];
    if (g.chance(0.08)) opts.push(g.chance(0.5) ? ['LIMIT', '0', '-1'] : limitOpt(g));
  } else if (mode === 'score') {
    const [lo, hi] = scoreRange(g);
    const key = g.typed('zset');
    src = rev ? [key, hi!, lo!] : [key, lo!, hi!];
    opts.push(['BYSCORE']);
    if (g.chance(0.4)) opts.push(limitOpt(g));
  } else {
    src = lexRange(g, rev);
    opts.push([g.pick(['BYLEX', 'bylex'])]);
    if (g.chance(0.4)) opts.push(limitOpt(g));
  }
  if (rev) opts.push([g.pick(['REV', 'rev'])]);
  if (!store && mode !== 'lex' && g.chance(0.5)) opts.push(['WITHSCORES']);
  if (g.chance(0.03)) opts.push([g.pick(['WITHSCORES', 'BYSCORE', 'BYLEX', 'FOO'])]);
  return { src, opts: shuffled(g, opts).flat() };
}

/** `numkeys key... [WEIGHTS w...] [AGGREGATE a] [WITHSCORES]` of ZUNION/ZINTER/ZDIFF(STORE). */
function setOpArgs(g: Gen, op: 'union' | 'inter' | 'diff', store: boolean): Arg[] {
  // plain sets are inputs too (scores 1)
  const keys = Array.from({ length: g.rng.int(1, 3) }, () => g.typed(g.chance(0.25) ? 'set' : 'zset'));
  const numkeys = g.chance(0.92) ? String(keys.length) : g.pick(['0', '-1', 'x', String(keys.length + 1)]);
  const opts: Arg[][] = [];
  if (op !== 'diff' || g.chance(0.03)) {
    if (g.chance(0.35)) {
      const n = g.chance(0.9) ? keys.length : keys.length + g.pick([-1, 1]);
      opts.push(['WEIGHTS', ...Array.from({ length: Math.max(n, 0) }, () => (g.chance(0.7) ? g.pick(['1', '2', '0', '-1', '0.5', '3']) : g.floatArg()))]);
    }
    if (g.chance(0.35)) opts.push(['AGGREGATE', g.pick(['SUM', 'MIN', 'MAX', 'max', 'AVG'])]);
  }
  if (!store && g.chance(0.5)) opts.push(['WITHSCORES']);
  if (store && g.chance(0.03)) opts.push(['WITHSCORES']);
  return [numkeys, ...keys, ...shuffled(g, opts).flat()];
}

export const ZSETS: Family = {
  name: 'zsets',
  commands: [
    {
      name: 'del', weight: 0.3, gen: (g) => ['DEL', g.chance(0.8) ? g.typed('zset') : lexKey(g)],
    },
    {
      name: 'zadd', weight: 4, gen: (g) => {
        const flags = Array.from({ length: g.pick([0, 0, 0, 1, 1, 2, 3]) }, () => g.pick(['NX', 'XX', 'GT', 'LT', 'CH', 'INCR', 'nx', 'ch', 'gt']));
        const pairs = Array.from({ length: g.chance(0.75) ? 1 : g.rng.int(2, 3) }, () => [zscoreArg(g), g.member()]).flat();
        if (g.chance(0.02)) pairs.pop();
        return ['ZADD', g.typed('zset'), ...flags, ...pairs];
      },
    },
    {
      name: 'zadd', weight: 3, gen: (g) => {
        const flags = g.chance(0.2) ? [g.pick(['NX', 'XX', 'CH', 'INCR'])] : [];
        const n = flags[0] === 'INCR' ? 1 : g.rng.int(1, 4);
        return ['ZADD', lexKey(g), ...flags, ...Array.from({ length: n }, () => [g.chance(0.1) ? '-0' : '0', g.member()]).flat()];
      },
    },
    { name: 'zincrby', gen: (g) => ['ZINCRBY', g.typed('zset'), zscoreArg(g), g.member()] },
    { name: 'zscore', gen: (g) => ['ZSCORE', g.typed('zset'), g.member()] },
    { name: 'zmscore', gen: (g) => ['ZMSCORE', g.typed('zset'), ...members(g, 1, 3)] },
    { name: 'zcard', gen: (g) => ['ZCARD', g.chance(0.8) ? g.typed('zset') : lexKey(g)] },
    { name: 'zcount', gen: (g) => ['ZCOUNT', g.typed('zset'), ...scoreRange(g)] },
    { name: 'zlexcount', gen: (g) => ['ZLEXCOUNT', ...lexRange(g, false)] },
    { name: 'zrank', gen: (g) => ['ZRANK', g.typed('zset'), g.member()] },
    { name: 'zrevrank', gen: (g) => ['ZREVRANK', g.typed('zset'), g.member()] },
    { name: 'zrem', gen: (g) => ['ZREM', g.chance(0.8) ? g.typed('zset') : lexKey(g), ...members(g, 1, 2)] },
    {
      name: 'zrange', weight: 3, gen: (g) => {
        const { src, opts } = zrangeArgs(g, false);
        return ['ZRANGE', ...src, ...opts];
      },
    },
    {
      name: 'zrangestore', gen: (g) => {
        const { src, opts } = zrangeArgs(g, true);
        // lex ranges store into the lex keys, keeping them single-score
        const dst = Buffer.from(src[0] as Buffer).toString('latin1').startsWith(`${g.prefix}lex`) ? lexKey(g) : g.typed('zset');
        return ['ZRANGESTORE', dst, ...src, ...opts];
      },
    },
    { name: 'zrevrange', gen: (g) => ['ZREVRANGE', g.typed('zset'), indexArg(g, -4, 4), indexArg(g, -4, 4), ...(g.chance(0.5) ? ['WITHSCORES'] : [])] },
    {
      name: 'zrangebyscore', gen: (g) =>
        ['ZRANGEBYSCORE', g.typed('zset'), ...scoreRange(g), ...shuffled(g, [...(g.chance(0.4) ? [['WITHSCORES']] : []), ...(g.chance(0.3) ? [limitOpt(g)] : [])]).flat()],
    },
    {
      name: 'zrevrangebyscore', gen: (g) =>
        ['ZREVRANGEBYSCORE', g.typed('zset'), ...scoreRange(g).reverse(), ...shuffled(g, [...(g.chance(0.4) ? [['WITHSCORES']] : []), ...(g.chance(0.3) ? [limitOpt(g)] : [])]).flat()],
    },
    { name: 'zrangebylex', gen: (g) => ['ZRANGEBYLEX', ...lexRange(g, false), ...(g.chance(0.35) ? limitOpt(g) : []), ...(g.chance(0.03) ? ['WITHSCORES'] : [])] },
    { name: 'zrevrangebylex', gen: (g) => ['ZREVRANGEBYLEX', ...lexRange(g, true), ...(g.chance(0.35) ? limitOpt(g) : [])] },
    { name: 'zremrangebyrank', gen: (g) => ['ZREMRANGEBYRANK', g.typed('zset'), indexArg(g, -3, 1), indexArg(g, -2, 3)] },
    { name: 'zremrangebyscore', gen: (g) => ['ZREMRANGEBYSCORE', g.typed('zset'), ...scoreRange(g)] },
    { name: 'zremrangebylex', gen: (g) => ['ZREMRANGEBYLEX', ...lexRange(g, false)] },
    { name: 'zpopmin', gen: (g) => ['ZPOPMIN', g.chance(0.85) ? g.typed('zset') : lexKey(g), ...optCount(g)] },
    { name: 'zpopmax', gen: (g) => ['ZPOPMAX', g.typed('zset'), ...optCount(g)] },
    { name: 'zmpop', gen: (g) => ['ZMPOP', ...mpopArgs(g, 'zset', ['MIN', 'MAX'])] },
    { name: 'bzpopmin', weight: 0.4, gen: (g) => blocking(g, (t) => ['BZPOPMIN', ...g.typedKeys('zset', 1, 3), t]) },
    { name: 'bzpopmax', weight: 0.4, gen: (g) => blocking(g, (t) => ['BZPOPMAX', ...g.typedKeys('zset', 1, 3), t]) },
    { name: 'bzmpop', weight: 0.4, gen: (g) => blocking(g, (t) => ['BZMPOP', t, ...mpopArgs(g, 'zset', ['MIN', 'MAX'])]) },
    { name: 'zrandmember', gen: (g) => randomRead(g, 'zset') },
    { name: 'zrandmember', weight: 0.4, gen: (g) => randomFixed(g, 'zset', 'ZRANDMEMBER', 'WITHSCORES') },
    // wrong arity of the commands generated only as groups (one-step groups: never mangled into blocking forms)
    {
      name: 'zrandmember', weight: 0.2, gen: (g) => {
        const k = g.typed('zset');
        return [{ args: g.pick<Arg[]>([['ZRANDMEMBER'], ['BZPOPMIN', k], ['BZPOPMAX', k], ['BZMPOP', '0.01', '1', k], ['BZPOPMIN']]) }];
      },
    },
    { name: 'zunion', gen: (g) => ['ZUNION', ...setOpArgs(g, 'union', false)] },
    { name: 'zinter', gen: (g) => ['ZINTER', ...setOpArgs(g, 'inter', false)] },
    { name: 'zdiff', gen: (g) => ['ZDIFF', ...setOpArgs(g, 'diff', false)] },
    { name: 'zunionstore', gen: (g) => ['ZUNIONSTORE', g.typed('zset'), ...setOpArgs(g, 'union', true)] },
    { name: 'zinterstore', gen: (g) => ['ZINTERSTORE', g.typed('zset'), ...setOpArgs(g, 'inter', true)] },
    { name: 'zdiffstore', gen: (g) => ['ZDIFFSTORE', g.typed('zset'), ...setOpArgs(g, 'diff', true)] },
    {
      name: 'zintercard', gen: (g) => {
        const keys = g.typedKeys('zset', 1, 3);
        const numkeys = g.chance(0.9) ? String(keys.length) : g.pick(['0', '-1', 'x', String(keys.length + 1)]);
        const limit = g.chance(0.35) ? ['LIMIT', g.pick([g.int(0, 3), g.int(0, 3), '-1', 'x'])] : g.chance(0.03) ? ['WITHSCORES'] : [];
        return ['ZINTERCARD', numkeys, ...keys, ...limit];
      },
    },
    // SORT turns a zset into a skiplist in Redis: ZSCAN then follows its dict's order and prints scores with %.17Lg
    { name: 'zscan', gen: (g) => cmp(scanCompare(true, true))(['ZSCAN', g.typed('zset'), ...scanArgs(g)]) },
  ],
};

/**
 * BITFIELD subcommands: GET/SET/INCRBY over signed and unsigned widths (and
 * invalid ones), plain and #-scaled offsets, OVERFLOW modes between them.
 * Offsets stay small: one near 2^32 bits would make Redis allocate 512 MB.
 */
function bitfieldOps(g: Gen, writes: boolean): Arg[] {
  const type = () => (g.chance(0.9) ? `${g.pick(['i', 'u'])}${g.pick(['1', '4', '8', '8', '16', '32', '63', '64'])}` : g.pick(['i0', 'u64', 'i65', 'x8', 'I8', '']));
  const offset = () => (g.chance(0.8) ? g.int(0, 80) : g.pick(['#0', '#1', '#3', '-1', 'x', '#-1', '4294967296']));
  const num = () => (g.chance(0.7) ? g.int(-300, 300) : g.pick(INT_EDGES));
  const out: Arg[] = [];
  for (let i = g.rng.int(0, 3); i >= 0; i--) {
    const r = g.rng.next();
    if (!writes || r < 0.35) out.push(g.pick(['GET', 'get']), type(), offset());
    else if (r < 0.6) out.push('SET', type(), offset(), num());
    else if (r < 0.85) out.push('INCRBY', type(), offset(), num());
    else out.push('OVERFLOW', g.pick(['WRAP', 'SAT', 'FAIL', 'fail', 'BAD']));
  }
  return out;
}

export const BITMAPS: Family = {
  name: 'bitmaps',
  commands: [
    { name: 'setbit', gen: (g) => ['SETBIT', g.key(), g.pick([g.int(0, 100), '-1', 'x', '4294967296']), g.pick(['0', '1', '1', '2'])] },
    { name: 'getbit', gen: (g) => ['GETBIT', g.key(), g.chance(0.9) ? g.int(0, 120) : g.pick(['4294967295', '4294967296', '-1', 'x', ''])] },
    { name: 'bitfield', weight: 2, gen: (g) => ['BITFIELD', g.key(), ...bitfieldOps(g, true)] },
    { name: 'bitfield_ro', gen: (g) => ['BITFIELD_RO', g.key(), ...bitfieldOps(g, g.chance(0.05))] },
    { name: 'bitcount', gen: (g) => ['BITCOUNT', g.key(), ...g.pick([[], [g.int(-5, 5), g.int(-5, 5)], [g.int(-5, 5), g.int(-5, 5), g.pick(['BYTE', 'BIT'])], [g.pick(INT_EDGES), g.pick(INT_EDGES), g.pick(['BYTE', 'BIT', 'bit'])]])] },
    { name: 'bitpos', gen: (g) => ['BITPOS', g.key(), g.pick(['0', '1']), ...g.pick([[], [g.int(-3, 3)], [g.int(-3, 3), g.int(-3, 3), g.pick(['BYTE', 'BIT'])], [g.pick(INT_EDGES), g.pick(INT_EDGES), g.pick(['BYTE', 'BIT'])]])] },
    { name: 'bitop', gen: (g) => ['BITOP', g.pick(['AND', 'OR', 'XOR', 'NOT']), g.key(), ...g.keys(1, 2)] },
  ],
};

/**
 * SORT's BY/GET patterns name per-element keys: `w_<element>` strings and
 * `h_<element>` hashes (fields f, g), written by rows of this family only.
 * Weights are mostly numbers, sometimes not (conversion errors); all are
 * printable ASCII so ALPHA comparisons are byte comparisons in Redis too.
 */
const SORT_WEIGHTS = ['1', '2', '-3', '10', '2.5', '0', '-0.5', '1e2', '-inf', 'inf', ' 4', '', '007', '3', '1', 'abc', '3 ', 'nan', 'B', 'a'];
const weightKey = (g: Gen, kind: 'w_' | 'h_', elem: Buffer): Buffer => Buffer.concat([Buffer.from(g.prefix + kind, 'latin1'), elem]);

function sortPatterns(g: Gen): { by: string[]; get: string[] } {
  const p = g.prefix;
  return {
    by: [`${p}w_*`, `${p}w_*`, `${p}h_*->f`, `${p}h_*->g`, `${p}zz*`, `${p}w_*->`],
    get: ['#', `${p}w_*`, `${p}h_*->f`, `${p}h_*->g`, `${p}zz*`, 'const', `${p}w_*->`, `${p}h_*->`],
  };
}

function sortGen(g: Gen, ro: boolean): Step[] {
  const pat = sortPatterns(g);
  const r = g.rng.next();
  const byMode = r < 0.4 ? 'none' : r < 0.75 ? 'key' : 'nosort';
  const alpha = g.chance(0.4);
  const limited = g.chance(0.3);
  const gets = Array.from({ length: g.pick([0, 0, 1, 1, 2, 3]) }, () => g.pick(pat.get));
  const opts: Arg[][] = [];
  if (alpha) opts.push([g.pick(['ALPHA', 'alpha'])]);
  if (g.chance(0.4)) opts.push([g.pick(['ASC', 'DESC', 'DESC', 'desc'])]);
  if (limited) opts.push(['LIMIT', indexArg(g, -1, 3), g.pick([g.int(-1, 4), g.int(0, 3), 'x', '-5'])]);
  let byPattern: string | undefined;
  if (byMode === 'key') byPattern = g.pick(pat.by);
  else if (byMode === 'nosort') byPattern = g.pick(['nosort', 'NOSORT', 'const']);
  if (byPattern !== undefined) opts.push(['BY', byPattern]);
  let store = !ro && g.chance(0.25);
  let compare: Comparator = exact;
  if (byMode === 'key' && alpha) {
    // equal BY values come out in any order: add the element and its BY value to compare by runs
    gets.push('#', byPattern!);
    store = false;
    compare = sortTies(gets.length, limited);
  } else if (byMode === 'nosort' && !store) {
    // a set's own order is its internal one
    compare = limited ? sameLength : unorderedChunks(Math.max(gets.length, 1));
  }
  if (store || (ro && g.chance(0.03))) opts.push(['STORE', g.typed('list')]);
  // (no junk BY or GET: they would change what the comparators above expect)
  if (g.chance(0.02)) opts.push([g.pick(['FOO', 'LIMIT'])]);
  const mixed = shuffled(g, opts);
  mixed.splice(g.rng.int(0, mixed.length), 0, gets.flatMap((p) => ['GET', p]));
  const args: Arg[] = [ro ? 'SORT_RO' : 'SORT', g.typed(g.pick(['list', 'list', 'set', 'zset'] as const)), ...mixed.flat()];
  // an option missing its arguments at the end: a syntax error
  if (g.chance(0.02)) args.push(...g.pick([['BY'], ['GET'], ['STORE'], ['LIMIT'], ['LIMIT', '1']]));
  // a one-step group, never mangled: a truncated SORT can be one whose order Redis leaves open
  return [{ args, compare }];
}

export const SORTING: Family = {
  name: 'sort',
  commands: [
    { name: 'sort', weight: 4, gen: (g) => sortGen(g, false) },
    { name: 'sort_ro', weight: 2, gen: (g) => sortGen(g, true) },
    { name: 'sort', weight: 0.1, gen: (g) => [{ args: [g.pick(['SORT', 'SORT_RO'])] }] },
    // the keys the patterns name
    {
      name: 'mset', weight: 2, gen: (g) =>
        ['MSET', ...Array.from({ length: g.rng.int(1, 4) }, () => [weightKey(g, 'w_', g.member()), g.pick(SORT_WEIGHTS)]).flat()],
    },
    {
      name: 'hset', gen: (g) =>
        ['HSET', weightKey(g, 'h_', g.member()), ...Array.from({ length: g.rng.int(1, 2) }, () => [g.pick(['f', 'g']), g.pick(SORT_WEIGHTS)]).flat()],
    },
    { name: 'del', weight: 0.3, gen: (g) => ['DEL', weightKey(g, g.pick(['w_', 'h_'] as const), g.member())] },
    { name: 'rpush', weight: 0.2, gen: (g) => ['RPUSH', weightKey(g, g.pick(['w_', 'h_'] as const), g.member()), 'x'] },
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

// --- geo ----------------------------------------------------------------------------

/** A longitude: mostly valid (a few fixed points, so searches find something), sometimes out of range or not a number. */
function geoLon(g: Gen): string {
  const r = g.rng.next();
  if (r < 0.5) return g.pick(['13.361389', '15.087269', '-73.9454966', '-73.9733487', '0', '179.99', '-180', '180']);
  if (r < 0.9) return (g.rng.next() * 360 - 180).toFixed(g.rng.int(0, 7));
  // (not '1e400': an overflowing strtod leaves errno = ERANGE for Redis's next SORT)
  return g.pick(['180.1', '-181', 'abc', '', 'inf', '1e39']);
}
function geoLat(g: Gen): string {
  const r = g.rng.next();
  if (r < 0.5) return g.pick(['38.115556', '37.502669', '40.747533', '40.7648057', '0', '85.05', '-85.05112878', '85.05112878']);
  if (r < 0.9) return (g.rng.next() * 170 - 85).toFixed(g.rng.int(0, 7));
  return g.pick(['85.06', '-90', 'x', '-inf']);
}
const geoUnit = (g: Gen): string => g.pick(['m', 'km', 'ft', 'mi', 'KM', 'Mi', 'yd']);
const geoDistance = (g: Gen): string => g.pick(['0', '1', '50', '200', '1000', '5000', '20000', '-1', 'x', '0.5']);
function geoOptions(g: Gen, store: boolean): Arg[] {
  const out: Arg[] = [];
  for (let i = g.rng.int(0, 3); i > 0; i--) {
    const o = g.pick(['WITHDIST', 'WITHCOORD', 'WITHHASH', 'ASC', 'DESC', 'COUNT', 'COUNT', 'ANY', 'withdist', 'asc']);
    if (o === 'COUNT') out.push(o, g.pick(['1', '2', '3', '10', '0', '-1', 'x']));
    else out.push(o);
  }
  // STORE only: STOREDIST's distances differ from Redis's in the last bits (docs/compatibility.md, GEO)
  if (store && g.chance(0.5)) out.push('STORE', g.typed('zset'));
  return out;
}

export const GEO: Family = {
  name: 'geo',
  commands: [
    {
      name: 'geoadd', weight: 4, gen: (g) => {
        const flags = g.chance(0.2) ? [g.pick(['NX', 'XX', 'CH', 'nx'])] : [];
        const points = Array.from({ length: g.rng.int(1, 3) }, () => [geoLon(g), geoLat(g), g.member()]).flat();
        if (g.chance(0.03)) points.pop();
        return ['GEOADD', g.typed('zset'), ...flags, ...points];
      },
    },
    { name: 'geopos', weight: 2, gen: (g) => ['GEOPOS', g.typed('zset'), ...members(g, 0, 3)] },
    { name: 'geohash', gen: (g) => ['GEOHASH', g.typed('zset'), ...members(g, 0, 3)] },
    {
      name: 'geodist', weight: 2, gen: (g) => ['GEODIST', g.typed('zset'), g.member(), g.member(), ...(g.chance(0.6) ? [geoUnit(g)] : []), ...(g.chance(0.03) ? ['x'] : [])],
    },
    {
      name: 'georadius', weight: 2, gen: (g) => ['GEORADIUS', g.typed('zset'), geoLon(g), geoLat(g), geoDistance(g), geoUnit(g), ...geoOptions(g, true)],
    },
    { name: 'georadius_ro', gen: (g) => ['GEORADIUS_RO', g.typed('zset'), geoLon(g), geoLat(g), geoDistance(g), geoUnit(g), ...geoOptions(g, g.chance(0.1))] },
    {
      name: 'georadiusbymember', weight: 2, gen: (g) => ['GEORADIUSBYMEMBER', g.typed('zset'), g.member(), geoDistance(g), geoUnit(g), ...geoOptions(g, true)],
    },
    {
      name: 'geosearch', weight: 3, gen: (g) => {
        const from = g.chance(0.5) ? ['FROMMEMBER', g.member()] : ['FROMLONLAT', geoLon(g), geoLat(g)];
        const by = g.chance(0.5) ? ['BYRADIUS', geoDistance(g), geoUnit(g)] : ['BYBOX', geoDistance(g), geoDistance(g), geoUnit(g)];
        const parts = g.chance(0.05) ? [from] : g.chance(0.05) ? [by] : [from, by];
        if (g.chance(0.5)) parts.reverse();
        return ['GEOSEARCH', g.typed('zset'), ...parts.flat(), ...geoOptions(g, false)];
      },
    },
    {
      name: 'geosearchstore', gen: (g) => {
        const from = g.chance(0.5) ? ['FROMMEMBER', g.member()] : ['FROMLONLAT', geoLon(g), geoLat(g)];
        const by = g.chance(0.5) ? ['BYRADIUS', geoDistance(g), geoUnit(g)] : ['BYBOX', geoDistance(g), geoDistance(g), geoUnit(g)];
        const opts = g.chance(0.1) ? ['WITHDIST'] : []; // not STOREDIST: see geoOptions
        return ['GEOSEARCHSTORE', g.typed('zset'), g.typed('zset'), ...from, ...by, ...opts, ...(g.chance(0.3) ? ['COUNT', g.pick(['1', '2', '5'])] : [])];
      },
    },
    { name: 'zrange', gen: (g) => ['ZRANGE', g.typed('zset'), '0', '-1', 'WITHSCORES'] },
    { name: 'zadd', gen: (g) => ['ZADD', g.typed('zset'), zscoreArg(g), g.member()] },
  ],
};

// --- hyperloglog --------------------------------------------------------------------

/** Mostly one of three HyperLogLog keys of this family, otherwise any key (strings that are no HLL, other types). */
function hllKey(g: Gen): Buffer {
  return g.chance(0.25) ? g.key() : Buffer.from(`${g.prefix}P${g.rng.int(1, 3)}`, 'latin1');
}
/** Elements: a few, sometimes hundreds (sparse values grow, split, merge and turn dense), binary and empty ones too. */
function hllElements(g: Gen): Arg[] {
  const r = g.rng.next();
  const n = r < 0.1 ? 0 : r < 0.8 ? g.rng.int(1, 6) : r < 0.95 ? g.rng.int(20, 200) : g.rng.int(800, 2500);
  return Array.from({ length: n }, () => (g.chance(0.9) ? String(g.rng.int(0, 50_000)) : g.value()));
}

export const HYPERLOGLOG: Family = {
  name: 'hyperloglog',
  commands: [
    { name: 'pfadd', weight: 5, gen: (g) => ['PFADD', hllKey(g), ...hllElements(g)] },
    { name: 'pfcount', weight: 3, gen: (g) => ['PFCOUNT', hllKey(g), ...(g.chance(0.3) ? [hllKey(g), ...(g.chance(0.3) ? [hllKey(g)] : [])] : [])] },
    { name: 'pfmerge', weight: 2, gen: (g) => ['PFMERGE', hllKey(g), ...Array.from({ length: g.rng.int(0, 3) }, () => hllKey(g))] },
    {
      name: 'pfdebug', gen: (g) =>
        ['PFDEBUG', g.pick(['ENCODING', 'encoding', 'DECODE', 'TODENSE', 'todense', 'GETREG', 'nosuch']), hllKey(g)],
    },
    // the value itself: the bytes (sparse opcodes, dense registers, the cached cardinality) must be Redis's
    { name: 'get', weight: 3, gen: (g) => ['GET', hllKey(g)] },
    { name: 'strlen', gen: (g) => ['STRLEN', hllKey(g)] },
    // corruption: a byte overwritten or appended (Redis detects it or not; Talus must do the same)
    {
      name: 'setrange', gen: (g) =>
        g.chance(0.3) ? ['APPEND', hllKey(g), g.pick(['x', '\x80', 'hello'])] : ['SETRANGE', hllKey(g), String(g.rng.int(0, 40)), Buffer.from([g.rng.int(0, 255)])],
    },
  ],
};


// --- streams --------------------------------------------------------------------------

/**
 * Streams with explicit IDs only (`*` takes the clock), so replies are
 * deterministic; approximate trimming (~) included, as Talus follows
 * Redis's node boundaries. Not generated: XINFO STREAM (radix-tree-nodes is
 * Redis's rax layout), idle times (XPENDING extended, XINFO CONSUMERS) and
 * BLOCK.
 */
function streamId(g: Gen): string {
  const r = g.rng.next();
  const ms = g.int(0, 12);
  if (r < 0.55) return `${ms}-${g.int(0, 3)}`;
  if (r < 0.7) return ms;
  if (r < 0.8) return `${ms}-*`;
  return g.pick(['0-0', '-', '+', 'x', '1-x', '18446744073709551615-18446744073709551615', '18446744073709551615', '1-1-1', '01-1', '']);
}
/** A range bound: an ID, `-`/`+`, or exclusive `(id`. */
function streamBound(g: Gen): string {
  const r = g.rng.next();
  if (r < 0.3) return g.pick(['-', '+']);
  if (r < 0.5) return `(${g.int(0, 12)}-${g.int(0, 3)}`;
  return g.chance(0.8) ? `${g.int(0, 12)}-${g.int(0, 3)}` : streamId(g);
}
const streamFields = (g: Gen): Buffer[] => {
  const n = g.chance(0.05) ? 0 : g.rng.int(1, 2);
  const out = Array.from({ length: n * 2 }, () => g.member());
  if (g.chance(0.03)) out.pop();
  return out;
};
function trimSpec(g: Gen): string[] {
  const how = g.pick(['', '=', '~']);
  const strategy = g.chance(0.7) ? ['MAXLEN', ...(how ? [how] : []), g.pick(['0', '1', '2', '3', '5', '-1', 'x'])] : ['MINID', ...(how ? [how] : []), streamBound(g)];
  if (g.chance(0.15)) strategy.push('LIMIT', g.pick(['0', '1', '10', '-1']));
  return strategy;
}
const groupName = (g: Gen): string => g.pick(['g1', 'g2', 'g1', 'nogroup']);
const consumerName = (g: Gen): string => g.pick(['c1', 'c2', 'c3']);

export const STREAMS: Family = {
  name: 'streams',
  commands: [
    {
      name: 'xadd', weight: 6, gen: (g) => {
        const opts: string[] = [];
        if (g.chance(0.1)) opts.push('NOMKSTREAM');
        if (g.chance(0.3)) opts.push(...trimSpec(g));
        const id = g.chance(0.8) ? `${g.int(1, 12)}-${g.int(0, 3)}` : streamId(g);
        return ['XADD', g.typed('stream'), ...opts, id, ...streamFields(g)];
      },
    },
    { name: 'xlen', gen: (g) => ['XLEN', g.typed('stream')] },
    {
      name: 'xrange', weight: 2, gen: (g) => ['XRANGE', g.typed('stream'), streamBound(g), streamBound(g), ...(g.chance(0.3) ? ['COUNT', g.pick(['0', '1', '2', '-1', 'x'])] : [])],
    },
    {
      name: 'xrevrange', gen: (g) => ['XREVRANGE', g.typed('stream'), streamBound(g), streamBound(g), ...(g.chance(0.3) ? ['COUNT', g.pick(['0', '1', '2', '-1'])] : [])],
    },
    { name: 'xdel', gen: (g) => ['XDEL', g.typed('stream'), ...Array.from({ length: g.rng.int(1, 3) }, () => streamBound(g))] },
    { name: 'xtrim', gen: (g) => ['XTRIM', g.typed('stream'), ...(g.chance(0.95) ? trimSpec(g) : [])] },
    {
      name: 'xread', weight: 2, gen: (g) => {
        const keys = g.typedKeys('stream', 1, 2);
        const ids = keys.map(() => (g.chance(0.2) ? '$' : g.chance(0.1) ? '>' : `${g.int(0, 12)}-${g.int(0, 3)}`));
        const count = g.chance(0.3) ? ['COUNT', g.pick(['1', '2', '0', '-1'])] : [];
        if (g.chance(0.03)) ids.pop();
        return ['XREAD', ...count, 'STREAMS', ...keys, ...ids];
      },
    },
    {
      name: 'xsetid', gen: (g) => {
        const opts: string[] = [];
        if (g.chance(0.3)) opts.push('ENTRIESADDED', g.pick(['0', '5', '100', '-1']));
        if (g.chance(0.3)) opts.push('MAXDELETEDID', streamBound(g));
        return ['XSETID', g.typed('stream'), g.chance(0.8) ? `${g.int(0, 20)}-${g.int(0, 3)}` : streamId(g), ...opts];
      },
    },
    {
      name: 'xgroup', weight: 2, gen: (g) => {
        const key = g.typed('stream');
        const sub = g.pick(['CREATE', 'CREATE', 'SETID', 'DESTROY', 'CREATECONSUMER', 'DELCONSUMER']);
        const id = g.chance(0.3) ? '$' : `${g.int(0, 12)}-${g.int(0, 3)}`;
        if (sub === 'CREATE') return ['XGROUP', sub, key, groupName(g), id, ...(g.chance(0.3) ? ['MKSTREAM'] : []), ...(g.chance(0.2) ? ['ENTRIESREAD', g.pick(['0', '3', '-1', '-2'])] : [])];
        if (sub === 'SETID') return ['XGROUP', sub, key, groupName(g), id, ...(g.chance(0.2) ? ['ENTRIESREAD', g.pick(['0', '3', '-1'])] : [])];
        if (sub === 'DESTROY') return ['XGROUP', sub, key, groupName(g)];
        return ['XGROUP', sub, key, groupName(g), consumerName(g)];
      },
    },
    {
      name: 'xreadgroup', weight: 3, gen: (g) => {
        const keys = g.typedKeys('stream', 1, 2);
        const ids = keys.map(() => (g.chance(0.7) ? '>' : g.pick(['0', '0-0', '3-1', '$'])));
        const opts = [...(g.chance(0.3) ? ['COUNT', g.pick(['1', '2', '0'])] : []), ...(g.chance(0.15) ? ['NOACK'] : [])];
        return ['XREADGROUP', 'GROUP', groupName(g), consumerName(g), ...shuffled(g, opts), 'STREAMS', ...keys, ...ids];
      },
    },
    {
      name: 'xack', weight: 2, gen: (g) => ['XACK', g.typed('stream'), groupName(g), ...Array.from({ length: g.rng.int(1, 3) }, () => (g.chance(0.9) ? `${g.int(1, 12)}-${g.int(0, 3)}` : streamId(g)))],
    },
    {
      name: 'xpending', gen: (g) => ['XPENDING', g.typed('stream'), groupName(g), ...(g.chance(0.05) ? ['-', '+'] : [])],
    },
    {
      name: 'xclaim', gen: (g) => {
        const ids = Array.from({ length: g.rng.int(1, 2) }, () => `${g.int(1, 12)}-${g.int(0, 3)}`);
        const opts = shuffled(g, [...(g.chance(0.5) ? ['JUSTID'] : []), ...(g.chance(0.2) ? ['FORCE'] : []), ...(g.chance(0.2) ? ['RETRYCOUNT', g.pick(['0', '5'])] : []),
          ...(g.chance(0.1) ? ['LASTID', `${g.int(1, 12)}-0`] : []), ...(g.chance(0.03) ? ['BOGUS'] : [])]);
        return ['XCLAIM', g.typed('stream'), groupName(g), consumerName(g), g.pick(['0', '0', '-5', 'x']), ...ids, ...opts];
      },
    },
    {
      name: 'xautoclaim', gen: (g) => ['XAUTOCLAIM', g.typed('stream'), groupName(g), consumerName(g), '0', streamBound(g),
        ...(g.chance(0.3) ? ['COUNT', g.pick(['1', '2', '0', '-1'])] : []), ...(g.chance(0.3) ? ['JUSTID'] : [])],
    },
    { name: 'xinfo', gen: (g) => ['XINFO', 'GROUPS', g.typed('stream')] },
    { name: 'type', gen: (g) => ['TYPE', g.typed('stream')] },
    { name: 'del', weight: 0.2, gen: (g) => ['DEL', g.typed('stream')] },
  ],
};


// --- scripting ------------------------------------------------------------------------

/**
 * A few fixed Lua scripts over the generated keys: replies converted both
 * ways (integers, floats cut to integers, booleans, nested tables, status and
 * error tables), errors raised inside scripts (with the script's SHA and
 * line in the message), redis.call vs redis.pcall, and numkeys edge cases.
 */
const SCRIPTS = [
  "return redis.call('GET', KEYS[1])",
  "return redis.call('INCRBY', KEYS[1], ARGV[1])",
  "return {1, 2.9, -3.5, 'x', false, true, {3, {4}}, ARGV[1]}",
  "return redis.pcall('LPUSH', KEYS[1], ARGV[1])",
  "return {err='my error'}",
  "return redis.status_reply('FINE')",
  "return redis.error_reply('bad thing')",
  'return tonumber(ARGV[1])',
  "redis.call('SET', KEYS[1], ARGV[1]); return redis.call('TYPE', KEYS[1])",
  // (a hash's own order is Redis's dict order once it is not a listpack: sorted here)
  "local t = redis.call('HGETALL', KEYS[1]); table.sort(t); return t",
  "return redis.call('ZRANGE', KEYS[1], 0, -1, 'WITHSCORES')",
  "return redis.call('LRANGE', KEYS[1], 0, -1)",
  "return redis.call('nosuchcommand')",
  "return redis.call('GET')",
  'return nosuchglobal',
  "local t = redis.call('TYPE', KEYS[1]); return t.ok",
  "return {1, nil, 3}",
  "return redis.call('EXISTS', KEYS[1], KEYS[2])",
  'return #KEYS + #ARGV * 100',
  "return redis.sha1hex(ARGV[1])",
  "return redis.call('LPUSH', KEYS[1], 'x')",
  'return 1e20',
  "return {tonumber('inf'), tonumber('-inf'), 0/0 ~= 0/0, 2^53 + 1}",
  "return cjson.encode({a = {1, 2, 'x'}, b = false})",
  "return cjson.decode(ARGV[1] or 'null')",
  "return cmsgpack.unpack(cmsgpack.pack({1, 'two', {3}}))",
  'return bit.band(0xff, 0x0f) + bit.lshift(1, 4)',
  "return struct.pack('>I2', 258)",
  "redis.setresp(3); local r = redis.call('HGETALL', KEYS[1]); local ks = {}; for k in pairs(r.map) do ks[#ks + 1] = k end; table.sort(ks); return ks",
  "redis.setresp(3); return {double = 3.5}",
  "return redis.call('SET', KEYS[1], ARGV[1], 'GET')",
  "return string.format('%.3f %d %s', 1/3, 42, type(redis.call('GET', KEYS[1])))",
  'error({err = "custom"})',
  'error("plain")',
  "return redis.pcall('INCR', KEYS[1])",
  "return table.concat(redis.call('KEYS', KEYS[1]), ',')",
];

export const SCRIPTING: Family = {
  name: 'scripting',
  commands: [
    {
      name: 'eval', weight: 3, gen: (g) => {
        const keys = g.keys(1, 2);
        const r = g.rng.next();
        const numkeys = r < 0.9 ? String(keys.length) : g.pick(['0', '-1', 'x', '5']);
        return ['EVAL', g.pick(SCRIPTS), numkeys, ...keys, ...Array.from({ length: g.rng.int(0, 2) }, () => g.value())];
      },
    },
    { name: 'evalsha', weight: 0.3, gen: (g) => ['EVALSHA', g.pick(['ffffffffffffffffffffffffffffffffffffffff', 'x']), '0'] },
  ],
};

export const ALL_FAMILIES: Family[] = [STRINGS, KEYS, CONNECTION, LISTS, HASHES, SETS, ZSETS, GEO, BITMAPS, HYPERLOGLOG, STREAMS, SORTING, TRANSACTIONS, SCRIPTING];

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
  /** the same steps as sent (with their comparators), for reduction (test/support/diff-reduce.ts) */
  steps: Step[];
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
  /** fewer keys (1-8 general names, up to 3 per collection kind); default from DIFF_KEYS, else all 8 */
  keySpace?: number;
  /** commands sent per write, their replies compared in order (default 1: one at a time) */
  pipeline?: number;
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

/**
 * Commands with subcommands. Redis finds a subcommand in a hash table keyed
 * by its whole name but compares names as C strings: "DESTROY\0" matches only
 * when its hash lands in DESTROY's bucket, which depends on the hash seed each
 * redis-server start picks at random. Their subcommand names are not mangled.
 */
const CONTAINERS = new Set(['ACL', 'CLIENT', 'CLUSTER', 'COMMAND', 'CONFIG', 'FUNCTION', 'LATENCY', 'MEMORY', 'MODULE', 'OBJECT', 'PUBSUB', 'SCRIPT', 'SLOWLOG', 'XGROUP', 'XINFO']);

/**
 * Arity/syntax mutations: drop trailing arguments, append a junk one,
 * extend an option keyword past a NUL byte (Redis compares options as C
 * strings, so "NX\0junk" is NX), or swap an integer argument for an edge.
 */
function mangle(g: Gen, args: Arg[]): Arg[] {
  const container = CONTAINERS.has(Buffer.from(args[0]!).toString('latin1').toUpperCase());
  const keywords = args.map((a, i) => [a, i] as const).filter(([a, i]) => i > (container ? 1 : 0) && /^[A-Za-z]{2,}$/.test(Buffer.from(a).toString('latin1')));
  if (keywords.length > 0 && g.chance(0.25)) {
    const [a, i] = g.pick(keywords);
    const out = [...args];
    out[i] = Buffer.concat([Buffer.from(a), Buffer.from(g.pick(['\x00junk', '\x00', '\x00\x00x']), 'latin1')]);
    return out;
  }
  // (not SCAN cursors: where a cursor other than 0 lands depends on Redis's hash seed; nor on the lex
  // keys, whose members must keep equal scores)
  const scan = /SCAN$/i.test(Buffer.from(args[0]!).toString('latin1'));
  const lex = args.some((a) => Buffer.from(a).toString('latin1').startsWith(`${g.prefix}lex`));
  const numbers = scan || lex ? [] : args.map((a, i) => [a, i] as const).filter(([a, i]) => i > 1 && /^-?\d+$/.test(Buffer.from(a).toString('latin1')));
  if (numbers.length > 0 && g.chance(0.3)) {
    const [, i] = g.pick(numbers);
    const out = [...args];
    out[i] = g.pick(NUMBER_MUTANTS);
    return out;
  }
  if (args.length > 1 && g.chance(0.6)) return args.slice(0, g.rng.int(1, args.length - 1));
  return [...args, g.pick(['junk', '0', '-1', ''])];
}

/**
 * What an integer argument is replaced with: int64 edges and just past them,
 * 2^32 (bit offsets), -0 and the empty string. Not -(2^63 - 1): Redis takes
 * it as a count for SRANDMEMBER/HRANDFIELD/ZRANDMEMBER and tries to reply
 * that many elements; nothing just under a size limit (SETRANGE/SETBIT
 * would make Redis allocate 512 MB); and nothing of 2^64 or more (a stream ID
 * or a SCAN cursor that overflows strtoull leaves errno = ERANGE, see above).
 */
const NUMBER_MUTANTS = ['9223372036854775807', '-9223372036854775808', '9223372036854775808', '4294967296', '-0', '', '-1'];

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
  const keySpace = opts.keySpace ?? (process.env.DIFF_KEYS ? Number(process.env.DIFF_KEYS) : undefined);
  for (const seed of opts.seeds) {
    const rng = new Rng(seed);
    const g = new Gen(rng, `${tag}${seed}:`, keySpace);
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
    const sent: Step[] = [];
    try {
      if (protocol === 3) {
        // HELLO replies name the server: not compared
        await ref.call(['HELLO', '3']);
        await sub.call(['HELLO', '3']);
        repro.push('HELLO 3');
      }
      const pending: Step[] = [];
      const depth = opts.pipeline ?? 1;
      for (let i = 0; i < opts.steps; ) {
        const batch: Step[] = [];
        while (batch.length < depth && i + batch.length < opts.steps) {
          if (pending.length === 0) pending.push(...generate(g, choose(rng), mangleP));
          batch.push(pending.shift()!);
        }
        const args = batch.map((s) => s.args);
        const [as, bs] = await Promise.all([ref.pipeline(args), sub.pipeline(args)]);
        for (let j = 0; j < batch.length; j++, i++) {
          const step = batch[j]!;
          const a = as[j]!;
          const b = bs[j]!;
          result.commandsSent++;
          sent.push(step);
          const line = showCommand(step.args);
          repro.push(depth > 1 && j === 0 ? `${line}    # pipeline of ${batch.length} starts here` : line);
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
              steps: sent,
            };
            return result;
          }
          history.push(`${line}  ->  ${show(a, 120)}${a.equals(b) ? '' : `  (talus: ${show(b, 120)})`}`);
        }
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
