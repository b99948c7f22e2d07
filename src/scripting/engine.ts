/**
 * The Lua engine behind EVAL: one Lua 5.1 state with Redis 7's environment
 * (the redis.* API, the sandbox, protected globals), the script cache, and
 * a script run as a coroutine so that it can pause (an undeclared cold key
 * being loaded, a time slice for other clients' BUSY replies and SCRIPT
 * KILL) without anything else running in between (execution/scripting.ts
 * holds the other commands back). Values cross through the C stack API.
 */
import { createHash } from 'node:crypto';
import { BoolReply, DoubleReply, ErrorReply, MapReply, NullArray, PushReply, RawReply, SetReply, SimpleString, VerbatimReply, type Reply } from '../protocol/reply.js';
import { encodeReply } from '../protocol/encoder.js';
import { readReply } from './resp-reader.js';
import { LUA_GLOBALSINDEX, LUA_REGISTRYINDEX, LuaStatus, LuaType, LuaVm, MASK_COUNT, MASK_LINE } from './lua-vm.js';
import { VERSION } from '../version.js';
import { formatG } from './number-format.js';
import { bitLibrary, type LuaFunctions } from './lua-bit.js';
import { structLibrary } from './lua-struct.js';
import { cmsgpackLibrary } from './lua-cmsgpack.js';
import { cjsonLibrary } from './lua-cjson.js';

const REDIS_VERSION = VERSION.redis;
/** 7.0.15 -> 0x07000f */
const REDIS_VERSION_NUM = REDIS_VERSION.split('.').reduce((n, part) => n * 256 + Number(part), 0);

/** What a script's redis.call gets back from the server: a reply, or a wait for keys to be loaded first. */
export type CallOutcome = Reply | { readonly wait: Promise<void> };

/** The server side of a running script (execution/scripting.ts). */
export interface ScriptRunHost {
  /** run one command for the script (permissions, arity, noscript... checked there) */
  call(args: Buffer[]): CallOutcome;
  /** redis.acl_check_cmd: whether the script's user may run the command, undefined for an unknown command */
  aclCheck(args: Buffer[]): boolean | undefined;
  log(level: number, message: string): void;
  /** the script paused for a time slice: the event loop turns now */
  onSlice(): void;
}

export interface CachedScript extends ScriptFlags {
  /** the script's sha, or the function's name (FCALL): how errors name it */
  readonly sha: string;
  readonly body: Buffer;
  /** set for a library function (FCALL): its library */
  readonly library?: string;
  /** an EVAL script's compiled function: its reference in the Lua registry (luaL_ref) */
  readonly ref?: number;
}

/** A script's flags, and what every call checks of them read once (scriptFlags). */
export interface ScriptFlags {
  readonly flags: ReadonlySet<string>;
  /** it has a shebang line (no `__compat` flag): its flags are checked before it runs */
  readonly shebang: boolean;
  readonly noWrites: boolean;
  readonly allowOom: boolean;
}

export function scriptFlags(flags: ReadonlySet<string>): ScriptFlags {
  return { flags, shebang: !flags.has('__compat'), noWrites: flags.has('no-writes'), allowOom: flags.has('allow-oom') };
}

/** A function a library registered while FUNCTION LOAD ran its code. */
export interface RegisteredFunction {
  readonly name: string;
  readonly description: Buffer | null;
  readonly flags: ReadonlySet<string>;
}

/** How long FUNCTION LOAD may run a library's code (Redis's fixed limit). */
const LOAD_TIMEOUT_MS = 500;

/** Flags a `#!lua flags=...` shebang may name. */
const SCRIPT_FLAGS = new Set(['no-writes', 'allow-oom', 'allow-stale', 'no-cluster', 'allow-cross-slot-keys']);
/** Instructions between two looks at the clock (and SCRIPT KILL), as Redis's count hook. */
const HOOK_COUNT = 100_000;
/** How long a script runs before it pauses for a turn of the event loop (other clients' BUSY, SCRIPT KILL). */
const SLICE_MS = 20;
/** Scripts between two incremental collection steps, as Redis does (a full cycle now and then costs latency). */
const GC_STEP_PERIOD = 50;
/** How deep a script's reply may nest (a table holding itself would never end): Redis's Lua stack gives out about there. */
const MAX_REPLY_DEPTH = 2000;
const KILL_MESSAGE = 'ERR Script killed by user with SCRIPT KILL...';

/**
 * The running script's state. One object serves every run, its fields set
 * again by `start` (only one script runs at a time): no object per script.
 */
class Run {
  host!: ScriptRunHost;
  co = 0;
  funcname = '';
  clientProtocol: 2 | 3 = 2;
  resp: 2 | 3 = 2;
  sliceStart = 0;
  killed = false;
  /** a redis.call paused for its keys: the command to run once they are resident */
  pending: { args: Buffer[]; raise: boolean; wait: Promise<void>; thread: number } | undefined;
  /** a redis.call error to raise as soon as the script resumes */
  raiseOnResume: ErrorReply | undefined;
  /** the error that ends the script came from a command (its error was counted already) */
  commandError = false;

  start(host: ScriptRunHost, co: number, funcname: string, clientProtocol: 2 | 3, startedAt: number): this {
    this.host = host;
    this.co = co;
    this.funcname = funcname;
    this.clientProtocol = clientProtocol;
    this.resp = 2;
    this.sliceStart = startedAt;
    this.killed = false;
    this.pending = undefined;
    this.raiseOnResume = undefined;
    this.commandError = false;
    return this;
  }
}

export class ScriptEngine {
  private readonly scripts = new Map<string, CachedScript>();
  /** the running script (runState), undefined between scripts */
  private run: Run | undefined;
  private readonly runState = new Run();
  private readonly hookFn: number;
  private runsSinceStep = 0;
  /** the scripts' globals table (talus_globals), as a registry reference: KEYS and ARGV go there every run */
  private globalsRef = 0;
  /**
   * The thread the next script runs on, as a registry reference (0: none). A
   * thread whose script returned normally is back at its start and is used
   * again; one that ended in an error is dead and a new one is made.
   */
  private threadRef = 0;
  /** that thread's lua_State (the reference keeps it alive, and Lua's collector does not move objects) */
  private threadState = 0;
  private readonly luaRef: (L: number, t: number) => number;
  private readonly luaUnref: (L: number, t: number, ref: number) => void;
  /** when the library code FUNCTION LOAD runs started (its hook stops it past LOAD_TIMEOUT_MS) */
  private loadStartedAt: number | undefined;
  /** numberArg's last number and its text */
  private lastNumber: number | undefined;
  private lastNumberBytes = Buffer.alloc(0);
  /** bytes of cached script bodies (INFO used_memory_scripts_eval) */
  cacheBytes = 0;
  /** the script `find` found last, and its sha as bytes */
  private lastFound: CachedScript | undefined;
  private lastFoundSha = Buffer.alloc(0);

