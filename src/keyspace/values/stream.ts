import { MemberChanges, type TrackedCollection } from './changes.js';
import { registerValueOps } from '../value-ops.js';
import type { MemberPages } from '../paging.js';
import { COLLECTION_OVERHEAD } from './set.js';
import { ListpackBuilder } from '../../util/rdb-value.js';

/**
 * A stream entry ID as a 16-character latin1 string: the milliseconds and
 * the sequence number, each 8 bytes big-endian. String order is ID order,
 * and the same 16 bytes are the entry's key in talus.streams.
 */
export type SID = string;

export const U64_MAX = (1n << 64n) - 1n;

export function sid(ms: bigint, seq: bigint): SID {
  const b = Buffer.allocUnsafe(16);
  b.writeBigUInt64BE(ms, 0);
  b.writeBigUInt64BE(seq, 8);
  return b.toString('latin1');
}

export function sidParts(s: SID): [bigint, bigint] {
  const b = Buffer.from(s, 'latin1');
  return [b.readBigUInt64BE(0), b.readBigUInt64BE(8)];
}

/** "ms-seq", as replies show an ID */
export function sidText(s: SID): string {
  const [ms, seq] = sidParts(s);
  return `${ms}-${seq}`;
}

export const MIN_SID: SID = sid(0n, 0n);
export const MAX_SID: SID = sid(U64_MAX, U64_MAX);

/** The ID right after `s`, or null for the greatest ID. */
export function sidNext(s: SID): SID | null {
  const [ms, seq] = sidParts(s);
  if (seq < U64_MAX) return sid(ms, seq + 1n);
  if (ms < U64_MAX) return sid(ms + 1n, 0n);
  return null;
}

/** The ID right before `s`, or null for 0-0. */
export function sidPrev(s: SID): SID | null {
  const [ms, seq] = sidParts(s);
  if (seq > 0n) return sid(ms, seq - 1n);
  if (ms > 0n) return sid(ms - 1n, U64_MAX);
  return null;
}

/** Bytes accounted per entry beyond its field and value bytes. */
const ENTRY_OVERHEAD = 80;

/** One pending entry of a consumer group (its PEL). */
export interface PendingEntry {
  consumer: string;
  /** unix ms of the last delivery */
  deliveryTime: number;
  deliveryCount: number;
}

export interface Consumer {
  /** unix ms the consumer was last seen (created, read, claimed) */
  seenTime: number;
  /** the IDs pending for it */
  pending: Set<SID>;
}

export interface ConsumerGroup {
  lastId: SID;
  /** entries read (Redis's entries_read); -1 when unknown */
  entriesRead: number;
  /** the group's pending entries by ID */
  pel: Map<SID, PendingEntry>;
  consumers: Map<string, Consumer>;
}

/**
 * A macro node as Redis lays out a stream (listpacks of at most
 * stream-node-max-entries entries or stream-node-max-bytes): approximate
 * trimming (`~`) removes whole nodes only, so the node boundaries decide
 * what it removes. Tracked to give the same results; not stored.
 */
interface StreamNode {
  /** entries in the node, deleted ones included */
  count: number;
  /** entries not deleted (a node whose entries a trim deleted stays, as in Redis, until a trim removes it) */
  live: number;
  /** the listpack's bytes, as Redis would have them (the next XADD compares them with stream-node-max-bytes) */
  bytes: number;
  /** the node's last ID (deleted or not) */
  lastId: SID;
  /** the first entry's ID (ms and seq): the other entries' IDs are stored as differences from it */
  masterMs: bigint;
  masterSeq: bigint;
  /** the first entry's field names: an entry with the same ones stores its values only */
  masterFields: Buffer[];
}

/** Bytes of a listpack integer element (encoding and back-length). */
const countSize = ListpackBuilder.intSize;

/** A node's live and deleted counts change (the master entry's first two elements): its bytes follow their encodings. */
function setCounts(node: StreamNode, live: number, deleted: number): void {
  node.bytes += countSize(live) - countSize(node.live) + countSize(deleted) - countSize(node.count - node.live);
  node.live = live;
  node.count = live + deleted;
}

/**
 * The bytes an entry adds to `node`'s listpack: flags, the ID's differences
 * from the master ID, the field count and names unless they are the
 * master's, the values, and the count of the entry's elements.
 */
