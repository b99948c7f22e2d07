/**
 * EVAL, EVALSHA, EVAL_RO, EVALSHA_RO and SCRIPT: argument checks and the
 * script cache here; running a script is execution/scripting.ts (a session
 * whose redis.call goes through the executor). The keys a script declares
 * (numkeys) are made resident before the handler runs, like any command's.
 */
import type { CommandDef, Handler } from './table.js';
import { ErrorReply, MapReply, OK, SetReply, SimpleString, type Reply } from '../protocol/reply.js';
import { globMatch } from '../util/glob.js';
import { Errors } from './errors.js';
import { parseInteger, parseSafeInt } from '../util/numbers.js';
import type { CommandContext } from '../execution/context.js';

const NOSCRIPT = () => new ErrorReply('NOSCRIPT No matching script. Please use EVAL.');

/** The keys of EVAL-like commands: numkeys at 2, then that many keys (none if numkeys is bad: the handler says why). */
function scriptKeys(args: Buffer[]): number[] {
  const n = Number(args[2]?.toString('latin1'));
  if (!Number.isInteger(n) || n <= 0 || n > args.length - 3) return [];
  const idx: number[] = new Array(n);
  for (let i = 0; i < n; i++) idx[i] = 3 + i;
  return idx;
}

function evalHandler(bySha: boolean, readOnly: boolean, isFunction = false): Handler {
  return (c: CommandContext, args: Buffer[]): Reply | Promise<Reply> => {
    // MONITOR shows the script's command before the commands it calls (and
    // even when it is refused below), as Redis feeds it first: these
    // commands are skip_monitor, so the executor does not show them after.
    const t = c.server;
    if (t.monitors.size > 0) t.feedMonitors(c.session, args, t.durabilityGate(t.keyspace.changelog.seq));
    const scripting = c.server.scripting;
    // Redis's order: EVALSHA refuses a SHA of the wrong length and FCALL an unknown function before
    // numkeys is read (a long long: string2ll), and EVALSHA looks its script up only after
    if (bySha && !isFunction && args[1]!.length !== 40) return NOSCRIPT();
    const fn = isFunction ? scripting.functions.find(args[1]!.toString('latin1')) : undefined;
    if (isFunction && fn === undefined) return new ErrorReply('ERR Function not found');
    // a JS number for the usual numkeys, a bigint past 2^53 (compared with numbers all the same)
    const n = parseSafeInt(args[2]!) ?? parseInteger(args[2]!);
    if (n === null) return isFunction ? new ErrorReply('ERR Bad number of keys provided') : Errors.notInteger();
    if (n > args.length - 3) return new ErrorReply("ERR Number of keys can't be greater than number of args");
    if (n < 0) return new ErrorReply("ERR Number of keys can't be negative");
    const numkeys = Number(n);
    let script;
    if (isFunction) {
      script = fn!;
    } else if (bySha) {
      script = scripting.engine.find(args[1]!);
      if (script === undefined) return NOSCRIPT();
    } else {
      const loaded = scripting.engine.load(args[1]!);
      if (loaded instanceof ErrorReply) return loaded;
      script = loaded;
    }
    if (script.shebang) {
      if (readOnly && !script.noWrites) return new ErrorReply('ERR Can not execute a script with write flag using *_ro command.');
      const v = c.config.values;
      // a script that may write is a write command to a read-only follower (its leader's stream is exempt)
      if (!script.noWrites && c.server.role === 'slave' && v.replicaReadOnly && !c.session.flags.has('master')) {
        return new ErrorReply("READONLY You can't write against a read only replica.");
      }
      // ... and to min-replicas-to-write (NOREPLICAS), as Redis checks it before the script runs
      if (!script.noWrites) {
        const refused = c.server.replication.writesRefused();
        if (refused) return refused;
      }
      if (!script.allowOom && !script.noWrites && v.maxmemory > 0 && c.keyspace.bytes > v.maxmemory && v.maxmemoryPolicy === 'noeviction') {
        // Redis refuses it before it runs, as a denyoom command: a shebang script may write unless it says no-writes
        return Errors.oom();
      }
    }
    return scripting.run(c.session, script, args, numkeys, readOnly);
  };
}

function scriptLoad(c: CommandContext, args: Buffer[]): Reply {
  const loaded = c.server.scripting.engine.load(args[2]!);
  return loaded instanceof ErrorReply ? loaded : Buffer.from(loaded.sha, 'latin1');
}

function scriptExists(c: CommandContext, args: Buffer[]): Reply {
  const engine = c.server.scripting.engine;
  return args.slice(2).map((sha) => (engine.has(sha.toString('latin1')) ? 1 : 0));
}

