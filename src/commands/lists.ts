import type { CommandDef } from './table.js';
import { Errors } from './errors.js';
import { ErrorReply, NULL_ARRAY, OK, type Reply } from '../protocol/reply.js';
import { keyword, longArg } from './args.js';
import { lookupTyped, own } from './keyaccess.js';
import { collectionChanged, collectionForWrite, streamedAggregate } from './collections.js';
import type { CommandContext } from '../execution/context.js';
import type { Entry } from '../keyspace/types.js';
import type { KeyRef } from '../keyspace/scheduler.js';
import { ListValue } from '../keyspace/values/list.js';
import { timeoutArg } from '../execution/blocking.js';
import { fromEnd, intArg, META, metaOnly, range, type Access } from '../keyspace/paging.js';
import { parseInteger, INT64_MIN } from '../util/numbers.js';

/**
 * The list family: pushes and pops at both ends, access by index, LINSERT,
 * LREM, LPOS, LMOVE/LMPOP and the blocking pops (BLPOP, BRPOP, BLMOVE,
 * BRPOPLPUSH, BLMPOP) on top of execution/blocking.ts. Values are ListValue
 * deques (keyspace/values/list.ts). Every mutation reports its effect:
 * pushes as given, pops as `LPOP key [count]` with the count actually popped,
 * moves as LMOVE/RPOPLPUSH.
 */

type End = 'LEFT' | 'RIGHT';

// ---------------------------------------------------------------------------
// helpers

function listOf(e: Entry): ListValue {
  return e.value as ListValue;
}

function newList(): ListValue {
  return new ListValue();
}

function whereArg(b: Buffer): End {
  const w = keyword(b);
  if (w !== 'LEFT' && w !== 'RIGHT') throw Errors.syntax();
  return w;
}

function popEnd(v: ListValue, where: End): Buffer {
  return (where === 'LEFT' ? v.popHead() : v.popTail())!;
}

function pushEnd(v: ListValue, where: End, b: Buffer): void {
  if (where === 'LEFT') v.pushHead(b);
  else v.pushTail(b);
}

/** The key's list for writing, created empty if missing; WRONGTYPE otherwise. */
function listForWrite(c: CommandContext, key: Buffer): Entry {
  return collectionForWrite(c, key, 'list', newList);
}

/**
 * Pop up to `count` elements from one end of an existing list (deleted when
 * emptied) and report it; the effect is `LPOP key [n]` / `RPOP key [n]`,
 * with the count when `withCount`.
 */
function popMany(c: CommandContext, key: Buffer, e: Entry, where: End, count: number, withCount: boolean): Buffer[] {
  const v = listOf(e);
  const n = Math.min(count, v.length);
  const out: Buffer[] = new Array(n);
  for (let i = 0; i < n; i++) out[i] = popEnd(v, where);
  const cmd = popCommandName(where);
  collectionChanged(c, e, where === 'LEFT' ? 'lpop' : 'rpop', withCount ? [cmd, key, String(n)] : [cmd, key]);
  return out;
}

function popCommandName(where: End): string {
  return where === 'LEFT' ? 'LPOP' : 'RPOP';
}

/** Normalize a Redis index against a length: null if out of range. */
function index(i: number, len: number): number | null {
  const k = i < 0 ? len + i : i;
  return k < 0 || k >= len ? null : k;
}

// ---------------------------------------------------------------------------
// pushes

function pushGeneric(c: CommandContext, args: Buffer[], where: End, onlyExisting: boolean): Reply {
  const key = args[1]!;
  let e = lookupTyped(c, key, 'list');
  if (e === undefined) {
    if (onlyExisting) return 0;
    e = listForWrite(c, key);
  }
  const v = listOf(e);
  for (let i = 2; i < args.length; i++) pushEnd(v, where, own(args[i]!));
  collectionChanged(c, e, where === 'LEFT' ? 'lpush' : 'rpush', args);
  return v.length;
}

// ---------------------------------------------------------------------------
// pops