function entryBytes(node: StreamNode, id: SID, fields: Buffer[]): number {
  const n = fields.length / 2;
  let same = n === node.masterFields.length;
  for (let i = 0; same && i < n; i++) same = fields[2 * i]!.equals(node.masterFields[i]!);
  const [ms, seq] = sidParts(id);
  let bytes = countSize(same ? 2 : 0) + countSize(BigInt.asIntN(64, ms - node.masterMs)) + countSize(BigInt.asIntN(64, seq - node.masterSeq));
  if (!same) bytes += countSize(n);
  for (let i = same ? 1 : 0; i < fields.length; i += same ? 2 : 1) bytes += ListpackBuilder.stringSize(fields[i]!);
  return bytes + countSize(same ? n + 3 : 2 * n + 4);
}

/** A node for an entry no node can take: a listpack with the master entry (one live entry, none deleted, its field names). */
function newNode(id: SID, fields: Buffer[]): StreamNode {
  const masterFields: Buffer[] = [];
  for (let i = 0; i < fields.length; i += 2) masterFields.push(fields[i]!);
  // 7: the listpack's header and terminator; the master entry ends with a 0
  let bytes = 7 + countSize(0) + countSize(0) + countSize(masterFields.length) + countSize(0);
  for (const f of masterFields) bytes += ListpackBuilder.stringSize(f);
  const [masterMs, masterSeq] = sidParts(id);
  return { count: 0, live: 0, bytes, lastId: id, masterMs, masterSeq, masterFields };
}

/**
 * The stream value: entries in ID order, the stream's last ID, entries
 * added and greatest deleted ID, and its consumer groups. Entry changes are
 * tracked per ID for the flusher (talus.streams); the metadata and groups
 * travel in the key row's note (storage/stream-codec.ts).
 */
export class StreamValue implements TrackedCollection {
  /** live IDs in order */
  ids: SID[] = [];
  /** fields and values (alternating) of each live entry */
  readonly entries = new Map<SID, Buffer[]>();
  lastId: SID = MIN_SID;
  maxDeletedId: SID = MIN_SID;
  entriesAdded = 0;
  readonly groups = new Map<string, ConsumerGroup>();
  bytes = COLLECTION_OVERHEAD;
  changes = new MemberChanges();
  pages: MemberPages | null = null;
  private nodes: StreamNode[] = [];
  /** the node each live ID is in (by node object) */
  private readonly nodeOf = new Map<SID, StreamNode>();

  get size(): number {
    return this.ids.length;
  }

  /** macro nodes (XINFO STREAM's radix-tree-keys) */
  get nodeCount(): number {
    return this.nodes.length;
  }

  get firstId(): SID {
    return this.ids[0] ?? MIN_SID;
  }

  /** index of the first live ID >= id */
  lowerBound(id: SID): number {
    let lo = 0;
    let hi = this.ids.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.ids[mid]! < id) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Append an entry (id greater than lastId) and make it the last ID. */
  add(id: SID, fields: Buffer[], nodeMaxEntries = 100, nodeMaxBytes = 4096): void {
    this.append(id, fields, nodeMaxEntries, nodeMaxBytes);
    this.changes.mark(id);
    this.lastId = id;
    this.entriesAdded++;
  }

  private append(id: SID, fields: Buffer[], nodeMaxEntries: number, nodeMaxBytes: number): void {
    this.ids.push(id);
    this.entries.set(id, fields);
    let flen = 0;
    for (const f of fields) flen += f.length;
    this.bytes += 16 + flen + ENTRY_OVERHEAD;
    const maxBytes = nodeMaxBytes === 0 || nodeMaxBytes > 1 << 30 ? 1 << 30 : nodeMaxBytes;
    let node: StreamNode | undefined = this.nodes[this.nodes.length - 1];
    // Redis's test: the listpack's bytes plus the new field and value bytes (not their encoding), and entries deleted ones included
    if (node !== undefined && (node.bytes + flen >= maxBytes || (nodeMaxEntries > 0 && node.count >= nodeMaxEntries))) node = undefined;
    if (node === undefined) {
      node = newNode(id, fields);
      this.nodes.push(node);
    }
    node.bytes += entryBytes(node, id, fields);
    setCounts(node, node.live + 1, node.count - node.live);
    node.lastId = id;
    this.nodeOf.set(id, node);
  }

  /**
   * The live entries node by node (DUMP writes one listpack per node, as
   * Redis, but without the deleted entries, whose fields Talus does not
   * keep: a node that holds deleted entries only is left out).
   */
  *liveNodes(): Generator<Array<[SID, Buffer[]]>> {
    let at = 0;
    for (const node of this.nodes) {
      if (node.live === 0) continue;
      const out: Array<[SID, Buffer[]]> = [];
      for (const id of this.ids.slice(at, at + node.live)) out.push([id, this.entries.get(id)!]);
      at += node.live;
      yield out;
    }
  }

