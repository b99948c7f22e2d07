import type { ReplicationStore } from '../storage/replication-store.js';
import type { Connection } from '../execution/context.js';
import { RawReply, type Reply } from '../protocol/reply.js';
import type { Logger } from '../observability/logger.js';
import { encodeEffect, type ChangeRecord } from './changelog.js';
import { keyCommands } from './snapshot-commands.js';

/** What a leader needs of its server. */
export interface LeaderHost {
  readonly log: Logger;
  readonly store: ReplicationStore;
  /** last change-log seq committed to PostgreSQL */
  durableSeq(): number;
  /** observe commits: their records, oldest first; returns the unsubscribe */
  onCommitted(listener: (records: ChangeRecord[]) => void): () => void;
  /** unsent output past which a feed waits for its follower to read (below the replica output limits) */
  outputHighWater(): number;
}

/** A follower connected to this server, as INFO and ROLE show it. */
export interface FollowerState {
  readonly id: number;
  readonly ip: string;
  listeningPort: number;
  state: 'wait_bgsave' | 'send_bulk' | 'online';
  /** last offset the follower reported committed (REPLCONF ACK) */
  ackOffset: number;
  /** when it last sent an ACK (ms) */
  ackAt: number;
}

/** Unsent output past which a feed waits for the follower to read (at most; see Replication.outputHighWater). */
export const OUTPUT_HIGH_WATER = 8 << 20;
/** Records read from PostgreSQL per round while catching up. */
const CATCH_UP_RECORDS = 2000;

const frame = (...args: Array<Buffer | string>) => encodeEffect(args);

/**
 * Feeds one follower connection (docs/replication.md): after +FULLRESYNC the
 * snapshot between TALUS-SYNC BEGIN and END, then the committed change log
 * from the next offset, read from PostgreSQL until caught up and then pushed
 * as commits land. Each record goes as its effect, preceded by SELECT when
 * its db differs from the previous one's.
 */
export class FollowerFeed {
  private db = -1;
  private stopped = false;
  private unsubscribe: (() => void) | undefined;
  /** next record to send */
  private next = 0;

  constructor(
    private readonly host: LeaderHost,
    private readonly conn: Connection,
    readonly follower: FollowerState,
  ) {}

  stop(): void {
    this.stopped = true;
    this.unsubscribe?.();
  }

  /** Disconnect the follower (it reconnects and asks again: a new history id, a full sync starting here). */
  close(): void {
    this.stop();
    this.conn.close();
  }

  get closed(): boolean {
    return this.stopped || this.conn.closed;
  }

  /**
   * +FULLRESYNC: answers `reply` once the snapshot's offset is known, then
   * streams snapshot and log. The snapshot is at an own seq; the follower is
   * told the history offset `offsetOf` gives for it.
   */
  async fullSync(replid: string, offsetOf: (seq: number) => number, answer: (r: Reply) => void): Promise<void> {
    let keys = 0;
    const started = Date.now();
    const seq = await this.host.store.readSnapshot(
      async (seq, libraries) => {
        const offset = offsetOf(seq);
        answer(new RawReply(Buffer.from(`+FULLRESYNC ${replid} ${offset}\r\n`)));
        await new Promise((r) => setImmediate(r)); // the reply is written before the stream
        this.send(frame('TALUS-SYNC', 'BEGIN', String(offset)));
        // the follower's libraries become the leader's, as its keys do
        this.send(frame('FUNCTION', 'FLUSH'));
        for (const lib of libraries) this.send(frame('FUNCTION', 'LOAD', 'REPLACE', lib.code));
        this.follower.state = 'send_bulk';
      },
      async (batch) => {
        if (this.closed) throw new Error('follower gone');
        for (const k of batch) {
          this.select(k.db);
          for (const cmd of keyCommands(k)) this.send(frame(...cmd));
        }
        keys += batch.length;
        await this.drained();
      },
    );
    const offset = offsetOf(seq);
    this.send(frame('TALUS-SYNC', 'END', String(offset), String(keys)));
    this.host.log.notice(`Full sync of ${keys} keys to follower ${this.follower.ip}:${this.follower.listeningPort} sent in ${Date.now() - started} ms (offset ${offset})`);
    this.db = -1;
    await this.stream(seq + 1);
  }

