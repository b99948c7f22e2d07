import { sql, type Kysely, type RawBuilder } from 'kysely';
import type { TalusSchema } from './database.js';

/** Rows a whole read of a collection takes at a time (readWhole). */
export const WHOLE_READ_PAGE_ROWS = 8192;

/**
 * A whole read of a big collection (a paged value asked for everything:
 * HGETALL, SMEMBERS, LRANGE 0 -1): `query` runs through a cursor in a
 * read-only transaction, in one snapshot, and `take` gets its rows
 * WHOLE_READ_PAGE_ROWS at a time, so that they can go once added to the
 * value. `take` returns false to stop early.
 */
export async function readWhole(db: Kysely<TalusSchema>, query: RawBuilder<unknown>, take: (rows: Array<Record<string, unknown>>) => boolean): Promise<void> {
  await db
    .transaction()
    .setAccessMode('read only')
    .execute(async (trx) => {
      await sql`DECLARE talus_whole NO SCROLL CURSOR FOR ${query}`.execute(trx);
      for (;;) {
        const { rows } = await sql<Record<string, unknown>>`FETCH ${sql.raw(String(WHOLE_READ_PAGE_ROWS))} FROM talus_whole`.execute(trx);
        if (!take(rows) || rows.length < WHOLE_READ_PAGE_ROWS) return;
      }
    });
}
