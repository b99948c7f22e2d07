/**
 * Keeps the process's footprint near the hot set. What the hot set lets go
 * of (evicted values, committed change-log effects, commit parameters) is
 * mostly Buffer memory outside V8's heap, which V8 only collects once its
 * external memory has grown by some 64 MB since the last full collection:
 * with a small maxmemory that garbage would be most of the RSS. So when the
 * memory JS holds exceeds the hot set by more than a slack, ask V8 for a
 * concurrent full collection (at most once a second). Needs --expose-gc,
 * which bin/talus passes; without it this does nothing.
 */
export class MemoryGuard {
  private last = 0;
  /** JS-held memory at start (code, modules): not garbage */
  private readonly baseline: number;
  collections = 0;

  constructor() {
    const m = process.memoryUsage();
    this.baseline = m.heapUsed + m.external;
  }

  tick(hotSetBytes: number, maxmemory: number): void {
    const gc = (globalThis as { gc?: (options?: { type: string; execution: string }) => void }).gc;
    if (gc === undefined || maxmemory <= 0) return;
    const now = Date.now();
    if (now - this.last < 1000) return;
    const m = process.memoryUsage();
    const slack = Math.max(32 << 20, maxmemory / 4);
    if (m.heapUsed + m.external <= this.baseline + hotSetBytes + slack) return;
    this.last = now;
    this.collections++;
    gc({ type: 'major', execution: 'async' });
  }
}
