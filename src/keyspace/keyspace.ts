import { Entry, type KeyType, type Retired } from './types.js';
import { Changelog, encodeEffect, type LogMark } from '../replication/changelog.js';
import { lfuTouch, type LfuSettings } from './lfu.js';
import type { DbEvent, Effect, KeyEvent, MissListener, Mutation, MutationListener } from './events.js';
import { byteAfter } from '../util/hyperloglog.js';
import { NameFilter } from './name-filter.js';
import { KeyTable } from './key-table.js';
import type { PagedRows, ScanPage } from './paging.js';
import type { KeyRef } from './scheduler.js';

/** A logical database (SELECT n). */
export class Db {
  /** resident keys; changed only through Keyspace, which keeps a cache of its last lookup (Keyspace.entryOf) */
  readonly entries = new KeyTable();
  /** entries with a TTL, for the active expiry cycle */
  readonly expiring = new Set<Entry>();
  /** keys that exist (including logically expired ones not reclaimed yet), like Redis's dbsize */
  count = 0;
  /**
   * true while the hot set holds every key of this db (it was empty in PostgreSQL
   * or flushed, and nothing has been evicted since): a miss is then a known
   * absence, with no PostgreSQL lookup.
   */
  complete = false;
  /**
   * The names that may have a row in PostgreSQL, once built (NameFilter.ready):
   * a name it rules out is known absent too, complete or not. Undefined: no
   * filter (name-filter-max-memory 0, or the db outgrew it), every miss is read.
   */
  names: NameFilter | undefined;
  /** bumped by FLUSHDB/SWAPDB so loads that started before can be discarded */
  epoch = 0;
  /** seq of the last db-wide change; PostgreSQL is only read for this db once it is durable */
  barrierSeq = 0;
  /** like Entry.changeSeq, for the last change of any key here or of the db as a whole (DBSIZE, KEYS, SCAN...) */
  changeSeq = 0;

  constructor(public index: number) {}
}

/** A function library (FUNCTION LOAD) as PostgreSQL keeps it. */
export interface StoredLibrary {
  readonly name: string;
  readonly code: Buffer;
}

/** A db-wide change for the flusher, applied before per-key states. */
export type DbOp = { kind: 'flush'; db: number } | { kind: 'swap'; a: number; b: number };

/**
 * The hot set: resident entries of every db, their dirty state for the flusher,
 * and the memory accounting that drives eviction. Everything here is
 * synchronous; loading and flushing live in storage/.
 */
/** A leader record a follower applies: its db and arguments (replication/follower.ts). */
export interface RelayedRecord {
  db: number;
  args: readonly Buffer[];
}

/** encoded once: every transaction and script with more than one effect logs them */
const MULTI = encodeEffect(['MULTI']);
const EXEC = encodeEffect(['EXEC']);

