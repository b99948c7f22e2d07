import { sql } from 'kysely';
import type { ArrayWrite } from './batch.js';

/** The core table writes of a flush; data families add their own. */
export const upsertKeys: ArrayWrite = {
  name: 'keys_put',
  columns: ['smallint[]', 'bytea[]', 'bigint[]', 'text[]', 'bigint[]', 'bigint[]', 'bigint[]', 'bytea[]'],
  build: ([db, key, id, type, exp, due, len, value]) => sql`
    INSERT INTO talus.keys (db, key, key_id, type, expire_at, expire_due, length, value)
    SELECT * FROM unnest(${db}, ${key}, ${id}, ${type}, ${exp}, ${due}, ${len}, ${value})
    ON CONFLICT (db, key) DO UPDATE SET key_id = EXCLUDED.key_id, type = EXCLUDED.type,
      expire_at = EXCLUDED.expire_at, expire_due = EXCLUDED.expire_due, length = EXCLUDED.length, value = EXCLUDED.value`,
};

/**
 * upsertKeys for keys that have no row (Entry.rowless): a plain insert, which
 * costs PostgreSQL about a third less than an upsert's speculative insertion
 * (docs/benchmarks.md, "Session 14: the write path"). A row there after all
 * (a bug) is a unique violation: that commit fails, is logged, and its retry
 * upserts.
 */
export const insertKeys: ArrayWrite = {
  name: 'keys_new',
  columns: upsertKeys.columns,
  build: ([db, key, id, type, exp, due, len, value]) => sql`
    INSERT INTO talus.keys (db, key, key_id, type, expire_at, expire_due, length, value)
    SELECT * FROM unnest(${db}, ${key}, ${id}, ${type}, ${exp}, ${due}, ${len}, ${value})`,
};

/**
 * upsertKeys for keys longer than SHORT_NAME_BYTES: `key` is the indexed
 * form, `long_key` the whole key (util/indexed-names.ts). A separate write, so
 * commits of short keys keep their statement. A form always stands for the
 * same whole key: a conflict leaves long_key as it is.
 */
export const upsertLongKeys: ArrayWrite = {
  name: 'keys_put_long',
  columns: ['smallint[]', 'bytea[]', 'bytea[]', 'bigint[]', 'text[]', 'bigint[]', 'bigint[]', 'bigint[]', 'bytea[]'],
  build: ([db, key, longKey, id, type, exp, due, len, value]) => sql`
    INSERT INTO talus.keys (db, key, long_key, key_id, type, expire_at, expire_due, length, value)
    SELECT * FROM unnest(${db}, ${key}, ${longKey}, ${id}, ${type}, ${exp}, ${due}, ${len}, ${value})
    ON CONFLICT (db, key) DO UPDATE SET key_id = EXCLUDED.key_id, type = EXCLUDED.type,
      expire_at = EXCLUDED.expire_at, expire_due = EXCLUDED.expire_due, length = EXCLUDED.length, value = EXCLUDED.value`,
};

/** Deletes by indexed form (util/indexed-names.ts), long keys included. */
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

/** A follower's applied leader position, committed with the effects it covers (migrations/0010). */
export const recordLeaderPosition: ArrayWrite = {
  name: 'leader_position',
  columns: ['text[]', 'bigint[]'],
  build: ([replid, offset]) => sql`
    UPDATE talus.replication SET master_replid = p.replid, master_offset = p.off FROM unnest(${replid}, ${offset}) AS p(replid, off)`,
};

/** The replication history (replication/history.ts, migrations/0013), committed with the records it numbers. */
export const recordHistory: ArrayWrite = {
  name: 'replication_history',
  columns: ['text[]', 'text[]', 'bigint[]', 'bigint[]', 'bigint[]'],
  build: ([replid, replid2, second, delta, start]) => sql`
    UPDATE talus.replication SET replid = h.replid, replid2 = h.replid2, second_offset = h.second, offset_delta = h.delta, history_start = h.start
    FROM unnest(${replid}, ${replid2}, ${second}, ${delta}, ${start}) AS h(replid, replid2, second, delta, start)`,
};
