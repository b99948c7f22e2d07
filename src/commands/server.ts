/**
 * Server and introspection commands: INFO, CONFIG, COMMAND, SLOWLOG, TIME,
 * LASTSAVE, SAVE/BGSAVE/BGREWRITEAOF, SHUTDOWN, MONITOR, ROLE, FUNCTION (no
 * functions yet), DEBUG (the honest subset). Redis 7.0 replies and errors.
 *
 * Persistence commands: Talus writes every change through to PostgreSQL
 * continuously, so there is no snapshot to take. SAVE answers once everything
 * changed so far is committed; BGSAVE takes a full backup when backups are
 * configured (docs/backup.md), else it starts that wait and answers at once;
 * BGREWRITEAOF has nothing to rewrite and only says it started.
 */
import type { CommandDef, Command, Handler } from './table.js';
import { Errors } from './errors.js';
import { helpReply } from './help.js';
import {
  BoolReply,
  DoubleReply,
  ErrorReply,
  MapReply,
  OK,
  PushReply,
  RawReply,
  SetReply,
  SimpleString,
  VerbatimReply,
  type Reply,
} from '../protocol/reply.js';
import { int64Arg, keyword } from './args.js';
import { parseInteger } from '../util/numbers.js';
import { globMatch } from '../util/glob.js';
import { ConfigError } from '../config/store.js';
import { lookupOption } from '../config/schema.js';
import { runtimeOf, startSampler } from '../observability/info.js';
import type { CommandContext } from '../execution/context.js';
import { metaOnly } from '../keyspace/paging.js';
import type { ServerControl } from '../execution/context.js';
import { docsFromSpec, infoFromSpec } from './command-docs.js';
import { keysFromSpec, specHasKeys } from './spec-keys.js';

const b = (s: string) => Buffer.from(s);
const str = (a: Buffer) => a.toString();

// ---------------------------------------------------------------------------
// Shared helpers
// ---------------------------------------------------------------------------


/** Whether the client connects from the loopback interface (or a Unix socket). */
export function isLocalClient(c: CommandContext): boolean {
  if (c.connection === undefined || c.connection.viaUnixSocket) return true;
  const a = c.connection.remoteAddress ?? '';
  return a === '::1' || a.startsWith('127.') || a.startsWith('::ffff:127.');
}

/** Mark everything written so far as saved (SAVE/BGSAVE finished). */
function markSaved(t: ServerControl, startedAt: number): void {
  const r = runtimeOf(t);
  r.saves++;
  r.lastBgsaveOk = true;
  r.lastBgsaveSecs = Math.round((Date.now() - startedAt) / 1000);
  t.lastSave = Math.floor(Date.now() / 1000);
}

/** Runtime effects of CONFIG SET, the INFO sampler. Called once per server. */
export function installServerHooks(t: ServerControl): void {
  const cfg = t.config;
  runtimeOf(t);
  startSampler(t);
  cfg.onChange('proto-max-bulk-len', (v) => {
    for (const s of t.sessions.values()) s.connection?.setRequestLimits({ maxBulkLen: Number(v) });
  });
  cfg.onChange('client-query-buffer-limit', (v) => {
    for (const s of t.sessions.values()) s.connection?.setRequestLimits({ maxQueryBuffer: Number(v) });
  });
  cfg.onChange('maxmemory', (v) => {
    // A lower limit makes room right away (noeviction keeps every key
    // resident); not synchronously: inside EXEC the transaction's keys are
    // resident but not claimed, and must stay until it ends.
    const limit = Number(v);
    if (limit > 0 && t.keyspace && t.keyspace.bytes > limit && t.config.values.maxmemoryPolicy !== 'noeviction') {
      setImmediate(() => t.evict());
    }
  });
  cfg.onChange('slowlog-max-len', (v) => {
    const max = Number(v);
    if (t.slowlog.entries.length > max) t.slowlog.entries.length = Math.max(0, max);
  });
}

// ---------------------------------------------------------------------------
// INFO, TIME, LASTSAVE, ROLE
// ---------------------------------------------------------------------------

function info(c: CommandContext, args: Buffer[]): Reply {
  return new VerbatimReply('txt', c.server.info(args.slice(1).map(str)));
}

function time(): Reply {
  const usec = BigInt(Math.round((performance.timeOrigin + performance.now()) * 1000));
  return [b((usec / 1_000_000n).toString()), b((usec % 1_000_000n).toString())];
}

function role(c: CommandContext): Reply {
  return c.server.replication.roleReply();
}

// ---------------------------------------------------------------------------
// SAVE, BGSAVE, BGREWRITEAOF, SHUTDOWN, MONITOR
// ---------------------------------------------------------------------------

async function save(c: CommandContext): Promise<Reply> {
  const t = c.server;
  const seq = t.keyspace.changelog.seq;
  const started = Date.now();
  try {
    await t.persistence.waitDurable(seq);
  } catch (err) {
    runtimeOf(t).lastBgsaveOk = false;
    return Errors.persistence((err as Error).message);
  }
  markSaved(t, started);
  return OK;
}

