import type net from 'node:net';
// module bindings, not the globals `Buffer` and `process` (accessors: a getter call per use)
import { Buffer } from 'node:buffer';
import process from 'node:process';
import fs from 'node:fs';
import { performance } from 'node:perf_hooks';
import { RequestParser, ProtocolError, requestBytes } from '../protocol/parser.js';
import { BIG_READ_MIN, type BigReader } from './big-reads.js';
import { BIG_REPLY_MIN, type ReplyHolder } from './big-replies.js';
import { ReplyWriter } from '../protocol/encoder.js';
import { ErrorReply, MapReply, PushReply, RawReply, SetReply, SimpleString, StreamedReply, VerbatimReply, type Reply } from '../protocol/reply.js';
import type { Talus } from '../talus.js';
import { Errors } from '../commands/errors.js';
import type { Connection, ReplyMode } from '../execution/context.js';
import type { Session } from '../execution/session.js';

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

/**
 * How far a paused client's buffered requests are parsed ahead so their cold
 * keys load while the earlier request waits: a pipeline of N commands on cold
 * keys then costs about one batched read instead of N round trips.
 */
const LOOKAHEAD_REQUESTS = 256;
const LOOKAHEAD_BYTES = 1 << 20;

/**
 * A client that cannot run its next request (waiting for keys, throttled,
 * output over its bound) stops being read once this many bytes of its
 * requests are buffered: a pipelining client (redis-cli --pipe) would
 * otherwise fill memory with requests faster than they run. At least
 * LOOKAHEAD_BYTES, so look-ahead can fill.
 */
const QUERY_READ_BOUND = LOOKAHEAD_BYTES;

/**
 * A client's requests stop running while its unsent output (replies held
 * for durability, encoded, and in the socket's buffer) passes this or the
 * normal class's client-output-buffer-limit, whichever is larger: a client
 * that pipelines GETs of big values and reads slowly (or not at all) holds
 * about this much, not its whole pipeline's replies (or reaches its limit
 * and is closed, as in Redis). Large enough to batch many replies per write.
 */
export const OUTPUT_BOUND = 1 << 20;

/** Output at least this big is written as the writer's blocks, not copied into one Buffer (Client.takeOutput). */
const BIG_OUTPUT = 1 << 20;

/** Why a client's socket is not read; each cause is set and cleared by its owner. */
export const ReadStop = {
  /** the commit backlog is full (Talus.throttle) */
  backlog: 1,
  /** the socket's write buffer is full: the client is not reading its replies */
  output: 2,
  /** QUERY_READ_BOUND bytes of requests are waiting */
  query: 4,
  /** other clients' big requests are being read (server/big-reads.ts) */
  bigRead: 8,
  /** the server is shutting down: what is committed last is what clients sent before */
  shutdown: 16,
} as const;

/**
 * A streamed reply (StreamedReply: a paged collection's rows) reads its next
 * rows once the socket holds less than this: a client gets it at the speed
 * it reads, and it costs about this plus a page of rows while written.
 */
const STREAM_AHEAD_BYTES = 256 * 1024;

/**
 * A client that reads nothing of a streamed reply for this long is closed:
 * the reply holds a PostgreSQL snapshot and connection, which other clients'
 * streamed replies wait for (storage/loader.ts, maxOpenStreams).
 */
export const STREAM_STALL_MS = 60_000;

/** What one connection costs besides its buffers (socket, parser, writer, objects), for tot-mem and maxmemory-clients. */
export const CLIENT_OVERHEAD = 8 * 1024;

/**
 * One connection: parses requests, runs them in order through the executor,
 * and writes replies in request order, each one held back until the
 * mutations it acknowledges are committed (appendfsync always). What the
 * client is (db, protocol, transaction...) is its session.
 */