function popGeneric(c: CommandContext, args: Buffer[], where: End): Reply {
  if (args.length > 3) return Errors.arity(args[0]!.toString('latin1'));
  const hasCount = args.length === 3;
  let count = 1;
  if (hasCount) {
    const n = parseInteger(args[2]!);
    if (n === null || n < 0n) return new ErrorReply('ERR value is out of range, must be positive');
    count = n > 2n ** 53n ? Number.MAX_SAFE_INTEGER : Number(n);
  }
  const key = args[1]!;
  const e = lookupTyped(c, key, 'list');
  if (e === undefined) return hasCount ? NULL_ARRAY : null;
  if (hasCount && count === 0) return [];
  const out = popMany(c, key, e, where, count, hasCount);
  return hasCount ? out : out[0]!;
}

// ---------------------------------------------------------------------------
// reads and edits by index / value

function llen(c: CommandContext, args: Buffer[]): Reply {
  const e = lookupTyped(c, args[1]!, 'list');
  return e === undefined ? 0 : listOf(e).length;
}

function lindex(c: CommandContext, args: Buffer[]): Reply {
  const e = lookupTyped(c, args[1]!, 'list');
  if (e === undefined) return null;
  const v = listOf(e);
  const i = index(longArg(args[2]!), v.length);
  return i === null ? null : v.at(i);
}

function lset(c: CommandContext, args: Buffer[]): Reply {
  const e = lookupTyped(c, args[1]!, 'list');
  if (e === undefined) return Errors.noSuchKey();
  const v = listOf(e);
  const i = index(longArg(args[2]!), v.length);
  if (i === null) return new ErrorReply('ERR index out of range');
  v.set(i, own(args[3]!));
  collectionChanged(c, e, 'lset', args);
  return OK;
}

/** LRANGE/LTRIM bounds: [from, to] inclusive, or null when empty. */
function clampRange(start: number, end: number, len: number): [number, number] | null {
  if (start < 0) start += len;
  if (end < 0) end += len;
  if (start < 0) start = 0;
  if (start > end || start >= len) return null;
  if (end >= len) end = len - 1;
  return [start, end];
}

function lrange(c: CommandContext, args: Buffer[]): Reply {
  const start = longArg(args[2]!);
  const end = longArg(args[3]!);
  const e = lookupTyped(c, args[1]!, 'list');
  if (e === undefined) return [];
  const v = listOf(e);
  const r = clampRange(start, end, v.length);
  if (r === null) return [];
  return (v.pages && streamedAggregate(c, e, 'array', [0])) || v.range(r[0], r[1]);
}

function ltrim(c: CommandContext, args: Buffer[]): Reply {
  const start = longArg(args[2]!);
  const end = longArg(args[3]!);
  const e = lookupTyped(c, args[1]!, 'list');
  if (e === undefined) return OK;
  const v = listOf(e);
  const len = v.length;
  const r = clampRange(start, end, len);
  const left = r === null ? len : r[0];
  const right = r === null ? 0 : len - r[1] - 1;
  if (left + right === 0) return OK;
  v.trim(left, right);
  collectionChanged(c, e, 'ltrim', args);
  return OK;
}

function linsert(c: CommandContext, args: Buffer[]): Reply {
  const w = keyword(args[2]!);
  if (w !== 'BEFORE' && w !== 'AFTER') return Errors.syntax();
  const e = lookupTyped(c, args[1]!, 'list');
  if (e === undefined) return 0;
  const v = listOf(e);
  const pivot = args[3]!;
  let at = -1;
  for (let i = 0; i < v.length; i++) {
    if (v.at(i).equals(pivot)) {
      at = i;
      break;
    }
  }
  if (at < 0) return -1;
  v.insert(w === 'BEFORE' ? at : at + 1, own(args[4]!));
  collectionChanged(c, e, 'linsert', args);
  return v.length;
}

