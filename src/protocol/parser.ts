/**
 * Incremental RESP request parser (multibulk and inline), Redis 7.0 semantics.
 *
 * Memory model:
 * - A chunk pushed while nothing is pending is parsed in place (no copy).
 * - Leftover bytes (a command split across reads) are stitched with the next
 *   chunk in an owned "store" that is only ever appended to: memory that was
 *   handed out as an argument is never rewritten, so returned slices stay
 *   intact even after later pushes. They may pin a whole socket chunk or store
 *   block, so anything kept long-term (stored values) should be copied.
 * - Bulk arguments of BIG_ARG bytes or more that are not yet complete are
 *   collected as a list of received slices and concatenated once, when the
 *   last byte arrives. Nothing is ever sized from a declared length.
 * - Pending bytes never exceed one partial token (header line <= 64KB, bulk
 *   < BIG_ARG) unless the caller stops calling next(), so the store stays small.
 */
import { parseInteger } from '../util/numbers.js';
// the module's binding, not the global `Buffer` (an accessor: a getter call per use)
import { Buffer } from 'node:buffer';

export class ProtocolError extends Error {}

/** Bytes of a request's arguments (what it holds while it waits). */
export function requestBytes(args: readonly Buffer[]): number {
  let n = 0;
  for (const a of args) n += a.length;
  return n;
}

export interface ParserLimits {
  /** proto-max-bulk-len */
  maxBulkLen: number;
  /** upper bound for "*N"; Redis uses INT_MAX */
  maxMultibulkLen?: number;
  /** client-query-buffer-limit; enforced by the caller through `pending` */
  maxQueryBuffer: number;
}

const CR = 13;
const LF = 10;
const TAB = 9;
const SPACE = 32;
const STAR = 0x2a;
const DOLLAR = 0x24;
const MINUS = 0x2d;
const DQUOTE = 0x22;
const SQUOTE = 0x27;
const BACKSLASH = 0x5c;
const D0 = 0x30;
const D1 = 0x31;
const D9 = 0x39;

/** PROTO_INLINE_MAX_SIZE: longest header/inline line accepted without a terminator. */
const INLINE_MAX = 64 * 1024;
/** Bulks at least this big are assembled from slices instead of stitched. */
const BIG_ARG = 32 * 1024;
/** Bulks at least this big get their own buffer once a quarter of them arrived (RequestParser.preallocate). */
const PREALLOCATE_MIN = 1 << 20;
const INT_MAX = 2147483647;
const STORE_MIN = 16 * 1024;
/** Stores larger than this are dropped once drained instead of reused. */
const STORE_KEEP = 128 * 1024;

const REQ_NONE = 0;
const REQ_MULTIBULK = 1;
const REQ_INLINE = 2;

const EMPTY = Buffer.alloc(0);
const SKIP: Buffer[] = [];
/** the parser's argument list between requests (replaced, never filled) */
const NO_ARGS: Buffer[] = [];
/** command names up to this long are shared between requests (see RequestParser.commandName) */
const COMMAND_NAME_MAX = 32;
/** requests of up to this many arguments get their list sized at once */
const PRESIZE_ARGS = 64;

/**
 * Makes a Buffer viewing `length` bytes of `memory` from `offset`: what
 * `subarray` gives, without its per-call work (a species lookup, a getter
 * call, reading `.buffer` through V8's runtime): 25 ns against 65 per
 * argument in a micro-benchmark. Node's Buffer names its own class as its
 * species; where that class does not make plain Buffers, `Buffer.from`.
 */
const view: (memory: ArrayBufferLike, offset: number, length: number) => Buffer = (() => {
  const Species = (Buffer as unknown as { [Symbol.species]?: unknown })[Symbol.species];
  if (typeof Species === 'function') {
    const Make = Species as new (memory: ArrayBufferLike, offset: number, length: number) => Buffer;
    try {
      const probe = new Make(new ArrayBuffer(4), 1, 2);
      if (Buffer.isBuffer(probe) && Object.getPrototypeOf(probe) === Buffer.prototype && probe.byteOffset === 1 && probe.length === 2) {
        return (memory, offset, length) => new Make(memory, offset, length);
      }
    } catch {
      // not a constructor of views: fall through
    }
  }
  return (memory, offset, length) => Buffer.from(memory, offset, length);
})();

