import { sql, type Kysely, type RawBuilder } from 'kysely';

/**
 * A statement that writes many rows at once from parallel arrays, one array
 * parameter per column (`unnest($1::bigint[], $2::bytea[])`): one round trip
 * and one plan for any number of rows.
 */
export interface ArrayWrite {
  readonly name: string;
  /** PostgreSQL array types of the columns, e.g. ['bigint[]', 'bytea[]'] */
  readonly columns: readonly string[];
  /** the statement, given the typed array parameters as SQL fragments */
  build(params: RawBuilder<unknown>[]): RawBuilder<unknown>;
}

/**
 * The rows one flush writes, gathered per ArrayWrite. All writes go out in
 * one statement of data-modifying CTEs (atomic on its own, one round trip);
 * callers guarantee that no two writes of a batch touch the same row.
 */
export class FlushBatch {
  private readonly writes = new Map<ArrayWrite, unknown[][]>();
  /** statements that must run first, in order (FLUSHDB, SWAPDB) */
  readonly before: RawBuilder<unknown>[] = [];

  add(write: ArrayWrite, ...row: unknown[]): void {
    let cols = this.writes.get(write);
    if (cols === undefined) {
      cols = write.columns.map(() => []);
      this.writes.set(write, cols);
    }
    for (let i = 0; i < row.length; i++) cols[i]!.push(row[i]);
  }

  get empty(): boolean {
    return this.writes.size === 0 && this.before.length === 0;
  }

  async execute(db: Kysely<any>): Promise<void> {
    const ctes = [...this.writes].map(([write, cols], i) => {
      const params = cols.map((values, c) =>
        write.columns[c] === 'bytea[]' && bytesOf(values as Array<Buffer | null>) >= BLOB_MIN
          ? byteaArray(values as Array<Buffer | null>)
          : sql`${values}::${sql.raw(write.columns[c]!)}`,
      );
      return sql`${sql.raw(`w${i}_${write.name}`)} AS (${write.build(params)})`;
    });
    const main = ctes.length > 0 ? sql`WITH ${sql.join(ctes)} SELECT 1` : undefined;
    if (this.before.length === 0) {
      if (main) await main.execute(db);
      return;
    }
    await db.transaction().execute(async (tx) => {
      for (const stmt of this.before) await stmt.execute(tx);
      if (main) await main.execute(tx);
    });
  }
}

/**
 * Below this many bytes a bytea column goes as a plain array: splitting costs
 * PostgreSQL more than the hex text it saves (SET -P1 of 64-byte values: 12%).
 */
const BLOB_MIN = 256 * 1024;

function bytesOf(values: Array<Buffer | null>): number {
  let n = 0;
  for (const v of values) if (v != null) n += v.length;
  return n;
}

/**
 * A bytea[] parameter as one binary blob plus lengths, split back into the
 * array by talus.split_bytea (migrations/0004): node-postgres sends a Buffer
 * in binary but an array of Buffers as hex text, over twice the bytes.
 */
function byteaArray(values: Array<Buffer | null>): RawBuilder<unknown> {
  const lens = new Array<number>(values.length);
  const parts: Buffer[] = [];
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v == null) lens[i] = -1;
    else {
      lens[i] = v.length;
      parts.push(v);
    }
  }
  return sql`talus.split_bytea(${Buffer.concat(parts)}::bytea, ${lens}::int4[])`;
}
