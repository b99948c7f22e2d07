import type { Db, Keyspace } from './keyspace.js';
import type { Scheduler } from './scheduler.js';
import type { StoredKeys } from './stored-keys.js';
import type { Entry } from './types.js';

/** What expiry needs of the flusher: whether it commits, and a nudge to commit what expired. */
interface CommitTrigger {
  readonly healthy: boolean;
  schedule(): void;
}

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
  private iterators = new Map<Db, IterableIterator<Entry>>();
  private coldQuery: Promise<void> | undefined;
  static readonly CHECKS_PER_CYCLE = 2000;

  constructor(
    private readonly keyspace: Keyspace,
    private readonly scheduler: Scheduler,
    private readonly flusher: CommitTrigger,
    private readonly stored: StoredKeys,
  ) {}

  /** One cycle; `cold`: also look for cold keys past their TTL in PostgreSQL. */
  cycle(cold = true): void {
    const ks = this.keyspace;
    if (ks.replicaMode || ks.expiryPaused || !this.flusher.healthy) return;
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
        if (e.expireAt !== 0 && e.expireAt <= now && e.type !== null && !this.scheduler.isClaimed(db, e.name)) {
          ks.expire(db, e);
          expired++;
        }
      }
      this.iterators.set(db, it!);
    }
    if (expired > 0) this.flusher.schedule();
    if (cold && !this.coldQuery && ks.dbs.some((d) => !d.complete)) {
      this.coldQuery = this.expireCold(now).finally(() => (this.coldQuery = undefined));
    }
  }

  /** Cold keys past their TTL: load them through the scheduler, where access expires them. */
  private async expireCold(now: number): Promise<void> {
    try {
      const rows = await this.stored.expired(now, 200);
      for (const r of rows) {
        const db = this.keyspace.dbs[r.db];
        if (!db || db.complete) continue;
        const name = r.key.toString('latin1');
        if (db.entries.has(name)) continue;
        this.scheduler.submit(
          [{ db, name }],
          () => {
            if (this.keyspace.lookup(db, name) === undefined) this.flusher.schedule();
          },
          () => undefined,
        );
      }
    } catch {
      /* PostgreSQL unavailable: next cycle */
    }
  }
}
