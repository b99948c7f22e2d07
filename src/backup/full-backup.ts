import fs from 'node:fs';
import path from 'node:path';
import { exportSnapshot } from '../storage/backup-store.js';
import { pgDump } from '../storage/pg-tools.js';
import { VERSION } from '../version.js';
import { TEMP_SUFFIX } from './catalog.js';
import { DUMP_FILE, MANIFEST_FILE, MANIFEST_FORMAT, describeFile, syncPath, type BackupManifest } from './manifest.js';

export interface FullBackupOptions {
  backupDir: string;
  url: string;
  pgBinDir: string;
  databases: number;
  /** the snapshot's offset is known: from here on the change log must be kept for the archive */
  onOffset?: (offset: number) => void;
}

/**
 * One full backup: `pg_dump -Fc` of the talus schema from a snapshot whose
 * change-log offset is read in the same transaction, into
 * `full-<time>.tmp/`, then the manifest (sizes, SHA-256), then the rename to
 * `full-<time>/`. On any failure the temporary dir is removed and the
 * previous backups are untouched.
 */
export async function takeFullBackup(opts: FullBackupOptions): Promise<{ dir: string; manifest: BackupManifest }> {
  const now = new Date();
  const name = `full-${now.toISOString().replace(/[-:]/g, '').replace('.', '')}`;
  const final = path.join(opts.backupDir, name);
  const tmp = `${final}${TEMP_SUFFIX}`;
  fs.mkdirSync(tmp, { recursive: true });
  try {
    const snapshot = await exportSnapshot(opts.url);
    try {
      opts.onOffset?.(snapshot.offset);
      await pgDump({ binDir: opts.pgBinDir, url: opts.url, snapshot: snapshot.id, file: path.join(tmp, DUMP_FILE) });
    } finally {
      await snapshot.release();
    }
    const dump = await describeFile(tmp, DUMP_FILE);
    const manifest: BackupManifest = {
      format: MANIFEST_FORMAT,
      name,
      time: now.toISOString(),
      unixMs: now.getTime(),
      talusVersion: VERSION.talus,
      schemaVersion: snapshot.schemaVersion,
      postgresVersion: snapshot.serverVersion,
      offset: snapshot.offset,
      databases: opts.databases,
      size: dump.bytes,
      keys: snapshot.keys,
      files: [dump],
    };
    const manifestFile = path.join(tmp, MANIFEST_FILE);
    fs.writeFileSync(manifestFile, `${JSON.stringify(manifest, null, 2)}\n`);
    syncPath(path.join(tmp, DUMP_FILE));
    syncPath(manifestFile);
    syncPath(tmp);
    fs.renameSync(tmp, final);
    syncPath(opts.backupDir);
    return { dir: final, manifest };
  } catch (err) {
    fs.rmSync(tmp, { recursive: true, force: true });
    throw err;
  }
}
