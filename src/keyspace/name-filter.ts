import { BloomFilter, hashName, hashNameBytes } from '../util/bloom-filter.js';

/**
 * The false-positive rate the first layer is sized for (about 9.6 bits per
 * name); each later one is sized for half its predecessor's (1.44 bits per
 * name more), so that all of them together stay under twice this.
 */
export const NAME_FILTER_FALSE_POSITIVES = 0.01;
/** the smallest layer (a db that starts empty): about 1.2 KB */
const MIN_CAPACITY = 1024;
/**
 * how many times more names each new layer is sized for: a name that is not
 * there is probed in every layer, so a db that grew from empty to 300,000
 * names has 5 of them, not 9 as when doubling
 */
const GROWTH = 4;

/**
 * The names of one db that may have a row in PostgreSQL (docs/architecture.md,
 * "Names known absent"): a name it rules out has none, so a command on it
 * needs no read. Names are only ever added: every name that gets a live
 * entry (Keyspace.create, Keyspace.admit), and every name of the db's key
 * rows when it is built at start (storage/name-filter-build.ts).
 *
 * A Bloom filter sized at start from the db's row count; once it holds as
 * many names as it was sized for, a layer for GROWTH times as many is added
 * (a name is in the set if any layer has it), as long as all of them fit in
 * `maxBytes`; past that, `add` answers false and the db gives its filter up.
 */
export class NameFilter {
  private readonly layers: BloomFilter[];
  /** built (every name of a row is in): until then it rules nothing out */
  ready: boolean;

  private constructor(first: BloomFilter, readonly maxBytes: number, ready: boolean) {
    this.layers = [first];
    this.ready = ready;
  }

  /** A filter for a db expected to hold `names` names, or undefined if it would not fit in `maxBytes`. */
  static create(names: number, maxBytes: number, ready: boolean): NameFilter | undefined {
    // room for the db to grow by a quarter before a second layer
    const first = layerBytes(Math.max(MIN_CAPACITY, Math.ceil(names * 1.25)), NAME_FILTER_FALSE_POSITIVES);
    if (first.bytes > maxBytes) return undefined;
    return new NameFilter(first.filter(), maxBytes, ready);
  }

  /** Whether the name may have a row; false only for names never added. */
  mayHold(name: string): boolean {
    hashName(name);
    return this.hashedIn();
  }

  /** Add a name (a latin1 string). False when the filter would outgrow maxBytes: it must then be given up. */
  add(name: string): boolean {
    hashName(name);
    return this.addHashed();
  }

  /** Add a name given as its bytes (as PostgreSQL returns it). */
  addBytes(name: Uint8Array): boolean {
    hashNameBytes(name);
    return this.addHashed();
  }

  /** names added (each once, but for the filter's own false positives) */
  get names(): number {
    let n = 0;
    for (const l of this.layers) n += l.count;
    return n;
  }

  get bytes(): number {
    let n = 0;
    for (const l of this.layers) n += l.bytes;
    return n;
  }

  get layerCount(): number {
    return this.layers.length;
  }

  private hashedIn(): boolean {
    for (const l of this.layers) if (l.hasHashed()) return true;
    return false;
  }

  /**
   * Into the newest layer only: a name an older one has is set there again
   * (its bits are mostly set already in a newest layer that had it before),
   * which costs less than probing every layer on every creation.
   */
  private addHashed(): boolean {
    let last = this.layers[this.layers.length - 1]!;
    if (last.count >= last.capacity) {
      const next = layerBytes(last.capacity * GROWTH, last.falsePositiveRate / 2);
      if (this.bytes + next.bytes > this.maxBytes) return false;
      last = next.filter();
      this.layers.push(last);
    }
    last.addHashed();
    return true;
  }
}

/** A layer's size before allocating it (bytes), and the layer. */
function layerBytes(capacity: number, falsePositiveRate: number): { bytes: number; filter: () => BloomFilter } {
  const bits = (capacity * -Math.log(falsePositiveRate)) / (Math.LN2 * Math.LN2);
  return { bytes: Math.ceil(bits / 32) * 4, filter: () => new BloomFilter(capacity, falsePositiveRate) };
}
