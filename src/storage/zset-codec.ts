import { sql, type RawBuilder } from 'kysely';
import { registerCodec, type PageContext, type TypeCodec } from './codecs.js';
import { memberCodec } from './member-codec.js';
import { clampRange, PageFault, WHOLE, type Access, type PagedRows } from '../keyspace/paging.js';
import { openRows } from './whole-read.js';
import { formatDouble } from '../util/numbers.js';
import { Entry } from '../keyspace/types.js';
import { windowIndex, ZSetPages, ZSetValue, zsetSize } from '../keyspace/values/zset.js';
import { indexedForm, lastFormWithPrefix, SHORT_NAME_BYTES } from '../util/indexed-names.js';

/** Sorted sets in talus.zsets (key_id, member, score), indexed by member and by (score, member). */

/** float8 parameter: node-postgres prints -0 as "0", so spell it out. */
function pgScore(s: number): number | string {
  return s === 0 && 1 / s < 0 ? '-0' : s;
}

const memberTable = memberCodec<ZSetValue>({
  type: 'zset',
  table: 'talus.zsets',
  memberColumn: 'member',
  payload: [['score', 'float8']],
  get(v, m) {
    const s = v.dict.get(m);
    return s === undefined ? undefined : pgScore(s);
  },
  *entries(v) {
    for (const [m, s] of v.dict) yield [m, pgScore(s)];
  },
  empty() {
    const v = new ZSetValue();
    v.changes.fresh = false;
    return v;
  },
  addRow(v, m, payload) {
    v.loadRow(m, Number(payload[0]));
  },
  length: (v) => v.size,
  sizeOf: zsetSize,
  clone: (v) => v.clone(),
  newPages: (total) => new ZSetPages(total),
  knows: (v, m) => v.knows(m),
  unpage: (v) => v.unpage(),
});

/** Ascending ranks [lo, hi] an access by rank needs, or null if none. */
function rankSpan(v: ZSetValue, access: Access & { kind: 'range' }): [number, number] | null {
  const n = v.size;
  const span = clampRange(access.start, access.stop, n);
  if (!span || !access.reverse) return span;
  return [n - 1 - span[1], n - 1 - span[0]];
}

function windowCovers(v: ZSetValue, lo: number, hi: number): boolean {
  const w = v.pages!.window;
  return w !== null && w.lo <= lo && hi < w.lo + w.items.length;
}

/**
 * Sorted sets page by member (the shared member-table codec) and by rank:
 * ZRANK counts the members below one in PostgreSQL's (key_id, score, member)
 * index, ZRANGE by rank and the pops read that range in order. Both need
 * PostgreSQL to match memory, so they wait for the key's pending commit.
 */
/** The key row's note of a set Redis would hold as a skiplist (see ZSetValue.compact). */
const SKIPLIST_NOTE = Buffer.from('skiplist');

