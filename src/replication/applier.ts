import { ErrorReply, type Reply } from '../protocol/reply.js';
import type { Session } from '../execution/session.js';
import type { Logger } from '../observability/logger.js';

/** A change-log record as applied: its db and its command. */
export interface AppliedRecord {
  db: number;
  args: readonly Buffer[];
}

/**
 * Logs each applied record (or transaction) as exactly that record, not as
 * the effects its application reports (a follower: Keyspace.beginRelay).
 */
export interface RecordRelay {
  begin(records: readonly AppliedRecord[]): void;
  /** the records applied: our own seq of the last one */
  end(): number;
  /** the records were refused and are tried again: nothing logged */
  cancel(): void;
}

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
   * mean something else (SELECT, MULTI...), so look no further.
   */
  prefetch?(s: Session, args: Buffer[]): boolean;
  /** absent: applied effects are logged as they are reported (a restore's own change log) */
  readonly relay?: RecordRelay;
}

/** Commands behind a waiting one whose keys are loaded meanwhile (as a client's pipeline, server/client.ts). */
const PREFETCH_AHEAD = 256;
/** How long a refused (MISCONF) record or transaction waits before it is tried again. */
const RETRY_MS = 100;

/** How a queue's owner takes part: framing it handles itself, and each applied record. */
export interface ApplyHooks {
  /** a command that is framing, not an effect (PING, REPLCONF...): handled here, not run; true if so */
  frame?(name: string, args: Buffer[]): boolean;
  /** whether a command other than SELECT is a record (moves the applied position), decided at dispatch; default: yes */
  counts?(name: string): boolean;
  /** `records` records were applied (1, or a whole transaction); `seq`: our own seq of the last one, when relayed */
  applied?(records: number, seq: number | undefined): void;
  /** the queue shrank to `length` (flow control) */
  drained?(length: number): void;
  /** a MULTI record waits for its EXEC: the owner must keep feeding the queue whatever its length */
  awaitingExec?(): void;
}

/** A transaction's records being applied: its frames (to try again), its records with their dbs, whether one was refused. */
interface Group {
  items: Buffer[][];
  records: AppliedRecord[];
  failed: boolean;
}

/**
 * The one apply loop of change-log records: a replication follower's
 * (follower.ts) and a restore's replay (src/backup/restore.ts). Records run
 * through the executor in order, one at a time: each waits for the previous
 * one's reply (a cold key loads meanwhile, and the keys of the next ones are
 * asked for). A MULTI ... EXEC group runs as one transaction once its EXEC is
 * queued, so no reader sees part of it. A MISCONF reply (PostgreSQL refused
 * the write) puts the record, or the whole transaction (DISCARD), back and
 * tries again shortly.
 */
export class ApplyQueue {
  private readonly queue: Buffer[][] = [];
  private applying = false;
  private idleWaiters: Array<() => void> = [];
  /** queued commands, from the head, whose keys were already asked for */
  private prefetched = 0;
  /** the transaction being applied */
  private group: Group | undefined;
  private waitingForExec = false;

  constructor(
    private readonly h: ApplierHost,
    private readonly hooks: ApplyHooks = {},
  ) {}

  get length(): number {
    return this.queue.length;
  }

  /** a command is running or waiting for its keys (or a refused one waits to be tried again) */
  get busy(): boolean {
    return this.applying;
  }

  /** the head is a MULTI whose EXEC is not queued yet */
  get awaitingExec(): boolean {
    return this.waitingForExec;
  }

  push(args: Buffer[]): void {
    this.queue.push(args);
  }

  /** Drop what is queued (a command already running finishes; a transaction cut short is discarded). */
  clear(): void {
    this.queue.length = 0;
    this.prefetched = 0;
    this.waitingForExec = false;
  }

  /** Resolves once everything queued so far that can run has run (all of it, or up to a MULTI waiting for its EXEC). */
  idle(): Promise<void> {
    if (!this.applying && (this.queue.length === 0 || this.waitingForExec)) return Promise.resolve();
    return new Promise((r) => this.idleWaiters.push(r));
  }

  /** Apply what is queued (no-op while already applying). */
  run(): void {
    if (this.applying) return;
    this.applying = true;
    this.step();
  }

  private counts(name: string): boolean {
    return name !== 'SELECT' && (this.hooks.counts?.(name) ?? true);
  }