function lrem(c: CommandContext, args: Buffer[]): Reply {
  const count = longArg(args[2]!);
  const e = lookupTyped(c, args[1]!, 'list');
  if (e === undefined) return 0;
  const v = listOf(e);
  const target = args[3]!;
  const idx: number[] = [];
  if (count >= 0) {
    for (let i = 0; i < v.length && (count === 0 || idx.length < count); i++) if (v.at(i).equals(target)) idx.push(i);
  } else {
    for (let i = v.length - 1; i >= 0 && idx.length < -count; i--) if (v.at(i).equals(target)) idx.push(i);
    idx.reverse();
  }
  if (idx.length === 0) return 0;
  v.removeIndexes(idx);
  collectionChanged(c, e, 'lrem', args);
  return idx.length;
}

function lpos(c: CommandContext, args: Buffer[]): Reply {
  let rank = 1n;
  let count = -1; // -1: no COUNT option
  let maxlen = 0;
  for (let j = 3; j < args.length; j++) {
    const opt = keyword(args[j]!);
    const more = j + 1 < args.length;
    if (opt === 'RANK' && more) {
      const n = parseInteger(args[++j]!);
      if (n === null) return Errors.notInteger();
      if (n === 0n) {
        return new ErrorReply(
          "ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list",
        );
      }
      rank = n;
    } else if (opt === 'COUNT' && more) {
      // getPositiveLongFromObjectOrReply with a message: also for non-integers
      const n = parseInteger(args[++j]!);
      if (n === null || n < 0n) return new ErrorReply("ERR COUNT can't be negative");
      count = n > 2n ** 53n ? Number.MAX_SAFE_INTEGER : Number(n);
    } else if (opt === 'MAXLEN' && more) {
      const n = parseInteger(args[++j]!);
      if (n === null || n < 0n) return new ErrorReply("ERR MAXLEN can't be negative");
      maxlen = n > 2n ** 53n ? Number.MAX_SAFE_INTEGER : Number(n);
    } else {
      return Errors.syntax();
    }
  }
  const fromTail = rank < 0n;
  // Redis negates LONG_MIN into itself, which then matches from the first hit; its COUNT test
  // (matches - rank + 1 >= count) then overflows and never stops: every match is returned.
  const r = rank === INT64_MIN ? 1n : fromTail ? -rank : rank;
  const countless = rank === INT64_MIN;
  const skip = r > 2n ** 53n ? Number.MAX_SAFE_INTEGER : Number(r) - 1;
  const e = lookupTyped(c, args[1]!, 'list');
  if (e === undefined) return count !== -1 ? [] : null;
  const v = listOf(e);
  const ele = args[2]!;
  const len = v.length;
  const out: number[] = [];
  let matches = 0;
  for (let k = 0; k < len && (maxlen === 0 || k < maxlen); k++) {
    const i = fromTail ? len - 1 - k : k;
    if (!v.at(i).equals(ele)) continue;
    matches++;
    if (matches <= skip) continue;
    out.push(i);
    if (count === -1 || (count !== 0 && !countless && out.length >= count)) break;
  }
  if (count === -1) return out.length > 0 ? out[0]! : null;
  return out;
}

// ---------------------------------------------------------------------------
// moves

/**
 * Move one element from src to dst. WRONGTYPE for either key before
 * anything changes. Returns null if src is missing. `name` picks the effect
 * (RPOPLPUSH or LMOVE) as Redis propagates them.
 */
function moveOne(c: CommandContext, src: Buffer, dst: Buffer, from: End, to: End, name: 'LMOVE' | 'RPOPLPUSH'): Reply {
  const se = lookupTyped(c, src, 'list');
  if (se === undefined) return null;
  let de = lookupTyped(c, dst, 'list');
  const value = popEnd(listOf(se), from);
  if (de === undefined) de = listForWrite(c, dst);
  pushEnd(listOf(de), to, value);
  // Redis's order: the push into dst, then the pop from src (and its del if emptied)
  collectionChanged(c, de, to === 'LEFT' ? 'lpush' : 'rpush', name === 'RPOPLPUSH' ? ['RPOPLPUSH', src, dst] : ['LMOVE', src, dst, from, to]);
  collectionChanged(c, se, from === 'LEFT' ? 'lpop' : 'rpop');
  return value;
}

