import { sql, type CompiledQuery, type Kysely, type RawBuilder } from 'kysely';
import { ARRAY_HEADER_BYTES, ChunkedParam, elementBytes, encodeArray, encodeByteaArrayChunked, hasBigElement } from './binary-array.js';
import type pg from 'pg';
import { preparedQuery, runPrepared } from './database.js';
import { queryStreamed, worthStreaming } from './streamed-query.js';

/**
 * A statement that writes many rows at once from parallel arrays, one array
 * parameter per column (`unnest($1::bigint[], $2::bytea[])`): one round trip
 * and one plan for any number of rows.
 */
export interface ArrayWrite {
  readonly name: string;
  /** PostgreSQL array types of the columns, e.g. ['bigint[]', 'bytea[]'] */
  readonly columns: readonly string[];
  /**
   * The statement, given the typed array parameters as SQL fragments. It may
   * hold no other parameters: its text is built once per mix of writes.
   */
  build(params: RawBuilder<unknown>[]): RawBuilder<unknown>;
}

/**
 * Parameter bytes one statement carries at most, unless a single row is
 * bigger. PostgreSQL refuses protocol messages of 1 GB or more, and a commit
 * holding a few big values (proto-max-bulk-len allows 512 MB) would reach it
 * and then fail on every retry, holding up all writes behind it.
 */
export const MAX_STATEMENT_BYTES = 64 << 20;

/**
 * The rows one flush writes, gathered per ArrayWrite. All writes go out in
 * one statement of data-modifying CTEs (one round trip), or, past
 * MAX_STATEMENT_BYTES, as a transaction of statements of at most that size;
 * callers guarantee that no two writes of a batch touch the same row.
 */
export class FlushBatch {
  private readonly writes = new Map<ArrayWrite, unknown[][]>();
  /** statements that must run first, in order (FLUSHDB, SWAPDB) */
  readonly before: RawBuilder<unknown>[] = [];

  /**
   * One row: a value per column of `write`, in order. Fixed parameters rather
   * than a rest array: a commit adds a row per dirty key (no array per row).
   */
  add(write: ArrayWrite, c0: unknown, c1?: unknown, c2?: unknown, c3?: unknown, c4?: unknown, c5?: unknown, c6?: unknown, c7?: unknown, c8?: unknown): void {
    let cols = this.writes.get(write);
    if (cols === undefined) {
      cols = write.columns.map(() => []);
      this.writes.set(write, cols);
    }
    const n = cols.length;
    cols[0]!.push(c0);
    if (n > 1) cols[1]!.push(c1);
    if (n > 2) cols[2]!.push(c2);
    if (n > 3) cols[3]!.push(c3);
    if (n > 4) cols[4]!.push(c4);
    if (n > 5) cols[5]!.push(c5);
    if (n > 6) cols[6]!.push(c6);
    if (n > 7) cols[7]!.push(c7);
    if (n > 8) cols[8]!.push(c8);
    if (n > 9) throw new Error(`${write.name}: more than 9 columns`);
  }

  /**
   * Rows of `write` already encoded, one binary array per column (see
   * binary-array.ts ArrayEncoder), of at most MAX_STATEMENT_BYTES together;
   * the write then takes no rows through `add`.
   */
  addEncoded(write: ArrayWrite, columns: Buffer[]): void {
    if (this.writes.has(write) || this.encoded.has(write)) throw new Error(`${write.name}: rows added twice`);
    this.encoded.set(write, columns);
  }

  private readonly encoded = new Map<ArrayWrite, Buffer[]>();

  get empty(): boolean {
    return this.writes.size === 0 && this.encoded.size === 0 && this.before.length === 0;
  }

