import type { CommandDef } from './table.js';
import type { CommandContext } from '../execution/context.js';
import type { KeyRef } from '../keyspace/scheduler.js';
import type { Entry } from '../keyspace/types.js';
import { Errors } from './errors.js';
import { ErrorReply, type Reply } from '../protocol/reply.js';
import { keyword, longArg } from './args.js';
import { lookup, lookupRead } from './keyaccess.js';
import { storeCollection } from './collections.js';
import { parseFloatArg, parseInteger } from '../util/numbers.js';
import type { ZSetValue } from '../keyspace/values/zset.js';
import type { SetValue } from '../keyspace/values/set.js';
import type { HashValue } from '../keyspace/values/hash.js';
import { ListValue } from '../keyspace/values/list.js';
import { isPaged } from '../keyspace/paging.js';

/**
 * SORT and SORT_RO over lists, sets and sorted sets, Redis 7.0 semantics.
 *
 * BY and GET patterns name keys that are not in the command's arguments:
 * which keys depends on the elements being sorted. Handlers of keyed
 * commands run synchronously on resident keys, so those keys must be
 * resident before the handler runs. The approach:
 *
 *  - SORT's `keyRefs` hook returns the sort key, the STORE key and, when the
 *    sort key is resident, every key its current elements make the BY/GET
 *    patterns name (deduplicated).
 *  - The dispatcher re-evaluates a `keyRefs` hook once the keys it returned
 *    are resident, right before running the command (see Talus.dispatch):
 *    if the elements now name keys that are not resident (the sort key was
 *    cold at dispatch, or changed while the command waited in the queue),
 *    the command is submitted again with the new key set, and so on until
 *    every key it needs is resident at the moment it runs. Keys waiting in
 *    the scheduler are claimed, so they are not evicted meanwhile. The
 *    handler then runs synchronously on a consistent snapshot, like any
 *    other command. The client is paused for the whole time, so its replies
 *    stay in order.
 *  - EXEC's key set includes SORT's (the hook is consulted for queued
 *    commands too). When a command queued before the SORT names the sorted
 *    key, it may put elements there that the SORT then sorts: the hook also
 *    plans the keys the patterns name for every element such a command could
 *    bring (foreseenElements: the earlier commands' arguments and the
 *    contents of the keys they name, resident by the time EXEC is planned
 *    again). What is still not foreseen (an element made by arithmetic, say)
 *    fails the SORT with an error instead of returning wrong results: a SORT
 *    cannot wait inside EXEC.
 *
 * Pattern lookups themselves never miss PostgreSQL data: a non-resident key
 * is never treated as absent.
 */

const str = (b: Buffer) => b.toString('latin1');
const bulk = (s: string) => Buffer.from(s, 'latin1');
const EMPTY = Buffer.alloc(0);

/** A BY/GET pattern, pre-split at its first '*' and optional "->field". */
interface Pattern {
  /** '#': the element itself; 'const': no '*', never matches; 'key': a key (or hash field) lookup */
  kind: 'self' | 'const' | 'key';
  prefix: string;
  postfix: string;
  field: string | null;
}

function parsePattern(b: Buffer, allowSelf: boolean): Pattern {
  const s = str(b);
  if (allowSelf && s === '#') return { kind: 'self', prefix: '', postfix: '', field: null };
  const star = s.indexOf('*');
  if (star < 0) return { kind: 'const', prefix: '', postfix: '', field: null };
  const arrow = s.indexOf('->', star + 1);
  if (arrow >= 0 && arrow + 2 < s.length) {
    return { kind: 'key', prefix: s.slice(0, star), postfix: s.slice(star + 1, arrow), field: s.slice(arrow + 2) };
  }
  return { kind: 'key', prefix: s.slice(0, star), postfix: s.slice(star + 1), field: null };
}

interface SortPlan {
  key: Buffer;
  desc: boolean;
  alpha: boolean;
  limitStart: number;
  limitCount: number;
  store: Buffer | null;
  /** the BY pattern (null: sort by the elements themselves) */
  by: Pattern | null;
  /** BY without '*': no sorting at all */
  dontSort: boolean;
  gets: Pattern[];
}

