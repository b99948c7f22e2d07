import type { Db } from './keyspace.js';
import { WHOLE, type Access } from './paging.js';

/**
 * A key a command touches: which db, the key as a latin1 string, and what
 * the command needs of a paged value (keyspace/paging.ts; none = all of it).
 */
export interface KeyRef {
  db: Db;
  name: string;
  access?: Access;
}

interface Task {
  refs: KeyRef[];
  run: () => void;
  fail: (err: Error) => void;
  done: boolean;
  /** partial reads made for this task (see `need`) */
  reads: number;
  /** its keys being read right now */
  reading: Set<KeyRef>;
  /** a claim (see `claim`): holds its keys, never runs */
  claim?: true;
  /** its reads have started (counted in Scheduler.startedKeys) */
  started?: true;
}

/** Reads keys, or the parts of paged values that commands need, from PostgreSQL. */
export interface Pager {
  /** whether the key's state is in memory, with what `ref.access` needs of it */
  holds(ref: KeyRef): boolean;
  /** whether the key's state is in memory (its value may be paged) */
  isResident(db: Db, name: string): boolean;
  /** make `holds(ref)` true (concurrent reads of one key are coalesced) */
  read(ref: KeyRef): Promise<void>;
  /** whether the hot set is full (past maxmemory): keys read for waiting commands could not be evicted to make room */
  crowded(): boolean;
}

/** Partial reads for one task before it asks for the whole value instead (a guard, not a tuning knob). */
const MAX_PARTIAL_READS = 3;

/**
 * Keys of waiting commands being read, or read and waiting, at once (see
 * Scheduler.mayRead): past this, or with the hot set full, only the oldest
 * waiting command starts its reads.
 */
const MAX_WAITING_KEYS = 1000;

/**
 * Per-key FIFO in front of the executor. A command whose keys are all
 * resident and not claimed by an earlier waiting command runs at once, in
 * the caller's stack. Otherwise it queues on each of its keys and runs when
 * it heads every one of those queues and all of them are resident. Queues
 * are appended to in arrival order, so there is one global order per key and
 * no deadlock; commands on other keys go on meanwhile.
 */
export class Scheduler {
  private readonly queues = new Map<Db, Map<string, Task[]>>();
  /** keys with a queue in `queues`: while 0 (nearly always), a command's keys need no queue lookups */
  private queuedKeys = 0;
  /** tasks waiting, for INFO */
  waiting = 0;
  /** waiting tasks, oldest first */
  private readonly order = new Set<Task>();
  /** waiting tasks whose reads wait too (see mayRead), oldest first */
  private readonly deferred = new Set<Task>();
  /** keys of the started tasks still waiting */
  private startedKeys = 0;

  constructor(private readonly pager: Pager) {}

  /**
   * Whether queued commands may run now: false while big replies wait to be
   * written (server/big-replies.ts). Those ready meanwhile keep their keys
   * and run, in order, from `reopen`.
   */
  gate: () => boolean = () => true;
  private gated: KeyRef[] = [];

  /** The gate opened: run what it held. */
  reopen(): void {
    const refs = this.gated;
    this.gated = [];
    for (const r of refs) this.pump(r);
    this.startDeferred();
  }

  /** While a script runs (execution/scripting.ts) nothing queued starts: keys that land wait here. */
  private held: KeyRef[] | undefined;

  hold(on: boolean): void {
    if (on) {
      this.held ??= [];
      return;
    }
    const landed = this.held;
    this.held = undefined;
    for (const r of landed ?? []) this.pump(r);
  }

  /** Run `run` now (returns true) or once its keys are ready (returns false). */
  submit(refs: KeyRef[], run: () => void, fail: (err: Error) => void): boolean {
    if (this.held === undefined && this.ready(refs, undefined)) {
      run();
      return true;
    }
    const task: Task = { refs, run, fail, done: false, reads: 0, reading: new Set() };
    this.waiting++;
    this.order.add(task);
    for (const r of refs) {
      let byName = this.queues.get(r.db);
      if (!byName) this.queues.set(r.db, (byName = new Map()));
      const q = byName.get(r.name);
      if (q) q.push(task);
      else {
        byName.set(r.name, [task]);
        this.queuedKeys++;
      }
    }
    this.need(task);
    if (this.held !== undefined) this.held.push(...refs); // resident already: no read will pump it
    return false;
  }

  /**
   * Keep these keys (resident, and just used by a command that ran) for that
   * command while it waits for something outside the keyspace (MIGRATE's
   * transfer: execution/suspension.ts): commands that come later on any of
   * them queue until the returned release is called, and the keys are neither
   * evicted nor expired by the active cycle meanwhile. The claim goes to the
   * front of each key's queue: commands queued there already came after the
   * one that holds it.
   */
  claim(refs: KeyRef[]): () => void {
    const task: Task = { refs, run: () => undefined, fail: () => undefined, done: false, reads: 0, reading: new Set(), claim: true };
    for (const r of refs) {
      let byName = this.queues.get(r.db);
      if (!byName) this.queues.set(r.db, (byName = new Map()));
      const q = byName.get(r.name);
      if (q === undefined) {
        byName.set(r.name, [task]);
        this.queuedKeys++;
      } else if (q[0] !== task) q.unshift(task);
    }
    return () => {
      if (task.done) return;
      task.done = true;
      this.unlink(task);
      for (const r of refs) this.pump(r);
    };
  }

