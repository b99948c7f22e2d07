import type { CommandDef, KeySpec } from './table.js';
import type { CommandContext } from '../execution/context.js';
import { Errors } from './errors.js';
import { ErrorReply, MapReply, OK, StreamedReply, type Reply } from '../protocol/reply.js';
import { checkReplySize, int64Arg, keyword, signedCountArg } from './args.js';
import { changed, lookupTyped, own } from './keyaccess.js';
import type { KeyEvent } from '../keyspace/events.js';
import { int64Add, parseInteger } from '../util/numbers.js';
import { addLongDouble, formatLongDoubleHuman, parseLongDouble } from '../util/long-double.js';
import { HashValue } from '../keyspace/values/hash.js';
import { membersFrom, metaOnly } from '../keyspace/paging.js';
import { EMPTY_SCAN, memberOrderScan, parseScanCursor, parseScanOptions, scanAccess, scanPage } from './scan.js';
import { accountIndex, bigAggregate, collectionChanged, createCollection, streamedAggregate } from './collections.js';

/**
 * The hash family, Redis 7.0 semantics. Fields are latin1 strings inside
 * HashValue, values private Buffers. Effects: HSET/HMSET/HSETNX/HINCRBY/
 * HINCRBYFLOAT all log an HSET of the resulting values; HDEL logs the fields
 * it removed.
 */

const str = (b: Buffer) => b.toString('latin1');
const bulk = (s: string) => Buffer.from(s, 'latin1');

function readHash(c: CommandContext, key: Buffer): HashValue | undefined {
  return lookupTyped(c, key, 'hash')?.value as HashValue | undefined;
}

/** Set field/value `pairs`, creating the key if needed; logs them as one HSET and returns how many fields are new. */
function setPairs(c: CommandContext, key: Buffer, pairs: Buffer[], event: KeyEvent = 'hset'): number {
  const e = lookupTyped(c, key, 'hash');
  const h = e ? (e.value as HashValue) : new HashValue();
  let added = 0;
  for (let i = 0; i + 1 < pairs.length; i += 2) {
    if (h.set(str(pairs[i]!), own(pairs[i + 1]!))) added++;
  }
  if (e) {
    collectionChanged(c, e, event, ['HSET', key, ...pairs]);
  } else {
    createCollection(c, key, 'hash', h);
    changed(c, key, event, ['HSET', key, ...pairs]);
  }
  return added;
}

function hset(c: CommandContext, args: Buffer[]): Reply {
  if (args.length % 2 === 1) throw Errors.arity('hset');
  return setPairs(c, args[1]!, args.slice(2));
}

function hmset(c: CommandContext, args: Buffer[]): Reply {
  if (args.length % 2 === 1) throw Errors.arity('hmset');
  setPairs(c, args[1]!, args.slice(2));
  return OK;
}

function hsetnx(c: CommandContext, args: Buffer[]): Reply {
  const h = readHash(c, args[1]!);
  if (h?.has(str(args[2]!))) return 0;
  setPairs(c, args[1]!, [args[2]!, args[3]!]);
  return 1;
}

function hget(c: CommandContext, args: Buffer[]): Reply {
  return readHash(c, args[1]!)?.get(str(args[2]!)) ?? null;
}

function hmget(c: CommandContext, args: Buffer[]): Reply {
  const h = readHash(c, args[1]!);
  const out: Reply[] = [];
  for (let i = 2; i < args.length; i++) out.push(h?.get(str(args[i]!)) ?? null);
  return out;
}

/**
 * HGETALL/HKEYS/HVALS: the hash, or the reply streamed from the rows opened
 * for a paged one (`columns` of [field, value]).
 */
function wholeHash(c: CommandContext, key: Buffer, columns: readonly number[]): HashValue | StreamedReply | undefined {
  const e = lookupTyped(c, key, 'hash');
  if (e === undefined) return undefined;
  const h = e.value as HashValue;
  return (h.pages && streamedAggregate(c, e, columns.length === 2 ? 'map' : 'array', columns)) || h;
}

