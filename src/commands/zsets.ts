import type { CommandDef, KeySpec } from './table.js';
import type { CommandContext } from '../execution/context.js';
import { Errors } from './errors.js';
import { DoubleReply, ErrorReply, NULL_ARRAY, StreamedReply, type Reply } from '../protocol/reply.js';
import { aggregateHeader, BIG_AGGREGATE, encodedBulkItems, encodedBulks, encodedScoredItems, encodedScoredPairs } from '../protocol/encoder.js';
import { floatArg, keyword, longArg } from './args.js';
import { changed, lookup, lookupRead, lookupTyped } from './keyaccess.js';
import type { KeyEvent } from '../keyspace/events.js';
import { collectionChanged, storeCollection } from './collections.js';
import { EMPTY_SCAN, memberOrderScan, parseScanCursor, parseScanOptions, scanAccess, scanPage } from './scan.js';
import { ZSetValue, zsetSize } from '../keyspace/values/zset.js';
import { SetValue, randomInt } from '../keyspace/values/set.js';
import { formatDouble, parseFloatArg, parseInteger, parseSafeInt } from '../util/numbers.js';
import { timeoutArg } from '../execution/blocking.js';
import type { KeyRef } from '../keyspace/scheduler.js';
import { beforeEdge, intArg, META, membersFrom, metaOnly, range, WHOLE, type Access, type LexEdge, type PagedRows } from '../keyspace/paging.js';
import type { Entry } from '../keyspace/types.js';

/**
 * The sorted set family, Redis 7.0 semantics. Scores are IEEE doubles,
 * replied with %.17g (RESP2 bulk strings, RESP3 doubles). Members are latin1
 * strings inside ZSetValue.
 *
 * Effects: ZADD/ZINCRBY log the resulting scores of the members they changed
 * (`ZADD key score member ...`); ZREM logs the members it removed; the pops
 * log ZPOPMIN/ZPOPMAX with the count actually popped; the range removals and
 * the *STORE commands log themselves (deterministic given the data, as
 * Redis replicates them), or DEL when they only deleted the destination.
 */

const str = (b: Buffer) => b.toString('latin1');
const bulk = (s: string) => Buffer.from(s, 'latin1');

const nanError = () => new ErrorReply('ERR resulting score is not a number (NaN)');
const notFloatRange = () => new ErrorReply('ERR min or max is not a float');
const notLexRange = () => new ErrorReply('ERR min or max not valid string range item');

export function readZset(c: CommandContext, key: Buffer): ZSetValue | undefined {
  return lookupTyped(c, key, 'zset')?.value as ZSetValue | undefined;
}

/** Create a zset key that does not exist yet. */
function createZset(c: CommandContext, key: Buffer, z: ZSetValue): Entry {
  return c.keyspace.create(c.session.db, str(key), 'zset', z, zsetSize(z));
}

function isSpace(ch: number): boolean {
  return ch === 0x20 || (ch >= 0x09 && ch <= 0x0d);
}

const DECIMAL = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const INFINITE = /^([+-]?)inf(?:inity)?$/i;

/**
 * C strtod over the whole string, as Redis parses range bounds: leading
 * whitespace is skipped, overflow gives +-inf and underflow 0 (no ERANGE
 * check), the empty string is 0, NaN and trailing bytes are rejected.
 */
export function strtodWhole(s: string): number | null {
  if (s.length === 0) return 0;
  let i = 0;
  while (i < s.length && isSpace(s.charCodeAt(i))) i++;
  if (i === s.length) return null;
  const t = i === 0 ? s : s.slice(i);
  if (DECIMAL.test(t)) return Number(t);
  const inf = INFINITE.exec(t);
  if (inf) return inf[1] === '-' ? -Infinity : Infinity;
  if (/^[+-]?0[xX]/.test(t)) {
    const v = parseFloatArg(Buffer.from(t, 'latin1'));
    if (v !== null) return v;
    // out of range hex floats: strtod saturates
    if (/^[+-]?0[xX](?:[0-9a-fA-F]+\.?[0-9a-fA-F]*|\.[0-9a-fA-F]+)(?:[pP][+-]?\d+)?$/.test(t)) {
      const neg = t[0] === '-';
      const m = /[pP]([+-]?\d+)$/.exec(t);
      const big = m !== null && Number(m[1]) > 0;
      return big ? (neg ? -Infinity : Infinity) : neg ? -0 : 0;
    }
  }
  return null;
}

// --- ranges -------------------------------------------------------------------

interface ScoreRange {
  min: number;
  max: number;
  minex: boolean;
  maxex: boolean;
}

function parseScoreBound(b: Buffer): [number, boolean] {
  // Redis reads a bound with strtod on a C string: it ends at a NUL byte
  const nul = b.indexOf(0);
  const s = str(nul < 0 ? b : b.subarray(0, nul));
  const ex = s.charCodeAt(0) === 0x28; /* ( */
  const v = strtodWhole(ex ? s.slice(1) : s);
  if (v === null || Number.isNaN(v)) throw notFloatRange();
  return [v, ex];
}

function parseScoreRange(minB: Buffer, maxB: Buffer): ScoreRange {
  const [min, minex] = parseScoreBound(minB);
  const [max, maxex] = parseScoreBound(maxB);
  return { min, max, minex, maxex };
}

/** The ascending ranks [start, end) of the elements whose score is in range. */
function scoreSpan(z: ZSetValue, r: ScoreRange): [number, number] {
  const min = r.min;
  const max = r.max;
  const start = z.countWhile(r.minex ? (s) => s <= min : (s) => s < min);
  const end = z.countWhile(r.maxex ? (s) => s < max : (s) => s <= max);
  return [start, Math.max(start, end)];
}

/** A lex bound: '-' / '+' are -inf / +inf; others inclusive '[' or exclusive '('. */
type LexBound = LexEdge;

function parseLexBound(b: Buffer): LexBound {
  const c0 = b[0];
  if (c0 === 0x2b /* + */ && b.length === 1) return { kind: 1, value: '', ex: true };
  if (c0 === 0x2d /* - */ && b.length === 1) return { kind: -1, value: '', ex: true };
  if (c0 === 0x28 /* ( */) return { kind: 0, value: b.toString('latin1', 1), ex: true };
  if (c0 === 0x5b /* [ */) return { kind: 0, value: b.toString('latin1', 1), ex: false };
  throw notLexRange();
}

function parseLexRange(minB: Buffer, maxB: Buffer): [LexBound, LexBound] {
  return [parseLexBound(minB), parseLexBound(maxB)];
}

/** The ascending ranks [start, end) of the elements in the lex range. */
function lexSpan(z: ZSetValue, min: LexBound, max: LexBound): [number, number] {
  const start = z.countWhile((_s, m) => beforeEdge(m, min, min.ex));
  const end = z.countWhile((_s, m) => beforeEdge(m, max, !max.ex));
  return [start, Math.max(start, end)];
}