const ERR_MB_LEN = 'ERR Protocol error: invalid multibulk length';
const ERR_BULK_LEN = 'ERR Protocol error: invalid bulk length';
const ERR_BIG_MB = 'ERR Protocol error: too big mult bulk count string';
const ERR_BIG_BULK = 'ERR Protocol error: too big bulk count string';
const ERR_BIG_INLINE = 'ERR Protocol error: too big inline request';
const ERR_QUOTES = 'ERR Protocol error: unbalanced quotes in request';

/**
 * string2ll over buf[start, end): returns the value, or NaN when Redis would
 * reject the text ("-0", "+1", "01", " 1", empty, out of int64 range).
 * Exact up to 15 digits, which covers every length we accept.
 */
function parseLength(buf: Buffer, start: number, end: number): number {
  let i = start;
  if (i >= end) return NaN;
  let neg = false;
  if (buf[i] === MINUS) {
    neg = true;
    if (++i === end) return NaN;
  }
  let c = buf[i];
  if (c === D0) return !neg && end - start === 1 ? 0 : NaN;
  if (c < D1 || c > D9) return NaN;
  if (end - i > 15) {
    const v = parseInteger(buf.subarray(start, end));
    return v === null ? NaN : Number(v);
  }
  let v = c - D0;
  for (i++; i < end; i++) {
    c = buf[i];
    if (c < D0 || c > D9) return NaN;
    v = v * 10 + (c - D0);
  }
  return neg ? -v : v;
}

/** C isspace(): what sdssplitargs skips between arguments. */
function isCSpace(c: number): boolean {
  return c === SPACE || (c >= TAB && c <= CR);
}

function hexValue(c: number): number {
  if (c >= D0 && c <= D9) return c - D0;
  const l = c | 0x20;
  return l >= 0x61 && l <= 0x66 ? l - 0x61 + 10 : -1;
}

/**
 * Splits an inline line like Redis's sdssplitargs. Tokens without quotes are
 * returned as slices of `buf`. Redis works on a C string, so a NUL byte ends
 * the line; `at()` mimics that by reading 0 past the end.
 */
function splitInline(buf: Buffer, start: number, end: number): Buffer[] {
  const at = (k: number): number => (k < end ? buf[k] : 0);
  const out: Buffer[] = [];
  let i = start;
  for (;;) {
    while (i < end && isCSpace(buf[i])) i++;
    if (i >= end || buf[i] === 0) return out;
    const tokStart = i;
    let bytes: number[] | null = null;
    let inDouble = false;
    let inSingle = false;
    for (;;) {
      const c = at(i);
      if (inDouble) {
        if (c === BACKSLASH && at(i + 1) === 0x78 /* x */ && hexValue(at(i + 2)) >= 0 && hexValue(at(i + 3)) >= 0) {
          bytes!.push(hexValue(at(i + 2)) * 16 + hexValue(at(i + 3)));
          i += 4;
        } else if (c === BACKSLASH && at(i + 1) !== 0) {
          const e = at(i + 1);
          bytes!.push(
            e === 0x6e ? LF : e === 0x72 ? CR : e === 0x74 ? TAB : e === 0x62 ? 8 : e === 0x61 ? 7 : e,
          );
          i += 2;
        } else if (c === DQUOTE) {
          const n = at(i + 1);
          // A closing quote must be followed by whitespace or the end.
          if (n !== 0 && !isCSpace(n)) throw new ProtocolError(ERR_QUOTES);
          i++;
          break;
        } else if (c === 0) {
          throw new ProtocolError(ERR_QUOTES);
        } else {
          bytes!.push(c);
          i++;
        }
      } else if (inSingle) {
        if (c === BACKSLASH && at(i + 1) === SQUOTE) {
          bytes!.push(SQUOTE);
          i += 2;
        } else if (c === SQUOTE) {
          const n = at(i + 1);
          if (n !== 0 && !isCSpace(n)) throw new ProtocolError(ERR_QUOTES);
          i++;
          break;
        } else if (c === 0) {
          throw new ProtocolError(ERR_QUOTES);
        } else {
          bytes!.push(c);
          i++;
        }
      } else if (c === SPACE || c === LF || c === CR || c === TAB || c === 0) {
        break; // only these end a bare token (\v and \f do not, as in Redis)
      } else if (c === DQUOTE || c === SQUOTE) {
        // Quotes may start mid-token: a"b c" is one argument "ab c".
        if (bytes === null) {
          bytes = [];
          for (let k = tokStart; k < i; k++) bytes.push(buf[k]);
        }
        if (c === DQUOTE) inDouble = true;
        else inSingle = true;
        i++;
      } else {
        if (bytes !== null) bytes.push(c);
        i++;
      }
    }
    out.push(bytes === null ? buf.subarray(tokStart, i) : Buffer.from(bytes));
  }
}