function bgsave(c: CommandContext, args: Buffer[]): Reply {
  let schedule = false;
  if (args.length > 2) return Errors.syntax();
  if (args.length === 2) {
    if (keyword(args[1]!) !== 'SCHEDULE') return Errors.syntax();
    schedule = true;
  }
  const t = c.server;
  if (t.backups.configured) {
    // a full backup (pg_dump and manifest, src/backup): its state is the backup service's
    if (t.backups.startBackup(schedule)) return new SimpleString('Background saving started');
    return schedule ? new SimpleString('Background saving scheduled') : new ErrorReply('ERR Background save already in progress');
  }
  const r = runtimeOf(t);
  if (r.bgsaveInProgress) {
    return schedule ? new SimpleString('Background saving scheduled') : new ErrorReply('ERR Background save already in progress');
  }
  const seq = t.keyspace.changelog.seq;
  const started = Date.now();
  r.bgsaveInProgress = true;
  r.bgsaveStartedAt = started;
  t.persistence.waitDurable(seq).then(
    () => markSaved(t, started),
    () => (r.lastBgsaveOk = false),
  ).finally(() => (r.bgsaveInProgress = false));
  return new SimpleString('Background saving started');
}

function shutdown(c: CommandContext, args: Buffer[]): Reply | Promise<Reply> {
  const flags = new Set<string>();
  for (let i = 1; i < args.length; i++) {
    const k = keyword(args[i]!);
    if (!['NOSAVE', 'SAVE', 'NOW', 'FORCE', 'ABORT'].includes(k)) return Errors.syntax();
    flags.add(k);
  }
  if ((flags.has('ABORT') && args.length > 2) || (flags.has('SAVE') && flags.has('NOSAVE'))) return Errors.syntax();
  // Nothing waits before exiting (no replica catch-up), so there is never a shutdown to abort.
  if (flags.has('ABORT')) return new ErrorReply('ERR No shutdown in progress.');
  const t = c.server;
  // Talus always commits what it holds before exiting; it refuses only when
  // PostgreSQL is unreachable (like Redis failing its final save) unless told.
  if (!t.persistence.healthy && !flags.has('NOSAVE') && !flags.has('FORCE')) {
    t.log.warning('SHUTDOWN refused: PostgreSQL is unreachable (use SHUTDOWN NOSAVE or FORCE)');
    return new ErrorReply('ERR Errors trying to SHUTDOWN. Check logs.');
  }
  t.log.notice('User requested shutdown...');
  t.onShutdownRequest();
  // No reply: the connection closes when the server goes away.
  return new Promise<Reply>(() => undefined);
}

function monitor(c: CommandContext): Reply {
  if (c.session.inExec) return new ErrorReply('ERR MONITOR isn\'t allowed for DENY BLOCKING client');
  if (c.connection!.monitor) return OK;
  c.connection!.monitor = true;
  c.server.monitors.add(c.session);
  return OK;
}

// ---------------------------------------------------------------------------
// CONFIG
// ---------------------------------------------------------------------------

function configGet(c: CommandContext, args: Buffer[]): Reply {
  const pairs = c.config.get(args.slice(2).map(str));
  return new MapReply(pairs.map(([k, v]): [Reply, Reply] => [b(k), b(v)]));
}

function configSet(c: CommandContext, args: Buffer[]): Reply | Promise<Reply> {
  if ((args.length - 2) % 2 !== 0) return Errors.arity('config|set');
  const cfg = c.config;
  const pairs: Array<[string, string]> = [];
  for (let i = 2; i < args.length; i += 2) {
    const name = str(args[i]!);
    const value = str(args[i + 1]!);
    // Setting an option that cannot change at run time to the value it has is
    // a harmless no-op (tools that save and restore CONFIG GET * rely on it).
    const def = lookupOption(name);
    if (def && !def.mutable && cfg.getOne(name) === value && !pairs.some(([n]) => lookupOption(n) === def)) continue;
    pairs.push([name, value]);
  }
  if (pairs.length === 0) return OK;
  // A new port is listened on first, so that a port in use fails the whole CONFIG SET.
  const port = pairs.find(([n]) => lookupOption(n)?.name === 'port');
  const wanted = port !== undefined && /^[0-9]+$/.test(port[1]) ? Number(port[1]) : undefined;
  if (wanted === undefined || wanted > 65535 || String(wanted) === cfg.getOne('port')) return applyConfig(c, pairs);
  return c.server.prepareListen(wanted).then(
    () => {
      const reply = applyConfig(c, pairs);
      if (reply instanceof ErrorReply) c.server.abandonListen();
      return reply;
    },
    (err: Error) => new ErrorReply(`ERR CONFIG SET failed (possibly related to argument '${port![0]}') - ${err.message}`),
  );
}

