/**
 * The configuration schema: the ONE place where an option is defined.
 *
 * Every option is declared once below with `option(kind, meta)`: its
 * kebab-case name (the object key, as in redis.conf), its value kind (a zod
 * schema that turns text into a typed value, plus formatting), default,
 * one-line doc, whether CONFIG SET may change it, and its aliases. Everything
 * else (env variable names, the typed `TalusConfig`, CONFIG GET/SET, the
 * config-file reader and rewriter, `--help`, talus.conf and .env.example) is
 * derived from these declarations.
 *
 * Value kinds parse text (config file, environment, command line, CONFIG SET)
 * and accept typed literals for defaults. Zod issue messages are Redis's
 * CONFIG SET wording ("argument must be a memory value"); `accepts` is the
 * human description used in start-up errors and docs.
 */
import path from 'node:path';
import { z } from 'zod';
import cron from 'node-cron';

/**
 * A configuration problem. At start-up the message names the option, the bad
 * value, what is accepted and where it came from; from ConfigStore it is the
 * exact Redis error text ("ERR ..."), ready to be sent as an error reply.
 */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(
    message: string,
    /** Canonical name of the option concerned, when there is one. */
    readonly option?: string,
  ) {
    super(message);
  }
}

// ---------------------------------------------------------------------------
// Value kinds
// ---------------------------------------------------------------------------

/** How one kind of value is parsed and printed. */
export interface Kind<T> {
  /** Text (or a typed literal) -> value. Issue messages use Redis's CONFIG SET wording. */
  readonly schema: z.ZodType<T>;
  /** Short type label for --help and the sample config, e.g. "integer 0..65535". */
  readonly label: string;
  /** What is accepted, for start-up errors: "expected <accepts>". */
  readonly accepts: string;
  /** CONFIG GET formatting (memory as plain bytes, booleans yes/no, ...). */
  readonly show: (value: T) => string;
  /** Config-file formatting (CONFIG REWRITE, talus.conf); defaults to `show`. */
  readonly conf?: (value: T) => string;
  /** The directive takes several space-separated arguments (bind, save, ...). */
  readonly multiArg?: boolean;
  /**
   * Repeated directives: 'join' = lines of one config file add up (an empty
   * value resets), like `save`; 'merge' = every new value (file line, env,
   * command line, CONFIG SET) updates the previous one, like
   * `client-output-buffer-limit`. Otherwise the last value wins.
   */
  readonly accumulate?: 'join' | 'merge';
}

/** Values come in as text, or as typed literals for defaults. */
const RawText = z
  .union([z.string(), z.number(), z.boolean()])
  .transform((v) => (typeof v === 'boolean' ? (v ? 'yes' : 'no') : String(v)));

class Invalid {
  constructor(readonly message: string) {}
}
const invalid = (message: string) => new Invalid(message);

/** A zod schema from a text parser that returns a value or `invalid(redisMessage)`. */
function fromText<T>(parse: (text: string) => T | Invalid): z.ZodType<T> {
  return RawText.transform((text, ctx): T => {
    const out = parse(text);
    if (out instanceof Invalid) {
      ctx.addIssue({ code: 'custom', message: out.message, input: text });
      return z.NEVER;
    }
    return out;
  });
}

const MAX = Number.MAX_SAFE_INTEGER;
const INT_MAX = 2147483647;
const INT_MIN = -2147483648;
const INT_RE = /^-?(?:0|[1-9][0-9]*)$/;

const KB = 1024;
const MB = 1024 * 1024;
const GB = 1024 * 1024 * 1024;
const MEMORY_UNITS: Record<string, number> = {
  '': 1,
  b: 1,
  k: 1000,
  kb: KB,
  m: 1000 * 1000,
  mb: MB,
  g: 1000 * 1000 * 1000,
  gb: GB,
};

/**
 * Parse a Redis memory value: plain bytes or a number with a unit k/kb/m/mb/g/gb
 * (k = 1000, kb = 1024, ...; case-insensitive). Undefined if malformed.
 */
export function parseMemory(text: string): number | undefined {
  const m = /^([0-9]+)([a-z]*)$/i.exec(text);
  if (!m) return undefined;
  const mul = MEMORY_UNITS[m[2]!.toLowerCase()];
  if (mul === undefined) return undefined;
  const n = Number(m[1]) * mul;
  return Number.isSafeInteger(n) ? n : undefined;
}

/** Bytes in the shortest exact redis.conf form: 1gb, 512mb, 4kb, 3000. */
export function formatMemory(bytes: number): string {
  if (bytes !== 0) {
    if (bytes % GB === 0) return `${bytes / GB}gb`;
    if (bytes % MB === 0) return `${bytes / MB}mb`;
    if (bytes % KB === 0) return `${bytes / KB}kb`;
  }
  return String(bytes);
}

function rangeText(min: number, max: number, fmt: (n: number) => string = String): string {
  if (max >= MAX) return min === 0 ? '' : ` of at least ${fmt(min)}`;
  return ` between ${fmt(min)} and ${fmt(max)}`;
}

const outOfRange = (min: number, max: number) =>
  invalid(`argument must be between ${min} and ${max} inclusive`);

/** An integer in [min, max]. */
export function int(min: number, max: number): Kind<number> {
  return {
    schema: fromText((t) => {
      if (!INT_RE.test(t)) return invalid("argument couldn't be parsed into an integer");
      const n = Number(t);
      return n < min || n > max ? outOfRange(min, max) : n;
    }),
    label: max >= MAX ? `integer >= ${min}` : `integer ${min}..${max}`,
    accepts: `an integer${rangeText(min, max)}`,
    show: String,
  };
}

const DURATION_UNITS: Record<string, number> = { '': 1, s: 1, m: 60, h: 3600, d: 86400 };

/** A duration in whole seconds: plain seconds, or a number with s/m/h/d. */
export function seconds(min: number, max: number): Kind<number> {
  return {
    schema: fromText((t) => {
      const m = /^(-?[0-9]+)([smhd]?)$/i.exec(t);
      if (!m) return invalid("argument couldn't be parsed into an integer");
      const n = Number(m[1]) * DURATION_UNITS[m[2]!.toLowerCase()]!;
      if (!Number.isSafeInteger(n)) return invalid("argument couldn't be parsed into an integer");
      return n < min || n > max ? outOfRange(min, max) : n;
    }),
    label: 'seconds',
    accepts: `a duration in seconds (e.g. 300, 30s, 5m, 1h, 1d)${rangeText(min, max)}`,
    show: String,
  };
}

/** A size in bytes, written as a memory value (1048576, 100k, 64mb, 1gb). */
export function memory(min = 0, max = MAX): Kind<number> {
  return {
    schema: fromText((t) => {
      const n = parseMemory(t);
      if (n === undefined) return invalid('argument must be a memory value');
      return n < min || n > max ? outOfRange(min, max) : n;
    }),
    label: 'memory',
    accepts: `a memory size such as 1048576, 100k, 64mb or 1gb (units k, kb, m, mb, g, gb)${rangeText(min, max, formatMemory)}`,
    show: String,
    conf: formatMemory,
  };
}

