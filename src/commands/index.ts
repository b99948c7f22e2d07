import type { CommandDef } from './table.js';
import { connectionCommands } from './connection.js';
import { stringCommands } from './strings.js';

/** Every command family Talus serves; each module exports its table rows. */
export const allCommands: CommandDef[] = [...connectionCommands, ...stringCommands];
