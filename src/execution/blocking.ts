import { atDeadline } from '../util/timers.js';
import { ErrorReply, NULL_ARRAY, RawReply, type Reply } from '../protocol/reply.js';
import type { Command } from '../commands/table.js';
import type { Db } from '../keyspace/keyspace.js';
import type { KeyRef } from '../keyspace/scheduler.js';
import type { Keyspace } from '../keyspace/keyspace.js';
import type { Scheduler } from '../keyspace/scheduler.js';
import type { CommandContext } from './context.js';
import type { Executor } from './executor.js';
import type { Session } from './session.js';
import { parseFloatArg } from '../util/numbers.js';

/**
 * Blocking commands (BLPOP & co, BZPOPMIN & co, XREAD/XREADGROUP BLOCK): clients
 * waiting for keys to become servable.
 *
 * How a family uses it, from a (synchronous) handler:
 *
 *   const ms = timeoutArg(args[args.length - 1]!);      // Redis's errors; 0 = forever
 *   ...serve at once if a key is servable (and return the reply)...
 *   if (!c.server.blocking.canBlock(c)) return NULL_ARRAY; // inside MULTI/EXEC: no blocking
 *   return c.server.blocking.block(c, refs, ms, (key) => attempt(c, key));
 *
 * `block` registers the client on the keys (FIFO per key), pauses it (it reads
 * no further commands) and returns the BLOCKED sentinel, which tells Talus
 * the executor not to reply nor count the command yet. Later:
 *
 * - Every change reported at the mutation seam signals its key
 *   (`signalReady(db, name)`: pushes, ZADD, RENAME/MOVE/COPY/SORT STORE into
 *   a key...; SWAPDB signals both dbs, FLUSHDB/FLUSHALL their waited keys). That is cheap when nobody waits on
 *   the key.
 * - When the current top-level command (a whole EXEC included) has finished,
 *   the executor calls `handleReady()`: for each ready key, in the order they were
 *   signalled, the clients waiting on it are retried in the order they
 *   blocked. A retry runs through the scheduler (the ready key and the
 *   waiter's `also` keys are made resident first) and calls
 *   `attempt(readyKey)`:
 *     - `undefined`: not servable (key gone, wrong type, empty...): the
 *       client stays blocked where it was in the queue;
 *     - a Reply (or a thrown ErrorReply): the client is served. It gets the
 *       reply through the normal path (command stats, durability of what
 *       `attempt` changed, reply order), is unblocked and resumes reading.
 *   `attempt` runs like a handler, through the executor: synchronously, on
 *   resident keys, in the client's db; it does its own lookups and
 *   mutations and reports them at the seam (the effect, e.g. `LPOP key` for
 *   a served BLPOP); keys it pushes into (BLMOVE) are signalled by that
 *   report and handled in the same round.
 * - On timeout the client gets `onTimeout()` (default: the null array, as
 *   Redis 7 replies for every blocking type); CLIENT UNBLOCK does the same,
 *   or with ERROR replies "-UNBLOCKED client unblocked via CLIENT UNBLOCK".
 * - A client that closes (or RESETs) while blocked is just removed.
 *
 * Keys are registered by db index and name: after SWAPDB a waiter keeps
 * waiting on the index it blocked in, as in Redis.
 */

/** What a blocking handler returns once it has called `block`: no reply yet. */
export const BLOCKED: Reply = new RawReply(Buffer.alloc(0));

export interface BlockOptions {
  /** other keys `attempt` touches (BLMOVE's destination): made resident before each retry */
  also?: KeyRef[];
  /** the reply on timeout or CLIENT UNBLOCK [TIMEOUT]; default NULL_ARRAY */
  onTimeout?: () => Reply;
  /** `attempt` answers a key that is gone (XREADGROUP's error): tried even after the key was deleted */
  servesGone?: boolean;
}

