import { Errors } from './errors.js';
import { parseInteger, parseFloatArg } from '../util/numbers.js';

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

/** A float argument (scores, INCRBYFLOAT). */
export function floatArg(b: Buffer): number {
  const n = parseFloatArg(b);
  if (n === null) throw Errors.notFloat();
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
