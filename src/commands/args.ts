import { ErrorReply } from '../protocol/reply.js';
import { Errors } from './errors.js';
import { INT64_MAX, parseInteger, parseFloatArg } from '../util/numbers.js';

/** Argument parsing with Redis's error replies. */

/** A signed 64-bit integer argument. */
export function int64Arg(b: Buffer): bigint {
  const n = parseInteger(b);
  if (n === null) throw Errors.notInteger();
  return n;
}

/** An integer argument that must fit a JS number exactly (counts, indexes, ms). */
export function intArg(b: Buffer): number {
  const n = parseInteger(b);
  if (n === null || n > BigInt(Number.MAX_SAFE_INTEGER) || n < BigInt(Number.MIN_SAFE_INTEGER)) {
    throw Errors.notInteger();
  }
  return Number(n);
}

/**
 * Redis's getIntFromObjectOrReply: a long long, then the int range; with a
 * `message`, that is the error for both.
 */
export function int32Arg(b: Buffer, message?: string): number {
  const n = parseInteger(b);
  if (n === null || n > 2147483647n || n < -2147483648n) {
    if (message) throw new ErrorReply(`ERR ${message}`);
    // getIntFromObjectOrReply: a long long first, then the int range
    throw n === null ? Errors.notInteger() : new ErrorReply('ERR value is out of range, value must between -2147483648 and 2147483647');
  }
  return Number(n);
}

/**
 * Redis's getLongFromObject: a signed 64-bit integer (`ERR <message>` or
 * "not an integer" otherwise) as a JS number. Values beyond 2^53 are clamped:
 * they are only ever compared with sizes, indexes and offsets (list indexes,
 * ranks, LIMIT), where any such value behaves like the clamped one.
 */
export function longArg(b: Buffer, message?: string): number {
  const n = parseInteger(b);
  if (n === null) throw message ? new ErrorReply(`ERR ${message}`) : Errors.notInteger();
  if (n > 9007199254740991n) return Number.MAX_SAFE_INTEGER;
  if (n < -9007199254740991n) return Number.MIN_SAFE_INTEGER;
  return Number(n);
}

/** A float argument (scores, INCRBYFLOAT, coordinates); `message` replaces "value is not a valid float". */
export function floatArg(b: Buffer, message?: string): number {
  const n = parseFloatArg(b);
  if (n === null) throw message ? new ErrorReply(`ERR ${message}`) : Errors.notFloat();
  return n;
}

/**
 * Upper-cased option keyword, for comparisons. Redis compares options with
 * strcasecmp on the argument as a C string, so it ends at a NUL byte:
 * "NX\0junk" is NX.
 */
export function keyword(b: Buffer): string {
  const nul = b.indexOf(0);
  return (nul < 0 ? b : b.subarray(0, nul)).toString('latin1').toUpperCase();
}

/** The Redis count range check (getRangeLongFromObjectOrReply with -LONG_MAX..LONG_MAX). */
export function signedCountArg(b: Buffer): bigint {
  const n = int64Arg(b);
  if (n < -INT64_MAX) {
    throw new ErrorReply(`ERR value is out of range, value must between ${-INT64_MAX} and ${INT64_MAX}`);
  }
  return n;
}

/** Reply sizes beyond this are refused rather than built (Redis would run out of memory). */
export const MAX_RANDOM_REPLY = 50_000_000;

export function checkReplySize(n: bigint): void {
  if (n > BigInt(MAX_RANDOM_REPLY)) throw new ErrorReply(`ERR count is too large (at most ${MAX_RANDOM_REPLY})`);
}
