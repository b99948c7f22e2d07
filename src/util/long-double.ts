/** x87 80-bit long double arithmetic, as Redis's INCRBYFLOAT and HINCRBYFLOAT compute. */

/**
 * Redis computes INCRBYFLOAT in C `long double`, which on x86-64 is the x87
 * 80-bit format (64-bit mantissa, 15-bit exponent), parses with strtold and
 * prints with "%.17Lf" before trimming zeros. Doubles would give visibly
 * different results (0.1 + 0.2 is "0.3" in Redis), so the arithmetic is
 * emulated exactly here with BigInt: a finite value is (-1)^neg * m * 2^e.
 * HINCRBYFLOAT can use the same three exports.
 */
export interface LongDouble {
  finite: boolean;
  neg: boolean;
  /** mantissa, < 2^64; for non-finite values: 0 = NaN, 1 = infinity */
  m: bigint;
  e: number;
}

const LD_MANT_BITS = 64;
/** exponent of the least significant mantissa bit: smallest subnormal 2^-16445 */
const LD_MIN_LSB = -16445;
/** LDBL_MAX = (2^64 - 1) * 2^16320 */
const LD_MAX_LSB = 16320;
const TWO63 = 1n << 63n;
const TWO64 = 1n << 64n;
/** strtold input limit in Redis (MAX_LONG_DOUBLE_CHARS) */
const LD_MAX_CHARS = 5 * 1024;
export const LD_ZERO: LongDouble = { finite: true, neg: false, m: 0n, e: 0 };
const ldInf = (neg: boolean): LongDouble => ({ finite: false, neg, m: 1n, e: 0 });
const LD_NAN: LongDouble = { finite: false, neg: false, m: 0n, e: 0 };

function bitLength(n: bigint): number {
  if (n === 0n) return 0;
  const hex = n.toString(16);
  return (hex.length - 1) * 4 + (32 - Math.clz32(parseInt(hex[0]!, 16)));
}

/** num * 2^shift / den rounded to the nearest long double (ties to even). */
function roundLongDouble(neg: boolean, num: bigint, den: bigint, shift: number): LongDouble {
  if (num === 0n) return { finite: true, neg, m: 0n, e: 0 };
  let e = Math.max(bitLength(num) - bitLength(den) + shift - LD_MANT_BITS, LD_MIN_LSB);
  for (;;) {
    const s = shift - e;
    const n2 = s >= 0 ? num << BigInt(s) : num;
    const d2 = s >= 0 ? den : den << BigInt(-s);
    let q = n2 / d2;
    if (q >= TWO64) {
      e++;
      continue;
    }
    if (q < TWO63 && e > LD_MIN_LSB) {
      e--;
      continue;
    }
    const twice = (n2 - q * d2) * 2n;
    if (twice > d2 || (twice === d2 && (q & 1n) === 1n)) q++;
    if (q === TWO64) {
      q = TWO63;
      e++;
    }
    if (e > LD_MAX_LSB) return ldInf(neg);
    return { finite: true, neg, m: q, e: q === 0n ? 0 : e };
  }
}

const isDigit = (c: number | undefined) => c !== undefined && c >= 0x30 && c <= 0x39;
function hexDigit(c: number | undefined): number {
  if (c === undefined) return -1;
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  const l = c | 0x20;
  return l >= 0x61 && l <= 0x66 ? l - 0x61 + 10 : -1;
}

/**
 * Redis's string2ld: strtold over the whole argument, rejecting leading
 * space, trailing bytes, NaN, overflow and underflow to zero, and arguments of
 * 5 KiB or more. Returns null where Redis replies "not a valid float".
 */
export function parseLongDouble(b: Buffer): LongDouble | null {
  const len = b.length;
  if (len === 0 || len >= LD_MAX_CHARS) return null;
  let i = 0;
  let neg = false;
  if (b[0] === 0x2b || b[0] === 0x2d) {
    neg = b[0] === 0x2d;
    i = 1;
  }
  if (i >= len) return null;
  if ((b[i]! | 0x20) === 0x69 /* i */) {
    const word = b.toString('latin1', i).toLowerCase();
    return word === 'inf' || word === 'infinity' ? ldInf(neg) : null;
  }
  if (b[i] === 0x30 && (b[i + 1]! | 0x20) === 0x78 && i + 1 < len) return parseHexLongDouble(b, i + 2, neg);
  const intStart = i;
  while (isDigit(b[i])) i++;
  let digits = b.toString('latin1', intStart, i);
  let exp10 = 0;
  if (b[i] === 0x2e) {
    const fracStart = ++i;
    while (isDigit(b[i])) i++;
    digits += b.toString('latin1', fracStart, i);
    exp10 -= i - fracStart;
  }
  if (digits.length === 0) return null;
  if (i < len && (b[i]! | 0x20) === 0x65 /* e */) {
    i++;
    let eneg = false;
    if (b[i] === 0x2b || b[i] === 0x2d) eneg = b[i++] === 0x2d;
    if (!isDigit(b[i])) return null; // strtold stops before the 'e': trailing bytes
    let x = 0;
    while (isDigit(b[i])) {
      if (x < 1e7) x = x * 10 + (b[i]! - 0x30);
      i++;
    }
    exp10 += eneg ? -x : x;
  }
  if (i !== len) return null;
  digits = digits.replace(/^0+/, '');
  if (digits.length === 0) return { finite: true, neg, m: 0n, e: 0 };
  // value is in [10^(mag-1), 10^mag): LDBL_MAX ~ 1.19e4932, min subnormal ~ 3.6e-4951
  const mag = digits.length + exp10;
  if (mag > 4933) return null;
  if (mag < -4952) return null;
  const d = BigInt(digits);
  const r = exp10 >= 0 ? roundLongDouble(neg, d * 10n ** BigInt(exp10), 1n, 0) : roundLongDouble(neg, d, 10n ** BigInt(-exp10), 0);
  if (!r.finite || r.m === 0n) return null; // ERANGE
  return r;
}

