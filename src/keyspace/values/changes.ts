import type { MemberPages } from '../paging.js';

/**
 * Which members of a collection changed since its last flush. `fresh` means
 * the incarnation is not in PostgreSQL yet: every member is written.
 */
export class MemberChanges {
  fresh = true;
  /**
   * Fresh and never sent: PostgreSQL holds no row of this incarnation (its
   * key id is new), so its members are plain inserts. Cleared once sent: a
   * failed commit may have committed after all, and its retry upserts.
   */
  rowless = true;
  readonly changed = new Set<string>();
  /**
   * The members of `changed` that were not in the value when first changed
   * since the last flush: the value then mirrored what the commits before
   * hold (a paged value knows such a member absent), so PostgreSQL has no
   * row for them and they are written by plain insert, which costs it about
   * a third less than an upsert (docs/benchmarks.md, "Session 18").
   */
  readonly added = new Set<string>();

  /** Record a member (latin1 name) written or removed. */
  mark(member: string): void {
    if (!this.fresh) this.changed.add(member);
  }

  /** Record a member (latin1 name) written that was not in the value. */
  markAdded(member: string): void {
    if (this.fresh) return;
    const before = this.changed.size;
    this.changed.add(member);
    // first changed now: no row; changed before (removed since), a row may be there
    if (this.changed.size !== before) this.added.add(member);
  }

  /** Members of a commit that failed: they may have rows now (see `rowless`). */
  restore(failed: MemberChanges): void {
    if (failed.fresh) {
      this.fresh = true;
      this.rowless = false;
    }
    for (const m of failed.changed) {
      this.changed.add(m);
      this.added.delete(m);
    }
  }
}

/** A collection value that tracks its changes (hash, set, zset) and may be paged. */
export interface TrackedCollection {
  changes: MemberChanges;
  /** set while the value holds only some of its members (keyspace/paging.ts) */
  pages: MemberPages | null;
}