interface Waiter {
  client: Session;
  /** db index the keys live in */
  db: number;
  /** the keys waited on, without duplicates, in argument order */
  keys: string[];
  also: string[];
  attempt: (readyKey: string) => Reply | undefined;
  onTimeout: () => Reply;
  servesGone: boolean;
  deadline: number;
  /** cancels the timeout */
  timer: (() => void) | undefined;
  /** the command, for stats when it completes (set by Talus right after the handler) */
  cmd: Command | undefined;
  args: Buffer[] | undefined;
  done: boolean;
  /** a retry is queued in the scheduler (keys being loaded) */
  retrying: boolean;
  /** keys signalled while that retry was queued: signalled again after it */
  missed: ReadyKey[];
}

interface ReadyKey {
  db: number;
  name: string;
}


/** What blocking uses of the server. */
export interface BlockingHost {
  readonly keyspace: Keyspace;
  readonly scheduler: Scheduler;
  readonly sessions: ReadonlyMap<number, Session>;
  readonly sessionResetHooks: Array<(s: Session) => void>;
}

export class Blocking {
  /** waiters per db index and key, each set in blocking order */
  private readonly byKey = new Map<number, Map<string, Set<Waiter>>>();
  private readonly byClient = new Map<Session, Waiter>();
  private ready: ReadyKey[] = [];
  private readonly readySet = new Set<string>();
  private handling = false;
  private fallbackScheduled = false;
  /** stats for INFO */
  stats = { served: 0, timedOut: 0 };

  constructor(
    private readonly host: BlockingHost,
    /** serves woken commands: their retries run and their replies are delivered there */
    private readonly executor: Executor,
  ) {
    host.sessionResetHooks.push((s) => this.cancel(s));
    // Any change of a key may make it servable (a push, ZADD, a key renamed,
    // moved or restored into place); SWAPDB, every key of both dbs.
    host.keyspace.mutationListeners.push((m) => {
      if (m.key !== null) this.signalReady(m.db, m.key);
      else if (m.event === 'swapdb') {
        this.signalDb(m.db);
        this.signalDb(m.otherDb!);
      } else if (m.event === 'flushdb') {
        this.signalDb(m.db); // a blocked XREADGROUP is told its key is gone
      } else if (m.event === 'flushall') {
        for (const idx of [...this.byKey.keys()]) this.signalDb(idx);
      }
    });
  }

  /** Clients blocked now (INFO blocked_clients). */
  get count(): number {
    return this.byClient.size;
  }

  /** Distinct keys some client waits on (across dbs). */
  get keyCount(): number {
    let n = 0;
    for (const m of this.byKey.values()) n += m.size;
    return n;
  }

  isBlocked(c: Session): boolean {
    return this.byClient.has(c);
  }

  /** False inside MULTI/EXEC (and other contexts that must not block): reply at once instead. */
  canBlock(ctx: CommandContext): boolean {
    return ctx.session.multi === null && !ctx.session.inExec;
  }

  /**
   * Block `c` on `keys` (all in one db: the client's) for `timeoutMs`
   * (relative; 0 = forever). Returns BLOCKED, which the handler returns.
   */
  block(
    ctx: CommandContext,
    keys: KeyRef[],
    timeoutMs: number,
    attempt: (readyKey: string) => Reply | undefined,
    opts: BlockOptions = {},
  ): Reply {
    const c = ctx.session;
    if (this.byClient.has(c)) throw new Error('client is already blocked');
    const db = keys[0]?.db.index ?? c.db.index;
    const names = [...new Set(keys.map((k) => k.name))];
    const w: Waiter = {
      client: c,
      db,
      keys: names,
      also: (opts.also ?? []).map((k) => k.name),
      attempt,
      onTimeout: opts.onTimeout ?? (() => NULL_ARRAY),
      servesGone: opts.servesGone ?? false,
      deadline: timeoutMs > 0 ? Date.now() + timeoutMs : 0,
      timer: undefined,
      cmd: undefined,
      args: undefined,
      done: false,
      retrying: false,
      missed: [],
    };
    let byName = this.byKey.get(db);
    if (!byName) this.byKey.set(db, (byName = new Map()));
    for (const n of names) {
      let set = byName.get(n);
      if (!set) byName.set(n, (set = new Set()));
      set.add(w);
    }
    this.byClient.set(c, w);
    if (w.deadline > 0) this.arm(w);
    // what CLIENT UNBLOCK, CLIENT LIST (flags=b) and INFO (blocked_clients) look at
    c.unblock = (error: boolean) => void this.unblock(c.id, error);
    c.flags.add('blocked');
    c.connection?.pause();
    return BLOCKED;
  }

