import { aclCommands } from './acl.js';
import { clusterCommands } from './cluster.js';
import { moduleCommands } from './modules.js';
import { migrateCommands } from './migrate.js';
import type { CommandDef } from './table.js';
import { connectionCommands } from './connection.js';
import { stringCommands } from './strings.js';
import { bitmapCommands } from './bitmaps.js';
import { keysCommands } from './keys.js';
import { serverCommands, installServerHooks } from './server.js';
import { transactionsCommands, installTransactionHooks } from './transactions.js';
import { clientCommands, installClientHooks } from './client-cmds.js';
import type { ServerControl } from '../execution/context.js';
import { hashesCommands } from './hashes.js';
import { setsCommands } from './sets.js';
import { listsCommands } from './lists.js';
import { zsetsCommands } from './zsets.js';
import { geoCommands } from './geo.js';
import { hyperloglogCommands } from './hyperloglog.js';
import { dumpCommands } from './dump.js';
import { sortCommands } from './sort.js';
import { latencyCommands } from './latency.js';
import { lolwutCommands } from './lolwut.js';
import { pubsubCommands, installPubsubHooks } from './pubsub.js';
import { replicationCommands } from './replication.js';
import { scriptingCommands } from './scripting.js';
import { streamsCommands } from './streams.js';
import { streamGroupCommands } from './stream-groups.js';

/** Every command family Talus serves; each module exports its table rows. */
export const allCommands: CommandDef[] = [
  ...connectionCommands,
  ...stringCommands,
  ...bitmapCommands,
  ...keysCommands,
  ...serverCommands,
  ...transactionsCommands,
  ...clientCommands,
  ...hashesCommands,
  ...setsCommands,
  ...listsCommands,
  ...zsetsCommands,
  ...geoCommands,
  ...hyperloglogCommands,
  ...dumpCommands,
  ...migrateCommands,
  ...sortCommands,
  ...latencyCommands,
  ...lolwutCommands,
  ...pubsubCommands,
  ...replicationCommands,
  ...scriptingCommands,
  ...streamsCommands,
  ...streamGroupCommands(),
  ...aclCommands,
  ...clusterCommands,
  ...moduleCommands,
];

/** Per-server wiring some families need (config effects, reset hooks, CLIENT PAUSE); called by the Talus constructor. */
export function installCommandHooks(server: ServerControl): void {
  installServerHooks(server);
  installTransactionHooks(server);
  installClientHooks(server);
  installPubsubHooks(server);
}
