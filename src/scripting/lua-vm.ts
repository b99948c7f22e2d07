/**
 * A Lua 5.1 state (wasmoon-lua5.1: the reference Lua 5.1 compiled to WASM),
 * driven through its C API. Values cross as bytes copied in and out of the
 * WASM heap (Lua strings are binary; the package's string helpers would
 * UTF-8 them), and the heap the state may allocate is bounded.
 */
import { LuaApi } from 'wasmoon-lua5.1';

export const LUA_REGISTRYINDEX = -10000;
export const LUA_GLOBALSINDEX = -10002;
export const LUA_MULTRET = -1;
export const enum LuaType { Nil = 0, Boolean = 1, LightUserdata = 2, Number = 3, String = 4, Table = 5, Function = 6, Userdata = 7, Thread = 8 }
export const enum LuaStatus { Ok = 0, Yield = 1, ErrRun = 2, ErrSyntax = 3, ErrMem = 4, ErrErr = 5 }
/** lua_sethook masks */
export const MASK_LINE = 4;
export const MASK_COUNT = 8;

/** The WASM exports this module calls (raw pointers and numbers). */
interface LuaModule {
  HEAPU8: Uint8Array;
  HEAPU16: Uint16Array;
  HEAP32: Int32Array;
  HEAPU32: Uint32Array;
  addFunction(fn: (...args: number[]) => number | void, signature: string): number;
  [name: string]: unknown;
}
type Fn = (...args: number[]) => number;
/** a WebAssembly instance's exports */
type Exports = Record<string, unknown>;

/** Offsets in Lua 5.1's lua_State and lua_Debug on wasm32 (checked by test/unit/lua-vm.test.ts through their effects). */
const NCCALLS_OFFSET = 52;
const BASECCALLS_OFFSET = 54;
const DEBUG_SIZE = 100;
const DEBUG_WHAT = 12;
const DEBUG_SOURCE = 16;
const DEBUG_CURRENTLINE = 20;
/** Field names kept as C strings (LuaVm.getfield): the fixed ones and the first library and function names. */
const NAME_CACHE_LIMIT = 1024;
/** Strings up to this long are copied out byte by byte, and remembered by toArg. */
const SHORT_COPY = 64;
/** How many strings toArg remembers (a script's command names, its keys, an argument or two). */
const RECENT_ARGS = 8;

export class LuaVm {
  readonly L: number;
  /** bytes the state holds now */
  used = 0;
  /** the most it may hold (lua-heap-limit); an allocation past it fails as "not enough memory" */
  limit: number;
  private readonly m: LuaModule;
  private readonly lenPtr: number;
  private readonly debugPtr: number;
  private scratch = 0;
  private scratchSize = 0;
  readonly pushlstring: (L: number, p: number, n: number) => void;
  readonly pushnumber: (L: number, n: number) => void;
  readonly pushboolean: (L: number, b: number) => void;
  readonly pushnil: (L: number) => void;
  readonly gettop: Fn;
  readonly settop: (L: number, i: number) => void;
  readonly type: Fn;
  readonly tonumber: Fn;
  readonly toboolean: Fn;
  readonly rawgeti: (L: number, t: number, i: number) => void;
  readonly rawseti: (L: number, t: number, i: number) => void;
  readonly rawset: (L: number, t: number) => void;
  readonly rawget: (L: number, t: number) => void;
  readonly createtable: (L: number, a: number, h: number) => void;
  readonly next: Fn;
  readonly pushvalue: (L: number, i: number) => void;
  readonly objlen: Fn;
  readonly resume: Fn;
  readonly yield: Fn;
  readonly error: Fn;
  readonly pcall: Fn;
  readonly xmove: (a: number, b: number, n: number) => void;
  private readonly tolstring: Fn;
  private readonly getfieldFn: (L: number, index: number, k: number) => void;
  private readonly setfieldFn: (L: number, index: number, k: number) => void;

  private readonly natives = new Map<string, Fn>();
  /** toArg's last strings read: their address in the heap and the Buffer given for them */
  private readonly recentArgAt = new Array<number>(RECENT_ARGS).fill(0);
  private readonly recentArgs = new Array<Buffer | undefined>(RECENT_ARGS).fill(undefined);
  private nextRecentArg = 0;
  /**
   * Field names as C strings in the WASM heap, kept: a script run looks up
   * the same few names every time, and a malloc, copy and free per lookup
   * was a good part of its marshalling. Bounded (NAME_CACHE_LIMIT), as names
   * built from data (library and function names) are many.
   */
  private readonly names = new Map<string, number>();