  private constructor(private readonly vm: LuaVm) {
    this.hookFn = vm.hook((L) => this.onHook(L));
    this.luaRef = vm.fn('luaL_ref');
    this.luaUnref = vm.fn('luaL_unref');
    this.setUp();
    vm.getfield(vm.L, LUA_REGISTRYINDEX, 'talus_globals');
    this.globalsRef = this.luaRef(vm.L, LUA_REGISTRYINDEX);
  }

  static async create(heapLimit: number): Promise<ScriptEngine> {
    return new ScriptEngine(await LuaVm.create(heapLimit));
  }

  get running(): boolean {
    return this.run !== undefined;
  }

  get luaMemory(): number {
    return this.vm.used;
  }

  setHeapLimit(bytes: number): void {
    this.vm.limit = bytes;
  }

  get cachedCount(): number {
    return this.scripts.size;
  }

  has(sha: string): boolean {
    return this.scripts.has(sha.toLowerCase());
  }

  get(sha: string): CachedScript | undefined {
    return this.scripts.get(sha.toLowerCase());
  }

  /**
   * EVALSHA's lookup. The script found last is tried first, by its sha's
   * bytes: a client calling one script again and again makes no string of
   * the sha per call.
   */
  find(sha: Buffer): CachedScript | undefined {
    const last = this.lastFound;
    if (last !== undefined && sameBytes(sha, this.lastFoundSha)) return last;
    const script = this.get(sha.toString('latin1'));
    if (script !== undefined) {
      this.lastFound = script;
      this.lastFoundSha = Buffer.from(script.sha, 'latin1');
    }
    return script;
  }

  /** SCRIPT FLUSH: forget every script and start a new Lua state's worth of globals. */
  flush(): void {
    const vm = this.vm;
    for (const script of this.scripts.values()) this.luaUnref(vm.L, LUA_REGISTRYINDEX, script.ref!);
    this.scripts.clear();
    this.lastFound = undefined;
    this.cacheBytes = 0;
    vm.gcCollect();
  }

  /** Compile and cache a script (EVAL, SCRIPT LOAD); an ErrorReply says why it cannot be. */
  load(body: Buffer): CachedScript | ErrorReply {
    const sha = createHash('sha1').update(body).digest('hex');
    const known = this.scripts.get(sha);
    if (known !== undefined) return known;
    const shebang = parseShebang(body);
    if (shebang instanceof ErrorReply) return shebang;
    const vm = this.vm;
    // The shebang line is dropped but its line feed kept, so line numbers stay the user's.
    if (!vm.load(vm.L, body.subarray(shebang.length), '@user_script')) {
      const msg = vm.toLatin1(vm.L, -1) ?? '';
      vm.settop(vm.L, 0);
      return new ErrorReply(`ERR Error compiling script (new function): ${msg}`);
    }
    const ref = this.luaRef(vm.L, LUA_REGISTRYINDEX);
    const script = { sha, body, ...scriptFlags(shebang.flags), ref };
    this.scripts.set(sha, script);
    this.cacheBytes += body.length + 40;
    return script;
  }

  /**
   * Run a cached script. Synchronous unless it pauses (a cold key, a long
   * run): the promise then settles when it ends. Only one runs at a time.
   * Its KEYS are the `numkeys` arguments of `command` from `keysAt`, its
   * ARGV the ones after them. `startedAt` (performance.now()) starts its
   * first time slice.
   */
  execute(script: CachedScript, command: Buffer[], keysAt: number, numkeys: number, host: ScriptRunHost, clientProtocol: 2 | 3, startedAt = performance.now()): Reply | Promise<Reply> {
    const vm = this.vm;
    const L = vm.L;
    vm.settop(L, 0);
    this.setGlobalArray('KEYS', command, keysAt, keysAt + numkeys);
    this.setGlobalArray('ARGV', command, keysAt + numkeys, command.length);
    const co = this.thread();
    let nargs = 0;
    if (script.library === undefined) {
      vm.rawgeti(co, LUA_REGISTRYINDEX, script.ref!);
    } else {
      // a function gets KEYS and ARGV as its two arguments
      vm.getfield(co, LUA_REGISTRYINDEX, 'talus_functions');
      vm.getfield(co, -1, script.library);
      vm.getfield(co, -1, script.sha);
      vm.fn('lua_replace')(co, 1);
      vm.settop(co, 1);
      vm.getfield(L, LUA_REGISTRYINDEX, 'talus_globals');
      vm.getfield(L, -1, 'KEYS');
      vm.getfield(L, -2, 'ARGV');
      vm.xmove(L, co, 2);
      vm.settop(L, -2);
      nargs = 2;
    }
    vm.sethook(co, this.hookFn, MASK_COUNT, HOOK_COUNT);
    this.run = this.runState.start(host, co, script.sha, clientProtocol, startedAt);
    return this.step(nargs);
  }

  /**
   * FUNCTION LOAD: compile a library's code (its shebang line blanked) and run
   * it so that it registers its functions; they are kept aside until
   * `commitLibrary` (the caller checks name clashes first).
   */
  loadLibrary(code: Buffer): RegisteredFunction[] | ErrorReply {
    const vm = this.vm;
    const L = vm.L;
    vm.settop(L, 0);
    vm.getfield(L, LUA_REGISTRYINDEX, 'talus_load_library');
    if (!vm.load(L, code, '@user_function')) {
      const msg = vm.toLatin1(L, -1) ?? '';
      vm.settop(L, 0);
      return new ErrorReply(`ERR Error compiling function: ${msg}`);
    }
    this.loadStartedAt = performance.now();
    vm.sethook(L, this.hookFn, MASK_COUNT, HOOK_COUNT);
    const status = vm.pcall(L, 1, 1, 0);
    vm.sethook(L, 0, 0, 0);
    this.loadStartedAt = undefined;
    try {
      if (status !== 0) return new ErrorReply(`ERR Error registering functions: ${vm.toLatin1(L, -1) ?? 'out of memory'}`);
      vm.getfield(L, -1, 'err');
      if (vm.type(L, -1) === LuaType.String) return new ErrorReply(`ERR Error registering functions: ${vm.toLatin1(L, -1)}`);
      vm.settop(L, 1);
      const found: RegisteredFunction[] = [];
      for (let i = 1; ; i++) {
        vm.rawgeti(L, 1, i);
        if (vm.type(L, -1) !== LuaType.Table) break;
        vm.getfield(L, -1, 'name');
        const name = vm.toLatin1(L, -1)!;
        vm.getfield(L, -2, 'description');
        const description = vm.type(L, -1) === LuaType.String ? vm.toBytes(L, -1)! : null;
        vm.getfield(L, -3, 'flags');
        const flags = new Set<string>();
        for (let j = 1; ; j++) {
          vm.rawgeti(L, -1, j);
          if (vm.type(L, -1) !== LuaType.String) break;
          flags.add(vm.toLatin1(L, -1)!);
          vm.settop(L, -2);
        }
        found.push({ name, description, flags });
        vm.settop(L, 1);
      }
      return found;
    } finally {
      vm.settop(L, 0);
    }
  }

