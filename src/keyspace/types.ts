/** Redis data types, as stored in talus.keys.type and reported by TYPE. */
export type KeyType = 'string' | 'hash' | 'list' | 'set' | 'zset' | 'stream';

/**
 * One key in the hot set. `type === null` is a tombstone: the key is known not
 * to exist (a clean tombstone spares a PostgreSQL lookup; a dirty one is a
 * delete not yet committed).
 */
export class Entry {
  type: KeyType | null;
  value: unknown;
  /** unix ms; 0 = no TTL */
  expireAt: number;
  /** incarnation id in talus.keys; 0 for tombstones */
  keyId: number;
  /** bumped by every mutation; the entry is dirty while version !== flushedVersion */
  version = 0;
  /**
   * The change-log seq after which its last mutation is committed: the seq
   * following the last one handed out when it was made (Keyspace.touch).
   * A reply showing this entry waits for it (Executor.readGate); 0 = loaded,
   * never changed here.
   */
  changeSeq = 0;
  flushedVersion = 0;
  /** version bumps that are no logical change (Keyspace.touchUnwatched): WATCH discounts them */
  unwatchedVersions = 0;
  /** the talus.keys row (incarnation, type, TTL, length) needs rewriting */
  metaDirty = true;
  /**
   * PostgreSQL holds no row for this name and no commit has been sent with
   * one: created in a db whose keys are all resident (Db.complete), where no
   * object stood for the name, or admitted as a miss of a read from
   * PostgreSQL. Its first commit inserts the row without the conflict check
   * of an upsert; staging clears it.
   */
  rowless = false;
  /** bytes this entry accounts for in the hot set */
  size = 0;
  lastAccess = 0;
  /** > 0 while something (WATCH) needs this very object to stay in the hot set: never evicted */
  pins = 0;
  /** LFU counter (logarithmic, Redis-style: keyspace/lfu.ts) and the minute it was last decayed or bumped */
  freq = 5;
  freqMinute = 0; // set by Keyspace from the clock read it makes for lastAccess (no second read per new key)
  /** the Keyspace's report rounds in which it was last changed and last reported (Keyspace.takeUnreported) */
  touchedRound = 0;
  reportedRound = 0;
  /** the Keyspace's dirty round in which it was listed for the next commit (Keyspace.markDirty) */
  dirtyRound = 0;
  /** its place in its db's KeyTable's least-recently-used order, -1 while in no table */
  position = -1;

  constructor(
    public db: number,
    readonly name: string,
    type: KeyType | null,
    value: unknown,
    expireAt: number,
    keyId: number,
  ) {
    this.type = type;
    this.value = value;
    this.expireAt = expireAt;
    this.keyId = keyId;
  }

  get dirty(): boolean {
    return this.version !== this.flushedVersion;
  }

  /** the key as bytes (names are latin1 strings: one char per byte) */
  get key(): Buffer {
    return Buffer.from(this.name, 'latin1');
  }
}

/** A key incarnation that was deleted or replaced; its rows must go. */
export interface Retired {
  keyId: number;
  type: KeyType;
}
