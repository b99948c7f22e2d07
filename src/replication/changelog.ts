import { NO_REPLID, ReplicationHistory } from './history.js';
// the module's binding, not the global `Buffer` (an accessor: a getter call per use)
import { Buffer } from 'node:buffer';
import { putSafeInteger, safeIntegerLength } from '../util/numbers.js';

/** One mutation as an effect: a command that reproduces it (absolute times, final values). */
export interface ChangeRecord {
  seq: number;
  db: number;
  at: number;
  /** the effect encoded as a RESP array of bulk strings */
  effect: Buffer;
}

/** A point in a leader's change-log history: its replication id and a record's sequence number. */
export interface LeaderPosition {
  replid: string;
  /** the last record applied; -1 while a full sync is loading */
  offset: number;
}

/**
 * Records taken by the flusher for one commit: consecutive seqs, already in
 * the segment format they are stored in (encodeSegment's), so a commit
 * sends `bytes` as they are. `records` decodes them (views of `bytes`) for
 * those that want them one by one (a leader's replication feed).
 */
export class TakenLog {
  private decoded: ChangeRecord[] | undefined;

  constructor(
    /** seq of the first record; lastSeq + 1 when there are none */
    readonly firstSeq: number,
    readonly lastSeq: number,
    /** unix ms of the last record (0 when there are none) */
    readonly lastAt: number,
    readonly bytes: Buffer,
  ) {}

  get count(): number {
    return this.lastSeq - this.firstSeq + 1;
  }

  get records(): ChangeRecord[] {
    this.decoded ??= decodeSegment(this.firstSeq, this.bytes);
    return this.decoded;
  }
}

/**
 * An effect's arguments: bytes, text, or an integer (a time, a count) kept as
 * a number until its digits are written into the log (a safe integer's
 * without a string; any other number as String() gives it).
 */
export type EffectArgs = ReadonlyArray<Buffer | string | number>;

/** Where the pending log stood (Changelog.mark): wrap() makes the records appended since one unit. */
export interface LogMark {
  seq: number;
  offset: number;
  generation: number;
}

/**
 * The change log's in-memory tail. Every mutation appends its effect with the
 * next sequence number; the flusher takes the records not yet committed and
 * writes them in the same transaction as the data they describe, so the
 * committed log and the committed data never disagree. The sequence number is
 * the replication offset.
 *
 * The records not yet taken are written straight into one growing buffer in
 * the segment format a commit stores (a header and the effect's RESP bytes
 * per record): no object and no Buffer per record, which lived until their
 * commit and so were copied by each young-generation collection and
 * promoted (docs/benchmarks.md, "Session 15"), and no second copy into a
 * segment at commit time.
 */
export class Changelog {
  /** last sequence number handed out */
  seq: number;
  /** the pending records' segment; bytes [0, used) are written */
  private log: Buffer = NO_BYTES;
  private used = 0;
  /** unix ms and db of the last pending record */
  private lastAt = 0;
  private lastDb = 0;
  /** pending records */
  private count = 0;
  /** bumped whenever the pending records are taken or given back: marks from before no longer hold */
  private generation = 0;
  /** bytes the last commit took: the next buffer starts that big, so a steady load does not grow one */
  private lastTaken = 0;
  /**
   * On a follower: the leader record whose effects (and every earlier one's)
   * are appended here. The flusher commits it with those effects, so the
   * committed data and the committed position never disagree.
   */
  leaderPosition: LeaderPosition | undefined;
  /** leaderPosition changed since the flusher last took it */
  positionChanged = false;
  /** this server's replication history (ids, offsets): set from PostgreSQL at start-up, committed with the records */
  history = new ReplicationHistory({ replid: NO_REPLID, replid2: NO_REPLID, secondOffset: -1, delta: 0, start: 1 });

  constructor(lastSeq: number) {
    this.seq = lastSeq;
  }

  /** bytes of the pending records (they are held in memory until committed) */
  get pendingBytes(): number {
    return this.used;
  }

  /** Log an effect: its arguments, or already encoded (encodeEffect: a fixed one such as MULTI, encoded once). */
  append(db: number, args: EffectArgs | Buffer): number {
    const encoded = Buffer.isBuffer(args);
    const n = encoded ? args.length : effectBytes(args);
    const at = this.reserve(SEGMENT_HEADER + n);
    const now = Date.now();
    putRecordHeader(this.log, at, db, now, n);
    if (encoded) this.log.set(args, at + SEGMENT_HEADER);
    else writeEffect(this.log, at + SEGMENT_HEADER, args);
    this.used = at + SEGMENT_HEADER + n;
    this.lastAt = now;
    this.lastDb = db;
    this.count++;
    return ++this.seq;
  }