  /** Keep the functions the last loadLibrary registered as library `name` (replacing it). */
  commitLibrary(name: string): void {
    this.vm.run(`local r = debug.getregistry() r.talus_functions[${luaQuote(name)}] = r.talus_loaded r.talus_loaded = nil`);
  }

  dropLibrary(name: string): void {
    this.vm.run(`local r = debug.getregistry() r.talus_functions[${luaQuote(name)}] = nil r.talus_loaded = nil`);
  }

  /** SCRIPT KILL: the running script stops at its next hook (it must not have written: the caller checks). */
  kill(): void {
    if (this.run !== undefined) this.run.killed = true;
  }

  private step(nargs: number): Reply | Promise<Reply> {
    const run = this.run!;
    const vm = this.vm;
    for (;;) {
      const status = vm.resume(run.co, nargs);
      if (status === LuaStatus.Yield) {
        const pending = run.pending;
        if (pending !== undefined) {
          return pending.wait.then(
            () => this.resumeCall(),
            () => this.resumeCall(),
          );
        }
        // a time slice ended: let the event loop turn (BUSY replies, SCRIPT KILL), then go on
        run.host.onSlice();
        return new Promise<void>((resolve) => setImmediate(resolve)).then(() => {
          run.sliceStart = performance.now();
          return this.step(0);
        });
      }
      return this.finish(status);
    }
  }

  /** The keys a paused redis.call waited for are resident: run it and hand its reply to the script. */
  private resumeCall(): Reply | Promise<Reply> {
    const run = this.run!;
    const vm = this.vm;
    const pending = run.pending!;
    const outcome = run.host.call(pending.args);
    if (isWait(outcome)) {
      pending.wait = outcome.wait;
      return outcome.wait.then(() => this.resumeCall(), () => this.resumeCall());
    }
    run.pending = undefined;
    if (pending.raise && outcome instanceof ErrorReply) {
      run.commandError = true;
      // raised from the hook at the paused thread's next instruction: a resumed C function cannot raise
      run.raiseOnResume = outcome;
      vm.sethook(pending.thread, this.hookFn, MASK_COUNT, 1);
      vm.pushnil(run.co);
      return this.step(1);
    }
    this.pushReply(run.co, outcome, run.resp, 0);
    run.sliceStart = performance.now();
    return this.step(1);
  }

  private finish(status: number): Reply {
    const run = this.run!;
    const vm = this.vm;
    const co = run.co;
    let reply: Reply;
    try {
      if (status === LuaStatus.Ok) {
        // one result, as Redis's lua_pcall(lua, 0, 1, ...): the first the script returned
        if (vm.gettop(co) > 1) vm.settop(co, 1);
        reply = vm.gettop(co) === 0 ? null : this.toReply(co, run, 0);
      } else {
        reply = this.errorReply(co, run, status);
      }
    } finally {
      this.run = undefined;
      vm.settop(vm.L, 0);
      if (status === LuaStatus.Ok) {
        vm.settop(co, 0);
      } else {
        // dead: the next run makes a new one
        this.luaUnref(vm.L, LUA_REGISTRYINDEX, this.threadRef);
        this.threadRef = 0;
        this.threadState = 0;
      }
      // Lua 5.1 has no emergency collection: garbage left by a script would fail the next allocations
      if (status === LuaStatus.ErrMem || vm.used > vm.limit / 2) vm.gcCollect();
      else if (++this.runsSinceStep >= GC_STEP_PERIOD) {
        this.runsSinceStep = 0;
        vm.gcStep(GC_STEP_PERIOD);
      }
    }
    return reply;
  }

  /** Redis's text for a script that failed: its error, then where it was raised. */
  private errorReply(co: number, run: Run, status: number): ErrorReply {
    const vm = this.vm;
    const type = vm.type(co, -1);
    if (status === LuaStatus.ErrMem || (type !== LuaType.Table && status !== LuaStatus.ErrRun)) {
      // Redis runs no error handler for these: the message as it is
      const msg = vm.toLatin1(co, -1) ?? 'execution failure';
      return new ErrorReply(`ERR Error running script ${run.funcname}, ${msg.slice(0, 100)} `);
    }
    let msg: string;
    if (type === LuaType.Table) {
      vm.getfield(co, -1, 'err');
      msg = vm.type(co, -1) === LuaType.String ? vm.toLatin1(co, -1)! : '(null)';
      vm.settop(co, -2);
    } else if (type === LuaType.String || type === LuaType.Number) {
      msg = `ERR ${vm.toLatin1(co, -1)}`;
    } else {
      msg = `ERR ${type === LuaType.Nil ? 'nil' : type === LuaType.Boolean ? String(vm.toboolean(co, -1) !== 0) : 'execution failure'}`;
    }
    const where = this.errorFrame(co);
    const err = new ErrorReply(where === undefined ? msg : `${msg} script: ${run.funcname}, on ${where.source}:${where.line}.`);
    if (run.commandError) (err as { counted?: boolean }).counted = true;
    return err;
  }

  /** The script line an error was raised on: the failing function, or its caller when that is a C function (error, redis.call). */
  private errorFrame(co: number): { source: string; line: number } | undefined {
    for (let level = 0; level < 50; level++) {
      const f = this.vm.frame(co, level);
      if (f === undefined) return undefined;
      if (f.what === 'C' || f.source === '=talus') continue;
      return f;
    }
    return undefined;
  }

  /** The thread for a script run: the last one if its script returned normally, else a new one marked pausable. */
  private thread(): number {
    if (this.threadRef !== 0) return this.threadState;
    const vm = this.vm;
    const L = vm.L;
    this.threadState = vm.fn('lua_newthread')(L);
    this.markPausable(L);
    this.threadRef = this.luaRef(L, LUA_REGISTRYINDEX);
    return this.threadState;
  }

