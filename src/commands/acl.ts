/**
 * ACL: users and their permissions (execution/acl.ts holds them and checks
 * commands), as Redis 7.0 answers. Selectors are not built.
 */
import type { CommandDef, CommandFlag } from './table.js';
import type { CommandContext } from '../execution/context.js';
import { CATEGORIES, AclError, User, readAclFile, writeAclFile } from '../execution/acl.js';
import path from 'node:path';
import { globMatch } from '../util/glob.js';
import { DoubleReply, ErrorReply, MapReply, OK, type Reply } from '../protocol/reply.js';
import { helpReply } from './help.js';
import { Errors } from './errors.js';
import { intArg, keyword } from './args.js';

const b = (s: string) => Buffer.from(s);
const FLAGS: CommandFlag[] = ['admin', 'noscript', 'loading', 'stale'];

const HELP = [
  'CAT [<category>]',
  '    List all commands that belong to <category>, or all command categories',
  '    when no category is specified.',
  'DELUSER <username> [<username> ...]',
  '    Delete a list of users.',
  'DRYRUN <username> <command> [<arg> ...]',
  '    Returns whether the user can execute the given command without executing the command.',
  'GETUSER <username>',
  '    Get the user\'s details.',
  'GENPASS [<bits>]',
  '    Generate a secure 256-bit user password. The optional `bits` argument can',
  '    be used to specify a different size.',
  'LIST',
  '    Show users details in config file format.',
  'LOAD',
  '    Reload users from the ACL file.',
  'LOG [<count> | RESET]',
  '    Show the ACL log entries.',
  'SAVE',
  '    Save the current config to the ACL file.',
  'SETUSER <username> <attribute> [<attribute> ...]',
  '    Create or modify a user with the specified attributes.',
  'USERS',
  '    List all the registered usernames.',
  'WHOAMI',
  '    Return the current connection username.',
];

const NO_ACLFILE =
  'ERR This Redis instance is not configured to use an ACL file. You may want to specify users via the ACL SETUSER command and then issue a CONFIG REWRITE (assuming you have a Redis configuration file set) in order to store users in the Redis configuration.';

function aclPath(c: CommandContext): string {
  return path.resolve(c.config.values.dir, c.config.values.aclfile);
}

/** ACL LOAD: every user from the file, or none (the errors are the reply); clients of the replaced users are disconnected. */
function load(c: CommandContext): Reply {
  if (c.config.values.aclfile === '') return new ErrorReply(NO_ACLFILE);
  const file = aclPath(c);
  let text: string;
  try {
    text = readAclFile(file);
  } catch (err) {
    return new ErrorReply(`ERR ${(err as Error).message}`);
  }
  const users = c.server.acl.parseFile(text, file);
  if (typeof users === 'string') return new ErrorReply(`ERR ${users}`);
  c.server.acl.replaceUsers(users);
  for (const s of c.server.sessions.values()) {
    if (s.user === 'default' || s.connection === undefined) continue;
    if (s === c.session) s.connection.closeAfterReply = true;
    else s.connection.close();
  }
  return OK;
}

function save(c: CommandContext): Reply {
  if (c.config.values.aclfile === '') return new ErrorReply(NO_ACLFILE);
  try {
    writeAclFile(aclPath(c), c.server.acl.fileText());
  } catch (err) {
    c.server.log.warning(`Opening temp ACL file for ACL SAVE: ${(err as Error).message}`);
    return new ErrorReply('ERR There was an error trying to save the ACLs. Please check the server logs for more information');
  }
  return OK;
}

function sortedUsers(c: CommandContext): User[] {
  return [...c.server.acl.users.values()].sort((x, y) => Buffer.compare(b(x.name), b(y.name)));
}

