/**
 * What a command handler gets: its session, the keyspace, the config and,
 * for the commands that inspect or manage the server (INFO, CLIENT, CONFIG,
 * SLOWLOG...), a narrow view of the server. Handlers never see the server
 * object, the socket or PostgreSQL: src/commands imports nothing from
 * src/server or src/storage (test/layering.test.ts).
 */
import type { Acl } from './acl.js';
import type { ErrorReply, Reply } from '../protocol/reply.js';
import type { Command, CommandTable } from '../commands/table.js';
import type { ConfigStore } from '../config/store.js';
import type { Keyspace } from '../keyspace/keyspace.js';
import type { StoredKeys } from '../keyspace/stored-keys.js';
import type { Logger } from '../observability/logger.js';
import type { Slowlog } from '../observability/slowlog.js';
import type { LatencyMonitor } from '../observability/latency.js';
import type { LatencyTracker } from '../observability/latency-histogram.js';
import type { Blocking } from './blocking.js';
import type { Session } from './session.js';
import type { PubSubRegistry } from '../pubsub/registry.js';
import type { Tracking } from './tracking.js';
import type { Scripting } from './scripting.js';

export type ReplyMode = 'on' | 'off' | 'skip';

/** Where a session's replies and out-of-band messages go. */
export interface ReplySink {
  /**
   * Queue a reply; it goes out after every earlier one and once change-log
   * `seq` is durable. `acknowledges`: the seq is the command's own write (a
   * failed commit turns the reply into MISCONF); false when it only gates
   * what the reply shows.
   */
  deliver(reply: Reply, seq: number, acknowledges?: boolean): void;
  /**
   * Out-of-band data (MONITOR lines, pub/sub messages): after queued replies,
   * not before `seq` is durable. `writeSoon` false: queued in order but not
   * written until the next flush (a big fan-out spreads its writes).
   */
  push(reply: Reply, seq?: number, writeSoon?: boolean): void;
}

/** The socket side of a session, as commands and the executor see it (server/client.ts). */
export interface Connection extends ReplySink {
  readonly addr: string;
  readonly laddr: string;
  readonly fd: number;
  /** connected over the Unix socket */
  readonly viaUnixSocket: boolean;
  /** the peer's IP address (undefined over the Unix socket) */
  readonly remoteAddress: string | undefined;
  /** when bytes last came from the client (ms since the epoch) */
  readonly lastInteraction: number;
  replyMode: ReplyMode;
  /** drop the reply of the command now running (CLIENT REPLY OFF/SKIP answer nothing) */
  suppressReply: boolean;
  monitor: boolean;
  readonly closed: boolean;
  /** close once the pending replies are written */
  closeAfterReply: boolean;
  readonly queryBytes: number;
  readonly outputBytes: number;
  readonly memoryUsage: number;
  readonly waitingReplies: number;
  /** The current command must finish before the next is read. */
  pause(): void;
  resume(): void;
  /** RESET: session and connection back to a new client's state. */
  reset(): void;
  close(): void;
  /** Write what is queued now (see ReplySink.push). */
  flushOutput(): void;
  /** proto-max-bulk-len / client-query-buffer-limit changed */
  setRequestLimits(limits: { maxBulkLen?: number; maxQueryBuffer?: number }): void;
}

/** Server-wide counters for INFO stats. */
export interface ServerStats {
  connectionsReceived: number;
  commandsProcessed: number;
  rejectedConnections: number;
  errorReplies: number;
  startedAt: number;
  netInputBytes: number;
  netOutputBytes: number;
  /** clients closed by maxmemory-clients (INFO evicted_clients) */
  evictedClients: number;
}

/** What commands may know of persistence (the flusher). */
export interface Persistence {
  readonly healthy: boolean;
  readonly lastError: string;
  /** last change-log seq committed to PostgreSQL */
  readonly durableSeq: number;
  waitDurable(seq: number): Promise<void>;
}

/** Replication as its commands see it (replication/replication.ts). */
export interface ReplicationControl {
  readonly stats: { syncFull: number; syncPartialOk: number; syncPartialErr: number };
  /** REPLICAOF host port, or NO ONE (null) */
  follow(target: { host: string; port: number } | null): void;
  /** PSYNC from a follower on this connection: +FULLRESYNC or +CONTINUE, then the stream */
  psync(s: Session, conn: Connection, replid: string, offset: number, failover?: boolean): Promise<Reply>;
  /** FAILOVER (Redis 7): hand leadership over to a synced follower */
  failoverCommand(o: { to?: { host: string; port: number }; force: boolean; abort: boolean; timeoutMs: number }): Reply;
  /** REPLCONF; undefined: no reply (ACK, GETACK) */
  replconf(s: Session, args: Buffer[]): Reply | undefined;
  /** NOREPLICAS when min-replicas-to-write is not met (EXEC of writes checks it too) */
  writesRefused(): ErrorReply | undefined;
  /** WAIT: how many followers committed everything logged so far, once enough did or the timeout passed */
  wait(numreplicas: number, timeoutMs: number, inTransaction: boolean): Promise<number> | number;
  roleReply(): Reply;
  /** DEBUG CHANGE-REPL-ID: a new history id; the old one becomes replid2 */
  changeReplid(): void;
}