  /** The global `name` := a table of items[from, to) (no array made of them). */
  private setGlobalArray(name: string, items: Buffer[], from: number, to: number): void {
    const vm = this.vm;
    const L = vm.L;
    vm.rawgeti(L, LUA_REGISTRYINDEX, this.globalsRef);
    vm.pushName(L, name);
    vm.createtable(L, to - from, 0);
    for (let i = from; i < to; i++) {
      vm.pushBytes(L, items[i]!);
      // redis.call(..., KEYS[1]) then passes on the request's own Buffer: its key name is converted once
      vm.remember(L, items[i]!);
      vm.rawseti(L, -2, i - from + 1);
    }
    vm.rawset(L, -3);
    vm.settop(L, -2);
  }

  // ---- redis.* functions ------------------------------------------------

  private redisCall(L: number, raise: boolean): number {
    const vm = this.vm;
    const run = this.run;
    if (run === undefined) return this.fail(L, 'redis.call/pcall can only be called inside a script invocation', true);
    const argc = vm.gettop(L);
    if (argc === 0) return this.fail(L, 'Please specify at least one argument for this redis lib call', raise);
    const args: Buffer[] = new Array(argc);
    for (let i = 1; i <= argc; i++) {
      const t = vm.type(L, i);
      if (t === LuaType.Number) {
        args[i - 1] = this.numberArg(vm.tonumber(L, i));
      } else if (t === LuaType.String) {
        args[i - 1] = vm.toArg(L, i)!;
      } else {
        vm.settop(L, 0);
        return this.fail(L, 'Lua redis lib command arguments must be strings or integers', raise);
      }
    }
    vm.settop(L, 0);
    const outcome = run.host.call(args);
    if (isWait(outcome)) {
      if (!vm.canYield(L) || !this.isPausable(L)) {
        return this.fail(L, 'Talus cannot load an undeclared cold key from inside pcall, a metamethod or an iterator: name it in KEYS', raise);
      }
      run.pending = { args, raise, wait: outcome.wait, thread: L };
      return vm.yield(L, 0);
    }
    if (raise && outcome instanceof ErrorReply) {
      run.commandError = true;
      this.pushErrorTable(L, errorText(outcome));
      return vm.error(L);
    }
    this.pushReply(L, outcome, run.resp, 0);
    return 1;
  }

  /** A number argument of redis.call as Redis formats it (%.17g); the last one's Buffer is given again for the same number (an EXPIRE's seconds). */
  private numberArg(x: number): Buffer {
    if (Object.is(x, this.lastNumber)) return this.lastNumberBytes;
    this.lastNumber = x;
    this.lastNumberBytes = Buffer.from(formatG(x, 17), 'latin1');
    return this.lastNumberBytes;
  }

  /**
   * Whether a pause (yield) of thread L reaches the engine: L is the script's
   * coroutine or one that the yieldable pcall made (each passes a pause on
   * to its caller); a yield in a coroutine of the script's own would not.
   */
  private isPausable(L: number): boolean {
    const vm = this.vm;
    vm.getfield(L, LUA_REGISTRYINDEX, 'talus_pausable');
    vm.fn('lua_pushthread')(L);
    vm.rawget(L, -2);
    const yes = vm.toboolean(L, -1) !== 0;
    vm.settop(L, -3);
    return yes;
  }

  /** Mark the thread on top of L's stack as the script's own (see isPausable). */
  private markPausable(L: number): void {
    const vm = this.vm;
    vm.getfield(L, LUA_REGISTRYINDEX, 'talus_pausable');
    vm.pushvalue(L, -2);
    vm.pushboolean(L, 1);
    vm.rawset(L, -3);
    vm.settop(L, -2);
  }

  /** A Redis error table {err=...} on the stack; raised (redis.call) or returned (redis.pcall). */
  private fail(L: number, message: string, raise: boolean): number {
    this.pushErrorTable(L, `ERR ${message}`);
    return raise ? this.vm.error(L) : 1;
  }

  private pushErrorTable(L: number, text: string): void {
    const vm = this.vm;
    vm.createtable(L, 0, 1);
    vm.pushString(L, 'err');
    vm.pushString(L, text);
    vm.rawset(L, -3);
  }

  private onHook(L: number): void {
    const run = this.run;
    const vm = this.vm;
    if (run === undefined) {
      if (this.loadStartedAt !== undefined && performance.now() - this.loadStartedAt > LOAD_TIMEOUT_MS) {
        this.pushErrorTable(L, 'ERR FUNCTION LOAD timeout');
        vm.error(L);
      }
      return;
    }
    if (run.raiseOnResume !== undefined) {
      const err = run.raiseOnResume;
      run.raiseOnResume = undefined;
      vm.sethook(L, this.hookFn, MASK_COUNT, HOOK_COUNT);
      this.pushErrorTable(L, errorText(err));
      vm.error(L);
      return;
    }
    if (run.killed) {
      // every line from now on: a pcall in the script cannot swallow it for good
      vm.sethook(L, this.hookFn, MASK_LINE, 0);
      this.pushErrorTable(L, KILL_MESSAGE);
      vm.error(L);
      return;
    }
    if (performance.now() - run.sliceStart >= SLICE_MS && vm.canYield(L) && this.isPausable(L)) vm.yield(L, 0);
  }

  // ---- conversions -------------------------------------------------------

  /** A command's reply as the Lua value Redis gives scripts (RESP2 or RESP3 rules: redis.setresp). */
  private pushReply(L: number, r: Reply, resp: 2 | 3, depth: number): void {
    const vm = this.vm;
    if (depth > 0 && depth % 32 === 0) vm.fn('lua_checkstack')(L, 64);
    if (r === null) {
      if (resp === 2) vm.pushboolean(L, 0);
      else vm.pushnil(L);
    } else if (typeof r === 'number') {
      vm.pushnumber(L, r);
    } else if (typeof r === 'bigint') {
      vm.pushnumber(L, Number(r));
    } else if (Buffer.isBuffer(r)) {
      vm.pushBytes(L, r);
    } else if (Array.isArray(r)) {
      vm.createtable(L, r.length, 0);
      for (let i = 0; i < r.length; i++) {
        this.pushReply(L, r[i]!, resp, depth + 1);
        vm.rawseti(L, -2, i + 1);
      }
    } else if (r instanceof SimpleString) {
      this.pushField(L, 'ok', () => vm.pushString(L, r.value));
    } else if (r instanceof ErrorReply) {
      this.pushErrorTable(L, errorText(r));
    } else if (r instanceof MapReply) {
      if (resp === 2) return this.pushReply(L, r.entries.flat(), resp, depth);
      this.pushField(L, 'map', () => {
        vm.createtable(L, 0, r.entries.length);
        for (const [k, v] of r.entries) {
          this.pushReply(L, k, resp, depth + 1);
          this.pushReply(L, v, resp, depth + 1);
          vm.rawset(L, -3);
        }
      });
    } else if (r instanceof SetReply) {
      if (resp === 2) return this.pushReply(L, r.items, resp, depth);
      this.pushField(L, 'set', () => {
        vm.createtable(L, 0, r.items.length);
        for (const m of r.items) {
          this.pushReply(L, m, resp, depth + 1);
          vm.pushboolean(L, 1);
          vm.rawset(L, -3);
        }
      });
    } else if (r instanceof BoolReply) {
      if (resp === 2) vm.pushnumber(L, r.value ? 1 : 0);
      else vm.pushboolean(L, r.value ? 1 : 0);
    } else if (r instanceof DoubleReply) {
      if (resp === 2) this.pushReply(L, readReply(encodeReply(r, 2)), resp, depth);
      else this.pushField(L, 'double', () => vm.pushnumber(L, r.value));
    } else if (r instanceof VerbatimReply) {
      const text = typeof r.text === 'string' ? Buffer.from(r.text, 'latin1') : r.text;
      if (resp === 2) return vm.pushBytes(L, text);
      this.pushField(L, 'verbatim_string', () => {
        vm.createtable(L, 0, 2);
        vm.pushString(L, 'format');
        vm.pushString(L, r.format);
        vm.rawset(L, -3);
        vm.pushString(L, 'string');
        vm.pushBytes(L, text);
        vm.rawset(L, -3);
      });
    } else if (r instanceof NullArray) {
      if (resp === 2) vm.pushboolean(L, 0);
      else vm.pushnil(L);
    } else if (r instanceof PushReply) {
      this.pushReply(L, r.items, resp, depth);
    } else if (r instanceof RawReply) {
      this.pushReply(L, readReply(r.bytes), resp, depth);
    } else {
      vm.pushnil(L);
    }
  }

