import type { CommandDef } from './table.js';
import { Errors } from './errors.js';
import { ErrorReply, MapReply, OK, type Reply } from '../protocol/reply.js';
import { int64Arg, keyword } from './args.js';
import { changed, lookup, lookupRead, own } from './keyaccess.js';
import type { KeyEvent } from '../keyspace/events.js';
import type { CommandContext } from '../execution/context.js';
import type { Entry } from '../keyspace/types.js';
import { INT64_MAX, INT64_MIN, MAX_EXPIRE_AT, parseInteger, parseSafeInt, safeIntegerBytes } from '../util/numbers.js';
import { LD_ZERO, addLongDouble, formatLongDoubleHuman, parseLongDouble } from '../util/long-double.js';
import { keyName } from '../keyspace/names.js';
import { stringValueSize } from '../keyspace/value-ops.js';
import { keepByteAfter } from '../util/hyperloglog.js';
// the module's binding, not the global `Buffer` (an accessor: a getter call per use)
import { Buffer } from 'node:buffer';

/**
 * The string family (Redis 7.0 t_string semantics).
 *
 * Stored values are private Buffers that are never mutated once stored (a
 * reply or the flusher may still reference them): every change builds a new
 * Buffer. Effects logged for the change log are idempotent: the resulting
 * value (`SET key value [PXAT abs]`), or for partial overwrites of possibly
 * large values the overwritten bytes (`SETRANGE key offset bytes`).
 */

// --- errors that only this family uses ---------------------------------------

const tooBig = () => new ErrorReply('ERR string exceeds maximum allowed size (proto-max-bulk-len)');
const decrOverflow = () => new ErrorReply('ERR decrement would overflow');
const nanOrInf = () => new ErrorReply('ERR increment would produce NaN or Infinity');

// --- expiry options ----------------------------------------------------------

type ExpiryUnit = 'EX' | 'PX' | 'EXAT' | 'PXAT';

/**
 * An absolute expiry from EX/PX/EXAT/PXAT `value`; throws "not an integer"
 * for a non-integer and Redis's "invalid expire time" for values <= 0 or
 * past what 64-bit ms can hold.
 */
export function expiryFrom(unit: ExpiryUnit, value: Buffer, cmd: string): number {
  const n = int64Arg(value);
  const seconds = unit === 'EX' || unit === 'EXAT';
  if (n <= 0n || (seconds && n > INT64_MAX / 1000n)) throw Errors.invalidExpire(cmd);
  let at = seconds ? n * 1000n : n;
  if (unit === 'EX' || unit === 'PX') at += BigInt(Date.now());
  if (at > INT64_MAX) throw Errors.invalidExpire(cmd);
  const ms = Number(at);
  return ms > MAX_EXPIRE_AT ? MAX_EXPIRE_AT : ms;
}

/** no options (read only; the same shape as parsed ones, so reads of either stay monomorphic) */
const NO_OPTIONS: Readonly<StringOptions> = { nx: false, xx: false, get: false, keepTtl: false, persist: false, unit: undefined, expire: undefined };

interface StringOptions {
  nx: boolean;
  xx: boolean;
  get: boolean;
  keepTtl: boolean;
  persist: boolean;
  unit: ExpiryUnit | undefined;
  expire: Buffer | undefined;
}

/**
 * SET's options (`forSet`) or GETEX's. Like Redis: NX/XX exclude each other,
 * one expiry unit at most (it may repeat, the last value wins), KEEPTTL and
 * PERSIST exclude any expiry; anything else is a syntax error.
 */
