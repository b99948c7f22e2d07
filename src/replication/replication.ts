import { atDeadline } from '../util/timers.js';
import path from 'node:path';
import type { Flusher } from '../storage/flusher.js';
import type { ReplicationRow, ReplicationStore } from '../storage/replication-store.js';
import type { ConfigStore } from '../config/store.js';
import type { ReplicaOf } from '../config/schema.js';
import type { Keyspace } from '../keyspace/keyspace.js';
import type { Logger } from '../observability/logger.js';
import type { Connection, ReplicationControl } from '../execution/context.js';
import type { Session } from '../execution/session.js';
import { ErrorReply, OK, SimpleString, type Reply } from '../protocol/reply.js';
import { subcommandOf, type Command } from '../commands/table.js';
import type { ChangeRecord, LeaderPosition, TakenLog } from './changelog.js';
import { FollowerFeed, OUTPUT_HIGH_WATER, canContinue, type FollowerState } from './leader.js';
import { FollowerLink } from './follower.js';
import { ReplicationHistory } from './history.js';

/** What replication needs of its server (talus.ts). */
export interface ReplicationHost {
  readonly log: Logger;
  readonly config: ConfigStore;
  readonly keyspace: Keyspace;
  readonly flusher: Flusher;
  readonly store: ReplicationStore;
  readonly port: number;
  /** INFO run_id: a follower handshaking with this server under it is this server */
  readonly runId: string;
  /**
   * Backups are taken here: the change log is archived for point-in-time
   * restores, so a full sync's load must be in it (Keyspace.loadingSnapshot)
   */
  readonly backupsConfigured: boolean;
  /** FAILOVER holds clients' writes while it hands over (as CLIENT PAUSE WRITE) */
  pauseWrites(on: boolean): void;
  role: 'master' | 'slave';
  openApplier(onReply: (r: Reply) => void): Session;
  dispatch(s: Session, args: Buffer[]): void;
  /** start loading a queued command's cold keys (Executor.prefetch); false at a barrier */
  prefetch(s: Session, args: Buffer[]): boolean;
}

const b = (s: string) => Buffer.from(s);

/**
 * Replication (docs/replication.md): this server's change-log history id,
 * the followers it feeds, and, on a follower, the link to its leader.
 */
export class Replication implements ReplicationControl {
  readonly stats = { syncFull: 0, syncPartialOk: 0, syncPartialErr: 0 };
  private readonly feeds = new Map<number, FollowerFeed>();
  private link: FollowerLink | undefined;
  private applier: Session | undefined;
  private onApplierReply: ((r: Reply) => void) | undefined;
  private waits: Array<{ offset: number; count: number; resolve: (n: number) => void }> = [];
  private lastPing = Date.now();
  /** REPLCONF listening-port and ip-address, by session id, until its PSYNC */
  private readonly listeningPorts = new Map<number, number>();
  private readonly announcedIps = new Map<number, string>();
  /** the committed change log's first record (INFO repl_backlog_first_byte_offset), refreshed by the cron */
  private firstRetained = 1;
  private lastRetainedCheck = 0;
  /** -LOADING: a full sync is loading (or a restart found one unfinished) */
  loading = false;
  /** FAILOVER in progress (INFO master_failover_state) */
  private failover: Failover | undefined;

  constructor(
    private readonly h: ReplicationHost,
    row: ReplicationRow,
  ) {
    h.keyspace.changelog.history = new ReplicationHistory(row);
    if (row.masterReplid !== null && row.masterOffset !== null) {
      const p = { replid: row.masterReplid, offset: row.masterOffset };
      h.keyspace.changelog.leaderPosition = p;
      h.flusher.durablePosition = p;
      if (p.offset < 0) {
        this.loading = true;
        h.log.warning('The last full sync from a leader did not finish: the data set is partial; answering -LOADING until a full sync completes');
      }
    }
    h.flusher.committedListeners.push(() => this.link?.ack());
  }

  get role(): 'master' | 'slave' {
    return this.h.role;
  }

  /** At start-up, before clients connect: a configured follower is read-only from its first request. */
  prepare(): void {
    if (this.h.config.values.replicaof) {
      this.h.role = 'slave';
      this.h.keyspace.replicaMode = true;
    }
  }

