import type { MemberPages } from '../paging.js';

/**
 * Which members of a collection changed since its last flush. `fresh` means
 * the incarnation is not in PostgreSQL yet: every member is written.
 */
export class MemberChanges {
  fresh = true;
  readonly changed = new Set<string>();

  /** Record a member (latin1 name) written or removed. */
  mark(member: string): void {
    if (!this.fresh) this.changed.add(member);
  }
}

/** A collection value that tracks its changes (hash, set, zset) and may be paged. */
export interface TrackedCollection {
  changes: MemberChanges;
  /** set while the value holds only some of its members (keyspace/paging.ts) */
  pages: MemberPages | null;
}
