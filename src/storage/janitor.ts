import { sql, type Kysely } from 'kysely';
import type { TalusSchema } from './database.js';
import { codecFor } from './codecs.js';
import type { Logger } from '../observability/logger.js';
import type { KeyType } from '../keyspace/types.js';

/**
 * Deletes the rows of retired key incarnations (deleted, overwritten, expired
 * or flushed collections) in bounded batches, so removing a huge key never
 * holds up clients: the key itself disappears at once from talus.keys.
 */
export class Janitor {
  private running: Promise<void> | undefined;
  static readonly BATCH_ROWS = 5000;

  constructor(
    private readonly db: Kysely<TalusSchema>,
    private readonly log: Logger,
  ) {}

  tick(): Promise<void> {
    if (!this.running) this.running = this.sweep().finally(() => (this.running = undefined));
    return this.running;
  }

  async stop(): Promise<void> {
    await this.running;
  }

  private async sweep(): Promise<void> {
    try {
      const { rows } = await sql<{ key_id: number; type: KeyType }>`
        SELECT key_id, type FROM talus.garbage ORDER BY key_id LIMIT 100`.execute(this.db);
      if (rows.length === 0) return;
      const byType = new Map<KeyType, number[]>();
      for (const r of rows) {
        const ids = byType.get(r.type) ?? [];
        ids.push(r.key_id);
        byType.set(r.type, ids);
      }
      for (const [type, ids] of byType) {
        const codec = codecFor(type);
        let deleted = 0;
        if (type === 'string') {
          await sql`DELETE FROM talus.strings WHERE key_id = ANY(${ids}::bigint[])`.execute(this.db);
        } else if (codec.purge) {
          deleted = await codec.purge(this.db, ids, Janitor.BATCH_ROWS);
        }
        // Rows left: come back next tick; otherwise the ids are done.
        if (deleted < Janitor.BATCH_ROWS) {
          await sql`DELETE FROM talus.garbage WHERE key_id = ANY(${ids}::bigint[])`.execute(this.db);
        }
      }
    } catch (err) {
      this.log.verbose(`janitor: ${(err as Error).message}`);
    }
  }
}
