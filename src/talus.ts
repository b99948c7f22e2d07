import { Acl, readAclFile } from './execution/acl.js';
import path from 'node:path';
import { ConfigError } from './config/schema.js';
import { clientInfoLine } from './commands/client-cmds.js';
import fs from 'node:fs';
import net from 'node:net';
import { Client, OUTPUT_BOUND, ReadStop } from './server/client.js';
import { BigReplies } from './server/big-replies.js';
import { BigReads } from './server/big-reads.js';
import { clientMemoryLimit, closeSlowListeners, evictClients, listenerOutputBudget } from './server/client-limits.js';
import { readConnection } from './server/connection-reads.js';
import { CommandTable, type Command } from './commands/table.js';
import type { Reply } from './protocol/reply.js';
import { allCommands, installCommandHooks } from './commands/index.js';
import { Keyspace } from './keyspace/keyspace.js';
import { Scheduler } from './keyspace/scheduler.js';
import { Changelog } from './replication/changelog.js';
import { openDatabase, type Database } from './storage/database.js';
import { startEmbeddedPostgres, type EmbeddedCluster } from './storage/embedded.js';
import { migrate, readLibraries, readStartState } from './storage/migrate.js';
import { Flusher } from './storage/flusher.js';
import { BATCH_VALUE_BYTES, Loader } from './storage/loader.js';
import { Janitor } from './storage/janitor.js';
import { NameFilterBuild } from './storage/name-filter-build.js';
import { NameFilter } from './keyspace/name-filter.js';
import { Logger } from './observability/logger.js';
import { Slowlog } from './observability/slowlog.js';
import { LatencyMonitor } from './observability/latency.js';
import { LatencyTracker } from './observability/latency-histogram.js';
import type { ConfigStore } from './config/store.js';
import { ActiveExpiry } from './keyspace/expiry.js';
import { MemoryGuard } from './server/memory.js';
import { Blocking } from './execution/blocking.js';
import { Executor } from './execution/executor.js';
import { Scripting } from './execution/scripting.js';
import { ScriptEngine } from './scripting/engine.js';
import type { Persistence, ServerControl, ServerStats } from './execution/context.js';
import type { Session } from './execution/session.js';
import { PostgresStoredKeys } from './storage/stored-keys.js';
import { PubSubRegistry } from './pubsub/registry.js';
import { KeyspaceNotifier } from './pubsub/keyspace-events.js';
import { publish } from './commands/pubsub.js';
import { pauseWritesForFailover } from './commands/client-cmds.js';
import { buildInfo, infoFields, runtimeOf } from './observability/info.js';
import { Metrics } from './observability/metrics.js';
import { HealthServer } from './observability/http.js';
import { Tracking } from './execution/tracking.js';
import { Replication } from './replication/replication.js';
import { ReplicationStore, readReplicationRow } from './storage/replication-store.js';
import { ErrorReply } from './protocol/reply.js';
import { PROTECTED_MODE_DENIED, refusedByProtectedMode } from './server/protected-mode.js';
import { BackupService } from './backup/service.js';
import { MigrationLinks } from './server/migration.js';
import { ApplyQueue, type ApplierHost } from './replication/applier.js';

/**
 * One Talus server: storage, hot set, the executor and the listener. What
 * commands may see of it is ServerControl (execution/context.ts).
 */
