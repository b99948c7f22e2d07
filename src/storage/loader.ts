import { sql, type Kysely } from 'kysely';
import type { TalusSchema } from './database.js';
import { encodeArray } from './binary-array.js';
import { allCodecs, codecFor, type PageContext } from './codecs.js';
import './type-codecs.js';
import type { Flusher } from './flusher.js';
import type { Db, Keyspace } from '../keyspace/keyspace.js';
import { WHOLE, type Access, type MaybePaged, type PagedRows } from '../keyspace/paging.js';
import type { KeyRef, Pager } from '../keyspace/scheduler.js';
import type { Entry, KeyType } from '../keyspace/types.js';
import { indexedForm } from '../util/indexed-names.js';

interface KeyRow {
  key: Buffer;
  type: KeyType;
  key_id: number;
  expire_at: number | null;
  length: number;
  /** a string's value, unless longer than KEY_ROW_VALUE_BYTES */
  value: Buffer | null;
  value_bytes: number | null;
}

/**
 * Query results come as text, where bytea is hex at twice its size, and the
 * driver gathers a result message in a buffer it grows by doubling: reading
 * V bytes at once holds the message buffer (up to 4 V with the ones it
 * outgrew), the hex text (2 V) and the value. Big string values are read
 * apart, in slices of a sixteenth of the value, between these bounds (a
 * JavaScript string holds at most 2^29 - 24 characters). Slices cost little
 * for values PostgreSQL stores uncompressed; a compressed one is
 * decompressed from its start for each, so they are not made smaller.
 */
const MIN_SLICE_BYTES = 2 << 20;
const MAX_SLICE_BYTES = 32 << 20;

/** How long a big read waits for replies of big values to be written first (Loader.outgoingBytes). */
const OUTGOING_WAIT_MS = 1000;

function sliceBytes(valueBytes: number): number {
  return Math.min(MAX_SLICE_BYTES, Math.max(MIN_SLICE_BYTES, Math.ceil(valueBytes / 16)));
}

/**
 * String values longer than this are not read with their key row but apart
 * (readLargeString), within Loader.bigValueBudget: a read holds about five
 * times its value (the protocol message, the hex text, the decoded slice, the
 * value), and clients reading big cold values at once would otherwise hold
 * that many times each value together.
 */
const KEY_ROW_VALUE_BYTES = 1 << 20;

/**
 * String values read with their key rows in one batch, at most (in the
 * order asked; the rest are read apart, like longer ones). 32 clients each
 * GETting ten cold 1 MB values had batches of up to 250 MB of values, five
 * times over in transit. 250 values of 64 KiB still fit. Less with a small
 * maxmemory (Loader.batchValueBytes).
 */
export const BATCH_VALUE_BYTES = 16 << 20;

/** The key rows of these names in one db; string values inline up to `batchBytes` together. */
async function keyRows(db: Kysely<TalusSchema>, dbIndex: number, keys: Buffer[], batchBytes: number): Promise<KeyRow[]> {
  // One primary-key probe per name (LATERAL): `k.key = ANY($2)` lets the
  // planner scan the whole db instead when its statistics lag the table.
  // One name (a client's cold key) is a plain equality: no join to plan.
  if (keys.length === 1) {
    const { rows } = await sql<KeyRow>`
      SELECT key, type, key_id, expire_at, length, octet_length(value) AS value_bytes,
        CASE WHEN octet_length(value) <= ${KEY_ROW_VALUE_BYTES} THEN value END AS value
      FROM talus.keys WHERE db = ${dbIndex} AND key = ${keys[0]}`.execute(db);
    return rows;
  }
  // octet_length reads a TOASTed value's size from its header, without the value
  const { rows } = await sql<KeyRow>`
    SELECT key, type, key_id, expire_at, length, value_bytes,
      CASE WHEN value_bytes <= ${KEY_ROW_VALUE_BYTES}
        AND sum(value_bytes) FILTER (WHERE value_bytes <= ${KEY_ROW_VALUE_BYTES}) OVER (ORDER BY n) <= ${batchBytes}
        THEN value END AS value
    FROM (
      SELECT q.n, k.key, k.type, k.key_id, k.expire_at, k.length, octet_length(k.value) AS value_bytes, k.value
      FROM unnest(${encodeArray('bytea[]', keys)}::bytea[]) WITH ORDINALITY AS q(key, n)
      CROSS JOIN LATERAL (SELECT * FROM talus.keys WHERE db = ${dbIndex} AND key = q.key) k
    ) rows`.execute(db);
  return rows;
}