/** Bytes, or a percentage of maxmemory ("10%"), stored negated: -10 means 10%. */
export function memoryOrPercent(): Kind<number> {
  return {
    schema: fromText((t) => {
      const n = parseMemory(t);
      if (n !== undefined) return n;
      const p = /^([0-9]+)%$/.exec(t);
      if (p) {
        const pct = Number(p[1]);
        // 0% is off, like 0 (CONFIG GET then shows 0)
        return pct <= 100 ? (pct === 0 ? 0 : -pct) : invalid('percentage argument must be less or equal to 100');
      }
      return invalid('argument must be a memory or percent value');
    }),
    label: 'memory|percent',
    accepts: 'a memory size (e.g. 64mb) or a percentage of maxmemory (e.g. 10%)',
    show: (v) => (v < 0 ? `${-v}%` : String(v)),
    conf: (v) => (v < 0 ? `${-v}%` : formatMemory(v)),
  };
}

/** yes / no (case-insensitive). */
export function bool(): Kind<boolean> {
  return {
    schema: fromText((t) => {
      const l = t.toLowerCase();
      return l === 'yes' ? true : l === 'no' ? false : invalid("argument must be 'yes' or 'no'");
    }),
    label: 'yes|no',
    accepts: 'yes or no',
    show: (v) => (v ? 'yes' : 'no'),
  };
}

/** One of a fixed set of words (case-insensitive; shown lower case). */
export function oneOf<const V extends readonly [string, ...string[]]>(values: V): Kind<V[number]> {
  const message = `argument(s) must be one of the following: ${values.join(', ')}`;
  return {
    schema: RawText.pipe(z.string().toLowerCase()).pipe(z.enum(values, { error: message })) as z.ZodType<V[number]>,
    label: values.join('|'),
    accepts: `one of: ${values.join(', ')}`,
    show: String,
  };
}

/** Several space-separated words from a fixed set, e.g. "nosave now". */
export function flagsOf(values: readonly string[], none: string): Kind<readonly string[]> {
  const message = `argument(s) must be one of the following: ${values.join(', ')}`;
  return {
    schema: fromText((t) => {
      const words = t.toLowerCase().split(/\s+/).filter(Boolean);
      if (words.length === 0 || words.some((w) => !values.includes(w))) return invalid(message);
      const set = [...new Set(words)];
      return set.length > 1 ? set.filter((w) => w !== none) : set;
    }),
    label: `${values.join('|')} ...`,
    accepts: `one or more of: ${values.join(', ')}`,
    show: (v) => v.join(' '),
    multiArg: true,
  };
}

/** Any string, optionally checked by `check` (returns a Redis-style error or undefined). */
export function text(opts: { accepts?: string; label?: string; check?: (s: string) => string | undefined } = {}): Kind<string> {
  const check = opts.check;
  return {
    schema: fromText((t) => {
      const why = check?.(t);
      return why === undefined ? t : invalid(why);
    }),
    label: opts.label ?? 'string',
    accepts: opts.accepts ?? 'a string',
    show: String,
  };
}

/** Space-separated list of listen addresses, kept as one normalized string ("127.0.0.1 ::1"). */
function addressList(): Kind<string> {
  return {
    schema: fromText((t) => {
      const list = t.split(/\s+/).filter(Boolean);
      if (list.length === 0) return invalid('argument must be one or more addresses');
      if (list.length > 16) return invalid('Too many bind addresses specified.');
      return list.join(' ');
    }),
    label: 'address ...',
    accepts: 'one or more space-separated addresses (e.g. "127.0.0.1 ::1", "*")',
    show: String,
    multiArg: true,
  };
}

export interface ReplicaOf {
  readonly host: string;
  readonly port: number;
}

/** "host port", or empty / "no one" for none. */
function replicaOf(): Kind<ReplicaOf | null> {
  return {
    schema: fromText((t) => {
      const w = t.split(/\s+/).filter(Boolean);
      if (w.length === 0 || (w.length === 2 && w[0]!.toLowerCase() === 'no' && w[1]!.toLowerCase() === 'one')) return null;
      if (w.length !== 2) return invalid('argument must be "<host> <port>"');
      const port = Number(w[1]);
      if (!INT_RE.test(w[1]!) || port < 1 || port > 65535) return invalid('Invalid master port');
      return { host: w[0]!, port };
    }),
    label: 'host port',
    accepts: '"<host> <port>", or an empty string for none',
    show: (v) => (v ? `${v.host} ${v.port}` : ''),
    multiArg: true,
  };
}

export interface SavePoint {
  readonly seconds: number;
  readonly changes: number;
}

/** RDB save points "seconds changes [seconds changes ...]" (kept for compatibility). */
function savePoints(): Kind<readonly SavePoint[]> {
  return {
    schema: fromText((t) => {
      const w = t.split(/\s+/).filter(Boolean);
      if (w.length % 2 !== 0 || w.some((x) => !INT_RE.test(x) || x.startsWith('-'))) {
        return invalid('Invalid save parameters');
      }
      const out: SavePoint[] = [];
      for (let i = 0; i < w.length; i += 2) out.push({ seconds: Number(w[i]), changes: Number(w[i + 1]) });
      return out;
    }),
    label: 'seconds changes ...',
    accepts: 'pairs of "<seconds> <changes>", or an empty string',
    show: (v) => v.map((p) => `${p.seconds} ${p.changes}`).join(' '),
    multiArg: true,
    accumulate: 'join',
  };
}

export interface OutputBufferLimit {
  /** Disconnect at once above this many bytes (0 = no limit). */
  readonly hardBytes: number;
  /** Disconnect when above this for `softSeconds` (0 = no limit). */
  readonly softBytes: number;
  readonly softSeconds: number;
}
export type OutputBufferClass = 'normal' | 'replica' | 'pubsub';
export type ClientOutputBufferLimits = Readonly<Record<OutputBufferClass, OutputBufferLimit>>;

const COB_DEFAULT = 'normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60';