export const zsetCodec: TypeCodec = {
  ...memberTable,
  rowNote: (value) => ((value as ZSetValue).compact ? null : SKIPLIST_NOTE),
  readRowNote(value, note) {
    (value as ZSetValue).compact = note === null || !note.equals(SKIPLIST_NOTE);
  },
  satisfies(value, access) {
    const v = value as ZSetValue;
    if (!v.pages) return true;
    if (access.kind === 'rank') {
      if (!v.knows(access.member)) return false;
      const s = v.dict.get(access.member);
      if (s === undefined) return true;
      const w = v.pages.window;
      const i = w ? windowIndex(w.items, s, access.member) : -1;
      return w !== null && i < w.items.length && w.items[i]![0] === access.member;
    }
    if (access.kind === 'range') {
      const span = rankSpan(v, access);
      return span === null || windowCovers(v, span[0], span[1]);
    }
    if (access.kind === 'scores' || access.kind === 'lex') {
      // a lex range walks the window in member order: only when every score is the same
      if (access.kind === 'lex' && access.offset >= 0 && access.count !== 0 && v.pages.commonScore === undefined) return false;
      try {
        if (access.kind === 'scores') v.rangeByScore(access);
        else v.rangeByLex(access);
        return true;
      } catch (err) {
        if (err instanceof PageFault) return false;
        throw err;
      }
    }
    return memberTable.satisfies!(value, access);
  },
  async fetch(ctx, e: Entry, access) {
    const v = e.value as ZSetValue;
    if (!v.pages) return;
    if (access.kind === 'rank') {
      if (!v.knows(access.member)) await memberTable.fetch!(ctx, e, { kind: 'members', members: [access.member] });
      const s = v.dict.get(access.member);
      if (s === undefined) return;
      await ctx.settled(e);
      const m = Buffer.from(access.member, 'latin1');
      let rank: number;
      if (m.length > SHORT_NAME_BYTES) {
        // Among long members sharing its first bytes, the index orders by digest: place it in its run.
        const run = await readRun(ctx, e.keyId, s, indexedForm(m));
        rank = run.start + run.members.indexOf(access.member);
      } else {
        // A short member compares with long members' indexed forms as with the members.
        const { rows } = await sql<{ n: number }>`SELECT count(*)::int AS n FROM talus.zsets
          WHERE key_id = ${e.keyId} AND (score, member) < (${pgScore(s)}::float8, ${m}::bytea)`.execute(ctx.db);
        rank = rows[0]!.n;
      }
      if (v.pages && v.dict.get(access.member) === s) v.setWindow(rank, [[access.member, s]]);
      return;
    }
    if (access.kind === 'range') {
      const span = rankSpan(v, access);
      if (span !== null && span[1] - span[0] + 1 <= ctx.maxRows) {
        await ctx.settled(e);
        const [lo, hi] = span;
        const n = hi - lo + 1;
        const total = v.size;
        // Read from whichever end is nearer: OFFSET walks the index.
        const fromTop = total - 1 - hi < lo;
        const { rows } = fromTop
          ? await sql<WindowRow>`SELECT member, long_member, score FROM talus.zsets WHERE key_id = ${e.keyId}
              ORDER BY score DESC, member DESC OFFSET ${total - 1 - hi} LIMIT ${n}`.execute(ctx.db)
          : await sql<WindowRow>`SELECT member, long_member, score FROM talus.zsets WHERE key_id = ${e.keyId}
              ORDER BY score, member OFFSET ${lo} LIMIT ${n}`.execute(ctx.db);
        if (fromTop) rows.reverse();
        const items = await inByteOrder(ctx, e.keyId, lo, rows);
        if (v.pages && v.size === total) v.setWindow(lo, items);
        return;
      }
    }
    if (access.kind === 'scores') {
      await ctx.settled(e);
      const total = v.size;
      const window = await scoreWindow(ctx, e.keyId, total, access);
      if (!v.pages || v.size !== total) return;
      v.setWindow(window.lo, window.items);
      // An open-ended range (no LIMIT) longer than a window: read the whole set.
      if (zsetCodec.satisfies!(v, access)) return;
    }
    if (access.kind === 'lex' && lexEdgesIndexed(access)) {
      await ctx.settled(e);
      const total = v.size;
      const score = await commonScore(ctx, e.keyId);
      if (score !== undefined && v.pages && v.size === total) {
        const window = await lexWindow(ctx, e.keyId, total, access, score);
        if (!v.pages || v.size !== total) return;
        v.pages.commonScore = score;
        v.setWindow(window.lo, window.items);
        if (zsetCodec.satisfies!(v, access)) return;
      }
    }
    await memberTable.fetch!(ctx, e, access.kind === 'scores' || access.kind === 'lex' ? WHOLE : access);
  },
  async openRows(ctx, e: Entry, access) {
    const v = e.value as ZSetValue;
    if (v.pages && access.kind === 'scores') return openScoreRows(ctx, e, v.size, access);
    const span = v.pages && access.kind === 'range' ? rankSpan(v, access) : null;
    if (span === null || span[1] - span[0] + 1 < ctx.streamMinRows) return undefined;
    const [lo, hi] = span;
    const n = hi - lo + 1;
    const order = access.kind === 'range' && access.reverse
      ? sql`ORDER BY score DESC, member DESC OFFSET ${v.size - 1 - hi}`
      : sql`ORDER BY score, member OFFSET ${lo}`;
    const rows = await openRows(ctx.db, sql`SELECT member, long_member, score FROM talus.zsets WHERE key_id = ${e.keyId} ${order} LIMIT ${n}`, n, scoredRow);
    return inRunOrder(rows, access.kind === 'range' && access.reverse);
  },
  async warmUp(ctx, keyId) {
    await memberTable.warmUp!(ctx, keyId);
    // ZRANGE by rank and the pops, from either end
    for (const reverse of [false, true]) {
      const value = (await memberTable.openPaged!(ctx, [{ keyId, length: 2 }])).get(keyId);
      await zsetCodec.fetch!(ctx, new Entry(0, '', 'zset', value, 0, keyId), { kind: 'range', start: 0, stop: 0, reverse });
    }
  },
};

