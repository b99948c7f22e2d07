/**
 * The `cjson` library Redis gives scripts (lua-cjson 2.1's API and texts):
 * encode, decode, the settings functions (encode_max_depth,
 * decode_max_depth, encode_invalid_numbers, decode_invalid_numbers,
 * encode_number_precision, encode_sparse_array, encode_keep_buffer) and
 * cjson.null. Strings are bytes: encode escapes only what JSON needs
 * (and '/', as lua-cjson does), decode turns \u escapes into UTF-8.
 * Settings hold for the whole server, as in Redis.
 */
import { LuaType, type LuaVm } from './lua-vm.js';
import type { LuaFunctions } from './lua-bit.js';
import { formatG } from './number-format.js';

interface Settings {
  encodeMaxDepth: number;
  decodeMaxDepth: number;
  /** 0: refuse NaN and Inf; 1: write them; 2: write null */
  encodeInvalidNumbers: 0 | 1 | 2;
  decodeInvalidNumbers: boolean;
  precision: number;
  sparseConvert: boolean;
  sparseRatio: number;
  sparseSafe: number;
  keepBuffer: boolean;
}

const defaults = (): Settings => ({
  encodeMaxDepth: 1000, decodeMaxDepth: 1000, encodeInvalidNumbers: 0, decodeInvalidNumbers: true,
  precision: 14, sparseConvert: false, sparseRatio: 2, sparseSafe: 10, keepBuffer: true,
});

const ESCAPES: Record<number, string> = { 0x22: '\\"', 0x5c: '\\\\', 0x2f: '\\/', 0x08: '\\b', 0x0c: '\\f', 0x0a: '\\n', 0x0d: '\\r', 0x09: '\\t', 0x7f: '\\u007f' };

function escapeString(s: Buffer): string {
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    const e = ESCAPES[c];
    if (e !== undefined) out += e;
    else if (c < 0x20) out += `\\u${c.toString(16).padStart(4, '0')}`;
    else out += String.fromCharCode(c);
  }
  return out + '"';
}

const TYPE_NAMES = ['nil', 'boolean', 'userdata', 'number', 'string', 'table', 'function', 'userdata', 'thread'];

