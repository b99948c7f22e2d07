import { sql } from 'kysely';
import type { ArrayWrite } from './batch.js';

/**
 * Longest key, hash field or set / sorted set member Talus accepts. They are
 * columns of PostgreSQL btree indexes (migrations/), whose entries hold at
 * most 2704 bytes; the tightest, zsets_by_score (key_id, score, member),
 * leaves 2676 for an incompressible member. A longer one would make every
 * commit fail and hold up all writes, so writes naming one are refused
 * instead (Talus.check, src/talus.ts).
 */
export const MAX_INDEXED_BYTES = 2600;

/** The core table writes of a flush; data families add their own. */
export const upsertKeys: ArrayWrite = {
  name: 'keys_put',
  columns: ['smallint[]', 'bytea[]', 'bigint[]', 'text[]', 'bigint[]', 'bigint[]', 'bytea[]'],
  build: ([db, key, id, type, exp, len, value]) => sql`
    INSERT INTO talus.keys (db, key, key_id, type, expire_at, length, value)
    SELECT * FROM unnest(${db}, ${key}, ${id}, ${type}, ${exp}, ${len}, ${value})
    ON CONFLICT (db, key) DO UPDATE SET key_id = EXCLUDED.key_id, type = EXCLUDED.type,
      expire_at = EXCLUDED.expire_at, length = EXCLUDED.length, value = EXCLUDED.value`,
};

export const deleteKeys: ArrayWrite = {
  name: 'keys_del',
  columns: ['smallint[]', 'bytea[]'],
  build: ([db, key]) => sql`
    DELETE FROM talus.keys k USING unnest(${db}, ${key}) AS d(db, key)
    WHERE k.db = d.db AND k.key = d.key`,
};

/** Retired incarnations of collections: the janitor deletes their rows in bounded batches. */
export const addGarbage: ArrayWrite = {
  name: 'garbage',
  columns: ['bigint[]', 'text[]'],
  build: ([id, type]) => sql`
    INSERT INTO talus.garbage (key_id, type) SELECT * FROM unnest(${id}, ${type})
    ON CONFLICT DO NOTHING`,
};

/** One change-log segment per commit (replication/changelog.ts encodes the records). */
export const appendChangelog: ArrayWrite = {
  name: 'changelog',
  columns: ['bigint[]', 'bigint[]', 'bigint[]', 'bytea[]'],
  build: ([first, last, at, records]) => sql`
    INSERT INTO talus.changelog (first_seq, last_seq, at, records) SELECT * FROM unnest(${first}, ${last}, ${at}, ${records})`,
};
