import type { CommandDef, KeySpec } from './table.js';
import type { CommandContext } from '../execution/context.js';
import { Errors } from './errors.js';
import { ErrorReply, MapReply, NULL_ARRAY, OK, type Reply } from '../protocol/reply.js';
import { keyword } from './args.js';
import { changed, lookupTyped, own } from './keyaccess.js';
import { createCollection } from './collections.js';
import { valueOps } from '../keyspace/value-ops.js';
import type { Entry } from '../keyspace/types.js';
import type { KeyRef } from '../keyspace/scheduler.js';
import { parseInteger } from '../util/numbers.js';
import { MAX_SID, MIN_SID, StreamValue, U64_MAX, sid, sidNext, sidParts, sidPrev, sidText, type SID } from '../keyspace/values/stream.js';

/**
 * The stream family (Redis 7.0 semantics), without consumer groups
 * (stream-groups.ts). Effects: XADD logs the entry with its final ID (and,
 * when it trimmed, MAXLEN = the length left); XTRIM logs MAXLEN = the
 * length left; XDEL the IDs it removed; XSETID all three metadata values.
 * Empty streams stay (only DEL removes a stream).
 */

const str = (b: Buffer) => b.toString('latin1');
const bulk = (s: string) => Buffer.from(s, 'latin1');

export const INVALID_ID = 'ERR Invalid stream ID specified as stream command argument';

/** Redis's string2ull: a plain non-negative int64, else what strtoull accepts (whole string, no range error). */
function parseU64(s: string): bigint | null {
  if (s.length === 0) return null;
  if (/^(0|[1-9][0-9]*)$/.test(s)) {
    const n = BigInt(s);
    if (n <= 0x7fffffffffffffffn) return n;
    return n <= U64_MAX ? n : null;
  }
  if (/^-[1-9][0-9]*$/.test(s) && BigInt(s) >= -0x8000000000000000n) return null;
  const m = /^[ \t\n\v\f\r]*([+-]?)([0-9]+)$/.exec(s);
  if (!m) return null;
  let n = BigInt(m[2]!);
  if (n > U64_MAX) return null;
  if (m[1] === '-') n = (U64_MAX + 1n - n) & U64_MAX;
  return n;
}

export interface ParsedId {
  id: SID;
  /** false for the ms-* form */
  seqGiven: boolean;
}

/** Redis's streamGenericParseIDOrReply. */
export function parseId(b: Buffer, missingSeq: bigint, strict: boolean, allowStarSeq = false): ParsedId {
  if (b.length > 127) throw new ErrorReply(INVALID_ID);
  let s = str(b);
  const nul = s.indexOf('\0');
  if (nul >= 0) s = s.slice(0, nul);
  if (strict && (s === '-' || s === '+')) throw new ErrorReply(INVALID_ID);
  if (s === '-') return { id: MIN_SID, seqGiven: true };
  if (s === '+') return { id: MAX_SID, seqGiven: true };
  const dash = s.indexOf('-');
  const ms = parseU64(dash >= 0 ? s.slice(0, dash) : s);
  if (ms === null) throw new ErrorReply(INVALID_ID);
  if (dash < 0) return { id: sid(ms, missingSeq), seqGiven: true };
  const rest = s.slice(dash + 1);
  if (allowStarSeq && rest === '*') return { id: sid(ms, 0n), seqGiven: false };
  const seq = parseU64(rest);
  if (seq === null) throw new ErrorReply(INVALID_ID);
  return { id: sid(ms, seq), seqGiven: true };
}

export const strictId = (b: Buffer): SID => parseId(b, 0n, true).id;

/** An interval bound: `(` excludes (strict ID after it); otherwise `-`, `+` or an ID with the missing sequence. */
function intervalId(b: Buffer, missingSeq: bigint): { id: SID; exclusive: boolean } {
  if (b.length > 1 && b[0] === 0x28) return { id: parseId(b.subarray(1), missingSeq, true).id, exclusive: true };
  return { id: parseId(b, missingSeq, false).id, exclusive: false };
}

export function llArg(b: Buffer): bigint {
  const n = parseInteger(b);
  if (n === null) throw Errors.notInteger();
  return n;
}

export function readStream(c: CommandContext, key: Buffer): StreamValue | undefined {
  return lookupTyped(c, key, 'stream')?.value as StreamValue | undefined;
}

export function idReply(id: SID): Buffer {
  return Buffer.from(sidText(id));
}