  /** At start-up, once listening (the handshake sends our port): follow the configured leader, if any. */
  start(): void {
    const target = this.h.config.values.replicaof as ReplicaOf | null;
    if (target) this.follow(target);
    else if (this.loading) {
      this.loading = false;
      this.h.log.warning('Not configured as a follower: serving the partial data set of the unfinished full sync');
    }
  }

  follow(target: ReplicaOf | null, handover = false): void {
    if (!handover && this.failover) this.abortFailover('Replica of another server requested');
    this.link?.stop();
    this.link = undefined;
    if (target === null) {
      if (this.h.role === 'slave') {
        this.h.log.notice('MASTER MODE enabled (user request)');
        // PSYNC2: a new history id; the leader's stays valid up to here as replid2, so its other followers continue from us.
        this.shiftHistory();
      }
      this.h.role = 'master';
      this.h.keyspace.replicaMode = false;
      this.loading = false;
      return;
    }
    this.h.role = 'slave';
    this.h.keyspace.replicaMode = true;
    // Feeds of our own followers keep going: they follow our history (chained followers).
    const host = this;
    this.applier ??= this.h.openApplier((r) => this.onApplierReply?.(r));
    this.link = new FollowerLink(
      target.host,
      target.port,
      {
        log: this.h.log,
        applier: this.applier,
        dispatch: (s, args) => this.h.dispatch(s, args),
        get onApplierReply() {
          return host.onApplierReply;
        },
        set onApplierReply(f) {
          host.onApplierReply = f;
        },
        applied: () => this.h.keyspace.changelog.leaderPosition,
        durable: () => this.h.flusher.durablePosition,
        setApplied: (p: LeaderPosition) => {
          this.h.keyspace.changelog.setLeaderPosition(p);
          this.h.flusher.schedule();
        },
        setLoading: (on) => (this.loading = on),
        // unlogged only where no archive of the change log needs it to replay past the sync
        loadingSnapshot: (on) => (this.h.keyspace.loadingSnapshot = on && !this.h.backupsConfigured),
        committed: () => this.h.flusher.committed(),
        history: () => this.history,
        seq: () => this.h.keyspace.changelog.seq,
        relay: {
          begin: (records) => this.h.keyspace.beginRelay(records),
          end: () => this.h.keyspace.endRelay(),
          cancel: () => this.h.keyspace.cancelRelay(),
        },
        // the live stream's keys only: a full sync flushes first, and its keys are new
        prefetch: (s, args) => this.link?.state === 'connected' && this.h.prefetch(s, args),
        dropFollowers: () => this.dropFollowers(),
        spoolPath: () => path.join(this.h.config.values.dir, 'talus-sync.spool'),
        listeningPort: () => this.h.config.values.replicaAnnouncePort || this.h.port,
        announceIp: () => this.h.config.values.replicaAnnounceIp,
        runId: this.h.runId,
        auth: () => ({ user: this.h.config.values.masteruser, password: this.h.config.values.masterauth }),
        onSynced: () => {
          if (this.failover?.state === 'failover-in-progress') this.endFailover();
        },
        onRefused: (message) => {
          if (this.failover?.state === 'failover-in-progress') this.abortFailover(`Failover target rejected psync request: ${message}`);
        },
        handover: () => this.failover?.state === 'failover-in-progress',
      },
      () => this.h.config.values.replTimeout,
    );
    this.h.log.notice(`REPLICAOF ${target.host}:${target.port} enabled`);
    this.link.start();
  }

  get linkUp(): boolean {
    return this.link?.state === 'connected';
  }

  /** Policy (executor): READONLY, MASTERDOWN, LOADING for clients; the applier passes. */
  refuse(s: Session, cmd: Command, args: Buffer[]): ErrorReply | undefined {
    // a container's flags are its subcommands' (FUNCTION LOAD writes, FUNCTION LIST does not)
    const target = cmd.subcommands.size > 0 ? subcommandOf(cmd, args) : cmd;
    const write = cmd.isWrite || target.isWrite;
    // A read on a leader that is not loading (nearly every request): nothing below refuses it.
    if (!write && !this.loading && this.h.role !== 'slave') return undefined;
    if (s.flags.has('master')) return undefined;
    const flags = target.def.flags;
    if (write) {
      const refused = this.writesRefused();
      if (refused) return refused;
    }
    if (this.h.role === 'slave') {
      if (write && this.h.config.values.replicaReadOnly) return new ErrorReply("READONLY You can't write against a read only replica.");
      if (!this.linkUp && !this.h.config.values.replicaServeStaleData && !flags.includes('stale')) {
        return new ErrorReply("MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'.");
      }
    }
    // Admin commands too (REPLICAOF, CONFIG...): a partial data set waits for a full sync, which may need them.
    if (this.loading && !flags.includes('loading') && !flags.includes('admin')) return new ErrorReply('LOADING Redis is loading the dataset in memory');
    return undefined;
  }