  private pushField(L: number, name: string, pushValue: () => void): void {
    const vm = this.vm;
    vm.createtable(L, 0, 1);
    vm.pushString(L, name);
    pushValue();
    vm.rawset(L, -3);
  }

  /** The Lua value on top of the stack as the reply Redis makes of it (popped). */
  private toReply(L: number, run: Run, depth: number): Reply {
    const vm = this.vm;
    if (depth > MAX_REPLY_DEPTH || (depth > 0 && vm.fn('lua_checkstack')(L, 4) === 0)) {
      vm.settop(L, -2);
      return new ErrorReply('ERR reached lua stack limit');
    }
    const t = vm.type(L, -1);
    let reply: Reply;
    switch (t) {
      case LuaType.String:
        reply = vm.toBytes(L, -1)!;
        break;
      case LuaType.Boolean: {
        const b = vm.toboolean(L, -1) !== 0;
        reply = run.resp === 2 ? (b ? 1 : null) : new BoolReply(b);
        break;
      }
      case LuaType.Number:
        reply = toInteger(vm.tonumber(L, -1));
        break;
      case LuaType.Table:
        reply = this.tableToReply(L, run, depth);
        break;
      default:
        reply = null;
    }
    vm.settop(L, -2);
    return reply;
  }

  /** A table: an error, status, double, big number, verbatim string, map, set, or else an array up to its first nil. */
  private tableToReply(L: number, run: Run, depth: number): Reply {
    const vm = this.vm;
    const field = (name: string): LuaType => {
      vm.pushString(L, name);
      vm.rawget(L, -2);
      return vm.type(L, -1);
    };
    /** the table's field `name` if it holds a `type`, popped; undefined (and nothing left) otherwise */
    const scalar = <T>(name: string, type: LuaType, read: () => T): T | undefined => {
      const value = field(name) === type ? read() : undefined;
      vm.settop(L, -2);
      return value;
    };
    const err = scalar('err', LuaType.String, () => vm.toLatin1(L, -1)!);
    if (err !== undefined) return new ErrorReply(err);
    const ok = scalar('ok', LuaType.String, () => vm.toLatin1(L, -1)!);
    if (ok !== undefined) return new SimpleString(ok.replace(/[\r\n]/g, ' '));
    const double = scalar('double', LuaType.Number, () => vm.tonumber(L, -1));
    if (double !== undefined) return new DoubleReply(double);
    const big = scalar('big_number', LuaType.String, () => vm.toLatin1(L, -1)!.replace(/[\r\n]/g, ' '));
    if (big !== undefined) return new RawReply(Buffer.from(run.clientProtocol === 3 ? `(${big}\r\n` : `$${big.length}\r\n${big}\r\n`, 'latin1'));
    if (field('verbatim_string') === LuaType.Table) {
      vm.getfield(L, -1, 'format');
      vm.getfield(L, -2, 'string');
      if (vm.type(L, -2) === LuaType.String && vm.type(L, -1) === LuaType.String) {
        const reply = new VerbatimReply(vm.toLatin1(L, -2)!, vm.toBytes(L, -1)!);
        vm.settop(L, -4);
        return reply;
      }
      vm.settop(L, -3);
    }
    vm.settop(L, -2);
    if (field('map') === LuaType.Table) {
      const entries: Array<[Reply, Reply]> = [];
      vm.pushnil(L);
      while (vm.next(L, -2) !== 0) {
        vm.pushvalue(L, -2);
        const k = this.toReply(L, run, depth + 1);
        const v = this.toReply(L, run, depth + 1);
        entries.push([k, v]);
      }
      vm.settop(L, -2);
      return new MapReply(entries);
    }
    vm.settop(L, -2);
    if (field('set') === LuaType.Table) {
      const items: Reply[] = [];
      vm.pushnil(L);
      while (vm.next(L, -2) !== 0) {
        vm.settop(L, -2);
        vm.pushvalue(L, -1);
        items.push(this.toReply(L, run, depth + 1));
      }
      vm.settop(L, -2);
      return new SetReply(items);
    }
    vm.settop(L, -2);
    const items: Reply[] = [];
    for (let j = 1; ; j++) {
      vm.rawgeti(L, -1, j);
      if (vm.type(L, -1) === LuaType.Nil) {
        vm.settop(L, -2);
        break;
      }
      items.push(this.toReply(L, run, depth + 1));
    }
    return items;
  }

  // ---- the environment ---------------------------------------------------

  /** cjson, cmsgpack, bit and struct as globals (made read-only with the others by setUp). */
  private installLibraries(): void {
    const vm = this.vm;
    const L = vm.L;
    const libraries: Array<[string, LuaFunctions]> = [
      ['cjson', cjsonLibrary(vm)], ['cmsgpack', cmsgpackLibrary(vm)], ['bit', bitLibrary(vm)], ['struct', structLibrary(vm)],
    ];
    for (const [name, functions] of libraries) {
      vm.createtable(L, 0, Object.keys(functions).length + 1);
      for (const [fname, fn] of Object.entries(functions)) {
        vm.fn('lua_pushcclosure')(L, vm.cfunction(fn), 0);
        vm.setfield(L, -2, fname);
      }
      if (name === 'cjson') {
        vm.pushNull(L);
        vm.setfield(L, -2, 'null');
      }
      vm.setfield(L, LUA_GLOBALSINDEX, name);
    }
  }

