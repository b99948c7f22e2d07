import type { CommandDef, KeySpec } from './table.js';
import type { CommandContext } from '../execution/context.js';
import { Errors } from './errors.js';
import { ErrorReply, SetReply, type Reply } from '../protocol/reply.js';
import { checkReplySize, int64Arg, keyword, signedCountArg } from './args.js';
import { changed, lookup, lookupRead, lookupTyped } from './keyaccess.js';
import type { KeyEvent } from '../keyspace/events.js';
import { accountIndex, bigAggregate, collectionChanged, createCollection, storeCollection, streamedAggregate } from './collections.js';
import { EMPTY_SCAN, memberOrderScan, parseScanCursor, parseScanOptions, scanAccess, scanPage } from './scan.js';
import { valueOps } from '../keyspace/value-ops.js';
import { parseInteger, parseSafeInt } from '../util/numbers.js';
import { globMatch } from '../util/glob.js';
import { SetValue, type ScanOrder } from '../keyspace/values/set.js';
import { membersFrom, metaOnly } from '../keyspace/paging.js';
import type { Entry, KeyType } from '../keyspace/types.js';

/**
 * The set family, Redis 7.0 semantics. Members are latin1 strings inside
 * SetValue; replies turn them back into bytes. Every mutation records its
 * effect: SPOP as SREM (or DEL when it empties the set), the *STORE
 * commands and SMOVE as themselves (deterministic given the data).
 */

const str = (b: Buffer) => b.toString('latin1');
const bulk = (s: string) => Buffer.from(s, 'latin1');

function readSet(c: CommandContext, key: Buffer): SetValue | undefined {
  const e = lookupRead(c, key);
  if (e !== undefined && e.type !== 'set') throw Errors.wrongType();
  return e?.value as SetValue | undefined;
}

// --- commands ---------------------------------------------------------------

function sadd(c: CommandContext, args: Buffer[]): Reply {
  const key = args[1]!;
  const e = lookupTyped(c, key, 'set');
  const set = e ? (e.value as SetValue) : new SetValue();
  const added: Buffer[] = [];
  for (let i = 2; i < args.length; i++) {
    if (set.add(str(args[i]!))) added.push(args[i]!);
  }
  if (added.length === 0) return 0;
  if (e) {
    collectionChanged(c, e, 'sadd', ['SADD', key, ...added]);
  } else {
    createCollection(c, key, 'set', set);
    changed(c, key, 'sadd', ['SADD', key, ...added]);
  }
  return added.length;
}

function srem(c: CommandContext, args: Buffer[]): Reply {
  const key = args[1]!;
  const e = lookupTyped(c, key, 'set');
  if (!e) return 0;
  const set = e.value as SetValue;
  const removed: Buffer[] = [];
  for (let i = 2; i < args.length && set.size > 0; i++) {
    if (set.delete(str(args[i]!))) removed.push(args[i]!);
  }
  if (removed.length === 0) return 0;
  collectionChanged(c, e, 'srem', ['SREM', key, ...removed]);
  return removed.length;
}

function smove(c: CommandContext, args: Buffer[]): Reply {
  const [, srcKey, dstKey, memberBuf] = args as [Buffer, Buffer, Buffer, Buffer];
  const src = lookup(c, srcKey);
  const dst = lookup(c, dstKey);
  if (!src) return 0;
  if (src.type !== 'set' || (dst && dst.type !== 'set')) throw Errors.wrongType();
  const member = str(memberBuf);
  const srcSet = src.value as SetValue;
  if (src === dst) return srcSet.has(member) ? 1 : 0;
  if (!srcSet.delete(member)) return 0;
  collectionChanged(c, src, 'srem', ['SMOVE', srcKey, dstKey, memberBuf]);
  if (dst) {
    if ((dst.value as SetValue).add(member)) collectionChanged(c, dst, 'sadd');
  } else {
    createCollection(c, dstKey, 'set', SetValue.of([member]));
    changed(c, dstKey, 'sadd');
  }
  return 1;
}

function sismember(c: CommandContext, args: Buffer[]): Reply {
  const set = readSet(c, args[1]!);
  return set?.has(str(args[2]!)) ? 1 : 0;
}

function smismember(c: CommandContext, args: Buffer[]): Reply {
  const set = readSet(c, args[1]!);
  const out: Reply[] = [];
  for (let i = 2; i < args.length; i++) out.push(set?.has(str(args[i]!)) ? 1 : 0);
  return out;
}

