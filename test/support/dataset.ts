import type { Redis } from 'ioredis';

/**
 * A server's whole data set read through any client (Talus or redis-server),
 * and the key-by-key comparison of two of them: for restore, replication and
 * replay tests. Names and values are compared as bytes (held as latin1
 * strings, one char per byte).
 */
export interface KeyState {
  type: 'string' | 'hash' | 'list' | 'set' | 'zset' | 'stream';
  /**
   * canonical form: string bytes; sorted [field, value] pairs; list in order; sorted members; [member, score] by rank;
   * a stream as the text of XINFO STREAM FULL without its clock times and radix-tree layout
   */
  value: string | string[] | Array<[string, string]>;
  /** absolute expiry in unix ms (PEXPIRETIME), -1 for none */
  expireAt: number;
}

/** db index -> key name (latin1) -> state */
export type Dataset = Map<number, Map<string, KeyState>>;

export interface Difference {
  db: number;
  /** the key's bytes as latin1 */
  key: string;
  /** what differs: presence, type, value, expiry */
  what: string;
}

const SCAN_COUNT = 1000;
const BATCH = 500;

/**
 * Read every key of `dbs` with a client of its own (it SELECTs). Keys that
 * vanish while being read (expired) are left out.
 */
export async function readDataset(client: Redis, dbs: number[]): Promise<Dataset> {
  const out: Dataset = new Map();
  for (const db of dbs) {
    await client.select(db);
    const names: Buffer[] = [];
    let cursor = '0';
    do {
      const [next, batch] = await client.scanBuffer(cursor, 'COUNT', SCAN_COUNT);
      cursor = next.toString();
      names.push(...batch);
    } while (cursor !== '0');
    const keys = new Map<string, KeyState>();
    for (let i = 0; i < names.length; i += BATCH) {
      for (const [name, state] of await readKeys(client, names.slice(i, i + BATCH))) keys.set(name, state);
    }
    out.set(db, keys);
  }
  return out;
}

async function readKeys(client: Redis, names: Buffer[]): Promise<Array<[string, KeyState]>> {
  const meta = client.pipeline();
  for (const k of names) meta.type(k).pexpiretime(k);
  const metaReplies = (await meta.exec())!;
  const values = client.pipeline();
  const typed: Array<{ name: Buffer; type: KeyState['type']; expireAt: number }> = [];
  names.forEach((name, i) => {
    const type = metaReplies[2 * i]![1] as string;
    const expireAt = Number(metaReplies[2 * i + 1]![1]);
    if (type === 'none' || expireAt === -2) return;
    typed.push({ name, type: type as KeyState['type'], expireAt });
    if (type === 'string') values.getBuffer(name);
    // upper case: ioredis turns `hgetall` replies into an object keyed by utf8 text (lossy)
    else if (type === 'hash') values.callBuffer('HGETALL', name);
    else if (type === 'list') values.lrangeBuffer(name, 0, -1);
    else if (type === 'set') values.smembersBuffer(name);
    else if (type === 'zset') values.zrangeBuffer(name, '0', '-1', 'WITHSCORES');
    else if (type === 'stream') values.callBuffer('XINFO', 'STREAM', name, 'FULL', 'COUNT', '0');
    else throw new Error(`unexpected type ${type}`);
  });
  const valueReplies = (await values.exec())!;
  const out: Array<[string, KeyState]> = [];
  typed.forEach(({ name, type, expireAt }, i) => {
    const [err, raw] = valueReplies[i]!;
    if (err) throw err;
    if (raw === null) return; // expired between the two reads
    out.push([name.toString('latin1'), { type, expireAt, value: canonical(type, raw) }]);
  });
  return out;
}

function canonical(type: KeyState['type'], raw: unknown): KeyState['value'] {
  const s = (b: Buffer) => b.toString('latin1');
  if (type === 'string') return s(raw as Buffer);
  if (type === 'list') return (raw as Buffer[]).map(s);
  if (type === 'set') return (raw as Buffer[]).map(s).sort();
  if (type === 'stream') return JSON.stringify(streamState(raw));
  if (type === 'hash') {
    return pairsOf((raw as Buffer[]).map(s)).sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  }
  return pairsOf((raw as Buffer[]).map(s));
}

function pairsOf(flat: string[]): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (let i = 0; i < flat.length; i += 2) out.push([flat[i]!, flat[i + 1]!]);
  return out;
}

/**
 * Every difference between two data sets. A key present on one side only
 * whose expiry is at most `expiredBefore` (unix ms) counts as expired in
 * between and is not a difference. Expiry times may differ by up to
 * `expiryToleranceMs` (servers that computed relative TTLs by their own clocks).
 */