export class Keyspace {
  readonly dbs: Db[];
  /**
   * Entries changed since the flusher last took them (takeDirty), each once:
   * an entry is listed when its dirtyRound is not the current one. A list
   * and a mark rather than a Set: no hash lookup per mutation, and no table
   * rebuilt from empty after each commit.
   */
  private dirtyList: Entry[] = [];
  private dirtyRound = 1;
  /** FLUSHDB dropped listed entries: takeDirty leaves them out */
  private dirtyDropped = false;
  retired: Retired[] = [];
  dbOps: DbOp[] = [];
  /**
   * Every function library, when a FUNCTION command changed them since the
   * flusher last took them (it stores the whole set); undefined otherwise.
   */
  libraries: readonly StoredLibrary[] | undefined;
  readonly changelog: Changelog;
  /** bytes of all resident entries */
  bytes = 0;
  /** set by the server: true on replicas, which never expire keys themselves */
  replicaMode = false;
  /** set during CLIENT PAUSE: keys past their TTL are hidden but not deleted (no write while clients are paused), as in Redis */
  expiryPaused = false;
  /** the replication applier's command is running: a follower's expired keys are still there for it */
  applying = false;
  /**
   * A follower loads a full sync's snapshot: the applier's commands rebuild
   * the data set and are not records of the leader's history (which restarts
   * at the snapshot's end, replication/history.ts), so nothing is logged for
   * them: the data reaches PostgreSQL through the flusher's dirty entries
   * alone, not a second time as change-log effects. Not where backups are
   * configured: a point-in-time restore replays the archived change log,
   * which must then hold the load (after its FLUSHALL) to rebuild the data.
   */
  loadingSnapshot = false;
  /**
   * On a follower, the leader records being applied (one, or a transaction's
   * MULTI ... EXEC): whatever effects their application reports, the change
   * log gets those records, verbatim (`seq`: the last, once logged), so that
   * own seqs and leader offsets stay a constant apart (replication/history.ts).
   */
  private relay: { records: readonly RelayedRecord[]; seq: number } | undefined;
  /** EXEC running: its effects are logged between MULTI and EXEC records (`db`: of the last one; `logged`: MULTI is) */
  private transaction: { db: number; logged: boolean } | undefined;
  /** scripts running: the flusher takes nothing meanwhile (Keyspace.beginScriptLog) */
  commitsHeld = 0;
  /** where the running script's effects start (beginScriptLog), if they are to be wrapped: one object for every script */
  private readonly scriptMark: LogMark = { seq: 0, offset: 0, generation: 0 };
  private scriptWrapped = false;
  private nextKeyId = 0;
  private lastKeyId = 0;
  /** stats for INFO; unreported: keys changed without a report (a bug: see takeUnreported) */
  /**
   * `unplanned`: lookups and creations of a key neither resident nor known
   * absent (its db not complete). Its state is in PostgreSQL: taken for absent,
   * a write would overwrite it and miscount the db. The executor makes every
   * key a command names resident first, so this stays 0; the replay test checks it.
   */
  stats = { hits: 0, misses: 0, expired: 0, evicted: 0, loads: 0, unreported: 0, unplanned: 0, ruledOut: 0, nameFiltersDropped: 0 };
  /**
   * The most bytes one db's name filter may take (name-filter-max-memory; 0 =
   * no filters); set by the server before it builds them, and read when
   * FLUSHDB makes a db's filter anew.
   */
  nameFilterMaxBytes = 0;
  /** LFU counters (OBJECT FREQ): kept while maxmemory-policy is an LFU one (the server sets these from the config) */
  readonly lfu: LfuSettings = { enabled: false, logFactor: 10, decayMinutes: 1 };
  /** what derives from mutations: notifications, blocked clients, tracking (Keyspace.report) */
  readonly mutationListeners: MutationListener[] = [];
  /** reads that found no key (keyspace notifications of class m) */
  readonly missListeners: MissListener[] = [];
  /**
   * Entries changed since the last takeUnreported (the first touchedCount
   * slots), and the report mark of the current round. The array is kept
   * between commands: emptied with `length = 0`, V8 dropped its backing
   * store, and every write command allocated a new one on its first touch.
   */
  private touched: Array<Entry | undefined> = [];
  private touchedCount = 0;
  private round = 1;

  constructor(databases: number, changelog: Changelog) {
    this.dbs = Array.from({ length: databases }, (_, i) => new Db(i));
    this.changelog = changelog;
  }

  /** key ids come from `epoch * 2^32 + n`; the epoch is taken from PostgreSQL at start */
  setEpoch(epoch: number): void {
    this.nextKeyId = epoch * 2 ** 32 + 1;
    this.lastKeyId = (epoch + 1) * 2 ** 32 - 1;
  }

  mintKeyId(): number {
    if (this.nextKeyId >= this.lastKeyId) throw new Error('key id space of this epoch exhausted: restart Talus');
    return this.nextKeyId++;
  }

  /**
   * The last lookup of a db's KeyTable. A command looks its key up several times
   * in a row (the executor's planning, the handler's lookup, create, report),
   * and in a big table each lookup is mostly cache misses: the repeats are
   * answered here. Every change of a table goes through this class and drops
   * or updates it.
   */
  private cachedDb: Db | undefined;
  private cachedName = '';
  private cachedEntry: Entry | undefined;

