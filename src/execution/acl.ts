/**
 * Access control lists (Redis 7.0 semantics): users, their passwords and
 * their permissions on commands, keys and pub/sub channels; the check the
 * executor runs before each command; the ACL log. The `default` user's
 * password is the requirepass option.
 */
import fs from 'node:fs';
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Command, CommandTable } from '../commands/table.js';
import { subcommandOf } from '../commands/table.js';
import { keysFromSpec } from '../commands/spec-keys.js';
import type { Session } from './session.js';
import { splitArgs } from '../config/conf-file.js';
import { globMatch } from '../util/glob.js';

/** ACL categories, in Redis's order (ACL CAT). */
export const CATEGORIES = [
  'keyspace', 'read', 'write', 'set', 'sortedset', 'list', 'hash', 'string', 'bitmap', 'hyperloglog', 'geo', 'stream',
  'pubsub', 'admin', 'fast', 'slow', 'blocking', 'dangerous', 'connection', 'transaction', 'scripting',
] as const;

const READ = 1;
const WRITE = 2;

export interface KeyPattern {
  pattern: Buffer;
  flags: number;
}

export type Denial = 'command' | 'key' | 'channel';

export class AclError extends Error {
  constructor(message: string, readonly rule: Buffer) {
    super(message);
  }
}

export class User {
  enabled = false;
  nopass = false;
  /** SHA-256 hex digests, in the order given */
  passwords: string[] = [];
  /** set by +@all / allcommands: future commands are allowed too */
  allCommands = false;
  /** command and subcommand full names allowed */
  allowed = new Set<string>();
  /** allowed first arguments of commands otherwise denied (+select|0) */
  firstArgs = new Map<string, string[]>();
  allKeys = false;
  keys: KeyPattern[] = [];
  allChannels = false;
  channels: Buffer[] = [];
  /** nothing to check: every command, key and channel */
  unrestricted = false;

  constructor(readonly name: string) {}

  refresh(table: CommandTable): void {
    this.unrestricted = this.allKeys && this.allChannels && this.firstArgs.size === 0 && everyCommand(table, this.allowed);
  }
}

function everyCommand(table: CommandTable, allowed: Set<string>): boolean {
  for (const cmd of table.all()) {
    if (!allowed.has(cmd.fullName)) return false;
    for (const sub of cmd.subcommands.values()) if (!allowed.has(sub.fullName)) return false;
  }
  return true;
}

export function hashPassword(p: Buffer | string): string {
  return createHash('sha256').update(p).digest('hex');
}

export interface AclLogEntry {
  count: number;
  reason: string;
  context: string;
  object: string;
  username: string;
  createdAt: number;
  clientInfo: string;
}

export class Acl {
  readonly users = new Map<string, User>();
  log: AclLogEntry[] = [];
  /** a client's CLIENT LIST line, for the log (set by the server) */
  describeClient: (s: Session, current?: { args: Buffer[]; name: string }) => string = () => '';

  constructor(readonly table: CommandTable) {
    this.users.set('default', this.defaultUser(''));
  }

  /** The default user as a fresh server has it, with `requirepass` as its password. */
  defaultUser(requirepass: string): User {
    const u = new User('default');
    this.setUser(u, ['reset', 'on', 'nopass', '~*', '&*', '+@all'].map((s) => Buffer.from(s)));
    if (requirepass !== '') this.setUser(u, [Buffer.from('resetpass'), Buffer.from(`>${requirepass}`)]);
    return u;
  }

  /** Whether a new connection starts authenticated (as the default user: enabled, no password needed). */
  defaultAuthenticates(): boolean {
    const u = this.users.get('default')!;
    return u.enabled && u.nopass;
  }

  /** requirepass changed: the default user's password becomes it (as Redis: nopass when empty). */
  setRequirepass(p: string): void {
    const u = this.users.get('default')!;
    this.setUser(u, [Buffer.from('resetpass'), Buffer.from(p === '' ? 'nopass' : `>${p}`)]);
  }

  /** The user `name`, if it exists, is enabled and `pass` is one of its passwords (or it has nopass). */
  authenticate(name: string, pass: Buffer): User | undefined {
    const u = this.users.get(name);
    if (u === undefined || !u.enabled) return undefined;
    if (u.nopass) return u;
    const h = Buffer.from(hashPassword(pass));
    return u.passwords.some((p) => timingSafeEqual(Buffer.from(p), h)) ? u : undefined;
  }

