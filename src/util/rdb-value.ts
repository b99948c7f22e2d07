/**
 * One value in Redis's RDB serialization, as DUMP and RESTORE carry it:
 * the type byte, the value, then the 2-byte RDB version (little-endian) and
 * the CRC-64 of everything before it (little-endian).
 *
 * Reading accepts what redis-server 7.0 writes and the older encodings it
 * still reads: strings (raw, integer-encoded, LZF-compressed), lists (plain,
 * quicklist of ziplists, quicklist 2 of listpacks and plain nodes, ziplist),
 * sets (plain, intset), hashes (plain, ziplist, listpack), sorted sets
 * (binary and text scores, ziplist, listpack). Streams are rdb-stream.ts's
 * (with this file's reader and listpack builder); anything else (modules,
 * zipmaps) or any malformed byte is `BadFormat`. Strings are
 * views into the payload (the caller copies what it keeps); duplicate
 * members are the caller's to detect as it builds the value.
 *
 * Writing uses the plain per-type encodings (string, list, set, hash, sorted
 * set with binary scores), integer-encoded short strings and no compression:
 * every redis-server since 2.x reads them and re-encodes them its own way.
 */
import { crc64 } from './crc64.js';

export const RDB_VERSION = 10;

/** Redis's stream value types (RDB_TYPE_STREAM_LISTPACKS and, since 7.0, _2): read and written by rdb-stream.ts. */
export const T_STREAM_LISTPACKS = 15;
export const T_STREAM_LISTPACKS_2 = 19;

const T_STRING = 0;
const T_LIST = 1;
const T_SET = 2;
const T_ZSET = 3;
const T_HASH = 4;
const T_ZSET_2 = 5;
const T_LIST_ZIPLIST = 10;
const T_SET_INTSET = 11;
const T_ZSET_ZIPLIST = 12;
const T_HASH_ZIPLIST = 13;
const T_LIST_QUICKLIST = 14;
const T_HASH_LISTPACK = 16;
const T_ZSET_LISTPACK = 17;
const T_LIST_QUICKLIST_2 = 18;

export class BadFormat extends Error {}

export type RdbValue =
  | { type: 'string'; value: Buffer }
  | { type: 'list'; items: Buffer[] }
  | { type: 'set'; members: Buffer[] }
  | { type: 'hash'; pairs: Array<[Buffer, Buffer]> }
  | { type: 'zset'; pairs: Array<[Buffer, number]> };

// --- the footer ------------------------------------------------------------------

/** Whether a payload's version and CRC are acceptable (Redis's verifyDumpPayload). */
export function verifyPayload(p: Buffer): boolean {
  if (p.length < 10) return false;
  const version = p[p.length - 10]! | (p[p.length - 9]! << 8);
  if (version > RDB_VERSION) return false;
  return crc64(p.subarray(0, p.length - 8)) === p.readBigUInt64LE(p.length - 8);
}

// --- reading -----------------------------------------------------------------------

export function bad(): never {
  throw new BadFormat('bad data format');
}

export class Reader {
  pos = 0;
  constructor(readonly b: Buffer) {}

  byte(): number {
    if (this.pos >= this.b.length) bad();
    return this.b[this.pos++]!;
  }

