/**
 * Reply -> RESP2/RESP3 bytes.
 *
 * ReplyWriter appends small replies into one block (allocated in growing
 * sizes, never rewritten once handed out, so a Buffer returned by take() stays
 * valid while the socket still holds it). Bulk values of BIG_BULK bytes or
 * more are referenced as their own chunk instead of copied: callers must not
 * mutate a value Buffer after writing it.
 */
import {
  BoolReply,
  DoubleReply,
  ErrorReply,
  MapReply,
  NullArray,
  PushReply,
  RawReply,
  SetReply,
  SimpleString,
  VerbatimReply,
  type Reply,
} from './reply.js';
import { formatDouble, putSafeInteger, safeIntegerLength } from '../util/numbers.js';
// Node's global `Buffer` is an accessor: read through it, every reply's
// `instanceof Buffer` test is a getter call. The module binding is not.
import { Buffer } from 'node:buffer';

export { formatDouble };

const BIG_BULK = 16 * 1024;
const BLOCK_MIN = 4 * 1024;
const BLOCK_MAX = 64 * 1024;
/** Buffers shorter than this are copied byte by byte (cheaper than a native call). */
const TINY = 24;

const CR = 13;
const LF = 10;
const SPACE = 32;

const C_DOLLAR = 0x24;
const C_STAR = 0x2a;
const C_COLON = 0x3a;
const C_PLUS = 0x2b;
const C_MINUS = 0x2d;
const C_COMMA = 0x2c;
const C_PERCENT = 0x25;
const C_TILDE = 0x7e;
const C_GT = 0x3e;
const C_EQ = 0x3d;

const NIL2 = Buffer.from('$-1\r\n');
const NIL3 = Buffer.from('_\r\n');
const NULL_ARRAY2 = Buffer.from('*-1\r\n');
const TRUE3 = Buffer.from('#t\r\n');
const FALSE3 = Buffer.from('#f\r\n');

export class ReplyWriter {
  private block: Buffer = Buffer.alloc(0);
  /** Start of the bytes in `block` not yet moved to `chunks`. */
  private start = 0;
  private pos = 0;
  private chunks: Buffer[] = [];
  private chunkBytes = 0;

  constructor() {}

  /** Bytes written and not yet taken. */
  get length(): number {
    return this.chunkBytes + this.pos - this.start;
  }

  /**
   * Appends one reply. Atomic: if the reply is invalid (e.g. a non-integer
   * number) it throws and nothing of it is kept.
   */
  write(reply: Reply, proto: 2 | 3): void {
    const block = this.block;
    const start = this.start;
    const pos = this.pos;
    const nchunks = this.chunks.length;
    const chunkBytes = this.chunkBytes;
    try {
      this.reply(reply, proto);
    } catch (err) {
      // Bytes past `pos` in the old block were never handed out: reuse is safe.
      this.block = block;
      this.start = start;
      this.pos = pos;
      this.chunks.length = nchunks;
      this.chunkBytes = chunkBytes;
      throw err;
    }
  }

  /** Everything written since the last take, as one Buffer, or null if nothing. */
  take(): Buffer | null {
    this.seal();
    const chunks = this.chunks;
    if (chunks.length === 0) return null;
    const bytes = this.chunkBytes;
    this.chunkBytes = 0;
    // pop: `length = 0` is a call into the runtime (the array's length setter)
    if (chunks.length === 1) return chunks.pop()!;
    const out = Buffer.concat(chunks, bytes);
    // the list is not handed out: emptied for the next replies, not replaced
    chunks.length = 0;
    return out;
  }

  /**
   * Hands what was written since the last take to `write`, a synchronous
   * write that copies it (Client's write to its socket's descriptor), as the
   * block and a range of it: no Buffer is made. What `write` took (the count
   * it returns) is dropped and its room in the block written over by the next
   * replies; the rest stays for take(). Only when everything lies in the block
   * (no big value referenced as its own chunk): otherwise nothing is written
   * and 0 returned.
   */
  writeThrough(write: (block: Buffer, offset: number, length: number) => number): number {
    const n = this.pos - this.start;
    if (this.chunks.length !== 0 || n === 0) return 0;
    const written = write(this.block, this.start, n);
    if (written >= n) this.pos = this.start;
    else if (written > 0) this.start += written;
    return written;
  }

  /** Like take() but without concatenating (for socket.cork() + write per chunk, or writev). */
  takeChunks(): Buffer[] {
    this.seal();
    const chunks = this.chunks;
    this.chunks = [];
    this.chunkBytes = 0;
    return chunks;
  }

