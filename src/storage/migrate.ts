import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { sql, type Kysely } from 'kysely';
import type pg from 'pg';
import type { TalusSchema } from './database.js';
import type { Logger } from '../observability/logger.js';

/** migrations/ at the package root (next to dist/ and src/). */
export const MIGRATIONS_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../migrations');

/**
 * Applies migrations/NNNN_name.sql in order, each in its own transaction,
 * recording the version reached. An advisory lock keeps two Talus processes
 * sharing a database from migrating at once.
 */
export async function migrate(pool: pg.Pool, log: Logger, dir = MIGRATIONS_DIR): Promise<number> {
  const files = fs
    .readdirSync(dir)
    .filter((f) => /^\d{4}_.+\.sql$/.test(f))
    .sort();
  const client = await pool.connect();
  try {
    await client.query('SELECT pg_advisory_lock(7223372036)');
    await client.query('CREATE SCHEMA IF NOT EXISTS talus');
    await client.query(`CREATE TABLE IF NOT EXISTS talus.schema_version (
      version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`);
    const { rows } = await client.query<{ v: number | null }>(
      'SELECT max(version) AS v FROM talus.schema_version',
    );
    let current = rows[0]?.v ?? 0;
    for (const file of files) {
      const version = Number(file.slice(0, 4));
      if (version <= current) continue;
      log.notice(`applying migration ${file}`);
      const text = fs.readFileSync(path.join(dir, file), 'utf8');
      await client.query('BEGIN');
      try {
        await client.query(text);
        await client.query('INSERT INTO talus.schema_version (version, name) VALUES ($1, $2)', [
          version,
          file,
        ]);
        await client.query('COMMIT');
      } catch (err) {
        await client.query('ROLLBACK');
        throw new Error(`migration ${file} failed: ${(err as Error).message}`);
      }
      current = version;
    }
    return current;
  } finally {
    await client.query('SELECT pg_advisory_unlock(7223372036)').catch(() => undefined);
    client.release();
  }
}

/** What a starting server reads: the last change-log seq, a fresh key-id epoch, and key counts per db. */
export async function readStartState(db: Kysely<TalusSchema>): Promise<{ lastSeq: number; epoch: number; counts: Array<{ db: number; n: number }> }> {
  const { rows: seqRows } = await sql<{ seq: number | null }>`SELECT max(last_seq) AS seq FROM talus.changelog`.execute(db);
  const { rows: epochRows } = await sql<{ epoch: number }>`SELECT nextval('talus.epochs') AS epoch`.execute(db);
  const { rows: counts } = await sql<{ db: number; n: number }>`SELECT db, count(*)::bigint AS n FROM talus.keys GROUP BY db`.execute(db);
  return { lastSeq: seqRows[0]?.seq ?? 0, epoch: epochRows[0]!.epoch, counts };
}

/** The function libraries (FUNCTION LOAD) PostgreSQL holds (migrations/0011), loaded before the server answers. */
export async function readLibraries(db: Kysely<TalusSchema>): Promise<Array<{ name: string; code: Buffer }>> {
  const { rows } = await sql<{ name: string; code: Buffer }>`SELECT name, code FROM talus.functions ORDER BY name`.execute(db);
  return rows;
}
