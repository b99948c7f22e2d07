/**
 * Page-wise serving of big collections.
 *
 * A cold hash, list, set or sorted set with more members than
 * `paged-collection-threshold` is admitted to the hot set as a *paged*
 * value: its length and whatever members have been read so far, not all of
 * them. Each command declares in the command table what it needs of each key
 * (an `Access`); before it runs, the scheduler has the codec read what the
 * value lacks (a few rows by member, a range of list positions, a window of
 * sorted-set ranks) or, for anything not declared, the whole collection. The
 * command then runs synchronously on the value as on any other: the value
 * classes answer from what they hold, so each command is written once.
 */

export type Access =
  /** type, TTL and length only (DEL, EXPIRE, TYPE, HLEN, LPUSH...) */
  | { readonly kind: 'meta' }
  /** these members or fields (latin1 names), present or not */
  | { readonly kind: 'members'; readonly members: readonly string[] }
  /** a sorted set's rank of one member (ZRANK) */
  | { readonly kind: 'rank'; readonly member: string }
  /**
   * elements by index, Redis style (negative counts from the end), inclusive;
   * `reverse` counts from the last (ZREVRANGE, ZPOPMAX)
   */
  | { readonly kind: 'range'; readonly start: number; readonly stop: number; readonly reverse: boolean }
  /**
   * a sorted set's elements with scores in [min, max] (`minex`/`maxex`:
   * exclusive), from the low end or with `reverse` from the high end:
   * `offset` skipped, then up to `count` taken (negative: all of them)
   */
  | { readonly kind: 'scores' } & ScoreQuery
  /**
   * a sorted set's elements with members in [min, max] (ZRANGEBYLEX), as
   * `scores`; read in part only when all its scores are equal (Redis defines
   * lex ranges for that case), whole otherwise
   */
  | { readonly kind: 'lex' } & LexQuery
  /** everything (the default for commands that declare nothing) */
  | { readonly kind: 'whole' }
  /**
   * `of`, which a command run from a client's connection may take as rows
   * written to the client as they are read (PagedRows) when the value is
   * paged and `of` is more than a page: the value then stays paged.
   */
  | { readonly kind: 'stream'; readonly of: Access }
  /**
   * HSCAN/SSCAN/ZSCAN of a paged value: `count` members in member order after
   * `after` (null: from the first), read as a ScanPage (keyspace/scan-cursors.ts)
   */
  | { readonly kind: 'scan'; readonly after: string | null; readonly count: number };

export interface ScoreQuery {
  readonly min: number;
  readonly minex: boolean;
  readonly max: number;
  readonly maxex: boolean;
  readonly reverse: boolean;
  readonly offset: number;
  readonly count: number;
}

/** One end of a lex range: -1 is `-`, 1 is `+`, 0 a member (latin1) with `ex` for `(`. */
export interface LexEdge {
  readonly kind: -1 | 0 | 1;
  readonly value: string;
  readonly ex: boolean;
}

export interface LexQuery {
  readonly min: LexEdge;
  readonly max: LexEdge;
  readonly reverse: boolean;
  readonly offset: number;
  readonly count: number;
}

/** m comes before the edge (or at it, with `orAt`). */
export function beforeEdge(m: string, edge: LexEdge, orAt: boolean): boolean {
  if (edge.kind === -1) return false;
  if (edge.kind === 1) return true;
  return orAt ? m <= edge.value : m < edge.value;
}

export const META: Access = { kind: 'meta' };
export const WHOLE: Access = { kind: 'whole' };

export function members(names: readonly string[]): Access {
  return { kind: 'members', members: names };
}

export function range(start: number, stop: number, reverse = false): Access {
  return { kind: 'range', start, stop, reverse };
}

/**
 * What one task needs of a key it names twice (SMOVE k k, a transaction):
 * member lookups add up; an index-based need next to anything else becomes
 * WHOLE, because an earlier command of the task may shift the indexes.
 */
export function mergeAccess(a: Access, b: Access): Access {
  if (a.kind === 'stream') return mergeAccess(a.of, b);
  if (b.kind === 'stream') return mergeAccess(a, b.of);
  if (a.kind === 'scan' && b.kind !== 'meta') return WHOLE;
  if (b.kind === 'scan' && a.kind !== 'meta') return WHOLE;
  if (a.kind === 'meta') return b;
  if (b.kind === 'meta') return a;
  if (a.kind === 'members' && b.kind === 'members') return members([...a.members, ...b.members]);
  return WHOLE;
}

