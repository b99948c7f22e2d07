/**
 * Pub/sub (Redis 7.0): SUBSCRIBE, PSUBSCRIBE, SSUBSCRIBE and their UN-,
 * PUBLISH, SPUBLISH, PUBSUB. Who listens to what is in the server's registry
 * (pubsub/registry.ts); what one client listens to is its `subscriptions`.
 *
 * Subscription confirmations and messages are pushes (ReplySink.push): they
 * go out in order after the replies already queued, and CLIENT REPLY OFF
 * does not silence them, as in Redis. A message is encoded once per protocol
 * and the same bytes are queued to every subscriber. A PUBLISH inside a
 * transaction that wrote something shows those writes: its messages wait
 * for their commit like EXEC's reply (`Executor.durabilityGate`).
 *
 * In RESP2 a client with subscriptions may only run (P|S)SUBSCRIBE,
 * (P|S)UNSUBSCRIBE, PING, QUIT and RESET (`subscribedModeError`, checked by
 * the executor's policy checks); in RESP3 anything. RESET and disconnection drop every
 * subscription silently (a reset hook).
 */
import type { CommandDef, CommandFlag } from './table.js';
import type { CommandContext, Connection, ServerControl } from '../execution/context.js';
import type { Session } from '../execution/session.js';
import type { Command } from './table.js';
import type { SubscriptionKind } from '../pubsub/registry.js';
import type { KeyRef } from '../keyspace/scheduler.js';
import { ErrorReply, PushReply, RawReply, type Reply } from '../protocol/reply.js';
import { encodeReply } from '../protocol/encoder.js';
import { globMatch } from '../util/glob.js';
import { Errors } from './errors.js';
import { helpReply } from './help.js';

const b = (s: string) => Buffer.from(s);
const latin1 = (a: Buffer) => a.toString('latin1');

/** Commands a RESP2 client may run while subscribed. */
const ALLOWED_WHILE_SUBSCRIBED = new Set(['subscribe', 'ssubscribe', 'psubscribe', 'unsubscribe', 'sunsubscribe', 'punsubscribe', 'ping', 'quit', 'reset']);

/** The error a RESP2 client in subscribed mode gets for any other command (Redis's exact text). */
export function subscribedModeError(c: Session, cmd: Command, args: Buffer[]): ErrorReply | undefined {
  if (c.protocol !== 2 || c.subscriptions.total === 0 || ALLOWED_WHILE_SUBSCRIBED.has(cmd.name)) return undefined;
  const target = cmd.subcommands.size > 0 && args.length > 1 ? cmd.subcommands.get(latin1(args[1]!).toLowerCase()) ?? cmd : cmd;
  return new ErrorReply(
    `ERR Can't execute '${target.fullName}': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context`,
  );
}

/**
 * The change-log seq when the running transaction started, per client: a
 * PUBLISH inside EXEC gates its messages on the transaction's writes so far.
 * Set by EXEC (commands/transactions.ts).
 */
const transactionStart = new WeakMap<Session, number>();

export function noteTransactionStart(c: Session, seq: number): void {
  transactionStart.set(c, seq);
}

/** What a message published inside EXEC must wait for (see the module comment). */
function publishGate(c: CommandContext): number {
  const since = transactionStart.get(c.session);
  return since === undefined ? 0 : c.server.durabilityGate(since);
}

const KIND_WORDS: Record<SubscriptionKind, { sub: Buffer; unsub: Buffer }> = {
  channel: { sub: b('subscribe'), unsub: b('unsubscribe') },
  pattern: { sub: b('psubscribe'), unsub: b('punsubscribe') },
  shard: { sub: b('ssubscribe'), unsub: b('sunsubscribe') },
};

/** The count a confirmation reports: channels + patterns, or shard channels alone (Redis 7.0). */
function reportedCount(c: Session, kind: SubscriptionKind): number {
  return kind === 'shard' ? c.subscriptions.shard.size : c.subscriptions.count;
}

/** The client is in pub/sub mode (CLIENT LIST flag P, pubsub output class, no `timeout`) while it has any subscription. */
function syncFlag(c: Session): void {
  if (c.subscriptions.total > 0) c.flags.add('pubsub');
  else c.flags.delete('pubsub');
}

/**
 * Send the confirmations. Pushes, so CLIENT REPLY OFF does not silence them;
 * the command itself then answers nothing. Inside EXEC they all take the
 * command's place in EXEC's array, as Redis writes them there (one entry
 * per confirmation, so the array says fewer entries than follow).
 */