export function cjsonLibrary(vm: LuaVm): LuaFunctions {
  const cfg = defaults();

  // ---- encode (latin1 text: one char per byte) ----
  const fail = (L: number, type: number, reason: string): never => {
    vm.raise(L, `Cannot serialise ${TYPE_NAMES[type] ?? 'unknown'}: ${reason}`);
    throw new Error('unreachable');
  };
  const number = (L: number, n: number): string => {
    if (!Number.isFinite(n)) {
      if (cfg.encodeInvalidNumbers === 0) fail(L, LuaType.Number, 'must not be NaN or Inf');
      if (cfg.encodeInvalidNumbers === 2) return 'null';
      if (Number.isNaN(n)) return 'nan';
    }
    return formatG(n, cfg.precision);
  };
  /** -1: not an array (an object); else its length (0: an empty table, written as an object) */
  const arrayLength = (L: number): number => {
    let max = 0;
    let items = 0;
    vm.pushnil(L);
    while (vm.next(L, -2) !== 0) {
      vm.settop(L, -2);
      const k = vm.type(L, -1) === LuaType.Number ? vm.tonumber(L, -1) : 0;
      if (k >= 1 && Math.floor(k) === k) {
        if (k > max) max = k;
        items++;
        continue;
      }
      vm.settop(L, -2);
      return -1;
    }
    if (cfg.sparseRatio > 0 && max > items * cfg.sparseRatio && max > cfg.sparseSafe) {
      if (!cfg.sparseConvert) fail(L, LuaType.Table, 'excessively sparse array');
      return -1;
    }
    return max;
  };
  const encode = (L: number, depth: number): string => {
    const t = vm.type(L, -1);
    switch (t) {
      case LuaType.String:
        return escapeString(vm.toBytes(L, -1)!);
      case LuaType.Number:
        return number(L, vm.tonumber(L, -1));
      case LuaType.Boolean:
        return vm.toboolean(L, -1) !== 0 ? 'true' : 'false';
      case LuaType.Nil:
        return 'null';
      case LuaType.LightUserdata:
        if (vm.isNull(L, -1)) return 'null';
        break;
      case LuaType.Table: {
        depth++;
        if (depth > cfg.encodeMaxDepth || vm.fn('lua_checkstack')(L, 3) === 0) vm.raise(L, `Cannot serialise, excessive nesting (${depth})`);
        const n = arrayLength(L);
        const parts: string[] = [];
        if (n > 0) {
          for (let i = 1; i <= n; i++) {
            vm.rawgeti(L, -1, i);
            parts.push(encode(L, depth));
            vm.settop(L, -2);
          }
          return `[${parts.join(',')}]`;
        }
        vm.pushnil(L);
        while (vm.next(L, -2) !== 0) {
          const kt = vm.type(L, -2);
          let key: string;
          if (kt === LuaType.String) key = escapeString(vm.toBytes(L, -2)!);
          else if (kt === LuaType.Number) key = `"${number(L, vm.tonumber(L, -2))}"`;
          else fail(L, kt, 'table key must be a number or string');
          parts.push(`${key!}:${encode(L, depth)}`);
          vm.settop(L, -2);
        }
        return `{${parts.join(',')}}`;
      }
    }
    return fail(L, t, 'type not supported');
  };

  // ---- decode ----
  const decode = (L: number, input: Buffer): void => {
    // a NUL in the first two bytes means UTF-16/32 to lua-cjson; past them, it reads a C string: a NUL ends the text
    if (input.length >= 2 && (input[0] === 0 || input[1] === 0)) {
      vm.raise(L, 'JSON parser does not support UTF-16 or UTF-32');
      throw new Error('unreachable');
    }
    const nul = input.indexOf(0);
    const text = nul < 0 ? input : input.subarray(0, nul);
    let at = 0;
    let depth = 0;
    const error = (expected: string, found: string, index = at): never => {
      vm.raise(L, `Expected ${expected} but found ${found} at character ${index + 1}`);
      throw new Error('unreachable');
    };
    const skipSpace = () => {
      while (at < text.length && (text[at] === 0x20 || text[at] === 0x09 || text[at] === 0x0a || text[at] === 0x0d)) at++;
    };
    const literal = (word: string) => text.toString('latin1', at, at + word.length) === word;
    /** the next token's name, for error messages, without reading it */
    const tokenName = (): string => {
      if (at >= text.length) return 'T_END';
      const c = String.fromCharCode(text[at]!);
      const names: Record<string, string> = { '{': 'T_OBJ_BEGIN', '}': 'T_OBJ_END', '[': 'T_ARR_BEGIN', ']': 'T_ARR_END', ':': 'T_COLON', ',': 'T_COMMA', '"': 'T_STRING' };
      if (names[c] !== undefined) return names[c]!;
      if (/[-0-9]/.test(c)) return 'T_NUMBER';
      if (literal('true') || literal('false')) return 'T_BOOLEAN';
      if (literal('null')) return 'T_NULL';
      return 'invalid token';
    };
    const string = (): Buffer => {
      at++; // the opening quote
      const out: number[] = [];
      for (;;) {
        if (at >= text.length) return error('value', 'unexpected end of string', at);
        const escape = at;
        const c = text[at++]!;
        if (c === 0x22) break;
        if (c !== 0x5c) {
          out.push(c);
          continue;
        }
        const e = text[at++];
        const simple: Record<number, number> = { 0x22: 0x22, 0x5c: 0x5c, 0x2f: 0x2f, 0x62: 0x08, 0x66: 0x0c, 0x6e: 0x0a, 0x72: 0x0d, 0x74: 0x09 };
        if (e !== undefined && simple[e] !== undefined) {
          out.push(simple[e]!);
        } else if (e === 0x75) {
          const hex = (p: number) => (/^[0-9a-fA-F]{4}$/.test(text.toString('latin1', p, p + 4)) ? parseInt(text.toString('latin1', p, p + 4), 16) : -1);
          let code = hex(at);
          if (code < 0) return error('value', 'invalid unicode escape code', escape);
          at += 4;
          if (code >= 0xd800 && code <= 0xdbff) {
            const low = text[at] === 0x5c && text[at + 1] === 0x75 ? hex(at + 2) : -1;
            if (low < 0xdc00 || low > 0xdfff) return error('value', 'invalid unicode escape code', escape);
            code = 0x10000 + ((code - 0xd800) << 10) + (low - 0xdc00);
            at += 6;
          } else if (code >= 0xdc00 && code <= 0xdfff) {
            return error('value', 'invalid unicode escape code', escape);
          }
          out.push(...Buffer.from(String.fromCodePoint(code), 'utf8'));
        } else {
          return error('value', 'invalid escape code', escape);
        }
      }
      return Buffer.from(out);
    };
    const numberToken = (): number => {
      const m = /^[-+]?(?:0x[0-9a-fA-F]+|(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?|inf(?:inity)?|nan)/i.exec(text.toString('latin1', at, Math.min(text.length, at + 400)));
      const token = m?.[0] ?? '';
      // strtod's syntax; leading zeros, hex, inf and nan only with decode_invalid_numbers (the default)
      const invalid = token === '' || (!cfg.decodeInvalidNumbers && (/^-?0[0-9x]/i.test(token) || /inf|nan/i.test(token) || token.startsWith('+')));
      if (invalid) return error('value', 'invalid number');
      at += token.length;
      const lower = token.toLowerCase();
      if (lower.includes('nan')) return NaN;
      if (lower.includes('inf')) return lower.startsWith('-') ? -Infinity : Infinity;
      if (lower.includes('x')) return (lower.startsWith('-') ? -1 : 1) * parseInt(lower.replace(/^[-+]?0x/, ''), 16);
      return Number(token);
    };
    const value = (expected: string): void => {
      skipSpace();
      vm.fn('luaL_checkstack')(L, 3, 0);
      const c = text[at];
      if (c === 0x7b || c === 0x5b) {
        depth++;
        if (depth > cfg.decodeMaxDepth) vm.raise(L, `Found too many nested data structures (${depth}) at character ${at + 1}`);
        at++;
        vm.createtable(L, 0, 0);
        if (c === 0x7b) object();
        else array();
        depth--;
        return;
      }
      if (c === 0x22) return vm.pushBytes(L, string());
      if (c !== undefined && /[-0-9]/.test(String.fromCharCode(c))) return vm.pushnumber(L, numberToken());
      if (literal('true')) {
        at += 4;
        return vm.pushboolean(L, 1);
      }
      if (literal('false')) {
        at += 5;
        return vm.pushboolean(L, 0);
      }
      if (literal('null')) {
        at += 4;
        return vm.pushNull(L);
      }
      // a leading '+', inf and nan are numbers to strtod when invalid numbers are decoded (the default)
      if (cfg.decodeInvalidNumbers && (c === 0x2b || /^(?:inf|nan)/i.test(text.toString('latin1', at, at + 3)))) return vm.pushnumber(L, numberToken());
      error(expected, tokenName());
    };
    const object = (): void => {
      skipSpace();
      if (text[at] === 0x7d) {
        at++;
        return;
      }
      for (;;) {
        skipSpace();
        if (text[at] !== 0x22) error('object key string', tokenName());
        vm.pushBytes(L, string());
        skipSpace();
        if (text[at] !== 0x3a) error('colon', tokenName());
        at++;
        value('value');
        vm.rawset(L, -3);
        skipSpace();
        if (text[at] === 0x7d) {
          at++;
          return;
        }
        if (text[at] !== 0x2c) error('comma or object end', tokenName());
        at++;
      }
    };
    const array = (): void => {
      skipSpace();
      if (text[at] === 0x5d) {
        at++;
        return;
      }
      for (let i = 1; ; i++) {
        value('value');
        vm.rawseti(L, -2, i);
        skipSpace();
        if (text[at] === 0x5d) {
          at++;
          return;
        }
        if (text[at] !== 0x2c) error('comma or array end', tokenName());
        at++;
      }
    };
    value('value');
    skipSpace();
    if (at < text.length) error('the end', tokenName());
  };

  /** The settings functions: set when given an argument, always return the setting. */
  const boolSetting = (name: string, get: () => boolean, set: (v: boolean) => void) => (L: number) => {
    if (vm.gettop(L) >= 1) {
      const t = vm.type(L, 1);
      if (t === LuaType.Boolean) set(vm.toboolean(L, 1) !== 0);
      else if (t === LuaType.String && ['on', 'off'].includes(vm.toLatin1(L, 1)!)) set(vm.toLatin1(L, 1) === 'on');
      else if (t !== LuaType.Nil) return vm.raise(L, `bad argument #1 to '${name}' (invalid option '${vm.toLatin1(L, 1) ?? ''}')`);
    }
    vm.pushboolean(L, get() ? 1 : 0);
    return 1;
  };
  const intSetting = (name: string, min: number, max: number, get: () => number, set: (v: number) => void) => (L: number) => {
    if (vm.gettop(L) >= 1 && vm.type(L, 1) !== LuaType.Nil) {
      const n = Math.trunc(vm.checkNumber(L, 1));
      if (n < min || n > max) return vm.raise(L, `bad argument #1 to '${name}' (expected integer between ${min} and ${max})`);
      set(n);
    }
    vm.pushnumber(L, get());
    return 1;
  };

  return {
    encode(L) {
      if (vm.gettop(L) !== 1) return vm.raise(L, "bad argument #1 to 'encode' (expected 1 argument)");
      vm.pushString(L, encode(L, 0));
      return 1;
    },
    decode(L) {
      if (vm.gettop(L) !== 1) return vm.raise(L, "bad argument #1 to 'decode' (expected 1 argument)");
      const text = vm.checkBytes(L, 1);
      decode(L, text);
      return 1;
    },
    encode_max_depth: intSetting('encode_max_depth', 1, 0x7fffffff, () => cfg.encodeMaxDepth, (v) => (cfg.encodeMaxDepth = v)),
    decode_max_depth: intSetting('decode_max_depth', 1, 0x7fffffff, () => cfg.decodeMaxDepth, (v) => (cfg.decodeMaxDepth = v)),
    encode_number_precision: intSetting('encode_number_precision', 1, 14, () => cfg.precision, (v) => (cfg.precision = v)),
    encode_keep_buffer: boolSetting('encode_keep_buffer', () => cfg.keepBuffer, (v) => (cfg.keepBuffer = v)),
    decode_invalid_numbers: boolSetting('decode_invalid_numbers', () => cfg.decodeInvalidNumbers, (v) => (cfg.decodeInvalidNumbers = v)),
    encode_invalid_numbers(L) {
      if (vm.gettop(L) >= 1) {
        const t = vm.type(L, 1);
        const s = t === LuaType.String ? vm.toLatin1(L, 1) : undefined;
        if (t === LuaType.Boolean) cfg.encodeInvalidNumbers = vm.toboolean(L, 1) !== 0 ? 1 : 0;
        else if (s === 'on' || s === 'off') cfg.encodeInvalidNumbers = s === 'on' ? 1 : 0;
        else if (s === 'null') cfg.encodeInvalidNumbers = 2;
        else if (t !== LuaType.Nil) return vm.raise(L, `bad argument #1 to 'encode_invalid_numbers' (invalid option '${vm.toLatin1(L, 1) ?? ''}')`);
      }
      if (cfg.encodeInvalidNumbers === 2) vm.pushString(L, 'null');
      else vm.pushboolean(L, cfg.encodeInvalidNumbers);
      return 1;
    },
    encode_sparse_array(L) {
      if (vm.gettop(L) >= 1 && vm.type(L, 1) !== LuaType.Nil) cfg.sparseConvert = vm.toboolean(L, 1) !== 0;
      if (vm.gettop(L) >= 2 && vm.type(L, 2) !== LuaType.Nil) cfg.sparseRatio = Math.trunc(vm.checkNumber(L, 2));
      if (vm.gettop(L) >= 3 && vm.type(L, 3) !== LuaType.Nil) cfg.sparseSafe = Math.trunc(vm.checkNumber(L, 3));
      vm.pushboolean(L, cfg.sparseConvert ? 1 : 0);
      vm.pushnumber(L, cfg.sparseRatio);
      vm.pushnumber(L, cfg.sparseSafe);
      return 3;
    },
  };
}