function scard(c: CommandContext, args: Buffer[]): Reply {
  return readSet(c, args[1]!)?.size ?? 0;
}

function smembers(c: CommandContext, args: Buffer[]): Reply {
  const e = lookupRead(c, args[1]!);
  if (e !== undefined && e.type !== 'set') throw Errors.wrongType();
  const set = e?.value as SetValue | undefined;
  if (!set) return new SetReply([]);
  const streamed = set.pages ? streamedAggregate(c, e!, 'set', [0]) : undefined;
  if (streamed) return streamed;
  const big = set.pages ? undefined : bigAggregate(c, 'set', set.members.size, () => [...set.members]);
  if (big) return big;
  return new SetReply(membersReply(set.members));
}

function membersReply(members: Iterable<string>): Buffer[] {
  const out: Buffer[] = [];
  for (const m of members) out.push(bulk(m));
  return out;
}

function spop(c: CommandContext, args: Buffer[]): Reply {
  if (args.length > 3) throw Errors.syntax();
  const key = args[1]!;
  if (args.length === 3) {
    // getPositiveLongFromObjectOrReply with a message: also for non-integers
    const n = parseInteger(args[2]!);
    if (n === null || n < 0n) throw new ErrorReply('ERR value is out of range, must be positive');
    const e = lookupTyped(c, key, 'set');
    if (!e || n === 0n) return new SetReply([]);
    const set = e.value as SetValue;
    if (n >= BigInt(set.size)) {
      const all = membersReply(set.members);
      c.keyspace.remove(c.session.db, e);
      changed(c, key, 'spop', ['DEL', key]);
      changed(c, key, 'del');
      return new SetReply(all);
    }
    const picked = set.random().sample(Number(n));
    for (const m of picked) set.delete(m);
    const out = picked.map(bulk);
    collectionChanged(c, e, 'spop', ['SREM', key, ...out]);
    return new SetReply(out);
  }
  const e = lookupTyped(c, key, 'set');
  if (!e) return null;
  const set = e.value as SetValue;
  const m = set.random().random();
  set.delete(m);
  const out = bulk(m);
  collectionChanged(c, e, 'spop', ['SREM', key, out]);
  return out;
}

function srandmember(c: CommandContext, args: Buffer[]): Reply {
  if (args.length > 3) throw Errors.syntax();
  const n = args.length === 3 ? signedCountArg(args[2]!) : undefined;
  const e = lookupTyped(c, args[1]!, 'set');
  if (n === undefined) {
    if (!e) return null;
    const m = (e.value as SetValue).random().random();
    accountIndex(c, e);
    return bulk(m);
  }
  if (!e || n === 0n) return [];
  const set = e.value as SetValue;
  let out: string[];
  if (n < 0n || n === 1n) {
    const count = n < 0n ? -n : n;
    checkReplySize(count);
    out = set.random().randomWithRepeats(Number(count));
  } else if (n >= BigInt(set.size)) {
    return membersReply(set.members);
  } else {
    out = set.random().sample(Number(n));
  }
  accountIndex(c, e);
  return out.map(bulk);
}

/** The sets under these keys (undefined for missing keys), WRONGTYPE for any other type. */
function readSets(c: CommandContext, keys: Buffer[]): Array<SetValue | undefined> {
  return keys.map((k) => readSet(c, k));
}

/** Intersection of the sets, stopping at `limit` members (0 = all). */
function intersect(sets: Array<SetValue | undefined>, limit = 0): string[] {
  if (sets.some((s) => s === undefined)) return [];
  const sorted = (sets as SetValue[]).slice().sort((a, b) => a.size - b.size);
  const [first, ...rest] = sorted as [SetValue, ...SetValue[]];
  const others = rest.filter((s) => s !== first);
  const out: string[] = [];
  outer: for (const m of first.members) {
    for (const s of others) if (!s.has(m)) continue outer;
    out.push(m);
    if (limit > 0 && out.length >= limit) break;
  }
  return out;
}

function union(sets: Array<SetValue | undefined>): Set<string> {
  const out = new Set<string>();
  for (const s of sets) if (s) for (const m of s.members) out.add(m);
  return out;
}

