import fs from 'node:fs';
import net from 'node:net';
import { RequestParser } from '../protocol/parser.js';
import { encodeEffect, type LeaderPosition } from './changelog.js';
import { ApplyQueue, type ApplierHost } from './applier.js';
import type { ReplicationHistory } from './history.js';

/** What a follower's link needs of its server: applying (its relay logs each leader record as exactly that record), and the rest. */
export interface FollowerHost extends ApplierHost {
  readonly relay: NonNullable<ApplierHost['relay']>;
  /** the leader position applied here (in memory) and the one committed */
  applied(): LeaderPosition | undefined;
  durable(): LeaderPosition | undefined;
  setApplied(p: LeaderPosition): void;
  /** -LOADING while a full sync loads */
  setLoading(on: boolean): void;
  /** whether the applier's commands rebuild a snapshot: not logged as changes (Keyspace.loadingSnapshot) */
  loadingSnapshot(on: boolean): void;
  /** resolves once everything applied so far is committed to PostgreSQL (Flusher.committed) */
  committed(): Promise<void>;
  /** this server's history (ids and offsets) and its last own change-log seq */
  history(): ReplicationHistory;
  seq(): number;
  /** where a full sync's snapshot is kept until it is complete (then loaded and removed) */
  spoolPath(): string;
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
/** A full sync's load reads the received snapshot this much at a time. */
const LOAD_CHUNK = 1 << 20;
/**
 * Bytes of the snapshot applied between two commit checkpoints of its load,
 * and how many checkpoints may be uncommitted at once: the load runs at most
 * this far ahead of PostgreSQL (its uncommitted entries cannot be evicted, so
 * this bounds its memory), while the next step is applied as one commits.
 */
const LOAD_STEP_BYTES = 16 << 20;
const LOAD_STEPS_AHEAD = 2;

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
  /** the leader's stream: framing and flow control here, the records applied by the shared loop */
  private readonly queue: ApplyQueue;
  private lastAcked = -1;
  /** a full sync's snapshot: received into a file first, applied once whole */
  private spool: Spool | undefined;

  constructor(
    readonly host: string,
    readonly port: number,
    private readonly h: FollowerHost,
    private readonly timeoutSeconds: () => number,
  ) {
    this.queue = new ApplyQueue(h, {
      frame: (name, args) => this.frame(name, args),
      // the snapshot's commands rebuild the data set; records of the live stream move the offset
      counts: () => this.state === 'connected',
      applied: (records, seq) => this.applied(records, seq!),
      drained: (length) => {
        if (length < QUEUE_HIGH_WATER / 2) this.socket?.resume();
      },
      // the rest of a transaction must arrive, however long the queue
      awaitingExec: () => this.socket?.resume(),
    });
  }

  start(): void {
    this.connect();
  }

  stop(): void {
    this.stopped = true;
    this.queue.clear(); // nothing more of this leader's stream is applied
    clearTimeout(this.retry);
    clearInterval(this.ackTimer);
    this.socket?.destroy();
    this.dropSpool();
    this.h.loadingSnapshot(false);
    if (this.loading) this.h.setLoading(false);
  }