  /**
   * A feed holds at most this much unsent output for its follower before it
   * waits (and then catches up from PostgreSQL): 8 MB, or half the replica
   * class's client-output-buffer-limit, so that only a single record bigger
   * than the limit can pass it.
   */
  private outputHighWater(): number {
    const { hardBytes, softBytes } = this.h.config.values.clientOutputBufferLimit.replica;
    return Math.min(OUTPUT_HIGH_WATER, ...[hardBytes, softBytes].filter((n) => n > 0).map((n) => Math.floor(n / 2)));
  }

  /** min-replicas-to-write: a leader without enough good followers refuses writes (Redis's check, EXEC's too). */
  writesRefused(): ErrorReply | undefined {
    if (this.h.role !== 'master' || !this.minReplicasActive()) return undefined;
    if (this.goodFollowers() >= this.h.config.values.minReplicasToWrite) return undefined;
    return new ErrorReply('NOREPLICAS Not enough good replicas to write.');
  }

  private minReplicasActive(): boolean {
    const v = this.h.config.values;
    return v.minReplicasToWrite > 0 && v.minReplicasMaxLag > 0;
  }

  /** Followers online whose last ACK is at most min-replicas-max-lag seconds old (lag in whole seconds, as Redis). */
  private goodFollowers(): number {
    const maxLag = this.h.config.values.minReplicasMaxLag;
    let n = 0;
    for (const f of this.feeds.values()) {
      if (f.follower.state === 'online' && Math.floor((Date.now() - f.follower.ackAt) / 1000) <= maxLag) n++;
    }
    return n;
  }

  /**
   * PSYNC replid offset (SYNC: "?" -1): +CONTINUE or +FULLRESYNC, then the
   * stream on this connection. PSYNC ... FAILOVER comes from our leader
   * handing over to us (its FAILOVER command): we become the leader first,
   * if we hold its whole history, and it continues from us.
   */
  psync(s: Session, conn: Connection, replid: string, offset: number, failover = false): Promise<Reply> {
    if (failover) {
      if (replid !== this.history.replid) return Promise.resolve(new ErrorReply('ERR PSYNC FAILOVER replid must match my replid.'));
      this.h.log.notice(`Failover request received for replid ${replid}.`);
      if (this.h.role === 'slave') this.follow(null);
    }
    const ip = conn.remoteAddress ?? '127.0.0.1';
    const follower: FollowerState = { id: s.id, ip: this.announcedIps.get(s.id) || ip.replace(/^::ffff:/, ''), listeningPort: this.listeningPorts.get(s.id) ?? 0, state: 'wait_bgsave', ackOffset: 0, ackAt: Date.now() };
    s.flags.add('slave');
    this.feeds.get(s.id)?.stop();
    const feed = new FollowerFeed(
      {
        log: this.h.log,
        store: this.h.store,
        durableSeq: () => this.h.flusher.durableSeq,
        outputHighWater: () => this.outputHighWater(),
        onCommitted: (feed: (records: ChangeRecord[]) => void) => {
          const l = (log: TakenLog) => feed(log.records);
          this.h.flusher.committedListeners.push(l);
          return () => {
            const i = this.h.flusher.committedListeners.indexOf(l);
            if (i >= 0) this.h.flusher.committedListeners.splice(i, 1);
          };
        },
      },
      conn,
      follower,
    );
    this.feeds.set(s.id, feed);
    const fail = (err: Error) => {
      if (!feed.closed) this.h.log.warning(`replication to ${follower.ip}:${follower.listeningPort} failed: ${err.message}`);
      feed.stop();
      conn.close();
    };
    return (async () => {
      // A follower mid-full-sync has a partial data set and no history to offer yet.
      if (this.loading) return new ErrorReply('LOADING Redis is loading the dataset in memory');
      const durable = this.h.flusher.durableSeq;
      const history = this.history;
      const from = history.seqOf(offset);
      if (history.continues(replid, offset) && from >= history.start && (await canContinue(this.h.store, from, durable))) {
        this.stats.syncPartialOk++;
        this.h.log.notice(`Partial resynchronization request from ${follower.ip}:${follower.listeningPort} accepted, from offset ${offset}${replid === history.replid ? '' : ` of the previous history ${replid}`}`);
        setImmediate(() => feed.stream(from).catch(fail));
        return new SimpleString(`CONTINUE ${history.replid}`);
      }
      if (replid !== '?') this.stats.syncPartialErr++;
      this.stats.syncFull++;
      this.h.log.notice(`Full resync requested by replica ${follower.ip}:${follower.listeningPort}`);
      // The snapshot must hold the history's first record (a follower's full sync ends in a commit of its own).
      await this.h.flusher.waitDurable(history.start - 1);
      return new Promise<Reply>((resolve) => {
        feed.fullSync(history.replid, (seq) => this.history.offsetOf(seq), resolve).catch((err: Error) => {
          resolve(new ErrorReply(`ERR full sync failed: ${err.message}`));
          fail(err);
        });
      });
    })();
  }

