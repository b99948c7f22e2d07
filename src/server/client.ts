import type net from 'node:net';
import { RequestParser, ProtocolError } from '../protocol/parser.js';
import { ReplyWriter } from '../protocol/encoder.js';
import { ErrorReply, type Reply } from '../protocol/reply.js';
import type { Command } from '../commands/table.js';
import type { Db } from '../keyspace/keyspace.js';
import type { Entry } from '../keyspace/types.js';
import type { Talus } from '../talus.js';
import { Errors } from '../commands/errors.js';

interface PendingReply {
  reply: Reply;
  /** change-log seq that must be durable before this reply may go out; 0 = none */
  seq: number;
  /**
   * It acknowledges this client's own write, which a failed commit turns
   * into MISCONF. A reply or message that only shows state (another
   * client's write, a MONITOR line) keeps waiting for the retry instead.
   */
  acknowledges: boolean;
}

export type ReplyMode = 'on' | 'off' | 'skip';

/**
 * How far a paused client's buffered requests are parsed ahead so their cold
 * keys load while the earlier request waits: a pipeline of N commands on cold
 * keys then costs about one batched read instead of N round trips.
 */
const LOOKAHEAD_REQUESTS = 256;
const LOOKAHEAD_BYTES = 1 << 20;

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

/**
 * One connection: parses requests, runs them in order through the keyspace
 * scheduler, and writes replies in request order, each one held back until
 * the mutations it acknowledges are committed (appendfsync always).
 */
export class Client {
  readonly id: number;
  readonly createdAt = Date.now();
  lastInteraction = Date.now();
  protocol: 2 | 3 = 2;
  db: Db;
  name = '';
  libName = '';
  libVersion = '';
  authenticated: boolean;
  user = 'default';
  /** last command run, for CLIENT LIST */
  lastCommand = 'NULL';
  replyMode: ReplyMode = 'on';
  /** drop the reply of the command now running (CLIENT REPLY OFF/SKIP answer nothing) */
  suppressReply = false;
  noEvict = false;
  noTouch = false;
  /** WATCHed keys, checked by EXEC */
  watching: WatchedKey[] = [];
  /** true while EXEC runs the queued commands (blocking commands must not block) */
  inExec = false;
  /** subscription counts for CLIENT LIST (kept by the pub/sub family) */
  subCount = 0;
  psubCount = 0;
  ssubCount = 0;
  /** set by a blocking command while it waits: CLIENT UNBLOCK calls it (error: true = UNBLOCK ... ERROR) */
  unblock: ((error: boolean) => void) | null = null;
  /** MULTI state: queued commands, or null outside a transaction */
  multi: Array<{ cmd: Command; args: Buffer[] }> | null = null;
  multiError = false;
  /** monitors receive every command */
  monitor = false;
  closed = false;
  /** set when the client must be closed once its pending replies are written */
  closeAfterReply = false;
  flags = new Set<string>();
  readonly parser: RequestParser;
  private readonly writer = new ReplyWriter();
  private readonly pending: PendingReply[] = [];
  /** a command is waiting for keys or an async handler: later requests wait */
  private paused = false;
  /** requests parsed while paused (see LOOKAHEAD_REQUESTS), or the protocol error that ended parsing */
  private readonly ahead: Array<Buffer[] | ProtocolError> = [];
  private aheadBytes = 0;
  /** a request in `ahead` may change what later ones refer to: no prefetch until `ahead` drains */
  private prefetchStopped = false;
  private processing = false;
  private flushScheduled = false;

  constructor(
    readonly talus: Talus,
    readonly socket: net.Socket,
    id: number,
  ) {
    this.id = id;
    this.db = talus.keyspace.dbs[0]!;
    this.authenticated = talus.config.values.requirepass === '';
    const v = talus.config.values;
    this.parser = new RequestParser({ maxBulkLen: v.protoMaxBulkLen, maxQueryBuffer: v.clientQueryBufferLimit });
  }

  get dbIndex(): number {
    return this.db.index;
  }

  get addr(): string {
    return `${this.socket.remoteAddress}:${this.socket.remotePort}`;
  }

  /** the socket's file descriptor, as CLIENT LIST shows it (-1 if unknown) */
  get fd(): number {
    const fd = (this.socket as unknown as { _handle?: { fd?: number } })._handle?.fd;
    return typeof fd === 'number' ? fd : -1;
  }

  get laddr(): string {
    return `${this.socket.localAddress}:${this.socket.localPort}`;
  }

  /** Bytes arrived from the socket. */
  onData(chunk: Buffer): void {
    this.lastInteraction = Date.now();
    this.parser.push(chunk);
    if (this.parser.pending + this.aheadBytes > this.parser.limits.maxQueryBuffer) {
      this.talus.log.warning(`closing client id=${this.id} addr=${this.addr}: query buffer over client-query-buffer-limit`);
      this.close();
      return;
    }
    this.process();
  }

  /** Run buffered requests until one has to wait. */
  process(): void {
    if (this.processing) return;
    this.processing = true;
    try {
      while (!this.paused && !this.closed && !this.closeAfterReply) {
        const args = this.nextRequest();
        if (args === null) break;
        if (args instanceof ProtocolError) {
          this.deliver(new ErrorReply(args.message), 0);
          this.closeAfterReply = true;
          this.talus.log.verbose(`protocol error from client id=${this.id} addr=${this.addr}: ${args.message}`);
          break;
        }
        if (args.length === 0) continue;
        this.talus.dispatch(this, args);
        if (this.talus.commitBacklogFull()) {
          this.talus.throttle(this);
          break;
        }
      }
      if (this.paused && !this.closed && !this.closeAfterReply) this.lookAhead();
    } finally {
      this.processing = false;
    }
    this.flush();
  }

