/**
 * The one executor: every command runs through here, whoever asks for it (a
 * connection's request, EXEC's queued commands, a client woken from a
 * blocking wait; later scripts and the replication applier). It checks
 * policy, queues inside MULTI, makes the keys resident, calls the handler,
 * accounts for it (stats, slow log, latency, MONITOR) and hands the reply
 * over gated on durability. No other code calls a handler.
 *
 * `performance` is imported rather than taken from the global object: the
 * global is a lazy accessor, a getter call on each of the two clock reads
 * every command makes.
 */
import { performance } from 'node:perf_hooks';
import { subcommandOf, type CommandTable, type Command, type Handler } from '../commands/table.js';
import { Errors } from '../commands/errors.js';
import { ErrorReply, QUEUED, SimpleString, type Reply } from '../protocol/reply.js';
import { requestBytes } from '../protocol/parser.js';
import type { ConfigStore } from '../config/store.js';
import type { Keyspace } from '../keyspace/keyspace.js';
import type { Scheduler, KeyRef } from '../keyspace/scheduler.js';
import { META, WHOLE, mergeAccess, streamed, type Access } from '../keyspace/paging.js';
import type { Loader } from '../storage/loader.js';
import type { Flusher } from '../storage/flusher.js';
import type { Logger } from '../observability/logger.js';
import type { Slowlog } from '../observability/slowlog.js';
import type { LatencyMonitor } from '../observability/latency.js';
import type { LatencyTracker } from '../observability/latency-histogram.js';
import { BLOCKED, type Blocking } from './blocking.js';
import { Suspended } from './suspension.js';
import type { CommandContext, Connection, ReplySink, ServerControl, ServerStats } from './context.js';
import { Session } from './session.js';
import { subscribedModeError } from '../commands/pubsub.js';
import type { KeyspaceNotifier } from '../pubsub/keyspace-events.js';
import type { Tracking } from './tracking.js';
import { unwatchAll } from '../commands/transactions.js';
import { allowedWhileBusy, type ScriptRun, type Scripting } from './scripting.js';
import type { Acl, Denial } from './acl.js';
import { forgetKeyName, keyName } from '../keyspace/names.js';

/** What the executor uses of the server it runs in. */
export interface ExecutionHost {
  readonly acl: Acl;
  readonly log: Logger;
  readonly config: ConfigStore;
  readonly commands: CommandTable;
  readonly keyspace: Keyspace;
  readonly scheduler: Scheduler;
  readonly loader: Loader;
  readonly flusher: Flusher;
  readonly blocking: Blocking;
  readonly slowlog: Slowlog;
  readonly latency: LatencyMonitor;
  readonly latencyTracker: LatencyTracker;
  readonly stats: ServerStats;
  readonly errorCounts: Map<string, number>;
  readonly monitors: Set<Session>;
  readonly notifier: KeyspaceNotifier;
  /** client-side caching: what tracking clients read, invalidated at the mutation seam */
  readonly tracking: Tracking;
  readonly pauseGate: ((s: Session, cmd: Command, args: Buffer[]) => boolean) | undefined;
  evict(maxScan?: number): void;
  /** replication's refusals: READONLY on followers, MASTERDOWN, LOADING during a full sync */
  replicationRefusal(s: Session, cmd: Command, args: Buffer[]): ErrorReply | undefined;
}

export class Executor {
  /** Keyspace.stats.unplanned when last checked (checkReported) */
  private unplannedSeen = 0;
  /** EVAL and friends (set once the Lua engine is up: Talus.start) */
  scripting: Scripting | undefined;
  /** the session scripts run their commands as */
  scriptSession: Session | undefined;

  constructor(
    private readonly host: ExecutionHost,
    private readonly server: ServerControl,
  ) {}

  /** A new session and its handlers' context; `connection` is undefined for sessions without a socket. */
  openSession(id: number, replies: ReplySink, connection?: Connection): Session {
    const h = this.host;
    const s = new Session(id, h.keyspace.dbs[0]!, h.acl.defaultAuthenticates(), replies, connection);
    const context: CommandContext = { session: s, connection, keyspace: h.keyspace, config: h.config, server: this.server };
    s.context = context;
    return s;
  }

  /** EXEC: run the queued commands back to back, each accounted like a command of its own. */
  runQueued(c: Session, queued: ReadonlyArray<{ cmd: Command; args: Buffer[] }>): Array<Reply | Promise<Reply>> {
    const replies: Array<Reply | Promise<Reply>> = [];
    const before = this.host.keyspace.changelog.seq;
    c.inExec = true;
    try {
      for (const q of queued) {
        // rules may have changed since the command was queued (Redis checks again)
        const denied = this.aclDenial(c, q.cmd, q.args, 'multi');
        if (denied !== undefined) {
          const r = new ErrorReply(`NOPERM ACLs rules changed between the moment the transaction was accumulated and the EXEC call. This command is no longer allowed for the following reason: ${EXEC_NOPERM[denied]}`);
          this.countError(r);
          replies.push(r);
          continue;
        }
        const reply = this.callQueued(c, q.cmd, q.args);
        replies.push(reply);
        if (this.host.monitors.size > 0 && q.cmd.shownToMonitor) {
          this.feedMonitors(c, q.args, this.durabilityGate(before));
        }
        // the rest runs once it has finished (commands/transactions.ts): the transaction stays in order
        if (reply instanceof Suspended) break;
      }
    } finally {
      c.inExec = false;
    }
    return replies;
  }