  private constructor(private readonly api: LuaApi, limit: number, private readonly exports?: Exports) {
    this.m = api.module as unknown as LuaModule;
    const m = this.m;
    this.limit = limit;
    // the instance's own exports where known: the package's wrappers assert and spread their arguments,
    // and the allocator below runs on every Lua allocation
    const native = (name: string) => (typeof exports?.[name] === 'function' ? exports[name] : m[`_${name}`]) as Fn;
    const malloc = native('malloc');
    const free = native('free') as (p: number) => void;
    const realloc = native('realloc');
    const alloc = m.addFunction((_ud: number, p: number, oldSize: number, newSize: number) => {
      if (newSize === 0) {
        if (p !== 0) {
          this.used -= oldSize;
          free(p);
        }
        return 0;
      }
      const delta = p !== 0 ? newSize - oldSize : newSize;
      if (newSize > oldSize && this.limit > 0 && this.used + delta > this.limit) return 0;
      const q = realloc(p, newSize);
      if (q !== 0) this.used += delta;
      return q;
    }, 'iiiii');
    this.L = (m['_lua_newstate'] as Fn)(alloc, 0);
    if (this.L === 0) throw new Error('cannot create a Lua state');
    this.lenPtr = malloc(4);
    this.debugPtr = malloc(DEBUG_SIZE);
    const f = (name: string) => this.fn(name);
    this.pushlstring = f('lua_pushlstring');
    this.pushnumber = f('lua_pushnumber');
    this.pushboolean = f('lua_pushboolean');
    this.pushnil = f('lua_pushnil');
    this.gettop = f('lua_gettop');
    this.settop = f('lua_settop');
    this.type = f('lua_type');
    this.tonumber = f('lua_tonumber');
    this.toboolean = f('lua_toboolean');
    this.rawgeti = f('lua_rawgeti');
    this.rawseti = f('lua_rawseti');
    this.rawset = f('lua_rawset');
    this.rawget = f('lua_rawget');
    this.createtable = f('lua_createtable');
    this.next = f('lua_next');
    this.pushvalue = f('lua_pushvalue');
    this.objlen = f('lua_objlen');
    this.resume = f('lua_resume');
    this.yield = f('lua_yield');
    this.error = f('lua_error');
    this.pcall = f('lua_pcall');
    this.xmove = f('lua_xmove');
    this.tolstring = f('lua_tolstring');
    this.getfieldFn = f('lua_getfield');
    this.setfieldFn = f('lua_setfield');
  }

  static async create(limit: number): Promise<LuaVm> {
    // The package's build wraps every export in an assertion taking rest
    // arguments (an array per call, ~60 calls a script): keep the instance's
    // own exports, seen as the package instantiates its module.
    const wasm = (globalThis as unknown as { WebAssembly: { instantiate: (...args: unknown[]) => Promise<unknown> } }).WebAssembly;
    const instantiate = wasm.instantiate;
    let exports: Exports | undefined;
    wasm.instantiate = async (...args: unknown[]) => {
      const result = await instantiate.apply(wasm, args);
      // instantiate(bytes) gives { module, instance }, instantiate(module) the instance
      const instance = (result as { instance?: { exports: Exports } }).instance ?? (result as { exports?: Exports });
      exports ??= instance.exports;
      return result;
    };
    let api: LuaApi;
    try {
      api = await LuaApi.initialize();
    } finally {
      wasm.instantiate = instantiate;
    }
    return new LuaVm(api, limit, exports);
  }

  /** A C function of the module: the instance's export when known, else the package's wrapper. */
  fn(name: string): Fn {
    let f = this.natives.get(name);
    if (f === undefined) {
      const raw = this.exports?.[name];
      f = (typeof raw === 'function' ? raw : this.m[`_${name}`]) as Fn;
      this.natives.set(name, f);
    }
    return f;
  }

  /** A JS function callable from Lua (a lua_CFunction: it gets the state, returns how many results it pushed). */
  cfunction(fn: (L: number) => number): number {
    return this.m.addFunction(fn, 'ii');
  }

  /** A hook (lua_Hook). */
  hook(fn: (L: number, ar: number) => void): number {
    return this.m.addFunction(fn, 'vii');
  }