function confirm(c: CommandContext, confirmations: Reply[]): Reply {
  const s = c.session;
  if (s.inExec) return new RawReply(Buffer.concat(confirmations.map((r) => encodeReply(r, s.protocol))));
  for (const r of confirmations) s.replies.push(r);
  const conn = c.connection;
  if (conn !== undefined) {
    if (conn.replyMode === 'skip') conn.replyMode = 'on';
    conn.suppressReply = true;
    return null;
  }
  return confirmations;
}

function subscribe(kind: SubscriptionKind) {
  return (c: CommandContext, args: Buffer[]): Reply => {
    const s = c.session;
    if (kind === 'shard' && s.inExec) return new ErrorReply("ERR SSUBSCRIBE isn't allowed for a DENY BLOCKING client");
    const registry = c.server.pubsub;
    const mine = s.subscriptions[kind];
    const out: Reply[] = [];
    for (let i = 1; i < args.length; i++) {
      const name = latin1(args[i]!);
      if (!mine.has(name)) {
        mine.add(name);
        registry.subscribe(kind, name, s);
      }
      out.push(new PushReply([KIND_WORDS[kind].sub, args[i]!, reportedCount(s, kind)]));
    }
    syncFlag(s);
    return confirm(c, out);
  };
}

function unsubscribe(kind: SubscriptionKind) {
  return (c: CommandContext, args: Buffer[]): Reply => {
    const s = c.session;
    const registry = c.server.pubsub;
    const mine = s.subscriptions[kind];
    const names = args.length > 1 ? args.slice(1).map(latin1) : [...mine];
    const out: Reply[] = [];
    for (const name of names) {
      if (mine.delete(name)) registry.unsubscribe(kind, name, s);
      out.push(new PushReply([KIND_WORDS[kind].unsub, Buffer.from(name, 'latin1'), reportedCount(s, kind)]));
    }
    if (out.length === 0) out.push(new PushReply([KIND_WORDS[kind].unsub, null, reportedCount(s, kind)]));
    syncFlag(s);
    return confirm(c, out);
  };
}

/** RESET and disconnection: forget every subscription, without confirmations. */
function dropAll(registry: ServerControl['pubsub'], c: Session): void {
  const s = c.subscriptions;
  if (s.total === 0) return;
  for (const kind of ['channel', 'pattern', 'shard'] as const) {
    for (const name of s[kind]) registry.unsubscribe(kind, name, c);
    s[kind].clear();
  }
  syncFlag(c);
}

/** One message, encoded at most once per protocol, shared by every subscriber. */
class Message {
  private readonly encoded: [RawReply | undefined, RawReply | undefined] = [undefined, undefined];

  constructor(private readonly items: Reply[]) {}

  for(protocol: 2 | 3): RawReply {
    const i = protocol - 2;
    return (this.encoded[i] ??= new RawReply(encodeReply(new PushReply(this.items), protocol)));
  }
}

/**
 * Deliver to the channel's subscribers, then to those of each matching
 * pattern; returns how many received it. `inline` (inside EXEC) collects the
 * publisher's own messages: Redis writes them inside EXEC's array, before
 * PUBLISH's own entry.
 */
export function publish(t: ServerControl, kind: 'channel' | 'shard', channel: Buffer, message: Buffer, gate: number, publisher?: Session, inline?: Buffer[]): number {
  const registry = t.pubsub;
  let receivers = 0;
  const send = (m: Message, subscribers: ReadonlySet<Session>) => {
    const spread = subscribers.size > WRITES_PER_TURN;
    for (const s of subscribers) {
      if (s === publisher && inline !== undefined) inline.push(m.for(s.protocol).bytes);
      else if (!spread || s.connection === undefined) s.replies.push(m.for(s.protocol), gate);
      else {
        s.replies.push(m.for(s.protocol), gate, false);
        writeLater(t, s.connection);
      }
    }
    receivers += subscribers.size;
  };
  const direct = registry.subscribers(kind, latin1(channel));
  if (direct !== undefined) send(new Message([kind === 'shard' ? SMESSAGE : MESSAGE, channel, message]), direct);
  if (kind === 'channel') {
    for (const [pattern, subscribers] of registry.matchingPatterns(channel)) {
      send(new Message([PMESSAGE, Buffer.from(pattern, 'latin1'), channel, message]), subscribers);
    }
  }
  return receivers;
}

