import net from 'node:net';
import { RequestParser } from '../protocol/parser.js';
import { ErrorReply, type Reply } from '../protocol/reply.js';
import type { Session } from '../execution/session.js';
import type { Logger } from '../observability/logger.js';
import { encodeEffect, type LeaderPosition } from './changelog.js';
import type { ReplicationHistory } from './history.js';

/** What a follower's link needs of its server. */
export interface FollowerHost {
  readonly log: Logger;
  /** the session the leader's records run in (flag `master`: not read-only, sees expired keys) */
  readonly applier: Session;
  dispatch(s: Session, args: Buffer[]): void;
  /** what the applier's replies go to: set per command by the link */
  onApplierReply: ((r: Reply) => void) | undefined;
  /** the leader position applied here (in memory) and the one committed */
  applied(): LeaderPosition | undefined;
  durable(): LeaderPosition | undefined;
  setApplied(p: LeaderPosition): void;
  /** -LOADING while a full sync loads */
  setLoading(on: boolean): void;
  /** this server's history (ids and offsets) and its last own change-log seq */
  history(): ReplicationHistory;
  seq(): number;
  /** around each leader record (or transaction) applied: its effects are logged as those records; endRelay gives the last one's own seq */
  beginRelay(records: ReadonlyArray<{ db: number; args: readonly Buffer[] }>): void;
  endRelay(): number;
  cancelRelay(): void;
  /** disconnect our own followers (our history changes: they must ask again) */
  dropFollowers(): void;
  /** our own listening port (or replica-announce-port), sent as REPLCONF listening-port */
  listeningPort(): number;
  /** replica-announce-ip, sent as REPLCONF ip-address ('' = none) */
  announceIp(): string;
  /** sent as REPLCONF talus-run-id: a Talus leader with this run id is this server, and refuses */
  readonly runId: string;
  auth(): { user: string; password: string };
  /** sync_full etc. are counted by the leader; the follower notes what it did */
  onSynced(kind: 'full' | 'partial'): void;
  /** the leader answered PSYNC with an error */
  onRefused(message: string): void;
  /** this link hands our leadership over (FAILOVER): PSYNC says so, and the new leader promotes itself first */
  handover(): boolean;
}

export type LinkState = 'connect' | 'connecting' | 'handshake' | 'sync' | 'connected';

/** Applied records queued past this pause the socket. */
const QUEUE_HIGH_WATER = 10_000;

/**
 * The follower's end of a replication link: connects, does Redis's
 * handshake (PING, AUTH, REPLCONF listening-port, REPLCONF capa psync2,
 * PSYNC), then applies what the leader streams through the executor, one
 * command at a time in order, and acknowledges its committed offset.
 * Reconnects (PSYNC from its applied offset) until stopped.
 */
export class FollowerLink {
  state: LinkState = 'connect';
  /** when the link last received something (ms) */
  lastIo = 0;
  /** since when the link is down (ms; 0 = it never was up, as Redis reports -1 then) */
  downSince = 0;
  /** bytes of the current full sync read so far */
  syncReadBytes = 0;
  private socket: net.Socket | undefined;
  private stopped = false;
  private retry: NodeJS.Timeout | undefined;
  private ackTimer: NodeJS.Timeout | undefined;
  /** leader replid of the stream being applied, and the last record's offset */
  private replid = '';
  private offset = 0;
  private loading = false;
  private readonly queue: Buffer[][] = [];
  private applying = false;
  private lastAcked = -1;
  /** the db of the stream's records (its last SELECT) */
  private streamDb = 0;
  /** a MULTI record waits for its EXEC to arrive */
  private awaitingExec = false;
  /** the transaction being applied: its frames (to try again), its records, whether a command of it was refused (MISCONF) */
  private group: { items: Buffer[][]; records: Array<{ db: number; args: Buffer[] }>; startDb: number; failed: boolean } | undefined;

  constructor(
    readonly host: string,
    readonly port: number,
    private readonly h: FollowerHost,
    private readonly timeoutSeconds: () => number,
  ) {}

  start(): void {
    this.connect();
  }

  stop(): void {
    this.stopped = true;
    this.queue.length = 0; // nothing more of this leader's stream is applied
    clearTimeout(this.retry);
    clearInterval(this.ackTimer);
    this.socket?.destroy();
    if (this.loading) this.h.setLoading(false);
  }

