import { randomInt } from 'node:crypto';
import type { Entry } from './types.js';

/**
 * The resident keys of one db: names to entries, and the entries in least
 * recently used order (eviction walks it from the oldest).
 *
 * A JavaScript Map of a few hundred thousand names cost 0.7-1 µs a lookup on
 * this machine's VM, most of it cache misses: its chained buckets hold two
 * entries each on average, and every entry on the way is a load of the entry
 * and of its key string to compare. A pipelined GET spent a fifth of Talus's
 * CPU there (docs/benchmarks.md, "Session 20"). Here an index of (hash,
 * position) pairs of int32, open addressed and at most half full, answers a
 * name that is not resident from one cache line, and a resident one from that
 * line, its place in the order, and the entry.
 *
 * The entries themselves sit in `order`, a plain array in least recently used
 * order: a new or touched entry is appended, and the place it left becomes a
 * hole (squeezed out once holes are half of the array). Appending matters to
 * the garbage collector: entries are young when stored, and V8 remembers every
 * old-to-young pointer until the next scavenge. Stored at hashed places across
 * a table of megabytes, those pointers made each scavenge visit as many
 * scattered cache lines, and a bulk load of new keys spent 60% more time in
 * scavenges than with a Map (which also stores entries in insertion order).
 */
export class KeyTable {
  /** pairs: a name's hash (never 0; 0 marks a free slot) and its entry's position in `order` */
  private index = new Int32Array(2 * MIN_SLOTS);
  private mask = MIN_SLOTS - 1;
  private order: Array<Entry | undefined> = [];
  private holes = 0;
  /** positions below this are all holes: walks start here (eviction leaves its holes at the old end) */
  private head = 0;
  private count = 0;
  /** walks in progress (values): the order is not squeezed under them */
  private walking = 0;

  get size(): number {
    return this.count;
  }

  get(name: string): Entry | undefined {
    const i = this.find(name);
    return i < 0 ? undefined : this.order[this.index[2 * i + 1]!];
  }

  has(name: string): boolean {
    return this.find(name) >= 0;
  }

  /** Put `e` under `name` (its own name), replacing what was there, as the newest entry. */
  set(name: string, e: Entry): void {
    if (e.position >= 0) {
      if (this.get(name) === e) return;
      throw new Error('KeyTable.set: the entry is in another table');
    }
    if (2 * (this.count + 1) > this.mask + 1) this.resize(2 * (this.mask + 1));
    let i = this.find(name);
    if (i >= 0) {
      this.leave(this.order[this.index[2 * i + 1]!]!);
    } else {
      i = ~i;
      this.count++;
    }
    this.index[2 * i] = hashName(name); // the last name hashed: no second hashing
    this.index[2 * i + 1] = this.append(e);
    this.squeezeIfHoley();
  }

  delete(name: string): boolean {
    const i = this.find(name);
    if (i < 0) return false;
    this.leave(this.order[this.index[2 * i + 1]!]!);
    this.free(i);
    this.count--;
    if (this.mask + 1 > MIN_SLOTS && 8 * this.count < this.mask + 1) this.resize((this.mask + 1) / 2);
    else this.squeezeIfHoley();
    return true;
  }

  /** The index slot holding `name`, or, when no slot does, ~(the free slot that ends its probe run). */
  private find(name: string): number {
    const h = hashName(name);
    const index = this.index;
    const mask = this.mask;
    for (let i = h & mask; ; i = (i + 1) & mask) {
      const x = index[2 * i]!;
      if (x === 0) return ~i;
      if (x === h && this.order[index[2 * i + 1]!]!.name === name) return i;
    }
  }

  clear(): void {
    for (const e of this.order) if (e !== undefined) e.position = -1;
    this.index = new Int32Array(2 * MIN_SLOTS);
    this.mask = MIN_SLOTS - 1;
    this.order = [];
    this.holes = 0;
    this.head = 0;
    this.count = 0;
  }

  /** Make a resident entry the newest (most recently used). */
  touch(e: Entry): void {
    const from = e.position;
    if (from < 0 || from === this.order.length - 1) return;
    const slot = this.slotAt(hashName(e.name), from);
    this.leave(e);
    this.index[2 * slot + 1] = this.append(e);
    this.squeezeIfHoley();
  }

