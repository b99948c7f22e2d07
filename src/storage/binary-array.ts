/**
 * One-dimensional PostgreSQL arrays in the binary wire format (array_recv).
 *
 * node-postgres sends a Buffer parameter in binary and anything else as text;
 * an array of Buffers would go as hex text that PostgreSQL parses back element
 * by element. Built here as one Buffer, a commit's columns reach PostgreSQL as
 * raw bytes: less to build in Node.js and much less to parse in PostgreSQL
 * (a 25-key SET commit: 28% less statement time).
 */

/** How one element type is written: its OID, its byte size, and the writer. */
interface Element {
  oid: number;
  size(v: unknown): number;
  write(out: Buffer, at: number, v: unknown): void;
}

const TWO_32 = 2 ** 32;

/** Element types commits use, by the SQL array type a column is cast to. */
const ELEMENTS: Record<string, Element> = {
  // a string stands for its latin1 bytes (a key name: one char per byte), written without a Buffer of its own
  'bytea[]': {
    oid: 17,
    size: (v) => (v as Buffer | string).length,
    write: (out, at, v) => {
      if (typeof v !== 'string') out.set(v as Buffer, at);
      else if (v.length > 32) out.write(v, at, 'latin1');
      else for (let i = 0; i < v.length; i++) out[at + i] = v.charCodeAt(i);
    },
  },
  'text[]': {
    oid: 25,
    size: (v) => Buffer.byteLength(v as string, 'utf8'),
    write: (out, at, v) => void out.write(v as string, at, 'utf8'),
  },
  // |n| < 2^53: key ids, list positions, ms timestamps
  'bigint[]': {
    oid: 20,
    size: () => 8,
    write: (out, at, v) => {
      const n = v as number;
      const hi = Math.floor(n / TWO_32);
      out.writeInt32BE(hi, at);
      out.writeUInt32BE(n - hi * TWO_32, at + 4);
    },
  },
  'smallint[]': { oid: 21, size: () => 2, write: (out, at, v) => void out.writeInt16BE(v as number, at) },
  'float8[]': { oid: 701, size: () => 8, write: (out, at, v) => void out.writeDoubleBE(v as number, at) },
};

/** Bytes of `encodeArray`'s output before its elements. */
export const ARRAY_HEADER_BYTES = 20;

/** Bytes one element (null for SQL NULL) takes in `encodeArray`'s output. */
export function elementBytes(sqlType: string, value: unknown): number {
  return 4 + (value == null ? 0 : ELEMENTS[sqlType]!.size(value));
}

/** `values` (null for SQL NULL) as the binary form of `sqlType`, e.g. 'bigint[]'. */
export function encodeArray(sqlType: string, values: readonly unknown[]): Buffer {
  const element = ELEMENTS[sqlType];
  if (element === undefined) throw new Error(`no binary encoding for ${sqlType}`);
  const sizes = new Array<number>(values.length);
  let size = ARRAY_HEADER_BYTES;
  let hasNull = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    const n = v == null ? -1 : element.size(v);
    sizes[i] = n;
    if (n < 0) hasNull = 1;
    size += 4 + Math.max(n, 0);
  }
  const out = Buffer.allocUnsafe(size);
  out.writeInt32BE(1, 0); // dimensions
  out.writeInt32BE(hasNull, 4);
  out.writeInt32BE(element.oid, 8);
  out.writeInt32BE(values.length, 12);
  out.writeInt32BE(1, 16); // lower bound
  let at = ARRAY_HEADER_BYTES;
  for (let i = 0; i < values.length; i++) {
    const n = sizes[i]!;
    out.writeInt32BE(n, at);
    at += 4;
    if (n > 0) element.write(out, at, values[i]);
    if (n > 0) at += n;
  }
  return out;
}


/**
 * One array written element by element into a buffer sized beforehand
 * (`payloadBytes`: the elements' own bytes, without their length words),
 * for callers that encode straight from their objects rather than from an
 * array of values per column (storage/key-rows.ts).
 */
export class ArrayEncoder {
  readonly out: Buffer;
  private at = ARRAY_HEADER_BYTES;