export function entryReply(v: StreamValue, id: SID): Reply {
  return [idReply(id), v.get(id)!];
}

/** Account and mark a changed stream, and report it (streams are never deleted when empty). */
export function streamChanged(c: CommandContext, e: Entry, event: Parameters<typeof changed>[2], effect?: Parameters<typeof changed>[3]): void {
  c.keyspace.resize(e, valueOps('stream').sizeOf(e.value));
  c.keyspace.touch(e);
  changed(c, e.name, event, effect);
}

// --- trimming options (XADD, XTRIM) ---------------------------------------------------

interface TrimArgs {
  strategy: 'none' | 'maxlen' | 'minid';
  approx: boolean;
  maxlen: number;
  minid: SID;
  limit: number;
  noMkStream: boolean;
  id: ParsedId | null;
  /** index of the first argument after the options (XADD: the ID or `*`) */
  next: number;
}

function parseTrimArgs(c: CommandContext, args: Buffer[], xadd: boolean): TrimArgs {
  const t: TrimArgs = { strategy: 'none', approx: false, maxlen: 0, minid: MIN_SID, limit: -1, noMkStream: false, id: null, next: 2 };
  let limitGiven = false;
  let i = 2;
  for (; i < args.length; i++) {
    const more = args.length - 1 - i;
    const a = args[i]!;
    if (xadd && a.length === 1 && a[0] === 0x2a) break;
    const opt = keyword(a);
    if ((opt === 'MAXLEN' || opt === 'MINID') && more > 0) {
      if (t.strategy !== 'none') throw new ErrorReply('ERR syntax error, MAXLEN and MINID options at the same time are not compatible');
      t.approx = false;
      const nx = str(args[i + 1]!);
      if (more >= 2 && nx === '~') {
        t.approx = true;
        i++;
      } else if (more >= 2 && nx === '=') i++;
      if (opt === 'MAXLEN') {
        const n = llArg(args[i + 1]!);
        if (n < 0n) throw new ErrorReply('ERR The MAXLEN argument must be >= 0.');
        t.maxlen = n > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(n);
        t.strategy = 'maxlen';
      } else {
        t.minid = strictId(args[i + 1]!);
        t.strategy = 'minid';
      }
      i++;
    } else if (opt === 'LIMIT' && more > 0) {
      const n = llArg(args[i + 1]!);
      if (n < 0n) throw new ErrorReply('ERR The LIMIT argument must be >= 0.');
      t.limit = n > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(n);
      limitGiven = true;
      i++;
    } else if (xadd && opt === 'NOMKSTREAM') {
      t.noMkStream = true;
    } else if (xadd) {
      t.id = parseId(a, 0n, true, true);
      break;
    } else {
      throw Errors.syntax();
    }
  }
  t.next = i;
  if (t.limit > 0 && t.strategy === 'none') throw new ErrorReply('ERR syntax error, LIMIT cannot be used without specifying a trimming strategy');
  if (!xadd && t.strategy === 'none') throw new ErrorReply('ERR syntax error, XTRIM must be called with a trimming strategy');
  if (c.keyspace.applying) {
    t.limit = 0;
  } else if (limitGiven) {
    if (!t.approx) throw new ErrorReply('ERR syntax error, LIMIT cannot be used without the special ~ option');
  } else if (t.approx) {
    t.limit = 100 * c.config.values.streamNodeMaxEntries;
    if (t.limit <= 0 || t.limit > 1_000_000) t.limit = 10_000;
  } else t.limit = 0;
  if (t.limit < 0) t.limit = 0;
  return t;
}

function trim(v: StreamValue, t: TrimArgs): number {
  if (t.strategy === 'none') return 0;
  return v.trim(t.strategy, t.maxlen, t.minid, t.approx, t.limit);
}

// --- XADD ---------------------------------------------------------------------------