function hgetall(c: CommandContext, args: Buffer[]): Reply {
  const h = wholeHash(c, args[1]!, [0, 1]);
  if (h instanceof StreamedReply) return h;
  const big = h && !h.pages ? bigAggregate(c, 'map', h.fields.size, () => {
    const items: Array<string | Buffer> = [];
    h.fields.forEach((v, f) => items.push(f, v));
    return items;
  }) : undefined;
  if (big) return big;
  const entries: Array<[Reply, Reply]> = [];
  if (h) for (const [f, v] of h) entries.push([bulk(f), v]);
  return new MapReply(entries);
}

function hkeys(c: CommandContext, args: Buffer[]): Reply {
  const h = wholeHash(c, args[1]!, [0]);
  if (h instanceof StreamedReply) return h;
  const big = h && !h.pages ? bigAggregate(c, 'array', h.fields.size, () => [...h.fields.keys()]) : undefined;
  if (big) return big;
  const out: Reply[] = [];
  if (h) for (const f of h.fields.keys()) out.push(bulk(f));
  return out;
}

function hvals(c: CommandContext, args: Buffer[]): Reply {
  const h = wholeHash(c, args[1]!, [1]);
  if (h instanceof StreamedReply) return h;
  const big = h && !h.pages ? bigAggregate(c, 'array', h.fields.size, () => [...h.fields.values()]) : undefined;
  if (big) return big;
  const out: Reply[] = [];
  if (h) for (const v of h.fields.values()) out.push(v);
  return out;
}

function hdel(c: CommandContext, args: Buffer[]): Reply {
  const key = args[1]!;
  const e = lookupTyped(c, key, 'hash');
  if (!e) return 0;
  const h = e.value as HashValue;
  const removed: Buffer[] = [];
  for (let i = 2; i < args.length && h.size > 0; i++) {
    if (h.delete(str(args[i]!))) removed.push(args[i]!);
  }
  if (removed.length === 0) return 0;
  collectionChanged(c, e, 'hdel', ['HDEL', key, ...removed]);
  return removed.length;
}

function hlen(c: CommandContext, args: Buffer[]): Reply {
  return readHash(c, args[1]!)?.size ?? 0;
}

function hexists(c: CommandContext, args: Buffer[]): Reply {
  return readHash(c, args[1]!)?.has(str(args[2]!)) ? 1 : 0;
}

function hstrlen(c: CommandContext, args: Buffer[]): Reply {
  return readHash(c, args[1]!)?.get(str(args[2]!))?.length ?? 0;
}

function hincrby(c: CommandContext, args: Buffer[]): Reply {
  const incr = int64Arg(args[3]!);
  const old = readHash(c, args[1]!)?.get(str(args[2]!));
  let cur = 0n;
  if (old !== undefined) {
    const n = parseInteger(old);
    if (n === null) throw new ErrorReply('ERR hash value is not an integer');
    cur = n;
  }
  const next = int64Add(cur, incr);
  if (next === null) throw Errors.overflow();
  setPairs(c, args[1]!, [args[2]!, Buffer.from(next.toString())], 'hincrby');
  return next;
}

function hincrbyfloat(c: CommandContext, args: Buffer[]): Reply {
  // Redis adds in long double precision: the strings family's emulation of it.
  const incr = parseLongDouble(args[3]!);
  if (incr === null) throw Errors.notFloat();
  if (!incr.finite) throw new ErrorReply('ERR value is NaN or Infinity');
  const old = readHash(c, args[1]!)?.get(str(args[2]!));
  let sum = incr;
  if (old !== undefined) {
    const cur = parseLongDouble(old);
    if (cur === null) throw new ErrorReply('ERR hash value is not a float');
    sum = addLongDouble(cur, incr);
  }
  if (!sum.finite) throw new ErrorReply('ERR increment would produce NaN or Infinity');
  const out = Buffer.from(formatLongDoubleHuman(sum));
  setPairs(c, args[1]!, [args[2]!, out], 'hincrbyfloat');
  return out;
}

