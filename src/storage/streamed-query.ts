import pg from 'pg';
import { Buffer } from 'node:buffer';
import { ChunkedParam } from './binary-array.js';

/**
 * A prepared statement whose Bind message is written to PostgreSQL's socket
 * piece by piece: the message's framing in small buffers, each big parameter
 * (a Buffer, or a ChunkedParam's pieces) as it is, in one corked write.
 * node-postgres copies every parameter into one message buffer, grown by
 * halves as it fills: for a commit holding a value of V bytes (in its key
 * row and in its change-log segment) that held 4-5 V at once. Only the Bind
 * is written here; Parse, Describe, Execute and Sync, and the handling of
 * the replies, are node-postgres's own.
 */
class StreamedBindQuery extends pg.Query {
  /** the parameters as given (pg.Query keeps its own `values`) */
  private readonly params: readonly unknown[];

  constructor(config: pg.QueryConfig, callback: (err: Error | undefined, result: pg.QueryResult) => void) {
    super(config, undefined, callback);
    this.params = config.values ?? [];
  }

  // `prepare` sends the extended-protocol messages of a prepared statement on
  // a corked socket; its Bind goes through connection.bind, taken over here
  // for that one call.
  prepare(connection: Connection): void {
    const bind = connection.bind;
    connection.bind = (config: BindConfig) => writeBind(connection.stream, config, this.params);
    try {
      (pg.Query.prototype as unknown as { prepare(c: Connection): void }).prepare.call(this, connection);
    } finally {
      connection.bind = bind;
    }
  }
}

interface BindConfig {
  portal?: string;
  statement?: string;
  binary?: boolean;
}

interface Connection {
  stream: { write(b: Buffer): boolean };
  bind: (config: BindConfig) => void;
}

/** Parameters whose pieces are referenced rather than copied: under this, copied with the framing. */
const REFERENCE_BYTES = 32 * 1024;

/**
 * The Bind message (PostgreSQL protocol 3.0): portal and statement names,
 * each parameter's format (binary for bytes), the parameters with their
 * lengths, and the result format.
 */
function writeBind(stream: Connection['stream'], config: BindConfig, params: readonly unknown[]): void {
  const portal = Buffer.from(`${config.portal ?? ''}\0`, 'utf8');
  const statement = Buffer.from(`${config.statement ?? ''}\0`, 'utf8');
  const n = params.length;
  let length = 4 + portal.length + statement.length + 2 + 2 * n + 2 + 4 * n + 4;
  for (const p of params) length += paramBytes(p);
  const pieces: Buffer[] = [];
  let small = Buffer.allocUnsafe(1 + 4 + portal.length + statement.length + 4 + 2 * n);
  let at = 0;
  small[at++] = 0x42; // 'B'
  small.writeInt32BE(length, at);
  at += 4;
  at += portal.copy(small, at);
  at += statement.copy(small, at);
  small.writeInt16BE(n, at);
  at += 2;
  for (const p of params) {
    small.writeInt16BE(p == null ? 0 : 1, at);
    at += 2;
  }
  small.writeInt16BE(n, at);
  at += 2;
  pieces.push(small.subarray(0, at));
  for (const p of params) {
    const bytes = p == null ? -1 : paramBytes(p);
    const head = Buffer.allocUnsafe(4);
    head.writeInt32BE(bytes, 0);
    pieces.push(head);
    if (p instanceof ChunkedParam) pieces.push(...p.chunks);
    else if (p instanceof Buffer) pieces.push(p);
  }
  small = Buffer.allocUnsafe(4);
  small.writeInt16BE(1, 0);
  small.writeInt16BE(config.binary ? 1 : 0, 2);
  pieces.push(small);
  // small pieces together, big ones as they are (the stream is corked: one writev)
  let run: Buffer[] = [];
  let runBytes = 0;
  const flushRun = (): void => {
    if (run.length === 0) return;
    stream.write(run.length === 1 ? run[0]! : Buffer.concat(run, runBytes));
    run = [];
    runBytes = 0;
  };
  for (const piece of pieces) {
    if (piece.length >= REFERENCE_BYTES) {
      flushRun();
      stream.write(piece);
    } else {
      run.push(piece);
      runBytes += piece.length;
    }
  }
  flushRun();
}

function paramBytes(p: unknown): number {
  if (p == null) return 0;
  if (p instanceof ChunkedParam || p instanceof Buffer) return p.length;
  throw new Error('a streamed statement takes bytes parameters only');
}

/**
 * node-postgres sends a prepared statement's messages from Query#prepare
 * through connection.bind (pg 8): without that method, statements go the
 * driver's own way (copying their parameters).
 */
const PREPARE_AVAILABLE = typeof (pg.Query.prototype as unknown as { prepare?: unknown }).prepare === 'function';

/** Whether `values` can go as a streamed Bind (bytes and NULLs only) and it pays (something big). */
export function worthStreaming(values: readonly unknown[]): boolean {
  if (!PREPARE_AVAILABLE) return false;
  let big = false;
  for (const v of values) {
    if (v instanceof ChunkedParam) big = true;
    else if (v instanceof Buffer) big ||= v.length >= REFERENCE_BYTES;
    else if (v != null) return false;
  }
  return big;
}

/** Run a prepared statement (preparedQuery's config) with its Bind written piece by piece. */
export function queryStreamed(client: pg.ClientBase, config: pg.QueryConfig): Promise<pg.QueryResult> {
  return new Promise((resolve, reject) => {
    const query = new StreamedBindQuery(config, (err, result) => (err ? reject(err) : resolve(result)));
    void client.query(query as unknown as pg.QueryConfig);
  });
}
