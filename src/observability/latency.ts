/**
 * The latency monitor (LATENCY LATEST / HISTORY / RESET / GRAPH / DOCTOR):
 * events that took at least latency-monitor-threshold milliseconds, as in
 * Redis. Per event: the worst latency of each second, for the last 160
 * seconds that had one, and the all-time maximum.
 *
 * Events Talus records:
 * - command, fast-command: a command's run time (fast = flagged fast), as Redis;
 * - postgres-commit: one group commit to PostgreSQL (the wait of every
 *   appendfsync always write in it);
 * - cold-read: one batched read of cold keys from PostgreSQL (the wait of
 *   the commands that need them);
 * - expire-cycle: one active expiry cycle of the cron;
 * - eviction-cycle: one pass of the cron unloading keys over maxmemory.
 */

/** Samples kept per event (Redis's LATENCY_TS_LEN). */
export const LATENCY_HISTORY_LEN = 160;

export interface LatencySample {
  /** Unix time in seconds. */
  readonly time: number;
  /** Milliseconds. */
  latency: number;
}

interface Series {
  samples: LatencySample[];
  max: number;
}

const GRAPH_WIDTH = 80;
const GRAPH_HEIGHT = 4;

export class LatencyMonitor {
  private readonly events = new Map<string, Series>();

  /** `threshold()` is latency-monitor-threshold in milliseconds (0 = off). */
  constructor(private readonly threshold: () => number) {}

  /** Record `ms` for `event` when monitoring is on and `ms` reaches the threshold. */
  note(event: string, ms: number): void {
    const threshold = this.threshold();
    if (threshold > 0 && ms >= threshold) this.add(event, Math.floor(ms));
  }

  /** Add a sample: one per second per event, the worst one. */
  add(event: string, ms: number, now = Math.floor(Date.now() / 1000)): void {
    let series = this.events.get(event);
    if (!series) this.events.set(event, (series = { samples: [], max: 0 }));
    if (ms > series.max) series.max = ms;
    const last = series.samples[series.samples.length - 1];
    if (last && last.time === now) {
      if (ms > last.latency) last.latency = ms;
      return;
    }
    series.samples.push({ time: now, latency: ms });
    if (series.samples.length > LATENCY_HISTORY_LEN) series.samples.shift();
  }

  /** Forget the named events (case-insensitive), or all; how many were forgotten. */
  reset(names?: readonly string[]): number {
    let n = 0;
    for (const event of [...this.events.keys()]) {
      if (names === undefined || names.some((x) => x.toLowerCase() === event.toLowerCase())) {
        this.events.delete(event);
        n++;
      }
    }
    return n;
  }

  /** LATENCY LATEST: [event, time of the last sample, its latency, all-time max]. */
  latest(): Array<[string, number, number, number]> {
    return [...this.events].map(([event, s]) => {
      const last = s.samples[s.samples.length - 1]!;
      return [event, last.time, last.latency, s.max];
    });
  }

  /** LATENCY HISTORY: the event's samples, oldest first (none for an unknown event). */
  history(event: string): readonly LatencySample[] {
    return this.events.get(event)?.samples ?? [];
  }

  /**
   * LATENCY GRAPH: a title line, a rule, then one column per sample (oldest
   * left, at most 80) whose height shows its latency between the lowest and
   * highest sample, and under each column how long ago it was (s/m/h/d),
   * written downwards. Undefined for an unknown event.
   */
  graph(event: string, now = Math.floor(Date.now() / 1000)): string | undefined {
    const s = this.events.get(event);
    if (!s) return undefined;
    const samples = s.samples.slice(-GRAPH_WIDTH);
    const values = samples.map((x) => x.latency);
    const high = Math.max(...values);
    const low = Math.min(...values);
    const lines = [`${event} - high ${high} ms, low ${low} ms (all time high ${s.max} ms)`, '-'.repeat(GRAPH_WIDTH)];
    const level = (v: number) => (high === low ? GRAPH_HEIGHT : 1 + Math.round(((v - low) / (high - low)) * (GRAPH_HEIGHT - 1)));
    for (let row = GRAPH_HEIGHT; row >= 1; row--) {
      lines.push(values.map((v) => (level(v) >= row ? '#' : ' ')).join('').trimEnd());
    }
    const labels = samples.map((x) => ago(now - x.time));
    const depth = Math.max(...labels.map((l) => l.length));
    for (let i = 0; i < depth; i++) lines.push(labels.map((l) => l[i] ?? ' ').join('').trimEnd());
    return lines.join('\n') + '\n';
  }

  /** LATENCY DOCTOR: what was seen, per event, with a hint where Talus has one. */
  doctor(): string {
    if (this.events.size === 0) {
      return this.threshold() === 0
        ? 'Latency monitoring is disabled: CONFIG SET latency-monitor-threshold <milliseconds> turns it on.\n'
        : `No event reached the latency-monitor-threshold of ${this.threshold()} ms since the start or the last LATENCY RESET.\n`;
    }
    const out = ['Latency spikes were observed in this Talus instance:', ''];
    let i = 0;
    for (const [event, s] of this.events) {
      const values = s.samples.map((x) => x.latency);
      const avg = values.reduce((a, b) => a + b, 0) / values.length;
      const mad = values.reduce((a, b) => a + Math.abs(b - avg), 0) / values.length;
      const span = s.samples.length > 1 ? (s.samples[s.samples.length - 1]!.time - s.samples[0]!.time) / (s.samples.length - 1) : 0;
      out.push(
        `${++i}. ${event}: ${values.length} latency spikes (average ${Math.floor(avg)}ms, mean deviation ${Math.floor(mad)}ms, ` +
          `period ${span.toFixed(2)} sec). Worst all time event ${s.max}ms.`,
      );
      const hint = HINTS[event];
      if (hint) out.push(`   ${hint}`);
    }
    return out.join('\n') + '\n';
  }
}

const HINTS: Record<string, string> = {
  command: 'Slow commands: SLOWLOG GET names them; commands over big values (KEYS, SORT, SMEMBERS...) take time proportional to their size.',
  'fast-command': 'Commands of constant or logarithmic cost were slow: the process was likely starved of CPU (other processes, garbage collection).',
  'postgres-commit': 'PostgreSQL commits were slow: check its disk (synchronous_commit, fsync latency) and load; appendfsync everysec takes them off the reply path.',
  'cold-read': 'Reading cold keys from PostgreSQL was slow: check its load and disk, or raise maxmemory so that more of the working set stays in memory.',
  'expire-cycle': 'The active expiry cycle was slow: many keys expired at once.',
  'eviction-cycle': 'Unloading keys over maxmemory was slow: the hot set grew past maxmemory quickly (big cold reads).',
};

function ago(seconds: number): string {
  if (seconds < 60) return `${seconds}s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m`;
  if (seconds < 86400) return `${Math.floor(seconds / 3600)}h`;
  return `${Math.floor(seconds / 86400)}d`;
}