function hrandfield(c: CommandContext, args: Buffer[]): Reply {
  if (args.length === 2) {
    const e = lookupTyped(c, args[1]!, 'hash');
    if (!e) return null;
    const f = (e.value as HashValue).random().random();
    accountIndex(c, e);
    return bulk(f);
  }
  const n = signedCountArg(args[2]!);
  if (args.length > 4 || (args.length === 4 && keyword(args[3]!) !== 'WITHVALUES')) throw Errors.syntax();
  const withValues = args.length === 4;
  if (withValues && (n < -HALF_LONG_MAX || n > HALF_LONG_MAX)) throw new ErrorReply('ERR value is out of range');
  const e = lookupTyped(c, args[1]!, 'hash');
  if (!e || n === 0n) return [];
  const h = e.value as HashValue;
  let fields: string[];
  if (n < 0n || n === 1n) {
    const count = n < 0n ? -n : n;
    checkReplySize(withValues ? count * 2n : count);
    fields = h.random().randomWithRepeats(Number(count));
    accountIndex(c, e);
  } else if (n >= BigInt(h.size)) {
    fields = [...h.fields.keys()];
  } else {
    fields = h.random().sample(Number(n));
    accountIndex(c, e);
  }
  if (!withValues) return fields.map(bulk);
  const out: Reply[] = [];
  if (c.session.protocol === 3) {
    for (const f of fields) out.push([bulk(f), h.get(f)!]);
  } else {
    for (const f of fields) out.push(bulk(f), h.get(f)!);
  }
  return out;
}
const HALF_LONG_MAX = 9223372036854775807n / 2n;

function hscan(c: CommandContext, args: Buffer[]): Reply {
  const cursor = parseScanCursor(args[2]!);
  const e = lookupTyped(c, args[1]!, 'hash');
  const h = e?.value as HashValue | undefined;
  if (!h) return EMPTY_SCAN();
  const opts = parseScanOptions(args, 3);
  const ordered = memberOrderScan(c, e!, h.pages !== null, cursor, opts, () => h.fields.keys(), (f) => h.get(f));
  if (ordered) {
    const items: Reply[] = [];
    for (const [f, v] of ordered.rows) items.push(bulk(f), v as Buffer);
    return [Buffer.from(ordered.next.toString()), items];
  }
  const page = scanPage(h.size, () => h.fields.keys(), () => h.scan(), cursor, opts, () => h.releaseScan());
  const items: Reply[] = [];
  for (const f of page.members) items.push(bulk(f), h.get(f)!);
  return [Buffer.from(page.next.toString()), items];
}

const ONE_KEY: KeySpec = { first: 1, last: 1, step: 1 };

