import { PageFault } from '../paging.js';
import { registerValueOps } from '../value-ops.js';

/**
 * A list value: a deque of private, never-mutated Buffers in a ring buffer
 * (O(1) push/pop at both ends and O(1) access by index), where every element
 * also has a position, its row key in talus.lists (key_id, pos). Positions
 * are contiguous: element i is at `head + i`, so a push at the head takes
 * head-1, a push at the tail takes tail+1, and LINDEX/LRANGE by index map to
 * position ranges.
 *
 * Change tracking for the flusher, in terms of positions:
 * - `persisted` [pLo, pHi): the rows PostgreSQL holds for this incarnation;
 * - `clean` [cLo, cHi): positions whose row there still holds the current
 *   element, except the ones in `dirty` (LSET). Pops shrink it from its ends;
 *   pushes add positions outside it;
 * - a flush deletes persisted positions outside [head, tail) (two range
 *   deletes), and upserts current positions outside `clean` plus `dirty`.
 *
 * Operations in the middle (LINSERT, LREM) renumber in place, in the same
 * incarnation: the elements on the shorter side of the change move by the
 * shift, and `clean` shrinks to exclude every position whose element changed,
 * so a flush rewrites only those rows: min(i, n-i) of them for an insert, not
 * the whole list. (A new incarnation would rewrite all n rows and leave n old
 * ones to the janitor: much worse for a big list edited near one end.)
 */
export class ListValue {
  private ring: Array<Buffer | undefined>;
  private mask: number;
  /** ring index of the first element */
  private start = 0;
  length = 0;
  /** sum of element byte lengths */
  bytes = 0;
  /** position of the first element */
  head = 0;

  // change tracking, see above
  fresh = true;
  pLo = 0;
  pHi = 0;
  cLo = 0;
  cHi = 0;
  dirty = new Set<number>();

  /**
   * Set while the value holds only some elements (keyspace/paging.ts): those
   * read so far and those pushed or set since, by position; the ring is
   * unused meanwhile.
   */
  pages: { cache: Map<number, Buffer> } | null = null;

  constructor(capacity = 8) {
    let cap = 8;
    while (cap < capacity) cap *= 2;
    this.ring = new Array(cap);
    this.mask = cap - 1;
  }

  get tail(): number {
    return this.head + this.length;
  }

  /** element at index i (0 <= i < length) */
  at(i: number): Buffer {
    if (this.pages) {
      const v = this.pages.cache.get(this.head + i);
      if (v === undefined) throw new PageFault('an element');
      return v;
    }
    return this.ring[(this.start + i) & this.mask]!;
  }

  pushTail(v: Buffer): void {
    if (this.pages) {
      this.pages.cache.set(this.tail, v);
      this.length++;
      this.bytes += v.length;
      return;
    }
    if (this.length === this.ring.length) this.grow();
    this.ring[(this.start + this.length) & this.mask] = v;
    this.length++;
    this.bytes += v.length;
  }

  pushHead(v: Buffer): void {
    if (this.pages) {
      this.head--;
      this.pages.cache.set(this.head, v);
      this.length++;
      this.bytes += v.length;
      return;
    }
    if (this.length === this.ring.length) this.grow();
    this.start = (this.start - 1) & this.mask;
    this.ring[this.start] = v;
    this.length++;
    this.head--;
    this.bytes += v.length;
  }

  popHead(): Buffer | undefined {
    if (this.length === 0) return undefined;
    if (this.pages) {
      const v = this.at(0);
      this.pages.cache.delete(this.head);
      this.head++;
      this.length--;
      this.bytes -= v.length;
      if (this.cLo < this.head) this.cLo = this.head;
      return v;
    }
    const v = this.ring[this.start]!;
    this.ring[this.start] = undefined;
    this.start = (this.start + 1) & this.mask;
    this.length--;
    this.head++;
    this.bytes -= v.length;
    if (this.cLo < this.head) this.cLo = this.head;
    this.maybeShrink();
    return v;
  }

  popTail(): Buffer | undefined {
    if (this.length === 0) return undefined;
    if (this.pages) {
      const v = this.at(this.length - 1);
      this.pages.cache.delete(this.tail - 1);
      this.length--;
      this.bytes -= v.length;
      if (this.cHi > this.tail) this.cHi = this.tail;
      return v;
    }
    const idx = (this.start + this.length - 1) & this.mask;
    const v = this.ring[idx]!;
    this.ring[idx] = undefined;
    this.length--;
    this.bytes -= v.length;
    if (this.cHi > this.tail) this.cHi = this.tail;
    this.maybeShrink();
    return v;
  }