/** client-output-buffer-limit: "<class> <hard> <soft> <soft-seconds>" groups; unspecified classes keep their value. */
function outputBufferLimits(): Kind<ClientOutputBufferLimits> {
  const parse = (t: string, into: Record<OutputBufferClass, OutputBufferLimit>): Invalid | undefined => {
    const w = t.split(/\s+/).filter(Boolean);
    if (w.length % 4 !== 0) return invalid('Wrong number of arguments in buffer limit configuration.');
    for (let i = 0; i < w.length; i += 4) {
      const name = w[i]!.toLowerCase();
      const cls: OutputBufferClass | undefined =
        name === 'normal' ? 'normal' : name === 'replica' || name === 'slave' ? 'replica' : name === 'pubsub' ? 'pubsub' : undefined;
      if (!cls) return invalid('Invalid client class specified in buffer limit configuration.');
      const hard = parseMemory(w[i + 1]!);
      const soft = parseMemory(w[i + 2]!);
      const secs = w[i + 3]!;
      if (hard === undefined || soft === undefined || !INT_RE.test(secs) || secs.startsWith('-')) {
        return invalid('Error in hard, soft or soft_seconds setting in buffer limit configuration.');
      }
      into[cls] = { hardBytes: hard, softBytes: soft, softSeconds: Number(secs) };
    }
    return undefined;
  };
  const base: Record<OutputBufferClass, OutputBufferLimit> = {
    normal: { hardBytes: 0, softBytes: 0, softSeconds: 0 },
    replica: { hardBytes: 0, softBytes: 0, softSeconds: 0 },
    pubsub: { hardBytes: 0, softBytes: 0, softSeconds: 0 },
  };
  parse(COB_DEFAULT, base);
  const fmt = (v: ClientOutputBufferLimits, mem: (n: number) => string) =>
    (['normal', 'replica', 'pubsub'] as const)
      .map((c) => `${c === 'replica' ? 'slave' : c} ${mem(v[c].hardBytes)} ${mem(v[c].softBytes)} ${v[c].softSeconds}`)
      .join(' ');
  return {
    schema: fromText((t) => {
      const out = { ...base };
      return parse(t, out) ?? out;
    }),
    label: 'class hard soft seconds ...',
    accepts: 'groups of "<normal|replica|pubsub> <hard-limit> <soft-limit> <soft-seconds>" (limits are memory values)',
    show: (v) => fmt(v, String),
    conf: (v) => fmt(v, formatMemory),
    multiArg: true,
    accumulate: 'merge',
  };
}

/** Percentiles for INFO latencystats: space-separated numbers 0..100. */
function percentiles(): Kind<readonly number[]> {
  return {
    schema: fromText((t) => {
      const w = t.split(/\s+/).filter(Boolean);
      const out: number[] = [];
      for (const x of w) {
        const n = Number(x);
        if (!/^[0-9.eE+-]+$/.test(x) || !Number.isFinite(n) || n < 0 || n > 100) {
          return invalid('latency-tracking-info-percentiles argument(s) must be numbers between 0 and 100');
        }
        out.push(n);
      }
      return out;
    }),
    label: 'percentile ...',
    accepts: 'space-separated numbers between 0 and 100, or an empty string',
    show: (v) => v.map(String).join(' '),
    multiArg: true,
  };
}

// Keyspace notification classes: g $ l s h z x e t d n (A = g$lshzxetd), K E m.
const NOTIFY_ALL = 'g$lshzxetd';
const NOTIFY_ORDER = 'g$lshzxetdn';

/** notify-keyspace-events flags, normalized as Redis prints them. */
function notifyFlags(): Kind<string> {
  return {
    schema: fromText((t) => {
      const set = new Set<string>();
      for (const c of t) {
        if (c === 'A') for (const a of NOTIFY_ALL) set.add(a);
        else if ((NOTIFY_ORDER + 'KEm').includes(c)) set.add(c);
        else return invalid("Invalid event class character. Use 'Ag$lshzxeKEtmdn'.");
      }
      const all = [...NOTIFY_ALL].every((c) => set.has(c));
      let out = all ? 'A' : '';
      for (const c of NOTIFY_ORDER) if (set.has(c) && !(all && NOTIFY_ALL.includes(c))) out += c;
      for (const c of 'KEm') if (set.has(c)) out += c;
      return out;
    }),
    label: 'flags',
    accepts: "a string of event class characters from 'Ag$lshzxeKEtmdn', or an empty string",
    // Redis prints A without the n it may hold (CONFIG GET "AKEnm" is "AKEm"); n still counts
    show: (v) => (v.startsWith('A') ? v.replace('n', '') : v),
  };
}

const nonEmpty = (s: string) => (s.length === 0 ? 'argument must not be empty' : undefined);

function cronExpression(): Kind<string> {
  return text({
    label: 'cron',
    accepts: "a cron expression such as '0 3 * * *', or an empty string to disable",
    check: (s) => (s.trim() === '' || cron.validate(s) ? undefined : 'argument must be a valid cron expression'),
  });
}

function postgresUrl(): Kind<string> {
  return text({
    label: 'url',
    accepts: 'a postgres:// or postgresql:// URL, or an empty string for the embedded server',
    check: (s) => {
      if (s === '') return undefined;
      try {
        const u = new URL(s);
        if (u.protocol === 'postgres:' || u.protocol === 'postgresql:' || u.protocol === 'socket:') return undefined;
      } catch {
        // fall through
      }
      return 'argument must be a postgres:// or postgresql:// URL';
    },
  });
}

// ---------------------------------------------------------------------------
// Declaring options
// ---------------------------------------------------------------------------

/**
 * What setting an option does in Talus, so that no option is silently
 * accepted and ignored. `--help`, talus.conf and docs/configuration.md say
 * it for every option, and a unit test fails when a 'live' option is never
 * read outside src/config.
 *
 * - live: does what Redis (or Pika) documents.
 * - no-effect: accepted so that redis.conf / pika.conf files and clients that
 *   set it keep working, but nothing in Talus depends on it (`reason` says why).
 * - not-built: the feature it configures is not built yet; only its default
 *   (and `alsoAccepted`) is accepted, anything else is refused at start-up and
 *   by CONFIG SET with `missing` as the reason.
 */
export type Effect =
  | { readonly kind: 'live' }
  | { readonly kind: 'no-effect'; readonly reason: string }
  | { readonly kind: 'not-built'; readonly missing: string; readonly alsoAccepted: readonly string[] };

export const LIVE: Effect = { kind: 'live' };
export const noEffect = (reason: string): Effect => ({ kind: 'no-effect', reason });
export const notBuilt = (missing: string, alsoAccepted: readonly string[] = []): Effect => ({ kind: 'not-built', missing, alsoAccepted });

// Reasons shared by several options.
const OWN_ENCODING = 'Talus has its own in-memory representation of values';
const NO_REPLICATION = 'this part of replication is not built yet';
const NO_RDB_AOF = 'Talus keeps no RDB or AOF file: every write is committed to PostgreSQL';
const NO_LAZYFREE = 'Talus never frees a big value in the client\'s time: a deleted collection\'s rows are removed by the janitor in the background';

export interface OptionMeta {
  /** What the option does in Talus (see Effect). */
  readonly effect: Effect;
  /** Default, as config text ("1gb") or a typed literal (9221, true). Parsed at start-up. */
  readonly default: string | number | boolean;
  /** One line of documentation. */
  readonly doc: string;
  /** May CONFIG SET change it while running? */
  readonly mutable: boolean;
  /** Other accepted names (config file, command line, CONFIG GET/SET). */
  readonly aliases?: readonly string[];
  /** Hide the value in error messages (passwords, URLs with credentials). */
  readonly sensitive?: boolean;
  /**
   * Left out of CONFIG GET patterns (CONFIG GET * does not list it); named
   * exactly, it is shown. Redis hides its test hooks this way.
   */
  readonly hidden?: boolean;
  /** Extra environment variables, read when TALUS_<NAME> is not set. */
  readonly envAliases?: readonly string[];
}