  private setUp(): void {
    const vm = this.vm;
    const L = vm.L;
    for (const lib of ['base', 'table', 'string', 'math', 'debug']) {
      vm.fn(`luaopen_${lib}`)(L);
      vm.settop(L, 0);
    }
    vm.createtable(L, 0, 16);
    const register = (name: string, fn: (L: number) => number) => {
      vm.fn('lua_pushcclosure')(L, vm.cfunction(fn), 0);
      vm.setfield(L, -2, name);
    };
    register('call', (S) => this.redisCall(S, true));
    register('__killed', (S) => {
      vm.pushboolean(S, this.run?.killed === true ? 1 : 0);
      return 1;
    });
    register('pcall', (S) => this.redisCall(S, false));
    register('acl_check_cmd', (S) => {
      if (this.run === undefined) return this.fail(S, 'redis.acl_check_cmd can only be called inside a script invocation', true);
      const argc = vm.gettop(S);
      if (argc === 0) return this.fail(S, 'Please specify at least one argument for this redis lib call', true);
      const args: Buffer[] = [];
      for (let i = 1; i <= argc; i++) {
        const t = vm.type(S, i);
        if (t === LuaType.Number) args.push(Buffer.from(formatG(vm.tonumber(S, i), 17), 'latin1'));
        else if (t === LuaType.String) args.push(vm.toBytes(S, i)!);
        else return this.fail(S, 'Lua redis lib command arguments must be strings or integers', true);
      }
      vm.settop(S, 0);
      const ok = this.run.host.aclCheck(args);
      if (ok === undefined) return this.fail(S, 'Invalid command passed to redis.acl_check_cmd()', true);
      vm.pushboolean(S, ok ? 1 : 0);
      return 1;
    });
    register('sha1hex', (S) => {
      if (vm.gettop(S) !== 1) return this.fail(S, 'wrong number of arguments', true);
      const data = vm.toBytes(S, 1) ?? Buffer.alloc(0);
      vm.pushString(S, createHash('sha1').update(data).digest('hex'));
      return 1;
    });
    register('log', (S) => {
      const n = vm.gettop(S);
      if (n < 2) return this.fail(S, 'redis.log() requires two arguments or more.', true);
      if (vm.type(S, 1) !== LuaType.Number) return this.fail(S, 'First argument must be a number (log level).', true);
      const level = vm.tonumber(S, 1);
      if (level < 0 || level > 3) return this.fail(S, 'Invalid debug level.', true);
      const parts: string[] = [];
      for (let i = 2; i <= n; i++) {
        const s = vm.toLatin1(S, i);
        if (s !== undefined) parts.push(s);
      }
      this.run?.host.log(level, parts.join(' '));
      return 0;
    });
    register('setresp', (S) => {
      if (this.run === undefined) return this.fail(S, 'redis.setresp can only be called inside a script invocation', true);
      if (vm.gettop(S) !== 1) return this.fail(S, 'redis.setresp() requires one argument.', true);
      const v = vm.tonumber(S, 1);
      if (v !== 2 && v !== 3) return this.fail(S, 'RESP version must be 2 or 3.', true);
      this.run.resp = v;
      return 0;
    });
    register('set_repl', (S) => {
      if (this.run === undefined) return this.fail(S, 'redis.set_repl can only be called inside a script invocation', true);
      if (vm.gettop(S) !== 1) return this.fail(S, 'redis.set_repl() requires two arguments.', true);
      const v = vm.tonumber(S, 1);
      if (!(v >= 0 && v <= 3 && Number.isInteger(v))) return this.fail(S, 'Invalid replication flags. Use REPL_AOF, REPL_REPLICA, REPL_ALL or REPL_NONE.', true);
      // Talus logs effects and has no AOF apart from its change log: the flag is accepted and has no effect.
      return 0;
    });
    vm.setfield(L, LUA_GLOBALSINDEX, 'redis');
    this.installLibraries();
    vm.run(`
      local G = _G
      dofile = nil loadfile = nil print = nil
      local rawpcall, rawerror, rawtype = pcall, error, type
      local create, resume, yield, running, status = coroutine.create, coroutine.resume, coroutine.yield, coroutine.running, coroutine.status
      local killed = redis.__killed
      local function unwrap(ok, ...)
        if ok then return true, ... end
        local e = ...
        if rawtype(e) == 'table' and rawtype(e.err) == 'string' then return false, e.err end
        return false, e
      end
      -- Threads whose pauses (an undeclared cold key, a time slice) reach the engine: the
      -- script's coroutine (marked by the engine) and those of the pcall below.
      local pausable = setmetatable({}, {__mode = 'k'})
      debug.getregistry().talus_pausable = pausable
      local function relay(co, ok, ...)
        if not ok then
          -- SCRIPT KILL's error goes on up: a pcall cannot swallow it
          if killed() then rawerror((...), 0) end
          return unwrap(false, ...)
        end
        if status(co) == 'dead' then return true, ... end
        -- paused: pause the caller too, and hand what it is resumed with back down
        return relay(co, resume(co, yield(...)))
      end
      -- Lua 5.1 cannot yield across pcall (a C function), so a script's pcall runs its
      -- function as a coroutine: a pause inside it pauses the whole script. Redis 7's
      -- pcall gives a redis.call error as its message, not the error table.
      pcall = function(f, ...)
        local me = running()
        if me == nil or not pausable[me] or rawtype(f) ~= 'function' then return unwrap(rawpcall(f, ...)) end
        local co = create(function(...) return f(...) end)
        pausable[co] = true
        return relay(co, resume(co, ...))
      end
      -- This Lua is a 32-bit build (wasm32: lua_Integer is a 32-bit ptrdiff_t), Redis's a 64-bit
      -- one: string.format's %d and %i, %x and %X took a value past 32 bits (a time in ms, a
      -- big counter) modulo 2^32. Such a value is formatted here from its double, truncated
      -- toward zero as C's cast to a 64-bit integer does; past 64 bits (and NaN) that cast
      -- gives INT64_MIN on x86-64, as Redis answers.
      local rawformat, tonumber, floor, ceil = string.format, tonumber, math.floor, math.ceil
      local TWO31, TWO32, TWO63 = 2147483648, 4294967296, 9223372036854775808
      local HEX = {[false] = '0123456789abcdef', [true] = '0123456789ABCDEF'}
      local function wide(v)
        local n = (rawtype(v) == 'number' or rawtype(v) == 'string') and tonumber(v) or nil
        return n ~= nil and (n >= TWO31 or n < -TWO31 or n ~= n)
      end
      local function hex32(n, upper)
        local out = ''
        repeat
          local d = n % 16
          out = HEX[upper]:sub(d + 1, d + 1) .. out
          n = (n - d) / 16
        until n == 0
        return out
      end
      local function wideInteger(n, conv)
        n = tonumber(n)
        if n ~= n or n >= TWO63 or n < -TWO63 then n = -TWO63 end
        n = n < 0 and ceil(n) or floor(n)
        if conv == 'd' or conv == 'i' then return n < 0 and '-' or '', rawformat('%.0f', n < 0 and -n or n) end
        -- %x of a negative value is its two's complement in 64 bits
        local hi = floor(n / TWO32)
        local lo = n - hi * TWO32
        if hi < 0 then hi = hi + TWO32 end
        local upper = conv == 'X'
        if hi == 0 then return '', hex32(lo, upper) end
        local low = hex32(lo, upper)
        return '', hex32(hi, upper) .. string.rep('0', 8 - #low) .. low
      end
      string.format = function(fmt, ...)
        local n = select('#', ...)
        local slow = false
        for i = 1, n do
          if wide((select(i, ...))) then slow = true break end
        end
        if not slow or rawtype(fmt) ~= 'string' then return rawformat(fmt, ...) end
        local args, out, at, i = {...}, {}, 1, 0
        local fmtOut = {}
        while true do
          local s, e, flags, width, precision, conv = fmt:find('%%([-+ #0]*)(%d*)(%.?%d*)(.)', at)
          if s == nil then break end
          if conv ~= '%' then
            i = i + 1
            if (conv == 'd' or conv == 'i' or conv == 'x' or conv == 'X') and wide(args[i]) then
              local sign, digits = wideInteger(args[i], conv)
              if sign == '' and flags:find('+', 1, true) and (conv == 'd' or conv == 'i') then sign = '+'
              elseif sign == '' and flags:find(' ', 1, true) and (conv == 'd' or conv == 'i') then sign = ' ' end
              if flags:find('#', 1, true) and (conv == 'x' or conv == 'X') then sign = '0' .. conv end
              local w = tonumber(width) or 0
              if flags:find('0', 1, true) and not flags:find('-', 1, true) and #sign + #digits < w then
                digits = string.rep('0', w - #sign - #digits) .. digits
              end
              args[i] = sign .. digits
              fmtOut[#fmtOut + 1] = fmt:sub(at, s - 1) .. '%' .. (flags:find('-', 1, true) and '-' or '') .. width .. 's'
              at = e + 1
            end
          end
          if at <= s then
            fmtOut[#fmtOut + 1] = fmt:sub(at, e)
            at = e + 1
          end
        end
        fmtOut[#fmtOut + 1] = fmt:sub(at)
        return rawformat(table.concat(fmtOut), unpack(args, 1, n))
      end
      -- Redis's Lua loads no bytecode: a binary chunk is parsed as text, and fails as such
      local rawloadstring = loadstring
      loadstring = function(s, chunkname)
        if rawtype(s) == 'string' and s:byte(1) == 27 then return rawloadstring(' ' .. s, chunkname or s) end
        return rawloadstring(s, chunkname)
      end
      redis.__killed = nil
      local R = redis
      R.REDIS_VERSION = ${JSON.stringify(REDIS_VERSION)}
      R.REDIS_VERSION_NUM = ${REDIS_VERSION_NUM}
      R.LOG_DEBUG = 0 R.LOG_VERBOSE = 1 R.LOG_NOTICE = 2 R.LOG_WARNING = 3
      R.REPL_NONE = 0 R.REPL_AOF = 1 R.REPL_SLAVE = 2 R.REPL_REPLICA = 2 R.REPL_ALL = 3
      R.replicate_commands = function() return true end
      R.breakpoint = function() return false end
      R.debug = function() end
      R.status_reply = function(...)
        local s = ...
        if select('#', ...) ~= 1 or type(s) ~= 'string' then return {err = 'ERR wrong number or type of arguments'} end
        return {ok = s}
      end
      R.error_reply = function(...)
        local e = ...
        if select('#', ...) ~= 1 or type(e) ~= 'string' then return {err = 'ERR wrong number or type of arguments'} end
        if e:sub(1, 1) == '-' then e = e:sub(2) end
        local sp = e:find(' ', 1, true)
        local code, msg = 'ERR', e
        if sp then code, msg = e:sub(1, sp - 1), e:sub(sp + 1) end
        msg = msg:gsub('^[\\r\\n]+', ''):gsub('[\\r\\n]+$', '')
        return {err = code .. ' ' .. msg}
      end
      local function readonly(t, k)
        error('Attempt to modify a readonly table', 2)
      end
      -- read-only proxies: rawset and setmetatable refuse them too, and their metatables are read-only
      local protected = setmetatable({}, {__mode = 'k'})
      local function protect(mt)
        mt.__newindex = readonly
        mt.__metatable = setmetatable({}, {__index = mt, __newindex = readonly, __metatable = false})
        local t = setmetatable({}, mt)
        protected[t] = true
        protected[mt.__metatable] = true
        return t
      end
      local rawrawset, rawsetmetatable = rawset, setmetatable
      rawset = function(t, ...)
        if protected[t] then error('Attempt to modify a readonly table', 2) end
        return rawrawset(t, ...)
      end
      setmetatable = function(t, ...)
        if protected[t] then error('Attempt to modify a readonly table', 2) end
        return rawsetmetatable(t, ...)
      end
      G.redis = protect({__index = R})
      -- Globals are read-only to scripts, and reading one that does not exist is an error (Redis 7)
      rawsetmetatable(G, {__index = function(_, k)
        error("Script attempted to access nonexistent global variable '" .. tostring(k) .. "'", 2)
      end})
      local P = protect({__index = G})
      G._G = P
      -- the libraries are read-only too
      for _, name in ipairs({'string', 'math', 'table', 'debug', 'coroutine', 'cjson', 'cmsgpack', 'bit', 'struct'}) do
        G[name] = protect({__index = G[name]})
      end
      -- Functions (FUNCTION LOAD, FCALL): library code runs with only the library API in
      -- sight (redis.register_function, redis.log, the version); the functions it registers
      -- see the scripts' globals when called, as they share the table FG whose lookups the
      -- loader switches.
      local reg = debug.getregistry()
      local function missing(_, k)
        error("Script attempted to access nonexistent global variable '" .. tostring(k) .. "'", 2)
      end
      local FLAGS = {['no-writes'] = true, ['allow-oom'] = true, ['allow-stale'] = true, ['no-cluster'] = true, ['allow-cross-slot-keys'] = true}
      local loading
      local function fail(msg) rawerror({err = 'ERR ' .. msg}, 0) end
      local function register(...)
        if not loading then fail('redis.register_function can only be called on FUNCTION LOAD command') end
        local n = select('#', ...)
        local name, callback, flags, description
        if n == 1 then
          local t = ...
          if rawtype(t) ~= 'table' then fail('calling redis.register_function with a single argument is only applicable to Lua table (representing named arguments).') end
          for k, v in next, t do
            if rawtype(k) ~= 'string' then fail('named argument key given to redis.register_function is not a string') end
            local lk = string.lower(k)
            if lk == 'function_name' then
              if rawtype(v) ~= 'string' then fail('function_name argument given to redis.register_function must be a string') end
              name = v
            elseif lk == 'description' then
              if rawtype(v) ~= 'string' then fail('description argument given to redis.register_function must be a string') end
              description = v
            elseif lk == 'callback' then
              if rawtype(v) ~= 'function' then fail('callback argument given to redis.register_function must be a function') end
              callback = v
            elseif lk == 'flags' then
              if rawtype(v) ~= 'table' then fail('flags argument to redis.register_function must be a table representing function flags') end
              flags = v
            else
              fail('unknown argument given to redis.register_function')
            end
          end
          if not name then fail('redis.register_function must get a function name argument') end
          if not callback then fail('redis.register_function must get a callback argument') end
        elseif n == 2 then
          name, callback = ...
          if rawtype(name) ~= 'string' then fail('first argument to redis.register_function must be a string') end
          if rawtype(callback) ~= 'function' then fail('second argument to redis.register_function must be a function') end
        else
          fail('wrong number of arguments to redis.register_function')
        end
        local names = {}
        if flags then
          local i = 1
          while flags[i] ~= nil do
            local f = flags[i]
            if rawtype(f) ~= 'string' and rawtype(f) ~= 'number' then fail('unknown flag given') end
            f = string.lower(tostring(f))
            if not FLAGS[f] then fail('unknown flag given') end
            names[#names + 1] = f
            i = i + 1
          end
        end
        if not string.find(name, '^[%w_]+$') then
          fail('Library names can only contain letters, numbers, or underscores(_) and must be at least one character long')
        end
        if loading.callbacks[name] then fail('Function already exists in the library') end
        loading.callbacks[name] = callback
        loading.list[#loading.list + 1] = {name = name, description = description, flags = names}
      end
      local libraryRedis = {register_function = register, log = R.log, REDIS_VERSION = R.REDIS_VERSION,
        REDIS_VERSION_NUM = R.REDIS_VERSION_NUM, LOG_DEBUG = 0, LOG_VERBOSE = 1, LOG_NOTICE = 2, LOG_WARNING = 3}
      local LIBAPI = setmetatable({redis = protect({__index = function(_, k)
        local v = libraryRedis[k]
        if v == nil then error("Script attempted to access nonexistent global variable '" .. tostring(k) .. "'", 2) end
        return v
      end})}, {__index = missing})
      local FMT = {__newindex = readonly, __metatable = false}
      local FG = setmetatable({}, FMT)
      protected[FG] = true
      local rawsetfenv = setfenv
      reg.talus_functions = {}
      reg.talus_load_library = function(chunk)
        loading = {callbacks = {}, list = {}}
        FMT.__index = LIBAPI
        rawsetfenv(chunk, FG)
        local ok, err = rawpcall(chunk)
        FMT.__index = P
        local found = loading
        loading = nil
        if not ok then
          if rawtype(err) == 'table' and rawtype(err.err) == 'string' then err = err.err:gsub('^ERR ', '') end
          return {err = tostring(err)}
        end
        reg.talus_loaded = found.callbacks
        return found.list
      end
      debug.getregistry().talus_globals = G
      debug.getregistry().talus_proxy = P
    `);
    vm.getfield(L, LUA_REGISTRYINDEX, 'talus_proxy');
    vm.fn('lua_replace')(L, LUA_GLOBALSINDEX);
    vm.settop(L, 0);
  }
}