/** An incarnation id never minted (those are epoch * 2^32 + n, positive): warm-up reads find no rows. */
const NO_KEY_ID = -1;

/**
 * Reads cold keys into the hot set. Requests made in the same tick for the
 * same db are batched into one query, and a key already being loaded is not
 * asked for twice. Misses are admitted as clean tombstones so the next
 * lookup of a missing key costs nothing.
 */
export class Loader implements Pager {
  private readonly inflight = new Map<Db, Map<string, Promise<void>>>();
  /** partial reads of paged values in flight, by entry */
  private readonly partial = new Map<Entry, Promise<void>>();
  /** collections longer than this are admitted paged (0 = never); also the most rows a range read takes */
  pagedThreshold = 0;
  /** for INFO talus: big collections opened paged, parts read, paged values read whole after all, rows streamed to a client, key-row queries */
  readonly stats = { pagedOpens: 0, partialReads: 0, wholeReads: 0, streamedReads: 0, keyQueries: 0 };
  private queued = new Map<Db, Map<string, { resolve: () => void; reject: (e: Error) => void }[]>>();
  private scheduled = false;
  static readonly MAX_BATCH = 250;
  /** called after a batch is admitted (the server evicts here when over maxmemory) */
  onAdmitted: () => void = () => undefined;
  /** when a read for a client last started (performance.now() ms, 0 = never): the janitor yields meanwhile */
  lastReadAt = 0;
  /** A batch of cold keys was read, in this many milliseconds (the latency monitor's cold-read event). */
  onRead: (ms: number) => void = () => undefined;

  private readonly pageContext: PageContext;

  /**
   * Rows past which a command that may stream what it reads of a paged
   * value (a `stream` access: HGETALL, SMEMBERS, LRANGE... from a client)
   * gets them as PagedRows instead of read into the value; Infinity: never.
   * Set by the server from maxmemory: reading millions of members into the
   * hot set to answer one command would hold several times maxmemory.
   */
  streamMinRows: () => number = () => Infinity;
  /** PagedRows open at most at once: each holds a pooled connection until read or closed (set from pg-pool-size) */
  maxOpenStreams = 2;
  private openStreams = 0;
  private readonly streamSlotWaiters: Array<() => void> = [];
  /** PagedRows opened for a command that did not take them (it failed, its key went) are closed after this */
  static readonly UNTAKEN_ROWS_MS = 30_000;

  constructor(
    private readonly db: Kysely<TalusSchema>,
    private readonly ks: Keyspace,
    private readonly flusher: Flusher,
  ) {
    const loader = this;
    this.pageContext = {
      db,
      get maxRows() {
        return Math.max(loader.pagedThreshold, 100);
      },
      get streamMinRows() {
        return loader.streamMinRows();
      },
      settled: (e) => this.settled(e),
    };
  }

  /**
   * Warm one PostgreSQL connection up before the server answers: run the
   * statements of a cold read (the key probe, each type's point reads of a
   * paged value) once, on rows that do not exist. A new backend's first
   * queries pay for its catalog caches and for parsing and planning each
   * prepared statement; after a restart those would otherwise be the first
   * clients' requests. Reads no data.
   */
  async warmUp(db: Kysely<TalusSchema>): Promise<void> {
    await keyRows(db, 0, [Buffer.from('\x00talus warm-up', 'latin1')], BATCH_VALUE_BYTES);
    await keyRows(db, 0, [Buffer.from('\x00talus warm-up', 'latin1'), Buffer.from('\x01talus warm-up', 'latin1')], BATCH_VALUE_BYTES);
    const ctx: PageContext = { ...this.pageContext, db };
    for (const codec of allCodecs()) await codec.warmUp?.(ctx, NO_KEY_ID);
  }

  /** Whether the hot set is full: set by the server from maxmemory. */
  crowded: () => boolean = () => false;