  /** Apply rules to a user; throws AclError(`message`) at the first bad rule, with the user unchanged. */
  setUser(u: User, rules: Buffer[]): void {
    const copy = cloneUser(u);
    for (const r of rules) {
      const err = this.applyRule(copy, r);
      if (err !== undefined) throw new AclError(err, r);
    }
    Object.assign(u, copy);
    u.refresh(this.table);
  }

  private applyRule(u: User, raw: Buffer): string | undefined {
    const op = raw.toString('latin1');
    const lower = op.toLowerCase();
    switch (lower) {
      case 'on': u.enabled = true; return;
      case 'off': u.enabled = false; return;
      case 'nopass': u.nopass = true; u.passwords = []; return;
      case 'resetpass': u.nopass = false; u.passwords = []; return;
      case 'allkeys': case '~*': u.allKeys = true; u.keys = []; return;
      case 'resetkeys': u.allKeys = false; u.keys = []; return;
      case 'allchannels': case '&*': u.allChannels = true; u.channels = []; return;
      case 'resetchannels': u.allChannels = false; u.channels = []; return;
      case 'allcommands': case '+@all': this.setAllCommands(u, true); return;
      case 'nocommands': case '-@all': this.setAllCommands(u, false); return;
      case 'reset':
        for (const r of ['resetpass', 'resetkeys', 'resetchannels', 'off', '-@all']) this.applyRule(u, Buffer.from(r));
        return;
      case 'sanitize-payload': case 'skip-sanitize-payload': return;
    }
    const c0 = op[0];
    if (c0 === '>' || c0 === '<' || c0 === '#' || c0 === '!') {
      // >pass and <pass name a password, #hash and !hash its SHA-256
      const h = c0 === '>' || c0 === '<' ? hashPassword(raw.subarray(1)) : op.slice(1);
      if ((c0 === '#' || c0 === '!') && !/^[0-9a-f]{64}$/.test(h)) {
        return 'The password hash must be exactly 64 characters and contain only lowercase hexadecimal characters';
      }
      if (c0 === '>' || c0 === '#') {
        if (!u.passwords.includes(h)) u.passwords.push(h);
        u.nopass = false;
      } else {
        if (!u.passwords.includes(h)) return 'The password you are trying to remove from the user does not exist';
        u.passwords = u.passwords.filter((p) => p !== h);
      }
      return;
    }
    if (c0 === '~' || c0 === '%') {
      if (u.allKeys) return "Adding a pattern after the * pattern (or the 'allkeys' flag) is not valid and does not have any effect. Try 'resetkeys' to start with an empty list of patterns";
      let flags = READ | WRITE;
      let pat = raw.subarray(1);
      if (c0 === '%') {
        const tilde = raw.indexOf(0x7e);
        if (tilde < 2) return 'Syntax error';
        flags = 0;
        for (const ch of raw.subarray(1, tilde).toString('latin1')) {
          if (ch === 'R' || ch === 'r') flags |= READ;
          else if (ch === 'W' || ch === 'w') flags |= WRITE;
          else return 'Syntax error';
        }
        pat = raw.subarray(tilde + 1);
      }
      if (flags === (READ | WRITE) && pat.length === 1 && pat[0] === 0x2a) {
        u.allKeys = true;
        u.keys = [];
        return;
      }
      const same = u.keys.find((k) => k.pattern.equals(pat));
      if (same) same.flags |= flags;
      else u.keys.push({ pattern: Buffer.from(pat), flags });
      return;
    }
    if (c0 === '&') {
      if (u.allChannels) return "Adding a pattern after the * pattern (or the 'allchannels' flag) is not valid and does not have any effect. Try 'resetchannels' to start with an empty list of channels";
      const pat = raw.subarray(1);
      if (!u.channels.some((c) => c.equals(pat))) u.channels.push(Buffer.from(pat));
      return;
    }
    if (c0 === '+' || c0 === '-') {
      const allow = c0 === '+';
      const name = lower.slice(1);
      if (name.startsWith('@')) {
        const cat = name.slice(1);
        if (!(CATEGORIES as readonly string[]).includes(cat)) return 'Unknown command or category name in ACL';
        for (const cmd of this.table.all()) {
          if (hasCategory(cmd, cat)) this.changeCommand(u, cmd, allow);
          for (const sub of cmd.subcommands.values()) if (hasCategory(sub, cat)) this.changeCommand(u, sub, allow);
        }
        return;
      }
      const bar = name.indexOf('|');
      if (bar < 0) {
        const cmd = this.table.lookup(name);
        if (cmd === undefined) return 'Unknown command or category name in ACL';
        this.changeCommand(u, cmd, allow);
        return;
      }
      const cmd = this.table.lookup(name.slice(0, bar));
      const rest = name.slice(bar + 1);
      if (cmd === undefined || rest === '' || rest.includes('|')) return 'Unknown command or category name in ACL';
      if (cmd.subcommands.size > 0) {
        const sub = cmd.subcommands.get(rest);
        if (sub === undefined) return 'Unknown command or category name in ACL';
        this.changeCommand(u, sub, allow);
        return;
      }
      // a first argument of a command without subcommands: allowing only
      if (!allow) return 'Unknown command or category name in ACL';
      if (u.allowed.has(cmd.fullName)) return;
      const list = u.firstArgs.get(cmd.fullName) ?? [];
      if (!list.includes(rest)) list.push(rest);
      u.firstArgs.set(cmd.fullName, list);
      return;
    }
    if (c0 === '(') return 'Talus does not support ACL selectors';
    return 'Syntax error';
  }

