import type { Reply } from '../protocol/reply.js';
import type { CommandContext } from '../execution/context.js';
import type { KeyRef } from '../keyspace/scheduler.js';
import type { Access } from '../keyspace/paging.js';
import { commandSpecs, type CommandSpec } from './spec.js';

/** Command flags as COMMAND INFO reports them (Redis 7 names). */
export type CommandFlag =
  | 'write'
  | 'readonly'
  | 'denyoom'
  | 'admin'
  | 'pubsub'
  | 'noscript'
  | 'blocking'
  | 'loading'
  | 'stale'
  | 'skip_monitor'
  | 'skip_slowlog'
  | 'fast'
  | 'no_auth'
  | 'may_replicate'
  | 'no_multi'
  | 'movablekeys'
  | 'allow_busy'
  | 'no_async_loading';

/**
 * Handlers of commands that touch keys run synchronously once those keys are
 * resident, which is what makes each command atomic. Keyless commands may be
 * async (KEYS, CONFIG REWRITE...); the client's later commands wait for them.
 */
export type Handler = (c: CommandContext, args: Buffer[]) => Reply | Promise<Reply>;

/** Which arguments are keys: Redis's legacy (first, last, step) triple, or a function. */
export interface KeySpec {
  first: number;
  /** negative counts from the end: -1 = last argument */
  last: number;
  step: number;
}

/**
 * A command's row in its family module. Where Redis has the command, its
 * spec data (spec.ts) supplies arity, flags, ACL categories and docs, and the
 * row need not give them (its own values, if any, are not used); a Talus
 * extension (no spec) must.
 */
export interface CommandDef {
  name: string;
  /** Redis arity: N = exactly N arguments including the name, -N = at least N */
  arity?: number;
  flags?: CommandFlag[];
  /** ACL categories beyond the ones derived from flags, e.g. ['string'] */
  categories?: string[];
  keys?: KeySpec;
  /** key positions when they depend on the arguments (numkeys, STREAMS...) */
  movableKeys?: (args: Buffer[]) => number[];
  /**
   * The keys to make resident when some are in another db than the client's
   * (MOVE, COPY ... DB n); replaces keys/movableKeys for scheduling.
   */
  keyRefs?: (c: CommandContext, args: Buffer[]) => KeyRef[];
  /**
   * What the command needs of a paged collection (keyspace/paging.ts) at key
   * argument `index`. Undeclared: all of it, read before the command runs.
   */
  access?: (args: Buffer[], index: number) => Access;
  /**
   * Run from a client's connection outside a transaction, what it reads of
   * a big paged collection may come as rows written to the client as they
   * are read (a `stream` access, keyspace/paging.ts): its handler answers
   * with streamedAggregate (commands/collections.ts) when they were opened.
   */
  streams?: true;
  /**
   * The handler may return a Suspended (execution/suspension.ts): it waits
   * for another server (MIGRATE), which a script, holding the whole server,
   * cannot do.
   */
  suspends?: boolean;
  group?: string;
  summary?: string;
  since?: string;
  complexity?: string;
  handler?: Handler;
  subcommands?: CommandDef[];
}

/**
 * Commands Redis 7.0 flags may_replicate, a flag COMMAND INFO hides (so the
 * spec data lacks it): they are not writes but may propagate a change (PFCOUNT
 * its refreshed cache, PUBLISH its message). EVAL, EVALSHA and FCALL have it
 * too; a write pause judges a script with a shebang by its own flags
 * (client-cmds.ts).
 */
const HIDDEN_MAY_REPLICATE = new Set(['pfcount', 'publish', 'spublish', 'eval', 'evalsha', 'fcall']);

/** A row with its interface data filled in, from its spec or (an extension) from itself. */
export type ResolvedDef = CommandDef & Required<Pick<CommandDef, 'arity' | 'flags' | 'group' | 'summary' | 'since'>>;

export interface CommandStats {
  calls: number;
  usec: number;
  rejected: number;
  failed: number;
}