  /** Drops everything written since the last take. */
  clear(): void {
    this.start = this.pos;
    this.chunks = [];
    this.chunkBytes = 0;
  }

  private seal(): void {
    if (this.pos > this.start) {
      this.chunks.push(this.block.subarray(this.start, this.pos));
      this.chunkBytes += this.pos - this.start;
      this.start = this.pos;
    }
  }

  private ensure(n: number): void {
    if (this.block.length - this.pos >= n) return;
    this.seal();
    const size = Math.max(n, Math.min(BLOCK_MAX, Math.max(BLOCK_MIN, this.block.length * 2)));
    this.block = Buffer.allocUnsafe(size);
    this.start = 0;
    this.pos = 0;
  }

  private bytes(b: Buffer): void {
    const n = b.length;
    this.ensure(n);
    const block = this.block;
    let p = this.pos;
    if (n < TINY) {
      for (let i = 0; i < n; i++) block[p++] = b[i];
    } else {
      block.set(b, p);
      p += n;
    }
    this.pos = p;
  }

  private crlf(): void {
    this.ensure(2);
    this.block[this.pos++] = CR;
    this.block[this.pos++] = LF;
  }

  /** prefix, decimal n (a safe integer), CRLF. */
  private header(prefix: number, n: number): void {
    this.ensure(24);
    this.pos = putHeader(this.block, this.pos, prefix, n);
  }

  /** prefix, text, CRLF; with `sanitize`, CR/LF in the text become spaces. */
  private line(prefix: number, text: string, sanitize: boolean): void {
    const len = text.length;
    this.ensure(len * 3 + 3);
    const block = this.block;
    const p0 = this.pos;
    block[p0] = prefix;
    let p = p0 + 1;
    let i = 0;
    for (; i < len; i++) {
      let c = text.charCodeAt(i);
      if (c >= 0x80) break;
      if (sanitize && (c === CR || c === LF)) c = SPACE;
      block[p++] = c;
    }
    if (i < len) {
      const rest = sanitize ? text.slice(i).replace(/[\r\n]/g, ' ') : text.slice(i);
      p += block.write(rest, p, 'utf8');
    }
    block[p++] = CR;
    block[p++] = LF;
    this.pos = p;
  }

  /** `prefix`, these bytes with CR/LF turned into spaces (as Redis keeps its error lines one line), CRLF. */
  private rawLine(prefix: number, b: Buffer): void {
    this.ensure(b.length + 3);
    const block = this.block;
    let p = this.pos;
    block[p++] = prefix;
    for (let i = 0; i < b.length; i++) {
      const c = b[i]!;
      block[p++] = c === CR || c === LF ? SPACE : c;
    }
    block[p++] = CR;
    block[p++] = LF;
    this.pos = p;
  }

  private bulk(b: Buffer): void {
    const n = b.length;
    this.header(C_DOLLAR, n);
    if (n >= BIG_BULK) {
      this.seal();
      this.chunks.push(b);
      this.chunkBytes += n;
    } else {
      this.bytes(b);
    }
    this.crlf();
  }

  private asciiBulk(s: string): void {
    const n = s.length;
    this.header(C_DOLLAR, n);
    this.ensure(n + 2);
    const block = this.block;
    let p = this.pos;
    for (let i = 0; i < n; i++) block[p++] = s.charCodeAt(i);
    block[p++] = CR;
    block[p++] = LF;
    this.pos = p;
  }

  private integer(prefix: number, n: number | bigint): void {
    if (typeof n === 'number') {
      if (Number.isSafeInteger(n)) {
        this.header(prefix, n);
        return;
      }
      if (!Number.isInteger(n)) throw new TypeError(`integer reply is not an integer: ${n}`);
      n = BigInt(n);
    }
    this.line(prefix, n.toString(), false);
  }