function parseStringOptions(args: Buffer[], from: number, forSet: boolean): StringOptions {
  if (from >= args.length) return NO_OPTIONS; // the common SET key value: no object per request
  const o: StringOptions = { nx: false, xx: false, get: false, keepTtl: false, persist: false, unit: undefined, expire: undefined };
  for (let i = from; i < args.length; i++) {
    const opt = keyword(args[i]!);
    if (forSet && opt === 'NX' && !o.xx) o.nx = true;
    else if (forSet && opt === 'XX' && !o.nx) o.xx = true;
    else if (forSet && opt === 'GET') o.get = true;
    else if (forSet && opt === 'KEEPTTL' && o.unit === undefined) o.keepTtl = true;
    else if (!forSet && opt === 'PERSIST' && o.unit === undefined) o.persist = true;
    else if (
      (opt === 'EX' || opt === 'PX' || opt === 'EXAT' || opt === 'PXAT') &&
      !o.keepTtl && !o.persist && (o.unit === undefined || o.unit === opt) && i + 1 < args.length
    ) {
      o.unit = opt;
      o.expire = args[++i]!;
    } else throw Errors.syntax();
  }
  return o;
}

// --- key access --------------------------------------------------------------

/** The live entry for a write (no hit/miss stats, as Redis's lookupKeyWrite). */
export function entryForWrite(c: CommandContext, key: Buffer): Entry | undefined {
  return c.keyspace.lookup(c.session.db, keyName(key));
}

/** The live string entry for a write; WRONGTYPE for other types. */
export function stringForWrite(c: CommandContext, key: Buffer): Entry | undefined {
  const e = entryForWrite(c, key);
  if (e !== undefined && e.type !== 'string') throw Errors.wrongType();
  return e;
}

/** The live string entry for a read (counts hits/misses); WRONGTYPE for other types. */
export function stringForRead(c: CommandContext, key: Buffer): Entry | undefined {
  const e = lookupRead(c, key);
  if (e !== undefined && e.type !== 'string') throw Errors.wrongType();
  return e;
}

/**
 * Store `value` (already a private Buffer) under `key`, whose live entry is
 * `e` (from a lookup in this command). An existing string keeps its
 * incarnation; another type is replaced. `expireAt`: unix ms, 0 = none.
 */
export function storeString(c: CommandContext, e: Entry | undefined, key: Buffer, value: Buffer, expireAt: number): Entry {
  const ks = c.keyspace;
  if (e !== undefined && e.type === 'string') {
    ks.replaceValue(e, value, stringValueSize(value));
    if (e.expireAt !== expireAt) ks.setExpire(c.session.db, e, expireAt);
    return e;
  }
  return ks.create(c.session.db, keyName(key), 'string', value, stringValueSize(value), expireAt);
}

/** Report a string write: its event, with the final value and absolute expiry as the effect. */
export function reportString(c: CommandContext, key: Buffer, event: KeyEvent, value: Buffer, expireAt: number): void {
  changed(c, key, event, expireAt ? ['SET', key, value, 'PXAT', expireAt] : ['SET', key, value]);
}

/** A private Buffer holding a latin1/ASCII string (never a pooled slice). */
function privateText(s: string): Buffer {
  const b = Buffer.allocUnsafeSlow(s.length);
  b.write(s, 0, 'latin1');
  return b;
}

/** Whether an absolute expiry is already due: then the key is deleted instead. */
function alreadyExpired(c: CommandContext, at: number): boolean {
  return at !== 0 && at <= Date.now() && !c.keyspace.replicaMode;
}

export const EMPTY_STRING = Buffer.alloc(0);

/** proto-max-bulk-len check for a string that would grow to `size` bytes. */
export function checkStringLength(c: CommandContext, size: bigint | number): void {
  if (BigInt(size) > BigInt(c.config.values.protoMaxBulkLen)) throw tooBig();
}

// --- SET and friends ---------------------------------------------------------

interface SetRequest {
  nx?: boolean;
  xx?: boolean;
  keepTtl?: boolean;
  /** reply with the old value (WRONGTYPE if the key holds another type) */
  get?: boolean;
  /** absolute unix ms; 0 = no expiry */
  at: number;
}

/**
 * Redis's setGenericCommand once the expiry is validated: returns whether the
 * value was written (NX/XX) and the old value when `get` is asked for.
 */