  isResident(d: Db, name: string): boolean {
    return this.ks.isResident(d, name);
  }

  holds(ref: KeyRef): boolean {
    const d = ref.db;
    const e = this.ks.entryOf(d, ref.name);
    // no entry: known absent in a complete db, or one whose name filter rules the name out (admitted then)
    if (e === undefined) return d.complete || this.ks.ruleOut(d, ref.name);
    if (e.type === null || e.type === 'string' || (e.value as MaybePaged).pages == null) return true;
    const access = ref.access ?? WHOLE;
    if (access.kind === 'stream') return this.ks.pagedRowsOf(e)?.ref === ref || codecFor(e.type).satisfies!(e.value, access.of);
    if (access.kind === 'scan') return this.ks.scanPageOf(e, access.after, access.count) !== undefined;
    return codecFor(e.type).satisfies!(e.value, access);
  }

  read(ref: KeyRef): Promise<void> {
    const e = ref.db.entries.get(ref.name);
    if (e === undefined || e.type === null) return this.ks.isResident(ref.db, ref.name) ? Promise.resolve() : this.load(ref.db, ref.name);
    if ((e.value as MaybePaged).pages == null) return Promise.resolve();
    const running = this.partial.get(e);
    if (running) return running;
    this.lastReadAt = performance.now();
    const access = ref.access ?? WHOLE;
    let streamed = false;
    const read = access.kind === 'stream'
      ? this.openRows(e, ref, access.of).then((opened) => void (streamed = opened))
      : access.kind === 'scan'
        ? this.readScanPage(e, ref, access.after, access.count)
        : codecFor(e.type).fetch!(this.pageContext, e, access);
    const p = read
      .finally(() => {
        // whole: the value stopped being paged (asked to, or the part asked for was too big)
        const value = e.value as MaybePaged | undefined;
        if (value !== undefined && value.pages == null) this.stats.wholeReads++;
        else if (streamed) this.stats.streamedReads++;
        else this.stats.partialReads++;
        this.partial.delete(e);
        if (ref.db.entries.get(e.name) === e) this.ks.resize(e, codecFor(e.type!).sizeOf(e.value));
        this.onAdmitted();
      });
    this.partial.set(e, p);
    return p;
  }

