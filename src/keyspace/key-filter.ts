/**
 * Which names a db's Map surely does not hold, answered without the Map.
 *
 * A lookup of a name that is not in a big Map is mostly cache misses: V8's
 * table keeps no hashes beside its keys, so a miss reads the bucket, each
 * entry of its chain and each of their key strings. In a read load that
 * mostly misses (redis-benchmark GET -r 1000000 against 20-100k keys) that
 * was the largest single cost of a GET, 0.4-0.5 µs of its CPU (perf, session
 * 16). One byte of a small array, found by a hash of the name computed here,
 * answers most of those misses with one memory read.
 *
 * Counts, not bits, so that a name leaving the Map clears its slot when no
 * other name shares it. A count that reaches 255 stays there (never counted
 * down), so a slot is 0 only while no name in the Map hashes to it: `mayHold`
 * false is always true, `mayHold` true may be wrong (then the Map answers).
 * The array keeps 4 to 8 slots per name (1 in 5 to 1 in 9 misses go to the
 * Map); growing it counts every name again, as the Map's own growth copies
 * every entry.
 */

const MIN_SLOTS = 1 << 10;
/** past 2^26 slots (64 MB) the array stops growing: more misses go to the Map, none is answered wrong */
const MAX_SLOTS = 1 << 26;
const SLOTS_PER_NAME = 4;
const SATURATED = 255;
/** names longer than this are hashed on their first and last HASHED_ENDS characters and their length */
const HASHED_ENDS = 64;

/** FNV-1a over the name's characters (latin1: one per byte); a long name's middle is skipped. */
export function nameHash(name: string): number {
  const n = name.length;
  let h = 0x811c9dc5;
  if (n <= 2 * HASHED_ENDS) {
    for (let i = 0; i < n; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193);
  } else {
    for (let i = 0; i < HASHED_ENDS; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193);
    for (let i = n - HASHED_ENDS; i < n; i++) h = Math.imul(h ^ name.charCodeAt(i), 0x01000193);
    h = Math.imul(h ^ n, 0x01000193);
  }
  // the low bits pick the slot: fold the high ones in
  return (h ^ (h >>> 15)) >>> 0;
}

export class KeyFilter {
  private counts = new Uint8Array(MIN_SLOTS);
  private mask = MIN_SLOTS - 1;

  /** False: the Map does not hold `name`. True: it may. */
  mayHold(name: string): boolean {
    return this.counts[nameHash(name) & this.mask] !== 0;
  }

  /** `name` went into `map` (not there before). */
  added(name: string, map: ReadonlyMap<string, unknown>): void {
    if (map.size * SLOTS_PER_NAME > this.counts.length && this.counts.length < MAX_SLOTS) {
      this.rebuild(map);
      return;
    }
    const i = nameHash(name) & this.mask;
    const c = this.counts[i]!;
    if (c !== SATURATED) this.counts[i] = c + 1;
  }

  /** `name` left the Map. */
  removed(name: string): void {
    const i = nameHash(name) & this.mask;
    const c = this.counts[i]!;
    if (c !== SATURATED && c !== 0) this.counts[i] = c - 1;
  }

  /** The Map was emptied. */
  clear(): void {
    if (this.counts.length > MIN_SLOTS) {
      this.counts = new Uint8Array(MIN_SLOTS);
      this.mask = MIN_SLOTS - 1;
    } else {
      this.counts.fill(0);
    }
  }

  /** Size the array for the names in `map` and count them all. */
  private rebuild(map: ReadonlyMap<string, unknown>): void {
    let slots = this.counts.length;
    while (slots < map.size * SLOTS_PER_NAME * 2 && slots < MAX_SLOTS) slots *= 2;
    const counts = new Uint8Array(slots);
    const mask = slots - 1;
    for (const name of map.keys()) {
      const i = nameHash(name) & mask;
      const c = counts[i]!;
      if (c !== SATURATED) counts[i] = c + 1;
    }
    this.counts = counts;
    this.mask = mask;
  }
}