function diff(sets: Array<SetValue | undefined>): string[] {
  const [first, ...rest] = sets;
  if (!first) return [];
  const others = rest.filter((s): s is SetValue => s !== undefined);
  if (others.includes(first)) return [];
  const out: string[] = [];
  outer: for (const m of first.members) {
    for (const s of others) if (s.has(m)) continue outer;
    out.push(m);
  }
  return out;
}

type SetOp = (sets: Array<SetValue | undefined>) => Iterable<string>;

function readOp(op: SetOp) {
  return (c: CommandContext, args: Buffer[]): Reply => new SetReply(membersReply(op(readSets(c, args.slice(1)))));
}

function storeOp(op: SetOp, event: KeyEvent) {
  return (c: CommandContext, args: Buffer[]): Reply => {
    const dst = args[1]!;
    const result = SetValue.of(op(readSets(c, args.slice(2))));
    storeCollection(c, dst, 'set', result, event, args);
    return result.size;
  };
}

function sintercard(c: CommandContext, args: Buffer[]): Reply {
  const numkeys = parseInteger(args[1]!);
  if (numkeys === null || numkeys < 1n) throw new ErrorReply('ERR numkeys should be greater than 0');
  if (numkeys > BigInt(args.length - 2)) throw new ErrorReply("ERR Number of keys can't be greater than number of args");
  const n = Number(numkeys);
  let limit = 0;
  for (let i = 2 + n; i < args.length; i++) {
    if (keyword(args[i]!) === 'LIMIT' && i + 1 < args.length) {
      const l = parseInteger(args[++i]!);
      if (l === null || l < 0n) throw new ErrorReply("ERR LIMIT can't be negative");
      limit = l > BigInt(Number.MAX_SAFE_INTEGER) ? 0 : Number(l);
    } else {
      throw Errors.syntax();
    }
  }
  return intersect(readSets(c, args.slice(2, 2 + n)), limit).length;
}

/** SINTERCARD numkeys key [key ...]: positions 2 .. 2+numkeys-1 (none if numkeys is invalid). */
function numkeysAt(numkeysIndex: number) {
  return (args: Buffer[]): number[] => {
    const n = args[numkeysIndex] ? parseSafeInt(args[numkeysIndex]!) : null;
    if (n === null || n < 1) return [];
    const first = numkeysIndex + 1;
    const out: number[] = [];
    for (let i = first; i < first + n && i < args.length; i++) out.push(i);
    return out;
  };
}

function sscan(c: CommandContext, args: Buffer[]): Reply {
  const cursor = parseScanCursor(args[2]!);
  const e = lookupRead(c, args[1]!);
  if (e !== undefined && e.type !== 'set') throw Errors.wrongType();
  const set = e?.value as SetValue | undefined;
  if (!set) return EMPTY_SCAN();
  const opts = parseScanOptions(args, 3);
  const ordered = memberOrderScan(c, e!, set.pages !== null, cursor, opts, () => set.members, () => null);
  if (ordered) return [Buffer.from(ordered.next.toString()), ordered.rows.map(([m]) => bulk(m))];
  const page = scanPage(set.size, () => set.members, () => set.scan(), cursor, opts, () => set.releaseScan());
  return [Buffer.from(page.next.toString()), page.members.map(bulk)];
}

const ONE_KEY: KeySpec = { first: 1, last: 1, step: 1 };
const ALL_KEYS: KeySpec = { first: 1, last: -1, step: 1 };

