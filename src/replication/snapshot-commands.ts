import type { HashValue } from '../keyspace/values/hash.js';
import type { ListValue } from '../keyspace/values/list.js';
import type { SetValue } from '../keyspace/values/set.js';
import type { ZSetValue } from '../keyspace/values/zset.js';
import type { KeyType } from '../keyspace/types.js';

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
    default:
      throw new Error(`full sync cannot send a key of type ${k.type}`);
  }
  if (members > 0) out.push(cmd);
  if (k.expireAt && out.length > 0) out.push(['PEXPIREAT', key, String(k.expireAt)]);
  return out;
}

/** A score as ZADD reads it back exactly: shortest round-trip form, -0 and infinities kept. */
function formatScore(score: number): string {
  if (score === Infinity) return 'inf';
  if (score === -Infinity) return '-inf';
  if (Object.is(score, -0)) return '-0';
  return String(score);
}
