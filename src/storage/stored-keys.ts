import { sql, type Kysely } from 'kysely';
import type { TalusSchema } from './database.js';
import type { Flusher } from './flusher.js';
import type { Keyspace } from '../keyspace/keyspace.js';
import type { StoredKey, StoredKeyRange, StoredKeys } from '../keyspace/stored-keys.js';

/** talus.keys walked for KEYS, SCAN and RANDOMKEY (keyspace/stored-keys.ts). */
export class PostgresStoredKeys implements StoredKeys {
  constructor(
    private readonly db: Kysely<TalusSchema>,
    private readonly keyspace: Keyspace,
    private readonly flusher: Flusher,
  ) {}

  async durable(index: number): Promise<void> {
    const db = this.keyspace.dbs[index]!;
    await this.flusher.waitDurable(this.keyspace.changelog.seq, true);
    while (db.barrierSeq > this.flusher.durableSeq) await this.flusher.waitDurable(db.barrierSeq, true);
  }

  async page(index: number, range: StoredKeyRange, limit: number): Promise<StoredKey[]> {
    const conds = [sql`db = ${index}`, sql`(expire_at IS NULL OR expire_at > ${Date.now()})`];
    if (range.after !== undefined) conds.push(sql`key > ${range.after}`);
    if (range.from !== undefined) conds.push(sql`key >= ${range.from}`);
    if (range.to !== undefined) conds.push(sql`key < ${range.to}`);
    if (range.type !== undefined) conds.push(sql`type = ${range.type}`);
    const { rows } = await sql<StoredKey>`SELECT coalesce(long_key, key) AS key, key AS form, type FROM talus.keys
      WHERE ${sql.join(conds, sql` AND `)} ORDER BY form LIMIT ${limit}`.execute(this.db);
    return rows;
  }

  async expired(now: number, limit: number): Promise<Array<{ db: number; key: Buffer }>> {
    const { rows } = await sql<{ db: number; key: Buffer }>`
      SELECT db, coalesce(long_key, key) AS key FROM talus.keys WHERE expire_due <= ${now} ORDER BY expire_due LIMIT ${limit}`.execute(this.db);
    return rows;
  }

  async random(index: number): Promise<Buffer | undefined> {
    const count = this.keyspace.dbs[index]!.count;
    const live = sql`db = ${index} AND (expire_at IS NULL OR expire_at > ${Date.now()})`;
    if (count > 100_000) {
      // Sample a few pages of the table rather than walking an index to an offset.
      let total = 0;
      for (const d of this.keyspace.dbs) total += d.count;
      const percent = Math.min(100, (100 * 2000) / Math.max(total, 1));
      const { rows } = await sql<{ key: Buffer }>`SELECT coalesce(long_key, key) AS key FROM talus.keys TABLESAMPLE SYSTEM (${percent}) WHERE ${live}`.execute(this.db);
      if (rows.length > 0) return rows[Math.floor(Math.random() * rows.length)]!.key;
    }
    const offset = Math.floor(Math.random() * Math.min(count, 1_000_000));
    for (const off of offset > 0 ? [offset, 0] : [0]) {
      const { rows } = await sql<{ key: Buffer }>`SELECT coalesce(long_key, key) AS key FROM talus.keys WHERE ${live}
        ORDER BY talus.keys.key OFFSET ${off} LIMIT 1`.execute(this.db);
      if (rows.length > 0) return rows[0]!.key;
    }
    return undefined;
  }
}