  private connect(): void {
    if (this.stopped) return;
    this.state = 'connecting';
    const socket = net.connect({ host: this.host, port: this.port });
    this.socket = socket;
    socket.setNoDelay(true);
    let handshake: Handshake | undefined = new Handshake();
    const parser = new RequestParser({ maxBulkLen: 1 << 30, maxQueryBuffer: Number.MAX_SAFE_INTEGER });
    socket.on('connect', () => {
      this.state = 'handshake';
      this.lastIo = Date.now();
      this.h.log.notice(`Connecting to MASTER ${this.host}:${this.port}`);
      void this.handshake(socket, handshake!).then(
        (rest) => {
          handshake = undefined;
          if (rest.length > 0) parser.push(rest);
          this.drainParser(parser);
        },
        (err: Error) => this.fail(socket, err.message),
      );
    });
    socket.on('data', (chunk: Buffer) => {
      this.lastIo = Date.now();
      if (this.state === 'sync') this.syncReadBytes += chunk.length;
      if (handshake) {
        handshake.push(chunk);
        return;
      }
      parser.push(chunk);
      this.drainParser(parser);
    });
    socket.on('error', (err) => this.h.log.verbose(`replication link error: ${err.message}`));
    socket.on('close', () => this.closed(socket));
  }

  private async handshake(socket: net.Socket, hs: Handshake): Promise<Buffer> {
    const ask = async (...args: string[]): Promise<string> => {
      socket.write(encodeEffect(args));
      return hs.line();
    };
    const pong = await ask('PING');
    if (pong.startsWith('-') && !pong.startsWith('-NOAUTH')) throw new Error(`Error reply to PING from master: '${pong}'`);
    const { user, password } = this.h.auth();
    if (password) {
      const ok = await ask('AUTH', ...(user ? [user] : []), password);
      if (ok !== '+OK') throw new Error(`Unable to AUTH to MASTER: ${ok}`);
    }
    const self = await ask('REPLCONF', 'talus-run-id', this.h.runId);
    if (self.startsWith('-')) throw new Error(self.slice(1));
    const port = await ask('REPLCONF', 'listening-port', String(this.h.listeningPort()));
    if (port.startsWith('-')) throw new Error(`REPLCONF listening-port refused: ${port}`);
    const ip = this.h.announceIp();
    if (ip) {
      const ok = await ask('REPLCONF', 'ip-address', ip);
      if (ok.startsWith('-')) throw new Error(`REPLCONF ip-address refused: ${ok}`);
    }
    await ask('REPLCONF', 'capa', 'psync2');
    // A command of the last link still running (a cold key) sets the position when done: ask from after it.
    while (this.applying) await new Promise((r) => setTimeout(r, 10));
    // PSYNC2: ask to continue our history (a leader's, or ours as a former leader) from our next offset;
    // an unfinished full sync, or nothing logged at all, asks for a full sync.
    const at = this.h.applied();
    const history = this.h.history();
    const seq = this.h.seq();
    const resumable = at !== undefined ? at.offset >= 0 : seq > 0;
    const next = history.offsetOf(seq) + 1;
    const psync = ['PSYNC', resumable ? history.replid : '?', resumable ? String(next) : '-1'];
    if (this.h.handover()) psync.push('FAILOVER');
    const answer = await ask(...psync);
    if (answer.startsWith('-')) this.h.onRefused(answer.slice(1));
    const words = answer.split(' ');
    if (words[0] === '+FULLRESYNC' && words.length === 3) {
      this.replid = words[1]!;
      this.offset = Number(words[2]);
      this.state = 'sync';
      this.syncReadBytes = 0;
      this.h.log.notice(`Full resync from master: ${this.replid}:${this.offset}`);
    } else if (words[0] === '+CONTINUE' && resumable) {
      const replid = words[1] ?? history.replid;
      if (replid !== history.replid) {
        // The leader continues our history under its new id (a promoted follower): ours branches there too.
        history.shift(seq, replid);
        this.h.dropFollowers();
      }
      this.replid = replid;
      this.offset = next - 1;
      this.h.setApplied({ replid, offset: this.offset });
      this.online();
      this.h.onSynced('partial');
      this.h.log.notice(`Successful partial resynchronization with master at offset ${this.offset + 1}`);
    } else {
      throw new Error(`Unexpected reply to PSYNC from master: ${answer}`);
    }
    return hs.rest();
  }

