import type { CommandDef } from './table.js';

export const zsetsCommands: CommandDef[] = [];
