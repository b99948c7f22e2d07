import type { CommandDef } from './table.js';

export const sortCommands: CommandDef[] = [];