  private reply(r: Reply, proto: 2 | 3): void {
    // Pre-encoded bytes first: every pub/sub message a subscriber receives is one.
    if (r instanceof RawReply) {
      this.raw(r.bytes);
    } else if (r === null) {
      this.bytes(proto === 2 ? NIL2 : NIL3);
    } else if (r instanceof Buffer) {
      this.bulk(r);
    } else if (Array.isArray(r)) {
      this.header(C_STAR, r.length);
      for (let i = 0; i < r.length; i++) this.reply(r[i], proto);
    } else if (typeof r === 'number' || typeof r === 'bigint') {
      this.integer(C_COLON, r);
    } else if (r instanceof SimpleString) {
      this.line(C_PLUS, r.value, true);
    } else if (r instanceof ErrorReply) {
      if (r.raw) this.rawLine(C_MINUS, r.raw);
      else this.line(C_MINUS, r.message, true);
    } else if (r instanceof DoubleReply) {
      if (proto === 2) this.asciiBulk(formatDouble(r.value));
      else this.line(C_COMMA, formatDouble(r.value), false);
    } else if (r instanceof MapReply) {
      const entries = r.entries;
      if (proto === 2) this.header(C_STAR, entries.length * 2);
      else this.header(C_PERCENT, entries.length);
      for (let i = 0; i < entries.length; i++) {
        this.reply(entries[i][0], proto);
        this.reply(entries[i][1], proto);
      }
    } else if (r instanceof SetReply) {
      this.aggregate(proto === 2 ? C_STAR : C_TILDE, r.items, proto);
    } else if (r instanceof BoolReply) {
      if (proto === 2) this.header(C_COLON, r.value ? 1 : 0);
      else this.bytes(r.value ? TRUE3 : FALSE3);
    } else if (r instanceof VerbatimReply) {
      const text = typeof r.text === 'string' ? Buffer.from(r.text, 'utf8') : r.text;
      if (proto === 2) {
        this.bulk(text);
      } else {
        const fmt = Buffer.from(r.format, 'utf8');
        this.header(C_EQ, fmt.length + 1 + text.length);
        this.bytes(fmt);
        this.ensure(1);
        this.block[this.pos++] = C_COLON;
        if (text.length >= BIG_BULK) {
          this.seal();
          this.chunks.push(text);
          this.chunkBytes += text.length;
        } else {
          this.bytes(text);
        }
        this.crlf();
      }
    } else if (r instanceof NullArray) {
      this.bytes(proto === 2 ? NULL_ARRAY2 : NIL3);
    } else if (r instanceof PushReply) {
      this.aggregate(proto === 2 ? C_STAR : C_GT, r.items, proto);
    } else {
      throw new TypeError(`not a Reply: ${Object.prototype.toString.call(r)}`);
    }
  }

  /** Already-encoded bytes: copied into the block, or referenced when big. */
  private raw(b: Buffer): void {
    if (b.length >= BIG_BULK) {
      this.seal();
      this.chunks.push(b);
      this.chunkBytes += b.length;
    } else {
      this.bytes(b);
    }
  }

  private aggregate(prefix: number, items: Reply[], proto: 2 | 3): void {
    this.header(prefix, items.length);
    for (let i = 0; i < items.length; i++) this.reply(items[i], proto);
  }
}

const shared = new ReplyWriter();

/** Encodes one reply (convenience; sessions should keep a ReplyWriter). */
export function encodeReply(reply: Reply, proto: 2 | 3): Buffer {
  shared.write(reply, proto);
  return shared.take() ?? Buffer.alloc(0);
}

/** Writes prefix, decimal n (a safe integer), CRLF at `p` (room for them is the caller's); returns the position after. */
function putHeader(block: Buffer, p: number, prefix: number, n: number): number {
  block[p++] = prefix;
  if (n < 0) {
    block[p++] = C_MINUS;
    n = -n;
  }
  if (n < 10) {
    block[p++] = 48 + n;
  } else {
    const digits = safeIntegerLength(n);
    putSafeInteger(block, p, n, digits);
    p += digits;
  }
  block[p++] = CR;
  block[p++] = LF;
  return p;
}

/**
 * An aggregate of many bulk strings (latin1 strings, as collections keep
 * their members and fields, or Buffers) encoded at once into one Buffer, its
 * exact size: an array, a set (RESP3 `~`) or a map of alternating keys and
 * values (RESP3 `%`, RESP2 a flat array). As a Reply, a big hash's HGETALL
 * made a Buffer per field and an array per pair before encoding, about twice
 * the reply's size for a moment (a hash of 200,000 fields: 23 MB of reply,
 * 60 MB more RSS while it was made). Collections answer with it past
 * BIG_AGGREGATE items.
 */
export function encodedBulks(kind: AggregateKind, items: ReadonlyArray<string | Buffer>, proto: 2 | 3): RawReply {
  const count = kind === 'map' && proto === 3 ? items.length / 2 : items.length;
  const header = aggregateHeader(kind, count, proto);
  const out = Buffer.allocUnsafe(header.length + bulksSize(items));
  header.copy(out, 0);
  putBulks(out, header.length, items);
  return new RawReply(out);
}

export type AggregateKind = 'array' | 'set' | 'map';

/**
 * Sorted-set members with their scores (ZRANGE ... WITHSCORES and the like)
 * encoded at once, as encodedBulks: RESP2 a flat array of member and score
 * bulks, RESP3 an array of [member, double] pairs. Members are latin1 strings.
 */
