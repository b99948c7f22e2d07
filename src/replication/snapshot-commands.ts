import type { HashValue } from '../keyspace/values/hash.js';
import type { ListValue } from '../keyspace/values/list.js';
import type { SetValue } from '../keyspace/values/set.js';
import type { ZSetValue } from '../keyspace/values/zset.js';
import type { KeyType } from '../keyspace/types.js';
import { MIN_SID, sidText, type StreamValue } from '../keyspace/values/stream.js';
import { writeStream, type RdbStreamPending } from '../util/rdb-stream.js';
import { PayloadWriter, WRITE_TYPES } from '../util/rdb-value.js';

/** One key of a full sync: its name, type, whole value and expiry. */
export interface SnapshotItem {
  key: Buffer;
  type: KeyType;
  /** a Buffer for strings, the in-memory value class for collections */
  value: unknown;
  /** unix ms, 0 = none */
  expireAt: number;
}

/** Members per command: a big collection is rebuilt in several commands, none of them huge. */
const MEMBERS_PER_COMMAND = 256;

/**
 * The commands that rebuild one key on a follower whose db does not hold
 * it: a SET (with PXAT), or the collection's members in chunks (RPUSH,
 * HSET, SADD, ZADD in the leader's order) then PEXPIREAT.
 */
export function keyCommands(k: SnapshotItem): Array<Array<Buffer | string>> {
  const key = k.key;
  if (k.type === 'string') {
    return [k.expireAt ? ['SET', key, k.value as Buffer, 'PXAT', String(k.expireAt)] : ['SET', key, k.value as Buffer]];
  }
  const out: Array<Array<Buffer | string>> = [];
  let cmd: Array<Buffer | string> = [];
  let members = 0;
  const start = (name: string) => {
    cmd = [name, key];
    members = 0;
  };
  const add = (name: string, ...parts: Array<Buffer | string>) => {
    if (members === 0) start(name);
    cmd.push(...parts);
    if (++members === MEMBERS_PER_COMMAND) {
      out.push(cmd);
      members = 0;
    }
  };
  const name = (m: string) => Buffer.from(m, 'latin1');
  switch (k.type) {
    case 'list':
      for (const v of k.value as ListValue) add('RPUSH', v);
      break;
    case 'hash':
      for (const [f, v] of k.value as HashValue) add('HSET', name(f), v);
      break;
    case 'set':
      for (const m of k.value as SetValue) add('SADD', name(m));
      break;
    case 'zset': {
      const z = k.value as ZSetValue;
      z.walk(0, false, (m, score) => void add('ZADD', formatScore(score), name(m)));
      break;
    }
    case 'stream': {
      const v = k.value as StreamValue;
      const skeleton = groupsSkeleton(v);
      if (skeleton) out.push(['RESTORE', key, '0', skeleton]);
      for (const id of v.ids) out.push(['XADD', key, sidText(id), ...v.get(id)!]);
      if (v.size === 0 && !skeleton) out.push(['XADD', key, 'MAXLEN', '0', '0-1', 'x', 'y']);
      if (v.lastId >= v.maxDeletedId) {
        out.push(['XSETID', key, sidText(v.lastId), 'ENTRIESADDED', String(v.entriesAdded), 'MAXDELETEDID', sidText(v.maxDeletedId)]);
      } else {
        // XSETID without MAXDELETEDID can leave the last ID below the max deleted ID, which one XSETID
        // cannot set: raise both to the max deleted ID, then lower the last ID (above every entry still)
        const maxDeleted = sidText(v.maxDeletedId);
        out.push(['XSETID', key, maxDeleted, 'ENTRIESADDED', String(v.entriesAdded), 'MAXDELETEDID', maxDeleted]);
        out.push(['XSETID', key, sidText(v.lastId)]);
      }
      out.push(...groupCommands(key, v, skeleton !== undefined));
      break;
    }
    default:
      throw new Error(`full sync cannot send a key of type ${k.type}`);
  }
  if (members > 0) out.push(cmd);
  if (k.expireAt && out.length > 0) out.push(['PEXPIREAT', key, String(k.expireAt)]);
  return out;
}

/**
 * A stream's consumer groups: created at their last ID, their consumers, then
 * each pending entry claimed as it is. Those of a skeleton (groupsSkeleton)
 * exist already: only the pending entries of entries still in the stream are
 * claimed.
 */
function groupCommands(key: Buffer, v: StreamValue, skeleton: boolean): Array<Array<Buffer | string>> {
  const out: Array<Array<Buffer | string>> = [];
  for (const [name, g] of v.groups) {
    const group = Buffer.from(name, 'latin1');
    if (!skeleton) {
      out.push(['XGROUP', 'CREATE', key, group, sidText(g.lastId), 'ENTRIESREAD', String(g.entriesRead)]);
      for (const [cn] of g.consumers) out.push(['XGROUP', 'CREATECONSUMER', key, group, Buffer.from(cn, 'latin1')]);
    }
    for (const [id, p] of g.pel) {
      if (skeleton && !v.get(id)) continue;
      out.push(['XCLAIM', key, group, Buffer.from(p.consumer, 'latin1'), '0', sidText(id), 'TIME', String(p.deliveryTime),
        'RETRYCOUNT', String(p.deliveryCount), 'FORCE', 'JUSTID', 'LASTID', sidText(g.lastId)]);
    }
  }
  return out;
}

/**
 * A pending entry whose stream entry is gone (trimmed or deleted: Redis 7.0
 * keeps it until it is acknowledged or claimed) cannot be rebuilt by a
 * claim: XCLAIM of an ID not in the stream drops its pending entry (as it
 * does on the leader). Redis's full sync keeps it, its RDB carrying the PEL
 * as is; so a stream with such entries starts as a RESTORE of a skeleton: no
 * entries, its groups with their consumers and those pending entries. Its
 * entries are then added as for any stream (the last ID, entries added and
 * max deleted ID set by XSETID after them) and the other pending entries
 * claimed. undefined: none, the commands alone rebuild the stream.
 */
function groupsSkeleton(v: StreamValue): Buffer | undefined {
  let dangling = false;
  const groups = [...v.groups].map(([name, g]) => {
    const pel: RdbStreamPending[] = [];
    for (const [id, p] of g.pel) if (!v.get(id)) pel.push({ id, ...p });
    if (pel.length > 0) dangling = true;
    const consumers = [...g.consumers].map(([cn, c]) => ({ name: cn, seenTime: c.seenTime }));
    return { name, lastId: g.lastId, entriesRead: g.entriesRead, pel, consumers };
  });
  if (!dangling) return undefined;
  const w = new PayloadWriter();
  w.byte(WRITE_TYPES.stream);
  writeStream(w, { nodes: [], lastId: MIN_SID, firstId: MIN_SID, maxDeletedId: MIN_SID, entriesAdded: 0, groups });
  return w.finish();
}

/** A score as ZADD reads it back exactly: shortest round-trip form, -0 and infinities kept. */
function formatScore(score: number): string {
  if (score === Infinity) return 'inf';
  if (score === -Infinity) return '-inf';
  if (Object.is(score, -0)) return '-0';
  return String(score);
}
