import type { CommandDef, KeySpec } from './table.js';
import type { CommandContext } from '../execution/context.js';
import { ErrorReply, MapReply, NULL_ARRAY, OK, SimpleString, type Reply } from '../protocol/reply.js';
import { Errors } from './errors.js';
import { keyword } from './args.js';
import { changed, lookupTyped } from './keyaccess.js';
import { createCollection } from './collections.js';
import { keyName } from '../keyspace/names.js';
import type { Entry } from '../keyspace/types.js';
import type { Effect, KeyEvent } from '../keyspace/events.js';
import { parseInteger } from '../util/numbers.js';
import { MAX_SID, MIN_SID, StreamValue, sidNext, sidPrev, sidText, type ConsumerGroup, type Consumer, type PendingEntry, type SID } from '../keyspace/values/stream.js';
import {
  entryReply, idReply, keyRefsOf, llArg as streamLlArg, parseId, parseRead, readReply, strictId, streamChanged, streamsKeys,
} from './streams.js';

/**
 * Consumer groups (Redis 7.0): XGROUP, XREADGROUP, XACK, XPENDING, XCLAIM,
 * XAUTOCLAIM, XINFO GROUPS/CONSUMERS (and XINFO itself). Effects follow
 * Redis's propagation: XGROUP as given with the resulting ID and
 * ENTRIESREAD; each delivery, claim or dropped pending entry as an XCLAIM
 * ... FORCE JUSTID with the entry's exact delivery time and count; a moved
 * last-delivered ID as XGROUP SETID ... ENTRIESREAD; XACK with the IDs it
 * acknowledged.
 */

const str = (b: Buffer) => b.toString('latin1');
const bulk = (s: string) => Buffer.from(s, 'latin1');
const byName = <T>(m: Map<string, T>): Array<[string, T]> => [...m].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
const sortedIds = (ids: Iterable<SID>): SID[] => [...ids].sort();

function llArg(b: Buffer, message?: string): bigint {
  const n = parseInteger(b);
  if (n === null) throw message ? new ErrorReply(`ERR ${message}`) : Errors.notInteger();
  return n;
}

const clampNum = (n: bigint) => (n > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : n < BigInt(Number.MIN_SAFE_INTEGER) ? Number.MIN_SAFE_INTEGER : Number(n));

/** An error with client arguments printed as C strings (up to a NUL byte), as Redis's %s does. */
function formatted(...parts: Array<string | Buffer>): ErrorReply {
  const bytes = parts.map((p) => {
    if (typeof p === 'string') return Buffer.from(p);
    const nul = p.indexOf(0);
    return nul >= 0 ? p.subarray(0, nul) : p;
  });
  let text = Buffer.concat(bytes);
  let end = text.length;
  while (end > 0 && (text[end - 1] === 0x0d || text[end - 1] === 0x0a)) end--;
  text = text.subarray(0, end);
  return ErrorReply.fromBytes(text);
}

function noGroup(key: Buffer, group: Buffer, suffix = ''): ErrorReply {
  return formatted('NOGROUP No such key \'', key, "' or consumer group '", group, `'${suffix}`);
}

function noSuchGroup(group: Buffer, key: Buffer): ErrorReply {
  return formatted('NOGROUP No such consumer group \'', group, "' for key name '", key, "'");
}

/** Report a group change: its event (or none Redis would notify) and its effect. */
function groupChanged(c: CommandContext, e: Entry, event: KeyEvent, effect?: Effect): void {
  streamChanged(c, e, event, effect);
}

/** A consumer created by XREADGROUP, XCLAIM or XAUTOCLAIM: logged as XGROUP CREATECONSUMER. */
function createConsumer(c: CommandContext, e: Entry, key: Buffer, group: Buffer, g: ConsumerGroup, name: string): Consumer {
  const consumer: Consumer = { seenTime: Date.now(), pending: new Set() };
  g.consumers.set(name, consumer);
  c.keyspace.touch(e);
  changed(c, e.name, 'xgroup-createconsumer', ['XGROUP', 'CREATECONSUMER', key, group, bulk(name)]);
  return consumer;
}