export class Talus implements ServerControl {
  readonly log: Logger;
  readonly commands = new CommandTable();
  /** users and their permissions (ACL) */
  readonly acl: Acl;
  readonly clients = new Map<number, Client>();
  readonly awaitingDurability = new Set<Client>();
  readonly slowlog: Slowlog;
  /** LATENCY: events slower than latency-monitor-threshold (observability/latency.ts) */
  readonly latency = new LatencyMonitor(() => this.config.values.latencyMonitorThreshold);
  /** Per-command latency histograms (latency-tracking): INFO latencystats, LATENCY HISTOGRAM */
  readonly latencyTracker = new LatencyTracker();
  /** /metrics: INFO's fields at scrape time plus the cold-read and commit histograms */
  readonly metrics = new Metrics(() => infoFields(this, ['everything']));
  /** the metrics-port listener (/metrics, /healthz, /readyz), when metrics-port is set */
  private health: HealthServer | undefined;
  readonly stats: ServerStats = {
    connectionsReceived: 0,
    commandsProcessed: 0,
    rejectedConnections: 0,
    errorReplies: 0,
    startedAt: Date.now(),
    netInputBytes: 0,
    netOutputBytes: 0,
    evictedClients: 0,
  };
  keyspace!: Keyspace;
  scheduler!: Scheduler;
  /** clients blocked on keys (BLPOP, BZPOPMIN...): see execution/blocking.ts */
  blocking!: Blocking;
  flusher!: Flusher;
  loader!: Loader;
  database!: Database;
  embedded: EmbeddedCluster | undefined;
  /** LASTSAVE without backups: when everything was last known committed (SAVE, BGSAVE) */
  private savedAt = Math.floor(Date.now() / 1000);
  /** full backups and change-log archives (src/backup/service.ts) */
  backups!: BackupService;
  private servers: net.Server[] = [];
  private nextClientId = 1;
  private cron: NodeJS.Timeout | undefined;
  readonly memory = new MemoryGuard(() => this.resumeThrottled());
  private janitor: Janitor | undefined;
  private nameFilterBuild: NameFilterBuild | undefined;
  private expiry: ActiveExpiry | undefined;
  private shuttingDown = false;
  readonly monitors = new Set<Session>();
  /** MIGRATE's cached connections to target servers */
  readonly migration = new MigrationLinks();
  /** the session of every connection, by client id */
  readonly sessions = new Map<number, Session>();
  /** EVAL and friends (made in start: the Lua engine loads asynchronously) */
  scripting!: Scripting;
  /** pub/sub: who listens to which channel, pattern, shard channel (commands/pubsub.ts) */
  readonly pubsub = new PubSubRegistry<Session>();
  /** keyspace notifications (notify-keyspace-events), fed by the mutation seam */
  readonly notifier = new KeyspaceNotifier(
    (channel, message, gate) => void publish(this, 'channel', channel, message, gate),
    () => this.executor.durabilityGate(this.flusher.durableSeq),
  );
  /** client-side caching (CLIENT TRACKING), fed by the mutation seam */
  readonly tracking = new Tracking({
    session: (id) => this.sessions.get(id),
    gate: () => this.executor.durabilityGate(this.flusher.durableSeq),
    maxKeys: () => this.config.values.trackingTableMaxKeys,
  });
  readonly executor: Executor;
  storedKeys!: PostgresStoredKeys;
  port = 0;
  /** replication role, as ROLE and INFO report it */
  role: 'master' | 'slave' = 'master';
  /** followers fed by this server, and its link to a leader (replication/replication.ts) */
  replication!: Replication;
  /** DEBUG SET-ACTIVE-EXPIRE: the cron's active expiry cycle runs only while true */
  activeExpire = true;
  /** error replies by code (the first word: ERR, WRONGTYPE...), for INFO errorstats */
  readonly errorCounts = new Map<string, number>();
  /** CLIENT PAUSE: returns true when it took the command to run later (commands/client-cmds.ts) */
  pauseGate: ((s: Session, cmd: Command, args: Buffer[]) => boolean) | undefined;

  /** the normal or pubsub class has a client-output-buffer-limit (clients check it as they write) */
  outputLimitsOn = false;
  /** the smallest client-output-buffer-limit of any class (bytes, 0 when none): below it no client is over its limit */
  outputLimitFloor = 0;
  /** maxmemory-clients in bytes (0 = off) */
  clientMemoryLimit = 0;
  /** a client's requests stop running while its unsent output is over this (server/client.ts OUTPUT_BOUND) */
  clientOutputBound = OUTPUT_BOUND;
  /** subscribers' and monitors' unsent output, all together, stays under this (server/client-limits.ts) */
  listenerOutputBudget = listenerOutputBudget(0);
  /** bytes pushed to listeners since their output was last measured (see notePushed) */
  private pushedSinceCheck = 0;
  /** incomplete big requests of all clients, bounded together (server/big-reads.ts) */
  readonly bigReads = new BigReads(Infinity);
  readonly bigReplies = new BigReplies(Infinity, () => this.scheduler?.reopen());

  constructor(readonly config: ConfigStore) {
    const v = config.values;
    this.log = new Logger(v.loglevel, v.logfile, v.logFormat);
    this.slowlog = new Slowlog(config);
    this.commands.register(allCommands);
    this.acl = new Acl(this.commands);
    this.acl.setRequirepass(v.requirepass);
    try {
      this.acl.declare(config.users);
    } catch (err) {
      throw new ConfigError(`Aborting Talus startup because of ACL errors: ${(err as Error).message}`);
    }
    if (v.aclfile !== '') {
      let text: string;
      try {
        text = readAclFile(this.aclfilePath);
      } catch (err) {
        throw new ConfigError(`Aborting Talus startup because of ACL errors: ${(err as Error).message}`);
      }
      const users = this.acl.parseFile(text, this.aclfilePath);
      if (typeof users === 'string') throw new ConfigError(`Aborting Talus startup because of ACL errors: ${users}`);
      this.acl.replaceUsers(users);
    }
    // CONFIG REWRITE writes every user as a `user` line, as Redis (none when an aclfile keeps them)
    config.userLines = () => (this.config.values.aclfile !== '' ? [] : this.acl.fileText().split('\n').filter((l) => l !== ''));
    this.acl.describeClient = (s, current) => (s.connection === undefined ? '' : clientInfoLine(s, this.config.values.unixsocket, current));
    config.onChange('requirepass', (p) => this.acl.setRequirepass(p as string));
    config.onChange('loglevel', (level) => (this.log.level = level as Logger['level']));
    const clientLimits = () => {
      const { clientOutputBufferLimit: obl, maxmemoryClients, maxmemory } = this.config.values;
      const limits = [obl.normal, obl.pubsub, obl.replica].flatMap((l) => [l.hardBytes, l.softBytes]).filter((b) => b > 0);
      this.outputLimitsOn = limits.length > 0;
      this.outputLimitFloor = limits.length > 0 ? Math.min(...limits) : 0;
      this.clientOutputBound = Math.max(OUTPUT_BOUND, obl.normal.hardBytes, obl.normal.softBytes);
      this.clientMemoryLimit = clientMemoryLimit(maxmemoryClients, maxmemory);
      this.bigReads.budget = bigReadBudget(maxmemory);
      this.bigReplies.budget = bigReadBudget(maxmemory);
      this.listenerOutputBudget = listenerOutputBudget(maxmemory);
    };
    clientLimits();
    for (const name of ['client-output-buffer-limit', 'maxmemory-clients', 'maxmemory']) config.onChange(name, clientLimits);
    this.executor = new Executor(this, this);
    installCommandHooks(this);
  }

