import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../config/load.js';
import { dataPaths, type TalusConfig } from '../config/schema.js';
import { committedOffset, createDatabase, dropDatabase } from '../storage/backup-store.js';
import { runningEmbeddedUrl } from '../storage/embedded.js';
import { addPoint, applyPrune, listFullBackups, planPrune, readPoints } from './catalog.js';
import { LOG_DIR, archivesFor, listArchives, readArchive } from './log-archive.js';
import { readManifest } from './manifest.js';
import { formatSummary, restore, type RestoreTarget } from './restore.js';

/**
 * `talus restore ...` and `talus backup mark|list|prune|verify ...`
 * (docs/backup.md). The other options are Talus's own (-c talus.conf,
 * --dir, --database-url, --backup-dir, --pg-bin-dir...), read as the server
 * reads them.
 */
export async function runBackupCli(argv: string[]): Promise<number> {
  try {
    if (argv[0] === 'restore') return await restoreCommand(argv.slice(1));
    switch (argv[1]) {
      case 'mark':
        return await markCommand(argv.slice(2));
      case 'list':
        return listCommand(argv.slice(2));
      case 'prune':
        return pruneCommand(argv.slice(2));
      case 'verify':
        return await verifyCommand(argv.slice(2));
      default:
        process.stderr.write(USAGE);
        return 2;
    }
  } catch (err) {
    process.stderr.write(`\nerror: ${(err as Error).message}\n`);
    return 1;
  }
}

const USAGE = `usage:
  talus restore --from <backup dir | full backup | dump> [--to-offset N | --to-time T | --to-name NAME]
                (--dir <new data dir> | --database-url <empty database>) [--force] [--pg-bin-dir DIR]
  talus backup mark NAME [talus options]          record the committed offset under NAME
  talus backup list [talus options]               full backups, archives and restore points
  talus backup prune [--dry-run] [talus options]  apply backup-keep / backup-keep-days
  talus backup verify <backup> [--scratch-url URL] [--pg-bin-dir DIR]
`;

/** Take `--name value` (and bare `--flag`s listed in `flags`) out of argv; the rest is Talus options. */
function takeArgs(argv: string[], names: string[], flags: string[] = []): { args: Map<string, string>; rest: string[] } {
  const args = new Map<string, string>();
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const name = a.replace(/^--/, '');
    if (a.startsWith('--') && flags.includes(name)) args.set(name, 'yes');
    else if (a.startsWith('--') && names.includes(name)) {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      args.set(name, v);
    } else rest.push(a);
  }
  return { args, rest };
}

function config(rest: string[]): TalusConfig {
  return loadConfig({ argv: rest, env: process.env }).values;
}

/** A time as ISO 8601, or unix seconds or milliseconds. */
export function parseTime(text: string): number {
  if (/^\d+$/.test(text)) return Number(text) > 1e11 ? Number(text) : Number(text) * 1000;
  const t = Date.parse(text);
  if (Number.isNaN(t)) throw new Error(`--to-time ${text}: not a time (ISO 8601 such as 2026-12-06T03:00:00Z, or unix seconds)`);
  return t;
}

async function restoreCommand(argv: string[]): Promise<number> {
  const { args, rest } = takeArgs(argv, ['from', 'to-offset', 'to-time', 'to-name', 'dir', 'database-url', 'pg-bin-dir'], ['force']);
  if (rest.length > 0) throw new Error(`unknown arguments: ${rest.join(' ')}\n${USAGE}`);
  const from = args.get('from');
  if (!from) throw new Error(`--from is required\n${USAGE}`);
  const targets = ['to-offset', 'to-time', 'to-name'].filter((t) => args.has(t));
  if (targets.length > 1) throw new Error(`give at most one of --to-offset, --to-time, --to-name`);
  const target: RestoreTarget = {};
  if (args.has('to-offset')) {
    const n = Number(args.get('to-offset'));
    if (!Number.isSafeInteger(n) || n < 0) throw new Error(`--to-offset ${args.get('to-offset')}: not an offset`);
    target.offset = n;
  }
  if (args.has('to-time')) target.time = parseTime(args.get('to-time')!);
  if (args.has('to-name')) target.name = args.get('to-name')!;
  const summary = await restore({
    from,
    target,
    ...(args.has('dir') ? { dir: path.resolve(args.get('dir')!) } : {}),
    ...(args.has('database-url') ? { databaseUrl: args.get('database-url')! } : {}),
    force: args.has('force'),
    pgBinDir: args.get('pg-bin-dir') ?? process.env.TALUS_PG_BIN_DIR ?? '',
    progress: progressPrinter(),
  });
  process.stdout.write(`${formatSummary(summary)}\n`);
  return 0;
}

