/**
 * Replication commands (docs/replication.md): REPLICAOF / SLAVEOF, PSYNC and
 * SYNC (a follower asking for the stream), REPLCONF, WAIT. ROLE is in
 * server.ts. The work is done by ServerControl.replication.
 */
import type { CommandDef } from './table.js';
import type { CommandContext } from '../execution/context.js';
import { Errors } from './errors.js';
import { ErrorReply, OK, SimpleString, type Reply } from '../protocol/reply.js';
import { parseInteger } from '../util/numbers.js';

function replicaof(c: CommandContext, args: Buffer[]): Reply {
  const host = args[1]!.toString();
  const portArg = args[2]!.toString();
  const t = c.server;
  if (host.toLowerCase() === 'no' && portArg.toLowerCase() === 'one') {
    if (t.role === 'slave') {
      t.replication.follow(null);
      c.config.set([['replicaof', '']], { allowImmutable: true });
    }
    return OK;
  }
  const port = parseInteger(args[2]!);
  if (port === null || port < 0n || port > 2147483647n) return Errors.notInteger();
  const current = c.config.values.replicaof;
  if (t.role === 'slave' && current && current.host === host && current.port === Number(port)) {
    return new SimpleString('OK Already connected to specified master');
  }
  c.config.set([['replicaof', `${host} ${port}`]], { allowImmutable: true });
  t.replication.follow({ host, port: Number(port) });
  return OK;
}

function psync(c: CommandContext, args: Buffer[]): Reply | Promise<Reply> {
  if (c.connection === undefined) return new ErrorReply('ERR PSYNC needs a connection');
  const offset = parseInteger(args[2]!);
  // PSYNC <replid> <offset> FAILOVER: our leader's FAILOVER hands over to us
  const failover = args.length > 3 && args[3]!.toString().toLowerCase() === 'failover';
  return c.server.replication.psync(c.session, c.connection, args[1]!.toString(), offset === null ? -1 : Number(offset), failover);
}

/** FAILOVER [TO host port [FORCE]] [ABORT] [TIMEOUT milliseconds]: parsed as Redis 7 does. */
function failover(c: CommandContext, args: Buffer[]): Reply {
  const word = (i: number) => args[i]!.toString().toLowerCase();
  if (args.length === 2 && word(1) === 'abort') return c.server.replication.failoverCommand({ abort: true, force: false, timeoutMs: 0 });
  let timeoutMs = 0;
  let force = false;
  let to: { host: string; port: number } | undefined;
  for (let j = 1; j < args.length; j++) {
    if (word(j) === 'timeout' && j + 1 < args.length && timeoutMs === 0) {
      const n = parseInteger(args[j + 1]!);
      if (n === null) return Errors.notInteger();
      if (n <= 0n) return new ErrorReply('ERR FAILOVER timeout must be greater than 0');
      timeoutMs = Number(n);
      j++;
    } else if (word(j) === 'to' && j + 2 < args.length && to === undefined) {
      const port = parseInteger(args[j + 2]!);
      if (port === null) return Errors.notInteger();
      to = { host: args[j + 1]!.toString(), port: Number(port) };
      j += 2;
    } else if (word(j) === 'force' && !force) {
      force = true;
    } else {
      return Errors.syntax();
    }
  }
  return c.server.replication.failoverCommand({ to, force, abort: false, timeoutMs });
}

function sync(c: CommandContext): Reply | Promise<Reply> {
  if (c.connection === undefined) return new ErrorReply('ERR SYNC needs a connection');
  return c.server.replication.psync(c.session, c.connection, '?', -1);
}

function replconf(c: CommandContext, args: Buffer[]): Reply {
  if (args.length % 2 === 0) return Errors.syntax();
  const reply = c.server.replication.replconf(c.session, args);
  if (reply !== undefined) return reply;
  // REPLCONF ACK / GETACK are answered by nothing, as in Redis
  if (c.connection) c.connection.suppressReply = true;
  return OK;
}

function wait(c: CommandContext, args: Buffer[]): Reply | Promise<Reply> {
  if (c.server.role === 'slave') {
    return new ErrorReply(
      'ERR WAIT cannot be used with replica instances. Please also note that since Redis 4.0 if a replica is configured to be writable (which is not the default) writes to replicas are just local and are not propagated.',
    );
  }
  const n = parseInteger(args[1]!);
  if (n === null) return Errors.notInteger();
  const timeout = parseInteger(args[2]!);
  if (timeout === null) return new ErrorReply('ERR timeout is not an integer or out of range');
  if (timeout < 0n) return new ErrorReply('ERR timeout is negative');
  return c.server.replication.wait(Number(n), Math.min(Number(timeout), Number.MAX_SAFE_INTEGER), c.session.inExec);
}

export const replicationCommands: CommandDef[] = [
  { name: 'replicaof', handler: replicaof },
  { name: 'slaveof', handler: replicaof },
  { name: 'psync', handler: psync },
  { name: 'sync', handler: sync },
  { name: 'replconf', handler: replconf },
  { name: 'wait', handler: wait },
  { name: 'failover', handler: failover },
];