  bytes(n: number): Buffer {
    if (n < 0 || this.pos + n > this.b.length) bad();
    const out = this.b.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  /** A length, or an encoded-string marker: [value, encoded]. */
  lengthOrEncoding(): [number, boolean] {
    const first = this.byte();
    const kind = first >> 6;
    if (kind === 0) return [first & 0x3f, false];
    if (kind === 1) return [((first & 0x3f) << 8) | this.byte(), false];
    if (kind === 3) return [first & 0x3f, true];
    if (first === 0x80) return [this.bytes(4).readUInt32BE(0), false];
    if (first === 0x81) {
      const n = this.bytes(8).readBigUInt64BE(0);
      if (n > BigInt(Number.MAX_SAFE_INTEGER)) bad();
      return [Number(n), false];
    }
    return bad();
  }

  /** A length read as the full uint64 RDB can carry (stream IDs and counters). */
  u64(): bigint {
    const first = this.byte();
    if (first === 0x81) return this.bytes(8).readBigUInt64BE(0);
    this.pos--;
    return BigInt(this.length());
  }

  length(): number {
    const [n, enc] = this.lengthOrEncoding();
    if (enc) bad();
    return n;
  }

  string(): Buffer {
    const [n, enc] = this.lengthOrEncoding();
    if (!enc) return this.bytes(n);
    switch (n) {
      case 0: return Buffer.from(String(this.bytes(1).readInt8(0)));
      case 1: return Buffer.from(String(this.bytes(2).readInt16LE(0)));
      case 2: return Buffer.from(String(this.bytes(4).readInt32LE(0)));
      case 3: {
        const clen = this.length();
        const len = this.length();
        return lzfDecompress(this.bytes(clen), len);
      }
      default: return bad();
    }
  }

  binaryDouble(): number {
    return this.bytes(8).readDoubleLE(0);
  }

  /** A time in unix ms (Redis's rdbLoadMillisecondTime: int64, little-endian). */
  millis(): number {
    return Number(this.bytes(8).readBigInt64LE(0));
  }

  /** RDB_TYPE_ZSET's scores: a length byte, then the text (253 nan, 254 +inf, 255 -inf). */
  textDouble(): number {
    const n = this.byte();
    if (n === 253) return NaN;
    if (n === 254) return Infinity;
    if (n === 255) return -Infinity;
    return parseScore(this.bytes(n));
  }
}

function parseScore(b: Buffer): number {
  const s = b.toString('latin1');
  const l = s.toLowerCase();
  if (l === 'inf' || l === '+inf' || l === 'infinity') return Infinity;
  if (l === '-inf' || l === '-infinity') return -Infinity;
  const v = Number(s);
  if (s.trim() === '' || Number.isNaN(v)) bad();
  return v;
}

/** LZF (liblzf's format): literal runs and back references. */
export function lzfDecompress(input: Buffer, outLen: number): Buffer {
  const out = Buffer.allocUnsafe(outLen);
  let ip = 0;
  let op = 0;
  while (ip < input.length) {
    const ctrl = input[ip++]!;
    if (ctrl < 32) {
      const run = ctrl + 1;
      if (op + run > outLen || ip + run > input.length) bad();
      input.copy(out, op, ip, ip + run);
      ip += run;
      op += run;
    } else {
      let len = ctrl >> 5;
      if (len === 7) {
        if (ip >= input.length) bad();
        len += input[ip++]!;
      }
      if (ip >= input.length) bad();
      const ref = op - ((ctrl & 0x1f) << 8) - input[ip++]! - 1;
      len += 2;
      if (ref < 0 || op + len > outLen) bad();
      for (let i = 0; i < len; i++) out[op++] = out[ref + i]!;
    }
  }
  if (op !== outLen) bad();
  return out;
}

/** The elements of a listpack (integers as their decimal text). */
export function listpackEntries(lp: Buffer): Buffer[] {
  if (lp.length < 7 || lp.readUInt32LE(0) !== lp.length || lp[lp.length - 1] !== 0xff) bad();
  const out: Buffer[] = [];
  let p = 6;
  const end = lp.length - 1;
  while (p < end) {
    const e = lp[p]!;
    let entryLen: number;
    if ((e & 0x80) === 0) {
      out.push(Buffer.from(String(e & 0x7f)));
      entryLen = 1;
    } else if ((e & 0xc0) === 0x80) {
      const n = e & 0x3f;
      out.push(slice(lp, p + 1, n, end));
      entryLen = 1 + n;
    } else if ((e & 0xe0) === 0xc0) {
      if (p + 1 >= end) bad();
      let v = ((e & 0x1f) << 8) | lp[p + 1]!;
      if (v >= 1 << 12) v -= 1 << 13;
      out.push(Buffer.from(String(v)));
      entryLen = 2;
    } else if ((e & 0xf0) === 0xe0) {
      if (p + 1 >= end) bad();
      const n = ((e & 0x0f) << 8) | lp[p + 1]!;
      out.push(slice(lp, p + 2, n, end));
      entryLen = 2 + n;
    } else if (e === 0xf0) {
      const n = slice(lp, p + 1, 4, end).readUInt32LE(0);
      out.push(slice(lp, p + 5, n, end));
      entryLen = 5 + n;
    } else if (e === 0xf1) {
      out.push(Buffer.from(String(slice(lp, p + 1, 2, end).readInt16LE(0))));
      entryLen = 3;
    } else if (e === 0xf2) {
      out.push(Buffer.from(String(slice(lp, p + 1, 3, end).readIntLE(0, 3))));
      entryLen = 4;
    } else if (e === 0xf3) {
      out.push(Buffer.from(String(slice(lp, p + 1, 4, end).readInt32LE(0))));
      entryLen = 5;
    } else if (e === 0xf4) {
      out.push(Buffer.from(String(slice(lp, p + 1, 8, end).readBigInt64LE(0))));
      entryLen = 9;
    } else {
      return bad();
    }
    p += entryLen + backlenSize(entryLen);
  }
  if (p !== end) bad();
  const count = lp.readUInt16LE(4);
  if (count !== 65535 && count !== out.length) bad();
  return out;
}

/** Bytes of a listpack entry's back-length (its encoded length in 7-bit groups), as listpack.c sizes it. */
function backlenSize(entryLen: number): number {
  return entryLen <= 127 ? 1 : entryLen < 16383 ? 2 : entryLen < 2097151 ? 3 : entryLen < 268435455 ? 4 : 5;
}

/**
 * Builds a listpack as Redis's listpack.c lays one out: a string that is the
 * canonical text of an int64 is stored as the smallest integer encoding,
 * other strings with a 6-bit, 12-bit or 32-bit length; each entry is
 * followed by its back-length. `size` is the exact byte count so far, so a
 * caller can split nodes on the same bytes Redis does.
 */
export class ListpackBuilder {
  private parts: Buffer[] = [];
  private count = 0;
  /** the listpack's bytes if it were finished now (header, entries, terminator) */
  size = 7;