type ScoreAccess = Extract<Access, { kind: 'scores' }>;
type LexAccess = Extract<Access, { kind: 'lex' }>;

/**
 * PagedRows of a score range (ZRANGEBYSCORE and the like) too long to read
 * into memory, or undefined. Its length is counted first: the reply's header
 * comes before its rows. Both statements see the same rows, as the command
 * heads its key's queue and the key has no uncommitted change.
 */
async function openScoreRows(ctx: PageContext, e: Entry, total: number, q: ScoreAccess): Promise<PagedRows | undefined> {
  if (total < ctx.streamMinRows || q.offset < 0 || q.count === 0) return undefined;
  const inRange = sql`key_id = ${e.keyId}
    AND score ${sql.raw(q.minex ? '>' : '>=')} ${pgScore(q.min)}::float8 AND score ${sql.raw(q.maxex ? '<' : '<=')} ${pgScore(q.max)}::float8`;
  const { rows: counted } = await sql<{ n: number }>`SELECT count(*)::int AS n FROM talus.zsets WHERE ${inRange}`.execute(ctx.db);
  const n = Math.max(0, Math.min(counted[0]!.n - q.offset, q.count < 0 ? Infinity : q.count));
  if (n < ctx.streamMinRows) return undefined;
  const dir = sql.raw(q.reverse ? 'DESC' : 'ASC');
  const rows = await openRows(ctx.db, sql`SELECT member, long_member, score FROM talus.zsets WHERE ${inRange}
    ORDER BY score ${dir}, member ${dir} OFFSET ${q.offset} LIMIT ${n}`, n, scoredRow);
  return inRunOrder(rows, q.reverse);
}

/** A streamed row: [member, score] or, for a long member, [member, score, its run key] (see inRunOrder). */
function scoredRow(r: Record<string, unknown>): Buffer[] {
  const long = r.long_member as Buffer | null;
  const score = Buffer.from(formatDouble(r.score as number), 'latin1');
  return long === null ? [r.member as Buffer, score] : [long, score, Buffer.concat([score, Buffer.from([0]), (r.member as Buffer).subarray(0, SHORT_NAME_BYTES)])];
}

/**
 * The rank window a score range needs: from the range's starting end,
 * `offset` + `count` elements (at most `maxRows`) plus one beyond the far
 * side, and the nearest element outside the starting bound, so that the
 * window holds both where the range starts and where the walk stops. The
 * window's first rank comes from counting the elements outside the starting
 * bound (an index scan of that many entries).
 */
function scoreWindow(ctx: PageContext, keyId: number, total: number, q: ScoreAccess): Promise<{ lo: number; items: Array<[string, number]> }> {
  // The elements outside the bound the walk starts from (below min, or above max with `reverse`).
  const outside = q.reverse
    ? (q.maxex ? sql`score >= ${pgScore(q.max)}::float8` : sql`score > ${pgScore(q.max)}::float8`)
    : (q.minex ? sql`score <= ${pgScore(q.min)}::float8` : sql`score < ${pgScore(q.min)}::float8`);
  return rangeWindow(ctx, keyId, total, q, outside, sql`NOT (${outside})`);
}

/**
 * The rank window of a lex range, as scoreWindow's, for a set whose scores
 * are all `score`: its order is then its members', as (key_id, score, member)
 * holds them. Each condition names the score, so that each statement is a
 * range of that index whatever the planner's statistics say (stale ones had
 * it sort the whole set). Edges longer than SHORT_NAME_BYTES are not asked
 * for (lexEdgesIndexed): a shorter one compares with a long member's indexed
 * form as with the member.
 */
