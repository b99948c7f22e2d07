import type { CommandDef } from './table.js';
import { Errors } from './errors.js';
import { ErrorReply, OK, SimpleString, type Reply } from '../protocol/reply.js';
import { BulkArrayBuilder } from '../protocol/encoder.js';
import { int32Arg, keyword } from './args.js';
import { parseScanCursor } from './scan.js';
import { changed, lookup } from './keyaccess.js';
import { valueOps } from '../keyspace/value-ops.js';
import { lfuCounter } from '../keyspace/lfu.js';
import { globLiteralPrefix, globMatch } from '../util/glob.js';
import { indexedFormOf, SHORT_NAME_BYTES } from '../util/indexed-names.js';
import { INT64_MAX, INT64_MIN, MAX_EXPIRE_AT, parseInteger, parseSafeInt } from '../util/numbers.js';
import { keyName } from '../keyspace/names.js';
import type { CommandContext } from '../execution/context.js';
import type { Db } from '../keyspace/keyspace.js';
import type { Entry, KeyType } from '../keyspace/types.js';
import type { KeyRef } from '../keyspace/scheduler.js';
import { isPaged, META, metaOnly } from '../keyspace/paging.js';
import type { ZSetValue } from '../keyspace/values/zset.js';
import type { ServerControl } from '../execution/context.js';
import type { StoredKey, StoredKeyRange } from '../keyspace/stored-keys.js';

/**
 * The generic keyspace family (DEL, EXPIRE, TTL, RENAME, MOVE, COPY, OBJECT,
 * KEYS, SCAN, RANDOMKEY...) and the db-wide ones (DBSIZE, FLUSHDB, FLUSHALL,
 * SWAPDB).
 *
 * Keyed commands run synchronously on resident entries like every family.
 * The keyless enumerations (KEYS, SCAN, RANDOMKEY) read the hot set when it
 * holds the whole db (`db.complete`); otherwise they wait until PostgreSQL
 * has every write made so far and ask it, walking talus.keys in the order of
 * its index: by indexed form (util/indexed-names.ts), which is byte order
 * except among keys longer than SHORT_NAME_BYTES sharing their first
 * SHORT_NAME_BYTES bytes. The hot set is walked in the same order (bytea
 * order = byte order = latin1 string order), so a cursor from either path
 * works in the other: it holds the last indexed form returned.
 */

// ---------------------------------------------------------------- lookups

/**
 * The live entry of a key without counting as an access (Redis's
 * LOOKUP_NOTOUCH: TTL, TYPE, EXISTS, OBJECT). An expired key is still
 * expired (and its DEL logged) on the way.
 */
function peek(c: CommandContext, db: Db, name: string): Entry | undefined {
  const ks = c.keyspace;
  const e = db.entries.get(name);
  let live: Entry | undefined;
  if (e !== undefined && e.type !== null) {
    live = e.expireAt !== 0 && e.expireAt <= Date.now() ? ks.lookup(db, name) : e;
  }
  if (live === undefined) ks.stats.misses++;
  else ks.stats.hits++;
  return live;
}

/** A key for a write: lazily expired, no hit/miss statistics (lookupKeyWrite). */
function lookupWrite(c: CommandContext, db: Db, name: string): Entry | undefined {
  return c.keyspace.lookup(db, name);
}

/** Whether an entry is a live key at `now` (for enumerations, which never mutate). */
function isLive(e: Entry, now: number): boolean {
  return e.type !== null && (e.expireAt === 0 || e.expireAt > now);
}


const sameObject = () => new ErrorReply('ERR source and destination objects are the same');

// ------------------------------------------------------------ DEL, EXISTS

function del(c: CommandContext, args: Buffer[], name: 'DEL' | 'UNLINK'): Reply {
  const ks = c.keyspace;
  const deleted: Buffer[] = [];
  for (let i = 1; i < args.length; i++) {
    const e = lookupWrite(c, c.session.db, args[i]!.toString('latin1'));
    if (e === undefined) continue;
    // O(1): the incarnation is retired; the janitor deletes its rows later.
    ks.remove(c.session.db, e);
    deleted.push(args[i]!);
  }
  for (let i = 0; i < deleted.length; i++) changed(c, deleted[i]!, 'del', i === 0 ? [name, ...deleted] : undefined);
  return deleted.length;
}

function exists(c: CommandContext, args: Buffer[]): Reply {
  let n = 0;
  for (let i = 1; i < args.length; i++) if (peek(c, c.session.db, args[i]!.toString('latin1')) !== undefined) n++;
  return n;
}

function touch(c: CommandContext, args: Buffer[]): Reply {
  let n = 0;
  for (let i = 1; i < args.length; i++) if (lookup(c, args[i]!) !== undefined) n++;
  return n;
}

// ------------------------------------------------------------------ expiry

type ExpireCommand = 'expire' | 'pexpire' | 'expireat' | 'pexpireat';