/** A command of the table: its definition, resolved lookups and counters. */
export class Command {
  readonly name: string;
  readonly fullName: string;
  readonly subcommands = new Map<string, Command>();
  readonly stats: CommandStats = { calls: 0, usec: 0, rejected: 0, failed: 0 };
  readonly isWrite: boolean;
  /** a write or Redis's hidden may_replicate flag (CLIENT PAUSE WRITE holds it, read-only scripts refuse it) */
  readonly mayReplicate: boolean;
  readonly noAuth: boolean;
  /** it or one of its subcommands finds its keys with a `keyRefs` hook */
  readonly hasKeyRefsHook: boolean;
  /** Flags the executor tests on every request, resolved once (not an array search per request). */
  readonly isFast: boolean;
  readonly isDenyOom: boolean;
  readonly isNoMulti: boolean;
  /** refused from scripts (redis.call tests it on every call) */
  readonly isNoScript: boolean;
  readonly skipsSlowlog: boolean;
  /** MONITOR shows it: neither skip_monitor nor admin */
  readonly shownToMonitor: boolean;
  /** the index of its one key when it names exactly one at a fixed place (GET, SET...), else 0 */
  readonly singleKey: number;
  /**
   * `def`'s handler and key hooks, read for every request: fields of this one
   * class, where reading them from definitions (objects of many shapes) was
   * a megamorphic property load each.
   */
  readonly handler: Handler | undefined;
  readonly keyAccess: ResolvedDef['access'];
  readonly streams: boolean;
  readonly ownKeyRefs: boolean;

  readonly def: ResolvedDef;
  /** Redis's interface data for it (COMMAND INFO/DOCS); undefined for a Talus extension */
  readonly spec: CommandSpec | undefined;

  constructor(row: CommandDef, readonly parent?: Command) {
    this.name = row.name.toLowerCase();
    this.fullName = parent ? `${parent.name}|${this.name}` : this.name;
    this.spec = commandSpecs().get(this.fullName);
    const def = (this.def = this.spec ? withSpec(row, this.spec) : ownDescription(row, this.fullName));
    this.isWrite = def.flags.includes('write');
    this.mayReplicate = this.isWrite || def.flags.includes('may_replicate') || HIDDEN_MAY_REPLICATE.has(this.fullName);
    this.noAuth = def.flags.includes('no_auth');
    this.isFast = def.flags.includes('fast');
    this.isDenyOom = def.flags.includes('denyoom');
    this.isNoMulti = def.flags.includes('no_multi');
    this.isNoScript = def.flags.includes('noscript');
    this.skipsSlowlog = def.flags.includes('skip_slowlog');
    this.shownToMonitor = !def.flags.includes('skip_monitor') && !def.flags.includes('admin');
    this.handler = def.handler;
    this.keyAccess = def.access;
    this.streams = def.streams === true;
    this.ownKeyRefs = def.keyRefs !== undefined;
    this.singleKey = !def.movableKeys && def.keys && def.keys.first > 0 && def.keys.last === def.keys.first ? def.keys.first : 0;
    for (const sub of def.subcommands ?? []) this.subcommands.set(sub.name.toLowerCase(), new Command(sub, this));
    this.hasKeyRefsHook = def.keyRefs !== undefined || [...this.subcommands.values()].some((sub) => sub.def.keyRefs !== undefined);
  }

  get arity(): number {
    return this.def.arity;
  }

  arityOk(argc: number): boolean {
    const a = this.def.arity;
    return a >= 0 ? argc === a : argc >= -a;
  }

  /** Indices of the key arguments in `args`. */
  keyIndices(args: Buffer[]): number[] {
    if (this.def.movableKeys) return this.def.movableKeys(args);
    const k = this.def.keys;
    if (!k || k.first === 0) return NO_KEYS;
    const last = k.last < 0 ? args.length + k.last : k.last;
    if (k.first === last && k.first < args.length) return [k.first];
    const out: number[] = [];
    for (let i = k.first; i <= last && i < args.length; i += k.step) out.push(i);
    return out;
  }

  /** ACL categories: Redis's, or for an extension derived like Redis does from flags and group. */
  get categories(): string[] {
    if (this.spec) return this.spec.acl_categories;
    const f = this.def.flags;
    const cats = new Set<string>();
    if (f.includes('write')) cats.add('@write');
    if (f.includes('readonly')) cats.add('@read');
    if (f.includes('admin')) cats.add('@admin').add('@dangerous');
    if (f.includes('pubsub')) cats.add('@pubsub');
    if (f.includes('fast')) cats.add('@fast');
    if (f.includes('blocking')) cats.add('@blocking');
    if (!f.includes('fast')) cats.add('@slow');
    if (['string', 'hash', 'list', 'set', 'sorted_set', 'bitmap', 'hyperloglog', 'geo', 'stream', 'generic',
      'connection', 'transactions', 'scripting'].includes(this.def.group)) {
      const g = this.def.group === 'sorted_set' ? 'sortedset' : this.def.group === 'generic' ? 'keyspace'
        : this.def.group === 'transactions' ? 'transaction' : this.def.group;
      cats.add(`@${g}`);
    }
    for (const c of this.def.categories ?? []) cats.add(`@${c}`);
    return [...cats];
  }
}

