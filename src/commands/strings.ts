import type { CommandDef } from './table.js';
import { Errors } from './errors.js';
import { OK } from '../protocol/reply.js';
import { int64Arg, keyword } from './args.js';
import { propagate, readString, writeString } from './keyaccess.js';
import type { Client } from '../server/client.js';

/** Parsed SET/GETEX expiry options. */
export interface ExpiryOption {
  /** unix ms; 0 = none; -1 = KEEPTTL */
  at: number;
  given: boolean;
}

/**
 * An absolute expiry from EX/PX/EXAT/PXAT `value`; throws Redis's
 * "invalid expire time" for values <= 0 or past what 64-bit ms can hold.
 */
export function expiryFrom(unit: 'EX' | 'PX' | 'EXAT' | 'PXAT', value: Buffer, cmd: string): number {
  const n = int64Arg(value);
  if (n <= 0n) throw Errors.invalidExpire(cmd);
  const ms = unit === 'EX' || unit === 'EXAT' ? n * 1000n : n;
  if (ms / (unit === 'EX' || unit === 'EXAT' ? 1000n : 1n) !== n || ms > INT64_MAX) throw Errors.invalidExpire(cmd);
  const at = unit === 'EX' || unit === 'PX' ? ms + BigInt(Date.now()) : ms;
  if (at > INT64_MAX) throw Errors.invalidExpire(cmd);
  return Number(at);
}

const INT64_MAX = 2n ** 63n - 1n;

function set(c: Client, args: Buffer[]) {
  let nx = false, xx = false, get = false, keepTtl = false;
  let expireAt = 0;
  let expirySeen = false;
  for (let i = 3; i < args.length; i++) {
    const opt = keyword(args[i]!);
    const hasNext = i + 1 < args.length;
    if (opt === 'NX' && !xx) nx = true;
    else if (opt === 'XX' && !nx) xx = true;
    else if (opt === 'GET') get = true;
    else if (opt === 'KEEPTTL' && !expirySeen) {
      keepTtl = true;
      expirySeen = true;
    } else if ((opt === 'EX' || opt === 'PX' || opt === 'EXAT' || opt === 'PXAT') && !expirySeen && hasNext) {
      expireAt = expiryFrom(opt, args[++i]!, 'set');
      expirySeen = true;
    } else throw Errors.syntax();
  }
  const key = args[1]!;
  const old = get ? readString(c, key) : undefined;
  const exists = get ? old !== undefined : exists2(c, key);
  if ((nx && exists) || (xx && !exists)) return get ? old ?? null : null;
  const e = writeString(c, key, args[2]!, keepTtl ? -1 : expireAt);
  propagateString(c, key, e.value as Buffer, e.expireAt);
  return get ? old ?? null : OK;
}

/** Any live key (of any type) under this name. */
function exists2(c: Client, key: Buffer): boolean {
  return c.talus.keyspace.lookup(c.db, key.toString('latin1')) !== undefined;
}

/** The effect of any string write: the final value and absolute expiry. */
export function propagateString(c: Client, key: Buffer, value: Buffer, expireAt: number): void {
  propagate(c, expireAt ? ['SET', key, value, 'PXAT', String(expireAt)] : ['SET', key, value]);
}

export const stringCommands: CommandDef[] = [
  {
    name: 'get', arity: 2, flags: ['readonly', 'fast'], keys: { first: 1, last: 1, step: 1 },
    group: 'string', summary: 'Returns the string value of a key.', since: '1.0.0', complexity: 'O(1)',
    handler: (c, args) => readString(c, args[1]!) ?? null,
  },
  {
    name: 'set', arity: -3, flags: ['write', 'denyoom'], keys: { first: 1, last: 1, step: 1 },
    group: 'string', summary: 'Sets the string value of a key, ignoring its type. The key is created if it doesn\'t exist.',
    since: '1.0.0', complexity: 'O(1)', handler: set,
  },
];
