import type { CommandDef } from './table.js';
import { Errors } from './errors.js';
import { ErrorReply, type Reply } from '../protocol/reply.js';
import { int64Arg, keyword } from './args.js';
import { changed } from './keyaccess.js';
import type { CommandContext } from '../execution/context.js';
import { parseInteger, INT64_MAX } from '../util/numbers.js';
import { EMPTY_STRING, entryForWrite, stringForRead, stringForWrite, storeString } from './strings.js';
import { keepByteAfter } from '../util/hyperloglog.js';

/**
 * The bitmap family (Redis 7.0 bitops.c semantics) over string values: SETBIT,
 * GETBIT, BITCOUNT, BITPOS, BITOP, BITFIELD, BITFIELD_RO. Bits are numbered
 * from the most significant bit of the first byte. Stored values are never
 * changed in place: writes build a new Buffer. Effects: SETBIT itself or
 * `SETRANGE key offset bytes` for the bytes a BITFIELD changed (both
 * idempotent and independent of the value's size), `SET`/`DEL` for BITOP.
 */

const bitOffsetError = () => new ErrorReply('ERR bit offset is not an integer or out of range');
const bitValueError = () => new ErrorReply('ERR bit is not an integer or out of range');
const bitfieldTypeError = () =>
  new ErrorReply('ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.');

/**
 * A bit offset argument: a non-negative integer whose byte fits
 * proto-max-bulk-len. With `bits` (BITFIELD), "#n" means n * bits.
 */
function bitOffsetArg(c: CommandContext, arg: Buffer, bits = 0): number {
  const hash = bits > 0 && arg[0] === 0x23; /* # */
  const n = parseInteger(hash ? arg.subarray(1) : arg);
  if (n === null) throw bitOffsetError();
  // C multiplies in int64: keep its wrap-around for absurd "#n" values.
  const off = hash ? BigInt.asIntN(64, n * BigInt(bits)) : n;
  if (off < 0n || off >> 3n >= BigInt(c.config.values.protoMaxBulkLen)) throw bitOffsetError();
  return Number(off);
}

/** The bit at `offset` (0 past the end). */
function bitAt(v: Buffer, offset: number): number {
  const byte = Math.floor(offset / 8);
  return byte < v.length ? (v[byte]! >> (7 - (offset % 8))) & 1 : 0;
}

// --- SETBIT / GETBIT -----------------------------------------------------------

function setbit(c: CommandContext, args: Buffer[]): Reply {
  const key = args[1]!;
  const offset = bitOffsetArg(c, args[2]!);
  const on = parseInteger(args[3]!);
  if (on === null || (on !== 0n && on !== 1n)) throw bitValueError();
  const e = stringForWrite(c, key);
  const old = (e?.value as Buffer | undefined) ?? EMPTY_STRING;
  const byte = Math.floor(offset / 8);
  const cur = bitAt(old, offset);
  const bit = on === 1n ? 1 : 0;
  // Unchanged (same bit, same length, key existed): nothing to write.
  if (e !== undefined && byte < old.length && cur === bit) return cur;
  const v = Buffer.allocUnsafeSlow(Math.max(old.length, byte + 1));
  old.copy(v, 0);
  if (v.length > old.length) v.fill(0, old.length);
  keepByteAfter(old, v);
  const mask = 1 << (7 - (offset % 8));
  v[byte] = bit ? v[byte]! | mask : v[byte]! & ~mask;
  storeString(c, e, key, v, e?.expireAt ?? 0);
  changed(c, key, 'setbit', ['SETBIT', key, String(offset), bit ? '1' : '0']);
  return cur;
}

function getbit(c: CommandContext, args: Buffer[]): Reply {
  const offset = bitOffsetArg(c, args[2]!);
  const e = stringForRead(c, args[1]!);
  return e === undefined ? 0 : bitAt(e.value as Buffer, offset);
}

// --- BITCOUNT / BITPOS -----------------------------------------------------------

const POPCOUNT = new Uint8Array(256);
for (let i = 1; i < 256; i++) POPCOUNT[i] = (i & 1) + POPCOUNT[i >> 1]!;

