/**
 * The `struct` library Redis gives scripts: struct.pack(fmt, ...),
 * struct.unpack(fmt, s [, pos]) and struct.size(fmt), with the sizes and
 * alignment rules of Redis's x86-64 build (long and size_t are 8 bytes,
 * native order little-endian).
 */
import type { LuaVm } from './lua-vm.js';
import type { LuaFunctions } from './lua-bit.js';

const MAX_INT_SIZE = 32;
const MAX_ALIGN = 8;
const FIXED_SIZES: Record<string, number> = { b: 1, B: 1, h: 2, H: 2, l: 8, L: 8, T: 8, f: 4, d: 8, x: 1 };

/** Where a format is read, and the options its control characters set. */
class Format {
  at = 0;
  little = true;
  align = 1;

  constructor(private readonly vm: LuaVm, private readonly L: number, readonly text: string, private readonly fn: string) {}

  get done(): boolean {
    return this.at >= this.text.length;
  }

  next(): string {
    return this.text[this.at++]!;
  }

  /** A count after an option (c12, i8, !4), or `fallback` when none is given. */
  number(fallback: number): number {
    if (!/[0-9]/.test(this.text[this.at] ?? '')) return fallback;
    let n = 0;
    while (/[0-9]/.test(this.text[this.at] ?? '')) {
      if (n > (0x7fffffff - 9) / 10) this.vm.raise(this.L, 'integral size overflow');
      n = n * 10 + Number(this.text[this.at++]);
    }
    return n;
  }

  /** The size an option takes (0 for those that take none or vary). */
  size(opt: string): number {
    const fixed = FIXED_SIZES[opt];
    if (fixed !== undefined) return fixed;
    if (opt === 'c') return this.number(1);
    if (opt === 'i' || opt === 'I') {
      const n = this.number(4);
      if (n > MAX_INT_SIZE) this.vm.raise(this.L, `integral size ${n} is larger than limit of ${MAX_INT_SIZE}`);
      return n;
    }
    return 0;
  }

  /** Padding bytes before an item of `size` at offset `pos`. */
  padding(pos: number, opt: string, size: number): number {
    if (size === 0 || opt === 'c') return 0;
    const a = Math.min(size, this.align);
    return (a - (pos & (a - 1))) & (a - 1);
  }

  /** Endianness, alignment and spaces; anything else is an invalid option. */
  control(opt: string): void {
    if (opt === ' ') return;
    if (opt === '>') this.little = false;
    else if (opt === '<' || opt === '=') this.little = true;
    else if (opt === '!') {
      const a = this.number(MAX_ALIGN);
      if ((a & (a - 1)) !== 0) this.vm.raise(this.L, `alignment ${a} is not a power of 2`);
      this.align = a;
    } else this.vm.raise(this.L, `bad argument #1 to '${this.fn}' (invalid format option '${opt}')`);
  }
}

const INTEGER_OPTIONS = 'bBhHlLTiI';