export const setsCommands: CommandDef[] = [
  {
    name: 'sadd', arity: -3, flags: ['write', 'denyoom', 'fast'], keys: ONE_KEY, access: membersFrom(2), group: 'set', since: '1.0.0',
    summary: 'Add one or more members to a set',
    complexity: 'O(1) for each element added, so O(N) to add N elements when the command is called with multiple arguments.',
    handler: sadd,
  },
  {
    name: 'srem', arity: -3, flags: ['write', 'fast'], keys: ONE_KEY, access: membersFrom(2), group: 'set', since: '1.0.0',
    summary: 'Remove one or more members from a set',
    complexity: 'O(N) where N is the number of members to be removed.', handler: srem,
  },
  {
    name: 'scard', arity: 2, flags: ['readonly', 'fast'], keys: ONE_KEY, access: metaOnly, group: 'set', since: '1.0.0',
    summary: 'Get the number of members in a set', complexity: 'O(1)', handler: scard,
  },
  {
    name: 'sismember', arity: 3, flags: ['readonly', 'fast'], keys: ONE_KEY, access: membersFrom(2), group: 'set', since: '1.0.0',
    summary: 'Determine if a given value is a member of a set', complexity: 'O(1)', handler: sismember,
  },
  {
    name: 'smismember', arity: -3, flags: ['readonly', 'fast'], keys: ONE_KEY, access: membersFrom(2), group: 'set', since: '6.2.0',
    summary: 'Returns the membership associated with the given elements for a set',
    complexity: 'O(N) where N is the number of elements being checked for membership', handler: smismember,
  },
  {
    name: 'smembers', arity: 2, flags: ['readonly'], keys: ONE_KEY, streams: true, group: 'set', since: '1.0.0',
    summary: 'Get all the members in a set', complexity: 'O(N) where N is the set cardinality.', handler: smembers,
  },
  {
    name: 'srandmember', arity: -2, flags: ['readonly'], keys: ONE_KEY, group: 'set', since: '1.0.0',
    summary: 'Get one or multiple random members from a set',
    complexity: 'Without the count argument O(1), otherwise O(N) where N is the absolute value of the passed count.',
    handler: srandmember,
  },
  {
    name: 'spop', arity: -2, flags: ['write', 'fast'], keys: ONE_KEY, group: 'set', since: '1.0.0',
    summary: 'Remove and return one or multiple random members from a set',
    complexity: 'Without the count argument O(1), otherwise O(N) where N is the value of the passed count.',
    handler: spop,
  },
  {
    name: 'smove', arity: 4, flags: ['write', 'fast'], keys: { first: 1, last: 2, step: 1 }, access: membersFrom(3), group: 'set',
    since: '1.0.0', summary: 'Move a member from one set to another', complexity: 'O(1)', handler: smove,
  },
  {
    name: 'sinter', arity: -2, flags: ['readonly'], keys: ALL_KEYS, group: 'set', since: '1.0.0',
    summary: 'Intersect multiple sets',
    complexity: 'O(N*M) worst case where N is the cardinality of the smallest set and M is the number of sets.',
    handler: readOp(intersect),
  },
  {
    name: 'sintercard', arity: -3, flags: ['readonly', 'movablekeys'], movableKeys: numkeysAt(1), group: 'set',
    since: '7.0.0', summary: 'Intersect multiple sets and return the cardinality of the result',
    complexity: 'O(N*M) worst case where N is the cardinality of the smallest set and M is the number of sets.',
    handler: sintercard,
  },
  {
    name: 'sinterstore', arity: -3, flags: ['write', 'denyoom'], keys: ALL_KEYS, group: 'set', since: '1.0.0',
    summary: 'Intersect multiple sets and store the resulting set in a key',
    complexity: 'O(N*M) worst case where N is the cardinality of the smallest set and M is the number of sets.',
    handler: storeOp(intersect, 'sinterstore'),
  },
  {
    name: 'sunion', arity: -2, flags: ['readonly'], keys: ALL_KEYS, group: 'set', since: '1.0.0',
    summary: 'Add multiple sets', complexity: 'O(N) where N is the total number of elements in all given sets.',
    handler: readOp(union),
  },
  {
    name: 'sunionstore', arity: -3, flags: ['write', 'denyoom'], keys: ALL_KEYS, group: 'set', since: '1.0.0',
    summary: 'Add multiple sets and store the resulting set in a key',
    complexity: 'O(N) where N is the total number of elements in all given sets.', handler: storeOp(union, 'sunionstore'),
  },
  {
    name: 'sdiff', arity: -2, flags: ['readonly'], keys: ALL_KEYS, group: 'set', since: '1.0.0',
    summary: 'Subtract multiple sets', complexity: 'O(N) where N is the total number of elements in all given sets.',
    handler: readOp(diff),
  },
  {
    name: 'sdiffstore', arity: -3, flags: ['write', 'denyoom'], keys: ALL_KEYS, group: 'set', since: '1.0.0',
    summary: 'Subtract multiple sets and store the resulting set in a key',
    complexity: 'O(N) where N is the total number of elements in all given sets.', handler: storeOp(diff, 'sdiffstore'),
  },
  {
    name: 'sscan', arity: -3, flags: ['readonly'], keys: ONE_KEY, access: scanAccess, group: 'set', since: '2.8.0',
    summary: 'Incrementally iterate Set elements',
    complexity: 'O(1) for every call. O(N) for a complete iteration, including enough command calls for the cursor to return back to 0. N is the number of elements inside the collection..',
    handler: sscan,
  },
];