/** Redis's rank range normalisation: [start, end] inclusive, or null if empty. */
function rankSpan(size: number, start: number, end: number): [number, number] | null {
  if (start < 0) start = size + start;
  if (end < 0) end = size + end;
  if (start < 0) start = 0;
  if (start > end || start >= size) return null;
  if (end >= size) end = size - 1;
  return [start, end];
}

// --- replies --------------------------------------------------------------------

type Pair = [string, number];

/** Members with or without scores: flat in RESP2, [member, score] pairs in RESP3. */
function pairsReply(c: CommandContext, pairs: Pair[], withScores: boolean): Reply {
  // a big one encoded at once (as bigAggregate; not in scripts, which convert replies themselves)
  if (pairs.length >= BIG_AGGREGATE && c.connection !== undefined) {
    return withScores ? encodedScoredPairs(pairs, c.session.protocol) : encodedBulks('array', pairs.map(([m]) => m), c.session.protocol);
  }
  const out: Reply[] = [];
  if (!withScores) {
    for (const [m] of pairs) out.push(bulk(m));
  } else if (c.session.protocol === 2) {
    for (const [m, s] of pairs) out.push(bulk(m), new DoubleReply(s));
  } else {
    for (const [m, s] of pairs) out.push([bulk(m), new DoubleReply(s)]);
  }
  return out;
}

/** A rank range's rows ([member, score, ...]) written to the client as read (commands/collections.ts, streamedAggregate). */
function streamedPairs(c: CommandContext, rows: PagedRows, withScores: boolean): StreamedReply {
  const proto = c.session.protocol;
  const header = aggregateHeader('array', withScores && proto === 2 ? rows.count * 2 : rows.count, proto);
  const next = async () => {
    const page = await rows.next();
    if (page === null) return null;
    const members = page.map((r) => r[0]!);
    const bytes = withScores ? encodedScoredItems(members, page.map((r) => r[1]!.toString('latin1')), proto) : encodedBulkItems(members);
    return { bytes, items: page.length };
  };
  return new StreamedReply(header, rows.count, next, () => rows.close());
}

/** Store a computed zset under `dst` (replacing what is there); returns its size. */
function storeZset(c: CommandContext, dst: Buffer, z: ZSetValue, event: KeyEvent, effect: Buffer[]): number {
  storeCollection(c, dst, 'zset', z, event, effect);
  return z.size;
}

// --- Redis's encodings (where -0 survives) ----------------------------------------

/** Redis's compact-encoding limits of sorted sets: zset-max-listpack-entries and -value. */
export function listpackLimits(c: CommandContext): { entries: number; bytes: number } {
  const v = c.config.values;
  return { entries: v.zsetMaxListpackEntries, bytes: v.zsetMaxListpackValue };
}

/** Add `member` (not in `z`) as Redis's zsetAdd does: a listpack that could not take it becomes a skiplist first. */
function addMember(z: ZSetValue, member: string, score: number, limits: { entries: number; bytes: number }): void {
  if (z.compact && (z.size + 1 > limits.entries || member.length > limits.bytes)) z.compact = false;
  z.set(member, score);
}

// --- ZADD / ZINCRBY ----------------------------------------------------------------

/** ZADD (and ZINCRBY, `incrCommand`); GEOADD calls it with the scores it computed, as Redis does. */
export function zaddGeneric(c: CommandContext, args: Buffer[], incrCommand: boolean): Reply {
  const key = args[1]!;
  let nx = false;
  let xx = false;
  let gt = false;
  let lt = false;
  let ch = false;
  let incr = incrCommand;
  let i = 2;
  for (; i < args.length; i++) {
    const o = keyword(args[i]!);
    if (o === 'NX') nx = true;
    else if (o === 'XX') xx = true;
    else if (o === 'CH') ch = true;
    else if (o === 'INCR') incr = true;
    else if (o === 'GT') gt = true;
    else if (o === 'LT') lt = true;
    else break;
  }
  const elements = args.length - i;
  if (elements === 0 || elements % 2 !== 0) throw Errors.syntax();
  if (nx && xx) throw new ErrorReply('ERR XX and NX options at the same time are not compatible');
  if ((gt && nx) || (lt && nx) || (gt && lt)) {
    throw new ErrorReply('ERR GT, LT, and/or NX options at the same time are not compatible');
  }
  if (incr && elements > 2) throw new ErrorReply('ERR INCR option supports a single increment-element pair');
  const n = elements / 2;
  const scores = new Array<number>(n);
  for (let j = 0; j < n; j++) scores[j] = floatArg(args[i + 2 * j]!);

  const e = lookupTyped(c, key, 'zset');
  if (e === undefined && xx) return incr ? null : 0;
  const limits = listpackLimits(c);
  let z: ZSetValue;
  if (e) {
    z = e.value as ZSetValue;
  } else {
    z = new ZSetValue();
    // Redis creates a skiplist at once when the first member is too long for a listpack
    z.compact = limits.entries > 0 && args[i + 1]!.length <= limits.bytes;
  }
  let added = 0;
  let updated = 0;
  let processed = 0;
  let result = 0;
  const effect: Array<Buffer | string> = ['ZADD', key];
  let error: ErrorReply | undefined;
  for (let j = 0; j < n; j++) {
    const memberBuf = args[i + 2 * j + 1]!;
    const m = str(memberBuf);
    let score = scores[j]!;
    const cur = z.score(m);
    if (cur !== undefined) {
      if (nx) continue;
      if (incr) {
        score += cur;
        if (Number.isNaN(score)) {
          error = nanError();
          break;
        }
      }
      if ((lt && score >= cur) || (gt && score <= cur)) continue;
      processed++;
      result = score;
      if (score !== cur) {
        z.set(m, score);
        updated++;
        effect.push(formatDouble(score), memberBuf);
      }
    } else {
      if (xx) continue;
      addMember(z, m, score, limits);
      added++;
      processed++;
      result = score;
      effect.push(formatDouble(score), memberBuf);
    }
  }
  if (added + updated > 0) {
    const event = incr ? 'zincr' : 'zadd';
    if (e) {
      collectionChanged(c, e, event, effect);
    } else {
      createZset(c, key, z);
      changed(c, key, event, effect);
    }
  }
  if (error) return error;
  if (incr) return processed > 0 ? new DoubleReply(result) : null;
  return ch ? added + updated : added;
}

// --- simple reads ---------------------------------------------------------------

function zscore(c: CommandContext, args: Buffer[]): Reply {
  const s = readZset(c, args[1]!)?.score(str(args[2]!));
  return s === undefined ? null : new DoubleReply(s);
}

function zmscore(c: CommandContext, args: Buffer[]): Reply {
  const z = readZset(c, args[1]!);
  const out: Reply[] = [];
  for (let i = 2; i < args.length; i++) {
    const s = z?.score(str(args[i]!));
    out.push(s === undefined ? null : new DoubleReply(s));
  }
  return out;
}

function zcard(c: CommandContext, args: Buffer[]): Reply {
  return readZset(c, args[1]!)?.size ?? 0;
}

function zcount(c: CommandContext, args: Buffer[]): Reply {
  const range = parseScoreRange(args[2]!, args[3]!);
  const z = readZset(c, args[1]!);
  if (!z) return 0;
  const [start, end] = scoreSpan(z, range);
  return end - start;
}