  /** Room for `n` more bytes: returns where they go. */
  private reserve(n: number): number {
    const at = this.used;
    if (at + n <= this.log.length) return at;
    const size = Math.max(at + n, this.log.length * 2, this.lastTaken, MIN_LOG_BYTES);
    const grown = Buffer.allocUnsafeSlow(size);
    this.log.copy(grown, 0, 0, at);
    this.log = grown;
    return at;
  }

  /** The current end of the pending records, for wrap(): in `into` if given (a mark taken per script need not be a new object). */
  mark(into: LogMark = { seq: 0, offset: 0, generation: 0 }): LogMark {
    into.seq = this.seq;
    into.offset = this.used;
    into.generation = this.generation;
    return into;
  }

  /**
   * Wrap the records appended since `mark` in `open` ... `close` records (a
   * script's effects, made one atomic unit after the fact): the open record
   * takes the first one's seq (and its db and time), the wrapped ones move up
   * by one. Only records not yet handed to the flusher can be; false if they
   * were not all.
   */
  wrap(mark: LogMark, open: EffectArgs | Buffer, close: EffectArgs | Buffer): boolean {
    if (mark.generation !== this.generation || mark.seq >= this.seq) return false;
    const first = mark.offset;
    const db = this.log.readInt16BE(first);
    const firstAt = this.log.readUInt32BE(first + 2) * 0x100000000 + this.log.readUInt32BE(first + 6);
    const encoded = Buffer.isBuffer(open);
    const n = encoded ? open.length : effectBytes(open);
    const end = this.used;
    this.reserve(SEGMENT_HEADER + n);
    // the wrapped records move up to make room for the open record before them
    this.log.copyWithin(first + SEGMENT_HEADER + n, first, end);
    putRecordHeader(this.log, first, db, firstAt, n);
    if (encoded) open.copy(this.log, first + SEGMENT_HEADER);
    else writeEffect(this.log, first + SEGMENT_HEADER, open);
    this.used = end + SEGMENT_HEADER + n;
    this.count++;
    this.seq++;
    this.append(this.lastDb, close);
    return true;
  }

  /** Records not yet handed to the flusher, oldest first. */
  take(): TakenLog {
    const taken = new TakenLog(this.seq - this.count + 1, this.seq, this.lastAt, this.log.subarray(0, this.used));
    if (this.used > 0) {
      this.lastTaken = Math.min(this.used + (this.used >> 2), MAX_START_BYTES);
      this.generation++; // a mark past taken records no longer points at pending ones (one at 0 still does)
    }
    this.log = NO_BYTES;
    this.used = 0;
    this.count = 0;
    return taken;
  }

  /** Give records back after a failed commit, ahead of newer ones. */
  restore(taken: TakenLog): void {
    if (taken.bytes.length === 0) return;
    const newer = this.log.subarray(0, this.used);
    const log = Buffer.allocUnsafeSlow(taken.bytes.length + newer.length);
    taken.bytes.copy(log, 0);
    newer.copy(log, taken.bytes.length);
    if (this.used === 0) this.lastAt = taken.lastAt;
    this.log = log;
    this.used = log.length;
    this.count += taken.count;
    this.generation++;
  }

  /** The follower applied the leader's records up to `p` (their effects are appended). */
  setLeaderPosition(p: LeaderPosition): void {
    this.leaderPosition = p;
    this.positionChanged = true;
  }

  /** The position to commit with the records taken now, if it changed. */
  takePosition(): LeaderPosition | undefined {
    if (!this.positionChanged) return undefined;
    this.positionChanged = false;
    return this.leaderPosition;
  }
}

const NO_BYTES = Buffer.alloc(0);
/** the pending log's first buffer at least (a quiet server's commits are small) */
const MIN_LOG_BYTES = 16 << 10;
/** and a new one starts at most this big, whatever the last commit took */
const MAX_START_BYTES = 8 << 20;

/**
 * Change-log segments (one row of talus.changelog, migrations/0006): records
 * with consecutive sequence numbers, per record db int2, at int8, effect
 * length int4, effect; big-endian. Changelog writes them as records come.
 */
function putRecordHeader(out: Buffer, at: number, db: number, unixMs: number, effectBytes: number): void {
  out.writeInt16BE(db, at);
  // a unix time in ms fits 53 bits: two 32-bit halves, no BigInt per record
  out.writeUInt32BE(Math.floor(unixMs / 0x100000000), at + 2);
  out.writeUInt32BE(unixMs >>> 0, at + 6);
  out.writeInt32BE(effectBytes, at + 10);
}