/** All rules or none, as Redis 7.0: a bad rule leaves the user as it was (or not created). */
function setuser(c: CommandContext, args: Buffer[]): Reply {
  const name = args[2]!.toString('latin1');
  if (/[ \0]/.test(name)) return new ErrorReply("ERR Usernames can't contain spaces or null characters");
  const acl = c.server.acl;
  const existing = acl.users.get(name);
  const u = existing ?? new User(name);
  if (existing === undefined) acl.setUser(u, [b('reset')]);
  try {
    acl.setUser(u, args.slice(3));
  } catch (err) {
    if (!(err instanceof AclError)) throw err;
    return new ErrorReply(`ERR Error in ACL SETUSER modifier '${err.rule.toString('latin1')}': ${err.message}`);
  }
  if (existing === undefined) acl.users.set(name, u);
  else if (!u.allChannels) dropRevokedSubscribers(c, u);
  return OK;
}

/** As Redis: the user's clients subscribed to a channel or pattern it may no longer use are disconnected. */
function dropRevokedSubscribers(c: CommandContext, u: User): void {
  const allowed = (ch: string) => u.channels.some((p) => globMatch(p, Buffer.from(ch, 'latin1')));
  const allowedPattern = (pat: string) => u.channels.some((p) => p.equals(Buffer.from(pat, 'latin1')));
  for (const s of c.server.sessions.values()) {
    if (s.user !== u.name || s.connection === undefined || s.subscriptions.total === 0) continue;
    const subs = s.subscriptions;
    if ([...subs.channel, ...subs.shard].every(allowed) && [...subs.pattern].every(allowedPattern)) continue;
    if (s === c.session) s.connection.closeAfterReply = true;
    else s.connection.close();
  }
}

function deluser(c: CommandContext, args: Buffer[]): Reply {
  const acl = c.server.acl;
  let n = 0;
  for (const a of args.slice(2)) {
    const name = a.toString('latin1');
    if (name === 'default') return new ErrorReply("ERR The 'default' user cannot be removed");
  }
  for (const a of args.slice(2)) {
    const name = a.toString('latin1');
    if (!acl.users.delete(name)) continue;
    n++;
    for (const s of c.server.sessions.values()) {
      if (s.user !== name || s.connection === undefined) continue;
      if (s === c.session) s.connection.closeAfterReply = true;
      else s.connection.close();
    }
  }
  return n;
}

function getuser(c: CommandContext, args: Buffer[]): Reply {
  const acl = c.server.acl;
  const u = acl.users.get(args[2]!.toString('latin1'));
  if (u === undefined) return null;
  const flags: Reply[] = [b(u.enabled ? 'on' : 'off')];
  if (u.nopass) flags.push(b('nopass'));
  return new MapReply([
    [b('flags'), flags],
    [b('passwords'), u.passwords.map(b)],
    [b('commands'), b(acl.describeCommands(u))],
    [b('keys'), b(acl.describeKeys(u))],
    [b('channels'), b(acl.describeChannels(u))],
    [b('selectors'), []],
  ]);
}

function cat(c: CommandContext, args: Buffer[]): Reply {
  if (args.length === 2) return CATEGORIES.map(b);
  const name = args[2]!.toString('latin1').toLowerCase();
  if (!(CATEGORIES as readonly string[]).includes(name)) return Errors.echoing("ERR Unknown category '", args[2]!.subarray(0, 128), "'");
  const out: Buffer[] = [];
  for (const cmd of c.server.commands.all()) {
    if (cmd.categories.includes(`@${name}`)) out.push(b(cmd.fullName));
    for (const sub of cmd.subcommands.values()) if (sub.categories.includes(`@${name}`)) out.push(b(sub.fullName));
  }
  return out;
}

function genpass(c: CommandContext, args: Buffer[]): Reply {
  let bits = 256;
  if (args.length > 2) {
    bits = intArg(args[2]!);
    if (bits <= 0 || bits > 4096) {
      return new ErrorReply('ERR ACL GENPASS argument must be the number of bits for the output password, a positive number up to 4096');
    }
  }
  return b(c.server.acl.genpass(bits));
}

