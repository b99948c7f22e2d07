import fs from 'node:fs';
import path from 'node:path';
import { loadConfig } from '../config/load.js';
import { ConfigStore } from '../config/store.js';
import { Talus } from '../talus.js';
import { Logger } from '../observability/logger.js';
import { decodeEffect, decodeSegment } from '../replication/changelog.js';
import { startEmbeddedPostgres, type EmbeddedCluster } from '../storage/embedded.js';
import { committedOffset, dropTalusSchema, holdsTalusSchema, keyCounts, startNewHistory } from '../storage/backup-store.js';
import { pgRestore } from '../storage/pg-tools.js';
import { findPoint, listFullBackups, type FullBackup } from './catalog.js';
import { DUMP_FILE, MANIFEST_FILE, readManifest, verifyBackupFiles, type BackupManifest } from './manifest.js';
import { LOG_DIR, archivesFor, readArchive, type ArchiveFile } from './log-archive.js';

/** Where a restore stops: an offset, a time (unix ms), a named point, or (none) the last archived record. */
export interface RestoreTarget {
  offset?: number;
  time?: number;
  name?: string;
}

export interface RestoreOptions {
  /** a full backup's dir, a backup dir holding several (the right one is chosen), or a bare dump file */
  from: string;
  target: RestoreTarget;
  /** a new data dir (embedded PostgreSQL), or an empty database */
  dir?: string;
  databaseUrl?: string;
  /** replace the Talus data the target holds */
  force?: boolean;
  pgBinDir: string;
  progress?: (line: string, done?: number, total?: number) => void;
}

export interface RestoreSummary {
  backup: string;
  backupOffset: number;
  /** the last change-log record of the source the restored data set contains */
  finalOffset: number;
  replayed: number;
  /** ms spent in pg_restore, in the replay (with its server's start and stop), and applying records */
  restoreMs: number;
  replayMs: number;
  applyMs: number;
  /** files whose SHA-256 was checked (dump and archives) */
  checksums: number;
  keys: Array<{ db: number; type: string; n: number }>;
}

interface Source {
  dump: string;
  manifest: BackupManifest | undefined;
  /** the backup dir holding log/ and points (undefined for a bare dump) */
  root: string | undefined;
  /** the offset replay stops at (undefined: the last archived record) */
  stopOffset: number | undefined;
}

/**
 * `talus restore`: check the backup and the archives it needs, pg_restore
 * the dump into an empty database, replay the archived change log to the
 * target through the executor's apply path (replication/applier.ts, as a
 * follower applies its leader's records), then summarise. A restore that
 * fails removes what it restored: nothing half-restored is left looking
 * complete.
 */
