/**
 * A Bloom filter of byte strings: `has` is false only for a name never
 * added (no false negatives); true for one not added with about the
 * probability it was sized for.
 *
 * Written here rather than taken from npm: the names it holds come both as
 * latin1 strings (one char per byte: the keyspace's names) and as Buffers
 * (the bytes PostgreSQL returns), and both must hash alike without
 * converting one into the other; the packages found hash JavaScript strings
 * only (their UTF-16 code units or a UTF-8 encoding of them).
 */
export class BloomFilter {
  private readonly bits: Uint32Array;
  /** the number of bits, at least 32 */
  private readonly size: number;
  /** probes per name */
  private readonly probes: number;
  /** names added (each counted once: `add` of a name it already holds adds nothing) */
  count = 0;

  /** Sized for `capacity` names at `falsePositiveRate`. */
  constructor(readonly capacity: number, readonly falsePositiveRate: number) {
    const bitsPerName = -Math.log(falsePositiveRate) / (Math.LN2 * Math.LN2);
    const words = Math.max(1, Math.ceil((Math.max(1, capacity) * bitsPerName) / 32));
    this.bits = new Uint32Array(words);
    this.size = words * 32;
    this.probes = Math.max(1, Math.round(bitsPerName * Math.LN2));
  }

  /** bytes of the bit array */
  get bytes(): number {
    return this.bits.byteLength;
  }

  /** Whether the name may have been added (a latin1 string: one char per byte). */
  has(name: string): boolean {
    hashName(name);
    return this.probe(false);
  }

  hasBytes(name: Uint8Array): boolean {
    hashNameBytes(name);
    return this.probe(false);
  }

  /** Add a name; returns false if it was (or seemed) there already. */
  add(name: string): boolean {
    hashName(name);
    return !this.probe(true);
  }

  addBytes(name: Uint8Array): boolean {
    hashNameBytes(name);
    return !this.probe(true);
  }

  /**
   * The same for the name last given to hashName or hashNameBytes: a name
   * tested against several filters (layers of one set) is hashed once.
   */
  hasHashed(): boolean {
    return this.probe(false);
  }

  addHashed(): boolean {
    return !this.probe(true);
  }

  /**
   * Test (and with `set`, set) the name's bits, from the two hashes left in
   * `h` (Kirsch and Mitzenmacher: probe i is h1 + i * h2). Returns whether
   * every bit was set before.
   */
  private probe(set: boolean): boolean {
    const bits = this.bits;
    const size = this.size;
    let at = h.a;
    const step = h.b | 1; // odd: the probes of a name never all fall on one bit
    let all = true;
    for (let i = 0; i < this.probes; i++) {
      // the hash scaled to [0, size): a multiplication, where `%` of a uint32
      // past 2^31 is a floating-point remainder (a call to fmod)
      const bit = Math.floor((at >>> 0) * size * TWO_TO_MINUS_32);
      const word = bit >>> 5;
      const mask = 1 << (bit & 31);
      if ((bits[word]! & mask) === 0) {
        if (!set) return false;
        all = false;
        bits[word] = bits[word]! | mask;
      }
      at = (at + step) | 0;
    }
    if (set && !all) this.count++;
    return all;
  }
}

const TWO_TO_MINUS_32 = 1 / 2 ** 32;

/** The two hashes of the last name hashed: no array or object per call. */
const h = { a: 0, b: 0 };

// Two 32-bit hashes in one pass over the bytes: FNV-1a, and a multiply-xor
// chain with another multiplier and seed; each then mixed by MurmurHash3's
// finalizer so that names differing in one byte differ in every bit.

/**
 * The name whose hashes `h` holds, if given as a string: a key looked up and
 * then created (ruled out, then added) is hashed once.
 */
let hashed: string | undefined;

/** Hash a name for hasHashed / addHashed. */
export function hashName(s: string): void {
  if (s === hashed) return;
  hashString(s);
  hashed = s;
}

/** Hash a name given as bytes (read from PostgreSQL) as hashName hashes its latin1 string. */
export function hashNameBytes(s: Uint8Array): void {
  hashString(Buffer.from(s.buffer, s.byteOffset, s.length).toString('latin1'));
  hashed = undefined;
}

function hashString(s: string): void {
  let a = 0x811c9dc5;
  let b = 0x9747b28c ^ s.length;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i) & 0xff;
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x5bd1e995);
    b ^= b >>> 15;
  }
  h.a = fmix(a);
  h.b = fmix(b);
}

function fmix(x: number): number {
  x ^= x >>> 16;
  x = Math.imul(x, 0x85ebca6b);
  x ^= x >>> 13;
  x = Math.imul(x, 0xc2b2ae35);
  x ^= x >>> 16;
  return x;
}
