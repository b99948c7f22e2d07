import type { CommandDef } from './table.js';

export const transactionsCommands: CommandDef[] = [];
