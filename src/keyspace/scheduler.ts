import type { Db, Keyspace } from './keyspace.js';

/** A key a command touches: which db, and the key as a latin1 string. */
export interface KeyRef {
  db: Db;
  name: string;
}

interface Task {
  refs: KeyRef[];
  run: () => void;
  fail: (err: Error) => void;
  done: boolean;
}

export type LoadFn = (db: Db, name: string) => Promise<void>;

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
  /** tasks waiting, for INFO */
  waiting = 0;

  constructor(
    private readonly ks: Keyspace,
    private readonly load: LoadFn,
  ) {}

  /** Run `run` now (returns true) or once its keys are ready (returns false). */
  submit(refs: KeyRef[], run: () => void, fail: (err: Error) => void): boolean {
    if (this.ready(refs, undefined)) {
      run();
      return true;
    }
    const task: Task = { refs, run, fail, done: false };
    this.waiting++;
    for (const r of refs) {
      let byName = this.queues.get(r.db);
      if (!byName) this.queues.set(r.db, (byName = new Map()));
      const q = byName.get(r.name);
      if (q) q.push(task);
      else byName.set(r.name, [task]);
    }
    for (const r of refs) if (!this.ks.isResident(r.db, r.name)) this.fetch(r);
    return false;
  }

  /** True if a command queued on this key must not be evicted under it. */
  isClaimed(db: Db, name: string): boolean {
    return this.queues.get(db)?.has(name) ?? false;
  }

  private ready(refs: KeyRef[], task: Task | undefined): boolean {
    for (const r of refs) {
      if (!this.ks.isResident(r.db, r.name)) return false;
      const q = this.queues.get(r.db)?.get(r.name);
      if (q !== undefined && q[0] !== task) return false;
    }
    return true;
  }

  private fetch(ref: KeyRef): void {
    this.load(ref.db, ref.name).then(
      () => {
        // A SWAPDB during the load can leave the key unknown: ask again.
        if (!this.ks.isResident(ref.db, ref.name) && this.queues.get(ref.db)?.has(ref.name)) this.fetch(ref);
        else this.pump(ref);
      },
      (err: Error) => this.failKey(ref, err),
    );
  }

  /** Run every task now at the head of its queues, starting from one key. */
  private pump(start: KeyRef): void {
    const todo: KeyRef[] = [start];
    while (todo.length > 0) {
      const ref = todo.pop()!;
      const head = this.queues.get(ref.db)?.get(ref.name)?.[0];
      if (head === undefined || head.done || !this.ready(head.refs, head)) continue;
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
      this.dequeue(task);
      task.fail(err);
      next.push(...task.refs);
    }
    for (const r of next) this.pump(r);
  }

  private dequeue(task: Task): void {
    task.done = true;
    this.waiting--;
    for (const r of task.refs) {
      const byName = this.queues.get(r.db);
      const q = byName?.get(r.name);
      if (!q) continue;
      const i = q.indexOf(task);
      if (i >= 0) q.splice(i, 1);
      if (q.length === 0) byName!.delete(r.name);
    }
  }
}
