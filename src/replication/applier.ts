import { ErrorReply, type Reply } from '../protocol/reply.js';
import type { Session } from '../execution/session.js';
import type { Logger } from '../observability/logger.js';

/** What applying change-log effects needs of the server. */
export interface ApplierHost {
  readonly log: Logger;
  /** the session effects run in (flag `master`: not read-only, sees expired keys) */
  readonly applier: Session;
  dispatch(s: Session, args: Buffer[]): void;
  /** what the applier's replies go to: set per command by the queue */
  onApplierReply: ((r: Reply) => void) | undefined;
  /**
   * Start loading the cold keys of a command queued behind one that waits
   * for its keys (Executor.prefetch); false: a command after which keys may
   * mean something else (SELECT...), so look no further.
   */
  prefetch?(s: Session, args: Buffer[]): boolean;
}

/** Commands behind a waiting one whose keys are loaded meanwhile (as a client's pipeline, server/client.ts). */
const PREFETCH_AHEAD = 256;

/** How a queue's owner takes part: framing it handles itself, and each applied command. */
export interface ApplyHooks {
  /** a command that is framing, not an effect (PING, REPLCONF...): handled here, not run; true if so */
  frame?(name: string, args: Buffer[]): boolean;
  /** whether `name` moves the applied position, decided when it is dispatched */
  counts?(name: string): boolean;
  /** `args` ran (its reply was not MISCONF); `counted`: what `counts` said at dispatch */
  applied?(name: string, args: Buffer[], counted: boolean): void;
  /** the queue shrank to `length` (flow control) */
  drained?(length: number): void;
}

/**
 * Change-log effects applied through the executor in order, one at a time:
 * each waits for the previous one's reply (a cold key loads meanwhile). A
 * MISCONF reply (PostgreSQL refused the write) puts the effect back and tries
 * again shortly. A restore replays archived change log with it
 * (src/backup/restore.ts). A replication follower still has its own loop in
 * follower.ts (transactions applied as one EXEC, records relayed as the
 * leader's): the two were written apart at the same time and are to become one.
 */
export class ApplyQueue {
  private readonly queue: Buffer[][] = [];
  private applying = false;
  private idleWaiters: Array<() => void> = [];
  /** queued commands, from the head, whose keys were already asked for */
  private prefetched = 0;

  constructor(
    private readonly h: ApplierHost,
    private readonly hooks: ApplyHooks = {},
  ) {}

  get length(): number {
    return this.queue.length;
  }

  /** a command is running or waiting for its keys */
  get busy(): boolean {
    return this.applying;
  }

  push(args: Buffer[]): void {
    this.queue.push(args);
  }

  /** Drop what is queued (a command already running finishes). */
  clear(): void {
    this.queue.length = 0;
    this.prefetched = 0;
  }

  private prefetchAhead(): void {
    const prefetch = this.h.prefetch;
    if (!prefetch) return;
    const end = Math.min(this.queue.length, PREFETCH_AHEAD);
    for (; this.prefetched < end; this.prefetched++) {
      // a barrier (SELECT...): nothing past it until it has run
      if (!prefetch.call(this.h, this.h.applier, this.queue[this.prefetched]!)) return;
    }
  }

  /** Resolves once everything queued so far has run. */
  idle(): Promise<void> {
    if (!this.applying && this.queue.length === 0) return Promise.resolve();
    return new Promise((r) => this.idleWaiters.push(r));
  }

  /** Apply what is queued (no-op while already applying). */
  run(): void {
    if (this.applying) return;
    this.applying = true;
    this.step();
  }

  private step(): void {
    while (this.queue.length > 0) {
      const args = this.queue.shift()!;
      if (this.prefetched > 0) this.prefetched--;
      this.hooks.drained?.(this.queue.length);
      const name = args[0]!.toString('latin1').toUpperCase();
      if (this.hooks.frame?.(name, args)) continue;
      const counted = this.hooks.counts?.(name) ?? true;
      let sync = true;
      let done = false;
      this.h.onApplierReply = (reply) => {
        done = true;
        if (reply instanceof ErrorReply && reply.message.startsWith('MISCONF')) {
          // PostgreSQL refused the write: try the same record again shortly
          this.queue.unshift(args);
          this.prefetched = 0;
          this.h.onApplierReply = undefined;
          setTimeout(() => {
            this.applying = true;
            this.step();
          }, 100);
          return;
        }
        if (reply instanceof ErrorReply) this.h.log.warning(`replicated command ${name} failed: ${reply.message}`);
        this.hooks.applied?.(name, args, counted);
        if (!sync) this.step();
      };
      this.h.dispatch(this.h.applier, args);
      sync = false;
      if (!done) {
        // waiting for keys: the reply continues the loop; meanwhile the next commands' keys load
        this.prefetchAhead();
        return;
      }
      if (this.h.onApplierReply === undefined) return; // retry scheduled
    }
    this.h.onApplierReply = undefined;
    this.applying = false;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }
}
