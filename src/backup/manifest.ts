import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

/**
 * A full backup is a directory `full-<time>` under the backup dir holding the
 * dump and `manifest.json`. The manifest is written last, and the directory
 * renamed from its temporary name only once both are complete and synced:
 * a `full-*` directory is always a whole backup.
 */
export interface BackupManifest {
  format: typeof MANIFEST_FORMAT;
  name: string;
  /** when the snapshot was taken (ISO 8601, and unix ms) */
  time: string;
  unixMs: number;
  talusVersion: string;
  /** the last migration applied to the dumped schema */
  schemaVersion: number;
  postgresVersion: string;
  /** the last change-log record the dump contains: replay continues from offset + 1 */
  offset: number;
  /** the source's `databases` */
  databases: number;
  /** bytes of every file */
  size: number;
  /** keys per db and type in the dump */
  keys: Array<{ db: number; type: string; n: number }>;
  files: ManifestFile[];
}

export interface ManifestFile {
  name: string;
  bytes: number;
  sha256: string;
}

export const MANIFEST_FORMAT = 'talus-backup-1';
export const MANIFEST_FILE = 'manifest.json';
export const DUMP_FILE = 'dump.pgc';

export async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of fs.createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

export async function describeFile(dir: string, name: string): Promise<ManifestFile> {
  const file = path.join(dir, name);
  return { name, bytes: fs.statSync(file).size, sha256: await sha256File(file) };
}

export function readManifest(dir: string): BackupManifest {
  const file = path.join(dir, MANIFEST_FILE);
  let m: BackupManifest;
  try {
    m = JSON.parse(fs.readFileSync(file, 'utf8')) as BackupManifest;
  } catch (err) {
    throw new Error(`${file}: unreadable manifest (${(err as Error).message})`);
  }
  if (m.format !== MANIFEST_FORMAT) throw new Error(`${file}: not a Talus backup manifest (format ${JSON.stringify(m.format)})`);
  return m;
}

/** Check every file the manifest lists (size, then SHA-256); throws naming the first bad file. */
export async function verifyBackupFiles(dir: string, m: BackupManifest): Promise<number> {
  for (const f of m.files) {
    const file = path.join(dir, f.name);
    let bytes: number;
    try {
      bytes = fs.statSync(file).size;
    } catch {
      throw new Error(`${file}: missing (listed in ${path.join(dir, MANIFEST_FILE)})`);
    }
    if (bytes !== f.bytes) throw new Error(`${file}: ${bytes} bytes, the manifest says ${f.bytes} (truncated or replaced)`);
    const sum = await sha256File(file);
    if (sum !== f.sha256) throw new Error(`${file}: SHA-256 ${sum} does not match the manifest's ${f.sha256} (corrupted)`);
  }
  return m.files.length;
}

/** fsync a file or a directory (a rename is durable once its directory is synced). */
export function syncPath(p: string): void {
  const fd = fs.openSync(p, 'r');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}
