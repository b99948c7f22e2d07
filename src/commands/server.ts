import type { CommandDef } from './table.js';

export const serverCommands: CommandDef[] = [];