  /**
   * Rows opened for the command of `ref` (the loader, for a `stream` access
   * of a paged value: keyspace/paging.ts), until its handler takes them.
   */
  private readonly pagedRows = new Map<Entry, { ref: KeyRef; rows: PagedRows }>();

  putPagedRows(e: Entry, ref: KeyRef, rows: PagedRows): void {
    // rows an earlier command left untaken (it never ran: its key was failed...) are closed, not lost
    this.pagedRows.get(e)?.rows.close();
    this.pagedRows.set(e, { ref, rows });
  }

  pagedRowsOf(e: Entry): { ref: KeyRef; rows: PagedRows } | undefined {
    return this.pagedRows.size === 0 ? undefined : this.pagedRows.get(e);
  }

  /** The rows opened for the command now running on `e`, now its handler's to read and close. */
  takePagedRows(e: Entry): PagedRows | undefined {
    const held = this.pagedRowsOf(e);
    if (held === undefined) return undefined;
    this.pagedRows.delete(e);
    return held.rows;
  }

  /** A command ran: close the rows opened for it that its handler did not take (its key went meanwhile...). */
  closeUntakenRows(refs: readonly KeyRef[]): void {
    if (this.pagedRows.size === 0) return;
    for (const [e, held] of this.pagedRows) {
      if (!refs.includes(held.ref)) continue;
      this.pagedRows.delete(e);
      held.rows.close();
    }
  }

  /** The last scan page read of a paged value (the loader, for a `scan` access), until a command takes it. */
  private readonly scanPages = new Map<Entry, ScanPage>();

  putScanPage(e: Entry, page: ScanPage): void {
    // pages a command did not take (it failed) are dropped with their key, or here past a bound
    if (this.scanPages.size >= MAX_SCAN_PAGES) this.scanPages.clear();
    this.scanPages.set(e, page);
  }

  /** The scan page read of `e` for this cursor position and count, if still valid (nothing changed `e` since). */
  scanPageOf(e: Entry, after: string | null, count: number): ScanPage | undefined {
    if (this.scanPages.size === 0) return undefined;
    const page = this.scanPages.get(e);
    return page !== undefined && page.after === after && page.count === count && page.version === e.version ? page : undefined;
  }

  /** Take the scan page read for the command now running on `e` (see scanPageOf). */
  takeScanPage(e: Entry, after: string | null, count: number): ScanPage | undefined {
    const page = this.scanPageOf(e, after, count);
    if (page !== undefined) this.scanPages.delete(e);
    return page;
  }

  /** Shutdown: close the rows no command took (they hold pooled connections). */
  closeAllPagedRows(): void {
    for (const held of this.pagedRows.values()) held.rows.close();
    this.pagedRows.clear();
  }

  /** The resident entry of a key (live, expired or a tombstone), or undefined: a table lookup, remembered. */
  entryOf(db: Db, name: string): Entry | undefined {
    if (db === this.cachedDb && name === this.cachedName) return this.cachedEntry;
    const e = db.entries.get(name);
    this.cachedDb = db;
    this.cachedName = name;
    this.cachedEntry = e;
    return e;
  }

  /** Put an entry in its db's KeyTable (the lookup cache follows). */
  private place(db: Db, name: string, e: Entry): void {
    db.entries.set(name, e);
    this.cachedDb = db;
    this.cachedName = name;
    this.cachedEntry = e;
  }

  /** Take a key out of its db's KeyTable (the lookup cache forgets). */
  private unplace(db: Db, name: string): void {
    if (this.scanPages.size > 0) {
      const e = db.entries.get(name);
      if (e !== undefined) this.scanPages.delete(e);
    }
    db.entries.delete(name);
    this.forgetLookup();
  }

  /** Drop the remembered lookup: an entry taken out must not stay reachable (an evicted value is often big). */
  private forgetLookup(): void {
    this.cachedDb = undefined;
    this.cachedEntry = undefined;
  }

