import type { Kysely } from 'kysely';
import type { FlushBatch } from './batch.js';
import type { Entry, KeyType } from '../keyspace/types.js';
import { addGarbage } from './writes.js';
import type { TalusSchema } from './database.js';
import type { Access, PagedRows } from '../keyspace/paging.js';
import { stringValueSize } from '../keyspace/value-ops.js';

/** What a codec reading part of a paged value may use (keyspace/paging.ts). */
export interface PageContext {
  db: Kysely<TalusSchema>;
  /** rows a range read may bring in; a bigger range reads the whole value */
  maxRows: number;
  /** rows past which a `stream` access gets PagedRows (Codec.openRows) rather than a read into the value */
  readonly streamMinRows: number;
  /** resolves once the entry's changes are committed: PostgreSQL then matches memory */
  settled(e: Entry): Promise<void>;
}

/**
 * How one data type lives in PostgreSQL: how a dirty entry is written, how a
 * retired incarnation is cleaned up, and how values are read back. The
 * keyspace, loader and flusher are written once against this interface.
 */
export interface TypeCodec {
  readonly type: KeyType;
  /** member count or byte length, stored in talus.keys.length */
  length(value: unknown): number;
  /** bytes of memory the value accounts for in the hot set */
  sizeOf(value: unknown): number;
  /** the value as the key row's `value` column (strings); types without it keep their values in their own tables */
  inline?(value: unknown): Buffer;
  /**
   * Other types' note in the key row's `value` column (null: none): what must
   * survive eviction besides the rows, e.g. a sorted set's Redis encoding.
   */
  rowNote?(value: unknown): Buffer | null;
  /** apply the note read with the key row to a value just loaded or opened paged */
  readRowNote?(value: unknown, note: Buffer | null): void;
  /**
   * Stage the entry's current value, or its changes since the last flush
   * (`fresh` = the incarnation is new to PostgreSQL: write everything). What
   * it returns is handed back to `unstage` if the commit fails, so
   * change tracking can be restored.
   */
  stage(batch: FlushBatch, e: Entry): unknown;
  unstage?(e: Entry, token: unknown): void;
  /** an independent copy (COPY, RENAME across incarnations, MOVE) */
  clone(value: unknown): unknown;
  /** stage removal of a retired incarnation's rows */
  retire(batch: FlushBatch, keyId: number): void;
  /** read values of these incarnations; strings come with the key row instead */
  load?(db: Kysely<TalusSchema>, keyIds: number[]): Promise<Map<number, unknown>>;
  /**
   * Paging of big collections (keyspace/paging.ts), for types that support
   * it: values for these incarnations that hold none of their members yet.
   */
  openPaged?(ctx: PageContext, rows: Array<{ keyId: number; length: number }>): Promise<Map<number, unknown>>;
  /** whether the value holds what `access` needs (always true of a value that is not paged) */
  satisfies?(value: unknown, access: Access): boolean;
  /** read what `access` needs into the entry's paged value; anything undeclared unpages it whole */
  fetch?(ctx: PageContext, e: Entry, access: Access): Promise<void>;
  /**
   * Rows for a command that streams what `access` asks of the entry's paged
   * value (keyspace/paging.ts, PagedRows), through a snapshot taken now: the
   * caller has made sure PostgreSQL matches memory for this key. Undefined
   * when that is at most a page: read into the value instead (`fetch`).
   */
  openRows?(ctx: PageContext, e: Entry, access: Access): Promise<PagedRows | undefined>;
  /**
   * A scan page of the entry's paged value: up to `count` members after
   * `after` (null: from the first) in member order, with their payloads
   * (keyspace/paging.ts, ScanPage); the caller has made sure PostgreSQL
   * matches memory for this key.
   */
  readScanPage?(ctx: PageContext, e: Entry, after: string | null, count: number): Promise<{ rows: Array<[string, unknown]>; more: boolean }>;
  /**
   * Start-up warm-up: run the statements that reading parts of a paged value
   * uses (the hot point reads), on `ctx.db`, for `keyId`, an incarnation that
   * has no rows: a new PostgreSQL backend pays its catalog lookups and
   * statement preparation on its first queries, not on a client's.
   */
  warmUp?(ctx: PageContext, keyId: number): Promise<void>;
  /** janitor: delete up to `limit` rows of these retired ids, returning how many were deleted */
  purge?(db: Kysely<TalusSchema>, keyIds: number[], limit: number): Promise<number>;
}

export const stringCodec: TypeCodec = {
  type: 'string',
  length: (v) => (v as Buffer).length,
  sizeOf: (v) => stringValueSize(v as Buffer),
  inline: (v) => v as Buffer,
  stage: () => undefined, // the value goes in the key's row (inline)
  clone: (v) => v, // string values are never mutated in place
  retire: () => undefined, // the value leaves with its key's row
};

const codecs = new Map<KeyType, TypeCodec>();

export function registerCodec(codec: TypeCodec): void {
  codecs.set(codec.type, codec);
}

registerCodec(stringCodec);

export function allCodecs(): TypeCodec[] {
  return [...codecs.values()];
}

export function codecFor(type: KeyType): TypeCodec {
  const c = codecs.get(type);
  if (!c) throw new Error(`no storage codec for type ${type}`);
  return c;
}

/** Retiring a collection hands its rows to the janitor. */
export function retireViaGarbage(type: KeyType) {
  return (batch: FlushBatch, keyId: number) => batch.add(addGarbage, keyId, type);
}