function parseSort(args: Buffer[], readonly: boolean): SortPlan {
  const plan: SortPlan = {
    key: args[1]!, desc: false, alpha: false, limitStart: 0, limitCount: -1, store: null, by: null,
    dontSort: false, gets: [],
  };
  for (let j = 2; j < args.length; j++) {
    const left = args.length - j - 1;
    const o = keyword(args[j]!);
    if (o === 'ASC') plan.desc = false;
    else if (o === 'DESC') plan.desc = true;
    else if (o === 'ALPHA') plan.alpha = true;
    else if (o === 'LIMIT' && left >= 2) {
      plan.limitStart = longArg(args[j + 1]!);
      plan.limitCount = longArg(args[j + 2]!);
      j += 2;
    } else if (!readonly && o === 'STORE' && left >= 1) {
      plan.store = args[++j]!;
    } else if (o === 'BY' && left >= 1) {
      const p = parsePattern(args[++j]!, false);
      plan.by = p;
      // like Redis, a BY without '*' disables sorting even if another BY follows
      plan.dontSort ||= p.kind === 'const';
    } else if (o === 'GET' && left >= 1) {
      plan.gets.push(parsePattern(args[++j]!, true));
    } else {
      throw Errors.syntax();
    }
  }
  return plan;
}

/** The entry holding the value to sort (without side effects: used by the key hook too). */
function peekEntry(c: CommandContext, key: Buffer): Entry | undefined {
  const e = c.session.db.entries.get(str(key));
  if (e === undefined || e.type === null) return undefined;
  if (e.expireAt !== 0 && e.expireAt <= Date.now()) return undefined;
  return e;
}

/** The elements of a list, set or zset, in its native order, as latin1 strings. */
function elementsOf(e: Entry): string[] {
  switch (e.type) {
    case 'list':
      return listItems(e.value as ListValue).map(str);
    case 'set':
      return [...(e.value as SetValue).members];
    case 'zset':
      return (e.value as ZSetValue).slice(0, (e.value as ZSetValue).size).map(([m]) => m);
    default:
      throw Errors.wrongType();
  }
}

function patternKey(p: Pattern, elem: string): string {
  return p.prefix + elem + p.postfix;
}

/** Every key the BY/GET patterns name for these elements. */
function patternKeys(plan: SortPlan, elems: string[]): string[] {
  const out = new Set<string>();
  const patterns: Pattern[] = [];
  if (plan.by && !plan.dontSort && plan.by.kind === 'key') patterns.push(plan.by);
  for (const g of plan.gets) if (g.kind === 'key') patterns.push(g);
  if (patterns.length === 0) return [];
  for (const el of elems) for (const p of patterns) out.add(patternKey(p, el));
  return [...out];
}

/** SORT's key positions as COMMAND GETKEYS reports them: the key and the last STORE target. */
function sortKeyPositions(args: Buffer[]): number[] {
  let store = -1;
  for (let i = 2; i < args.length; i++) {
    const o = keyword(args[i]!);
    if (o === 'LIMIT') i += 2;
    else if (o === 'GET' || o === 'BY') i += 1;
    else if (o === 'STORE' && i + 1 < args.length) store = ++i;
  }
  return store > 0 ? [1, store] : [1];
}

/** Scheduling: the keys above plus, when the sorted key is resident, the keys its patterns name. */
function sortKeyRefs(readonly: boolean) {
  return (c: CommandContext, args: Buffer[]): KeyRef[] => {
    const positions = readonly ? [1] : sortKeyPositions(args);
    const refs: KeyRef[] = positions.map((i) => ({ db: c.session.db, name: str(args[i]!) }));
    let plan: SortPlan;
    try {
      plan = parseSort(args, readonly);
    } catch {
      return refs; // the handler reports the syntax error
    }
    if ((!plan.by || plan.dontSort || plan.by.kind !== 'key') && !plan.gets.some((g) => g.kind === 'key')) return refs;
    if (!c.keyspace.isResident(c.session.db, str(plan.key))) return refs;
    const e = peekEntry(c, plan.key);
    const sorted = e !== undefined && (e.type === 'list' || e.type === 'set' || e.type === 'zset');
    // a paged value does not hold its elements yet: they are read (whole) first, then this runs again
    if (sorted && isPaged(e.value)) return refs;
    const earlier = c.session.plannedEarlier;
    const changedBefore = earlier?.refs.some((r) => r.db === c.session.db && r.name === str(plan.key)) ?? false;
    if (!sorted && !changedBefore) return refs;
    const elems = sorted ? elementsOf(e) : [];
    if (changedBefore) elems.push(...foreseenElements(earlier!));
    for (const name of patternKeys(plan, elems)) refs.push({ db: c.session.db, name });
    return refs;
  };
}

