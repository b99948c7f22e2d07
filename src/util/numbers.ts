/**
 * Redis-exact number parsing and formatting.
 *
 * Redis parses integers with string2ll (strict: the textual form must round-trip)
 * and floats with strtod/strtold plus a few extra rejections. These helpers
 * reproduce those rules on raw argument bytes so no string is built on the
 * common paths.
 */

export const INT64_MAX = 9223372036854775807n;

/**
 * The latest unix ms a key's expiry can hold (2^63 - 1024): times are JS
 * numbers, and 2^63 - 1 itself is not one (it rounds to 2^63, which neither
 * prints back as an int64 nor fits PostgreSQL's bigint).
 */
export const MAX_EXPIRE_AT = 9223372036854774784;
export const INT64_MIN = -9223372036854775808n;

const MINUS = 0x2d;
const PLUS = 0x2b;
const DOT = 0x2e;
const D0 = 0x30;
const D1 = 0x31;
const D9 = 0x39;

/**
 * Parses like Redis string2ll: optional '-', no '+', no spaces, no leading
 * zeros, and "0" is the only spelling of zero. "-0" is rejected, as in Redis
 * (after the sign the first digit must be 1-9). Range is signed 64-bit.
 */
export function parseInteger(buf: Buffer): bigint | null {
  const len = buf.length;
  if (len === 0 || len > 20) return null; // 20 = "-9223372036854775808".length
  let i = 0;
  let neg = false;
  if (buf[0] === MINUS) {
    neg = true;
    i = 1;
    if (len === 1) return null;
  }
  let c = buf[i];
  if (c === D0) return len === 1 ? 0n : null;
  if (c < D1 || c > D9) return null;
  if (len - i <= 15) {
    // Fits a double exactly: no BigInt arithmetic per digit.
    let v = c - D0;
    for (i++; i < len; i++) {
      c = buf[i];
      if (c < D0 || c > D9) return null;
      v = v * 10 + (c - D0);
    }
    return BigInt(neg ? -v : v);
  }
  for (let j = i + 1; j < len; j++) {
    c = buf[j];
    if (c < D0 || c > D9) return null;
  }
  const v = BigInt(buf.toString('latin1', i, len));
  if (neg) return v > -INT64_MIN ? null : -v;
  return v > INT64_MAX ? null : v;
}

/** string2ll rules, but the value must also be a JS safe integer. */
export function parseSafeInt(buf: Buffer): number | null {
  const len = buf.length;
  if (len === 0 || len > 17) return null; // "-9007199254740991".length === 17
  let i = 0;
  let neg = false;
  if (buf[0] === MINUS) {
    neg = true;
    i = 1;
    if (len === 1) return null;
  }
  let c = buf[i];
  if (c === D0) return len === 1 ? 0 : null;
  if (c < D1 || c > D9) return null;
  let v = c - D0;
  for (i++; i < len; i++) {
    c = buf[i];
    if (c < D0 || c > D9) return null;
    v = v * 10 + (c - D0);
  }
  // At most 16 digits, so v is exact or at worst slightly above 2^53 (still > MAX).
  if (v > Number.MAX_SAFE_INTEGER) return null;
  return neg ? -v : v;
}

/** A safe integer's decimal text as a private Buffer (a stored value), written digit by digit: no string first. */
export function safeIntegerBytes(n: number): Buffer {
  const size = safeIntegerLength(n);
  const out = Buffer.allocUnsafeSlow(size);
  putSafeInteger(out, 0, n, size);
  return out;
}

/** 10^0 .. 10^15: a safe integer's digit count by comparisons alone */
const POWERS_OF_TEN = Array.from({ length: 16 }, (_, i) => 10 ** i);

/** How many bytes a safe integer's decimal text takes (its sign included). */
export function safeIntegerLength(n: number): number {
  const abs = n < 0 ? -n : n;
  let digits = 1;
  while (digits < 16 && abs >= POWERS_OF_TEN[digits]!) digits++;
  return n < 0 ? digits + 1 : digits;
}

/**
 * Write a safe integer's decimal text, `size` bytes (safeIntegerLength), at
 * `at`. Past 2^31 eight digits at a time are split off with one division of
 * doubles, the rest in int32 arithmetic: a digit per double division made a
 * 13-digit unix ms time slower than String().
 */
