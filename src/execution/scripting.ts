/**
 * Scripts on the executor (EVAL, EVALSHA and their _RO forms). A script is
 * a session without a connection whose redis.call goes through
 * Executor.callFromScript like any command. While a script runs, and also
 * while it is paused waiting for an undeclared cold key or for its time
 * slice to end, no other command runs: requests are held (and answered
 * BUSY once busy-reply-threshold has passed, except SCRIPT KILL, SHUTDOWN
 * and the other allow_busy commands), and the scheduler starts no queued
 * command. That is what keeps a script atomic across its pauses.
 */
import { ErrorReply, type Reply } from '../protocol/reply.js';
import { ScriptEngine, type CachedScript, type ScriptRunHost } from '../scripting/engine.js';
import { FunctionLibraries } from '../scripting/functions.js';
import type { Session } from './session.js';
import type { Command } from '../commands/table.js';
import type { Logger } from '../observability/logger.js';

/** What a running script needs of the executor. */
export interface ScriptExecutor {
  callFromScript(s: Session, args: Buffer[], run: ScriptRun): Reply | { readonly wait: Promise<void> };
  /** busy-reply-threshold in ms */
  busyThreshold(): number;
  /** hold (true) or release the scheduler's queued commands */
  holdScheduler(held: boolean): void;
  /** a script starts: its effects are one atomic unit of the change log, until endEffects */
  beginEffects(): void;
  endEffects(): void;
  /** redis.acl_check_cmd: whether `c`'s user may run `args` (undefined: no such command) */
  aclAllows(c: Session, args: Buffer[]): boolean | undefined;
}

/** One script invocation, as the executor checks its commands. */
export interface ScriptRun {
  readonly caller: Session;
  readonly readOnly: boolean;
  readonly allowOom: boolean;
  /** the script has run a write command (SCRIPT KILL then refuses) */
  wrote: boolean;
  /** a library function (FCALL): FUNCTION KILL stops it, SCRIPT KILL does not (and the reverse for EVAL) */
  readonly isFunction: boolean;
  readonly startedAt: number;
  /** the script's sha or the function's name, and the command that runs it (FUNCTION STATS) */
  readonly name: string;
  readonly command: readonly Buffer[];
  /** a read that answered later (KEYS over cold keys): its reply, handed over when the paused call is made again */
  settled?: { args: Buffer[]; reply?: Reply };
}

/** The ScriptRun of every script: one object, its fields set again by `start` (one script runs at a time). */
class CurrentRun implements ScriptRun {
  caller!: Session;
  readOnly = false;
  allowOom = false;
  wrote = false;
  isFunction = false;
  startedAt = 0;
  name = '';
  command: readonly Buffer[] = [];
  settled?: { args: Buffer[]; reply?: Reply };

  start(caller: Session, script: CachedScript, command: readonly Buffer[], readOnly: boolean): this {
    this.caller = caller;
    this.readOnly = readOnly || script.noWrites;
    this.allowOom = script.allowOom;
    this.wrote = false;
    this.isFunction = script.library !== undefined;
    this.startedAt = performance.now();
    this.name = script.sha;
    this.command = command;
    this.settled = undefined;
    return this;
  }
}

export const BUSY_EVAL = 'BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.';
/** the same for a function (FCALL): FUNCTION KILL stops it */
export const BUSY_FUNCTION = 'BUSY Redis is busy running a script. You can only call FUNCTION KILL or SHUTDOWN NOSAVE.';

export class Scripting {
  /** the running script (runState), undefined between scripts */
  current: ScriptRun | undefined;
  private readonly runState = new CurrentRun();
  /** FUNCTION LOAD's libraries (FCALL) */
  readonly functions: FunctionLibraries;
  /** requests that came while a script ran: dispatched in order when it ends */
  private held: Array<{ s: Session; args: Buffer[] }> = [];
  private releaseHeld: ((s: Session, args: Buffer[]) => void) | undefined;
  /** what the engine calls back while a script runs (the current one: only one runs at a time), made once */
  private readonly host: ScriptRunHost = {
    call: (args) => this.executor.callFromScript(this.session, args, this.current!),
    aclCheck: (args) => this.executor.aclAllows(this.current!.caller, args),
    log: (level, message) => this.logFromScript(level, message),
    // once busy, the requests held so far are answered (BUSY, or run if allowed while busy)
    onSlice: () => {
      if (this.busy(this.executor.busyThreshold())) this.dispatchHeld();
    },
  };

