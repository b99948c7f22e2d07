import type { Command } from '../commands/table.js';
import type { Db } from '../keyspace/keyspace.js';
import type { Entry } from '../keyspace/types.js';
import type { KeyRef } from '../keyspace/scheduler.js';
import type { CommandContext, Connection, ReplySink } from './context.js';
import { Subscriptions } from '../pubsub/registry.js';
import { ClientTracking } from './tracking.js';

/** One WATCHed key: the entry object and version seen at WATCH time (see commands/transactions.ts). */
export interface WatchedKey {
  /** db index (not the Db object: SWAPDB changes what an index refers to) */
  db: number;
  name: string;
  entry: Entry;
  version: number;
  /** the key existed and was not logically expired when watched */
  live: boolean;
}

/** A command queued by MULTI, run by EXEC. */
export interface QueuedCommand {
  cmd: Command;
  args: Buffer[];
}

/**
 * What a client is, apart from its socket: the db it uses, who it is, the
 * protocol it speaks, its transaction, WATCHes and subscriptions. A
 * connection carries one; the replication applier and a script are sessions
 * without one (`connection` undefined), run by the same executor.
 */
export class Session {
  readonly createdAt = Date.now();
  protocol: 2 | 3 = 2;
  db: Db;
  name = '';
  libName = '';
  libVersion = '';
  authenticated: boolean;
  user = 'default';
  /** last command run, for CLIENT LIST */
  lastCommand = 'NULL';
  noEvict = false;
  noTouch = false;
  /** WATCHed keys, checked by EXEC */
  watching: WatchedKey[] = [];
  /** true while EXEC runs the queued commands (blocking commands must not block) */
  inExec = false;
  /** a command of this session waits for outside work with its keys claimed (execution/suspension.ts) */
  suspended = false;
  /** the command running now is a write (a lookup that misses is then no read miss) */
  writing = false;
  /** channels, patterns and shard channels this session listens to (commands/pubsub.ts) */
  readonly subscriptions = new Subscriptions();
  /** client-side caching state (CLIENT TRACKING; execution/tracking.ts) */
  readonly tracking = new ClientTracking();
  /** set by a blocking command while it waits: CLIENT UNBLOCK calls it (error: true = UNBLOCK ... ERROR) */
  unblock: ((error: boolean) => void) | null = null;
  /**
   * While an EXEC's keys are planned: the db layout its queued SWAPDBs will
   * have made by each queued command (a MOVE or COPY ... DB after them names
   * a db index; planned on today's layout, its target would be the wrong db
   * and, cold there, taken for absent). Undefined otherwise.
   */
  plannedLayout: readonly Db[] | undefined = undefined;
  /**
   * While an EXEC's keys are planned: the commands queued before the one being
   * planned and the keys planned for them (SORT's BY/GET keys for elements an
   * earlier command of the transaction may put in the sorted key). Undefined otherwise.
   */
  plannedEarlier: { args: Buffer[][]; refs: KeyRef[] } | undefined = undefined;
  /** MULTI state: queued commands, or null outside a transaction */
  multi: QueuedCommand[] | null = null;
  multiError = false;
  /** CLIENT LIST flags kept by families (pubsub, replica...) */
  flags = new Set<string>();

  /** what its commands' handlers get (Executor.openSession) */
  context!: CommandContext;

  constructor(
    readonly id: number,
    db: Db,
    authenticated: boolean,
    /** where replies go: the connection, or what runs a socketless session */
    readonly replies: ReplySink,
    readonly connection?: Connection,
  ) {
    this.db = db;
    this.authenticated = authenticated;
  }

  get dbIndex(): number {
    return this.db.index;
  }

  /** RESET: back to a new session's state (the caller runs the reset hooks). */
  reset(db: Db, authenticated: boolean): void {
    this.multi = null;
    this.multiError = false;
    this.db = db;
    this.protocol = 2;
    this.name = '';
    this.noEvict = false;
    this.noTouch = false;
    this.authenticated = authenticated;
    this.user = 'default';
  }
}