function zlexcount(c: CommandContext, args: Buffer[]): Reply {
  const [min, max] = parseLexRange(args[2]!, args[3]!);
  const z = readZset(c, args[1]!);
  if (!z) return 0;
  const [start, end] = lexSpan(z, min, max);
  return end - start;
}

function zrank(reverse: boolean) {
  return (c: CommandContext, args: Buffer[]): Reply => {
    const z = readZset(c, args[1]!);
    if (!z) return null;
    const r = z.rank(str(args[2]!));
    if (r === undefined) return null;
    return reverse ? z.size - 1 - r : r;
  };
}

// --- ZRANGE and friends ----------------------------------------------------------

type RangeType = 'auto' | 'rank' | 'score' | 'lex';
type Direction = 'auto' | 'forward' | 'reverse';

/**
 * ZRANGE, ZRANGESTORE and the older Z[REV]RANGE[BYSCORE|BYLEX]: `argStart`
 * is the index of the source key; `dst` is set for ZRANGESTORE.
 */
function zrangeGeneric(c: CommandContext, args: Buffer[], argStart: number, dst: Buffer | null, type: RangeType, dir: Direction): Reply {
  const store = dst !== null;
  let withScores = false;
  let offset = 0;
  let limit = -1;
  let limitGiven = false;
  for (let j = argStart + 3; j < args.length; j++) {
    const o = keyword(args[j]!);
    const left = args.length - j - 1;
    if (!store && o === 'WITHSCORES') withScores = true;
    else if (o === 'LIMIT' && left >= 2) {
      offset = longArg(args[j + 1]!);
      limit = longArg(args[j + 2]!);
      limitGiven = true;
      j += 2;
    } else if (dir === 'auto' && o === 'REV') dir = 'reverse';
    else if (type === 'auto' && o === 'BYLEX') type = 'lex';
    else if (type === 'auto' && o === 'BYSCORE') type = 'score';
    else throw Errors.syntax();
  }
  if (dir === 'auto') dir = 'forward';
  if (type === 'auto') type = 'rank';
  // Redis checks `limit != -1`: "LIMIT 0 -1" with a rank range passes.
  if (limitGiven && limit !== -1 && type === 'rank') {
    throw new ErrorReply('ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX');
  }
  if (withScores && type === 'lex') {
    throw new ErrorReply('ERR syntax error, WITHSCORES not supported in combination with BYLEX');
  }
  const reverse = dir === 'reverse';
  let minB = args[argStart + 1]!;
  let maxB = args[argStart + 2]!;
  if (reverse && type !== 'rank') [minB, maxB] = [maxB, minB];

  let rankRange: [number, number] | undefined;
  let scoreRange: ScoreRange | undefined;
  let lexRange: [LexBound, LexBound] | undefined;
  if (type === 'rank') rankRange = [longArg(minB), longArg(maxB)];
  else if (type === 'score') scoreRange = parseScoreRange(minB, maxB);
  else lexRange = parseLexRange(minB, maxB);

  const e = lookupTyped(c, args[argStart]!, 'zset');
  const z = e?.value as ZSetValue | undefined;
  // a rank or score range of a paged value too big for memory: its rows were opened for this command
  const rows = (rankRange || scoreRange) && !store && z?.pages ? c.keyspace.takePagedRows(e!) : undefined;
  if (rows) return streamedPairs(c, rows, withScores);
  let pairs: Pair[] = [];
  if (z) {
    if (rankRange) {
      const span = rankSpan(z.size, rankRange[0], rankRange[1]);
      // Reverse ranks count from the highest score.
      if (span) {
        pairs = reverse
          ? collect(z, z.size - 1 - span[1], z.size - span[0], true, 0, -1)
          : collect(z, span[0], span[1] + 1, false, 0, -1);
      }
    } else if (scoreRange) {
      pairs = z.rangeByScore({ ...scoreRange, reverse, offset, count: limit });
    } else if (z.pages) {
      // read in part for this (zset-codec.ts): every score is the same, members are in order
      pairs = z.rangeByLex({ min: lexRange![0], max: lexRange![1], reverse, offset, count: limit });
    } else {
      const [start, end] = lexSpan(z, lexRange![0], lexRange![1]);
      pairs = collect(z, start, end, reverse, offset, limit);
    }
  }
  if (store) {
    // Redis starts the result as a skiplist only for a rank range longer than a listpack holds
    const limits = listpackLimits(c);
    const out = new ZSetValue();
    out.compact = !(rankRange && pairs.length > limits.entries);
    for (const [m, s] of pairs) if (out.score(m) === undefined) addMember(out, m, s, limits);
    return storeZset(c, dst, out, 'zrangestore', args);
  }
  return pairsReply(c, pairs, withScores);
}

/**
 * Elements of ascending ranks [start, end), walked ascending or descending,
 * skipping `offset` of them and taking at most `limit` (negative = all).
 */
function collect(z: ZSetValue, start: number, end: number, reverse: boolean, offset: number, limit: number): Pair[] {
  const out: Pair[] = [];
  if (offset < 0 || limit === 0) return out;
  let n = end - start - offset;
  if (n <= 0) return out;
  if (limit > 0 && limit < n) n = limit;
  const from = reverse ? end - 1 - offset : start + offset;
  z.walk(from, reverse, (m, s) => {
    out.push([m, s]);
    return out.length < n;
  });
  return out;
}

function zrangeCmd(c: CommandContext, args: Buffer[]): Reply {
  return zrangeGeneric(c, args, 1, null, 'auto', 'auto');
}

function zrangestore(c: CommandContext, args: Buffer[]): Reply {
  return zrangeGeneric(c, args, 2, args[1]!, 'auto', 'auto');
}

function fixedRange(type: RangeType, dir: Direction) {
  return (c: CommandContext, args: Buffer[]): Reply => zrangeGeneric(c, args, 1, null, type, dir);
}

// --- removals -------------------------------------------------------------------

function zrem(c: CommandContext, args: Buffer[]): Reply {
  const key = args[1]!;
  const e = lookupTyped(c, key, 'zset');
  if (!e) return 0;
  const z = e.value as ZSetValue;
  const removed: Buffer[] = [];
  for (let i = 2; i < args.length && z.size > 0; i++) {
    if (z.remove(str(args[i]!))) removed.push(args[i]!);
  }
  if (removed.length === 0) return 0;
  collectionChanged(c, e, 'zrem', ['ZREM', key, ...removed]);
  return removed.length;
}