/** Times up to this (s or ms) are computed in doubles: times 1000 plus now stays far below 2^53. */
const SMALL_EXPIRE = 2 ** 40;

/** EXPIRE, PEXPIRE, EXPIREAT, PEXPIREAT with NX | XX | GT | LT. */
function expireGeneric(c: CommandContext, args: Buffer[], cmd: ExpireCommand): Reply {
  let nx = false, xx = false, gt = false, lt = false;
  for (let i = 3; i < args.length; i++) {
    const opt = keyword(args[i]!);
    if (opt === 'NX') nx = true;
    else if (opt === 'XX') xx = true;
    else if (opt === 'GT') gt = true;
    else if (opt === 'LT') lt = true;
    else return Errors.echoing('ERR Unsupported option ', args[i]!);
  }
  if (nx && (xx || gt || lt)) {
    return new ErrorReply('ERR NX and XX, GT or LT options at the same time are not compatible');
  }
  if (gt && lt) return new ErrorReply('ERR GT and LT options at the same time are not compatible');

  const seconds = cmd === 'expire' || cmd === 'expireat';
  const now = Date.now();
  const relative = cmd === 'expire' || cmd === 'pexpire';
  /** the expiry in unix ms: a double when exact (mixed comparisons with doubles below are exact either way) */
  let when: bigint | number;
  const small = parseSafeInt(args[2]!);
  if (small !== null && small <= SMALL_EXPIRE && small >= -SMALL_EXPIRE) {
    // the usual times: no BigInt per command, and no overflow possible
    when = (seconds ? small * 1000 : small) + (relative ? now : 0);
  } else {
    const given = parseInteger(args[2]!);
    if (given === null) return Errors.notInteger();
    let big = given;
    // Negative times are allowed (they delete the key); only overflow is an error.
    if (seconds) {
      if (big > INT64_MAX / 1000n || big < INT64_MIN / 1000n) return Errors.invalidExpire(cmd);
      big *= 1000n;
    }
    const base = relative ? BigInt(now) : 0n;
    if (big > INT64_MAX - base) return Errors.invalidExpire(cmd);
    when = big + base;
  }

  const ks = c.keyspace;
  const e = lookupWrite(c, c.session.db, keyName(args[1]!));
  if (e === undefined) return 0;
  const current = e.expireAt === 0 ? null : e.expireAt;
  if (nx && current !== null) return 0;
  if (xx && current === null) return 0;
  // No TTL counts as an infinite one: GT always fails, LT always passes.
  if (gt && (current === null || when <= current)) return 0;
  if (lt && current !== null && when >= current) return 0;

  if (when <= now && !ks.replicaMode) {
    ks.remove(c.session.db, e);
    changed(c, args[1]!, 'del', ['DEL', args[1]!]);
    return 1;
  }
  // Times past 2^53 ms (year 287396) lose precision as JS numbers; clamp below
  // 2^63 so the rounded value still fits PostgreSQL's bigint.
  ks.setExpire(c.session.db, e, Math.min(Number(when), MAX_EXPIRE_AT));
  changed(c, args[1]!, 'expire', ['PEXPIREAT', args[1]!, typeof when === 'number' ? when : String(when)]);
  return 1;
}

/** TTL, PTTL, EXPIRETIME, PEXPIRETIME. */
function ttlGeneric(c: CommandContext, args: Buffer[], ms: boolean, absolute: boolean): Reply {
  const e = peek(c, c.session.db, args[1]!.toString('latin1'));
  if (e === undefined) return -2;
  if (e.expireAt === 0) return -1;
  let t = absolute ? e.expireAt : e.expireAt - Date.now();
  if (t < 0) t = 0;
  return ms ? t : Math.floor((t + 500) / 1000);
}

function persist(c: CommandContext, args: Buffer[]): Reply {
  const e = lookupWrite(c, c.session.db, args[1]!.toString('latin1'));
  if (e === undefined || e.expireAt === 0) return 0;
  c.keyspace.setExpire(c.session.db, e, 0);
  changed(c, args[1]!, 'persist', ['PERSIST', args[1]!]);
  return 1;
}

// ------------------------------------------------------ RENAME, MOVE, COPY

/**
 * Put a copy of `src`'s value under `name` in `db` as a new incarnation,
 * with `src`'s TTL (replacing whatever was there).
 */
function copyEntry(c: CommandContext, src: Entry, db: Db, name: string): void {
  const type = src.type!;
  const codec = valueOps(type);
  const value = codec.clone(src.value);
  c.keyspace.create(db, name, type, value, codec.sizeOf(value), src.expireAt);
}

/** Move `src` (incarnation, value, TTL) to `name` in `db`, replacing whatever was there. */
function moveEntry(c: CommandContext, src: Entry, db: Db, name: string): void {
  c.keyspace.move(c.session.db, src, db, name, valueOps(src.type!).sizeOf(src.value));
}

