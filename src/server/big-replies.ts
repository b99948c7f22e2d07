/**
 * Big replies on their way out, across clients. A client's requests stop
 * running while its own unsent output passes its bound (client.ts,
 * OUTPUT_BOUND), but one request can make a reply of any size: HGETALL of a
 * big hash, MGET of thousands of values, LRANGE 0 -1. Thirty-two clients
 * each reading a 20 MB hash at once held 1.3 GB with maxmemory 64 MB, far
 * past Talus's memory bound. So the unsent output of the clients holding at
 * least BIG_REPLY_MIN is bounded as a whole: while it is past the budget the
 * gate is closed, and no client's next request runs (nor a queued command:
 * Scheduler.gate) until enough of it has been written. Requests wait in
 * their clients, which stop being read past their query bound.
 *
 * A client that does not read its replies would keep the gate closed for
 * everyone: output that has not shrunk for IDLE_MS no longer counts (its
 * client's own output bound and client-output-buffer-limit still apply).
 * Followers, subscribers and monitors take no part: their output is bounded
 * apart (client-output-buffer-limit's replica class, client-limits.ts).
 */
export interface ReplyHolder {
  /** unsent output: replies held for durability, encoded, and in the socket's buffer */
  readonly outputBytes: number;
  /** the gate opened: run the requests it held back */
  replyGateOpened(): void;
}

/** A client's output counts once it holds this much. */
export const BIG_REPLY_MIN = 1 << 20;

const IDLE_MS = 5_000;
/** how often the output of the counted clients is looked at while the gate is closed */
const POLL_MS = 5;

interface Holding {
  bytes: number;
  /** when its output last shrank or grew */
  since: number;
}

export class BigReplies {
  private readonly holders = new Map<ReplyHolder, Holding>();
  private readonly waiting = new Set<ReplyHolder>();
  private closed = false;
  private poll: NodeJS.Timeout | undefined;
  /** times the gate closed (INFO talus big_reply_gate_closings) */
  closings = 0;

  constructor(
    /** bytes of big replies that may wait to be written at once (Infinity: no bound) */
    public budget: number,
    /** the gate opened (the key scheduler runs what it held) */
    private readonly onOpen: () => void = () => undefined,
  ) {}

  /** Whether requests may run now. */
  get open(): boolean {
    return !this.closed;
  }

  /**
   * The holder's output changed (it wrote replies): count it if it is big,
   * and close the gate when the whole is past the budget.
   */
  note(h: ReplyHolder, now = Date.now()): void {
    const bytes = h.outputBytes;
    const holding = this.holders.get(h);
    if (bytes < BIG_REPLY_MIN) {
      if (holding !== undefined) this.holders.delete(h);
      return;
    }
    if (holding === undefined) this.holders.set(h, { bytes, since: now });
    else if (holding.bytes !== bytes) {
      holding.bytes = bytes;
      holding.since = now;
    }
    if (!this.closed && this.budget !== Infinity && this.counted(now) > this.budget) this.close();
  }

  /**
   * Whether `h` may run a request now. When not, it is told (replyGateOpened)
   * once the gate opens.
   */
  admits(h: ReplyHolder): boolean {
    if (!this.closed) return true;
    this.waiting.add(h);
    return false;
  }

  /** The holder is gone (closed). */
  remove(h: ReplyHolder): void {
    this.holders.delete(h);
    this.waiting.delete(h);
  }

  /** bytes of big replies counted now (INFO talus big_reply_bytes) */
  get bytes(): number {
    return this.counted(Date.now());
  }

  /** clients waiting for the gate now (INFO talus big_reply_held_clients) */
  get heldCount(): number {
    return this.waiting.size;
  }

  /** The counted output now: every holder's, read afresh, but those idle for IDLE_MS. */
  private counted(now: number): number {
    let total = 0;
    for (const [h, holding] of this.holders) {
      const bytes = h.outputBytes;
      if (bytes < BIG_REPLY_MIN) {
        this.holders.delete(h);
        continue;
      }
      if (bytes !== holding.bytes) {
        holding.bytes = bytes;
        holding.since = now;
      } else if (now - holding.since >= IDLE_MS) continue;
      total += bytes;
    }
    return total;
  }

  private close(): void {
    this.closed = true;
    this.closings++;
    this.poll = setInterval(() => {
      // half: a reply as big as the budget then goes out beside what is left, not on top of a full budget
      if (this.counted(Date.now()) <= this.budget / 2) this.reopen();
    }, POLL_MS);
    this.poll.unref();
  }

  private reopen(): void {
    clearInterval(this.poll);
    this.poll = undefined;
    this.closed = false;
    const waiting = [...this.waiting];
    this.waiting.clear();
    this.onOpen();
    for (const h of waiting) h.replyGateOpened();
  }
}