/** Redis's streamEstimateDistanceFromFirstEverEntry: the entries-read counter of `id`, or -1. */
export function estimateRead(v: StreamValue, id: SID): number {
  if (v.entriesAdded === 0) return 0;
  if (v.size === 0 && id <= v.lastId) return v.entriesAdded;
  if (id === v.lastId) return v.entriesAdded;
  if (id > v.lastId) return -1;
  if (v.maxDeletedId === MIN_SID || v.maxDeletedId < v.firstId) {
    if (id < v.firstId) return v.entriesAdded - v.size;
    if (id === v.firstId) return v.entriesAdded - v.size + 1;
  }
  return -1;
}

function rangeHasTombstones(v: StreamValue, start: SID): boolean {
  if (v.size === 0 || v.maxDeletedId === MIN_SID) return false;
  if (v.firstId > v.maxDeletedId) return false;
  return start <= v.maxDeletedId;
}

function lag(v: StreamValue, g: ConsumerGroup): number | null {
  if (v.entriesAdded === 0) return 0;
  if (g.entriesRead !== -1 && !rangeHasTombstones(v, g.lastId)) return v.entriesAdded - g.entriesRead;
  const read = estimateRead(v, g.lastId);
  return read === -1 ? null : v.entriesAdded - read;
}

function xclaimEffect(key: Buffer, group: Buffer, id: SID, p: PendingEntry, lastId: SID): Effect {
  return ['XCLAIM', key, group, bulk(p.consumer), '0', sidText(id), 'TIME', String(p.deliveryTime), 'RETRYCOUNT', String(p.deliveryCount),
    'FORCE', 'JUSTID', 'LASTID', sidText(lastId)];
}

function setIdEffect(key: Buffer, group: Buffer, g: ConsumerGroup): Effect {
  return ['XGROUP', 'SETID', key, group, sidText(g.lastId), 'ENTRIESREAD', String(g.entriesRead)];
}

/** Drop a pending entry from the group and its consumer. */
function dropPending(g: ConsumerGroup, id: SID): void {
  const p = g.pel.get(id);
  if (!p) return;
  g.pel.delete(id);
  g.consumers.get(p.consumer)?.pending.delete(id);
}

// --- XGROUP -----------------------------------------------------------------------------

interface GroupTarget {
  e: Entry | undefined;
  g: ConsumerGroup | undefined;
}

function groupTarget(c: CommandContext, args: Buffer[], needGroup: boolean, mkStream = false): GroupTarget {
  // a write's lookup (Redis's lookupKeyWrite): no keymiss event
  const e = c.keyspace.lookup(c.session.db, keyName(args[2]!));
  if (e !== undefined && e.type !== 'stream') throw Errors.wrongType();
  if (e === undefined && !mkStream) requireKey(e);
  const v = e?.value as StreamValue | undefined;
  const g = v?.groups.get(str(args[3]!));
  if (g === undefined && needGroup) {
    throw noSuchGroup(args[3]!, args[2]!);
  }
  return { e, g };
}

function requireKey(e: Entry | undefined): Entry {
  if (e === undefined) {
    throw new ErrorReply('ERR The XGROUP subcommand requires the key to exist. Note that for CREATE you may want to use the MKSTREAM option to create an empty stream automatically.');
  }
  return e;
}

function entriesReadOpt(args: Buffer[], from: number, allowMk: boolean): { mk: boolean; read: number } {
  let mk = false;
  let read = -1;
  for (let i = from; i < args.length; ) {
    const opt = keyword(args[i]!);
    if (allowMk && opt === 'MKSTREAM') {
      mk = true;
      i++;
    } else if (opt === 'ENTRIESREAD' && i + 1 < args.length) {
      const n = llArg(args[i + 1]!);
      if (n < 0n && n !== -1n) throw new ErrorReply('ERR value for ENTRIESREAD must be positive or -1');
      read = clampNum(n);
      i += 2;
    } else throw Errors.subcommandSyntax(args[1]!, 'xgroup');
  }
  return { mk, read };
}

function xgroupCreate(c: CommandContext, args: Buffer[]): Reply {
  const { mk, read } = entriesReadOpt(args, 5, true);
  let { e } = groupTarget(c, args, false, mk);
  const a = args[4]!;
  let id: SID;
  if (a.length === 1 && a[0] === 0x24) id = e ? (e.value as StreamValue).lastId : MIN_SID;
  else id = strictId(a);
  const key = args[2]!;
  const name = str(args[3]!);
  if (e === undefined) e = createCollection(c, key, 'stream', new StreamValue());
  const v = e.value as StreamValue;
  if (v.groups.has(name)) throw new ErrorReply('BUSYGROUP Consumer Group name already exists');
  v.groups.set(name, { lastId: id, entriesRead: read, pel: new Map(), consumers: new Map() });
  groupChanged(c, e, 'xgroup-create', ['XGROUP', 'CREATE', key, args[3]!, sidText(id), 'MKSTREAM', 'ENTRIESREAD', String(read)]);
  return OK;
}