  /**
   * The entries from the oldest to the newest. Like a Map's iterator it
   * skips entries deleted meanwhile (eviction deletes the one it was given),
   * and visits again an entry touched meanwhile (moved to the young end): a
   * loop that touches every entry it sees would not end.
   */
  *values(): IterableIterator<Entry> {
    this.walking++;
    try {
      // `order` is read afresh each step: clear() replaces it
      for (let p = this.head; p < this.order.length; p++) {
        const e = this.order[p];
        if (e !== undefined) yield e;
      }
    } finally {
      this.walking--;
    }
  }

  [Symbol.iterator](): IterableIterator<Entry> {
    return this.values();
  }

  private append(e: Entry): number {
    e.position = this.order.length;
    this.order.push(e);
    return e.position;
  }

  /** Take `e` out of the order, leaving a hole. */
  private leave(e: Entry): void {
    const order = this.order;
    order[e.position] = undefined;
    this.holes++;
    if (e.position === this.head) {
      let h = this.head + 1;
      while (h < order.length && order[h] === undefined) h++;
      this.head = h;
    }
    e.position = -1;
  }

  /** The index slot holding position `p` under hash `h`. */
  private slotAt(h: number, p: number): number {
    const index = this.index;
    const mask = this.mask;
    for (let i = h & mask; ; i = (i + 1) & mask) {
      if (index[2 * i] === h && index[2 * i + 1] === p) return i;
    }
  }

  /**
   * Free slot i of a linear-probing index: the pairs after it in its run
   * that could not have been placed at i's right move back, so that no
   * lookup stops early at the hole (no deleted markers to accumulate).
   */
  private free(i: number): void {
    const index = this.index;
    const mask = this.mask;
    let j = i;
    for (;;) {
      j = (j + 1) & mask;
      const x = index[2 * j]!;
      if (x === 0) break;
      const home = x & mask;
      // the pair at j stays if its home lies cyclically in (i, j]
      if (i <= j ? i < home && home <= j : i < home || home <= j) continue;
      index[2 * i] = x;
      index[2 * i + 1] = index[2 * j + 1]!;
      i = j;
    }
    index[2 * i] = 0;
    index[2 * i + 1] = 0;
  }

  /** A new index of `slots` pairs, from the old one's pairs (positions unchanged). */
  private resize(slots: number): void {
    const old = this.index;
    const index = new Int32Array(2 * slots);
    const mask = slots - 1;
    for (let j = 0; j < old.length; j += 2) {
      const h = old[j]!;
      if (h === 0) continue;
      let i = h & mask;
      while (index[2 * i] !== 0) i = (i + 1) & mask;
      index[2 * i] = h;
      index[2 * i + 1] = old[j + 1]!;
    }
    this.index = index;
    this.mask = mask;
  }

  /** Once holes are half of the order (and no walk is on it), close them up and renumber. */
  private squeezeIfHoley(): void {
    if (this.walking > 0 || this.holes < MIN_HOLES || 2 * this.holes < this.order.length) return;
    const old = this.order;
    const moved = new Int32Array(old.length);
    const order: Array<Entry | undefined> = [];
    for (let p = 0; p < old.length; p++) {
      const e = old[p];
      if (e === undefined) continue;
      moved[p] = order.length;
      e.position = order.length;
      order.push(e);
    }
    const index = this.index;
    for (let j = 0; j < index.length; j += 2) if (index[j] !== 0) index[j + 1] = moved[index[j + 1]!]!;
    this.order = order;
    this.holes = 0;
    this.head = 0;
  }
}

const MIN_SLOTS = 16;
const MIN_HOLES = 64;

/** Names longer than this are hashed on a sample of their characters, of about this many. */
const HASHED_CHARS = 65_536;

/**
 * A per-process seed: hashes an outsider cannot predict, so that names chosen
 * to collide (a hash-flooding attack on the index's probing) cannot be
 * precomputed.
 */
const SEED = randomInt(1, 2 ** 31);

/** the last name hashed: a command looks its key up, then creates or touches it (get, then set or touch) */
let lastName = '';
let lastHash = 0;

/** A name's hash, never 0 (the free-slot mark): FNV-1a over its chars, then a final mix. */
export function hashName(name: string): number {
  if (name === lastName) return lastHash;
  lastName = name;
  return (lastHash = computeHash(name));
}

function computeHash(name: string): number {
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
