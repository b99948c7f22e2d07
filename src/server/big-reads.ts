/**
 * Big requests being read, across clients. A request's bytes are held from
 * the first one read until it has run, and a client sending a 16 MB value
 * holds 16 MB (twice, for a moment, when its pieces are joined). Eight
 * clients doing so at once held 128-256 MB before the first of them ran
 * (its commit then holds several copies of its value): past Talus's memory
 * bound (maxmemory + 200 MB) with a small maxmemory. So the bytes of big
 * requests read and not yet run are bounded as a whole: past the budget,
 * only the client that started first goes on reading; the others stop, and
 * are read again once it has run its request. Small requests (under
 * BIG_READ_MIN) never take part. A request counts with what its big
 * argument declares from the moment its "$" line is read, not only with
 * what has arrived: counted by what had arrived, each client took part only
 * once it held 1 MB, and 128 clients each sending a 16 MB value held 140 MB
 * of partial requests before they were stopped (368 MB of RSS at maxmemory
 * 64 MB); now they are stopped after their first chunks.
 *
 * A client that stops sending half way, or whose request cannot run for a
 * long time (a blocked command before it, replies it does not read), would
 * hold everyone else's big requests back: after IDLE_MS without growing or
 * running, it no longer counts, until it sends more (then it queues again,
 * behind the others).
 */
export interface BigReader {
  /** bytes of requests received and not yet run */
  readonly queryBytes: number;
  /** bytes the big argument being received still declares (not arrived yet) */
  readonly awaitedBytes: number;
  /** stop or resume reading the socket for this cause */
  holdForBigReads(held: boolean): void;
}

/** A client takes part once this much of its requests is buffered. */
export const BIG_READ_MIN = 1 << 20;

const IDLE_MS = 5_000;

interface Reading {
  /** received and awaited: what it counts for */
  bytes: number;
  /** received: what shows it sending */
  received: number;
  /** when `received` last changed */
  since: number;
}

export class BigReads {
  /** clients with big requests buffered, in the order they started */
  private readonly readers = new Map<BigReader, Reading>();
  /** clients whose bytes stopped counting (IDLE_MS without change), with the bytes they had */
  private readonly idle = new Map<BigReader, number>();
  private total = 0;
  private readonly held = new Set<BigReader>();

  constructor(
    /** bytes of big requests that may be buffered at once (Infinity: no bound) */
    public budget: number,
  ) {}

  /**
   * The reader's buffered bytes changed (after a read, or after requests
   * ran): account them, and hold it when the whole is past the budget and it
   * is not the first reader. A reader under BIG_READ_MIN leaves, and the
   * held ones are read again (each checks again with its next bytes).
   * Returns whether the reader is still accounted (call again until not).
   */
  update(r: BigReader, now = Date.now()): boolean {
    const received = r.queryBytes;
    const bytes = received + r.awaitedBytes;
    const reading = this.readers.get(r);
    if (bytes < BIG_READ_MIN) {
      this.idle.delete(r);
      if (reading !== undefined) this.leave(r, reading.bytes, now);
      return false;
    }
    if (reading === undefined) {
      // new, or idle and sending again: behind the others
      if (this.idle.get(r) === received) return true;
      this.idle.delete(r);
      this.readers.set(r, { bytes, received, since: now });
      this.total += bytes;
    } else {
      if (reading.bytes !== bytes) {
        this.total += bytes - reading.bytes;
        reading.bytes = bytes;
      }
      if (reading.received !== received) {
        reading.received = received;
        reading.since = now;
      }
    }
    if (this.total > this.budget && this.first() !== r && !this.held.has(r)) {
      this.held.add(r);
      r.holdForBigReads(true);
    }
    return true;
  }

  /** The reader is gone (closed). */
  remove(r: BigReader): void {
    this.idle.delete(r);
    this.held.delete(r);
    const reading = this.readers.get(r);
    if (reading !== undefined) this.leave(r, reading.bytes, Date.now());
  }

  /** Periodically (server cron): readers that neither grew nor ran for IDLE_MS stop counting. */
  tick(now = Date.now()): void {
    for (const [r, reading] of this.readers) {
      if (this.held.has(r) || now - reading.since < IDLE_MS) continue;
      this.idle.set(r, reading.received);
      this.leave(r, reading.bytes, now);
    }
  }

  /** clients stopped by the budget now (INFO talus big_request_held_clients) */
  get heldCount(): number {
    return this.held.size;
  }

  /** bytes of big requests buffered and counted now (INFO talus big_request_bytes) */
  get bytes(): number {
    return this.total;
  }

  private first(): BigReader | undefined {
    return this.readers.keys().next().value;
  }

  private leave(r: BigReader, bytes: number, now: number): void {
    this.readers.delete(r);
    this.total -= bytes;
    if (this.held.delete(r)) r.holdForBigReads(false);
    if (this.total > this.budget) {
      // still over: only the first reader (perhaps one that was held) goes on
      const first = this.first();
      if (first !== undefined && this.held.has(first)) this.release(first, now);
      return;
    }
    for (const h of [...this.held]) this.release(h, now);
  }

  /** A held reader reads again: its idle time starts now. */
  private release(r: BigReader, now: number): void {
    this.held.delete(r);
    const reading = this.readers.get(r);
    if (reading !== undefined) reading.since = now;
    r.holdForBigReads(false);
  }
}
