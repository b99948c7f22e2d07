import { SimpleString, type Reply } from '../protocol/reply.js';

/** A HELP reply in Redis's layout: a title line, the given lines, then HELP. */
export function helpReply(cmd: string, lines: string[]): Reply {
  const out = [`${cmd} <subcommand> [<arg> [value] [opt] ...]. Subcommands are:`, ...lines, 'HELP', '    Prints this help.'];
  return out.map((l) => new SimpleString(l));
}
