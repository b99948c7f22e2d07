/**
 * Start-up configuration: defaults < config file < environment < command line.
 *
 *   talus [config-file] [--name value [value ...]] ...
 *   talus -c <config-file> | --config <config-file> [--name value ...]
 *
 * A flag's value is every following argument up to the next `--`, joined with
 * spaces (`--replicaof 10.0.0.1 9221`, `--save ""`); `--name=value` works too.
 * Environment: TALUS_<NAME> (upper snake case), and DATABASE_URL for
 * database-url; a `.env` file in the working directory is read first (the
 * real environment wins over it). `--help` / `--version` are left to the
 * caller (see helpText()).
 */
import fs from 'node:fs';
import path from 'node:path';
import { readConfFile, type ConfDirective } from './conf-file.js';
import { ConfigError, OPTIONS, defaultConfig, effectNote, lookupOption, allOptionNames, type OptionDef, type TalusConfig } from './schema.js';

export { ConfigError } from './schema.js';

/** Where a value came from. */
export type ConfigOrigin =
  | { readonly kind: 'default' }
  | { readonly kind: 'file'; readonly file: string; readonly line: number }
  | { readonly kind: 'env'; readonly variable: string; readonly dotenv?: string }
  | { readonly kind: 'argv' };

export interface LoadedConfig {
  /** Parsed values; `dir` is made absolute (against cwd). */
  readonly values: TalusConfig;
  /** Absolute path of the config file, if one was given. */
  readonly configFile?: string;
  /** Origin of every option not at its default, by canonical name. */
  readonly origins: ReadonlyMap<string, ConfigOrigin>;
  /** Non-fatal remarks for the log (e.g. unknown TALUS_* variables). */
  readonly warnings: readonly string[];
  readonly cwd: string;
  /** `user <name> <rules...>` directives (config file, then command line): ACL users declared at startup */
  readonly users?: ReadonlyArray<readonly string[]>;
}

export interface LoadOptions {
  /** Command-line arguments after the program name (process.argv.slice(2)). */
  argv: readonly string[];
  env: NodeJS.ProcessEnv;
  /** Working directory for relative paths and `.env`; default process.cwd(). */
  cwd?: string;
  /** Read `<cwd>/.env` (default true). */
  dotenv?: boolean;
}

/** Read by bin/talus, not options: TALUS_MALLOC picks the malloc, TALUS_NODE_OPTIONS node's flags. */
const LAUNCHER_VARIABLES = ['TALUS_MALLOC', 'TALUS_NODE_OPTIONS'];

/** "from /etc/talus.conf:12", "from environment variable TALUS_PORT", "from command line". */
export function describeOrigin(o: ConfigOrigin): string {
  switch (o.kind) {
    case 'default':
      return 'default';
    case 'file':
      return `from ${o.file}:${o.line}`;
    case 'env':
      return o.dotenv ? `from ${o.variable} in ${o.dotenv}` : `from environment variable ${o.variable}`;
    case 'argv':
      return 'from command line';
  }
}

const HELP_FLAGS = new Set(['--help', '-h', '--version', '-v']);

interface ArgvDirective {
  name: string;
  args: string[];
}

/** Split argv into a config file path and `--name value...` directives. */
export function parseArgv(argv: readonly string[]): { configFile?: string; directives: ArgvDirective[] } {
  let configFile: string | undefined;
  const directives: ArgvDirective[] = [];
  let i = 0;
  const setFile = (p: string | undefined, flag: string) => {
    if (p === undefined || p === '') throw new ConfigError(`Option '${flag}' needs a config file path (from command line)`);
    if (configFile !== undefined) throw new ConfigError(`More than one config file given ('${configFile}' and '${p}') (from command line)`);
    configFile = p;
  };
  while (i < argv.length) {
    const a = argv[i]!;
    if (HELP_FLAGS.has(a)) {
      i++;
      continue;
    }
    if (a === '-c' || a === '--config') {
      setFile(argv[i + 1], a);
      i += 2;
      continue;
    }
    if (a.startsWith('--') && a.length > 2) {
      let name = a.slice(2);
      const args: string[] = [];
      const eq = name.indexOf('=');
      if (eq > 0) {
        args.push(name.slice(eq + 1));
        name = name.slice(0, eq);
      }
      i++;
      if (eq <= 0) {
        while (i < argv.length && !(argv[i]!.startsWith('--') && argv[i]!.length > 2)) args.push(argv[i++]!);
      }
      if (name.toLowerCase() === 'config') setFile(args.join(' '), '--config');
      else directives.push({ name, args });
      continue;
    }
    if (i === 0 && directives.length === 0) {
      setFile(a, 'config file');
      i++;
      continue;
    }
    throw new ConfigError(`Unexpected argument '${a}' (from command line): options are given as --name value`);
  }
  return configFile === undefined ? { directives } : { configFile, directives };
}

