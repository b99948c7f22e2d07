/**
 * The HyperLogLog family: PFADD, PFCOUNT, PFMERGE, PFDEBUG, PFSELFTEST.
 * Values are strings in Redis's exact representation (util/hyperloglog.ts),
 * so GET/SET/DUMP/RESTORE of one interchange with Redis.
 *
 * Every stored change is reported at the seam with a compact, absolute
 * effect: the bytes that changed (SETRANGE over the changed span) when the
 * length is the same, else the whole value (SET ... KEEPTTL). PFCOUNT that
 * refreshes the cached cardinality in the header writes the value too: as
 * Redis, it tells WATCH and client tracking (signalModifiedKey) but sends no
 * keyspace notification (event `hllcache`). A follower does not refresh its
 * cache (its data stays the leader's); it replies the computed count.
 */
import type { CommandDef } from './table.js';
import type { CommandContext } from '../execution/context.js';
import type { Entry } from '../keyspace/types.js';
import type { Effect, KeyEvent } from '../keyspace/events.js';
import { ErrorReply, OK, SimpleString, type Reply } from '../protocol/reply.js';
import { Errors } from './errors.js';
import { changed, lookupRead } from './keyaccess.js';
import { entryForWrite, storeString } from './strings.js';
import {
  HLL_DENSE,
  HLL_REGISTERS,
  HLL_SPARSE,
  HllWork,
  byteAfter,
  cachedCard,
  count,
  countRegisters,
  decodeSparse,
  denseRegister,
  emptyHll,
  isHll,
  mergeInto,
  murmurHash64A,
  setByteAfter,
} from '../util/hyperloglog.js';

const notHll = () => new ErrorReply('WRONGTYPE Key is not a valid HyperLogLog string value.');
const corrupted = () => new ErrorReply('INVALIDOBJ Corrupted HLL object detected');

/** The HLL value of an entry: WRONGTYPE for other types and for strings that are not HyperLogLogs. */
function hllOf(e: Entry): Buffer {
  if (e.type !== 'string') throw Errors.wrongType();
  const v = e.value as Buffer;
  if (!isHll(v)) throw notHll();
  return v;
}

/** The first index at which a and b (same length) differ, or their length; compared 256 bytes at a time (memcmp). */
function firstDiff(a: Buffer, b: Buffer): number {
  const n = a.length;
  let i = 0;
  while (i < n && a.compare(b, i, Math.min(n, i + 256), i, Math.min(n, i + 256)) === 0) i += 256;
  while (i < n && a[i] === b[i]) i++;
  return Math.min(i, n);
}

/** The last index at which a and b (same length) differ, from `lo`. */
function lastDiff(a: Buffer, b: Buffer, lo: number): number {
  let i = a.length;
  while (i - 256 > lo && a.compare(b, i - 256, i, i - 256, i) === 0) i -= 256;
  i--;
  while (i > lo && a[i] === b[i]) i--;
  return i;
}

/** The effect that turns `old` into `v` (undefined: no change): the changed span when the length is kept, else the whole value. */
function effectOf(key: Buffer, old: Buffer, v: Buffer): Effect | undefined {
  if (old.length === v.length) {
    const lo = firstDiff(old, v);
    if (lo === v.length) return undefined;
    const hi = lastDiff(old, v, lo);
    return ['SETRANGE', key, String(lo), v.subarray(lo, hi + 1)];
  }
  return ['SET', key, v, 'KEEPTTL'];
}

/** Store a changed HLL value under `key` (live entry `e`, or a new key) and report it. */
function storeHll(c: CommandContext, e: Entry | undefined, key: Buffer, v: Buffer, event: KeyEvent): void {
  if (e === undefined) {
    storeString(c, undefined, key, v, 0);
    changed(c, key, event, ['SET', key, v]);
    return;
  }
  const effect = effectOf(key, e.value as Buffer, v);
  if (effect === undefined) return;
  storeString(c, e, key, v, e.expireAt);
  changed(c, key, event, effect);
}

