import { sql } from 'kysely';
import type pg from 'pg';
import { FlushBatch, MAX_STATEMENT_BYTES } from './batch.js';
import { codecFor, type TypeCodec } from './codecs.js';
import type { Database } from './database.js';
import { appendChangelog, deleteKeys, recordHistory, recordLeaderPosition, upsertLongKeys } from './writes.js';
import { expireDue } from './expire-due.js';
import { KeyRows } from './key-rows.js';
import type { Keyspace, StoredLibrary } from '../keyspace/keyspace.js';
import type { Entry } from '../keyspace/types.js';
import type { Logger } from '../observability/logger.js';
import { TakenLog, type ChangeRecord, type LeaderPosition } from '../replication/changelog.js';
import { SHORT_NAME_BYTES, indexedForm } from '../util/indexed-names.js';
// the module's binding, not the global `Buffer` (an accessor: a getter call per use)
import { Buffer } from 'node:buffer';

interface Waiter {
  seq: number;
  resolve: () => void;
  reject: (err: Error) => void;
}

/** How long a shutdown waits for its final commits (Flusher.drain). */
const DRAIN_WAIT_MS = 60_000;
/** Failed final commits in a row after which a shutdown gives up committing. */
const DRAIN_ATTEMPTS = 5;
/**
 * A paced commit (everysec, no) starts before its interval is up once this
 * many keys are dirty, or this many bytes of change log wait: a batch this
 * big gains little from growing (PostgreSQL's CPU per row levels off near a
 * thousand rows), and a pipelined write load would otherwise pile up a
 * whole interval's keys, to be staged in one event-loop turn.
 */
export const EARLY_COMMIT_KEYS = 2000;
export const EARLY_COMMIT_BYTES = 4 << 20;

/**
 * Group commit. Whenever something is dirty and no commit is in flight, take
 * every dirty entry (its state now, so repeated writes to a key coalesce), the
 * db-wide operations and the change-log records since the last commit, and
 * write them in one statement (or one transaction when db-wide operations
 * come first). Commits are strictly sequential, so PostgreSQL sees mutations
 * in the order they were made.
 */
export class Flusher {
  /** every change-log record up to here is committed */
  durableSeq: number;
  /** follower: the leader position last committed with its effects (replication/changelog.ts) */
  durablePosition: LeaderPosition | undefined;
  healthy = true;
  lastError = '';
  /** stats for INFO persistence */
  stats = { commits: 0, entries: 0, failures: 0, lastCommitMs: 0, lastCommitAt: 0 };
  private inFlight = false;
  /** bytes of change-log effects in the commit now running (they are held until it ends) */
  inFlightBytes = 0;
  private scheduled = false;
  /** the pacing timer of the scheduled commit, while it waits for its interval */
  private pacingTimer: NodeJS.Timeout | undefined;
  /** when the last commit started (Date.now()), for pacing */
  private lastStart = 0;
  private retryTimer: NodeJS.Timeout | undefined;
  private retryDelay = 50;
  private waiters: Waiter[] = [];
  /** commits started so far (numbering them), and waiters for a commit numbered past `after` (Flusher.committed) */
  private started = 0;
  private committedWaiters: Array<{ after: number; resolve: () => void }> = [];
  private stopped = false;
  /**
   * The connection commits go over, held between commits: a query on it is
   * sent at once, where the pool would hand out a connection a tick later
   * (see `next`). Replaced after a failed commit.
   */
  private connection: pg.PoolClient | undefined;
  /** observers of committed change-log records (retention accounting, replication) */
  readonly committedListeners: Array<(log: TakenLog) => void> = [];

  constructor(
    private readonly database: Database,
    private readonly ks: Keyspace,
    private readonly log: Logger,
    /** called after each commit with the new durable seq (releases replies) */
    private readonly onDurable: (seq: number) => void,
    /** called after a failed commit with the seq it covered (fails replies) */
    private readonly onFailure: (seq: number, err: Error) => void,
    /**
     * Least milliseconds between commit starts: 0 when replies wait for
     * commits (appendfsync always); flush-interval-ms when they do not (at
     * most 1000 for everysec), so that a write load makes fewer and bigger
     * commits.
     */
    private readonly pacing: () => number = () => 0,
  ) {
    this.durableSeq = ks.changelog.seq;
  }