  private online(): void {
    this.state = 'connected';
    clearInterval(this.ackTimer);
    this.ackTimer = setInterval(() => this.ack(true), 1000);
  }

  private drainParser(parser: RequestParser): void {
    try {
      for (let args = parser.next(); args !== null; args = parser.next()) this.queue.push(args);
    } catch (err) {
      this.fail(this.socket!, `corrupt replication stream: ${(err as Error).message}`);
      return;
    }
    if (this.queue.length > QUEUE_HIGH_WATER && !this.awaitingExec) this.socket?.pause();
    this.applyQueued();
  }

  /** Apply queued commands one at a time, in order: each waits for the previous one's reply. */
  private applyQueued(): void {
    if (this.applying) return;
    this.applying = true;
    const step = (): void => {
      while (this.queue.length > 0) {
        const args = this.queue.shift()!;
        if (this.queue.length < QUEUE_HIGH_WATER / 2) this.socket?.resume();
        const name = args[0]!.toString('latin1').toUpperCase();
        if (name === 'PING') continue;
        if (name === 'REPLCONF') {
          // framing, not a record: GETACK asks for an ACK now
          if (args[1]?.toString('latin1').toUpperCase() === 'GETACK') this.ack(true);
          continue;
        }
        if (name === 'TALUS-SYNC') {
          this.syncFrame(args);
          continue;
        }
        let sync = true;
        let done = false;
        if (name === 'SELECT') this.streamDb = Number(args[1]?.toString('latin1'));
        const counted = name !== 'SELECT' && this.state === 'connected';
        // A transaction's records (MULTI ... EXEC) are applied as one: its EXEC runs them atomically.
        if (counted && name === 'MULTI' && this.group === undefined) {
          const end = this.queue.findIndex((a) => a[0]!.toString('latin1').toUpperCase() === 'EXEC');
          if (end < 0) {
            // the rest has not arrived: wait for it (reading on, whatever the queue holds)
            this.queue.unshift(args);
            this.awaitingExec = true;
            this.socket?.resume();
            break;
          }
          this.awaitingExec = false;
          this.group = this.openGroup([args, ...this.queue.slice(0, end + 1)]);
        }
        const group = this.group;
        const last = group !== undefined && counted && name === 'EXEC';
        // A command of it was refused (PostgreSQL down): drop the transaction and try it all again.
        const discard = last && group.failed;
        if (counted && group === undefined) this.h.beginRelay([{ db: this.streamDb, args }]);
        else if (last && !discard) this.h.beginRelay(group.records);
        this.h.onApplierReply = (reply) => {
          done = true;
          const refused = reply instanceof ErrorReply && (reply.message.startsWith('MISCONF') || (reply.message.startsWith('EXECABORT') && reply.message.includes('MISCONF')));
          if (group !== undefined && !last) {
            // MULTI, a queued command, a SELECT inside: nothing applied yet
            if (refused) group.failed = true;
            if (!sync) step();
            return;
          }
          if (refused || discard) {
            // PostgreSQL refused the write: try the same record (or transaction) again shortly
            this.h.cancelRelay();
            if (group !== undefined) {
              this.group = undefined;
              this.streamDb = group.startDb;
              this.queue.unshift(...group.items);
            } else {
              this.queue.unshift(args);
            }
            this.h.onApplierReply = undefined;
            setTimeout(() => {
              this.applying = true;
              step();
            }, 100);
            return;
          }
          if (reply instanceof ErrorReply) this.h.log.warning(`replicated command ${name} failed: ${reply.message}`);
          if (counted) {
            const seq = this.h.endRelay();
            this.offset += group !== undefined ? group.records.length : 1;
            this.group = undefined;
            if (!this.h.history().align(seq, this.offset)) this.h.log.warning(`replication: record ${this.offset} logged here as ${seq}, out of step; partial syncs from this server restart after it`);
            this.h.setApplied({ replid: this.replid, offset: this.offset });
          }
          if (!sync) step();
        };
        this.h.dispatch(this.h.applier, discard ? [Buffer.from('DISCARD')] : args);
        sync = false;
        if (!done) return; // waiting for keys: the reply continues the loop
        if (this.h.onApplierReply === undefined) return; // retry scheduled
      }
      if (this.group !== undefined && this.queue.length === 0) {
        // The link went away mid-transaction: the applier leaves its MULTI (the next link resends it all).
        this.streamDb = this.group.startDb;
        this.group = undefined;
        this.h.onApplierReply = () => undefined;
        this.h.dispatch(this.h.applier, [Buffer.from('DISCARD')]);
      }
      this.h.onApplierReply = undefined;
      this.applying = false;
    };
    step();
  }