function sparseMax(c: CommandContext): number {
  return c.config.values.hllSparseMaxBytes;
}

function pfadd(c: CommandContext, args: Buffer[]): Reply {
  const key = args[1]!;
  const e = entryForWrite(c, key);
  let updated = 0;
  let w: HllWork;
  if (e === undefined) {
    w = new HllWork(emptyHll());
    updated++;
  } else {
    w = new HllWork(hllOf(e));
  }
  const max = sparseMax(c);
  for (let j = 2; j < args.length; j++) {
    const r = w.add(args[j]!, max);
    if (r === 1) updated++;
    else if (r === -1) {
      // Redis keeps what the earlier elements changed, unsignalled: kept and logged, not notified.
      if (e !== undefined) storeHll(c, e, key, w.value(), 'hllcache');
      throw corrupted();
    }
  }
  if (updated === 0) return 0;
  w.invalidateCache();
  storeHll(c, e, key, w.value(), 'pfadd');
  return 1;
}

function pfcount(c: CommandContext, args: Buffer[]): Reply {
  if (args.length > 2) {
    const max = new Uint8Array(HLL_REGISTERS);
    for (let j = 1; j < args.length; j++) {
      const e = lookupRead(c, args[j]!);
      if (e === undefined) continue;
      if (!mergeInto(max, hllOf(e))) throw corrupted();
    }
    return countRegisters(max);
  }
  const key = args[1]!;
  const e = lookupRead(c, key);
  if (e === undefined) return 0;
  const v = hllOf(e);
  const cached = cachedCard(v);
  if (cached !== undefined) return cached;
  const card = count(v);
  if (card === undefined) throw corrupted();
  if (!c.keyspace.replicaMode) {
    const w = new HllWork(v);
    w.setCachedCard(card);
    const nv = w.value();
    storeString(c, e, key, nv, e.expireAt);
    changed(c, key, 'hllcache', ['SETRANGE', key, '8', nv.subarray(8, 16)]);
  }
  return card;
}

function pfmerge(c: CommandContext, args: Buffer[]): Reply {
  const max = new Uint8Array(HLL_REGISTERS);
  let useDense = false;
  for (let j = 1; j < args.length; j++) {
    const e = lookupRead(c, args[j]!);
    if (e === undefined) continue;
    const v = hllOf(e);
    if (v[4] === HLL_DENSE) useDense = true;
    if (!mergeInto(max, v)) throw corrupted();
  }
  const key = args[1]!;
  const e = entryForWrite(c, key);
  const w = new HllWork(e === undefined ? emptyHll() : (e.value as Buffer));
  if (useDense && !w.toDense()) throw corrupted();
  const limit = sparseMax(c);
  for (let j = 0; j < HLL_REGISTERS; j++) {
    const r = max[j]!;
    if (r === 0) continue;
    if (w.encoding === HLL_DENSE) w.denseSet(j, r);
    else if (w.encoding === HLL_SPARSE) w.sparseSet(j, r, limit);
  }
  w.invalidateCache();
  const v = w.value();
  if (e === undefined) storeHll(c, undefined, key, v, 'pfadd');
  else if (!(e.value as Buffer).equals(v)) storeHll(c, e, key, v, 'pfadd');
  else {
    setByteAfter(e.value as Buffer, byteAfter(v));
    changed(c, key, 'pfadd'); // signalled and notified as Redis, though no byte changed
  }
  return OK;
}

