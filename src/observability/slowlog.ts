import type { ConfigStore } from '../config/store.js';
import type { Session } from '../execution/session.js';
import type { Command } from '../commands/table.js';

export interface SlowlogEntry {
  id: number;
  time: number;
  usec: number;
  args: Buffer[];
  addr: string;
  name: string;
}

/** SLOWLOG: commands that ran longer than slowlog-log-slower-than microseconds. */
export class Slowlog {
  entries: SlowlogEntry[] = [];
  private nextId = 0;

  constructor(private readonly config: ConfigStore) {}

  record(c: Session, args: Buffer[], usec: number, cmd: Command): void {
    const threshold = this.config.values.slowlogLogSlowerThan;
    if (threshold < 0 || usec < threshold || cmd.skipsSlowlog) return;
    // Like Redis: at most 32 arguments, each at most 128 bytes.
    const shown = args.length > 32 ? [...args.slice(0, 31), Buffer.from(`... (${args.length - 31} more arguments)`)] : args;
    const trimmed = shown.map((a) =>
      a.length > 128 ? Buffer.concat([a.subarray(0, 128), Buffer.from(`... (${a.length - 128} more bytes)`)]) : Buffer.from(a),
    );
    this.entries.unshift({ id: this.nextId++, time: Math.floor(Date.now() / 1000), usec, args: trimmed, addr: c.connection?.addr ?? '', name: c.name });
    const max = this.config.values.slowlogMaxLen;
    if (this.entries.length > max) this.entries.length = Math.max(0, max);
  }

  reset(): void {
    this.entries = [];
  }
}