function lmove(c: CommandContext, args: Buffer[]): Reply {
  const from = whereArg(args[3]!);
  const to = whereArg(args[4]!);
  return moveOne(c, args[1]!, args[2]!, from, to, 'LMOVE');
}

function rpoplpush(c: CommandContext, args: Buffer[]): Reply {
  return moveOne(c, args[1]!, args[2]!, 'RIGHT', 'LEFT', 'RPOPLPUSH');
}

// ---------------------------------------------------------------------------
// LMPOP / BLMPOP

interface MpopArgs {
  keys: Buffer[];
  where: End;
  count: number;
}

/** numkeys key... LEFT|RIGHT [COUNT n], starting at args[at] (numkeys). */
function parseMpop(args: Buffer[], at: number): MpopArgs {
  const nk = parseInteger(args[at]!);
  if (nk === null || nk < 1n) throw new ErrorReply('ERR numkeys should be greater than 0');
  const whereIdx = at + 1 + Number(nk > 2n ** 31n ? 2n ** 31n : nk);
  if (whereIdx >= args.length) throw Errors.syntax();
  const where = whereArg(args[whereIdx]!);
  let count = -1;
  for (let j = whereIdx + 1; j < args.length; j++) {
    if (count === -1 && keyword(args[j]!) === 'COUNT' && j + 1 < args.length) {
      const n = parseInteger(args[++j]!);
      if (n === null || n < 1n) throw new ErrorReply('ERR count should be greater than 0');
      count = n > 2n ** 53n ? Number.MAX_SAFE_INTEGER : Number(n);
    } else {
      throw Errors.syntax();
    }
  }
  return { keys: args.slice(at + 1, whereIdx), where, count: count === -1 ? 1 : count };
}

/** Pop from the first non-empty list of `keys`; undefined if all are empty. */
function mpopFirst(c: CommandContext, keys: Buffer[], where: End, count: number): Reply | undefined {
  for (const key of keys) {
    const e = lookupTyped(c, key, 'list');
    if (e === undefined) continue;
    return mpopFrom(c, key, e, where, count);
  }
  return undefined;
}

function mpopFrom(c: CommandContext, key: Buffer, e: Entry, where: End, count: number): Reply {
  return [key, popMany(c, key, e, where, count, true)];
}

function lmpop(c: CommandContext, args: Buffer[]): Reply {
  const m = parseMpop(args, 1);
  return mpopFirst(c, m.keys, m.where, m.count) ?? NULL_ARRAY;
}

/** The live, non-empty list under a (latin1) key name, for a blocked client's retry. */
function readyList(c: CommandContext, name: string): Entry | undefined {
  const e = c.keyspace.lookup(c.session.db, name);
  if (e === undefined || e.type !== 'list' || listOf(e).length === 0) return undefined;
  return e;
}

function refs(c: CommandContext, keys: Buffer[]): KeyRef[] {
  return keys.map((k) => ({ db: c.session.db, name: k.toString('latin1') }));
}

function blmpop(c: CommandContext, args: Buffer[]): Reply {
  // Redis parses numkeys, the keys, LEFT|RIGHT and COUNT before the timeout
  const m = parseMpop(args, 2);
  const ms = timeoutArg(args[1]!);
  const served = mpopFirst(c, m.keys, m.where, m.count);
  if (served !== undefined) return served;
  const b = c.server.blocking;
  if (!b.canBlock(c)) return NULL_ARRAY;
  return b.block(c, refs(c, m.keys), ms, (name) => {
    const e = readyList(c, name);
    return e && mpopFrom(c, Buffer.from(name, 'latin1'), e, m.where, m.count);
  });
}

// ---------------------------------------------------------------------------
// BLPOP / BRPOP

function bpop(c: CommandContext, args: Buffer[], where: End): Reply {
  const ms = timeoutArg(args[args.length - 1]!);
  const keys = args.slice(1, -1);
  const serve = (key: Buffer, e: Entry): Reply => {
    const [value] = popMany(c, key, e, where, 1, false);
    return [key, value!];
  };
  for (const key of keys) {
    const e = lookupTyped(c, key, 'list');
    if (e !== undefined) return serve(key, e);
  }
  const b = c.server.blocking;
  if (!b.canBlock(c)) return NULL_ARRAY;
  return b.block(c, refs(c, keys), ms, (name) => {
    const e = readyList(c, name);
    return e && serve(Buffer.from(name, 'latin1'), e);
  });
}

