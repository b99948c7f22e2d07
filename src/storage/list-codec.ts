import { sql, type Kysely } from 'kysely';
import type { ArrayWrite } from './batch.js';
import { openRows, readWhole } from './whole-read.js';
import { registerCodec, retireViaGarbage, type TypeCodec } from './codecs.js';
import type { TalusSchema } from './database.js';
import { clampRange } from '../keyspace/paging.js';
import { Entry } from '../keyspace/types.js';
import { ListValue, listSize, type ListChanges } from '../keyspace/values/list.js';

/**
 * Lists in talus.lists, one row per element at its position (key_id, pos):
 * a flush writes the positions changed since the last one (see ListValue).
 */

const putRows: ArrayWrite = {
  name: 'list_put',
  columns: ['bigint[]', 'bigint[]', 'bytea[]'],
  build: ([ids, pos, values]) => sql`INSERT INTO talus.lists (key_id, pos, value)
    SELECT * FROM unnest(${ids}, ${pos}, ${values})
    ON CONFLICT (key_id, pos) DO UPDATE SET value = EXCLUDED.value`,
};

/** Deletes positions [lo, hi) of a key: pops and trims at either end. */
const deleteRange: ArrayWrite = {
  name: 'list_del',
  columns: ['bigint[]', 'bigint[]', 'bigint[]'],
  build: ([ids, los, his]) => sql`DELETE FROM talus.lists t
    USING unnest(${ids}, ${los}, ${his}) AS d(key_id, lo, hi)
    WHERE t.key_id = d.key_id AND t.pos >= d.lo AND t.pos < d.hi`,
};

export const listCodec: TypeCodec = {
  type: 'list',
  length: (v) => (v as ListValue).length,
  sizeOf: (v) => listSize(v as ListValue),
  clone: (v) => (v as ListValue).clone(),
  stage(batch, e: Entry) {
    const v = e.value as ListValue;
    const t = v.takeChanges();
    const id = e.keyId;
    const lo = v.head;
    const hi = v.tail;
    const put = (from: number, to: number) => {
      for (let p = from; p < to; p++) batch.add(putRows, id, p, v.at(p - lo));
    };
    if (t.fresh) {
      put(lo, hi);
      return t;
    }
    // rows outside the current range
    const delHi = Math.min(t.pHi, lo);
    if (t.pLo < delHi) batch.add(deleteRange, id, t.pLo, delHi);
    const delLo = Math.max(t.pLo, hi);
    if (delLo < t.pHi) batch.add(deleteRange, id, delLo, t.pHi);
    // current positions whose row is missing or stale
    const cLo = Math.max(t.cLo, lo);
    const cHi = Math.min(t.cHi, hi);
    if (cLo >= cHi) {
      put(lo, hi);
    } else {
      put(lo, cLo);
      put(cHi, hi);
      for (const p of t.dirty) if (p >= cLo && p < cHi) batch.add(putRows, id, p, v.at(p - lo));
    }
    return t;
  },
  unstage(e, token) {
    const v = e.value;
    if (v instanceof ListValue) v.restoreChanges(token as ListChanges);
  },
  retire: retireViaGarbage('list'),
  async load(db: Kysely<TalusSchema>, keyIds: number[]) {
    const { rows } = await sql<{ key_id: number; pos: number; value: Buffer }>`
      SELECT key_id, pos, value FROM talus.lists
      WHERE key_id = ANY(${keyIds}::bigint[]) ORDER BY key_id, pos`.execute(db);
    const grouped = new Map<number, { pos: number[]; values: Buffer[] }>();
    for (const id of keyIds) grouped.set(id, { pos: [], values: [] });
    for (const r of rows) {
      const g = grouped.get(r.key_id)!;
      g.pos.push(r.pos);
      g.values.push(r.value);
    }
    const out = new Map<number, unknown>();
    for (const [id, g] of grouped) out.set(id, ListValue.fromRows(g.pos, g.values));
    return out;
  },
  async openPaged(ctx, rows) {
    const ids = rows.map((r) => r.keyId);
    const { rows: ends } = await sql<{ key_id: number; lo: number | null; hi: number | null }>`
      SELECT i.key_id,
        (SELECT min(pos) FROM talus.lists WHERE key_id = i.key_id) AS lo,
        (SELECT max(pos) FROM talus.lists WHERE key_id = i.key_id) AS hi
      FROM unnest(${ids}::bigint[]) AS i(key_id)`.execute(ctx.db);
    const length = new Map(rows.map((r) => [r.keyId, r.length]));
    const out = new Map<number, unknown>();
    for (const r of ends) {
      // Positions not contiguous (rows not written by Talus): left to a whole load.
      if (r.lo === null || r.hi === null || r.hi - r.lo + 1 !== length.get(r.key_id)) continue;
      out.set(r.key_id, ListValue.paged(r.lo, r.hi - r.lo + 1));
    }
    return out;
  },
  satisfies(value, access) {
    const v = value as ListValue;
    if (!v.pages || access.kind === 'meta') return true;
    if (access.kind !== 'range') return false;
    const span = clampRange(access.start, access.stop, v.length);
    return span === null || v.holds(span[0], span[1]);
  },
  async fetch(ctx, e: Entry, access) {
    const v = e.value as ListValue;
    if (!v.pages) return;
    // Rows of positions memory does not hold never changed since the key was
    // read: no need to wait for pending commits.
    const span = access.kind === 'range' ? clampRange(access.start, access.stop, v.length) : null;
    if (span !== null && span[1] - span[0] + 1 <= ctx.maxRows) {
      const { rows } = await sql<{ pos: number; value: Buffer }>`SELECT pos, value FROM talus.lists
        WHERE key_id = ${e.keyId} AND pos BETWEEN ${v.head + span[0]} AND ${v.head + span[1]}`.execute(ctx.db);
      if (v.pages) for (const r of rows) v.loadAt(r.pos, r.value);
      return;
    }
    await readWhole(ctx.db, sql`SELECT pos, value FROM talus.lists WHERE key_id = ${e.keyId}`, (rows) => {
      if (!v.pages) return false;
      for (const r of rows) v.loadAt(r.pos as number, r.value as Buffer);
      return true;
    });
    if (!v.pages) return;
    v.unpage();
  },
  async openRows(ctx, e: Entry, access) {
    const v = e.value as ListValue;
    const span = v.pages && access.kind === 'range' && !access.reverse ? clampRange(access.start, access.stop, v.length) : null;
    if (span === null || span[1] - span[0] + 1 < ctx.streamMinRows) return undefined;
    return openRows(ctx.db, sql`SELECT value FROM talus.lists WHERE key_id = ${e.keyId} AND pos BETWEEN ${v.head + span[0]} AND ${v.head + span[1]} ORDER BY pos`,
      span[1] - span[0] + 1, (r) => [r.value as Buffer]);
  },
  async warmUp(ctx, keyId) {
    // opening a paged list (its ends), then LINDEX/LRANGE's read of positions
    await listCodec.openPaged!(ctx, [{ keyId, length: 2 }]);
    await listCodec.fetch!(ctx, new Entry(0, '', 'list', ListValue.paged(0, 2), 0, keyId), { kind: 'range', start: 0, stop: 0, reverse: false });
  },
  async purge(db: Kysely<TalusSchema>, keyIds: number[], limit: number) {
    const res = await sql`DELETE FROM talus.lists WHERE ctid IN (
      SELECT ctid FROM talus.lists WHERE key_id = ANY(${keyIds}::bigint[]) LIMIT ${limit})`.execute(db);
    return Number(res.numAffectedRows ?? 0);
  },
};

registerCodec(listCodec);