function rename(c: CommandContext, args: Buffer[], nx: boolean): Reply {
  const srcName = args[1]!.toString('latin1');
  const dstName = args[2]!.toString('latin1');
  const src = lookupWrite(c, c.session.db, srcName);
  if (src === undefined) return Errors.noSuchKey();
  if (srcName === dstName) return nx ? 0 : OK;
  if (lookupWrite(c, c.session.db, dstName) !== undefined && nx) return 0;
  moveEntry(c, src, c.session.db, dstName);
  changed(c, args[1]!, 'rename_from', [nx ? 'RENAMENX' : 'RENAME', args[1]!, args[2]!]);
  changed(c, args[2]!, 'rename_to');
  return nx ? 1 : OK;
}

/** The db a MOVE targets; throws Redis's errors for bad indexes. */
function targetDb(c: CommandContext, arg: Buffer): Db {
  const n = int32Arg(arg);
  const db = n >= 0 ? (c.session.plannedLayout ?? c.keyspace.dbs)[n] : undefined;
  if (db === undefined) throw Errors.dbIndex();
  return db;
}

function move(c: CommandContext, args: Buffer[]): Reply {
  const dst = targetDb(c, args[2]!);
  if (dst === c.session.db) return sameObject();
  const name = args[1]!.toString('latin1');
  const src = lookupWrite(c, c.session.db, name);
  if (src === undefined) return 0;
  if (lookupWrite(c, dst, name) !== undefined) return 0;
  moveEntry(c, src, dst, name);
  changed(c, name, 'move_from', ['MOVE', args[1]!, String(dst.index)]);
  changed(c, name, 'move_to', undefined, dst.index);
  return 1;
}

interface CopyOptions {
  dst: Db;
  replace: boolean;
}

/** COPY's options after the two keys; throws Redis's errors. */
function copyOptions(c: CommandContext, args: Buffer[]): CopyOptions {
  let dst = c.session.db;
  let replace = false;
  for (let j = 3; j < args.length; j++) {
    const opt = keyword(args[j]!);
    if (opt === 'REPLACE') replace = true;
    else if (opt === 'DB' && j + 1 < args.length) dst = targetDb(c, args[++j]!);
    else throw Errors.syntax();
  }
  return { dst, replace };
}

function copy(c: CommandContext, args: Buffer[]): Reply {
  const { dst, replace } = copyOptions(c, args);
  if (dst === c.session.db && args[1]!.equals(args[2]!)) return sameObject();
  const src = lookup(c, args[1]!);
  if (src === undefined) return 0;
  const dstName = args[2]!.toString('latin1');
  if (lookupWrite(c, dst, dstName) !== undefined && !replace) return 0;
  copyEntry(c, src, dst, dstName);
  changed(c, dstName, 'copy_to', ['COPY', ...args.slice(1)], dst.index);
  return 1;
}

/** MOVE's keys: the key in the client's db and in the target db. */
function moveKeyRefs(c: CommandContext, args: Buffer[]): KeyRef[] {
  const name = args[1]!.toString('latin1');
  const refs: KeyRef[] = [{ db: c.session.db, name, access: META }];
  try {
    const dst = targetDb(c, args[2]!);
    if (dst !== c.session.db) refs.push({ db: dst, name, access: META });
  } catch {
    /* the handler reports it */
  }
  return refs;
}

/** COPY's keys: the source in the client's db, the destination in the target db. */
function copyKeyRefs(c: CommandContext, args: Buffer[]): KeyRef[] {
  let dst = c.session.db;
  try {
    dst = copyOptions(c, args).dst;
  } catch {
    /* the handler reports it */
  }
  return [
    { db: c.session.db, name: args[1]!.toString('latin1') },
    { db: dst, name: args[2]!.toString('latin1') },
  ];
}

// ------------------------------------------------------------------ OBJECT

/** Redis's name for how it would encode this value, from the same config thresholds. */
export function encodingOf(c: CommandContext, e: Entry): string {
  const v = c.config.values;
  const value = e.value;
  // a paged collection is beyond every compact encoding's size limit
  if (isPaged(value)) return e.type === 'zset' ? 'skiplist' : e.type === 'list' ? 'quicklist' : 'hashtable';
  switch (e.type) {
    case 'string': {
      const s = value as Buffer;
      if (s.length <= 20 && parseInteger(s) !== null) return 'int';
      return s.length <= 44 ? 'embstr' : 'raw';
    }
    case 'list':
      return 'quicklist';
    case 'stream':
      return 'stream';
    case 'set': {
      const n = valueOps('set').length(value);
      let ints = true;
      for (const m of itemsOf(value)) {
        if (parseInteger(toBuffer(m)) === null) {
          ints = false;
          break;
        }
      }
      return ints && n <= v.setMaxIntsetEntries ? 'intset' : 'hashtable';
    }
    case 'hash': {
      const n = valueOps('hash').length(value);
      const small = n <= v.hashMaxListpackEntries && allShort(value, v.hashMaxListpackValue);
      return small ? 'listpack' : 'hashtable';
    }
    case 'zset':
      // tracked as Redis converts it (on growth, SORT, *STORE results), since -0 scores depend on it
      return (value as ZSetValue).compact ? 'listpack' : 'skiplist';
    default:
      return 'raw';
  }
}