/**
 * Inside EXEC, what the commands queued before a SORT could put in its key:
 * their arguments, and what the resident keys planned for them hold (members,
 * fields and values, string values: moved or stored there, or named by an
 * earlier SORT ... GET ... STORE). A superset: an extra candidate only loads
 * a key the SORT does not read.
 */
function foreseenElements(earlier: { args: Buffer[][]; refs: KeyRef[] }): string[] {
  const out = new Set<string>();
  for (const args of earlier.args) for (let i = 1; i < args.length; i++) out.add(str(args[i]!));
  for (const r of earlier.refs) {
    const e = r.db.entries.get(r.name);
    if (e === undefined || e.type === null || isPaged(e.value)) continue;
    if (e.type === 'string') out.add(str(e.value as Buffer));
    else if (e.type === 'hash') {
      for (const [f, v] of (e.value as HashValue).fields) {
        out.add(f);
        out.add(str(v));
      }
    } else if (e.type !== 'stream') for (const el of elementsOf(e)) out.add(el);
  }
  return [...out];
}

/** The value a pattern names for an element (string value or hash field), or null. */
function lookupPattern(c: CommandContext, p: Pattern, elem: string): Buffer | null {
  if (p.kind === 'self') return bulk(elem);
  if (p.kind === 'const') return null;
  const e = c.keyspace.lookup(c.session.db, patternKey(p, elem));
  if (e === undefined) return null;
  if (p.field !== null) {
    if (e.type !== 'hash') return null;
    return (e.value as HashValue).get(p.field) ?? null;
  }
  return e.type === 'string' ? (e.value as Buffer) : null;
}

function isSpace(ch: number): boolean {
  return ch === 0x20 || (ch >= 0x09 && ch <= 0x0d);
}

/**
 * SORT's numeric conversion: strtod over the value as a C string (it ends at
 * the first NUL byte: "\x00" and "3\x00x" read as 0 and 3), leading whitespace
 * allowed, rejecting trailing bytes, NaN and out-of-range values (ERANGE,
 * subnormals included). The empty string is 0, as strtod leaves nothing behind.
 */
function sortScore(b: Buffer): number | null {
  const nul = b.indexOf(0);
  if (nul >= 0) b = b.subarray(0, nul);
  if (b.length === 0) return 0;
  let i = 0;
  while (i < b.length && isSpace(b[i]!)) i++;
  const v = parseFloatArg(i === 0 ? b : b.subarray(i));
  // glibc also reports ERANGE for subnormal results
  if (v !== null && v !== 0 && Math.abs(v) < 2.2250738585072014e-308) return null;
  return v;
}

interface Item {
  elem: string;
  score: number;
  cmp: Buffer | null;
}