export class Client implements ReplyHolder, Connection, BigReader {
  readonly id: number;
  readonly session: Session;
  /**
   * When bytes last came, on the monotonic clock: performance.now() is a
   * fast call, Date.now() a call into V8's runtime (a read per socket read).
   */
  private lastInteractionAt = performance.now();
  replyMode: ReplyMode = 'on';
  /** drop the reply of the command now running (CLIENT REPLY OFF/SKIP answer nothing) */
  suppressReply = false;
  /** monitors receive every command */
  monitor = false;
  closed = false;
  /** set when the client must be closed once its pending replies are written */
  closeAfterReply = false;
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
  /** ReadStop causes now in force: the socket is paused while any is */
  private readStops = 0;
  /** the request loop stopped because output was over its bound; output shrinking runs it again */
  private outputBlocked = false;
  /** the request loop stopped because big replies of all clients are over their budget (Talus.bigReplies) */
  private replyGateWait = false;
  /** estimated bytes of the replies in `pending` */
  private pendingBytes = 0;
  /** the socket's descriptor, once writeToDescriptor has looked it up */
  private descriptor: number | undefined;
  /** when output first went over the soft limit (client-output-buffer-limit), 0 = under it */
  private softLimitSince = 0;
  /** a big request of this client is being read: accounted in Talus.bigReads */
  private bigRead = false;
  /** the streamed reply being written, at the head of `pending` (see pumpStream) */
  private streaming: StreamedReply | undefined;
  /** streamed replies in `pending` */
  private streamsHeld = 0;

  constructor(
    readonly talus: Talus,
    readonly socket: net.Socket,
    id: number,
  ) {
    this.id = id;
    this.session = talus.executor.openSession(id, this, this);
    const v = talus.config.values;
    this.parser = new RequestParser({ maxBulkLen: v.protoMaxBulkLen, maxQueryBuffer: v.clientQueryBufferLimit });
  }