/** The members of a collection value, when its shape lets us see them (Map, Set, Array or a field holding one). */
function* itemsOf(value: unknown, withValues = false): Iterable<unknown> {
  const walk = function* (x: unknown): Iterable<unknown> {
    if (x instanceof Map) {
      for (const [k, val] of x) {
        yield k;
        if (withValues && (typeof val === 'string' || Buffer.isBuffer(val))) yield val;
      }
    } else if (x instanceof Set || Array.isArray(x)) {
      yield* x;
    }
  };
  if (value instanceof Map || value instanceof Set || Array.isArray(value)) {
    yield* walk(value);
    return;
  }
  if (value !== null && typeof value === 'object') {
    for (const field of Object.values(value)) {
      if (field instanceof Map || field instanceof Set || Array.isArray(field)) {
        yield* walk(field);
        return;
      }
    }
  }
}

function toBuffer(x: unknown): Buffer {
  if (Buffer.isBuffer(x)) return x;
  if (typeof x === 'string') return Buffer.from(x, 'latin1');
  if (typeof x === 'number' || typeof x === 'bigint') return Buffer.from(String(x));
  return Buffer.alloc(65536); // unknown shape: too long for a compact encoding
}

function allShort(value: unknown, limit: number, keysOnly = false): boolean {
  for (const m of itemsOf(value, !keysOnly)) if (toBuffer(m).length > limit) return false;
  return true;
}

const LFU_OFF =
  'ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.';
const LFU_ON =
  'ERR An LFU maxmemory policy is selected, idle time not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.';

const OBJECT_HELP = [
  'OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:',
  'ENCODING <key>',
  '    Return the kind of internal representation used in order to store the value',
  '    associated with a <key>.',
  'FREQ <key>',
  '    Return the access frequency index of the <key>. The returned integer is',
  '    proportional to the logarithm of the recent access frequency of the key.',
  'IDLETIME <key>',
  '    Return the idle time of the <key>, that is the approximated number of',
  '    seconds elapsed since the last access to the key.',
  'REFCOUNT <key>',
  '    Return the number of references of the value associated with the specified',
  '    <key>.',
  'HELP',
  '    Prints this help.',
];

function objectKey(c: CommandContext, args: Buffer[]): Entry | undefined {
  return peek(c, c.session.db, args[2]!.toString('latin1'));
}


// ----------------------------------------------- KEYS, SCAN, RANDOMKEY

/** Dbs this small are enumerated in memory when complete; larger ones through PostgreSQL's index. */
const MEMORY_SCAN_LIMIT = 2000;
const MEMORY_RANDOM_LIMIT = 100_000;
const KEYS_PAGE = 10_000;

interface Filter {
  /** undefined = every key */
  pattern: Buffer | undefined;
  /** lower-case type name, or undefined */
  type: string | undefined;
}

function matches(f: Filter, name: string, type: KeyType | null): boolean {
  if (f.type !== undefined && type !== f.type) return false;
  return f.pattern === undefined || globMatch(f.pattern, Buffer.from(name, 'latin1'));
}

/** "*" matches every key, even the empty one: no pattern at all. */
function patternOf(arg: Buffer): Buffer | undefined {
  return arg.length === 1 && arg[0] === 0x2a ? undefined : arg;
}

/** The byte string just above every string starting with `prefix`, or undefined if none is. */
function prefixEnd(prefix: Buffer): Buffer | undefined {
  let end = prefix.length;
  while (end > 0 && prefix[end - 1] === 0xff) end--;
  if (end === 0) return undefined;
  const out = Buffer.from(prefix.subarray(0, end));
  out[end - 1]!++;
  return out;
}

/**
 * Up to `limit` live keys of `db` from PostgreSQL in key order, after
 * `after` (exclusive), within the literal prefix of the pattern and of the
 * wanted type. Call after `durable`.
 */
function pageFromStorage(c: CommandContext, db: Db, after: Buffer | undefined, f: Filter, limit: number): Promise<StoredKey[]> {
  // Keys starting with a prefix have indexed forms starting with its first SHORT_NAME_BYTES bytes.
  const prefix = f.pattern ? globLiteralPrefix(f.pattern).subarray(0, SHORT_NAME_BYTES) : Buffer.alloc(0);
  const range: StoredKeyRange = { after, type: f.type };
  if (prefix.length > 0) {
    if (after === undefined || Buffer.compare(prefix, after) > 0) range.from = prefix;
    range.to = prefixEnd(prefix);
  }
  return c.server.storedKeys.page(db.index, range, limit);
}