export function putSafeInteger(out: Uint8Array, at: number, n: number, size: number): void {
  let abs = n < 0 ? -n : n;
  let p = at + size;
  while (abs > 0x7fffffff) {
    const high = Math.floor(abs / 1e8);
    let low = (abs - high * 1e8) | 0; // below 1e8: int32 from here (a double % calls fmod)
    for (let k = 0; k < 8; k++) {
      out[--p] = D0 + (low % 10);
      low = (low / 10) | 0;
    }
    abs = high;
  }
  let v = abs | 0;
  do {
    out[--p] = D0 + (v % 10);
    v = (v / 10) | 0;
  } while (v > 0);
  if (n < 0) out[at] = MINUS;
}

/** a + b in signed 64-bit, or null on overflow (INCRBY and friends). */
export function int64Add(a: bigint, b: bigint): bigint | null {
  const r = a + b;
  return r > INT64_MAX || r < INT64_MIN ? null : r;
}

export function formatInteger(n: bigint | number): string {
  if (typeof n === 'bigint') return n.toString();
  // String() switches to exponent form at 1e21; integers beyond that need BigInt.
  return Math.abs(n) < 1e21 ? String(n === 0 ? 0 : n) : BigInt(n).toString();
}

function isDigit(c: number): boolean {
  return c >= D0 && c <= D9;
}

function hexVal(c: number): number {
  if (c >= D0 && c <= D9) return c - D0;
  const l = c | 0x20;
  if (l >= 0x61 && l <= 0x66) return l - 0x61 + 10;
  return -1;
}

function matchesWordCI(buf: Buffer, start: number, word: string): boolean {
  if (buf.length - start !== word.length) return false;
  for (let k = 0; k < word.length; k++) {
    if ((buf[start + k] | 0x20) !== word.charCodeAt(k)) return false;
  }
  return true;
}

/**
 * Parses a float argument the way Redis does (strtod/strtold, then rejecting
 * leading space, trailing bytes, NaN and out-of-range results).
 * Accepts: optional sign, decimal with optional exponent ("1", "-.5", "5.",
 * "1e-3"), "inf"/"infinity" in any case, and C hex floats ("0x1p3").
 * Rejects: empty, any whitespace, trailing garbage, "nan", overflow to
 * infinity and underflow to zero ("1e-400"); denormal results are accepted,
 * as glibc returns them nonzero.
 * Values are doubles: INCRBYFLOAT in Redis parses long doubles, so inputs
 * between DBL_MAX and LDBL_MAX ("1e400") are rejected here instead of
 * failing later as an infinite result.
 */
export function parseFloatArg(buf: Buffer): number | null {
  const len = buf.length;
  if (len === 0) return null;
  let i = 0;
  let neg = false;
  const s0 = buf[0];
  if (s0 === PLUS || s0 === MINUS) {
    neg = s0 === MINUS;
    i = 1;
    if (len === 1) return null;
  }
  const c = buf[i];
  if ((c | 0x20) === 0x69 /* i */) {
    if (matchesWordCI(buf, i, 'inf') || matchesWordCI(buf, i, 'infinity')) {
      return neg ? -Infinity : Infinity;
    }
    return null;
  }
  if (c === D0 && i + 1 < len && (buf[i + 1] | 0x20) === 0x78 /* x */) {
    return parseHexFloat(buf, i + 2, neg);
  }
  // Decimal: digits [. digits] [e [sign] digits], at least one mantissa digit.
  let mantDigits = 0;
  let nonZero = false;
  while (i < len && isDigit(buf[i])) {
    if (buf[i] !== D0) nonZero = true;
    i++;
    mantDigits++;
  }
  if (i < len && buf[i] === DOT) {
    i++;
    while (i < len && isDigit(buf[i])) {
      if (buf[i] !== D0) nonZero = true;
      i++;
      mantDigits++;
    }
  }
  if (mantDigits === 0) return null;
  if (i < len && (buf[i] | 0x20) === 0x65 /* e */) {
    i++;
    if (i < len && (buf[i] === PLUS || buf[i] === MINUS)) i++;
    const expStart = i;
    while (i < len && isDigit(buf[i])) i++;
    // strtod would stop before a bare 'e', leaving trailing bytes: reject.
    if (i === expStart) return null;
  }
  if (i !== len) return null;
  // The bytes are now a valid JS numeric literal; Number() rounds correctly.
  const v = Number(buf.toString('latin1', 0, len));
  if (!Number.isFinite(v)) return null; // ERANGE overflow
  if (v === 0 && nonZero) return null; // ERANGE underflow to zero
  return v;
}