  /**
   * Append a node as a RESTORE payload carries it: its live entries (in
   * order, after every entry so far), how many entries its listpack holds
   * with the deleted ones, its bytes, its last ID, its master ID and field
   * names, so later appends and approximate trims meet the same boundaries
   * as in Redis.
   */
  restoreNode(entries: Array<[SID, Buffer[]]>, count: number, bytes: number, lastId: SID, masterId: SID, masterFields: Buffer[]): void {
    const [masterMs, masterSeq] = sidParts(masterId);
    this.placeNode({ count, live: entries.length, bytes, lastId, masterMs, masterSeq, masterFields }, entries);
    for (const [id] of entries) this.changes.mark(id);
  }

  /** Append `node` with its live entries (after every entry so far). */
  private placeNode(node: StreamNode, entries: Iterable<[SID, Buffer[]]>): void {
    this.nodes.push(node);
    for (const [id, fields] of entries) {
      this.ids.push(id);
      this.entries.set(id, fields);
      let flen = 0;
      for (const f of fields) flen += f.length;
      this.bytes += 16 + flen + ENTRY_OVERHEAD;
      this.nodeOf.set(id, node);
    }
  }

  get(id: SID): Buffer[] | undefined {
    return this.entries.get(id);
  }

  /** Drop an entry's fields, size and node link, and mark it changed (its place in `ids` and its node's count are the caller's). */
  private dropEntry(id: SID): void {
    const fields = this.entries.get(id)!;
    this.entries.delete(id);
    let flen = 0;
    for (const f of fields) flen += f.length;
    this.bytes -= 16 + flen + ENTRY_OVERHEAD;
    this.changes.mark(id);
    this.nodeOf.delete(id);
  }

  /** Mark an entry deleted in its node, as Redis flags it in the listpack (the node keeps its place and bytes). */
  private markDeleted(id: SID): StreamNode {
    const node = this.nodeOf.get(id)!;
    this.dropEntry(id);
    setCounts(node, node.live - 1, node.count - node.live + 1);
    return node;
  }

  /** XDEL one entry; true if it was there. Its node goes with its last live entry (a trim keeps an emptied node). */
  delete(id: SID): boolean {
    if (!this.entries.has(id)) return false;
    const node = this.markDeleted(id);
    if (node.live === 0) this.nodes.splice(this.nodes.indexOf(node), 1);
    this.ids.splice(this.lowerBound(id), 1);
    if (id > this.maxDeletedId) this.maxDeletedId = id;
    return true;
  }

  /**
   * Trim as Redis does (MAXLEN `maxlen` or MINID `minid`): whole nodes
   * first; with `approx` only whole nodes; `limit` (0 = none) bounds the
   * entries removed. Returns how many were removed.
   */
  trim(strategy: 'maxlen' | 'minid', maxlen: number, minid: SID, approx: boolean, limit: number): number {
    let removed = 0;
    while (this.nodes.length > 0) {
      if (strategy === 'maxlen' && this.ids.length - removed <= maxlen) break;
      const node = this.nodes[0]!;
      const live = node.live;
      if (limit > 0 && removed + live > limit) break;
      const whole = strategy === 'maxlen' ? this.ids.length - removed - live >= maxlen : node.lastId < minid;
      if (whole) {
        this.nodes.shift();
        for (let i = removed; i < removed + live; i++) this.dropEntry(this.ids[i]!);
        removed += live;
        continue;
      }
      if (approx) break;
      // entry by entry within the first node
      while (removed < this.ids.length) {
        const id = this.ids[removed]!;
        if (strategy === 'maxlen' ? this.ids.length - removed <= maxlen : id >= minid) break;
        if (this.nodeOf.get(id) !== node) break;
        this.markDeleted(id);
        removed++;
      }
      break;
    }
    if (removed > 0) this.ids.splice(0, removed);
    return removed;
  }

  /** Live entries from `start` to `end` (inclusive, start <= end), at most `count` (0 = all), newest first if `rev`. */
  range(start: SID, end: SID, count: number, rev: boolean): SID[] {
    const out: SID[] = [];
    if (start > end) return out;
    if (!rev) {
      for (let i = this.lowerBound(start); i < this.ids.length; i++) {
        const id = this.ids[i]!;
        if (id > end) break;
        out.push(id);
        if (count > 0 && out.length >= count) break;
      }
    } else {
      let i = this.lowerBound(end);
      if (i >= this.ids.length || this.ids[i]! > end) i--;
      for (; i >= 0; i--) {
        const id = this.ids[i]!;
        if (id < start) break;
        out.push(id);
        if (count > 0 && out.length >= count) break;
      }
    }
    return out;
  }