  /** Replace element i (LSET). */
  set(i: number, v: Buffer): void {
    if (this.pages) {
      this.bytes += v.length - this.at(i).length;
      this.pages.cache.set(this.head + i, v);
      const pos = this.head + i;
      if (pos >= this.cLo && pos < this.cHi) this.dirty.add(pos);
      return;
    }
    const idx = (this.start + i) & this.mask;
    this.bytes += v.length - this.ring[idx]!.length;
    this.ring[idx] = v;
    const pos = this.head + i;
    if (pos >= this.cLo && pos < this.cHi) this.dirty.add(pos);
  }

  /** Insert before index i (0 <= i <= length), moving the shorter side. */
  insert(i: number, v: Buffer): void {
    if (this.pages) throw new PageFault('an insert');
    if (i === 0) return this.pushHead(v);
    if (i === this.length) return this.pushTail(v);
    if (this.length === this.ring.length) this.grow();
    const m = this.mask;
    if (i < this.length - i) {
      // elements 0..i-1 move one slot towards the head
      this.start = (this.start - 1) & m;
      for (let k = 0; k < i; k++) this.ring[(this.start + k) & m] = this.ring[(this.start + k + 1) & m];
      this.ring[(this.start + i) & m] = v;
      this.head--;
      this.length++;
      // positions head .. head+i changed
      if (this.cLo < this.head + i + 1) this.cLo = this.head + i + 1;
    } else {
      // elements i..length-1 move one slot towards the tail
      for (let k = this.length; k > i; k--) this.ring[(this.start + k) & m] = this.ring[(this.start + k - 1) & m];
      this.ring[(this.start + i) & m] = v;
      this.length++;
      // positions head+i .. tail-1 changed
      if (this.cHi > this.head + i) this.cHi = this.head + i;
    }
    this.bytes += v.length;
  }

  /**
   * Remove the elements at these indexes (ascending, LREM), compacting
   * towards whichever end moves fewer elements.
   */
  removeIndexes(idx: number[]): void {
    if (idx.length === 0) return;
    if (this.pages) throw new PageFault('a removal');
    const n = this.length;
    const first = idx[0]!;
    const last = idx[idx.length - 1]!;
    const removed = new Set(idx);
    const kept: Buffer[] = [];
    for (let i = 0; i < n; i++) {
      const v = this.at(i);
      if (removed.has(i)) this.bytes -= v.length;
      else kept.push(v);
    }
    // Towards the tail: elements before `last` move; towards the head: after `first`.
    const movedIfHeadSide = last + 1 - idx.length;
    const movedIfTailSide = n - first - idx.length;
    const oldHead = this.head;
    if (movedIfHeadSide <= movedIfTailSide) {
      // the suffix after `last` keeps its positions; the head moves right
      this.head = oldHead + idx.length;
      if (this.cLo < oldHead + last + 1) this.cLo = oldHead + last + 1;
    } else {
      // the prefix before `first` keeps its positions
      if (this.cHi > oldHead + first) this.cHi = oldHead + first;
    }
    this.reset(kept);
    if (this.cHi > this.tail) this.cHi = this.tail;
    if (this.cLo < this.head) this.cLo = this.head;
  }

  /** Drop `left` elements from the head and `right` from the tail (LTRIM). */
  trim(left: number, right: number): void {
    for (let k = 0; k < left && this.length > 0; k++) this.popHead();
    for (let k = 0; k < right && this.length > 0; k++) this.popTail();
  }

  /** Elements from index `from` to `to` inclusive (already clamped). */
  range(from: number, to: number): Buffer[] {
    const out: Buffer[] = new Array(Math.max(0, to - from + 1));
    for (let i = from, k = 0; i <= to; i++, k++) out[k] = this.at(i);
    return out;
  }

  *[Symbol.iterator](): IterableIterator<Buffer> {
    if (this.pages) throw new PageFault('iteration');
    for (let i = 0; i < this.length; i++) yield this.at(i);
  }

  /** Replace every element (keeping `head`); tracking is the caller's business. */
  private reset(items: Buffer[]): void {
    let cap = 8;
    while (cap < items.length) cap *= 2;
    this.ring = new Array(cap);
    this.mask = cap - 1;
    this.start = 0;
    this.length = items.length;
    for (let i = 0; i < items.length; i++) this.ring[i] = items[i];
  }

  private grow(): void {
    const cap = this.ring.length;
    const next: Array<Buffer | undefined> = new Array(cap * 2);
    for (let i = 0; i < this.length; i++) next[i] = this.ring[(this.start + i) & this.mask];
    this.ring = next;
    this.mask = cap * 2 - 1;
    this.start = 0;
  }