function log(c: CommandContext, args: Buffer[]): Reply {
  const acl = c.server.acl;
  let count = Infinity;
  if (args.length === 3) {
    if (keyword(args[2]!) === 'RESET') {
      acl.log = [];
      return OK;
    }
    count = intArg(args[2]!);
    if (count < 0) count = 0;
  } else if (args.length > 3) {
    return Errors.syntax();
  }
  const now = Date.now();
  return acl.log.slice(0, count).map((e) => new MapReply([
    [b('count'), e.count],
    [b('reason'), b(e.reason)],
    [b('context'), b(e.context)],
    [b('object'), b(e.object)],
    [b('username'), b(e.username)],
    [b('age-seconds'), new DoubleReply((now - e.createdAt) / 1000)],
    [b('client-info'), b(e.clientInfo)],
  ]));
}

function dryrun(c: CommandContext, args: Buffer[]): Reply {
  const acl = c.server.acl;
  const name = args[2]!.toString('latin1');
  const u = acl.users.get(name);
  if (u === undefined) return new ErrorReply(`ERR User '${name}' not found`);
  const cmdArgs = args.slice(3);
  const base = c.server.commands.lookup(cmdArgs[0]!);
  // As Redis: a container with a subcommand is judged as that subcommand, and an unknown one is an unknown command
  const cmd = base !== undefined && base.subcommands.size > 0 && cmdArgs.length > 1 ? base.subcommands.get(cmdArgs[1]!.toString('latin1').toLowerCase()) : base;
  if (cmd === undefined) return new ErrorReply(`ERR Command '${cmdArgs[0]!.toString('latin1')}' not found`);
  if (!cmd.arityOk(cmdArgs.length)) return Errors.arity(cmd.fullName);
  const d = acl.check(u, cmd, cmdArgs);
  if (d === undefined) return OK;
  if (d.denial === 'command') return b(`This user has no permissions to run the '${cmd.fullName}' command`);
  return b(`This user has no permissions to access the '${cmdArgs[d.pos]!.toString('latin1')}' ${d.denial}`);
}

function sub(name: string, arity: number, summary: string, handler: (c: CommandContext, args: Buffer[]) => Reply, flags: CommandFlag[] = FLAGS): CommandDef {
  return { name, arity, flags, group: 'server', since: '6.0.0', summary, complexity: 'O(1)', handler };
}

export const aclCommands: CommandDef[] = [
  {
    name: 'acl', arity: -2, flags: [], group: 'server', since: '6.0.0',
    summary: 'A container for Access List Control commands', complexity: 'Depends on subcommand.',
    subcommands: [
      sub('cat', -2, 'List the ACL categories or the commands inside a category', cat),
      sub('deluser', -3, 'Remove the specified ACL users and the associated rules', deluser),
      sub('dryrun', -4, 'Returns whether the user can execute the given command without executing the command.', dryrun),
      sub('genpass', -2, 'Generate a pseudorandom secure password to use for ACL users', genpass),
      sub('getuser', 3, 'Get the rules for a specific ACL user', getuser),
      sub('help', 2, 'Show helpful text about the different subcommands', () => helpReply('ACL', HELP), ['loading', 'stale']),
      sub('list', 2, 'List the current ACL rules in ACL config file format', (c) => sortedUsers(c).map((u) => b(c.server.acl.describe(u)))),
      sub('load', 2, 'Reload the ACLs from the configured ACL file', load),
      sub('log', -2, 'List latest events denied because of ACLs in place', log),
      sub('save', 2, 'Save the current ACL rules in the configured ACL file', save),
      sub('setuser', -3, 'Modify or create the rules for a specific ACL user', setuser),
      sub('users', 2, 'List the username of all the configured ACL rules', (c) => sortedUsers(c).map((u) => b(u.name))),
      sub('whoami', 2, 'Return the name of the user associated to the current connection', (c) => b(c.session.user)),
    ],
  },
];
