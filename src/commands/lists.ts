import type { CommandDef } from './table.js';

export const listsCommands: CommandDef[] = [];