function publishCommand(kind: 'channel' | 'shard') {
  return (c: CommandContext, args: Buffer[]): Reply => {
    if (!c.session.inExec) return publish(c.server, kind, args[1]!, args[2]!, 0);
    const inline: Buffer[] = [];
    const n = publish(c.server, kind, args[1]!, args[2]!, publishGate(c), c.session, inline);
    if (inline.length === 0) return n;
    inline.push(encodeReply(n, c.session.protocol));
    return new RawReply(Buffer.concat(inline));
  };
}

/**
 * Socket writes per event-loop turn for a big fan-out. A message is queued to
 * every subscriber at once (in order with everything else they get), but a
 * write to a loopback socket costs tens of microseconds: 10,000 of them in
 * one turn would hold every other client for hundreds of ms. So subscribers
 * beyond this many are written in batches of this size, other clients'
 * requests running in between (a subscriber whose reply goes out meanwhile
 * writes its queued messages first).
 */
const WRITES_PER_TURN = 128;

/** Subscribers with queued messages not yet written, per server, in publish order. */
const toWrite = new WeakMap<ServerControl, Set<Connection>>();

function writeLater(t: ServerControl, c: Connection): void {
  let queue = toWrite.get(t);
  if (queue === undefined) {
    queue = new Set();
    toWrite.set(t, queue);
  }
  if (queue.size === 0) setImmediate(() => writeBatch(queue));
  queue.add(c);
}

function writeBatch(queue: Set<Connection>): void {
  let n = 0;
  for (const c of queue) {
    queue.delete(c);
    c.flushOutput();
    if (++n === WRITES_PER_TURN) break;
  }
  if (queue.size > 0) setImmediate(() => writeBatch(queue));
}

const MESSAGE = b('message');
const PMESSAGE = b('pmessage');
const SMESSAGE = b('smessage');

/** PUBSUB CHANNELS / SHARDCHANNELS [pattern] */
function channels(kind: 'channel' | 'shard') {
  return (c: CommandContext, args: Buffer[]): Reply => {
    if (args.length > 3) return Errors.subcommandSyntax(args[1]!, 'pubsub');
    const pattern = args[2];
    const out: Buffer[] = [];
    for (const name of c.server.pubsub.names(kind)) {
      const bytes = Buffer.from(name, 'latin1');
      if (pattern === undefined || globMatch(pattern, bytes)) out.push(bytes);
    }
    return out;
  };
}

/** PUBSUB NUMSUB / SHARDNUMSUB [channel ...]: channel, count, ... (an array in both protocols, as in Redis 7.0) */
function numsub(kind: 'channel' | 'shard') {
  return (c: CommandContext, args: Buffer[]): Reply => {
    const out: Reply[] = [];
    for (let i = 2; i < args.length; i++) out.push(args[i]!, c.server.pubsub.subscribers(kind, latin1(args[i]!))?.size ?? 0);
    return out;
  };
}

const HELP = [
  'CHANNELS [<pattern>]',
  "    Return the currently active channels matching a <pattern> (default: '*').",
  'NUMPAT',
  '    Return number of subscriptions to patterns.',
  'NUMSUB [<channel> ...]',
  '    Return the number of subscribers for the specified channels, excluding',
  '    pattern subscriptions(default: no channels).',
  'SHARDCHANNELS [<pattern>]',
  "    Return the currently active shard level channels matching a <pattern> (default: '*').",
  'SHARDNUMSUB [<shardchannel> ...]',
  '    Return the number of subscribers for the specified shard level channel(s)',
];

const SUB_FLAGS: CommandFlag[] = ['pubsub', 'noscript', 'loading', 'stale'];
/**
 * Shard channels are not keys: their key specs (COMMAND INFO, from the spec
 * data) say not_key, and this hook makes nothing resident for them.
 */
const noKeys = (): KeyRef[] => [];
const PUBLISH_FLAGS: CommandFlag[] = ['pubsub', 'loading', 'stale', 'fast', 'may_replicate'];
const INTROSPECTION: CommandFlag[] = ['pubsub', 'loading', 'stale'];