  /** Bytes `s` would take as one entry. */
  static stringSize(s: Buffer): number {
    const v = listpackInt(s);
    if (v !== undefined) return ListpackBuilder.intSize(v);
    const enc = s.length < 64 ? 1 : s.length < 4096 ? 2 : 5;
    return enc + s.length + backlenSize(enc + s.length);
  }

  static intSize(v: bigint | number): number {
    const n = intEncodingSize(v);
    return n + backlenSize(n);
  }

  string(s: Buffer): void {
    const v = listpackInt(s);
    if (v !== undefined) return this.int(v);
    let head: Buffer;
    if (s.length < 64) head = Buffer.from([0x80 | s.length]);
    else if (s.length < 4096) head = Buffer.from([0xe0 | (s.length >> 8), s.length & 0xff]);
    else {
      head = Buffer.alloc(5);
      head[0] = 0xf0;
      head.writeUInt32LE(s.length, 1);
    }
    this.push(head, s);
  }

  int(v: bigint): void {
    const n = intEncodingSize(v);
    const b = Buffer.alloc(n);
    if (n === 1) b[0] = Number(v);
    else if (n === 2) {
      const u = Number(v < 0n ? v + 8192n : v);
      b[0] = 0xc0 | (u >> 8);
      b[1] = u & 0xff;
    } else {
      b[0] = n === 3 ? 0xf1 : n === 4 ? 0xf2 : n === 5 ? 0xf3 : 0xf4;
      if (n === 9) b.writeBigInt64LE(v, 1);
      else b.writeIntLE(Number(v), 1, n - 1);
    }
    this.push(b);
  }

