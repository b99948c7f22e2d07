/**
 * Keeps the process's footprint near the hot set. What the hot set lets go
 * of (evicted values, committed change-log effects, commit parameters) is
 * mostly Buffer memory outside V8's heap, which V8 only collects once its
 * external memory has grown by some 64 MB since the last full collection:
 * with a small maxmemory that garbage would be most of the RSS. So when the
 * memory JS holds exceeds what is live by more than a slack, ask V8 for a
 * concurrent full collection, one at a time: as often as the garbage
 * demands, so that a fast load (cold reads at 25k/s) does not pile up a
 * second's worth between collections. Needs --expose-gc, which bin/talus
 * passes; without it this does nothing.
 *
 * What is live is the larger of the hot set (plus what the process held at
 * start) and the lowest usage seen since the last collection: the hot set's
 * byte count leaves out the JS objects around each entry, so with a million
 * resident keys the live heap is several times it, and collecting whenever
 * usage exceeded the byte count meant a full GC of that heap every second.
 * That low-water mark can be too high, though: what a collection could not
 * free because it was still in use (a big commit in flight) counts as live
 * until the next one. So every RECHECK_MS the estimate falls back to the hot
 * set, at the cost of one full collection that often for a big hot set.
 */
export class MemoryGuard {
  static readonly RECHECK_MS = 10_000;
  /** the process may hold maxmemory plus this (Talus's memory bound) */
  static readonly HEADROOM = 200 << 20;
  /** the guard acts this far below that bound: what can arrive between two ticks */
  static readonly MARGIN = 96 << 20;
  /**
   * Bytes the hot set gives up below maxmemory while the process's RSS is
   * near maxmemory + HEADROOM. Memory that JS let go of is not always given
   * back to the system: freed value buffers leave holes in malloc's heap,
   * which only new allocations reuse. So with RSS at the bound, shrinking the
   * hot set makes room *inside* the process for what comes next, instead of
   * growing it (at most half of maxmemory: the hot set still serves).
   */
  squeeze = 0;
  /** a collection is running (they are concurrent: the process goes on meanwhile) */
  private collecting = false;
  private lastStart = 0;
  /** JS-held memory once started (code, modules, the Lua engine): not garbage */
  private baseline: number;
  /** lowest usage seen since the last collection: what that collection left */
  private lowWater: number;
  collections = 0;

  constructor(
    /** a collection ended (writers held by `pressing` may go on) */
    private readonly onCollected: () => void = () => {},
  ) {
    this.baseline = this.lowWater = MemoryGuard.used();
  }

  /** usage past which garbage outruns the running collection (set when it starts) */
  private pressureMark = Infinity;
  private pressed = false;

  /**
   * A collection runs while RSS is near the bound, or while garbage piles up
   * faster than it frees it (usage past twice the slack that started it):
   * requests that write wait for it (Talus.commitBacklogFull). A write flood
   * of big values makes garbage (request buffers, commit copies) faster than
   * a concurrent collection on a busy machine frees it.
   */
  get pressing(): boolean {
    return this.collecting && this.pressed;
  }

  private static used(): number {
    const m = process.memoryUsage();
    return m.heapUsed + m.external;
  }

  /**
   * Start-up is done (code loaded, the Lua engine's memory, the warm-up's
   * garbage): collect now, before the first client, and count what is left
   * as the baseline. Otherwise the first collection, a full one of all the
   * start-up garbage, lands on the first requests (some 25 ms of them).
   */
  settle(): void {
    const gc = (globalThis as { gc?: () => void }).gc;
    gc?.();
    this.baseline = this.lowWater = MemoryGuard.used();
  }

  tick(hotSetBytes: number, maxmemory: number): void {
    const gc = (globalThis as { gc?: (options?: { type: string; execution: string }) => Promise<void> }).gc;
    if (gc === undefined || maxmemory <= 0) return;
    const over = process.memoryUsage.rss() - (maxmemory + MemoryGuard.HEADROOM - MemoryGuard.MARGIN);
    this.squeeze = Math.min(maxmemory / 2, Math.max(0, over));
    const m = process.memoryUsage();
    const used = m.heapUsed + m.external;
    if (this.collecting) {
      this.pressed = this.squeeze > 0 || used > this.pressureMark;
      return;
    }
    this.lowWater = Math.min(this.lowWater, used);
    const now = Date.now();
    const floor = this.baseline + hotSetBytes;
    const live = now - this.lastStart >= MemoryGuard.RECHECK_MS ? floor : Math.max(floor, this.lowWater);
    // near the bound, collect what has piled up since the last collection (at most once a second;
    // not when usage has not grown since: a big live heap would be marked every second for nothing)
    const nearBound = over > 0 && now - this.lastStart >= 1000 && used > this.lowWater + (16 << 20);
    const slack = Math.max(32 << 20, maxmemory / 4);
    if (!nearBound && used <= live + slack) return;
    this.collecting = true;
    this.pressureMark = live + 2 * slack;
    this.pressed = this.squeeze > 0;
    this.lastStart = now;
    this.collections++;
    void gc({ type: 'major', execution: 'async' }).finally(() => {
      this.collecting = false;
      this.pressed = false;
      // Usage from here on is what the collection left.
      this.lowWater = Infinity;
      this.onCollected();
    });
  }
}
