import type { CommandDef, Handler } from './table.js';
import { SimpleString } from '../protocol/reply.js';

/** XINFO (the container) and, later, the consumer-group commands. */

const XINFO_HELP = [
  'XINFO <subcommand> [<arg> [value] [opt] ...]. Subcommands are:',
  'CONSUMERS <key> <groupname>',
  '    Show consumers of <groupname>.',
  'GROUPS <key>',
  '    Show the stream consumer groups.',
  'STREAM <key> [FULL [COUNT <count>]',
  '    Show information about the stream.',
  'HELP',
  '    Prints this help.',
];

export function streamGroupCommands(xinfoStream: Handler): CommandDef[] {
  return [
    {
      name: 'xinfo',
      subcommands: [
        { name: 'stream', keys: { first: 2, last: 2, step: 1 }, handler: xinfoStream },
        { name: 'help', handler: () => XINFO_HELP.map((l) => new SimpleString(l)) },
      ],
    },
  ];
}
