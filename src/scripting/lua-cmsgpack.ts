/**
 * The `cmsgpack` library Redis gives scripts: pack(...), unpack(s),
 * unpack_one(s [, offset]), unpack_limit(s, limit [, offset]), with Redis's
 * mapping of Lua values: integral numbers as the smallest integer format,
 * others as float 32 when exact, else float 64; strings as str (Lua strings
 * are bytes: no UTF-8 involved); a table whose keys are 1..n as an array,
 * any other as a map; tables nested deeper than 16 as nil (a table holding
 * itself still packs).
 *
 * Written here rather than on @msgpack/msgpack: that library maps JS values
 * (strings as UTF-8 text, bytes as bin, floats always 64-bit, map keys
 * strings or numbers only), so neither its encoder nor its decoder gives
 * Redis's bytes or Lua's values.
 */
import { LuaType, type LuaVm } from './lua-vm.js';
import type { LuaFunctions } from './lua-bit.js';

const MAX_NESTING = 16;

class Writer {
  private buf = Buffer.allocUnsafe(256);
  length = 0;

  private room(n: number): void {
    if (this.length + n <= this.buf.length) return;
    const bigger = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.length + n));
    this.buf.copy(bigger, 0, 0, this.length);
    this.buf = bigger;
  }

  byte(b: number): void {
    this.room(1);
    this.buf[this.length++] = b;
  }

  /** a type byte and a big-endian unsigned of `bytes` bytes */
  head(type: number, value: number, bytes: 0 | 1 | 2 | 4): void {
    this.room(1 + bytes);
    this.buf[this.length++] = type;
    if (bytes === 1) this.buf[this.length] = value;
    else if (bytes === 2) this.buf.writeUInt16BE(value, this.length);
    else if (bytes === 4) this.buf.writeUInt32BE(value, this.length);
    this.length += bytes;
  }

  bytes(b: Buffer): void {
    this.room(b.length);
    b.copy(this.buf, this.length);
    this.length += b.length;
  }

  done(): Buffer {
    return this.buf.subarray(0, this.length);
  }
}