  /** a waiter needs a commit even while a script holds them */
  private forced = false;

  /** Ask for a commit soon: after this tick's requests, and no sooner than `pacing` allows. */
  schedule(): void {
    if (this.scheduled) {
      if (this.pacingTimer !== undefined && this.backlogBig()) {
        clearTimeout(this.pacingTimer);
        this.pacingTimer = undefined;
        setImmediate(this.go);
      }
      return;
    }
    if (this.inFlight || this.retryTimer || this.stopped) return;
    this.scheduled = true;
    const wait = this.lastStart + this.pacing() - Date.now();
    if (wait > 0 && !this.backlogBig()) this.pacingTimer = setTimeout(this.go, wait);
    else setImmediate(this.go);
  }

  private readonly go = () => {
    this.scheduled = false;
    this.pacingTimer = undefined;
    void this.run();
  };

  /** Enough waits to commit now rather than at the end of the pacing interval. */
  private backlogBig(): boolean {
    return this.ks.dirtyCount >= EARLY_COMMIT_KEYS || this.ks.changelog.pendingBytes >= EARLY_COMMIT_BYTES;
  }

  /**
   * Resolves once `seq` is durable; rejects if the commit covering it fails.
   * `force`: commit even while a script runs (Keyspace.commitsHeld): a read
   * from PostgreSQL that the script itself waits for (a key it did not
   * declare, in a db whose FLUSHDB is not committed yet).
   */
  waitDurable(seq: number, force = false): Promise<void> {
    if (seq <= this.durableSeq) return Promise.resolve();
    if (force) this.forced = true;
    return new Promise((resolve, reject) => {
      this.waiters.push({ seq, resolve, reject });
      this.schedule();
    });
  }

  /**
   * Resolves once everything in memory now is committed, logged or not (a
   * full sync's load logs nothing, Keyspace.loadingSnapshot): when a commit
   * that took it has succeeded. A failed commit is retried, so this waits
   * for PostgreSQL as long as it takes.
   */
  committed(): Promise<void> {
    if (!this.pending && !this.inFlight) return Promise.resolve();
    // the commit in flight holds everything when nothing is pending besides it
    const after = this.pending ? this.started : this.started - 1;
    return new Promise((resolve) => {
      this.committedWaiters.push({ after, resolve });
      this.schedule();
    });
  }

  /** Something is not committed yet: dirty entries, db-wide operations, retired incarnations or change-log records. */
  private get pending(): boolean {
    const ks = this.ks;
    return ks.dirtyCount > 0 || ks.dbOps.length > 0 || ks.libraries !== undefined || ks.retired.length > 0 || ks.changelog.seq > this.durableSeq || ks.changelog.positionChanged || ks.changelog.history.changed;
  }

  /**
   * Commit everything that is dirty, then stop taking new work (shutdown).
   * A commit in flight is waited for however long it takes, up to
   * DRAIN_WAIT_MS: under appendfsync everysec the backlog holds acknowledged
   * writes, and a big one can take seconds to commit on a loaded machine (a
   * cap of 500 ms closed the connection under such a commit and lost them).
   * Gives up after DRAIN_ATTEMPTS failed commits in a row (PostgreSQL went
   * away: process.ts's shutdown rules decide whether to exit then).
   */
  async drain(): Promise<void> {
    const deadline = Date.now() + DRAIN_WAIT_MS;
    let failed = 0;
    let warned = Date.now();
    while ((this.pending || this.inFlight) && failed < DRAIN_ATTEMPTS && Date.now() < deadline) {
      if (this.inFlight) {
        await new Promise((r) => setTimeout(r, 10));
        if (Date.now() - warned >= 5000) {
          warned = Date.now();
          this.log.notice(`shutting down: waiting for the commit in flight (${this.ks.dirtyCount} keys dirty)`);
        }
        continue;
      }
      clearTimeout(this.retryTimer);
      this.retryTimer = undefined;
      const failures = this.stats.failures;
      await this.run();
      if (this.stats.failures > failures) {
        failed++;
        await new Promise((r) => setTimeout(r, 100 * failed));
      } else {
        failed = 0;
      }
    }
    if (this.pending || this.inFlight) this.log.warning(`shutting down with writes not committed: ${this.lastError || 'the final commit did not end in time'}`);
    this.stopped = true;
    clearTimeout(this.retryTimer);
    this.connection?.release();
    this.connection = undefined;
  }

