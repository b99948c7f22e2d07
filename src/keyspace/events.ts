/**
 * Redis's keyspace event names, each with the notify-keyspace-events class
 * that selects it: g generic, $ string, l list, s set, h hash, z sorted set,
 * x expired, e evicted (never: Talus unloads clean keys from memory, it
 * does not delete them), t stream, d module, n new key, m key miss; the
 * empty class is never notified (a change Redis signals to WATCH and client
 * tracking without a keyspace event: PFCOUNT's cached cardinality). Every
 * mutation is reported with one of
 * these (Keyspace.report), so notifications are derived, never written by hand.
 */
export const KEY_EVENTS = {
  // generic
  del: 'g', expire: 'g', persist: 'g', rename_from: 'g', rename_to: 'g', move_from: 'g', move_to: 'g',
  copy_to: 'g', restore: 'g', sortstore: 'g',
  // strings
  set: '$', setrange: '$', append: '$', incrby: '$', incrbyfloat: '$', setbit: '$',
  // hyperloglog (strings); hllcache: the cached cardinality, never notified
  pfadd: '$', hllcache: '',
  // lists
  lpush: 'l', rpush: 'l', lpop: 'l', rpop: 'l', linsert: 'l', lset: 'l', lrem: 'l', ltrim: 'l',
  // hashes
  hset: 'h', hdel: 'h', hincrby: 'h', hincrbyfloat: 'h',
  // sets
  sadd: 's', srem: 's', spop: 's', sinterstore: 's', sunionstore: 's', sdiffstore: 's',
  // sorted sets
  zadd: 'z', zincr: 'z', zrem: 'z', zremrangebyscore: 'z', zremrangebyrank: 'z', zremrangebylex: 'z', zpopmin: 'z', zpopmax: 'z',
  zunionstore: 'z', zinterstore: 'z', zdiffstore: 'z', zrangestore: 'z',
  // geo (sorted sets)
  georadiusstore: 'z', geosearchstore: 'z',
  // streams
  xadd: 't', xtrim: 't', xdel: 't', xsetid: 't', 'xgroup-create': 't', 'xgroup-createconsumer': 't', 'xgroup-delconsumer': 't',
  'xgroup-destroy': 't', 'xgroup-setid': 't',
  // consumer-group changes Redis notifies nothing of (XREADGROUP, XACK, XCLAIM, XAUTOCLAIM)
  'xgroup-pel': '',
  // expiry and creation
  expired: 'x', new: 'n',
} as const;

/** A read found no key (notify class m, event "keymiss"): not a mutation, so apart from the seam. */
export type MissListener = (db: number, key: string) => void;

export type KeyEvent = keyof typeof KEY_EVENTS;

/** A db-wide change: no key, no keyspace notification (as in Redis). */
export type DbEvent = 'flushdb' | 'flushall' | 'swapdb';

/**
 * The arguments of a change-log effect: a command that reproduces the
 * mutation with absolute values. An integer (a PXAT time) may stay a number:
 * the change log writes its digits (replication/changelog.ts EffectArgs).
 */
export type Effect = ReadonlyArray<Buffer | string | number>;

/** One reported mutation, as the seam's listeners receive it. */
export interface Mutation {
  /** db index */
  db: number;
  /** the key (latin1 name); null for db-wide events */
  key: string | null;
  event: KeyEvent | DbEvent;
  /** for swapdb: the other db index */
  otherDb?: number;
}

export type MutationListener = (m: Mutation) => void;