export function cmsgpackLibrary(vm: LuaVm): LuaFunctions {
  const integer = (w: Writer, n: number) => {
    if (n >= 0) {
      if (n <= 127) w.byte(n);
      else if (n <= 0xff) w.head(0xcc, n, 1);
      else if (n <= 0xffff) w.head(0xcd, n, 2);
      else if (n <= 0xffffffff) w.head(0xce, n, 4);
      else {
        w.byte(0xcf);
        const b = Buffer.alloc(8);
        b.writeBigUInt64BE(BigInt.asUintN(64, BigInt(n)));
        w.bytes(b);
      }
    } else if (n >= -32) {
      w.byte(n & 0xff);
    } else if (n >= -128) {
      w.head(0xd0, n & 0xff, 1);
    } else if (n >= -32768) {
      w.head(0xd1, n & 0xffff, 2);
    } else if (n >= -2147483648) {
      w.head(0xd2, n >>> 0, 4);
    } else {
      w.byte(0xd3);
      const b = Buffer.alloc(8);
      b.writeBigInt64BE(BigInt.asIntN(64, BigInt(n)));
      w.bytes(b);
    }
  };

  const number = (w: Writer, n: number) => {
    // C's (int64_t)n == n: integral and within int64 (2^63 itself is not)
    if (Number.isInteger(n) && n >= -9223372036854775808 && n < 9223372036854775808) return integer(w, n);
    if (Math.fround(n) === n || Number.isNaN(n)) {
      const b = Buffer.alloc(5);
      b[0] = 0xca;
      b.writeFloatBE(n, 1);
      return w.bytes(b);
    }
    const b = Buffer.alloc(9);
    b[0] = 0xcb;
    b.writeDoubleBE(n, 1);
    w.bytes(b);
  };

  /** The value on top of L's stack, left there. */
  const encode = (L: number, w: Writer, level: number): void => {
    const t = vm.type(L, -1);
    if (t === LuaType.Boolean) w.byte(vm.toboolean(L, -1) !== 0 ? 0xc3 : 0xc2);
    else if (t === LuaType.Number) number(w, vm.tonumber(L, -1));
    else if (t === LuaType.String) {
      const s = vm.toBytes(L, -1)!;
      if (s.length < 32) w.byte(0xa0 | s.length);
      else if (s.length <= 0xff) w.head(0xd9, s.length, 1);
      else if (s.length <= 0xffff) w.head(0xda, s.length, 2);
      else w.head(0xdb, s.length, 4);
      w.bytes(s);
    } else if (t === LuaType.Table && level < MAX_NESTING) {
      vm.fn('luaL_checkstack')(L, 4, 0);
      const n = arrayLength(L);
      if (n >= 0) {
        if (n < 16) w.byte(0x90 | n);
        else if (n <= 0xffff) w.head(0xdc, n, 2);
        else w.head(0xdd, n, 4);
        for (let i = 1; i <= n; i++) {
          vm.rawgeti(L, -1, i);
          encode(L, w, level + 1);
          vm.settop(L, -2);
        }
      } else {
        let count = 0;
        vm.pushnil(L);
        while (vm.next(L, -2) !== 0) {
          count++;
          vm.settop(L, -2);
        }
        if (count < 16) w.byte(0x80 | count);
        else if (count <= 0xffff) w.head(0xde, count, 2);
        else w.head(0xdf, count, 4);
        vm.pushnil(L);
        while (vm.next(L, -2) !== 0) {
          vm.pushvalue(L, -2);
          encode(L, w, level + 1); // the key
          vm.settop(L, -2);
          encode(L, w, level + 1); // the value
          vm.settop(L, -2);
        }
      }
    } else w.byte(0xc0);
  };

  /** The length of the table on top when its keys are exactly 1..n, else -1. */
  const arrayLength = (L: number): number => {
    let count = 0;
    let max = 0;
    vm.pushnil(L);
    while (vm.next(L, -2) !== 0) {
      vm.settop(L, -2);
      if (vm.type(L, -1) !== LuaType.Number) {
        vm.settop(L, -2);
        return -1;
      }
      const k = vm.tonumber(L, -1);
      if (!(Number.isInteger(k) && k > 0)) {
        vm.settop(L, -2);
        return -1;
      }
      if (k > max) max = k;
      count++;
    }
    return max === count ? count : -1;
  };

  /** Decode the object at `at` onto L's stack; its end, or an error message. */
  const decode = (L: number, s: Buffer, at: number): number | string => {
    if (at >= s.length) return MISSING;
    vm.fn('luaL_checkstack')(L, 4, 0);
    const b = s[at]!;
    const need = (n: number) => at + 1 + n <= s.length;
    if (b <= 0x7f) return push(L, b, at + 1);
    if (b >= 0xe0) return push(L, b - 256, at + 1);
    if ((b & 0xe0) === 0xa0) return str(L, s, at + 1, b & 0x1f);
    if ((b & 0xf0) === 0x90) return array(L, s, at + 1, b & 0x0f);
    if ((b & 0xf0) === 0x80) return map(L, s, at + 1, b & 0x0f);
    switch (b) {
      case 0xc0: vm.pushnil(L); return at + 1;
      case 0xc2: vm.pushboolean(L, 0); return at + 1;
      case 0xc3: vm.pushboolean(L, 1); return at + 1;
      case 0xca: return need(4) ? push(L, s.readFloatBE(at + 1), at + 5) : MISSING;
      case 0xcb: return need(8) ? push(L, s.readDoubleBE(at + 1), at + 9) : MISSING;
      case 0xcc: return need(1) ? push(L, s[at + 1]!, at + 2) : MISSING;
      case 0xcd: return need(2) ? push(L, s.readUInt16BE(at + 1), at + 3) : MISSING;
      case 0xce: return need(4) ? push(L, s.readUInt32BE(at + 1), at + 5) : MISSING;
      case 0xcf: return need(8) ? push(L, Number(s.readBigUInt64BE(at + 1)), at + 9) : MISSING;
      case 0xd0: return need(1) ? push(L, s.readInt8(at + 1), at + 2) : MISSING;
      case 0xd1: return need(2) ? push(L, s.readInt16BE(at + 1), at + 3) : MISSING;
      case 0xd2: return need(4) ? push(L, s.readInt32BE(at + 1), at + 5) : MISSING;
      case 0xd3: return need(8) ? push(L, Number(s.readBigInt64BE(at + 1)), at + 9) : MISSING;
      case 0xc4: case 0xd9: return need(1) ? str(L, s, at + 2, s[at + 1]!) : MISSING;
      case 0xc5: case 0xda: return need(2) ? str(L, s, at + 3, s.readUInt16BE(at + 1)) : MISSING;
      case 0xc6: case 0xdb: return need(4) ? str(L, s, at + 5, s.readUInt32BE(at + 1)) : MISSING;
      case 0xdc: return need(2) ? array(L, s, at + 3, s.readUInt16BE(at + 1)) : MISSING;
      case 0xdd: return need(4) ? array(L, s, at + 5, s.readUInt32BE(at + 1)) : MISSING;
      case 0xde: return need(2) ? map(L, s, at + 3, s.readUInt16BE(at + 1)) : MISSING;
      case 0xdf: return need(4) ? map(L, s, at + 5, s.readUInt32BE(at + 1)) : MISSING;
      default: return BAD_FORMAT;
    }
  };
  const push = (L: number, n: number, end: number) => {
    vm.pushnumber(L, n);
    return end;
  };
  const str = (L: number, s: Buffer, at: number, n: number) => {
    if (at + n > s.length) return MISSING;
    vm.pushBytes(L, s.subarray(at, at + n));
    return at + n;
  };
  const array = (L: number, s: Buffer, at: number, n: number): number | string => {
    vm.createtable(L, n, 0);
    for (let i = 1; i <= n; i++) {
      const end = decode(L, s, at);
      if (typeof end === 'string') return end;
      vm.rawseti(L, -2, i);
      at = end;
    }
    return at;
  };
  const map = (L: number, s: Buffer, at: number, n: number): number | string => {
    vm.createtable(L, 0, n);
    for (let i = 0; i < n; i++) {
      const keyEnd = decode(L, s, at);
      if (typeof keyEnd === 'string') return keyEnd;
      const end = decode(L, s, keyEnd);
      if (typeof end === 'string') return end;
      // a nil key cannot be stored: the pair is dropped
      if (vm.type(L, -2) === LuaType.Nil) vm.settop(L, -3);
      else vm.rawset(L, -3);
      at = end;
    }
    return at;
  };

  /** Decode up to `limit` objects (0: all) from `offset`; with `withOffset`, the next offset (-1 at the end) comes first. */
  const unpack = (L: number, limit: number, offset: number, withOffset: boolean): number => {
    const s = vm.checkBytes(L, 1);
    if (offset < 0 || limit < 0) return vm.raise(L, `Invalid request to unpack with offset of ${offset} and limit of ${s.length}.`);
    if (offset > s.length) return vm.raise(L, `Start offset ${offset} greater than input length ${s.length}.`);
    const base = vm.gettop(L);
    if (withOffset) vm.pushnil(L); // replaced by the offset once known
    let at = offset;
    let count = 0;
    while (at < s.length && (limit === 0 || count < limit)) {
      const end = decode(L, s, at);
      if (end === MISSING) return vm.raise(L, 'Missing bytes in input.');
      if (end === BAD_FORMAT) return vm.raise(L, 'Bad data format in input.');
      at = end as number;
      count++;
    }
    if (!withOffset) return count;
    vm.pushnumber(L, at >= s.length ? -1 : at);
    vm.fn('lua_replace')(L, base + 1);
    return count + 1;
  };

  return {
    pack(L) {
      const n = vm.gettop(L);
      if (n === 0) return vm.raise(L, "bad argument #0 to 'pack' (MessagePack pack needs input.)");
      const w = new Writer();
      for (let i = 1; i <= n; i++) {
        vm.pushvalue(L, i);
        encode(L, w, 0);
        vm.settop(L, -2);
      }
      vm.pushBytes(L, w.done());
      return 1;
    },
    unpack: (L) => unpack(L, 0, 0, false),
    unpack_one: (L) => unpack(L, 1, Math.trunc(vm.optNumber(L, 2, 0)), true),
    unpack_limit: (L) => unpack(L, Math.trunc(vm.checkNumber(L, 2)), Math.trunc(vm.optNumber(L, 3, 0)), true),
  };
}

const MISSING = 'missing';
const BAD_FORMAT = 'bad format';
