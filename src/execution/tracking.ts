/**
 * Client-side caching (CLIENT TRACKING), as Redis 7.0 does it.
 *
 * Default mode: the keys a tracking client reads (read-only commands; the
 * executor calls `remember` after each one) go into the tracking table, key
 * name -> ids of the clients that read it. When the mutation seam reports a
 * key changed, each of those clients gets one invalidation for it and the key
 * leaves the table (it is remembered again when read again). Like Redis, the
 * table is keyed by name alone: a change in any db invalidates the name.
 *
 * BCAST mode: nothing is remembered; every changed key matching one of a
 * client's prefixes is collected per prefix and sent as one invalidation per
 * prefix in the next event-loop turn (Redis sends them before sleeping).
 *
 * FLUSHDB, FLUSHALL (and SWAPDB, which Redis lets pass) send every tracking
 * client a null invalidation and empty the table.
 *
 * Delivery: a RESP3 client (or the client it redirects to) gets a push
 * `invalidate`; a RESP2 redirect target in pub/sub mode gets a message on
 * `__redis__:invalidate`. Everything an invalidation shows is a write: it goes
 * out after the command that made it, gated on that write's durability.
 */
import type { Mutation } from '../keyspace/events.js';
import { RawReply } from '../protocol/reply.js';
import type { Session } from './session.js';

/** One client's tracking state (Session.tracking). */
export class ClientTracking {
  on = false;
  bcast = false;
  optin = false;
  optout = false;
  noloop = false;
  /** CLIENT CACHING YES (optin) / NO (optout) given for the next command or transaction */
  caching = false;
  /** client id invalidations go to; 0 = this client */
  redirect = 0;
  /** the redirect target was gone when a message was due (CLIENT LIST flag R) */
  brokenRedirect = false;
  /** BCAST prefixes (latin1), in the order given */
  readonly prefixes = new Set<string>();

  /** Whether the keys of the command now ending are remembered (OPTIN/OPTOUT with CLIENT CACHING). */
  get remembersReads(): boolean {
    if (!this.on || this.bcast) return false;
    if (this.optin) return this.caching;
    if (this.optout) return !this.caching;
    return true;
  }
}

export interface TrackingOptions {
  redirect: number;
  bcast: boolean;
  optin: boolean;
  optout: boolean;
  noloop: boolean;
  prefixes: string[];
}

/** A BCAST prefix: its clients and the keys changed under it since the last broadcast (-> first writer). */
interface PrefixState {
  clients: Set<Session>;
  keys: Map<string, Session | undefined>;
}

/** What tracking needs of the server around it. */
export interface TrackingHost {
  session(id: number): Session | undefined;
  /** the gate of everything changed so far (Executor.durabilityGate of what is not durable) */
  gate(): number;
  maxKeys(): number;
}

const INVALIDATE_HEAD = Buffer.from('>2\r\n$10\r\ninvalidate\r\n');
const CHANNEL_HEAD = Buffer.from('*3\r\n$7\r\nmessage\r\n$20\r\n__redis__:invalidate\r\n');
const REDIR_BROKEN = Buffer.from('>2\r\n$21\r\ntracking-redir-broken\r\n');
const NULLS = { 2: Buffer.from('$-1\r\n'), 3: Buffer.from('_\r\n') } as const;

export class Tracking {
  /** key -> ids of clients that read it (default mode) */
  private readonly table = new Map<string, Set<number>>();
  /** client ids summed over every key of the table (INFO tracking_total_items) */
  private items = 0;
  private readonly prefixTable = new Map<string, PrefixState>();
  /** tracking clients, for flush invalidations and INFO tracking_clients */
  private readonly clients = new Set<Session>();
  /** the session whose command runs now (NOLOOP; its own invalidations go after its reply) */
  current: Session | undefined;
  /** invalidations of the command now running, sent when it ends (`flush`): key null = everything */
  private pending: Array<[Session, string | null]> = [];
  private flushScheduled = false;
  private broadcastScheduled = false;
  /** rounds in a row the table stayed over tracking-table-max-keys (more effort each time, like Redis) */
  private overLimitRounds = 0;

  constructor(private readonly host: TrackingHost) {}

  get clientCount(): number {
    return this.clients.size;
  }

  get totalKeys(): number {
    return this.table.size;
  }

  get totalItems(): number {
    return this.items;
  }

  get totalPrefixes(): number {
    return this.prefixTable.size;
  }

  /**
   * CLIENT TRACKING ON (options checked by the caller). Like Redis, ON again
   * keeps the prefixes given before and adds the new ones.
   */
  enable(s: Session, o: TrackingOptions): void {
    const t = s.tracking;
    this.clients.add(s);
    t.on = true;
    t.brokenRedirect = false;
    t.redirect = o.redirect;
    t.bcast = o.bcast;
    t.optin = o.optin;
    t.optout = o.optout;
    t.noloop = o.noloop;
    if (o.bcast) {
      for (const p of o.prefixes.length === 0 ? [''] : o.prefixes) {
        if (t.prefixes.has(p)) continue;
        t.prefixes.add(p);
        let state = this.prefixTable.get(p);
        if (state === undefined) this.prefixTable.set(p, (state = { clients: new Set(), keys: new Map() }));
        state.clients.add(s);
      }
    }
  }