function keys(c: CommandContext, args: Buffer[]): Reply | Promise<Reply> {
  const db = c.session.db;
  const f: Filter = { pattern: patternOf(args[1]!), type: undefined };
  if (db.complete) {
    const now = Date.now();
    const out = new BulkArrayBuilder();
    for (const e of db.entries.values()) {
      if (isLive(e, now) && matches(f, e.name, e.type)) out.add(e.name);
    }
    return out.reply();
  }
  return keysFromStorage(c, db, f);
}

/**
 * KEYS walks of PostgreSQL (and SCANs with a COUNT past a page), one at a
 * time: each builds its whole reply (about 30 MB for a million keys) before
 * any of it is written, so sixteen clients at once held 600 MB with
 * maxmemory 64 MB. Once built, a reply counts toward the big-reply budget
 * (server/big-replies.ts) until written.
 */
const keysWalks = new WeakMap<ServerControl, Promise<unknown>>();

function keysFromStorage(c: CommandContext, db: Db, f: Filter): Promise<Reply> {
  return oneWalkAtATime(c, () => walkKeys(c, db, f));
}

function oneWalkAtATime(c: CommandContext, walk: () => Promise<Reply>): Promise<Reply> {
  const done = (keysWalks.get(c.server) ?? Promise.resolve()).then(walk);
  keysWalks.set(c.server, done.catch(() => undefined));
  return done;
}

async function walkKeys(c: CommandContext, db: Db, f: Filter): Promise<Reply> {
  await c.server.storedKeys.durable(db.index);
  const out = new BulkArrayBuilder();
  let after: Buffer | undefined;
  for (;;) {
    const rows = await pageFromStorage(c, db, after, f, KEYS_PAGE);
    for (const r of rows) if (f.pattern === undefined || globMatch(f.pattern, r.key)) out.add(r.key);
    if (rows.length < KEYS_PAGE) return out.reply();
    after = rows[rows.length - 1]!.form;
  }
}

/**
 * Server-side SCAN cursors: a cursor number names the last key a page
 * returned (keys are walked in byte order). Entries are never changed, so a
 * client may repeat a call; the table keeps the most recent ones.
 */
class ScanCursors {
  private readonly last = new Map<string, Buffer>();
  private next = 1 + Math.floor(Math.random() * 2 ** 31);
  static readonly MAX = 10_000;

  get(id: string): Buffer | undefined {
    const k = this.last.get(id);
    if (k !== undefined) {
      this.last.delete(id);
      this.last.set(id, k);
    }
    return k;
  }

  add(lastKey: Buffer): string {
    if (this.next >= Number.MAX_SAFE_INTEGER) this.next = 1;
    const id = String(this.next++);
    this.last.set(id, lastKey);
    if (this.last.size > ScanCursors.MAX) this.last.delete(this.last.keys().next().value!);
    return id;
  }
}

const cursorTables = new WeakMap<ServerControl, ScanCursors>();

function cursorsOf(t: ServerControl): ScanCursors {
  let table = cursorTables.get(t);
  if (!table) cursorTables.set(t, (table = new ScanCursors()));
  return table;
}


