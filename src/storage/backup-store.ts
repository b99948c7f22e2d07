import { randomBytes } from 'node:crypto';
import pg from 'pg';

/**
 * What backups read from and do to PostgreSQL (docs/backup.md): the snapshot
 * a full backup dumps, the committed change log the archiver copies, and the
 * checks and fix-ups of a restore. Each function opens its own connection:
 * a backup or a restore must not hold the server's pool.
 */

/** A REPEATABLE READ transaction kept open while pg_dump reads its snapshot. */
export interface ExportedSnapshot {
  /** pg_export_snapshot(), for pg_dump --snapshot */
  readonly id: string;
  /** the last change-log record the snapshot contains (0: none yet) */
  readonly offset: number;
  /** server_version_num / 10000 */
  readonly serverMajor: number;
  readonly serverVersion: string;
  /** the last migration applied (talus.schema_version) */
  readonly schemaVersion: number;
  /** keys per db and type in the snapshot (a restore's check) */
  readonly keys: KeyCount[];
  release(): Promise<void>;
}

/**
 * Export a snapshot whose first statement also reads the change-log offset:
 * data and change log are committed in the same statement, so the snapshot
 * holds exactly the effects up to that offset (the janitor always keeps the
 * newest segment, so the maximum is there).
 */
export async function exportSnapshot(url: string): Promise<ExportedSnapshot> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    const { rows } = await client.query<{ id: string; offset: string | null; num: string; version: string; schema: number | null }>(`
      SELECT pg_export_snapshot() AS id,
             (SELECT max(last_seq) FROM talus.changelog) AS offset,
             current_setting('server_version_num') AS num,
             current_setting('server_version') AS version,
             (SELECT max(version) FROM talus.schema_version) AS schema`);
    const r = rows[0]!;
    const keys = await countKeys(client);
    return {
      id: r.id,
      offset: Number(r.offset ?? 0),
      serverMajor: Math.floor(Number(r.num) / 10000),
      serverVersion: r.version,
      schemaVersion: r.schema ?? 0,
      keys,
      release: async () => {
        await client.query('COMMIT').catch(() => undefined);
        await client.end().catch(() => undefined);
      },
    };
  } catch (err) {
    await client.end().catch(() => undefined);
    throw err;
  }
}

/** The server's major version (15 for 15.x). */
export async function serverMajorVersion(url: string): Promise<number> {
  return withClient(url, async (c) => {
    const { rows } = await c.query<{ num: string }>(`SELECT current_setting('server_version_num') AS num`);
    return Math.floor(Number(rows[0]!.num) / 10000);
  });
}

/** One committed change-log segment as stored (talus.changelog, migrations/0006). */
export interface StoredSegment {
  firstSeq: number;
  lastSeq: number;
  /** unix ms of the segment's last record */
  at: number;
  records: Buffer;
}

/**
 * Committed segments after `afterSeq`, oldest first, at most about `maxBytes`
 * of records (at least one segment).
 */
export async function readSegmentsAfter(url: string, afterSeq: number, maxBytes: number): Promise<StoredSegment[]> {
  return withClient(url, async (c) => {
    const out: StoredSegment[] = [];
    let bytes = 0;
    let from = afterSeq;
    for (;;) {
      const { rows } = await c.query<{ first_seq: string; last_seq: string; at: string; records: Buffer }>(
        'SELECT first_seq, last_seq, at, records FROM talus.changelog WHERE first_seq > $1 ORDER BY first_seq LIMIT 256',
        [from],
      );
      for (const r of rows) {
        out.push({ firstSeq: Number(r.first_seq), lastSeq: Number(r.last_seq), at: Number(r.at), records: r.records });
        bytes += r.records.length;
        from = Number(r.first_seq);
        if (bytes >= maxBytes) return out;
      }
      if (rows.length < 256) return out;
    }
  });
}

/** The last committed change-log record (what a snapshot taken now would contain). */
export async function committedOffset(url: string): Promise<number> {
  return withClient(url, async (c) => {
    const { rows } = await c.query<{ seq: string | null }>('SELECT max(last_seq) AS seq FROM talus.changelog');
    return Number(rows[0]?.seq ?? 0);
  });
}

/** Whether the database holds a talus schema (Talus data, or the leftovers of a failed restore). */
export async function holdsTalusSchema(url: string): Promise<boolean> {
  return withClient(url, async (c) => {
    const { rows } = await c.query(`SELECT 1 FROM pg_namespace WHERE nspname = 'talus'`);
    return rows.length > 0;
  });
}

/** Remove the talus schema and everything in it (restore --force, or a failed restore). */
export async function dropTalusSchema(url: string): Promise<void> {
  await withClient(url, (c) => c.query('DROP SCHEMA IF EXISTS talus CASCADE'));
}

/**
 * A restored data set starts a history of its own: a new replication id,
 * and no leader position (followers of the source must not continue from it).
 */
export async function startNewHistory(url: string): Promise<void> {
  const replid = randomBytes(20).toString('hex');
  await withClient(url, (c) => c.query('UPDATE talus.replication SET replid = $1, master_replid = NULL, master_offset = NULL', [replid]));
}

export interface KeyCount {
  db: number;
  type: string;
  n: number;
}

/** Keys per db and type, for a restore's summary. */
export async function keyCounts(url: string): Promise<KeyCount[]> {
  return withClient(url, countKeys);
}

async function countKeys(c: pg.Client): Promise<KeyCount[]> {
  const { rows } = await c.query<{ db: number; type: string; n: string }>('SELECT db, type, count(*) AS n FROM talus.keys GROUP BY db, type ORDER BY db, type');
  return rows.map((r) => ({ db: r.db, type: r.type, n: Number(r.n) }));
}

/** A database of the server at `url`, created empty (a scratch target for `talus backup verify`). */
export async function createDatabase(url: string, name: string): Promise<string> {
  await withClient(url, (c) => c.query(`CREATE DATABASE ${pg.escapeIdentifier(name)}`));
  const u = new URL(url);
  u.pathname = `/${name}`;
  return u.toString();
}

export async function dropDatabase(url: string, name: string): Promise<void> {
  await withClient(url, (c) => c.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(name)} WITH (FORCE)`));
}

async function withClient<T>(url: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}