function applyConfig(c: CommandContext, pairs: Array<[string, string]>): Reply {
  try {
    c.config.set(pairs);
  } catch (err) {
    if (err instanceof ConfigError) return new ErrorReply(err.message.startsWith('ERR') ? err.message : `ERR ${err.message}`);
    throw err;
  }
  return OK;
}

async function configRewrite(c: CommandContext): Promise<Reply> {
  try {
    await c.config.rewrite();
  } catch (err) {
    const msg = (err as Error).message;
    return new ErrorReply(msg.startsWith('ERR') ? msg : `ERR ${msg}`);
  }
  c.server.log.notice('CONFIG REWRITE executed with success.');
  return OK;
}

function configResetStat(c: CommandContext): Reply {
  resetStats(c.server);
  return OK;
}

/** CONFIG RESETSTAT: command, error, keyspace and network counters. */
export function resetStats(t: ServerControl): void {
  for (const cmd of t.commands.all()) {
    resetCommandStats(cmd);
    for (const sub of cmd.subcommands.values()) resetCommandStats(sub);
  }
  const s = t.stats;
  s.connectionsReceived = 0;
  s.commandsProcessed = 0;
  s.rejectedConnections = 0;
  s.errorReplies = 0;
  s.netInputBytes = 0;
  s.netOutputBytes = 0;
  t.errorCounts.clear();
  t.latencyTracker.reset();
  if (t.keyspace) {
    const ks = t.keyspace.stats;
    ks.hits = 0;
    ks.misses = 0;
    ks.expired = 0;
    ks.evicted = 0;
  }
  runtimeOf(t).samples.length = 0;
}

function resetCommandStats(cmd: Command): void {
  cmd.stats.calls = 0;
  cmd.stats.usec = 0;
  cmd.stats.rejected = 0;
  cmd.stats.failed = 0;
}

const CONFIG_HELP = [
  'GET <pattern>',
  '    Return parameters matching the glob-like <pattern> and their values.',
  'SET <directive> <value>',
  '    Set the configuration <directive> to <value>.',
  'RESETSTAT',
  '    Reset statistics reported by the INFO command.',
  'REWRITE',
  '    Rewrite the configuration file.',
];

// ---------------------------------------------------------------------------
// SLOWLOG
// ---------------------------------------------------------------------------

function slowlogGet(c: CommandContext, args: Buffer[]): Reply {
  const entries = c.server.slowlog.entries;
  let count = 10;
  if (args.length === 3) {
    const n = parseInteger(args[2]!);
    if (n === null || n < -1n) return new ErrorReply('ERR count should be greater than or equal to -1');
    count = n === -1n ? entries.length : Number(n > BigInt(entries.length) ? BigInt(entries.length) : n);
  } else if (args.length > 3) {
    return Errors.arity('slowlog|get');
  }
  return entries.slice(0, count).map((e) => [e.id, e.time, e.usec, e.args, b(e.addr), b(e.name)]);
}

const SLOWLOG_HELP = [
  'GET [<count>]',
  '    Return top <count> entries from the slowlog (default: 10, -1 mean all).',
  '    Entries are made of:',
  '    id, timestamp, time in microseconds, arguments array, client IP and port,',
  '    client name',
  'LEN',
  '    Return the length of the slowlog.',
  'RESET',
  '    Reset the slowlog.',
];

// ---------------------------------------------------------------------------
// COMMAND
// ---------------------------------------------------------------------------

/** Key-spec flags of a Talus extension's keys (Redis's commands have theirs in their spec). */
function keyFlags(cmd: Command): string[] {
  const f = cmd.def.flags;
  if (f.includes('write')) return ['RW', 'access', 'update'];
  if (f.includes('readonly')) return ['RO', 'access'];
  return ['RO'];
}

const setOf = (items: string[]) => new SetReply(items.map((s) => new SimpleString(s)));
const map = (entries: Array<[string, Reply]>) => new MapReply(entries.map(([k, v]): [Reply, Reply] => [b(k), v]));

function hasKeys(cmd: Command): boolean {
  const d = cmd.def;
  return (d.keys !== undefined && d.keys.first > 0) || d.movableKeys !== undefined || d.keyRefs !== undefined;
}

function isMovable(cmd: Command): boolean {
  return cmd.def.movableKeys !== undefined || cmd.def.flags.includes('movablekeys');
}

function keySpecs(cmd: Command): Reply[] {
  const k = cmd.def.keys;
  if (k && k.first > 0) {
    const lastkey = k.last < 0 ? k.last : k.last - k.first;
    return [
      map([
        ['flags', setOf(keyFlags(cmd))],
        ['begin_search', map([['type', b('index')], ['spec', map([['index', k.first]])]])],
        ['find_keys', map([['type', b('range')], ['spec', map([['lastkey', lastkey], ['keystep', k.step], ['limit', 0]])]])],
      ]),
    ];
  }
  if (isMovable(cmd) || cmd.def.keyRefs) {
    return [
      map([
        ['flags', setOf(keyFlags(cmd))],
        ['begin_search', map([['type', b('unknown')], ['spec', map([])]])],
        ['find_keys', map([['type', b('unknown')], ['spec', map([])]])],
      ]),
    ];
  }
  return [];
}