  /** A tombstone for a key known absent, so that WATCH has an object whose version later writes bump. */
  watchTombstone(db: Db, name: string, now: number): Entry {
    const e = new Entry(db.index, name, null, undefined, 0, 0);
    e.lastAccess = now;
    e.freqMinute = Math.floor(now / 60_000);
    this.place(db, name, e);
    this.resize(e, 0);
    return e;
  }

  /**
   * The live entry for a key, expiring it on access if its time has come.
   * The clock is read only once an entry is found (`now` defaults to
   * Date.now() then): a miss, most of a cache-style read load, needs none.
   */
  lookup(db: Db, name: string, now?: number): Entry | undefined {
    const e = this.entryOf(db, name);
    if (e === undefined && !db.complete) this.noteUnplanned(db, name);
    if (e === undefined || e.type === null) return undefined;
    now ??= Date.now();
    if (e.expireAt !== 0 && e.expireAt <= now && !this.replicaMode && !this.expiryPaused) {
      this.expire(db, e);
      return undefined;
    }
    if (e.expireAt !== 0 && e.expireAt <= now && !this.applying) return undefined; // replica: hidden, not deleted
    // Approximate LRU: re-insert at the young end at most once a second per key.
    if (now - e.lastAccess > 1000) this.promote(db, e);
    e.lastAccess = now;
    if (this.lfu.enabled) lfuTouch(e, this.lfu, now);
    return e;
  }

  /** the last key counted in stats.unplanned, for the executor's warning */
  lastUnplanned = '';

  private noteUnplanned(db: Db, name: string): void {
    this.stats.unplanned++;
    this.lastUnplanned = `db ${db.index} ${JSON.stringify(name.length > 64 ? `${name.slice(0, 64)}...` : name)}`;
  }

  /** Whether a key's state is known without asking PostgreSQL. */
  isResident(db: Db, name: string): boolean {
    return db.complete || this.entryOf(db, name) !== undefined || this.ruleOut(db, name);
  }

  /**
   * For a name with no entry in a db that is not complete: if the db's name
   * filter rules it out, PostgreSQL has no row for it, and a known absence
   * is admitted as a read that found nothing would admit it (a rowless
   * tombstone), without the read. True then.
   */
  ruleOut(db: Db, name: string): boolean {
    const f = db.names;
    if (f === undefined || !f.ready || db.complete || f.mayHold(name)) return false;
    this.stats.ruledOut++;
    this.placeAdmitted(db, name, null, undefined, 0, 0, 0);
    return true;
  }

  /** A filter for a db that holds no key rows (at start, or after FLUSHDB): ready at once. */
  emptyNameFilter(): NameFilter | undefined {
    return this.nameFilterMaxBytes > 0 ? NameFilter.create(0, this.nameFilterMaxBytes, true) : undefined;
  }

  /** The name may get a key row: the db's filter must have it before it could be evicted. */
  private noteName(db: Db, name: string): void {
    const f = db.names;
    if (f !== undefined && !f.add(name)) this.dropNameFilter(db);
  }

  /** The db's filter outgrew name-filter-max-memory: its misses are read again. */
  dropNameFilter(db: Db): void {
    db.names = undefined;
    this.stats.nameFiltersDropped++;
  }

  /** Create or replace a key with a new value (SET, SADD on a new key, COPY target...). */
  create(db: Db, name: string, type: KeyType, value: unknown, size: number, expireAt = 0, keyId = this.mintKeyId()): Entry {
    let e = this.entryOf(db, name);
    if (e !== undefined && e.type !== null) {
      this.retire(e);
    } else {
      if (e === undefined && !db.complete) this.noteUnplanned(db, name);
      db.count++;
    }
    const isNew = e === undefined || e.type === null;
    // a live entry's name was noted when it became live
    if (isNew) this.noteName(db, name);
    const now = Date.now();
    if (e === undefined) {
      e = new Entry(db.index, name, type, value, 0, keyId);
      e.freqMinute = Math.floor(now / 60_000);
      // A name with no object in a complete db has no row either: tombstones
      // stay until their delete is committed, and only FLUSHDB (whose delete
      // the flusher sends first) or evicting committed entries drops objects.
      e.rowless = db.complete;
      this.place(db, name, e);
    } else {
      e.type = type;
      e.value = value;
      e.keyId = keyId;
    }
    this.setExpireRaw(db, e, expireAt);
    e.lastAccess = now;
    this.resize(e, size);
    this.touchMeta(e);
    // Redis's `new` event (class n), before the command's own event.
    if (isNew && this.mutationListeners.length > 0) this.emit({ db: db.index, key: name, event: 'new' });
    return e;
  }