export function compareDatasets(a: Dataset, b: Dataset, expiredBefore = Date.now(), expiryToleranceMs = 0): Difference[] {
  const out: Difference[] = [];
  const dbs = new Set([...a.keys(), ...b.keys()]);
  for (const db of [...dbs].sort((x, y) => x - y)) {
    const ka = a.get(db) ?? new Map<string, KeyState>();
    const kb = b.get(db) ?? new Map<string, KeyState>();
    for (const [key, sa] of ka) {
      const sb = kb.get(key);
      if (sb === undefined) {
        if (!expiredIn(sa, expiredBefore)) out.push({ db, key, what: `only in the first (${describe(sa)})` });
        continue;
      }
      const what = stateDifference(sa, sb, expiryToleranceMs);
      if (what) out.push({ db, key, what });
    }
    for (const [key, sb] of kb) {
      if (!ka.has(key) && !expiredIn(sb, expiredBefore)) out.push({ db, key, what: `only in the second (${describe(sb)})` });
    }
  }
  return out;
}

function expiredIn(s: KeyState, before: number): boolean {
  return s.expireAt !== -1 && s.expireAt <= before;
}

function stateDifference(a: KeyState, b: KeyState, expiryToleranceMs: number): string | undefined {
  if (a.type !== b.type) return `type ${a.type} vs ${b.type}`;
  const parts: string[] = [];
  const sameExpiry = a.expireAt === b.expireAt || (a.expireAt !== -1 && b.expireAt !== -1 && Math.abs(a.expireAt - b.expireAt) <= expiryToleranceMs);
  if (!sameExpiry) parts.push(`expiry ${a.expireAt} vs ${b.expireAt}`);
  const va = JSON.stringify(a.value);
  const vb = JSON.stringify(b.value);
  if (va !== vb) parts.push(`value ${preview(a.value)} vs ${preview(b.value)}`);
  return parts.length > 0 ? parts.join('; ') : undefined;
}

function describe(s: KeyState): string {
  return `${s.type}, expiry ${s.expireAt}, ${preview(s.value)}`;
}

/** A short printable form of a value: its size and start. */
export function preview(v: KeyState['value']): string {
  const text = JSON.stringify(v);
  const size = typeof v === 'string' ? `${v.length} bytes` : `${v.length} elements`;
  return `${size} ${text.length > 120 ? text.slice(0, 120) + '...' : text}`;
}

/** A key's bytes for a message: printable ASCII as is, the rest escaped, long names cut. */
export function printableKey(key: string): string {
  const shown = key.length > 80 ? key.slice(0, 80) : key;
  const esc = shown.replace(/[^\x20-\x7e]/g, (ch) => `\\x${ch.charCodeAt(0).toString(16).padStart(2, '0')}`);
  return key.length > 80 ? `${esc}...(${key.length} bytes)` : esc;
}

/**
 * Dbs whose DBSIZE differs from the keys of the data set read just before,
 * once nothing changes but expiry: "db N: DBSIZE x, y keys". DBSIZE counts
 * keys past their TTL until expiry reclaims them (as in Redis), which reads
 * leave out: each db gets up to `settleMs` for that.
 */
export async function sizeMismatches(client: Redis, data: Dataset, settleMs = 10_000): Promise<string[]> {
  const out: string[] = [];
  for (const [db, keys] of data) {
    await client.select(db);
    const until = Date.now() + settleMs;
    let size = await client.dbsize();
    while (size > keys.size && Date.now() < until) {
      await new Promise((r) => setTimeout(r, 50));
      size = await client.dbsize();
    }
    if (size !== keys.size) out.push(`db ${db}: DBSIZE ${size}, ${keys.size} keys`);
  }
  return out;
}

/** Read both servers' data sets and compare them. */
export async function compareServers(a: Redis, b: Redis, dbs: number[], expiredBefore?: number): Promise<Difference[]> {
  const [da, db] = [await readDataset(a, dbs), await readDataset(b, dbs)];
  return compareDatasets(da, db, expiredBefore ?? Date.now());
}

/**
 * XINFO STREAM FULL without what depends on the server rather than the data:
 * the radix tree's layout (radix-tree-keys, radix-tree-nodes) and clock times
 * (a consumer's seen-time and active-time, each pending entry's delivery time).
 */
function streamState(raw: unknown): unknown {
  const text = (v: unknown): unknown => (Buffer.isBuffer(v) ? v.toString('latin1') : Array.isArray(v) ? v.map(text) : v);
  const fields = (flat: unknown[], drop: readonly string[], inner: (name: string, v: unknown) => unknown): unknown[] => {
    const out: unknown[] = [];
    for (let i = 0; i < flat.length; i += 2) {
      const name = text(flat[i]) as string;
      if (!drop.includes(name)) out.push(name, inner(name, flat[i + 1]));
    }
    return out;
  };
  const consumer = (c: unknown) =>
    fields(c as unknown[], ['seen-time', 'active-time'], (n, v) => (n === 'pending' ? (v as unknown[][]).map((p) => [text(p[0]), p[2]]) : text(v)));
  const group = (g: unknown) =>
    fields(g as unknown[], [], (n, v) =>
      n === 'pending' ? (v as unknown[][]).map((p) => [text(p[0]), text(p[1]), p[3]]) : n === 'consumers' ? (v as unknown[]).map(consumer) : text(v));
  return fields(raw as unknown[], ['radix-tree-keys', 'radix-tree-nodes'], (n, v) => (n === 'groups' ? (v as unknown[]).map(group) : text(v)));
}