  /** Retry a failed commit now instead of at the end of its backoff (PostgreSQL is back). */
  retryNow(): void {
    if (!this.retryTimer || this.stopped) return;
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    void this.run();
  }

  private async run(): Promise<void> {
    if (this.inFlight) return;
    const ks = this.ks;
    const upTo = ks.changelog.seq;
    if (!this.pending) return;
    if (ks.commitsHeld > 0 && !this.forced) {
      // a script runs: its effects commit together, once it has ended
      setTimeout(() => this.schedule(), 2);
      return;
    }
    this.inFlight = true;
    const number = ++this.started;
    this.forced = false;
    this.lastStart = Date.now();

    // Snapshot, synchronously: later mutations go to the next batch.
    const ops = ks.dbOps;
    const libraries = ks.libraries;
    const retired = ks.retired;
    const entries = ks.takeDirty();
    const versions = entries.map((e) => e.version);
    const metaDirty = entries.map((e) => e.metaDirty);
    const log = ks.changelog.take();
    const position = ks.changelog.takePosition();
    const history = ks.changelog.history.take();
    this.inFlightBytes = log.bytes.length;
    ks.dbOps = [];
    ks.libraries = undefined;
    ks.retired = [];

    const batch = new FlushBatch();
    // Incarnations this batch writes under some name: a key MOVEd out of a db
    // (or swapped away from it) and then flushed with it in the same batch has
    // its old row deleted here, but its member rows are still the moved key's.
    const live = ops.some((op) => op.kind === 'flush') ? liveKeyIds(entries) : [];
    for (const op of ops) {
      if (op.kind === 'flush') {
        // Strings leave with their rows; collections' member rows go to the janitor.
        batch.before.push(sql`WITH d AS (DELETE FROM talus.keys WHERE db = ${op.db} RETURNING key_id, type)
          INSERT INTO talus.garbage (key_id, type) SELECT key_id, type FROM d
          WHERE type <> 'string' AND key_id <> ALL(${live}::bigint[]) ON CONFLICT DO NOTHING`);
      } else {
        // Through a temporary db number: (db, key) is unique at every row update.
        const tmp = -1 - op.a;
        batch.before.push(sql`UPDATE talus.keys SET db = ${tmp}::smallint WHERE db = ${op.a}::smallint`);
        batch.before.push(sql`UPDATE talus.keys SET db = ${op.a}::smallint WHERE db = ${op.b}::smallint`);
        batch.before.push(sql`UPDATE talus.keys SET db = ${op.b}::smallint WHERE db = ${tmp}::smallint`);
      }
    }
    if (libraries !== undefined) stageLibraries(batch, libraries);
    for (const r of retired) codecFor(r.type).retire(batch, r.keyId);
    // What each codec returned from stage, to restore change tracking on failure.
    // After FLUSHDB or SWAPDB in this batch, which rows a name has is the
    // statements' business: upserts only.
    const inserts = ops.length === 0;
    const keyRows = new KeyRows();
    const tokens = entries.map((e) => stageEntry(batch, e, inserts, keyRows));
    keyRows.stage(batch);
    for (const segment of segments(log)) batch.add(appendChangelog, segment.firstSeq, segment.lastSeq, segment.lastAt, segment.bytes);
    if (position !== undefined) batch.add(recordLeaderPosition, position.replid, position.offset);
    if (history !== undefined) batch.add(recordHistory, history.replid, history.replid2, history.secondOffset, history.delta, history.start);

    const started = Date.now();
    try {
      // PostgreSQL no longer checks it (migration 0015): a bug in RENAME or
      // MOVE would show here, and the commit fails and is retried, as it did
      // on the constraint, rather than store two keys sharing their rows.
      const shared = keyIdWrittenTwice(entries);
      if (shared !== 0) throw new Error(`key id ${shared} would be written under two names in one commit`);
      if (!batch.empty) {
        this.connection ??= await this.database.pool.connect();
        await batch.execute(this.connection, this.database.db);
      }
      for (let i = 0; i < entries.length; i++) {
        const e = entries[i]!;
        if (e.flushedVersion < versions[i]!) e.flushedVersion = versions[i]!;
      }
      this.durableSeq = Math.max(this.durableSeq, upTo);
      this.stats.commits++;
      this.stats.entries += entries.length;
      this.stats.lastCommitMs = Date.now() - started;
      this.stats.lastCommitAt = Date.now();
      if (!this.healthy) this.log.notice('PostgreSQL reachable again: writes are accepted');
      this.healthy = true;
      this.lastError = '';
      this.retryDelay = 50;
      this.inFlight = false;
      this.inFlightBytes = 0;
      if (position !== undefined) this.durablePosition = position;
      for (const l of this.committedListeners) l(log);
      // nothing left: everything is committed, whatever was pending when a waiter asked (seq > durableSeq counted this commit)
      const settled = !this.pending;
      this.next();
      this.onDurable(this.durableSeq);
      this.releaseWaiters();
      if (this.committedWaiters.length > 0) {
        const done = this.committedWaiters.filter((w) => settled || w.after < number);
        this.committedWaiters = this.committedWaiters.filter((w) => !settled && w.after >= number);
        for (const w of done) w.resolve();
      }
    } catch (err) {
      // Give everything back to the next batch, in order, and fail the replies
      // waiting on it: their writes stay in memory and are retried.
      ks.dbOps = ops.concat(ks.dbOps);
      if (ks.libraries === undefined) ks.libraries = libraries;
      ks.retired = retired.concat(ks.retired);
      for (let i = 0; i < entries.length; i++) {
        const e = entries[i]!;
        if (metaDirty[i]) e.metaDirty = true;
        const t = tokens[i];
        if (t !== undefined) t.codec.unstage?.(e, t.token);
        if (ks.dbs[e.db]?.entries.get(e.name) === e) ks.markDirty(e);
      }
      ks.changelog.restore(log);
      if (position !== undefined && !ks.changelog.positionChanged) ks.changelog.setLeaderPosition(position);
      if (history !== undefined) ks.changelog.history.changed = true;
      this.stats.failures++;
      const error = err as Error;
      this.connection?.release(error);
      this.connection = undefined;
      if (this.healthy) this.log.warning(`commit to PostgreSQL failed: ${error.message}`);
      this.healthy = false;
      this.lastError = error.message;
      this.inFlight = false;
      this.inFlightBytes = 0;
      this.onFailure(upTo, error);
      this.failWaiters(upTo, error);
      this.retryTimer = setTimeout(() => {
        this.retryTimer = undefined;
        void this.run();
      }, this.retryDelay);
      this.retryDelay = Math.min(this.retryDelay * 2, 1000);
    }
  }

