import { randomBytes } from 'node:crypto';
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
import type { ChangeRecord, LeaderPosition } from './changelog.js';
import { FollowerFeed, canContinue, type FollowerState } from './leader.js';
import { FollowerLink } from './follower.js';

/** What replication needs of its server (talus.ts). */
export interface ReplicationHost {
  readonly log: Logger;
  readonly config: ConfigStore;
  readonly keyspace: Keyspace;
  readonly flusher: Flusher;
  readonly store: ReplicationStore;
  readonly port: number;
  role: 'master' | 'slave';
  openApplier(onReply: (r: Reply) => void): Session;
  dispatch(s: Session, args: Buffer[]): void;
}

const b = (s: string) => Buffer.from(s);

/**
 * Replication (docs/replication.md): this server's change-log history id,
 * the followers it feeds, and, on a follower, the link to its leader.
 */
export class Replication implements ReplicationControl {
  replid: string;
  /** the previous history id (DEBUG CHANGE-REPL-ID) and the offset from which the current one differs */
  private replid2 = '0'.repeat(40);
  private secondOffset = -1;
  readonly stats = { syncFull: 0, syncPartialOk: 0, syncPartialErr: 0 };
  private readonly feeds = new Map<number, FollowerFeed>();
  private link: FollowerLink | undefined;
  private applier: Session | undefined;
  private onApplierReply: ((r: Reply) => void) | undefined;
  private waits: Array<{ offset: number; count: number; resolve: (n: number) => void }> = [];
  private lastPing = Date.now();
  /** REPLCONF listening-port, by session id, until its PSYNC */
  private readonly listeningPorts = new Map<number, number>();
  /** the committed change log's first record (INFO repl_backlog_first_byte_offset), refreshed by the cron */
  private firstRetained = 1;
  private lastRetainedCheck = 0;
  /** -LOADING: a full sync is loading (or a restart found one unfinished) */
  loading = false;