/** C99 hex float after "0x": hexdigits [. hexdigits] [p [sign] digits]. */
function parseHexFloat(buf: Buffer, i: number, neg: boolean): number | null {
  const len = buf.length;
  let mant = 0n;
  let digits = 0;
  let fracDigits = 0;
  while (i < len && hexVal(buf[i]) >= 0) {
    mant = (mant << 4n) | BigInt(hexVal(buf[i]));
    i++;
    digits++;
  }
  if (i < len && buf[i] === DOT) {
    i++;
    while (i < len && hexVal(buf[i]) >= 0) {
      mant = (mant << 4n) | BigInt(hexVal(buf[i]));
      i++;
      digits++;
      fracDigits++;
    }
  }
  if (digits === 0) return null; // strtod parses just "0", leaving "x...": trailing bytes
  let exp = 0;
  if (i < len && (buf[i] | 0x20) === 0x70 /* p */) {
    i++;
    let eneg = false;
    if (i < len && (buf[i] === PLUS || buf[i] === MINUS)) {
      eneg = buf[i] === MINUS;
      i++;
    }
    const expStart = i;
    while (i < len && isDigit(buf[i])) {
      if (exp < 1e6) exp = exp * 10 + (buf[i] - D0); // clamp: the result is 0 or inf anyway
      i++;
    }
    if (i === expStart) return null;
    if (eneg) exp = -exp;
  }
  if (i !== len) return null;
  if (mant === 0n) return neg ? -0 : 0;
  let e2 = exp - 4 * fracDigits;
  // Keep 64 significant bits (plus a sticky bit) so Number() rounds once, correctly.
  const bits = mant.toString(2).length;
  if (bits > 64) {
    const drop = BigInt(bits - 64);
    const sticky = (mant & ((1n << drop) - 1n)) !== 0n ? 1n : 0n;
    mant = (mant >> drop) | sticky;
    e2 += bits - 64;
  }
  let v = Number(mant);
  // Scale in steps so intermediate powers of two do not overflow/underflow.
  while (e2 > 1000) {
    v *= 2 ** 1000;
    e2 -= 1000;
  }
  while (e2 < -1000) {
    v *= 2 ** -1000;
    e2 += 1000;
  }
  v *= 2 ** e2;
  if (!Number.isFinite(v) || v === 0) return null; // ERANGE
  return neg ? -v : v;
}

// --- %.17g --------------------------------------------------------------

const f64 = new Float64Array(1);
const u32 = new Uint32Array(f64.buffer);
const LOG10_5 = Math.log10(5);
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
const HI = LITTLE_ENDIAN ? 1 : 0;
const LO = LITTLE_ENDIAN ? 0 : 1;

/**
 * V8's toExponential(16) rounds an exact halfway case away from zero while
 * glibc's printf rounds half to even, so the two differ exactly when the
 * double's decimal expansion ends with a 5 in the 18th significant digit.
 * Writing x = m * 2^e (m odd), that happens iff e <= -2 and
 * P = m * 5^(-e-1) lies in [2e16, 2e17); then x = (P/2) * 10^(e+1).
 * Returns the correctly rounded 17 digits and decimal exponent, or null when
 * x is not such a tie (the common case, decided without BigInt).
 */
function tieDigits(x: number): [string, number] | null {
  f64[0] = x;
  const hi = u32[HI];
  const lo = u32[LO];
  const expField = (hi >>> 20) & 0x7ff;
  let m = (hi & 0xfffff) * 4294967296 + lo;
  let e: number;
  if (expField === 0) {
    e = -1074;
  } else {
    m += 4503599627370496; // implicit bit, 2^52
    e = expField - 1075;
  }
  if (m === 0) return null;
  while (m % 2 === 0) {
    m /= 2;
    e++;
  }
  if (e > -2) return null;
  const k = -e - 1;
  const approx = Math.log10(m) + k * LOG10_5;
  if (approx < 16.2 || approx > 17.4) return null;
  const P = BigInt(m) * 5n ** BigInt(k);
  if (P < 20000000000000000n || P >= 200000000000000000n) return null;
  const n = P >> 1n;
  const chosen = n % 2n === 0n ? n : n + 1n;
  let digits = chosen.toString();
  let exp10 = e + 17;
  if (digits.length > 17) {
    // rounded up to 10^17
    digits = digits.slice(0, 17);
    exp10++;
  }
  return [digits, exp10];
}

function stripZeros(s: string): string {
  let end = s.length;
  while (end > 0 && s.charCodeAt(end - 1) === D0) end--;
  return end === s.length ? s : s.slice(0, end);
}

/**
 * C printf "%.<digits>f": the exact decimal value of the double rounded to
 * `digits` places, ties to even (glibc), every integer digit written out
 * (JavaScript's toFixed rounds ties up and turns to exponent form from 1e21).
 */
