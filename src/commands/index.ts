import type { CommandDef } from './table.js';
import { connectionCommands } from './connection.js';
import { stringCommands } from './strings.js';
import { keysCommands } from './keys.js';
import { serverCommands } from './server.js';
import { transactionsCommands } from './transactions.js';
import { hashesCommands } from './hashes.js';
import { setsCommands } from './sets.js';
import { listsCommands } from './lists.js';
import { zsetsCommands } from './zsets.js';
import { sortCommands } from './sort.js';

/** Every command family Talus serves; each module exports its table rows. */
export const allCommands: CommandDef[] = [
  ...connectionCommands,
  ...stringCommands,
  ...keysCommands,
  ...serverCommands,
  ...transactionsCommands,
  ...hashesCommands,
  ...setsCommands,
  ...listsCommands,
  ...zsetsCommands,
  ...sortCommands,
];