  private callQueued(c: Session, cmd: Command, args: Buffer[]): Reply | Promise<Reply> {
    const started = performance.now();
    const r = this.call(c, cmd, args);
    if (r instanceof Suspended) {
      // accounted when it finishes, with the time it waited
      return new Suspended(r.wait, (outcome) => {
        const x = r.resume(outcome);
        if (x instanceof Promise) return x.then((done) => (this.account(c, cmd, args, done, started), done));
        this.account(c, cmd, args, x, started);
        return x;
      });
    }
    if (r instanceof Promise) {
      return r.then((x) => {
        this.account(c, cmd, args, x, started);
        return x;
      });
    }
    this.account(c, cmd, args, r, started);
    return r;
  }

  /** Call a handler; what it throws becomes its error reply. The only caller of handlers. */
  call(c: Session, cmd: Command, args: Buffer[], script?: ScriptRun): Reply | Promise<Reply> {
    let reply: Reply | Promise<Reply>;
    c.writing = cmd.isWrite;
    const tracking = this.host.tracking;
    // A script's commands are its caller's to client tracking (NOLOOP, the keys it reads).
    tracking.current = script?.caller ?? c;
    // The replication applier sees keys a follower hides as expired: the leader's DEL removes them.
    this.host.keyspace.applying = c.flags.has('master');
    try {
      const handler = handlerFor(cmd, args);
      reply = handler instanceof ErrorReply ? handler : handler(c.context, args);
    } catch (err) {
      reply = toErrorReply(err, this.host.log);
    }
    tracking.current = undefined;
    this.host.keyspace.applying = false;
    if (script === undefined) {
      // A read-only script (EVAL_RO...) is tracked by the commands it runs, not by itself (as Redis).
      if (c.tracking.remembersReads && !RUNS_SCRIPTS.has(cmd.name)) this.rememberReads(c, cmd, args);
    } else if (script.caller.tracking.remembersReads && trackedRead(cmd, args) !== undefined) {
      // As Redis: a script that reads tracks the keys it declared, for its caller.
      for (const key of this.declaredKeys(script.command)) tracking.remember(script.caller, key.toString('latin1'));
    }
    this.afterChanges(cmd.fullName);
    if (reply instanceof Promise) return reply.catch((err: unknown) => toErrorReply(err, this.host.log));
    return reply;
  }

  /**
   * redis.call from a running script: checked as Redis checks a script's
   * commands, then run like a command of its own (accounted, shown to
   * MONITOR, its changes reported at the seam). A key that is not resident
   * (a script may reach keys it did not declare) gives a wait: the script
   * pauses until it is loaded and calls again; nothing else runs meanwhile.
   */
  callFromScript(s: Session, args: Buffer[], run: ScriptRun): Reply | { readonly wait: Promise<void> } {
    const cmd = this.host.commands.lookup(args[0]!);
    if (cmd === undefined) return new ErrorReply('ERR Unknown Redis command called from script');
    if (!cmd.arityOk(args.length)) return new ErrorReply('ERR Wrong number of args calling Redis command from script');
    if (cmd.isNoScript) return new ErrorReply('ERR This Redis command is not allowed from script');
    // a script holds the whole server: it cannot wait for another one (MIGRATE's target)
    if (cmd.def.suspends) return new ErrorReply('ERR Talus cannot wait for this command inside a script');
    const denied = this.aclDenial(s, cmd, args, 'lua', run.caller, run.command);
    if (denied !== undefined) return new ErrorReply(`ERR ${SCRIPT_NOPERM[denied]}`);
    if (run.readOnly && cmd.mayReplicate) return new ErrorReply('ERR Write commands are not allowed from read-only scripts.');
    // a read-only follower refuses a script's writes as its caller's (READONLY; MASTERDOWN, LOADING)
    const refused = this.host.replicationRefusal(run.caller, cmd, args);
    if (refused !== undefined) return refused;
    if (cmd.isWrite) {
      if (!this.host.flusher.healthy) return Errors.persistence(this.host.flusher.lastError);
      const v = this.host.config.values;
      // like Redis: only before the script's first write (it cannot be stopped half way)
      if (!run.allowOom && !run.wrote && cmd.isDenyOom && v.maxmemory > 0 && this.host.keyspace.bytes > v.maxmemory && v.maxmemoryPolicy === 'noeviction') {
        return Errors.oom();
      }
    }
    const settled = run.settled;
    if (settled !== undefined) {
      run.settled = undefined;
      if (settled.reply !== undefined && sameArgs(settled.args, args)) return settled.reply;
    }
    let refs: KeyRef[];
    try {
      refs = this.keyRefs(s, cmd, args, true);
    } catch (err) {
      return toErrorReply(err, this.host.log);
    }
    const loader = this.host.loader;
    let missing: Array<Promise<void>> | undefined;
    // (a copy for the read: the refs may be the scratch one, used again by the next call)
    for (const r of refs) if (!loader.holds(r)) (missing ??= []).push(loader.read({ ...r }));
    if (missing !== undefined) return { wait: Promise.all(missing).then(() => undefined) };
    if (cmd.isWrite) run.wrote = true;
    const before = this.host.keyspace.changelog.seq;
    const started = performance.now();
    s.inExec = true; // blocking commands answer at once
    let reply = this.call(s, cmd, args, run);
    s.inExec = false;
    if (reply instanceof Promise && !cmd.isWrite) {
      // a read that answers later (KEYS reading cold keys from PostgreSQL): the script pauses as for
      // a key load (nothing else runs meanwhile, so the answer stays true) and takes it when it calls again
      const later: { args: Buffer[]; reply?: Reply } = { args };
      run.settled = later;
      const done = (r: Reply) => {
        later.reply = r;
        this.account(s, cmd, args, r, started);
      };
      return { wait: reply.then(done, (err: unknown) => done(toErrorReply(err, this.host.log))) };
    }
    if (reply instanceof Promise) {
      reply.catch(() => undefined);
      reply = new ErrorReply('ERR Talus cannot wait for this command inside a script');
    }
    this.account(s, cmd, args, reply, started);
    if (this.host.monitors.size > 0 && cmd.shownToMonitor) {
      this.feedMonitors(s, args, this.durabilityGate(before));
    }
    return reply;
  }