  /** When bytes last came (ms since the epoch): CLIENT LIST idle, the `timeout` option. */
  get lastInteraction(): number {
    return Date.now() - (performance.now() - this.lastInteractionAt);
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

  get viaUnixSocket(): boolean {
    return this.socket.remoteAddress === undefined;
  }

  get remoteAddress(): string | undefined {
    return this.socket.remoteAddress;
  }

  setRequestLimits(limits: { maxBulkLen?: number; maxQueryBuffer?: number }): void {
    if (limits.maxBulkLen !== undefined) this.parser.limits.maxBulkLen = limits.maxBulkLen;
    if (limits.maxQueryBuffer !== undefined) this.parser.limits.maxQueryBuffer = limits.maxQueryBuffer;
  }

  /** Bytes arrived from the socket. */
  onData(chunk: Buffer): void {
    this.lastInteractionAt = performance.now();
    this.parser.push(chunk);
    if (this.queryBytes > this.parser.limits.maxQueryBuffer) {
      this.talus.log.warning(`closing client id=${this.id} addr=${this.addr}: query buffer over client-query-buffer-limit`);
      this.close();
      return;
    }
    this.process();
    if (!this.closed && this.talus.clientMemoryLimit > 0 && this.memoryUsage > this.talus.clientMemoryLimit) this.talus.evictClients();
  }

  holdForBigReads(held: boolean): void {
    if (held) this.stopReading(ReadStop.bigRead);
    else this.resumeReading(ReadStop.bigRead);
  }

  /** Bytes of requests received and not yet run: the parser's and those parsed ahead (CLIENT LIST qbuf). */
  get queryBytes(): number {
    return this.parser.pending + this.aheadBytes;
  }

  /** Bytes the big argument being read still declares (server/big-reads.ts). */
  get awaitedBytes(): number {
    return this.parser.awaited;
  }

  /** Run buffered requests until one has to wait. */
  process(): void {
    if (this.processing) return;
    this.processing = true;
    try {
      while (!this.paused && !this.closed && !this.closeAfterReply) {
        if (this.outputHeld) {
          this.outputBlocked = true;
          break;
        }
        const args = this.nextRequest();
        if (args === null) break;
        if (!this.talus.bigReplies.open && !(args instanceof ProtocolError) && args.length > 0 && this.talus.waitsForBigReplies(args)) {
          this.unread(args);
          this.talus.bigReplies.admits(this);
          this.replyGateWait = true;
          break;
        }
        if (args instanceof ProtocolError) {
          this.deliver(new ErrorReply(args.message), 0);
          this.closeAfterReply = true;
          this.talus.log.verbose(`protocol error from client id=${this.id} addr=${this.addr}: ${args.message}`);
          break;
        }
        if (args.length === 0) continue;
        // A write waits while the commit backlog is full; anything else (PING,
        // reads, INFO: Sentinel's probes) runs, as a write flood in Redis does
        // not delay them. Checked before each request, so that of several
        // clients resumed at once only the first runs while the backlog is
        // full again. The command is asked first: a read needs no look at
        // the backlog.
        if (this.talus.addsToBacklog(args) && this.talus.commitBacklogFull()) {
          this.unread(args);
          this.talus.throttle(this);
          break;
        }
        this.talus.executor.dispatch(this.session, args);
      }
      if (this.paused && !this.closed && !this.closeAfterReply) this.lookAhead();
    } finally {
      this.processing = false;
    }
    this.flush();
    // Requests that cannot run yet are not read past QUERY_READ_BOUND.
    if (this.closed) return;
    if (this.bigRead || this.queryBytes + this.parser.awaited >= BIG_READ_MIN) this.bigRead = this.talus.bigReads.update(this);
    const stalled = this.paused || this.outputBlocked || this.replyGateWait || (this.readStops & ReadStop.backlog) !== 0;
    if (stalled && this.queryBytes >= QUERY_READ_BOUND) this.stopReading(ReadStop.query);
    else this.resumeReading(ReadStop.query);
    // The socket took everything at once: nothing will signal 'drain', so go on now.
    if (this.outputBlocked && !this.outputHeld) this.outputReleased();
  }

  replyGateOpened(): void {
    this.replyGateWait = false;
    setImmediate(() => this.process());
  }

  /**
   * The next request waits: output is over its bound, or a streamed reply is
   * held (one at a time per client: each holds a PostgreSQL snapshot, which a
   * client pipelining many of them and not reading would take them all of).
   */
  private get outputHeld(): boolean {
    return this.streamsHeld > 0 || this.outputBytes > this.outputBound;
  }

  /** Output shrank (written out, or replies released): run the requests it held back. */
  private outputReleased(): void {
    if (!this.outputBlocked || this.outputHeld) return;
    this.outputBlocked = false;
    setImmediate(() => this.process());
  }

  /** Stop reading the socket for `cause` (a ReadStop); it is read again once every cause is cleared. */
  stopReading(cause: number): void {
    if (this.readStops === 0 && !this.closed) this.socket.pause();
    this.readStops |= cause;
  }

  resumeReading(cause: number): void {
    if ((this.readStops & cause) === 0) return;
    this.readStops &= ~cause;
    if (this.readStops === 0 && !this.closed) this.socket.resume();
  }

  /** Output past which requests stop running (see OUTPUT_BOUND). */
  private get outputBound(): number {
    return this.talus.clientOutputBound;
  }

  private nextRequest(): Buffer[] | ProtocolError | null {
    if (this.ahead.length === 0) return this.parse();
    const early = this.ahead.shift();
    if (early !== undefined) {
      if (!(early instanceof ProtocolError)) this.aheadBytes -= requestBytes(early);
      if (this.ahead.length === 0) this.prefetchStopped = false;
      return early;
    }
    return this.parse();
  }

  /** Put a request taken by nextRequest back in front, to run first when this client runs again. */
  private unread(args: Buffer[]): void {
    this.ahead.unshift(args);
    this.aheadBytes += requestBytes(args);
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
      if (!this.prefetchStopped) this.prefetchStopped = !this.talus.executor.prefetch(this.session, args);
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
      if (reply instanceof StreamedReply) reply.close();
      return;
    }
    if (this.replyMode !== 'on') {
      if (this.replyMode === 'skip') this.replyMode = 'on';
      if (reply instanceof StreamedReply) reply.close();
      return;
    }
    if (reply instanceof StreamedReply) {
      if (this.closed) return reply.close(); // (dropStreams closed those held before)
      // written by pumpStream once it heads `pending`; later replies wait behind it
      this.hold(reply, seq, acknowledges);
      this.streamsHeld++;
      if (seq > 0) this.talus.awaitingDurability.add(this);
      this.onDurable(this.talus.flusher.durableSeq);
      return;
    }
    if (this.pending.length === 0 && seq <= this.talus.flusher.durableSeq) {
      this.writer.write(reply, this.session.protocol);
    } else {
      this.hold(reply, seq, acknowledges);
      if (seq > 0) this.talus.awaitingDurability.add(this);
    }
    // a big reply counts against all clients' (server/big-replies.ts) as soon as it is made
    if (this.writer.length + this.pendingBytes >= BIG_REPLY_MIN && !this.session.flags.has('slave')) this.talus.bigReplies.note(this);
    this.scheduleFlush();
  }

