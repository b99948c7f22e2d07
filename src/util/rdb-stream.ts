/**
 * A stream in Redis's RDB serialization (DUMP / RESTORE payloads), as
 * redis-server 7.0 writes it (RDB_TYPE_STREAM_LISTPACKS_2) and reads it
 * (that and the 5.0-6.2 RDB_TYPE_STREAM_LISTPACKS):
 *
 * - the nodes: how many, then each node's master ID (16 bytes, the key of
 *   Redis's radix tree) and its listpack: the master entry (live count,
 *   deleted count, the master fields, a 0 terminator), then each entry
 *   (flags, ms and seq deltas from the master ID, the field count and fields
 *   unless SAMEFIELDS says they are the master's, the values, and the count
 *   of listpack elements of the entry, which lets Redis walk backwards);
 * - length, last ID, first ID, greatest deleted ID, entries added (the last
 *   three only in _2);
 * - the groups in name order: name, last-delivered ID, entries-read (only in
 *   _2; -1 as 2^64-1), the PEL (raw IDs with delivery time and count), then
 *   the consumers in name order with their seen-time and their PEL (raw IDs
 *   that must be in the group PEL).
 *
 * Reading validates everything Talus relies on (Redis checks most of it only
 * with sanitize-dump-payload): IDs ascending and not above the last ID, the
 * length, every listpack element, PEL references; anything else is
 * `BadFormat`. Deleted entries inside a node are counted (they decide where
 * Redis would start a new node) but not kept; writing, a node has live
 * entries and is laid out afresh.
 */
import { ListpackBuilder, PayloadWriter, Reader, T_STREAM_LISTPACKS, T_STREAM_LISTPACKS_2, bad, listpackEntries } from './rdb-value.js';

/** A stream entry ID as Redis keys it: ms then seq, 8 bytes each, big-endian (here a 16-char latin1 string). */
export type RawId = string;

export interface RdbStreamNode {
  /** the live entries: ID and fields and values alternating */
  entries: Array<[RawId, Buffer[]]>;
  /** entries in the node's listpack, deleted ones included (read only) */
  count: number;
  /** the listpack's bytes (read only) */
  bytes: number;
  /** the node's last entry ID, deleted or not (read only) */
  lastId: RawId;
  /** the node's master ID: its radix-tree key (read only) */
  masterId: RawId;
  /** the master entry's field names (read only) */
  masterFields: Buffer[];
}

export interface RdbStreamPending {
  id: RawId;
  /** unix ms */
  deliveryTime: number;
  deliveryCount: number;
  /** the owning consumer's name (latin1) */
  consumer: string;
}

export interface RdbStreamGroup {
  /** latin1 */
  name: string;
  lastId: RawId;
  /** -1 when unknown; undefined when the payload (RDB_TYPE_STREAM_LISTPACKS) does not carry it */
  entriesRead: number | undefined;
  pel: RdbStreamPending[];
  consumers: Array<{ name: string; seenTime: number }>;
}

export interface RdbStream {
  nodes: RdbStreamNode[];
  lastId: RawId;
  firstId: RawId;
  maxDeletedId: RawId;
  entriesAdded: number;
  groups: RdbStreamGroup[];
}

const FLAG_DELETED = 1;
const FLAG_SAMEFIELDS = 2;
const U64 = 1n << 64n;

function idParts(id: RawId): [bigint, bigint] {
  const b = Buffer.from(id, 'latin1');
  return [b.readBigUInt64BE(0), b.readBigUInt64BE(8)];
}

function rawId(ms: bigint, seq: bigint): RawId {
  const b = Buffer.allocUnsafe(16);
  b.writeBigUInt64BE(ms, 0);
  b.writeBigUInt64BE(seq, 8);
  return b.toString('latin1');
}

const byName = <T extends { name: string }>(a: T, b: T) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

// --- writing -------------------------------------------------------------------------

/** Whether `fields` has the master's field names in its order (Redis's SAMEFIELDS). */
function sameFields(fields: Buffer[], master: Buffer[]): boolean {
  if (fields.length !== master.length * 2) return false;
  for (let i = 0; i < master.length; i++) if (!fields[2 * i]!.equals(master[i]!)) return false;
  return true;
}

/**
 * A node's listpack as Redis builds it by XADDs into a fresh node: the
 * master entry takes the first entry's ID and field names.
 */