  /** the aclfile option's path, relative to `dir` as Redis reads it after changing to its working directory */
  get aclfilePath(): string {
    return path.resolve(this.config.values.dir, this.config.values.aclfile);
  }

  /** LASTSAVE: with backups configured, when the last full backup ended */
  get lastSave(): number {
    return this.backups?.configured && this.backups.lastTime > 0 ? this.backups.lastTime : this.savedAt;
  }

  set lastSave(t: number) {
    this.savedAt = t;
  }

  /** the database this server writes to (the embedded cluster's, or database-url) */
  databaseUrl = '';

  get persistence(): Persistence {
    return this.flusher;
  }

  info(sections: string[]): string {
    return buildInfo(this, sections);
  }

  dispatch(s: Session, args: Buffer[]): void {
    this.executor.dispatch(s, args);
  }

  durabilityGate(since: number): number {
    return this.executor.durabilityGate(since);
  }

  feedMonitors(s: Session, args: Buffer[], gate: number): void {
    this.executor.feedMonitors(s, args, gate);
  }

  runQueued(s: Session, queued: ReadonlyArray<{ cmd: Command; args: Buffer[] }>): Array<Reply | Promise<Reply>> {
    return this.executor.runQueued(s, queued);
  }

  async start(): Promise<void> {
    const v = this.config.values;
    let url = v.databaseUrl;
    if (!url) {
      this.embedded = await startEmbeddedPostgres({ dir: v.dir, port: v.embeddedPgPort, userNamespace: v.embeddedPgUserNamespace, log: this.log });
      url = this.embedded.url;
    }
    this.databaseUrl = url;
    this.database = openDatabase(url, v.pgPoolSize, (err) => this.log.verbose(`PostgreSQL connection error: ${err.message}`));
    const version = await migrate(this.database.pool, this.log);
    this.log.notice(`storage ready (schema version ${version})`);

    const db = this.database.db;
    const { lastSeq, epoch, counts } = await readStartState(db);

    this.keyspace = new Keyspace(v.databases, new Changelog(lastSeq));
    this.keyspace.setEpoch(epoch);
    const lfuSettings = () => {
      const { maxmemoryPolicy, lfuLogFactor, lfuDecayTime } = this.config.values;
      Object.assign(this.keyspace.lfu, { enabled: maxmemoryPolicy.endsWith('-lfu'), logFactor: lfuLogFactor, decayMinutes: lfuDecayTime });
    };
    lfuSettings();
    for (const name of ['maxmemory-policy', 'lfu-log-factor', 'lfu-decay-time']) this.config.onChange(name, lfuSettings);
    for (const d of this.keyspace.dbs) d.complete = true;
    for (const { db: i, n } of counts) {
      const d = this.keyspace.dbs[i];
      if (!d) throw new Error(`PostgreSQL holds keys of db ${i} but databases is ${v.databases}`);
      d.count = n;
      d.complete = n === 0;
    }
    // Name filters (docs/architecture.md, "Names known absent"): ready at once
    // for empty dbs, built in the background for the others (start, below).
    this.keyspace.nameFilterMaxBytes = v.nameFilterMaxMemory;
    for (const d of this.keyspace.dbs) {
      d.names = d.count === 0 ? this.keyspace.emptyNameFilter() : NameFilter.create(d.count, v.nameFilterMaxMemory, false);
    }
    this.flusher = new Flusher(
      this.database,
      this.keyspace,
      this.log,
      (seq) => this.releaseReplies(seq),
      (seq, err) => {
        for (const c of this.awaitingDurability) c.onCommitFailed(seq, err);
        this.resumeThrottled();
      },
      () => {
        const { appendfsync, flushIntervalMs } = this.config.values;
        // everysec promises a commit at least every second; `no` takes the interval as set
        return appendfsync === 'always' ? 0 : appendfsync === 'everysec' ? Math.min(flushIntervalMs, 1000) : flushIntervalMs;
      },
    );
    // a restarted embedded PostgreSQL: commit what waits without the rest of the backoff
    if (this.embedded) this.embedded.onRestarted = () => this.flusher.retryNow();
    this.loader = new Loader(db, this.keyspace, this.flusher);
    this.loader.bigValueBudget = () => this.bigReads.budget;
    this.loader.batchValueBytes = () => batchValueBytes(this.config.values.maxmemory);
    this.loader.streamMinRows = () => streamMinRows(this.config.values.maxmemory);
    // the flusher holds one connection and cold reads take two at a time: streams share the rest
    this.loader.maxOpenStreams = Math.max(1, Math.floor((v.pgPoolSize - 2) / 2));
    this.loader.outgoingBytes = () => {
      let n = 0;
      for (const c of this.clients.values()) n += c.outputBytes;
      return n;
    };
    this.loader.crowded = () => {
      const maxmemory = this.config.values.maxmemory;
      return maxmemory > 0 && this.keyspace.bytes >= maxmemory;
    };
    this.loader.pagedThreshold = this.config.values.pagedCollectionThreshold;
    this.config.onChange('paged-collection-threshold', (n) => (this.loader.pagedThreshold = n as number));
    // Cold reads grow the hot set between cron passes: make room as they land
    // (keys that waiting commands need are claimed and stay).
    this.loader.onAdmitted = () => {
      const v = this.config.values;
      if (v.maxmemory > 0 && v.maxmemoryPolicy !== 'noeviction' && this.keyspace.bytes > v.maxmemory) this.evict(2000);
    };
    this.loader.onRead = (ms) => {
      this.latency.note('cold-read', ms);
      this.metrics.coldReadSeconds.observe(ms / 1000);
    };
    await this.warmUpStorage();
    this.scheduler = new Scheduler(this.loader);
    this.scheduler.gate = () => this.bigReplies.open;
    this.blocking = new Blocking(this, this.executor);
    this.keyspace.mutationListeners.push((m) => this.notifier.onMutation(m));
    this.keyspace.missListeners.push((db, key) => this.notifier.onMiss(db, key));
    this.keyspace.mutationListeners.push((m) => this.tracking.onMutation(m));
    this.sessionResetHooks.push((s) => this.tracking.disable(s));
    this.notifier.configure(v.notifyKeyspaceEvents);
    this.config.onChange('notify-keyspace-events', (flags) => this.notifier.configure(flags as string));
    this.storedKeys = new PostgresStoredKeys(db, this.keyspace, this.flusher);
    this.backups = new BackupService({
      log: this.log,
      config: this.config,
      databaseUrl: () => this.databaseUrl,
      currentSeq: () => this.keyspace.changelog.seq,
    });
    this.janitor = new Janitor(db, this.log, () => ({
      bytes: this.config.values.changelogRetention,
      seconds: this.config.values.changelogRetentionSeconds,
      keepAfter: this.backups.keepChangelogAfter(),
      neededFrom: this.replication?.neededFrom(),
    }), () => this.loader.lastReadAt);
    this.flusher.committedListeners.push(() => this.latency.note('postgres-commit', this.flusher.stats.lastCommitMs));
    let entriesBefore = 0;
    this.flusher.committedListeners.push(() => {
      const { entries, lastCommitMs } = this.flusher.stats;
      this.metrics.commitSeconds.observe(lastCommitMs / 1000);
      this.metrics.commitBatchSize.observe(entries - entriesBefore);
      entriesBefore = entries;
    });
    this.flusher.committedListeners.push((log) => {
      if (log.bytes.length > 0) this.janitor?.noteAppended(log.bytes.length, log.lastSeq);
    });
    this.expiry = new ActiveExpiry(this.keyspace, this.scheduler, this.flusher, this.storedKeys);
    const talus = this;
    this.replication = new Replication(
      {
        log: this.log,
        config: this.config,
        keyspace: this.keyspace,
        flusher: this.flusher,
        store: new ReplicationStore(db),
        get port() {
          return talus.port;
        },
        runId: runtimeOf(this).runId,
        get backupsConfigured() {
          return talus.backups?.configured === true;
        },
        pauseWrites: (on) => pauseWritesForFailover(this, on),
        get role() {
          return talus.role;
        },
        set role(r) {
          talus.role = r;
        },
        openApplier: (onReply) => this.openApplier(onReply),
        dispatch: (s, args) => this.executor.dispatch(s, args),
        prefetch: (s, args) => this.executor.prefetch(s, args),
      },
      await readReplicationRow(db),
    );
    this.replication.prepare();
    await this.startScripting();
    await this.backups.start();
    this.startCron();
    this.config.onChange('hz', () => this.startCron());
    // health first: whoever sees "Ready to accept connections" can scrape at once
    await this.listenHealth();
    this.memory.settle();
    await this.listen();
    this.replication.start();
    // after listening: the build must not delay start (until a db's filter is ready, its misses are read as before)
    this.nameFilterBuild = new NameFilterBuild(db, this.keyspace, this.flusher, this.log);
    this.nameFilterBuild.start();
  }