function scan(c: CommandContext, args: Buffer[]): Reply | Promise<Reply> {
  // The cursor: an unsigned 64-bit decimal, as Redis's strtoul accepts it ("" is 0).
  const cursor = parseScanCursor(args[1]!);
  let count = 10;
  const f: Filter = { pattern: undefined, type: undefined };
  for (let i = 2; i < args.length; i += 2) {
    const opt = keyword(args[i]!);
    if (i + 1 >= args.length) return Errors.syntax();
    if (opt === 'COUNT') {
      const n = parseInteger(args[i + 1]!);
      if (n === null) return Errors.notInteger();
      if (n < 1n) return Errors.syntax();
      count = n > 1_000_000n ? 1_000_000 : Number(n);
    } else if (opt === 'MATCH') {
      f.pattern = patternOf(args[i + 1]!);
    } else if (opt === 'TYPE') {
      f.type = args[i + 1]!.toString('latin1').toLowerCase();
    } else {
      return Errors.syntax();
    }
  }
  const cursors = cursorsOf(c.server);
  let after: Buffer | undefined;
  // A cursor this server did not give (or no longer remembers: another server before a
  // failover, a restart) starts the walk over: Redis takes any number, and a client's
  // SCAN loop goes on, getting every key present throughout at least once.
  if (cursor !== 0n) after = cursors.get(cursor.toString());
  const db = c.session.db;
  const reply = (keys: Buffer[], last: Buffer | undefined): Reply => [
    Buffer.from(last === undefined ? '0' : cursors.add(last)),
    keys,
  ];
  if (db.complete && db.entries.size <= MEMORY_SCAN_LIMIT) {
    const now = Date.now();
    const from = after?.toString('latin1');
    // [indexed form, name, type]: walked in the order of PostgreSQL's index
    const names: Array<[string, string, KeyType]> = [];
    for (const e of db.entries.values()) {
      if (!isLive(e, now)) continue;
      const form = indexedFormOf(e.name);
      if (from === undefined || form > from) names.push([form, e.name, e.type!]);
    }
    names.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    const page = names.slice(0, count);
    const out: Buffer[] = [];
    for (const [, name, type] of page) if (matches(f, name, type)) out.push(Buffer.from(name, 'latin1'));
    const done = names.length <= count;
    return reply(out, done ? undefined : Buffer.from(page[page.length - 1]![0], 'latin1'));
  }
  const walk = async (): Promise<Reply> => {
    await c.server.storedKeys.durable(db.index);
    // COUNT up to a million: read KEYS_PAGE rows at a time, the reply kept encoded (as KEYS)
    const out = new BulkArrayBuilder();
    let taken = 0;
    let last: Buffer | undefined = after;
    for (;;) {
      const want = Math.min(KEYS_PAGE, count - taken);
      const rows = await pageFromStorage(c, db, last, f, want);
      for (const r of rows) if (f.pattern === undefined || globMatch(f.pattern, r.key)) out.add(r.key);
      taken += rows.length;
      if (rows.length > 0) last = rows[rows.length - 1]!.form;
      if (rows.length < want) return [Buffer.from('0'), out.reply()];
      if (taken === count) return [Buffer.from(cursors.add(last!)), out.reply()];
    }
  };
  // a big COUNT builds a big reply: one such walk at a time, as KEYS's
  return count > KEYS_PAGE ? oneWalkAtATime(c, walk) : walk();
}

function randomKey(c: CommandContext): Reply | Promise<Reply> {
  const db = c.session.db;
  if (db.complete && db.entries.size <= MEMORY_RANDOM_LIMIT) {
    const size = db.entries.size;
    if (size === 0) return null;
    const now = Date.now();
    // Start at a random position and take the first live key from there, wrapping.
    const start = Math.floor(Math.random() * size);
    let i = 0;
    let first: Entry | undefined;
    for (const e of db.entries.values()) {
      if (!isLive(e, now)) {
        i++;
        continue;
      }
      if (i++ >= start) return Buffer.from(e.name, 'latin1');
      first ??= e;
    }
    return first ? Buffer.from(first.name, 'latin1') : null;
  }
  return randomFromStorage(c, db);
}

async function randomFromStorage(c: CommandContext, db: Db): Promise<Reply> {
  await c.server.storedKeys.durable(db.index);
  return (await c.server.storedKeys.random(db.index)) ?? null;
}

// --------------------------------------------------- db-wide commands

function flushOption(args: Buffer[]): ErrorReply | undefined {
  if (args.length > 2) return Errors.syntax();
  if (args.length === 2) {
    const opt = keyword(args[1]!);
    if (opt !== 'ASYNC' && opt !== 'SYNC') return Errors.syntax();
  }
  return undefined;
}

function flushdb(c: CommandContext, args: Buffer[]): Reply {
  const bad = flushOption(args);
  if (bad) return bad;
  const ks = c.keyspace;
  ks.flushDb(c.session.db, ks.reportDb(c.session.db.index, 'flushdb', ['FLUSHDB']));
  return OK;
}

function flushall(c: CommandContext, args: Buffer[]): Reply {
  const bad = flushOption(args);
  if (bad) return bad;
  const ks = c.keyspace;
  const seq = ks.reportDb(c.session.db.index, 'flushall', ['FLUSHALL']);
  for (const db of ks.dbs) ks.flushDb(db, seq);
  return OK;
}

function swapdb(c: CommandContext, args: Buffer[]): Reply {
  const ks = c.keyspace;
  const i = int32Arg(args[1]!, 'invalid first DB index');
  const j = int32Arg(args[2]!, 'invalid second DB index');
  const a = i >= 0 ? ks.dbs[i] : undefined;
  const b = j >= 0 ? ks.dbs[j] : undefined;
  if (a === undefined || b === undefined) return Errors.dbIndex();
  if (a === b) return OK;
  ks.swapDb(a, b, ks.reportDb(i, 'swapdb', ['SWAPDB', String(i), String(j)], j));
  // A client keeps its db index and sees the data now there, as in Redis;
  // so does the session running this, which may have no connection (the replication applier).
  for (const other of new Set([...c.server.sessions.values(), c.session])) {
    if (other.db === a) other.db = b;
    else if (other.db === b) other.db = a;
  }
  return OK;
}

// ------------------------------------------------------------------- table

