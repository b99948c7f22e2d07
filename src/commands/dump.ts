/**
 * DUMP and RESTORE: a key's value in Redis's serialization format
 * (util/rdb-value.ts, util/rdb-stream.ts), so payloads move between Talus
 * and redis-server 7.0 both ways. DUMP writes the plain per-type encodings,
 * and streams as Redis 7.0 does (listpack nodes on Talus's node boundaries,
 * groups, PELs, consumers); RESTORE reads what redis-server 7.0 writes
 * (listpacks, quicklists, intsets, LZF strings, both stream types) and the
 * older encodings it still reads. MIGRATE (migrate.ts) sends DUMP payloads.
 *
 * RESTORE's effect in the change log is itself with an absolute TTL
 * (ABSTTL) and REPLACE, as Redis propagates it; IDLETIME and FREQ are not
 * data and are not logged.
 */
import type { CommandDef } from './table.js';
import type { CommandContext } from '../execution/context.js';
import type { Entry, KeyType } from '../keyspace/types.js';
import { ErrorReply, OK, type Reply } from '../protocol/reply.js';
import { Errors } from './errors.js';
import { int64Arg, keyword } from './args.js';
import { INT64_MAX, MAX_EXPIRE_AT } from '../util/numbers.js';
import { changed, lookup, own } from './keyaccess.js';
import { entryForWrite } from './strings.js';
import { valueOps } from '../keyspace/value-ops.js';
import { HashValue } from '../keyspace/values/hash.js';
import { ListValue } from '../keyspace/values/list.js';
import { SetValue } from '../keyspace/values/set.js';
import { ZSetValue } from '../keyspace/values/zset.js';
import { StreamValue, type Consumer, type PendingEntry, type SID } from '../keyspace/values/stream.js';
import { decodeStreamPayload, writeStream, type RdbStream, type RdbStreamGroup, type RdbStreamPending } from '../util/rdb-stream.js';
import { estimateRead } from './stream-groups.js';
import { BadFormat, PayloadWriter, WRITE_TYPES, decodePayload, verifyPayload, type RdbValue } from '../util/rdb-value.js';

const latin1 = (b: Buffer) => b.toString('latin1');
const bytes = (s: string) => Buffer.from(s, 'latin1');

/** A key's value as a DUMP payload. */
export function dumpValue(e: Entry): Buffer {
  const w = new PayloadWriter();
  const type = e.type!;
  w.byte(WRITE_TYPES[type as keyof typeof WRITE_TYPES]);
  switch (type) {
    case 'string':
      w.string(e.value as Buffer);
      break;
    case 'list': {
      const l = e.value as ListValue;
      w.length(l.length);
      for (const v of l) w.string(v);
      break;
    }
    case 'set': {
      const s = e.value as SetValue;
      w.length(s.size);
      for (const m of s) w.string(bytes(m));
      break;
    }
    case 'hash': {
      const h = e.value as HashValue;
      w.length(h.size);
      for (const [f, v] of h) {
        w.string(bytes(f));
        w.string(v);
      }
      break;
    }
    case 'zset': {
      const z = e.value as ZSetValue;
      w.length(z.size);
      z.walk(0, false, (m, score) => {
        w.string(bytes(m));
        w.binaryDouble(score);
      });
      break;
    }
    case 'stream':
      writeStream(w, rdbStream(e.value as StreamValue));
      break;
  }
  return w.finish();
}

/** A stream value in rdb-stream.ts's shape (its nodes as Talus tracks them). */
function rdbStream(v: StreamValue): RdbStream {
  const groups: RdbStreamGroup[] = [];
  for (const [name, g] of v.groups) {
    const pel: RdbStreamPending[] = [];
    for (const [id, p] of g.pel) pel.push({ id, ...p });
    const consumers = [...g.consumers].map(([cn, c]) => ({ name: cn, seenTime: c.seenTime }));
    groups.push({ name, lastId: g.lastId, entriesRead: g.entriesRead, pel, consumers });
  }
  const nodes = [...v.liveNodes()].map((entries) => ({ entries, count: entries.length, bytes: 0, lastId: entries[entries.length - 1]![0], masterId: entries[0]![0], masterFields: [] }));
  return { nodes, lastId: v.lastId, firstId: v.firstId, maxDeletedId: v.maxDeletedId, entriesAdded: v.entriesAdded, groups };
}

/** The stream a payload carries, rebuilt with its node boundaries, groups, PELs and consumers. */
function streamValue(s: RdbStream): StreamValue {
  const v = new StreamValue();
  for (const node of s.nodes) v.restoreNode(node.entries.map(([id, fields]) => [id, fields.map(own)]), node.count, node.bytes, node.lastId, node.masterId, node.masterFields.map(own));
  v.lastId = s.lastId;
  v.maxDeletedId = s.maxDeletedId;
  v.entriesAdded = s.entriesAdded;
  for (const g of s.groups) {
    const consumers = new Map<string, Consumer>();
    for (const cn of g.consumers) consumers.set(cn.name, { seenTime: cn.seenTime, pending: new Set() });
    const pel = new Map<SID, PendingEntry>();
    for (const p of g.pel) {
      pel.set(p.id, { consumer: p.consumer, deliveryTime: p.deliveryTime, deliveryCount: p.deliveryCount });
      consumers.get(p.consumer)!.pending.add(p.id);
    }
    // a 5.0-6.2 payload has no entries-read: estimated as Redis's load does
    const entriesRead = g.entriesRead ?? estimateRead(v, g.lastId);
    v.groups.set(g.name, { lastId: g.lastId, entriesRead, pel, consumers });
  }
  return v;
}

