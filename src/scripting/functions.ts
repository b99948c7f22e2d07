/**
 * Function libraries (FUNCTION LOAD, FCALL): which libraries are loaded,
 * their code and the functions each registered. The functions themselves
 * live in the Lua state (ScriptEngine.loadLibrary / commitLibrary); this
 * keeps the names, flags and code that FUNCTION LIST, DUMP and STATS show.
 */
import { ErrorReply } from '../protocol/reply.js';
import { scriptFlags, type CachedScript, type RegisteredFunction, type ScriptEngine } from './engine.js';
import { crc64 } from '../util/crc64.js';
import { splitArgs } from '../config/conf-file.js';

export interface Library {
  readonly name: string;
  readonly engine: 'LUA';
  /** the whole code, shebang included, as loaded */
  readonly code: Buffer;
  readonly functions: ReadonlyMap<string, RegisteredFunction>;
}

/** RDB's opcode for a function library in a DUMP payload, and the RDB version Redis 7.0 writes. */
const OPCODE_FUNCTION2 = 245;
const RDB_VERSION = 10;
const NAME_PATTERN = /^[A-Za-z0-9_]+$/;
const BAD_NAME = 'ERR Library names can only contain letters, numbers, or underscores(_) and must be at least one character long';

export class FunctionLibraries {
  private readonly libraries = new Map<string, Library>();
  /** function name, lower case (FCALL finds functions whatever their case, as Redis) -> its library */
  private readonly functions = new Map<string, Library>();

  constructor(private readonly engine: ScriptEngine) {}

  get libraryCount(): number {
    return this.libraries.size;
  }

  get functionCount(): number {
    return this.functions.size;
  }

  /** bytes of library code held (INFO used_memory_scripts) */
  get codeBytes(): number {
    let n = 0;
    for (const lib of this.libraries.values()) n += lib.code.length;
    return n;
  }

  list(): Library[] {
    return [...this.libraries.values()];
  }

  /** Every library's name and code: what PostgreSQL keeps and a follower's full sync loads. */
  stored(): Array<{ name: string; code: Buffer }> {
    return this.list().map((lib) => ({ name: lib.name, code: lib.code }));
  }

  /** The function FCALL names, as something the script runner can run. */
  find(name: string): CachedScript | undefined {
    const lib = this.functions.get(name.toLowerCase());
    const fn = lib === undefined ? undefined : [...lib.functions.values()].find((f) => f.name.toLowerCase() === name.toLowerCase());
    if (lib === undefined || fn === undefined) return undefined;
    return { sha: fn.name, body: lib.code, ...scriptFlags(fn.flags), library: lib.name };
  }

  /** FUNCTION LOAD [REPLACE]: the library's name, or why it was refused (nothing changed then). */
  load(code: Buffer, replace: boolean): string | ErrorReply {
    const meta = parseMetadata(code);
    if (meta instanceof ErrorReply) return meta;
    const old = this.libraries.get(meta.name);
    if (old !== undefined && !replace) return new ErrorReply(`ERR Library '${meta.name}' already exists`);
    // the shebang line is blanked, its line feed kept: line numbers stay the user's
    const found = this.engine.loadLibrary(Buffer.concat([Buffer.alloc(meta.headerLength, 0x20), code.subarray(meta.headerLength)]));
    if (found instanceof ErrorReply) return found;
    if (found.length === 0) return new ErrorReply('ERR No functions registered');
    for (const f of found) {
      const owner = this.functions.get(f.name.toLowerCase());
      if (owner !== undefined && owner !== old) return new ErrorReply(`ERR Function ${f.name} already exists`);
    }
    if (old !== undefined) this.unlink(old);
    this.engine.commitLibrary(meta.name);
    this.link({ name: meta.name, engine: 'LUA', code, functions: new Map(found.map((f) => [f.name, f])) });
    return meta.name;
  }

  delete(name: string): boolean {
    const lib = this.libraries.get(name);
    if (lib === undefined) return false;
    this.unlink(lib);
    this.engine.dropLibrary(name);
    return true;
  }

  flush(): void {
    for (const name of [...this.libraries.keys()]) this.delete(name);
  }

  /** FUNCTION DUMP: every library's code in Redis's payload format (RDB function records, version, CRC64). */
  dump(): Buffer {
    const parts: Buffer[] = [];
    for (const lib of this.libraries.values()) parts.push(Buffer.from([OPCODE_FUNCTION2]), rdbString(lib.code));
    const version = Buffer.alloc(2);
    version.writeUInt16LE(RDB_VERSION);
    const body = Buffer.concat([...parts, version]);
    const crc = Buffer.alloc(8);
    crc.writeBigUInt64LE(crc64(body));
    return Buffer.concat([body, crc]);
  }