export function structLibrary(vm: LuaVm): LuaFunctions {
  const format = (L: number, fn: string) => new Format(vm, L, vm.checkBytes(L, 1).toString('latin1'), fn);
  return {
    pack(L) {
      const f = format(L, 'pack');
      const parts: Buffer[] = [];
      let total = 0;
      let arg = 2;
      while (!f.done) {
        const opt = f.next();
        let size = f.size(opt);
        const pad = f.padding(total, opt, size);
        if (pad > 0) parts.push(Buffer.alloc(pad));
        total += pad;
        if (INTEGER_OPTIONS.includes(opt)) {
          parts.push(integerBytes(vm.checkNumber(L, arg++), size, f.little));
        } else if (opt === 'x') {
          parts.push(Buffer.alloc(1));
        } else if (opt === 'f' || opt === 'd') {
          const b = Buffer.alloc(size);
          const n = vm.checkNumber(L, arg++);
          if (opt === 'f') (f.little ? b.writeFloatLE(n) : b.writeFloatBE(n));
          else (f.little ? b.writeDoubleLE(n) : b.writeDoubleBE(n));
          parts.push(b);
        } else if (opt === 'c' || opt === 's') {
          const s = vm.checkBytes(L, arg++);
          if (size === 0) size = s.length;
          if (s.length < size) return vm.raise(L, `bad argument #${arg} to 'pack' (string too short)`);
          parts.push(s.subarray(0, size));
          if (opt === 's') {
            parts.push(Buffer.alloc(1));
            size++;
          }
        } else {
          f.control(opt);
        }
        total += size;
      }
      vm.pushBytes(L, Buffer.concat(parts));
      return 1;
    },

    unpack(L) {
      const f = format(L, 'unpack');
      const data = vm.checkBytes(L, 2);
      const start = vm.optNumber(L, 3, 1);
      if (!(start > 0)) return vm.raise(L, "bad argument #3 to 'unpack' (offset must be 1 or greater)");
      let pos = Math.trunc(start) - 1;
      vm.settop(L, 3);
      let n = 0;
      const tooShort = () => vm.raise(L, "bad argument #2 to 'unpack' (data string too short)");
      while (!f.done) {
        const opt = f.next();
        let size = f.size(opt);
        pos += f.padding(pos, opt, size);
        if (size > data.length || pos > data.length - size) return tooShort();
        vm.fn('luaL_checkstack')(L, 2, 0);
        if (INTEGER_OPTIONS.includes(opt)) {
          vm.pushnumber(L, readInteger(data, pos, size, f.little, opt === opt.toLowerCase()));
          n++;
        } else if (opt === 'f' || opt === 'd') {
          const v = opt === 'f' ? (f.little ? data.readFloatLE(pos) : data.readFloatBE(pos)) : f.little ? data.readDoubleLE(pos) : data.readDoubleBE(pos);
          vm.pushnumber(L, v);
          n++;
        } else if (opt === 'c') {
          if (size === 0) {
            if (n === 0 || vm.type(L, -1) !== 3 /* number */) return vm.raise(L, "format 'c0' needs a previous size");
            size = Math.trunc(vm.tonumber(L, -1));
            vm.settop(L, -2);
            n--;
            if (size > data.length || pos > data.length - size) return tooShort();
          }
          vm.pushBytes(L, data.subarray(pos, pos + size));
          n++;
        } else if (opt === 's') {
          const end = data.indexOf(0, pos);
          if (end < 0) return vm.raise(L, 'unfinished string in data');
          size = end - pos + 1;
          vm.pushBytes(L, data.subarray(pos, end));
          n++;
        } else if (opt !== 'x') {
          f.control(opt);
        }
        pos += size;
      }
      vm.pushnumber(L, pos + 1);
      return n + 1;
    },

    size(L) {
      const f = format(L, 'size');
      let pos = 0;
      while (!f.done) {
        const opt = f.next();
        const size = f.size(opt);
        pos += f.padding(pos, opt, size);
        if (opt === 's') return vm.raise(L, "bad argument #1 to 'size' (option 's' has no fixed size)");
        if (opt === 'c' && size === 0) return vm.raise(L, "bad argument #1 to 'size' (option 'c0' has no fixed size)");
        if (!/[A-Za-z0-9]/.test(opt)) f.control(opt);
        pos += size;
      }
      vm.pushnumber(L, pos);
      return 1;
    },
  };
}

/** An integer of `size` bytes as C's (unsigned long long) of the number: two's complement for negatives, zeros past 8 bytes. */
function integerBytes(n: number, size: number, little: boolean): Buffer {
  let value = BigInt.asUintN(64, BigInt(Math.trunc(Number.isFinite(n) ? n : 0)));
  const out = Buffer.alloc(size);
  for (let i = 0; i < size; i++) {
    out[little ? i : size - 1 - i] = Number(value & 0xffn);
    value >>= 8n;
  }
  return out;
}

function readInteger(data: Buffer, pos: number, size: number, little: boolean, signed: boolean): number {
  let value = 0n;
  for (let i = 0; i < size; i++) value = (value << 8n) | BigInt(data[pos + (little ? size - 1 - i : i)]!);
  value = BigInt.asUintN(64, value);
  if (!signed) return Number(value);
  const bits = Math.min(size * 8, 64);
  return Number(BigInt.asIntN(bits, value));
}
