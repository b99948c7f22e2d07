/**
 * Keeps the process's footprint near the hot set. What the hot set lets go
 * of (evicted values, committed change-log effects, commit parameters) is
 * mostly Buffer memory outside V8's heap, which V8 only collects once its
 * external memory has grown by some 64 MB since the last full collection:
 * with a small maxmemory that garbage would be most of the RSS. So when the
 * memory JS holds exceeds what is live by more than a slack, ask V8 for a
 * concurrent full collection (at most once a second). Needs --expose-gc,
 * which bin/talus passes; without it this does nothing.
 *
 * What is live is the larger of the hot set (plus what the process held at
 * start) and the lowest usage seen since the last collection: the hot set's
 * byte count leaves out the JS objects around each entry, so with a million
 * resident keys the live heap is several times it, and collecting whenever
 * usage exceeded the byte count meant a full GC of that heap every second.
 */
export class MemoryGuard {
  private last = 0;
  /** JS-held memory at start (code, modules): not garbage */
  private readonly baseline: number;
  /** lowest usage seen since the last collection: what that collection left */
  private lowWater: number;
  collections = 0;

  constructor() {
    const m = process.memoryUsage();
    this.baseline = m.heapUsed + m.external;
    this.lowWater = this.baseline;
  }

  tick(hotSetBytes: number, maxmemory: number): void {
    const gc = (globalThis as { gc?: (options?: { type: string; execution: string }) => void }).gc;
    if (gc === undefined || maxmemory <= 0) return;
    const m = process.memoryUsage();
    const used = m.heapUsed + m.external;
    this.lowWater = Math.min(this.lowWater, used);
    const now = Date.now();
    if (now - this.last < 1000) return;
    const live = Math.max(this.baseline + hotSetBytes, this.lowWater);
    if (used <= live + Math.max(32 << 20, maxmemory / 4)) return;
    this.last = now;
    this.lowWater = Infinity;
    this.collections++;
    gc({ type: 'major', execution: 'async' });
  }
}