  /** REPLCONF: listening-port, ip-address, capa (OK); ACK (no reply); GETACK. */
  replconf(s: Session, args: Buffer[]): Reply | undefined {
    for (let i = 1; i + 1 < args.length; i += 2) {
      const opt = args[i]!.toString().toLowerCase();
      const val = args[i + 1]!.toString();
      if (opt === 'listening-port') this.listeningPorts.set(s.id, Number(val));
      else if (opt === 'ip-address') this.announcedIps.set(s.id, val);
      else if (opt === 'talus-run-id' && val === this.h.runId) return new ErrorReply("ERR Can't replicate from myself: this server is the leader it was asked to follow");
      else if (opt === 'talus-run-id') continue;
      else if (opt === 'ack') {
        const feed = this.feeds.get(s.id);
        if (feed) {
          feed.follower.ackOffset = Math.max(feed.follower.ackOffset, Number(val));
          feed.follower.ackAt = Date.now();
          this.settleWaits();
        }
        return undefined;
      } else if (opt === 'getack') {
        this.link?.ack(true);
        return undefined;
      } else if (opt !== 'capa') return new ErrorReply(`ERR Unrecognized REPLCONF option: ${args[i]!.toString()}`);
    }
    return OK;
  }

  /** A follower's connection closed. */
  closed(s: Session): void {
    this.listeningPorts.delete(s.id);
    this.announcedIps.delete(s.id);
    const feed = this.feeds.get(s.id);
    if (!feed) return;
    feed.stop();
    this.feeds.delete(s.id);
    this.h.log.notice(`Connection with replica ${feed.follower.ip}:${feed.follower.listeningPort} lost.`);
  }

  /** The first own seq a connected follower may still ask for (after its last ACK): the age retention keeps it. */
  neededFrom(): number | undefined {
    let least: number | undefined;
    for (const f of this.feeds.values()) {
      const seq = this.history.seqOf(f.follower.ackOffset + 1);
      if (least === undefined || seq < least) least = seq;
    }
    return least;
  }

  /**
   * WAIT numreplicas timeout: followers whose PostgreSQL committed everything
   * logged so far. As Redis, it waits for them (for good with timeout 0) even
   * with none connected, except inside a transaction, which never blocks.
   */
  wait(numreplicas: number, timeoutMs: number, inTransaction: boolean): Promise<number> | number {
    const offset = this.history.offsetOf(this.h.keyspace.changelog.seq);
    const n = this.acked(offset);
    if (n >= numreplicas || inTransaction) return n;
    return new Promise((resolve) => {
      const w = { offset, count: numreplicas, resolve };
      this.waits.push(w);
      if (timeoutMs > 0) {
        atDeadline(Date.now() + timeoutMs, () => {
          if (!this.waits.includes(w)) return;
          this.waits = this.waits.filter((x) => x !== w);
          resolve(this.acked(offset));
        });
      }
    });
  }

  private acked(offset: number): number {
    let n = 0;
    for (const f of this.feeds.values()) if (f.follower.state === 'online' && f.follower.ackOffset >= offset) n++;
    return n;
  }

  private settleWaits(): void {
    if (this.waits.length === 0) return;
    this.waits = this.waits.filter((w) => {
      const n = this.acked(w.offset);
      if (n < w.count) return true;
      w.resolve(n);
      return false;
    });
  }