  /** A row read from PostgreSQL (in ID order): no change to track. */
  loadRow(id: SID, fields: Buffer[]): void {
    if (this.ids.length > 0 && this.ids[this.ids.length - 1]! > id) {
      // out of order: rebuild in order
      const all = [...this.ids.map((i) => [i, this.entries.get(i)!] as [SID, Buffer[]]), [id, fields] as [SID, Buffer[]]];
      all.sort((a, b) => (a[0] < b[0] ? -1 : 1));
      this.ids = [];
      this.entries.clear();
      this.nodes = [];
      this.nodeOf.clear();
      this.bytes = COLLECTION_OVERHEAD;
      for (const [i, f] of all) this.append(i, f, 100, 4096);
      return;
    }
    this.append(id, fields, 100, 4096);
  }

  /** An independent copy whose changes are fresh (a new incarnation). */
  clone(): StreamValue {
    const v = new StreamValue();
    // the same nodes, as Redis's COPY duplicates each listpack
    let at = 0;
    for (const node of this.nodes) {
      v.placeNode({ ...node }, this.ids.slice(at, at + node.live).map((id) => [id, this.entries.get(id)!]));
      at += node.live;
    }
    v.lastId = this.lastId;
    v.maxDeletedId = this.maxDeletedId;
    v.entriesAdded = this.entriesAdded;
    for (const [name, g] of this.groups) {
      const consumers = new Map<string, Consumer>();
      for (const [cn, c] of g.consumers) consumers.set(cn, { seenTime: c.seenTime, pending: new Set(c.pending) });
      const pel = new Map<SID, PendingEntry>();
      for (const [id, p] of g.pel) pel.set(id, { ...p });
      v.groups.set(name, { lastId: g.lastId, entriesRead: g.entriesRead, pel, consumers });
    }
    return v;
  }

  /** The metadata and groups, as the key row's note. */
  encodeNote(): Buffer {
    const groups: unknown[] = [];
    for (const [name, g] of this.groups) {
      const pel: unknown[] = [];
      for (const [id, p] of g.pel) pel.push([hex(id), hexName(p.consumer), p.deliveryTime, p.deliveryCount]);
      const consumers: unknown[] = [];
      for (const [cn, c] of g.consumers) consumers.push([hexName(cn), c.seenTime]);
      groups.push([hexName(name), hex(g.lastId), g.entriesRead, consumers, pel]);
    }
    return Buffer.from(JSON.stringify({ v: 1, last: hex(this.lastId), maxdel: hex(this.maxDeletedId), added: this.entriesAdded, groups }));
  }

  decodeNote(note: Buffer | null): void {
    if (note === null || note.length === 0) return;
    const n = JSON.parse(note.toString()) as {
      last: string;
      maxdel: string;
      added: number;
      groups: Array<[string, string, number, Array<[string, number]>, Array<[string, string, number, number]>]>;
    };
    this.lastId = unhex(n.last);
    this.maxDeletedId = unhex(n.maxdel);
    this.entriesAdded = n.added;
    this.groups.clear();
    for (const [name, last, read, consumers, pel] of n.groups) {
      const g: ConsumerGroup = { lastId: unhex(last), entriesRead: read, pel: new Map(), consumers: new Map() };
      for (const [cn, seen] of consumers) g.consumers.set(unhexName(cn), { seenTime: seen, pending: new Set() });
      for (const [id, cn, time, count] of pel) {
        const consumer = unhexName(cn);
        const s = unhex(id);
        g.pel.set(s, { consumer, deliveryTime: time, deliveryCount: count });
        let c = g.consumers.get(consumer);
        if (!c) g.consumers.set(consumer, (c = { seenTime: time, pending: new Set() }));
        c.pending.add(s);
      }
      this.groups.set(unhexName(name), g);
    }
  }
}

const hex = (s: SID) => Buffer.from(s, 'latin1').toString('hex');
const unhex = (s: string): SID => Buffer.from(s, 'hex').toString('latin1');
const hexName = hex;
const unhexName = unhex;

registerValueOps('stream', {
  length: (v) => (v as StreamValue).size,
  sizeOf: (v) => (v as StreamValue).bytes,
  clone: (v) => (v as StreamValue).clone(),
});