function dump(c: CommandContext, args: Buffer[]): Reply {
  const e = lookup(c, args[1]!);
  if (e === undefined) return null;
  return dumpValue(e);
}

/** The in-memory value for a decoded payload: [type, value]. */
function toValue(c: CommandContext, v: RdbValue): [KeyType, unknown] {
  switch (v.type) {
    case 'string':
      return ['string', own(v.value)];
    case 'list': {
      const l = new ListValue(v.items.length);
      for (const x of v.items) l.pushTail(own(x));
      return ['list', l];
    }
    case 'set': {
      const members = v.members;
      const s = SetValue.of((function* () {
        for (const m of members) yield latin1(m);
      })());
      if (s.size !== v.members.length) throw new BadFormat('duplicate members');
      return ['set', s];
    }
    case 'hash': {
      const h = new HashValue();
      for (const [f, x] of v.pairs) h.set(latin1(f), own(x));
      if (h.size !== v.pairs.length) throw new BadFormat('duplicate fields');
      return ['hash', h];
    }
    case 'zset': {
      const z = new ZSetValue();
      // as Redis's load: a set that fits the listpack limits is compact (a -0 score becomes 0)
      const cfg = c.config.values;
      const fits = v.pairs.length <= cfg.zsetMaxListpackEntries && v.pairs.every(([m]) => m.length <= cfg.zsetMaxListpackValue);
      z.compact = fits;
      for (const [m, s] of v.pairs) z.set(latin1(m), fits && s === 0 ? 0 : s);
      if (z.size !== v.pairs.length) throw new BadFormat('duplicate members');
      return ['zset', z];
    }
  }
}

function restore(c: CommandContext, args: Buffer[]): Reply {
  let replace = false;
  let absttl = false;
  let idle = -1n;
  let freq = -1n;
  for (let j = 4; j < args.length; j++) {
    const more = args.length - j - 1;
    const o = keyword(args[j]!);
    if (o === 'REPLACE') replace = true;
    else if (o === 'ABSTTL') absttl = true;
    else if (o === 'IDLETIME' && more >= 1 && freq === -1n) {
      idle = int64Arg(args[++j]!);
      if (idle < 0n) return new ErrorReply('ERR Invalid IDLETIME value, must be >= 0');
    } else if (o === 'FREQ' && more >= 1 && idle === -1n) {
      freq = int64Arg(args[++j]!);
      if (freq < 0n || freq > 255n) return new ErrorReply('ERR Invalid FREQ value, must be >= 0 and <= 255');
    } else return Errors.syntax();
  }
  const key = args[1]!;
  const old = entryForWrite(c, key);
  if (!replace && old !== undefined) return new ErrorReply('BUSYKEY Target key name already exists.');
  let ttl = int64Arg(args[2]!);
  if (ttl < 0n) return new ErrorReply('ERR Invalid TTL value, must be >= 0');
  const payload = args[3]!;
  if (!verifyPayload(payload)) return new ErrorReply('ERR DUMP payload version or checksum are wrong');
  let type: KeyType;
  let value: unknown;
  try {
    const stream = decodeStreamPayload(payload);
    [type, value] = stream !== null ? ['stream', streamValue(stream)] : toValue(c, decodePayload(payload));
  } catch (err) {
    if (err instanceof BadFormat) return new ErrorReply('ERR Bad data format');
    throw err;
  }
  const ks = c.keyspace;
  const now = Date.now();
  if (ttl !== 0n && !absttl) {
    ttl += BigInt(now);
    // Redis adds in a signed 64-bit integer: past INT64_MAX it wraps to a time long gone (born expired below)
    if (ttl > INT64_MAX) ttl -= 1n << 64n;
  }
  const at = Math.min(Number(ttl), MAX_EXPIRE_AT);
  if (ttl !== 0n && at <= now && !ks.replicaMode) {
    // born expired: only the deletion of what REPLACE removes
    if (old !== undefined) {
      ks.remove(c.session.db, old);
      changed(c, key, 'del', ['DEL', key]);
    }
    return OK;
  }
  // as Redis: the replaced key is deleted, then the new one added (a `new` event too)
  if (old !== undefined) ks.remove(c.session.db, old);
  const e = ks.create(c.session.db, latin1(key), type, value, valueOps(type).sizeOf(value), at);
  if (freq >= 0n && ks.lfu.enabled) {
    e.freq = Number(freq);
    e.freqMinute = Math.floor(now / 60_000);
  } else if (idle >= 0n && !ks.lfu.enabled) {
    e.lastAccess = now - Number(idle) * 1000;
  }
  changed(c, key, 'restore', ['RESTORE', key, String(at), payload, 'REPLACE', 'ABSTTL']);
  return OK;
}

const G = 'generic';

export const dumpCommands: CommandDef[] = [
  { name: 'dump', keys: { first: 1, last: 1, step: 1 }, group: G, handler: dump },
  { name: 'restore', keys: { first: 1, last: 1, step: 1 }, group: G, handler: restore },
  // Redis Cluster's MIGRATE sends it to a node importing the key's slot; without cluster support it is RESTORE
  { name: 'restore-asking', keys: { first: 1, last: 1, step: 1 }, group: G, handler: restore },
];