  /**
   * Overwrite a string value keeping its incarnation (SET on an existing
   * string, INCR, APPEND): no garbage to collect, one row to update.
   */
  replaceValue(e: Entry, value: unknown, size: number): void {
    e.value = value;
    this.resize(e, size);
    this.touch(e);
  }

  /** Record a change of the key's row itself (incarnation, type, TTL, length). */
  touchMeta(e: Entry): void {
    e.metaDirty = true;
    this.touch(e);
  }

  /**
   * Record a change of representation only (SORT turning a sorted set into
   * Redis's skiplist encoding): written back like any change, unseen by WATCH.
   */
  touchUnwatched(e: Entry): void {
    e.unwatchedVersions++;
    this.touchMeta(e);
    e.reportedRound = this.round; // a change of representation only: no event, no effect
  }

  /**
   * The mutation seam: every change of a key is reported here once, with its
   * Redis keyspace event and, once per command, its effect for the change
   * log. The change log and every listener (keyspace notifications, blocked
   * clients, client tracking) derive from these reports; WATCH from the
   * versions the changes bump. Call it after making the change.
   */
  report(db: number, key: string, event: KeyEvent, effect?: Effect, effectDb = db): void {
    if (effect !== undefined) this.logEffect(effectDb, effect);
    // The change is committed with the command's effect, logged by its first
    // report: stamp it with that seq (a multi-key command touches later keys
    // after its effect was logged, so the stamp Keyspace.touch guessed is one
    // too far for them).
    const seq = this.changelog.seq;
    const d = this.dbs[db];
    const e = d === undefined ? undefined : this.entryOf(d, key);
    if (e !== undefined) {
      e.reportedRound = this.round;
      e.changeSeq = seq;
    }
    if (d !== undefined) d.changeSeq = seq;
    if (this.mutationListeners.length > 0) this.emit({ db, key, event });
  }

  /**
   * A db-wide change (FLUSHDB, FLUSHALL, SWAPDB), reported with its effect
   * before it is made: returns the effect's seq, the change's barrier.
   */
  reportDb(db: number, event: DbEvent, effect: Effect, otherDb?: number): number {
    const seq = this.logEffect(db, effect);
    this.emit({ db, key: null, event, otherDb });
    return seq;
  }

  private logEffect(db: number, effect: Effect): number {
    if (this.loadingSnapshot && this.applying) return this.changelog.seq;
    const relay = this.relay;
    if (relay !== undefined && this.applying) {
      if (relay.seq === 0) relay.seq = this.appendRelayed(relay.records);
      return relay.seq;
    }
    const tx = this.transaction;
    if (tx !== undefined) {
      if (!tx.logged) this.changelog.append(db, MULTI);
      tx.logged = true;
      tx.db = db;
    }
    const seq = this.changelog.append(db, effect);
    // A write of a writable follower's own: not part of its leader's history.
    if (this.replicaMode && !this.applying) this.changelog.history.align(seq, this.changelog.history.offsetOf(seq - 1));
    return seq;
  }

  /** The follower starts applying leader records: the effects of their application are logged as those records. */
  beginRelay(records: readonly RelayedRecord[]): void {
    this.relay = { records, seq: 0 };
  }