  private push(head: Buffer, body?: Buffer): void {
    const len = head.length + (body?.length ?? 0);
    const back = Buffer.alloc(backlenSize(len));
    // the back-length reads right to left: the last byte holds the low 7 bits
    for (let i = back.length - 1, l = len; i >= 0; i--, l = Math.floor(l / 128)) back[i] = (l & 127) | (i === 0 ? 0 : 128);
    this.parts.push(head);
    if (body !== undefined && body.length > 0) this.parts.push(body);
    this.parts.push(back);
    this.size += len + back.length;
    this.count++;
  }

  finish(): Buffer {
    const head = Buffer.alloc(6);
    head.writeUInt32LE(this.size, 0);
    head.writeUInt16LE(Math.min(this.count, 65535), 4);
    return Buffer.concat([head, ...this.parts, Buffer.from([0xff])]);
  }
}

function intEncodingSize(v: bigint | number): number {
  if (v >= 0 && v <= 127) return 1;
  if (v >= -4096 && v <= 4095) return 2;
  if (v >= -32768 && v <= 32767) return 3;
  if (v >= -8388608 && v <= 8388607) return 4;
  if (v >= -2147483648 && v <= 2147483647) return 5;
  return 9;
}

const INT64_MIN = -(1n << 63n);
const INT64_MAX = (1n << 63n) - 1n;

/** The int64 a listpack stores `s` as (its canonical decimal text), else undefined. */
function listpackInt(s: Buffer): bigint | undefined {
  if (s.length === 0 || s.length > 20) return undefined;
  // most strings are not numbers: no text to make for them
  const c = s[0]!;
  if (c !== 45 && (c < 48 || c > 57)) return undefined;
  const t = s.toString('latin1');
  if (!/^(0|-?[1-9][0-9]*)$/.test(t)) return undefined;
  const v = BigInt(t);
  return v >= INT64_MIN && v <= INT64_MAX ? v : undefined;
}

function slice(b: Buffer, at: number, n: number, end: number): Buffer {
  if (at + n > end) bad();
  return b.subarray(at, at + n);
}

/** The elements of a ziplist (Redis < 7 compact encoding). */
export function ziplistEntries(zl: Buffer): Buffer[] {
  if (zl.length < 11 || zl.readUInt32LE(0) !== zl.length || zl[zl.length - 1] !== 0xff) bad();
  const out: Buffer[] = [];
  let p = 10;
  const end = zl.length - 1;
  while (p < end) {
    p += zl[p] === 0xfe ? 5 : 1; // previous entry length
    if (p >= end) bad();
    const e = zl[p]!;
    const kind = e >> 6;
    if (kind === 0) {
      const n = e & 0x3f;
      out.push(slice(zl, p + 1, n, end));
      p += 1 + n;
    } else if (kind === 1) {
      if (p + 1 >= end) bad();
      const n = ((e & 0x3f) << 8) | zl[p + 1]!;
      out.push(slice(zl, p + 2, n, end));
      p += 2 + n;
    } else if (e === 0x80) {
      const n = slice(zl, p + 1, 4, end).readUInt32BE(0);
      out.push(slice(zl, p + 5, n, end));
      p += 5 + n;
    } else if (e === 0xc0) {
      out.push(Buffer.from(String(slice(zl, p + 1, 2, end).readInt16LE(0))));
      p += 3;
    } else if (e === 0xd0) {
      out.push(Buffer.from(String(slice(zl, p + 1, 4, end).readInt32LE(0))));
      p += 5;
    } else if (e === 0xe0) {
      out.push(Buffer.from(String(slice(zl, p + 1, 8, end).readBigInt64LE(0))));
      p += 9;
    } else if (e === 0xf0) {
      out.push(Buffer.from(String(slice(zl, p + 1, 3, end).readIntLE(0, 3))));
      p += 4;
    } else if (e === 0xfe) {
      out.push(Buffer.from(String(slice(zl, p + 1, 1, end).readInt8(0))));
      p += 2;
    } else if (e >= 0xf1 && e <= 0xfd) {
      out.push(Buffer.from(String((e & 0x0f) - 1)));
      p += 1;
    } else {
      return bad();
    }
  }
  if (p !== end) bad();
  return out;
}

function intsetEntries(is: Buffer): Buffer[] {
  if (is.length < 8) bad();
  const width = is.readUInt32LE(0);
  const n = is.readUInt32LE(4);
  if ((width !== 2 && width !== 4 && width !== 8) || is.length !== 8 + width * n) bad();
  const out: Buffer[] = [];
  for (let i = 0; i < n; i++) {
    const at = 8 + i * width;
    const v = width === 2 ? is.readInt16LE(at) : width === 4 ? is.readInt32LE(at) : is.readBigInt64LE(at);
    out.push(Buffer.from(String(v)));
  }
  return out;
}

function pairs<T>(items: Buffer[], second: (b: Buffer) => T): Array<[Buffer, T]> {
  if (items.length % 2 !== 0) bad();
  const out: Array<[Buffer, T]> = [];
  for (let i = 0; i < items.length; i += 2) out.push([items[i]!, second(items[i + 1]!)]);
  return out;
}

function nonEmpty<T>(xs: T[]): T[] {
  if (xs.length === 0) bad();
  return xs;
}

/** The value in a verified payload (footer excluded); BadFormat when it is not one Talus can hold. */
export function decodePayload(payload: Buffer): RdbValue {
  const r = new Reader(payload.subarray(0, payload.length - 10));
  const type = r.byte();
  switch (type) {
    case T_STRING:
      return { type: 'string', value: r.string() };
    case T_LIST: {
      const n = r.length();
      const items: Buffer[] = [];
      for (let i = 0; i < n; i++) items.push(r.string());
      return { type: 'list', items: nonEmpty(items) };
    }
    case T_LIST_ZIPLIST:
      return { type: 'list', items: nonEmpty(ziplistEntries(r.string())) };
    case T_LIST_QUICKLIST:
    case T_LIST_QUICKLIST_2: {
      const nodes = r.length();
      const items: Buffer[] = [];
      for (let i = 0; i < nodes; i++) {
        let container = 2; // packed
        if (type === T_LIST_QUICKLIST_2) container = r.length();
        const blob = r.string();
        if (container === 1) items.push(blob); // a plain node: one element
        else if (container === 2) {
          const entries = type === T_LIST_QUICKLIST_2 ? listpackEntries(blob) : ziplistEntries(blob);
          if (entries.length === 0) bad();
          for (const x of entries) items.push(x);
        } else bad();
      }
      return { type: 'list', items: nonEmpty(items) };
    }
    case T_SET: {
      const n = r.length();
      const members: Buffer[] = [];
      for (let i = 0; i < n; i++) members.push(r.string());
      return { type: 'set', members: nonEmpty(members) };
    }
    case T_SET_INTSET: {
      const members = intsetEntries(r.string());
      return { type: 'set', members: nonEmpty(members) };
    }
    case T_HASH: {
      const n = r.length();
      const ps: Array<[Buffer, Buffer]> = [];
      for (let i = 0; i < n; i++) ps.push([r.string(), r.string()]);
      return { type: 'hash', pairs: nonEmpty(ps) };
    }
    case T_HASH_ZIPLIST:
    case T_HASH_LISTPACK: {
      const blob = r.string();
      const ps = pairs(type === T_HASH_LISTPACK ? listpackEntries(blob) : ziplistEntries(blob), (b) => b);
      return { type: 'hash', pairs: nonEmpty(ps) };
    }
    case T_ZSET:
    case T_ZSET_2: {
      const n = r.length();
      const ps: Array<[Buffer, number]> = [];
      for (let i = 0; i < n; i++) {
        const m = r.string();
        const s = type === T_ZSET_2 ? r.binaryDouble() : r.textDouble();
        if (Number.isNaN(s)) bad();
        ps.push([m, s]);
      }
      return { type: 'zset', pairs: nonEmpty(ps) };
    }
    case T_ZSET_ZIPLIST:
    case T_ZSET_LISTPACK: {
      const blob = r.string();
      const ps = pairs(type === T_ZSET_LISTPACK ? listpackEntries(blob) : ziplistEntries(blob), parseScore);
      return { type: 'zset', pairs: nonEmpty(ps) };
    }
    default:
      return bad();
  }
}

// --- writing -------------------------------------------------------------------------

/** Collects a payload in chunks (no copy of big members until the end). */
export class PayloadWriter {
  private chunks: Buffer[] = [];
  private small: number[] = [];

