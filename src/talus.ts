import fs from 'node:fs';
import net from 'node:net';
import { sql } from 'kysely';
import { Client, OUTPUT_BOUND, ReadStop } from './server/client.js';
import { clientMemoryLimit, evictClients } from './server/client-limits.js';
import { CommandTable, type Command } from './commands/table.js';
import { Errors } from './commands/errors.js';
import { ErrorReply, QUEUED, SimpleString, type Reply } from './protocol/reply.js';
import { allCommands, installCommandHooks } from './commands/index.js';
import { Keyspace } from './keyspace/keyspace.js';
import { Scheduler, type KeyRef } from './keyspace/scheduler.js';
import { META, WHOLE, mergeAccess, type Access } from './keyspace/paging.js';
import { Changelog, segmentBytes } from './replication/changelog.js';
import { openDatabase, type Database } from './storage/database.js';
import { startEmbeddedPostgres, type EmbeddedCluster } from './storage/embedded.js';
import { migrate } from './storage/migrate.js';
import { Flusher } from './storage/flusher.js';
import { Loader } from './storage/loader.js';
import { Janitor } from './storage/janitor.js';
import { Logger } from './observability/logger.js';
import { Slowlog } from './observability/slowlog.js';
import { LatencyMonitor } from './observability/latency.js';
import { LatencyTracker } from './observability/latency-histogram.js';
import type { ConfigStore } from './config/store.js';
import { ActiveExpiry } from './keyspace/expiry.js';
import { MemoryGuard } from './server/memory.js';
import { Blocking, BLOCKED } from './server/blocking.js';
import { PROTECTED_MODE_DENIED, refusedByProtectedMode } from './server/protected-mode.js';

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

/**
 * One Talus server: storage, hot set, command execution and the listener.
 * `dispatch` is the single path every request takes.
 */
export class Talus {
  readonly log: Logger;
  readonly commands = new CommandTable();
  readonly clients = new Map<number, Client>();
  readonly awaitingDurability = new Set<Client>();
  readonly slowlog: Slowlog;
  /** LATENCY: events slower than latency-monitor-threshold (observability/latency.ts) */
  readonly latency = new LatencyMonitor(() => this.config.values.latencyMonitorThreshold);
  /** Per-command latency histograms (latency-tracking): INFO latencystats, LATENCY HISTOGRAM */
  readonly latencyTracker = new LatencyTracker();
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
  /** clients blocked on keys (BLPOP, BZPOPMIN...): see server/blocking.ts */
  blocking!: Blocking;
  flusher!: Flusher;
  loader!: Loader;
  database!: Database;
  embedded: EmbeddedCluster | undefined;
  lastSave = Math.floor(Date.now() / 1000);
  private servers: net.Server[] = [];
  private nextClientId = 1;
  private cron: NodeJS.Timeout | undefined;
  readonly memory = new MemoryGuard();
  private janitor: Janitor | undefined;
  private expiry: ActiveExpiry | undefined;
  private shuttingDown = false;
  readonly monitors = new Set<Client>();
  port = 0;
  /** replication role, as ROLE and INFO report it */
  role: 'master' | 'slave' = 'master';
  /** DEBUG SET-ACTIVE-EXPIRE: the cron's active expiry cycle runs only while true */
  activeExpire = true;
  /** error replies by code (the first word: ERR, WRONGTYPE...), for INFO errorstats */
  readonly errorCounts = new Map<string, number>();
  /** CLIENT PAUSE: returns true when it took the command to run later (commands/client-cmds.ts) */
  pauseGate: ((c: Client, cmd: Command, args: Buffer[]) => boolean) | undefined;

  /** the normal class has a client-output-buffer-limit (clients check it as they write) */
  outputLimitsOn = false;
  /** maxmemory-clients in bytes (0 = off) */
  clientMemoryLimit = 0;
  /** a client's requests stop running while its unsent output is over this (server/client.ts OUTPUT_BOUND) */
  clientOutputBound = OUTPUT_BOUND;

