import { sql, type Kysely } from 'kysely';
import type { TalusSchema } from './database.js';
import type { Flusher } from './flusher.js';
import type { Db, Keyspace } from '../keyspace/keyspace.js';
import type { Logger } from '../observability/logger.js';
import { encodeArray } from './binary-array.js';
import { LONG_FORM_BYTES } from '../util/indexed-names.js';

/**
 * Names read per query: one page of the primary key's index (10,000 names
 * took 5-15 ms here), so clients' reads get the connection between pages.
 */
const PAGE_NAMES = 10_000;
/** after a failed query (PostgreSQL restarting...), the build waits this long and goes on */
const RETRY_MS = 1000;

/**
 * Fills the name filters of the dbs that hold key rows at start
 * (keyspace/name-filter.ts) in the background, while the server answers:
 * every name of talus.keys goes in, a page at a time, in key order; when the
 * last page is in, the db's filter is ready and starts ruling names out.
 * Names created meanwhile are added by the keyspace as they are created, so
 * a row the pages miss (committed after its page was read) is one whose name
 * is in already.
 */
export class NameFilterBuild {
  private stopped = false;

  constructor(
    private readonly db: Kysely<TalusSchema>,
    private readonly ks: Keyspace,
    private readonly flusher: Flusher,
    private readonly log: Logger,
  ) {}

  /** Start building every db's filter that is not ready (one db after another). */
  start(): void {
    const dbs = [...this.ks.dbs];
    void (async () => {
      for (const d of dbs) {
        if (this.stopped) return;
        const f = d.names;
        if (f === undefined || f.ready) continue;
        const started = performance.now();
        if (await this.build(d)) {
          this.log.verbose(`name filter of db ${d.index} built: ${f.names} names, ${f.bytes} bytes, ${Math.round(performance.now() - started)} ms`);
        }
      }
    })();
  }

  /**
   * Stop at the next step. Not awaited: the build may be waiting for a
   * barrier that a PostgreSQL outage keeps from committing; a query it has
   * running fails when the pool is closed, and the build ends there.
   */
  stop(): void {
    this.stopped = true;
  }

  /** Whether the filter `d` had when called is now ready (not abandoned). */
  private async build(d: Db): Promise<boolean> {
    const filter = d.names!;
    let after: Buffer | undefined;
    for (;;) {
      // FLUSHDB gave the db a new, ready filter; or this one was given up
      if (this.stopped || d.names !== filter) return false;
      let page: Buffer[];
      const epoch = d.epoch;
      try {
        // After FLUSHDB/SWAPDB, PostgreSQL is stale for this db until that commits.
        if (d.barrierSeq > this.flusher.durableSeq) await this.flusher.waitDurable(d.barrierSeq, true);
        page = await this.readPage(d.index, after);
      } catch (err) {
        if (this.stopped) return false;
        this.log.verbose(`name filter of db ${d.index}: ${(err as Error).message}; trying again`);
        await new Promise((r) => setTimeout(r, RETRY_MS).unref());
        continue;
      }
      if (this.stopped || d.names !== filter) return false;
      // SWAPDB while the page was read: it may hold the other db's names. The
      // db (its object, its filter) goes on at its new index, where its rows now are.
      if (d.epoch !== epoch) continue;
      for (const name of page) {
        if (!filter.addBytes(name)) {
          this.ks.dropNameFilter(d);
          this.log.notice(`name filter of db ${d.index} given up: more names than name-filter-max-memory holds`);
          return false;
        }
      }
      if (page.length < PAGE_NAMES) {
        filter.ready = true;
        return true;
      }
      after = this.lastKey;
    }
  }

  /** the indexed form of the last row of the last page: the next page starts after it */
  private lastKey: Buffer | undefined;

  /** The whole names of the next page of key rows of a db. */
  private async readPage(dbIndex: number, after: Buffer | undefined): Promise<Buffer[]> {
    // the index alone (an index-only scan where the visibility map allows)
    const { rows } = after === undefined
      ? await sql<{ key: Buffer }>`SELECT key FROM talus.keys WHERE db = ${dbIndex} ORDER BY key LIMIT ${PAGE_NAMES}`.execute(this.db)
      : await sql<{ key: Buffer }>`SELECT key FROM talus.keys WHERE db = ${dbIndex} AND key > ${after} ORDER BY key LIMIT ${PAGE_NAMES}`.execute(this.db);
    const names = rows.map((r) => r.key);
    this.lastKey = names[names.length - 1];
    // A long name's indexed form is not the name: its whole name is in long_key.
    const long = names.filter((k) => k.length === LONG_FORM_BYTES);
    if (long.length > 0) {
      const { rows: whole } = await sql<{ key: Buffer; long_key: Buffer }>`
        SELECT k.key, k.long_key
        FROM unnest(${encodeArray('bytea[]', long)}::bytea[]) AS q(key)
        CROSS JOIN LATERAL (SELECT key, long_key FROM talus.keys WHERE db = ${dbIndex} AND key = q.key AND long_key IS NOT NULL) k`.execute(this.db);
      const byForm = new Map(whole.map((r) => [r.key.toString('latin1'), r.long_key]));
      for (let i = 0; i < names.length; i++) {
        const w = names[i]!.length === LONG_FORM_BYTES ? byForm.get(names[i]!.toString('latin1')) : undefined;
        if (w !== undefined) names[i] = w;
      }
    }
    return names;
  }
}