  private connect(): void {
    if (this.stopped) return;
    this.state = 'connecting';
    // repl-timeout counts from here until the leader sends something
    this.lastIo = Date.now();
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
    while (this.queue.busy) await new Promise((r) => setTimeout(r, 10));
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
      this.dropSpool();
      this.spool = new Spool(this.h.spoolPath());
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
      for (let args = parser.next(); args !== null; args = parser.next()) {
        const spool = this.spool;
        if (spool === undefined) this.queue.push(args);
        else if (spool.end !== undefined) spool.held.push(args); // the live stream waits for the snapshot to load
        else if (isSyncEnd(args)) {
          spool.end = args;
          void this.loadSpool(spool);
        } else spool.write(args);
      }
    } catch (err) {
      this.fail(this.socket!, `corrupt replication stream: ${(err as Error).message}`);
      return;
    }
    if (this.spool?.end !== undefined) {
      if (this.spool.held.length > QUEUE_HIGH_WATER) this.socket?.pause();
      return;
    }
    if (this.queue.length > QUEUE_HIGH_WATER && !this.queue.awaitingExec) this.socket?.pause();
    this.queue.run();
  }

  /**
   * The whole snapshot has arrived (TALUS-SYNC END): only now is the data set
   * replaced. Until then the old one is served (as Redis serves it while an
   * RDB file is received), and a link lost in the middle leaves it whole.
   * From here the data set is flushed and loaded (-LOADING) from the file,
   * then the live stream held meanwhile is applied.
   *
   * The load is a bulk load (docs/replication.md, "Loading a full sync"):
   * its commands run through the executor, which builds each value in
   * memory, but are not logged as changes; the flusher commits their keys as
   * they come, in big commits, never more than LOAD_STEPS_AHEAD steps behind.
   * Loading ends (TALUS-SYNC END: position and offset recorded, -LOADING
   * off) only once all of it is committed.
   */
  private async loadSpool(spool: Spool): Promise<void> {
    const live = () => this.spool === spool && !this.stopped;
    try {
      // the file starts with the snapshot's TALUS-SYNC BEGIN: applying it flushes the data set
      spool.close();
      const parser = new RequestParser({ maxBulkLen: 1 << 30, maxQueryBuffer: Number.MAX_SAFE_INTEGER });
      const fh = await fs.promises.open(spool.path, 'r');
      try {
        const checkpoints: Array<Promise<void>> = [];
        let sinceCheckpoint = 0;
        for (;;) {
          if (!live()) return;
          // a fresh buffer per read: the parser hands out slices of it as arguments
          const chunk = Buffer.allocUnsafe(LOAD_CHUNK);
          const { bytesRead } = await fh.read(chunk, 0, chunk.length, null);
          if (bytesRead === 0) break;
          parser.push(chunk.subarray(0, bytesRead));
          for (let args = parser.next(); args !== null; args = parser.next()) this.queue.push(args);
          this.queue.run();
          // loading is progress on this link: the leader's pings wait in the paused socket meanwhile
          this.lastIo = Date.now();
          // A chunk at a time, then the event loop turns: clients get their -LOADING, and the
          // flusher commits as the load goes (not the whole data set in one batch at the end).
          await this.queue.idle();
          sinceCheckpoint += bytesRead;
          if (sinceCheckpoint >= LOAD_STEP_BYTES) {
            sinceCheckpoint = 0;
            checkpoints.push(this.h.committed());
            if (checkpoints.length > LOAD_STEPS_AHEAD) await checkpoints.shift();
          }
          await new Promise((r) => setImmediate(r));
        }
      } finally {
        await fh.close();
      }
      // the loaded data set is whole in PostgreSQL before it is served
      await this.h.committed();
      if (!live()) return;
      this.queue.push(spool.end!);
      for (const args of spool.held) this.queue.push(args);
      spool.held = [];
      this.spool = undefined;
      spool.remove();
      this.socket?.resume();
      this.queue.run();
    } catch (err) {
      if (live() && this.socket) this.fail(this.socket, `full sync: reading the received snapshot failed: ${(err as Error).message}`);
    }
  }

  private dropSpool(): void {
    const spool = this.spool;
    this.spool = undefined;
    if (spool) {
      spool.close();
      spool.remove();
    }
  }

  /** The stream's framing, handled here: PING, REPLCONF GETACK, TALUS-SYNC. */
  private frame(name: string, args: Buffer[]): boolean {
    if (name === 'PING') return true;
    if (name === 'REPLCONF') {
      // GETACK asks for an ACK now
      if (args[1]?.toString('latin1').toUpperCase() === 'GETACK') this.ack(true);
      return true;
    }
    if (name === 'TALUS-SYNC') {
      this.syncFrame(args);
      return true;
    }
    return false;
  }

  /** Leader records applied (one, or a transaction's): the position moves past them, our history notes our seq of the last. */
  private applied(records: number, seq: number): void {
    this.offset += records;
    if (!this.h.history().align(seq, this.offset)) this.h.log.warning(`replication: record ${this.offset} logged here as ${seq}, out of step; partial syncs from this server restart after it`);
    this.h.setApplied({ replid: this.replid, offset: this.offset });
  }

  /** The snapshot's frame: BEGIN flushes and marks the data set partial, END makes it whole. */
  private syncFrame(args: Buffer[]): void {
    const what = args[1]?.toString('latin1');
    if (what === 'BEGIN') {
      this.h.dropFollowers();
      this.loading = true;
      this.h.setLoading(true);
      this.h.setApplied({ replid: this.replid, offset: -1 });
      // not a record: its reply is not the last record's
      this.h.onApplierReply = () => undefined;
      // logged, as any flush: a barrier that keeps reads of PostgreSQL from finding keys it has not deleted yet
      this.h.dispatch(this.h.applier, [Buffer.from('FLUSHALL')]);
      this.h.loadingSnapshot(true);
    } else if (what === 'END') {
      this.h.loadingSnapshot(false);
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
    this.queue.clear();
    // whatever comes next starts with a handshake (and a new snapshot's BEGIN)
    this.h.loadingSnapshot(false);
    const receiving = this.spool !== undefined && this.spool.end === undefined;
    this.dropSpool();
    if (this.state === 'connected' || this.state === 'sync') {
      const during = receiving
        ? ' while receiving a full sync: it is dropped, the data set is kept as it was'
        : this.loading
          ? ' during a full sync: the data set stays partial (-LOADING) until a full sync completes'
          : '';
      this.h.log.warning(`Connection with master lost${during}`);
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

function isSyncEnd(args: Buffer[]): boolean {
  return args.length >= 2 && args[0]!.toString('latin1').toUpperCase() === 'TALUS-SYNC' && args[1]!.toString('latin1') === 'END';
}

/** A full sync's snapshot being received: its commands, written to a file as they arrive. */
class Spool {
  /** TALUS-SYNC END, once received: the snapshot is whole and loads */
  end: Buffer[] | undefined;
  /** the live stream received while the snapshot loads */
  held: Buffer[][] = [];
  private fd: number | undefined;
  private pending: Buffer[] = [];
  private pendingBytes = 0;

  constructor(readonly path: string) {
    this.fd = fs.openSync(path, 'w', 0o600);
  }

  write(args: Buffer[]): void {
    const b = encodeEffect(args);
    this.pending.push(b);
    this.pendingBytes += b.length;
    if (this.pendingBytes >= 1 << 20) this.flush();
  }

  private flush(): void {
    if (this.fd === undefined || this.pending.length === 0) return;
    const data = Buffer.concat(this.pending);
    this.pending = [];
    this.pendingBytes = 0;
    for (let off = 0; off < data.length; ) off += fs.writeSync(this.fd, data, off);
  }

  close(): void {
    if (this.fd === undefined) return;
    this.flush();
    fs.closeSync(this.fd);
    this.fd = undefined;
  }

  remove(): void {
    fs.rm(this.path, { force: true }, () => undefined);
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