export async function restore(opts: RestoreOptions): Promise<RestoreSummary> {
  const say = opts.progress ?? (() => undefined);
  if ((opts.dir === undefined) === (opts.databaseUrl === undefined)) throw new Error('give exactly one of --dir <new data dir> and --database-url <empty database>');
  const src = chooseSource(opts.from, opts.target);
  let checksums = 0;
  if (src.manifest) {
    say(`checking ${path.dirname(src.dump)} (manifest, SHA-256)`);
    checksums += await verifyBackupFiles(path.dirname(src.dump), src.manifest);
  }
  // Every archive the replay needs is checked before the target is touched.
  const from = src.manifest ? src.manifest.offset + 1 : undefined;
  let archives: ArchiveFile[] = [];
  if (src.root && from !== undefined && (src.stopOffset === undefined || src.stopOffset >= from)) {
    archives = archivesFor(path.join(src.root, LOG_DIR), from, src.stopOffset);
    for (const a of archives) {
      readArchive(a);
      checksums++;
    }
    say(`${archives.length} change-log archive files checked`);
  }

  let cluster: EmbeddedCluster | undefined;
  let url = opts.databaseUrl;
  let madeDir = false;
  /** the target was changed: a failure must undo it */
  let touched = false;
  try {
    if (opts.dir !== undefined) {
      const pgDir = path.join(opts.dir, 'pg');
      if (fs.existsSync(pgDir)) {
        if (!opts.force) throw new Error(`${opts.dir} already holds a Talus data dir (pg/): restore into a new dir, or give --force to replace it`);
        fs.rmSync(pgDir, { recursive: true, force: true });
        fs.rmSync(path.join(opts.dir, 'embedded-pg.json'), { force: true });
      }
      madeDir = true;
      touched = true;
      say(`starting PostgreSQL in ${opts.dir}`);
      cluster = await startEmbeddedPostgres({ dir: opts.dir, port: 0, log: new Logger('warning') });
      url = cluster.url;
    } else if (await holdsTalusSchema(url!)) {
      if (!opts.force) throw new Error('the target database already holds Talus data (schema talus): restore into an empty database, or give --force to replace it');
      touched = true;
      await dropTalusSchema(url!);
    }
    touched = true;
    say(`pg_restore ${src.dump}`);
    let t = performance.now();
    await pgRestore({ binDir: opts.pgBinDir, url: url!, file: src.dump });
    const restoreMs = performance.now() - t;
    const backupOffset = src.manifest?.offset ?? (await committedOffset(url!));
    t = performance.now();
    const { finalOffset, replayed, applyMs } = await replay(url!, opts.dir, src.manifest?.databases ?? 16, archives, backupOffset, src.stopOffset, opts.target.time, say);
    const replayMs = performance.now() - t;
    await startNewHistory(url!);
    const keys = await keyCounts(url!);
    return { backup: src.manifest ? path.dirname(src.dump) : src.dump, backupOffset, finalOffset, replayed, restoreMs, replayMs, applyMs, checksums, keys };
  } catch (err) {
    // nothing half-restored stays behind
    if (cluster) await cluster.stop().catch(() => undefined);
    cluster = undefined;
    if (madeDir && opts.dir !== undefined) {
      fs.rmSync(path.join(opts.dir, 'pg'), { recursive: true, force: true });
      fs.rmSync(path.join(opts.dir, 'embedded-pg.json'), { force: true });
    } else if (url && touched) {
      await dropTalusSchema(url).catch(() => undefined);
    }
    throw err;
  } finally {
    await cluster?.stop();
  }
}

/** The dump to restore and where replay stops, from --from and the target. */
function chooseSource(from: string, target: RestoreTarget): Source {
  const stat = fs.statSync(from, { throwIfNoEntry: false });
  if (!stat) throw new Error(`${from}: no such backup`);
  if (stat.isFile()) {
    if (target.offset !== undefined || target.time !== undefined || target.name !== undefined) {
      throw new Error(`${from} is a bare dump: restoring to a point needs its backup dir (with ${MANIFEST_FILE} and the archives in ../${LOG_DIR})`);
    }
    return { dump: from, manifest: undefined, root: undefined, stopOffset: undefined };
  }
  let root: string;
  let backups: FullBackup[];
  if (fs.existsSync(path.join(from, MANIFEST_FILE))) {
    root = path.dirname(path.resolve(from));
    backups = [{ dir: from, manifest: readManifest(from) }];
  } else {
    root = from;
    backups = listFullBackups(from);
    if (backups.length === 0) throw new Error(`${from}: neither a full backup (no ${MANIFEST_FILE}) nor a backup dir holding one`);
  }
  let stopOffset = target.offset;
  if (target.name !== undefined) stopOffset = findPoint(root, target.name).offset;
  // The newest backup at or before the target.
  const fits = backups.filter((b) => (stopOffset === undefined || b.manifest.offset <= stopOffset) && (target.time === undefined || b.manifest.unixMs <= target.time));
  const chosen = fits[fits.length - 1];
  if (!chosen) {
    const oldest = backups[0]!.manifest;
    throw new Error(`no full backup in ${root} is at or before the target (the oldest, ${oldest.name}, holds offset ${oldest.offset}, taken ${oldest.time})`);
  }
  return { dump: path.join(chosen.dir, DUMP_FILE), manifest: chosen.manifest, root, stopOffset };
}

/** Records queued before the replay waits for them to be applied. */
const REPLAY_BATCH = 5000;

/**
 * Apply the archived records after `backupOffset` up to the target on a
 * Talus started in this process on the restored database, through the
 * follower's apply loop (ApplyQueue: a MULTI ... EXEC applied as one
 * transaction). Keys are not expired meanwhile (replica mode), so
 * effects land on the data set exactly as the source had it.
 */
