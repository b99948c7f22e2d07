import { ErrorReply } from '../protocol/reply.js';

/** Redis 7 error replies, word for word; clients and the Tcl suite match on them. */
export const Errors = {
  syntax: () => new ErrorReply('ERR syntax error'),
  notInteger: () => new ErrorReply('ERR value is not an integer or out of range'),
  notFloat: () => new ErrorReply('ERR value is not a valid float'),
  wrongType: () => new ErrorReply('WRONGTYPE Operation against a key holding the wrong kind of value'),
  noSuchKey: () => new ErrorReply('ERR no such key'),
  overflow: () => new ErrorReply('ERR increment or decrement would overflow'),
  arity: (name: string) => new ErrorReply(`ERR wrong number of arguments for '${name.toLowerCase()}' command`),
  unknownCommand: (name: string, args: Buffer[]) =>
    new ErrorReply(
      `ERR unknown command '${clip(name)}', with args beginning with: ${args
        .slice(0, 10)
        .map((a) => `'${clip(a.toString())}' `)
        .join('')}`,
    ),
  unknownSubcommand: (sub: string, cmd: string) =>
    new ErrorReply(
      `ERR unknown subcommand '${clip(sub)}'. Try ${cmd.toUpperCase()} HELP.`,
    ),
  outOfRange: (what: string) => new ErrorReply(`ERR ${what} is out of range`),
  noAuth: () => new ErrorReply('NOAUTH Authentication required.'),
  wrongPass: () =>
    new ErrorReply('WRONGPASS invalid username-password pair or user is disabled.'),
  readOnly: () => new ErrorReply("READONLY You can't write against a read only replica."),
  invalidExpire: (cmd: string) => new ErrorReply(`ERR invalid expire time in '${cmd.toLowerCase()}' command`),
  dbIndex: () => new ErrorReply('ERR DB index is out of range'),
  persistence: (why: string) =>
    new ErrorReply(
      `MISCONF Talus is unable to persist to PostgreSQL (${why}). Commands that may modify the data set are disabled until it is reachable again.`,
    ),
  oom: () => new ErrorReply("OOM command not allowed when used memory > 'maxmemory'."),
  storage: (why: string) => new ErrorReply(`ERR storage unavailable: ${why}`),
} as const;

/** Redis truncates echoed names in errors at 128 bytes. */
function clip(s: string): string {
  return s.length > 128 ? s.slice(0, 128) : s;
}