  /** A transaction's frames (MULTI ... EXEC, SELECTs between), and its records with their dbs. */
  private openGroup(items: Buffer[][]): NonNullable<FollowerLink['group']> {
    const records: Array<{ db: number; args: Buffer[] }> = [];
    let db = this.streamDb;
    for (const a of items) {
      if (a[0]!.toString('latin1').toUpperCase() === 'SELECT') db = Number(a[1]?.toString('latin1'));
      else records.push({ db, args: a });
    }
    return { items, records, startDb: this.streamDb, failed: false };
  }

  /** The snapshot's frame: BEGIN flushes and marks the data set partial, END makes it whole. */
  private syncFrame(args: Buffer[]): void {
    const what = args[1]?.toString('latin1');
    if (what === 'BEGIN') {
      this.h.dropFollowers();
      this.loading = true;
      this.h.setLoading(true);
      this.h.setApplied({ replid: this.replid, offset: -1 });
      this.h.dispatch(this.h.applier, [Buffer.from('FLUSHALL')]);
    } else if (what === 'END') {
      // From here our change log is the leader's history: its next record is our next seq.
      this.h.history().reset(this.replid, this.offset, this.h.seq());
      this.h.setApplied({ replid: this.replid, offset: this.offset });
      this.loading = false;
      this.h.setLoading(false);
      this.online();
      this.h.onSynced('full');
      this.h.log.notice(`MASTER <-> REPLICA sync: Finished with success (${args[3]?.toString() ?? '?'} keys, offset ${this.offset})`);
    }
  }

  /** REPLCONF ACK <offset committed here>: on every commit that moves it, and every second. */
  ack(always = false): void {
    if (this.state !== 'connected' || !this.socket) return;
    const d = this.h.durable();
    const offset = d !== undefined && d.replid === this.replid ? d.offset : -1;
    if (offset < 0 || (!always && offset === this.lastAcked)) return;
    this.lastAcked = offset;
    this.socket.write(encodeEffect(['REPLCONF', 'ACK', String(offset)]));
  }

  private fail(socket: net.Socket, message: string): void {
    this.h.log.warning(`replication link to ${this.host}:${this.port}: ${message}`);
    socket.destroy();
  }

  private closed(socket: net.Socket): void {
    if (socket !== this.socket) return;
    clearInterval(this.ackTimer);
    this.queue.length = 0;
    if (this.state === 'connected' || this.state === 'sync') {
      this.h.log.warning(`Connection with master lost${this.loading ? ' during a full sync: the data set stays partial (-LOADING) until a full sync completes' : ''}`);
    }
    if (this.state === 'connected') this.downSince = Date.now();
    this.state = 'connect';
    this.socket = undefined;
    if (!this.stopped) this.retry = setTimeout(() => this.connect(), 1000);
  }

  /** repl-timeout: the leader sent nothing (not even a PING) for that long. */
  checkTimeout(): void {
    if (!this.socket || this.state === 'connect') return;
    if (Date.now() - this.lastIo > this.timeoutSeconds() * 1000) this.fail(this.socket, 'MASTER timeout: no data nor PING received');
  }
}

/** Reads the handshake's single-line replies; what follows the last one is the stream. */
class Handshake {
  private buf = Buffer.alloc(0);
  private waiter: (() => void) | undefined;

  push(chunk: Buffer): void {
    this.buf = Buffer.concat([this.buf, chunk]);
    this.waiter?.();
  }

  async line(): Promise<string> {
    for (;;) {
      const end = this.buf.indexOf('\r\n');
      if (end >= 0) {
        const text = this.buf.toString('latin1', 0, end);
        this.buf = this.buf.subarray(end + 2);
        return text;
      }
      await new Promise<void>((r) => (this.waiter = r));
      this.waiter = undefined;
    }
  }

  rest(): Buffer {
    return this.buf;
  }
}