  /**
   * The batch as SQL: statements that must run first, then one statement of
   * data-modifying CTEs (ordered by name, so a given mix of writes always has
   * the same text and can be a prepared statement; its text is built once per
   * mix, see statementFor), or past MAX_STATEMENT_BYTES one statement per
   * write and slice of its rows. Columns go as binary arrays.
   */
  compile(db: Kysely<any>): { before: CompiledQuery[]; main: Statement[] } {
    const writes: Array<[ArrayWrite, unknown[][] | undefined]> = [...this.writes];
    for (const [write] of this.encoded) writes.push([write, undefined]);
    writes.sort(([a], [b]) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    const before = this.before.map((s) => s.compile(db));
    // Each write's columns, encoded once; a write whose rows pass the bound is sliced and encoded again.
    const encoded = writes.map(([write, cols]) => cols?.map((values, c) => encodeColumn(write.columns[c]!, values)) ?? this.encoded.get(write)!);
    const rowBytes = (arrays: Param[]) => arrays.reduce((n, a) => n + a.length - ARRAY_HEADER_BYTES, 0);
    if (encoded.every((arrays) => rowBytes(arrays) <= MAX_STATEMENT_BYTES)) {
      if (writes.length === 0) return { before, main: [] };
      const shape = statementFor(writes.map(([write]) => write), db);
      const parameters = new Array<unknown>(shape.sources.length);
      for (let p = 0; p < parameters.length; p++) parameters[p] = encoded[shape.sources[p]!.write]![shape.sources[p]!.column];
      return { before, main: [{ sql: shape.text, parameters }] };
    }
    const main = writes.flatMap(([write, cols], i) => {
      if (rowBytes(encoded[i]!) <= MAX_STATEMENT_BYTES) return [write.build(typed(write, encoded[i]!)).compile(db)];
      encoded[i] = []; // big values: let the first encoding go before the slices are made
      return sliceRows(write, cols!).map((slice) =>
        write.build(typed(write, slice.map((values, c) => encodeColumn(write.columns[c]!, values)))).compile(db),
      );
    });
    return { before, main };
  }

  /**
   * Write the batch atomically on `client`: one statement, or a transaction of
   * several. If it throws, the connection's state is unknown (a failed
   * ROLLBACK leaves it inside the transaction): the caller discards it.
   */
  async execute(client: pg.ClientBase, db: Kysely<any>): Promise<void> {
    const { before, main } = this.compile(db);
    const statements = main.map((q) => preparedQuery(q.sql, q.parameters as unknown[]));
    if (before.length === 0 && statements.length <= 1) {
      if (statements.length === 1) await run(client, statements[0]!);
      return;
    }
    try {
      await client.query('BEGIN');
      for (const q of before) await client.query(q.sql, q.parameters as unknown[]);
      for (const s of statements) await run(client, s);
      await client.query('COMMIT');
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    }
  }
}

/** A statement's text and its parameters. */
interface Statement {
  readonly sql: string;
  readonly parameters: readonly unknown[];
}

/**
 * The statement of one mix of writes (in the order given): its text, and for
 * each of its parameters, $1 first, the write (by position in the mix) and
 * column whose array it is.
 */
interface Shape {
  readonly text: string;
  readonly sources: ReadonlyArray<{ write: number; column: number }>;
}

/** Shapes by mix of writes, a level per write of the mix. */
interface ShapeNode {
  readonly next: Map<ArrayWrite, ShapeNode>;
  shape?: Shape;
}
const shapes: ShapeNode = { next: new Map() };
let shapeCount = 0;
/** a bound only (the mixes that occur are a few dozen): past it, statements are built each time */
const MAX_SHAPES = 256;

/**
 * The one statement of data-modifying CTEs for `writes`, built once per mix:
 * kysely built and compiled the same text on every commit, about 20 µs of
 * Talus's CPU per commit (docs/benchmarks.md, "Session 16: the cost of a
 * commit"), when only the parameters change from one commit to the next. The
 * last write is the statement itself, the others its CTEs: a statement that
 * returns no rows spares PostgreSQL a row description and a row per commit,
 * and node-postgres parsing them.
 */
function statementFor(writes: readonly ArrayWrite[], db: Kysely<any>): Shape {
  let node = shapes;
  for (const w of writes) {
    let child = node.next.get(w);
    if (child === undefined) {
      child = { next: new Map() };
      if (shapeCount < MAX_SHAPES) node.next.set(w, child);
    }
    node = child;
  }
  if (node.shape !== undefined) return node.shape;
  // Built with a marker object per column, found again among the compiled parameters.
  const markers = writes.map((w, i) => w.columns.map((_, c) => ({ write: i, column: c })));
  const statements = writes.map((w, i) => w.build(typed(w, markers[i]!)));
  const last = statements.length - 1;
  const ctes = statements.slice(0, last).map((s, i) => sql`${sql.raw(`w_${writes[i]!.name}`)} AS (${s})`);
  const query = (ctes.length > 0 ? sql`WITH ${sql.join(ctes)} ${statements[last]!}` : statements[last]!).compile(db);
  const sources = query.parameters.map((p) => {
    if (markers.every((m) => !m.includes(p as { write: number; column: number }))) throw new Error('a write built a parameter of its own');
    return p as { write: number; column: number };
  });
  const shape: Shape = { text: query.sql, sources };
  if (shapeCount < MAX_SHAPES) {
    node.shape = shape;
    shapeCount++;
  }
  return shape;
}

/** An encoded column: one Buffer, or pieces that reference big values (a bytea[] column holding one). */
type Param = Buffer | ChunkedParam;

function encodeColumn(sqlType: string, values: unknown[]): Param {
  return sqlType === 'bytea[]' && hasBigElement(values) ? encodeByteaArrayChunked(values as Buffer[]) : encodeArray(sqlType, values);
}

/** A statement whose parameters hold big values goes with its Bind written piece by piece (streamed-query.ts). */
function run(client: pg.ClientBase, q: pg.QueryConfig): Promise<unknown> {
  const values = q.values ?? [];
  if (worthStreaming(values)) return queryStreamed(client, q);
  if (!values.some(isChunked)) return runPrepared(client, q);
  // the driver's own way (a driver without what streaming needs) takes whole Buffers
  const whole = values.map((v) => (v instanceof ChunkedParam ? Buffer.concat(v.chunks as Buffer[], v.length) : v));
  return client.query({ ...q, values: whole });
}

function isChunked(v: unknown): boolean {
  return v instanceof ChunkedParam;
}

/** Encoded columns as the write's typed array parameters. */
function typed(write: ArrayWrite, arrays: readonly unknown[]): RawBuilder<unknown>[] {
  return arrays.map((a, c) => sql`${a}::${sql.raw(write.columns[c]!)}`);
}

/** The rows of one write as column slices of at most MAX_STATEMENT_BYTES each (a bigger row alone). */
function sliceRows(write: ArrayWrite, cols: unknown[][]): unknown[][][] {
  const rows = cols[0]?.length ?? 0;
  const out: unknown[][][] = [];
  let start = 0;
  let bytes = 0;
  for (let r = 0; r < rows; r++) {
    let row = 0;
    for (let c = 0; c < cols.length; c++) row += elementBytes(write.columns[c]!, cols[c]![r]);
    if (r > start && bytes + row > MAX_STATEMENT_BYTES) {
      out.push(cols.map((values) => values.slice(start, r)));
      start = r;
      bytes = 0;
    }
    bytes += row;
  }
  out.push(start === 0 ? cols : cols.map((values) => values.slice(start)));
  return out;
}
