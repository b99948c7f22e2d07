import type { CommandDef } from './table.js';

export const setsCommands: CommandDef[] = [];