const ONE_KEY = { first: 1, last: 1, step: 1 };
const ALL_KEYS = { first: 1, last: -1, step: 1 };
const TWO_KEYS = { first: 1, last: 2, step: 1 };
const OBJECT_KEY = { first: 2, last: 2, step: 1 };

function expireDef(name: ExpireCommand, since: string, summary: string): CommandDef {
  return {
    name, arity: -3, flags: ['write', 'fast'], keys: ONE_KEY, access: metaOnly, group: 'generic', since, summary,
    complexity: 'O(1)', handler: (c, args) => expireGeneric(c, args, name),
  };
}

function ttlDef(name: string, since: string, summary: string, ms: boolean, absolute: boolean): CommandDef {
  return {
    name, arity: 2, flags: ['readonly', 'fast'], keys: ONE_KEY, access: metaOnly, group: 'generic', since, summary,
    complexity: 'O(1)', handler: (c, args) => ttlGeneric(c, args, ms, absolute),
  };
}

export const keysCommands: CommandDef[] = [
  {
    name: 'del', arity: -2, flags: ['write'], keys: ALL_KEYS, access: metaOnly, group: 'generic', since: '1.0.0',
    summary: 'Delete a key',
    complexity: 'O(N) where N is the number of keys that will be removed. Talus retires each key in O(1); the rows of collections are deleted in the background.',
    handler: (c, args) => del(c, args, 'DEL'),
  },
  {
    name: 'unlink', arity: -2, flags: ['write', 'fast'], keys: ALL_KEYS, access: metaOnly, group: 'generic', since: '4.0.0',
    summary: 'Delete a key asynchronously in another thread. Otherwise it is just as DEL, but non blocking.',
    complexity: 'O(1) for each key removed regardless of its size. Then the command does O(N) work in a different thread in order to reclaim memory, where N is the number of allocations the deleted objects where composed of.',
    handler: (c, args) => del(c, args, 'UNLINK'),
  },
  {
    name: 'exists', arity: -2, flags: ['readonly', 'fast'], keys: ALL_KEYS, access: metaOnly, group: 'generic', since: '1.0.0',
    summary: 'Determine if a key exists', complexity: 'O(N) where N is the number of keys to check.', handler: exists,
  },
  {
    name: 'type', arity: 2, flags: ['readonly', 'fast'], keys: ONE_KEY, access: metaOnly, group: 'generic', since: '1.0.0',
    summary: 'Determine the type stored at key', complexity: 'O(1)',
    handler: (c, args) => new SimpleString(peek(c, c.session.db, args[1]!.toString('latin1'))?.type ?? 'none'),
  },
  expireDef('expire', '1.0.0', "Set a key's time to live in seconds"),
  expireDef('pexpire', '2.6.0', "Set a key's time to live in milliseconds"),
  expireDef('expireat', '1.2.0', 'Set the expiration for a key as a UNIX timestamp'),
  expireDef('pexpireat', '2.6.0', 'Set the expiration for a key as a UNIX timestamp specified in milliseconds'),
  ttlDef('ttl', '1.0.0', 'Get the time to live for a key in seconds', false, false),
  ttlDef('pttl', '2.6.0', 'Get the time to live for a key in milliseconds', true, false),
  ttlDef('expiretime', '7.0.0', 'Get the expiration Unix timestamp for a key', false, true),
  ttlDef('pexpiretime', '7.0.0', 'Get the expiration Unix timestamp for a key in milliseconds', true, true),
  {
    name: 'persist', arity: 2, flags: ['write', 'fast'], keys: ONE_KEY, access: metaOnly, group: 'generic', since: '2.2.0',
    summary: 'Remove the expiration from a key', complexity: 'O(1)', handler: persist,
  },
  {
    name: 'keys', arity: 2, flags: ['readonly'], categories: ['dangerous'], group: 'generic', since: '1.0.0',
    summary: 'Find all keys matching the given pattern',
    complexity: 'O(N) with N being the number of keys in the database, under the assumption that the key names in the database and the given pattern have limited length.',
    handler: keys,
  },
  {
    name: 'scan', arity: -2, flags: ['readonly'], group: 'generic', since: '2.8.0',
    summary: 'Incrementally iterate the keys space',
    complexity: 'O(1) for every call. O(N) for a complete iteration, including enough command calls for the cursor to return back to 0. N is the number of elements inside the collection.',
    handler: scan,
  },
  {
    name: 'randomkey', arity: 1, flags: ['readonly'], group: 'generic', since: '1.0.0',
    summary: 'Return a random key from the keyspace', complexity: 'O(1)', handler: randomKey,
  },
  {
    name: 'rename', arity: 3, flags: ['write'], keys: TWO_KEYS, access: metaOnly, group: 'generic', since: '1.0.0',
    summary: 'Rename a key', complexity: 'O(1)', handler: (c, args) => rename(c, args, false),
  },
  {
    name: 'renamenx', arity: 3, flags: ['write', 'fast'], keys: TWO_KEYS, access: metaOnly, group: 'generic', since: '1.0.0',
    summary: 'Rename a key, only if the new key does not exist', complexity: 'O(1)',
    handler: (c, args) => rename(c, args, true),
  },
  {
    name: 'move', arity: 3, flags: ['write', 'fast'], keys: ONE_KEY, keyRefs: moveKeyRefs, group: 'generic',
    since: '1.0.0', summary: 'Move a key to another database', complexity: 'O(1)', handler: move,
  },
  {
    name: 'copy', arity: -3, flags: ['write', 'denyoom'], keys: TWO_KEYS, keyRefs: copyKeyRefs, group: 'generic',
    since: '6.2.0', summary: 'Copy a key',
    complexity: 'O(N) worst case for collections, where N is the number of nested items. O(1) for string values.',
    handler: copy,
  },
  {
    name: 'touch', arity: -2, flags: ['readonly', 'fast'], keys: ALL_KEYS, access: metaOnly, group: 'generic', since: '3.2.1',
    summary: 'Alters the last access time of a key(s). Returns the number of existing keys specified.',
    complexity: 'O(N) where N is the number of keys that will be touched.', handler: touch,
  },
  {
    name: 'object', arity: -2, flags: [], group: 'generic', since: '2.2.3',
    summary: 'A container for object introspection commands', complexity: 'Depends on subcommand.',
    subcommands: [
      {
        name: 'encoding', arity: 3, flags: ['readonly'], keys: OBJECT_KEY, access: metaOnly, group: 'generic', since: '2.2.3',
        summary: 'Inspect the internal encoding of a Redis object', complexity: 'O(1)',
        handler: (c, args) => {
          const e = objectKey(c, args);
          return e === undefined ? null : Buffer.from(encodingOf(c, e));
        },
      },
      {
        name: 'freq', arity: 3, flags: ['readonly'], keys: OBJECT_KEY, access: metaOnly, group: 'generic', since: '4.0.0',
        summary: 'Get the logarithmic access frequency counter of a Redis object', complexity: 'O(1)',
        handler: (c, args) => {
          const e = objectKey(c, args);
          if (e === undefined) return null;
          if (!c.config.values.maxmemoryPolicy.includes('lfu')) return new ErrorReply(LFU_OFF);
          return lfuCounter(e, c.keyspace.lfu);
        },
      },
      {
        name: 'idletime', arity: 3, flags: ['readonly'], keys: OBJECT_KEY, access: metaOnly, group: 'generic', since: '2.2.3',
        summary: 'Get the time since a Redis object was last accessed', complexity: 'O(1)',
        handler: (c, args) => {
          const e = objectKey(c, args);
          if (e === undefined) return null;
          if (c.config.values.maxmemoryPolicy.includes('lfu')) return new ErrorReply(LFU_ON);
          return Math.max(0, Math.floor((Date.now() - e.lastAccess) / 1000));
        },
      },
      {
        name: 'refcount', arity: 3, flags: ['readonly'], keys: OBJECT_KEY, access: metaOnly, group: 'generic', since: '2.2.3',
        summary: 'Get the number of references to the value of the key', complexity: 'O(1)',
        handler: (c, args) => (objectKey(c, args) === undefined ? null : 1),
      },
      {
        name: 'help', arity: 2, flags: ['loading', 'stale'], group: 'generic', since: '6.2.0',
        summary: 'Show helpful text about the different subcommands', complexity: 'O(1)',
        handler: () => OBJECT_HELP.map((line) => new SimpleString(line)),
      },
    ],
  },
  {
    name: 'dbsize', arity: 1, flags: ['readonly', 'fast'], categories: ['keyspace'], group: 'server', since: '1.0.0',
    summary: 'Return the number of keys in the selected database', complexity: 'O(1)',
    handler: (c) => c.session.db.count,
  },
  {
    name: 'flushdb', arity: -1, flags: ['write'], categories: ['keyspace', 'dangerous'], group: 'server', since: '1.0.0',
    summary: 'Remove all keys from the current database',
    complexity: 'O(1): the keys are deleted from PostgreSQL in one statement and their values in the background.',
    handler: flushdb,
  },
  {
    name: 'flushall', arity: -1, flags: ['write'], categories: ['keyspace', 'dangerous'], group: 'server', since: '1.0.0',
    summary: 'Remove all keys from all databases',
    complexity: 'O(1) per database: the keys are deleted from PostgreSQL in one statement and their values in the background.',
    handler: flushall,
  },
  {
    name: 'swapdb', arity: 3, flags: ['write', 'fast'], categories: ['keyspace', 'dangerous'], group: 'server', since: '4.0.0',
    summary: 'Swaps two Redis databases',
    complexity: 'O(N) where N is the count of clients watching or blocking on keys from both databases.',
    handler: swapdb,
  },
];