/** Whether `a` holds exactly the bytes of `b` (a short one, compared in JS: no call into Buffer). */
function sameBytes(a: Buffer, b: Buffer): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function isWait(o: CallOutcome): o is { wait: Promise<void> } {
  return o !== null && typeof o === 'object' && !Buffer.isBuffer(o) && 'wait' in o && o.wait instanceof Promise;
}

/** An error reply's text as scripts see it: code and message, line breaks trimmed. */
function errorText(e: ErrorReply): string {
  let text = e.raw !== undefined ? e.raw.toString('latin1') : e.message;
  if (text.startsWith('-')) text = text.slice(1);
  if (!text.includes(' ')) text = `ERR ${text}`;
  return text.replace(/^[\r\n]+|[\r\n]+$/g, '');
}

/** A Lua string literal of latin1 text (library names are letters, digits and underscores: nothing to escape, but be safe). */
function luaQuote(s: string): string {
  return `"${s.replace(/[^A-Za-z0-9_]/g, (c) => `\\${c.charCodeAt(0)}`)}"`;
}

/** C's (long long) of a Lua number. */
function toInteger(n: number): number | bigint {
  if (Number.isSafeInteger(n)) return n;
  if (!Number.isFinite(n)) return -9223372036854775808n;
  const t = Math.trunc(n);
  if (Number.isSafeInteger(t)) return t;
  const b = BigInt(t);
  return b > 9223372036854775807n || b < -9223372036854775808n ? -9223372036854775808n : b;
}

/** `#!lua flags=...`: the flags, and how many bytes of the body the line takes (its line feed stays). */
export function parseShebang(body: Buffer): { flags: Set<string>; length: number } | ErrorReply {
  if (body.length < 2 || body[0] !== 0x23 || body[1] !== 0x21) return { flags: new Set(['__compat']), length: 0 };
  const end = body.indexOf(0x0a);
  if (end < 0) return new ErrorReply('ERR Invalid script shebang');
  const parts = body.toString('latin1', 2, end).trim().split(/\s+/);
  if (parts[0] !== 'lua') return new ErrorReply(`ERR Unexpected engine in script shebang: ${parts[0]}`);
  const flags = new Set<string>();
  for (const part of parts.slice(1)) {
    if (!part.startsWith('flags=')) return new ErrorReply(`ERR Unknown lua shebang option: ${part}`);
    for (const f of part.slice(6).split(',')) {
      if (f === '') continue;
      if (!SCRIPT_FLAGS.has(f)) return new ErrorReply(`ERR Unexpected flag in script shebang: ${f}`);
      flags.add(f);
    }
  }
  return { flags, length: end };
}