/** One COMMAND INFO entry (Redis 7 layout): Redis's data, or derived from the row for a Talus extension. */
export function commandInfo(cmd: Command): Reply {
  if (cmd.spec) return infoFromSpec(cmd.fullName, cmd.spec, [...cmd.subcommands.values()].map(commandInfo));
  const flags: string[] = [...cmd.def.flags];
  if (cmd.def.movableKeys && !flags.includes('movablekeys')) flags.push('movablekeys');
  const k = cmd.def.keys;
  const first = k && k.first > 0 ? k.first : 0;
  const last = k && k.first > 0 ? k.last : 0;
  const step = k && k.first > 0 ? k.step : 0;
  return [
    b(cmd.fullName),
    cmd.def.arity,
    setOf(flags),
    first,
    last,
    step,
    setOf(cmd.categories),
    new SetReply([]),
    new SetReply(keySpecs(cmd)),
    // the RESP3 types Redis 7.0 uses: a container's subcommands an array, none an empty set
    cmd.subcommands.size > 0 ? [...cmd.subcommands.values()].map(commandInfo) : new SetReply([]),
  ];
}

function commandDocs(cmd: Command): Reply {
  if (cmd.spec) return docsFromSpec(cmd.spec, [...cmd.subcommands.values()].map((s): [string, Reply] => [s.fullName, commandDocs(s)]));
  const d = cmd.def;
  const fields: Array<[string, Reply]> = [['summary', b(d.summary)], ['since', b(d.since)], ['group', b(d.group)]];
  if (d.complexity) fields.push(['complexity', b(d.complexity)]);
  if (cmd.subcommands.size > 0) {
    fields.push(['subcommands', map([...cmd.subcommands.values()].map((s): [string, Reply] => [s.fullName, commandDocs(s)]))]);
  }
  return map(fields);
}

/** A command or `container|sub` by name, or undefined. */
function findCommand(t: ServerControl, name: string): Command | undefined {
  const parts = name.toLowerCase().split('|');
  if (parts.length > 2) return undefined;
  const cmd = t.commands.lookup(parts[0]!);
  if (!cmd || parts.length === 1) return cmd;
  return cmd.subcommands.get(parts[1]!);
}

function allCommandsAndSubs(t: ServerControl): Command[] {
  const out: Command[] = [];
  for (const c of t.commands.all()) {
    out.push(c);
    for (const s of c.subcommands.values()) out.push(s);
  }
  return out;
}

function commandList(c: CommandContext, args: Buffer[]): Reply {
  const t = c.server;
  if (args.length === 2) return allCommandsAndSubs(t).map((x) => b(x.fullName));
  if (args.length !== 5 || keyword(args[2]!) !== 'FILTERBY') return Errors.syntax();
  const kind = keyword(args[3]!);
  const value = args[4]!;
  let pick: (x: Command) => boolean;
  if (kind === 'MODULE') pick = () => false;
  else if (kind === 'ACLCAT') {
    const cat = `@${value.toString().toLowerCase()}`;
    pick = (x) => x.categories.includes(cat);
  } else if (kind === 'PATTERN') pick = (x) => globMatch(value, b(x.fullName), true);
  else return Errors.syntax();
  return allCommandsAndSubs(t).filter(pick).map((x) => b(x.fullName));
}

/** COMMAND GETKEYS / GETKEYSANDFLAGS: the target command and the indices of its keys. */
interface ResolvedKeys {
  cmd: Command;
  argv: Buffer[];
  idx: number[];
  flags: string[][];
}

function resolveKeys(c: CommandContext, args: Buffer[]): ResolvedKeys | ErrorReply {
  const argv = args.slice(2);
  let cmd = c.server.commands.lookup(argv[0]!);
  if (!cmd) return new ErrorReply('ERR Invalid command specified');
  if (cmd.subcommands.size > 0 && argv.length > 1) {
    const sub = cmd.subcommands.get(argv[1]!.toString('latin1').toLowerCase());
    if (!sub) return new ErrorReply('ERR Invalid command specified');
    cmd = sub;
  }
  if (cmd.spec) return keysBySpec(cmd, argv);
  if (!hasKeys(cmd)) return new ErrorReply('ERR The command has no key arguments');
  if (!cmd.arityOk(argv.length)) return new ErrorReply('ERR Invalid number of arguments specified for command');
  let idx: number[];
  if (cmd.def.movableKeys || (cmd.def.keys && cmd.def.keys.first > 0)) idx = cmd.keyIndices(argv);
  else {
    // keyRefs-only commands: report the arguments that name the keys it needs
    const names = new Set(cmd.def.keyRefs!(c, argv).map((r) => r.name));
    idx = [];
    argv.forEach((a, i) => (i > 0 && names.has(a.toString('latin1')) ? idx.push(i) : undefined));
  }
  return { cmd, argv, idx, flags: idx.map(() => keyFlags(cmd)) };
}