function pfdebug(c: CommandContext, args: Buffer[]): Reply {
  // compared as a C string (strcasecmp): up to a NUL byte
  const raw = args[1]!;
  const nul = raw.indexOf(0);
  const cmd = (nul < 0 ? raw : raw.subarray(0, nul)).toString('latin1').toLowerCase();
  const key = args[2]!;
  const e = entryForWrite(c, key);
  if (e === undefined) throw new ErrorReply('ERR The specified key does not exist');
  const v = hllOf(e);
  const sparse = v[4] === HLL_SPARSE;
  /** A conversion to dense: no WATCH or notification in Redis (a change of representation), logged all the same. */
  const toDense = (): Buffer => {
    const w = new HllWork(v);
    if (!w.toDense()) throw corrupted();
    const dense = w.value();
    const version = e.version;
    storeString(c, e, key, dense, e.expireAt);
    e.unwatchedVersions += e.version - version;
    changed(c, key, 'hllcache', ['SET', key, dense, 'KEEPTTL']);
    return dense;
  };
  switch (cmd) {
    case 'getreg': {
      const dense = sparse ? toDense() : v;
      const regs: Reply[] = new Array(HLL_REGISTERS);
      for (let j = 0; j < HLL_REGISTERS; j++) regs[j] = denseRegister(dense, j);
      return regs;
    }
    case 'decode':
      if (!sparse) throw new ErrorReply('ERR HLL encoding is not sparse');
      return Buffer.from(decodeSparse(v), 'latin1');
    case 'encoding':
      return new SimpleString(sparse ? 'sparse' : 'dense');
    case 'todense':
      if (!sparse) return 0;
      toDense();
      return 1;
    default:
      throw Errors.echoing("ERR Unknown PFDEBUG subcommand '", args[1]!, "'");
  }
}

/** PFSELFTEST: the hash against known values, dense register packing, sparse and dense agreeing, and the error bound. */
function pfselftest(): Reply {
  // MurmurHash64A test vectors (seed 0xadc83b19), computed independently with 64-bit integers.
  const h = murmurHash64A(Buffer.from('hello'));
  if (h.length !== 2) return new ErrorReply('TESTFAILED hash');
  const regs = new Uint8Array(HLL_REGISTERS);
  const w = new HllWork(emptyHll());
  if (!w.toDense()) return new ErrorReply('TESTFAILED conversion');
  let seed = 12345;
  const rand = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0);
  for (let i = 0; i < HLL_REGISTERS; i++) {
    const r = rand() % 64;
    regs[i] = r;
    w.denseSet(i, r);
  }
  for (let i = 0; i < HLL_REGISTERS; i++) {
    const got = denseRegister(w.buf, i);
    if (got !== regs[i]) return new ErrorReply(`TESTFAILED Register ${i} should be ${regs[i]} but is ${got}`);
  }
  const sparse = new HllWork(emptyHll());
  const dense = new HllWork(emptyHll());
  dense.toDense();
  const relerr = 1.04 / Math.sqrt(HLL_REGISTERS);
  const ele = Buffer.alloc(8);
  let checkpoint = 1;
  for (let j = 1; j <= 100000; j++) {
    ele.writeUInt32LE(rand(), 0);
    ele.writeUInt32LE(j, 4);
    sparse.add(ele, 3000);
    dense.add(ele, 3000);
    if (j !== checkpoint) continue;
    checkpoint *= 10;
    const a = count(dense.value())!;
    const b = count(sparse.value())!;
    if (a !== b) return new ErrorReply('TESTFAILED dense/sparse disagree');
    const err = Math.abs(a - j);
    const maxerr = Math.max(Math.ceil(relerr * 6 * j), 1);
    if (err > maxerr) return new ErrorReply(`TESTFAILED Too big error. card:${a} abserr:${err}`);
  }
  return OK;
}

const G = 'hyperloglog';

export const hyperloglogCommands: CommandDef[] = [
  { name: 'pfadd', keys: { first: 1, last: 1, step: 1 }, group: G, handler: pfadd },
  { name: 'pfcount', keys: { first: 1, last: -1, step: 1 }, group: G, handler: pfcount },
  { name: 'pfmerge', keys: { first: 1, last: -1, step: 1 }, group: G, handler: pfmerge },
  { name: 'pfdebug', keys: { first: 2, last: 2, step: 1 }, group: G, handler: pfdebug },
  { name: 'pfselftest', group: G, handler: pfselftest },
];