export class RequestParser {
  limits: ParserLimits;

  /** Bytes being parsed; valid data is exactly buf[0, buf.length). */
  private buf: Buffer = EMPTY;
  /** buf's memory and where buf starts in it (arguments are made as views of it: see `view`) */
  private bufMemory: ArrayBufferLike = EMPTY.buffer;
  private bufOffset = 0;
  private pos = 0;
  /** Owned, append-only memory for stitching leftovers with new chunks. */
  private store: Buffer | null = null;
  private storeUsed = 0;
  /** buf is a view of store ending at storeUsed (so appending extends it). */
  private bufInStore = false;

  private reqType = REQ_NONE;
  /** the last request's command name (see commandName) */
  private lastCommandName: Buffer = EMPTY;
  /** Arguments still expected for the current multibulk; 0 before its header. */
  private mbLeft = 0;
  /** Length of the bulk being read; -1 while its "$" line is awaited. */
  private bulkLen = -1;
  private argv: Buffer[] = NO_ARGS;
  /** arguments of the current request parsed so far */
  private argc = 0;
  /** Bytes after pos already searched for a line end (avoids rescans). */
  private scanned = 0;

  /** Slices of an incomplete big bulk, or null. */
  private bigParts: Buffer[] | null = null;
  /** The big bulk's own buffer, once a quarter of it arrived (see PREALLOCATE_MIN): the rest is copied in as it comes. */
  private bigTarget: Buffer | null = null;
  private bigHave = 0;
  /** Bytes (including the trailing CRLF) still missing for the big bulk. */
  private bigNeed = 0;

  constructor(limits: ParserLimits) {
    this.limits = limits;
  }

  /** Bytes received but not yet consumed (CLIENT LIST qbuf, query buffer limit). */
  get pending(): number {
    return this.buf.length - this.pos + this.bigHave;
  }

  /**
   * Bytes of a big argument being read that have not arrived yet: what its
   * "$" line declared, less what came. Only counted (server/big-reads.ts),
   * never allocated from.
   */
  get awaited(): number {
    return this.bigNeed;
  }

  /** True when `pending` exceeds limits.maxQueryBuffer (Redis then closes the client). */
  get overQueryBufferLimit(): boolean {
    return this.pending > this.limits.maxQueryBuffer;
  }

