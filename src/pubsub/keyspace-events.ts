import { KEY_EVENTS, type Mutation } from '../keyspace/events.js';

/** Delivers a message to a pub/sub channel once change-log seq `gate` is durable. */
export type Publish = (channel: Buffer, message: Buffer, gate: number) => void;

/**
 * Keyspace notifications (notify-keyspace-events), derived from the mutation
 * seam: every reported change whose event class is enabled becomes a message
 * on `__keyspace@<db>__:<key>` (the event name) and/or `__keyevent@<db>__:<event>`
 * (the key), in that order, as Redis publishes them. Key misses of reads
 * (class m) come from the lookups (Keyspace.missListeners).
 *
 * Messages are queued while a command runs and published when it ends
 * (`flush`, called by the executor and after each expiry cycle), gated on
 * the command's effects: under appendfsync always nobody hears of a change
 * before its own client could.
 */
export class KeyspaceNotifier {
  private classes = new Set<string>();
  private keyspaceChannel = false;
  private keyeventChannel = false;
  private pending: Array<[Buffer, Buffer]> = [];
  private flushScheduled = false;

  constructor(
    private readonly publish: Publish,
    /** the gate of what was changed so far (Executor.durabilityGate of everything logged) */
    private readonly gate: () => number,
  ) {}

  /** A notify-keyspace-events value, normalized by the config schema (e.g. "AKE", "gKE", "Ex"). */
  configure(flags: string): void {
    this.classes = new Set();
    for (const c of flags) {
      if (c === 'A') for (const a of 'g$lshzxetd') this.classes.add(a);
      else this.classes.add(c);
    }
    this.keyspaceChannel = this.classes.delete('K');
    this.keyeventChannel = this.classes.delete('E');
  }

  /** Whether any notification can be produced at all. */
  get enabled(): boolean {
    return (this.keyspaceChannel || this.keyeventChannel) && this.classes.size > 0;
  }

  onMutation(m: Mutation): void {
    if (m.key === null || !this.enabled) return;
    const cls = KEY_EVENTS[m.event as keyof typeof KEY_EVENTS];
    if (cls !== undefined && this.classes.has(cls)) this.queue(m.db, m.key, m.event);
  }

  /** A read that found no key (class m, "keymiss"). */
  onMiss(db: number, key: string): void {
    if (this.enabled && this.classes.has('m')) this.queue(db, key, 'keymiss');
  }

  private queue(db: number, key: string, event: string): void {
    const name = Buffer.from(key, 'latin1');
    const ev = Buffer.from(event);
    if (this.keyspaceChannel) this.pending.push([Buffer.concat([Buffer.from(`__keyspace@${db}__:`), name]), ev]);
    if (this.keyeventChannel) this.pending.push([Buffer.from(`__keyevent@${db}__:${event}`), name]);
    // Changes made outside a command (none today) are published in the next turn.
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => this.flush());
    }
  }

  /** Publish what the last command (or expiry cycle) changed. */
  flush(): void {
    this.flushScheduled = false;
    if (this.pending.length === 0) return;
    const messages = this.pending;
    this.pending = [];
    const gate = this.gate();
    for (const [channel, message] of messages) this.publish(channel, message, gate);
  }
}