function xadd(c: CommandContext, args: Buffer[]): Reply {
  const key = args[1]!;
  const t = parseTrimArgs(c, args, true);
  const fieldPos = t.next + 1;
  const nFields = args.length - fieldPos;
  if (args.length - t.next < 3 || nFields % 2 !== 0) throw Errors.arity('xadd');
  if (t.id && t.id.seqGiven && t.id.id === MIN_SID) throw new ErrorReply('ERR The ID specified in XADD must be greater than 0-0');
  let e = lookupTyped(c, key, 'stream');
  if (e === undefined) {
    if (t.noMkStream) return null;
    e = createCollection(c, key, 'stream', new StreamValue());
  }
  const v = e.value as StreamValue;
  if (v.lastId === MAX_SID) throw new ErrorReply('ERR The stream has exhausted the last possible ID, unable to add more items');
  let id: SID;
  if (t.id) {
    if (t.id.seqGiven) id = t.id.id;
    else {
      const [ms] = sidParts(t.id.id);
      const [lms, lseq] = sidParts(v.lastId);
      if (lms === ms) {
        if (lseq === U64_MAX) throw tooSmall(c, e);
        id = sid(ms, lseq + 1n);
      } else id = t.id.id;
    }
  } else {
    const now = BigInt(Date.now());
    const [lms] = sidParts(v.lastId);
    id = now > lms ? sid(now, 0n) : sidNext(v.lastId)!;
  }
  if (id <= v.lastId) throw tooSmall(c, e);
  const fields: Buffer[] = [];
  for (let i = fieldPos; i < args.length; i++) fields.push(own(args[i]!));
  const cfg = c.config.values;
  v.add(id, fields, cfg.streamNodeMaxEntries, cfg.streamNodeMaxBytes);
  const removed = trim(v, t);
  const text = sidText(id);
  const effect: Array<Buffer | string> = removed > 0 ? ['XADD', key, 'MAXLEN', '=', String(v.size), text] : ['XADD', key, text];
  for (let i = fieldPos; i < args.length; i++) effect.push(args[i]!);
  streamChanged(c, e, 'xadd', effect);
  if (removed > 0) changed(c, key, 'xtrim');
  return Buffer.from(text);
}

/** The ID is not above the top item; a stream XADD just created is dropped again. */
function tooSmall(c: CommandContext, e: Entry): ErrorReply {
  const v = e.value as StreamValue;
  if (v.size === 0 && v.lastId === MIN_SID && v.groups.size === 0 && e.version === 0) c.keyspace.remove(c.session.db, e);
  return new ErrorReply('ERR The ID specified in XADD is equal or smaller than the target stream top item');
}

// --- XLEN, XRANGE, XREVRANGE -------------------------------------------------------------

function xlen(c: CommandContext, args: Buffer[]): Reply {
  return readStream(c, args[1]!)?.size ?? 0;
}

function xrangeGeneric(rev: boolean) {
  return (c: CommandContext, args: Buffer[]): Reply => {
    const startArg = rev ? args[3]! : args[2]!;
    const endArg = rev ? args[2]! : args[3]!;
    const s = intervalId(startArg, 0n);
    let start = s.id;
    if (s.exclusive) {
      const n = sidNext(start);
      if (n === null) throw new ErrorReply('ERR invalid start ID for the interval');
      start = n;
    }
    const en = intervalId(endArg, U64_MAX);
    let end = en.id;
    if (en.exclusive) {
      const p = sidPrev(end);
      if (p === null) throw new ErrorReply('ERR invalid end ID for the interval');
      end = p;
    }
    let count = -1n;
    for (let j = 4; j < args.length; j++) {
      if (keyword(args[j]!) === 'COUNT' && args.length - j - 1 >= 1) {
        count = llArg(args[j + 1]!);
        if (count < 0n) count = 0n;
        j++;
      } else throw Errors.syntax();
    }
    const v = readStream(c, args[1]!);
    if (v === undefined) return [];
    if (count === 0n) return NULL_ARRAY;
    const n = count === -1n ? 0 : count > 1_000_000_000n ? 1_000_000_000 : Number(count);
    return v.range(start, end, n, rev).map((id) => entryReply(v, id));
  };
}

// --- XDEL, XTRIM, XSETID ----------------------------------------------------------------

function xdel(c: CommandContext, args: Buffer[]): Reply {
  const key = args[1]!;
  const e = lookupTyped(c, key, 'stream');
  if (e === undefined) return 0;
  const ids = args.slice(2).map(strictId);
  const v = e.value as StreamValue;
  const removed: string[] = [];
  for (const id of ids) if (v.delete(id)) removed.push(sidText(id));
  if (removed.length === 0) return 0;
  streamChanged(c, e, 'xdel', ['XDEL', key, ...removed]);
  return removed.length;
}

function xtrim(c: CommandContext, args: Buffer[]): Reply {
  const key = args[1]!;
  const t = parseTrimArgs(c, args, false);
  const e = lookupTyped(c, key, 'stream');
  if (e === undefined) return 0;
  const v = e.value as StreamValue;
  const removed = trim(v, t);
  if (removed > 0) streamChanged(c, e, 'xtrim', ['XTRIM', key, 'MAXLEN', '=', String(v.size)]);
  return removed;
}

