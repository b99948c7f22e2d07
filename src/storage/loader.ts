import { sql, type Kysely } from 'kysely';
import type { TalusSchema } from './database.js';
import { codecFor } from './codecs.js';
import type { Flusher } from './flusher.js';
import type { Db, Keyspace } from '../keyspace/keyspace.js';
import type { KeyType } from '../keyspace/types.js';

interface KeyRow {
  key: Buffer;
  type: KeyType;
  key_id: number;
  expire_at: number | null;
  value: Buffer | null;
}

/**
 * Reads cold keys into the hot set. Requests made in the same tick for the
 * same db are batched into one query, and a key already being loaded is not
 * asked for twice. Misses are admitted as clean tombstones so the next
 * lookup of a missing key costs nothing.
 */
export class Loader {
  private readonly inflight = new Map<Db, Map<string, Promise<void>>>();
  private queued = new Map<Db, Map<string, { resolve: () => void; reject: (e: Error) => void }[]>>();
  private scheduled = false;
  static readonly MAX_BATCH = 1000;
  /** called after a batch is admitted (the server evicts here when over maxmemory) */
  onAdmitted: () => void = () => undefined;

  constructor(
    private readonly db: Kysely<TalusSchema>,
    private readonly ks: Keyspace,
    private readonly flusher: Flusher,
  ) {}

  load(d: Db, name: string): Promise<void> {
    let byName = this.inflight.get(d);
    const existing = byName?.get(name);
    if (existing) return existing;
    if (!byName) this.inflight.set(d, (byName = new Map()));
    const p = new Promise<void>((resolve, reject) => {
      let q = this.queued.get(d);
      if (!q) this.queued.set(d, (q = new Map()));
      let list = q.get(name);
      if (!list) q.set(name, (list = []));
      list.push({ resolve, reject });
    });
    byName.set(name, p);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.dispatch());
    }
    return p;
  }

  private dispatch(): void {
    this.scheduled = false;
    const queued = this.queued;
    this.queued = new Map();
    for (const [d, names] of queued) {
      const all = [...names];
      for (let i = 0; i < all.length; i += Loader.MAX_BATCH) {
        void this.fetch(d, all.slice(i, i + Loader.MAX_BATCH));
      }
    }
  }

  private async fetch(d: Db, batch: Array<[string, { resolve: () => void; reject: (e: Error) => void }[]]>): Promise<void> {
    const epoch = d.epoch;
    const done = (err?: Error) => {
      const byName = this.inflight.get(d);
      for (const [name, waiters] of batch) {
        byName?.delete(name);
        for (const w of waiters) (err ? w.reject(err) : w.resolve());
      }
    };
    try {
      // After FLUSHDB/SWAPDB, PostgreSQL is stale for this db until that commits.
      if (d.barrierSeq > this.flusher.durableSeq) await this.flusher.waitDurable(d.barrierSeq);
      const keys = batch.map(([name]) => Buffer.from(name, 'latin1'));
      const { rows } = await sql<KeyRow>`
        SELECT k.key, k.type, k.key_id, k.expire_at, s.value
        FROM talus.keys k LEFT JOIN talus.strings s ON k.type = 'string' AND s.key_id = k.key_id
        WHERE k.db = ${d.index} AND k.key = ANY(${keys}::bytea[])`.execute(this.db);
      const collections = new Map<KeyType, number[]>();
      for (const r of rows) {
        if (r.type === 'string') continue;
        let ids = collections.get(r.type);
        if (!ids) collections.set(r.type, (ids = []));
        ids.push(r.key_id);
      }
      const values = new Map<number, unknown>();
      for (const [type, ids] of collections) {
        const codec = codecFor(type);
        if (!codec.load) throw new Error(`type ${type} cannot be loaded`);
        for (const [id, v] of await codec.load(this.db, ids)) values.set(id, v);
      }
      // A FLUSHDB/SWAPDB while we were reading makes these results stale: the
      // keys are gone (no command on them could run meanwhile: they queue on us).
      if (d.epoch === epoch) {
        const found = new Set<string>();
        for (const r of rows) {
          const name = r.key.toString('latin1');
          found.add(name);
          if (d.entries.has(name)) continue;
          const value = r.type === 'string' ? r.value ?? Buffer.alloc(0) : values.get(r.key_id);
          const codec = codecFor(r.type);
          this.ks.admit(d, name, r.type, value, codec.sizeOf(value), r.expire_at ?? 0, r.key_id);
        }
        for (const [name] of batch) {
          if (!found.has(name) && !d.entries.has(name)) this.ks.admit(d, name, null, undefined, 0, 0, 0);
        }
        this.onAdmitted();
      }
      done();
    } catch (err) {
      done(err as Error);
    }
  }
}