function setGeneric(c: CommandContext, key: Buffer, value: Buffer, req: SetRequest): { written: boolean; old: Buffer | null } {
  let old: Buffer | null = null;
  let e: Entry | undefined;
  if (req.get) {
    e = stringForRead(c, key);
    old = (e?.value as Buffer | undefined) ?? null;
  } else {
    e = entryForWrite(c, key);
  }
  const exists = e !== undefined;
  if ((req.nx && exists) || (req.xx && !exists)) return { written: false, old };
  if (alreadyExpired(c, req.at)) {
    // An absolute time already past: the key would be born expired.
    if (e !== undefined) {
      c.keyspace.remove(c.session.db, e);
      changed(c, key, 'del', ['DEL', key]);
    }
    return { written: true, old };
  }
  const expireAt = req.keepTtl ? (e?.expireAt ?? 0) : req.at;
  const stored = storeString(c, e, key, own(value), expireAt);
  reportString(c, key, 'set', stored.value as Buffer, expireAt);
  if (req.at) changed(c, key, 'expire');
  return { written: true, old };
}

function set(c: CommandContext, args: Buffer[]): Reply {
  const o = parseStringOptions(args, 3, true);
  const at = o.unit !== undefined ? expiryFrom(o.unit, o.expire!, 'set') : 0;
  const r = setGeneric(c, args[1]!, args[2]!, { nx: o.nx, xx: o.xx, keepTtl: o.keepTtl, get: o.get, at });
  if (o.get) return r.old;
  return r.written ? OK : null;
}

function setnx(c: CommandContext, args: Buffer[]): Reply {
  return setGeneric(c, args[1]!, args[2]!, { nx: true, at: 0 }).written ? 1 : 0;
}

function setex(unit: 'EX' | 'PX', cmd: string) {
  return (c: CommandContext, args: Buffer[]): Reply => {
    const at = expiryFrom(unit, args[2]!, cmd);
    setGeneric(c, args[1]!, args[3]!, { at });
    return OK;
  };
}

function getset(c: CommandContext, args: Buffer[]): Reply {
  return setGeneric(c, args[1]!, args[2]!, { get: true, at: 0 }).old;
}

function mset(c: CommandContext, args: Buffer[]): Reply {
  if (args.length % 2 === 0) return Errors.arity('mset');
  msetAll(c, args);
  return OK;
}

function msetnx(c: CommandContext, args: Buffer[]): Reply {
  if (args.length % 2 === 0) return Errors.arity('msetnx');
  for (let i = 1; i < args.length; i += 2) if (entryForWrite(c, args[i]!) !== undefined) return 0;
  msetAll(c, args);
  return 1;
}

/** Set every pair (dropping TTLs); MSET itself is the effect. */
function msetAll(c: CommandContext, args: Buffer[]): void {
  for (let i = 1; i < args.length; i += 2) {
    const key = args[i]!;
    storeString(c, entryForWrite(c, key), key, own(args[i + 1]!), 0);
    changed(c, key, 'set', i === 1 ? ['MSET', ...args.slice(1)] : undefined);
  }
}

// --- reads -------------------------------------------------------------------

function get(c: CommandContext, args: Buffer[]): Reply {
  return (stringForRead(c, args[1]!)?.value as Buffer | undefined) ?? null;
}

function mget(c: CommandContext, args: Buffer[]): Reply {
  const out: Reply[] = new Array(args.length - 1);
  for (let i = 1; i < args.length; i++) {
    const e = lookup(c, args[i]!);
    out[i - 1] = e !== undefined && e.type === 'string' ? (e.value as Buffer) : null;
  }
  return out;
}

function strlen(c: CommandContext, args: Buffer[]): Reply {
  return (stringForRead(c, args[1]!)?.value as Buffer | undefined)?.length ?? 0;
}

const EMPTY = Buffer.alloc(0);

function getrange(c: CommandContext, args: Buffer[]): Reply {
  let start = int64Arg(args[2]!);
  let end = int64Arg(args[3]!);
  const e = stringForRead(c, args[1]!);
  if (e === undefined) return EMPTY;
  const v = e.value as Buffer;
  const len = BigInt(v.length);
  if (start < 0n && end < 0n && start > end) return EMPTY;
  if (start < 0n) start += len;
  if (end < 0n) end += len;
  if (start < 0n) start = 0n;
  if (end < 0n) end = 0n;
  if (end >= len) end = len - 1n;
  if (start > end || len === 0n) return EMPTY;
  // Stored values are immutable, so a view is a safe reply.
  return v.subarray(Number(start), Number(end) + 1);
}

