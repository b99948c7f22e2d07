import { sql, type Kysely } from 'kysely';
import type { ArrayWrite } from '../../storage/batch.js';
import { registerCodec, retireViaGarbage, type TypeCodec } from '../../storage/codecs.js';
import { clampRange, PageFault } from '../paging.js';
import type { TalusSchema } from '../../storage/database.js';
import { Entry } from '../types.js';

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

/** Rough memory per element: the Buffer object, its slot, the backing store header. */
const ELEMENT_OVERHEAD = 80;
const LIST_OVERHEAD = 96;

const putRows: ArrayWrite = {
  name: 'list_put',
  columns: ['bigint[]', 'bigint[]', 'bytea[]'],
  build: ([ids, pos, values]) => sql`INSERT INTO talus.lists (key_id, pos, value)
    SELECT * FROM unnest(${ids}, ${pos}, ${values})
    ON CONFLICT (key_id, pos) DO UPDATE SET value = EXCLUDED.value`,
};

/** Deletes positions [lo, hi) of a key: pops and trims at either end. */
const deleteRange: ArrayWrite = {
  name: 'list_del',
  columns: ['bigint[]', 'bigint[]', 'bigint[]'],
  build: ([ids, los, his]) => sql`DELETE FROM talus.lists t
    USING unnest(${ids}, ${los}, ${his}) AS d(key_id, lo, hi)
    WHERE t.key_id = d.key_id AND t.pos >= d.lo AND t.pos < d.hi`,
};

export const listCodec: TypeCodec = {
  type: 'list',
  length: (v) => (v as ListValue).length,
  sizeOf: (v) => {
    const l = v as ListValue;
    return LIST_OVERHEAD + l.bytes + (l.pages ? l.pages.cache.size : l.length) * ELEMENT_OVERHEAD;
  },
  clone: (v) => (v as ListValue).clone(),
  stage(batch, e: Entry) {
    const v = e.value as ListValue;
    const t = v.takeChanges();
    const id = e.keyId;
    const lo = v.head;
    const hi = v.tail;
    const put = (from: number, to: number) => {
      for (let p = from; p < to; p++) batch.add(putRows, id, p, v.at(p - lo));
    };
    if (t.fresh) {
      put(lo, hi);
      return t;
    }
    // rows outside the current range
    const delHi = Math.min(t.pHi, lo);
    if (t.pLo < delHi) batch.add(deleteRange, id, t.pLo, delHi);
    const delLo = Math.max(t.pLo, hi);
    if (delLo < t.pHi) batch.add(deleteRange, id, delLo, t.pHi);
    // current positions whose row is missing or stale
    const cLo = Math.max(t.cLo, lo);
    const cHi = Math.min(t.cHi, hi);
    if (cLo >= cHi) {
      put(lo, hi);
    } else {
      put(lo, cLo);
      put(cHi, hi);
      for (const p of t.dirty) if (p >= cLo && p < cHi) batch.add(putRows, id, p, v.at(p - lo));
    }
    return t;
  },
  unstage(e, token) {
    const v = e.value;
    if (v instanceof ListValue) v.restoreChanges(token as ListChanges);
  },
  retire: retireViaGarbage('list'),
  async load(db: Kysely<TalusSchema>, keyIds: number[]) {
    const { rows } = await sql<{ key_id: number; pos: number; value: Buffer }>`
      SELECT key_id, pos, value FROM talus.lists
      WHERE key_id = ANY(${keyIds}::bigint[]) ORDER BY key_id, pos`.execute(db);
    const grouped = new Map<number, { pos: number[]; values: Buffer[] }>();
    for (const id of keyIds) grouped.set(id, { pos: [], values: [] });
    for (const r of rows) {
      const g = grouped.get(r.key_id)!;
      g.pos.push(r.pos);
      g.values.push(r.value);
    }
    const out = new Map<number, unknown>();
    for (const [id, g] of grouped) out.set(id, ListValue.fromRows(g.pos, g.values));
    return out;
  },
  async openPaged(ctx, rows) {
    const ids = rows.map((r) => r.keyId);
    const { rows: ends } = await sql<{ key_id: number; lo: number | null; hi: number | null }>`
      SELECT i.key_id,
        (SELECT min(pos) FROM talus.lists WHERE key_id = i.key_id) AS lo,
        (SELECT max(pos) FROM talus.lists WHERE key_id = i.key_id) AS hi
      FROM unnest(${ids}::bigint[]) AS i(key_id)`.execute(ctx.db);
    const length = new Map(rows.map((r) => [r.keyId, r.length]));
    const out = new Map<number, unknown>();
    for (const r of ends) {
      // Positions not contiguous (rows not written by Talus): left to a whole load.
      if (r.lo === null || r.hi === null || r.hi - r.lo + 1 !== length.get(r.key_id)) continue;
      out.set(r.key_id, ListValue.paged(r.lo, r.hi - r.lo + 1));
    }
    return out;
  },
  satisfies(value, access) {
    const v = value as ListValue;
    if (!v.pages || access.kind === 'meta') return true;
    if (access.kind !== 'range') return false;
    const span = clampRange(access.start, access.stop, v.length);
    return span === null || v.holds(span[0], span[1]);
  },
  async fetch(ctx, e: Entry, access) {
    const v = e.value as ListValue;
    if (!v.pages) return;
    // Rows of positions memory does not hold never changed since the key was
    // read: no need to wait for pending commits.
    const span = access.kind === 'range' ? clampRange(access.start, access.stop, v.length) : null;
    if (span !== null && span[1] - span[0] + 1 <= ctx.maxRows) {
      const { rows } = await sql<{ pos: number; value: Buffer }>`SELECT pos, value FROM talus.lists
        WHERE key_id = ${e.keyId} AND pos BETWEEN ${v.head + span[0]} AND ${v.head + span[1]}`.execute(ctx.db);
      if (v.pages) for (const r of rows) v.loadAt(r.pos, r.value);
      return;
    }
    const { rows } = await sql<{ pos: number; value: Buffer }>`SELECT pos, value FROM talus.lists
      WHERE key_id = ${e.keyId}`.execute(ctx.db);
    if (!v.pages) return;
    for (const r of rows) v.loadAt(r.pos, r.value);
    v.unpage();
  },
  async warmUp(ctx, keyId) {
    // opening a paged list (its ends), then LINDEX/LRANGE's read of positions
    await listCodec.openPaged!(ctx, [{ keyId, length: 2 }]);
    await listCodec.fetch!(ctx, new Entry(0, '', 'list', ListValue.paged(0, 2), 0, keyId), { kind: 'range', start: 0, stop: 0, reverse: false });
  },
  async purge(db: Kysely<TalusSchema>, keyIds: number[], limit: number) {
    const res = await sql`DELETE FROM talus.lists WHERE ctid IN (
      SELECT ctid FROM talus.lists WHERE key_id = ANY(${keyIds}::bigint[]) LIMIT ${limit})`.execute(db);
    return Number(res.numAffectedRows ?? 0);
  },
};

registerCodec(listCodec);