  private setAllCommands(u: User, allow: boolean): void {
    u.allCommands = allow;
    u.allowed.clear();
    u.firstArgs.clear();
    if (allow) {
      for (const cmd of this.table.all()) {
        u.allowed.add(cmd.fullName);
        for (const sub of cmd.subcommands.values()) u.allowed.add(sub.fullName);
      }
    }
  }

  private changeCommand(u: User, cmd: Command, allow: boolean): void {
    if (allow) u.allowed.add(cmd.fullName);
    else u.allowed.delete(cmd.fullName);
    u.firstArgs.delete(cmd.fullName);
    for (const sub of cmd.subcommands.values()) {
      if (allow) u.allowed.add(sub.fullName);
      else u.allowed.delete(sub.fullName);
    }
  }

  /** The user's command rules as ACL LIST shows them: categories that fit best, then single commands. */
  describeCommands(u: User): string {
    const fake = new User('');
    const additive = !u.allCommands;
    this.setAllCommands(fake, !additive);
    const rules: string[] = [additive ? '-@all' : '+@all'];
    const members = (cat: string): Command[] => {
      const out: Command[] = [];
      for (const cmd of this.table.all()) {
        if (hasCategory(cmd, cat)) out.push(cmd);
        for (const sub of cmd.subcommands.values()) if (hasCategory(sub, cat)) out.push(sub);
      }
      return out;
    };
    for (const cat of CATEGORIES) {
      const m = members(cat);
      const on = m.filter((c) => u.allowed.has(c.fullName)).length;
      const off = m.length - on;
      if ((additive && on > off) || (!additive && off > on)) {
        rules.push(`${additive ? '+' : '-'}@${cat}`);
        this.applyRule(fake, Buffer.from(rules[rules.length - 1]!));
      }
    }
    const fix = (cmd: Command): void => {
      const mine = u.allowed.has(cmd.fullName);
      if (mine !== fake.allowed.has(cmd.fullName)) {
        rules.push(`${mine ? '+' : '-'}${cmd.fullName}`);
        this.changeCommand(fake, cmd, mine);
      }
    };
    for (const cmd of this.table.all()) {
      fix(cmd);
      for (const sub of cmd.subcommands.values()) fix(sub);
      if (!u.allowed.has(cmd.fullName)) for (const a of u.firstArgs.get(cmd.fullName) ?? []) rules.push(`+${cmd.fullName}|${a}`);
    }
    return rules.join(' ');
  }

  describeKeys(u: User): string {
    if (u.allKeys) return '~*';
    return u.keys.map((k) => `${k.flags === READ ? '%R' : k.flags === WRITE ? '%W' : ''}~${k.pattern.toString('latin1')}`).join(' ');
  }

