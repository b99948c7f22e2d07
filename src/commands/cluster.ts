/**
 * The Redis Cluster commands of a server running without cluster support:
 * CLUSTER (every subcommand), ASKING, READONLY, READWRITE. Talus serves one
 * keyspace, as redis-server with `cluster-enabled no` does, and answers them
 * exactly as such a redis-server 7.0 does: the command exists (clients probe
 * it to detect a cluster), arity and unknown subcommands are checked, and
 * then every call says that cluster support is disabled, CLUSTER HELP too.
 */
import type { CommandDef } from './table.js';
import { ErrorReply } from '../protocol/reply.js';

const CLUSTER_DISABLED = 'ERR This instance has cluster support disabled';

const disabled = () => new ErrorReply(CLUSTER_DISABLED);

/** Every subcommand redis-server 7.0.15 lists under CLUSTER; their arity and docs come from the spec data. */
const CLUSTER_SUBCOMMANDS = [
  'addslots', 'addslotsrange', 'bumpepoch', 'count-failure-reports', 'countkeysinslot', 'delslots', 'delslotsrange',
  'failover', 'flushslots', 'forget', 'getkeysinslot', 'help', 'info', 'keyslot', 'links', 'meet', 'myid', 'nodes',
  'replicas', 'replicate', 'reset', 'saveconfig', 'set-config-epoch', 'setslot', 'shards', 'slaves', 'slots',
];

export const clusterCommands: CommandDef[] = [
  { name: 'cluster', subcommands: CLUSTER_SUBCOMMANDS.map((name) => ({ name, handler: disabled })) },
  { name: 'asking', handler: disabled },
  { name: 'readonly', handler: disabled },
  { name: 'readwrite', handler: disabled },
];