  /** The session a follower applies its leader's records in: no socket, authenticated, flagged `master`. */
  private openApplier(onReply: (r: Reply) => void): Session {
    const s = this.executor.openSession(this.nextClientId++, {
      deliver: (reply) => onReply(reply),
      push: () => undefined,
    });
    s.authenticated = true;
    s.flags.add('master');
    return s;
  }

  /**
   * An apply queue on a session of its own: change-log records run through
   * the executor as a follower runs its leader's, transactions included, but
   * logged as their effects (no relay: restore replay, src/backup/restore.ts).
   */
  openApplyQueue(): ApplyQueue {
    const host: ApplierHost = {
      log: this.log,
      applier: this.openApplier((r) => host.onApplierReply?.(r)),
      dispatch: (s, args) => this.executor.dispatch(s, args),
      onApplierReply: undefined,
      prefetch: (s, args) => this.executor.prefetch(s, args),
    };
    return new ApplyQueue(host);
  }

  replicationRefusal(s: Session, cmd: Command, args: Buffer[]): ErrorReply | undefined {
    return this.replication?.refuse(s, cmd, args);
  }

  /** The Lua engine and the session scripts run their commands as (no connection: replies stay with the script). */
  private async startScripting(): Promise<void> {
    const engine = await ScriptEngine.create(this.config.values.luaHeapLimit);
    this.config.onChange('lua-heap-limit', (n) => engine.setHeapLimit(n as number));
    const ignore = { deliver: () => undefined, push: () => undefined };
    const session = this.executor.openSession(0, ignore);
    const executor = this.executor;
    this.scripting = new Scripting(engine, session, {
      callFromScript: (s, args, run) => executor.callFromScript(s, args, run),
      aclAllows: (c, args) => executor.aclAllows(c, args),
      holdScheduler: (held) => this.scheduler.hold(held),
      busyThreshold: () => this.config.values.busyReplyThreshold,
      beginEffects: () => this.keyspace.beginScriptLog(),
      endEffects: () => this.keyspace.endScriptLog(),
    }, this.log);
    this.scripting.onRelease((s, args) => executor.dispatch(s, args));
    executor.scripting = this.scripting;
    executor.scriptSession = session;
    // FUNCTION LOAD's libraries, as committed (migrations/0011)
    for (const lib of await readLibraries(this.database.db)) {
      const loaded = this.scripting.functions.load(lib.code, true);
      if (loaded instanceof ErrorReply) this.log.warning(`function library ${lib.name} stored in PostgreSQL does not load: ${loaded.message}`);
    }
  }