function xsetid(c: CommandContext, args: Buffer[]): Reply {
  const key = args[1]!;
  const id = strictId(args[2]!);
  let entriesAdded = -1n;
  let maxDel = MIN_SID;
  for (let i = 3; i < args.length; ) {
    const more = args.length - 1 - i;
    const opt = keyword(args[i]!);
    if (opt === 'ENTRIESADDED' && more > 0) {
      entriesAdded = llArg(args[i + 1]!);
      if (entriesAdded < 0n) throw new ErrorReply('ERR entries_added must be positive');
      i += 2;
    } else if (opt === 'MAXDELETEDID' && more > 0) {
      maxDel = strictId(args[i + 1]!);
      if (id < maxDel) throw new ErrorReply('ERR The ID specified in XSETID is smaller than the provided max_deleted_entry_id');
      i += 2;
    } else throw Errors.syntax();
  }
  const e = lookupTyped(c, key, 'stream');
  if (e === undefined) throw Errors.noSuchKey();
  const v = e.value as StreamValue;
  if (v.size > 0) {
    if (id < v.ids[v.ids.length - 1]!) throw new ErrorReply('ERR The ID specified in XSETID is smaller than the target stream top item');
    if (entriesAdded !== -1n && BigInt(v.size) > entriesAdded) {
      throw new ErrorReply('ERR The entries_added specified in XSETID is smaller than the target stream length');
    }
  }
  v.lastId = id;
  if (entriesAdded !== -1n) v.entriesAdded = Number(entriesAdded);
  if (maxDel !== MIN_SID) v.maxDeletedId = maxDel;
  v.changes.mark(MIN_SID); // nothing to rewrite in rows, but the key row's note changes: keep the entry dirty
  v.changes.changed.delete(MIN_SID);
  // MAXDELETEDID only when given (it is then at most the new last ID). Without it XSETID may leave the
  // last ID below the stream's max deleted ID, and a record repeating that pair would be refused where
  // it is applied; there the stream has the same max deleted ID already.
  const effect = ['XSETID', key, sidText(v.lastId), 'ENTRIESADDED', String(v.entriesAdded)];
  if (maxDel !== MIN_SID) effect.push('MAXDELETEDID', sidText(v.maxDeletedId));
  streamChanged(c, e, 'xsetid', effect);
  return OK;
}

// --- XREAD ------------------------------------------------------------------------------

/** XREAD/XREADGROUP's reply: per stream (key, entries), a map in RESP3. */
export function readReply(c: CommandContext, items: Array<[Buffer, Reply]>): Reply {
  if (c.session.protocol === 3) return new MapReply(items);
  return items.map(([k, r]) => [k, r]);
}

export interface ReadOptions {
  timeout: number;
  count: number;
  streamsArg: number;
  streamsCount: number;
  group: Buffer | null;
  consumer: Buffer | null;
  noack: boolean;
}

export function parseRead(c: CommandContext, args: Buffer[], group: boolean): ReadOptions {
  const o: ReadOptions = { timeout: -1, count: 0, streamsArg: 0, streamsCount: 0, group: null, consumer: null, noack: false };
  const name = group ? 'xreadgroup' : 'xread';
  for (let i = 1; i < args.length; i++) {
    const more = args.length - i - 1;
    const opt = keyword(args[i]!);
    if (opt === 'BLOCK' && more > 0) {
      if (c.server.scripting.isScript(c.session)) throw Errors.echoing('ERR ', args[0]!, ' command is not allowed with BLOCK option from scripts');
      i++;
      const n = parseInteger(args[i]!);
      if (n === null) throw new ErrorReply('ERR timeout is not an integer or out of range');
      if (n < 0n) throw new ErrorReply('ERR timeout is negative');
      o.timeout = n > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(n);
    } else if (opt === 'COUNT' && more > 0) {
      i++;
      const n = llArg(args[i]!);
      o.count = n < 0n ? 0 : n > 1_000_000_000n ? 1_000_000_000 : Number(n);
    } else if (opt === 'STREAMS' && more > 0) {
      o.streamsArg = i + 1;
      const n = args.length - o.streamsArg;
      if (n % 2 !== 0) {
        throw new ErrorReply("ERR Unbalanced XREAD list of streams: for each stream key an ID or '$' must be specified.");
      }
      o.streamsCount = n / 2;
      break;
    } else if (opt === 'GROUP' && more >= 2) {
      if (!group) throw new ErrorReply('ERR The GROUP option is only supported by XREADGROUP. You called XREAD instead.');
      o.group = args[i + 1]!;
      o.consumer = args[i + 2]!;
      i += 2;
    } else if (opt === 'NOACK') {
      if (!group) throw new ErrorReply('ERR The NOACK option is only supported by XREADGROUP. You called XREAD instead.');
      o.noack = true;
    } else throw Errors.syntax();
  }
  if (o.streamsArg === 0) throw Errors.syntax();
  if (group && o.group === null) throw new ErrorReply('ERR Missing GROUP option for XREADGROUP');
  return o;
}

