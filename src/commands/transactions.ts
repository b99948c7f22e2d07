/**
 * MULTI / EXEC / DISCARD / WATCH / UNWATCH.
 *
 * Queueing happens in Talus.dispatch (commands after MULTI answer QUEUED; a
 * command rejected while queueing flags the transaction). For EXEC,
 * Talus.keyRefs declares the keys of every queued command and every WATCHed
 * key, so all of them are resident when EXEC's handler runs; the queued
 * handlers then run back to back, synchronously, which is what makes the
 * transaction atomic. Each command appends its own effects to the change log;
 * EXEC's reply as a whole waits until they are committed (one flusher batch).
 *
 * Keyless handlers may be asynchronous (CONFIG REWRITE, SAVE...). Inside EXEC
 * their synchronous part runs in order with the others, and EXEC's reply
 * waits for their results; anything such a handler does after its first await
 * is not part of the atomic step. Keyed handlers are synchronous by contract.
 *
 * WATCH keeps, per key, the Entry object and its version (and whether the key
 * was alive). The entry is pinned so eviction cannot swap it for a reloaded
 * copy. EXEC aborts (nil array) when an entry was mutated (version changed),
 * replaced or dropped (FLUSHDB/SWAPDB: another object now under that name in
 * that db index), or when a key alive at WATCH time has logically expired
 * since. Like Redis 7, keys already expired when watched do not abort EXEC by
 * merely being deleted, and FLUSHDB/SWAPDB only count for keys that exist.
 */
import type { CommandDef, Command } from './table.js';
import { ErrorReply, NULL_ARRAY, OK, type Reply } from '../protocol/reply.js';
import { Errors } from './errors.js';
import { Entry } from '../keyspace/types.js';
import type { CommandContext } from '../execution/context.js';
import { metaOnly } from '../keyspace/paging.js';
import type { ServerControl } from '../execution/context.js';
import type { Session } from '../execution/session.js';
import { noteTransactionStart } from './pubsub.js';
import { Suspended } from '../execution/suspension.js';

export function installTransactionHooks(t: ServerControl): void {
  t.sessionResetHooks.push(unwatchAll);
}

function isLive(e: Entry | undefined, now: number): boolean {
  return e !== undefined && e.type !== null && !(e.expireAt !== 0 && e.expireAt <= now);
}

/** Forget every WATCHed key of a client (EXEC, DISCARD, UNWATCH, RESET, close). */
export function unwatchAll(s: Session): void {
  for (const w of s.watching) w.entry.pins--;
  s.watching = [];
}

function watch(c: CommandContext, args: Buffer[]): Reply {
  if (c.session.multi !== null) return new ErrorReply('ERR WATCH inside MULTI is not allowed');
  const ks = c.keyspace;
  const db = c.session.db;
  const now = Date.now();
  for (let i = 1; i < args.length; i++) {
    const name = args[i]!.toString('latin1');
    if (c.session.watching.some((w) => w.db === db.index && w.name === name)) continue;
    // Known absent (the db is fully resident): a clean tombstone gives the
    // key an object whose version later writes bump.
    const e = ks.entryOf(db, name) ?? ks.watchTombstone(db, name, now);
    e.pins++;
    c.session.watching.push({ db: db.index, name, entry: e, version: watchedVersion(e), live: isLive(e, now) });
  }
  return OK;
}

/** The entry's version as WATCH sees it: without changes of representation only. */
function watchedVersion(e: Entry): number {
  return e.version - e.unwatchedVersions;
}

/** True if any WATCHed key changed since WATCH (EXEC must fail). */
export function watchTouched(c: CommandContext): boolean {
  const ks = c.keyspace;
  const now = Date.now();
  for (const w of c.session.watching) {
    const e = w.entry;
    const cur = ks.dbs[w.db]?.entries.get(w.name);
    if (watchedVersion(e) !== w.version) {
      // A key already expired when watched, then deleted as expired: no logical change.
      if (!w.live && e.type === null && watchedVersion(e) === w.version + 1 && !isLive(cur, now)) continue;
      return true;
    }
    if (cur === e) {
      if (w.live && !isLive(e, now)) return true; // expired since WATCH
      continue;
    }
    // The entry left the db without a mutation (FLUSHDB, SWAPDB): only a key
    // that existed, or one that exists now, counts as touched.
    if (w.live || isLive(cur, now)) return true;
  }
  return false;
}

function multi(c: CommandContext): Reply {
  if (c.session.multi !== null) return new ErrorReply('ERR MULTI calls can not be nested');
  c.session.multi = [];
  c.session.multiError = false;
  return OK;
}

function discard(c: CommandContext): Reply {
  if (c.session.multi === null) return new ErrorReply('ERR DISCARD without MULTI');
  c.session.multi = null;
  c.session.multiError = false;
  unwatchAll(c.session);
  return OK;
}

