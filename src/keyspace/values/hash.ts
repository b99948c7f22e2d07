import { MemberChanges, type TrackedCollection } from './changes.js';
import { registerValueOps } from '../value-ops.js';
import { MemberPages, PageFault } from '../paging.js';
import { COLLECTION_OVERHEAD, RANDOM_INDEX_OVERHEAD, RandomIndex, ScanOrder } from './set.js';

/**
 * Bytes accounted per field beyond the field and value bytes: the Map slot, the
 * field's string header, the value Buffer's objects. Measured (--expose-gc,
 * jemalloc, a million fields of 16 bytes in hashes of 1,000): 335 bytes of RSS
 * a field with a 10-byte value, 573 with a 100-byte one.
 */
export const HASH_FIELD_OVERHEAD = 320;

/**
 * The hash value: fields are latin1 strings (one char per byte, binary
 * safe), values private Buffers that are never mutated in place (replies may
 * reference them). Mutate only through `set` / `delete`: they keep the byte
 * count, the change tracking for the flusher and the random-access and scan
 * indexes in step.
 */
export class HashValue implements TrackedCollection {
  /** every field, or while paged the ones read so far (and those set since) */
  readonly fields = new Map<string, Buffer>();
  /** bytes the value accounts for (O(1) sizeOf) */
  bytes = COLLECTION_OVERHEAD;
  changes = new MemberChanges();
  /** set while the value holds only some of its fields (keyspace/paging.ts) */
  pages: MemberPages | null = null;
  private randomIndex: RandomIndex | undefined;
  private scanOrder: ScanOrder | undefined;

  get size(): number {
    return this.pages ? this.pages.total : this.fields.size;
  }

  get(field: string): Buffer | undefined {
    const v = this.fields.get(field);
    if (v === undefined && this.pages && !this.pages.absent.has(field)) throw new PageFault('a field');
    return v;
  }

  has(field: string): boolean {
    return this.get(field) !== undefined;
  }

  /** Set a field (the value must be a private copy); true if the field is new. */
  set(field: string, value: Buffer): boolean {
    const old = this.get(field);
    this.fields.set(field, value);
    if (old !== undefined) {
      this.changes.mark(field);
      this.bytes += value.length - old.length;
      return false;
    }
    this.changes.markAdded(field);
    this.bytes += field.length + value.length + HASH_FIELD_OVERHEAD;
    if (this.pages) {
      this.pages.total++;
      this.pages.unmarkAbsent(field);
    }
    if (this.randomIndex) {
      this.randomIndex.add(field);
      this.bytes += RANDOM_INDEX_OVERHEAD;
    }
    this.scanOrder = undefined;
    return true;
  }

  /** Remove a field; true if it was there. */
  delete(field: string): boolean {
    const old = this.get(field);
    if (old === undefined) return false;
    this.fields.delete(field);
    this.bytes -= field.length + old.length + HASH_FIELD_OVERHEAD;
    this.changes.mark(field);
    if (this.pages) {
      this.pages.total--;
      this.pages.markAbsent(field);
    }
    if (this.randomIndex) {
      this.randomIndex.delete(field);
      this.bytes -= RANDOM_INDEX_OVERHEAD;
    }
    this.scanOrder = undefined;
    return true;
  }

  [Symbol.iterator](): IterableIterator<[string, Buffer]> {
    if (this.pages) throw new PageFault('iteration');
    return this.fields.entries();
  }

  /**
   * Random access to the fields (built on first use, then maintained and
   * accounted in `bytes`: callers on a read path resize the entry).
   */
  random(): RandomIndex {
    if (this.pages) throw new PageFault('random access');
    if (!this.randomIndex) {
      this.randomIndex = new RandomIndex(this.fields.keys());
      this.bytes += this.fields.size * RANDOM_INDEX_OVERHEAD;
    }
    return this.randomIndex;
  }

  /** The scan order, cached until the next mutation or `releaseScan`. */
  scan(): ScanOrder {
    if (this.pages) throw new PageFault('a scan');
    return (this.scanOrder ??= new ScanOrder(this.fields.keys()));
  }

  /** Drop the cached scan order (an iteration completed). */
  releaseScan(): void {
    this.scanOrder = undefined;
  }

  /** A row read from PostgreSQL: no change to track. */
  loadRow(field: string, value: Buffer): void {
    const old = this.fields.get(field);
    this.fields.set(field, value);
    this.bytes += old === undefined ? field.length + value.length + HASH_FIELD_OVERHEAD : value.length - old.length;
  }

  /** Paged: whether the value knows if `field` is there without reading PostgreSQL. */
  knows(field: string): boolean {
    return this.fields.has(field) || this.pages!.absent.has(field);
  }

  /** An independent copy whose changes are fresh (a new incarnation). */
  clone(): HashValue {
    if (this.pages) throw new PageFault('a copy');
    const v = new HashValue();
    for (const [f, val] of this.fields) v.fields.set(f, val); // values are immutable: shared
    v.bytes = this.bytes - (this.randomIndex ? this.fields.size * RANDOM_INDEX_OVERHEAD : 0); // the copy has no index
    return v;
  }
}

registerValueOps('hash', {
  length: (v) => (v as HashValue).size,
  sizeOf: (v) => (v as HashValue).bytes + ((v as HashValue).pages?.absentBytes ?? 0),
  clone: (v) => (v as HashValue).clone(),
});
