/**
 * Key positions and flags from Redis 7 key specs, as COMMAND GETKEYS and
 * GETKEYSANDFLAGS report them: each spec finds where its keys begin (an
 * index, or the argument after a keyword) and then which ones follow (a
 * range, or a count read from the arguments). Commands whose specs cannot
 * say it (an `unknown` spec, or flags that depend on the arguments) have a
 * finder of their own below, like Redis's getkeys procedures.
 */
import { keyword } from './args.js';
import type { CommandSpec, KeySpecData } from './spec.js';

export interface FoundKey {
  /** index in the command's arguments (0 = the command name) */
  pos: number;
  flags: string[];
}

const RO_ACCESS = ['RO', 'access'];
const RW_ACCESS_UPDATE = ['RW', 'access', 'update'];
const OW_UPDATE = ['OW', 'update'];

/**
 * Finders for the commands whose key specs are incomplete or whose flags vary.
 * Each is given the arguments and the positions Talus's own key finder reports.
 */
const FINDERS: Record<string, (argv: Buffer[], positions: number[]) => FoundKey[]> = {
  // SET ... GET reads the old value
  set: (argv) => [{ pos: 1, flags: argv.slice(3).some((a) => keyword(a) === 'GET') ? RW_ACCESS_UPDATE : OW_UPDATE }],
  // BITFIELD with only GET (and OVERFLOW) operations reads; anything else may write
  bitfield: (argv) => [{ pos: 1, flags: bitfieldReadsOnly(argv) ? RO_ACCESS : RW_ACCESS_UPDATE }],
  // SORT's key, then the STORE target if any
  sort: (_argv, positions) => positions.map((pos, i) => ({ pos, flags: i === 0 ? RO_ACCESS : OW_UPDATE })),
  sort_ro: () => [{ pos: 1, flags: RO_ACCESS }],
  // MIGRATE: as Redis's own key finder (not its specs), the key argument or the keys after KEYS (commands/migrate.ts)
  migrate: (_argv, positions) => positions.map((pos) => ({ pos, flags: pos === 3 ? ['RW', 'access', 'delete'] : ['RW', 'access', 'delete', 'incomplete'] })),
};

function bitfieldReadsOnly(argv: Buffer[]): boolean {
  for (let i = 2; i < argv.length; i++) {
    const remaining = argv.length - i - 1;
    const op = keyword(argv[i]!);
    if (op === 'GET' && remaining >= 2) i += 2;
    else if (op === 'OVERFLOW' && remaining >= 1) i += 1;
    else return false;
  }
  return true;
}

/** Whether COMMAND GETKEYS can find keys in the command at all. */
export function specHasKeys(name: string, spec: CommandSpec): boolean {
  return FINDERS[name] !== undefined || spec.key_specs.some((k) => !k.flags.includes('not_key'));
}

/**
 * The keys of `argv` (command name first) by the command's key specs, in spec
 * order, or by its finder; `positions` are what Talus's own key finder says,
 * used where the specs cannot tell.
 */
export function keysFromSpec(name: string, spec: CommandSpec, argv: Buffer[], positions: number[]): FoundKey[] {
  const finder = FINDERS[name];
  if (finder) return finder(argv, positions);
  const found = bySpecs(spec, argv);
  if (found) return found;
  // the arguments do not fit the specs (a bad key count...): Talus's own finder decides
  return positions.map((pos, i) => ({ pos, flags: spec.key_specs[Math.min(i, spec.key_specs.length - 1)]?.flags ?? RO_ACCESS }));
}

function bySpecs(spec: CommandSpec, argv: Buffer[]): FoundKey[] | undefined {
  const out: FoundKey[] = [];
  const argc = argv.length;
  for (const ks of spec.key_specs) {
    if (ks.flags.includes('not_key')) continue;
    const first = beginSearch(ks, argv);
    if (first === undefined) return undefined;
    if (first === 0) continue; // keyword absent: this spec has no keys here
    const range = findKeys(ks, argv, first);
    if (!range) return undefined;
    const [from, last, step] = range;
    if (last >= argc || last < from || from >= argc) return undefined;
    for (let i = from; i <= last; i += step) out.push({ pos: i, flags: ks.flags });
  }
  return out;
}

/** Where the spec's keys begin: an index, 0 if its keyword is absent, undefined if unknown. */
function beginSearch(ks: KeySpecData, argv: Buffer[]): number | undefined {
  const { type, spec } = ks.begin_search;
  if (type === 'index') return spec.index as number;
  if (type !== 'keyword') return undefined;
  const word = String(spec.keyword).toUpperCase();
  const startfrom = spec.startfrom as number;
  const argc = argv.length;
  const start = startfrom > 0 ? startfrom : argc + startfrom;
  const end = startfrom > 0 ? argc - 1 : 1;
  for (let i = start; i !== end; i = start <= end ? i + 1 : i - 1) {
    if (i >= argc || i < 1) break;
    if (keyword(argv[i]!) === word) return i + 1;
  }
  return 0;
}

/** [first, last, step] of the keys from `first`, or undefined if the arguments do not fit. */
function findKeys(ks: KeySpecData, argv: Buffer[], first: number): [number, number, number] | undefined {
  const { type, spec } = ks.find_keys;
  const argc = argv.length;
  if (type === 'range') {
    const { lastkey, keystep, limit } = spec as { lastkey: number; keystep: number; limit: number };
    if (lastkey >= 0) return [first, first + lastkey, keystep];
    if (!limit) return [first, argc + lastkey, keystep];
    return [first, first + (Math.floor((argc - first) / limit) + lastkey), keystep];
  }
  if (type === 'keynum') {
    const { keynumidx, firstkey, keystep } = spec as { keynumidx: number; firstkey: number; keystep: number };
    if (keynumidx >= argc) return undefined;
    const raw = argv[first + keynumidx];
    const text = raw?.toString('latin1') ?? '';
    if (!/^(0|-?[1-9][0-9]*)$/.test(text)) return undefined;
    const numkeys = Number(text);
    if (numkeys < 0) return undefined;
    return [first + firstkey, first + firstkey + numkeys - 1, keystep];
  }
  return undefined;
}