/** The records of a segment whose first sequence number is `firstSeq`. */
export function decodeSegment(firstSeq: number, segment: Buffer): ChangeRecord[] {
  const out: ChangeRecord[] = [];
  let at = 0;
  while (at < segment.length) {
    const n = segment.readInt32BE(at + 10);
    out.push({
      seq: firstSeq + out.length,
      db: segment.readInt16BE(at),
      at: Number(segment.readBigInt64BE(at + 2)),
      effect: segment.subarray(at + SEGMENT_HEADER, at + SEGMENT_HEADER + n),
    });
    at += SEGMENT_HEADER + n;
  }
  return out;
}

const SEGMENT_HEADER = 14;

/**
 * The effect as a RESP array of bulk strings, written into one buffer sized
 * first: every write command encodes one, so no part buffers to concatenate.
 */
export function encodeEffect(args: EffectArgs): Buffer {
  const out = Buffer.allocUnsafe(effectBytes(args));
  writeEffect(out, 0, args);
  return out;
}

/** Bytes of an effect's RESP encoding. */
function effectBytes(args: EffectArgs): number {
  let size = headerBytes(args.length);
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    const n = typeof a === 'string' ? utf8Bytes(a) : typeof a === 'number' ? numberLength(a) : a.length;
    size += headerBytes(n) + n + 2;
  }
  return size;
}

/** Bytes of a number argument's text. */
function numberLength(x: number): number {
  return Number.isSafeInteger(x) ? safeIntegerLength(x) : String(x).length;
}

/**
 * The effect's RESP encoding, written at `at` (effectBytes tells its size).
 * Short ASCII strings (command names, numbers) are written char by char and
 * Buffers with TypedArray.set: both several times cheaper than Buffer's
 * write and copy for the few bytes an argument usually has.
 */
function writeEffect(out: Buffer, at: number, args: EffectArgs): void {
  at = putHeader(out, at, 0x2a, args.length);
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (typeof a === 'string') {
      const n = utf8Bytes(a);
      at = putHeader(out, at, 0x24, n);
      if (n === a.length && n <= SHORT_TEXT) {
        for (let j = 0; j < n; j++) out[at + j] = a.charCodeAt(j);
        at += n;
      } else {
        at += out.write(a, at);
      }
    } else if (typeof a === 'number') {
      const n = numberLength(a);
      at = putHeader(out, at, 0x24, n);
      if (Number.isSafeInteger(a)) putSafeInteger(out, at, a, n);
      else out.write(String(a), at, 'latin1');
      at += n;
    } else {
      at = putHeader(out, at, 0x24, a.length);
      out.set(a, at);
      at += a.length;
    }
    out[at++] = 13;
    out[at++] = 10;
  }
}

/** Strings of at most this many chars are measured and written char by char when ASCII. */
const SHORT_TEXT = 32;

/** A string's UTF-8 byte count (a short ASCII one without a call into Buffer). */
function utf8Bytes(s: string): number {
  if (s.length > SHORT_TEXT) return Buffer.byteLength(s);
  for (let j = 0; j < s.length; j++) if (s.charCodeAt(j) >= 0x80) return Buffer.byteLength(s);
  return s.length;
}

/** A RESP header (`type` byte, decimal `n`, CRLF) written at `at`; returns where it ends. Byte by byte: a template string per header was most of the encoding, and a String(n) per header past 9 bytes an allocation. */
function putHeader(out: Buffer, at: number, type: number, n: number): number {
  out[at++] = type;
  if (n < 10) {
    out[at++] = 0x30 + n;
  } else {
    const digits = safeIntegerLength(n);
    putSafeInteger(out, at, n, digits);
    at += digits;
  }
  out[at++] = 13;
  out[at++] = 10;
  return at;
}

/** Bytes of a RESP header: the type byte, the decimal count, CRLF. */
function headerBytes(n: number): number {
  return safeIntegerLength(n) + 3;
}

/** The arguments of an effect (a RESP array of bulk strings, as encodeEffect writes it). */
export function decodeEffect(effect: Buffer): Buffer[] {
  let at = 0;
  const line = (): string => {
    const end = effect.indexOf('\r\n', at);
    const text = effect.toString('latin1', at, end);
    at = end + 2;
    return text;
  };
  const head = line();
  if (head[0] !== '*') throw new Error(`not a RESP array: ${JSON.stringify(head)}`);
  const args: Buffer[] = [];
  for (let n = Number(head.slice(1)); n > 0; n--) {
    const len = Number(line().slice(1));
    args.push(effect.subarray(at, at + len));
    at += len + 2;
  }
  return args;
}