  /** Appends bytes from the socket. The chunk must not be modified afterwards. */
  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    if (this.bigNeed > 0) {
      const take = Math.min(this.bigNeed, chunk.length);
      if (this.bigTarget !== null) {
        // data bytes only: the bulk's CRLF is not kept
        const data = Math.min(take, this.bulkLen - this.bigHave);
        if (data > 0) chunk.copy(this.bigTarget, this.bigHave, 0, data);
      } else {
        this.bigParts!.push(take === chunk.length ? chunk : chunk.subarray(0, take));
      }
      this.bigHave += take;
      this.bigNeed -= take;
      if (this.bigTarget === null && this.bulkLen >= PREALLOCATE_MIN && this.bigHave * 4 >= this.bulkLen) this.preallocate();
      if (take === chunk.length) return;
      chunk = chunk.subarray(take);
    }
    const pending = this.buf.length - this.pos;
    if (pending === 0) {
      // Common case: parse the socket chunk in place.
      this.buf = chunk;
      this.bufMemory = chunk.buffer;
      this.bufOffset = chunk.byteOffset;
      this.pos = 0;
      this.bufInStore = false;
      if (this.store !== null && this.store.length > STORE_KEEP) {
        this.store = null;
        this.storeUsed = 0;
      }
      return;
    }
    const total = pending + chunk.length;
    let store = this.store;
    if (this.bufInStore && store!.length - this.storeUsed >= chunk.length) {
      store!.set(chunk, this.storeUsed);
      this.storeUsed += chunk.length;
    } else {
      if (store === null || store.length - this.storeUsed < total) {
        // Fresh block; the old one stays alive only through slices handed out.
        store = Buffer.allocUnsafe(Math.max(STORE_MIN, Math.floor(total * 1.5)));
        this.store = store;
        this.storeUsed = 0;
      }
      store.set(this.buf.subarray(this.pos), this.storeUsed);
      store.set(chunk, this.storeUsed + pending);
      this.storeUsed += total;
    }
    this.buf = store!.subarray(this.storeUsed - total, this.storeUsed);
    this.bufMemory = this.buf.buffer;
    this.bufOffset = this.buf.byteOffset;
    this.pos = 0;
    this.bufInStore = true;
  }

  /**
   * Next complete command as argument slices, or null when more bytes are
   * needed. An empty inline line yields [] (the caller skips it). Throws
   * ProtocolError on malformed input; the parser is then unusable and the
   * caller should reply with the message and close the connection.
   */
  next(): Buffer[] | null {
    for (;;) {
      if (this.reqType === REQ_NONE) {
        if (this.pos >= this.buf.length) return null;
        this.reqType = this.buf[this.pos] === STAR ? REQ_MULTIBULK : REQ_INLINE;
      }
      const argv = this.reqType === REQ_MULTIBULK ? this.parseMultibulk() : this.parseInline();
      if (argv === null) return null;
      this.reqType = REQ_NONE;
      if (argv !== SKIP) return argv;
    }
  }

  /**
   * Index of the CR ending the line that starts at pos, once the byte after it
   * has arrived too (Redis skips two bytes without checking the LF). -1 when
   * no CR is buffered yet, -2 when the CR is the last buffered byte.
   */
  private lineEnd(): number {
    const buf = this.buf;
    const end = buf.length;
    let i = this.pos + this.scanned;
    while (i < end && buf[i] !== CR) i++;
    if (i >= end) {
      this.scanned = end - this.pos;
      return -1;
    }
    if (i + 1 >= end) {
      this.scanned = i - this.pos;
      return -2;
    }
    this.scanned = 0;
    return i;
  }

  private parseMultibulk(): Buffer[] | null {
    if (this.mbLeft === 0) {
      const cr = this.lineEnd();
      if (cr < 0) {
        if (cr === -1 && this.buf.length - this.pos > INLINE_MAX) throw new ProtocolError(ERR_BIG_MB);
        return null;
      }
      const n = parseLength(this.buf, this.pos + 1, cr);
      this.pos = cr + 2;
      if (n !== n || n > (this.limits.maxMultibulkLen ?? INT_MAX)) throw new ProtocolError(ERR_MB_LEN);
      if (n <= 0) return SKIP; // "*0" and "*-1" are no-ops
      this.mbLeft = n;
      // Sized once for the usual short request; a long one grows as its
      // arguments arrive (never sized from a declared count alone).
      this.argv = n <= PRESIZE_ARGS ? new Array<Buffer>(n) : [];
      this.argc = 0;
    }
    while (this.mbLeft > 0) {
      if (this.bigParts !== null) {
        if (this.bigNeed > 0) return null;
        const parts = this.bigParts;
        const len = this.bulkLen;
        // One slice can already hold the whole bulk; otherwise the single copy.
        if (this.bigTarget !== null) this.argv[this.argc++] = this.bigTarget;
        else this.argv[this.argc++] = parts.length === 1 || parts[0].length >= len ? parts[0].subarray(0, len) : Buffer.concat(parts, len);
        this.bigTarget = null;
        this.bigParts = null;
        this.bigHave = 0;
        this.bulkLen = -1;
        this.mbLeft--;
        continue;
      }
      const buf = this.buf;
      if (this.bulkLen < 0) {
        const cr = this.lineEnd();
        if (cr < 0) {
          if (cr === -1 && buf.length - this.pos > INLINE_MAX) throw new ProtocolError(ERR_BIG_BULK);
          return null;
        }
        const first = buf[this.pos];
        if (first !== DOLLAR) {
          throw new ProtocolError(`ERR Protocol error: expected '$', got '${String.fromCharCode(first)}'`);
        }
        const n = parseLength(buf, this.pos + 1, cr);
        if (n !== n || n < 0 || n > this.limits.maxBulkLen) throw new ProtocolError(ERR_BULK_LEN);
        this.pos = cr + 2;
        this.bulkLen = n;
      }
      const len = this.bulkLen;
      const avail = buf.length - this.pos;
      if (avail >= len + 2) {
        // Like Redis, the two bytes after the data are skipped unchecked.
        const arg = this.argc === 0 && len <= COMMAND_NAME_MAX ? this.commandName(buf, this.pos, len) : view(this.bufMemory, this.bufOffset + this.pos, len);
        this.argv[this.argc++] = arg;
        this.pos += len + 2;
        this.bulkLen = -1;
        this.mbLeft--;
        continue;
      }
      if (len >= BIG_ARG) {
        this.bigParts = avail > 0 ? [buf.subarray(this.pos)] : [];
        this.bigHave = avail;
        this.bigNeed = len + 2 - avail;
        this.pos = buf.length;
      }
      return null;
    }
    const argv = this.argv;
    this.argv = NO_ARGS;
    return argv;
  }

  /**
   * A big bulk is a quarter in: give it its own buffer and copy what came so
   * far, so that it is not held twice (its slices and their concatenation)
   * when its last byte arrives. Not sized from the declared length before
   * then: a client declaring 512 MB and sending nothing holds nothing.
   */
  private preallocate(): void {
    const target = Buffer.allocUnsafe(this.bulkLen);
    let at = 0;
    for (const part of this.bigParts!) {
      const n = Math.min(part.length, this.bulkLen - at);
      if (n <= 0) break;
      part.copy(target, at, 0, n);
      at += n;
    }
    this.bigParts = [];
    this.bigTarget = target;
  }

  /**
   * A request's first argument (its command name): the previous request's
   * own Buffer when the bytes are the same, as in a pipeline of one command,
   * so that most requests make no Buffer for it. Arguments are never
   * rewritten, so sharing one is safe.
   */
  private commandName(buf: Buffer, at: number, len: number): Buffer {
    const last = this.lastCommandName;
    if (last.length === len) {
      let i = 0;
      while (i < len && buf[at + i] === last[i]) i++;
      if (i === len) return last;
    }
    const own = Buffer.allocUnsafeSlow(len);
    own.set(buf.subarray(at, at + len));
    this.lastCommandName = own;
    return own;
  }

  private parseInline(): Buffer[] | null {
    const buf = this.buf;
    const start = this.pos;
    const nl = buf.indexOf(LF, start + this.scanned);
    if (nl < 0) {
      this.scanned = buf.length - start;
      if (buf.length - start > INLINE_MAX) throw new ProtocolError(ERR_BIG_INLINE);
      return null;
    }
    this.scanned = 0;
    this.pos = nl + 1;
    const end = nl > start && buf[nl - 1] === CR ? nl - 1 : nl;
    return splitInline(buf, start, end);
  }
}