export interface OptionSpec<T> extends OptionMeta {
  readonly kind: Kind<T>;
  section: string;
}

/** Declare one option: its value kind and metadata. The name is the key it is stored under. */
export function option<T>(kind: Kind<T>, meta: OptionMeta): OptionSpec<T> {
  return { ...meta, kind, section: '' };
}

function section<const S extends Record<string, OptionSpec<any>>>(title: string, specs: S): S {
  for (const s of Object.values(specs)) s.section = title;
  return specs;
}

const SPECS = {
  ...section('Network', {
    port: option(int(0, 65535), { effect: LIVE, default: 9221, doc: 'TCP port to listen on (CONFIG SET listens on the new one and closes the old listeners; connected clients stay).', mutable: true }),
    bind: option(addressList(), {
      effect: LIVE, default: '127.0.0.1',
      doc: 'Addresses to listen on, space separated ("0.0.0.0" or "*" for every IPv4 interface, "::" for IPv6).',
      mutable: false,
    }),
    unixsocket: option(text({ label: 'path' }), { effect: LIVE, default: '', doc: 'Also listen on this Unix socket path (empty = no Unix socket).', mutable: false }),
    'protected-mode': option(bool(), { effect: LIVE, default: true, doc: 'With no requirepass, refuse clients that do not connect from 127.0.0.1, ::1 or the Unix socket (they get a -DENIED error, as from Redis).', mutable: true }),
    'tcp-keepalive': option(seconds(0, INT_MAX), { effect: LIVE, default: 300, doc: 'TCP keepalive interval for client connections, in seconds (0 = off).', mutable: true }),
    timeout: option(seconds(0, INT_MAX), { effect: LIVE, default: 0, doc: 'Close a client after it has been idle this many seconds (0 = never).', mutable: true }),
    maxclients: option(int(1, INT_MAX), { effect: LIVE, default: 10000, doc: 'Maximum number of simultaneous client connections.', mutable: true }),
    'io-threads': option(int(1, 128), { effect: noEffect('Talus does its network I/O on the Node.js event loop'), default: 1, doc: 'Threads for socket reads and writes.', mutable: false }),
  }),

  ...section('Storage (PostgreSQL)', {
    dir: option(text({ label: 'path', accepts: 'a directory path', check: nonEmpty }), {
      effect: LIVE, default: './data',
      doc: 'Data directory; the embedded PostgreSQL cluster lives in <dir>/pg (relative paths are resolved against the working directory).',
      mutable: false,
    }),
    'database-url': option(postgresUrl(), {
      effect: LIVE, default: '',
      doc: 'External PostgreSQL URL (also read from DATABASE_URL); empty = run the embedded PostgreSQL.',
      mutable: false,
      sensitive: true,
      envAliases: ['DATABASE_URL'],
    }),
    'embedded-pg-port': option(int(0, 65535), { effect: LIVE, default: 0, doc: 'TCP port of the embedded PostgreSQL (0 = pick a free port).', mutable: false }),
    'embedded-pg-user-namespace': option(bool(), {
      effect: LIVE,
      default: true,
      doc: 'As root, run the embedded PostgreSQL in a user namespace where the kernel allows (no postgres user needed, data dir may sit below a mode-700 folder); no = as the postgres system user.',
      mutable: false,
    }),
    'pg-pool-size': option(int(2, 1000), { effect: LIVE, default: 8, doc: 'Number of PostgreSQL connections: one commits (held by the flusher), the rest read cold keys and run the janitor.', mutable: false }),
    databases: option(int(1, INT_MAX), { effect: LIVE, default: 16, doc: 'Number of logical databases (SELECT 0 .. databases-1).', mutable: false }),
  }),

  ...section('Durability', {
    appendfsync: option(oneOf(['always', 'everysec', 'no'] as const), {
      effect: LIVE, default: 'always',
      doc: 'always = reply after the PostgreSQL commit; everysec = reply at once, commit at least every second; no = reply at once, commit when convenient.',
      mutable: true,
    }),
    'flush-interval-ms': option(int(0, 60000), {
      effect: LIVE, default: 1,
      doc: 'Least milliseconds between two commits in the everysec (at most 1000 used) and no modes: a write load then makes fewer, bigger commits (one starts sooner once 2,000 keys wait); always commits at once.',
      mutable: true,
    }),
    'changelog-retention': option(memory(), { effect: LIVE, default: '1gb', doc: 'Bytes of change log kept for replicas and point-in-time recovery.', mutable: true }),
    'changelog-retention-seconds': option(seconds(0, MAX), { effect: LIVE, default: 86400, doc: 'Seconds of change log kept for replicas and point-in-time recovery.', mutable: true }),
    appendonly: option(bool(), { effect: noEffect(NO_RDB_AOF + ' (INFO persistence reports the value as aof_enabled)'), default: false, doc: 'Keep an append-only file.', mutable: true }),
    appendfilename: option(text({ label: 'file name' }), { effect: noEffect(NO_RDB_AOF), default: 'appendonly.aof', doc: 'Name of the append-only file.', mutable: false }),
    'no-appendfsync-on-rewrite': option(bool(), { effect: noEffect(NO_RDB_AOF), default: false, doc: 'Skip fsync of the append-only file while a rewrite runs.', mutable: true }),
    save: option(savePoints(), { effect: noEffect(NO_RDB_AOF), default: '', doc: 'RDB save points: "<seconds> <changes>" pairs.', mutable: true }),
    dbfilename: option(text({ label: 'file name', check: nonEmpty }), { effect: noEffect(NO_RDB_AOF), default: 'dump.rdb', doc: 'Name of the RDB file.', mutable: true }),
    rdbcompression: option(bool(), { effect: noEffect(NO_RDB_AOF), default: true, doc: 'Compress RDB files.', mutable: true }),
    // Redis's test hooks for RDB saving and loading, hidden from CONFIG GET patterns as in Redis.
    'rdb-key-save-delay': option(int(INT_MIN, INT_MAX), { effect: noEffect(NO_RDB_AOF), default: 0, doc: 'Microseconds to sleep per key while saving an RDB file (a test hook).', mutable: true, hidden: true }),
    'key-load-delay': option(int(INT_MIN, INT_MAX), { effect: noEffect(NO_RDB_AOF), default: 0, doc: 'Microseconds to sleep per key while loading an RDB or AOF file (a test hook).', mutable: true, hidden: true }),
    'loading-process-events-interval-bytes': option(int(1024, INT_MAX), { effect: noEffect(NO_RDB_AOF), default: 2097152, doc: 'Bytes loaded between serving events while loading an RDB or AOF file (a test hook).', mutable: true, hidden: true }),
  }),

  ...section('Memory', {
    maxmemory: option(memory(), { effect: LIVE, default: '1gb', doc: 'Bound of the in-memory hot set in bytes; colder keys stay in PostgreSQL only (0 = unbounded). The process keeps its RSS within this plus 200 MB: near that, the hot set is held lower (INFO talus hot_set_squeeze_bytes) and writes wait for garbage collection.', mutable: true }),
    'maxmemory-policy': option(
      oneOf(['volatile-lru', 'volatile-lfu', 'volatile-random', 'volatile-ttl', 'allkeys-lru', 'allkeys-lfu', 'allkeys-random', 'noeviction'] as const),
      { effect: LIVE, default: 'allkeys-lru', doc: 'What happens at maxmemory: noeviction keeps every key in memory and refuses writes when full, as Redis does; every other policy unloads the least recently used clean keys (their data stays in PostgreSQL, nothing is lost), so the choice among them only decides whether OBJECT FREQ (lfu) or OBJECT IDLETIME answers.', mutable: true },
    ),
    'maxmemory-samples': option(int(1, 64), { effect: noEffect('Talus unloads the least recently used clean keys in order instead of sampling'), default: 5, doc: 'Keys sampled per eviction decision.', mutable: true }),
    'maxmemory-eviction-tenacity': option(int(0, 100), { effect: noEffect('Talus unloads keys from the cron and as cold reads land, not in per-command slices'), default: 10, doc: 'Effort spent evicting per command (0..100).', mutable: true }),
    'maxmemory-clients': option(memoryOrPercent(), { effect: LIVE, default: 0, doc: 'When the memory all clients hold (requests received and not yet run, queued MULTI commands, unsent replies: CLIENT LIST tot-mem) passes this, the clients holding the most are closed until the rest fit (CLIENT NO-EVICT exempts one); bytes, or a percentage of maxmemory (0 = off).', mutable: true }),
    'paged-collection-threshold': option(int(0, MAX), { effect: LIVE, default: 4096, doc: 'A cold hash, list, set or sorted set with more members than this is not loaded whole: point commands read just the members they need from PostgreSQL (0 = always load whole).', mutable: true }),
    'name-filter-max-memory': option(memory(), { effect: LIVE, default: '256mb', doc: 'The most memory one db\'s filter of the names that may have a row in PostgreSQL may take (about 1.2 bytes per name): with it, a command on a name that is not in memory and has no row (a new key, a missing one) needs no read, after a restart or once keys were evicted. A db with more names reads every such name, as with 0 (no filters). Read at start.', mutable: false }),
    'lfu-log-factor': option(int(0, INT_MAX), { effect: LIVE, default: 10, doc: 'LFU counter logarithm factor (OBJECT FREQ, redis-cli --hotkeys; eviction itself stays least-recently-used).', mutable: true }),
    'lfu-decay-time': option(int(0, INT_MAX), { effect: LIVE, default: 1, doc: 'LFU counter decay period in minutes (OBJECT FREQ, redis-cli --hotkeys).', mutable: true }),
    hz: option(int(0, INT_MAX), { effect: LIVE, default: 10, doc: 'Times per second the server cron runs (clamped to 1..500): active expiry of resident keys, eviction, idle-client timeouts; what queries PostgreSQL runs at most 10 times a second whatever hz is.', mutable: true }),
    'dynamic-hz': option(bool(), { effect: noEffect('background tasks run at hz whatever the number of clients'), default: true, doc: 'Raise hz temporarily when there are many clients.', mutable: true }),
    activerehashing: option(bool(), { effect: noEffect('Talus keeps keys in JavaScript Maps, which rehash themselves'), default: true, doc: 'Rehash the main dictionaries incrementally in the background.', mutable: true }),
    activedefrag: option(bool(), { effect: noEffect('V8\'s garbage collector compacts the heap; there is no allocator to defragment'), default: false, doc: 'Defragment memory in the background.', mutable: true }),
    'lazyfree-lazy-eviction': option(bool(), { effect: noEffect('eviction only unloads values that PostgreSQL also holds'), default: false, doc: 'Free evicted values in the background.', mutable: true }),
    'lazyfree-lazy-expire': option(bool(), { effect: noEffect(NO_LAZYFREE), default: false, doc: 'Free expired values in the background.', mutable: true }),
    'lazyfree-lazy-server-del': option(bool(), { effect: noEffect(NO_LAZYFREE), default: false, doc: 'Free values deleted implicitly (e.g. overwritten) in the background.', mutable: true }),
    'lazyfree-lazy-user-del': option(bool(), { effect: noEffect(NO_LAZYFREE), default: false, doc: 'Make DEL behave like UNLINK.', mutable: true }),
    'lazyfree-lazy-user-flush': option(bool(), { effect: noEffect(NO_LAZYFREE), default: false, doc: 'Make FLUSHDB/FLUSHALL default to ASYNC.', mutable: true }),
  }),

  ...section('Security', {
    requirepass: option(text({ label: 'password' }), { effect: LIVE, default: '', doc: 'Password of the default user (empty = no authentication).', mutable: true, sensitive: true }),
    masteruser: option(text({ label: 'user' }), { effect: LIVE, default: '', doc: 'User name for authenticating to the primary.', mutable: true }),
    masterauth: option(text({ label: 'password' }), { effect: LIVE, default: '', doc: 'Password for authenticating to the primary.', mutable: true, sensitive: true }),
    aclfile: option(text({ label: 'path' }), { effect: LIVE, default: '', doc: 'ACL file (users, one `user <name> <rules...>` line each) read at startup and by ACL LOAD, written by ACL SAVE; relative to `dir`. Empty = users come from `user` lines of the config file.', mutable: false }),
    'acllog-max-len': option(int(0, MAX), { effect: LIVE, default: 128, doc: 'Maximum entries of the ACL LOG.', mutable: true }),
    'enable-debug-command': option(oneOf(['no', 'yes', 'local'] as const), { effect: LIVE, default: 'no', doc: 'Allow the DEBUG command (local = from loopback clients only).', mutable: false }),
    'enable-module-command': option(oneOf(['no', 'yes', 'local'] as const), { effect: LIVE, default: 'no', doc: 'Allow MODULE LOAD, LOADEX and UNLOAD (local = from loopback clients only); Talus loads no Redis modules, so once allowed they fail as for a module that cannot be loaded.', mutable: false }),
    'enable-protected-configs': option(oneOf(['no', 'yes', 'local'] as const), { effect: noEffect('the options Redis protects (dir, dbfilename...) are fixed at start-up or have no effect in Talus'), default: 'no', doc: 'Allow CONFIG SET of protected options (local = from loopback clients only).', mutable: false }),
  }),

  ...section('Limits', {
    'proto-max-bulk-len': option(memory(MB), { effect: LIVE, default: '512mb', doc: 'Largest bulk string a client may send, in bytes.', mutable: true }),
    'client-query-buffer-limit': option(memory(MB), { effect: LIVE, default: '1gb', doc: 'Largest query buffer of one client, in bytes.', mutable: true }),
    'client-output-buffer-limit': option(outputBufferLimits(), {
      effect: LIVE, default: COB_DEFAULT,
      doc: 'Output buffer limits per client class: <class> <hard> <soft> <soft-seconds>. A client whose unsent output (replies and messages held for durability included) passes the hard limit, or the soft limit for longer than soft-seconds, is closed at once (0 = no limit): normal for ordinary clients, pubsub for clients with a subscription (a subscriber that does not read). replica (alias slave) for the replication stream of a follower: a leader holds at most 8 MB (or half this limit) of unsent stream per follower and reads the rest from the change log once the follower has read, so only a single record bigger than the limit closes the follower, which then resumes with a partial sync. Whatever the limits, a client stops running requests while its output is over the larger of 1 MB and the normal limits, and subscribers and monitors that are behind are closed, those holding the most first, while their unsent output together passes a quarter of maxmemory (8 MB to 256 MB; 256 MB without maxmemory).',
      mutable: true,
    }),
    'busy-reply-threshold': option(int(0, MAX), { effect: LIVE, default: 5000, doc: 'Milliseconds a script may run before other clients get BUSY (until then their requests wait; 0 = never BUSY). Then SCRIPT KILL stops a script that has not written.', mutable: true, aliases: ['lua-time-limit'] }),
    'lua-heap-limit': option(memory(1024 * 1024, 1024 * 1024 * 1024), { effect: LIVE, default: 64 * 1024 * 1024, doc: 'Talus only: the most memory the Lua heap of scripts may hold; an allocation past it fails the script with "not enough memory" and the server goes on.', mutable: true }),
    'tracking-table-max-keys': option(int(0, MAX), { effect: LIVE, default: 1000000, doc: 'Maximum keys in the client-side caching tracking table (0 = no limit). Over it, keys leave the table before each command and in the cron (their readers get an invalidation), oldest first.', mutable: true }),
  }),

  ...section('Replication', {
    replicaof: option(replicaOf(), { effect: LIVE, default: '', doc: 'Replicate from this primary, "<host> <port>" (empty = this server is a primary; changed at run time by REPLICAOF).', mutable: false, aliases: ['slaveof'] }),
    'replica-read-only': option(bool(), { effect: LIVE, default: true, doc: 'Replicas reject write commands.', mutable: true, aliases: ['slave-read-only'] }),
    'replica-serve-stale-data': option(bool(), { effect: LIVE, default: true, doc: 'Replicas answer reads while out of sync with the primary.', mutable: true, aliases: ['slave-serve-stale-data'] }),
    'replica-priority': option(int(0, INT_MAX), { effect: LIVE, default: 100, doc: 'Promotion priority for failover (lower first; 0 = never).', mutable: true, aliases: ['slave-priority'] }),
    'repl-backlog-size': option(memory(1), { effect: noEffect('the change log kept in PostgreSQL is the replication backlog: its size is changelog-retention'), default: '1mb', doc: 'Replication backlog size in bytes.', mutable: true }),
    'repl-timeout': option(seconds(1, INT_MAX), { effect: LIVE, default: 60, doc: 'Replication timeout in seconds.', mutable: true }),
    'repl-ping-replica-period': option(seconds(1, INT_MAX), { effect: LIVE, default: 10, doc: 'Seconds between pings from the primary to replicas.', mutable: true, aliases: ['repl-ping-slave-period'] }),
    'repl-diskless-sync': option(bool(), { effect: notBuilt(NO_REPLICATION), default: true, doc: 'Stream the initial sync to replicas without a temporary file.', mutable: true }),
    'repl-diskless-sync-delay': option(seconds(0, INT_MAX), { effect: notBuilt(NO_REPLICATION), default: 5, doc: 'Seconds to wait for more replicas before a diskless sync starts.', mutable: true }),
    'min-replicas-to-write': option(int(0, INT_MAX), { effect: LIVE, default: 0, doc: 'A leader refuses writes (-NOREPLICAS) unless this many followers are online with an acknowledgement at most min-replicas-max-lag seconds old (0 = off).', mutable: true, aliases: ['min-slaves-to-write'] }),
    'min-replicas-max-lag': option(seconds(0, INT_MAX), { effect: LIVE, default: 10, doc: 'Seconds since its last REPLCONF ACK within which a follower counts for min-replicas-to-write (0 = off).', mutable: true, aliases: ['min-slaves-max-lag'] }),
    'replica-announce-ip': option(text({ label: 'ip' }), { effect: LIVE, default: '', doc: 'The address a follower gives its leader (REPLCONF ip-address), shown in the leader\'s INFO slaveN lines that Sentinel reads (empty = the address the leader sees).', mutable: true, aliases: ['slave-announce-ip'] }),
    'replica-announce-port': option(int(0, 65535), { effect: LIVE, default: 0, doc: 'The port a follower gives its leader (REPLCONF listening-port; 0 = its own port).', mutable: true, aliases: ['slave-announce-port'] }),
    'propagation-error-behavior': option(oneOf(['ignore', 'panic', 'panic-on-replicas'] as const), { effect: notBuilt(NO_REPLICATION), default: 'ignore', doc: 'What a replica does when a replicated command fails.', mutable: true }),
  }),

  ...section('Logging and monitoring', {
    loglevel: option(oneOf(['debug', 'verbose', 'notice', 'warning'] as const), { effect: LIVE, default: 'notice', doc: 'Log verbosity.', mutable: true }),
    'log-format': option(oneOf(['auto', 'redis', 'json'] as const), { effect: LIVE, default: 'auto', doc: 'Log line format: redis = Redis-style lines, json = one pino JSON object per line (level, time, pid, msg), auto = Redis lines on a terminal and JSON otherwise (a pipe, a container, a logfile).', mutable: false }),
    logfile: option(text({ label: 'path' }), { effect: LIVE, default: '', doc: 'Log file path (empty = standard output).', mutable: false }),
    'always-show-logo': option(bool(), { effect: noEffect('Talus prints no logo'), default: false, doc: 'Print the ASCII-art logo at start-up.', mutable: false }),
    'slowlog-log-slower-than': option(int(-1, MAX), { effect: LIVE, default: 10000, doc: 'Log commands slower than this many microseconds in SLOWLOG (-1 = off, 0 = all).', mutable: true }),
    'slowlog-max-len': option(int(0, MAX), { effect: LIVE, default: 128, doc: 'Maximum entries kept in SLOWLOG.', mutable: true }),
    'latency-monitor-threshold': option(int(0, MAX), { effect: LIVE, default: 0, doc: 'Record events slower than this many milliseconds for LATENCY (0 = off).', mutable: true }),
    'latency-tracking': option(bool(), { effect: LIVE, default: true, doc: 'Keep a latency histogram per command, for INFO latencystats and LATENCY HISTOGRAM.', mutable: true }),
    'latency-tracking-info-percentiles': option(percentiles(), { effect: LIVE, default: '50 99 99.9', doc: 'Percentiles reported by INFO latencystats.', mutable: true }),
    'metrics-port': option(int(0, 65535), { effect: LIVE, default: 0, doc: 'HTTP port for /metrics (Prometheus), /healthz and /readyz, on the bind addresses (0 = off; the Helm chart uses 9420).', mutable: false }),
    'notify-keyspace-events': option(notifyFlags(), { effect: LIVE, default: '', doc: 'Keyspace notification classes (e.g. "KEA"; empty = off). K/E: keyspace/keyevent channels; g $ l s h z x n m: generic, string, list, set, hash, sorted set, expired, new key, key miss. e (evicted) is never emitted: Talus unloads clean keys from memory but deletes nothing; d (modules) has nothing to emit in Talus.', mutable: true }),
  }),

  ...section('Process', {
    daemonize: option(bool(), { effect: LIVE, default: false, doc: 'Run in the background: bin/talus starts a detached copy, waits until it accepts connections and exits 0 (the log goes to logfile, else nowhere); a pidfile is written, <dir>/talus.pid when pidfile is empty.', mutable: false }),
    pidfile: option(text({ label: 'path' }), { effect: LIVE, default: '', doc: 'Write the process id to this file at start-up and remove it at shutdown (empty = none, or <dir>/talus.pid when daemonized).', mutable: false }),
    'cluster-enabled': option(bool(), { effect: notBuilt('cluster mode is not built'), default: false, doc: 'Run as a Redis Cluster node.', mutable: false }),
    'shutdown-on-sigterm': option(flagsOf(['default', 'save', 'nosave', 'now', 'force'], 'default'), { effect: LIVE, default: 'default', doc: 'What SIGTERM does: default = commit pending writes and exit (a failed final commit keeps the server running, like a failed save in Redis); save = the same; nosave or force = exit even when the final commit fails; now = no different (nothing is waited for besides the commit).', mutable: true }),
    'shutdown-on-sigint': option(flagsOf(['default', 'save', 'nosave', 'now', 'force'], 'default'), { effect: LIVE, default: 'default', doc: 'What SIGINT does: same values as shutdown-on-sigterm.', mutable: true }),
  }),

  ...section('Encoding thresholds (accepted for Redis compatibility)', {
    'hash-max-listpack-entries': option(int(0, MAX), { effect: LIVE, default: 128, doc: 'Hash compact-encoding entry limit.', mutable: true, aliases: ['hash-max-ziplist-entries'] }),
    'hash-max-listpack-value': option(int(0, MAX), { effect: LIVE, default: 64, doc: 'Hash compact-encoding value size limit.', mutable: true, aliases: ['hash-max-ziplist-value'] }),
    'set-max-intset-entries': option(int(0, MAX), { effect: LIVE, default: 512, doc: 'Set integer-encoding entry limit.', mutable: true }),
    'set-max-listpack-entries': option(int(0, MAX), { effect: noEffect(OWN_ENCODING + '; OBJECT ENCODING reports intset or hashtable for sets, as Redis 7.0 does'), default: 128, doc: 'Set compact-encoding entry limit.', mutable: true }),
    'set-max-listpack-value': option(int(0, MAX), { effect: noEffect(OWN_ENCODING + '; OBJECT ENCODING reports intset or hashtable for sets, as Redis 7.0 does'), default: 64, doc: 'Set compact-encoding value size limit.', mutable: true }),
    'zset-max-listpack-entries': option(int(0, MAX), { effect: LIVE, default: 128, doc: 'Sorted set compact-encoding entry limit.', mutable: true, aliases: ['zset-max-ziplist-entries'] }),
    'zset-max-listpack-value': option(int(0, MAX), { effect: LIVE, default: 64, doc: 'Sorted set compact-encoding value size limit.', mutable: true, aliases: ['zset-max-ziplist-value'] }),
    'list-max-listpack-size': option(int(INT_MIN, INT_MAX), { effect: noEffect(OWN_ENCODING + '; OBJECT ENCODING reports quicklist for every list, as Redis 7.0 does'), default: -2, doc: 'List node size (negative = -1..-5 for 4kb..64kb, positive = entries).', mutable: true, aliases: ['list-max-ziplist-size'] }),
    'list-compress-depth': option(int(0, INT_MAX), { effect: noEffect(OWN_ENCODING), default: 0, doc: 'List nodes left uncompressed at each end (0 = no compression).', mutable: true }),
    'stream-node-max-bytes': option(memory(), { effect: LIVE, default: 4096, doc: 'Stream node size limit in bytes. Talus keeps entries in its own structure but tracks the node boundaries Redis would have (counting the listpack bytes of each node as Redis lays them out), because approximate trimming (MAXLEN ~, MINID ~) removes whole nodes only.', mutable: true }),
    'stream-node-max-entries': option(int(0, MAX), { effect: LIVE, default: 100, doc: 'Stream node entry limit: where approximate trimming (MAXLEN ~, MINID ~) may cut a stream, as in Redis; 100 times it is the default LIMIT of approximate trimming.', mutable: true }),
    'hll-sparse-max-bytes': option(memory(), { effect: LIVE, default: 3000, doc: 'HyperLogLog sparse representation size limit in bytes: a sparse value that would grow past it becomes dense (values are Redis\'s own HyperLogLog bytes).', mutable: true }),
    'sanitize-dump-payload': option(oneOf(['no', 'yes', 'clients'] as const), { effect: noEffect('RESTORE always decodes a payload whole into Talus values, which checks it as deeply as yes does'), default: 'no', doc: 'Deep-check RESTORE payloads.', mutable: true }),
  }),

  ...section('Backups', {
    'backup-cron': option(cronExpression(), { effect: LIVE, default: '', doc: 'When to take a full backup (pg_dump of the talus schema), as a cron expression such as 0 3 * * * (empty = none scheduled; BGSAVE takes one when backups are configured). docs/backup.md.', mutable: true }),
    'backup-dir': option(text({ label: 'path' }), { effect: LIVE, default: '', doc: 'Where full backups, change-log archives and restore points are written (empty = <dir>/backups). Backups are configured when this or backup-cron is set: BGSAVE then takes a full backup, the change log is archived after it, and the janitor keeps what is not archived yet.', mutable: true }),
    'backup-keep': option(int(0, 100000), { effect: LIVE, default: 7, doc: 'Full backups kept, newest first (0 = no count rule); with backup-keep-days a backup goes once outside both. Archives older than the oldest kept backup go with it.', mutable: true }),
    'backup-keep-days': option(int(0, 100000), { effect: LIVE, default: 0, doc: 'Days a full backup is kept (0 = no age rule).', mutable: true }),
    'backup-log-cron': option(cronExpression(), { effect: LIVE, default: '', doc: 'When to archive the committed change log, as a cron expression (empty = continuously, every few seconds).', mutable: true }),
    'pg-bin-dir': option(text({ label: 'path' }), { effect: LIVE, default: '', doc: 'Directory of pg_dump and pg_restore (empty = found on PATH; Debian: apt-get install postgresql-client-15). Their major version must be at least the server\'s.', mutable: true }),
  }),
};