function xgroupSetid(c: CommandContext, args: Buffer[]): Reply {
  const { read } = entriesReadOpt(args, 5, false);
  const { e, g } = groupTarget(c, args, true);
  const v = e!.value as StreamValue;
  const a = args[4]!;
  const id = a.length === 1 && a[0] === 0x24 ? v.lastId : parseId(a, 0n, false).id;
  g!.lastId = id;
  g!.entriesRead = read;
  groupChanged(c, e!, 'xgroup-setid', setIdEffect(args[2]!, args[3]!, g!));
  return OK;
}

function xgroupDestroy(c: CommandContext, args: Buffer[]): Reply {
  const { e, g } = groupTarget(c, args, false);
  requireKey(e);
  if (!g) return 0;
  (e!.value as StreamValue).groups.delete(str(args[3]!));
  groupChanged(c, e!, 'xgroup-destroy', ['XGROUP', 'DESTROY', args[2]!, args[3]!]);
  return 1;
}

function xgroupCreateConsumer(c: CommandContext, args: Buffer[]): Reply {
  const { e, g } = groupTarget(c, args, true);
  const name = str(args[4]!);
  if (g!.consumers.has(name)) return 0;
  g!.consumers.set(name, { seenTime: Date.now(), pending: new Set() });
  groupChanged(c, e!, 'xgroup-createconsumer', ['XGROUP', 'CREATECONSUMER', args[2]!, args[3]!, args[4]!]);
  return 1;
}

function xgroupDelConsumer(c: CommandContext, args: Buffer[]): Reply {
  const { e, g } = groupTarget(c, args, true);
  const name = str(args[4]!);
  const consumer = g!.consumers.get(name);
  if (!consumer) return 0;
  const pending = consumer.pending.size;
  for (const id of consumer.pending) g!.pel.delete(id);
  g!.consumers.delete(name);
  groupChanged(c, e!, 'xgroup-delconsumer', ['XGROUP', 'DELCONSUMER', args[2]!, args[3]!, args[4]!]);
  return pending;
}

const XGROUP_HELP = [
  'XGROUP <subcommand> [<arg> [value] [opt] ...]. Subcommands are:',
  'CREATE <key> <groupname> <id|$> [option]',
  '    Create a new consumer group. Options are:',
  '    * MKSTREAM',
  '      Create the empty stream if it does not exist.',
  '    * ENTRIESREAD entries_read',
  '      Set the group\'s entries_read counter (internal use).',
  'CREATECONSUMER <key> <groupname> <consumer>',
  '    Create a new consumer in the specified group.',
  'DELCONSUMER <key> <groupname> <consumer>',
  '    Remove the specified consumer.',
  'DESTROY <key> <groupname>',
  '    Remove the specified group.',
  'SETID <key> <groupname> <id|$> [ENTRIESREAD entries_read]',
  '    Set the current group ID and entries_read counter.',
  'HELP',
  '    Prints this help.',
];

// --- XREADGROUP -------------------------------------------------------------------------

/** Deliver new entries (after the group's last ID) to `consumer`; returns the entries' replies. */
function deliverNew(c: CommandContext, e: Entry, key: Buffer, group: Buffer, g: ConsumerGroup, consumerName: string, count: number, noack: boolean): Reply[] {
  const v = e.value as StreamValue;
  const start = sidNext(g.lastId);
  const ids = start === null ? [] : v.range(start, MAX_SID, count, false);
  const now = Date.now();
  const out: Reply[] = [];
  const effects: Effect[] = [];
  let moved = false;
  for (const id of ids) {
    if (id > g.lastId) {
      if (g.entriesRead !== -1 && !rangeHasTombstones(v, id)) g.entriesRead++;
      else if (v.entriesAdded !== 0) g.entriesRead = estimateRead(v, id);
      g.lastId = id;
      moved = true;
    }
    out.push(entryReply(v, id));
    if (!noack) {
      const old = g.pel.get(id);
      if (old) g.consumers.get(old.consumer)?.pending.delete(id);
      const p: PendingEntry = { consumer: consumerName, deliveryTime: now, deliveryCount: 1 };
      g.pel.set(id, p);
      g.consumers.get(consumerName)!.pending.add(id);
      effects.push(xclaimEffect(key, group, id, p, g.lastId));
    }
  }
  if (moved) effects.push(setIdEffect(key, group, g));
  for (const eff of effects) changed(c, e.name, 'xgroup-pel', eff);
  if (effects.length > 0 || ids.length > 0) {
    c.keyspace.resize(e, v.bytes);
    c.keyspace.touch(e);
  }
  return out;
}

