/**
 * The runtime configuration: typed values for hot paths, CONFIG GET / SET /
 * REWRITE semantics, change listeners.
 */
import { globMatch } from '../util/glob.js';
import { rewriteConfFile } from './conf-file.js';
import { loadConfig, type ConfigOrigin, type LoadedConfig } from './load.js';
import {
  ConfigError,
  OPTIONS,
  allOptionNames,
  defaultConfig,
  lookupOption,
  type OptionDef,
  type OptionName,
  type OptionValue,
  type TalusConfig,
} from './schema.js';

export { ConfigError } from './schema.js';
export type { TalusConfig, OptionName, OptionValue } from './schema.js';

type Listener = (value: unknown) => void;

export interface SetOptions {
  /** Allow immutable options (for internal callers such as REPLICAOF updating `replicaof`). */
  allowImmutable?: boolean;
}

export class ConfigStore {
  /**
   * Parsed values. The object identity never changes: CONFIG SET mutates it,
   * so hot paths may keep a reference and read e.g. `values.maxmemory`.
   */
  readonly values: Readonly<TalusConfig>;
  /** Absolute path of the config file the server was started with. */
  readonly configFile?: string;
  /** ACL users declared by `user` directives at startup */
  users: ReadonlyArray<readonly string[]> = [];
  /** CONFIG REWRITE's `user` lines (the server's users; none when they live in an aclfile), set by the server */
  userLines: (() => string[]) | undefined = undefined;

  private readonly listeners = new Map<string, Set<Listener>>();
  /** Options to write on CONFIG REWRITE: set at run time or given on the command line. */
  private readonly toRewrite = new Set<string>();
  private readonly origins: Map<string, ConfigOrigin | { readonly kind: 'set' }>;
  private rewriting: Promise<void> = Promise.resolve();

  private constructor(values: TalusConfig, configFile: string | undefined, origins: ReadonlyMap<string, ConfigOrigin>) {
    this.values = values;
    if (configFile !== undefined) this.configFile = configFile;
    this.origins = new Map(origins);
    for (const [name, o] of origins) if (o.kind === 'argv') this.toRewrite.add(name);
  }

  static from(loaded: LoadedConfig): ConfigStore {
    const store = new ConfigStore(structuredClone(loaded.values), loaded.configFile, loaded.origins);
    store.users = loaded.users ?? [];
    return store;
  }

  /**
   * A store at the defaults, with optional overrides given as config text or
   * literals (`{ maxmemory: '64mb', port: 0 }`). No file, env or .env is read.
   * Meant for tests and tools.
   */
  static withDefaults(overrides: Partial<Record<OptionName, string | number | boolean>> = {}): ConfigStore {
    const store = new ConfigStore(defaultConfig(), undefined, new Map());
    const pairs = Object.entries(overrides).map(([k, v]): [string, string] => [k, typeof v === 'boolean' ? (v ? 'yes' : 'no') : String(v)]);
    if (pairs.length) store.set(pairs, { allowImmutable: true });
    store.toRewrite.clear();
    return store;
  }

  /** Convenience: loadConfig + from. */
  static load(opts: Parameters<typeof loadConfig>[0]): ConfigStore {
    return ConfigStore.from(loadConfig(opts));
  }