  constructor(readonly config: ConfigStore) {
    const v = config.values;
    this.log = new Logger(v.loglevel, v.logfile);
    this.slowlog = new Slowlog(config);
    this.commands.register(allCommands);
    config.onChange('loglevel', (level) => (this.log.level = level as Logger['level']));
    const clientLimits = () => {
      const { clientOutputBufferLimit: obl, maxmemoryClients, maxmemory } = this.config.values;
      this.outputLimitsOn = obl.normal.hardBytes > 0 || obl.normal.softBytes > 0;
      this.clientOutputBound = Math.max(OUTPUT_BOUND, obl.normal.hardBytes, obl.normal.softBytes);
      this.clientMemoryLimit = clientMemoryLimit(maxmemoryClients, maxmemory);
    };
    clientLimits();
    for (const name of ['client-output-buffer-limit', 'maxmemory-clients', 'maxmemory']) config.onChange(name, clientLimits);
    installCommandHooks(this);
  }

  async start(): Promise<void> {
    const v = this.config.values;
    let url = v.databaseUrl;
    if (!url) {
      this.embedded = await startEmbeddedPostgres({ dir: v.dir, port: v.embeddedPgPort, userNamespace: v.embeddedPgUserNamespace, log: this.log });
      url = this.embedded.url;
    }
    this.database = openDatabase(url, v.pgPoolSize, (err) => this.log.verbose(`PostgreSQL connection error: ${err.message}`));
    const version = await migrate(this.database.pool, this.log);
    this.log.notice(`storage ready (schema version ${version})`);

    const db = this.database.db;
    const { rows: seqRows } = await sql<{ seq: number | null }>`SELECT max(last_seq) AS seq FROM talus.changelog`.execute(db);
    const { rows: epochRows } = await sql<{ epoch: number }>`SELECT nextval('talus.epochs') AS epoch`.execute(db);
    const { rows: counts } = await sql<{ db: number; n: number }>`SELECT db, count(*)::bigint AS n FROM talus.keys GROUP BY db`.execute(db);

    this.keyspace = new Keyspace(v.databases, new Changelog(seqRows[0]?.seq ?? 0));
    this.keyspace.setEpoch(epochRows[0]!.epoch);
    for (const d of this.keyspace.dbs) d.complete = true;
    for (const { db: i, n } of counts) {
      const d = this.keyspace.dbs[i];
      if (!d) throw new Error(`PostgreSQL holds keys of db ${i} but databases is ${v.databases}`);
      d.count = n;
      d.complete = n === 0;
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
    this.loader.pagedThreshold = this.config.values.pagedCollectionThreshold;
    this.config.onChange('paged-collection-threshold', (n) => (this.loader.pagedThreshold = n as number));
    // Cold reads grow the hot set between cron passes: make room as they land
    // (keys that waiting commands need are claimed and stay).
    this.loader.onAdmitted = () => {
      const v = this.config.values;
      if (v.maxmemory > 0 && v.maxmemoryPolicy !== 'noeviction' && this.keyspace.bytes > v.maxmemory) this.evict(2000);
    };
    this.loader.onRead = (ms) => this.latency.note('cold-read', ms);
    await this.warmUpStorage();
    this.scheduler = new Scheduler(this.loader);
    this.blocking = new Blocking(this);
    this.janitor = new Janitor(db, this.log, () => ({
      bytes: this.config.values.changelogRetention,
      seconds: this.config.values.changelogRetentionSeconds,
    }));
    this.flusher.committedListeners.push(() => this.latency.note('postgres-commit', this.flusher.stats.lastCommitMs));
    this.flusher.committedListeners.push((records) => {
      if (records.length > 0) this.janitor?.noteAppended(segmentBytes(records), records[records.length - 1]!.seq);
    });
    this.expiry = new ActiveExpiry(this);
    this.startCron();
    this.config.onChange('hz', () => this.startCron());
    await this.listen();
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
    for (const host of binds.length ? binds : ['127.0.0.1']) {
      const server = net.createServer((socket) => this.accept(socket));
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen({ port: this.port || v.port, host: host.replace(/^-/, ''), backlog: 511 }, () => {
          server.off('error', reject);
          resolve();
        });
      });
      this.port = (server.address() as net.AddressInfo).port;
      this.servers.push(server);
    }
    if (v.unixsocket) {
      fs.rmSync(v.unixsocket, { force: true });
      const server = net.createServer((socket) => this.accept(socket));
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(v.unixsocket, () => resolve());
      });
      this.servers.push(server);
    }
    this.log.notice(`Ready to accept connections on ${binds.join(' ')} port ${this.port}`);
  }

  private accept(socket: net.Socket): void {
    this.stats.connectionsReceived++;
    socket.setNoDelay(true);
    const v = this.config.values;
    if (this.clients.size >= v.maxclients || this.shuttingDown) {
      this.stats.rejectedConnections++;
      socket.end('-ERR max number of clients reached\r\n');
      return;
    }
    if (refusedByProtectedMode(v, socket.remoteAddress)) {
      this.stats.rejectedConnections++;
      socket.end(PROTECTED_MODE_DENIED);
      return;
    }
    if (v.tcpKeepalive > 0) socket.setKeepAlive(true, v.tcpKeepalive * 1000);
    const client = new Client(this, socket, this.nextClientId++);
    this.clients.set(client.id, client);
    socket.on('data', (chunk: Buffer) => {
      this.stats.netInputBytes += chunk.length;
      client.onData(chunk);
    });
    socket.on('error', () => client.close());
    socket.on('close', () => client.close());
  }

  /** Hooks for state other modules keep per client (pub/sub, blocking, watch). */
  readonly clientResetHooks: Array<(c: Client) => void> = [];

  onClientReset(c: Client): void {
    for (const h of this.clientResetHooks) h(c);
  }

  onClientClosed(c: Client): void {
    this.onClientReset(c);
    this.throttled.delete(c);
    this.clients.delete(c.id);
    this.awaitingDurability.delete(c);
    this.monitors.delete(c);
  }

  /**
   * Every request goes through here: lookup, policy checks, then execution
   * once its keys are resident, and the reply in connection order.
   */
  dispatch(c: Client, args: Buffer[]): void {
    const cmd = this.commands.lookup(args[0]!);
    const err = this.check(c, cmd, args);
    if (err !== undefined) {
      if (cmd) cmd.stats.rejected++;
      if (c.multi !== null && cmd?.name !== 'exec' && cmd?.name !== 'discard') c.multiError = true;
      this.countError(err);
      c.deliver(err, 0);
      return;
    }
    const command = cmd!;
    if (c.multi !== null && !TX_CONTROL.has(command.name)) {
      c.multi.push({ cmd: command, args });
      c.deliver(QUEUED, 0);
      return;
    }
    if (this.pauseGate !== undefined && this.pauseGate(c, command, args)) return;
    const refs = this.plannedRefs(c, command, args);
    if (refs === undefined) return;
    // Commands whose keys depend on data (a `keyRefs` hook, e.g. SORT's BY/GET
    // patterns, also inside EXEC) are planned again once their keys are
    // resident: if they now name keys that are not, they are submitted again
    // with those, until everything they touch is resident when they run.
    const replan = this.hasKeyHook(c, command);
    // The common case, without the closures below: nothing to wait for.
    if (refs.length === 0 || (!replan && this.scheduler.runnable(refs))) {
      this.execute(c, command, args, refs);
      return;
    }
    let queued = false;
    // A SWAPDB while this waited re-points c.db (commands/keys.ts): plan again too.
    const db = c.db;
    const submit = (keyRefs: KeyRef[]): void => {
      const ran = this.scheduler.submit(
        keyRefs,
        () => {
          let resident = keyRefs;
          if (replan || c.db !== db) {
            const again = this.plannedRefs(c, command, args);
            if (again === undefined) {
              if (queued) c.resume();
              return;
            }
            if (again.some((r) => !this.loader.holds(r))) {
              submit(again);
              return;
            }
            resident = again;
          }
          this.execute(c, command, args, resident);
          if (queued && !this.blocking.isBlocked(c)) c.resume();
        },
        (error) => {
          c.deliver(Errors.storage(error.message), 0);
          if (queued) c.resume();
        },
      );
      if (!ran && !queued) {
        queued = true;
        c.pause();
      }
    };
    submit(refs);
  }

  /**
   * A request waits behind an earlier one of its client (server/client.ts
   * lookAhead): start loading its cold keys now, so they are resident when
   * its turn comes. Only a hint: nothing runs, and a key it loads in vain is
   * just resident (and evictable). Paged values' parts are left to the
   * command, which reads them in its turn. False when requests after this
   * one may name another db or connection state: prefetch stops there.
   */
  prefetch(c: Client, args: Buffer[]): boolean {
    const cmd = this.commands.lookup(args[0]!);
    if (cmd !== undefined && PREFETCH_BARRIERS.has(cmd.name)) return false;
    if (!c.authenticated || c.multi !== null) return true;
    if (cmd === undefined || cmd.name === 'exec' || !cmd.arityOk(args.length) || this.hasKeyHook(c, cmd)) return true;
    const refs = this.triedKeyRefs(c, cmd, args);
    if (refs === undefined) return true; // the command answers its own error in its turn
    for (const r of refs) {
      if (!this.loader.isResident(r.db, r.name)) this.loader.load(r.db, r.name).catch(() => undefined);
    }
    return true;
  }

  /**
   * The command's keys, or undefined once the client got an error: a keyRefs
   * hook that failed on the data it looked at is a bug, answered like one in
   * a handler.
   */
  private plannedRefs(c: Client, cmd: Command, args: Buffer[]): KeyRef[] | undefined {
    try {
      return this.keyRefs(c, cmd, args);
    } catch (err) {
      c.deliver(toErrorReply(err, this.log), 0);
      return undefined;
    }
  }

  /**
   * Whether a command's keys are planned again once resident: they come from a
   * `keyRefs` hook (directly or queued in EXEC), or an EXEC's queued SELECT or
   * SWAPDB placed them by db index (another client's SWAPDB while it waits
   * moves those dbs; its cold keys there would be taken for absent).
   */
  private hasKeyHook(c: Client, cmd: Command): boolean {
    if (cmd.name === 'exec') {
      return c.multi?.some((q) => q.cmd.def.keyRefs !== undefined || q.cmd.name === 'select' || q.cmd.name === 'swapdb') ?? false;
    }
    return cmd.hasKeyRefsHook;
  }

  /** Policy checks in Redis's order; undefined means the command may run. */
  private check(c: Client, cmd: Command | undefined, args: Buffer[]): ErrorReply | undefined {
    if (cmd === undefined) return Errors.unknownCommand(args[0]!, args.slice(1));
    if (!cmd.arityOk(args.length)) return Errors.arity(cmd.name);
    if (!c.authenticated && !cmd.noAuth) return Errors.noAuth();
    if (c.multi !== null && cmd.def.flags.includes('no_multi')) {
      return new ErrorReply(`ERR Command not allowed inside a transaction`);
    }
    if (cmd.isWrite) {
      if (!this.flusher.healthy) return Errors.persistence(this.flusher.lastError);
      const v = this.config.values;
      if (cmd.def.flags.includes('denyoom') && v.maxmemory > 0 && this.keyspace.bytes > v.maxmemory) {
        // noeviction keeps every key resident, as Redis keeps every key in
        // memory: when full, writes are refused. Other policies make room.
        if (v.maxmemoryPolicy === 'noeviction') return Errors.oom();
        this.evict(1000);
      }
    }
    return undefined;
  }

  /** The command's keys, or undefined if planning them throws (plannedRefs then answers the error in its turn). */
  private triedKeyRefs(c: Client, cmd: Command, args: Buffer[]): KeyRef[] | undefined {
    try {
      return this.keyRefs(c, cmd, args);
    } catch {
      return undefined;
    }
  }

  /** The keys a command touches, in the client's current db. */
  keyRefs(c: Client, cmd: Command, args: Buffer[]): KeyRef[] {
    if (cmd.name === 'exec' && c.multi !== null) {
      const refs: KeyRef[] = [];
      // WATCHed keys too: EXEC compares them with what WATCH saw
      for (const w of c.watching) refs.push({ db: this.keyspace.dbs[w.db]!, name: w.name, access: META });
      // A queued SELECT (or SWAPDB) changes the db the later commands use.
      const current = c.db;
      const view = [...this.keyspace.dbs];
      const dbArg = (a: Buffer | undefined) => (a && /^\d+$/.test(a.toString('latin1')) ? Number(a.toString('latin1')) : -1);
      let index = current.index;
      try {
        for (const q of c.multi) {
          c.db = view[index]!;
          refs.push(...this.keyRefs(c, q.cmd, q.args));
          if (q.cmd.name === 'select' && view[dbArg(q.args[1])]) index = dbArg(q.args[1]);
          if (q.cmd.name === 'swapdb') {
            const i = dbArg(q.args[1]);
            const j = dbArg(q.args[2]);
            if (view[i] && view[j]) [view[i], view[j]] = [view[j]!, view[i]!];
          }
        }
      } finally {
        c.db = current;
      }
      return mergeAccesses(refs);
    }
    let target = cmd;
    if (cmd.subcommands.size > 0 && args.length > 1) {
      target = cmd.subcommands.get(args[1]!.toString('latin1').toLowerCase()) ?? cmd;
    }
    if (target.def.keyRefs) return target.def.keyRefs(c, args);
    const idx = target.keyIndices(args);
    if (idx.length === 0) return NO_REFS;
    const refs: KeyRef[] = new Array(idx.length);
    const access = target.def.access;
    for (let i = 0; i < idx.length; i++) {
      refs[i] = { db: c.db, name: args[idx[i]!]!.toString('latin1'), access: access && accessOf(access, args, idx[i]!) };
    }
    return refs.length > 1 && access ? mergeAccesses(refs) : refs;
  }

  /**
   * Run a command now (its keys, `refs`, are resident) and hand its reply to
   * the client, then its line to MONITOR clients.
   */
  execute(c: Client, cmd: Command, args: Buffer[], refs: KeyRef[] = NO_REFS): void {
    const changelog = this.keyspace.changelog;
    const before = changelog.seq;
    const started = performance.now();
    // EXEC's handler ends the transaction: what its commands read is known only now.
    const readsDbs = c.multi !== null && cmd.name === 'exec' && c.multi.some((q) => readsDbState(q.cmd, q.args) !== undefined);
    let reply: Reply | Promise<Reply>;
    try {
      reply = cmd.def.handler!(c, args);
    } catch (err) {
      reply = toErrorReply(err, this.log);
    }
    if (reply instanceof Promise) {
      c.pause();
      reply.then(
        (r) => this.ran(c, cmd, args, r, before, started, refs, readsDbs),
        (err) => this.ran(c, cmd, args, toErrorReply(err, this.log), before, started, refs, readsDbs),
      ).finally(() => c.resume());
      return;
    }
    this.ran(c, cmd, args, reply, before, started, refs, readsDbs);
    // Serve clients blocked on keys this command made ready.
    if (this.blocking.pending) this.blocking.handleReady();
  }

  private ran(c: Client, cmd: Command, args: Buffer[], reply: Reply, before: number, started: number, refs: KeyRef[], readsDbs: boolean): void {
    const effects = this.finish(c, cmd, args, reply, before, started, refs, readsDbs);
    // Like Redis: after the command, admin commands not shown; EXEC feeds its commands, then itself.
    if (this.monitors.size > 0 && cmd.name !== 'exec' && !cmd.def.flags.includes('skip_monitor') && !cmd.def.flags.includes('admin')) {
      this.feedMonitors(c, args, effects);
    }
  }

  /** Count a completed command and hand its reply over (also for blocked commands when served). */
  /** Command statistics, last command and slow log for one finished command (also each command inside EXEC). */
  account(c: Client, cmd: Command, args: Buffer[], reply: Reply, started: number): void {
    const usec = Math.round((performance.now() - started) * 1000);
    const target = cmd.subcommands.size > 0 && args.length > 1
      ? cmd.subcommands.get(args[1]!.toString('latin1').toLowerCase()) ?? cmd
      : cmd;
    target.stats.calls++;
    target.stats.usec += usec;
    this.stats.commandsProcessed++;
    c.lastCommand = target.fullName;
    if (reply instanceof ErrorReply) {
      target.stats.failed++;
      this.countError(reply);
    }
    this.slowlog.record(c, args, usec, cmd);
    if (this.config.values.latencyTracking) this.latencyTracker.record(target.fullName, usec * 1000);
    this.latency.note(cmd.def.flags.includes('fast') ? 'fast-command' : 'command', usec / 1000);
  }

  /**
   * Count a finished command and queue its reply: a write's reply waits for
   * its effects' commit, a read's for the commit of the uncommitted changes
   * it shows (`readGate`: the keys `refs`, db-wide state). Returns the gate
   * of the command's own effects (durabilityGate).
   */
  finish(c: Client, cmd: Command, args: Buffer[], reply: Reply, before: number, started: number, refs = NO_REFS, readsDbs = false): number {
    if (reply === BLOCKED) {
      // no reply yet: counted and answered when served or timed out
      this.blocking.attach(c, cmd, args);
      return 0;
    }
    this.account(c, cmd, args, reply, started);
    const seq = this.keyspace.changelog.seq;
    if (seq > before) {
      this.flusher.schedule();
      const gate = this.durabilityGate(before);
      c.deliver(reply, gate);
      return gate;
    }
    // Nothing uncommitted anywhere (a read-only load): no gate to look for.
    if (seq <= this.flusher.durableSeq || this.config.values.appendfsync !== 'always') c.deliver(reply, 0);
    else c.deliver(reply, this.readGate(c, cmd, args, refs, readsDbs), false);
    return 0;
  }

  /**
   * The seq a reply or message showing the effects logged since `since`
   * must wait for: the last seq handed out, when there are such effects and
   * appendfsync is always; else 0. The one rule for everything that shows a
   * write to anyone (MONITOR lines now; keyspace notifications and pub/sub
   * messages when they come: push them with `Client.push(message, gate)`
   * once the command's effects are logged, e.g. from `finish`).
   */
  durabilityGate(since: number): number {
    const seq = this.keyspace.changelog.seq;
    return seq > since && this.config.values.appendfsync === 'always' ? seq : 0;
  }

  /**
   * What a command that changed nothing must wait for before its reply shows
   * what it read: the last uncommitted change of each key it names (a value,
   * a TTL, a delete: tombstones keep their stamp), of their dbs as a whole
   * (FLUSHDB, SWAPDB), and for keyless reads of db-wide state (DBSIZE, KEYS,
   * SCAN, RANDOMKEY; INFO and MEMORY STATS: every db) the db's last change.
   * Same rule as Redis with appendfsync always, which writes no reply of an
   * event-loop turn before its AOF fsync.
   */
  private readGate(c: Client, cmd: Command, args: Buffer[], refs: KeyRef[], readsDbs: boolean): number {
    let gate = 0;
    for (const r of refs) {
      const d = r.db;
      const e = d.entries.get(r.name);
      if (e !== undefined && e.changeSeq > gate) gate = e.changeSeq;
      if (d.barrierSeq > gate) gate = d.barrierSeq;
    }
    const scope = readsDbs ? 'all' : readsDbState(cmd, args);
    if (scope === 'all') {
      for (const d of this.keyspace.dbs) if (d.changeSeq > gate) gate = d.changeSeq;
    } else if (scope === 'db' && c.db.changeSeq > gate) {
      gate = c.db.changeSeq;
    }
    // A stamp is the seq after the last one handed out when the change was
    // made (Keyspace.touch). If nothing was logged since, the change's effect
    // was logged just before it and is the last seq; any seq of the command
    // that made it commits it (a command's effects go in one commit).
    gate = Math.min(gate, this.keyspace.changelog.seq);
    if (gate > this.flusher.durableSeq) this.flusher.schedule();
    return gate;
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
    const dirty = ks.dirty.size;
    if (dirty >= Talus.MAX_DIRTY_KEYS) return true;
    // Also bound the bytes a commit carries to a share of maxmemory: a
    // commit's parameters cost memory too. The change log's effects are
    // counted exactly (ten 1 MB SETs to one key are one dirty key but 10 MB of
    // effects); dirty values are estimated from the average resident entry.
    const maxmemory = this.config.values.maxmemory;
    if (maxmemory <= 0) return false;
    const bound = Math.max(2 << 20, maxmemory / 32);
    if (ks.changelog.pendingBytes > bound) return true;
    if (dirty < 256) return false;
    let resident = 0;
    for (const db of ks.dbs) resident += db.entries.size;
    return dirty * (ks.bytes / Math.max(1, resident)) > bound;
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

  /** Count an error reply for INFO stats / errorstats. */
  countError(err: ErrorReply): void {
    this.stats.errorReplies++;
    const sp = err.message.indexOf(' ');
    const code = sp < 0 ? err.message : err.message.slice(0, sp);
    this.errorCounts.set(code, (this.errorCounts.get(code) ?? 0) + 1);
  }

  /** Show a command that ran to MONITOR clients once `gate` (its effects: durabilityGate) is durable. */
  feedMonitors(c: Client, args: Buffer[], gate: number): void {
    const now = Date.now();
    const line = `${(now / 1000).toFixed(6)} [${c.dbIndex} ${c.addr}] ${args.map(quoteArg).join(' ')}`;
    for (const m of this.monitors) if (m !== c) m.push(new SimpleString(line), gate);
  }

  /** Unload clean keys until the hot set fits maxmemory (they stay in PostgreSQL). */
  evict(maxScan?: number): void {
    this.keyspace.evict(this.config.values.maxmemory, (d, n) => this.scheduler.isClaimed(d, n), maxScan);
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
    if (storageToo) this.lastStorageCron = now;
    let started = performance.now();
    if (this.activeExpire) this.expiry?.cycle(storageToo);
    this.latency.note('expire-cycle', performance.now() - started);
    if (v.maxmemory > 0 && v.maxmemoryPolicy !== 'noeviction') {
      started = performance.now();
      this.evict();
      this.latency.note('eviction-cycle', performance.now() - started);
    }
    if (storageToo) this.memory.tick(this.keyspace?.bytes ?? 0, v.maxmemory);
    // Output limits also while nothing is written (a soft limit's time runs out); then client eviction.
    if (this.outputLimitsOn) for (const c of [...this.clients.values()]) c.overOutputLimit();
    if (this.clientMemoryLimit > 0) this.evictClients();
    if (v.timeout > 0) {
      const limit = Date.now() - v.timeout * 1000;
      for (const c of this.clients.values()) {
        if (c.lastInteraction < limit && !c.monitor && c.waitingReplies === 0 && !c.flags.has('pubsub') && !this.blocking.isBlocked(c)) c.close();
      }
    }
    if (storageToo) void this.janitor?.tick();
  }

  /** SHUTDOWN asks the process to stop (main wires this to its signal path). */
  onShutdownRequest: () => void = () => void this.shutdown();

  /** Stop accepting, commit what is dirty, close storage. */
  async shutdown(): Promise<void> {
    if (this.shuttingDown) return;
    this.shuttingDown = true;
    this.log.notice('shutting down: committing pending writes');
    clearInterval(this.cron);
    for (const s of this.servers) s.close();
    await this.flusher?.drain().catch((err) => this.log.warning(`final commit failed: ${err.message}`));
    for (const c of [...this.clients.values()]) c.close();
    await this.janitor?.stop();
    await this.database?.close().catch(() => undefined);
    await this.embedded?.stop();
    this.log.notice('Talus is now ready to exit, bye bye...');
    this.log.close();
  }
}