// ---------------------------------------------------------------------------
// Derived definitions and types
// ---------------------------------------------------------------------------

type Specs = typeof SPECS;

/** Canonical (kebab-case) option names. */
export type OptionName = keyof Specs & string;

type CamelCase<S extends string> = S extends `${infer H}-${infer T}` ? `${H}${Capitalize<CamelCase<T>>}` : S;

/** The typed value of an option, by kebab name. */
export type OptionValue<N extends OptionName> = Specs[N] extends OptionSpec<infer T> ? T : never;

/** Parsed configuration values, camelCase keys (values.maxmemoryPolicy, values.databaseUrl). */
export type TalusConfig = { [N in OptionName as CamelCase<N>]: OptionValue<N> };

/** One option, fully resolved. */
export interface OptionDef<T = unknown> {
  /** Canonical kebab-case name. */
  readonly name: string;
  /** camelCase key in TalusConfig. */
  readonly key: string;
  readonly aliases: readonly string[];
  /** Environment variables, highest priority first (TALUS_<NAME>, then envAliases). */
  readonly env: readonly string[];
  readonly doc: string;
  /** What it does in Talus: live, no effect (why), or not built yet. */
  readonly effect: Effect;
  readonly mutable: boolean;
  readonly sensitive: boolean;
  readonly hidden: boolean;
  readonly section: string;
  readonly kind: Kind<T>;
  /** Default as written in the schema (text or literal). */
  readonly defaultRaw: string | number | boolean;
  /** Parsed default. */
  readonly default: T;
  /** Parse text; `error` is the Redis CONFIG SET wording ("argument must be ..."). */
  parse(text: string): { ok: true; value: T } | { ok: false; error: string };
  /**
   * Why a parsed value is refused although well-formed: a not-built option
   * set to anything but its default (or `alsoAccepted`). E.g.
   * "notify-keyspace-events: keyspace notifications are not built yet; only '' is accepted".
   */
  refusal(value: T): string | undefined;
  /** CONFIG GET formatting. */
  show(value: T): string;
  /** Config-file arguments: one argument, or several for multi-argument options. */
  confArgs(value: T): string | string[];
}