  /** CLIENT TRACKING OFF, RESET, disconnection. Keys it read stay in the table until changed, as in Redis. */
  disable(s: Session): void {
    const t = s.tracking;
    for (const p of t.prefixes) {
      const state = this.prefixTable.get(p);
      if (state === undefined) continue;
      state.clients.delete(s);
      if (state.clients.size === 0) this.prefixTable.delete(p);
    }
    t.prefixes.clear();
    this.clients.delete(s);
    t.on = t.bcast = t.optin = t.optout = t.noloop = t.caching = t.brokenRedirect = false;
    t.redirect = 0;
  }

  /** A read-only command of `s` read `key` (the caller checked `remembersReads`). */
  remember(s: Session, key: string): void {
    let ids = this.table.get(key);
    if (ids === undefined) this.table.set(key, (ids = new Set()));
    if (!ids.has(s.id)) {
      ids.add(s.id);
      this.items++;
    }
  }

  /** A change reported at the mutation seam (Keyspace.mutationListeners). */
  onMutation(m: Mutation): void {
    if (m.key === null) {
      this.invalidateAll();
      return;
    }
    if (m.event === 'new') return; // the command reports its own event for the key too
    if (this.prefixTable.size > 0) this.noteForBroadcast(m.key);
    this.invalidate(m.key, this.current);
  }

  /** The key changed (or left the table): every client that read it hears of it once. */
  private invalidate(key: string, writer: Session | undefined): void {
    const ids = this.table.get(key);
    if (ids === undefined) return;
    for (const id of ids) {
      const target = this.host.session(id);
      if (target === undefined || !target.tracking.on || target.tracking.bcast) continue;
      if (target.tracking.noloop && target === writer) continue;
      this.queue(target, key);
    }
    this.items -= ids.size;
    this.table.delete(key);
  }

  private invalidateAll(): void {
    for (const s of this.clients) this.queue(s, null);
    this.table.clear();
    this.items = 0;
  }

  private queue(s: Session, key: string | null): void {
    this.pending.push([s, key]);
    // Changes made outside a command (active expiry) go out in the next turn.
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => this.flush());
    }
  }

  private noteForBroadcast(key: string): void {
    for (const [prefix, state] of this.prefixTable) {
      if (!key.startsWith(prefix)) continue;
      if (!state.keys.has(key)) state.keys.set(key, this.current);
      if (!this.broadcastScheduled) {
        this.broadcastScheduled = true;
        setImmediate(() => this.broadcast());
      }
    }
  }

  /** Send what the command that just ended invalidated (after its reply: the executor calls this once it is queued). */
  flush(): void {
    this.flushScheduled = false;
    if (this.pending.length === 0) return;
    const pending = this.pending;
    this.pending = [];
    const gate = this.host.gate();
    for (const [s, key] of pending) {
      if (!s.tracking.on) continue;
      this.send(s, key === null ? NULLS[s.protocol] : encodeKeys([key]), gate);
    }
  }

  /** BCAST: one message per prefix with every key changed under it since the last broadcast. */
  private broadcast(): void {
    this.broadcastScheduled = false;
    const gate = this.host.gate();
    for (const state of this.prefixTable.values()) {
      if (state.keys.size === 0) continue;
      let all: Buffer | undefined;
      for (const s of state.clients) {
        if (s.tracking.noloop) {
          const keys: string[] = [];
          for (const [key, writer] of state.keys) if (writer !== s) keys.push(key);
          if (keys.length > 0) this.send(s, encodeKeys(keys), gate);
        } else {
          this.send(s, (all ??= encodeKeys([...state.keys.keys()])), gate);
        }
      }
      state.keys.clear();
    }
  }

  /** One invalidation for `s` (the keys part encoded already), to it or to its redirect target. */
  private send(s: Session, payload: Buffer, gate: number): void {
    const t = s.tracking;
    let target = s;
    const redirecting = t.redirect !== 0;
    if (redirecting) {
      const redirected = this.host.session(t.redirect);
      if (redirected === undefined) {
        t.brokenRedirect = true;
        if (s.protocol === 3) s.replies.push(new RawReply(Buffer.concat([REDIR_BROKEN, Buffer.from(`:${t.redirect}\r\n`)])), gate);
        return;
      }
      target = redirected;
    }
    if (target.protocol === 3) target.replies.push(new RawReply(Buffer.concat([INVALIDATE_HEAD, payload])), gate);
    else if (redirecting && target.flags.has('pubsub')) target.replies.push(new RawReply(Buffer.concat([CHANNEL_HEAD, payload])), gate);
    // else: a RESP2 connection cannot take pushes; nothing is sent, as in Redis
  }

  /**
   * tracking-table-max-keys: over the limit, keys leave the table (their
   * readers are invalidated), a few hundred per call, more while it stays
   * over, as Redis does before each command. Redis picks keys at random;
   * here the oldest go first.
   */
  limit(): void {
    const max = this.host.maxKeys();
    if (max === 0 || this.table.size <= max) {
      this.overLimitRounds = 0;
      return;
    }
    let effort = 100 * (this.overLimitRounds + 1);
    for (const key of this.table.keys()) {
      if (effort-- <= 0) break;
      this.invalidate(key, undefined);
      if (this.table.size <= max) {
        this.overLimitRounds = 0;
        return;
      }
    }
    this.overLimitRounds++;
  }
}

/** The keys part of an invalidation: an array of bulk strings (same bytes in RESP2 and RESP3). */
function encodeKeys(keys: string[]): Buffer {
  let out = `*${keys.length}\r\n`;
  for (const k of keys) out += `$${Buffer.byteLength(k, 'latin1')}\r\n${k}\r\n`;
  return Buffer.from(out, 'latin1');
}