/** GETKEYS for a command Redis has: by its key specs, with Redis's errors. */
function keysBySpec(cmd: Command, argv: Buffer[]): ResolvedKeys | ErrorReply {
  if (!specHasKeys(cmd.fullName, cmd.spec!)) return new ErrorReply('ERR The command has no key arguments');
  if (!cmd.arityOk(argv.length)) return new ErrorReply('ERR Invalid number of arguments specified for command');
  const ownPositions = cmd.def.movableKeys || (cmd.def.keys && cmd.def.keys.first > 0) ? cmd.keyIndices(argv) : [];
  const found = keysFromSpec(cmd.fullName, cmd.spec!, argv, ownPositions);
  // a command whose keys are optional (EVAL with no keys) has none rather than bad arguments
  if (found.length === 0 && !cmd.spec!.flags.includes('no_mandatory_keys')) return new ErrorReply('ERR Invalid arguments specified for command');
  return { cmd, argv, idx: found.map((k) => k.pos), flags: found.map((k) => k.flags) };
}

const COMMAND_HELP = [
  '(no subcommand)',
  '    Return details about all Redis commands.',
  'COUNT',
  '    Return the total number of commands in this Redis server.',
  'LIST',
  '    Return a list of all commands in this Redis server.',
  'INFO [<command-name> ...]',
  '    Return details about multiple Redis commands.',
  '    If no command names are given, documentation details for all',
  '    commands are returned.',
  'DOCS [<command-name> ...]',
  '    Return documentation details about multiple Redis commands.',
  '    If no command names are given, documentation details for all',
  '    commands are returned.',
  'GETKEYS <full-command>',
  '    Return the keys from a full Redis command.',
  'GETKEYSANDFLAGS <full-command>',
  '    Return the keys and the access flags from a full Redis command.',
];

// ---------------------------------------------------------------------------
// DEBUG
// ---------------------------------------------------------------------------

const DEBUG_NOT_ALLOWED =
  'ERR DEBUG command not allowed. If the enable-debug-command option is set to "local", you can run it from a local connection, otherwise you need to set this option in the configuration file, and then restart the server.';

const DEBUG_HELP = [
  'CHANGE-REPL-ID',
  '    Change the replication IDs of the instance.',
  '    Dangerous: should be used only for testing the replication subsystem.',
  'OBJECT <key>',
  '    Show low level info about the key and associated value.',
  'PROTOCOL <type>',
  '    Reply with a test value of the specified type. <type> can be: string,',
  '    integer, double, bignum, null, array, set, map, attrib, push, verbatim,',
  '    true, false.',
  'SET-ACTIVE-EXPIRE <0|1>',
  '    Setting it to 0 disables expiring keys in background when they are not',
  '    accessed (otherwise the Redis behavior). Setting it to 1 reenables back the',
  '    default.',
  'SLEEP <seconds>',
  '    Stop the server for <seconds>. Decimals allowed.',
];

function debug(c: CommandContext, args: Buffer[]): Reply {
  const t = c.server;
  const allowed = t.config.values.enableDebugCommand;
  if (allowed === 'no' || (allowed === 'local' && !isLocalClient(c))) return new ErrorReply(DEBUG_NOT_ALLOWED);
  const sub = keyword(args[1]!);
  if (sub === 'HELP' && args.length === 2) return helpReply('DEBUG', DEBUG_HELP);
  if (sub === 'SLEEP' && args.length === 3) {
    const secs = Number.parseFloat(str(args[2]!));
    const ms = Number.isFinite(secs) && secs > 0 ? secs * 1000 : 0;
    // Like Redis: the whole server stops for that long.
    if (ms > 0) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
    return OK;
  }
  if (sub === 'SET-ACTIVE-EXPIRE' && args.length === 3) {
    t.activeExpire = str(args[2]!) !== '0';
    return OK;
  }
  if (sub === 'CHANGE-REPL-ID' && args.length === 2) {
    t.replication.changeReplid();
    return OK;
  }
  if (sub === 'OBJECT' && args.length === 3) return debugObject(c, args[2]!);
  if (sub === 'PROTOCOL' && args.length === 3) return debugProtocol(c, str(args[2]!).toLowerCase());
  return Errors.subcommandSyntax(args[1]!, 'DEBUG');
}