export function encodedScoredPairs(pairs: ReadonlyArray<readonly [string, number]>, proto: 2 | 3): RawReply {
  const header = aggregateHeader('array', proto === 2 ? pairs.length * 2 : pairs.length, proto);
  const body = encodedScoredItems(pairs.map(([m]) => m), pairs.map(([, score]) => formatDouble(score)), proto);
  return new RawReply(Buffer.concat([header, body], header.length + body.length));
}

/**
 * The elements of encodedScoredPairs without the header: `members[i]` with
 * `scores[i]` (formatted as Redis prints a double), for a reply whose header
 * went before (a streamed one).
 */
export function encodedScoredItems(members: ReadonlyArray<string | Buffer>, scores: ReadonlyArray<string>, proto: 2 | 3): Buffer {
  let size = 0;
  for (let i = 0; i < members.length; i++) {
    const m = members[i]!.length;
    const n = scores[i]!.length;
    size += 5 + safeIntegerLength(m) + m + (proto === 2 ? 5 + safeIntegerLength(n) : 7) + n;
  }
  const out = Buffer.allocUnsafe(size);
  let p = 0;
  for (let i = 0; i < members.length; i++) {
    const member = members[i]!;
    const score = scores[i]!;
    if (proto === 3) p = putHeader(out, p, C_STAR, 2);
    p = putHeader(out, p, C_DOLLAR, member.length);
    p += typeof member === 'string' ? out.write(member, p, 'latin1') : member.copy(out, p);
    out[p++] = CR;
    out[p++] = LF;
    if (proto === 2) p = putHeader(out, p, C_DOLLAR, score.length);
    else out[p++] = C_COMMA;
    p += out.write(score, p, 'latin1');
    out[p++] = CR;
    out[p++] = LF;
  }
  return out;
}

/** The header of an aggregate of `count` elements (a map: `count` pairs in RESP3, a flat array of twice as many in RESP2). */
export function aggregateHeader(kind: AggregateKind, count: number, proto: 2 | 3): Buffer {
  const prefix = proto === 3 ? (kind === 'map' ? C_PERCENT : kind === 'set' ? C_TILDE : C_STAR) : C_STAR;
  const out = Buffer.allocUnsafe(4 + safeIntegerLength(count));
  return out.subarray(0, putHeader(out, 0, prefix, count));
}

/** Bulk strings encoded one after another into one Buffer (the elements of an aggregate whose header went before). */
export function encodedBulkItems(items: ReadonlyArray<string | Buffer>): Buffer {
  const out = Buffer.allocUnsafe(bulksSize(items));
  putBulks(out, 0, items);
  return out;
}

/**
 * An array of bulk strings built up as its elements are found, kept encoded
 * (KEYS over a million keys: about 30 bytes a key, where a Buffer object
 * per key took 300 MB, and four such clients at once 790 MB). The same bytes
 * in RESP2 and RESP3.
 */
export class BulkArrayBuilder {
  private readonly chunks: Buffer[] = [];
  private pending: Array<string | Buffer> = [];
  private count = 0;
  private bytes = 0;

  /** a string is latin1, one byte a char (a key name) */
  add(item: string | Buffer): void {
    this.pending.push(item);
    if (this.pending.length >= 4096) this.seal();
  }

  reply(): RawReply {
    this.seal();
    const header = aggregateHeader('array', this.count, 2);
    const out = Buffer.allocUnsafe(header.length + this.bytes);
    let p = header.copy(out, 0);
    for (const chunk of this.chunks.splice(0)) p += chunk.copy(out, p);
    return new RawReply(out);
  }

  private seal(): void {
    if (this.pending.length === 0) return;
    const chunk = encodedBulkItems(this.pending);
    this.chunks.push(chunk);
    this.bytes += chunk.length;
    this.count += this.pending.length;
    this.pending = [];
  }
}

function bulksSize(items: ReadonlyArray<string | Buffer>): number {
  let size = 0;
  for (let i = 0; i < items.length; i++) {
    const n = items[i]!.length;
    size += 5 + safeIntegerLength(n) + n;
  }
  return size;
}

function putBulks(out: Buffer, p: number, items: ReadonlyArray<string | Buffer>): void {
  for (let i = 0; i < items.length; i++) {
    const item = items[i]!;
    p = putHeader(out, p, C_DOLLAR, item.length);
    p += typeof item === 'string' ? out.write(item, p, 'latin1') : item.copy(out, p);
    out[p++] = CR;
    out[p++] = LF;
  }
}

/** Items past which a collection's whole reply is encoded at once (encodedBulks). */
export const BIG_AGGREGATE = 1024;