  private flushSmall(): void {
    if (this.small.length > 0) {
      this.chunks.push(Buffer.from(this.small));
      this.small = [];
    }
  }

  byte(b: number): void {
    this.small.push(b);
    if (this.small.length >= 4096) this.flushSmall();
  }

  length(n: number): void {
    if (n < 64) this.byte(n);
    else if (n < 16384) {
      this.byte(0x40 | (n >> 8));
      this.byte(n & 0xff);
    } else if (n <= 0xffffffff) {
      this.byte(0x80);
      this.byte((n >>> 24) & 0xff);
      this.byte((n >>> 16) & 0xff);
      this.byte((n >>> 8) & 0xff);
      this.byte(n & 0xff);
    } else {
      this.byte(0x81);
      const b = Buffer.alloc(8);
      b.writeBigUInt64BE(BigInt(n));
      for (const x of b) this.byte(x);
    }
  }

  /** A uint64 length (stream IDs and counters); a negative counter is written as its two's complement, as Redis does. */
  u64(n: bigint): void {
    const u = BigInt.asUintN(64, n);
    if (u <= 0xffffffffn) return this.length(Number(u));
    this.byte(0x81);
    const b = Buffer.alloc(8);
    b.writeBigUInt64BE(u);
    for (const x of b) this.byte(x);
  }