function compareBytes(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function sortCommand(readonly: boolean) {
  return (c: CommandContext, args: Buffer[]): Reply => {
    const plan = parseSort(args, readonly);
    const ks = c.keyspace;
    const found = lookupRead(c, plan.key);
    if (found && found.type !== 'list' && found.type !== 'set' && found.type !== 'zset') throw Errors.wrongType();

    let alpha = plan.alpha;
    let dontSort = plan.dontSort;
    let by = plan.by;
    // A set has no order of its own: with STORE, or called from a script (nothing else runs
    // while one does), it is sorted (ALPHA) so the result is deterministic.
    if (dontSort && found?.type === 'set' && (plan.store !== null || c.server.scripting?.current !== undefined)) {
      dontSort = false;
      alpha = true;
      by = null;
    }
    // Redis converts a sorted set to its skiplist encoding for SORT, for good (-0 scores survive from then on)
    if (found?.type === 'zset' && (found.value as ZSetValue).compact) {
      (found.value as ZSetValue).compact = false;
      ks.touchUnwatched(found);
    }
    let elems = found ? elementsOf(found) : [];
    const missing = patternKeys({ ...plan, by, dontSort }, elems).filter((n) => !ks.isResident(c.session.db, n));
    if (missing.length > 0) {
      // Only possible inside EXEC (see the module comment).
      return new ErrorReply('ERR SORT BY/GET keys are not in memory and cannot be loaded inside MULTI/EXEC; retry');
    }

    const n = elems.length;
    let start = Math.min(Math.max(plan.limitStart, 0), n);
    const count = Math.min(Math.max(plan.limitCount, -1), n);
    let end = count < 0 ? n - 1 : start + count - 1;
    if (start >= n) {
      start = n - 1;
      end = n - 2;
    }
    if (end >= n) end = n - 1;

    let items: Item[];
    if (dontSort) {
      // Native order (lists and zsets), reversed with DESC.
      if (plan.desc && found?.type !== 'set') elems = elems.reverse();
      items = elems.map((elem) => ({ elem, score: 0, cmp: null }));
    } else {
      items = elems.map((elem) => ({ elem, score: 0, cmp: null }));
      let conversionError = false;
      for (const it of items) {
        let v: Buffer | null;
        if (by) {
          v = lookupPattern(c, by, it.elem);
          if (v === null) continue;
        } else {
          v = null;
        }
        if (alpha) {
          if (by) it.cmp = v;
        } else {
          const s = sortScore(v ?? bulk(it.elem));
          if (s === null) conversionError = true;
          else it.score = s;
        }
      }
      if (conversionError) return new ErrorReply("ERR One or more scores can't be converted into double");
      const sign = plan.desc ? -1 : 1;
      let cmpFn: (a: Item, b: Item) => number;
      if (!alpha) {
        cmpFn = (a, b) => sign * (a.score > b.score ? 1 : a.score < b.score ? -1 : compareBytes(a.elem, b.elem));
      } else if (by) {
        // Missing BY values sort first. Ties keep the native order of lists
        // and zsets (the sort is stable); a set has none that survives a
        // restart or a replica, so its ties fall back to the elements: the
        // result, and the replayed SORT ... STORE, are deterministic.
        const tieBreak = found?.type === 'set';
        cmpFn = (a, b) => {
          let r: number;
          if (a.cmp === null || b.cmp === null) r = a.cmp === b.cmp ? 0 : a.cmp === null ? -1 : 1;
          else r = Buffer.compare(a.cmp, b.cmp);
          return sign * (r !== 0 || !tieBreak ? r : compareBytes(a.elem, b.elem));
        };
      } else {
        cmpFn = (a, b) => sign * compareBytes(a.elem, b.elem);
      }
      items.sort(cmpFn);
    }

    const window = end >= start ? items.slice(start, end + 1) : [];
    if (plan.store === null) {
      const out: Reply[] = [];
      for (const it of window) {
        if (plan.gets.length === 0) out.push(bulk(it.elem));
        for (const g of plan.gets) out.push(lookupPattern(c, g, it.elem));
      }
      return out;
    }
    const values: Buffer[] = [];
    for (const it of window) {
      if (plan.gets.length === 0) values.push(bulk(it.elem));
      for (const g of plan.gets) values.push(lookupPattern(c, g, it.elem) ?? EMPTY);
    }
    // Deterministic given the data (ties are broken by the elements), so it replays as itself.
    storeCollection(c, plan.store, 'list', newList(values), 'sortstore', args);
    return values.length;
  };
}

/** A list's elements, head to tail. */
function listItems(v: ListValue): Buffer[] {
  return v.length === 0 ? [] : v.range(0, v.length - 1);
}

/** A new list value holding these elements (fresh Buffers or stored values, never mutated). */
function newList(items: Buffer[]): ListValue {
  const l = new ListValue(items.length);
  for (const b of items) l.pushTail(b);
  return l;
}

export const sortCommands: CommandDef[] = [
  {
    name: 'sort', arity: -2, flags: ['write', 'denyoom', 'movablekeys'], movableKeys: sortKeyPositions,
    keyRefs: sortKeyRefs(false), group: 'generic', categories: ['set', 'sortedset', 'list', 'dangerous'], since: '1.0.0',
    summary: 'Sort the elements in a list, set or sorted set',
    complexity: 'O(N+M*log(M)) where N is the number of elements in the list or set to sort, and M the number of returned elements. When the elements are not sorted, complexity is O(N).',
    handler: sortCommand(false),
  },
  {
    name: 'sort_ro', arity: -2, flags: ['readonly', 'movablekeys'], keys: { first: 1, last: 1, step: 1 },
    keyRefs: sortKeyRefs(true), group: 'generic', categories: ['set', 'sortedset', 'list', 'dangerous'], since: '7.0.0',
    summary: 'Sort the elements in a list, set or sorted set. Read-only variant of SORT.',
    complexity: 'O(N+M*log(M)) where N is the number of elements in the list or set to sort, and M the number of returned elements. When the elements are not sorted, complexity is O(N).',
    handler: sortCommand(true),
  },
];