  constructor(sqlType: string, count: number, payloadBytes: number) {
    const element = ELEMENTS[sqlType];
    if (element === undefined) throw new Error(`no binary encoding for ${sqlType}`);
    this.out = Buffer.allocUnsafe(ARRAY_HEADER_BYTES + 4 * count + payloadBytes);
    this.out.writeInt32BE(1, 0); // dimensions
    this.out.writeInt32BE(0, 4); // no NULL (set by the first one)
    this.out.writeInt32BE(element.oid, 8);
    this.out.writeInt32BE(count, 12);
    this.out.writeInt32BE(1, 16); // lower bound
  }

  null(): void {
    this.out.writeInt32BE(1, 4);
    this.out.writeInt32BE(-1, this.at);
    this.at += 4;
  }

  int2(n: number): void {
    this.out.writeInt32BE(2, this.at);
    this.out.writeInt16BE(n, this.at + 4);
    this.at += 6;
  }

  /** |n| < 2^53 */
  int8(n: number): void {
    this.out.writeInt32BE(8, this.at);
    ELEMENTS['bigint[]']!.write(this.out, this.at + 4, n);
    this.at += 12;
  }

  /** a Buffer, or a latin1 string (one char per byte) */
  bytes(v: Buffer | string): void {
    this.out.writeInt32BE(v.length, this.at);
    BYTEA.write(this.out, this.at + 4, v);
    this.at += 4 + v.length;
  }

  /** The array, once every element is written. */
  done(): Buffer {
    if (this.at !== this.out.length) throw new Error(`array encoded ${this.at} of ${this.out.length} bytes`);
    return this.out;
  }
}

const BYTEA = ELEMENTS['bytea[]']!;

/**
 * A parameter sent as a list of pieces rather than one Buffer: big elements
 * are pieces of their own, referenced and never copied (protocol.ts writes
 * them to PostgreSQL's socket as they are). A commit of a 100 MB value would
 * otherwise copy it into its array parameter, and the driver again into its
 * message buffer (growing it by halves): several times the value at once.
 */
export class ChunkedParam {
  constructor(
    readonly chunks: readonly Buffer[],
    /** total bytes of the pieces */
    readonly length: number,
  ) {}
}

/** Elements at least this big are referenced by encodeArrayChunked, not copied. */
export const REFERENCED_ELEMENT_BYTES = 32 * 1024;

/** Whether `values` (a bytea[] column) hold an element worth referencing rather than copying. */
export function hasBigElement(values: readonly unknown[]): boolean {
  for (const v of values) if (v instanceof Buffer && v.length >= REFERENCED_ELEMENT_BYTES) return true;
  return false;
}

/**
 * encodeArray's output for a bytea[] column, as pieces: the framing and small
 * elements copied into blocks, elements of REFERENCED_ELEMENT_BYTES or more
 * referenced as they are (values are never changed in place, so a reference
 * stays right while the commit is written).
 */
export function encodeByteaArrayChunked(values: readonly (Buffer | string | null | undefined)[]): ChunkedParam {
  const chunks: Buffer[] = [];
  let total = 0;
  let block = Buffer.allocUnsafe(REFERENCED_ELEMENT_BYTES);
  let at = 0;
  const room = (n: number): void => {
    if (block.length - at >= n) return;
    if (at > 0) {
      chunks.push(block.subarray(0, at));
      total += at;
    }
    block = Buffer.allocUnsafe(Math.max(n, REFERENCED_ELEMENT_BYTES));
    at = 0;
  };
  let hasNull = 0;
  for (const v of values) if (v == null) hasNull = 1;
  room(ARRAY_HEADER_BYTES);
  block.writeInt32BE(1, at); // dimensions
  block.writeInt32BE(hasNull, at + 4);
  block.writeInt32BE(17, at + 8); // bytea
  block.writeInt32BE(values.length, at + 12);
  block.writeInt32BE(1, at + 16); // lower bound
  at += ARRAY_HEADER_BYTES;
  for (const v of values) {
    room(4);
    block.writeInt32BE(v == null ? -1 : v.length, at);
    at += 4;
    if (v == null || v.length === 0) continue;
    if (typeof v !== 'string' && v.length >= REFERENCED_ELEMENT_BYTES) {
      chunks.push(block.subarray(0, at));
      total += at;
      block = block.subarray(at);
      at = 0;
      chunks.push(v);
      total += v.length;
      continue;
    }
    room(v.length);
    BYTEA.write(block, at, v); // a Buffer, or a latin1 string (one char per byte)
    at += v.length;
  }
  if (at > 0) {
    chunks.push(block.subarray(0, at));
    total += at;
  }
  return new ChunkedParam(chunks, total);
}