// ---------------------------------------------------------------------------
// BLMOVE / BRPOPLPUSH

function bmove(c: CommandContext, src: Buffer, dst: Buffer, from: End, to: End, ms: number, name: 'LMOVE' | 'RPOPLPUSH'): Reply {
  if (lookupTyped(c, src, 'list') !== undefined) return moveOne(c, src, dst, from, to, name);
  const b = c.server.blocking;
  if (!b.canBlock(c)) return null;
  const srcName = src.toString('latin1');
  return b.block(
    c,
    [{ db: c.session.db, name: srcName }],
    ms,
    (ready) => (readyList(c, ready) === undefined ? undefined : moveOne(c, src, dst, from, to, name)),
    { also: [{ db: c.session.db, name: dst.toString('latin1') }] },
  );
}

function blmove(c: CommandContext, args: Buffer[]): Reply {
  const from = whereArg(args[3]!);
  const to = whereArg(args[4]!);
  const ms = timeoutArg(args[5]!);
  return bmove(c, own(args[1]!), own(args[2]!), from, to, ms, 'LMOVE');
}

function brpoplpush(c: CommandContext, args: Buffer[]): Reply {
  const ms = timeoutArg(args[3]!);
  return bmove(c, own(args[1]!), own(args[2]!), 'RIGHT', 'LEFT', ms, 'RPOPLPUSH');
}

// ---------------------------------------------------------------------------
// the table

/** Keys of LMPOP/BLMPOP: `numkeys` at `at`, the keys after it. */
function mpopKeys(at: number) {
  return (args: Buffer[]): number[] => {
    const n = args.length > at ? parseInteger(args[at]!) : null;
    if (n === null || n < 1n || BigInt(at) + n >= BigInt(args.length)) return [];
    const out: number[] = [];
    for (let i = 0; i < Number(n); i++) out.push(at + 1 + i);
    return out;
  };
}

const one = { first: 1, last: 1, step: 1 };
const two = { first: 1, last: 2, step: 1 };

// --- what each command needs of a paged list (keyspace/paging.ts) ---------------

const popAccess = (tail: boolean) => (args: Buffer[]) => fromEnd(tail, args.length > 2 ? intArg(args[2]) : 1);
const oneAt = (tail: boolean) => (): Access => fromEnd(tail, 1);
const indexAccess = (args: Buffer[]) => range(intArg(args[2]), intArg(args[2]));
const rangeAccess = (args: Buffer[]) => range(intArg(args[2]), intArg(args[3]));
/** LMOVE/BLMOVE, RPOPLPUSH/BRPOPLPUSH (no wherefrom: the tail): one source element; the destination only grows. */
const moveAccess = (args: Buffer[], index: number): Access =>
  index === 1 ? fromEnd(args.length < 5 || keyword(args[3]!) === 'RIGHT', 1) : META;
/** LMPOP/BLMPOP: numkeys key... LEFT|RIGHT [COUNT n] */
const mpopAccess = (numkeysAt: number) => (args: Buffer[]): Access => {
  const where = numkeysAt + 1 + intArg(args[numkeysAt]);
  return fromEnd(keyword(args[where]!) === 'RIGHT', args.length > where + 1 ? intArg(args[where + 2]) : 1);
};