  /** The records are applied: logged now if their application reported nothing. Returns the last one's seq. */
  endRelay(): number {
    const relay = this.relay;
    this.relay = undefined;
    if (relay === undefined) return this.changelog.seq;
    return relay.seq || this.appendRelayed(relay.records);
  }

  /** The records were not applied (PostgreSQL refused the writes; they are tried again): nothing is logged. */
  cancelRelay(): void {
    this.relay = undefined;
  }

  private appendRelayed(records: readonly RelayedRecord[]): number {
    let seq = this.changelog.seq;
    for (const r of records) seq = this.changelog.append(r.db, r.args);
    return seq;
  }

  /**
   * EXEC runs its commands: their effects go to the change log between a
   * MULTI and an EXEC record (only if there are any), so that a follower
   * applies them as one transaction, as Redis's replication stream does.
   */
  beginTransactionLog(): void {
    this.transaction = { db: 0, logged: false };
  }

  endTransactionLog(): void {
    const tx = this.transaction;
    this.transaction = undefined;
    if (tx?.logged) this.changelog.append(tx.db, EXEC);
  }

  /**
   * A script starts (EVAL, FCALL...): its effects become one atomic unit of
   * the change log, as Redis 7 wraps a script's writes in MULTI ... EXEC in
   * its replication stream when there is more than one. Commits wait until
   * the returned function is called at its end (a script that runs longer
   * than a time slice would otherwise have its first effects committed, and
   * streamed, alone); then its effects, if more than one, are wrapped in
   * MULTI and EXEC records. Inside EXEC the transaction wraps them already;
   * a writable follower's own writes are not wrapped (its numbering follows
   * its leader's). One script runs at a time: endScriptLog ends it.
   */
  beginScriptLog(): void {
    this.scriptWrapped = this.transaction === undefined && !this.replicaMode;
    if (!this.scriptWrapped) return;
    this.changelog.mark(this.scriptMark);
    this.commitsHeld++;
  }

  /** The script beginScriptLog saw start has ended. */
  endScriptLog(): void {
    if (!this.scriptWrapped) return;
    this.scriptWrapped = false;
    this.commitsHeld--;
    if (this.changelog.seq - this.scriptMark.seq > 1) this.changelog.wrap(this.scriptMark, MULTI, EXEC);
  }

  /**
   * FUNCTION LOAD, DELETE, FLUSH, RESTORE: the change log gets `effect` and
   * the flusher commits `libraries`, the whole set after the change, with it.
   */
  reportLibraries(db: number, effect: Effect, libraries: readonly StoredLibrary[]): number {
    const seq = this.logEffect(db, effect);
    this.libraries = libraries;
    return seq;
  }

  /** A read command looked for a key that does not exist. */
  noteMiss(db: number, key: string): void {
    this.stats.misses++;
    for (const l of this.missListeners) l(db, key);
  }

  private emit(m: Mutation): void {
    for (const l of this.mutationListeners) l(m);
  }

  /**
   * Keys changed since the last call but never reported: what the change log
   * would miss. The executor asks after every command; the answer should
   * always be empty (counted in stats.unreported otherwise).
   */
  takeUnreported(): Entry[] {
    const n = this.touchedCount;
    if (n === 0) return NO_ENTRIES;
    const touched = this.touched;
    // Run after every command: the usual answer (all reported) allocates nothing.
    let out = NO_ENTRIES;
    for (let i = 0; i < n; i++) {
      const e = touched[i]!;
      touched[i] = undefined; // no hold on deleted entries
      if (e.reportedRound === this.round) continue;
      if (out === NO_ENTRIES) out = [];
      out.push(e);
    }
    this.touchedCount = 0;
    // a command that changed many keys (FLUSHALL) does not leave a big array behind
    if (n > KEPT_TOUCHED_SLOTS) this.touched = [];
    this.round++;
    this.stats.unreported += out.length;
    return out;
  }