/** Full backups as BGSAVE sees them (src/backup/service.ts). */
export interface BackupControl {
  /** backup-cron or backup-dir is set: BGSAVE takes a full backup */
  readonly configured: boolean;
  /** Start a full backup now; false if one is running (`schedule`: then take one after it). */
  startBackup(schedule: boolean): boolean;
}

/** One key MIGRATE moves: RESTORE's arguments. */
export interface MigrateKey {
  name: Buffer;
  /** ms left to live, 0 = none (RESTORE's relative TTL) */
  ttl: number;
  /** DUMP payload */
  payload: Buffer;
}

/** A MIGRATE's transfer: where to, as whom, and the keys in order. */
export interface MigrateRequest {
  host: string;
  /** as given (Redis reads it as a number, anything else being port 0) */
  port: string;
  db: number;
  /** for connecting, writing and each reply (ms) */
  timeoutMs: number;
  username?: Buffer;
  password?: Buffer;
  replace: boolean;
  keys: MigrateKey[];
}

export interface MigrateResult {
  /** indices of the keys the target restored (MIGRATE deletes them unless COPY) */
  restored: number[];
  /** the error MIGRATE answers (without its leading '-'), none for OK */
  error?: string;
}

/** MIGRATE's client side: cached connections to target servers (server/migration.ts). */
export interface MigrationClient {
  migrate(request: MigrateRequest): Promise<MigrateResult>;
}

/** The server as the server-management commands see it. */
export interface ServerControl {
  /** users and their permissions */
  readonly acl: Acl;
  readonly keyspace: Keyspace;
  readonly config: ConfigStore;
  readonly log: Logger;
  readonly commands: CommandTable;
  readonly slowlog: Slowlog;
  readonly latency: LatencyMonitor;
  readonly latencyTracker: LatencyTracker;
  readonly blocking: Blocking;
  readonly stats: ServerStats;
  readonly errorCounts: Map<string, number>;
  readonly persistence: Persistence;
  /** keys in PostgreSQL, for KEYS/SCAN/RANDOMKEY of dbs not wholly in memory */
  readonly storedKeys: StoredKeys;
  /** every connected session, by id */
  readonly sessions: ReadonlyMap<number, Session>;
  readonly monitors: Set<Session>;
  /** pub/sub: who listens to which channel, pattern, shard channel (commands/pubsub.ts) */
  readonly pubsub: PubSubRegistry<Session>;
  /** client-side caching (CLIENT TRACKING): the tracking table and BCAST prefixes */
  readonly tracking: Tracking;
  /** hooks for state families keep per session (watch, blocking, pub/sub), run on RESET and close */
  readonly sessionResetHooks: Array<(s: Session) => void>;
  role: 'master' | 'slave';
  readonly replication: ReplicationControl;
  lastSave: number;
  /** full backups (BGSAVE when backups are configured) */
  readonly backups: BackupControl;
  /** MIGRATE's connections to other servers */
  readonly migration: MigrationClient;
  /** DEBUG SET-ACTIVE-EXPIRE */
  activeExpire: boolean;
  /** CLIENT PAUSE: returns true when it took the command to run later (commands/client-cmds.ts) */
  pauseGate: ((s: Session, cmd: Command, args: Buffer[]) => boolean) | undefined;
  /** Run a request as if it had just arrived (CLIENT UNPAUSE releasing held commands). */
  dispatch(s: Session, args: Buffer[]): void;
  /** Unload clean keys until the hot set fits maxmemory. */
  evict(maxScan?: number): void;
  /** The INFO text of these sections (observability/info.ts). */
  info(sections: string[]): string;
  /**
   * CONFIG SET port, before the option changes: listen on the new port (the
   * old listeners close when the change is applied); throws "Unable to listen
   * on this port: ..." if it cannot. `abandonListen` undoes it when the
   * CONFIG SET fails otherwise.
   */
  prepareListen(port: number): Promise<void>;
  abandonListen(): void;
  /** SHUTDOWN */
  onShutdownRequest(): void;
  /** The seq a message showing the effects logged since `since` must wait for (see Executor.durabilityGate). */
  durabilityGate(since: number): number;
  /** Show a command that ran to MONITOR clients once `gate` is durable. */
  feedMonitors(s: Session, args: Buffer[], gate: number): void;
  /** EVAL and friends: the script cache and the running script (execution/scripting.ts) */
  readonly scripting: Scripting;
  /** Run the commands of a transaction, each as the executor runs a command (EXEC). */
  runQueued(s: Session, queued: ReadonlyArray<{ cmd: Command; args: Buffer[] }>): Array<Reply | Promise<Reply>>;
}

/** A handler's context: one per session, made when the session is. */
export interface CommandContext {
  readonly session: Session;
  /** the socket behind the session, if any (none for the replication applier and scripts) */
  readonly connection: Connection | undefined;
  readonly keyspace: Keyspace;
  readonly config: ConfigStore;
  readonly server: ServerControl;
}