function lexWindow(ctx: PageContext, keyId: number, total: number, q: LexAccess, score: number): Promise<{ lo: number; items: Array<[string, number]> }> {
  const edge = q.reverse ? q.max : q.min;
  const value = Buffer.from(edge.value, 'latin1');
  const same = sql`score = ${pgScore(score)}::float8`;
  // nothing lies outside `-` (ascending) or `+` (descending), everything outside the other
  if (edge.kind !== 0) {
    const none = (edge.kind === -1) !== q.reverse;
    return rangeWindow(ctx, keyId, total, q, none ? sql`false` : same, none ? same : sql`false`);
  }
  const [outside, inside] = q.reverse
    ? (edge.ex ? [sql`member >= ${value}`, sql`member < ${value}`] : [sql`member > ${value}`, sql`member <= ${value}`])
    : (edge.ex ? [sql`member <= ${value}`, sql`member > ${value}`] : [sql`member < ${value}`, sql`member >= ${value}`]);
  return rangeWindow(ctx, keyId, total, q, sql`${same} AND ${outside}`, sql`${same} AND ${inside}`);
}

function lexEdgesIndexed(q: LexAccess): boolean {
  return q.min.value.length <= SHORT_NAME_BYTES && q.max.value.length <= SHORT_NAME_BYTES;
}

async function rangeWindow(
  ctx: PageContext,
  keyId: number,
  total: number,
  q: { readonly reverse: boolean; readonly offset: number; readonly count: number },
  outside: RawBuilder<unknown>,
  inside: RawBuilder<unknown>,
): Promise<{ lo: number; items: Array<[string, number]> }> {
  const take = Math.min(q.count < 0 ? ctx.maxRows : q.count, ctx.maxRows);
  const need = Math.min(q.offset, ctx.maxRows) + take + 1;
  // the order that walks away from the starting bound ("inward"), and back
  const [inward, outward] = q.reverse ? [sql`score DESC, member DESC`, sql`score, member`] : [sql`score, member`, sql`score DESC, member DESC`];
  const { rows: counted } = await sql<{ n: number }>`SELECT count(*)::int AS n FROM talus.zsets
    WHERE key_id = ${keyId} AND ${outside}`.execute(ctx.db);
  const n = counted[0]!.n;
  const { rows: edge } = n === 0 ? { rows: [] } : await sql<WindowRow>`SELECT member, long_member, score
    FROM talus.zsets WHERE key_id = ${keyId} AND ${outside} ORDER BY ${outward} LIMIT 1`.execute(ctx.db);
  const { rows } = await sql<WindowRow>`SELECT member, long_member, score FROM talus.zsets
    WHERE key_id = ${keyId} AND ${inside} ORDER BY ${inward} LIMIT ${need}`.execute(ctx.db);
  if (!q.reverse) {
    const lo = n - edge.length;
    return { lo, items: await inByteOrder(ctx, keyId, lo, [...edge, ...rows]) };
  }
  rows.reverse();
  const lo = total - n - rows.length;
  return { lo, items: await inByteOrder(ctx, keyId, lo, [...rows, ...edge]) };
}

/** The one score every member has, or undefined when they differ (or there are none). */
async function commonScore(ctx: PageContext, keyId: number): Promise<number | undefined> {
  // two probes of (key_id, score, member); min()/max() here walked the whole set where statistics were stale
  const { rows } = await sql<{ lo: number | null; hi: number | null }>`SELECT
    (SELECT score FROM talus.zsets WHERE key_id = ${keyId} ORDER BY score LIMIT 1) AS lo,
    (SELECT score FROM talus.zsets WHERE key_id = ${keyId} ORDER BY score DESC LIMIT 1) AS hi`.execute(ctx.db);
  const { lo, hi } = rows[0]!;
  return lo !== null && lo === hi ? lo : undefined;
}

/** A row of talus.zsets as window reads take it: `member` is the indexed form, `long_member` the whole member of a long one. */
interface WindowRow {
  member: Buffer;
  long_member: Buffer | null;
  score: number;
}