  /**
   * Before the first client: open every pool connection and run the cold-read
   * statements once on each (Loader.warmUp), so that the first requests after
   * a restart do not pay for new backends. A failure only costs that speed.
   */
  private async warmUpStorage(): Promise<void> {
    const t = performance.now();
    try {
      await this.database.onEachConnection(this.config.values.pgPoolSize, (conn) => this.loader.warmUp(conn));
      this.log.verbose(`PostgreSQL connections warmed up in ${Math.round(performance.now() - t)} ms`);
    } catch (err) {
      this.log.warning(`PostgreSQL warm-up failed: ${(err as Error).message}`);
    }
  }

  private async listen(): Promise<void> {
    const v = this.config.values;
    const binds = v.bind.split(/\s+/).filter(Boolean);
    this.tcpServers = await this.listenTcp(this.port || v.port);
    if (this.tcpServers[0]) this.port = (this.tcpServers[0].address() as net.AddressInfo).port;
    if (v.unixsocket) {
      fs.rmSync(v.unixsocket, { force: true });
      const server = net.createServer({ pauseOnConnect: true }, (socket) => this.accept(socket));
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(v.unixsocket, () => resolve());
      });
      this.servers.push(server);
    }
    this.config.onChange('port', (p) => this.adoptPort(p as number));
    this.log.notice(`Ready to accept connections on ${binds.join(' ')} port ${this.port}`);
  }

  /** /metrics, /healthz and /readyz on metrics-port at the bind addresses (observability/http.ts). */
  private async listenHealth(): Promise<void> {
    const v = this.config.values;
    if (v.metricsPort === 0) return;
    this.metrics.includeProcessMetrics();
    this.health = new HealthServer({
      metrics: async () => ({ text: await this.metrics.render(), contentType: this.metrics.contentType }),
      notReady: () => this.notReady(),
    });
    const port = await this.health.listen(v.metricsPort, v.bind.split(/\s+/).filter(Boolean));
    this.log.notice(`Metrics and health endpoints on port ${port} (/metrics, /healthz, /readyz)`);
  }

  /** Readiness: PostgreSQL answers, nothing loading, and a follower's link is up with no full sync running. */
  private async notReady(): Promise<string[]> {
    const reasons: string[] = [];
    if (this.shuttingDown) reasons.push('shutting down');
    if (this.replication?.loading) reasons.push('loading the dataset');
    if (this.role === 'slave') {
      const info = new Map(this.replication.infoFields());
      if (info.get('master_link_status') !== 'up') reasons.push('link to the leader is down');
      if (info.get('master_sync_in_progress') === 1) reasons.push('full sync in progress');
    }
    try {
      await this.database.ping(2_000);
    } catch (err) {
      reasons.push(`PostgreSQL unreachable: ${(err as Error).message}`);
    }
    return reasons;
  }

  /** TCP listeners on `port` for every bind address (none for port 0); all or none. */
  private async listenTcp(port: number): Promise<net.Server[]> {
    if (port === 0 && this.tcpServers.length > 0) return [];
    const binds = this.config.values.bind.split(/\s+/).filter(Boolean);
    const opened: net.Server[] = [];
    try {
      for (const host of binds.length ? binds : ['127.0.0.1']) {
        const server = net.createServer({ pauseOnConnect: true }, (socket) => this.accept(socket));
        await new Promise<void>((resolve, reject) => {
          server.once('error', reject);
          server.listen({ port: opened[0] ? (opened[0].address() as net.AddressInfo).port : port, host: host.replace(/^-/, ''), backlog: 511 }, () => {
            server.off('error', reject);
            resolve();
          });
        });
        opened.push(server);
      }
    } catch (err) {
      for (const s of opened) s.close();
      throw err;
    }
    return opened;
  }

  private tcpServers: net.Server[] = [];
  /** listeners opened by CONFIG SET port before the option changes (prepareListen) */
  private pendingListen: { port: number; servers: net.Server[] } | undefined;

  async prepareListen(port: number): Promise<void> {
    this.abandonListen();
    try {
      this.pendingListen = { port, servers: await this.listenTcp(port) };
    } catch (err) {
      throw new Error(`Unable to listen on this port: ${(err as Error).message}`);
    }
  }

  abandonListen(): void {
    for (const s of this.pendingListen?.servers ?? []) s.close();
    this.pendingListen = undefined;
  }

  /** The port option changed: serve on the listeners prepared for it and close the old ones (connections stay). */
  private adoptPort(port: number): void {
    const ready = this.pendingListen;
    if (ready === undefined || ready.port !== port) return;
    this.pendingListen = undefined;
    for (const s of this.tcpServers) s.close();
    this.tcpServers = ready.servers;
    this.port = port;
    this.log.notice(`now listening on port ${port}`);
  }

  /** A connection accepted by a listener (made with `pauseOnConnect`: server/connection-reads.ts starts its reads). */
  private accept(accepted: net.Socket): void {
    this.stats.connectionsReceived++;
    const v = this.config.values;
    if (this.clients.size >= v.maxclients || this.shuttingDown) {
      this.stats.rejectedConnections++;
      accepted.resume();
      accepted.end('-ERR max number of clients reached\r\n');
      return;
    }
    if (refusedByProtectedMode(v, accepted.remoteAddress)) {
      this.stats.rejectedConnections++;
      accepted.resume();
      accepted.end(PROTECTED_MODE_DENIED);
      return;
    }
    let client: Client | undefined;
    const socket = readConnection(accepted, (chunk) => {
      this.stats.netInputBytes += chunk.length;
      client!.onData(chunk);
    });
    socket.setNoDelay(true);
    if (v.tcpKeepalive > 0) socket.setKeepAlive(true, v.tcpKeepalive * 1000);
    client = new Client(this, socket, this.nextClientId++);
    this.clients.set(client.id, client);
    this.sessions.set(client.id, client.session);
    const closed = client;
    socket.on('error', () => closed.close());
    socket.on('close', () => closed.close());
  }

  /** Hooks for state other modules keep per session (pub/sub, blocking, watch). */
  readonly sessionResetHooks: Array<(s: Session) => void> = [];

  onSessionReset(s: Session): void {
    for (const h of this.sessionResetHooks) h(s);
  }

  onClientClosed(c: Client): void {
    this.replication?.closed(c.session);
    this.onSessionReset(c.session);
    this.throttled.delete(c);
    this.clients.delete(c.id);
    this.sessions.delete(c.id);
    this.awaitingDurability.delete(c);
    this.monitors.delete(c.session);
  }

  private releaseReplies(seq: number): void {
    // MONITOR lines after the replies of the same commit: the line of a
    // command is not written before the command's own reply.
    let monitors = false;
    for (const c of this.awaitingDurability) {
      if (c.monitor) monitors = true;
      else if (!c.onDurable(seq)) this.awaitingDurability.delete(c);
    }
    if (monitors) {
      for (const c of this.awaitingDurability) {
        if (c.monitor && !c.onDurable(seq)) this.awaitingDurability.delete(c);
      }
    }
    this.resumeThrottled();
  }

  private resumeThrottled(): void {
    if (this.throttled.size === 0 || this.commitBacklogFull()) return;
    const clients = [...this.throttled];
    this.throttled.clear();
    for (const c of clients) {
      c.resumeReading(ReadStop.backlog);
      setImmediate(() => c.process());
    }
  }

  /**
   * Writers that do not wait for commits (appendfsync everysec/no, deep
   * pipelines) can dirty keys faster than PostgreSQL commits them; past this
   * many dirty keys their clients stop being read until a commit catches up,
   * which keeps each commit (and the event-loop time to stage it) bounded.
   */
  static readonly MAX_DIRTY_KEYS = 20_000;
  private readonly throttled = new Set<Client>();

  commitBacklogFull(): boolean {
    const ks = this.keyspace;
    if (!this.flusher.healthy) return false;
    // near the memory bound, writes wait for the collection that runs (server/memory.ts)
    if (this.memory.pressing) return true;
    const dirty = ks.dirtyCount;
    if (dirty >= Talus.MAX_DIRTY_KEYS) return true;
    // Also bound the bytes a commit carries to a share of maxmemory: a
    // commit's parameters cost memory too. The change log's effects are
    // counted exactly (ten 1 MB SETs to one key are one dirty key but 10 MB of
    // effects); dirty values are estimated from the average resident entry.
    const maxmemory = this.config.values.maxmemory;
    if (maxmemory <= 0) return false;
    const bound = Math.max(2 << 20, maxmemory / 32);
    // the commit in flight holds its effects too (and PostgreSQL's copies of them)
    if (ks.changelog.pendingBytes + this.flusher.inFlightBytes + this.executor.waitingWriteBytes > bound) return true;
    if (dirty < 256) return false;
    let resident = 0;
    for (const db of ks.dbs) resident += db.entries.size;
    return dirty * (ks.bytes / Math.max(1, resident)) > bound;
  }

  /**
   * Whether a request can add to the commit backlog, and so waits while it
   * is full: a command that may write (scripts that may, included) or EXEC.
   */
  addsToBacklog(args: Buffer[]): boolean {
    const cmd = this.commands.lookup(args[0]!);
    return cmd !== undefined && (cmd.mayReplicate || cmd.name === 'exec');
  }

  /**
   * Whether a request waits while big replies are written (server/big-replies.ts):
   * those that read data (keys, transactions, scripts, KEYS) may make one; INFO,
   * PING, CLIENT and the like (Sentinel's probes, an operator looking) do not wait.
   */
  waitsForBigReplies(args: Buffer[]): boolean {
    const cmd = this.commands.lookup(args[0]!);
    if (cmd === undefined) return false;
    const def = cmd.def;
    return def.keys !== undefined || def.movableKeys !== undefined || cmd.hasKeyRefsHook || BIG_REPLY_KEYLESS.has(cmd.name);
  }

  /** clients not read until the commit backlog shrinks (INFO talus throttled_clients) */
  get throttledCount(): number {
    return this.throttled.size;
  }

  throttle(c: Client): void {
    this.throttled.add(c);
    c.stopReading(ReadStop.backlog);
    this.flusher.schedule();
  }

  /** maxmemory-clients: close the clients holding the most memory until the rest fit (server/client-limits.ts). */
  evictClients(): void {
    this.stats.evictedClients += evictClients(this, this.clientMemoryLimit);
  }

  /**
   * A client was pushed `bytes` it did not ask for (pub/sub, MONITOR,
   * invalidations). The cron bounds listeners' output ten times a second; a
   * fast publisher could pile up far more than the budget in between, so
   * every eighth of the budget pushed measures it at once.
   */
  notePushed(bytes: number): void {
    this.pushedSinceCheck += bytes;
    if (this.pushedSinceCheck > this.listenerOutputBudget / 8) this.boundListenerOutput();
  }

  /** Close the subscribers and monitors holding the most unsent output while all of it is over budget. */
  private boundListenerOutput(): void {
    this.pushedSinceCheck = 0;
    this.stats.evictedClients += closeSlowListeners(this, this.listenerOutputBudget);
  }

  /** Unload clean keys until the hot set fits maxmemory (they stay in PostgreSQL). */
  evict(maxScan?: number): void {
    // Not while a script runs or waits for a key: the key it waits for would go as it lands, again and again.
    if (this.scripting?.current !== undefined) return;
    // below maxmemory while the process's RSS is near its bound (MemoryGuard.squeeze)
    this.keyspace.evict(this.config.values.maxmemory - this.memory.squeeze, (d, n) => this.scheduler.isClaimed(d, n), maxScan);
  }

  /** Run serverCron `hz` times a second (clamped to 1..500 like Redis). */
  private startCron(): void {
    clearInterval(this.cron);
    if (this.shuttingDown) return;
    const hz = Math.min(500, Math.max(1, this.config.values.hz));
    this.cron = setInterval(() => this.serverCron(), 1000 / hz);
  }

  /** When the cron last ran the tasks that query PostgreSQL (at most 10 times a second whatever hz is). */
  private lastStorageCron = 0;

  /**
   * Redis's serverCron, `hz` times a second: expiry of resident keys,
   * eviction, idle clients. What queries PostgreSQL (cold expiry, janitor)
   * and the memory check run at most every 100 ms, so a high hz costs no
   * extra queries.
   */
  private serverCron(): void {
    const v = this.config.values;
    const now = Date.now();
    const storageToo = now - this.lastStorageCron >= 100;
    if (storageToo) {
      this.lastStorageCron = now;
      this.bigReads.tick(now);
    }
    let started = performance.now();
    // no expiry while a script runs (paused for a cold key or its time slice): it sees one moment, as in Redis
    if (this.activeExpire && this.scripting?.current === undefined) this.expiry?.cycle(storageToo);
    this.notifier.flush(); // expired events of this cycle
    if (this.tracking.clientCount > 0) this.tracking.limit(); // tracking-table-max-keys, as Redis's cron does
    this.latency.note('expire-cycle', performance.now() - started);
    if (v.maxmemory > 0 && v.maxmemoryPolicy !== 'noeviction') {
      started = performance.now();
      this.evict();
      this.latency.note('eviction-cycle', performance.now() - started);
    }
    if (storageToo) this.memory.tick(this.keyspace?.bytes ?? 0, v.maxmemory);
    // Output limits also while nothing is written (a soft limit's time runs out); then client eviction.
    if (this.outputLimitsOn) for (const c of [...this.clients.values()]) c.overOutputLimit();
    if (storageToo) this.boundListenerOutput();
    if (this.clientMemoryLimit > 0) this.evictClients();
    if (v.timeout > 0) {
      const limit = Date.now() - v.timeout * 1000;
      for (const c of this.clients.values()) {
        if (c.lastInteraction < limit && !c.monitor && !c.session.flags.has('slave') && c.waitingReplies === 0 && !c.session.flags.has('pubsub') && !this.blocking.isBlocked(c.session)) c.close();
      }
    }
    if (storageToo) void this.janitor?.tick();
    this.replication?.cron();
  }

  /** SHUTDOWN asks the process to stop (main wires this to its signal path). */
  onShutdownRequest: () => void = () => void this.shutdown();

  /** Stop accepting, commit what is dirty, close storage. */
  async shutdown(): Promise<void> {
    if (this.shuttingDown) return;
    this.shuttingDown = true;
    this.log.notice('shutting down: committing pending writes');
    clearInterval(this.cron);
    for (const s of [...this.servers, ...this.tcpServers]) s.close();
    this.health?.close();
    this.abandonListen();
    this.replication?.stop();
    this.migration.close();
    for (const c of this.clients.values()) c.stopReading(ReadStop.shutdown);
    await this.flusher?.drain().catch((err) => this.log.warning(`final commit failed: ${err.message}`));
    for (const c of [...this.clients.values()]) c.close();
    this.keyspace?.closeAllPagedRows();
    await this.backups?.stop().catch((err) => this.log.warning(`backup shutdown: ${(err as Error).message}`));
    await this.janitor?.stop();
    this.nameFilterBuild?.stop();
    await this.database?.close().catch(() => undefined);
    await this.embedded?.stop();
    this.log.notice('Talus is now ready to exit, bye bye...');
    this.log.close();
  }
}