  /** Called by Talus when a handler returned BLOCKED: the command, for stats at completion. */
  attach(c: Session, cmd: Command, args: Buffer[]): void {
    const w = this.byClient.get(c);
    if (w) {
      w.cmd = cmd;
      w.args = args;
      c.lastCommand = cmd.fullName; // CLIENT LIST shows cmd=blpop while it waits
    }
  }

  /** A key may have become servable (a push, ZADD, a key renamed/moved/restored into place...). */
  signalReady(db: Db | number, name: string): void {
    const idx = typeof db === 'number' ? db : db.index;
    if (!this.byKey.get(idx)?.has(name)) return;
    const id = `${idx}\u0000${name}`;
    if (this.readySet.has(id)) return;
    this.readySet.add(id);
    this.ready.push({ db: idx, name });
    // Normally Talus handles this right after the current command; this
    // covers signals raised outside a command.
    if (!this.fallbackScheduled) {
      this.fallbackScheduled = true;
      setImmediate(() => {
        this.fallbackScheduled = false;
        this.handleReady();
      });
    }
  }

  /** Every key waited on in this db index may be servable (SWAPDB). */
  signalDb(idx: number): void {
    const byName = this.byKey.get(idx);
    if (!byName) return;
    for (const name of byName.keys()) this.signalReady(idx, name);
  }

  /** True when some key was signalled and not handled yet. */
  get pending(): boolean {
    return this.ready.length > 0;
  }

  /**
   * Serve the clients waiting on ready keys: keys in signal order, clients
   * of each key in blocking order. Keys made ready meanwhile (BLMOVE pushing
   * into a key) are handled in the same call.
   */
  handleReady(): void {
    if (this.handling || this.ready.length === 0) return;
    this.handling = true;
    try {
      while (this.ready.length > 0) {
        const batch = this.ready;
        this.ready = [];
        for (const r of batch) {
          this.readySet.delete(`${r.db}\u0000${r.name}`);
          const set = this.byKey.get(r.db)?.get(r.name);
          if (!set) continue;
          // Set iteration visits waiters in insertion order and skips the ones
          // removed meanwhile (served, timed out, disconnected).
          let gone = false;
          for (const w of set) {
            if (gone && !w.servesGone) continue;
            this.retry(w, r);
            gone = this.gone(r);
          }
        }
      }
    } finally {
      this.handling = false;
    }
  }

  /**
   * CLIENT UNBLOCK: end the wait of a blocked client with its timeout reply,
   * or with an UNBLOCKED error. False if the client is not blocked.
   */
  unblock(clientId: number, error = false): boolean {
    const c = this.host.sessions.get(clientId);
    const w = c && this.byClient.get(c);
    if (!w || w.done) return false;
    const reply = error ? new ErrorReply('UNBLOCKED client unblocked via CLIENT UNBLOCK') : w.onTimeout();
    this.complete(w, reply, this.host.keyspace.changelog.seq, performance.now());
    return true;
  }

  /** Drop a client's wait without replying (it closed or RESET). */
  cancel(c: Session): void {
    const w = this.byClient.get(c);
    if (w) this.remove(w);
  }

  /** The key surely holds nothing any more: later waiters need not be tried. */
  private gone(r: ReadyKey): boolean {
    const db = this.host.keyspace.dbs[r.db];
    if (!db) return true;
    const e = db.entries.get(r.name);
    return e === undefined ? db.complete : e.type === null;
  }