export const hashesCommands: CommandDef[] = [
  {
    name: 'hset', arity: -4, flags: ['write', 'denyoom', 'fast'], keys: ONE_KEY, access: membersFrom(2, 2), group: 'hash', since: '2.0.0',
    summary: 'Set the string value of a hash field',
    complexity: 'O(1) for each field/value pair added, so O(N) to add N field/value pairs when the command is called with multiple field/value pairs.',
    handler: hset,
  },
  {
    name: 'hsetnx', arity: 4, flags: ['write', 'denyoom', 'fast'], keys: ONE_KEY, access: membersFrom(2, 2), group: 'hash', since: '2.0.0',
    summary: 'Set the value of a hash field, only if the field does not exist', complexity: 'O(1)', handler: hsetnx,
  },
  {
    name: 'hget', arity: 3, flags: ['readonly', 'fast'], keys: ONE_KEY, access: membersFrom(2), group: 'hash', since: '2.0.0',
    summary: 'Get the value of a hash field', complexity: 'O(1)', handler: hget,
  },
  {
    name: 'hmget', arity: -3, flags: ['readonly', 'fast'], keys: ONE_KEY, access: membersFrom(2), group: 'hash', since: '2.0.0',
    summary: 'Get the values of all the given hash fields',
    complexity: 'O(N) where N is the number of fields being requested.', handler: hmget,
  },
  {
    name: 'hmset', arity: -4, flags: ['write', 'denyoom', 'fast'], keys: ONE_KEY, access: membersFrom(2, 2), group: 'hash', since: '2.0.0',
    summary: 'Set multiple hash fields to multiple values',
    complexity: 'O(N) where N is the number of fields being set.', handler: hmset,
  },
  {
    name: 'hgetall', arity: 2, flags: ['readonly'], keys: ONE_KEY, streams: true, group: 'hash', since: '2.0.0',
    summary: 'Get all the fields and values in a hash', complexity: 'O(N) where N is the size of the hash.',
    handler: hgetall,
  },
  {
    name: 'hdel', arity: -3, flags: ['write', 'fast'], keys: ONE_KEY, access: membersFrom(2), group: 'hash', since: '2.0.0',
    summary: 'Delete one or more hash fields', complexity: 'O(N) where N is the number of fields to be removed.',
    handler: hdel,
  },
  {
    name: 'hlen', arity: 2, flags: ['readonly', 'fast'], keys: ONE_KEY, access: metaOnly, group: 'hash', since: '2.0.0',
    summary: 'Get the number of fields in a hash', complexity: 'O(1)', handler: hlen,
  },
  {
    name: 'hexists', arity: 3, flags: ['readonly', 'fast'], keys: ONE_KEY, access: membersFrom(2), group: 'hash', since: '2.0.0',
    summary: 'Determine if a hash field exists', complexity: 'O(1)', handler: hexists,
  },
  {
    name: 'hkeys', arity: 2, flags: ['readonly'], keys: ONE_KEY, streams: true, group: 'hash', since: '2.0.0',
    summary: 'Get all the fields in a hash', complexity: 'O(N) where N is the size of the hash.', handler: hkeys,
  },
  {
    name: 'hvals', arity: 2, flags: ['readonly'], keys: ONE_KEY, streams: true, group: 'hash', since: '2.0.0',
    summary: 'Get all the values in a hash', complexity: 'O(N) where N is the size of the hash.', handler: hvals,
  },
  {
    name: 'hstrlen', arity: 3, flags: ['readonly', 'fast'], keys: ONE_KEY, access: membersFrom(2), group: 'hash', since: '3.2.0',
    summary: 'Get the length of the value of a hash field', complexity: 'O(1)', handler: hstrlen,
  },
  {
    name: 'hincrby', arity: 4, flags: ['write', 'denyoom', 'fast'], keys: ONE_KEY, access: membersFrom(2, 2), group: 'hash', since: '2.0.0',
    summary: 'Increment the integer value of a hash field by the given number', complexity: 'O(1)', handler: hincrby,
  },
  {
    name: 'hincrbyfloat', arity: 4, flags: ['write', 'denyoom', 'fast'], keys: ONE_KEY, access: membersFrom(2, 2), group: 'hash',
    since: '2.6.0', summary: 'Increment the float value of a hash field by the given amount', complexity: 'O(1)',
    handler: hincrbyfloat,
  },
  {
    name: 'hrandfield', arity: -2, flags: ['readonly'], keys: ONE_KEY, group: 'hash', since: '6.2.0',
    summary: 'Get one or multiple random fields from a hash',
    complexity: 'O(N) where N is the number of fields returned', handler: hrandfield,
  },
  {
    name: 'hscan', arity: -3, flags: ['readonly'], keys: ONE_KEY, access: scanAccess, group: 'hash', since: '2.8.0',
    summary: 'Incrementally iterate hash fields and associated values',
    complexity: 'O(1) for every call. O(N) for a complete iteration, including enough command calls for the cursor to return back to 0. N is the number of elements inside the collection..',
    handler: hscan,
  },
];