  /** FAILOVER [TO host port [FORCE]] [ABORT] [TIMEOUT ms], as Redis 7 (parsed by the command). */
  failoverCommand(o: FailoverRequest): Reply {
    if (o.abort) {
      if (!this.failover) return new ErrorReply('ERR No failover in progress.');
      this.abortFailover('Failover manually aborted');
      return OK;
    }
    if (this.failover) return new ErrorReply('ERR FAILOVER already in progress.');
    if (this.h.role === 'slave') return new ErrorReply('ERR FAILOVER is not valid when server is a replica.');
    if (this.feeds.size === 0) return new ErrorReply('ERR FAILOVER requires connected replicas.');
    if (o.force && (o.timeoutMs === 0 || !o.to)) return new ErrorReply('ERR FAILOVER with force option requires both a timeout and target HOST and IP.');
    if (o.to) {
      const feed = this.feedAt(o.to.host, o.to.port);
      if (!feed) return new ErrorReply('ERR FAILOVER target HOST and PORT is not a replica.');
      if (feed.follower.state !== 'online') return new ErrorReply('ERR FAILOVER target replica is not online.');
    }
    this.failover = { state: 'waiting-for-sync', target: o.to, force: o.force, deadline: o.timeoutMs > 0 ? Date.now() + o.timeoutMs : 0 };
    this.h.pauseWrites(true);
    this.h.log.notice(`FAILOVER requested to ${o.to ? `${o.to.host}:${o.to.port}` : 'any replica'}.`);
    this.stepFailover();
    return OK;
  }

  private feedAt(host: string, port: number): FollowerFeed | undefined {
    for (const f of this.feeds.values()) if (f.follower.ip === host && f.follower.listeningPort === port) return f;
    return undefined;
  }

  /** Waiting for a follower to acknowledge everything: then hand over to it (it gets PSYNC ... FAILOVER). */
  private stepFailover(): void {
    const fo = this.failover;
    if (fo?.state !== 'waiting-for-sync') return;
    const offset = this.history.offsetOf(this.h.keyspace.changelog.seq);
    const synced = (f: FollowerFeed | undefined) => f !== undefined && f.follower.state === 'online' && f.follower.ackOffset >= offset;
    let target = fo.target;
    if (target === undefined) {
      const f = [...this.feeds.values()].find(synced);
      if (f) target = { host: f.follower.ip, port: f.follower.listeningPort };
    } else if (!synced(this.feedAt(target.host, target.port))) {
      target = fo.deadline > 0 && Date.now() > fo.deadline && fo.force ? target : undefined;
    }
    if (target === undefined) {
      if (fo.deadline > 0 && Date.now() > fo.deadline) this.abortFailover('Replica never caught up before timeout');
      return;
    }
    fo.state = 'failover-in-progress';
    fo.target = target;
    this.h.log.notice(`Failover target ${target.host}:${target.port} is synced, failing over.`);
    this.follow(target, true);
  }

  private endFailover(): void {
    const fo = this.failover;
    this.failover = undefined;
    this.h.pauseWrites(false);
    if (fo?.target) this.h.log.notice(`Failover target ${fo.target.host}:${fo.target.port} accepted the handover: this server follows it.`);
  }

  private abortFailover(reason: string): void {
    const fo = this.failover;
    if (!fo) return;
    this.h.log.notice(`FAILOVER aborted: ${reason}`);
    this.failover = undefined;
    if (fo.state === 'failover-in-progress') this.follow(null);
    this.h.pauseWrites(false);
  }

  /** Server cron: pings to followers (repl-ping-replica-period), the link's timeout. */
  cron(): void {
    this.stepFailover();
    const v = this.h.config.values;
    if (Date.now() - this.lastPing >= v.replPingReplicaPeriod * 1000) {
      this.lastPing = Date.now();
      for (const f of this.feeds.values()) f.ping();
    }
    for (const f of this.feeds.values()) f.checkTimeout(v.replTimeout * 1000);
    if (Date.now() - this.lastRetainedCheck >= 5000) {
      this.lastRetainedCheck = Date.now();
      this.h.store.firstRetainedSeq().then(
        (first) => (this.firstRetained = first ?? this.h.keyspace.changelog.seq + 1),
        () => undefined,
      );
    }
    this.link?.checkTimeout();
  }

  stop(): void {
    this.link?.stop();
    for (const f of this.feeds.values()) f.stop();
  }

  changeReplid(): void {
    this.shiftHistory();
  }