  constructor(
    readonly engine: ScriptEngine,
    private readonly session: Session,
    private readonly executor: ScriptExecutor,
    private readonly log: Logger,
  ) {
    this.functions = new FunctionLibraries(engine);
  }

  /** Where held requests go when the script ends (Executor.dispatch). */
  onRelease(fn: (s: Session, args: Buffer[]) => void): void {
    this.releaseHeld = fn;
  }

  /** Whether `s` is the session a running script calls commands from. */
  isScript(s: Session): boolean {
    return this.current !== undefined && s === this.session;
  }

  /** Whether the running script has run longer than busy-reply-threshold (0: never). */
  busy(threshold: number): boolean {
    return this.current !== undefined && threshold > 0 && performance.now() - this.current.startedAt >= threshold;
  }

  hold(s: Session, args: Buffer[]): void {
    this.held.push({ s, args });
    s.connection?.pause();
  }

  /**
   * EVAL / EVALSHA / FCALL / *_RO after their arguments were checked: run
   * `script` for `caller`. `command` is the request (name, script or
   * function, numkeys, then its `numkeys` keys and its arguments).
   */
  run(caller: Session, script: CachedScript, command: Buffer[], numkeys: number, readOnly: boolean): Reply | Promise<Reply> {
    const s = this.session;
    s.db = caller.db;
    s.protocol = 2;
    s.user = caller.user;
    s.authenticated = true;
    const run = this.runState.start(caller, script, command, readOnly);
    this.current = run;
    this.executor.holdScheduler(true);
    this.executor.beginEffects();
    let result: Reply | Promise<Reply>;
    try {
      result = this.engine.execute(script, command, 3, numkeys, this.host, caller.protocol, run.startedAt);
    } catch (err) {
      this.end();
      throw err;
    }
    if (result instanceof Promise) return result.finally(() => this.end());
    this.end();
    return result;
  }

  private end(): void {
    this.executor.endEffects();
    this.current = undefined;
    this.executor.holdScheduler(false);
    this.dispatchHeld();
  }

  private dispatchHeld(): void {
    const held = this.held;
    if (held.length === 0) return; // the usual end of a script: no new array
    this.held = [];
    for (const h of held) {
      h.s.connection?.resume();
      if (h.s.connection?.closed !== true) this.releaseHeld?.(h.s, h.args);
    }
  }

  /** The BUSY error other clients get while the current script runs. */
  busyError(): string {
    return this.current?.isFunction === true ? BUSY_FUNCTION : BUSY_EVAL;
  }

  /** SCRIPT KILL (`ofFunction` false) or FUNCTION KILL (true) */
  kill(ofFunction: boolean): Reply {
    const run = this.current;
    if (run === undefined) return new ErrorReply('NOTBUSY No scripts in execution right now.');
    if (run.wrote) {
      return new ErrorReply('UNKILLABLE Sorry the script already executed write commands against the dataset. You can either wait the script termination or kill the server in a hard way using the SHUTDOWN NOSAVE command.');
    }
    // each KILL stops only its own kind, as Redis
    if (run.isFunction !== ofFunction) return new ErrorReply(this.busyError());
    this.engine.kill();
    return null;
  }

  private logFromScript(level: number, message: string): void {
    if (level === 3) this.log.warning(message);
    else if (level === 2) this.log.notice(message);
    else if (level === 1) this.log.verbose(message);
    else this.log.debug(message);
  }
}

/** Whether a command may run while a script is busy (Redis's allow_busy flag). */
export function allowedWhileBusy(cmd: Command, args: Buffer[]): boolean {
  const target = cmd.subcommands.size > 0 && args.length > 1 ? cmd.subcommands.get(args[1]!.toString('latin1').toLowerCase()) ?? cmd : cmd;
  return target.def.flags.includes('allow_busy');
}
