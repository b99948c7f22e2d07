/**
 * Cursors of HSCAN, SSCAN and ZSCAN over paged collections. A resident value
 * is scanned in the order of its members' hashes, and its cursor is the hash
 * to resume at (values/set.ts, ScanOrder); a paged value is scanned from
 * PostgreSQL in member order (its primary key), and a cursor must stand for
 * the last member returned, which a number cannot spell. So such a cursor is
 * a number from PAGED_CURSOR_BASE up, remembered here with its member: a
 * client sees an opaque integer, as in Redis. The newest MAX_CURSORS are
 * kept (a server's worth of concurrent scans); an older one starts its scan
 * over (members are then returned again, never skipped). Per process, like
 * the keyspace.
 */
export const PAGED_CURSOR_BASE = 1n << 40n;
const MAX_CURSORS = 100_000;

const members = new Map<bigint, string>();
let nextCursor = PAGED_CURSOR_BASE;

/** A cursor that resumes a scan after `member`. */
export function cursorAfter(member: string): bigint {
  const cursor = nextCursor++;
  members.set(cursor, member);
  if (members.size > MAX_CURSORS) members.delete(members.keys().next().value!);
  return cursor;
}

/**
 * Where a cursor resumes a scan in member order: after a member, or null
 * from the first (cursor 0, or a paged cursor no longer remembered);
 * undefined for a cursor of a scan in hash order (below PAGED_CURSOR_BASE).
 */
export function resumeAfter(cursor: bigint): string | null | undefined {
  if (cursor === 0n) return null;
  if (cursor < PAGED_CURSOR_BASE) return undefined;
  return members.get(cursor) ?? null;
}
