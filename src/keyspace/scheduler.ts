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
}

/** Reads keys, or the parts of paged values that commands need, from PostgreSQL. */
export interface Pager {
  /** whether the key's state is in memory, with what `ref.access` needs of it */
  holds(ref: KeyRef): boolean;
  /** whether the key's state is in memory (its value may be paged) */
  isResident(db: Db, name: string): boolean;
  /** make `holds(ref)` true (concurrent reads of one key are coalesced) */
  read(ref: KeyRef): Promise<void>;
}

/** Partial reads for one task before it asks for the whole value instead (a guard, not a tuning knob). */
const MAX_PARTIAL_READS = 3;

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

  constructor(private readonly pager: Pager) {}

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

  /** True if a command queued on this key must not be evicted under it. */
  isClaimed(db: Db, name: string): boolean {
    return this.queues.get(db)?.has(name) ?? false;
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
      if (task.claim) continue;
      this.dequeue(task);
      task.fail(err);
      next.push(...task.refs);
    }
    for (const r of next) this.pump(r);
  }

  private dequeue(task: Task): void {
    task.done = true;
    this.waiting--;
    this.unlink(task);
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
