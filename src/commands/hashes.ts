import type { CommandDef } from './table.js';

export const hashesCommands: CommandDef[] = [];