  /**
   * Out-of-band data (MONITOR lines; pub/sub messages and keyspace
   * notifications when they come): after replies already queued, and not
   * before `seq` is durable when it shows a write (Executor.durabilityGate).
   * `writeSoon` false: queued in order but not written to the socket until
   * the next flush (a big pub/sub fan-out spreads its socket writes over
   * several event-loop turns, calling `flushOutput`).
   */
  push(reply: Reply, seq = 0, writeSoon = true): void {
    this.talus.notePushed(replyBytes(reply));
    if (this.pending.length === 0 && seq <= this.talus.flusher.durableSeq) {
      this.writer.write(reply, this.session.protocol);
    } else {
      this.hold(reply, seq, false);
      if (seq > 0) this.talus.awaitingDurability.add(this);
    }
    if (writeSoon) this.scheduleFlush();
  }

  /** Write what is queued now (see push). */
  flushOutput(): void {
    if (!this.processing) this.flush();
  }

  private hold(reply: Reply, seq: number, acknowledges: boolean): void {
    this.pending.push({ reply, seq, acknowledges });
    this.pendingBytes += replyBytes(reply);
  }

  /** The flusher committed up to `durable`: release replies that waited for it. */
  onDurable(durable: number): boolean {
    let released = false;
    while (this.pending.length > 0 && this.pending[0]!.seq <= durable) {
      const head = this.pending[0]!.reply;
      if (head instanceof StreamedReply) {
        if (this.streaming === undefined) void this.pumpStream(head);
        break;
      }
      const { reply } = this.pending.shift()!;
      this.pendingBytes -= replyBytes(reply);
      this.writer.write(reply, this.session.protocol);
      released = true;
    }
    if (this.pending.length === 0) this.pendingBytes = 0;
    this.flush();
    if (released) this.outputReleased();
    return this.pending.some((p) => p.seq > 0);
  }

  /**
   * Write a streamed reply, the head of `pending`, as its rows are read: a
   * page at a time while the socket holds less than STREAM_AHEAD_BYTES.
   * Then the replies behind it go. Its header is out before its rows are
   * read, so a failure half way (PostgreSQL went away) can only close the
   * connection, as a client that stops reading for STREAM_STALL_MS is.
   */
  private async pumpStream(s: StreamedReply): Promise<void> {
    this.streaming = s;
    let written = 0;
    try {
      this.writer.write(new RawReply(s.header), this.session.protocol);
      this.flush();
      for (;;) {
        if (this.closed || !(await this.streamRoom())) return;
        const chunk = await s.next();
        if (this.closed) return;
        if (chunk === null) break;
        written += chunk.items;
        this.writer.write(new RawReply(chunk.bytes), this.session.protocol);
        this.flush();
      }
      if (written !== s.items) throw new Error(`${written} elements of ${s.items} were read`);
    } catch (err) {
      this.talus.log.warning(`Client ${this.describe()} closed: a reply streamed from PostgreSQL failed half way: ${(err as Error).message}`);
      this.closeNow();
      return;
    } finally {
      s.close();
      this.streaming = undefined;
    }
    if (this.pending[0]?.reply === s) {
      this.pending.shift();
      this.pendingBytes -= replyBytes(s);
      this.streamsHeld--;
    }
    this.onDurable(this.talus.flusher.durableSeq);
    this.outputReleased();
  }

