/**
 * Per-command latency histograms (latency-tracking): INFO latencystats and
 * LATENCY HISTOGRAM. Like Redis 7.0, durations are kept in nanoseconds
 * (1 ns .. 1 s) with two significant digits: a value falls in a bucket of
 * width 2^b, where b grows by one at every power of two past 256, so
 * percentiles and the cumulative distribution come out as Redis computes
 * them (the highest value a bucket stands for).
 */

const MIN_NS = 1;
const MAX_NS = 1_000_000_000;

/** Width exponent of the bucket holding `ns`: 0 below 256, then one more per power of two. */
function bucketBits(ns: number): number {
  return Math.max(0, 31 - Math.clz32(ns | 255) - 7);
}

/** The lowest value in `ns`'s bucket. */
export function lowestEquivalent(ns: number): number {
  const b = bucketBits(ns);
  return Math.floor(ns / 2 ** b) * 2 ** b;
}

/** The highest value in `ns`'s bucket. */
export function highestEquivalent(ns: number): number {
  return lowestEquivalent(ns) + 2 ** bucketBits(ns) - 1;
}

/**
 * Buckets in ascending order, one slot each: the 256 of width 1, then 128
 * per width 2^b (b >= 1; their lowest values are 128..255 shifted by b).
 */
const SLOTS = 256 + bucketBits(MAX_NS) * 128;

export class LatencyHistogram {
  /** Counts by bucket slot (see SLOTS): indexing an array, not a Map lookup and update, for every command. */
  private readonly counts = new Float64Array(SLOTS);
  total = 0;

  record(ns: number): void {
    const v = Math.min(MAX_NS, Math.max(MIN_NS, Math.round(ns)));
    // the bucket with shifts (v < 2^30)
    const b = bucketBits(v);
    this.counts[b === 0 ? v : (b << 7) + (v >>> b)]++;
    this.total++;
  }

  /** [lowest value of the bucket, count] of the buckets with values, lowest first. */
  private ascending(): Array<[number, number]> {
    const out: Array<[number, number]> = [];
    for (let slot = 0; slot < SLOTS; slot++) {
      const n = this.counts[slot]!;
      if (n === 0) continue;
      const b = slot < 256 ? 0 : ((slot - 256) >>> 7) + 1;
      out.push([b === 0 ? slot : (128 + ((slot - 256) & 127)) * 2 ** b, n]);
    }
    return out;
  }

  /** The value (ns) at a percentile: the highest value of the bucket where the count reaches it (lowest for 0). */
  valueAtPercentile(percentile: number): number {
    const wanted = Math.max(1, Math.trunc((Math.min(percentile, 100) / 100) * this.total + 0.5));
    let seen = 0;
    for (const [low, n] of this.ascending()) {
      seen += n;
      if (seen >= wanted) return percentile === 0 ? low : highestEquivalent(low);
    }
    return 0;
  }

  /**
   * LATENCY HISTOGRAM's histogram_usec: at 1024 ns and every power of two
   * after it, [the highest value of that level's bucket in µs, how many
   * values are at most that], for the levels where the count grows.
   */
  cumulative(): Array<[number, number]> {
    const out: Array<[number, number]> = [];
    const buckets = this.ascending();
    let i = 0;
    let seen = 0;
    let previous = 0;
    for (let level = 1024; seen < this.total && level <= 2 * MAX_NS; level *= 2) {
      while (i < buckets.length && buckets[i]![0] <= level) seen += buckets[i++]![1];
      if (seen > previous) out.push([Math.floor(highestEquivalent(level) / 1000), seen]);
      previous = seen;
    }
    return out;
  }
}

/** One histogram per command (full name: `get`, `config|set`), made on its first call. */
export class LatencyTracker {
  readonly byCommand = new Map<string, LatencyHistogram>();

  /** the histogram last recorded into, by its command: a pipeline mostly repeats one command */
  private lastCommand = '';
  private lastHistogram: LatencyHistogram | undefined;

  record(command: string, ns: number): void {
    let h = command === this.lastCommand ? this.lastHistogram : this.byCommand.get(command);
    if (!h) this.byCommand.set(command, (h = new LatencyHistogram()));
    this.lastCommand = command;
    this.lastHistogram = h;
    h.record(ns);
  }

  reset(): void {
    this.byCommand.clear();
    this.lastHistogram = undefined;
    this.lastCommand = '';
  }

  /** INFO latencystats lines: latency_percentiles_usec_<command> -> "p50=1.003,p99=2.007,p99.9=3.007". */
  infoFields(percentiles: readonly number[], order: readonly string[]): Array<[string, string]> {
    const out: Array<[string, string]> = [];
    for (const name of order) {
      const h = this.byCommand.get(name);
      if (!h) continue;
      const values = percentiles.map((p) => `p${formatPercentile(p)}=${(h.valueAtPercentile(p) / 1000).toFixed(3)}`);
      out.push([`latency_percentiles_usec_${name}`, values.join(',')]);
    }
    return out;
  }
}

/** 50 -> "50", 99.9 -> "99.9": the shortest decimal form, as Redis prints percentile labels. */
function formatPercentile(p: number): string {
  return Number(p.toFixed(6)).toString();
}