  /** keyRefs' transient answer for a command of one key (filled in on each use) */
  private scratchRefs: [KeyRef] | undefined;

  /** The keys a script's command (EVAL, FCALL...) declared, as its command's key finder names them. */
  private declaredKeys(command: readonly Buffer[]): Buffer[] {
    const args = command as Buffer[];
    if (args.length === 0) return [];
    const cmd = this.host.commands.lookup(args[0]!);
    return cmd === undefined ? [] : cmd.keyIndices(args).map((i) => args[i]!);
  }

  /** Client tracking: the keys a read-only command of a tracking client read go into the tracking table. */
  private rememberReads(c: Session, cmd: Command, args: Buffer[]): void {
    const target = trackedRead(cmd, args);
    if (target === undefined) return;
    let indices: number[];
    try {
      indices = target.keyIndices(args);
    } catch {
      return; // arguments its key finder cannot parse (e.g. a bad numkeys): the command failed and read nothing
    }
    const tracking = this.host.tracking;
    for (const i of indices) tracking.remember(c, args[i]!.toString('latin1'));
  }

  /**
   * Every key a command changed must have been reported at the mutation seam
   * (Keyspace.report): what was not is missing from the change log, so a
   * follower or a restore would diverge. A bug, logged and counted (INFO
   * unreported_mutations).
   */
  private checkReported(what: string): void {
    const ks = this.host.keyspace;
    const missed = ks.takeUnreported();
    if (missed.length > 0) {
      const names = missed.slice(0, 3).map((e) => JSON.stringify(e.name)).join(', ');
      this.host.log.warning(`${what} changed ${missed.length} key(s) without reporting them (${names}): the change log misses them`);
    }
    // Same kind of bug, on the planning side: a key touched before it was resident.
    if (ks.stats.unplanned !== this.unplannedSeen) {
      this.host.log.warning(`${what} touched ${ks.stats.unplanned - this.unplannedSeen} key(s) that were not resident (last: ${ks.lastUnplanned}): taken for absent without asking PostgreSQL`);
      this.unplannedSeen = ks.stats.unplanned;
    }
  }

  /**
   * A blocked command's retry (execution/blocking.ts): runs like a handler,
   * synchronously on resident keys; errors become its reply.
   */
  callContinuation(c: Session, fn: () => Reply | undefined, what: string): Reply | undefined {
    return this.runLikeHandler(c, true, what, fn); // blocking commands pop and move: writes
  }

  /** Run `fn` as a handler runs: errors become its reply, its changes are checked and notified as `what`'s. */
  private runLikeHandler<R>(c: Session, writing: boolean, what: string, fn: () => R): R | ErrorReply {
    let reply: R | ErrorReply;
    c.writing = writing;
    this.host.tracking.current = c;
    try {
      reply = fn();
    } catch (err) {
      reply = toErrorReply(err, this.host.log);
    }
    this.host.tracking.current = undefined;
    this.afterChanges(what);
    return reply;
  }

  /** After a handler: no change left unreported, and its keyspace notifications go out. */
  private afterChanges(what: string): void {
    this.checkReported(what);
    this.host.notifier.flush();
  }

  /**
   * Bytes of the arguments of writes dispatched and waiting for their keys
   * (loaded from PostgreSQL). They were admitted while the commit backlog had
   * room, and run when their keys land, all in one turn: counted as backlog
   * meanwhile (Talus.commitBacklogFull), so that clients sending big values
   * at once do not all pass the check before the first has run.
   */
  waitingWriteBytes = 0;