  private get history(): ReplicationHistory {
    return this.h.keyspace.changelog.history;
  }

  /** A new history id from here on (committed with the next records); followers reconnect to learn it, as Redis's. */
  private shiftHistory(): void {
    this.history.shift(this.h.keyspace.changelog.seq);
    this.h.flusher.schedule();
    this.dropFollowers();
  }

  private dropFollowers(): void {
    for (const f of this.feeds.values()) f.close();
  }

  /** ROLE */
  roleReply(): Reply {
    if (this.h.role === 'slave' && this.link) {
      const at = this.h.keyspace.changelog.leaderPosition;
      return [b('slave'), b(this.link.host), this.link.port, b(this.link.state), at && at.offset >= 0 ? at.offset : -1];
    }
    const followers = [...this.feeds.values()].map((f) => [b(f.follower.ip), b(String(f.follower.listeningPort)), b(String(f.follower.ackOffset))]);
    return [b('master'), this.history.offsetOf(this.h.keyspace.changelog.seq), followers];
  }

  /** INFO replication, in Redis 7.0's order. */
  infoFields(): Array<[string, string | number]> {
    const v = this.h.config.values;
    const out: Array<[string, string | number]> = [['role', this.h.role]];
    const at = this.h.keyspace.changelog.leaderPosition;
    const link = this.link;
    if (this.h.role === 'slave' && link) {
      const applied = at && at.offset >= 0 ? at.offset : 0;
      out.push(
        ['master_host', link.host],
        ['master_port', link.port],
        ['master_link_status', link.state === 'connected' ? 'up' : 'down'],
        ['master_last_io_seconds_ago', link.lastIo ? Math.floor((Date.now() - link.lastIo) / 1000) : -1],
        ['master_sync_in_progress', link.state === 'sync' ? 1 : 0],
        ['slave_read_repl_offset', applied],
        ['slave_repl_offset', applied],
      );
      if (link.state === 'sync') {
        out.push(
          ['master_sync_total_bytes', -1],
          ['master_sync_read_bytes', link.syncReadBytes],
          ['master_sync_left_bytes', -1],
          ['master_sync_perc', '0.00'],
          ['master_sync_last_io_seconds_ago', Math.floor((Date.now() - link.lastIo) / 1000)],
        );
      }
      if (link.state !== 'connected') out.push(['master_link_down_since_seconds', link.downSince ? Math.floor((Date.now() - link.downSince) / 1000) : -1]);
      out.push(['slave_priority', v.replicaPriority], ['slave_read_only', v.replicaReadOnly ? 1 : 0], ['replica_announced', 1]);
    }
    out.push(['connected_slaves', this.feeds.size]);
    if (this.minReplicasActive()) out.push(['min_slaves_good_slaves', this.goodFollowers()]);
    let i = 0;
    for (const f of this.feeds.values()) {
      const s = f.follower;
      out.push([`slave${i++}`, `ip=${s.ip},port=${s.listeningPort},state=${s.state},offset=${s.ackOffset},lag=${Math.floor((Date.now() - s.ackAt) / 1000)}`]);
    }
    const slave = this.h.role === 'slave';
    const history = this.history;
    const offset = slave ? (at && at.offset >= 0 ? at.offset : 0) : history.offsetOf(this.h.keyspace.changelog.seq);
    // The backlog: the retained change log of this history (records, not bytes).
    const firstSeq = Math.max(this.firstRetained, history.start);
    out.push(
      ['master_failover_state', this.failover?.state ?? 'no-failover'],
      ['master_replid', history.replid],
      ['master_replid2', history.replid2],
      ['master_repl_offset', offset],
      ['second_repl_offset', history.secondOffset],
      ['repl_backlog_active', 1],
      ['repl_backlog_size', v.changelogRetention],
      ['repl_backlog_first_byte_offset', history.offsetOf(firstSeq)],
      ['repl_backlog_histlen', Math.max(0, this.h.keyspace.changelog.seq - firstSeq + 1)],
    );
    return out;
  }
}


/** FAILOVER's arguments. */
export interface FailoverRequest {
  to?: { host: string; port: number };
  force: boolean;
  abort: boolean;
  /** 0: none */
  timeoutMs: number;
}

interface Failover {
  state: 'waiting-for-sync' | 'failover-in-progress';
  target: { host: string; port: number } | undefined;
  force: boolean;
  /** Date.now() past which it is aborted (or forced); 0: never */
  deadline: number;
}
