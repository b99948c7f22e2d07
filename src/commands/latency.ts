/**
 * LATENCY: the latency monitor's replies (observability/latency.ts), as Redis
 * 7.0 shapes them, and LATENCY HISTOGRAM from the per-command histograms
 * (observability/latency-histogram.ts).
 */
import type { Command, CommandDef, CommandFlag } from './table.js';
import type { CommandContext } from '../execution/context.js';
import { ErrorReply, MapReply, VerbatimReply, type Reply } from '../protocol/reply.js';
import { helpReply } from './help.js';

const b = (s: string) => Buffer.from(s);
const FLAGS: CommandFlag[] = ['admin', 'noscript', 'loading', 'stale'];

const HELP = [
  'DOCTOR',
  '    Return a human readable latency analysis report.',
  'GRAPH <event>',
  '    Return an ASCII latency graph for the <event> class.',
  'HISTORY <event>',
  '    Return time-latency samples for the <event> class.',
  'LATEST',
  '    Return the latest latency samples for all events.',
  'RESET [<event> ...]',
  '    Reset latency data of one or more <event> classes.',
  '    (default: reset all data for all event classes)',
  'HISTOGRAM [COMMAND ...]',
  '    Return a cumulative distribution of latencies in the format of a histogram for the specified command names.',
  '    If no commands are specified then all histograms are replied.',
];

/**
 * LATENCY HISTOGRAM [command ...]: per command with calls, its call count and
 * cumulative distribution. Named commands that do not exist or were never
 * called are left out; a container command stands for its subcommands.
 */
function latencyHistogram(c: CommandContext, args: Buffer[]): Reply {
  const t = c.server;
  const commands: Command[] = [];
  if (args.length === 2) {
    for (const cmd of t.commands.all()) commands.push(cmd, ...cmd.subcommands.values());
  } else {
    for (const a of args.slice(2)) {
      const [name = '', sub] = a.toString('latin1').toLowerCase().split('|');
      const cmd = t.commands.lookup(Buffer.from(name, 'latin1'));
      if (!cmd) continue;
      if (sub !== undefined) {
        const s = cmd.subcommands.get(sub);
        if (s) commands.push(s);
        continue;
      }
      commands.push(cmd, ...cmd.subcommands.values());
    }
  }
  const entries: Array<[Reply, Reply]> = [];
  for (const cmd of commands) {
    const h = t.latencyTracker.byCommand.get(cmd.fullName);
    if (!h) continue;
    const histogram = new MapReply(h.cumulative().map(([usec, n]): [Reply, Reply] => [usec, n]));
    entries.push([b(cmd.fullName), new MapReply([[b('calls'), h.total], [b('histogram_usec'), histogram]])]);
  }
  return new MapReply(entries);
}

export const latencyCommands: CommandDef[] = [
  {
    name: 'latency', arity: -2, flags: [], group: 'server', since: '2.8.13',
    summary: 'A container for latency diagnostics commands', complexity: 'Depends on subcommand.',
    subcommands: [
      {
        name: 'doctor', arity: 2, flags: FLAGS, group: 'server', since: '2.8.13',
        summary: 'Return a human readable latency analysis report.', complexity: 'O(1)',
        handler: (c) => new VerbatimReply('txt', c.server.latency.doctor()),
      },
      {
        name: 'graph', arity: 3, flags: FLAGS, group: 'server', since: '2.8.13',
        summary: 'Return a latency graph for the event.', complexity: 'O(1)',
        handler: (c, args) => {
          const event = args[2]!.toString();
          const graph = c.server.latency.graph(event);
          return graph === undefined ? new ErrorReply(`ERR No samples available for event '${event}'`) : new VerbatimReply('txt', graph);
        },
      },
      {
        name: 'help', arity: 2, flags: ['loading', 'stale'], group: 'server', since: '2.8.13',
        summary: 'Show helpful text about the different subcommands.', complexity: 'O(1)',
        handler: () => helpReply('LATENCY', HELP),
      },
      {
        name: 'histogram', arity: -2, flags: FLAGS, group: 'server', since: '7.0.0',
        summary: 'Return the cumulative distribution of latencies of a subset of commands or all.',
        complexity: 'O(N) where N is the number of commands with latency information being retrieved.',
        handler: latencyHistogram,
      },
      {
        name: 'history', arity: 3, flags: FLAGS, group: 'server', since: '2.8.13',
        summary: 'Return timestamp-latency samples for the event.', complexity: 'O(1)',
        handler: (c, args) => c.server.latency.history(args[2]!.toString()).map((s) => [s.time, s.latency]),
      },
      {
        name: 'latest', arity: 2, flags: FLAGS, group: 'server', since: '2.8.13',
        summary: 'Return the latest latency samples for all events.', complexity: 'O(1)',
        handler: (c) => c.server.latency.latest().map(([event, time, latency, max]) => [b(event), time, latency, max]),
      },
      {
        name: 'reset', arity: -2, flags: FLAGS, group: 'server', since: '2.8.13',
        summary: 'Reset latency data for one or more events.', complexity: 'O(1)',
        handler: (c, args) => c.server.latency.reset(args.length > 2 ? args.slice(2).map((a) => a.toString()) : undefined),
      },
    ],
  },
];