// --- GETDEL / GETEX ----------------------------------------------------------

function getdel(c: CommandContext, args: Buffer[]): Reply {
  const key = args[1]!;
  const e = stringForRead(c, key);
  if (e === undefined) return null;
  const value = e.value as Buffer;
  c.keyspace.remove(c.session.db, e);
  changed(c, key, 'del', ['DEL', key]);
  return value;
}

function getex(c: CommandContext, args: Buffer[]): Reply {
  const key = args[1]!;
  const o = parseStringOptions(args, 2, false);
  const e = stringForRead(c, key);
  if (e === undefined) return null;
  const at = o.unit !== undefined ? expiryFrom(o.unit, o.expire!, 'getex') : 0;
  const value = e.value as Buffer;
  const ks = c.keyspace;
  if ((o.unit === 'EXAT' || o.unit === 'PXAT') && alreadyExpired(c, at)) {
    ks.remove(c.session.db, e);
    changed(c, key, 'del', ['DEL', key]);
  } else if (o.unit !== undefined) {
    ks.setExpire(c.session.db, e, at);
    changed(c, key, 'expire', ['PEXPIREAT', key, String(at)]);
  } else if (o.persist && e.expireAt !== 0) {
    ks.setExpire(c.session.db, e, 0);
    changed(c, key, 'persist', ['PERSIST', key]);
  }
  return value;
}

// --- APPEND / SETRANGE -------------------------------------------------------

function append(c: CommandContext, args: Buffer[]): Reply {
  const key = args[1]!;
  const suffix = args[2]!;
  const e = stringForWrite(c, key);
  if (e === undefined) {
    const v = own(suffix);
    storeString(c, undefined, key, v, 0);
    reportString(c, key, 'append', v, 0);
    return v.length;
  }
  const old = e.value as Buffer;
  checkStringLength(c, old.length + suffix.length);
  if (suffix.length === 0) return old.length;
  const v = Buffer.allocUnsafeSlow(old.length + suffix.length);
  old.copy(v, 0);
  suffix.copy(v, old.length);
  storeString(c, e, key, v, e.expireAt);
  // Idempotent and independent of the value's size: the bytes now at the end.
  changed(c, key, 'append', ['SETRANGE', key, String(old.length), suffix]);
  return v.length;
}

function setrange(c: CommandContext, args: Buffer[]): Reply {
  const key = args[1]!;
  const offset = int64Arg(args[2]!);
  const bytes = args[3]!;
  if (offset < 0n) throw Errors.outOfRange('offset');
  const e = stringForWrite(c, key);
  const old = e?.value as Buffer | undefined;
  if (bytes.length === 0) return old?.length ?? 0;
  checkStringLength(c, offset + BigInt(bytes.length));
  const at = Number(offset);
  const oldLen = old?.length ?? 0;
  const len = Math.max(oldLen, at + bytes.length);
  const v = Buffer.allocUnsafeSlow(len);
  if (old !== undefined) old.copy(v, 0);
  if (at > oldLen) v.fill(0, oldLen, at);
  bytes.copy(v, at);
  keepByteAfter(old, v);
  storeString(c, e, key, v, e?.expireAt ?? 0);
  changed(c, key, 'setrange', ['SETRANGE', key, String(at), bytes]);
  return len;
}

// --- INCR family -------------------------------------------------------------

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

function incrBy(c: CommandContext, key: Buffer, delta: bigint): Reply {
  const e = stringForWrite(c, key);
  // Counters are mostly small: JS numbers then, exact while the sum is a safe integer (no BigInt, no string per INCR).
  const small = e === undefined ? 0 : parseSafeInt(e.value as Buffer);
  if (small !== null && delta >= -MAX_SAFE && delta <= MAX_SAFE) {
    const r = small + Number(delta);
    if (Number.isSafeInteger(r)) {
      const v = safeIntegerBytes(r);
      const expireAt = e?.expireAt ?? 0;
      storeString(c, e, key, v, expireAt);
      reportString(c, key, 'incrby', v, expireAt);
      return r;
    }
  }
  let cur = 0n;
  if (e !== undefined) {
    const n = parseInteger(e.value as Buffer);
    if (n === null) throw Errors.notInteger();
    cur = n;
  }
  const r = cur + delta;
  if (r > INT64_MAX || r < INT64_MIN) throw Errors.overflow();
  const v = privateText(r.toString());
  const expireAt = e?.expireAt ?? 0;
  storeString(c, e, key, v, expireAt);
  reportString(c, key, 'incrby', v, expireAt);
  return r;
}