  /** FUNCTION RESTORE payload [FLUSH|APPEND|REPLACE]: all or nothing. */
  restore(payload: Buffer, policy: 'flush' | 'append' | 'replace'): ErrorReply | undefined {
    const codes = parsePayload(payload);
    if (codes instanceof ErrorReply) return codes;
    const saved = this.list();
    const restoreSaved = () => {
      this.flush();
      for (const lib of saved) this.load(lib.code, true);
    };
    if (policy === 'flush') this.flush();
    for (const code of codes) {
      const meta = parseMetadata(code);
      if (!(meta instanceof ErrorReply) && policy === 'append' && this.libraries.has(meta.name)) {
        restoreSaved();
        return new ErrorReply(`ERR Library ${meta.name} already exists`);
      }
      const loaded = this.load(code, policy === 'replace');
      if (loaded instanceof ErrorReply) {
        restoreSaved();
        return loaded;
      }
    }
    return undefined;
  }

  private link(lib: Library): void {
    this.libraries.set(lib.name, lib);
    for (const name of lib.functions.keys()) this.functions.set(name.toLowerCase(), lib);
  }

  private unlink(lib: Library): void {
    this.libraries.delete(lib.name);
    for (const name of lib.functions.keys()) this.functions.delete(name.toLowerCase());
  }
}

/** `#!<engine> name=<library>`: the library's name and the length of that line (without its line feed). */
function parseMetadata(code: Buffer): { name: string; headerLength: number } | ErrorReply {
  if (code.length < 2 || code[0] !== 0x23 || code[1] !== 0x21) return new ErrorReply('ERR Missing library metadata');
  const end = code.indexOf(0x0a);
  if (end < 0) return new ErrorReply('ERR Invalid library metadata');
  // split as Redis splits it (sdssplitargs): name="foo" names foo
  const parts = splitArgs(code.toString('latin1', 0, end));
  if (parts === undefined || parts.length === 0) return new ErrorReply('ERR Invalid library metadata');
  const engine = parts[0]!.slice(2);
  let name: string | undefined;
  for (const part of parts.slice(1)) {
    if (part.slice(0, 5).toLowerCase() === 'name=') {
      if (name !== undefined) return new ErrorReply('ERR Invalid metadata value, name argument was given multiple times');
      name = part.slice(5);
      continue;
    }
    return new ErrorReply(`ERR Invalid metadata value given: ${part}`);
  }
  if (name === undefined) return new ErrorReply('ERR Library name was not given');
  if (!NAME_PATTERN.test(name)) return new ErrorReply(BAD_NAME);
  if (engine.toLowerCase() !== 'lua') return new ErrorReply(`ERR Engine '${engine}' not found`);
  return { name, headerLength: end };
}

/** An RDB length-prefixed string (6-bit, 14-bit or 32-bit length). */
function rdbString(b: Buffer): Buffer {
  let len: Buffer;
  if (b.length < 64) len = Buffer.from([b.length]);
  else if (b.length < 16384) len = Buffer.from([0x40 | (b.length >> 8), b.length & 0xff]);
  else {
    len = Buffer.alloc(5);
    len[0] = 0x80;
    len.writeUInt32BE(b.length, 1);
  }
  return Buffer.concat([len, b]);
}

/** The library codes of a DUMP payload, or Redis's error for a payload it would refuse. */
function parsePayload(payload: Buffer): Buffer[] | ErrorReply {
  const bad = () => new ErrorReply('ERR DUMP payload version or checksum are wrong');
  if (payload.length < 10) return bad();
  const body = payload.subarray(0, payload.length - 8);
  const version = body.readUInt16LE(body.length - 2);
  if (version > RDB_VERSION || crc64(body) !== payload.readBigUInt64LE(payload.length - 8)) return bad();
  const codes: Buffer[] = [];
  let at = 0;
  const end = body.length - 2;
  while (at < end) {
    if (body[at] !== OPCODE_FUNCTION2) return new ErrorReply('ERR given type is not a function');
    at++;
    const first = body[at]!;
    let len: number;
    if (first >> 6 === 0) {
      len = first & 0x3f;
      at += 1;
    } else if (first >> 6 === 1) {
      len = ((first & 0x3f) << 8) | body[at + 1]!;
      at += 2;
    } else if (first === 0x80) {
      len = body.readUInt32BE(at + 1);
      at += 5;
    } else {
      return new ErrorReply('ERR failed loading the given functions payload');
    }
    if (at + len > end) return new ErrorReply('ERR failed loading the given functions payload');
    codes.push(body.subarray(at, at + len));
    at += len;
  }
  return codes;
}
