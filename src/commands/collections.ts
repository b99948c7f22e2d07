import type { CommandContext } from '../execution/context.js';
import type { Entry, KeyType } from '../keyspace/types.js';
import { valueOps } from '../keyspace/value-ops.js';
import { lookupTyped } from './keyaccess.js';

/**
 * Shared write path of the collection families (hash, list, set, zset):
 * create on first write, account size and dirtiness after each change, and
 * delete the key when it becomes empty, as Redis does.
 */

/** The entry of a collection key, created with `make()` if it does not exist. */
export function collectionForWrite<V>(c: CommandContext, key: Buffer, type: KeyType, make: () => V): Entry {
  const e = lookupTyped(c, key, type);
  if (e !== undefined) return e;
  const value = make();
  return c.keyspace.create(c.session.db, key.toString('latin1'), type, value, valueOps(type).sizeOf(value));
}

/** Record a change to a collection (deleting it if it is now empty). */
export function collectionChanged(c: CommandContext, e: Entry): void {
  const ks = c.keyspace;
  const codec = valueOps(e.type!);
  if (codec.length(e.value) === 0) {
    ks.remove(c.session.db, e);
    return;
  }
  ks.resize(e, codec.sizeOf(e.value));
  ks.touch(e);
}

/** Store a freshly built collection under `key` (the *STORE commands), replacing what was there. */
export function storeCollection(c: CommandContext, key: Buffer, type: KeyType, value: unknown): void {
  const ks = c.keyspace;
  const codec = valueOps(type);
  const name = key.toString('latin1');
  if (codec.length(value) === 0) {
    const old = ks.lookup(c.session.db, name);
    if (old !== undefined) ks.remove(c.session.db, old);
    return;
  }
  ks.create(c.session.db, name, type, value, codec.sizeOf(value));
}