function incrbyfloat(c: CommandContext, args: Buffer[]): Reply {
  const key = args[1]!;
  const e = stringForWrite(c, key);
  const cur = e !== undefined ? parseLongDouble(e.value as Buffer) : LD_ZERO;
  const incr = parseLongDouble(args[2]!);
  if (cur === null || incr === null) throw Errors.notFloat();
  const sum = addLongDouble(cur, incr);
  if (!sum.finite) throw nanOrInf();
  const v = privateText(formatLongDoubleHuman(sum));
  const expireAt = e?.expireAt ?? 0;
  storeString(c, e, key, v, expireAt);
  reportString(c, key, 'incrbyfloat', v, expireAt);
  return v;
}

// --- LCS ---------------------------------------------------------------------

const MATCHES = Buffer.from('matches');
const LEN = Buffer.from('len');

function lcs(c: CommandContext, args: Buffer[]): Reply {
  const ea = lookup(c, args[1]!);
  const eb = lookup(c, args[2]!);
  if ((ea !== undefined && ea.type !== 'string') || (eb !== undefined && eb.type !== 'string')) {
    return new ErrorReply('ERR The specified keys must contain string values');
  }
  const a = (ea?.value as Buffer | undefined) ?? EMPTY;
  const b = (eb?.value as Buffer | undefined) ?? EMPTY;
  let getIdx = false;
  let getLen = false;
  let withMatchLen = false;
  let minMatchLen = 0n;
  for (let j = 3; j < args.length; j++) {
    const opt = keyword(args[j]!);
    if (opt === 'IDX') getIdx = true;
    else if (opt === 'LEN') getLen = true;
    else if (opt === 'WITHMATCHLEN') withMatchLen = true;
    else if (opt === 'MINMATCHLEN' && j + 1 < args.length) {
      minMatchLen = int64Arg(args[++j]!);
      if (minMatchLen < 0n) minMatchLen = 0n;
    } else throw Errors.syntax();
  }
  if (getIdx && getLen) return new ErrorReply('ERR If you want both the length and indexes, please just use IDX.');
  const alen = a.length;
  const blen = b.length;
  if (alen >= 0xfffffffe || blen >= 0xfffffffe) return new ErrorReply('ERR String too long for LCS');
  const cells = (alen + 1) * (blen + 1);
  if (cells * 4 > c.config.values.protoMaxBulkLen) {
    return new ErrorReply('ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len');
  }
  // table[i * (blen + 1) + j] = LCS length of a[0..i) and b[0..j)
  const w = blen + 1;
  const shortest = Math.min(alen, blen);
  let table: Uint8Array | Uint16Array | Uint32Array;
  try {
    table = shortest < 0xff ? new Uint8Array(cells) : shortest < 0xffff ? new Uint16Array(cells) : new Uint32Array(cells);
  } catch {
    return new ErrorReply('ERR Insufficient memory, failed allocating transient memory for LCS');
  }
  for (let i = 1; i <= alen; i++) {
    const ai = a[i - 1];
    const row = i * w;
    const prev = row - w;
    for (let j = 1; j <= blen; j++) {
      if (ai === b[j - 1]) table[row + j] = table[prev + j - 1]! + 1;
      else {
        const up = table[prev + j]!;
        const left = table[row + j - 1]!;
        table[row + j] = up > left ? up : left;
      }
    }
  }
  const total = table[alen * w + blen]!;
  if (getLen && !getIdx) return total;

  // Walk back from the end, collecting the common bytes and, for IDX, the
  // maximal runs of consecutive matches (reported from the end backwards).
  const result = Buffer.allocUnsafe(total);
  let k = total;
  const matches: Reply[] = [];
  let runOpen = false;
  let aStart = 0, aEnd = 0, bStart = 0, bEnd = 0;
  const emit = () => {
    const len = aEnd - aStart + 1;
    if (minMatchLen === 0n || BigInt(len) >= minMatchLen) {
      const m: Reply[] = [[aStart, aEnd], [bStart, bEnd]];
      if (withMatchLen) m.push(len);
      matches.push(m);
    }
    runOpen = false;
  };
  let i = alen;
  let j = blen;
  while (i > 0 && j > 0) {
    if (a[i - 1] === b[j - 1]) {
      result[--k] = a[i - 1]!;
      if (!runOpen) {
        runOpen = true;
        aStart = aEnd = i - 1;
        bStart = bEnd = j - 1;
      } else {
        // the previous step matched at (i, j), so the run extends backwards
        aStart = i - 1;
        bStart = j - 1;
      }
      i--;
      j--;
      if (aStart === 0 || bStart === 0) emit();
    } else {
      if (table[(i - 1) * w + j]! > table[i * w + j - 1]!) i--;
      else j--;
      if (runOpen) emit();
    }
  }
  if (!getIdx) return result;
  return new MapReply([
    [MATCHES, matches],
    [LEN, total],
  ]);
}