  /** Record that an entry's value was mutated in place. */
  touch(e: Entry): void {
    if (e.touchedRound !== this.round) {
      e.touchedRound = this.round;
      this.touched[this.touchedCount++] = e;
    }
    e.version++;
    // The effect the handler logs for this mutation comes after the current
    // seq (or, logged before it, is the current seq: see Executor.readGate).
    const seq = this.changelog.seq + 1;
    e.changeSeq = seq;
    this.dbs[e.db]!.changeSeq = seq;
    this.markDirty(e);
  }

  /** Entries waiting for a commit (FLUSHDB's dropped ones included until the next takeDirty). */
  get dirtyCount(): number {
    return this.dirtyList.length;
  }

  /** List an entry for the next commit (once). */
  markDirty(e: Entry): void {
    if (e.dirtyRound === this.dirtyRound) return;
    e.dirtyRound = this.dirtyRound;
    this.dirtyList.push(e);
  }

  /** The flusher takes every listed entry; later changes list them again for the next commit. */
  takeDirty(): Entry[] {
    let list = this.dirtyList;
    const round = this.dirtyRound;
    this.dirtyList = [];
    this.dirtyRound++;
    if (this.dirtyDropped) {
      this.dirtyDropped = false;
      // dropped entries are marked 0; one listed again since is there twice
      const kept: Entry[] = [];
      for (const e of list) {
        if (e.dirtyRound !== round) continue;
        e.dirtyRound = 0;
        kept.push(e);
      }
      list = kept;
    }
    return list;
  }

  resize(e: Entry, valueSize: number): void {
    const size = ENTRY_OVERHEAD + e.name.length + valueSize;
    this.bytes += size - e.size;
    e.size = size;
  }

  /**
   * RENAME and MOVE: the key's incarnation (key_id, value, TTL) goes to
   * `name` in `db`, replacing what was there; its rows in PostgreSQL stay
   * where they are, so a big collection moves without being read.
   */
  move(srcDb: Db, src: Entry, db: Db, name: string, size: number): Entry {
    const { type, value, keyId, expireAt } = src;
    this.detach(srcDb, src);
    return this.create(db, name, type!, value, size, expireAt, keyId);
  }

  remove(db: Db, e: Entry): void {
    if (e.type === null) return;
    this.retire(e);
    this.detach(db, e);
  }

  /** Make the entry a tombstone without retiring its incarnation. */
  private detach(db: Db, e: Entry): void {
    db.count--;
    e.type = null;
    e.value = undefined;
    e.keyId = 0;
    this.setExpireRaw(db, e, 0);
    this.resize(e, 0);
    this.touchMeta(e);
  }

  setExpire(db: Db, e: Entry, at: number): void {
    this.setExpireRaw(db, e, at);
    this.touchMeta(e);
  }

  private setExpireRaw(db: Db, e: Entry, at: number): void {
    e.expireAt = at;
    if (at === 0) db.expiring.delete(e);
    else db.expiring.add(e);
  }

  /** Delete an expired key and log it as a DEL, as Redis does for its replicas. */
  expire(db: Db, e: Entry): void {
    this.remove(db, e);
    this.stats.expired++;
    this.report(db.index, e.name, 'expired', [DEL, e.key]);
  }

  private retire(e: Entry): void {
    if (e.type !== null && e.keyId !== 0) this.retired.push({ keyId: e.keyId, type: e.type });
  }

  /** Drop every key of a db (FLUSHDB): the flusher deletes them in PostgreSQL. */
  flushDb(db: Db, seq: number): void {
    for (const e of db.entries.values()) {
      this.bytes -= e.size;
      if (e.dirtyRound === this.dirtyRound) {
        e.dirtyRound = 0;
        this.dirtyDropped = true;
      }
      e.type = null; // in-flight flush snapshots of it are void; see Flusher
    }
    db.entries.clear();
    this.forgetLookup();
    db.expiring.clear();
    db.count = 0;
    db.complete = true;
    // Its rows are deleted by the flush's barrier, before any read or insert
    // that follows; a filter being built is abandoned (storage/name-filter-build.ts).
    db.names = this.emptyNameFilter();
    db.epoch++;
    db.barrierSeq = seq;
    db.changeSeq = seq;
    this.dbOps.push({ kind: 'flush', db: db.index });
  }

