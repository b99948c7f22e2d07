/**
 * The `bit` library Redis gives scripts (LuaBitOp's API): 32-bit operations
 * on Lua numbers, whose results are signed 32-bit integers.
 */
import type { LuaVm } from './lua-vm.js';

export type LuaFunctions = Record<string, (L: number) => number>;

/** A number as LuaBitOp reads it: rounded to the nearest integer (ties to even), then its low 32 bits, signed. */
export function toBit(x: number): number {
  if (!Number.isFinite(x)) return 0;
  const floor = Math.floor(x);
  const frac = x - floor;
  const rounded = frac > 0.5 || (frac === 0.5 && floor % 2 !== 0) ? floor + 1 : floor;
  return rounded | 0;
}

export function bitLibrary(vm: LuaVm): LuaFunctions {
  const arg = (L: number, i: number) => toBit(vm.checkNumber(L, i));
  const result = (L: number, n: number) => {
    vm.pushnumber(L, n | 0);
    return 1;
  };
  /** band/bor/bxor: the first argument folded with every other */
  const fold = (op: (a: number, b: number) => number) => (L: number) => {
    let acc = arg(L, 1);
    for (let i = vm.gettop(L); i > 1; i--) acc = op(acc, arg(L, i));
    return result(L, acc);
  };
  const shift = (op: (b: number, n: number) => number) => (L: number) => result(L, op(arg(L, 1), arg(L, 2) & 31));
  return {
    tobit: (L) => result(L, arg(L, 1)),
    bnot: (L) => result(L, ~arg(L, 1)),
    band: fold((a, b) => a & b),
    bor: fold((a, b) => a | b),
    bxor: fold((a, b) => a ^ b),
    lshift: shift((b, n) => b << n),
    rshift: shift((b, n) => b >>> n),
    arshift: shift((b, n) => b >> n),
    rol: shift((b, n) => (b << n) | (b >>> (32 - n))),
    ror: shift((b, n) => (b >>> n) | (b << (32 - n))),
    bswap: (L) => {
      const b = arg(L, 1);
      return result(L, ((b >>> 24) & 0xff) | ((b >>> 8) & 0xff00) | ((b & 0xff00) << 8) | (b << 24));
    },
    tohex: (L) => {
      const b = arg(L, 1);
      let n = vm.type(L, 2) <= 0 ? 8 : arg(L, 2);
      let upper = false;
      if (n < 0) {
        n = -n;
        upper = true;
      }
      if (n > 8) n = 8;
      const hex = (b >>> 0).toString(16).padStart(8, '0').slice(8 - n);
      vm.pushString(L, upper ? hex.toUpperCase() : hex);
      return 1;
    },
  };
}
