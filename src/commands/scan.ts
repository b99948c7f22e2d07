import type { Reply } from '../protocol/reply.js';
import { int64Arg, keyword } from './args.js';
import { Errors } from './errors.js';
import { ErrorReply } from '../protocol/reply.js';
import { globMatch } from '../util/glob.js';
import type { ScanOrder } from '../keyspace/values/set.js';
import { PageFault, WHOLE, type Access } from '../keyspace/paging.js';
import type { CommandContext } from '../execution/context.js';
import type { Entry } from '../keyspace/types.js';
import { cursorAfter, PAGED_CURSOR_BASE, resumeAfter } from '../keyspace/scan-cursors.js';
import { indexedFormOf } from '../util/indexed-names.js';

/** Cursors and pages of SCAN, HSCAN, SSCAN and ZSCAN. */

const bulk = (s: string) => Buffer.from(s, 'latin1');
const ZERO = Buffer.from('0');

/**
 * Parse a cursor like Redis's parseScanCursorOrReply: strtoul on a C string,
 * so the text ends at a NUL byte, "" is 0, a sign is allowed ("-1" wraps to
 * 2^64-1), a leading space or trailing junk is an error, and so is an
 * overflow.
 */
export function parseScanCursor(b: Buffer): bigint {
  const nul = b.indexOf(0);
  const s = (nul < 0 ? b : b.subarray(0, nul)).toString('latin1');
  if (s.length === 0) return 0n;
  const m = /^([+-]?)([0-9]+)$/.exec(s);
  if (!m) throw new ErrorReply('ERR invalid cursor');
  let v = BigInt(m[2]!);
  if (v > U64_MAX) throw new ErrorReply('ERR invalid cursor');
  if (m[1] === '-' && v !== 0n) v = U64_MAX + 1n - v;
  return v;
}
const U64_MAX = 18446744073709551615n;

export interface ScanOptions {
  count: number;
  /** null = everything ("*" or no MATCH) */
  match: Buffer | null;
}

/** COUNT / MATCH options of HSCAN, SSCAN (and ZSCAN) from `from` on. */
export function parseScanOptions(args: Buffer[], from: number): ScanOptions {
  let count = 10;
  let match: Buffer | null = null;
  for (let i = from; i < args.length; i += 2) {
    const opt = keyword(args[i]!);
    if (opt === 'COUNT' && i + 1 < args.length) {
      const n = int64Arg(args[i + 1]!);
      if (n < 1n) throw Errors.syntax();
      count = n > 1_000_000_000n ? 1_000_000_000 : Number(n);
    } else if (opt === 'MATCH' && i + 1 < args.length) {
      const p = args[i + 1]!;
      match = p.length === 1 && p[0] === 0x2a ? null : p;
    } else {
      throw Errors.syntax();
    }
  }
  return { count, match };
}

/**
 * Collections this small are returned whole in one call with cursor 0, as
 * Redis does for its compact encodings (COUNT is then ignored).
 */
export const SCAN_WHOLE_LIMIT = 128;

/**
 * One page of a collection scan: member names and the next cursor.
 * `release` (optional) is called when the iteration completes, to drop a
 * cached scan order.
 */
export function scanPage(
  size: number,
  all: () => Iterable<string>,
  order: () => ScanOrder,
  cursor: bigint,
  opts: ScanOptions,
  release?: () => void,
): { members: string[]; next: bigint } {
  let members: string[];
  let next = 0n;
  if (size <= SCAN_WHOLE_LIMIT) {
    members = [...all()];
  } else {
    ({ members, next } = order().page(cursor, opts.count));
    if (next === 0n) release?.();
  }
  if (opts.match !== null) {
    const p = opts.match;
    members = members.filter((m) => globMatch(p, bulk(m)));
  }
  return { members, next };
}

export const EMPTY_SCAN = (): Reply => [ZERO, []];

/**
 * What HSCAN, SSCAN and ZSCAN need of a paged value (keyspace/paging.ts): a
 * scan page in member order from where the cursor resumes (cursor 0 or a
 * paged cursor, keyspace/scan-cursors.ts); a cursor of a scan begun in hash
 * order (the value was resident then) needs the whole value.
 */
export function scanAccess(args: Buffer[], index: number): Access {
  const after = resumeAfter(parseScanCursor(args[index + 1]!));
  if (after === undefined) return WHOLE;
  return { kind: 'scan', after, count: parseScanOptions(args, index + 2).count };
}

/**
 * A scan in member order (a paged value's, from its ScanPage; or a resident
 * value's that a paged scan began): the page's members that MATCH, and the
 * next cursor.
 */
export function memberOrderPage<P>(rows: ReadonlyArray<readonly [string, P]>, more: boolean, opts: ScanOptions): { rows: Array<readonly [string, P]>; next: bigint } {
  const next = more && rows.length > 0 ? cursorAfter(rows[rows.length - 1]![0]) : 0n;
  const p = opts.match;
  return { rows: p === null ? [...rows] : rows.filter(([m]) => globMatch(p, bulk(m))), next };
}

/**
 * A resident value's scan that a paged one began (the value was read whole
 * since): the members after the cursor's in the order PostgreSQL gives
 * (indexed forms' bytes), so the scan goes on where it was.
 */
export function residentMemberOrder(cursor: bigint, all: () => Iterable<string>, opts: ScanOptions): { members: string[]; more: boolean } | undefined {
  if (cursor < PAGED_CURSOR_BASE) return undefined;
  const after = resumeAfter(cursor);
  const from = after === null || after === undefined ? null : indexedFormOf(after);
  const forms = [...all()].map((m): [string, string] => [indexedFormOf(m), m]).filter(([f]) => from === null || f > from);
  forms.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  return { members: forms.slice(0, opts.count).map(([, m]) => m), more: forms.length > opts.count };
}

/**
 * HSCAN/SSCAN/ZSCAN in member order, or undefined for the usual scan in hash
 * order: of a paged value, the scan page read for this command (`scan`
 * access); of a resident one, when the cursor is a paged scan's (the value
 * was read whole since). Rows are [member, payload] (`payload` of a resident
 * member: its value or score).
 */
export function memberOrderScan<P>(
  c: CommandContext,
  e: Entry,
  paged: boolean,
  cursor: bigint,
  opts: ScanOptions,
  all: () => Iterable<string>,
  payload: (member: string) => P,
): { rows: Array<readonly [string, unknown]>; next: bigint } | undefined {
  if (paged) {
    const page = c.keyspace.takeScanPage(e, resumeAfter(cursor) ?? null, opts.count);
    if (page === undefined) throw new PageFault('a scan');
    return memberOrderPage(page.rows, page.more, opts);
  }
  const resumed = residentMemberOrder(cursor, all, opts);
  return resumed && memberOrderPage(resumed.members.map((m): [string, unknown] => [m, payload(m)]), resumed.more, opts);
}