  /**
   * CONFIG GET: each pattern is a glob (case-insensitive) over option names
   * and aliases; a match is reported under the name that matched. Values are
   * formatted as Redis does. No name appears twice.
   */
  get(patterns: readonly string[]): Array<[string, string]> {
    const out: Array<[string, string]> = [];
    const seen = new Set<string>();
    const add = (name: string, def: OptionDef) => {
      if (seen.has(name)) return;
      seen.add(name);
      out.push([name, this.show(def)]);
    };
    for (const pattern of patterns) {
      if (!/[*?[]/.test(pattern)) {
        const def = lookupOption(pattern);
        if (def) add(pattern.toLowerCase(), def);
        continue;
      }
      const glob = Buffer.from(pattern);
      for (const name of allOptionNames()) {
        const def = lookupOption(name)!;
        if (!def.hidden && globMatch(glob, Buffer.from(name), true)) add(name, def);
      }
    }
    return out;
  }

  /** The CONFIG GET text of one option (name or alias). */
  getOne(name: string): string | undefined {
    const def = lookupOption(name);
    return def ? this.show(def) : undefined;
  }

  /**
   * CONFIG SET name value [name value ...]: all or nothing. Throws ConfigError
   * with the Redis error text. Listeners of options whose value changed run
   * afterwards; if one throws, every option is restored and the error is
   * reported like a failed CONFIG SET.
   */
  set(pairs: ReadonlyArray<readonly [string, string]>, opts: SetOptions = {}): void {
    const defs: OptionDef[] = [];
    let unknownName: string | undefined;
    let failure: { arg: string; why: string } | undefined;
    for (const [name] of pairs) {
      const def = lookupOption(name);
      if (!def) {
        if (unknownName === undefined && failure === undefined) unknownName = name;
        continue;
      }
      if (unknownName !== undefined || failure !== undefined) continue;
      if (!def.mutable && !opts.allowImmutable) failure = { arg: name, why: "can't set immutable config" };
      else if (defs.includes(def)) failure = { arg: name, why: 'duplicate parameter' };
      defs.push(def);
    }
    if (unknownName !== undefined) throw new ConfigError(`ERR Unknown option or number of arguments for CONFIG SET - '${unknownName}'`);
    if (failure) throw setFailed(failure.arg, failure.why);

    const values = this.values as Record<string, unknown>;
    const next: unknown[] = [];
    pairs.forEach(([, text], i) => {
      const def = defs[i]!;
      const input = def.kind.accumulate === 'merge' ? `${this.show(def)} ${text}` : text;
      const r = def.parse(input);
      if (!r.ok) throw setFailed(def.name, r.error);
      const refused = def.refusal(r.value);
      if (refused !== undefined) throw setFailed(pairs[i]![0], refused);
      next.push(r.value);
    });

    const old = defs.map((def) => values[def.key]);
    const changed: number[] = [];
    defs.forEach((def, i) => {
      if (def.show(old[i]) !== def.show(next[i])) changed.push(i);
      values[def.key] = next[i];
    });
    for (const i of changed) {
      const def = defs[i]!;
      try {
        this.emit(def, next[i]);
      } catch (e) {
        defs.forEach((d, j) => (values[d.key] = old[j]));
        for (const j of changed) {
          try {
            this.emit(defs[j]!, old[j]);
          } catch {
            // best effort while rolling back
          }
        }
        throw setFailed(def.name, e instanceof Error ? e.message : String(e));
      }
    }
    for (const def of defs) {
      this.toRewrite.add(def.name);
      this.origins.set(def.name, { kind: 'set' });
    }
  }

  /** Run `listener(value)` after a successful CONFIG SET changes `name` (or an alias). Returns an unsubscribe function. */
  onChange<N extends OptionName>(name: N, listener: (value: OptionValue<N>) => void): () => void;
  onChange(name: string, listener: (value: unknown) => void): () => void;
  onChange(name: string, listener: Listener): () => void {
    const def = lookupOption(name);
    if (!def) throw new ConfigError(`Unknown option '${name}'`);
    let set = this.listeners.get(def.name);
    if (!set) this.listeners.set(def.name, (set = new Set()));
    set.add(listener);
    return () => set.delete(listener);
  }

  /** Where the current value of an option came from ('set' = CONFIG SET). */
  origin(name: string): ConfigOrigin | { readonly kind: 'set' } {
    const def = lookupOption(name);
    return (def && this.origins.get(def.name)) || { kind: 'default' };
  }

  /**
   * CONFIG REWRITE: write options changed by CONFIG SET or given on the
   * command line into the config file, keeping everything else. Values from
   * the environment are not written (they are read again at every start).
   */
  rewrite(): Promise<void> {
    const file = this.configFile;
    if (file === undefined) return Promise.reject(new ConfigError('ERR The server is running without a config file'));
    const run = async () => {
      const changed = new Map<string, string | string[]>();
      for (const def of OPTIONS) {
        if (this.toRewrite.has(def.name)) changed.set(def.name, def.confArgs((this.values as Record<string, unknown>)[def.key]));
      }
      try {
        const repeated = this.userLines === undefined ? undefined : new Map([['user', this.userLines()]]);
        await rewriteConfFile(file, changed, { canonical: (n) => lookupOption(n)?.name, ...(repeated ? { repeated } : {}) });
      } catch (e) {
        throw new ConfigError(`ERR Rewriting config file: ${e instanceof Error ? e.message : String(e)}`);
      }
    };
    const p = this.rewriting.then(run, run);
    this.rewriting = p.catch(() => {});
    return p;
  }

  private show(def: OptionDef): string {
    return def.show((this.values as Record<string, unknown>)[def.key]);
  }

  private emit(def: OptionDef, value: unknown): void {
    const set = this.listeners.get(def.name);
    if (set) for (const l of [...set]) l(value);
  }
}

function setFailed(arg: string, why: string): ConfigError {
  const def = lookupOption(arg);
  return new ConfigError(`ERR CONFIG SET failed (possibly related to argument '${arg}') - ${why}`, def?.name);
}
