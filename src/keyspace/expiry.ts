import { sql } from 'kysely';
import type { Talus } from '../talus.js';
import type { Db } from './keyspace.js';

/**
 * Active expiry, run from the server cron: check a bounded number of resident
 * keys with a TTL (resuming where the last cycle stopped), and ask PostgreSQL
 * for cold keys past their time, which are loaded and expired like any access.
 */
export class ActiveExpiry {
  /**
   * Where each db's last cycle stopped, by db object: SWAPDB moves a db to
   * another index, and a cursor kept by index would walk the other db's
   * entries and expire them as this one's (wrong db in the DEL effect).
   */
  private iterators = new Map<Db, IterableIterator<import('./types.js').Entry>>();
  private coldQuery: Promise<void> | undefined;
  static readonly CHECKS_PER_CYCLE = 2000;

  constructor(private readonly talus: Talus) {}

  /** One cycle; `cold`: also look for cold keys past their TTL in PostgreSQL. */
  cycle(cold = true): void {
    const ks = this.talus.keyspace;
    if (ks.replicaMode || !this.talus.flusher.healthy) return;
    const now = Date.now();
    let expired = 0;
    for (const db of ks.dbs) {
      if (db.expiring.size === 0) continue;
      let checks = Math.min(db.expiring.size, ActiveExpiry.CHECKS_PER_CYCLE);
      let it = this.iterators.get(db);
      while (checks-- > 0) {
        let next = it?.next();
        if (!next || next.done) {
          it = db.expiring.values();
          next = it.next();
          if (next.done) break;
        }
        const e = next.value;
        if (e.expireAt !== 0 && e.expireAt <= now && e.type !== null && !this.talus.scheduler.isClaimed(db, e.name)) {
          ks.expire(db, e);
          expired++;
        }
      }
      this.iterators.set(db, it!);
    }
    if (expired > 0) this.talus.flusher.schedule();
    if (cold && !this.coldQuery && ks.dbs.some((d) => !d.complete)) {
      this.coldQuery = this.expireCold(now).finally(() => (this.coldQuery = undefined));
    }
  }

  /** Cold keys past their TTL: load them through the scheduler, where access expires them. */
  private async expireCold(now: number): Promise<void> {
    const t = this.talus;
    try {
      const { rows } = await sql<{ db: number; key: Buffer }>`
        SELECT db, coalesce(long_key, key) AS key FROM talus.keys WHERE expire_at <= ${now} ORDER BY expire_at LIMIT 200`.execute(t.database.db);
      for (const r of rows) {
        const db = t.keyspace.dbs[r.db];
        if (!db || db.complete) continue;
        const name = r.key.toString('latin1');
        if (db.entries.has(name)) continue;
        t.scheduler.submit(
          [{ db, name }],
          () => {
            if (t.keyspace.lookup(db, name) === undefined) t.flusher.schedule();
          },
          () => undefined,
        );
      }
    } catch {
      /* PostgreSQL unavailable: next cycle */
    }
  }
}
