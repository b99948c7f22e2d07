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
  /**
   * Redis prints the name and each argument as a C string (`%.128s`: up to a NUL
   * byte, at most 128 bytes), and arguments while the list is under 128 bytes,
   * each cut to what is left of those 128; the bytes go out as they are.
   */
  unknownCommand: (name: Buffer, args: Buffer[]) => {
    let list = Buffer.alloc(0);
    for (let i = 0; i < args.length && list.length < 128; i++) {
      list = Buffer.concat([list, QUOTE, cString(args[i]!, 128 - list.length), QUOTE_SPACE]);
    }
    return ErrorReply.fromBytes(Buffer.concat([
      Buffer.from("ERR unknown command '"), cString(name, 128), Buffer.from("', with args beginning with: "), list,
    ]));
  },
  /** `sub` as the client sent it (a C string of at most 128 bytes, as Redis prints it) */
  unknownSubcommand: (sub: Buffer | string, cmd: string) =>
    ErrorReply.fromBytes(Buffer.concat([
      Buffer.from("ERR unknown subcommand '"), cString(asBytes(sub), 128), Buffer.from(`'. Try ${cmd.toUpperCase()} HELP.`),
    ])),
  /** Redis's addReplySubcommandSyntaxError */
  subcommandSyntax: (sub: Buffer, cmd: string) =>
    ErrorReply.fromBytes(Buffer.concat([
      Buffer.from("ERR unknown subcommand or wrong number of arguments for '"), cString(sub, 128),
      Buffer.from(`'. Try ${cmd.toUpperCase()} HELP.`),
    ])),
  /**
   * Redis's addReplyErrorFormat with one client argument printed by `%s`: the
   * argument as a C string (up to a NUL), trailing CR/LF of the whole text
   * trimmed (the encoder turns the others into spaces).
   */
  echoing: (before: string, arg: Buffer, after = '') => {
    let text = Buffer.concat([Buffer.from(before), cString(arg, Infinity), Buffer.from(after)]);
    let end = text.length;
    while (end > 0 && (text[end - 1] === 0x0d || text[end - 1] === 0x0a)) end--;
    text = text.subarray(0, end);
    return ErrorReply.fromBytes(text);
  },
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

const QUOTE = Buffer.from("'");
const QUOTE_SPACE = Buffer.from("' ");

/** How C's `%.<max>s` prints these bytes: up to the first NUL, at most `max` bytes. */
function cString(b: Buffer, max: number): Buffer {
  const nul = b.indexOf(0);
  const end = Math.min(nul < 0 ? b.length : nul, Math.max(0, max));
  return b.subarray(0, end);
}

/** Names passed as latin1 strings (one char per byte) back to their bytes. */
function asBytes(s: Buffer | string): Buffer {
  return typeof s === 'string' ? Buffer.from(s, 'latin1') : s;
}