function zremrange(type: 'rank' | 'score' | 'lex') {
  return (c: CommandContext, args: Buffer[]): Reply => {
    const key = args[1]!;
    let rank: [number, number] | undefined;
    let score: ScoreRange | undefined;
    let lex: [LexBound, LexBound] | undefined;
    if (type === 'rank') rank = [longArg(args[2]!), longArg(args[3]!)];
    else if (type === 'score') score = parseScoreRange(args[2]!, args[3]!);
    else lex = parseLexRange(args[2]!, args[3]!);
    const e = lookupTyped(c, key, 'zset');
    if (!e) return 0;
    const z = e.value as ZSetValue;
    let start: number;
    let end: number;
    if (rank) {
      const span = rankSpan(z.size, rank[0], rank[1]);
      if (!span) return 0;
      [start, end] = [span[0], span[1] + 1];
    } else if (score) {
      [start, end] = scoreSpan(z, score);
    } else {
      [start, end] = lexSpan(z, lex![0], lex![1]);
    }
    if (end <= start) return 0;
    for (const [m] of z.slice(start, end)) z.remove(m);
    collectionChanged(c, e, type === 'rank' ? 'zremrangebyrank' : type === 'score' ? 'zremrangebyscore' : 'zremrangebylex', args);
    return end - start;
  };
}

// --- pops -----------------------------------------------------------------------

/** Pop up to `count` elements from the low (min) or high end; logs the effect. */
function popFrom(c: CommandContext, e: Entry, key: Buffer, max: boolean, count: number): Pair[] {
  const z = e.value as ZSetValue;
  const n = Math.min(count, z.size);
  const popped: Pair[] = max ? z.slice(z.size - n, z.size).reverse() : z.slice(0, n);
  for (const [m] of popped) z.remove(m);
  collectionChanged(c, e, max ? 'zpopmax' : 'zpopmin', [max ? 'ZPOPMAX' : 'ZPOPMIN', key, String(n)]);
  return popped;
}

function zpop(max: boolean) {
  return (c: CommandContext, args: Buffer[]): Reply => {
    if (args.length > 3) throw Errors.syntax();
    let count = -1;
    if (args.length === 3) {
      count = longArg(args[2]!, 'value is out of range, must be positive');
      if (count < 0) throw new ErrorReply('ERR value is out of range, must be positive');
    }
    const key = args[1]!;
    const e = lookupTyped(c, key, 'zset');
    if (!e || count === 0) return [];
    const popped = popFrom(c, e, key, max, count === -1 ? 1 : count);
    // RESP3 with a COUNT: [member, score] pairs; otherwise flat.
    const out: Reply[] = [];
    const nested = c.session.protocol === 3 && count !== -1;
    for (const [m, s] of popped) {
      if (nested) out.push([bulk(m), new DoubleReply(s)]);
      else out.push(bulk(m), new DoubleReply(s));
    }
    return out;
  };
}

interface MpopArgs {
  keys: Buffer[];
  max: boolean;
  count: number;
}

/** numkeys key [key ...] MIN|MAX [COUNT count], from `numkeysIdx`. */
function parseMpop(args: Buffer[], numkeysIdx: number): MpopArgs {
  const numkeys = longArg(args[numkeysIdx]!, 'numkeys should be greater than 0');
  if (numkeys < 1) throw new ErrorReply('ERR numkeys should be greater than 0');
  const whereIdx = numkeysIdx + numkeys + 1;
  if (whereIdx >= args.length) throw Errors.syntax();
  const where = keyword(args[whereIdx]!);
  if (where !== 'MIN' && where !== 'MAX') throw Errors.syntax();
  let count = -1;
  for (let j = whereIdx + 1; j < args.length; j++) {
    if (count === -1 && keyword(args[j]!) === 'COUNT' && j + 1 < args.length) {
      count = longArg(args[++j]!, 'count should be greater than 0');
      if (count < 1) throw new ErrorReply('ERR count should be greater than 0');
    } else {
      throw Errors.syntax();
    }
  }
  return { keys: args.slice(numkeysIdx + 1, whereIdx), max: where === 'MAX', count: count === -1 ? 1 : count };
}

/** The first non-empty zset among `keys` (WRONGTYPE stops at the first wrong key met). */
function firstNonEmpty(c: CommandContext, keys: Buffer[]): [Entry, Buffer] | undefined {
  for (const k of keys) {
    const e = lookupTyped(c, k, 'zset');
    if (e && (e.value as ZSetValue).size > 0) return [e, k];
  }
  return undefined;
}

function mpopReply(key: Buffer, popped: Pair[]): Reply {
  return [key, popped.map(([m, s]) => [bulk(m), new DoubleReply(s)])];
}

function zmpop(c: CommandContext, args: Buffer[]): Reply {
  const p = parseMpop(args, 1);
  const found = firstNonEmpty(c, p.keys);
  if (!found) return NULL_ARRAY;
  return mpopReply(found[1], popFrom(c, found[0], found[1], p.max, p.count));
}

// --- blocking pops ------------------------------------------------------------------

/** A zset key a blocked client may be served from now: present, a zset, not empty. */
function readyZset(c: CommandContext, name: string): Entry | undefined {
  const e = c.keyspace.lookup(c.session.db, name);
  if (e === undefined || e.type !== 'zset' || (e.value as ZSetValue).size === 0) return undefined;
  return e;
}

function keyRefsOf(c: CommandContext, keys: Buffer[]): KeyRef[] {
  return keys.map((k) => ({ db: c.session.db, name: str(k) }));
}

/** BZPOPMIN / BZPOPMAX key [key ...] timeout: [key, member, score]. */
function bzpop(max: boolean) {
  return (c: CommandContext, args: Buffer[]): Reply => {
    const ms = timeoutArg(args[args.length - 1]!);
    const keys = args.slice(1, -1);
    const serve = (key: Buffer, e: Entry): Reply => {
      const [[m, s]] = popFrom(c, e, key, max, 1) as [Pair];
      return [key, bulk(m), new DoubleReply(s)];
    };
    const found = firstNonEmpty(c, keys);
    if (found) return serve(found[1], found[0]);
    const b = c.server.blocking;
    if (!b.canBlock(c)) return NULL_ARRAY;
    return b.block(c, keyRefsOf(c, keys), ms, (name) => {
      const e = readyZset(c, name);
      return e && serve(bulk(name), e);
    });
  };
}

/** BZMPOP timeout numkeys key [key ...] MIN|MAX [COUNT count]. */
function bzmpop(c: CommandContext, args: Buffer[]): Reply {
  const p = parseMpop(args, 2);
  const ms = timeoutArg(args[1]!);
  const found = firstNonEmpty(c, p.keys);
  if (found) return mpopReply(found[1], popFrom(c, found[0], found[1], p.max, p.count));
  const b = c.server.blocking;
  if (!b.canBlock(c)) return NULL_ARRAY;
  return b.block(c, keyRefsOf(c, p.keys), ms, (name) => {
    const e = readyZset(c, name);
    if (!e) return undefined;
    const key = bulk(name);
    return mpopReply(key, popFrom(c, e, key, p.max, p.count));
  });
}

// --- ZRANDMEMBER -----------------------------------------------------------------