export function keyRefsOf(c: CommandContext, keys: Buffer[]): KeyRef[] {
  return keys.map((k) => ({ db: c.session.db, name: str(k) }));
}

function xread(c: CommandContext, args: Buffer[]): Reply {
  const o = parseRead(c, args, false);
  const keys = args.slice(o.streamsArg, o.streamsArg + o.streamsCount);
  const ids: SID[] = [];
  for (let i = 0; i < o.streamsCount; i++) {
    const v = readStream(c, keys[i]!);
    const a = args[o.streamsArg + o.streamsCount + i]!;
    if (a.length === 1 && a[0] === 0x24) ids.push(v ? v.lastId : MIN_SID);
    else if (a.length === 1 && a[0] === 0x3e) {
      throw new ErrorReply('ERR The > ID can be specified only when calling XREADGROUP using the GROUP <group> <consumer> option.');
    } else ids.push(strictId(a));
  }
  const items: Array<[Buffer, Reply]> = [];
  for (let i = 0; i < o.streamsCount; i++) {
    const v = readStream(c, keys[i]!);
    if (!v || v.size === 0) continue;
    if (v.ids[v.ids.length - 1]! <= ids[i]!) continue;
    const start = sidNext(ids[i]!)!;
    items.push([keys[i]!, v.range(start, MAX_SID, o.count, false).map((id) => entryReply(v, id))]);
  }
  if (items.length > 0) return readReply(c, items);
  if (o.timeout === -1) return NULL_ARRAY;
  const b = c.server.blocking;
  if (!b.canBlock(c)) return NULL_ARRAY;
  const count = o.count || 1000;
  const gtOf = new Map<string, SID>();
  keys.forEach((k, i) => {
    if (!gtOf.has(str(k))) gtOf.set(str(k), ids[i]!);
  });
  return b.block(c, keyRefsOf(c, keys), o.timeout, (name) => {
    const e = c.keyspace.lookup(c.session.db, name);
    if (e === undefined || e.type !== 'stream') return undefined;
    const v = e.value as StreamValue;
    const gt = gtOf.get(name)!;
    if (v.lastId <= gt) return undefined;
    const start = sidNext(gt)!;
    return readReply(c, [[bulk(name), v.range(start, MAX_SID, count, false).map((id) => entryReply(v, id))]]);
  });
}

// --- the table -------------------------------------------------------------------------

const ONE_KEY: KeySpec = { first: 1, last: 1, step: 1 };

/** XREAD/XREADGROUP keys: the first half of what follows STREAMS. */
export function streamsKeys(args: Buffer[]): number[] {
  for (let i = 1; i < args.length; i++) {
    const k = keyword(args[i]!);
    if (k === 'STREAMS') {
      const n = Math.floor((args.length - i - 1) / 2);
      return Array.from({ length: n }, (_, j) => i + 1 + j);
    }
    if (k === 'BLOCK' || k === 'COUNT') i++;
    else if (k === 'GROUP') i += 2;
  }
  return [];
}

export const streamsCommands: CommandDef[] = [
  { name: 'xadd', keys: ONE_KEY, handler: xadd },
  { name: 'xlen', keys: ONE_KEY, handler: xlen },
  { name: 'xrange', keys: ONE_KEY, handler: xrangeGeneric(false) },
  { name: 'xrevrange', keys: ONE_KEY, handler: xrangeGeneric(true) },
  { name: 'xdel', keys: ONE_KEY, handler: xdel },
  { name: 'xtrim', keys: ONE_KEY, handler: xtrim },
  { name: 'xsetid', keys: ONE_KEY, handler: xsetid },
  { name: 'xread', movableKeys: streamsKeys, handler: xread },
];
