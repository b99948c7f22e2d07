import path from 'node:path';
import cron, { type ScheduledTask } from 'node-cron';
import type { ConfigStore } from '../config/store.js';
import { dataPaths } from '../config/schema.js';
import type { Logger } from '../observability/logger.js';
import type { BackupControl } from '../execution/context.js';
import { readSegmentsAfter, serverMajorVersion } from '../storage/backup-store.js';
import { toolProblems } from '../storage/pg-tools.js';
import { applyPrune, listFullBackups, planPrune, removeLeftovers } from './catalog.js';
import { takeFullBackup } from './full-backup.js';
import { LOG_DIR, lastArchived, writeArchive } from './log-archive.js';

/** What the backup service needs of its server (talus.ts). */
export interface BackupHost {
  readonly log: Logger;
  readonly config: ConfigStore;
  /** the database the server writes to */
  databaseUrl(): string;
  /** the last change-log record handed out */
  currentSeq(): number;
}

/** How often the committed change log is archived when backup-log-cron is empty. */
const ARCHIVE_INTERVAL_MS = 2000;
/** Bytes of change log per archive file (at least one segment). */
const ARCHIVE_FILE_BYTES = 64 << 20;

/**
 * The server's side of backups (docs/backup.md): full backups on
 * `backup-cron` and BGSAVE, one at a time; the change log archived after
 * them; retention after each backup; and what INFO, LASTSAVE and the
 * janitor ask.
 */
export class BackupService implements BackupControl {
  inProgress = false;
  startedAt = 0;
  lastOk = true;
  /** seconds the last backup took (-1: none yet) */
  lastSecs = -1;
  /** unix s when the last successful backup ended (0: none; at start-up, the newest backup's snapshot time) */
  lastTime = 0;
  /** change-log offset of the newest full backup (-1: none) */
  lastOffset = -1;
  lastSize = 0;
  lastError = '';
  backups = 0;
  /** the last change-log record archived (undefined: the archive has not started) */
  archivedOffset: number | undefined;
  archiveError = '';
  archiveFiles = 0;
  /** a backup's snapshot offset, until the backup ends: the change log after it must stay */
  private pendingFloor: number | undefined;
  private scheduled = false;
  private running: Promise<void> | undefined;
  private archiving: Promise<void> | undefined;
  private backupTask: ScheduledTask | undefined;
  private archiveTask: ScheduledTask | undefined;
  private archiveTimer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(private readonly h: BackupHost) {}

  /** Backups are configured when backup-cron or backup-dir is set. */
  get configured(): boolean {
    const v = this.h.config.values;
    return v.backupCron.trim() !== '' || v.backupDir !== '';
  }

  get backupDir(): string {
    return dataPaths(this.h.config.values).backupDir;
  }

  /** At start-up: check pg_dump/pg_restore, clear leftovers, read what the backup dir holds, schedule. */
  async start(): Promise<void> {
    if (this.configured) await this.prepare();
    this.schedule();
    for (const name of ['backup-cron', 'backup-log-cron', 'backup-dir']) {
      this.h.config.onChange(name, () => {
        if (name === 'backup-dir') void this.prepare();
        this.schedule();
      });
    }
  }

  private async prepare(): Promise<void> {
    const v = this.h.config.values;
    try {
      const problem = await toolProblems(v.pgBinDir, await serverMajorVersion(this.h.databaseUrl()));
      if (problem) {
        this.h.log.warning(`Backups are configured but cannot run: ${problem}. Install PostgreSQL's client programs (Debian: apt-get install postgresql-client-15) or set pg-bin-dir.`);
      }
    } catch (err) {
      this.h.log.warning(`Backups: cannot check pg_dump against the server: ${(err as Error).message}`);
    }
    for (const f of removeLeftovers(this.backupDir)) this.h.log.notice(`Backups: removed ${f}, left by an interrupted backup`);
    const all = listFullBackups(this.backupDir);
    const newest = all[all.length - 1];
    if (newest) {
      this.lastOffset = newest.manifest.offset;
      this.lastSize = newest.manifest.size;
      this.lastTime = Math.floor(newest.manifest.unixMs / 1000);
    }
    this.archivedOffset = lastArchived(path.join(this.backupDir, LOG_DIR)) ?? (newest ? newest.manifest.offset : undefined);
  }

  private schedule(): void {
    this.backupTask?.destroy();
    this.archiveTask?.destroy();
    clearInterval(this.archiveTimer);
    this.backupTask = this.archiveTask = this.archiveTimer = undefined;
    if (this.stopped) return;
    const v = this.h.config.values;
    if (v.backupCron.trim() !== '') this.backupTask = cron.schedule(v.backupCron, () => void this.start0());
    if (!this.configured) return;
    if (v.backupLogCron.trim() !== '') this.archiveTask = cron.schedule(v.backupLogCron, () => void this.archive());
    else {
      this.archiveTimer = setInterval(() => void this.archive(), ARCHIVE_INTERVAL_MS);
      this.archiveTimer.unref();
    }
  }

  private start0(): void {
    if (!this.startBackup(false)) this.h.log.warning('Scheduled backup skipped: a backup is already running');
  }