/** `of`, streamed when big (see Access). */
export function streamed(of: Access): Access {
  return of.kind === 'stream' ? of : { kind: 'stream', of };
}

/**
 * Rows of a paged collection, read through a PostgreSQL snapshot the loader
 * took for one command before it ran, while that command headed its key's
 * queue and the key had no uncommitted change: the rows are the value as the
 * command saw it, whatever runs after it. A page at a time, so a reply of
 * millions of members is never held whole.
 */
export interface PagedRows {
  /** rows it gives in all */
  readonly count: number;
  /** the next rows (a hash row is [field, value]; a set's or list's, [member]), or null after the last */
  next(): Promise<Buffer[][] | null>;
  /** give the snapshot back (also when not read to the end; again is a no-op) */
  close(): void;
}

/**
 * One page of a scan of a paged value, read for a command that declared a
 * `scan` access: `rows` are [member (latin1), payload (a hash's value Buffer,
 * a sorted set's score)] in member order, `more` whether members follow.
 * Valid while the entry's version is `version` (nothing changed it since).
 */
export interface ScanPage {
  readonly after: string | null;
  readonly count: number;
  readonly version: number;
  readonly rows: ReadonlyArray<readonly [string, unknown]>;
  readonly more: boolean;
}

/** A paged value asked for something it was not given: a missing `access` declaration. */
export class PageFault extends Error {
  constructor(what: string) {
    super(`internal error: ${what} of a paged collection was not read before the command ran`);
  }
}

/** A value that may be paged: `pages` is set while it does not hold all its members. */
export interface MaybePaged {
  pages: unknown;
}

export function isPaged(value: unknown): boolean {
  return (value as MaybePaged | undefined)?.pages != null;
}

/** Resolve Redis-style inclusive indexes against a length: [lo, hi] or null when empty. */
export function clampRange(start: number, stop: number, length: number): [number, number] | null {
  if (start < 0) start += length;
  if (stop < 0) stop += length;
  if (start < 0) start = 0;
  if (stop >= length) stop = length - 1;
  return start > stop || start >= length ? null : [start, stop];
}

/** Bytes accounted per member known to be absent from a paged collection. */
export const ABSENT_OVERHEAD = 40;

/**
 * The paging state of a hash, set or sorted set: how many members it has
 * and which members are known not to be in it. Members it holds in memory
 * are present; members neither held nor known absent are only in
 * PostgreSQL, unread.
 */
export class MemberPages {
  readonly absent = new Set<string>();
  /** memory the absent set accounts for (part of the value's size) */
  absentBytes = 0;
  constructor(public total: number) {}

  markAbsent(m: string): void {
    if (this.absent.has(m)) return;
    this.absent.add(m);
    this.absentBytes += m.length + ABSENT_OVERHEAD;
  }

  /** `m` was added: no longer absent. */
  unmarkAbsent(m: string): void {
    if (this.absent.delete(m)) this.absentBytes -= m.length + ABSENT_OVERHEAD;
  }
}

/** The `access` of commands that need only a key's type, TTL or length. */
export const metaOnly = (): Access => META;

/** `access` naming the members at arguments first, first + step, ... (HMGET, HSET, SADD...). */
export function membersFrom(first: number, step = 1): (args: Buffer[]) => Access {
  return (args) => {
    const names: string[] = [];
    for (let i = first; i < args.length; i += step) names.push(args[i]!.toString('latin1'));
    return members(names);
  };
}

/** An integer argument of an `access` function; anything else throws (the command then asks for WHOLE). */
export function intArg(b: Buffer | undefined): number {
  const s = b?.toString('latin1') ?? '';
  if (!/^-?\d{1,19}$/.test(s)) throw new Error('not an integer');
  return Number(s);
}

/** `count` elements at one end (pops); none for a count that pops nothing. */
export function fromEnd(tail: boolean, count: number): Access {
  if (!(count > 0)) return META;
  return tail ? range(-count, -1) : range(0, count - 1);
}