/** Requests after which the next ones may name another db or connection state (see Talus.prefetch). */
const PREFETCH_BARRIERS = new Set(['select', 'swapdb', 'multi', 'reset', 'hello', 'auth']);
const TX_CONTROL = new Set(['exec', 'discard', 'multi', 'watch', 'quit', 'reset']);
const NO_REFS: KeyRef[] = [];
/** Keyless reads of server-wide state (key counts of every db), by full name. */
const SERVER_STATE_READS = new Set(['info', 'memory|stats']);

/**
 * Whether a command shows db-wide state without naming keys: a read-only
 * keyless command (DBSIZE, KEYS, SCAN, RANDOMKEY) shows the client's db;
 * INFO and MEMORY STATS every db.
 */
function readsDbState(cmd: Command, args: Buffer[]): 'db' | 'all' | undefined {
  const target = cmd.subcommands.size > 0 && args.length > 1 ? cmd.subcommands.get(args[1]!.toString('latin1').toLowerCase()) ?? cmd : cmd;
  if (SERVER_STATE_READS.has(target.fullName)) return 'all';
  const def = target.def;
  if (def.flags.includes('readonly') && !def.keys && !def.movableKeys && !def.keyRefs) return 'db';
  return undefined;
}

function quoteArg(a: Buffer): string {
  let s = '"';
  for (const b of a) {
    if (b === 0x22 || b === 0x5c) s += '\\' + String.fromCharCode(b);
    else if (b === 0x0a) s += '\\n';
    else if (b === 0x0d) s += '\\r';
    else if (b === 0x09) s += '\\t';
    else if (b >= 0x20 && b < 0x7f) s += String.fromCharCode(b);
    else s += '\\x' + b.toString(16).padStart(2, '0');
  }
  return s + '"';
}

function toErrorReply(err: unknown, log: Logger): ErrorReply {
  if (err instanceof ErrorReply) return err;
  const e = err as Error;
  log.warning(`command failed: ${e.stack ?? e}`);
  return new ErrorReply(`ERR ${e.message}`);
}

/** A command's declared access; arguments it cannot parse fail in the handler, so ask for everything. */
function accessOf(fn: (args: Buffer[], index: number) => Access, args: Buffer[], index: number): Access {
  try {
    return fn(args, index);
  } catch {
    return WHOLE;
  }
}

/** A key named more than once by one task gets one need covering all its uses (keyspace/paging.ts). */
function mergeAccesses(refs: KeyRef[]): KeyRef[] {
  if (refs.length < 2) return refs;
  const first = new Map<string, KeyRef>();
  for (const r of refs) {
    const id = `${r.db.index}:${r.name}`;
    const seen = first.get(id);
    if (seen === undefined) first.set(id, r);
    else seen.access = mergeAccess(seen.access ?? WHOLE, r.access ?? WHOLE);
  }
  for (const r of refs) r.access = first.get(`${r.db.index}:${r.name}`)!.access;
  return refs;
}