/** Conditions Redis re-checks for the whole transaction when EXEC arrives. */
function execTimeError(t: ServerControl, queued: Array<{ cmd: Command }>): ErrorReply | undefined {
  const writes = queued.some((q) => q.cmd.isWrite);
  if (writes && !t.persistence.healthy) return Errors.persistence(t.persistence.lastError);
  const noReplicas = writes ? t.replication.writesRefused() : undefined;
  if (noReplicas) return noReplicas;
  const v = t.config.values;
  // No eviction here: the keys of this transaction are resident but no longer
  // claimed, so evicting now could drop them from under it.
  if (
    v.maxmemoryPolicy === 'noeviction' &&
    v.maxmemory > 0 &&
    t.keyspace.bytes > v.maxmemory &&
    queued.some((q) => q.cmd.def.flags.includes('denyoom'))
  ) {
    return Errors.oom();
  }
  return undefined;
}

function exec(c: CommandContext, args: Buffer[]): Reply | Promise<Reply> {
  const t = c.server;
  if (c.session.multi === null) return new ErrorReply('ERR EXEC without MULTI');
  const queued = c.session.multi;
  const aborted = c.session.multiError;
  c.session.multi = null;
  c.session.multiError = false;
  const touched = !aborted && watchTouched(c);
  unwatchAll(c.session);
  // MONITOR shows each command after it ran, then EXEC, once the
  // transaction's effects are committed (they commit together).
  const before = t.keyspace.changelog.seq;
  noteTransactionStart(c.session, before); // PUBLISH inside waits for the writes before it
  const feedExec = () => {
    if (t.monitors.size > 0) t.feedMonitors(c.session, args, t.durabilityGate(before));
  };
  if (aborted) {
    feedExec();
    return new ErrorReply('EXECABORT Transaction discarded because of previous errors.');
  }
  if (touched) {
    feedExec();
    return NULL_ARRAY;
  }
  const err = execTimeError(t, queued);
  if (err) {
    feedExec();
    return new ErrorReply(`EXECABORT Transaction discarded because of: ${err.message}`);
  }
  return runTransaction(t, c.session, queued, 0, [], feedExec);
}

/**
 * Run the queued commands from `from` on (after `first`, the end of one
 * that was suspended). The effects go to the change log as one MULTI ...
 * EXEC (a follower applies them atomically); a keyless command of the
 * transaction that finishes later (not atomic anyway) logs after it. A
 * command that suspends (MIGRATE, execution/suspension.ts) ends the step:
 * EXEC suspends with it, its keys and every other key of the transaction
 * stay claimed, and the rest runs once it has finished, in a second group
 * of the change log (logging cannot stay open across the wait, when other
 * clients' writes are logged).
 */
function runTransaction(
  t: ServerControl, s: Session, queued: Array<{ cmd: Command; args: Buffer[] }>, from: number,
  done: Array<Reply | Promise<Reply>>, feedExec: () => void, first?: () => Reply | Promise<Reply>,
): Reply | Promise<Reply> {
  t.keyspace.beginTransactionLog();
  let replies: Array<Reply | Promise<Reply>>;
  try {
    if (first !== undefined) done = [...done, settled(first)];
    replies = t.runQueued(s, queued.slice(from));
  } finally {
    t.keyspace.endTransactionLog();
  }
  const all = [...done, ...replies];
  const last = all[all.length - 1];
  if (last instanceof Suspended) {
    const next = from + replies.length;
    return new Suspended(last.wait, (outcome) => runTransaction(t, s, queued, next, all.slice(0, -1), feedExec, () => last.resume(outcome)));
  }
  feedExec();
  if (!all.some((r) => r instanceof Promise)) return all as Reply[];
  return Promise.all(all);
}

/** A suspended command's end inside EXEC: what it throws is its reply, the transaction goes on. */
function settled(fn: () => Reply | Promise<Reply>): Reply | Promise<Reply> {
  try {
    return fn();
  } catch (err) {
    return err instanceof ErrorReply ? err : new ErrorReply(`ERR ${(err as Error).message}`);
  }
}

const TX = ['noscript', 'loading', 'stale', 'fast', 'allow_busy'] as const;

export const transactionsCommands: CommandDef[] = [
  {
    name: 'multi', arity: 1, flags: [...TX], group: 'transactions', since: '1.2.0',
    summary: 'Starts a transaction.', complexity: 'O(1)', handler: multi,
  },
  {
    name: 'exec', arity: 1, flags: ['noscript', 'loading', 'stale', 'skip_slowlog'], group: 'transactions', since: '1.2.0',
    summary: 'Executes all commands in a transaction.', complexity: 'Depends on commands in the transaction', handler: exec,
  },
  {
    name: 'discard', arity: 1, flags: [...TX], group: 'transactions', since: '2.0.0',
    summary: 'Discards a transaction.', complexity: 'O(N), when N is the number of queued commands', handler: discard,
  },
  {
    name: 'watch', arity: -2, flags: [...TX], keys: { first: 1, last: -1, step: 1 }, access: metaOnly, group: 'transactions', since: '2.2.0',
    summary: 'Monitors changes to keys to determine the execution of a transaction.',
    complexity: 'O(1) for every key.', handler: watch,
  },
  {
    name: 'unwatch', arity: 1, flags: [...TX], group: 'transactions', since: '2.2.0',
    summary: 'Forgets about watched keys of a transaction.', complexity: 'O(1)',
    handler: (c) => {
      unwatchAll(c.session);
      return OK;
    },
  },
];