/** C99 hex float after "0x": hexdigits [. hexdigits] [p [sign] digits]. */
function parseHexLongDouble(b: Buffer, i: number, neg: boolean): LongDouble | null {
  const len = b.length;
  let mant = 0n;
  let digits = 0;
  let frac = 0;
  while (hexDigit(b[i]) >= 0) {
    mant = (mant << 4n) | BigInt(hexDigit(b[i++]));
    digits++;
  }
  if (b[i] === 0x2e) {
    i++;
    while (hexDigit(b[i]) >= 0) {
      mant = (mant << 4n) | BigInt(hexDigit(b[i++]));
      digits++;
      frac++;
    }
  }
  if (digits === 0) return null;
  let exp = 0;
  if (i < len && (b[i]! | 0x20) === 0x70 /* p */) {
    i++;
    let eneg = false;
    if (b[i] === 0x2b || b[i] === 0x2d) eneg = b[i++] === 0x2d;
    if (!isDigit(b[i])) return null;
    while (isDigit(b[i])) {
      if (exp < 1e7) exp = exp * 10 + (b[i]! - 0x30);
      i++;
    }
    if (eneg) exp = -exp;
  }
  if (i !== len) return null;
  if (mant === 0n) return { finite: true, neg, m: 0n, e: 0 };
  const shift = exp - 4 * frac;
  const top = bitLength(mant) + shift; // value in [2^(top-1), 2^top)
  if (top > LD_MAX_LSB + LD_MANT_BITS) return null;
  if (top < LD_MIN_LSB - 1) return null;
  const r = roundLongDouble(neg, mant, 1n, shift);
  if (!r.finite || r.m === 0n) return null;
  return r;
}

/** a + b, rounded once, as the FPU does. */
export function addLongDouble(a: LongDouble, b: LongDouble): LongDouble {
  if (!a.finite || !b.finite) {
    if ((!a.finite && a.m === 0n) || (!b.finite && b.m === 0n)) return LD_NAN;
    if (!a.finite && !b.finite) return a.neg === b.neg ? a : LD_NAN;
    return a.finite ? b : a;
  }
  if (a.m === 0n) return b.m === 0n ? { finite: true, neg: a.neg && b.neg, m: 0n, e: 0 } : b;
  if (b.m === 0n) return a;
  const e = Math.min(a.e, b.e);
  const x = a.m << BigInt(a.e - e);
  const y = b.m << BigInt(b.e - e);
  const s = (a.neg ? -x : x) + (b.neg ? -y : y);
  if (s === 0n) return LD_ZERO;
  return roundLongDouble(s < 0n, s < 0n ? -s : s, 1n, e);
}

const TEN17 = 10n ** 17n;

/**
 * printf("%.17Lf") with trailing zeros (and a bare dot) removed, and "-0"
 * printed as "0": how Redis stores an INCRBYFLOAT result.
 */
export function formatLongDoubleHuman(x: LongDouble): string {
  if (!x.finite) return x.m === 0n ? 'nan' : x.neg ? '-inf' : 'inf';
  let s: string;
  if (x.m === 0n) s = '0';
  else if (x.e >= 0) s = (x.m << BigInt(x.e)).toString();
  else {
    const k = BigInt(-x.e);
    const num = x.m * TEN17;
    let q = num >> k;
    const twice = (num - (q << k)) << 1n;
    const half = 1n << k;
    if (twice > half || (twice === half && (q & 1n) === 1n)) q++;
    const frac = (q % TEN17).toString().padStart(17, '0').replace(/0+$/, '');
    s = (q / TEN17).toString() + (frac.length > 0 ? '.' + frac : '');
  }
  return x.neg && s !== '0' ? '-' + s : s;
}