/** The consumer's own pending entries from `start` (history): deleted entries as [id, nil]. */
function deliverHistory(c: CommandContext, e: Entry, key: Buffer, group: Buffer, g: ConsumerGroup, consumerName: string, start: SID, count: number): Reply[] {
  const v = e.value as StreamValue;
  const consumer = g.consumers.get(consumerName)!;
  const ids = sortedIds(consumer.pending).filter((id) => id >= start);
  const now = Date.now();
  const out: Reply[] = [];
  for (const id of count > 0 ? ids.slice(0, count) : ids) {
    const fields = v.get(id);
    if (!fields) {
      out.push([idReply(id), NULL_ARRAY]);
      continue;
    }
    out.push([idReply(id), fields]);
    const p = g.pel.get(id)!;
    p.deliveryTime = now;
    p.deliveryCount++;
    c.keyspace.touch(e);
    changed(c, e.name, 'xgroup-pel', xclaimEffect(key, group, id, p, g.lastId));
  }
  return out;
}

function xreadgroup(c: CommandContext, args: Buffer[]): Reply {
  const o = parseRead(c, args, true);
  const keys = args.slice(o.streamsArg, o.streamsArg + o.streamsCount);
  const group = o.group!;
  const consumerName = str(o.consumer!);
  const starts: Array<SID | null> = [];
  for (let i = 0; i < o.streamsCount; i++) {
    const key = keys[i]!;
    const e = lookupTyped(c, key, 'stream');
    const g = (e?.value as StreamValue | undefined)?.groups.get(str(group));
    if (!g) throw noGroup(key, group, ' in XREADGROUP with GROUP option');
    const a = args[o.streamsArg + o.streamsCount + i]!;
    if (a.length === 1 && a[0] === 0x24) {
      throw new ErrorReply('ERR The $ ID is meaningless in the context of XREADGROUP: you want to read the history of this consumer by specifying a proper ID, or use the > ID to get new messages. The $ ID would just return an empty result set.');
    }
    if (a.length === 1 && a[0] === 0x3e) starts.push(null);
    else {
      const id = strictId(a);
      starts.push(id === MAX_SID ? null : id); // the greatest ID means ">", as in Redis
    }
  }
  const serve = (e: Entry, i: number, g: ConsumerGroup, history: SID | null, count: number): Reply[] => {
    const key = keys[i]!;
    if (!g.consumers.has(consumerName)) createConsumer(c, e, key, group, g, consumerName);
    // (the seen time alone is not a logged change: it is stored with the group's next change)
    g.consumers.get(consumerName)!.seenTime = Date.now();
    if (history !== null) return deliverHistory(c, e, key, group, g, consumerName, sidNext(history)!, count);
    return deliverNew(c, e, key, group, g, consumerName, count, o.noack);
  };
  const items: Array<[Buffer, Reply]> = [];
  for (let i = 0; i < o.streamsCount; i++) {
    const e = lookupTyped(c, keys[i]!, 'stream')!;
    const v = e.value as StreamValue;
    const g = v.groups.get(str(group))!;
    const start = starts[i]!;
    if (start !== null) {
      items.push([keys[i]!, serve(e, i, g, start, o.count)]);
    } else if (v.size > 0 && v.ids[v.ids.length - 1]! > g.lastId) {
      items.push([keys[i]!, serve(e, i, g, null, o.count)]);
    }
  }
  if (items.length > 0) return readReply(c, items);
  if (o.timeout === -1) return NULL_ARRAY;
  const b = c.server.blocking;
  if (!b.canBlock(c)) return NULL_ARRAY;
  const count = o.count || 1000;
  return b.block(c, keyRefsOf(c, keys), o.timeout, (name) => {
    const e = c.keyspace.lookup(c.session.db, name);
    if (e === undefined || e.type !== 'stream') return new ErrorReply('UNBLOCKED the stream key no longer exists');
    const v = e.value as StreamValue;
    const g = v.groups.get(str(group));
    if (!g) return new ErrorReply('NOGROUP the consumer group this client was blocked on no longer exists');
    if (v.size === 0 || v.ids[v.ids.length - 1]! <= g.lastId) return undefined;
    const i = keys.findIndex((k) => str(k) === name);
    return readReply(c, [[keys[i]!, serve(e, i, g, null, count)]]);
  }, { servesGone: true });
}