  private maybeShrink(): void {
    const cap = this.ring.length;
    if (cap > 64 && this.length < cap / 4) {
      const next: Array<Buffer | undefined> = new Array(cap / 2);
      for (let i = 0; i < this.length; i++) next[i] = this.ring[(this.start + i) & this.mask];
      this.ring = next;
      this.mask = cap / 2 - 1;
      this.start = 0;
    }
  }

  /** An independent copy, new to PostgreSQL (elements are immutable: shared). */
  clone(): ListValue {
    if (this.pages) throw new PageFault('a copy');
    const v = new ListValue(this.length);
    for (let i = 0; i < this.length; i++) v.pushTail(this.at(i));
    return v;
  }

  /** Take the changes since the last flush; tracking restarts from "all clean". */
  takeChanges(): ListChanges {
    const t: ListChanges = {
      value: this,
      fresh: this.fresh,
      pLo: this.pLo,
      pHi: this.pHi,
      cLo: this.cLo,
      cHi: this.cHi,
      dirty: this.dirty,
    };
    this.fresh = false;
    this.pLo = this.cLo = this.head;
    this.pHi = this.cHi = this.tail;
    this.dirty = new Set();
    return t;
  }

  /** A flush that took `t` failed: merge its changes back in. */
  restoreChanges(t: ListChanges): void {
    if (t.value !== this) return;
    if (t.fresh) {
      this.fresh = true;
      this.pLo = this.pHi = this.cLo = this.cHi = this.head;
      this.dirty.clear();
      return;
    }
    // PostgreSQL still holds what it held before that flush.
    this.pLo = t.pLo;
    this.pHi = t.pHi;
    this.cLo = Math.max(this.cLo, t.cLo);
    this.cHi = Math.min(this.cHi, t.cHi);
    for (const p of t.dirty) this.dirty.add(p);
  }

  /** Paged: whether every element of indexes [lo, hi] is held. */
  holds(lo: number, hi: number): boolean {
    const cache = this.pages!.cache;
    for (let p = this.head + lo; p <= this.head + hi; p++) if (!cache.has(p)) return false;
    return true;
  }

  /** Paged: an element read from PostgreSQL (ignored if memory has that position, or it is gone). */
  loadAt(pos: number, v: Buffer): void {
    const cache = this.pages!.cache;
    if (pos < this.head || pos >= this.tail || cache.has(pos)) return;
    cache.set(pos, v);
    this.bytes += v.length;
  }

  /** Stop paging: every element of [head, tail) has been read (loadAt) into the cache. */
  unpage(): void {
    const cache = this.pages!.cache;
    const items: Buffer[] = new Array(this.length);
    for (let i = 0; i < this.length; i++) {
      const v = cache.get(this.head + i);
      if (v === undefined) throw new Error(`list row at position ${this.head + i} is missing`);
      items[i] = v;
    }
    this.pages = null;
    this.reset(items);
  }

  /** A paged list of `length` elements at positions [head, head + length), none read yet. */
  static paged(head: number, length: number): ListValue {
    const v = new ListValue();
    v.fresh = false;
    v.head = v.pLo = v.cLo = head;
    v.length = length;
    v.pHi = v.cHi = head + length;
    v.pages = { cache: new Map() };
    return v;
  }

  /** A value mirroring rows read from PostgreSQL (ordered by pos). */
  static fromRows(positions: number[], values: Buffer[]): ListValue {
    const v = new ListValue(values.length);
    for (const b of values) v.pushTail(b);
    v.fresh = false;
    if (positions.length === 0) return v;
    const lo = positions[0]!;
    const hi = positions[positions.length - 1]! + 1;
    v.head = lo;
    v.pLo = lo;
    v.pHi = hi;
    if (hi - lo === positions.length) {
      v.cLo = lo;
      v.cHi = hi;
    } else {
      // gaps (not written by Talus): renumber contiguously, rewrite everything
      v.cLo = v.cHi = lo;
    }
    return v;
  }
}

export interface ListChanges {
  value: ListValue;
  fresh: boolean;
  pLo: number;
  pHi: number;
  cLo: number;
  cHi: number;
  dirty: Set<number>;
}

/** Memory per element beyond its bytes: the Buffer's objects, its slot (240 bytes of RSS a 10-byte element, measured). */
const ELEMENT_OVERHEAD = 230;
const LIST_OVERHEAD = 96;

/** Bytes a list accounts for in the hot set. */
export function listSize(l: ListValue): number {
  return LIST_OVERHEAD + l.bytes + (l.pages ? l.pages.cache.size : l.length) * ELEMENT_OVERHEAD;
}

registerValueOps('list', {
  length: (v) => (v as ListValue).length,
  sizeOf: (v) => listSize(v as ListValue),
  clone: (v) => (v as ListValue).clone(),
});
