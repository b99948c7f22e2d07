import { randomInt } from 'node:crypto';
import type { Entry } from './types.js';

/**
 * The resident keys of one db: names to entries, and the entries in least
 * recently used order (eviction walks it from the oldest).
 *
 * A JavaScript Map of a million names cost 0.7-1 µs a lookup on this
 * machine's VM, most of it cache misses: its chained buckets hold two
 * entries each on average, and every entry on the way is a load of the
 * entry and of its key string to compare hashes. A pipelined GET spent a
 * fifth of Talus's CPU there (docs/benchmarks.md, "Session 20"). Here the
 * names' hashes sit in a typed array, open addressed and at most half
 * full: a name that is not resident is usually answered by one cache line
 * of hashes, a resident one by that line, its slot and the entry.
 *
 * The order is a list through the entries themselves (Entry.older/newer),
 * so moving a key to the young end costs no hashing, where a Map had to
 * delete and add it again.
 */
export class KeyTable {
  /** each slot's name hash (never 0), or 0 for a free slot */
  private hashes = new Int32Array(MIN_CAPACITY);
  private slots: Array<Entry | undefined> = new Array<Entry | undefined>(MIN_CAPACITY).fill(undefined);
  private mask = MIN_CAPACITY - 1;
  private count = 0;
  private oldest: Entry | undefined;
  private newest: Entry | undefined;

  get size(): number {
    return this.count;
  }

  get(name: string): Entry | undefined {
    const h = hashName(name);
    const hashes = this.hashes;
    const mask = this.mask;
    for (let i = h & mask; ; i = (i + 1) & mask) {
      const x = hashes[i]!;
      if (x === 0) return undefined;
      if (x === h) {
        const e = this.slots[i]!;
        if (e.name === name) return e;
      }
    }
  }

  has(name: string): boolean {
    return this.get(name) !== undefined;
  }

  /** Put `e` under `name` (its own name), replacing what was there, as the newest entry. */
  set(name: string, e: Entry): void {
    if (e.listed) {
      if (this.get(name) === e) return;
      throw new Error('KeyTable.set: the entry is in another table');
    }
    if (2 * (this.count + 1) > this.hashes.length) this.rehash(2 * this.hashes.length);
    const h = hashName(name);
    const hashes = this.hashes;
    const mask = this.mask;
    let i = h & mask;
    for (; ; i = (i + 1) & mask) {
      const x = hashes[i]!;
      if (x === 0) break;
      if (x === h && this.slots[i]!.name === name) {
        this.unlink(this.slots[i]!);
        this.count--;
        break;
      }
    }
    hashes[i] = h;
    this.slots[i] = e;
    this.count++;
    this.append(e);
  }

  delete(name: string): boolean {
    const h = hashName(name);
    const hashes = this.hashes;
    const mask = this.mask;
    for (let i = h & mask; ; i = (i + 1) & mask) {
      const x = hashes[i]!;
      if (x === 0) return false;
      if (x === h && this.slots[i]!.name === name) {
        this.unlink(this.slots[i]!);
        this.free(i);
        this.count--;
        if (this.hashes.length > MIN_CAPACITY && 8 * this.count < this.hashes.length) this.rehash(this.hashes.length / 2);
        return true;
      }
    }
  }

  clear(): void {
    // unlinked, so that an entry something still holds does not keep the others alive
    for (let e = this.oldest; e !== undefined; ) {
      const next: Entry | undefined = e.newer;
      e.listed = false;
      e.older = e.newer = undefined;
      e = next;
    }
    this.hashes = new Int32Array(MIN_CAPACITY);
    this.slots = new Array<Entry | undefined>(MIN_CAPACITY).fill(undefined);
    this.mask = MIN_CAPACITY - 1;
    this.count = 0;
    this.oldest = this.newest = undefined;
  }

  /** Make a resident entry the newest (most recently used). */
  touch(e: Entry): void {
    if (!e.listed || e === this.newest) return;
    this.unlink(e);
    this.append(e);
  }

  /**
   * The entries from the oldest to the newest. Like a Map's iterator it
   * goes on past entries deleted meanwhile (eviction deletes the one it was
   * given), and visits again an entry deleted and set anew (moved to the
   * young end): a loop that moves every entry it sees would not end.
   */
  *values(): IterableIterator<Entry> {
    let e = this.oldest;
    while (e !== undefined) {
      yield e;
      // an entry taken out keeps its `newer` as it was: the walk goes on from there
      e = e.newer;
      while (e !== undefined && !e.listed) e = e.newer;
    }
  }

  [Symbol.iterator](): IterableIterator<Entry> {
    return this.values();
  }

  private append(e: Entry): void {
    e.listed = true;
    e.older = this.newest;
    e.newer = undefined;
    if (this.newest === undefined) this.oldest = e;
    else this.newest.newer = e;
    this.newest = e;
  }

  /** Take `e` out of the order; its `newer` stays for a walk that is on it (values). */
  private unlink(e: Entry): void {
    e.listed = false;
    if (e.older === undefined) this.oldest = e.newer;
    else e.older.newer = e.newer;
    if (e.newer === undefined) this.newest = e.older;
    else e.newer.older = e.older;
    e.older = undefined;
  }

  /**
   * Free slot i of a linear-probing table: the entries after it in its run
   * that could not have been placed at i's right move back, so that no
   * lookup stops early at the hole (no deleted markers to accumulate).
   */
  private free(i: number): void {
    const hashes = this.hashes;
    const slots = this.slots;
    const mask = this.mask;
    let j = i;
    for (;;) {
      j = (j + 1) & mask;
      const x = hashes[j]!;
      if (x === 0) break;
      const home = x & mask;
      // the entry at j stays if its home lies cyclically in (i, j]
      if (i <= j ? i < home && home <= j : i < home || home <= j) continue;
      hashes[i] = x;
      slots[i] = slots[j];
      i = j;
    }
    hashes[i] = 0;
    slots[i] = undefined;
  }

  private rehash(capacity: number): void {
    const oldHashes = this.hashes;
    const oldSlots = this.slots;
    const hashes = new Int32Array(capacity);
    const slots = new Array<Entry | undefined>(capacity).fill(undefined);
    const mask = capacity - 1;
    for (let j = 0; j < oldHashes.length; j++) {
      const h = oldHashes[j]!;
      if (h === 0) continue;
      let i = h & mask;
      while (hashes[i] !== 0) i = (i + 1) & mask;
      hashes[i] = h;
      slots[i] = oldSlots[j];
    }
    this.hashes = hashes;
    this.slots = slots;
    this.mask = mask;
  }
}

const MIN_CAPACITY = 16;

/** Names longer than this are hashed on a sample of their characters, of about this many. */
const HASHED_CHARS = 65_536;

/**
 * A per-process seed: hashes an outsider cannot predict, so that names chosen
 * to collide (a hash-flooding attack on the table's probing) cannot be
 * precomputed.
 */
const SEED = randomInt(1, 2 ** 31);

/** A name's hash, never 0 (the free-slot mark): FNV-1a over its chars, then a final mix. */
export function hashName(name: string): number {
  const n = name.length;
  let h = SEED ^ n;
  // a very long name: a sample of its chars, but every char of its two ends
  const step = n <= HASHED_CHARS ? 1 : Math.ceil(n / HASHED_CHARS);
  if (step === 1) {
    for (let i = 0; i < n; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193);
  } else {
    for (let i = 0; i < 1024; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193);
    for (let i = 1024; i < n - 1024; i += step) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193);
    for (let i = n - 1024; i < n; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h === 0 ? 1 : h;
}
