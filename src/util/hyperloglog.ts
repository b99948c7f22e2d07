/**
 * HyperLogLog values in Redis's own representation, so that a value is the
 * same bytes in Talus and in Redis (GET, SET, DUMP, RESTORE interchange).
 *
 * A value is a string: a 16-byte header ("HYLL", the encoding byte: 0 dense,
 * 1 sparse; 3 unused bytes; the cached cardinality, 8 bytes little-endian,
 * whose top bit set means "stale"), then the 16384 registers of 6 bits:
 *
 * - dense: 12288 bytes, register i at bit 6*i, least significant bits first;
 * - sparse: run-length opcodes. 00xxxxxx: xxxxxx+1 zero registers;
 *   01xxxxxx yyyyyyyy: a 14-bit count + 1 of zero registers; 1vvvvvxx: xx+1
 *   registers of value vvvvv+1 (so 1 to 32; a larger value makes it dense).
 *
 * An element is hashed with MurmurHash64A (seed 0xadc83b19): the low 14 bits
 * pick the register, the position of the first set bit among the other 50
 * (plus one) is its candidate value. The estimate is Ertl's improved raw
 * estimator over the histogram of register values.
 *
 * Sparse updates split the opcode that covers the register into at most
 * five and then merge equal neighbouring value opcodes in a window of five,
 * exactly in Redis's order, so the bytes match Redis's after the same
 * commands. Corrupted sparse data is reported (-1 / false), never trusted:
 * opcodes must cover exactly the 16384 registers, and a value opcode that
 * runs past the last register is corrupted even when the walk already
 * covered them all (as the redis-server 7.0.15 Debian ships, with its
 * security fixes, checks it).
 *
 * The byte past the end. Redis keeps a value in a C string whose terminator
 * slot, just past the last byte, is read as the second byte of an XZERO
 * opcode that a corrupted value ends with. It is 0, except that a sparse
 * update splitting such a truncated XZERO writes the last byte of its new
 * opcodes there (the string grows by one byte less than they take), and that
 * byte stays for as long as Redis keeps the same string: later commands read
 * it. Talus remembers it beside the value Buffer (byteAfter), for the
 * commands that keep Redis's string: the HyperLogLog commands, SETRANGE and
 * SETBIT/BITFIELD that do not grow it, RENAME and MOVE (the same Buffer);
 * the keyspace does not unload such a key (it would lose the byte).
 */

export const HLL_P = 14;
export const HLL_Q = 64 - HLL_P;
export const HLL_REGISTERS = 1 << HLL_P;
export const HLL_HDR_SIZE = 16;
export const HLL_DENSE_SIZE = HLL_HDR_SIZE + ((HLL_REGISTERS * 6 + 7) >> 3);
export const HLL_DENSE = 0;
export const HLL_SPARSE = 1;
const MAX_VAL = 32;
const VAL_MAX_LEN = 4;
const ZERO_MAX_LEN = 64;
const XZERO_MAX_LEN = 16384;
const SEED = 0xadc83b19;

// --- MurmurHash64A on 32-bit halves ------------------------------------------

const M_HI = 0xc6a4a793;
const M_LO = 0x5bd1e995;
let rHi = 0;
let rLo = 0;

/** (hi, lo) * (M_HI, M_LO) mod 2^64 into rHi, rLo. */
function mulM(hi: number, lo: number): void {
  const a0 = lo & 0xffff;
  const a1 = lo >>> 16;
  const b0 = M_LO & 0xffff;
  const b1 = M_LO >>> 16;
  const mid = a0 * b1 + a1 * b0; // < 2^33, exact
  const low = a0 * b0 + (mid % 0x10000) * 0x10000; // < 2^33
  const carry = Math.floor(low / 0x100000000);
  rLo = low >>> 0;
  const hiOfLow = a1 * b1 + Math.floor(mid / 0x10000) + carry;
  rHi = (hiOfLow + Math.imul(hi, M_LO) + Math.imul(lo, M_HI)) >>> 0;
}