  /** Copy bytes into the WASM heap (a scratch buffer reused between calls). */
  private bytesIn(b: Buffer | Uint8Array): number {
    if (b.length > this.scratchSize) {
      if (this.scratch !== 0) this.fn('free')(this.scratch);
      this.scratchSize = Math.max(256, b.length * 2);
      this.scratch = this.fn('malloc')(this.scratchSize);
      if (this.scratch === 0) throw new Error('out of WASM memory');
    }
    this.m.HEAPU8.set(b, this.scratch);
    return this.scratch;
  }

  pushBytes(L: number, b: Buffer | Uint8Array): void {
    this.pushlstring(L, b.length === 0 ? 0 : this.bytesIn(b), b.length);
  }

  pushString(L: number, s: string): void {
    this.pushBytes(L, Buffer.from(s, 'latin1'));
  }

  /** The string at `i` (or the number there, converted in place as lua_tolstring does), or undefined. */
  toBytes(L: number, i: number): Buffer | undefined {
    const p = this.tolstring(L, i, this.lenPtr);
    if (p === 0) return undefined;
    return this.copyOut(p, this.m.HEAPU32[this.lenPtr >> 2]!);
  }

  private copyOut(p: number, n: number): Buffer {
    const b = Buffer.allocUnsafe(n);
    const heap = this.m.HEAPU8;
    if (n <= SHORT_COPY) {
      // byte by byte: no typed-array view to make for a command name or a key
      for (let j = 0; j < n; j++) b[j] = heap[p + j]!;
    } else {
      // a typed-array copy (memcpy); Buffer.from(view) copies element by element
      b.set(heap.subarray(p, p + n));
    }
    return b;
  }

  /**
   * The Lua string at `i` as a Buffer that may be one handed out before for
   * the same string (`remember`): Lua interns its strings, so a script's
   * command names and its KEYS come back at the same address call after
   * call. The bytes are compared all the same (an address is reused once
   * its string is collected). Request arguments are never written to
   * (protocol/parser.ts; stored values are copies), so one Buffer may be
   * several commands' argument; a key that is the same Buffer is converted
   * to its name once (keyspace/names.ts). Undefined if not a string.
   */
  toArg(L: number, i: number): Buffer | undefined {
    const p = this.tolstring(L, i, this.lenPtr);
    if (p === 0) return undefined;
    const n = this.m.HEAPU32[this.lenPtr >> 2]!;
    if (n <= SHORT_COPY) {
      const heap = this.m.HEAPU8;
      for (let r = 0; r < RECENT_ARGS; r++) {
        if (this.recentArgAt[r] !== p) continue;
        const known = this.recentArgs[r]!;
        if (known.length !== n) continue;
        let j = 0;
        while (j < n && known[j] === heap[p + j]) j++;
        if (j === n) return known;
      }
    }
    const b = this.copyOut(p, n);
    if (n <= SHORT_COPY) this.rememberAt(p, b);
    return b;
  }

  /** `b` holds the bytes of the Lua string at the top of L's stack (just pushed): toArg may hand it out for that string. */
  remember(L: number, b: Buffer): void {
    if (b.length > SHORT_COPY) return;
    const p = this.tolstring(L, -1, 0);
    if (p !== 0) this.rememberAt(p, b);
  }

  private rememberAt(p: number, b: Buffer): void {
    const r = this.nextRecentArg;
    this.nextRecentArg = (r + 1) % RECENT_ARGS;
    this.recentArgAt[r] = p;
    this.recentArgs[r] = b;
  }

  toLatin1(L: number, i: number): string | undefined {
    return this.toBytes(L, i)?.toString('latin1');
  }

  /** Compile `code` as a function on top of the stack; false leaves the error message there. */
  load(L: number, code: Buffer, chunkName: string): boolean {
    const name = this.bytesInName(chunkName);
    const p = this.fn('malloc')(Math.max(1, code.length));
    this.m.HEAPU8.set(code, p);
    const status = this.fn('luaL_loadbuffer')(L, p, code.length, name);
    this.fn('free')(p);
    this.fn('free')(name);
    return status === 0;
  }

  private bytesInName(s: string): number {
    const b = Buffer.from(s + '\0', 'latin1');
    const p = this.fn('malloc')(b.length);
    this.m.HEAPU8.set(b, p);
    return p;
  }

  getfield(L: number, index: number, key: string): void {
    const k = this.names.get(key);
    if (k !== undefined) return this.getfieldFn(L, index, k);
    const n = this.bytesInName(key);
    this.getfieldFn(L, index, n);
    this.keepName(key, n);
  }