  /** Stream the committed log from `from` on: PostgreSQL first, then each commit as it lands. */
  async stream(from: number): Promise<void> {
    this.next = from;
    this.follower.state = 'online';
    this.follower.ackAt = Date.now();
    await this.catchUp();
  }

  /** Read the committed log from PostgreSQL while behind, then push each commit as it lands. */
  private async catchUp(): Promise<void> {
    while (!this.closed && this.next <= this.host.durableSeq()) {
      const records = await this.host.store.readChangelogFrom(this.next, CATCH_UP_RECORDS);
      if (records.length === 0) throw new Error(`change log no longer holds offset ${this.next}`);
      // Record by record: a batch of big values must not pass the replica output limit at once.
      for (let i = 0; i < records.length && !this.closed; i++) {
        this.sendRecords(records.slice(i, i + 1));
        if (this.conn.outputBytes > this.host.outputHighWater()) await this.drained();
      }
    }
    if (this.closed) return;
    // Caught up in this tick: from now on every commit is pushed as it lands.
    this.unsubscribe = this.host.onCommitted((records) => {
      if (this.closed) return;
      if (this.conn.outputBytes > this.host.outputHighWater()) {
        // The follower reads slower than commits land: hold nothing more for it here; once it
        // has read, catch up from PostgreSQL (the leader's memory per follower stays bounded).
        this.unsubscribe?.();
        this.unsubscribe = undefined;
        void this.drained()
          .then(() => this.catchUp())
          .catch((err: Error) => {
            this.host.log.warning(`replication feed to ${this.follower.ip}:${this.follower.listeningPort}: ${err.message}`);
            this.conn.close();
          });
        return;
      }
      try {
        this.sendRecords(records);
      } catch (err) {
        this.host.log.warning(`replication feed to ${this.follower.ip}:${this.follower.listeningPort}: ${(err as Error).message}`);
        this.conn.close();
      }
    });
  }

  /** repl-timeout: an online follower that sent no ACK for that long is disconnected. */
  checkTimeout(timeoutMs: number): void {
    if (this.follower.state === 'online' && Date.now() - this.follower.ackAt > timeoutMs && !this.conn.closed) {
      this.host.log.warning(`Disconnecting timedout replica (streaming sync): ${this.follower.ip}:${this.follower.listeningPort}`);
      this.conn.close();
    }
  }

  /** A heartbeat (repl-ping-replica-period): framing only, not a record. */
  ping(): void {
    if (this.follower.state === 'online') this.send(frame('PING'));
  }

  private sendRecords(records: readonly ChangeRecord[]): void {
    for (const r of records) {
      if (r.seq < this.next) continue;
      if (r.seq !== this.next) throw new Error(`change-log gap: record ${r.seq}, expected ${this.next}`);
      this.select(r.db);
      this.send(r.effect);
      this.next++;
    }
  }

  private select(db: number): void {
    if (db === this.db) return;
    this.db = db;
    this.send(frame('SELECT', String(db)));
  }

  private send(bytes: Buffer): void {
    this.conn.push(new RawReply(bytes));
  }

  /** Wait while the follower is behind on reading (bounded output, no stalled leader). */
  private async drained(): Promise<void> {
    while (!this.closed && this.conn.outputBytes > this.host.outputHighWater()) await new Promise((r) => setTimeout(r, 5));
  }
}

/** Whether a follower at `from` (its next record) can continue from the committed log. */
export async function canContinue(store: ReplicationStore, from: number, durable: number): Promise<boolean> {
  if (from < 1 || from > durable + 1) return false;
  if (from === durable + 1) return true;
  const first = await store.firstRetainedSeq();
  return first !== undefined && first <= from;
}
