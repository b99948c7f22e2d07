import { MemberChanges, type TrackedCollection } from './changes.js';
import { registerValueOps } from '../value-ops.js';
import { MemberPages, PageFault } from '../paging.js';

/**
 * The set value: members are latin1 strings (one char per byte, binary
 * safe). Mutate only through `add` / `delete`: they keep the byte count,
 * the change tracking for the flusher, and the optional random-access and
 * scan indexes in step.
 *
 * Also home of two helpers shared by the collection values (hash, set):
 * `RandomIndex` (O(1) uniform picks from a Map/Set) and `ScanOrder` (the
 * stateless HSCAN/SSCAN cursor order).
 */

/** Bytes accounted per member beyond its own length (Set slot, string header): 109 bytes of RSS a 16-byte member, measured. */
export const SET_MEMBER_OVERHEAD = 90;
/** Bytes accounted per collection value beyond its members. */
export const COLLECTION_OVERHEAD = 64;
/** Bytes accounted per member while a value keeps a RandomIndex (array slot + position map entry). */
export const RANDOM_INDEX_OVERHEAD = 48;

/**
 * Dense array of members plus their positions: uniform random picks and
 * O(1) add/remove (swap with the last). Built on first use by a value, then
 * kept in step by the value's mutations.
 */
export class RandomIndex {
  private readonly list: string[] = [];
  private readonly pos = new Map<string, number>();

  constructor(members: Iterable<string>) {
    for (const m of members) this.add(m);
  }

  get size(): number {
    return this.list.length;
  }

  add(m: string): void {
    if (this.pos.has(m)) return;
    this.pos.set(m, this.list.length);
    this.list.push(m);
  }

  delete(m: string): void {
    const i = this.pos.get(m);
    if (i === undefined) return;
    this.pos.delete(m);
    const last = this.list.pop()!;
    if (i < this.list.length) {
      this.list[i] = last;
      this.pos.set(last, i);
    }
  }

  /** One member chosen uniformly (the index must not be empty). */
  random(): string {
    return this.list[randomInt(this.list.length)]!;
  }

  /** `count` members chosen uniformly with repetitions. */
  randomWithRepeats(count: number): string[] {
    const out = new Array<string>(count);
    const n = this.list.length;
    for (let i = 0; i < count; i++) out[i] = this.list[randomInt(n)]!;
    return out;
  }

  /**
   * `count` distinct members chosen uniformly, in random order; every member
   * when count >= size.
   */
  sample(count: number): string[] {
    const n = this.list.length;
    if (count >= n) return this.list.slice();
    if (count * 4 > n) {
      // A large share: partial Fisher-Yates shuffle of a copy.
      const copy = this.list.slice();
      for (let i = 0; i < count; i++) {
        const j = i + randomInt(n - i);
        const t = copy[i]!;
        copy[i] = copy[j]!;
        copy[j] = t;
      }
      copy.length = count;
      return copy;
    }
    // A small share: Floyd's algorithm picks distinct positions without a copy.
    const picked = new Set<number>();
    for (let j = n - count; j < n; j++) {
      const t = randomInt(j + 1);
      picked.add(picked.has(t) ? j : t);
    }
    const out: string[] = [];
    for (const i of picked) out.push(this.list[i]!);
    return out;
  }
}

export function randomInt(n: number): number {
  return Math.floor(Math.random() * n);
}

/** 32-bit FNV-1a of a latin1 string: the order SCAN cursors walk. */
export function scanHash(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/**
 * Members sorted by (scanHash, member): a cursor is the hash to resume at.
 * The order depends only on each member itself, never on the others, so
 * every member present for a whole scan is returned at least once however
 * the collection changes in between (and cursors survive restarts). Rebuilt
 * lazily after a mutation.
 */
export class ScanOrder {
  private readonly hashes: Uint32Array;
  private readonly members: string[];

  constructor(source: Iterable<string>) {
    const pairs: Array<[number, string]> = [];
    for (const m of source) pairs.push([scanHash(m), m]);
    pairs.sort((a, b) => a[0] - b[0] || (a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0));
    this.hashes = new Uint32Array(pairs.length);
    this.members = new Array<string>(pairs.length);
    for (let i = 0; i < pairs.length; i++) {
      this.hashes[i] = pairs[i]![0];
      this.members[i] = pairs[i]![1];
    }
  }

  /**
   * Up to about `count` members from `cursor` on (members sharing the last
   * hash are never split across calls), and the next cursor (0 = done).
   */
  page(cursor: bigint, count: number): { members: string[]; next: bigint } {
    const n = this.members.length;
    if (cursor > 0xffffffffn) return { members: [], next: 0n };
    const from = Number(cursor);
    let lo = 0;
    let hi = n;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.hashes[mid]! < from) lo = mid + 1;
      else hi = mid;
    }
    let end = Math.min(n, lo + count);
    while (end < n && end > lo && this.hashes[end] === this.hashes[end - 1]) end++;
    return { members: this.members.slice(lo, end), next: end >= n ? 0n : BigInt(this.hashes[end]!) };
  }
}