// --- XACK, XPENDING ---------------------------------------------------------------------

function xack(c: CommandContext, args: Buffer[]): Reply {
  const key = args[1]!;
  const e = lookupTyped(c, key, 'stream');
  const g = (e?.value as StreamValue | undefined)?.groups.get(str(args[2]!));
  if (!e || !g) return 0;
  const ids = args.slice(3).map(strictId);
  const acked: string[] = [];
  for (const id of ids) {
    if (g.pel.has(id)) {
      dropPending(g, id);
      acked.push(sidText(id));
    }
  }
  if (acked.length > 0) groupChanged(c, e, 'xgroup-pel', ['XACK', key, args[2]!, ...acked]);
  return acked.length;
}

function intervalBound(b: Buffer, missingSeq: bigint, start: boolean): SID {
  if (b.length > 1 && b[0] === 0x28) {
    const id = parseId(b.subarray(1), missingSeq, true).id;
    const n = start ? sidNext(id) : sidPrev(id);
    if (n === null) throw new ErrorReply(start ? 'ERR invalid start ID for the interval' : 'ERR invalid end ID for the interval');
    return n;
  }
  return parseId(b, missingSeq, false).id;
}

function xpending(c: CommandContext, args: Buffer[]): Reply {
  const key = args[1]!;
  const justInfo = args.length === 3;
  if (args.length !== 3 && (args.length < 6 || args.length > 9)) throw Errors.syntax();
  let start = MIN_SID;
  let end = MAX_SID;
  let count = 0;
  let minIdle = 0;
  let consumerName: string | null = null;
  if (args.length >= 6) {
    let idx = 3;
    if (keyword(args[3]!) === 'IDLE') {
      minIdle = clampNum(llArg(args[4]!));
      if (args.length < 8) throw Errors.syntax();
      idx += 2;
    }
    const n = llArg(args[idx + 2]!);
    count = n < 0n ? 0 : clampNum(n);
    start = intervalBound(args[idx]!, 0n, true);
    end = intervalBound(args[idx + 1]!, (1n << 64n) - 1n, false);
    if (idx + 3 < args.length) consumerName = str(args[idx + 3]!);
  }
  const e = lookupTyped(c, key, 'stream');
  const g = (e?.value as StreamValue | undefined)?.groups.get(str(args[2]!));
  if (!g) throw noGroup(key, args[2]!);
  if (justInfo) {
    if (g.pel.size === 0) return [0, null, null, NULL_ARRAY];
    const ids = sortedIds(g.pel.keys());
    const consumers: Reply[] = [];
    for (const [name, cons] of byName(g.consumers)) {
      if (cons.pending.size > 0) consumers.push([bulk(name), Buffer.from(String(cons.pending.size))]);
    }
    return [g.pel.size, idReply(ids[0]!), idReply(ids[ids.length - 1]!), consumers];
  }
  let pool: Iterable<SID>;
  if (consumerName !== null) {
    const cons = g.consumers.get(consumerName);
    if (!cons) return [];
    pool = cons.pending;
  } else pool = g.pel.keys();
  const now = Date.now();
  const out: Reply[] = [];
  for (const id of sortedIds(pool)) {
    if (count === 0) break;
    if (id < start) continue;
    if (id > end) break;
    const p = g.pel.get(id)!;
    if (minIdle && now - p.deliveryTime < minIdle) continue;
    count--;
    out.push([idReply(id), bulk(p.consumer), Math.max(0, now - p.deliveryTime), p.deliveryCount]);
  }
  return out;
}

// --- XCLAIM, XAUTOCLAIM -----------------------------------------------------------------