  private nextRequest(): Buffer[] | ProtocolError | null {
    const early = this.ahead.shift();
    if (early !== undefined) {
      if (!(early instanceof ProtocolError)) this.aheadBytes -= requestBytes(early);
      if (this.ahead.length === 0) this.prefetchStopped = false;
      return early;
    }
    return this.parse();
  }

  /** The next request from the parser, or the protocol error that ends the connection. */
  private parse(): Buffer[] | ProtocolError | null {
    try {
      return this.parser.next();
    } catch (err) {
      if (!(err instanceof ProtocolError)) throw err;
      return err;
    }
  }

  /** Parse requests behind the waiting one and have their cold keys loaded meanwhile (nothing runs early). */
  private lookAhead(): void {
    while (this.ahead.length < LOOKAHEAD_REQUESTS && this.aheadBytes < LOOKAHEAD_BYTES) {
      if (this.ahead.at(-1) instanceof ProtocolError) return;
      const args = this.parse();
      if (args instanceof ProtocolError) {
        this.ahead.push(args);
        return;
      }
      if (args === null) return;
      if (args.length === 0) continue;
      this.ahead.push(args);
      this.aheadBytes += requestBytes(args);
      if (!this.prefetchStopped) this.prefetchStopped = !this.talus.prefetch(this, args);
    }
  }

  /** The current command must finish before the next is read. */
  pause(): void {
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
    if (!this.processing) setImmediate(() => this.process());
  }

  /**
   * Queue a reply; it goes out after every earlier reply and once `seq` is
   * durable. `acknowledges`: the seq is this command's own write (see
   * PendingReply); false when it only gates what the reply shows.
   */
  deliver(reply: Reply, seq: number, acknowledges = true): void {
    if (this.suppressReply) {
      this.suppressReply = false;
      return;
    }
    if (this.replyMode !== 'on') {
      if (this.replyMode === 'skip') this.replyMode = 'on';
      return;
    }
    if (this.pending.length === 0 && seq <= this.talus.flusher.durableSeq) {
      this.writer.write(reply, this.protocol);
    } else {
      this.pending.push({ reply, seq, acknowledges });
      if (seq > 0) this.talus.awaitingDurability.add(this);
    }
    this.scheduleFlush();
  }

  /**
   * Out-of-band data (MONITOR lines; pub/sub messages and keyspace
   * notifications when they come): after replies already queued, and not
   * before `seq` is durable when it shows a write (Talus.durabilityGate).
   */
  push(reply: Reply, seq = 0): void {
    if (this.pending.length === 0 && seq <= this.talus.flusher.durableSeq) {
      this.writer.write(reply, this.protocol);
    } else {
      this.pending.push({ reply, seq, acknowledges: false });
      if (seq > 0) this.talus.awaitingDurability.add(this);
    }
    this.scheduleFlush();
  }

  /** The flusher committed up to `durable`: release replies that waited for it. */
  onDurable(durable: number): boolean {
    while (this.pending.length > 0 && this.pending[0]!.seq <= durable) {
      this.writer.write(this.pending.shift()!.reply, this.protocol);
    }
    this.flush();
    return this.pending.some((p) => p.seq > 0);
  }

  /** A commit covering up to `upTo` failed: the writes it held are not acknowledged. */
  onCommitFailed(upTo: number, err: Error): void {
    for (const p of this.pending) {
      if (p.acknowledges && p.seq > 0 && p.seq <= upTo) {
        p.reply = Errors.persistence(err.message);
        p.seq = 0;
      }
    }
    this.onDurable(this.talus.flusher.durableSeq);
  }

  private scheduleFlush(): void {
    if (this.processing || this.flushScheduled) return;
    this.flushScheduled = true;
    process.nextTick(() => {
      this.flushScheduled = false;
      this.flush();
    });
  }

  private flush(): void {
    const out = this.writer.take();
    if (out !== null && !this.closed) {
      this.talus.stats.netOutputBytes += out.length;
      if (!this.socket.write(out)) {
        // The client is not reading: stop reading its requests until it does.
        this.socket.pause();
        this.socket.once('drain', () => this.socket.resume());
      }
    }
    if (this.closeAfterReply && this.pending.length === 0) this.close();
  }

  get outputPending(): number {
    return this.socket.writableLength + this.writer.length;
  }

  get waitingReplies(): number {
    return this.pending.length;
  }

  /** RESET: back to a fresh connection's state (keeps the socket and id). */
  reset(): void {
    this.multi = null;
    this.multiError = false;
    this.db = this.talus.keyspace.dbs[0]!;
    this.protocol = 2;
    this.name = '';
    this.replyMode = 'on';
    this.suppressReply = false;
    this.noEvict = false;
    this.noTouch = false;
    this.authenticated = this.talus.config.values.requirepass === '';
    this.user = 'default';
    if (this.monitor) {
      this.monitor = false;
      this.talus.monitors.delete(this);
    }
    this.talus.onClientReset(this);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.socket.end();
    this.socket.destroySoon?.();
    this.talus.onClientClosed(this);
  }
}

function requestBytes(args: Buffer[]): number {
  let n = 0;
  for (const a of args) n += a.length;
  return n;
}