async function replay(
  url: string,
  dir: string | undefined,
  databases: number,
  archives: ArchiveFile[],
  backupOffset: number,
  stopOffset: number | undefined,
  stopTime: number | undefined,
  say: NonNullable<RestoreOptions['progress']>,
): Promise<{ finalOffset: number; replayed: number; applyMs: number }> {
  if (archives.length === 0) return { finalOffset: backupOffset, replayed: 0, applyMs: 0 };
  const total = (stopOffset ?? archives[archives.length - 1]!.last) - backupOffset;
  const scratch = dir ?? fs.mkdtempSync(path.join(fs.realpathSync(process.env.TMPDIR ?? '/tmp'), 'talus-restore-'));
  const argv = ['--port', '0', '--bind', '127.0.0.1', '--dir', scratch, '--database-url', url, '--databases', String(databases), '--loglevel', 'warning'];
  const talus = new Talus(ConfigStore.from(loadConfig({ argv, env: {} })));
  let finalOffset = backupOffset;
  let replayed = 0;
  let applyMs = 0;
  try {
    await talus.start();
    const started = performance.now();
    talus.keyspace.replicaMode = true;
    const queue = talus.openApplyQueue();
    let db = -1;
    // A transaction is applied whole or not at all: where it started, in case the replay stops inside it.
    let openTransaction: { finalOffset: number; replayed: number } | undefined;
    say('replaying the change log', 0, total);
    outer: for (const a of archives) {
      for (const segment of readArchive(a)) {
        if (segment.lastSeq <= finalOffset) continue;
        for (const r of decodeSegment(segment.firstSeq, segment.records)) {
          if (r.seq <= finalOffset) continue;
          if (stopOffset !== undefined && r.seq > stopOffset) break outer;
          if (stopTime !== undefined && r.at > stopTime) break outer;
          if (r.db !== db) {
            queue.push([Buffer.from('SELECT'), Buffer.from(String(r.db))]);
            db = r.db;
          }
          const effect = decodeEffect(Buffer.from(r.effect));
          const name = effect[0]!.toString('latin1').toUpperCase();
          if (name === 'MULTI') openTransaction = { finalOffset, replayed };
          else if (name === 'EXEC') openTransaction = undefined;
          queue.push(effect);
          finalOffset = r.seq;
          replayed++;
          if (queue.length >= REPLAY_BATCH) {
            queue.run();
            await queue.idle();
            // the applier's replies do not wait for commits: keep the commit backlog bounded
            if (talus.commitBacklogFull()) await talus.persistence.waitDurable(talus.keyspace.changelog.seq);
            say('replaying the change log', replayed, total);
          }
        }
      }
    }
    queue.run();
    await queue.idle();
    if (openTransaction !== undefined) {
      // the target (or the archive) ends inside a transaction: it stays out, as it would on a follower
      queue.clear();
      ({ finalOffset, replayed } = openTransaction);
    }
    say('replaying the change log', replayed, total);
    await talus.persistence.waitDurable(talus.keyspace.changelog.seq);
    applyMs = performance.now() - started;
  } finally {
    await talus.shutdown();
    if (dir === undefined) fs.rmSync(scratch, { recursive: true, force: true });
  }
  return { finalOffset, replayed, applyMs };
}

/** The restore's closing summary, for the terminal. */
export function formatSummary(s: RestoreSummary): string {
  const secs = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
  const lines = [
    `restored ${s.backup} (offset ${s.backupOffset}), replayed ${s.replayed} change-log records: final offset ${s.finalOffset}`,
    `pg_restore ${secs(s.restoreMs)}, replay ${secs(s.replayMs)}${s.replayed > 0 ? ` (applying: ${Math.round(s.replayed / (s.applyMs / 1000))} records/s)` : ''}`,
    `checksums checked: ${s.checksums} files`,
  ];
  const byDb = new Map<number, string[]>();
  for (const k of s.keys) byDb.set(k.db, [...(byDb.get(k.db) ?? []), `${k.type} ${k.n}`]);
  if (byDb.size === 0) lines.push('no keys');
  for (const [db, parts] of byDb) lines.push(`db${db}: ${parts.join(', ')}`);
  return lines.join('\n');
}