/** The option's status in words, for --help, talus.conf and docs/configuration.md ('' when live). */
export function effectNote(def: Pick<OptionDef, 'effect' | 'default' | 'kind'>): string {
  const e = def.effect;
  if (e.kind === 'live') return '';
  if (e.kind === 'no-effect') return `Accepted for compatibility, no effect in Talus: ${e.reason}.`;
  const accepted = [(def.kind.conf ?? def.kind.show)(def.default), ...e.alsoAccepted].map((a) => `'${a}'`).join(' or ');
  return `Not built: ${e.missing}; only ${accepted} ${e.alsoAccepted.length ? 'are' : 'is'} accepted.`;
}

export const camelCase = (name: string): string => name.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase());
export const envName = (name: string): string => `TALUS_${name.toUpperCase().replace(/-/g, '_')}`;

function resolve<T>(name: string, spec: OptionSpec<T>): OptionDef<T> {
  const kind = spec.kind;
  const parse = (text: string): { ok: true; value: T } | { ok: false; error: string } => {
    const r = kind.schema.safeParse(text);
    return r.success ? { ok: true, value: r.data } : { ok: false, error: r.error.issues[0]?.message ?? 'invalid argument' };
  };
  const d = kind.schema.safeParse(spec.default);
  if (!d.success) throw new Error(`schema bug: bad default for ${name}: ${d.error.issues[0]?.message}`);
  const effect = spec.effect;
  // Compared as CONFIG GET shows them; named as a config file writes them ('1mb').
  const accepted = effect.kind === 'not-built' ? [kind.show(d.data), ...effect.alsoAccepted] : [];
  const acceptedText = effect.kind === 'not-built' ? [(kind.conf ?? kind.show)(d.data), ...effect.alsoAccepted] : [];
  const refusal = (value: T): string | undefined => {
    if (effect.kind !== 'not-built' || accepted.includes(kind.show(value))) return undefined;
    return `${name}: ${effect.missing}; only ${acceptedText.map((a) => `'${a}'`).join(' or ')} ${accepted.length > 1 ? 'are' : 'is'} accepted`;
  };
  return {
    name,
    key: camelCase(name),
    aliases: spec.aliases ?? [],
    env: [envName(name), ...(spec.envAliases ?? [])],
    doc: spec.doc,
    effect,
    refusal,
    mutable: spec.mutable,
    sensitive: spec.sensitive ?? false,
    hidden: spec.hidden ?? false,
    section: spec.section,
    kind,
    defaultRaw: spec.default,
    default: d.data,
    parse,
    show: kind.show,
    confArgs: (v: T) => {
      const s = (kind.conf ?? kind.show)(v);
      return kind.multiArg ? s.split(' ').filter(Boolean) : s;
    },
  };
}