/** MurmurHash64A of `data` with a 32-bit seed, as [high 32 bits, low 32 bits]. */
export function murmurHash64A(data: Uint8Array, seed = SEED): [number, number] {
  const len = data.length;
  // h = seed ^ (len * m)
  const lenLo = len >>> 0;
  const lenHi = Math.floor(len / 0x100000000) >>> 0;
  mulM(lenHi, lenLo);
  let hHi = rHi;
  let hLo = (rLo ^ seed) >>> 0;
  const blocks = len - (len & 7);
  for (let i = 0; i < blocks; i += 8) {
    const kLo = (data[i]! | (data[i + 1]! << 8) | (data[i + 2]! << 16) | (data[i + 3]! << 24)) >>> 0;
    const kHi = (data[i + 4]! | (data[i + 5]! << 8) | (data[i + 6]! << 16) | (data[i + 7]! << 24)) >>> 0;
    mulM(kHi, kLo);
    let kh = rHi;
    let kl = (rLo ^ (kh >>> 15)) >>> 0; // k ^= k >> 47
    mulM(kh, kl);
    kh = rHi;
    kl = rLo;
    hHi = (hHi ^ kh) >>> 0;
    hLo = (hLo ^ kl) >>> 0;
    mulM(hHi, hLo);
    hHi = rHi;
    hLo = rLo;
  }
  const tail = len & 7;
  if (tail > 0) {
    let tLo = 0;
    let tHi = 0;
    for (let j = tail - 1; j >= 0; j--) {
      const byte = data[blocks + j]!;
      if (j >= 4) tHi |= byte << (8 * (j - 4));
      else tLo |= byte << (8 * j);
    }
    hHi = (hHi ^ tHi) >>> 0;
    hLo = (hLo ^ tLo) >>> 0;
    mulM(hHi, hLo);
    hHi = rHi;
    hLo = rLo;
  }
  hLo = (hLo ^ (hHi >>> 15)) >>> 0;
  mulM(hHi, hLo);
  hHi = rHi;
  hLo = (rLo ^ (hHi >>> 15)) >>> 0;
  return [hHi, hLo];
}

function ctz32(x: number): number {
  return 31 - Math.clz32(x & -x);
}

/** The register an element falls in and the length of its 0...1 pattern: index * 64 + count. */
export function patLen(ele: Uint8Array): number {
  const [hi, lo] = murmurHash64A(ele);
  const index = lo & (HLL_REGISTERS - 1);
  // the 50 bits above the index, with bit 50 set so the count stops there
  const restLo = ((lo >>> HLL_P) | (hi << (32 - HLL_P))) >>> 0;
  const restHi = (hi >>> HLL_P) | (1 << (HLL_Q - 32));
  const count = (restLo !== 0 ? ctz32(restLo) : 32 + ctz32(restHi)) + 1;
  return index * 64 + count;
}

// --- the byte past the end -------------------------------------------------------

const pastEnd = new WeakMap<Uint8Array, number>();

/** The byte Redis's string holds just past this value's end (its terminator slot): 0 unless a sparse update left one. */
export function byteAfter(v: Uint8Array): number {
  return pastEnd.get(v) ?? 0;
}

/** Record the byte past the end of `v` (see byteAfter). */
export function setByteAfter(v: Uint8Array, byte: number): void {
  if (byte === 0) pastEnd.delete(v);
  else pastEnd.set(v, byte);
}

/** `to`, a same-length rewrite of `from` in place in Redis (SETRANGE, SETBIT), keeps `from`'s byte past the end. */
export function keepByteAfter(from: Uint8Array | undefined, to: Uint8Array): void {
  if (from !== undefined && from.length === to.length) setByteAfter(to, byteAfter(from));
}

// --- validity and the header ---------------------------------------------------

/** Whether a string value can be used as a HyperLogLog (magic, encoding, dense length). */
export function isHll(v: Buffer): boolean {
  if (v.length < HLL_HDR_SIZE) return false;
  if (v[0] !== 0x48 || v[1] !== 0x59 || v[2] !== 0x4c || v[3] !== 0x4c) return false;
  const enc = v[4]!;
  if (enc > HLL_SPARSE) return false;
  return enc !== HLL_DENSE || v.length === HLL_DENSE_SIZE;
}

/** The cached cardinality, or undefined when the header marks it stale. */
export function cachedCard(v: Buffer): number | bigint | undefined {
  if ((v[15]! & 0x80) !== 0) return undefined;
  const n = v.readBigUInt64LE(8);
  return n <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(n) : n;
}

/** A fresh empty sparse HyperLogLog: the header and one XZERO opcode over every register. */
export function emptyHll(): Buffer {
  const b = Buffer.alloc(HLL_HDR_SIZE + 2);
  b.write('HYLL', 0, 'latin1');
  b[4] = HLL_SPARSE;
  const l = HLL_REGISTERS - 1;
  b[HLL_HDR_SIZE] = 0x40 | (l >> 8);
  b[HLL_HDR_SIZE + 1] = l & 0xff;
  return b;
}