function scriptFlush(c: CommandContext, args: Buffer[]): Reply {
  if (args.length > 3) return new ErrorReply('ERR SCRIPT FLUSH only support SYNC|ASYNC option');
  if (args.length === 3) {
    const mode = args[2]!.toString('latin1').toLowerCase();
    if (mode !== 'sync' && mode !== 'async') return new ErrorReply('ERR SCRIPT FLUSH only support SYNC|ASYNC option');
  }
  c.server.scripting.engine.flush();
  return OK;
}

function scriptKill(c: CommandContext): Reply {
  return c.server.scripting.kill(false) ?? OK;
}

function functionKill(c: CommandContext): Reply {
  return c.server.scripting.kill(true) ?? OK;
}

// ---- FUNCTION -------------------------------------------------------------

function functionLoad(c: CommandContext, args: Buffer[]): Reply {
  let replace = false;
  let i = 2;
  for (; i < args.length - 1; i++) {
    const opt = args[i]!.toString('latin1');
    if (opt.toLowerCase() !== 'replace') return new ErrorReply(`ERR Unknown option given: ${opt}`);
    replace = true;
  }
  if (i >= args.length) return new ErrorReply('ERR Function code is missing');
  const loaded = c.server.scripting.functions.load(args[i]!, replace);
  if (loaded instanceof ErrorReply) return loaded;
  librariesChanged(c, ['FUNCTION', 'LOAD', 'REPLACE', args[i]!]);
  return Buffer.from(loaded, 'latin1');
}

/**
 * Report a change of the function libraries at the mutation seam: the change
 * log gets `effect` (replayable whatever the follower holds: LOAD with
 * REPLACE, RESTORE as FLUSH of the whole set) and PostgreSQL the libraries.
 */
function librariesChanged(c: CommandContext, effect: ReadonlyArray<Buffer | string>): void {
  c.keyspace.reportLibraries(c.session.db.index, effect, c.server.scripting.functions.stored());
}

function functionDelete(c: CommandContext, args: Buffer[]): Reply {
  if (!c.server.scripting.functions.delete(args[2]!.toString('latin1'))) return new ErrorReply('ERR Library not found');
  librariesChanged(c, ['FUNCTION', 'DELETE', args[2]!]);
  return OK;
}

function functionList(c: CommandContext, args: Buffer[]): Reply {
  let withCode = false;
  let pattern: Buffer | undefined;
  for (let i = 2; i < args.length; i++) {
    const opt = args[i]!.toString('latin1');
    const lower = opt.toLowerCase();
    if (lower === 'withcode' && !withCode) {
      withCode = true;
    } else if (lower === 'libraryname' && pattern === undefined) {
      if (i + 1 >= args.length) return new ErrorReply('ERR library name argument was not given');
      pattern = args[++i]!;
    } else {
      return new ErrorReply(`ERR Unknown argument ${opt}`);
    }
  }
  const b = (s: string) => Buffer.from(s, 'latin1');
  return c.server.scripting.functions
    .list()
    .filter((lib) => pattern === undefined || globMatch(pattern, Buffer.from(lib.name, 'latin1')))
    .map((lib) => {
      const entries: Array<[Reply, Reply]> = [
        [b('library_name'), b(lib.name)],
        [b('engine'), b(lib.engine)],
        [b('functions'), [...lib.functions.values()].map((f) => new MapReply([
          [b('name'), b(f.name)],
          [b('description'), f.description],
          [b('flags'), new SetReply([...f.flags].map((flag) => new SimpleString(flag)))],
        ]))],
      ];
      if (withCode) entries.push([b('library_code'), lib.code]);
      return new MapReply(entries);
    });
}

function functionFlush(c: CommandContext, args: Buffer[]): Reply {
  if (args.length > 3) return Errors.subcommandSyntax(args[1]!, 'function');
  if (args.length === 3 && !['async', 'sync'].includes(args[2]!.toString('latin1').toLowerCase())) {
    return new ErrorReply('ERR FUNCTION FLUSH only supports SYNC|ASYNC option');
  }
  c.server.scripting.functions.flush();
  librariesChanged(c, ['FUNCTION', 'FLUSH']);
  return OK;
}

function functionRestore(c: CommandContext, args: Buffer[]): Reply {
  if (args.length > 4) return Errors.subcommandSyntax(args[1]!, 'function');
  let policy: 'flush' | 'append' | 'replace' = 'append';
  if (args.length === 4) {
    const p = args[3]!.toString('latin1').toLowerCase();
    if (p !== 'flush' && p !== 'append' && p !== 'replace') {
      return new ErrorReply('ERR Wrong restore policy given, value should be either FLUSH, APPEND or REPLACE.');
    }
    policy = p;
  }
  const functions = c.server.scripting.functions;
  const refused = functions.restore(args[2]!, policy);
  if (refused !== undefined) return refused;
  librariesChanged(c, ['FUNCTION', 'RESTORE', functions.dump(), 'FLUSH']);
  return OK;
}

