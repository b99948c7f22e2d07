import { globMatch } from '../util/glob.js';

/** What matchingPatterns returns without patterns: shared, so a PUBLISH allocates no array for it. */
const NO_MATCHES: Array<[string, ReadonlySet<never>]> = [];

/** The three namespaces of Redis 7.0 pub/sub: channels, patterns, shard channels. */
export type SubscriptionKind = 'channel' | 'pattern' | 'shard';

/**
 * Who listens to what, server-wide: channel, pattern and shard channel names
 * (latin1 strings: one char per byte, binary-safe) to their subscribers, in
 * subscription order. It knows nothing of sockets or protocols: a subscriber
 * is any object (a client), and the caller delivers what `receivers` finds.
 */
export class PubSubRegistry<S> {
  private readonly byKind: Record<SubscriptionKind, Map<string, Set<S>>> = {
    channel: new Map(),
    pattern: new Map(),
    shard: new Map(),
  };
  /** patterns as bytes, matched against every published channel */
  private readonly patternBytes = new Map<string, Buffer>();

  /** Adds `s` to `name`; false if it was already there. */
  subscribe(kind: SubscriptionKind, name: string, s: S): boolean {
    const map = this.byKind[kind];
    let set = map.get(name);
    if (set === undefined) {
      set = new Set();
      map.set(name, set);
      if (kind === 'pattern') this.patternBytes.set(name, Buffer.from(name, 'latin1'));
    }
    if (set.has(s)) return false;
    set.add(s);
    return true;
  }

  /** Removes `s` from `name`; false if it was not there. A name left without subscribers is forgotten. */
  unsubscribe(kind: SubscriptionKind, name: string, s: S): boolean {
    const map = this.byKind[kind];
    const set = map.get(name);
    if (set === undefined || !set.delete(s)) return false;
    if (set.size === 0) {
      map.delete(name);
      if (kind === 'pattern') this.patternBytes.delete(name);
    }
    return true;
  }

  /** Subscribers of one name (channel, pattern or shard channel). */
  subscribers(kind: SubscriptionKind, name: string): ReadonlySet<S> | undefined {
    return this.byKind[kind].get(name);
  }

  /** Names with at least one subscriber. */
  names(kind: SubscriptionKind): IterableIterator<string> {
    return this.byKind[kind].keys();
  }

  count(kind: SubscriptionKind): number {
    return this.byKind[kind].size;
  }

  /**
   * The patterns matching `channel`, with their subscribers. Every pattern is
   * tried, as in Redis; globMatch is iterative and O(pattern * channel), so a
   * pathological pattern (`*a*a*a*...b`) costs a bounded amount per message.
   */
  matchingPatterns(channel: Buffer): Array<[pattern: string, subscribers: ReadonlySet<S>]> {
    if (this.patternBytes.size === 0) return NO_MATCHES;
    const out: Array<[string, ReadonlySet<S>]> = [];
    for (const [name, bytes] of this.patternBytes) {
      if (globMatch(bytes, channel)) out.push([name, this.byKind.pattern.get(name)!]);
    }
    return out;
  }
}

/**
 * One client's subscriptions (the only pub/sub state a client holds), in
 * subscription order: what UNSUBSCRIBE without arguments walks, and what
 * CLIENT LIST's sub/psub/ssub count.
 */
export class Subscriptions {
  readonly channel = new Set<string>();
  readonly pattern = new Set<string>();
  readonly shard = new Set<string>();

  /** Channels and patterns: the count SUBSCRIBE/PSUBSCRIBE (and their UN-) report. */
  get count(): number {
    return this.channel.size + this.pattern.size;
  }

  /** Everything, shard channels too: the client is in pub/sub mode while this is over 0. */
  get total(): number {
    return this.channel.size + this.pattern.size + this.shard.size;
  }
}