/** Every option, in declaration order. */
export const OPTIONS: readonly OptionDef[] = Object.entries(SPECS).map(([name, spec]) => resolve(name, spec as OptionSpec<unknown>));

const BY_NAME = new Map<string, OptionDef>();
for (const def of OPTIONS) {
  for (const n of [def.name, ...def.aliases]) {
    if (BY_NAME.has(n)) throw new Error(`schema bug: duplicate option name ${n}`);
    BY_NAME.set(n, def);
  }
}

/** Find an option by name or alias (case-insensitive). */
export function lookupOption(name: string): OptionDef | undefined {
  return BY_NAME.get(name.toLowerCase());
}

/** Every accepted name (canonical names and aliases), lower case, in declaration order. */
export function allOptionNames(): string[] {
  return [...BY_NAME.keys()];
}

/**
 * The whole configuration as one zod object (camelCase keys, every key
 * optional with its default): `configSchema.parse({})` gives the defaults;
 * `configSchema.parse({ port: '6400', maxmemory: '64mb' })` parses text.
 */
export const configSchema: z.ZodType<TalusConfig> = z.object(
  Object.fromEntries(OPTIONS.map((d) => [d.key, (d.kind.schema as z.ZodType<unknown>).prefault(d.defaultRaw as never)])),
) as unknown as z.ZodType<TalusConfig>;

/** A fresh object with every option at its default. */
export function defaultConfig(): TalusConfig {
  const out: Record<string, unknown> = {};
  for (const d of OPTIONS) out[d.key] = structuredClone(d.default);
  return out as TalusConfig;
}

/** Paths derived from the configuration. */
export function dataPaths(values: Pick<TalusConfig, 'dir' | 'backupDir'>): { dir: string; pgDir: string; backupDir: string } {
  const dir = path.resolve(values.dir);
  return { dir, pgDir: path.join(dir, 'pg'), backupDir: path.resolve(dir, values.backupDir || 'backups') };
}