  constructor(
    private readonly h: ReplicationHost,
    row: ReplicationRow,
  ) {
    this.replid = row.replid;
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

  follow(target: ReplicaOf | null): void {
    this.link?.stop();
    this.link = undefined;
    if (target === null) {
      if (this.h.role === 'slave') this.h.log.notice('MASTER MODE enabled (user request)');
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
        listeningPort: () => this.h.port,
        auth: () => ({ user: this.h.config.values.masteruser, password: this.h.config.values.masterauth }),
        onSynced: () => undefined,
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
    if (s.flags.has('master')) return undefined;
    const flagsOf = () => subcommandOf(cmd, args).def.flags;
    // a container's flags are its subcommands' (FUNCTION LOAD writes, FUNCTION LIST does not)
    const write = cmd.isWrite || (cmd.subcommands.size > 0 && flagsOf().includes('write'));
    if (this.h.role === 'slave') {
      if (write && this.h.config.values.replicaReadOnly) return new ErrorReply("READONLY You can't write against a read only replica.");
      if (!this.linkUp && !this.h.config.values.replicaServeStaleData && !flagsOf().includes('stale')) {
        return new ErrorReply("MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'.");
      }
    }
    // Admin commands too (REPLICAOF, CONFIG...): a partial data set waits for a full sync, which may need them.
    if (this.loading && !flagsOf().includes('loading') && !flagsOf().includes('admin')) return new ErrorReply('LOADING Redis is loading the dataset in memory');
    return undefined;
  }

  /** PSYNC replid offset (SYNC: "?" -1): +CONTINUE or +FULLRESYNC, then the stream on this connection. */
  psync(s: Session, conn: Connection, replid: string, offset: number): Promise<Reply> {
    const ip = conn.remoteAddress ?? '127.0.0.1';
    const follower: FollowerState = { id: s.id, ip: ip.replace(/^::ffff:/, ''), listeningPort: this.listeningPorts.get(s.id) ?? 0, state: 'wait_bgsave', ackOffset: 0, ackAt: Date.now() };
    s.flags.add('slave');
    this.feeds.get(s.id)?.stop();
    const feed = new FollowerFeed(
      {
        log: this.h.log,
        store: this.h.store,
        durableSeq: () => this.h.flusher.durableSeq,
        onCommitted: (l: (records: ChangeRecord[]) => void) => {
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
      const durable = this.h.flusher.durableSeq;
      if (replid === this.replid && (await canContinue(this.h.store, offset, durable))) {
        this.stats.syncPartialOk++;
        this.h.log.notice(`Partial resynchronization request from ${follower.ip}:${follower.listeningPort} accepted, from offset ${offset}`);
        setImmediate(() => feed.stream(offset).catch(fail));
        return new SimpleString(`CONTINUE ${this.replid}`);
      }
      if (replid !== '?') this.stats.syncPartialErr++;
      this.stats.syncFull++;
      this.h.log.notice(`Full resync requested by replica ${follower.ip}:${follower.listeningPort}`);
      return new Promise<Reply>((resolve) => {
        feed.fullSync(this.replid, resolve).catch((err: Error) => {
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
      } else if (opt !== 'ip-address' && opt !== 'capa') return new ErrorReply(`ERR Unrecognized REPLCONF option: ${args[i]!.toString()}`);
    }
    return OK;
  }

  /** A follower's connection closed. */
  closed(s: Session): void {
    this.listeningPorts.delete(s.id);
    const feed = this.feeds.get(s.id);
    if (!feed) return;
    feed.stop();
    this.feeds.delete(s.id);
    this.h.log.notice(`Connection with replica ${feed.follower.ip}:${feed.follower.listeningPort} lost.`);
  }

  /** WAIT numreplicas timeout: followers whose PostgreSQL committed everything logged so far. */
  wait(numreplicas: number, timeoutMs: number): Promise<number> | number {
    const offset = this.h.keyspace.changelog.seq;
    const n = this.acked(offset);
    if (n >= numreplicas || this.feeds.size === 0) return n;
    return new Promise((resolve) => {
      const w = { offset, count: numreplicas, resolve };
      this.waits.push(w);
      if (timeoutMs > 0) {
        setTimeout(() => {
          if (!this.waits.includes(w)) return;
          this.waits = this.waits.filter((x) => x !== w);
          resolve(this.acked(offset));
        }, timeoutMs);
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

  /** Server cron: pings to followers (repl-ping-replica-period), the link's timeout. */
  cron(): void {
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
    this.replid2 = this.replid;
    this.secondOffset = this.h.keyspace.changelog.seq + 1;
    this.replid = randomBytes(20).toString('hex');
  }

  /** ROLE */
  roleReply(): Reply {
    if (this.h.role === 'slave' && this.link) {
      const at = this.h.keyspace.changelog.leaderPosition;
      return [b('slave'), b(this.link.host), this.link.port, b(this.link.state), at && at.offset >= 0 ? at.offset : -1];
    }
    const followers = [...this.feeds.values()].map((f) => [b(f.follower.ip), b(String(f.follower.listeningPort)), b(String(f.follower.ackOffset))]);
    return [b('master'), this.h.keyspace.changelog.seq, followers];
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
    let i = 0;
    for (const f of this.feeds.values()) {
      const s = f.follower;
      out.push([`slave${i++}`, `ip=${s.ip},port=${s.listeningPort},state=${s.state},offset=${s.ackOffset},lag=${Math.floor((Date.now() - s.ackAt) / 1000)}`]);
    }
    const slave = this.h.role === 'slave';
    const offset = slave ? (at && at.offset >= 0 ? at.offset : 0) : this.h.keyspace.changelog.seq;
    out.push(
      ['master_failover_state', 'no-failover'],
      ['master_replid', slave && at ? at.replid : this.replid],
      ['master_replid2', this.replid2],
      ['master_repl_offset', offset],
      ['second_repl_offset', this.secondOffset],
      ['repl_backlog_active', 1],
      ['repl_backlog_size', v.changelogRetention],
      ['repl_backlog_first_byte_offset', this.firstRetained],
      ['repl_backlog_histlen', Math.max(0, this.h.keyspace.changelog.seq - this.firstRetained + 1)],
    );
    return out;
  }
}