  private prefetchAhead(): void {
    const prefetch = this.h.prefetch;
    // inside a transaction the applier's session is in MULTI: nothing is looked up for it
    if (!prefetch || this.group !== undefined) return;
    const end = Math.min(this.queue.length, PREFETCH_AHEAD);
    for (; this.prefetched < end; this.prefetched++) {
      // a barrier (SELECT, MULTI...): nothing past it until it has run
      if (!prefetch.call(this.h, this.h.applier, this.queue[this.prefetched]!)) return;
    }
  }

  private step(): void {
    while (this.queue.length > 0) {
      const head = this.queue[0]!;
      const name = nameOf(head);
      if (name === 'MULTI' && this.group === undefined && this.counts(name)) {
        const end = this.queue.findIndex((a, i) => i > 0 && nameOf(a) === 'EXEC');
        if (end < 0) {
          // the rest of the transaction has not arrived: apply nothing of it until it has
          this.waitingForExec = true;
          this.hooks.awaitingExec?.();
          break;
        }
        this.waitingForExec = false;
        this.group = this.openGroup(this.queue.slice(0, end + 1));
      }
      const args = this.queue.shift()!;
      if (this.prefetched > 0) this.prefetched--;
      this.hooks.drained?.(this.queue.length);
      if (this.hooks.frame?.(name, args)) continue;
      if (!this.dispatch(name, args)) return; // waiting for keys or for a retry: the reply or the timer continues
    }
    if (this.group !== undefined && this.queue.length === 0) {
      // The queue was cleared mid-transaction (the link went away): the applier leaves its MULTI; it comes again whole.
      this.group = undefined;
      this.h.onApplierReply = () => undefined;
      this.h.dispatch(this.h.applier, [Buffer.from('DISCARD')]);
    }
    this.h.onApplierReply = undefined;
    this.applying = false;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }

  /** Runs one command; true if its reply came at once and the loop goes on. */
  private dispatch(name: string, args: Buffer[]): boolean {
    const counted = this.counts(name);
    const group = this.group;
    const last = group !== undefined && counted && name === 'EXEC';
    // A command of the transaction was refused: its EXEC is a DISCARD, and it is all tried again.
    const discard = last && group.failed;
    const relay = this.h.relay;
    if (counted && group === undefined) relay?.begin([{ db: this.h.applier.dbIndex, args }]);
    else if (last && !discard) relay?.begin(group.records);
    let sync = true;
    let done = false;
    let retrying = false;
    this.h.onApplierReply = (reply) => {
      done = true;
      const refused = isRefusal(reply);
      if (group !== undefined && !last) {
        // MULTI, a queued command, a SELECT inside: nothing applied yet
        if (refused) group.failed = true;
      } else if (refused || discard) {
        relay?.cancel();
        this.group = undefined;
        this.queue.unshift(...(group?.items ?? [args]));
        this.prefetched = 0;
        this.h.onApplierReply = undefined;
        retrying = true;
        setTimeout(() => {
          this.applying = true;
          this.step();
        }, RETRY_MS);
        return;
      } else {
        if (reply instanceof ErrorReply) this.h.log.warning(`replicated command ${name} failed: ${reply.message}`);
        if (counted) {
          const seq = relay?.end();
          this.group = undefined;
          this.hooks.applied?.(group?.records.length ?? 1, seq);
        }
      }
      if (!sync) this.step();
    };
    this.h.dispatch(this.h.applier, discard ? [Buffer.from('DISCARD')] : args);
    sync = false;
    if (!done) {
      // waiting for keys: the reply continues the loop; meanwhile the next commands' keys load
      this.prefetchAhead();
      return false;
    }
    return !retrying;
  }

  /** A transaction's frames (MULTI ... EXEC, SELECTs between), and its records with their dbs. */
  private openGroup(items: Buffer[][]): Group {
    const records: AppliedRecord[] = [];
    let db = this.h.applier.dbIndex;
    for (const a of items) {
      if (nameOf(a) === 'SELECT') db = Number(a[1]?.toString('latin1'));
      else records.push({ db, args: a });
    }
    return { items, records, failed: false };
  }
}

function nameOf(args: readonly Buffer[]): string {
  return args[0]!.toString('latin1').toUpperCase();
}

/** PostgreSQL refused the write (or a transaction because of a refused command): try again later. */
function isRefusal(reply: Reply): boolean {
  if (!(reply instanceof ErrorReply)) return false;
  return reply.message.startsWith('MISCONF') || (reply.message.startsWith('EXECABORT') && reply.message.includes('MISCONF'));
}
