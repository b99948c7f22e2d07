import type { CommandContext } from '../execution/context.js';
import type { Entry, KeyType } from '../keyspace/types.js';
import { Errors } from './errors.js';

/**
 * What handlers use to read and change keys in the client's db. Lookups
 * apply lazy expiry; every change is recorded for the flusher, and
 * `propagate` logs the effect for the change log and replicas.
 */

/** The live entry of a key, or undefined. */
export function lookup(c: CommandContext, key: Buffer): Entry | undefined {
  const ks = c.keyspace;
  const e = ks.lookup(c.session.db, key.toString('latin1'));
  if (e === undefined) ks.stats.misses++;
  else ks.stats.hits++;
  return e;
}

/** The live entry of a key of `type`; WRONGTYPE if it holds another type. */
export function lookupTyped(c: CommandContext, key: Buffer, type: KeyType): Entry | undefined {
  const e = lookup(c, key);
  if (e !== undefined && e.type !== type) throw Errors.wrongType();
  return e;
}

/** A string value, or undefined; WRONGTYPE for other types. */
export function readString(c: CommandContext, key: Buffer): Buffer | undefined {
  return lookupTyped(c, key, 'string')?.value as Buffer | undefined;
}

/**
 * Set a string value. An existing string keeps its incarnation (one row
 * update); anything else becomes a new one. `expireAt`: unix ms, 0 = none,
 * -1 = keep the current TTL.
 */
export function writeString(c: CommandContext, key: Buffer, value: Buffer, expireAt = 0): Entry {
  const ks = c.keyspace;
  const name = key.toString('latin1');
  const e = ks.lookup(c.session.db, name);
  const stored = own(value);
  if (e !== undefined && e.type === 'string') {
    ks.replaceValue(e, stored, stored.length);
    if (expireAt !== -1 && e.expireAt !== expireAt) ks.setExpire(c.session.db, e, expireAt);
    return e;
  }
  return ks.create(c.session.db, name, 'string', stored, stored.length, expireAt === -1 ? 0 : expireAt);
}

/** Delete a key if it exists; true if it did. */
export function deleteKey(c: CommandContext, key: Buffer): boolean {
  const e = c.keyspace.lookup(c.session.db, key.toString('latin1'));
  if (e === undefined) return false;
  c.keyspace.remove(c.session.db, e);
  return true;
}

/** Log a mutation's effect; the reply waits for its commit. */
export function propagate(c: CommandContext, args: Array<Buffer | string>): void {
  c.keyspace.changelog.append(c.session.db.index, args);
}

/**
 * A private copy of request bytes. Parser slices point into the socket
 * buffer; a stored value must not pin it (nor share a pooled slab that would
 * keep unrelated memory alive after eviction).
 */
export function own(b: Buffer): Buffer {
  const copy = Buffer.allocUnsafeSlow(b.length);
  b.copy(copy);
  return copy;
}