// --- dense registers -------------------------------------------------------------

function denseGet(b: Uint8Array, i: number): number {
  const bit = i * 6;
  const byte = HLL_HDR_SIZE + (bit >> 3);
  const fb = bit & 7;
  return ((b[byte]! >> fb) | ((b[byte + 1] ?? 0) << (8 - fb))) & 63;
}

function denseSetRaw(b: Uint8Array, i: number, val: number): void {
  const bit = i * 6;
  const byte = HLL_HDR_SIZE + (bit >> 3);
  const fb = bit & 7;
  b[byte] = (b[byte]! & ~(63 << fb)) | ((val << fb) & 0xff);
  if (fb > 2) {
    const fb8 = 8 - fb;
    b[byte + 1] = (b[byte + 1]! & ~(63 >> fb8)) | (val >> fb8);
  }
}

// --- a value being changed ---------------------------------------------------------

/**
 * A private working copy of a HyperLogLog value that grows as sparse
 * updates need (always one zero byte past the end, as C's string has),
 * changed in place, then taken out with `value()`.
 */
export class HllWork {
  buf: Buffer;
  len: number;

  constructor(v: Buffer) {
    this.len = v.length;
    this.buf = Buffer.alloc(v.length + 8);
    v.copy(this.buf);
    this.buf[v.length] = byteAfter(v);
  }

  get encoding(): number {
    return this.buf[4]!;
  }

  value(): Buffer {
    const out = Buffer.allocUnsafeSlow(this.len);
    this.buf.copy(out, 0, 0, this.len);
    setByteAfter(out, this.buf[this.len]!);
    return out;
  }

  invalidateCache(): void {
    this.buf[15] = this.buf[15]! | 0x80;
  }

  setCachedCard(card: number): void {
    this.buf.writeBigUInt64LE(BigInt(card), 8);
  }

  private ensure(capacity: number): void {
    if (this.buf.length >= capacity + 1) return;
    const next = Buffer.alloc(Math.max(capacity + 1, this.buf.length * 2));
    this.buf.copy(next, 0, 0, this.len + 1); // realloc keeps the byte past the end
    this.buf = next;
  }

  /** Add an element: 1 if a register changed, 0 if not, -1 for a corrupted value. */
  add(ele: Uint8Array, sparseMaxBytes: number): number {
    const pl = patLen(ele);
    const index = pl >> 6;
    const count = pl & 63;
    const enc = this.encoding;
    if (enc === HLL_DENSE) return this.denseSet(index, count);
    if (enc === HLL_SPARSE) return this.sparseSet(index, count, sparseMaxBytes);
    return -1;
  }

  /** Raise register `index` to `count`: 1 if it changed. */
  denseSet(index: number, count: number): number {
    if (denseGet(this.buf, index) >= count) return 0;
    denseSetRaw(this.buf, index, count);
    return 1;
  }

  /** Turn a sparse value dense (header kept): false if the opcodes do not cover exactly every register. */
  toDense(): boolean {
    if (this.encoding === HLL_DENSE) return true;
    const d = Buffer.alloc(HLL_DENSE_SIZE + 8);
    this.buf.copy(d, 0, 0, HLL_HDR_SIZE);
    d[4] = HLL_DENSE;
    const covered = walkSparse(this.buf, this.len, (first, len, value) => {
      if (value === 0) return true;
      if (first + len > HLL_REGISTERS) return false; // Redis 7.0.15 as shipped (Debian) rejects this, not only a short walk
      for (let i = first; i < first + len; i++) denseSetRaw(d, i, value);
      return true;
    });
    if (covered !== HLL_REGISTERS) return false;
    this.buf = d;
    this.len = HLL_DENSE_SIZE;
    return true;
  }