export function formatFixed(x: number, digits: number): string {
  if (x !== x) return 'nan';
  if (x === Infinity) return 'inf';
  if (x === -Infinity) return '-inf';
  const negative = x < 0 || Object.is(x, -0);
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, Math.abs(x));
  const bits = view.getBigUint64(0);
  const expField = Number((bits >> 52n) & 0x7ffn);
  let mantissa = bits & 0xfffffffffffffn;
  let exp: number;
  if (expField === 0) exp = -1074;
  else {
    mantissa |= 1n << 52n;
    exp = expField - 1075;
  }
  // |x| = mantissa * 2^exp; scaled = |x| * 10^digits, rounded half to even
  let num = mantissa * 10n ** BigInt(digits);
  let scaled: bigint;
  if (exp >= 0) scaled = num << BigInt(exp);
  else {
    const den = 1n << BigInt(-exp);
    scaled = num / den;
    num -= scaled * den;
    const twice = num * 2n;
    if (twice > den || (twice === den && (scaled & 1n) === 1n)) scaled += 1n;
  }
  let text = scaled.toString().padStart(digits + 1, '0');
  if (digits > 0) text = `${text.slice(0, text.length - digits)}.${text.slice(text.length - digits)}`;
  return (negative ? '-' : '') + text;
}

/**
 * C printf "%.17g" as Redis 7.0's addReplyDouble uses it: 17 significant
 * digits, exponent form when the exponent is < -4 or >= 17, trailing zeros
 * removed, exponent with sign and at least two digits. "inf", "-inf", "nan";
 * negative zero prints "-0" like printf.
 */
export function formatDouble(n: number): string {
  if (n !== n) return 'nan';
  if (n === Infinity) return 'inf';
  if (n === -Infinity) return '-inf';
  if (n === 0) return Object.is(n, -0) ? '-0' : '0';
  // Safe integers have at most 16 digits: printed exactly, no exponent.
  if (Number.isSafeInteger(n)) return String(n);
  const neg = n < 0;
  const a = neg ? -n : n;
  let digits: string;
  let exp10: number;
  const tie = tieDigits(a);
  if (tie !== null) {
    [digits, exp10] = tie;
  } else {
    const s = a.toExponential(16); // "d.dddddddddddddddde[+-]x"
    const ePos = s.indexOf('e');
    digits = s[0] + s.slice(2, ePos);
    exp10 = Number(s.slice(ePos + 1));
  }
  let out: string;
  if (exp10 < -4 || exp10 >= 17) {
    const frac = stripZeros(digits.slice(1));
    const ae = exp10 < 0 ? -exp10 : exp10;
    out =
      digits[0] +
      (frac.length > 0 ? '.' + frac : '') +
      (exp10 < 0 ? 'e-' : 'e+') +
      (ae < 10 ? '0' + ae : String(ae));
  } else if (exp10 >= 0) {
    const frac = stripZeros(digits.slice(exp10 + 1));
    out = digits.slice(0, exp10 + 1) + (frac.length > 0 ? '.' + frac : '');
  } else {
    out = '0.' + '0'.repeat(-exp10 - 1) + stripZeros(digits);
  }
  return neg ? '-' + out : out;
}

/**
 * INCRBYFLOAT/HINCRBYFLOAT reply format. Redis prints its long double with
 * "%.17Lf" and trims zeros; with JS doubles the faithful equivalent is the
 * shortest round-trip digits in plain decimal notation (never an exponent).
 * "-0" becomes "0" as in Redis.
 */
export function formatLongDouble(n: number): string {
  if (n !== n) return 'nan';
  if (n === Infinity) return 'inf';
  if (n === -Infinity) return '-inf';
  if (n === 0) return '0';
  const a = n < 0 ? -n : n;
  if (a >= 1e-6 && a < 1e21) return String(n); // already plain decimal
  const s = a.toExponential(); // shortest digits: "d[.ddd]e[+-]x"
  const ePos = s.indexOf('e');
  const digits = s[0] + (ePos > 1 ? s.slice(2, ePos) : '');
  const exp10 = Number(s.slice(ePos + 1));
  let out: string;
  if (exp10 >= digits.length - 1) {
    out = digits + '0'.repeat(exp10 - (digits.length - 1));
  } else if (exp10 >= 0) {
    out = digits.slice(0, exp10 + 1) + '.' + digits.slice(exp10 + 1);
  } else {
    out = '0.' + '0'.repeat(-exp10 - 1) + digits;
  }
  return n < 0 ? '-' + out : out;
}