  /**
   * Every request goes through here: lookup, policy checks, then execution
   * once its keys are resident, and the reply in connection order.
   */
  dispatch(c: Session, args: Buffer[]): void {
    forgetKeyName();
    // A running script admits nothing else, until busy-reply-threshold: then BUSY, but for SCRIPT KILL and the like.
    const scripting = this.scripting;
    let busy = false;
    if (scripting?.current !== undefined) {
      if (!scripting.busy(this.host.config.values.busyReplyThreshold)) {
        scripting.hold(c, args);
        return;
      }
      busy = true;
    }
    const cmd = this.host.commands.lookup(args[0]!);
    const err = this.check(c, cmd, args) ?? (busy && !allowedWhileBusy(cmd!, args) ? new ErrorReply(this.scripting!.busyError()) : undefined);
    if (err !== undefined) {
      if (cmd) cmd.stats.rejected++;
      if (c.multi !== null && cmd?.name !== 'exec' && cmd?.name !== 'discard') c.multiError = true;
      else if (c.multi === null && cmd?.name !== 'client') c.tracking.caching = false; // a refused command used up CLIENT CACHING too
      this.countError(err);
      // As Redis: a refused EXEC discards the transaction, saying why.
      if (c.multi !== null && cmd?.name === 'exec') {
        c.multi = null;
        c.multiError = false;
        unwatchAll(c);
        c.replies.deliver(new ErrorReply(`EXECABORT Transaction discarded because of: ${err.message}`), 0);
        return;
      }
      c.replies.deliver(err, 0);
      return;
    }
    const command = cmd!;
    if (c.multi !== null && !TX_CONTROL.has(command.name)) {
      c.multi.push({ cmd: command, args });
      c.replies.deliver(QUEUED, 0);
      return;
    }
    if (this.host.pauseGate !== undefined && this.host.pauseGate(c, command, args)) return;
    const refs = this.plannedRefs(c, command, args);
    if (refs === undefined) return;
    // Commands whose keys depend on data (a `keyRefs` hook, e.g. SORT's BY/GET
    // patterns, also inside EXEC) are planned again once their keys are
    // resident: if they now name keys that are not, they are submitted again
    // with those, until everything they touch is resident when they run.
    const replan = this.hasKeyHook(c, command);
    // The common case, without the closures below: nothing to wait for.
    if (refs.length === 0 || (!replan && this.host.scheduler.runnable(refs))) {
      this.execute(c, command, args, refs);
      return;
    }
    let queued = false;
    // A write that waits for its keys counts toward the commit backlog meanwhile (waitingWriteBytes).
    let waitingBytes = 0;
    const ranOrFailed = (): void => {
      this.waitingWriteBytes -= waitingBytes;
      waitingBytes = 0;
    };
    // A SWAPDB while this waited re-points c.db (commands/keys.ts): plan again too.
    const db = c.db;
    const submit = (keyRefs: KeyRef[]): void => {
      // A command answers once: a second run or failure of its task would be a reply too many,
      // and every later reply of the client would go to the command before it.
      let settled = false;
      const once = (how: string): boolean => {
        if (!settled) return (settled = true);
        this.host.log.warning(`${command.fullName}: its task ${how} after it was settled (ignored)`);
        return false;
      };
      const ran = this.host.scheduler.submit(
        keyRefs,
        () => {
          if (!once('ran')) return;
          ranOrFailed();
          let resident = keyRefs;
          if (replan || c.db !== db) {
            const again = this.plannedRefs(c, command, args);
            if (again === undefined) {
              if (queued) c.connection?.resume();
              return;
            }
            if (again.some((r) => !this.host.loader.holds(r))) {
              this.host.keyspace.closeUntakenRows(keyRefs);
              submit(again);
              return;
            }
            resident = again;
          }
          // a reply still to come (a script paused on a cold key or a KEYS scan) keeps the client paused until it is
          // delivered: resumed now, its next requests would run and answer before it
          const answering = this.execute(c, command, args, resident);
          if (queued && !answering && !this.host.blocking.isBlocked(c) && !c.suspended) c.connection?.resume();
        },
        (error) => {
          if (!once('failed')) return;
          ranOrFailed();
          this.host.keyspace.closeUntakenRows(keyRefs);
          c.replies.deliver(Errors.storage(error.message), 0);
          if (queued) c.connection?.resume();
        },
      );
      if (!ran && !queued) {
        queued = true;
        c.connection?.pause();
        if (command.mayReplicate) {
          waitingBytes = requestBytes(args);
          this.waitingWriteBytes += waitingBytes;
        }
      }
    };
    submit(refs);
  }

  /**
   * A request waits behind an earlier one of its client (server/client.ts
   * lookAhead): start loading its cold keys now, so they are resident when
   * its turn comes. Only a hint: nothing runs, and a key it loads in vain is
   * just resident (and evictable). Paged values' parts are left to the
   * command, which reads them in its turn. False when requests after this
   * one may name another db or connection state: prefetch stops there.
   */
  prefetch(c: Session, args: Buffer[]): boolean {
    const cmd = this.host.commands.lookup(args[0]!);
    if (cmd !== undefined && PREFETCH_BARRIERS.has(cmd.name)) return false;
    if (!c.authenticated || c.multi !== null) return true;
    if (cmd === undefined || cmd.name === 'exec' || !cmd.arityOk(args.length) || this.hasKeyHook(c, cmd)) return true;
    const refs = this.triedKeyRefs(c, cmd, args);
    if (refs === undefined) return true; // the command answers its own error in its turn
    for (const r of refs) {
      if (!this.host.loader.isResident(r.db, r.name)) this.host.loader.load(r.db, r.name).catch(() => undefined);
    }
    return true;
  }

  /**
   * The command's keys, or undefined once the client got an error: a keyRefs
   * hook that failed on the data it looked at is a bug, answered like one in
   * a handler.
   */
  private plannedRefs(c: Session, cmd: Command, args: Buffer[]): KeyRef[] | undefined {
    try {
      return this.keyRefs(c, cmd, args);
    } catch (err) {
      c.replies.deliver(toErrorReply(err, this.host.log), 0);
      return undefined;
    }
  }

  /**
   * Whether a command's keys are planned again once resident: they come from a
   * `keyRefs` hook (directly or queued in EXEC), or an EXEC's queued SELECT or
   * SWAPDB placed them by db index (another client's SWAPDB while it waits
   * moves those dbs; its cold keys there would be taken for absent).
   */
  private hasKeyHook(c: Session, cmd: Command): boolean {
    if (cmd.name === 'exec') {
      return c.multi?.some((q) => q.cmd.def.keyRefs !== undefined || q.cmd.name === 'select' || q.cmd.name === 'swapdb') ?? false;
    }
    return cmd.hasKeyRefsHook;
  }