function zrandmember(c: CommandContext, args: Buffer[]): Reply {
  if (args.length >= 3) {
    const l = parseInteger(args[2]!);
    if (l === null) throw Errors.notInteger();
    if (l < -9223372036854775807n) {
      throw new ErrorReply('ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807');
    }
    let withScores = false;
    if (args.length > 4 || (args.length === 4 && keyword(args[3]!) !== 'WITHSCORES')) throw Errors.syntax();
    if (args.length === 4) {
      withScores = true;
      if (l < -4611686018427387903n || l > 4611686018427387903n) throw new ErrorReply('ERR value is out of range');
    }
    const z = readZset(c, args[1]!);
    if (!z || l === 0n) return [];
    const size = z.size;
    let pairs: Pair[];
    if (l < 0n || l === 1n) {
      const count = l < 0n ? -l : l;
      // Redis would try to build any such reply and run out of memory.
      if (count > BigInt(MAX_RANDOM_REPLY)) throw new ErrorReply(`ERR count is too large (at most ${MAX_RANDOM_REPLY})`);
      const n = Number(count);
      pairs = new Array<Pair>(n);
      for (let i = 0; i < n; i++) pairs[i] = z.at(randomInt(size))!;
    } else if (l >= BigInt(size)) {
      pairs = z.slice(0, size);
    } else {
      pairs = sampleRanks(size, Number(l)).map((r) => z.at(r)!);
    }
    return pairsReply(c, pairs, withScores);
  }
  const z = readZset(c, args[1]!);
  if (!z) return null;
  return bulk(z.at(randomInt(z.size))![0]);
}

const MAX_RANDOM_REPLY = 50_000_000;

/** `count` distinct ranks below `n`, in random order (count < n). */
function sampleRanks(n: number, count: number): number[] {
  if (count * 4 > n) {
    const all = Array.from({ length: n }, (_, i) => i);
    for (let i = 0; i < count; i++) {
      const j = i + randomInt(n - i);
      const t = all[i]!;
      all[i] = all[j]!;
      all[j] = t;
    }
    all.length = count;
    return all;
  }
  const picked = new Set<number>();
  for (let j = n - count; j < n; j++) {
    const t = randomInt(j + 1);
    picked.add(picked.has(t) ? j : t);
  }
  const out = [...picked];
  for (let i = out.length - 1; i > 0; i--) {
    const j = randomInt(i + 1);
    const t = out[i]!;
    out[i] = out[j]!;
    out[j] = t;
  }
  return out;
}

// --- ZUNION / ZINTER / ZDIFF ------------------------------------------------------------

type SetOp = 'union' | 'inter' | 'diff';
type Aggregate = 'sum' | 'min' | 'max';

/** One input of a set operation: a zset, a plain set (scores 1) or a missing key. */
interface Source {
  zset?: ZSetValue;
  set?: SetValue;
  weight: number;
}

function sourceSize(s: Source): number {
  return s.zset?.size ?? s.set?.size ?? 0;
}

function sourceScore(s: Source, m: string): number | undefined {
  if (s.zset) return s.zset.score(m);
  if (s.set) return s.set.has(m) ? 1 : undefined;
  return undefined;
}

function forEachOf(s: Source, fn: (m: string, score: number) => void): void {
  if (s.zset) for (const [m, score] of s.zset.dict) fn(m, score);
  else if (s.set) for (const m of s.set.members) fn(m, 1);
}

function aggregate(target: number, value: number, agg: Aggregate): number {
  if (agg === 'sum') {
    const r = target + value;
    return Number.isNaN(r) ? 0 : r; // inf + -inf
  }
  if (agg === 'min') return value < target ? value : target;
  return value > target ? value : target;
}

interface SetOpArgs {
  sources: Source[];
  agg: Aggregate;
  withScores: boolean;
  limit: number;
}

/**
 * Parse `numkeys key [key ...] [WEIGHTS ...] [AGGREGATE ...] [WITHSCORES]`
 * (or `[LIMIT n]` for ZINTERCARD) the way Redis does: numkeys first, then
 * the inputs are looked up (WRONGTYPE), then the options.
 */
function parseSetOp(c: CommandContext, args: Buffer[], numkeysIdx: number, op: SetOp, store: boolean, cardOnly: boolean): SetOpArgs {
  const name = str(args[0]!).toLowerCase();
  const setnum = longArg(args[numkeysIdx]!);
  if (setnum < 1) throw new ErrorReply(`ERR at least 1 input key is needed for '${name}' command`);
  if (setnum > args.length - numkeysIdx - 1) throw Errors.syntax();
  const sources: Source[] = [];
  let j = numkeysIdx + 1;
  for (let i = 0; i < setnum; i++, j++) {
    const e = lookupRead(c, args[j]!);
    const src: Source = { weight: 1 };
    if (e) {
      if (e.type === 'zset') src.zset = e.value as ZSetValue;
      else if (e.type === 'set') src.set = e.value as SetValue;
      else throw Errors.wrongType();
    }
    sources.push(src);
  }
  let agg: Aggregate = 'sum';
  let withScores = false;
  let limit = 0;
  while (j < args.length) {
    const remaining = args.length - j;
    const o = keyword(args[j]!);
    if (op !== 'diff' && !cardOnly && remaining >= setnum + 1 && o === 'WEIGHTS') {
      j++;
      for (let i = 0; i < setnum; i++, j++) sources[i]!.weight = floatArg(args[j]!, 'weight value is not a float');
    } else if (op !== 'diff' && !cardOnly && remaining >= 2 && o === 'AGGREGATE') {
      const a = keyword(args[j + 1]!);
      if (a === 'SUM') agg = 'sum';
      else if (a === 'MIN') agg = 'min';
      else if (a === 'MAX') agg = 'max';
      else throw Errors.syntax();
      j += 2;
    } else if (!store && !cardOnly && o === 'WITHSCORES') {
      withScores = true;
      j++;
    } else if (cardOnly && remaining >= 2 && o === 'LIMIT') {
      const l = parseInteger(args[j + 1]!);
      if (l === null || l < 0n) throw new ErrorReply("ERR LIMIT can't be negative");
      limit = l > 9007199254740991n ? Number.MAX_SAFE_INTEGER : Number(l);
      j += 2;
    } else {
      throw Errors.syntax();
    }
  }
  return { sources, agg, withScores, limit };
}

/** The result of a set operation, as member -> score. */
function computeSetOp(op: SetOp, p: SetOpArgs): Map<string, number> {
  const out = new Map<string, number>();
  const srcs = p.sources;
  if (op === 'diff') {
    const first = srcs[0]!;
    if (sourceSize(first) === 0) return out;
    const others = srcs.slice(1).filter((s) => sourceSize(s) > 0);
    forEachOf(first, (m, score) => {
      for (const o of others) if (sourceScore(o, m) !== undefined) return;
      out.set(m, score);
    });
    return out;
  }
  // Smallest inputs first, like Redis (a stable sort: results do not depend on ties).
  const sorted = srcs.slice().sort((a, b) => sourceSize(a) - sourceSize(b));
  if (op === 'inter') {
    const first = sorted[0]!;
    if (sourceSize(first) === 0) return out;
    const rest = sorted.slice(1);
    forEachOf(first, (m, s0) => {
      let score = first.weight * s0;
      if (Number.isNaN(score)) score = 0;
      for (const o of rest) {
        const v = sourceScore(o, m);
        if (v === undefined) return;
        score = aggregate(score, v * o.weight, p.agg);
      }
      out.set(m, score);
    });
    return out;
  }
  for (const src of sorted) {
    if (sourceSize(src) === 0) continue;
    forEachOf(src, (m, s) => {
      let score = src.weight * s;
      if (Number.isNaN(score)) score = 0;
      const cur = out.get(m);
      out.set(m, cur === undefined ? score : aggregate(cur, score, p.agg));
    });
  }
  return out;
}