  /** Raise register `index` of a sparse value to `count`, as Redis does, byte for byte: 1, 0, or -1 (corrupted). */
  sparseSet(index: number, count: number, sparseMaxBytes: number): number {
    if (count > MAX_VAL) return this.promote(index, count);
    this.ensure(this.len + 3);
    let b = this.buf;
    const sparse = HLL_HDR_SIZE;
    let end = this.len;
    // 1. find the opcode covering the register
    let p = sparse;
    let first = 0;
    let prev = -1;
    let span = 0;
    while (p < end) {
      const op = b[p]!;
      let oplen = 1;
      if ((op & 0xc0) === 0) span = (op & 0x3f) + 1;
      else if (op & 0x80) span = (op & 3) + 1;
      else {
        span = (((op & 0x3f) << 8) | b[p + 1]!) + 1;
        oplen = 2;
      }
      if (index <= first + span - 1) break;
      prev = p;
      p += oplen;
      first += span;
    }
    if (span === 0 || p >= end) return -1;
    const op = b[p]!;
    const isZero = (op & 0xc0) === 0;
    const isXzero = (op & 0xc0) === 0x40;
    const isVal = (op & 0x80) !== 0;
    let next = p + (isXzero ? 2 : 1);
    if (next >= end) next = -1;
    const runlen = isZero ? (op & 0x3f) + 1 : isXzero ? (((op & 0x3f) << 8) | b[p + 1]!) + 1 : (op & 3) + 1;

    let simple = false;
    if (isVal) {
      const old = ((op >> 2) & 0x1f) + 1;
      if (old >= count) return 0;
      if (runlen === 1) {
        b[p] = valOp(count, 1);
        simple = true;
      }
    }
    if (!simple && isZero && runlen === 1) {
      b[p] = valOp(count, 1);
      simple = true;
    }
    if (!simple) {
      // 2. the general case: replace the opcode with up to five
      const seq: number[] = [];
      const last = first + span - 1;
      if (isZero || isXzero) {
        if (index !== first) zeroRun(seq, index - first);
        seq.push(valOp(count, 1));
        if (index !== last) zeroRun(seq, last - index);
      } else {
        const cur = ((op >> 2) & 0x1f) + 1;
        if (index !== first) seq.push(valOp(cur, index - first));
        seq.push(valOp(count, 1));
        if (index !== last) seq.push(valOp(cur, last - index));
      }
      const delta = seq.length - (isXzero ? 2 : 1);
      if (delta > 0 && this.len + delta > sparseMaxBytes) return this.promote(index, count);
      if (delta !== 0 && next >= 0) b.copyWithin(next + delta, next, end);
      this.len += delta;
      b[this.len] = 0;
      for (let i = 0; i < seq.length; i++) b[p + i] = seq[i]!;
      end += delta;
    }
    // 3. merge neighbouring value opcodes of equal value, from the previous opcode, five at most
    b = this.buf;
    p = prev >= 0 ? prev : sparse;
    let scan = 5;
    while (p < end && scan-- > 0) {
      const o = b[p]!;
      if ((o & 0xc0) === 0x40) {
        p += 2;
        continue;
      }
      if ((o & 0xc0) === 0) {
        p++;
        continue;
      }
      if (p + 1 < end && (b[p + 1]! & 0x80) !== 0) {
        const v1 = ((o >> 2) & 0x1f) + 1;
        const v2 = ((b[p + 1]! >> 2) & 0x1f) + 1;
        if (v1 === v2) {
          const len = (o & 3) + 1 + (b[p + 1]! & 3) + 1;
          if (len <= VAL_MAX_LEN) {
            b[p + 1] = valOp(v1, len);
            b.copyWithin(p, p + 1, end);
            end--;
            this.len--;
            b[this.len] = 0;
            continue;
          }
        }
      }
      p++;
    }
    this.invalidateCache();
    return 1;
  }

  private promote(index: number, count: number): number {
    if (!this.toDense()) return -1;
    return this.denseSet(index, count);
  }
}

function valOp(val: number, len: number): number {
  return 0x80 | ((val - 1) << 2) | (len - 1);
}

function zeroRun(seq: number[], len: number): void {
  if (len > ZERO_MAX_LEN) {
    const l = len - 1;
    seq.push(0x40 | (l >> 8), l & 0xff);
  } else {
    seq.push(len - 1);
  }
}

// --- merging and counting ------------------------------------------------------------

/**
 * Walk a sparse value's opcodes from the header to `end`, in register order:
 * ZERO and XZERO runs (value 0) and VAL runs. `visit` gets the run's first
 * register, its length, its value and the opcode's first byte; returning
 * false stops the walk. Returns the registers covered, or -1 when stopped.
 */
