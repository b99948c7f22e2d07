import { sql, type CompiledQuery, type Kysely, type RawBuilder } from 'kysely';
import { encodeArray } from './binary-array.js';
import { preparedQuery, type Database } from './database.js';

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
 * one statement of data-modifying CTEs (one round trip); callers guarantee
 * that no two writes of a batch touch the same row.
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

  /**
   * The batch as SQL: statements that must run first, then one statement of
   * data-modifying CTEs (ordered by name, so a given mix of writes always has
   * the same text and can be a prepared statement). Columns go as binary arrays.
   */
  compile(db: Kysely<any>): { before: CompiledQuery[]; main: CompiledQuery | undefined } {
    const writes = [...this.writes].sort(([a], [b]) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    const ctes = writes.map(([write, cols]) => {
      const params = cols.map((values, c) => {
        const type = write.columns[c]!;
        return sql`${encodeArray(type, values)}::${sql.raw(type)}`;
      });
      return sql`${sql.raw(`w_${write.name}`)} AS (${write.build(params)})`;
    });
    return {
      before: this.before.map((s) => s.compile(db)),
      main: ctes.length > 0 ? sql`WITH ${sql.join(ctes)} SELECT 1`.compile(db) : undefined,
    };
  }

  /** Write the batch atomically: one statement, or a transaction when statements must run first. */
  async execute(database: Database): Promise<void> {
    const { before, main } = this.compile(database.db);
    const statement = main && preparedQuery(main.sql, main.parameters as unknown[]);
    if (before.length === 0) {
      if (statement) await database.pool.query(statement);
      return;
    }
    const client = await database.pool.connect();
    let broken: Error | undefined;
    try {
      await client.query('BEGIN');
      for (const q of before) await client.query(q.sql, q.parameters as unknown[]);
      if (statement) await client.query(statement);
      await client.query('COMMIT');
    } catch (err) {
      await client.query('ROLLBACK').catch((e: Error) => (broken = e));
      throw err;
    } finally {
      client.release(broken);
    }
  }
}
