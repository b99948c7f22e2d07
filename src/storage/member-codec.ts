import { sql, type Kysely, type RawBuilder } from 'kysely';
import type { ArrayWrite } from './batch.js';
import type { TypeCodec } from './codecs.js';
import type { TalusSchema } from './database.js';
import type { Entry, KeyType } from '../keyspace/types.js';

/**
 * Which members of a collection changed since its last flush. `fresh` means
 * the incarnation is not in PostgreSQL yet: every member is written.
 */
export class MemberChanges {
  fresh = true;
  readonly changed = new Set<string>();

  /** Record a member (latin1 name) written or removed. */
  mark(member: string): void {
    if (!this.fresh) this.changed.add(member);
  }
}

/** A collection value that tracks its changes (hash, set, zset). */
export interface TrackedCollection {
  changes: MemberChanges;
}

export interface MemberTableSpec<V extends TrackedCollection> {
  type: KeyType;
  /** e.g. 'talus.hashes' */
  table: string;
  /** e.g. 'field' or 'member' */
  memberColumn: string;
  /** extra columns and their PostgreSQL types, e.g. [['value', 'bytea']] */
  payload: ReadonlyArray<readonly [column: string, pgType: string]>;
  /** the payload of a member, or undefined if it is not in the collection */
  get(value: V, member: string): unknown[] | undefined;
  /** every member with its payload */
  entries(value: V): Iterable<[string, unknown[]]>;
  /** a new, empty value (with fresh=false: it mirrors rows read from PostgreSQL) */
  empty(): V;
  /** add a row read from PostgreSQL */
  addRow(value: V, member: string, payload: unknown[]): void;
  length(value: V): number;
  sizeOf(value: V): number;
  /** an independent copy whose changes are fresh */
  clone(value: V): V;
}

/**
 * The storage codec for collections kept one row per member in a table
 * keyed by (key_id, member): hashes, sets and sorted sets share it. A flush
 * writes only the members changed since the last one (or all of them for a
 * new incarnation).
 */
export function memberCodec<V extends TrackedCollection>(spec: MemberTableSpec<V>): TypeCodec {
  const payloadCols = spec.payload.map(([c]) => c);
  const put: ArrayWrite = {
    name: `${spec.type}_put`,
    columns: ['bigint[]', 'bytea[]', ...spec.payload.map(([, t]) => `${t}[]`)],
    build: (params) => {
      const cols = ['key_id', spec.memberColumn, ...payloadCols].join(', ');
      const onConflict =
        payloadCols.length === 0
          ? 'DO NOTHING'
          : `DO UPDATE SET ${payloadCols.map((c) => `${c} = EXCLUDED.${c}`).join(', ')}`;
      return sql`INSERT INTO ${sql.raw(spec.table)} (${sql.raw(cols)})
        SELECT * FROM unnest(${sql.join(params)})
        ON CONFLICT (key_id, ${sql.raw(spec.memberColumn)}) ${sql.raw(onConflict)}`;
    },
  };
  const del: ArrayWrite = {
    name: `${spec.type}_del`,
    columns: ['bigint[]', 'bytea[]'],
    build: ([ids, members]) => sql`DELETE FROM ${sql.raw(spec.table)} t
      USING unnest(${ids}, ${members}) AS d(key_id, member)
      WHERE t.key_id = d.key_id AND t.${sql.raw(spec.memberColumn)} = d.member`,
  };
  const garbage: ArrayWrite = {
    name: `${spec.type}_garbage`,
    columns: ['bigint[]', 'text[]'],
    build: ([ids, types]) => sql`INSERT INTO talus.garbage (key_id, type)
      SELECT * FROM unnest(${ids}, ${types}) ON CONFLICT DO NOTHING`,
  };
  const bytes = (name: string) => Buffer.from(name, 'latin1');

  return {
    type: spec.type,
    length: (v) => spec.length(v as V),
    sizeOf: (v) => spec.sizeOf(v as V),
    clone: (v) => spec.clone(v as V),
    stage(batch, e: Entry) {
      const value = e.value as V;
      const token = value.changes;
      value.changes = new MemberChanges();
      value.changes.fresh = false;
      if (token.fresh) {
        for (const [m, p] of spec.entries(value)) batch.add(put, e.keyId, bytes(m), ...p);
      } else {
        for (const m of token.changed) {
          const p = spec.get(value, m);
          if (p === undefined) batch.add(del, e.keyId, bytes(m));
          else batch.add(put, e.keyId, bytes(m), ...p);
        }
      }
      return token;
    },
    unstage(e, token) {
      const t = token as MemberChanges;
      const value = e.value as V | undefined;
      if (!value?.changes) return;
      if (t.fresh) value.changes.fresh = true;
      for (const m of t.changed) value.changes.changed.add(m);
    },
    retire: (batch, keyId) => batch.add(garbage, keyId, spec.type),
    async load(db: Kysely<TalusSchema>, keyIds: number[]) {
      const cols = sql.raw(['key_id', spec.memberColumn, ...payloadCols].join(', '));
      const { rows } = await sql<Record<string, unknown>>`SELECT ${cols} FROM ${sql.raw(spec.table)}
        WHERE key_id = ANY(${keyIds}::bigint[])`.execute(db);
      const out = new Map<number, unknown>();
      for (const id of keyIds) out.set(id, spec.empty());
      for (const r of rows) {
        const v = out.get(r.key_id as number) as V;
        spec.addRow(v, (r[spec.memberColumn] as Buffer).toString('latin1'), payloadCols.map((c) => r[c]));
      }
      return out;
    },
    async purge(db: Kysely<TalusSchema>, keyIds: number[], limit: number) {
      const res = await sql`DELETE FROM ${sql.raw(spec.table)} WHERE ctid IN (
        SELECT ctid FROM ${sql.raw(spec.table)} WHERE key_id = ANY(${keyIds}::bigint[]) LIMIT ${limit})`.execute(db);
      return Number(res.numAffectedRows ?? 0);
    },
  };
}

export type { RawBuilder };