function functionStats(c: CommandContext): Reply {
  const b = (s: string) => Buffer.from(s, 'latin1');
  const scripting = c.server.scripting;
  const run = scripting.current;
  const running = run === undefined
    ? null
    : new MapReply([
      [b('name'), b(run.name)],
      [b('command'), [...run.command]],
      [b('duration_ms'), Math.floor(performance.now() - run.startedAt)],
    ]);
  const fns = scripting.functions;
  return new MapReply([
    [b('running_script'), running],
    [b('engines'), new MapReply([[b('LUA'), new MapReply([[b('libraries_count'), fns.libraryCount], [b('functions_count'), fns.functionCount]])]])],
  ]);
}

const FUNCTION_HELP = [
  'FUNCTION <subcommand> [<arg> [value] [opt] ...]. Subcommands are:',
  'LOAD [REPLACE] <FUNCTION CODE>',
  '    Create a new library with the given library name and code.',
  'DELETE <LIBRARY NAME>',
  '    Delete the given library.',
  'LIST [LIBRARYNAME PATTERN] [WITHCODE]',
  '    Return general information on all the libraries.',
  'FLUSH [ASYNC|SYNC]',
  '    Delete all the libraries.',
  'KILL',
  '    Kill the current running function.',
  'STATS',
  '    Return information about the current function running.',
  'DUMP',
  '    Return a serialized payload representing the current libraries.',
  'RESTORE <PAYLOAD> [FLUSH|APPEND|REPLACE]',
  '    Restore the libraries represented by the given payload.',
  'HELP',
  '    Prints this help.',
];

const SCRIPT_HELP = [
  'SCRIPT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:',
  'DEBUG (YES|SYNC|NO)',
  '    Set the debug mode for subsequent scripts executed.',
  'EXISTS <sha1> [<sha1> ...]',
  '    Return information about the existence of the scripts in the script cache.',
  'FLUSH [ASYNC|SYNC]',
  '    Flush the Lua scripts cache. Very dangerous on replicas.',
  '    When called without the optional mode argument, the behavior is determined by the',
  '    lazyfree-lazy-user-flush configuration directive. Valid modes are:',
  '    * ASYNC: Asynchronously flush the scripts cache.',
  '    * SYNC: Synchronously flush the scripts cache.',
  'KILL',
  '    Kill the currently executing Lua script.',
  'LOAD <script>',
  '    Load a script into the scripts cache without executing it.',
  'HELP',
  '    Prints this help.',
];

export const scriptingCommands: CommandDef[] = [
  { name: 'eval', arity: -3, flags: [], movableKeys: scriptKeys, handler: evalHandler(false, false) },
  { name: 'evalsha', arity: -3, flags: [], movableKeys: scriptKeys, handler: evalHandler(true, false) },
  { name: 'eval_ro', arity: -3, flags: [], movableKeys: scriptKeys, handler: evalHandler(false, true) },
  { name: 'evalsha_ro', arity: -3, flags: [], movableKeys: scriptKeys, handler: evalHandler(true, true) },
  { name: 'fcall', arity: -3, flags: [], movableKeys: scriptKeys, handler: evalHandler(false, false, true) },
  { name: 'fcall_ro', arity: -3, flags: [], movableKeys: scriptKeys, handler: evalHandler(false, true, true) },
  {
    name: 'function', arity: -2, flags: [],
    subcommands: [
      { name: 'load', arity: -3, flags: [], handler: functionLoad },
      { name: 'delete', arity: 3, flags: [], handler: functionDelete },
      { name: 'list', arity: -2, flags: [], handler: functionList },
      { name: 'flush', arity: -2, flags: [], handler: functionFlush },
      { name: 'dump', arity: 2, flags: [], handler: (c) => c.server.scripting.functions.dump() },
      { name: 'restore', arity: -3, flags: [], handler: functionRestore },
      { name: 'stats', arity: 2, flags: [], handler: functionStats },
      { name: 'kill', arity: 2, flags: [], handler: functionKill },
      { name: 'help', arity: 2, flags: [], handler: () => FUNCTION_HELP.map((l) => new SimpleString(l)) },
    ],
  },
  {
    name: 'script', arity: -2, flags: [],
    subcommands: [
      { name: 'load', arity: 3, flags: [], handler: scriptLoad },
      { name: 'exists', arity: -3, flags: [], handler: scriptExists },
      { name: 'flush', arity: -2, flags: [], handler: scriptFlush },
      { name: 'kill', arity: 2, flags: [], handler: scriptKill },
      { name: 'help', arity: 2, flags: [], handler: () => SCRIPT_HELP.map((l) => new SimpleString(l)) },
      {
        name: 'debug', arity: 3, flags: [],
        // the step debugger (ldb) is not built; NO is what every script runs as
        handler: (_c, args) => (args[2]!.toString('latin1').toLowerCase() === 'no' ? OK : new ErrorReply('ERR Talus has no Lua debugger (SCRIPT DEBUG YES|SYNC)')),
      },
    ],
  },
];