  /**
   * After a commit, before its replies are written: when nothing paces
   * commits, send the next one now, so that PostgreSQL works on it while
   * Talus writes the replies (25 replies to a -c 50 SET load take ~0.35 ms,
   * which otherwise lengthen every commit cycle).
   */
  private next(): void {
    if (!this.pending) return;
    if (this.pacing() === 0 && !this.stopped) void this.run();
    else this.schedule();
  }

  private releaseWaiters(): void {
    if (this.waiters.length === 0) return;
    const still: Waiter[] = [];
    for (const w of this.waiters) (w.seq <= this.durableSeq ? w.resolve() : still.push(w));
    this.waiters = still;
  }

  private failWaiters(upTo: number, err: Error): void {
    const still: Waiter[] = [];
    for (const w of this.waiters) (w.seq <= upTo ? w.reject(err) : still.push(w));
    this.waiters = still;
  }
}

/** The function libraries replace the stored set (rare and small: a statement each). */
function stageLibraries(batch: FlushBatch, libraries: readonly StoredLibrary[]): void {
  batch.before.push(sql`DELETE FROM talus.functions`);
  for (const lib of libraries) batch.before.push(sql`INSERT INTO talus.functions (name, code) VALUES (${lib.name}, ${lib.code})`);
}

/** A key id that two of the entries staged as keys (not tombstones) hold, or 0. */
function keyIdWrittenTwice(entries: Entry[]): number {
  // sorted in a typed array: no hashing, boxing or table per id, as a Set of them had
  const ids = new Float64Array(entries.length);
  let n = 0;
  for (const e of entries) if (e.type !== null && e.keyId !== 0) ids[n++] = e.keyId;
  const sorted = ids.subarray(0, n).sort();
  for (let i = 1; i < n; i++) if (sorted[i] === sorted[i - 1]) return sorted[i]!;
  return 0;
}