  /** Policy checks in Redis's order; undefined means the command may run. */
  private check(c: Session, cmd: Command | undefined, args: Buffer[]): ErrorReply | undefined {
    if (cmd === undefined) return Errors.unknownCommand(args[0]!, args.slice(1));
    if (!cmd.arityOk(args.length)) return Errors.arity(cmd.name);
    // As Redis's lookup: a container's subcommand is found and its arity
    // checked before anything runs or is queued in MULTI.
    // (COMMAND alone is a command of its own: a container named without a subcommand)
    if (cmd.subcommands.size > 0 && args.length >= 2) {
      const sub = subcommandOf(cmd, args);
      if (sub === cmd) return Errors.unknownSubcommand(args[1]!, cmd.name);
      if (!sub.arityOk(args.length)) return Errors.arity(sub.fullName);
    }
    if (!c.authenticated && !cmd.noAuth) return Errors.noAuth();
    if (c.multi !== null && cmd.isNoMulti) {
      return new ErrorReply(`ERR Command not allowed inside a transaction`);
    }
    const denied = this.aclDenial(c, cmd, args, c.multi !== null ? 'multi' : 'toplevel');
    if (denied !== undefined) return new ErrorReply(`NOPERM ${noPermission(denied, subcommandOf(cmd, args))}`);
    const refused = this.host.replicationRefusal(c, cmd, args);
    if (refused !== undefined) return refused;
    // a container's flags are its subcommands' (FUNCTION LOAD writes and is denyoom)
    const target = cmd.subcommands.size > 0 ? subcommandOf(cmd, args) : cmd;
    if (target.isWrite) {
      if (!this.host.flusher.healthy) return Errors.persistence(this.host.flusher.lastError);
      const v = this.host.config.values;
      if (target.isDenyOom && v.maxmemory > 0 && this.host.keyspace.bytes > v.maxmemory) {
        // noeviction keeps every key resident, as Redis keeps every key in
        // memory: when full, writes are refused. Other policies make room.
        if (v.maxmemoryPolicy === 'noeviction') return Errors.oom();
        this.host.evict(1000);
      }
    }
    return subscribedModeError(c, cmd, args);
  }

  /**
   * What the session's user may not do in this command (ACL), logged in the
   * ACL log with `context` (toplevel, multi, lua); undefined when allowed.
   */
  aclDenial(c: Session, cmd: Command, args: Buffer[], context: string, client: Session = c, clientArgs: readonly Buffer[] = args): Denial | undefined {
    const acl = this.host.acl;
    const u = acl.users.get(c.user);
    if (u === undefined || u.unrestricted || c.flags.has('master')) return undefined;
    const d = acl.check(u, cmd, args);
    if (d === undefined) return undefined;
    const object = d.denial === 'command' ? subcommandOf(cmd, args).fullName : args[d.pos]!.toString('latin1');
    const current = clientArgs.length > 0 ? this.host.commands.lookup(clientArgs[0]!) : undefined;
    const shown = current === undefined ? undefined : { args: clientArgs as Buffer[], name: subcommandOf(current, clientArgs as Buffer[]).fullName };
    acl.record(d.denial, context, object, u.name, client, this.host.config.values.acllogMaxLen, shown);
    return d.denial;
  }

  /** redis.acl_check_cmd: whether `c`'s user may run `args` (undefined: no such command), not logged. */
  aclAllows(c: Session, args: Buffer[]): boolean | undefined {
    const cmd = this.host.commands.lookup(args[0]!);
    if (cmd === undefined) return undefined;
    if (cmd.subcommands.size > 0 && args.length > 1 && subcommandOf(cmd, args) === cmd) return undefined;
    const u = this.host.acl.users.get(c.user);
    return u === undefined ? false : this.host.acl.check(u, cmd, args) === undefined;
  }

  /** The command's keys, or undefined if planning them throws (plannedRefs then answers the error in its turn). */
  private triedKeyRefs(c: Session, cmd: Command, args: Buffer[]): KeyRef[] | undefined {
    try {
      return this.keyRefs(c, cmd, args);
    } catch {
      return undefined;
    }
  }

  /**
   * The keys a command touches, in the client's current db. `transient`: the
   * caller only looks at them before its next call (a script's redis.call
   * asking whether its key is resident), so a command of one key gets the
   * executor's one scratch ref rather than a new array and object.
   */
  keyRefs(c: Session, cmd: Command, args: Buffer[], transient = false): KeyRef[] {
    if (cmd.name === 'exec' && c.multi !== null) {
      const refs: KeyRef[] = [];
      // WATCHed keys too: EXEC compares them with what WATCH saw
      for (const w of c.watching) refs.push({ db: this.host.keyspace.dbs[w.db]!, name: w.name, access: META });
      // A queued SELECT (or SWAPDB) changes the db the later commands use.
      const current = c.db;
      const view = [...this.host.keyspace.dbs];
      const dbArg = (a: Buffer | undefined) => (a && /^\d+$/.test(a.toString('latin1')) ? Number(a.toString('latin1')) : -1);
      let index = current.index;
      const earlier = { args: [] as Buffer[][], refs: [] as KeyRef[] };
      try {
        c.plannedLayout = view;
        c.plannedEarlier = earlier;
        for (const q of c.multi) {
          c.db = view[index]!;
          const own = this.keyRefs(c, q.cmd, q.args);
          refs.push(...own);
          earlier.args.push(q.args);
          earlier.refs.push(...own);
          if (q.cmd.name === 'select' && view[dbArg(q.args[1])]) index = dbArg(q.args[1]);
          if (q.cmd.name === 'swapdb') {
            const i = dbArg(q.args[1]);
            const j = dbArg(q.args[2]);
            if (view[i] && view[j]) [view[i], view[j]] = [view[j]!, view[i]!];
          }
        }
      } finally {
        c.db = current;
        c.plannedLayout = undefined;
        c.plannedEarlier = undefined;
      }
      return mergeAccesses(refs);
    }
    const target = subcommandOf(cmd, args);
    if (target.ownKeyRefs) return target.def.keyRefs!(c.context, args);
    const access = target.keyAccess;
    const single = target.singleKey;
    if (single > 0) {
      // most commands: one key at a fixed place (what keyIndices gives, without its array)
      if (single >= args.length) return NO_REFS;
      const name = keyName(args[single]!);
      let need = access && accessOf(access, args, single);
      // a client's own command, not one of a transaction being planned (nor a script's: no connection)
      if (target.streams && c.connection !== undefined && c.plannedLayout === undefined) need = streamed(need ?? WHOLE);
      if (!transient) return [{ db: c.db, name, access: need }];
      const refs = (this.scratchRefs ??= [{ db: c.db, name, access: need }]);
      const ref = refs[0];
      ref.db = c.db;
      ref.name = name;
      ref.access = need;
      return refs;
    }
    const idx = target.keyIndices(args);
    if (idx.length === 0) return NO_REFS;
    const refs: KeyRef[] = new Array(idx.length);
    for (let i = 0; i < idx.length; i++) {
      refs[i] = { db: c.db, name: keyName(args[idx[i]!]!), access: access && accessOf(access, args, idx[i]!) };
    }
    return refs.length > 1 && access ? mergeAccesses(refs) : refs;
  }