  swapDb(a: Db, b: Db, seq: number): void {
    const ai = a.index;
    const bi = b.index;
    this.dbs[ai] = b;
    this.dbs[bi] = a;
    a.index = bi;
    b.index = ai;
    for (const e of a.entries.values()) e.db = bi;
    for (const e of b.entries.values()) e.db = ai;
    for (const d of [a, b]) {
      d.epoch++;
      d.barrierSeq = seq;
      d.changeSeq = seq;
    }
    this.dbOps.push({ kind: 'swap', a: ai, b: bi });
  }

  /** Admit a value read from PostgreSQL (or a known absence) into the hot set. */
  admit(db: Db, name: string, type: KeyType | null, value: unknown, size: number, expireAt: number, keyId: number): Entry {
    // the filter may be being built, or have been given up and built anew by FLUSHDB since the read started
    if (type !== null) this.noteName(db, name);
    this.stats.loads++;
    return this.placeAdmitted(db, name, type, value, size, expireAt, keyId);
  }

  private placeAdmitted(db: Db, name: string, type: KeyType | null, value: unknown, size: number, expireAt: number, keyId: number): Entry {
    const e = new Entry(db.index, name, type, value, expireAt, keyId);
    e.metaDirty = false; // it mirrors its row
    // a known absence: PostgreSQL has no row for the name (a write to it inserts one)
    e.rowless = type === null;
    this.place(db, name, e);
    // db.count already includes it: counts are read from PostgreSQL at start.
    if (type !== null && expireAt !== 0) db.expiring.add(e);
    const now = Date.now();
    e.lastAccess = now;
    e.freqMinute = Math.floor(now / 60_000);
    this.resize(e, size);
    return e;
  }

  /**
   * Evict clean, unpinned entries, least recently used first, until the hot
   * set is within `limit` bytes. Dirty entries stay until the flusher has
   * committed them. Returns the bytes still over the limit.
   */
  evict(limit: number, isClaimed: (db: Db, name: string) => boolean, maxScan = 100_000): number {
    if (limit <= 0 || this.bytes <= limit) return 0;
    // Candidates: the oldest entries of each db (KeyTable order: a lookup moves
    // an entry to the young end at most once a second, an approximate LRU).
    let scanned = 0;
    for (const db of this.dbs) {
      if (this.bytes <= limit) break;
      for (const e of db.entries.values()) {
        if (this.bytes <= limit || scanned++ > maxScan) break;
        if (e.version !== e.flushedVersion || e.pins > 0 || isClaimed(db, e.name)) continue;
        // a string with a byte past its end that Redis's string would still hold (a corrupted HyperLogLog) stays
        if (e.type === 'string' && byteAfter(e.value as Buffer) !== 0) continue;
        this.unplace(db, e.name);
        db.expiring.delete(e);
        this.bytes -= e.size;
        if (e.type !== null) {
          db.complete = false;
          this.stats.evicted++;
        }
      }
    }
    return Math.max(0, this.bytes - limit);
  }

  /** Move an entry to the young end of its db's LRU order. */
  promote(db: Db, e: Entry): void {
    db.entries.touch(e);
  }
}

/**
 * What a resident key costs beyond its name's and value's bytes: the Entry
 * object, its name string's header, its KeyTable slots. Measured with
 * --expose-gc over a million keys of 16-byte names: 225-250 bytes of RSS a
 * key. (160, the figure before, let a hot set of small strings at the default
 * maxmemory of 1 GB take 1.5 GB of RSS, past the 200 MB of headroom.)
 */
export const ENTRY_OVERHEAD = 250;
/** Scan pages read and not taken kept at most (Keyspace.putScanPage). */
const MAX_SCAN_PAGES = 1024;
const DEL = Buffer.from('DEL');
const NO_ENTRIES: Entry[] = [];
/** Slots of Keyspace.touched kept for the next command: more than most commands touch. */
const KEPT_TOUCHED_SLOTS = 1024;