/** DEBUG PROTOCOL <type>: one reply of each RESP type, for client tests. */
function debugProtocol(c: CommandContext, type: string): Reply {
  const resp3 = c.session.protocol === 3;
  switch (type) {
    case 'string': return b('Hello World');
    case 'integer': return 12345;
    case 'double': return new DoubleReply(3.141);
    case 'bignum': {
      const n = '1234567999999999999999999999999999999';
      return new RawReply(Buffer.from(resp3 ? `(${n}\r\n` : `$${n.length}\r\n${n}\r\n`));
    }
    case 'null': return null;
    case 'array': return [0, 1, 2];
    case 'set': return new SetReply([0, 1, 2]);
    case 'map': return new MapReply([[0, new BoolReply(false)], [1, new BoolReply(true)], [2, new BoolReply(false)]]);
    case 'attrib': {
      const text = 'Some real reply following the attribute';
      const attr = resp3 ? '|1\r\n$14\r\nkey-popularity\r\n*2\r\n$7\r\nkey:123\r\n:90\r\n' : '';
      return new RawReply(Buffer.from(`${attr}$${text.length}\r\n${text}\r\n`));
    }
    case 'push':
      if (!resp3) return new ErrorReply('ERR RESP2 is not supported by this command');
      c.connection!.push(new PushReply([b('server-cpu-usage'), 42]));
      return b('Some real reply following the push reply');
    case 'true': return new BoolReply(true);
    case 'false': return new BoolReply(false);
    case 'verbatim': return new VerbatimReply('txt', 'This is a verbatim\nstring');
    default:
      return new ErrorReply(
        'ERR Wrong protocol type name. Please use one of the following: string|integer|double|bignum|null|array|set|map|attrib|push|verbatim|true|false',
      );
  }
}

/** DEBUG OBJECT: Talus's view of the value (its own representation names for collections). */
function debugObject(c: CommandContext, key: Buffer): Reply {
  const e = c.keyspace.lookup(c.session.db, key.toString('latin1'));
  if (e === undefined || e.type === null) return Errors.noSuchKey();
  let encoding: string;
  let length: number;
  if (e.type === 'string') {
    const v = e.value as Buffer;
    length = v.length;
    encoding = v.length <= 20 && parseInteger(v) !== null ? 'int' : v.length <= 44 ? 'embstr' : 'raw';
  } else {
    encoding = { hash: 'hashtable', list: 'quicklist', set: 'hashtable', zset: 'skiplist', stream: 'stream' }[e.type];
    length = e.size;
  }
  const lru = Math.floor(e.lastAccess / 1000) & 0xffffff;
  const idle = Math.max(0, Math.floor((Date.now() - e.lastAccess) / 1000));
  return new SimpleString(
    `Value at:0x${e.keyId.toString(16)} refcount:1 encoding:${encoding} serializedlength:${length} lru:${lru} lru_seconds_idle:${idle}`,
  );
}

// ---------------------------------------------------------------------------
// The table
// ---------------------------------------------------------------------------

const ADMIN = ['admin', 'noscript', 'loading', 'stale'] as const;