/** A tiny .env parser: KEY=VALUE, `export KEY=...`, # comments, '...' literal, "..." with escapes. */
export function parseDotenv(text: string, file = '.env'): Map<string, string> {
  const out = new Map<string, string>();
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line === '' || line.startsWith('#')) continue;
    const m = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_.]*)\s*=\s*(.*)$/.exec(line);
    if (!m) throw new ConfigError(`Invalid line in ${file}:${i + 1}: expected KEY=VALUE`);
    const key = m[1]!;
    const rest = m[2]!;
    let value: string;
    if (rest.startsWith('"')) {
      value = '';
      let j = 1;
      for (; j < rest.length && rest[j] !== '"'; j++) {
        if (rest[j] === '\\' && j + 1 < rest.length) {
          const e = rest[++j]!;
          value += e === 'n' ? '\n' : e === 'r' ? '\r' : e === 't' ? '\t' : e;
        } else value += rest[j];
      }
      if (j >= rest.length) throw new ConfigError(`Unterminated quote in ${file}:${i + 1}`);
      if (!/^\s*(#.*)?$/.test(rest.slice(j + 1))) throw new ConfigError(`Unexpected text after the closing quote in ${file}:${i + 1}`);
    } else if (rest.startsWith("'")) {
      const end = rest.indexOf("'", 1);
      if (end < 0) throw new ConfigError(`Unterminated quote in ${file}:${i + 1}`);
      if (!/^\s*(#.*)?$/.test(rest.slice(end + 1))) throw new ConfigError(`Unexpected text after the closing quote in ${file}:${i + 1}`);
      value = rest.slice(1, end);
    } else {
      const hash = rest.search(/\s#/);
      value = (hash >= 0 ? rest.slice(0, hash) : rest).trim();
    }
    out.set(key, value);
  }
  return out;
}

/** Edit distance counting an adjacent transposition as one edit, for "did you mean" hints. */
function distance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, d[i - 2]![j - 2]! + 1);
      d[i]![j] = v;
    }
  }
  return d[a.length]![b.length]!;
}

function suggestion(name: string): string {
  let best: string | undefined;
  let bestD = Infinity;
  for (const n of allOptionNames()) {
    const d = distance(name.toLowerCase(), n);
    if (d < bestD) {
      bestD = d;
      best = n;
    }
  }
  return best !== undefined && bestD <= Math.max(1, Math.floor(name.length / 4)) ? `; did you mean '${best}'?` : '';
}

function shown(def: OptionDef, raw: string): string {
  return def.sensitive ? '(hidden)' : `'${raw}'`;
}