  /** Whether a command on these keys would run at once (submit would return true). */
  runnable(refs: KeyRef[]): boolean {
    return this.ready(refs, undefined);
  }

  /**
   * True if a command queued on this key must not have it evicted: one that
   * has started its reads (or a claim). The keys of a command whose reads
   * wait (mayRead) may go meanwhile; it reads them again in its turn.
   */
  isClaimed(db: Db, name: string): boolean {
    const q = this.queues.get(db)?.get(name);
    if (q === undefined) return false;
    for (const t of q) if (t.started || t.claim) return true;
    return false;
  }

  private ready(refs: KeyRef[], task: Task | undefined): boolean {
    const queued = this.queuedKeys > 0;
    for (const r of refs) {
      if (!this.pager.holds(r)) return false;
      if (!queued) continue;
      const q = this.queues.get(r.db)?.get(r.name);
      if (q !== undefined && q[0] !== task) return false;
    }
    return true;
  }

  /**
   * Start the reads a queued task lacks: cold keys at once; parts of paged
   * values only once the task heads that key's queue, since earlier commands
   * may change what the part is.
   */
  private need(task: Task): void {
    if (task.started === undefined) {
      if (!this.mayRead(task)) {
        this.deferred.add(task);
        return;
      }
      task.started = true;
      this.deferred.delete(task);
      this.startedKeys += task.refs.length;
    }
    for (const r of task.refs) {
      if (task.reading.has(r) || this.pager.holds(r)) continue;
      if (this.pager.isResident(r.db, r.name)) {
        if (this.queues.get(r.db)?.get(r.name)?.[0] !== task) continue;
        if (++task.reads > MAX_PARTIAL_READS) r.access = WHOLE;
      }
      task.reading.add(r);
      this.pager.read(r).then(
        () => {
          task.reading.delete(r);
          this.pump(r);
        },
        (err: Error) => {
          task.reading.delete(r);
          this.failKey(r, err);
        },
      );
    }
  }

  /**
   * Whether a waiting task may start reading its cold keys now. Keys read
   * for a command that waits are held for it (not evicted) until it runs,
   * and a command runs only once all its keys are in: 64 clients each
   * sending an MGET of 2,000 cold values, their keys overlapping, had every
   * value read and held at once, several times maxmemory. So past
   * MAX_WAITING_KEYS of started tasks, or with the hot set full, a task's
   * reads wait until it is the oldest waiting task; that one always reads
   * (it heads all its keys' queues, so it runs once they are in). While
   * the gate is closed no task starts reading.
   */
  private mayRead(task: Task): boolean {
    // big replies waiting to be written hold values too: the next command's wait for them to go
    if (!this.gate()) return false;
    if (this.order.values().next().value === task) return true;
    return this.startedKeys + task.refs.length <= MAX_WAITING_KEYS && !this.pager.crowded();
  }

  /** Start the reads of deferred tasks that now may. */
  private startDeferred(): void {
    for (const t of this.deferred) {
      if (!this.mayRead(t)) return;
      this.need(t);
    }
  }

  /** Run every task now at the head of its queues, starting from one key. */
  private pump(start: KeyRef): void {
    if (this.held !== undefined) {
      this.held.push(start);
      return;
    }
    const todo: KeyRef[] = [start];
    while (todo.length > 0) {
      const ref = todo.pop()!;
      const head = this.queues.get(ref.db)?.get(ref.name)?.[0];
      if (head === undefined || head.done || head.claim) continue;
      if (!this.ready(head.refs, head)) {
        this.need(head);
        continue;
      }
      if (!this.gate()) {
        this.gated.push(ref);
        continue;
      }
      this.dequeue(head);
      try {
        head.run();
      } catch (err) {
        head.fail(err as Error);
      }
      todo.push(...head.refs);
    }
  }

  /** The key could not be loaded: fail every command waiting for it. */
  private failKey(ref: KeyRef, err: Error): void {
    const q = this.queues.get(ref.db)?.get(ref.name);
    if (!q) return;
    const next: KeyRef[] = [];
    for (const task of [...q]) {
      // done: a command naming the key twice (BITOP OR d k k) is queued on it twice, failed once
      if (task.claim || task.done) continue;
      this.dequeue(task);
      task.fail(err);
      next.push(...task.refs);
    }
    for (const r of next) this.pump(r);
  }

  private dequeue(task: Task): void {
    task.done = true;
    this.waiting--;
    this.order.delete(task);
    this.deferred.delete(task);
    if (task.started) this.startedKeys -= task.refs.length;
    this.unlink(task);
    if (this.deferred.size > 0) queueMicrotask(() => this.startDeferred());
  }

  private unlink(task: Task): void {
    for (const r of task.refs) {
      const byName = this.queues.get(r.db);
      const q = byName?.get(r.name);
      if (!q) continue;
      const i = q.indexOf(task);
      if (i >= 0) q.splice(i, 1);
      if (q.length === 0) {
        byName!.delete(r.name);
        this.queuedKeys--;
      }
    }
  }
}