function xclaim(c: CommandContext, args: Buffer[]): Reply {
  const key = args[1]!;
  const group = args[2]!;
  const e = lookupTyped(c, key, 'stream');
  const v = e?.value as StreamValue | undefined;
  const g = v?.groups.get(str(group));
  if (!e || !v || !g) throw noGroup(key, group);
  let minIdle = clampNum(llArg(args[4]!, 'Invalid min-idle-time argument for XCLAIM'));
  if (minIdle < 0) minIdle = 0;
  const ids: SID[] = [];
  let j = 5;
  for (; j < args.length; j++) {
    try {
      ids.push(strictId(args[j]!));
    } catch {
      break;
    }
  }
  const now = Date.now();
  let force = false;
  let justId = false;
  let deliveryTime = -1;
  let retryCount = -1;
  let lastId = MIN_SID;
  for (; j < args.length; j++) {
    const more = args.length - 1 - j;
    const opt = keyword(args[j]!);
    if (opt === 'FORCE') force = true;
    else if (opt === 'JUSTID') justId = true;
    else if (opt === 'IDLE' && more > 0) deliveryTime = now - clampNum(llArg(args[++j]!, 'Invalid IDLE option argument for XCLAIM'));
    else if (opt === 'TIME' && more > 0) deliveryTime = clampNum(llArg(args[++j]!, 'Invalid TIME option argument for XCLAIM'));
    else if (opt === 'RETRYCOUNT' && more > 0) retryCount = clampNum(llArg(args[++j]!, 'Invalid RETRYCOUNT option argument for XCLAIM'));
    else if (opt === 'LASTID' && more > 0) lastId = strictId(args[++j]!);
    else throw Errors.echoing('ERR Unrecognized XCLAIM option \'', args[j]!, '\'');
  }
  let propagateLastId = false;
  if (lastId > g.lastId) {
    g.lastId = lastId;
    propagateLastId = true;
  }
  if (deliveryTime !== -1) {
    if (deliveryTime < 0 || deliveryTime > now) deliveryTime = now;
  } else deliveryTime = now;
  const name = str(args[3]!);
  const out: Reply[] = [];
  let touched = propagateLastId;
  let consumer: Consumer | undefined;
  for (const id of ids) {
    let p = g.pel.get(id);
    if (!v.get(id)) {
      if (p) {
        changed(c, e.name, 'xgroup-pel', xclaimEffect(key, group, id, p, g.lastId));
        propagateLastId = false;
        dropPending(g, id);
        touched = true;
      }
      continue;
    }
    let fresh = false;
    if (force && !p) {
      p = { consumer: '', deliveryTime: now, deliveryCount: 1 };
      g.pel.set(id, p);
      fresh = true;
    }
    if (!p) continue;
    if (!fresh && minIdle && now - p.deliveryTime < minIdle) continue;
    if (!consumer) {
      consumer = g.consumers.get(name) ?? createConsumer(c, e, key, group, g, name);
      consumer.seenTime = now;
    }
    if (!fresh && p.consumer !== name) g.consumers.get(p.consumer)?.pending.delete(id);
    p.deliveryTime = deliveryTime;
    if (retryCount >= 0) p.deliveryCount = retryCount;
    else if (!justId) p.deliveryCount++;
    p.consumer = name;
    consumer.pending.add(id);
    out.push(justId ? idReply(id) : entryReply(v, id));
    changed(c, e.name, 'xgroup-pel', xclaimEffect(key, group, id, p, g.lastId));
    propagateLastId = false;
    touched = true;
  }
  if (propagateLastId) changed(c, e.name, 'xgroup-pel', setIdEffect(key, group, g));
  if (touched || consumer) {
    c.keyspace.resize(e, v.bytes);
    c.keyspace.touch(e);
  }
  return out;
}