export function nodeListpack(entries: Array<[RawId, Buffer[]]>): Buffer {
  const lp = new ListpackBuilder();
  const [masterId, firstFields] = entries[0]!;
  const [mms, mseq] = idParts(masterId);
  const master: Buffer[] = [];
  for (let i = 0; i < firstFields.length; i += 2) master.push(firstFields[i]!);
  lp.int(BigInt(entries.length));
  lp.int(0n);
  lp.int(BigInt(master.length));
  for (const f of master) lp.string(f);
  lp.int(0n);
  for (const [id, fields] of entries) {
    const [ms, seq] = idParts(id);
    const same = sameFields(fields, master);
    const n = fields.length / 2;
    lp.int(same ? BigInt(FLAG_SAMEFIELDS) : 0n);
    lp.int(BigInt.asIntN(64, ms - mms));
    lp.int(BigInt.asIntN(64, seq - mseq));
    if (same) {
      for (let i = 1; i < fields.length; i += 2) lp.string(fields[i]!);
    } else {
      lp.int(BigInt(n));
      for (const f of fields) lp.string(f);
    }
    lp.int(BigInt(same ? n + 3 : 2 * n + 4));
  }
  return lp.finish();
}

/** The value part of a stream payload (after its type byte, T_STREAM_LISTPACKS_2). */
export function writeStream(w: PayloadWriter, s: RdbStream): void {
  w.length(s.nodes.length);
  let length = 0;
  for (const node of s.nodes) {
    const key = Buffer.from(node.entries[0]![0], 'latin1');
    w.length(key.length);
    w.raw(key);
    const lp = nodeListpack(node.entries);
    w.length(lp.length);
    w.raw(lp);
    length += node.entries.length;
  }
  w.length(length);
  for (const id of [s.lastId, s.firstId, s.maxDeletedId]) {
    const [ms, seq] = idParts(id);
    w.u64(ms);
    w.u64(seq);
  }
  w.u64(BigInt(s.entriesAdded));
  const groups = [...s.groups].sort(byName);
  w.length(groups.length);
  for (const g of groups) {
    w.string(Buffer.from(g.name, 'latin1'));
    const [ms, seq] = idParts(g.lastId);
    w.u64(ms);
    w.u64(seq);
    w.u64(BigInt(g.entriesRead ?? -1));
    const pel = [...g.pel].sort((a, b) => (a.id < b.id ? -1 : 1));
    w.length(pel.length);
    const owned = new Map<string, RawId[]>();
    for (const p of pel) {
      w.raw(Buffer.from(p.id, 'latin1'));
      w.millis(p.deliveryTime);
      w.length(p.deliveryCount);
      let ids = owned.get(p.consumer);
      if (!ids) owned.set(p.consumer, (ids = []));
      ids.push(p.id);
    }
    const consumers = [...g.consumers].sort(byName);
    w.length(consumers.length);
    for (const c of consumers) {
      w.string(Buffer.from(c.name, 'latin1'));
      w.millis(c.seenTime);
      const ids = owned.get(c.name) ?? [];
      w.length(ids.length);
      for (const id of ids) w.raw(Buffer.from(id, 'latin1'));
    }
  }
}

// --- reading -------------------------------------------------------------------------

/** A listpack element that must be an integer (int64). */
function int(b: Buffer | undefined): bigint {
  if (b === undefined) bad();
  const t = b.toString('latin1');
  if (!/^-?[0-9]{1,20}$/.test(t)) bad();
  const v = BigInt(t);
  if (v < -(1n << 63n) || v >= 1n << 63n) bad();
  return v;
}

/** A non-negative count element, small enough to index with. */
function count(b: Buffer | undefined): number {
  const v = int(b);
  if (v < 0n || v > 0xffffffffn) bad();
  return Number(v);
}

function readId(r: Reader): RawId {
  return rawId(r.u64(), r.u64());
}