export const pubsubCommands: CommandDef[] = [
  {
    name: 'subscribe', arity: -2, flags: SUB_FLAGS, group: 'pubsub', since: '2.0.0',
    summary: 'Listen for messages published to the given channels', complexity: 'O(N) where N is the number of channels to subscribe to.',
    handler: subscribe('channel'),
  },
  {
    name: 'unsubscribe', arity: -1, flags: SUB_FLAGS, group: 'pubsub', since: '2.0.0',
    summary: 'Stop listening for messages posted to the given channels', complexity: 'O(N) where N is the number of clients already subscribed to a channel.',
    handler: unsubscribe('channel'),
  },
  {
    name: 'psubscribe', arity: -2, flags: SUB_FLAGS, group: 'pubsub', since: '2.0.0',
    summary: 'Listen for messages published to channels matching the given patterns', complexity: 'O(N) where N is the number of patterns the client is already subscribed to.',
    handler: subscribe('pattern'),
  },
  {
    name: 'punsubscribe', arity: -1, flags: SUB_FLAGS, group: 'pubsub', since: '2.0.0',
    summary: 'Stop listening for messages posted to channels matching the given patterns',
    complexity: 'O(N+M) where N is the number of patterns the client is already subscribed and M is the number of total patterns subscribed in the system (by any client).',
    handler: unsubscribe('pattern'),
  },
  {
    name: 'ssubscribe', arity: -2, flags: SUB_FLAGS, group: 'pubsub', since: '7.0.0',
    summary: 'Listen for messages published to the given shard channels', complexity: 'O(N) where N is the number of shard channels to subscribe to.',
    keyRefs: noKeys, handler: subscribe('shard'),
  },
  {
    name: 'sunsubscribe', arity: -1, flags: SUB_FLAGS, group: 'pubsub', since: '7.0.0',
    summary: 'Stop listening for messages posted to the given shard channels', complexity: 'O(N) where N is the number of clients already subscribed to a shard channel.',
    keyRefs: noKeys, handler: unsubscribe('shard'),
  },
  {
    name: 'publish', arity: 3, flags: PUBLISH_FLAGS, group: 'pubsub', since: '2.0.0',
    summary: 'Post a message to a channel',
    complexity: 'O(N+M) where N is the number of clients subscribed to the receiving channel and M is the total number of subscribed patterns (by any client).',
    handler: publishCommand('channel'),
  },
  {
    name: 'spublish', arity: 3, flags: PUBLISH_FLAGS, group: 'pubsub', since: '7.0.0',
    summary: 'Post a message to a shard channel', complexity: 'O(N) where N is the number of clients subscribed to the receiving shard channel.',
    keyRefs: noKeys, handler: publishCommand('shard'),
  },
  {
    name: 'pubsub', arity: -2, flags: [], group: 'pubsub', since: '2.8.0',
    summary: 'A container for Pub/Sub commands', complexity: 'Depends on subcommand.',
    subcommands: [
      {
        name: 'channels', arity: -2, flags: INTROSPECTION, group: 'pubsub', since: '2.8.0', summary: 'List active channels',
        complexity: 'O(N) where N is the number of active channels, and assuming constant time pattern matching (relatively short channels and patterns)',
        handler: channels('channel'),
      },
      {
        name: 'numsub', arity: -2, flags: INTROSPECTION, group: 'pubsub', since: '2.8.0', summary: 'Get the count of subscribers for channels',
        complexity: 'O(N) for the NUMSUB subcommand, where N is the number of requested channels',
        handler: numsub('channel'),
      },
      {
        name: 'numpat', arity: 2, flags: INTROSPECTION, group: 'pubsub', since: '2.8.0', summary: 'Get the count of unique patterns pattern subscriptions',
        complexity: 'O(1)', handler: (c) => c.server.pubsub.count('pattern'),
      },
      {
        name: 'shardchannels', arity: -2, flags: INTROSPECTION, group: 'pubsub', since: '7.0.0', summary: 'List active shard channels',
        complexity: 'O(N) where N is the number of active shard channels, and assuming constant time pattern matching (relatively short shard channels).',
        handler: channels('shard'),
      },
      {
        name: 'shardnumsub', arity: -2, flags: INTROSPECTION, group: 'pubsub', since: '7.0.0', summary: 'Get the count of subscribers for shard channels',
        complexity: 'O(N) for the SHARDNUMSUB subcommand, where N is the number of requested shard channels',
        handler: numsub('shard'),
      },
      {
        name: 'help', arity: 2, flags: ['loading', 'stale'], group: 'pubsub', since: '6.2.0',
        summary: 'Show helpful text about the different subcommands', complexity: 'O(1)', handler: () => helpReply('PUBSUB', HELP),
      },
    ],
  },
];

/** Subscriptions end with RESET and with the connection. */
export function installPubsubHooks(t: ServerControl): void {
  t.sessionResetHooks.push((s) => dropAll(t.pubsub, s));
}
