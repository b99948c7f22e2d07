import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import type { KeyType } from '../keyspace/types.js';

/** Row types of the talus schema, for kysely. */
export interface KeysTable {
  db: number;
  /** the key, or the indexed form of a key longer than SHORT_NAME_BYTES (util/indexed-names.ts) */
  key: Buffer;
  /** the whole key when `key` is its indexed form (migrations/0009); NULL otherwise */
  long_key: Buffer | null;
  key_id: number;
  type: KeyType;
  expire_at: number | null;
  /** when active expiry may reclaim the key: expire_at rounded up to a window (storage/expire-due.ts) */
  expire_due: number | null;
  length: number;
  /** a string's value (migrations/0008); NULL for other types */
  value: Buffer | null;
}
export interface GarbageTable {
  key_id: number;
  type: KeyType;
}
export interface ChangelogTable {
  first_seq: number;
  last_seq: number;
  at: number;
  records: Buffer;
}
export interface MetaTable {
  name: string;
  value: string;
}
export interface TalusSchema {
  'talus.keys': KeysTable;
  'talus.garbage': GarbageTable;
  'talus.changelog': ChangelogTable;
  'talus.meta': MetaTable;
}

/** int8 as JS number: key ids, ms timestamps and offsets all stay below 2^53. */
const types = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (oid === 20) return (v: string) => Number(v);
    return pg.types.getTypeParser(oid, format);
  },
};

export interface Database {
  pool: pg.Pool;
  db: Kysely<TalusSchema>;
  /**
   * Run `fn` once on each of `count` pool connections, all checked out at
   * once (so each is a distinct backend), with a Kysely bound to that one
   * connection. For start-up warm-up: nothing else may hold connections.
   */
  onEachConnection(count: number, fn: (db: Kysely<TalusSchema>) => Promise<void>): Promise<void>;
  /** Resolves once PostgreSQL answers `SELECT 1` within `timeoutMs` (the readiness probe), rejects otherwise. */
  ping(timeoutMs: number): Promise<void>;
  /** The pool's connections: open, idle, and requests waiting for one (INFO talus, /metrics). */
  poolState(): { total: number; idle: number; waiting: number };
  close(): Promise<void>;
}

/** How long opening one connection to PostgreSQL may take. */
const CONNECT_TIMEOUT_MS = 5_000;

/**
 * A connection whose opening times out. pg-pool's own connectionTimeoutMillis
 * also bounds how long a query waits for a free connection, and a burst of
 * cold reads (64 clients each reading 2,000 cold keys) queued long enough
 * that some failed with "timeout exceeded when trying to connect" while
 * PostgreSQL was answering. Waiting for a free connection is not a fault.
 */
class TimedConnectClient extends pg.Client {
  constructor(config?: pg.ClientConfig) {
    super({ ...config, connectionTimeoutMillis: CONNECT_TIMEOUT_MS });
  }
}

export function openDatabase(url: string, poolSize: number, onError: (err: Error) => void): Database {
  const pool = new pg.Pool({
    connectionString: url,
    max: poolSize,
    types: types as pg.CustomTypesConfig,
    Client: TimedConnectClient,
    // Keep connections open: reconnecting after idle spells costs a backend
    // fork each, which on a busy machine can outlast the connect timeout.
    idleTimeoutMillis: 0,
    keepAlive: true,
    application_name: 'talus',
  });
  // An idle client whose server went away emits 'error'; without a listener
  // that would crash the process. The next query reconnects.
  pool.on('error', onError);
  // A checked-out client (e.g. inside a transaction, between its statements)
  // has no pool listener: PostgreSQL's shutdown notice (FATAL 57P01) arriving
  // then would crash the process. The query in flight fails; the pool
  // discards the client.
  pool.on('connect', (client) => client.on('error', onError));
  // Kysely's queries go out as prepared statements (see preparedQuery).
  const preparedPool = {
    async connect() {
      const client = await pool.connect();
      return {
        query: (text: string, values: unknown[]) => runPrepared(client, preparedQuery(text, values)),
        release: () => client.release(),
      };
    },
    end: () => pool.end(),
  };
  const db = new Kysely<TalusSchema>({ dialect: new PostgresDialect({ pool: preparedPool as unknown as pg.Pool }) });
  async function onEachConnection(count: number, fn: (db: Kysely<TalusSchema>) => Promise<void>): Promise<void> {
    const settled = await Promise.allSettled(Array.from({ length: count }, () => pool.connect()));
    const clients = settled.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    try {
      await Promise.all(clients.map(async (client) => {
        const one = {
          connect: async () => ({ query: (text: string, values: unknown[]) => runPrepared(client, preparedQuery(text, values)), release: () => undefined }),
          end: async () => undefined,
        };
        const bound = new Kysely<TalusSchema>({ dialect: new PostgresDialect({ pool: one as unknown as pg.Pool }) });
        try {
          await fn(bound);
        } finally {
          await bound.destroy();
        }
      }));
    } finally {
      for (const c of clients) c.release();
    }
    const failed = settled.find((r) => r.status === 'rejected');
    if (failed) throw (failed as PromiseRejectedResult).reason;
  }
  async function ping(timeoutMs: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`PostgreSQL did not answer in ${timeoutMs} ms`)), timeoutMs);
    });
    try {
      await Promise.race([pool.query('SELECT 1'), late]);
    } finally {
      clearTimeout(timer);
    }
  }
  return {
    pool,
    db,
    onEachConnection,
    ping,
    poolState: () => ({ total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount }),
    close: () => db.destroy(),
  };
}

/**
 * Statement names by text. Talus runs a small set of statement texts over and
 * over (a commit's mix of writes, a point read): naming them makes each
 * connection parse and plan a text once, not per call. Texts past the cap
 * (one-off statements) go unnamed.
 */
const statementNames = new Map<string, string>();
const MAX_STATEMENTS = 512;

export function preparedQuery(text: string, values: unknown[]): pg.QueryConfig {
  let name = statementNames.get(text);
  if (name === undefined && statementNames.size < MAX_STATEMENTS) {
    name = `talus_${statementNames.size}`;
    statementNames.set(text, name);
  }
  return { name, text, values };
}

/**
 * Run a statement (preparedQuery's config) on `client`. node-postgres copies
 * a config object into its Query through the object's property descriptors,
 * about 3 µs a query here (a commit's statement and every point read pay
 * it); a Query made from the text, and named after, skips that copy.
 */
export function runPrepared(client: pg.ClientBase, config: pg.QueryConfig): Promise<pg.QueryResult> {
  return new Promise((resolve, reject) => {
    const query = new pg.Query(config.text, config.values, (err: Error | undefined, result: pg.QueryResult) => (err ? reject(err) : resolve(result)));
    (query as unknown as { name: string | undefined }).name = config.name;
    void client.query(query);
  });
}