/**
 * Window rows (ascending, at ranks lo...) in index order, as items in Redis's
 * order (score, then member bytes). The two differ only among long members of
 * one score sharing their first SHORT_NAME_BYTES bytes (util/indexed-names.ts),
 * which the index orders by digest: such a run is contiguous there, and has
 * the same score at every rank. A run within the window is sorted in place; a
 * run at either end may go on outside it, so it is read whole and the window
 * takes the members of its ranks. Windows of short members cost nothing more.
 */
async function inByteOrder(ctx: PageContext, keyId: number, lo: number, rows: WindowRow[]): Promise<Array<[string, number]>> {
  const items = rows.map((r): [string, number] => [(r.long_member ?? r.member).toString('latin1'), r.score]);
  const prefixOf = (r: WindowRow) => r.member.subarray(0, SHORT_NAME_BYTES);
  for (let i = 0; i < rows.length; ) {
    const first = rows[i]!;
    let j = i + 1;
    if (first.long_member === null) {
      i = j;
      continue;
    }
    const prefix = prefixOf(first);
    while (j < rows.length && rows[j]!.long_member !== null && rows[j]!.score === first.score && prefixOf(rows[j]!).equals(prefix)) j++;
    if (i > 0 && j < rows.length) {
      const run = items.slice(i, j).sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
      items.splice(i, j - i, ...run);
    } else {
      const run = await readRun(ctx, keyId, first.score, first.member);
      for (let k = i; k < j; k++) items[k] = [run.members[lo + k - run.start]!, first.score];
    }
    i = j;
  }
  return items;
}

/**
 * Rows [member, score, run key?] of a rank range in index order, put in
 * byte order: long members of one score sharing their first
 * SHORT_NAME_BYTES bytes (a run, with one run key) are ordered by digest in
 * the index. A run at the end of a page may go on in the next, so it is
 * held back until it ends.
 */
function inRunOrder(rows: PagedRows, reverse: boolean): PagedRows {
  let carry: Buffer[][] = [];
  const sameRun = (a: Buffer[], b: Buffer[]) => a.length === 3 && b.length === 3 && a[2]!.equals(b[2]!);
  const ordered = (page: Buffer[][]) => {
    for (let i = 0; i < page.length; ) {
      let j = i + 1;
      while (j < page.length && sameRun(page[i]!, page[j]!)) j++;
      if (j - i > 1) {
        const run = page.slice(i, j).sort((a, b) => (reverse ? Buffer.compare(b[0]!, a[0]!) : Buffer.compare(a[0]!, b[0]!)));
        page.splice(i, j - i, ...run);
      }
      i = j;
    }
    return page;
  };
  return {
    count: rows.count,
    close: () => rows.close(),
    async next() {
      for (;;) {
        const page = await rows.next();
        const all = carry.concat(page ?? []);
        carry = [];
        if (page === null) return all.length > 0 ? ordered(all) : null;
        let cut = all.length;
        const last = all[cut - 1]!;
        while (cut > 0 && last.length === 3 && sameRun(all[cut - 1]!, last)) cut--;
        carry = all.slice(cut);
        if (cut > 0) return ordered(all.slice(0, cut));
      }
    },
  };
}

/**
 * Every long member of `score` sharing the first SHORT_NAME_BYTES bytes of
 * the indexed form `form`, in byte order, and the rank of the first: the
 * members below it are those whose (score, indexed form) is at most (score,
 * those bytes), as no short member lies inside the run.
 */
async function readRun(ctx: PageContext, keyId: number, score: number, form: Buffer): Promise<{ start: number; members: string[] }> {
  const prefix = form.subarray(0, SHORT_NAME_BYTES);
  const s = pgScore(score);
  const { rows: counted } = await sql<{ n: number }>`SELECT count(*)::int AS n FROM talus.zsets
    WHERE key_id = ${keyId} AND (score, member) <= (${s}::float8, ${prefix}::bytea)`.execute(ctx.db);
  const { rows } = await sql<{ long_member: Buffer }>`SELECT long_member FROM talus.zsets
    WHERE key_id = ${keyId} AND score = ${s}::float8 AND member > ${prefix}::bytea AND member <= ${lastFormWithPrefix(form)}::bytea`.execute(ctx.db);
  const members = rows.map((r) => r.long_member.toString('latin1')).sort();
  return { start: counted[0]!.n, members };
}

registerCodec(zsetCodec);
