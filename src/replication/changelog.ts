import { NO_REPLID, ReplicationHistory } from './history.js';
// the module's binding, not the global `Buffer` (an accessor: a getter call per use)
import { Buffer } from 'node:buffer';

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
 * The change log's in-memory tail. Every mutation appends its effect with the
 * next sequence number; the flusher takes the records not yet committed and
 * writes them in the same transaction as the data they describe, so the
 * committed log and the committed data never disagree. The sequence number is
 * the replication offset.
 */
export class Changelog {
  /** last sequence number handed out */
  seq: number;
  private pending: ChangeRecord[] = [];
  /** bytes of the effects in `pending` (they are held in memory until committed) */
  pendingBytes = 0;
  private readonly listeners = new Set<(r: ChangeRecord) => void>();
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

  /** Log an effect: its arguments, or already encoded (encodeEffect: a fixed one such as MULTI, encoded once). */
  append(db: number, args: ReadonlyArray<Buffer | string> | Buffer): number {
    const rec: ChangeRecord = { seq: ++this.seq, db, at: Date.now(), effect: Buffer.isBuffer(args) ? args : encodeEffect(args) };
    this.pending.push(rec);
    this.pendingBytes += rec.effect.length;
    for (const l of this.listeners) l(rec);
    return rec.seq;
  }

  /**
   * Wrap the records from `firstSeq` to the last in `open` ... `close`
   * records (a script's effects, made one atomic unit after the fact): the
   * open record takes `firstSeq`, the wrapped ones move up by one. Only
   * records not yet handed to the flusher can be; false if they were not all.
   */
  wrap(firstSeq: number, open: ReadonlyArray<Buffer | string> | Buffer, close: ReadonlyArray<Buffer | string> | Buffer): boolean {
    // Pending seqs are consecutive: the first to wrap sits that far from the
    // end (a search from the start costs the whole uncommitted tail, a
    // second's worth of records with appendfsync everysec, per script).
    const i = this.pending.length - 1 - (this.seq - firstSeq);
    if (i < 0 || this.pending[i]!.seq !== firstSeq || this.pending[this.pending.length - 1]!.seq !== this.seq) return false;
    const first = this.pending[i]!;
    const head: ChangeRecord = { seq: firstSeq, db: first.db, at: first.at, effect: Buffer.isBuffer(open) ? open : encodeEffect(open) };
    for (let j = i; j < this.pending.length; j++) this.pending[j]!.seq++;
    this.pending.splice(i, 0, head);
    this.pendingBytes += head.effect.length;
    this.seq++;
    this.append(this.pending[this.pending.length - 1]!.db, close);
    return true;
  }

  /** Records not yet handed to the flusher, oldest first. */
  take(): ChangeRecord[] {
    const out = this.pending;
    this.pending = [];
    this.pendingBytes = 0;
    return out;
  }

  /** Give records back after a failed commit, ahead of newer ones. */
  restore(records: ChangeRecord[]): void {
    this.pending = records.concat(this.pending);
    for (const r of records) this.pendingBytes += r.effect.length;
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

  /** Observe appends (replication feeds, MONITOR-like tools). */
  subscribe(listener: (r: ChangeRecord) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}

/**
 * Records with consecutive sequence numbers as one change-log segment (one
 * row of talus.changelog, migrations/0006): per record db int2, at int8,
 * effect length int4, effect; big-endian.
 */
export function encodeSegment(records: readonly ChangeRecord[]): Buffer {
  const out = Buffer.allocUnsafe(segmentBytes(records));
  let at = 0;
  for (const r of records) {
    out.writeInt16BE(r.db, at);
    // a unix time in ms fits 53 bits: two 32-bit halves, no BigInt per record
    out.writeUInt32BE(Math.floor(r.at / 0x100000000), at + 2);
    out.writeUInt32BE(r.at >>> 0, at + 6);
    out.writeInt32BE(r.effect.length, at + 10);
    r.effect.copy(out, at + SEGMENT_HEADER);
    at += SEGMENT_HEADER + r.effect.length;
  }
  return out;
}

/** The size of the records' segment. */
export function segmentBytes(records: readonly ChangeRecord[]): number {
  let size = 0;
  for (const r of records) size += SEGMENT_HEADER + r.effect.length;
  return size;
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
export function encodeEffect(args: ReadonlyArray<Buffer | string>): Buffer {
  let size = headerBytes('*', args.length);
  for (const a of args) {
    const n = typeof a === 'string' ? Buffer.byteLength(a) : a.length;
    size += headerBytes('$', n) + n + 2;
  }
  const out = Buffer.allocUnsafe(size);
  let at = putHeader(out, 0, 0x2a, args.length);
  for (const a of args) {
    const n = typeof a === 'string' ? Buffer.byteLength(a) : a.length;
    at = putHeader(out, at, 0x24, n);
    at += typeof a === 'string' ? out.write(a, at) : a.copy(out, at);
    out[at++] = 13;
    out[at++] = 10;
  }
  return out;
}

/** A RESP header (`type` byte, decimal `n`, CRLF) written at `at`; returns where it ends. Byte by byte: a template string per header was most of the encoding. */
function putHeader(out: Buffer, at: number, type: number, n: number): number {
  out[at++] = type;
  if (n < 10) {
    out[at++] = 0x30 + n;
  } else {
    const digits = String(n);
    for (let i = 0; i < digits.length; i++) out[at++] = digits.charCodeAt(i);
  }
  out[at++] = 13;
  out[at++] = 10;
  return at;
}

/** Bytes of a RESP header: the type byte, the decimal count, CRLF. */
function headerBytes(type: string, n: number): number {
  return type.length + String(n).length + 2;
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
