import fs from 'node:fs';
import path from 'node:path';
import { MANIFEST_FILE, readManifest, type BackupManifest } from './manifest.js';
import { LOG_DIR, listArchives, type ArchiveFile } from './log-archive.js';

/**
 * What a backup dir holds: full backups (`full-<time>/`), change-log
 * archives (`log/`), named restore points (`points.jsonl`), and what
 * retention removes.
 */

export interface FullBackup {
  dir: string;
  manifest: BackupManifest;
}

export interface RestorePoint {
  name: string;
  /** the last change-log record the point includes */
  offset: number;
  time: string;
}

export const POINTS_FILE = 'points.jsonl';
export const TEMP_SUFFIX = '.tmp';

/** Complete full backups of `backupDir`, oldest first (by offset, then time). */
export function listFullBackups(backupDir: string): FullBackup[] {
  let names: string[];
  try {
    names = fs.readdirSync(backupDir);
  } catch {
    return [];
  }
  const out: FullBackup[] = [];
  for (const name of names) {
    if (!name.startsWith('full-') || name.endsWith(TEMP_SUFFIX)) continue;
    const dir = path.join(backupDir, name);
    if (!fs.existsSync(path.join(dir, MANIFEST_FILE))) continue;
    try {
      out.push({ dir, manifest: readManifest(dir) });
    } catch {
      // an unreadable manifest is reported by `talus backup verify`, not listed as a backup
    }
  }
  return out.sort((a, b) => a.manifest.offset - b.manifest.offset || a.manifest.unixMs - b.manifest.unixMs);
}

/** Remove what a failed or interrupted backup left (temporary dirs and archive files). */
export function removeLeftovers(backupDir: string): string[] {
  const removed: string[] = [];
  for (const dir of [backupDir, path.join(backupDir, LOG_DIR)]) {
    let names: string[] = [];
    try {
      names = fs.readdirSync(dir);
    } catch {
      continue;
    }
    for (const name of names) {
      if (!name.endsWith(TEMP_SUFFIX)) continue;
      fs.rmSync(path.join(dir, name), { recursive: true, force: true });
      removed.push(path.join(dir, name));
    }
  }
  return removed;
}

export function readPoints(backupDir: string): RestorePoint[] {
  let text: string;
  try {
    text = fs.readFileSync(path.join(backupDir, POINTS_FILE), 'utf8');
  } catch {
    return [];
  }
  return text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as RestorePoint);
}

/** Record a named restore point (names are unique). */
export function addPoint(backupDir: string, point: RestorePoint): void {
  if (readPoints(backupDir).some((p) => p.name === point.name)) throw new Error(`a restore point named ${JSON.stringify(point.name)} already exists`);
  fs.mkdirSync(backupDir, { recursive: true });
  fs.appendFileSync(path.join(backupDir, POINTS_FILE), `${JSON.stringify(point)}\n`);
}

export function findPoint(backupDir: string, name: string): RestorePoint {
  const p = readPoints(backupDir).find((x) => x.name === name);
  if (!p) throw new Error(`no restore point named ${JSON.stringify(name)} in ${path.join(backupDir, POINTS_FILE)}`);
  return p;
}

export interface RetentionRules {
  /** full backups kept (0: no count rule) */
  keep: number;
  /** days a full backup is kept (0: no age rule) */
  keepDays: number;
}

export interface PrunePlan {
  backups: FullBackup[];
  archives: ArchiveFile[];
  points: RestorePoint[];
}

/**
 * What retention removes: a full backup goes once it is outside every rule
 * set (not among the newest `keep`, and older than `keepDays`); the newest
 * always stays. Archives and restore points older than the oldest kept full
 * backup go with it: nothing can replay them any more.
 */
export function planPrune(backupDir: string, rules: RetentionRules, now = Date.now()): PrunePlan {
  const all = listFullBackups(backupDir);
  if (all.length === 0 || (rules.keep === 0 && rules.keepDays === 0)) return { backups: [], archives: [], points: [] };
  const newestFirst = [...all].reverse();
  const kept = newestFirst.filter((b, i) => {
    if (i === 0) return true;
    const byCount = rules.keep > 0 && i < rules.keep;
    const byAge = rules.keepDays > 0 && now - b.manifest.unixMs < rules.keepDays * 86_400_000;
    return byCount || byAge;
  });
  const oldestKept = Math.min(...kept.map((b) => b.manifest.offset));
  return {
    backups: all.filter((b) => !kept.includes(b)),
    archives: listArchives(path.join(backupDir, LOG_DIR)).filter((a) => a.last <= oldestKept),
    points: readPoints(backupDir).filter((p) => p.offset < oldestKept),
  };
}

export function applyPrune(backupDir: string, plan: PrunePlan): void {
  for (const b of plan.backups) fs.rmSync(b.dir, { recursive: true, force: true });
  for (const a of plan.archives) fs.rmSync(a.file, { force: true });
  if (plan.points.length > 0) {
    const gone = new Set(plan.points.map((p) => p.name));
    const rest = readPoints(backupDir).filter((p) => !gone.has(p.name));
    const file = path.join(backupDir, POINTS_FILE);
    fs.writeFileSync(`${file}${TEMP_SUFFIX}`, rest.map((p) => `${JSON.stringify(p)}\n`).join(''));
    fs.renameSync(`${file}${TEMP_SUFFIX}`, file);
  }
}
