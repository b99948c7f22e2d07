import type { CommandContext } from '../execution/context.js';
import type { Entry, KeyType } from '../keyspace/types.js';
import { Errors } from './errors.js';
import type { Effect, KeyEvent } from '../keyspace/events.js';
import { keyName } from '../keyspace/names.js';
// the module's binding, not the global `Buffer` (an accessor: a getter call per use)
import { Buffer } from 'node:buffer';

/**
 * What handlers use to read and change keys in the client's db. Lookups
 * apply lazy expiry; every change is recorded for the flusher, and
 * `changed` reports it (event and effect) at the mutation seam.
 */

/**
 * The live entry of a key, or undefined. A miss counts as a read miss
 * (keyspace_misses, keymiss events) unless the running command is a write:
 * writes mostly look up the key they are about to create (Redis's
 * lookupKeyWrite). Reads that a write makes of other keys use `lookupRead`.
 */
export function lookup(c: CommandContext, key: Buffer): Entry | undefined {
  return find(c, key, !c.session.writing);
}

/** The live entry of a key that is only read, even by a write (SORT's source, *STORE's inputs, SET ... GET). */
export function lookupRead(c: CommandContext, key: Buffer): Entry | undefined {
  return find(c, key, true);
}

function find(c: CommandContext, key: Buffer, read: boolean): Entry | undefined {
  const ks = c.keyspace;
  const name = keyName(key);
  const e = ks.lookup(c.session.db, name);
  if (e !== undefined) ks.stats.hits++;
  else if (read) ks.noteMiss(c.session.db.index, name);
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
 * Report a mutation of `key` (in the session's db, or db index `db`): its
 * Redis keyspace event and, once per command, its effect for the change log
 * (absolute: final values, PXAT times), logged in the session's db, where it
 * replays (MOVE and COPY ... DB name the other db themselves). The one way a handler tells the rest
 * of the server what it changed (Keyspace.report): the change log, keyspace
 * notifications, blocked clients and client tracking all follow from it, and
 * the executor flags any key changed without one. The reply waits for the
 * effect's commit.
 */
export function changed(c: CommandContext, key: Buffer | string, event: KeyEvent, effect?: Effect, db = c.session.db.index): void {
  c.keyspace.report(db, typeof key === 'string' ? key : keyName(key), event, effect, c.session.db.index);
}

/** Arguments at least this big may be kept without a copy (own). */
const OWN_BLOCK_MIN = 32 * 1024;

/**
 * A private copy of request bytes. Parser slices point into the socket
 * buffer; a stored value must not pin it (nor share a pooled slab that would
 * keep unrelated memory alive after eviction).
 */
export function own(b: Buffer): Buffer {
  // A big argument that is a whole memory block of its own (the parser gives
  // big bulks their own buffer, and neither it nor the socket reuses them)
  // pins nothing else: kept as it is, not held twice.
  if (b.length >= OWN_BLOCK_MIN && b.byteOffset === 0 && b.buffer.byteLength === b.length) return b;
  const copy = Buffer.allocUnsafeSlow(b.length);
  copy.set(b); // TypedArray.set: cheaper than Buffer's copy for a short value
  return copy;
}