function walkSparse(
  v: Uint8Array,
  end: number,
  visit: (first: number, len: number, value: number, op: number) => boolean | void,
): number {
  let covered = 0;
  let p = HLL_HDR_SIZE;
  while (p < end) {
    const op = v[p]!;
    let len: number;
    let value = 0;
    if ((op & 0xc0) === 0) {
      len = (op & 0x3f) + 1;
      p++;
    } else if ((op & 0x80) === 0) {
      len = (((op & 0x3f) << 8) | (p + 1 < v.length ? v[p + 1]! : byteAfter(v))) + 1;
      p += 2;
    } else {
      len = (op & 3) + 1;
      value = ((op >> 2) & 0x1f) + 1;
      p++;
    }
    if (visit(covered, len, value, op) === false) return -1;
    covered += len;
  }
  return covered;
}

/** max[i] = max(max[i], register i of v) for a valid-looking value; false for corrupted sparse data. */
export function mergeInto(max: Uint8Array, v: Buffer): boolean {
  if (v[4] === HLL_DENSE) {
    for (let i = 0; i < HLL_REGISTERS; i++) {
      const r = denseGet(v, i);
      if (r > max[i]!) max[i] = r;
    }
    return true;
  }
  const covered = walkSparse(v, v.length, (first, len, value) => {
    if (value === 0) return true;
    if (first + len > HLL_REGISTERS) return false;
    for (let i = first; i < first + len; i++) if (value > max[i]!) max[i] = value;
    return true;
  });
  return covered === HLL_REGISTERS;
}

/** The histogram of register values of a value (sparse: undefined when the opcodes do not cover every register). */
function histogram(v: Buffer): number[] | undefined {
  const h = new Array<number>(64).fill(0);
  if (v[4] === HLL_DENSE) {
    for (let i = 0; i < HLL_REGISTERS; i++) {
      const r = denseGet(v, i);
      h[r] = h[r]! + 1;
    }
    return h;
  }
  const covered = walkSparse(v, v.length, (_first, len, value) => {
    h[value] = h[value]! + len;
  });
  return covered === HLL_REGISTERS ? h : undefined;
}

function rawHistogram(registers: Uint8Array): number[] {
  const h = new Array<number>(64).fill(0);
  for (let i = 0; i < HLL_REGISTERS; i++) {
    const r = registers[i]! & 63;
    h[r] = h[r]! + 1;
  }
  return h;
}

function sigma(x: number): number {
  if (x === 1) return Infinity;
  let y = 1;
  let z = x;
  let zPrev: number;
  do {
    x *= x;
    zPrev = z;
    z += x * y;
    y += y;
  } while (zPrev !== z);
  return z;
}

function tau(x: number): number {
  if (x === 0 || x === 1) return 0;
  let y = 1;
  let z = 1 - x;
  let zPrev: number;
  do {
    x = Math.sqrt(x);
    zPrev = z;
    y *= 0.5;
    const d = 1 - x;
    z -= d * d * y;
  } while (zPrev !== z);
  return z / 3;
}

const ALPHA_INF = 0.721347520444481703680; // 1 / (2 ln 2)

function estimate(h: number[]): number {
  const m = HLL_REGISTERS;
  let z = m * tau((m - h[HLL_Q + 1]!) / m);
  for (let j = HLL_Q; j >= 1; --j) {
    z += h[j]!;
    z *= 0.5;
  }
  z += m * sigma(h[0]! / m);
  const e = (ALPHA_INF * m * m) / z;
  const f = Math.floor(e);
  return e - f >= 0.5 ? f + 1 : f; // round half away from zero (e >= 0)
}

/** The estimated cardinality of a value, or undefined when its sparse data is corrupted. */
export function count(v: Buffer): number | undefined {
  const h = histogram(v);
  return h === undefined ? undefined : estimate(h);
}

/** The estimated cardinality of a union held as one byte per register. */
export function countRegisters(registers: Uint8Array): number {
  return estimate(rawHistogram(registers));
}

/** Register i of a dense value. */
export function denseRegister(v: Uint8Array, i: number): number {
  return denseGet(v, i);
}

/** PFDEBUG DECODE's text of a sparse value's opcodes. */
export function decodeSparse(v: Buffer): string {
  const parts: string[] = [];
  walkSparse(v, v.length, (_first, len, value, op) => {
    if (value !== 0) parts.push(`v:${value},${len}`);
    else parts.push(`${(op & 0x40) === 0 ? 'z' : 'Z'}:${len}`);
  });
  return parts.join(' ');
}
