import type { CommandDef } from './table.js';

export const keysCommands: CommandDef[] = [];
