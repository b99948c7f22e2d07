import type { Reply } from '../protocol/reply.js';
import { int64Arg, keyword } from './args.js';
import { Errors } from './errors.js';
import { ErrorReply } from '../protocol/reply.js';
import { globMatch } from '../util/glob.js';
import type { ScanOrder } from '../keyspace/values/set.js';

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
