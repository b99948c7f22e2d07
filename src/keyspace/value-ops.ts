import type { KeyType } from './types.js';
import { byteAfter } from '../util/hyperloglog.js';

/** What commands need to know of a type's in-memory values, whatever holds them. */
export interface ValueOps {
  /** member count or byte length */
  length(value: unknown): number;
  /** bytes of memory the value accounts for in the hot set */
  sizeOf(value: unknown): number;
  /** an independent copy (COPY, MOVE) */
  clone(value: unknown): unknown;
}

/**
 * What a string value costs beyond its bytes: the Buffer's JSTypedArray and
 * JSArrayBuffer, and for values past 64 bytes (kept outside V8's heap) the
 * backing store's record and malloc's rounding. Measured with --expose-gc
 * and jemalloc over a million values: 64-byte values 306 bytes of RSS each,
 * 1000-byte values 1,433.
 */
export const STRING_VALUE_OVERHEAD = 300;

/** bytes a string value accounts for in the hot set */
export function stringValueSize(v: Buffer): number {
  return STRING_VALUE_OVERHEAD + v.length;
}

/**
 * Strings are Buffers, never changed in place: a copy is the same Buffer,
 * unless a byte past its end is remembered (util/hyperloglog.ts byteAfter),
 * which Redis's copy of the string does not have.
 */
const stringOps: ValueOps = {
  length: (v) => (v as Buffer).length,
  sizeOf: (v) => stringValueSize(v as Buffer),
  clone: (v) => (byteAfter(v as Buffer) === 0 ? v : Buffer.from(v as Buffer)),
};

const ops = new Map<KeyType, ValueOps>([['string', stringOps]]);

/** Each collection type registers its operations once, beside its value class (keyspace/values/). */
export function registerValueOps(type: KeyType, o: ValueOps): void {
  ops.set(type, o);
}

export function valueOps(type: KeyType): ValueOps {
  const o = ops.get(type);
  if (!o) throw new Error(`no value operations for type ${type}`);
  return o;
}