/** Load the configuration. Throws ConfigError naming the option, the value, what is accepted and the source. */
export function loadConfig(opts: LoadOptions): LoadedConfig {
  const cwd = opts.cwd ?? process.cwd();
  const warnings: string[] = [];
  const { configFile: fileArg, directives: argvDirectives } = parseArgv(opts.argv);
  const configFile = fileArg === undefined ? undefined : path.resolve(cwd, fileArg);

  // Current raw text and parsed value per option.
  const raw = new Map<OptionDef, string>();
  const parsed = new Map<OptionDef, unknown>();
  const origins = new Map<string, ConfigOrigin>();

  const apply = (def: OptionDef, args: readonly string[], origin: ConfigOrigin, sameLayer: boolean) => {
    const where = describeOrigin(origin);
    if (!def.kind.multiArg && args.length > 1) {
      throw new ConfigError(`Option '${def.name}' takes one value, got ${args.length} (${where}); quote values that contain spaces`, def.name);
    }
    let text = args.join(' ');
    const prev = raw.get(def);
    if (prev !== undefined && def.kind.accumulate === 'merge') text = `${prev} ${text}`;
    else if (prev !== undefined && sameLayer && def.kind.accumulate === 'join' && text !== '' && prev !== '') text = `${prev} ${text}`;
    const r = def.parse(text);
    if (!r.ok) {
      throw new ConfigError(
        `Invalid value ${shown(def, args.join(' '))} for option '${def.name}': expected ${def.kind.accepts} (${where})`,
        def.name,
      );
    }
    const refused = def.refusal(r.value);
    if (refused !== undefined) {
      throw new ConfigError(`Unsupported value ${shown(def, args.join(' '))} for option '${def.name}' (${where}): ${refused}`, def.name);
    }
    raw.set(def, text);
    parsed.set(def, r.value);
    origins.set(def.name, origin);
  };

  const unknown = (name: string, origin: ConfigOrigin): ConfigError =>
    new ConfigError(`Unknown option '${name}' (${describeOrigin(origin)})${suggestion(name)}`);

  const users: string[][] = [];
  const declareUser = (args: readonly string[], origin: ConfigOrigin) => {
    if (args.length === 0) throw new ConfigError(`'user' needs a user name and its rules (${describeOrigin(origin)})`);
    users.push([...args]);
  };

  // 1. Config file.
  if (configFile !== undefined) {
    const directives: ConfDirective[] = readConfFile(configFile);
    const seenInFile = new Set<OptionDef>();
    for (const d of directives) {
      const origin: ConfigOrigin = { kind: 'file', file: d.file, line: d.line };
      if (d.name === 'user') {
        declareUser(d.args, origin);
        continue;
      }
      const def = lookupOption(d.name);
      if (!def) throw unknown(d.name, origin);
      apply(def, d.args, origin, seenInFile.has(def));
      seenInFile.add(def);
    }
  }

  // 2. Environment (.env first, the real environment wins).
  const env = new Map<string, { value: string; dotenv?: string }>();
  if (opts.dotenv !== false) {
    const dotenvPath = path.join(cwd, '.env');
    let text: string | undefined;
    try {
      text = fs.readFileSync(dotenvPath, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw new ConfigError(`Cannot read ${dotenvPath}: ${(e as Error).message}`);
    }
    if (text !== undefined) for (const [k, v] of parseDotenv(text, dotenvPath)) env.set(k, { value: v, dotenv: dotenvPath });
  }
  for (const [k, v] of Object.entries(opts.env)) if (v !== undefined) env.set(k, { value: v });

  const known = new Set<string>(LAUNCHER_VARIABLES);
  for (const def of OPTIONS) {
    for (const variable of def.env) known.add(variable);
    const variable = def.env.find((n) => env.has(n));
    if (variable === undefined) continue;
    const e = env.get(variable)!;
    const origin: ConfigOrigin = e.dotenv ? { kind: 'env', variable, dotenv: e.dotenv } : { kind: 'env', variable };
    apply(def, [e.value], origin, false);
  }
  for (const k of env.keys()) {
    if (k.startsWith('TALUS_') && !known.has(k)) {
      warnings.push(`Ignoring unknown environment variable ${k}${suggestion(k.slice(6).toLowerCase().replace(/_/g, '-'))}`);
    }
  }

  // 3. Command line.
  for (const d of argvDirectives) {
    const origin: ConfigOrigin = { kind: 'argv' };
    if (d.name.toLowerCase() === 'user') {
      declareUser(d.args, origin);
      continue;
    }
    const def = lookupOption(d.name);
    if (!def) throw unknown(d.name, origin);
    apply(def, d.args, origin, false);
  }

  const values = defaultConfig() as unknown as Record<string, unknown>;
  for (const [def, v] of parsed) values[def.key] = v;
  values.dir = path.resolve(cwd, values.dir as string);
  if (values.backupDir) values.backupDir = path.resolve(cwd, values.backupDir as string);
  if (values.pgBinDir) values.pgBinDir = path.resolve(cwd, values.pgBinDir as string);

  if (users.length > 0 && values.aclfile !== '') {
    throw new ConfigError(
      'Configuring Redis with users defined in redis.conf and at the same setting an ACL file path is invalid. This setup is very likely to lead to configuration errors and security holes, please define either an ACL file or declare users directly in your redis.conf, but not both.',
    );
  }
  const loaded: LoadedConfig = { values: values as unknown as TalusConfig, origins, warnings, cwd, users };
  return configFile === undefined ? loaded : { ...loaded, configFile };
}

/** --help text, generated from the schema. */
export function helpText(program = 'talus'): string {
  const out: string[] = [
    `Usage: ${program} [config-file] [--option value ...]`,
    `       ${program} -c <config-file> [--option value ...]`,
    `       ${program} --help | --version`,
    '',
    'Every option can be set (lowest to highest precedence) by its default, in the',
    'config file as "name value", in the environment as TALUS_<NAME> (also read',
    'from .env in the working directory), or on the command line as --name value.',
    'Memory sizes accept units k, kb, m, mb, g, gb (k = 1000, kb = 1024).',
  ];
  let section = '';
  for (const def of OPTIONS) {
    if (def.section !== section) {
      section = def.section;
      out.push('', `${section}:`);
    }
    const dflt = (def.kind.conf ?? def.kind.show)(def.default as never);
    const extras = [`default ${dflt === '' ? '""' : dflt}`, `env ${def.env.join(' or ')}`];
    if (def.aliases.length) extras.push(`alias ${def.aliases.join(', ')}`);
    if (!def.mutable) extras.push('fixed at start-up');
    const note = effectNote(def);
    out.push(`  --${def.name} <${def.kind.label}>`, `      ${def.doc}`);
    if (note) out.push(`      ${note}`);
    out.push(`      (${extras.join('; ')})`);
  }
  return out.join('\n') + '\n';
}