  raw(b: Buffer): void {
    if (b.length < 64) {
      for (const x of b) this.byte(x);
      return;
    }
    this.flushSmall();
    this.chunks.push(b);
  }

  /** A string: integer-encoded when it is the canonical text of a 32-bit integer (as Redis), raw otherwise. */
  string(s: Buffer): void {
    if (s.length <= 11 && s.length > 0) {
      const v = canonicalInt(s);
      if (v !== undefined) {
        if (v >= -128 && v <= 127) {
          this.byte(0xc0);
          this.byte(v & 0xff);
          return;
        }
        if (v >= -32768 && v <= 32767) {
          this.byte(0xc1);
          this.byte(v & 0xff);
          this.byte((v >> 8) & 0xff);
          return;
        }
        if (v >= -2147483648 && v <= 2147483647) {
          this.byte(0xc2);
          for (let i = 0; i < 4; i++) this.byte((v >> (8 * i)) & 0xff);
          return;
        }
      }
    }
    this.length(s.length);
    this.raw(s);
  }

  millis(ms: number): void {
    const b = Buffer.alloc(8);
    b.writeBigInt64LE(BigInt(Math.trunc(ms)));
    for (const x of b) this.byte(x);
  }

  binaryDouble(d: number): void {
    const b = Buffer.alloc(8);
    b.writeDoubleLE(d);
    for (const x of b) this.byte(x);
  }

  /** The payload with its footer: RDB version and CRC-64. */
  finish(): Buffer {
    this.byte(RDB_VERSION & 0xff);
    this.byte(RDB_VERSION >> 8);
    this.flushSmall();
    let total = 0;
    for (const c of this.chunks) total += c.length;
    const out = Buffer.allocUnsafeSlow(total + 8);
    let at = 0;
    for (const c of this.chunks) at += c.copy(out, at);
    this.chunks = [];
    out.writeBigUInt64LE(crc64(out.subarray(0, total)), total);
    return out;
  }
}

function canonicalInt(s: Buffer): number | undefined {
  const t = s.toString('latin1');
  if (!/^-?[1-9][0-9]*$|^0$/.test(t)) return undefined;
  const v = Number(t);
  return Number.isSafeInteger(v) && String(v) === t ? v : undefined;
}

export const WRITE_TYPES = { string: T_STRING, list: T_LIST, set: T_SET, hash: T_HASH, zset: T_ZSET_2, stream: T_STREAM_LISTPACKS_2 } as const;