/** Progress on stderr: a bar redrawn in place on a terminal, a line per 10% otherwise. */
function progressPrinter(): (line: string, done?: number, total?: number) => void {
  const tty = process.stderr.isTTY;
  let lastTenth = -1;
  let barShown = false;
  return (line, done, total) => {
    if (done === undefined || total === undefined || total <= 0) {
      if (barShown) process.stderr.write('\n');
      barShown = false;
      process.stderr.write(`${line}\n`);
      return;
    }
    const share = Math.min(1, done / total);
    if (tty) {
      const width = 30;
      const filled = Math.round(share * width);
      process.stderr.write(`\r${line} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${Math.floor(share * 100)}% ${done}/${total}`);
      barShown = true;
    } else if (Math.floor(share * 10) > lastTenth) {
      lastTenth = Math.floor(share * 10);
      process.stderr.write(`${line}: ${done}/${total} records (${Math.floor(share * 100)}%)\n`);
    }
  };
}

async function markCommand(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name.startsWith('-')) throw new Error(`a restore point needs a name\n${USAGE}`);
  const v = config(rest);
  const url = v.databaseUrl || runningEmbeddedUrl(v.dir);
  const offset = await committedOffset(url);
  const backupDir = dataPaths(v).backupDir;
  addPoint(backupDir, { name, offset, time: new Date().toISOString() });
  process.stdout.write(`restore point ${name}: offset ${offset} (${backupDir})\n`);
  return 0;
}

function listCommand(argv: string[]): number {
  const backupDir = dataPaths(config(argv)).backupDir;
  for (const b of listFullBackups(backupDir)) {
    const m = b.manifest;
    process.stdout.write(`${m.name}  offset ${m.offset}  ${m.size} bytes  ${m.time}\n`);
  }
  const archives = listArchives(path.join(backupDir, LOG_DIR));
  if (archives.length > 0) process.stdout.write(`archives: ${archives.length} files, records ${archives[0]!.first}-${archives[archives.length - 1]!.last}\n`);
  for (const p of readPoints(backupDir)) process.stdout.write(`point ${p.name}  offset ${p.offset}  ${p.time}\n`);
  return 0;
}

function pruneCommand(argv: string[]): number {
  const { args, rest } = takeArgs(argv, [], ['dry-run']);
  const v = config(rest);
  const backupDir = dataPaths(v).backupDir;
  const plan = planPrune(backupDir, { keep: v.backupKeep, keepDays: v.backupKeepDays });
  const verb = args.has('dry-run') ? 'would remove' : 'removed';
  for (const b of plan.backups) process.stdout.write(`${verb} ${b.dir}\n`);
  for (const a of plan.archives) process.stdout.write(`${verb} ${a.file}\n`);
  for (const p of plan.points) process.stdout.write(`${verb} restore point ${p.name} (offset ${p.offset})\n`);
  if (plan.backups.length + plan.archives.length + plan.points.length === 0) process.stdout.write('nothing to remove\n');
  if (!args.has('dry-run')) applyPrune(backupDir, plan);
  return 0;
}

/**
 * Restore the backup into a scratch database (a new database on
 * --scratch-url's server, else an embedded PostgreSQL in a temporary dir),
 * compare its keys per db and type with the manifest's, and check every
 * archive file after it.
 */
async function verifyCommand(argv: string[]): Promise<number> {
  const { args, rest } = takeArgs(argv, ['scratch-url', 'pg-bin-dir']);
  const from = rest[0];
  if (!from || rest.length > 1) throw new Error(`talus backup verify <full backup dir>\n${USAGE}`);
  const manifest = readManifest(from);
  const pgBinDir = args.get('pg-bin-dir') ?? process.env.TALUS_PG_BIN_DIR ?? '';
  const scratchUrl = args.get('scratch-url');
  const scratchName = `talus_verify_${process.pid}_${Date.now()}`;
  const tmpDir = scratchUrl ? undefined : fs.mkdtempSync(path.join(os.tmpdir(), 'talus-verify-'));
  if (tmpDir) fs.chmodSync(tmpDir, 0o755); // as root, PostgreSQL runs as another user and must reach it
  try {
    const target = scratchUrl ? { databaseUrl: await createDatabase(scratchUrl, scratchName) } : { dir: tmpDir! };
    const summary = await restore({ from, target: { offset: manifest.offset }, ...target, pgBinDir, progress: progressPrinter() });
    const expected = JSON.stringify(manifest.keys);
    const got = JSON.stringify(summary.keys);
    if (expected !== got) throw new Error(`${from}: restored key counts ${got} differ from the manifest's ${expected}`);
    const logDir = path.join(path.dirname(path.resolve(from)), LOG_DIR);
    const archives = archivesFor(logDir, manifest.offset + 1, undefined);
    for (const a of archives) readArchive(a);
    const last = archives.length > 0 ? archives[archives.length - 1]!.last : manifest.offset;
    process.stdout.write(`${formatSummary(summary)}\nkey counts match the manifest\narchives: ${archives.length} files checked, restorable to offsets ${manifest.offset}-${last}\nOK\n`);
    return 0;
  } finally {
    if (scratchUrl) await dropDatabase(scratchUrl, scratchName).catch(() => undefined);
    if (tmpDir) fs.rmSync(tmpDir, { recursive: true, force: true });
  }
}