  /**
   * Run a command now (its keys, `refs`, are resident) and hand its reply to
   * the client, then its line to MONITOR clients. True when the reply comes
   * later (a Promise): the client stays paused until it is delivered.
   */
  execute(c: Session, cmd: Command, args: Buffer[], refs: KeyRef[] = NO_REFS): boolean {
    const changelog = this.host.keyspace.changelog;
    const before = changelog.seq;
    const started = performance.now();
    // EXEC's handler ends the transaction: what its commands read is known only now.
    const readsDbs = c.multi !== null && cmd.name === 'exec' && c.multi.some((q) => readsDbState(q.cmd, q.args) !== undefined);
    const tracking = this.host.tracking;
    if (tracking.clientCount > 0) {
      // tracking-table-max-keys, checked before each command as Redis does; its invalidations go out now
      tracking.limit();
      tracking.flush();
    }
    const reply = this.call(c, cmd, args);
    this.host.keyspace.closeUntakenRows(refs);
    // CLIENT CACHING applies to the next command or transaction only (any CLIENT subcommand keeps it).
    if (c.multi === null && cmd.name !== 'client') c.tracking.caching = false;
    if (reply instanceof Suspended) {
      this.suspend(c, cmd, args, refs, reply, before, started, readsDbs);
      return false; // (c.suspended tells)
    }
    if (reply instanceof Promise) {
      c.connection?.pause();
      reply
        .then((r) => {
          this.ran(c, cmd, args, r, before, started, refs, readsDbs);
          if (this.host.blocking.pending) this.host.blocking.handleReady();
        })
        .finally(() => c.connection?.resume());
      return true;
    }
    this.ran(c, cmd, args, reply, before, started, refs, readsDbs);
    // Serve clients blocked on keys this command made ready.
    if (this.host.blocking.pending) this.host.blocking.handleReady();
    return false;
  }

  /**
   * A handler returned a Suspended (execution/suspension.ts): its keys stay
   * claimed and its client paused until the outside work is done and
   * `resume` has given the reply, which is then handed over like any other.
   */
  private suspend(c: Session, cmd: Command, args: Buffer[], refs: KeyRef[], first: Suspended, before: number, started: number, readsDbs: boolean): void {
    const release = this.host.scheduler.claim(refs);
    c.suspended = true;
    c.connection?.pause();
    const step = (s: Suspended): Promise<Reply> =>
      s.wait.then(
        (outcome) => {
          const r = this.resumeSuspended(c, cmd, () => s.resume(outcome));
          return r instanceof Suspended ? step(r) : r;
        },
        (err: unknown) => toErrorReply(err, this.host.log),
      );
    void step(first)
      .then((reply) => {
        this.ran(c, cmd, args, reply, before, started, refs, readsDbs);
      })
      .finally(() => {
        release();
        c.suspended = false;
        if (this.host.blocking.pending) this.host.blocking.handleReady();
        if (!this.host.blocking.isBlocked(c)) c.connection?.resume();
      });
  }

  /** A Suspended's `resume`: run like a handler (its errors become its reply, its changes are checked and notified). */
  private resumeSuspended(c: Session, cmd: Command, fn: () => Reply | Promise<Reply>): Reply | Promise<Reply> {
    const reply = this.runLikeHandler(c, cmd.isWrite, cmd.fullName, fn);
    if (reply instanceof Promise) return reply.catch((err: unknown) => toErrorReply(err, this.host.log));
    return reply;
  }

  private ran(c: Session, cmd: Command, args: Buffer[], reply: Reply, before: number, started: number, refs: KeyRef[], readsDbs: boolean): void {
    const effects = this.finish(c, cmd, args, reply, before, started, refs, readsDbs);
    // Invalidations after the reply: the client's own come after its answer, as in Redis.
    this.host.tracking.flush();
    // Like Redis: after the command, admin commands not shown; EXEC feeds its commands, then itself.
    if (this.host.monitors.size > 0 && cmd.name !== 'exec' && cmd.shownToMonitor) {
      this.feedMonitors(c, args, effects);
    }
  }