  /**
   * Open PagedRows of what `of` asks of the entry's paged value, for the
   * command of `ref` (which heads the key's queue: nothing changes the key
   * before it runs), once the key's changes are committed, so that the
   * snapshot holds what memory does; or, when that is small, read it into
   * the value as any access.
   */
  private async openRows(e: Entry, ref: KeyRef, of: Access): Promise<boolean> {
    const codec = codecFor(e.type!);
    if (codec.openRows === undefined) {
      await codec.fetch!(this.pageContext, e, of);
      return false;
    }
    await this.streamSlot();
    let rows: PagedRows | undefined;
    try {
      await this.settled(e);
      if (ref.db.entries.get(e.name) === e && (e.value as MaybePaged).pages != null) rows = await codec.openRows(this.pageContext, e, of);
    } finally {
      if (rows === undefined) this.releaseStreamSlot();
    }
    if (rows === undefined) {
      await codec.fetch!(this.pageContext, e, of);
      return false;
    }
    const opened = rows;
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      clearTimeout(untaken);
      opened.close();
      this.releaseStreamSlot();
    };
    const held: PagedRows = {
      count: opened.count,
      next: () =>
        opened.next().then(
          (page) => {
            if (page === null) release();
            return page;
          },
          (err: Error) => {
            release();
            throw err;
          },
        ),
      close: release,
    };
    const untaken = setTimeout(() => {
      if (this.ks.pagedRowsOf(e)?.rows !== held) return; // taken: its reader closes it
      this.ks.takePagedRows(e);
      release();
    }, Loader.UNTAKEN_ROWS_MS);
    untaken.unref();
    this.ks.putPagedRows(e, ref, held);
    return true;
  }

  /**
   * A scan page of a paged value for the command of `ref` (which heads the
   * key's queue), once the key's changes are committed; a type that cannot
   * page a scan reads the whole value instead.
   */
  private async readScanPage(e: Entry, ref: KeyRef, after: string | null, count: number): Promise<void> {
    const codec = codecFor(e.type!);
    if (codec.readScanPage === undefined) return codec.fetch!(this.pageContext, e, WHOLE);
    await this.settled(e);
    if (ref.db.entries.get(e.name) !== e || (e.value as MaybePaged).pages == null) return;
    const version = e.version;
    const { rows, more } = await codec.readScanPage(this.pageContext, e, after, count);
    if (e.version === version) this.ks.putScanPage(e, { after, count, version, rows, more });
  }

  private streamSlot(): Promise<void> {
    if (this.openStreams < this.maxOpenStreams) {
      this.openStreams++;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.streamSlotWaiters.push(resolve));
  }

  /** A stream closed: its slot goes to the next waiting, or back. */
  private releaseStreamSlot(): void {
    const next = this.streamSlotWaiters.shift();
    if (next) next();
    else this.openStreams--;
  }

  /** Resolves once the entry has no uncommitted change (PostgreSQL matches memory). */
  private async settled(e: Entry): Promise<void> {
    while (e.dirty) {
      if (!this.flusher.healthy) throw new Error(`PostgreSQL is unavailable: ${this.flusher.lastError}`);
      this.flusher.schedule();
      await new Promise((r) => setTimeout(r, 1));
    }
  }

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
        const batch: Batch = { d, waitersOf: new Map(all.slice(i, i + Loader.MAX_BATCH)), abandoned: false, running: false, released: false };
        batch.timer = setTimeout(() => this.abandon(batch), Loader.READ_TIMEOUT_MS);
        batch.timer.unref();
        this.batches.push(batch);
      }
    }
    this.startBatches();
  }

  /**
   * How long a batch of cold keys may take, from being asked for to being
   * answered. A PostgreSQL that stopped answering without closing its
   * connections (frozen, a network partition) would otherwise leave the
   * commands waiting for those keys, and their clients, hanging for good;
   * they get `ERR storage unavailable` instead.
   */
  static readonly READ_TIMEOUT_MS = 30_000;

  /** The batch took too long: fail what still waits for it, and let other batches go. */
  private abandon(batch: Batch): void {
    batch.abandoned = true;
    this.settle(batch, [...batch.waitersOf.keys()], new Error(`PostgreSQL did not answer a read of cold keys within ${Loader.READ_TIMEOUT_MS / 1000} s`));
    if (batch.running) this.release(batch);
  }

  /** Answer these names of the batch (once each): resolved, or rejected with `err`. */
  private settle(batch: Batch, names: Iterable<string>, err?: Error): void {
    const byName = this.inflight.get(batch.d);
    for (const name of names) {
      const waiters = batch.waitersOf.get(name);
      if (waiters === undefined) continue;
      batch.waitersOf.delete(name);
      byName?.delete(name);
      for (const w of waiters) (err ? w.reject(err) : w.resolve());
    }
    if (batch.waitersOf.size === 0) clearTimeout(batch.timer);
  }

  /** The batch no longer holds one of the BATCHES_IN_FLIGHT (done, or abandoned while still running). */
  private release(batch: Batch): void {
    if (batch.released) return;
    batch.released = true;
    this.batchesInFlight--;
    this.startBatches();
  }

  /**
   * Batches of key reads at most in flight. Each holds its rows' values (up
   * to a MB each) until admitted: 400 clients pipelining GETs of cold 64 KiB
   * values had every batch of their look-ahead sent at once, as many as the
   * pool had connections, 16 MB each. Two keep PostgreSQL's two cores busy.
   */
  static readonly BATCHES_IN_FLIGHT = 2;
  private readonly batches: Batch[] = [];
  private batchesInFlight = 0;

  private startBatches(): void {
    while (this.batchesInFlight < Loader.BATCHES_IN_FLIGHT && this.batches.length > 0) {
      const batch = this.batches.shift()!;
      if (batch.abandoned) continue;
      batch.running = true;
      this.batchesInFlight++;
      void this.fetch(batch).finally(() => this.release(batch));
    }
  }

  /**
   * Bytes of big string values (over KEY_ROW_VALUE_BYTES) read at once, all
   * clients together; one value is read whatever its size. Given by the
   * server from maxmemory (Infinity: no bound).
   */
  bigValueBudget: () => number = () => Infinity;
  /**
   * Bytes of string values a batch of key reads carries with its rows
   * (BATCH_VALUE_BYTES at most). Two batches are in flight, each holding
   * about five times its values until admitted, beside what bigValueBudget
   * allows: with maxmemory 64 MB, 16 MB batches took the cold reads of
   * bench/rss-shapes.ts past the memory bound in some runs. Set by the server.
   */
  batchValueBytes: () => number = () => BATCH_VALUE_BYTES;
  /**
   * Bytes the server holds elsewhere for values on their way out (replies
   * not yet written to clients): a big read waits, for a while, until they
   * fit in the budget beside it too. Set by the server.
   */
  outgoingBytes: () => number = () => 0;
  private bigValueBytes = 0;
  private readonly bigValueWaiters: Array<{ bytes: number; go: () => void }> = [];

  private async withinBigValueBudget<T>(bytes: number, read: () => Promise<T>): Promise<T> {
    if (this.bigValueBytes > 0 && this.bigValueBytes + bytes > this.bigValueBudget()) {
      // counted by the read that lets it go (below)
      await new Promise<void>((go) => this.bigValueWaiters.push({ bytes, go }));
    } else {
      this.bigValueBytes += bytes;
    }
    // Replies of big values still being written (to clients reading them, at
    // their pace) are memory too: wait for them to drain, but not for long,
    // as a client may not read at all (its output limits are for that).
    for (let waited = 0; waited < OUTGOING_WAIT_MS && this.outgoingBytes() + this.bigValueBytes > this.bigValueBudget(); waited += 10) {
      await new Promise((r) => setTimeout(r, 10));
    }
    try {
      return await read();
    } finally {
      this.bigValueBytes -= bytes;
      // in arrival order, as many as now fit (one at least)
      while (this.bigValueWaiters.length > 0) {
        const next = this.bigValueWaiters[0]!;
        if (this.bigValueBytes > 0 && this.bigValueBytes + next.bytes > this.bigValueBudget()) break;
        this.bigValueWaiters.shift();
        this.bigValueBytes += next.bytes;
        next.go();
      }
    }
  }

  /** A string value longer than KEY_ROW_VALUE_BYTES, read in slices (sliceBytes). */
  private readLargeString(dbIndex: number, form: Buffer, bytes: number): Promise<Buffer> {
    return this.withinBigValueBudget(bytes, () => this.readStringSlices(dbIndex, form, bytes));
  }

  private async readStringSlices(dbIndex: number, form: Buffer, bytes: number): Promise<Buffer> {
    const slice = sliceBytes(bytes);
    // one slice is the value itself: no second buffer to copy it into
    const out = bytes <= slice ? undefined : Buffer.allocUnsafe(bytes);
    for (let at = 0; at < bytes; at += slice) {
      const { rows } = await sql<{ part: Buffer }>`
        SELECT substring(value FROM ${at + 1}::int FOR ${slice}::int) AS part
        FROM talus.keys WHERE db = ${dbIndex} AND key = ${form}`.execute(this.db);
      const part = rows[0]?.part;
      // Nothing writes a key that is being loaded (its commands wait for the load): a bug if it happens.
      if (part === undefined || part.length !== Math.min(slice, bytes - at)) {
        throw new Error(`string value of a key of db ${dbIndex} changed while read`);
      }
      if (out === undefined) return part;
      part.copy(out, at);
    }
    return out!;
  }

  private async fetch(b: Batch): Promise<void> {
    const d = b.d;
    const batch = [...b.waitersOf];
    const epoch = d.epoch;
    const started = performance.now();
    this.lastReadAt = started;
    // Names are answered as their values land: big strings one by one (below), the rest together.
    const settle = (names: Iterable<string>, err?: Error) => this.settle(b, names, err);
    try {
      // After FLUSHDB/SWAPDB, PostgreSQL is stale for this db until that commits.
      if (d.barrierSeq > this.flusher.durableSeq) await this.flusher.waitDurable(d.barrierSeq, true);
      // Keys are looked up by indexed form; a row's form gives back the name asked for.
      const nameOf = new Map<string, string>();
      const keys = batch.map(([name]) => {
        const form = indexedForm(Buffer.from(name, 'latin1'));
        nameOf.set(form.toString('latin1'), name);
        return form;
      });
      this.stats.keyQueries++;
      const rows = await keyRows(this.db, d.index, keys, this.batchValueBytes());
      // Big collections are opened paged; big strings are read apart; the rest are read whole.
      const threshold = this.pagedThreshold;
      const big = new Map<KeyType, Array<{ keyId: number; length: number }>>();
      const whole = new Map<KeyType, number[]>();
      const large: KeyRow[] = [];
      const rest: KeyRow[] = [];
      for (const r of rows) {
        if (r.type === 'string') {
          if (r.value === null && (r.value_bytes ?? 0) > 0) large.push(r);
          else rest.push(r);
          continue;
        }
        rest.push(r);
        if (threshold > 0 && r.length > threshold && codecFor(r.type).openPaged) {
          let list = big.get(r.type);
          if (!list) big.set(r.type, (list = []));
          list.push({ keyId: r.key_id, length: r.length });
          continue;
        }
        let ids = whole.get(r.type);
        if (!ids) whole.set(r.type, (ids = []));
        ids.push(r.key_id);
      }
      const values = new Map<number, unknown>();
      for (const [type, list] of big) {
        const opened = await codecFor(type).openPaged!(this.pageContext, list);
        for (const { keyId } of list) {
          const v = opened.get(keyId);
          if (v !== undefined) {
            values.set(keyId, v);
            this.stats.pagedOpens++;
          }
          else (whole.get(type) ?? whole.set(type, []).get(type)!).push(keyId);
        }
      }
      for (const [type, ids] of whole) {
        const codec = codecFor(type);
        if (!codec.load) throw new Error(`type ${type} cannot be loaded`);
        for (const [id, v] of await codec.load(this.db, ids)) values.set(id, v);
      }
      const admit = (r: KeyRow, value: unknown): string => {
        const name = nameOf.get(r.key.toString('latin1'))!;
        // A FLUSHDB/SWAPDB while we were reading makes these results stale: the
        // keys are gone (no command on them could run meanwhile: they queue on us).
        // Abandoned (timed out): commands on them ran meanwhile; PostgreSQL may be behind them.
        if (b.abandoned || d.epoch !== epoch || d.entries.has(name)) return name;
        const codec = codecFor(r.type);
        codec.readRowNote?.(value, r.value);
        this.ks.admit(d, name, r.type, value, codec.sizeOf(value), r.expire_at ?? 0, r.key_id);
        return name;
      };
      const answered = rest.map((r) => admit(r, r.type === 'string' ? r.value ?? Buffer.alloc(0) : values.get(r.key_id)));
      values.clear();
      // names without a row: known absent
      const withRow = new Set(answered);
      for (const r of large) withRow.add(nameOf.get(r.key.toString('latin1'))!);
      for (const [name] of batch) {
        if (withRow.has(name)) continue;
        if (!b.abandoned && d.epoch === epoch && !d.entries.has(name)) this.ks.admit(d, name, null, undefined, 0, 0, 0);
        answered.push(name);
      }
      this.onAdmitted();
      settle(answered);
      // Each big string is answered as soon as it is read: held until the
      // batch's last one, clients reading several big cold values at once had
      // them all in memory together, whatever the read budget.
      for (const r of large) {
        const name = admit(r, await this.readLargeString(d.index, r.key, r.value_bytes!));
        this.onAdmitted();
        settle([name]);
      }
      this.onRead(performance.now() - started);
    } catch (err) {
      settle([...b.waitersOf.keys()], err as Error);
    }
  }
}

type Waiter = { resolve: () => void; reject: (e: Error) => void };

/** Cold keys of one db read together (Loader.dispatch). */
interface Batch {
  d: Db;
  /** names not answered yet, and who waits for each */
  waitersOf: Map<string, Waiter[]>;
  /** past Loader.READ_TIMEOUT_MS: its waiters were failed, and nothing it reads is admitted */
  abandoned: boolean;
  /** fetched now, holding one of Loader.BATCHES_IN_FLIGHT */
  running: boolean;
  /** that hold was given back */
  released: boolean;
  timer?: NodeJS.Timeout;
}