export const serverCommands: CommandDef[] = [
  {
    name: 'info', arity: -1, flags: ['loading', 'stale'], categories: ['dangerous'], group: 'server', since: '1.0.0',
    summary: 'Returns information and statistics about the server.', complexity: 'O(1)', handler: info,
  },
  {
    name: 'time', arity: 1, flags: ['loading', 'stale', 'fast'], group: 'server', since: '2.6.0',
    summary: 'Returns the server time.', complexity: 'O(1)', handler: time,
  },
  {
    name: 'lastsave', arity: 1, flags: ['loading', 'stale', 'fast'], categories: ['admin', 'dangerous'], group: 'server',
    since: '1.0.0', summary: 'Returns the Unix timestamp of the last successful save to disk.', complexity: 'O(1)',
    handler: (c) => c.server.lastSave,
  },
  {
    name: 'role', arity: 1, flags: ['noscript', 'loading', 'stale', 'fast'], categories: ['admin', 'dangerous'],
    group: 'server', since: '2.8.12', summary: 'Returns the replication role.', complexity: 'O(1)', handler: role,
  },
  {
    name: 'save', arity: 1, flags: ['admin', 'noscript', 'no_multi'], group: 'server', since: '1.0.0',
    summary: 'Synchronously saves the database(s) to disk.', complexity: 'O(N) where N is the total number of keys in all databases',
    handler: save,
  },
  {
    name: 'bgsave', arity: -1, flags: ['admin', 'noscript'], group: 'server', since: '1.0.0',
    summary: 'Asynchronously saves the database(s) to disk.', complexity: 'O(N) where N is the total number of keys in all databases',
    handler: bgsave,
  },
  {
    name: 'bgrewriteaof', arity: 1, flags: ['admin', 'noscript'], group: 'server', since: '1.0.0',
    summary: 'Asynchronously rewrites the append-only file to disk.', complexity: 'O(1)',
    handler: () => new SimpleString('Background append only file rewriting started'),
  },
  {
    name: 'shutdown', arity: -1, flags: ['admin', 'noscript', 'loading', 'stale', 'no_multi', 'allow_busy'], group: 'server',
    since: '1.0.0', summary: 'Synchronously saves the database(s) to disk and shuts down the Redis server.',
    complexity: 'O(N) when saving, where N is the total number of keys in all databases when saving data, otherwise O(1)',
    handler: shutdown,
  },
  {
    name: 'monitor', arity: 1, flags: [...ADMIN], group: 'server', since: '1.0.0',
    summary: 'Listens for all requests received by the server in real-time.', handler: monitor,
  },
  {
    name: 'config', arity: -2, flags: [], group: 'server', since: '2.0.0',
    summary: 'A container for server configuration commands.', complexity: 'Depends on subcommand.',
    subcommands: [
      {
        name: 'get', arity: -3, flags: [...ADMIN], group: 'server', since: '2.0.0',
        summary: 'Returns the effective values of configuration parameters.',
        complexity: 'O(N) when N is the number of configuration parameters provided', handler: configGet,
      },
      {
        name: 'set', arity: -4, flags: [...ADMIN], group: 'server', since: '2.0.0',
        summary: 'Sets configuration parameters in-flight.',
        complexity: 'O(N) when N is the number of configuration parameters provided', handler: configSet,
      },
      {
        name: 'rewrite', arity: 2, flags: [...ADMIN], group: 'server', since: '2.8.0',
        summary: 'Persists the effective configuration to file.', complexity: 'O(1)', handler: configRewrite,
      },
      {
        name: 'resetstat', arity: 2, flags: [...ADMIN], group: 'server', since: '2.0.0',
        summary: 'Resets the server\'s statistics.', complexity: 'O(1)', handler: configResetStat,
      },
      {
        name: 'help', arity: 2, flags: ['loading', 'stale'], group: 'server', since: '5.0.0',
        summary: 'Returns helpful text about the different subcommands.', complexity: 'O(1)',
        handler: () => helpReply('CONFIG', CONFIG_HELP),
      },
    ],
  },
  {
    name: 'memory', arity: -2, flags: [], group: 'server', since: '4.0.0',
    summary: 'A container for memory diagnostics commands.', complexity: 'Depends on subcommand.',
    subcommands: [
      {
        name: 'usage', arity: -3, flags: ['readonly'], keys: { first: 2, last: 2, step: 1 }, access: metaOnly, group: 'server',
        since: '4.0.0', summary: 'Estimates the memory usage of a key.', complexity: 'O(1)',
        handler: (c, args) => {
          // as Redis: SAMPLES options in any number, each count an integer and not negative
          for (let j = 3; j < args.length; j += 2) {
            if (keyword(args[j]!) !== 'SAMPLES' || j + 1 >= args.length) return Errors.syntax();
            if (int64Arg(args[j + 1]!) < 0n) return Errors.syntax();
          }
          // The hot-set accounting of the key: what it costs resident in Talus.
          const e = c.keyspace.lookup(c.session.db, args[2]!.toString('latin1'));
          return e === undefined ? null : e.size;
        },
      },
      {
        name: 'stats', arity: 2, flags: [], group: 'server', since: '4.0.0',
        summary: 'Returns details about memory usage.', complexity: 'O(1)',
        handler: (c) => {
          const m = process.memoryUsage();
          return [
            Buffer.from('peak.allocated'), m.rss,
            Buffer.from('total.allocated'), m.rss,
            Buffer.from('dataset.bytes'), c.keyspace.bytes,
            Buffer.from('keys.count'), c.keyspace.dbs.reduce((n, d) => n + d.count, 0),
          ];
        },
      },
      {
        name: 'doctor', arity: 2, flags: [], group: 'server', since: '4.0.0',
        summary: 'Outputs a memory problems report.', complexity: 'O(1)',
        handler: () => Buffer.from('Hi Sam, I can\'t find any memory issue in your instance. I can only account for what occurs on this base.'),
      },
      {
        name: 'malloc-stats', arity: 2, flags: [], group: 'server', since: '4.0.0',
        summary: 'Returns the allocator statistics.', complexity: 'Depends on how much memory is allocated, could be slow',
        handler: () => Buffer.from('Stats not supported for the current allocator'),
      },
      {
        name: 'purge', arity: 2, flags: [], group: 'server', since: '4.0.0',
        summary: 'Asks the allocator to release memory.', complexity: 'Depends on how much memory is allocated, could be slow',
        handler: () => OK,
      },
      {
        name: 'help', arity: 2, flags: ['loading', 'stale'], group: 'server', since: '4.0.0',
        summary: 'Returns helpful text about the different subcommands.', complexity: 'O(1)',
        handler: () => helpReply('MEMORY', [
          'DOCTOR', '    Return memory problems reports.',
          'MALLOC-STATS', '    Return internal statistics report from the memory allocator.',
          'PURGE', '    Attempt to purge dirty pages for reclamation by the allocator.',
          'STATS', '    Return information about the memory usage of the server.',
          'USAGE <key> [SAMPLES <count>]', '    Return memory in bytes used by <key> and its value. Nested values are',
          '    sampled up to <count> times (default: 5, 0 means sample all).',
        ]),
      },
    ],
  },
  {
    name: 'slowlog', arity: -2, flags: [], group: 'server', since: '2.2.12',
    summary: 'A container for slow log commands.', complexity: 'Depends on subcommand.',
    subcommands: [
      {
        name: 'get', arity: -2, flags: ['admin', 'loading', 'stale'], group: 'server', since: '2.2.12',
        summary: 'Returns the slow log\'s entries.', complexity: 'O(N) where N is the number of entries returned',
        handler: slowlogGet,
      },
      {
        name: 'len', arity: 2, flags: ['admin', 'loading', 'stale'], group: 'server', since: '2.2.12',
        summary: 'Returns the number of entries in the slow log.', complexity: 'O(1)',
        handler: (c) => c.server.slowlog.entries.length,
      },
      {
        name: 'reset', arity: 2, flags: ['admin', 'loading', 'stale'], group: 'server', since: '2.2.12',
        summary: 'Clears all entries from the slow log.', complexity: 'O(N) where N is the number of entries in the slowlog',
        handler: (c) => {
          c.server.slowlog.reset();
          return OK;
        },
      },
      {
        name: 'help', arity: 2, flags: ['loading', 'stale'], group: 'server', since: '6.2.0',
        summary: 'Show helpful text about the different subcommands', complexity: 'O(1)',
        handler: () => helpReply('SLOWLOG', SLOWLOG_HELP),
      },
    ],
  },
  {
    name: 'command', arity: -1, flags: ['loading', 'stale'], group: 'server', since: '2.8.13', categories: ['connection'],
    summary: 'Returns detailed information about all commands.', complexity: 'O(N) where N is the total number of Redis commands',
    // with a subcommand, the executor runs the subcommand's handler
    handler: (c) => [...c.server.commands.all()].map(commandInfo),
    subcommands: [
      {
        name: 'count', arity: 2, flags: ['loading', 'stale'], group: 'server', since: '2.8.13', categories: ['connection'],
        summary: 'Returns a count of commands.', complexity: 'O(1)', handler: (c) => c.server.commands.size,
      },
      {
        name: 'list', arity: -2, flags: ['loading', 'stale'], group: 'server', since: '7.0.0', categories: ['connection'],
        summary: 'Returns a list of command names.', complexity: 'O(N) where N is the total number of Redis commands',
        handler: commandList,
      },
      {
        name: 'info', arity: -2, flags: ['loading', 'stale'], group: 'server', since: '2.8.13', categories: ['connection'],
        summary: 'Returns information about one, multiple or all commands.',
        complexity: 'O(N) where N is the number of commands to look up',
        handler: (c, args) => {
          if (args.length === 2) return [...c.server.commands.all()].map(commandInfo);
          return args.slice(2).map((a) => {
            const cmd = findCommand(c.server, a.toString('latin1'));
            return cmd ? commandInfo(cmd) : null;
          });
        },
      },
      {
        name: 'docs', arity: -2, flags: ['loading', 'stale'], group: 'server', since: '7.0.0', categories: ['connection'],
        summary: 'Returns documentary information about one, multiple or all commands.',
        complexity: 'O(N) where N is the number of commands to look up',
        handler: (c, args) => {
          const cmds = args.length === 2
            ? [...c.server.commands.all()]
            : args.slice(2).map((a) => findCommand(c.server, a.toString('latin1'))).filter((x): x is Command => x !== undefined);
          return map(cmds.map((x): [string, Reply] => [x.fullName, commandDocs(x)]));
        },
      },
      {
        name: 'getkeys', arity: -3, flags: ['loading', 'stale'], group: 'server', since: '2.8.13', categories: ['connection'],
        summary: 'Extracts the key names from an arbitrary command.', complexity: 'O(N) where N is the number of arguments to the command',
        handler: (c, args) => {
          const r = resolveKeys(c, args);
          if (r instanceof ErrorReply) return r;
          return r.idx.map((i) => r.argv[i]!);
        },
      },
      {
        name: 'getkeysandflags', arity: -3, flags: ['loading', 'stale'], group: 'server', since: '7.0.0', categories: ['connection'],
        summary: 'Extracts the key names and access flags for an arbitrary command.',
        complexity: 'O(N) where N is the number of arguments to the command',
        handler: (c, args) => {
          const r = resolveKeys(c, args);
          if (r instanceof ErrorReply) return r;
          return r.idx.map((i, n) => [r.argv[i]!, setOf(r.flags[n]!)]);
        },
      },
      {
        name: 'help', arity: 2, flags: ['loading', 'stale'], group: 'server', since: '5.0.0', categories: ['connection'],
        summary: 'Returns helpful text about the different subcommands.', complexity: 'O(1)',
        handler: () => helpReply('COMMAND', COMMAND_HELP),
      },
    ],
  },
  {
    name: 'debug', arity: -2, flags: [...ADMIN], group: 'server', since: '1.0.0',
    summary: 'A container for debugging commands.', complexity: 'Depends on subcommand.', handler: debug,
    // DEBUG OBJECT reads a key: make it resident first.
    keyRefs: (c, args) => (args.length === 3 && keyword(args[1]!) === 'OBJECT' ? [{ db: c.session.db, name: args[2]!.toString('latin1') }] : []),
  },
];