/** One node's listpack: its live entries, in order, each after `prev` (the previous entry's ID, or null). */
function readNode(key: Buffer, lp: Buffer, prev: RawId | null): RdbStreamNode {
  if (key.length !== 16) bad();
  const masterId = key.toString('latin1');
  const [mms, mseq] = idParts(masterId);
  const el = listpackEntries(lp);
  let at = 0;
  const live = count(el[at++]);
  const deleted = count(el[at++]);
  const nMaster = count(el[at++]);
  if (at + nMaster > el.length) bad();
  const master = el.slice(at, at + nMaster);
  at += nMaster;
  if (int(el[at++]) !== 0n) bad();
  const entries: Array<[RawId, Buffer[]]> = [];
  let seen = 0;
  let last = prev;
  while (at < el.length) {
    const start = at;
    const flags = int(el[at++]);
    if (flags < 0n || flags > 3n) bad();
    const ms = (mms + int(el[at++]) + U64) % U64;
    const seq = (mseq + int(el[at++]) + U64) % U64;
    const id = rawId(ms, seq);
    if (last !== null && id <= last) bad();
    last = id;
    const fields: Buffer[] = [];
    if (flags & BigInt(FLAG_SAMEFIELDS)) {
      if (at + nMaster > el.length) bad();
      for (let i = 0; i < nMaster; i++) fields.push(master[i]!, el[at++]!);
    } else {
      const n = count(el[at++]);
      if (at + 2 * n > el.length) bad();
      for (let i = 0; i < 2 * n; i++) fields.push(el[at++]!);
    }
    if (fields.length === 0) bad();
    if (count(el[at++]) !== at - start - 1) bad();
    seen++;
    if (!(flags & BigInt(FLAG_DELETED))) entries.push([id, fields]);
  }
  if (seen === 0 || seen !== live + deleted || entries.length !== live) bad();
  return { entries, count: seen, bytes: lp.length, lastId: last!, masterId, masterFields: master };
}

/** The stream in a verified payload whose type byte is a stream's; null when it is another type. */
export function decodeStreamPayload(payload: Buffer): RdbStream | null {
  const type = payload[0];
  if (type !== T_STREAM_LISTPACKS && type !== T_STREAM_LISTPACKS_2) return null;
  const v2 = type === T_STREAM_LISTPACKS_2;
  const r = new Reader(payload.subarray(1, payload.length - 10));
  const nodes: RdbStreamNode[] = [];
  const nNodes = r.length();
  let prev: RawId | null = null;
  let length = 0;
  for (let i = 0; i < nNodes; i++) {
    const key = r.string();
    const node = readNode(key, r.string(), prev);
    prev = node.lastId;
    length += node.entries.length;
    // a node whose entries were all deleted stays too (as Redis loads it): where a trim stops depends on it
    nodes.push(node);
  }
  if (r.length() !== length) bad();
  const lastId = readId(r);
  if (prev !== null && prev > lastId) bad();
  let firstId = nodes.find((n) => n.entries.length > 0)?.entries[0]![0] ?? rawId(0n, 0n);
  let maxDeletedId = rawId(0n, 0n);
  let entriesAdded = length;
  if (v2) {
    firstId = readId(r);
    maxDeletedId = readId(r);
    entriesAdded = Number(r.u64());
  }
  const groups: RdbStreamGroup[] = [];
  const names = new Set<string>();
  const nGroups = r.length();
  for (let i = 0; i < nGroups; i++) {
    const name = r.string().toString('latin1');
    if (names.has(name)) bad();
    names.add(name);
    const lastDelivered = readId(r);
    const entriesRead = v2 ? Number(BigInt.asIntN(64, r.u64())) : undefined;
    const pel = new Map<RawId, RdbStreamPending>();
    const nPel = r.length();
    for (let j = 0; j < nPel; j++) {
      const id = r.bytes(16).toString('latin1');
      if (pel.has(id)) bad();
      pel.set(id, { id, deliveryTime: r.millis(), deliveryCount: Number(r.u64()), consumer: '' });
    }
    const owned = new Set<RawId>();
    const consumers: RdbStreamGroup['consumers'] = [];
    const cnames = new Set<string>();
    const nConsumers = r.length();
    for (let j = 0; j < nConsumers; j++) {
      const cname = r.string().toString('latin1');
      if (cnames.has(cname)) bad();
      cnames.add(cname);
      consumers.push({ name: cname, seenTime: r.millis() });
      const nOwned = r.length();
      for (let k = 0; k < nOwned; k++) {
        const id = r.bytes(16).toString('latin1');
        const p = pel.get(id);
        // every consumer PEL entry is one of the group's, owned once
        if (p === undefined || owned.has(id)) bad();
        owned.add(id);
        p.consumer = cname;
      }
    }
    // a group PEL entry without a consumer (Redis refuses it only when sanitizing) has nowhere to live here
    if (owned.size !== pel.size) bad();
    groups.push({ name, lastId: lastDelivered, entriesRead, pel: [...pel.values()], consumers });
  }
  return { nodes, lastId, firstId, maxDeletedId, entriesAdded, groups };
}