const NO_KEYS: number[] = [];

/** The row with the spec's arity, flags and docs in place of its own, and its key triple if it has none. */
function withSpec(row: CommandDef, spec: CommandSpec): ResolvedDef {
  const { summary, since, group, complexity } = spec.docs;
  // Redis's legacy key triple is exact for commands whose keys do not move
  const keys = row.keys ?? (!row.movableKeys && spec.first_key > 0 ? { first: spec.first_key, last: spec.last_key, step: spec.step } : undefined);
  return { ...row, arity: spec.arity, flags: spec.flags as CommandFlag[], keys, summary, since, group, complexity };
}

/** A Talus extension's row, which must describe itself. */
function ownDescription(row: CommandDef, fullName: string): ResolvedDef {
  const { arity, flags, group, summary, since } = row;
  if (arity === undefined || !flags || !group || !summary || !since) {
    throw new Error(`command ${fullName} has no spec data (src/commands/spec): its row must give arity, flags, group, summary and since`);
  }
  return { ...row, arity, flags, group, summary, since };
}

/** The command table: every command Talus serves, by lower-case name. */
/** The subcommand a container command's arguments name (CONFIG SET...), or the command itself. */
export function subcommandOf(cmd: Command, args: Buffer[]): Command {
  if (cmd.subcommands.size === 0 || args.length < 2) return cmd;
  return cmd.subcommands.get(args[1]!.toString('latin1').toLowerCase()) ?? cmd;
}

/** Names up to this long are remembered by CommandTable.lookup (every command name is shorter). */
const LAST_NAME_MAX = 32;
/** How many names CommandTable.lookup remembers. */
const RECENT_NAMES = 4;

export class CommandTable {
  private readonly commands = new Map<string, Command>();
  /** lower- and upper-case names: clients send either, so most lookups need no case folding */
  private readonly names = new Map<string, Command>();

  register(defs: CommandDef[]): void {
    for (const def of defs) {
      const cmd = new Command(def);
      if (this.commands.has(cmd.name)) throw new Error(`command ${cmd.name} registered twice`);
      this.commands.set(cmd.name, cmd);
      this.names.set(cmd.name, cmd);
      this.names.set(cmd.name.toUpperCase(), cmd);
    }
  }

  /**
   * The name bytes of the last few commands found by a Buffer, and those
   * commands: a pipeline mostly repeats one command, a script alternates a
   * few (GET, INCR, EXPIRE and the EVALSHA that runs them), and comparing a
   * few bytes costs less than making a string of them and hashing it for the
   * Map. Replaced in turn, oldest first.
   */
  private readonly recentNames = Array.from({ length: RECENT_NAMES }, () => Buffer.alloc(LAST_NAME_MAX));
  private readonly recentLengths = new Array<number>(RECENT_NAMES).fill(-1);
  private readonly recentCommands = new Array<Command | undefined>(RECENT_NAMES).fill(undefined);
  private nextRecent = 0;

  /** Lookup by the raw name argument, any case. */
  lookup(name: Buffer | string): Command | undefined {
    if (typeof name === 'string') return this.names.get(name) ?? this.commands.get(name.toLowerCase());
    const n = name.length;
    for (let r = 0; r < RECENT_NAMES; r++) {
      if (this.recentLengths[r] !== n) continue;
      const known = this.recentNames[r]!;
      let i = 0;
      while (i < n && name[i] === known[i]) i++;
      if (i === n) return this.recentCommands[r];
    }
    const s = name.toString('latin1');
    const cmd = this.names.get(s) ?? this.commands.get(s.toLowerCase());
    if (cmd !== undefined && n <= LAST_NAME_MAX) {
      const r = this.nextRecent;
      this.nextRecent = (r + 1) % RECENT_NAMES;
      name.copy(this.recentNames[r]!, 0, 0, n);
      this.recentLengths[r] = n;
      this.recentCommands[r] = cmd;
    }
    return cmd;
  }

  all(): IterableIterator<Command> {
    return this.commands.values();
  }

  get size(): number {
    return this.commands.size;
  }
}
