import type { CommandContext } from '../execution/context.js';
import type { Entry, KeyType } from '../keyspace/types.js';
import { valueOps } from '../keyspace/value-ops.js';
import { changed, lookupTyped } from './keyaccess.js';
import type { Effect, KeyEvent } from '../keyspace/events.js';
import { StreamedReply, type Reply } from '../protocol/reply.js';
import { aggregateHeader, BIG_AGGREGATE, encodedBulkItems, encodedBulks, type AggregateKind } from '../protocol/encoder.js';

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

/**
 * Record and report a change to a collection: its event and (once per
 * command) its effect; a collection left empty is deleted, reported as a
 * `del` after the event, as Redis does.
 */
export function collectionChanged(c: CommandContext, e: Entry, event: KeyEvent, effect?: Effect): void {
  const ks = c.keyspace;
  const codec = valueOps(e.type!);
  if (codec.length(e.value) === 0) {
    ks.remove(c.session.db, e);
    changed(c, e.name, event, effect);
    changed(c, e.name, 'del');
    return;
  }
  ks.resize(e, codec.sizeOf(e.value));
  ks.touch(e);
  changed(c, e.name, event, effect);
}

/**
 * Store a freshly built collection under `key` (the *STORE commands),
 * replacing what was there, and report it: `event` with `effect`, or, for
 * an empty result, a `del` of what was there (DEL as the effect).
 */
export function storeCollection(c: CommandContext, key: Buffer, type: KeyType, value: unknown, event: KeyEvent, effect: Effect): void {
  const ks = c.keyspace;
  const codec = valueOps(type);
  const name = key.toString('latin1');
  if (codec.length(value) === 0) {
    const old = ks.lookup(c.session.db, name);
    if (old !== undefined) {
      ks.remove(c.session.db, old);
      changed(c, key, 'del', ['DEL', key]);
    }
    return;
  }
  ks.create(c.session.db, name, type, value, codec.sizeOf(value));
  changed(c, key, event, effect);
}

/** Create a new collection key (the caller checked that it does not exist). */
export function createCollection(c: CommandContext, key: Buffer, type: KeyType, value: unknown): Entry {
  return c.keyspace.create(c.session.db, key.toString('latin1'), type, value, valueOps(type).sizeOf(value));
}

/** Re-account an entry whose value grew a random-access index on a read path. */
export function accountIndex(c: CommandContext, e: Entry): void {
  c.keyspace.resize(e, valueOps(e.type!).sizeOf(e.value));
}

/**
 * A whole collection's reply of `count` items, encoded at once for the
 * client (encodedBulks) when it is big, or undefined: build it as a Reply.
 * Not for scripts (no connection): they convert replies by their own RESP
 * version (redis.setresp), not the session's.
 */
export function bigAggregate(c: CommandContext, kind: 'array' | 'set' | 'map', count: number, items: () => Array<string | Buffer>): Reply | undefined {
  if (count < BIG_AGGREGATE || c.connection === undefined) return undefined;
  return encodedBulks(kind, items(), c.session.protocol);
}

/**
 * The reply of a command whose key's paged value had its rows opened for it
 * (a `stream` access: keyspace/paging.ts), written to the client as they are
 * read: the elements are the `columns` of each row (a hash row is [field,
 * value], a set's or list's [member]). Undefined when no rows were opened
 * (the value is not paged, or what was asked was small): answer from memory.
 */
export function streamedAggregate(c: CommandContext, e: Entry, kind: AggregateKind, columns: readonly number[]): StreamedReply | undefined {
  const rows = c.keyspace.takePagedRows(e);
  if (rows === undefined) return undefined;
  const proto = c.session.protocol;
  const items = rows.count * columns.length;
  const header = aggregateHeader(kind, kind === 'map' && proto === 3 ? rows.count : items, proto);
  const next = async () => {
    const page = await rows.next();
    if (page === null) return null;
    const out: Buffer[] = [];
    for (const row of page) for (const col of columns) out.push(row[col]!);
    return { bytes: encodedBulkItems(out), items: out.length };
  };
  return new StreamedReply(header, items, next, () => rows.close());
}
