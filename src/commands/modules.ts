/**
 * MODULE: Talus cannot load Redis modules. They are C shared objects written
 * against redis-server's module API (RedisModule_* symbols resolved inside
 * the redis-server process), which a Node.js server cannot provide. So the
 * command answers as a redis-server 7.0 with no module loaded answers: LIST
 * is empty, LOAD and LOADEX fail as for a library that cannot be loaded and
 * UNLOAD as for a name that is not loaded, after the same
 * enable-module-command check; the log says why (docs/compatibility.md).
 */
import type { CommandDef } from './table.js';
import type { CommandContext } from '../execution/context.js';
import { ErrorReply, type Reply } from '../protocol/reply.js';
import { helpReply } from './help.js';
import { keyword } from './args.js';
import { isLocalClient } from './server.js';

const MODULE_NOT_ALLOWED =
  'ERR MODULE command not allowed. If the enable-module-command option is set to "local", you can run it from a local connection, otherwise you need to set this option in the configuration file, and then restart the server.';

const HELP = [
  'LIST',
  '    Return a list of loaded modules.',
  'LOAD <path> [<arg> ...]',
  '    Load a module library from <path>, passing to it any optional arguments.',
  'LOADEX <path> [[CONFIG NAME VALUE] [CONFIG NAME VALUE]] [ARGS ...]',
  '    Load a module library from <path>, while passing it module configurations and optional arguments.',
  'UNLOAD <name>',
  '    Unload a module.',
];

/** enable-module-command refuses LOAD, LOADEX and UNLOAD (the subcommands Redis protects). */
function refused(c: CommandContext): ErrorReply | undefined {
  const allowed = c.config.values.enableModuleCommand;
  if (allowed === 'no' || (allowed === 'local' && !isLocalClient(c))) return new ErrorReply(MODULE_NOT_ALLOWED);
  return undefined;
}

function cannotLoad(c: CommandContext, path: Buffer): Reply {
  c.server.log.warning(`Module ${path.toString()} failed to load: Talus cannot load Redis modules (they are shared objects for redis-server's C module API)`);
  return new ErrorReply('ERR Error loading the extension. Please check the server logs.');
}

function load(c: CommandContext, args: Buffer[]): Reply {
  return refused(c) ?? cannotLoad(c, args[2]!);
}

/** LOADEX path [CONFIG name value ...] [ARGS arg ...]: its arguments are checked (and a mistake logged) as Redis does first. */
function loadex(c: CommandContext, args: Buffer[]): Reply {
  const no = refused(c);
  if (no) return no;
  for (let i = 3; i < args.length; i++) {
    const word = keyword(args[i]!);
    if (word === 'ARGS') break;
    if (word === 'CONFIG' && i + 2 < args.length) {
      i += 2;
      continue;
    }
    c.server.log.notice(word === 'CONFIG'
      ? `MODULE LOADEX ${args[2]!.toString()}: CONFIG needs a name and a value`
      : `MODULE LOADEX ${args[2]!.toString()}: syntax error at ${args[i]!.toString()}`);
    return new ErrorReply('ERR Error loading the extension. Please check the server logs.');
  }
  return cannotLoad(c, args[2]!);
}

function unload(c: CommandContext): Reply {
  return refused(c) ?? new ErrorReply('ERR Error unloading module: no such module with that name');
}

export const moduleCommands: CommandDef[] = [
  {
    name: 'module',
    subcommands: [
      { name: 'help', handler: () => helpReply('MODULE', HELP) },
      { name: 'list', handler: () => [] },
      { name: 'load', handler: load },
      { name: 'loadex', handler: loadex },
      { name: 'unload', handler: unload },
    ],
  },
];