/** A ZUNIONSTORE/ZINTERSTORE/ZDIFFSTORE result: built as a skiplist, a listpack if it fits (-0 then becomes 0). */
function toZset(c: CommandContext, result: Map<string, number>): ZSetValue {
  const z = new ZSetValue();
  z.compact = false;
  for (const [m, s] of result) z.set(m, s);
  const limits = listpackLimits(c);
  z.compactIfFits(limits.entries, limits.bytes);
  return z;
}

function setOpRead(op: SetOp) {
  return (c: CommandContext, args: Buffer[]): Reply => {
    const p = parseSetOp(c, args, 1, op, false, false);
    // Replied from the computed scores in (score, member) order, as Redis does from its
    // temporary skiplist: a -0 score stays -0 (a stored zset keeps 0, like a listpack).
    const pairs: Pair[] = [...computeSetOp(op, p)].sort((a, b) =>
      a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0);
    return pairsReply(c, pairs, p.withScores);
  };
}

function setOpStore(op: SetOp) {
  const event = op === 'union' ? 'zunionstore' : op === 'inter' ? 'zinterstore' : 'zdiffstore';
  return (c: CommandContext, args: Buffer[]): Reply => {
    const p = parseSetOp(c, args, 2, op, true, false);
    return storeZset(c, args[1]!, toZset(c, computeSetOp(op, p)), event, args);
  };
}

function zintercard(c: CommandContext, args: Buffer[]): Reply {
  const p = parseSetOp(c, args, 1, 'inter', false, true);
  const sorted = p.sources.slice().sort((a, b) => sourceSize(a) - sourceSize(b));
  const first = sorted[0]!;
  const rest = sorted.slice(1);
  let n = 0;
  if (sourceSize(first) === 0) return 0;
  const members = first.zset ? first.zset.dict.keys() : first.set!.members.values();
  outer: for (const m of members) {
    for (const o of rest) if (sourceScore(o, m) === undefined) continue outer;
    n++;
    if (p.limit > 0 && n >= p.limit) break;
  }
  return n;
}

// --- ZSCAN -----------------------------------------------------------------------

/** d2string: integral values (within +-2^62) print as integers, others as %.17g. */
function scanScore(s: number): string {
  if (Number.isInteger(s) && Math.abs(s) <= 4611686018427387903) {
    if (s === 0) return 1 / s < 0 ? '-0' : '0';
    return Number.isSafeInteger(s) ? String(s) : BigInt(s).toString();
  }
  return formatDouble(s);
}

function zscan(c: CommandContext, args: Buffer[]): Reply {
  const cursor = parseScanCursor(args[2]!);
  const e = lookupTyped(c, args[1]!, 'zset');
  const z = e?.value as ZSetValue | undefined;
  if (!z) return EMPTY_SCAN();
  const opts = parseScanOptions(args, 3);
  const ordered = memberOrderScan(c, e!, z.pages !== null, cursor, opts, () => z.dict.keys(), (m) => z.score(m));
  if (ordered) return [Buffer.from(ordered.next.toString()), ordered.rows.flatMap(([m, s]) => [bulk(m), Buffer.from(scanScore(Number(s)))])];
  const page = scanPage(z.size, () => z.slice(0, z.size).map(([m]) => m), () => z.scan(), cursor, opts);
  const out: Buffer[] = [];
  for (const m of page.members) {
    const s = z.score(m);
    if (s === undefined) continue;
    out.push(bulk(m), Buffer.from(scanScore(s)));
  }
  return [Buffer.from(page.next.toString()), out];
}

// --- key positions ------------------------------------------------------------------

/** `numkeys key ...` at numkeysIdx, plus fixed leading keys. */
function numkeysKeys(numkeysIdx: number, leading: number[] = []) {
  return (args: Buffer[]): number[] => {
    const out = leading.filter((i) => i < args.length);
    const n = args[numkeysIdx] ? parseSafeInt(args[numkeysIdx]!) : null;
    if (n === null || n < 1) return out;
    for (let i = numkeysIdx + 1; i <= numkeysIdx + n && i < args.length; i++) out.push(i);
    return out;
  };
}

const ONE_KEY: KeySpec = { first: 1, last: 1, step: 1 };

const G = 'sorted_set';

// --- what each command needs of a paged sorted set (keyspace/paging.ts) ---------

const ZADD_FLAGS = new Set(['NX', 'XX', 'GT', 'LT', 'CH', 'INCR']);
/** ZADD key [flags] score member ...: the members. */
const zaddAccess = (args: Buffer[]): Access => {
  let j = 2;
  while (j < args.length && ZADD_FLAGS.has(keyword(args[j]!))) j++;
  return membersFrom(j + 1, 2)(args);
};
const rankAccess = (args: Buffer[]): Access => ({ kind: 'rank', member: args[2]!.toString('latin1') });
/**
 * ZRANGE and Z[REV]RANGEBYSCORE (source key at `keyArg`; ZRANGESTORE's
 * destination only gets written): a range by rank, or by score from one end
 * (with its LIMIT); BYLEX reads the whole set.
 */
const zrangeAccess = (keyArg: number, fixed?: { by: 'score' | 'lex'; rev: boolean }) => (args: Buffer[], index: number): Access => {
  if (index !== keyArg) return META;
  let rev = fixed?.rev ?? false;
  let by = fixed?.by ?? 'rank';
  let offset = 0;
  let count = -1;
  for (let j = keyArg + 3; j < args.length; j++) {
    const o = keyword(args[j]!);
    if (o === 'BYLEX') by = 'lex';
    if (o === 'BYSCORE') by = 'score';
    if (o === 'REV') rev = true;
    if (o === 'LIMIT') {
      offset = intArg(args[j + 1]);
      count = intArg(args[j + 2]);
      j += 2;
    }
  }
  if (by === 'rank') return range(intArg(args[keyArg + 1]), intArg(args[keyArg + 2]), rev);
  const [lo, hi] = rev ? [args[keyArg + 2]!, args[keyArg + 1]!] : [args[keyArg + 1]!, args[keyArg + 2]!];
  if (by === 'score') return { kind: 'scores', ...parseScoreRange(lo, hi), reverse: rev, offset, count };
  try {
    return { kind: 'lex', min: parseLexBound(lo), max: parseLexBound(hi), reverse: rev, offset, count };
  } catch {
    return META; // not a lex range: the command answers an error
  }
};
const zrevrangeAccess = (args: Buffer[]) => range(intArg(args[2]), intArg(args[3]), true);
/** `count` lowest (or highest) members. */
const lowest = (max: boolean, count: number): Access => (count > 0 ? range(0, count - 1, max) : META);
const zpopAccess = (max: boolean) => (args: Buffer[]) => lowest(max, args.length > 2 ? intArg(args[2]) : 1);
const bzpopAccess = (max: boolean) => (): Access => lowest(max, 1);
/** ZMPOP/BZMPOP: numkeys key... MIN|MAX [COUNT n] */
const zmpopAccess = (numkeysAt: number) => (args: Buffer[]): Access => {
  const where = numkeysAt + 1 + intArg(args[numkeysAt]);
  return lowest(keyword(args[where]!) === 'MAX', args.length > where + 1 ? intArg(args[where + 2]) : 1);
};