export const listsCommands: CommandDef[] = [
  {
    name: 'lpush', arity: -3, flags: ['write', 'denyoom', 'fast'], keys: one, access: metaOnly, group: 'list', since: '1.0.0',
    summary: 'Prepends one or more elements to a list. Creates the key if it doesn\'t exist.',
    complexity: 'O(1) for each element added, so O(N) to add N elements when the command is called with multiple arguments.',
    handler: (c, args) => pushGeneric(c, args, 'LEFT', false),
  },
  {
    name: 'rpush', arity: -3, flags: ['write', 'denyoom', 'fast'], keys: one, access: metaOnly, group: 'list', since: '1.0.0',
    summary: 'Appends one or more elements to a list. Creates the key if it doesn\'t exist.',
    complexity: 'O(1) for each element added, so O(N) to add N elements when the command is called with multiple arguments.',
    handler: (c, args) => pushGeneric(c, args, 'RIGHT', false),
  },
  {
    name: 'lpushx', arity: -3, flags: ['write', 'denyoom', 'fast'], keys: one, access: metaOnly, group: 'list', since: '2.2.0',
    summary: 'Prepends one or more elements to a list only when the list exists.',
    complexity: 'O(1) for each element added, so O(N) to add N elements when the command is called with multiple arguments.',
    handler: (c, args) => pushGeneric(c, args, 'LEFT', true),
  },
  {
    name: 'rpushx', arity: -3, flags: ['write', 'denyoom', 'fast'], keys: one, access: metaOnly, group: 'list', since: '2.2.0',
    summary: 'Appends an element to a list only when the list exists.',
    complexity: 'O(1) for each element added, so O(N) to add N elements when the command is called with multiple arguments.',
    handler: (c, args) => pushGeneric(c, args, 'RIGHT', true),
  },
  {
    name: 'lpop', arity: -2, flags: ['write', 'fast'], keys: one, access: popAccess(false), group: 'list', since: '1.0.0',
    summary: 'Returns the first elements in a list after removing it. Deletes the list if the last element was popped.',
    complexity: 'O(N) where N is the number of elements returned',
    handler: (c, args) => popGeneric(c, args, 'LEFT'),
  },
  {
    name: 'rpop', arity: -2, flags: ['write', 'fast'], keys: one, access: popAccess(true), group: 'list', since: '1.0.0',
    summary: 'Returns and removes the last elements of a list. Deletes the list if the last element was popped.',
    complexity: 'O(N) where N is the number of elements returned',
    handler: (c, args) => popGeneric(c, args, 'RIGHT'),
  },
  {
    name: 'llen', arity: 2, flags: ['readonly', 'fast'], keys: one, access: metaOnly, group: 'list', since: '1.0.0',
    summary: 'Returns the length of a list.', complexity: 'O(1)', handler: llen,
  },
  {
    name: 'lindex', arity: 3, flags: ['readonly'], keys: one, access: indexAccess, group: 'list', since: '1.0.0',
    summary: 'Returns an element from a list by its index.',
    complexity: 'O(N) where N is the number of elements to traverse to get to the element at index. This makes asking for the first or the last element of the list O(1).',
    handler: lindex,
  },
  {
    name: 'lset', arity: 4, flags: ['write', 'denyoom'], keys: one, access: indexAccess, group: 'list', since: '1.0.0',
    summary: 'Sets the value of an element in a list by its index.',
    complexity: 'O(N) where N is the length of the list. Setting either the first or the last element of the list is O(1).',
    handler: lset,
  },
  {
    name: 'lrange', arity: 4, flags: ['readonly'], keys: one, access: rangeAccess, streams: true, group: 'list', since: '1.0.0',
    summary: 'Returns a range of elements from a list.',
    complexity: 'O(S+N) where S is the distance of start offset from HEAD for small lists, from nearest end (HEAD or TAIL) for large lists; and N is the number of elements in the specified range.',
    handler: lrange,
  },
  {
    name: 'ltrim', arity: 4, flags: ['write'], keys: one, group: 'list', since: '1.0.0',
    summary: 'Removes elements from both ends a list. Deletes the list if all elements were trimmed.',
    complexity: 'O(N) where N is the number of elements to be removed by the operation.',
    handler: ltrim,
  },
  {
    name: 'linsert', arity: 5, flags: ['write', 'denyoom'], keys: one, group: 'list', since: '2.2.0',
    summary: 'Inserts an element before or after another element in a list.',
    complexity: 'O(N) where N is the number of elements to traverse before seeing the value pivot. This means that inserting somewhere on the left end on the list (head) can be considered O(1) and inserting somewhere on the right end (tail) is O(N).',
    handler: linsert,
  },
  {
    name: 'lrem', arity: 4, flags: ['write'], keys: one, group: 'list', since: '1.0.0',
    summary: 'Removes elements from a list. Deletes the list if the last element was removed.',
    complexity: 'O(N+M) where N is the length of the list and M is the number of elements removed.',
    handler: lrem,
  },
  {
    name: 'lpos', arity: -3, flags: ['readonly'], keys: one, group: 'list', since: '6.0.6',
    summary: 'Returns the index of matching elements in a list.',
    complexity: 'O(N) where N is the number of elements in the list, for the average case. When searching for elements near the head or the tail of the list, or when the MAXLEN option is provided, the command may run in constant time.',
    handler: lpos,
  },
  {
    name: 'lmove', arity: 5, flags: ['write', 'denyoom'], keys: two, access: moveAccess, group: 'list', since: '6.2.0',
    summary: 'Returns an element after popping it from one list and pushing it to another. Deletes the list if the last element was moved.',
    complexity: 'O(1)', handler: lmove,
  },
  {
    name: 'rpoplpush', arity: 3, flags: ['write', 'denyoom'], keys: two, access: moveAccess, group: 'list', since: '1.2.0',
    summary: 'Returns the last element of a list after removing and pushing it to another list. Deletes the list if the last element was popped.',
    complexity: 'O(1)', handler: rpoplpush,
  },
  {
    name: 'lmpop', arity: -4, flags: ['write', 'movablekeys'], movableKeys: mpopKeys(1), access: mpopAccess(1), group: 'list', since: '7.0.0',
    summary: 'Returns multiple elements from a list after removing them. Deletes the list if the last element was popped.',
    complexity: 'O(N+M) where N is the number of provided keys and M is the number of elements returned.',
    handler: lmpop,
  },
  {
    name: 'blpop', arity: -3, flags: ['write', 'noscript', 'blocking'], keys: { first: 1, last: -2, step: 1 }, access: oneAt(false),
    group: 'list', since: '2.0.0',
    summary: 'Removes and returns the first element in a list. Blocks until an element is available otherwise. Deletes the list if the last element was popped.',
    complexity: 'O(N) where N is the number of provided keys.',
    handler: (c, args) => bpop(c, args, 'LEFT'),
  },
  {
    name: 'brpop', arity: -3, flags: ['write', 'noscript', 'blocking'], keys: { first: 1, last: -2, step: 1 }, access: oneAt(true),
    group: 'list', since: '2.0.0',
    summary: 'Removes and returns the last element in a list. Blocks until an element is available otherwise. Deletes the list if the last element was popped.',
    complexity: 'O(N) where N is the number of provided keys.',
    handler: (c, args) => bpop(c, args, 'RIGHT'),
  },
  {
    name: 'brpoplpush', arity: 4, flags: ['write', 'denyoom', 'noscript', 'blocking'], keys: two, access: moveAccess, group: 'list', since: '2.2.0',
    summary: 'Pops an element from a list, pushes it to another list and returns it. Block until an element is available otherwise. Deletes the list if the last element was popped.',
    complexity: 'O(1)', handler: brpoplpush,
  },
  {
    name: 'blmove', arity: 6, flags: ['write', 'denyoom', 'noscript', 'blocking'], keys: two, access: moveAccess, group: 'list', since: '6.2.0',
    summary: 'Pops an element from a list, pushes it to another list and returns it. Blocks until an element is available otherwise. Deletes the list if the last element was moved.',
    complexity: 'O(1)', handler: blmove,
  },
  {
    name: 'blmpop', arity: -5, flags: ['write', 'blocking', 'movablekeys'], movableKeys: mpopKeys(2), access: mpopAccess(2), group: 'list', since: '7.0.0',
    summary: 'Pops the first element from one of multiple lists. Blocks until an element is available otherwise. Deletes the list if the last element was popped.',
    complexity: 'O(N+M) where N is the number of provided keys and M is the number of elements returned.',
    handler: blmpop,
  },
];