function xautoclaim(c: CommandContext, args: Buffer[]): Reply {
  const key = args[1]!;
  const group = args[2]!;
  let minIdle = clampNum(llArg(args[4]!, 'Invalid min-idle-time argument for XAUTOCLAIM'));
  if (minIdle < 0) minIdle = 0;
  const start = intervalBound(args[5]!, 0n, true);
  let count = 100;
  let justId = false;
  for (let j = 6; j < args.length; j++) {
    const more = args.length - 1 - j;
    const opt = keyword(args[j]!);
    if (opt === 'COUNT' && more > 0) {
      const n = parseInteger(args[j + 1]!);
      const max = Math.floor(Number(0x7fffffffffffffffn) / 16);
      if (n === null || n < 1n || n > BigInt(max)) throw new ErrorReply('ERR COUNT must be > 0');
      count = clampNum(n);
      j++;
    } else if (opt === 'JUSTID') justId = true;
    else throw Errors.syntax();
  }
  const e = lookupTyped(c, key, 'stream');
  const v = e?.value as StreamValue | undefined;
  const g = v?.groups.get(str(group));
  if (!e || !v || !g) throw noGroup(key, group);
  let attempts = count * 10;
  const now = Date.now();
  const name = str(args[3]!);
  const ids = sortedIds(g.pel.keys()).filter((id) => id >= start);
  const claimed: Reply[] = [];
  const deleted: Reply[] = [];
  let consumer: Consumer | undefined;
  let k = 0;
  let touched = false;
  while (attempts-- > 0 && count > 0 && k < ids.length) {
    const id = ids[k++]!;
    const p = g.pel.get(id)!;
    if (!v.get(id)) {
      changed(c, e.name, 'xgroup-pel', xclaimEffect(key, group, id, p, g.lastId));
      dropPending(g, id);
      deleted.push(idReply(id));
      count--;
      touched = true;
      continue;
    }
    if (minIdle && now - p.deliveryTime < minIdle) continue;
    if (!consumer) {
      consumer = g.consumers.get(name) ?? createConsumer(c, e, key, group, g, name);
      consumer.seenTime = now;
    }
    if (p.consumer !== name) g.consumers.get(p.consumer)?.pending.delete(id);
    p.deliveryTime = now;
    if (!justId) p.deliveryCount++;
    p.consumer = name;
    consumer.pending.add(id);
    claimed.push(justId ? idReply(id) : entryReply(v, id));
    count--;
    changed(c, e.name, 'xgroup-pel', xclaimEffect(key, group, id, p, g.lastId));
    touched = true;
  }
  const next = k < ids.length ? ids[k]! : MIN_SID;
  if (touched || consumer) {
    c.keyspace.resize(e, v.bytes);
    c.keyspace.touch(e);
  }
  return [idReply(next), claimed, deleted];
}

// --- XINFO ------------------------------------------------------------------------------

function readGroups(c: CommandContext, key: Buffer): StreamValue {
  const e = lookupTyped(c, key, 'stream');
  if (e === undefined) throw Errors.noSuchKey();
  return e.value as StreamValue;
}

function xinfoGroups(c: CommandContext, args: Buffer[]): Reply {
  const v = readGroups(c, args[2]!);
  return byName(v.groups).map(([name, g]) => new MapReply([
    [bulk('name'), bulk(name)],
    [bulk('consumers'), g.consumers.size],
    [bulk('pending'), g.pel.size],
    [bulk('last-delivered-id'), idReply(g.lastId)],
    [bulk('entries-read'), g.entriesRead === -1 ? null : g.entriesRead],
    [bulk('lag'), lag(v, g)],
  ]));
}

function xinfoConsumers(c: CommandContext, args: Buffer[]): Reply {
  const v = readGroups(c, args[2]!);
  const g = v.groups.get(str(args[3]!));
  if (!g) throw noSuchGroup(args[3]!, args[2]!);
  const now = Date.now();
  return byName(g.consumers).map(([name, cons]) => new MapReply([
    [bulk('name'), bulk(name)],
    [bulk('pending'), cons.pending.size],
    [bulk('idle'), Math.max(0, now - cons.seenTime)],
  ]));
}

const fullGroupsInfo = (v: StreamValue, count: number): Reply =>
  byName(v.groups).map(([name, g]) => {
    const pel = sortedIds(g.pel.keys());
    const limited = count > 0 ? pel.slice(0, count) : pel;
    return new MapReply([
      [bulk('name'), bulk(name)],
      [bulk('last-delivered-id'), idReply(g.lastId)],
      [bulk('entries-read'), g.entriesRead === -1 ? null : g.entriesRead],
      [bulk('lag'), lag(v, g)],
      [bulk('pel-count'), g.pel.size],
      [bulk('pending'), limited.map((id) => {
        const p = g.pel.get(id)!;
        return [idReply(id), bulk(p.consumer), p.deliveryTime, p.deliveryCount];
      })],
      [bulk('consumers'), byName(g.consumers).map(([cn, cons]) => {
        const own = sortedIds(cons.pending);
        return new MapReply([
          [bulk('name'), bulk(cn)],
          [bulk('seen-time'), cons.seenTime],
          [bulk('pel-count'), cons.pending.size],
          [bulk('pending'), (count > 0 ? own.slice(0, count) : own).map((id) => {
            const p = g.pel.get(id)!;
            return [idReply(id), p.deliveryTime, p.deliveryCount];
          })],
        ]);
      })],
    ]);
  });