/** Key ids of the entries staged that are keys (not tombstones). */
function liveKeyIds(entries: Entry[]): number[] {
  const ids: number[] = [];
  for (const e of entries) if (e.type !== null && e.keyId !== 0) ids.push(e.keyId);
  return ids;
}

/** A commit's records as change-log segments: one, unless big values make it more than a statement should carry. */
function segments(log: TakenLog): TakenLog[] {
  if (log.bytes.length === 0) return [];
  if (log.bytes.length <= MAX_STATEMENT_BYTES) return [log];
  const out: TakenLog[] = [];
  const base = log.bytes.byteOffset;
  let start = 0;
  let first = log.firstSeq;
  let prev: ChangeRecord | undefined;
  let prevEnd = 0;
  for (const r of log.records) {
    const end = r.effect.byteOffset - base + r.effect.length;
    if (end - start > MAX_STATEMENT_BYTES && prev !== undefined && prevEnd > start) {
      out.push(new TakenLog(first, prev.seq, prev.at, log.bytes.subarray(start, prevEnd)));
      start = prevEnd;
      first = r.seq;
    }
    prev = r;
    prevEnd = end;
  }
  out.push(new TakenLog(first, prev!.seq, prev!.at, log.bytes.subarray(start, prevEnd)));
  return out;
}

function stageEntry(batch: FlushBatch, e: Entry, inserts: boolean, keyRows: KeyRows): { codec: TypeCodec; token: unknown } | undefined {
  // a short name goes as its string (binary-array.ts writes its latin1 bytes); a long one as its indexed form and whole
  const long = e.name.length > SHORT_NAME_BYTES;
  const name = long ? Buffer.from(e.name, 'latin1') : undefined;
  const key = name !== undefined ? indexedForm(name) : e.name;
  // once sent, the row may exist (a failed commit's retry upserts)
  const rowless = e.rowless && inserts;
  e.rowless = false;
  if (e.type === null) {
    // created and deleted between two commits: no row to delete
    if (!rowless) batch.add(deleteKeys, e.db, key);
    return undefined;
  }
  const codec = codecFor(e.type);
  // Every write rewrites the key row: it holds a string's value, and a
  // collection's length, which most of its writes change.
  const inline = codec.inline?.(e.value) ?? null;
  const length = inline !== null ? 0 : codec.length(e.value);
  const rowValue = inline ?? codec.rowNote?.(e.value) ?? null;
  if (name === undefined) keyRows.add(e, rowless, length, rowValue);
  else if (e.expireAt === 0) batch.add(upsertLongKeys, e.db, key, name, e.keyId, e.type, null, null, length, rowValue);
  else batch.add(upsertLongKeys, e.db, key, name, e.keyId, e.type, e.expireAt, expireDue(e.expireAt, Date.now()), length, rowValue);
  e.metaDirty = false;
  const token = codec.stage(batch, e);
  // nothing to hand back on failure (strings, inline values): no object per row
  return codec.unstage === undefined ? undefined : { codec, token };
}