  setfield(L: number, index: number, key: string): void {
    const k = this.names.get(key);
    if (k !== undefined) return this.setfieldFn(L, index, k);
    const n = this.bytesInName(key);
    this.setfieldFn(L, index, n);
    this.keepName(key, n);
  }

  /** Push a field name (cached as getfield's are) as a Lua string. */
  pushName(L: number, key: string): void {
    let k = this.names.get(key);
    if (k === undefined) {
      k = this.bytesInName(key);
      if (!this.keepName(key, k)) {
        this.pushlstring(L, k, key.length);
        this.fn('free')(k);
        return;
      }
    }
    this.pushlstring(L, k, key.length);
  }

  /** Keep `key`'s C string `p` for the next lookups, or free it once the cache is full (false). */
  private keepName(key: string, p: number): boolean {
    if (this.names.size < NAME_CACHE_LIMIT) {
      this.names.set(key, p);
      return true;
    }
    this.fn('free')(p);
    return false;
  }

  /**
   * Lua 5.1 can yield (lua_yield from a C function or a count hook) only
   * when no C call is between the running code and the resume: inside
   * pcall, a metamethod or an iterator called from C it cannot.
   */
  canYield(L: number): boolean {
    const h = this.m.HEAPU16;
    return h[(L + NCCALLS_OFFSET) >> 1]! <= h[(L + BASECCALLS_OFFSET) >> 1]!;
  }

  /** What and where the function at stack `level` of thread L is running; undefined past the top. */
  frame(L: number, level: number): { what: string; source: string; line: number } | undefined {
    const ar = this.debugPtr;
    if (this.fn('lua_getstack')(L, level, ar) === 0) return undefined;
    const opts = this.bytesInName('Sl');
    this.fn('lua_getinfo')(L, opts, ar);
    this.fn('free')(opts);
    const cstr = (p: number) => {
      if (p === 0) return '';
      const heap = this.m.HEAPU8;
      let end = p;
      while (heap[end] !== 0) end++;
      return Buffer.from(heap.subarray(p, end)).toString('latin1');
    };
    const u32 = this.m.HEAPU32;
    return { what: cstr(u32[(ar + DEBUG_WHAT) >> 2]!), source: cstr(u32[(ar + DEBUG_SOURCE) >> 2]!), line: this.m.HEAP32[(ar + DEBUG_CURRENTLINE) >> 2]! };
  }

  sethook(L: number, hook: number, mask: number, count: number): void {
    this.fn('lua_sethook')(L, hook, mask, count);
  }

  /** Run `code` on the main state (set-up only); throws its error. */
  run(code: string): void {
    if (!this.load(this.L, Buffer.from(code, 'latin1'), '=talus') || this.pcall(this.L, 0, 0, 0) !== 0) {
      const msg = this.toLatin1(this.L, -1);
      this.settop(this.L, 0);
      throw new Error(`Lua set-up failed: ${msg}`);
    }
  }

  /** luaL_checknumber: the number at `i`, or Lua's "bad argument" error raised. */
  checkNumber(L: number, i: number): number {
    return this.fn('luaL_checknumber')(L, i);
  }

  /** luaL_optnumber */
  optNumber(L: number, i: number, fallback: number): number {
    return this.fn('luaL_optnumber')(L, i, fallback);
  }

  /** luaL_checklstring: the string (or number, converted) at `i`, or Lua's "bad argument" error raised. */
  checkBytes(L: number, i: number): Buffer {
    this.fn('luaL_checklstring')(L, i, 0);
    return this.toBytes(L, i)!;
  }

  /** Raise `message` as a Lua error, as a C function's `return luaL_error(...)`: prefixed with its caller's position. */
  raise(L: number, message: string): number {
    this.fn('luaL_where')(L, 1);
    this.pushString(L, message);
    this.fn('lua_concat')(L, 2);
    return this.error(L);
  }

  pushNull(L: number): void {
    this.fn('lua_pushlightuserdata')(L, 0);
  }

  /** The value at `i` is a light userdata NULL (cjson.null). */
  isNull(L: number, i: number): boolean {
    return this.type(L, i) === LuaType.LightUserdata && this.fn('lua_touserdata')(L, i) === 0;
  }

  gcStep(size: number): void {
    this.fn('lua_gc')(this.L, 5, size); // LUA_GCSTEP
  }

  gcCollect(): void {
    this.fn('lua_gc')(this.L, 2, 0); // LUA_GCCOLLECT
  }
}
