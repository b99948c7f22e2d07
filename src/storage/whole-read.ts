import { sql, type Kysely, type RawBuilder } from 'kysely';
import type { TalusSchema } from './database.js';
import type { PagedRows } from '../keyspace/paging.js';

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

/**
 * Rows for a command that streams them to its client (keyspace/paging.ts,
 * PagedRows): `query` through a cursor declared now, in a read-only
 * transaction that holds one pooled connection until the rows are read or
 * `close` is called. The cursor's snapshot is the one of its DECLARE, taken
 * before this resolves.
 */
export function openRows(db: Kysely<TalusSchema>, query: RawBuilder<unknown>, count: number, toRow: (row: Record<string, unknown>) => Buffer[]): Promise<PagedRows> {
  return new Promise<PagedRows>((opened, failed) => {
    const asks: Array<{ resolve: (rows: Buffer[][] | null) => void; reject: (err: Error) => void }> = [];
    let wake: (() => void) | undefined;
    let closed = false;
    let broken: Error | undefined;
    const rows: PagedRows = {
      count,
      next: () =>
        new Promise((resolve, reject) => {
          if (broken) return reject(broken);
          if (closed) return resolve(null);
          asks.push({ resolve, reject });
          wake?.();
        }),
      close: () => {
        closed = true;
        wake?.();
      },
    };
    db.transaction()
      .setAccessMode('read only')
      .execute(async (trx) => {
        await sql`DECLARE talus_rows NO SCROLL CURSOR FOR ${query}`.execute(trx);
        opened(rows);
        let exhausted = false;
        for (;;) {
          while (asks.length === 0 && !closed) await new Promise<void>((r) => (wake = r));
          wake = undefined;
          if (closed) break;
          const ask = asks.shift()!;
          if (exhausted) {
            ask.resolve(null);
            continue;
          }
          const page = await sql<Record<string, unknown>>`FETCH ${sql.raw(String(WHOLE_READ_PAGE_ROWS))} FROM talus_rows`.execute(trx);
          exhausted = page.rows.length < WHOLE_READ_PAGE_ROWS;
          ask.resolve(page.rows.length > 0 ? page.rows.map(toRow) : null);
        }
        for (const ask of asks.splice(0)) ask.resolve(null);
      })
      .catch((err: Error) => {
        broken = err;
        closed = true;
        failed(err); // (no-op once opened)
        for (const ask of asks.splice(0)) ask.reject(err);
      });
  });
}