  /** Count a completed command and hand its reply over (also for blocked commands when served). */
  /** Command statistics, last command and slow log for one finished command (also each command inside EXEC). */
  account(c: Session, cmd: Command, args: Buffer[], reply: Reply, started: number): void {
    const usec = Math.round((performance.now() - started) * 1000);
    const target = cmd.subcommands.size > 0 && args.length > 1
      ? cmd.subcommands.get(args[1]!.toString('latin1').toLowerCase()) ?? cmd
      : cmd;
    target.stats.calls++;
    target.stats.usec += usec;
    this.host.stats.commandsProcessed++;
    c.lastCommand = target.fullName;
    if (reply instanceof ErrorReply) {
      target.stats.failed++;
      // a script's error from a command it called was counted when that command failed
      if ((reply as { counted?: boolean }).counted !== true) this.countError(reply);
    }
    this.host.slowlog.record(c, args, usec, cmd);
    if (this.host.config.values.latencyTracking) this.host.latencyTracker.record(target.fullName, usec * 1000);
    this.host.latency.note(cmd.isFast ? 'fast-command' : 'command', usec / 1000);
  }

  /**
   * Count a finished command and queue its reply: a write's reply waits for
   * its effects' commit, a read's for the commit of the uncommitted changes
   * it shows (`readGate`: the keys `refs`, db-wide state). Returns the gate
   * of the command's own effects (durabilityGate).
   */
  finish(c: Session, cmd: Command, args: Buffer[], reply: Reply, before: number, started: number, refs = NO_REFS, readsDbs = false): number {
    if (reply === BLOCKED) {
      // no reply yet: counted and answered when served or timed out
      this.host.blocking.attach(c, cmd, args);
      return 0;
    }
    this.account(c, cmd, args, reply, started);
    const seq = this.host.keyspace.changelog.seq;
    if (seq > before) {
      this.host.flusher.schedule();
      const gate = this.durabilityGate(before);
      c.replies.deliver(reply, gate);
      return gate;
    }
    // Nothing uncommitted anywhere (a read-only load): no gate to look for.
    if (seq <= this.host.flusher.durableSeq || this.host.config.values.appendfsync !== 'always') c.replies.deliver(reply, 0);
    else c.replies.deliver(reply, this.readGate(c, cmd, args, refs, readsDbs), false);
    return 0;
  }

  /** Hand over a reply whose command was accounted already: gated on the effects logged since `before`. */
  deliverAfter(c: Session, reply: Reply, before: number): void {
    if (this.host.keyspace.changelog.seq > before) this.host.flusher.schedule();
    c.replies.deliver(reply, this.durabilityGate(before));
  }

  /**
   * The seq a reply or message showing the effects logged since `since`
   * must wait for: the last seq handed out, when there are such effects and
   * appendfsync is always; else 0. The one rule for everything that shows a
   * write to anyone (MONITOR lines now; keyspace notifications and pub/sub
   * messages when they come: push them with `Client.push(message, gate)`
   * once the command's effects are logged, e.g. from `finish`).
   */
  durabilityGate(since: number): number {
    const seq = this.host.keyspace.changelog.seq;
    return seq > since && this.host.config.values.appendfsync === 'always' ? seq : 0;
  }

  /**
   * What a command that changed nothing must wait for before its reply shows
   * what it read: the last uncommitted change of each key it names (a value,
   * a TTL, a delete: tombstones keep their stamp), of their dbs as a whole
   * (FLUSHDB, SWAPDB), and for keyless reads of db-wide state (DBSIZE, KEYS,
   * SCAN, RANDOMKEY; INFO and MEMORY STATS: every db) the db's last change.
   * Same rule as Redis with appendfsync always, which writes no reply of an
   * event-loop turn before its AOF fsync.
   */
  private readGate(c: Session, cmd: Command, args: Buffer[], refs: KeyRef[], readsDbs: boolean): number {
    let gate = 0;
    for (const r of refs) {
      const d = r.db;
      const e = d.entries.get(r.name);
      if (e !== undefined && e.changeSeq > gate) gate = e.changeSeq;
      if (d.barrierSeq > gate) gate = d.barrierSeq;
    }
    const scope = readsDbs ? 'all' : readsDbState(cmd, args);
    if (scope === 'all') {
      for (const d of this.host.keyspace.dbs) if (d.changeSeq > gate) gate = d.changeSeq;
    } else if (scope === 'db' && c.db.changeSeq > gate) {
      gate = c.db.changeSeq;
    }
    // A stamp is the seq after the last one handed out when the change was
    // made (Keyspace.touch). If nothing was logged since, the change's effect
    // was logged just before it and is the last seq; any seq of the command
    // that made it commits it (a command's effects go in one commit).
    gate = Math.min(gate, this.host.keyspace.changelog.seq);
    if (gate > this.host.flusher.durableSeq) this.host.flusher.schedule();
    return gate;
  }

  /** Count an error reply for INFO stats / errorstats. */
  countError(err: ErrorReply): void {
    this.host.stats.errorReplies++;
    const sp = err.message.indexOf(' ');
    const code = sp < 0 ? err.message : err.message.slice(0, sp);
    this.host.errorCounts.set(code, (this.host.errorCounts.get(code) ?? 0) + 1);
  }

  /** Show a command that ran to MONITOR clients once `gate` (its effects: durabilityGate) is durable. */
  feedMonitors(c: Session, args: Buffer[], gate: number): void {
    const now = Date.now();
    const addr = c.connection?.addr ?? (c === this.scriptSession ? 'lua' : '');
    const line = `${(now / 1000).toFixed(6)} [${c.dbIndex} ${addr}] ${args.map(quoteArg).join(' ')}`;
    for (const m of this.host.monitors) if (m !== c) m.replies.push(new SimpleString(line), gate);
  }

}

