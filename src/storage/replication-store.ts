import { sql, type Kysely } from 'kysely';
import type { TalusSchema } from './database.js';
import { codecFor } from './codecs.js';
import { decodeSegment, type ChangeRecord } from '../replication/changelog.js';
import type { KeyType } from '../keyspace/types.js';

/**
 * What replication reads from and records in PostgreSQL (docs/replication.md):
 * the replication row (migrations/0010), the committed change log, and the
 * snapshot a full sync streams.
 */

export interface ReplicationRow {
  /** this server's change-log history */
  replid: string;
  /** follower: the leader history applied here, and its last record committed here (-1: a full sync never finished) */
  masterReplid: string | null;
  masterOffset: number | null;
  /** the history's previous id, where they part, own seq minus offset, first own seq of the history (replication/history.ts) */
  replid2: string;
  secondOffset: number;
  delta: number;
  start: number;
}

export async function readReplicationRow(db: Kysely<TalusSchema>): Promise<ReplicationRow> {
  const { rows } = await sql<{
    replid: string;
    master_replid: string | null;
    master_offset: string | null;
    replid2: string;
    second_offset: string;
    offset_delta: string;
    history_start: string;
  }>`SELECT replid, master_replid, master_offset, replid2, second_offset, offset_delta, history_start FROM talus.replication`.execute(db);
  const r = rows[0]!;
  return {
    replid: r.replid,
    masterReplid: r.master_replid,
    masterOffset: r.master_offset === null ? null : Number(r.master_offset),
    replid2: r.replid2,
    secondOffset: Number(r.second_offset),
    delta: Number(r.offset_delta),
    start: Number(r.history_start),
  };
}

/** The first sequence number the committed change log still holds (undefined: none). */
export async function firstRetainedSeq(db: Kysely<TalusSchema>): Promise<number | undefined> {
  const { rows } = await sql<{ seq: number }>`SELECT first_seq AS seq FROM talus.changelog ORDER BY first_seq LIMIT 1`.execute(db);
  return rows[0]?.seq;
}

/**
 * Committed records from `fromSeq` on, at most about `maxRecords` (whole
 * segments), oldest first. Throws if the log no longer holds `fromSeq`.
 */
export async function readChangelogFrom(db: Kysely<TalusSchema>, fromSeq: number, maxRecords: number): Promise<ChangeRecord[]> {
  const { rows } = await sql<{ first_seq: number; records: Buffer }>`
    SELECT first_seq, records FROM talus.changelog
    WHERE last_seq >= ${fromSeq} ORDER BY first_seq LIMIT ${Math.max(1, Math.ceil(maxRecords / 16))}`.execute(db);
  const out: ChangeRecord[] = [];
  for (const row of rows) {
    for (const r of decodeSegment(Number(row.first_seq), row.records)) {
      if (r.seq < fromSeq) continue;
      if (r.seq !== fromSeq + out.length) throw new Error(`change log gap at ${fromSeq + out.length}`);
      out.push(r);
    }
    if (out.length >= maxRecords) break;
  }
  return out;
}

/** One key of a snapshot, with its whole value (a Buffer for strings, else the in-memory value). */
export interface SnapshotKey {
  db: number;
  key: Buffer;
  type: KeyType;
  value: unknown;
  /** unix ms, 0 = none */
  expireAt: number;
}

/** A function library of a snapshot (FUNCTION LOAD's code). */
export interface SnapshotLibrary {
  name: string;
  code: Buffer;
}

/** Keys read per snapshot batch (their collections are read whole). */
const SNAPSHOT_BATCH = 256;

/**
 * A consistent snapshot of every db: one REPEATABLE READ transaction whose
 * first statement fixes both the data and the change-log offset it matches
 * (data and log are committed in the same statement, and the janitor always
 * keeps the newest segment). `onOffset` gets the offset and the function
 * libraries before any key;
 * `onBatch` is awaited (the caller's backpressure).
 */
export async function readSnapshot(
  db: Kysely<TalusSchema>,
  onOffset: (offset: number, libraries: SnapshotLibrary[]) => void | Promise<void>,
  onBatch: (keys: SnapshotKey[]) => Promise<void>,
): Promise<number> {
  return db
    .transaction()
    .setIsolationLevel('repeatable read')
    .execute(async (trx) => {
      const { rows: seqRows } = await sql<{ seq: number | null }>`SELECT max(last_seq) AS seq FROM talus.changelog`.execute(trx);
      const offset = Number(seqRows[0]?.seq ?? 0);
      const { rows: libraries } = await sql<SnapshotLibrary>`SELECT name, code FROM talus.functions ORDER BY name`.execute(trx);
      await onOffset(offset, libraries);
      let after: { db: number; key: Buffer } | undefined;
      for (;;) {
        const { rows } = await sql<{ db: number; key: Buffer; name: Buffer; key_id: number; type: KeyType; expire_at: number | null; value: Buffer | null }>`
          SELECT db, key, coalesce(long_key, key) AS name, key_id, type, expire_at, value FROM talus.keys
          ${after ? sql`WHERE (db, key) > (${after.db}::smallint, ${after.key}::bytea)` : sql``}
          ORDER BY db, key LIMIT ${SNAPSHOT_BATCH}`.execute(trx);
        if (rows.length === 0) return offset;
        const byType = new Map<KeyType, number[]>();
        for (const r of rows) {
          if (r.type === 'string') continue;
          const ids = byType.get(r.type) ?? [];
          ids.push(Number(r.key_id));
          byType.set(r.type, ids);
        }
        const values = new Map<number, unknown>();
        for (const [type, ids] of byType) {
          const loaded = await codecFor(type).load!(trx, ids);
          for (const [id, v] of loaded) values.set(id, v);
        }
        // what the key row's note adds to the rows (a stream's metadata and groups, a sorted set's encoding)
        for (const r of rows) {
          if (r.type !== 'string') codecFor(r.type).readRowNote?.(values.get(Number(r.key_id)), r.value);
        }
        await onBatch(
          rows.map((r) => ({
            db: r.db,
            key: r.name,
            type: r.type,
            value: r.type === 'string' ? r.value ?? Buffer.alloc(0) : values.get(Number(r.key_id)),
            expireAt: Number(r.expire_at ?? 0),
          })),
        );
        const last = rows[rows.length - 1]!;
        after = { db: last.db, key: last.key };
      }
    });
}

/** The reads replication makes, bound to one database (src/replication knows no SQL). */
export class ReplicationStore {
  constructor(private readonly db: Kysely<TalusSchema>) {}

  firstRetainedSeq(): Promise<number | undefined> {
    return firstRetainedSeq(this.db);
  }

  readChangelogFrom(fromSeq: number, maxRecords: number): Promise<ChangeRecord[]> {
    return readChangelogFrom(this.db, fromSeq, maxRecords);
  }

  readSnapshot(onOffset: (offset: number, libraries: SnapshotLibrary[]) => void | Promise<void>, onBatch: (keys: SnapshotKey[]) => Promise<void>): Promise<number> {
    return readSnapshot(this.db, onOffset, onBatch);
  }
}