  /** Resolves true once the socket holds less than STREAM_AHEAD_BYTES, false if the client is closed (or closed for stalling). */
  private streamRoom(): Promise<boolean> {
    if (this.closed) return Promise.resolve(false);
    if (this.socket.writableLength < STREAM_AHEAD_BYTES) return Promise.resolve(true);
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(stall);
        this.socket.off('drain', done);
        this.socket.off('close', done);
        resolve(!this.closed);
      };
      const stall = setTimeout(() => {
        this.talus.log.warning(`Client ${this.describe()} closed: it read nothing of a streamed reply for ${STREAM_STALL_MS / 1000} s`);
        this.closeNow();
        done();
      }, STREAM_STALL_MS);
      this.socket.on('drain', done);
      this.socket.on('close', done);
    });
  }

  /** Streamed replies that will not be written (the client is closing): give back what they read from. */
  private dropStreams(): void {
    for (const p of this.pending) if (p.reply instanceof StreamedReply && p.reply !== this.streaming) p.reply.close();
  }

  /** A commit covering up to `upTo` failed: the writes it held are not acknowledged. */
  onCommitFailed(upTo: number, err: Error): void {
    for (const p of this.pending) {
      if (p.acknowledges && p.seq > 0 && p.seq <= upTo) {
        if (p.reply instanceof StreamedReply) {
          p.reply.close();
          this.streamsHeld--;
        }
        this.pendingBytes -= replyBytes(p.reply);
        p.reply = Errors.persistence(err.message);
        this.pendingBytes += replyBytes(p.reply);
        p.seq = 0;
      }
    }
    this.onDurable(this.talus.flusher.durableSeq);
  }

  private scheduleFlush(): void {
    if (this.processing || this.flushScheduled) return;
    this.flushScheduled = true;
    process.nextTick(this.scheduledFlush);
  }

  /** One closure per connection, not one per scheduled flush (a pub/sub fan-out schedules one per subscriber per turn). */
  private readonly scheduledFlush = (): void => {
    this.flushScheduled = false;
    this.flush();
  };

  private flush(): void {
    if (this.closed) return;
    if (this.talus.outputLimitsOn) {
      // under every class's limits (nearly always) the class need not be looked up
      if (this.outputBytes > this.talus.outputLimitFloor) {
        if (this.overOutputLimit()) return;
      } else {
        this.softLimitSince = 0;
      }
    }
    if (this.takeOutput() === false && (this.readStops & ReadStop.output) === 0) {
      // The client is not reading: stop reading its requests until it does.
      this.stopReading(ReadStop.output);
      this.socket.once('drain', () => {
        this.resumeReading(ReadStop.output);
        this.outputReleased();
      });
    }
    if (this.closeAfterReply && this.pending.length === 0) this.close();
  }

  /**
   * Hand what the writer holds to the socket: whether the socket took it
   * without buffering past its high-water mark (socket.write's answer), or
   * null if there was nothing. Small output goes as one Buffer; big output
   * (a whole big collection's reply) goes as the writer's blocks, written
   * together (one writev), instead of being copied into one Buffer first,
   * which for a moment doubled what such a reply costs.
   */
  private takeOutput(): boolean | null {
    const n = this.writer.length;
    if (n === 0) return null;
    this.talus.stats.netOutputBytes += n;
    const socket = this.socket;
    // While the socket's stream holds nothing (nearly always), written
    // straight to its descriptor: socket.write costs a stream write, a
    // native write request and a callback on the next tick per reply, about
    // a tenth of a GET's CPU at -P1. The stream's queue being empty keeps
    // the bytes in order; what the kernel does not take goes through it.
    if (socket.writableLength === 0 && socket.writable && this.writer.writeThrough(this.writeToDescriptor) === n) return true;
    if (this.writer.length === 0) return true;
    if (n < BIG_OUTPUT) return socket.write(this.writer.take()!);
    let ok = true;
    this.socket.cork();
    for (const chunk of this.writer.takeChunks()) ok = this.socket.write(chunk);
    this.socket.uncork();
    return ok;
  }

  /**
   * A synchronous write(2) of replies to the socket's descriptor: the count
   * of bytes the kernel took, 0 when it took none (its buffer is full) or
   * failed (the peer went away: socket.write then meets the same error and
   * reports it as usual) or the socket has no descriptor.
   */
  private readonly writeToDescriptor = (block: Buffer, offset: number, length: number): number => {
    // read once: `fd` is a native getter, and a socket keeps its descriptor while writable (the caller's check)
    const fd = (this.descriptor ??= this.fd);
    if (fd < 0) return 0;
    try {
      return fs.writeSync(fd, block, offset, length);
    } catch {
      return 0;
    }
  };

  /**
   * client-output-buffer-limit (normal class; pubsub while subscribed; replica
   * for a follower's replication stream, which then resumes from the change
   * log with a partial sync when it reconnects): past
   * the hard limit, or past the soft limit for longer than soft-seconds, the
   * client is closed at once, its unsent output dropped (Redis closes it
   * "ASAP"). Also run by the server cron, so a soft limit is enforced while
   * nothing is written.
   */
  overOutputLimit(): boolean {
    const limits = this.talus.config.values.clientOutputBufferLimit;
    const flags = this.session.flags;
    const { hardBytes, softBytes, softSeconds } = flags.has('slave') ? limits.replica : flags.has('pubsub') ? limits.pubsub : limits.normal;
    const used = this.outputBytes;
    let over = hardBytes > 0 && used > hardBytes;
    if (!over && softBytes > 0 && used > softBytes) {
      const now = Date.now();
      if (this.softLimitSince === 0) this.softLimitSince = now;
      else over = now - this.softLimitSince > softSeconds * 1000;
    } else if (!over) {
      this.softLimitSince = 0;
    }
    if (!over) return false;
    this.talus.log.warning(`Client ${this.describe()} scheduled to be closed ASAP for overcoming of output buffer limits.`);
    this.writer.clear();
    this.closeNow();
    return true;
  }

  /** Unsent output: replies held for durability, encoded, and in the socket's buffer (CLIENT LIST omem). */
  get outputBytes(): number {
    return this.socket.writableLength + this.writer.length + this.pendingBytes;
  }

  /** Everything this connection holds (CLIENT LIST tot-mem, maxmemory-clients). */
  get memoryUsage(): number {
    let multi = 0;
    if (this.session.multi !== null) for (const q of this.session.multi) multi += requestBytes(q.args);
    return CLIENT_OVERHEAD + this.queryBytes + multi + this.outputBytes;
  }

  /** The client as log lines name it. */
  describe(): string {
    return `id=${this.id} addr=${this.addr} laddr=${this.laddr} fd=${this.fd} name=${this.session.name} age=${Math.floor((Date.now() - this.session.createdAt) / 1000)}` +
      ` qbuf=${this.queryBytes} omem=${this.outputBytes} tot-mem=${this.memoryUsage} cmd=${this.session.lastCommand} user=${this.session.user}`;
  }

  get waitingReplies(): number {
    return this.pending.length;
  }

  /** RESET: back to a fresh connection's state (keeps the socket and id). */
  reset(): void {
    this.session.reset(this.talus.keyspace.dbs[0]!, this.talus.acl.defaultAuthenticates());
    this.replyMode = 'on';
    this.suppressReply = false;
    if (this.monitor) {
      this.monitor = false;
      this.talus.monitors.delete(this.session);
    }
    this.talus.onSessionReset(this.session);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.dropStreams();
    this.talus.bigReads.remove(this);
    this.talus.bigReplies.remove(this);
    this.socket.end();
    this.socket.destroySoon?.();
    this.talus.onClientClosed(this);
  }

  /** Close without writing what is still unsent (output limits, client eviction). */
  closeNow(): void {
    if (this.closed) return;
    this.closed = true;
    this.dropStreams();
    this.talus.bigReads.remove(this);
    this.talus.bigReplies.remove(this);
    this.pending.length = 0;
    this.pendingBytes = 0;
    this.streamsHeld = 0;
    this.socket.destroy();
    this.talus.onClientClosed(this);
  }
}

/** About the bytes a reply takes encoded (the size of what it holds; small framing counted roughly). */
function replyBytes(r: Reply): number {
  if (r === null || typeof r !== 'object') return 16;
  if (Buffer.isBuffer(r)) return r.length + 16;
  if (Array.isArray(r)) {
    let n = 16;
    for (const x of r) n += replyBytes(x);
    return n;
  }
  if (r instanceof RawReply) return r.bytes.length;
  if (r instanceof ErrorReply) return r.message.length + 16;
  if (r instanceof SimpleString) return r.value.length + 16;
  if (r instanceof VerbatimReply) return r.text.length + 24;
  if (r instanceof MapReply) {
    let n = 16;
    for (const [k, v] of r.entries) n += replyBytes(k) + replyBytes(v);
    return n;
  }
  if (r instanceof SetReply || r instanceof PushReply) return replyBytes(r.items);
  return 32;
}