  describeChannels(u: User): string {
    if (u.allChannels) return '&*';
    return u.channels.map((c) => `&${c.toString('latin1')}`).join(' ');
  }

  /** The user as ACL LIST and the ACL file show it. */
  describe(u: User): string {
    const parts = [u.enabled ? 'on' : 'off'];
    if (u.nopass) parts.push('nopass');
    for (const p of u.passwords) parts.push(`#${p}`);
    const keys = this.describeKeys(u);
    if (keys !== '') parts.push(keys);
    parts.push(u.allChannels ? '&*' : ['resetchannels', ...u.channels.map((c) => `&${c.toString('latin1')}`)].join(' '));
    parts.push(this.describeCommands(u));
    return `user ${u.name} ${parts.join(' ')}`;
  }

  /**
   * Whether `u` may run `cmd` with `args` (the command name first): undefined,
   * or what is denied and the index of the argument denied (0: the command).
   */
  check(u: User, cmd: Command, args: Buffer[]): { denial: Denial; pos: number } | undefined {
    if (u.unrestricted) return undefined;
    const target = subcommandOf(cmd, args);
    // an unknown subcommand: the container answers its error, as Redis does before any ACL check
    if (target === cmd && cmd.subcommands.size > 0) return undefined;
    if (!u.allowed.has(target.fullName) && !cmd.def.flags.includes('no_auth')) {
      const first = target === cmd && cmd.subcommands.size === 0 && args.length > 1 ? u.firstArgs.get(cmd.fullName) : undefined;
      if (first === undefined || !first.includes(args[1]!.toString('latin1').toLowerCase())) return { denial: 'command', pos: 0 };
    }
    if (!u.allKeys) {
      const positions = target.keyIndices(args);
      if (positions.length > 0) {
        const found = target.spec ? keysFromSpec(target.fullName, target.spec, args, positions) : positions.map((pos) => ({ pos, flags: ['RW', 'access', 'update'] }));
        for (const k of found) {
          let need = 0;
          if (k.flags.includes('access')) need |= READ;
          if (k.flags.includes('insert') || k.flags.includes('delete') || k.flags.includes('update')) need |= WRITE;
          const key = args[k.pos]!;
          if (!u.keys.some((p) => (p.flags & need) === need && globMatch(p.pattern, key))) return { denial: 'key', pos: k.pos };
        }
      }
    }
    if (!u.allChannels) {
      const ch = channelArgs(target.fullName, args);
      if (ch !== undefined) {
        for (let i = ch.from; i < ch.to; i++) {
          const c = args[i]!;
          const ok = ch.pattern ? u.channels.some((p) => p.equals(c)) : u.channels.some((p) => globMatch(p, c));
          if (!ok) return { denial: 'channel', pos: i };
        }
      }
    }
    return undefined;
  }

  /** Record a denial or a failed AUTH in the ACL log (like entries within 60 s are counted together). */
  record(reason: string, context: string, object: string, username: string, client: Session, maxLen: number, current?: { args: Buffer[]; name: string }): void {
    const clientInfo = this.describeClient(client, current);
    const now = Date.now();
    const like = this.log.find((e) => e.reason === reason && e.context === context && e.object === object && e.username === username && now - e.createdAt < 60000);
    if (like) {
      like.count++;
      like.createdAt = now;
      like.clientInfo = clientInfo;
      this.log = [like, ...this.log.filter((e) => e !== like)];
      return;
    }
    this.log.unshift({ count: 1, reason, context, object, username, createdAt: now, clientInfo });
    if (this.log.length > maxLen) this.log.length = maxLen;
  }