  /** BGSAVE and the schedule: start a full backup unless one runs (`schedule`: then run one after it). */
  startBackup(schedule: boolean): boolean {
    if (this.running) {
      if (schedule) this.scheduled = true;
      return false;
    }
    this.running = this.run().finally(() => {
      this.running = undefined;
      if (this.scheduled && !this.stopped) {
        this.scheduled = false;
        this.startBackup(false);
      }
    });
    return true;
  }

  /** Resolves when no backup runs (a test's or a shutdown's wait). */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  private async run(): Promise<void> {
    const v = this.h.config.values;
    this.inProgress = true;
    this.startedAt = Date.now();
    this.h.log.notice(`Background saving started: full backup into ${this.backupDir}`);
    try {
      const { dir, manifest } = await takeFullBackup({
        backupDir: this.backupDir,
        url: this.h.databaseUrl(),
        pgBinDir: v.pgBinDir,
        databases: v.databases,
        onOffset: (offset) => (this.pendingFloor = offset),
      });
      this.lastOk = true;
      this.lastError = '';
      this.lastOffset = manifest.offset;
      this.lastSize = manifest.size;
      this.lastTime = Math.floor(Date.now() / 1000);
      this.backups++;
      this.archivedOffset ??= manifest.offset;
      this.h.log.notice(`Background saving terminated with success: ${path.basename(dir)}, offset ${manifest.offset}, ${manifest.size} bytes`);
      this.prune();
    } catch (err) {
      this.lastOk = false;
      this.lastError = (err as Error).message;
      this.h.log.warning(`Background saving error: full backup failed and was removed: ${this.lastError}`);
    } finally {
      this.pendingFloor = undefined;
      this.inProgress = false;
      this.lastSecs = Math.round((Date.now() - this.startedAt) / 1000);
    }
    // archiving continuously: start the chain after this backup now (a backup-log-cron waits for its time)
    if (v.backupLogCron.trim() === '') await this.archive();
  }

  /** Retention (backup-keep, backup-keep-days) after a backup. */
  private prune(): void {
    const v = this.h.config.values;
    try {
      const plan = planPrune(this.backupDir, { keep: v.backupKeep, keepDays: v.backupKeepDays });
      applyPrune(this.backupDir, plan);
      for (const b of plan.backups) this.h.log.notice(`Backups: retention removed ${path.basename(b.dir)}`);
      if (plan.archives.length > 0) this.h.log.notice(`Backups: retention removed ${plan.archives.length} change-log archive files`);
    } catch (err) {
      this.h.log.warning(`Backups: retention failed: ${(err as Error).message}`);
    }
  }

  /** Copy the committed change log after the last archived record to archive files. */
  archive(): Promise<void> {
    if (!this.archiving) this.archiving = this.archiveCommitted().finally(() => (this.archiving = undefined));
    return this.archiving;
  }

  private async archiveCommitted(): Promise<void> {
    if (!this.configured || this.archivedOffset === undefined) return;
    const logDir = path.join(this.backupDir, LOG_DIR);
    try {
      for (;;) {
        const from = this.archivedOffset;
        const segments = await readSegmentsAfter(this.h.databaseUrl(), from, ARCHIVE_FILE_BYTES);
        if (segments.length === 0) break;
        if (segments[0]!.firstSeq !== from + 1) {
          // The log was trimmed before it was archived (backups were off meanwhile):
          // the chain can only restart at the newest full backup.
          if (this.lastOffset > from) {
            this.h.log.warning(`Backups: change log ${from + 1}-${this.lastOffset} was trimmed before it was archived; archiving restarts at the newest full backup (offset ${this.lastOffset})`);
            this.archivedOffset = this.lastOffset;
            continue;
          }
          throw new Error(`the change log no longer holds records ${from + 1}-${segments[0]!.firstSeq - 1}; take a full backup (BGSAVE)`);
        }
        const a = writeArchive(logDir, segments);
        this.archivedOffset = a.last;
        this.archiveFiles++;
        this.archiveError = '';
        if (segments.reduce((n, s) => n + s.records.length, 0) < ARCHIVE_FILE_BYTES) break;
      }
    } catch (err) {
      if (this.archiveError !== (err as Error).message) this.h.log.warning(`Backups: archiving the change log failed: ${(err as Error).message}`);
      this.archiveError = (err as Error).message;
    }
  }

  /**
   * The janitor keeps change-log segments past this offset (undefined: no
   * limit): what the archive has not copied yet, and during a backup what
   * follows its snapshot.
   */
  keepChangelogAfter(): number | undefined {
    if (!this.configured) return undefined;
    const floors = [this.archivedOffset, this.pendingFloor].filter((x): x is number => x !== undefined);
    return floors.length > 0 ? Math.min(...floors) : undefined;
  }

  /** Records committed but not archived yet. */
  archiveLag(committed: number): number {
    return this.archivedOffset === undefined ? 0 : Math.max(0, committed - this.archivedOffset);
  }

  /** At shutdown: no new backup; the running one and a last archive pass finish. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.schedule();
    await this.idle();
    await this.archive();
  }
}