  private retry(w: Waiter, r: ReadyKey): void {
    if (w.done) return;
    if (w.retrying) {
      w.missed.push(r);
      return;
    }
    const db = this.host.keyspace.dbs[r.db];
    if (!db) return;
    const refs: KeyRef[] = [{ db, name: r.name }];
    for (const name of w.also) if (name !== r.name) refs.push({ db, name });
    w.retrying = true;
    let sync = true;
    this.host.scheduler.submit(
      refs,
      () => {
        w.retrying = false;
        // A SWAPDB while its keys loaded: they loaded in the db now at another
        // index, and the command runs on the client's db; try again there.
        if (this.host.keyspace.dbs[r.db] === db) this.serve(w, r.name);
        else w.missed.push(r);
        const missed = w.missed;
        w.missed = [];
        if (!w.done) for (const m of missed) this.signalReady(m.db, m.name);
        // A retry that waited for a load: keys it made ready are handled now.
        if (!sync) this.handleReady();
      },
      (err) => {
        w.retrying = false;
        if (!w.done) this.complete(w, new ErrorReply(`ERR storage unavailable: ${err.message}`), 0, performance.now());
      },
    );
    sync = false;
  }

  private serve(w: Waiter, readyKey: string): void {
    if (w.done) return;
    const before = this.host.keyspace.changelog.seq;
    const started = performance.now();
    const reply = this.executor.callContinuation(w.client, () => w.attempt(readyKey), w.cmd?.fullName ?? 'a blocked command');
    if (reply === undefined) return;
    this.stats.served++;
    this.complete(w, reply, before, started);
  }

  private arm(w: Waiter): void {
    w.timer = atDeadline(w.deadline, () => {
      w.timer = undefined;
      if (w.done) return;
      this.stats.timedOut++;
      this.complete(w, w.onTimeout(), this.host.keyspace.changelog.seq, performance.now());
    });
  }

  /** Unblock with this reply, delivered and counted like any command's. */
  private complete(w: Waiter, reply: Reply, before: number, started: number): void {
    this.remove(w);
    const c = w.client;
    if (c.connection?.closed) return;
    if (w.cmd && w.args) this.executor.finish(c, w.cmd, w.args, reply, before, started);
    else this.executor.deliverAfter(c, reply, before);
    c.connection?.resume();
  }

  private remove(w: Waiter): void {
    if (w.done) return;
    w.done = true;
    w.timer?.();
    w.timer = undefined;
    const byName = this.byKey.get(w.db);
    for (const n of w.keys) {
      const set = byName?.get(n);
      if (!set) continue;
      set.delete(w);
      if (set.size === 0) byName!.delete(n);
    }
    if (byName?.size === 0) this.byKey.delete(w.db);
    if (this.byClient.get(w.client) === w) this.byClient.delete(w.client);
    w.client.unblock = null;
    w.client.flags.delete('blocked');
  }
}

/**
 * A blocking command's timeout argument (seconds, fractional allowed), as
 * Redis 7 parses it: milliseconds rounded up; values that do not fit are
 * reported as negative, like Redis on x86. Returns ms, 0 = block forever.
 */
export function timeoutArg(b: Buffer): number {
  let secs = parseFloatArg(b);
  if (secs === null) {
    // long double range: decimal over/underflows of double parse in Redis
    const s = b.toString('latin1');
    if (!/^[+-]?(\d+\.?\d*|\.\d+)[eE][+-]?\d+$/.test(s)) throw new ErrorReply('ERR timeout is not a float or out of range');
    secs = Number(s);
    if (Number.isNaN(secs)) throw new ErrorReply('ERR timeout is not a float or out of range');
    if (secs === 0) secs = s.startsWith('-') ? -0 : Number.MIN_VALUE;
  }
  const ms = Math.ceil(secs * 1000);
  if (!Number.isFinite(ms) || ms >= 2 ** 63 || ms < -(2 ** 63) || ms < 0) {
    throw new ErrorReply('ERR timeout is negative');
  }
  return ms;
}