/** Set bits in v[from, to) (bytes). */
function popcount(v: Buffer, from: number, to: number): number {
  let n = 0;
  let i = from;
  // whole 32-bit words through a DataView-free path: read 4 bytes at a time
  for (; i + 4 <= to; i += 4) {
    let x = v.readUInt32LE(i);
    x -= (x >>> 1) & 0x55555555;
    x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
    n += (Math.imul((x + (x >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24);
  }
  for (; i < to; i++) n += POPCOUNT[v[i]!]!;
  return n;
}

/** BIT or BYTE, else a syntax error. */
function unitIsBit(arg: Buffer): boolean {
  const u = keyword(arg);
  if (u === 'BIT') return true;
  if (u === 'BYTE') return false;
  throw Errors.syntax();
}

/** Clamp a Redis start/end pair against a length, like GETRANGE. */
function clampRange(start: bigint, end: bigint, total: bigint): [bigint, bigint] {
  if (start < 0n) start += total;
  if (end < 0n) end += total;
  if (start < 0n) start = 0n;
  if (end < 0n) end = 0n;
  if (end >= total) end = total - 1n;
  return [start, end];
}

function bitcount(c: CommandContext, args: Buffer[]): Reply {
  // Redis 7.0 looks the key up before it parses the range.
  const e = stringForRead(c, args[1]!);
  if (e === undefined) return 0;
  const v = e.value as Buffer;
  if (args.length === 2) return popcount(v, 0, v.length);
  if (args.length !== 4 && args.length !== 5) throw Errors.syntax();
  const start0 = int64Arg(args[2]!);
  const end0 = int64Arg(args[3]!);
  // an empty negative range answers 0 before the unit is even read, as in Redis 7.0
  if (start0 < 0n && end0 < 0n && start0 > end0) return 0;
  const isBit = args.length === 5 ? unitIsBit(args[4]!) : false;
  const total = BigInt(v.length) * (isBit ? 8n : 1n);
  const [start, end] = clampRange(start0, end0, total);
  if (start > end) return 0;
  if (!isBit) return popcount(v, Number(start), Number(end) + 1);
  const s = Number(start);
  const t = Number(end);
  const firstByte = Math.floor(s / 8);
  const lastByte = Math.floor(t / 8);
  let n = popcount(v, firstByte, lastByte + 1);
  // drop the bits of the edge bytes outside [s, t]
  n -= POPCOUNT[v[firstByte]! & (0xff << (8 - (s % 8))) & 0xff]!;
  n -= POPCOUNT[v[lastByte]! & ((1 << (7 - (t % 8))) - 1)]!;
  return n;
}

/** First bit equal to `bit` in bit positions [from, to], or -1. */
function findBit(v: Buffer, bit: number, from: number, to: number): number {
  const skip = bit ? 0x00 : 0xff;
  let pos = from;
  // unaligned head
  while (pos <= to && pos % 8 !== 0) {
    if (bitAt(v, pos) === bit) return pos;
    pos++;
  }
  // whole bytes
  let byte = pos / 8;
  const lastWhole = Math.floor((to + 1) / 8); // exclusive
  while (byte < lastWhole && v[byte] === skip) byte++;
  pos = byte * 8;
  for (; pos <= to; pos++) if (bitAt(v, pos) === bit) return pos;
  return -1;
}

function bitpos(c: CommandContext, args: Buffer[]): Reply {
  const b = parseInteger(args[2]!);
  if (b === null) throw Errors.notInteger();
  if (b !== 0n && b !== 1n) return new ErrorReply('ERR The bit argument must be 1 or 0.');
  const bit = Number(b);
  const e = stringForRead(c, args[1]!);
  // A missing key is an endless run of zero bits.
  if (e === undefined) return bit ? -1 : 0;
  const v = e.value as Buffer;
  const len = BigInt(v.length);
  let start: bigint;
  let end: bigint;
  let isBit = false;
  let endGiven = false;
  if (args.length === 3) {
    start = 0n;
    end = len - 1n;
  } else if (args.length <= 6) {
    start = int64Arg(args[3]!);
    if (args.length === 6) isBit = unitIsBit(args[5]!);
    if (args.length >= 5) {
      end = int64Arg(args[4]!);
      endGiven = true;
    } else {
      end = isBit ? len * 8n + 7n : len - 1n;
    }
    [start, end] = clampRange(start, end, isBit ? len * 8n : len);
  } else {
    throw Errors.syntax();
  }
  if (start > end) return -1;
  const from = isBit ? Number(start) : Number(start) * 8;
  const to = isBit ? Number(end) : Number(end) * 8 + 7;
  const pos = findBit(v, bit, from, to);
  if (pos !== -1) return pos;
  // Looking for a clear bit without an explicit end: the string is taken
  // as padded with zeros on the right, so the answer is the first bit past it.
  return bit === 0 && !endGiven ? to + 1 : -1;
}

// --- BITOP -----------------------------------------------------------------------

function bitop(c: CommandContext, args: Buffer[]): Reply {
  const op = keyword(args[1]!);
  if (op !== 'AND' && op !== 'OR' && op !== 'XOR' && op !== 'NOT') throw Errors.syntax();
  if (op === 'NOT' && args.length !== 4) return new ErrorReply('ERR BITOP NOT must be called with a single source key.');
  const dest = args[2]!;
  const srcs: Buffer[] = [];
  let maxLen = 0;
  for (let i = 3; i < args.length; i++) {
    const e = stringForRead(c, args[i]!);
    const v = (e?.value as Buffer | undefined) ?? EMPTY_STRING;
    srcs.push(v);
    if (v.length > maxLen) maxLen = v.length;
  }
  const target = entryForWrite(c, dest);
  if (maxLen === 0) {
    if (target !== undefined) {
      c.keyspace.remove(c.session.db, target);
      changed(c, dest, 'del', ['DEL', dest]);
    }
    return 0;
  }
  const out = Buffer.allocUnsafeSlow(maxLen);
  const first = srcs[0]!;
  if (op === 'NOT') {
    for (let j = 0; j < maxLen; j++) out[j] = ~first[j]! & 0xff;
  } else {
    out.fill(0);
    first.copy(out, 0);
    for (let i = 1; i < srcs.length; i++) {
      const s = srcs[i]!;
      const n = s.length;
      if (op === 'AND') {
        for (let j = 0; j < n; j++) out[j]! &= s[j]!;
        out.fill(0, n); // bytes past a shorter source are ANDed with zero
      } else if (op === 'OR') {
        for (let j = 0; j < n; j++) out[j]! |= s[j]!;
      } else {
        for (let j = 0; j < n; j++) out[j]! ^= s[j]!;
      }
    }
  }
  // Like SET: the destination loses any TTL and any other type.
  storeString(c, target, dest, out, 0);
  changed(c, dest, 'set', ['SET', dest, out]);
  return maxLen;
}

// --- BITFIELD ----------------------------------------------------------------------

type Overflow = 'WRAP' | 'SAT' | 'FAIL';

interface FieldOp {
  op: 'GET' | 'SET' | 'INCRBY';
  signed: boolean;
  bits: number;
  offset: number;
  value: bigint;
  overflow: Overflow;
}

/** i1..i64 or u1..u63 (lower-case prefix, strict integer). */
function fieldType(arg: Buffer): { signed: boolean; bits: number } {
  const p = arg[0];
  if (p !== 0x69 /* i */ && p !== 0x75 /* u */) throw bitfieldTypeError();
  const signed = p === 0x69;
  const n = parseInteger(arg.subarray(1));
  if (n === null || n < 1n || n > (signed ? 64n : 63n)) throw bitfieldTypeError();
  return { signed, bits: Number(n) };
}

/** `bits` bits from bit `offset`, most significant first, as an unsigned value. */
function readField(v: Buffer, offset: number, bits: number): bigint {
  let r = 0n;
  for (let i = 0; i < bits; i++) r = (r << 1n) | BigInt(bitAt(v, offset + i));
  return r;
}

/** Write the low `bits` bits of `value` at bit `offset` (v is long enough). */
function writeField(v: Buffer, offset: number, bits: number, value: bigint): void {
  for (let i = 0; i < bits; i++) {
    const pos = offset + i;
    const byte = Math.floor(pos / 8);
    const mask = 1 << (7 - (pos % 8));
    if ((value >> BigInt(bits - 1 - i)) & 1n) v[byte] = v[byte]! | mask;
    else v[byte] = v[byte]! & ~mask;
  }
}

/**
 * Redis's overflow rules for value + incr in a field, including its int64
 * arithmetic (so SET i8 of a huge negative number saturates like Redis).
 * Returns [overflowed, wrapped-or-saturated value].
 */
function fieldOverflow(signed: boolean, bits: number, value: bigint, incr: bigint, how: Overflow): [boolean, bigint] {
  const B = BigInt(bits);
  const wrap = () => (signed ? BigInt.asIntN(bits, value + incr) : BigInt.asUintN(bits, value + incr));
  if (!signed) {
    const max = (1n << B) - 1n;
    const maxIncr = BigInt.asIntN(64, max - value);
    const minIncr = BigInt.asIntN(64, -value);
    if (value > max || (incr > 0n && incr > maxIncr)) return [true, how === 'SAT' ? max : wrap()];
    if (incr < 0n && incr < minIncr) return [true, how === 'SAT' ? 0n : wrap()];
    return [false, value + incr];
  }
  const max = bits === 64 ? INT64_MAX : (1n << (B - 1n)) - 1n;
  const min = -max - 1n;
  const maxIncr = BigInt.asIntN(64, max - value);
  const minIncr = BigInt.asIntN(64, min - value);
  if (value > max || (bits !== 64 && incr > maxIncr) || (value >= 0n && incr > 0n && incr > maxIncr)) {
    return [true, how === 'SAT' ? max : wrap()];
  }
  if (value < min || (bits !== 64 && incr < minIncr) || (value < 0n && incr < 0n && incr < minIncr)) {
    return [true, how === 'SAT' ? min : wrap()];
  }
  return [false, value + incr];
}

function bitfieldGeneric(c: CommandContext, args: Buffer[], readonlyCommand: boolean): Reply {
  const key = args[1]!;
  const ops: FieldOp[] = [];
  let overflow: Overflow = 'WRAP';
  let writes = false;
  let highest = 0;
  let lowest = Infinity;
  for (let j = 2; j < args.length; j++) {
    const rem = args.length - j - 1;
    const sub = keyword(args[j]!);
    let op: FieldOp['op'];
    if (sub === 'GET' && rem >= 2) op = 'GET';
    else if (sub === 'SET' && rem >= 3) op = 'SET';
    else if (sub === 'INCRBY' && rem >= 3) op = 'INCRBY';
    else if (sub === 'OVERFLOW' && rem >= 1) {
      const how = keyword(args[++j]!);
      if (how !== 'WRAP' && how !== 'SAT' && how !== 'FAIL') return new ErrorReply('ERR Invalid OVERFLOW type specified');
      overflow = how;
      continue;
    } else throw Errors.syntax();
    const { signed, bits } = fieldType(args[j + 1]!);
    const offset = bitOffsetArg(c, args[j + 2]!, bits);
    let value = 0n;
    if (op !== 'GET') {
      writes = true;
      highest = Math.max(highest, offset + bits - 1);
      lowest = Math.min(lowest, offset);
      value = int64Arg(args[j + 3]!);
    }
    ops.push({ op, signed, bits, offset, value, overflow });
    j += op === 'GET' ? 2 : 3;
  }

  if (!writes) {
    const e = stringForRead(c, key);
    const v = (e?.value as Buffer | undefined) ?? EMPTY_STRING;
    return ops.map((o) => {
      const u = readField(v, o.offset, o.bits);
      return o.signed ? BigInt.asIntN(o.bits, u) : u;
    });
  }
  if (readonlyCommand) return new ErrorReply('ERR BITFIELD_RO only supports the GET subcommand');

  // Like Redis, the string is created or grown to the farthest bit written
  // first, even if every write then fails an OVERFLOW FAIL check.
  const e = stringForWrite(c, key);
  const old = (e?.value as Buffer | undefined) ?? EMPTY_STRING;
  const v = Buffer.allocUnsafeSlow(Math.max(old.length, Math.floor(highest / 8) + 1));
  old.copy(v, 0);
  if (v.length > old.length) v.fill(0, old.length);
  keepByteAfter(old, v);
  const replies: Reply[] = [];
  for (const o of ops) {
    const raw = readField(v, o.offset, o.bits);
    const cur = o.signed ? BigInt.asIntN(o.bits, raw) : raw;
    if (o.op === 'GET') {
      replies.push(cur);
      continue;
    }
    let next: bigint;
    let overflowed: boolean;
    if (o.op === 'INCRBY') {
      [overflowed, next] = fieldOverflow(o.signed, o.bits, cur, o.value, o.overflow);
    } else {
      // SET checks the new value alone; unsigned fields see it as a uint64
      const val = o.signed ? o.value : BigInt.asUintN(64, o.value);
      [overflowed, next] = fieldOverflow(o.signed, o.bits, val, 0n, o.overflow);
    }
    if (overflowed && o.overflow === 'FAIL') {
      replies.push(null);
      continue;
    }
    writeField(v, o.offset, o.bits, BigInt.asUintN(o.bits, next));
    replies.push(o.op === 'INCRBY' ? next : cur);
  }

  // The effect: the bytes that differ now, as one SETRANGE (growth included).
  let lo = Math.floor(lowest / 8);
  let hi = v.length > old.length ? v.length - 1 : Math.floor(highest / 8);
  while (lo <= hi && lo < old.length && v[lo] === old[lo]) lo++;
  if (v.length === old.length) while (hi >= lo && v[hi] === old[hi]) hi--;
  if (lo > hi) {
    if (e !== undefined) return replies; // nothing changed
    lo = hi = v.length - 1; // a new all-zero string
  }
  storeString(c, e, key, v, e?.expireAt ?? 0);
  changed(c, key, 'setbit', ['SETRANGE', key, String(lo), v.subarray(lo, hi + 1)]);
  return replies;
}

// --- the table -----------------------------------------------------------------------

const one = { first: 1, last: 1, step: 1 };

export const bitmapCommands: CommandDef[] = [
  {
    name: 'setbit', arity: 4, flags: ['write', 'denyoom'], keys: one, group: 'bitmap',
    summary: 'Sets or clears the bit at offset in the string value stored at key', since: '2.2.0', complexity: 'O(1)',
    handler: setbit,
  },
  {
    name: 'getbit', arity: 3, flags: ['readonly', 'fast'], keys: one, group: 'bitmap',
    summary: 'Returns the bit value at offset in the string value stored at key', since: '2.2.0', complexity: 'O(1)',
    handler: getbit,
  },
  {
    name: 'bitcount', arity: -2, flags: ['readonly'], keys: one, group: 'bitmap',
    summary: 'Count set bits in a string', since: '2.6.0', complexity: 'O(N)', handler: bitcount,
  },
  {
    name: 'bitpos', arity: -3, flags: ['readonly'], keys: one, group: 'bitmap',
    summary: 'Find first bit set or clear in a string', since: '2.8.7', complexity: 'O(N)', handler: bitpos,
  },
  {
    name: 'bitop', arity: -4, flags: ['write', 'denyoom'], keys: { first: 2, last: -1, step: 1 }, group: 'bitmap',
    summary: 'Perform bitwise operations between strings', since: '2.6.0', complexity: 'O(N)', handler: bitop,
  },
  {
    name: 'bitfield', arity: -2, flags: ['write', 'denyoom'], keys: one, group: 'bitmap',
    summary: 'Perform arbitrary bitfield integer operations on strings', since: '3.2.0',
    complexity: 'O(1) for each subcommand specified', handler: (c, args) => bitfieldGeneric(c, args, false),
  },
  {
    name: 'bitfield_ro', arity: -2, flags: ['readonly', 'fast'], keys: one, group: 'bitmap',
    summary: 'Perform arbitrary bitfield integer operations on strings. Read-only variant of BITFIELD', since: '6.0.0',
    complexity: 'O(1) for each subcommand specified', handler: (c, args) => bitfieldGeneric(c, args, true),
  },
];