export const zsetsCommands: CommandDef[] = [
  {
    name: 'zadd', arity: -4, flags: ['write', 'denyoom', 'fast'], keys: ONE_KEY, access: zaddAccess, group: G, since: '1.2.0',
    summary: 'Add one or more members to a sorted set, or update its score if it already exists',
    complexity: 'O(log(N)) for each item added, where N is the number of elements in the sorted set.',
    handler: (c, args) => zaddGeneric(c, args, false),
  },
  {
    name: 'zincrby', arity: 4, flags: ['write', 'denyoom', 'fast'], keys: ONE_KEY, access: membersFrom(3), group: G, since: '1.2.0',
    summary: 'Increment the score of a member in a sorted set',
    complexity: 'O(log(N)) where N is the number of elements in the sorted set.',
    handler: (c, args) => zaddGeneric(c, args, true),
  },
  {
    name: 'zscore', arity: 3, flags: ['readonly', 'fast'], keys: ONE_KEY, access: membersFrom(2), group: G, since: '1.2.0',
    summary: 'Get the score associated with the given member in a sorted set', complexity: 'O(1)', handler: zscore,
  },
  {
    name: 'zmscore', arity: -3, flags: ['readonly', 'fast'], keys: ONE_KEY, access: membersFrom(2), group: G, since: '6.2.0',
    summary: 'Get the score associated with the given members in a sorted set',
    complexity: 'O(N) where N is the number of members being requested.', handler: zmscore,
  },
  {
    name: 'zcard', arity: 2, flags: ['readonly', 'fast'], keys: ONE_KEY, access: metaOnly, group: G, since: '1.2.0',
    summary: 'Get the number of members in a sorted set', complexity: 'O(1)', handler: zcard,
  },
  {
    name: 'zcount', arity: 4, flags: ['readonly', 'fast'], keys: ONE_KEY, group: G, since: '2.0.0',
    summary: 'Count the members in a sorted set with scores within the given values',
    complexity: 'O(log(N)) with N being the number of elements in the sorted set.', handler: zcount,
  },
  {
    name: 'zlexcount', arity: 4, flags: ['readonly', 'fast'], keys: ONE_KEY, group: G, since: '2.8.9',
    summary: 'Count the number of members in a sorted set between a given lexicographical range',
    complexity: 'O(log(N)) with N being the number of elements in the sorted set.', handler: zlexcount,
  },
  {
    name: 'zrank', arity: 3, flags: ['readonly', 'fast'], keys: ONE_KEY, access: rankAccess, group: G, since: '2.0.0',
    summary: 'Determine the index of a member in a sorted set', complexity: 'O(log(N))', handler: zrank(false),
  },
  {
    name: 'zrevrank', arity: 3, flags: ['readonly', 'fast'], keys: ONE_KEY, access: rankAccess, group: G, since: '2.0.0',
    summary: 'Determine the index of a member in a sorted set, with scores ordered from high to low',
    complexity: 'O(log(N))', handler: zrank(true),
  },
  {
    name: 'zrange', arity: -4, flags: ['readonly'], keys: ONE_KEY, access: zrangeAccess(1), streams: true, group: G, since: '1.2.0',
    summary: 'Return a range of members in a sorted set',
    complexity: 'O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements returned.',
    handler: zrangeCmd,
  },
  {
    name: 'zrangestore', arity: -5, flags: ['write', 'denyoom'], keys: { first: 1, last: 2, step: 1 }, access: zrangeAccess(2), group: G,
    since: '6.2.0', summary: 'Store a range of members from sorted set into another key',
    complexity: 'O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements stored into the destination key.',
    handler: zrangestore,
  },
  {
    name: 'zrevrange', arity: -4, flags: ['readonly'], keys: ONE_KEY, access: zrevrangeAccess, streams: true, group: G, since: '1.2.0',
    summary: 'Return a range of members in a sorted set, by index, with scores ordered from high to low',
    complexity: 'O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements returned.',
    handler: fixedRange('rank', 'reverse'),
  },
  {
    name: 'zrangebyscore', arity: -4, flags: ['readonly'], keys: ONE_KEY, access: zrangeAccess(1, { by: 'score', rev: false }), streams: true, group: G, since: '1.0.5',
    summary: 'Return a range of members in a sorted set, by score',
    complexity: 'O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements being returned. If M is constant (e.g. always asking for the first 10 elements with LIMIT), you can consider it O(log(N)).',
    handler: fixedRange('score', 'forward'),
  },
  {
    name: 'zrevrangebyscore', arity: -4, flags: ['readonly'], keys: ONE_KEY, access: zrangeAccess(1, { by: 'score', rev: true }), streams: true, group: G, since: '2.2.0',
    summary: 'Return a range of members in a sorted set, by score, with scores ordered from high to low',
    complexity: 'O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements being returned. If M is constant (e.g. always asking for the first 10 elements with LIMIT), you can consider it O(log(N)).',
    handler: fixedRange('score', 'reverse'),
  },
  {
    name: 'zrangebylex', arity: -4, flags: ['readonly'], keys: ONE_KEY, access: zrangeAccess(1, { by: 'lex', rev: false }), group: G, since: '2.8.9',
    summary: 'Return a range of members in a sorted set, by lexicographical range',
    complexity: 'O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements being returned. If M is constant (e.g. always asking for the first 10 elements with LIMIT), you can consider it O(log(N)).',
    handler: fixedRange('lex', 'forward'),
  },
  {
    name: 'zrevrangebylex', arity: -4, flags: ['readonly'], keys: ONE_KEY, access: zrangeAccess(1, { by: 'lex', rev: true }), group: G, since: '2.8.9',
    summary: 'Return a range of members in a sorted set, by lexicographical range, ordered from higher to lower strings.',
    complexity: 'O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements being returned. If M is constant (e.g. always asking for the first 10 elements with LIMIT), you can consider it O(log(N)).',
    handler: fixedRange('lex', 'reverse'),
  },
  {
    name: 'zrem', arity: -3, flags: ['write', 'fast'], keys: ONE_KEY, access: membersFrom(2), group: G, since: '1.2.0',
    summary: 'Remove one or more members from a sorted set',
    complexity: 'O(M*log(N)) with N being the number of elements in the sorted set and M the number of elements to be removed.',
    handler: zrem,
  },
  {
    name: 'zremrangebyrank', arity: 4, flags: ['write'], keys: ONE_KEY, group: G, since: '2.0.0',
    summary: 'Remove all members in a sorted set within the given indexes',
    complexity: 'O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements removed by the operation.',
    handler: zremrange('rank'),
  },
  {
    name: 'zremrangebyscore', arity: 4, flags: ['write'], keys: ONE_KEY, group: G, since: '1.2.0',
    summary: 'Remove all members in a sorted set within the given scores',
    complexity: 'O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements removed by the operation.',
    handler: zremrange('score'),
  },
  {
    name: 'zremrangebylex', arity: 4, flags: ['write'], keys: ONE_KEY, group: G, since: '2.8.9',
    summary: 'Remove all members in a sorted set between the given lexicographical range',
    complexity: 'O(log(N)+M) with N being the number of elements in the sorted set and M the number of elements removed by the operation.',
    handler: zremrange('lex'),
  },
  {
    name: 'zpopmin', arity: -2, flags: ['write', 'fast'], keys: ONE_KEY, access: zpopAccess(false), group: G, since: '5.0.0',
    summary: 'Remove and return members with the lowest scores in a sorted set',
    complexity: 'O(log(N)*M) with N being the number of elements in the sorted set, and M being the number of elements popped.',
    handler: zpop(false),
  },
  {
    name: 'zpopmax', arity: -2, flags: ['write', 'fast'], keys: ONE_KEY, access: zpopAccess(true), group: G, since: '5.0.0',
    summary: 'Remove and return members with the highest scores in a sorted set',
    complexity: 'O(log(N)*M) with N being the number of elements in the sorted set, and M being the number of elements popped.',
    handler: zpop(true),
  },
  {
    name: 'zmpop', arity: -4, flags: ['write', 'movablekeys'], movableKeys: numkeysKeys(1), access: zmpopAccess(1), group: G, since: '7.0.0',
    summary: 'Remove and return members with scores in a sorted set',
    complexity: 'O(K) + O(M*log(N)) where K is the number of provided keys, N being the number of elements in the sorted set, and M being the number of elements popped.',
    handler: zmpop,
  },
  {
    name: 'bzpopmin', arity: -3, flags: ['write', 'noscript', 'blocking', 'fast'], keys: { first: 1, last: -2, step: 1 }, access: bzpopAccess(false),
    group: G, since: '5.0.0',
    summary: 'Remove and return the member with the lowest score from one or more sorted sets, or block until one is available',
    complexity: 'O(log(N)) with N being the number of elements in the sorted set.', handler: bzpop(false),
  },
  {
    name: 'bzpopmax', arity: -3, flags: ['write', 'noscript', 'blocking', 'fast'], keys: { first: 1, last: -2, step: 1 }, access: bzpopAccess(true),
    group: G, since: '5.0.0',
    summary: 'Remove and return the member with the highest score from one or more sorted sets, or block until one is available',
    complexity: 'O(log(N)) with N being the number of elements in the sorted set.', handler: bzpop(true),
  },
  {
    name: 'bzmpop', arity: -5, flags: ['write', 'blocking', 'movablekeys'], movableKeys: numkeysKeys(2), access: zmpopAccess(2), group: G,
    since: '7.0.0', summary: 'Remove and return members with scores in a sorted set or block until one is available',
    complexity: 'O(K) + O(M*log(N)) where K is the number of provided keys, N being the number of elements in the sorted set, and M being the number of elements popped.',
    handler: bzmpop,
  },
  {
    name: 'zrandmember', arity: -2, flags: ['readonly'], keys: ONE_KEY, group: G, since: '6.2.0',
    summary: 'Get one or multiple random elements from a sorted set',
    complexity: 'O(N) where N is the number of elements returned', handler: zrandmember,
  },
  {
    name: 'zunion', arity: -3, flags: ['readonly', 'movablekeys'], movableKeys: numkeysKeys(1), group: G, since: '6.2.0',
    summary: 'Add multiple sorted sets',
    complexity: 'O(N)+O(M*log(M)) with N being the sum of the sizes of the input sorted sets, and M being the number of elements in the resulting sorted set.',
    handler: setOpRead('union'),
  },
  {
    name: 'zinter', arity: -3, flags: ['readonly', 'movablekeys'], movableKeys: numkeysKeys(1), group: G, since: '6.2.0',
    summary: 'Intersect multiple sorted sets',
    complexity: 'O(N*K)+O(M*log(M)) worst case with N being the smallest input sorted set, K being the number of input sorted sets and M being the number of elements in the resulting sorted set.',
    handler: setOpRead('inter'),
  },
  {
    name: 'zdiff', arity: -3, flags: ['readonly', 'movablekeys'], movableKeys: numkeysKeys(1), group: G, since: '6.2.0',
    summary: 'Subtract multiple sorted sets',
    complexity: 'O(L + (N-K)log(N)) worst case where L is the total number of elements in all the sets, N is the size of the first set, and K is the size of the result set.',
    handler: setOpRead('diff'),
  },
  {
    name: 'zunionstore', arity: -4, flags: ['write', 'denyoom', 'movablekeys'], movableKeys: numkeysKeys(2, [1]), group: G,
    since: '2.0.0', summary: 'Add multiple sorted sets and store the resulting sorted set in a new key',
    complexity: 'O(N)+O(M log(M)) with N being the sum of the sizes of the input sorted sets, and M being the number of elements in the resulting sorted set.',
    handler: setOpStore('union'),
  },
  {
    name: 'zinterstore', arity: -4, flags: ['write', 'denyoom', 'movablekeys'], movableKeys: numkeysKeys(2, [1]), group: G,
    since: '2.0.0', summary: 'Intersect multiple sorted sets and store the resulting sorted set in a new key',
    complexity: 'O(N*K)+O(M*log(M)) worst case with N being the smallest input sorted set, K being the number of input sorted sets and M being the number of elements in the resulting sorted set.',
    handler: setOpStore('inter'),
  },
  {
    name: 'zdiffstore', arity: -4, flags: ['write', 'denyoom', 'movablekeys'], movableKeys: numkeysKeys(2, [1]), group: G,
    since: '6.2.0', summary: 'Subtract multiple sorted sets and store the resulting sorted set in a new key',
    complexity: 'O(L + (N-K)log(N)) worst case where L is the total number of elements in all the sets, N is the size of the first set, and K is the size of the result set.',
    handler: setOpStore('diff'),
  },
  {
    name: 'zintercard', arity: -3, flags: ['readonly', 'movablekeys'], movableKeys: numkeysKeys(1), group: G, since: '7.0.0',
    summary: 'Intersect multiple sorted sets and return the cardinality of the result',
    complexity: 'O(N*K) worst case with N being the smallest input sorted set, K being the number of input sorted sets.',
    handler: zintercard,
  },
  {
    name: 'zscan', arity: -3, flags: ['readonly'], keys: ONE_KEY, access: scanAccess, group: G, since: '2.8.0',
    summary: 'Incrementally iterate sorted sets elements and associated scores',
    complexity: 'O(1) for every call. O(N) for a complete iteration, including enough command calls for the cursor to return back to 0. N is the number of elements inside the collection..',
    handler: zscan,
  },
];