// --- XINFO STREAM -----------------------------------------------------------------------

function xinfoStream(c: CommandContext, args: Buffer[]): Reply {
  const llArg = streamLlArg;
  const e = lookupTyped(c, args[2]!, 'stream');
  if (e === undefined) throw Errors.noSuchKey();
  let full = false;
  let count = 10;
  const extra = args.length - 3;
  if (extra > 0) {
    if (extra !== 1 && extra !== 3) throw Errors.subcommandSyntax(args[1]!, 'xinfo');
    if (keyword(args[3]!) !== 'FULL') throw Errors.subcommandSyntax(args[1]!, 'xinfo');
    full = true;
    if (extra === 3) {
      if (keyword(args[4]!) !== 'COUNT') throw Errors.subcommandSyntax(args[1]!, 'xinfo');
      const n = llArg(args[5]!);
      count = n < 0n ? 10 : n > 1_000_000_000n ? 1_000_000_000 : Number(n);
    }
  }
  const v = e.value as StreamValue;
  const nodes = v.nodeCount;
  const out: Array<[Reply, Reply]> = [
    [bulk('length'), v.size],
    [bulk('radix-tree-keys'), nodes],
    [bulk('radix-tree-nodes'), nodes + 1],
    [bulk('last-generated-id'), idReply(v.lastId)],
    [bulk('max-deleted-entry-id'), idReply(v.maxDeletedId)],
    [bulk('entries-added'), v.entriesAdded],
    [bulk('recorded-first-entry-id'), idReply(v.firstId)],
  ];
  if (!full) {
    out.push([bulk('groups'), v.groups.size]);
    out.push([bulk('first-entry'), v.size > 0 ? entryReply(v, v.ids[0]!) : null]);
    out.push([bulk('last-entry'), v.size > 0 ? entryReply(v, v.ids[v.ids.length - 1]!) : null]);
  } else {
    out.push([bulk('entries'), v.range(MIN_SID, MAX_SID, count, false).map((id) => entryReply(v, id))]);
    out.push([bulk('groups'), fullGroupsInfo(v, count)]);
  }
  return new MapReply(out);
}


const XINFO_HELP = [
  'XINFO <subcommand> [<arg> [value] [opt] ...]. Subcommands are:',
  'CONSUMERS <key> <groupname>',
  '    Show consumers of <groupname>.',
  'GROUPS <key>',
  '    Show the stream consumer groups.',
  'STREAM <key> [FULL [COUNT <count>]',
  '    Show information about the stream.',
  'HELP',
  '    Prints this help.',
];

const GROUP_KEY: KeySpec = { first: 2, last: 2, step: 1 };
const ONE_KEY: KeySpec = { first: 1, last: 1, step: 1 };

export function streamGroupCommands(): CommandDef[] {
  return [
    {
      name: 'xinfo',
      subcommands: [
        { name: 'stream', keys: GROUP_KEY, handler: xinfoStream },
        { name: 'groups', keys: GROUP_KEY, handler: xinfoGroups },
        { name: 'consumers', keys: GROUP_KEY, handler: xinfoConsumers },
        { name: 'help', handler: () => XINFO_HELP.map((l) => new SimpleString(l)) },
      ],
    },
    {
      name: 'xgroup',
      subcommands: [
        { name: 'create', keys: GROUP_KEY, handler: xgroupCreate },
        { name: 'setid', keys: GROUP_KEY, handler: xgroupSetid },
        { name: 'destroy', keys: GROUP_KEY, handler: xgroupDestroy },
        { name: 'createconsumer', keys: GROUP_KEY, handler: xgroupCreateConsumer },
        { name: 'delconsumer', keys: GROUP_KEY, handler: xgroupDelConsumer },
        { name: 'help', handler: () => XGROUP_HELP.map((l) => new SimpleString(l)) },
      ],
    },
    { name: 'xreadgroup', movableKeys: streamsKeys, handler: xreadgroup },
    { name: 'xack', keys: ONE_KEY, handler: xack },
    { name: 'xpending', keys: ONE_KEY, handler: xpending },
    { name: 'xclaim', keys: ONE_KEY, handler: xclaim },
    { name: 'xautoclaim', keys: ONE_KEY, handler: xautoclaim },
  ];
}