/** Requests after which the next ones may name another db or connection state (see Executor.prefetch). */
const PREFETCH_BARRIERS = new Set(['select', 'swapdb', 'multi', 'reset', 'hello', 'auth']);
const TX_CONTROL = new Set(['exec', 'discard', 'multi', 'watch', 'quit', 'reset']);
const NO_REFS: KeyRef[] = [];
/** Keyless reads of server-wide state (key counts of every db), by full name. */
const SERVER_STATE_READS = new Set(['info', 'memory|stats']);

/**
 * Whether a command shows db-wide state without naming keys: a read-only
 * keyless command (DBSIZE, KEYS, SCAN, RANDOMKEY) shows the client's db;
 * INFO and MEMORY STATS every db.
 */
function readsDbState(cmd: Command, args: Buffer[]): 'db' | 'all' | undefined {
  const target = cmd.subcommands.size > 0 && args.length > 1 ? cmd.subcommands.get(args[1]!.toString('latin1').toLowerCase()) ?? cmd : cmd;
  if (SERVER_STATE_READS.has(target.fullName)) return 'all';
  const def = target.def;
  if (def.flags.includes('readonly') && !def.keys && !def.movableKeys && !def.keyRefs) return 'db';
  return undefined;
}

function quoteArg(a: Buffer): string {
  let s = '"';
  for (const b of a) {
    if (b === 0x22 || b === 0x5c) s += '\\' + String.fromCharCode(b);
    else if (b === 0x0a) s += '\\n';
    else if (b === 0x0d) s += '\\r';
    else if (b === 0x09) s += '\\t';
    else if (b >= 0x20 && b < 0x7f) s += String.fromCharCode(b);
    else s += '\\x' + b.toString(16).padStart(2, '0');
  }
  return s + '"';
}

/**
 * What a request runs: for a container command (CONFIG, CLIENT, OBJECT...)
 * named with a subcommand, the subcommand's handler, its arity checked and
 * errors worded as Redis words them; otherwise the command's own.
 */
function handlerFor(cmd: Command, args: Buffer[]): Handler | ErrorReply {
  if (cmd.subcommands.size === 0 || args.length < 2) return cmd.handler!;
  const sub = cmd.subcommands.get(args[1]!.toString('latin1').toLowerCase());
  if (sub === undefined || sub.handler === undefined) return Errors.unknownSubcommand(args[1]!, cmd.name);
  if (!sub.arityOk(args.length)) return Errors.arity(sub.fullName);
  return sub.handler;
}

function toErrorReply(err: unknown, log: Logger): ErrorReply {
  if (err instanceof ErrorReply) return err;
  const e = err as Error;
  log.warning(`command failed: ${e.stack ?? e}`);
  return new ErrorReply(`ERR ${e.message}`);
}

/** A command's declared access; arguments it cannot parse fail in the handler, so ask for everything. */
function accessOf(fn: (args: Buffer[], index: number) => Access, args: Buffer[], index: number): Access {
  try {
    return fn(args, index);
  } catch {
    return WHOLE;
  }
}

/** A key named more than once by one task gets one need covering all its uses (keyspace/paging.ts). */
function mergeAccesses(refs: KeyRef[]): KeyRef[] {
  if (refs.length < 2) return refs;
  const first = new Map<string, KeyRef>();
  for (const r of refs) {
    const id = `${r.db.index}:${r.name}`;
    const seen = first.get(id);
    if (seen === undefined) first.set(id, r);
    else seen.access = mergeAccess(seen.access ?? WHOLE, r.access ?? WHOLE);
  }
  for (const r of refs) r.access = first.get(`${r.db.index}:${r.name}`)!.access;
  return refs;
}

/** Commands that run a script, whose reads client tracking takes from the script's commands. */
const RUNS_SCRIPTS = new Set(['eval', 'eval_ro', 'evalsha', 'evalsha_ro', 'fcall', 'fcall_ro']);

/** The command (or subcommand) if client tracking remembers what it reads: a read-only command, not pub/sub. */
function trackedRead(cmd: Command, args: Buffer[]): Command | undefined {
  const target = subcommandOf(cmd, args);
  const flags = target.def.flags;
  // Shard channels are keys to COMMAND, not data to cache: Redis does not track pub/sub commands.
  return flags.includes('readonly') && !flags.includes('pubsub') ? target : undefined;
}

/** NOPERM's text for a command refused by ACL rules (Redis 7.0's). */
function noPermission(denial: Denial, target: Command): string {
  if (denial === 'command') return `this user has no permissions to run the '${target.fullName}' command`;
  return `this user has no permissions to access one of the ${denial === 'key' ? 'keys' : 'channels'} used as arguments`;
}

const SCRIPT_NOPERM: Record<Denial, string> = {
  command: "The user executing the script can't run this command or subcommand",
  key: "The user executing the script can't access at least one of the keys mentioned in the command",
  channel: "The user executing the script can't publish to the channel mentioned in the command",
};

const EXEC_NOPERM: Record<Denial, string> = {
  command: 'no permission to execute the command or subcommand',
  key: 'no permission to touch the specified keys',
  channel: 'no permission to access one of the channels used as arguments',
};

/** Whether two argument lists are the same bytes. */
function sameArgs(a: readonly Buffer[], b: readonly Buffer[]): boolean {
  return a === b || (a.length === b.length && a.every((x, i) => x.equals(b[i]!)));
}
