import type { CommandDef } from './table.js';
import { Errors } from './errors.js';
import { ErrorReply, MapReply, OK, PONG, SimpleString } from '../protocol/reply.js';
import { int32Arg, intArg, keyword } from './args.js';
import type { CommandContext } from '../execution/context.js';
import { VERSION } from '../version.js';
import { parseInteger } from '../util/numbers.js';

/** AUTH and HELLO ... AUTH: log in as `user`, or log the failure in the ACL log and answer WRONGPASS. */
function login(c: CommandContext, args: Buffer[], user: string, pass: Buffer): ErrorReply | undefined {
  const acl = c.server.acl;
  if (acl.authenticate(user, pass) === undefined) {
    const s = c.session;
    acl.record('auth', s.multi !== null ? 'multi' : 'toplevel', args[0]!.toString('latin1'), user, s, c.config.values.acllogMaxLen, { args, name: args[0]!.toString('latin1').toLowerCase() });
    return Errors.wrongPass();
  }
  c.session.authenticated = true;
  c.session.user = user;
  return undefined;
}

function auth(c: CommandContext, args: Buffer[]) {
  if (args.length > 3) throw Errors.syntax();
  const user = args.length === 3 ? args[1]!.toString() : 'default';
  const pass = args[args.length - 1]!;
  if (args.length === 2 && c.server.acl.users.get('default')!.nopass) {
    return new ErrorReply(
      'ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?',
    );
  }
  return login(c, args, user, pass) ?? OK;
}

function hello(c: CommandContext, args: Buffer[]) {
  let proto = c.session.protocol;
  let i = 1;
  if (args.length > 1) {
    // a long long as Redis parses one (string2ll): 20 digits are out of range, not an unsupported version
    const p = parseInteger(args[1]!);
    if (p === null) return new ErrorReply('ERR Protocol version is not an integer or out of range');
    if (p < 2n || p > 3n) return new ErrorReply('NOPROTO unsupported protocol version');
    proto = Number(p) as 2 | 3;
    i = 2;
  }
  let name: string | undefined;
  for (; i < args.length; i++) {
    const opt = keyword(args[i]!);
    if (opt === 'AUTH' && i + 2 < args.length) {
      const failed = login(c, args, args[i + 1]!.toString(), args[i + 2]!);
      if (failed) return failed;
      i += 2;
    } else if (opt === 'SETNAME' && i + 1 < args.length) {
      name = args[++i]!.toString();
      const bad = validateClientName(name);
      if (bad) return bad;
    } else {
      return Errors.echoing("ERR Syntax error in HELLO option '", args[i]!, "'");
    }
  }
  if (!c.session.authenticated) return Errors.noAuth();
  c.session.protocol = proto;
  if (name !== undefined) c.session.name = name;
  const t = c.server;
  return new MapReply([
    [b('server'), b('redis')],
    [b('version'), b(VERSION.redis)],
    [b('proto'), proto],
    [b('id'), c.session.id],
    [b('mode'), b('standalone')],
    [b('role'), b(t.role === 'slave' ? 'replica' : 'master')],
    [b('modules'), []],
  ]);
}

export function validateClientName(name: string): ErrorReply | undefined {
  for (let i = 0; i < name.length; i++) {
    const ch = name.charCodeAt(i);
    if (ch < 33 || ch > 126) {
      return new ErrorReply('ERR Client names cannot contain spaces, newlines or special characters.');
    }
  }
  return undefined;
}

const b = (s: string) => Buffer.from(s);

export const connectionCommands: CommandDef[] = [
  {
    name: 'ping', arity: -1, flags: ['fast'], group: 'connection', since: '1.0.0',
    summary: 'Returns the server\'s liveliness response.', complexity: 'O(1)',
    handler: (c, args) => {
      if (args.length > 2) return Errors.arity('ping');
      if (c.session.flags.has('pubsub') && c.session.protocol === 2) return [b('pong'), args[1] ?? b('')];
      return args.length === 2 ? args[1]! : PONG;
    },
  },
  {
    name: 'echo', arity: 2, flags: ['fast'], group: 'connection', since: '1.0.0',
    summary: 'Returns the given string.', complexity: 'O(1)', handler: (_c, args) => args[1]!,
  },
  {
    name: 'select', arity: 2, flags: ['loading', 'stale', 'fast'], group: 'connection', since: '1.0.0',
    summary: 'Changes the selected database.', complexity: 'O(1)',
    handler: (c, args) => {
      const n = int32Arg(args[1]!);
      const db = c.keyspace.dbs[n];
      if (!db) return Errors.dbIndex();
      c.session.db = db;
      return OK;
    },
  },
  {
    name: 'quit', arity: -1, flags: ['allow_busy', 'no_auth', 'loading', 'stale', 'fast'], group: 'connection',
    since: '1.0.0', summary: 'Closes the connection.', complexity: 'O(1)',
    handler: (c) => {
      c.connection!.closeAfterReply = true;
      return OK;
    },
  },
  {
    name: 'auth', arity: -2, flags: ['no_auth', 'loading', 'stale', 'fast', 'allow_busy'], group: 'connection',
    since: '1.0.0', summary: 'Authenticates the connection.', complexity: 'O(N) where N is the number of passwords defined for the user',
    handler: auth,
  },
  {
    name: 'hello', arity: -1, flags: ['no_auth', 'loading', 'stale', 'fast', 'allow_busy'], group: 'connection',
    since: '6.0.0', summary: 'Handshakes with the Redis server.', complexity: 'O(1)', handler: hello,
  },
  {
    name: 'reset', arity: 1, flags: ['no_auth', 'loading', 'stale', 'fast', 'allow_busy'], group: 'connection',
    since: '6.2.0', summary: 'Resets the connection.', complexity: 'O(1)',
    handler: (c) => {
      c.connection!.reset();
      return new SimpleString('RESET');
    },
  },
];