  /**
   * Users from ACL file text (Redis's format: `user <name> <rules...>` lines):
   * all of them, or the errors found (nothing changes then). The default user
   * is the fresh server's when the file does not declare it.
   */
  parseFile(text: string, file: string): Map<string, User> | string {
    const users = new Map<string, User>();
    let errors = '';
    const lines = text.split('\n');
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i]!.replace(/^[ \t\r\n]+|[ \t\r\n]+$/g, '');
      const n = i + 1;
      if (line === '') continue;
      const argv = splitArgs(line);
      if (argv === undefined) {
        errors += `${file}:${n}: unbalanced quotes in acl line. `;
        continue;
      }
      if (argv.length < 2 || argv[0] !== 'user') {
        errors += `${file}:${n} should start with user keyword followed by the username. `;
        continue;
      }
      const name = argv[1]!;
      if (users.has(name)) {
        errors += `WARNING: Duplicate user '${name}' found on line ${n}. `;
        continue;
      }
      const u = new User(name);
      this.setUser(u, [Buffer.from('reset')]);
      users.set(name, u); // a later line of the same name is a duplicate even when this one fails
      try {
        this.setUser(u, argv.slice(2).map((a) => Buffer.from(a, 'latin1')));
      } catch (err) {
        if (!(err instanceof AclError)) throw err;
        errors += `${file}:${n}: Error in applying operation '${err.rule.toString('latin1')}': ${err.message}. `;
      }
    }
    if (errors !== '') return `${errors}WARNING: ACL errors detected, no change to the previously active ACL rules was performed`;
    if (!users.has('default')) users.set('default', this.defaultUser(''));
    return users;
  }

  /** Replace every user (ACL LOAD, the aclfile at startup). */
  replaceUsers(users: Map<string, User>): void {
    this.users.clear();
    for (const [k, v] of users) this.users.set(k, v);
  }

  /** The ACL file's text for these users (ACL SAVE): ACL LIST's lines. */
  fileText(): string {
    const names = [...this.users.keys()].sort((a, b) => Buffer.compare(Buffer.from(a, 'latin1'), Buffer.from(b, 'latin1')));
    return names.map((n) => `${this.describe(this.users.get(n)!)}\n`).join('');
  }

  /** `user <name> <rules...>` directives of the config file, applied at startup (after requirepass). */
  declare(argvs: ReadonlyArray<readonly string[]>): void {
    for (const argv of argvs) {
      const name = argv[0]!;
      const u = this.users.get(name) ?? new User(name);
      if (!this.users.has(name)) this.setUser(u, [Buffer.from('reset')]);
      try {
        this.setUser(u, argv.slice(1).map((a) => Buffer.from(a, 'latin1')));
      } catch (err) {
        if (!(err instanceof AclError)) throw err;
        throw new Error(`Error in user declaration '${argv.join(' ')}': Error in applying operation '${err.rule.toString('latin1')}': ${err.message}`);
      }
      this.users.set(name, u);
    }
  }

  genpass(bits: number): string {
    const chars = Math.ceil(bits / 4);
    return randomBytes(Math.ceil(chars / 2)).toString('hex').slice(0, chars);
  }
}

const STRERROR: Record<string, string> = { ENOENT: 'No such file or directory', EACCES: 'Permission denied', EISDIR: 'Is a directory' };

/** An ACL file's text; throws Error with Redis's message when it cannot be opened. */
export function readAclFile(file: string): string {
  try {
    return fs.readFileSync(file, 'latin1');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? '';
    throw new Error(`Error loading ACLs, opening file '${file}': ${STRERROR[code] ?? (err as Error).message}`);
  }
}

/** Write an ACL file (ACL SAVE): a temporary file renamed over it. */
export function writeAclFile(file: string, text: string): void {
  const tmp = `${file}.tmp-${process.pid}`;
  fs.writeFileSync(tmp, text, 'latin1');
  fs.renameSync(tmp, file);
}

function hasCategory(cmd: Command, cat: string): boolean {
  return cmd.categories.includes(`@${cat}`);
}

function cloneUser(u: User): User {
  const c = new User(u.name);
  Object.assign(c, u);
  c.passwords = [...u.passwords];
  c.allowed = new Set(u.allowed);
  c.firstArgs = new Map([...u.firstArgs].map(([k, v]) => [k, [...v]]));
  c.keys = u.keys.map((k) => ({ ...k }));
  c.channels = [...u.channels];
  return c;
}

/** Which arguments of a pub/sub command are channels (or patterns) checked by ACLs. */
function channelArgs(name: string, args: Buffer[]): { from: number; to: number; pattern: boolean } | undefined {
  switch (name) {
    case 'publish': case 'spublish': return { from: 1, to: 2, pattern: false };
    case 'subscribe': case 'ssubscribe': return { from: 1, to: args.length, pattern: false };
    case 'psubscribe': return { from: 1, to: args.length, pattern: true };
    default: return undefined;
  }
}