// --- the table ---------------------------------------------------------------

const one = { first: 1, last: 1, step: 1 };

export const stringCommands: CommandDef[] = [
  {
    name: 'get', arity: 2, flags: ['readonly', 'fast'], keys: one,
    group: 'string', summary: 'Get the value of a key', since: '1.0.0', complexity: 'O(1)', handler: get,
  },
  {
    name: 'set', arity: -3, flags: ['write', 'denyoom'], keys: one,
    group: 'string', summary: 'Set the string value of a key', since: '1.0.0', complexity: 'O(1)', handler: set,
  },
  {
    name: 'setnx', arity: 3, flags: ['write', 'denyoom', 'fast'], keys: one,
    group: 'string', summary: 'Set the value of a key, only if the key does not exist', since: '1.0.0',
    complexity: 'O(1)', handler: setnx,
  },
  {
    name: 'setex', arity: 4, flags: ['write', 'denyoom'], keys: one,
    group: 'string', summary: 'Set the value and expiration of a key', since: '2.0.0', complexity: 'O(1)',
    handler: setex('EX', 'setex'),
  },
  {
    name: 'psetex', arity: 4, flags: ['write', 'denyoom'], keys: one,
    group: 'string', summary: 'Set the value and expiration in milliseconds of a key', since: '2.6.0',
    complexity: 'O(1)', handler: setex('PX', 'psetex'),
  },
  {
    name: 'getset', arity: 3, flags: ['write', 'denyoom', 'fast'], keys: one,
    group: 'string', summary: 'Set the string value of a key and return its old value', since: '1.0.0',
    complexity: 'O(1)', handler: getset,
  },
  {
    name: 'getdel', arity: 2, flags: ['write', 'fast'], keys: one,
    group: 'string', summary: 'Get the value of a key and delete the key', since: '6.2.0', complexity: 'O(1)',
    handler: getdel,
  },
  {
    name: 'getex', arity: -2, flags: ['write', 'fast'], keys: one,
    group: 'string', summary: 'Get the value of a key and optionally set its expiration', since: '6.2.0',
    complexity: 'O(1)', handler: getex,
  },
  {
    name: 'mget', arity: -2, flags: ['readonly', 'fast'], keys: { first: 1, last: -1, step: 1 },
    group: 'string', summary: 'Get the values of all the given keys', since: '1.0.0',
    complexity: 'O(N) where N is the number of keys to retrieve.', handler: mget,
  },
  {
    name: 'mset', arity: -3, flags: ['write', 'denyoom'], keys: { first: 1, last: -1, step: 2 },
    group: 'string', summary: 'Set multiple keys to multiple values', since: '1.0.1',
    complexity: 'O(N) where N is the number of keys to set.', handler: mset,
  },
  {
    name: 'msetnx', arity: -3, flags: ['write', 'denyoom'], keys: { first: 1, last: -1, step: 2 },
    group: 'string', summary: 'Set multiple keys to multiple values, only if none of the keys exist', since: '1.0.1',
    complexity: 'O(N) where N is the number of keys to set.', handler: msetnx,
  },
  {
    name: 'append', arity: 3, flags: ['write', 'denyoom', 'fast'], keys: one,
    group: 'string', summary: 'Append a value to a key', since: '2.0.0',
    complexity:
      'O(1). The amortized time complexity is O(1) assuming the appended value is small and the already present value is of any size, since the dynamic string library used by Redis will double the free space available on every reallocation.',
    handler: append,
  },
  {
    name: 'strlen', arity: 2, flags: ['readonly', 'fast'], keys: one,
    group: 'string', summary: 'Get the length of the value stored in a key', since: '2.2.0', complexity: 'O(1)',
    handler: strlen,
  },
  {
    name: 'incr', arity: 2, flags: ['write', 'denyoom', 'fast'], keys: one,
    group: 'string', summary: 'Increment the integer value of a key by one', since: '1.0.0', complexity: 'O(1)',
    handler: (c, args) => incrBy(c, args[1]!, 1n),
  },
  {
    name: 'decr', arity: 2, flags: ['write', 'denyoom', 'fast'], keys: one,
    group: 'string', summary: 'Decrement the integer value of a key by one', since: '1.0.0', complexity: 'O(1)',
    handler: (c, args) => incrBy(c, args[1]!, -1n),
  },
  {
    name: 'incrby', arity: 3, flags: ['write', 'denyoom', 'fast'], keys: one,
    group: 'string', summary: 'Increment the integer value of a key by the given amount', since: '1.0.0',
    complexity: 'O(1)', handler: (c, args) => incrBy(c, args[1]!, int64Arg(args[2]!)),
  },
  {
    name: 'decrby', arity: 3, flags: ['write', 'denyoom', 'fast'], keys: one,
    group: 'string', summary: 'Decrement the integer value of a key by the given number', since: '1.0.0',
    complexity: 'O(1)',
    handler: (c, args) => {
      const n = int64Arg(args[2]!);
      if (n === INT64_MIN) throw decrOverflow();
      return incrBy(c, args[1]!, -n);
    },
  },
  {
    name: 'incrbyfloat', arity: 3, flags: ['write', 'denyoom', 'fast'], keys: one,
    group: 'string', summary: 'Increment the float value of a key by the given amount', since: '2.6.0',
    complexity: 'O(1)', handler: incrbyfloat,
  },
  {
    name: 'setrange', arity: 4, flags: ['write', 'denyoom'], keys: one,
    group: 'string', summary: 'Overwrite part of a string at key starting at the specified offset', since: '2.2.0',
    complexity:
      'O(1), not counting the time taken to copy the new string in place. Usually, this string is very small so the amortized complexity is O(1). Otherwise, complexity is O(M) with M being the length of the value argument.',
    handler: setrange,
  },
  {
    name: 'getrange', arity: 4, flags: ['readonly'], keys: one,
    group: 'string', summary: 'Get a substring of the string stored at a key', since: '2.4.0',
    complexity:
      'O(N) where N is the length of the returned string. The complexity is ultimately determined by the returned length, but because creating a substring from an existing string is very cheap, it can be considered O(1) for small strings.',
    handler: getrange,
  },
  {
    name: 'substr', arity: 4, flags: ['readonly'], keys: one,
    group: 'string', summary: 'Get a substring of the string stored at a key', since: '1.0.0',
    complexity:
      'O(N) where N is the length of the returned string. The complexity is ultimately determined by the returned length, but because creating a substring from an existing string is very cheap, it can be considered O(1) for small strings.',
    handler: getrange,
  },
  {
    name: 'lcs', arity: -3, flags: ['readonly'], keys: { first: 1, last: 2, step: 1 },
    group: 'string', summary: 'Find longest common substring', since: '7.0.0',
    complexity: 'O(N*M) where N and M are the lengths of s1 and s2, respectively', handler: lcs,
  },
];