export class SetValue implements TrackedCollection {
  /** every member, or while paged the ones read so far (and those added since) */
  readonly members = new Set<string>();
  /** bytes the value accounts for (O(1) sizeOf) */
  bytes = COLLECTION_OVERHEAD;
  changes = new MemberChanges();
  /** set while the value holds only some of its members (keyspace/paging.ts) */
  pages: MemberPages | null = null;
  private randomIndex: RandomIndex | undefined;
  private scanOrder: ScanOrder | undefined;

  get size(): number {
    return this.pages ? this.pages.total : this.members.size;
  }

  has(m: string): boolean {
    if (this.members.has(m)) return true;
    if (this.pages && !this.pages.absent.has(m)) throw new PageFault('a member');
    return false;
  }

  /** Add a member; true if it was not there. */
  add(m: string): boolean {
    if (this.has(m)) return false;
    this.members.add(m);
    this.bytes += m.length + SET_MEMBER_OVERHEAD;
    this.changes.markAdded(m);
    if (this.pages) {
      this.pages.total++;
      this.pages.unmarkAbsent(m);
    }
    if (this.randomIndex) {
      this.randomIndex.add(m);
      this.bytes += RANDOM_INDEX_OVERHEAD;
    }
    this.scanOrder = undefined;
    return true;
  }

  /** Remove a member; true if it was there. */
  delete(m: string): boolean {
    if (!this.has(m)) return false;
    this.members.delete(m);
    this.bytes -= m.length + SET_MEMBER_OVERHEAD;
    this.changes.mark(m);
    if (this.pages) {
      this.pages.total--;
      this.pages.markAbsent(m);
    }
    if (this.randomIndex) {
      this.randomIndex.delete(m);
      this.bytes -= RANDOM_INDEX_OVERHEAD;
    }
    this.scanOrder = undefined;
    return true;
  }

  [Symbol.iterator](): IterableIterator<string> {
    if (this.pages) throw new PageFault('iteration');
    return this.members.values();
  }

  /**
   * Random access to the members (built on first use, then maintained and
   * accounted in `bytes`: callers on a read path resize the entry).
   */
  random(): RandomIndex {
    if (this.pages) throw new PageFault('random access');
    if (!this.randomIndex) {
      this.randomIndex = new RandomIndex(this.members);
      this.bytes += this.members.size * RANDOM_INDEX_OVERHEAD;
    }
    return this.randomIndex;
  }

  /** The scan order, cached until the next mutation or `releaseScan`. */
  scan(): ScanOrder {
    if (this.pages) throw new PageFault('a scan');
    return (this.scanOrder ??= new ScanOrder(this.members));
  }

  /** Drop the cached scan order (an iteration completed). */
  releaseScan(): void {
    this.scanOrder = undefined;
  }

  /** A member read from PostgreSQL: no change to track. */
  loadRow(m: string): void {
    if (this.members.has(m)) return;
    this.members.add(m);
    this.bytes += m.length + SET_MEMBER_OVERHEAD;
  }

  /** Paged: whether the value knows if `m` is a member without reading PostgreSQL. */
  knows(m: string): boolean {
    return this.members.has(m) || this.pages!.absent.has(m);
  }

  /** An independent copy whose changes are fresh (a new incarnation). */
  clone(): SetValue {
    if (this.pages) throw new PageFault('a copy');
    const v = new SetValue();
    for (const m of this.members) v.members.add(m);
    v.bytes = this.bytes - (this.randomIndex ? this.members.size * RANDOM_INDEX_OVERHEAD : 0); // the copy has no index
    return v;
  }

  /** A new set of these members (fresh: written whole at its next flush). */
  static of(members: Iterable<string>): SetValue {
    const v = new SetValue();
    for (const m of members) {
      if (v.members.has(m)) continue;
      v.members.add(m);
      v.bytes += m.length + SET_MEMBER_OVERHEAD;
    }
    return v;
  }
}

registerValueOps('set', {
  length: (v) => (v as SetValue).size,
  sizeOf: (v) => (v as SetValue).bytes + ((v as SetValue).pages?.absentBytes ?? 0),
  clone: (v) => (v as SetValue).clone(),
});
