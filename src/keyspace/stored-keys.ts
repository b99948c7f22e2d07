import type { KeyType } from './types.js';

/** A key as PostgreSQL's talus.keys holds it. */
export interface StoredKey {
  /** the whole key */
  key: Buffer;
  /** its indexed form (util/indexed-names.ts): the order of a walk */
  form: Buffer;
  type: KeyType;
}

/** Which live keys of a db a walk returns, by indexed form. */
export interface StoredKeyRange {
  /** exclusive */
  after?: Buffer;
  /** inclusive lower bound */
  from?: Buffer;
  /** exclusive upper bound */
  to?: Buffer;
  type?: string;
}

/**
 * The keys of dbs not wholly in memory, read from PostgreSQL (storage/
 * stored-keys.ts): KEYS, SCAN and RANDOMKEY. Callers wait for `durable`
 * first, so that PostgreSQL holds every write made so far.
 */
export interface StoredKeys {
  /** Resolves once PostgreSQL holds every write made so far, db-wide ones on db `index` included. */
  durable(index: number): Promise<void>;
  /** Up to `limit` live keys of db `index` in `range`, in indexed-form order. */
  page(index: number, range: StoredKeyRange, limit: number): Promise<StoredKey[]>;
  /** Up to `limit` keys of any db past their expiry time `now`, soonest first (active expiry of cold keys). */
  expired(now: number, limit: number): Promise<Array<{ db: number; key: Buffer }>>;
  /** A random live key of db `index`, or undefined when it has none. */
  random(index: number): Promise<Buffer | undefined>;
}