/** Keyless commands that may answer with much data (see Talus.waitsForBigReplies). */
const BIG_REPLY_KEYLESS = new Set(['exec', 'eval', 'evalsha', 'eval_ro', 'evalsha_ro', 'fcall', 'fcall_ro', 'keys', 'scan', 'sort', 'sort_ro', 'function']);

/**
 * Bytes of big requests buffered at once (server/big-reads.ts), and of big
 * cold values read from PostgreSQL at once (Loader.bigValueBudget): a
 * quarter of maxmemory, between 8 and 256 MB, so that big values arriving or
 * read together stay a share of the 200 MB Talus may hold beyond maxmemory.
 * Without maxmemory, memory is not bounded, and neither are these.
 */
function bigReadBudget(maxmemory: number): number {
  if (maxmemory <= 0) return Infinity;
  return Math.min(256 << 20, Math.max(8 << 20, Math.floor(maxmemory / 4)));
}

/**
 * Loader.streamMinRows: rows of a paged collection past which a client's
 * HGETALL, SMEMBERS, LRANGE... streams them from PostgreSQL instead of
 * reading them into the hot set: those that would take a quarter of
 * maxmemory there (at HASH_FIELD_OVERHEAD-like 320 bytes a member at least).
 * Without maxmemory, never: everything may be resident, as in Redis.
 */
function streamMinRows(maxmemory: number): number {
  return maxmemory > 0 ? Math.ceil(maxmemory / 4 / 320) : Infinity;
}

/** Loader.batchValueBytes: an eighth of maxmemory, between 4 and 16 MB. */
function batchValueBytes(maxmemory: number): number {
  if (maxmemory <= 0) return BATCH_VALUE_BYTES;
  return Math.min(BATCH_VALUE_BYTES, Math.max(4 << 20, Math.floor(maxmemory / 8)));
}
