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
  /**
   * Rows purged per statement: a batch of 5000 zset rows kept PostgreSQL
   * busy for 100-800 ms on a 2-core machine, and every read waiting behind it
   * waited that long too.
   */
  static readonly BATCH_ROWS = 1000;
  /**
   * While clients read cold keys, purging yields: with the janitor purging a
   * big DEL of the previous run, the p99 of the first cold reads after a
   * restart was 10-14 ms (bench/first-requests.ts). Then one batch of
   * BUSY_BATCH_ROWS every BUSY_INTERVAL_MS still goes, so garbage does not
   * pile up under a load that never pauses.
   */
  static readonly BUSY_BATCH_ROWS = 500;
  static readonly BUSY_INTERVAL_MS = 5000;
  /** cold reads within this many ms make the storage busy (see BUSY_BATCH_ROWS) */
  static readonly BUSY_WINDOW_MS = 1000;
  private lastBusySweep = 0;
  private lastBusyTrim = 0;
  /** change-log segments looked at per trim round */
  static readonly TRIM_ROWS = 1000;
  /** bytes of records in talus.changelog (estimate kept up to date by appends and trims) */
  changelogBytes: number | undefined;
  /** commits noted while that estimate is being counted (which the count may or may not have seen) */
  private appendedWhileCounting: Array<{ lastSeq: number; bytes: number }> | undefined;
  private lastTrim = 0;

  constructor(
    private readonly db: Kysely<TalusSchema>,
    private readonly log: Logger,
    /**
     * retention limits: bytes of effects kept, their age in seconds; the
     * offset after which nothing is trimmed (backups: not archived yet); and
     * the first seq a connected follower still needs (undefined: none), which
     * the age limit does not trim (the size limit does: the follower then gets
     * a full sync when it reconnects)
     */
    private readonly retention: () => { bytes: number; seconds: number; keepAfter?: number | undefined; neededFrom?: number },
    /** when the loader last read from PostgreSQL for a client (performance.now() ms; 0 = never) */
    private readonly lastColdRead: () => number = () => 0,
  ) {}

  /** The flusher committed a segment of these many bytes, ending at `lastSeq`. */
  noteAppended(bytes: number, lastSeq: number): void {
    if (this.changelogBytes !== undefined) this.changelogBytes += bytes;
    else this.appendedWhileCounting?.push({ lastSeq, bytes });
  }

  tick(): Promise<void> {
    if (!this.running) {
      this.running = this.sweep()
        .then(() => this.trimChangelog())
        .finally(() => (this.running = undefined));
    }
    return this.running;
  }

  /**
   * Keep the change log within its retention (bytes and age): delete the
   * oldest segments in bounded batches. Replication and incremental backups
   * read from it, so they can only resume from what is retained.
   */
  private async trimChangelog(): Promise<void> {
    if (Date.now() - this.lastTrim < 1000) return;
    // Trimming yields to cold reads as purging does: its first pass after a
    // restart (count the log, delete old segments) landed on the first
    // requests' p99. Under reads that never pause, one round every
    // BUSY_INTERVAL_MS still goes.
    const now = performance.now();
    const lastRead = this.lastColdRead();
    const busy = lastRead > 0 && now - lastRead < Janitor.BUSY_WINDOW_MS;
    if (busy && now - this.lastBusyTrim < Janitor.BUSY_INTERVAL_MS) return;
    if (busy) this.lastBusyTrim = now;
    this.lastTrim = Date.now();
    try {
      if (this.changelogBytes === undefined) {
        // A commit landing while this runs is in its count or not: last_seq tells.
        this.appendedWhileCounting = [];
        const { rows } = await sql<{ n: number | null; last: number | null }>`
          SELECT sum(length(records))::bigint AS n, max(last_seq) AS last FROM talus.changelog`.execute(this.db);
        const seen = rows[0]?.last ?? 0;
        let bytes = rows[0]?.n ?? 0;
        for (const a of this.appendedWhileCounting) if (a.lastSeq > seen) bytes += a.bytes;
        this.changelogBytes = bytes;
      }
      const { bytes, seconds, keepAfter, neededFrom } = this.retention();
      const floor = keepAfter ?? Number.MAX_SAFE_INTEGER;
      const cutoff = Date.now() - seconds * 1000;
      if (this.changelogBytes <= bytes) {
        // Within the size bound: only the age bound can apply; one index probe says.
        const { rows } = await sql<{ at: number }>`
          SELECT at FROM talus.changelog ORDER BY first_seq LIMIT 1`.execute(this.db);
        if (rows.length === 0 || rows[0]!.at >= cutoff) return;
      }
      for (let round = 0; round < (busy ? 1 : 10); round++) {
        const { rows } = await sql<{ seq: number; last: number; at: number; n: number }>`
          SELECT first_seq AS seq, last_seq AS last, at, length(records) AS n FROM talus.changelog ORDER BY first_seq LIMIT ${Janitor.TRIM_ROWS}`.execute(this.db);
        let excess = this.changelogBytes - bytes;
        let last = -1;
        let freed = 0;
        for (const r of rows) {
          const needed = neededFrom !== undefined && Number(r.last) >= neededFrom;
          if ((r.at >= cutoff || needed) && excess <= 0) break;
          if (r.last > floor) break; // not archived yet (backups): kept whatever the retention says
          last = r.seq;
          freed += r.n;
          excess -= r.n;
        }
        if (last < 0) return;
        // The newest segment stays: its last_seq is the offset a restart and a snapshot start from.
        await sql`DELETE FROM talus.changelog WHERE first_seq <= ${last}
          AND first_seq < (SELECT max(first_seq) FROM talus.changelog)`.execute(this.db);
        this.changelogBytes -= freed;
        if (rows.length < Janitor.TRIM_ROWS) return;
      }
    } catch (err) {
      this.log.verbose(`change-log trim: ${(err as Error).message}`);
    } finally {
      this.appendedWhileCounting = undefined;
    }
  }

  async stop(): Promise<void> {
    await this.running;
  }

  private async sweep(): Promise<void> {
    let batchRows = Janitor.BATCH_ROWS;
    const now = performance.now();
    const last = this.lastColdRead();
    if (last > 0 && now - last < Janitor.BUSY_WINDOW_MS) {
      if (now - this.lastBusySweep < Janitor.BUSY_INTERVAL_MS) return;
      this.lastBusySweep = now;
      batchRows = Janitor.BUSY_BATCH_ROWS;
    }
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
        if (codec.purge) {
          deleted = await codec.purge(this.db, ids, batchRows);
        }
        // Rows left: come back next tick; otherwise the ids are done.
        if (deleted < batchRows) {
          await sql`DELETE FROM talus.garbage WHERE key_id = ANY(${ids}::bigint[])`.execute(this.db);
        }
      }
    } catch (err) {
      this.log.verbose(`janitor: ${(err as Error).message}`);
    }
  }
}
