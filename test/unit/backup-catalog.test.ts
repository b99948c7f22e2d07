import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { addPoint, listFullBackups, planPrune, readPoints } from '../../src/backup/catalog.js';
import { LOG_DIR, archivesFor, listArchives, readArchive, writeArchive } from '../../src/backup/log-archive.js';
import { MANIFEST_FILE, MANIFEST_FORMAT, type BackupManifest } from '../../src/backup/manifest.js';
import { parseTime } from '../../src/backup/cli.js';

/** What a backup dir holds, read without a server: archives, retention, restore points. */

const DAY = 86_400_000;

function scratch(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'talus-backup-unit-'));
}

function segment(first: number, last: number) {
  return { firstSeq: first, lastSeq: last, at: 1_700_000_000_000 + last, records: Buffer.from(`records ${first}-${last}`) };
}

function fakeBackup(dir: string, name: string, offset: number, unixMs: number): void {
  const m: BackupManifest = {
    format: MANIFEST_FORMAT, name, time: new Date(unixMs).toISOString(), unixMs, talusVersion: '0', schemaVersion: 10,
    postgresVersion: '15', offset, databases: 16, size: 0, keys: [], files: [],
  };
  fs.mkdirSync(path.join(dir, name), { recursive: true });
  fs.writeFileSync(path.join(dir, name, MANIFEST_FILE), JSON.stringify(m));
}

describe('backup catalog', () => {
  it('archive files carry their range and checksum: a changed byte, a cut file or a gap is named', () => {
    const dir = scratch();
    const logDir = path.join(dir, LOG_DIR);
    writeArchive(logDir, [segment(1, 3), segment(4, 4)]);
    writeArchive(logDir, [segment(5, 9)]);
    const c = writeArchive(logDir, [segment(10, 12)]);
    expect(listArchives(logDir).map((a) => [a.first, a.last])).to.deep.equal([[1, 4], [5, 9], [10, 12]]);
    expect(readArchive(listArchives(logDir)[0]!).map((s) => [s.firstSeq, s.lastSeq])).to.deep.equal([[1, 3], [4, 4]]);
    // from the middle of a file to the middle of another
    expect(archivesFor(logDir, 3, 6).map((a) => a.first)).to.deep.equal([1, 5]);
    expect(() => archivesFor(logDir, 3, 20)).to.throw(/records 13-20 are in no file after 00000000000000000010-00000000000000000012\.tlog/);

    const bytes = fs.readFileSync(c.file);
    bytes[bytes.length - 1] ^= 1;
    fs.writeFileSync(c.file, bytes);
    expect(() => readArchive(c)).to.throw(new RegExp(`${c.file}: checksum mismatch`));
    fs.truncateSync(c.file, bytes.length - 4);
    expect(() => readArchive(c)).to.throw(new RegExp(`${c.file}: \\d+ bytes of records, the header says \\d+ \\(truncated\\)`));

    fs.rmSync(listArchives(logDir)[1]!.file);
    expect(() => archivesFor(logDir, 1, undefined)).to.throw(/records 5-9 are in no file .*between 00000000000000000001-00000000000000000004\.tlog and 00000000000000000010/);
    fs.rmSync(dir, { recursive: true });
  });

  it('retention keeps the newest backup-keep and those within backup-keep-days; older archives and points go with them', () => {
    const dir = scratch();
    const now = Date.now();
    fakeBackup(dir, 'full-a', 10, now - 10 * DAY);
    fakeBackup(dir, 'full-b', 20, now - 5 * DAY);
    fakeBackup(dir, 'full-c', 30, now - 1 * DAY);
    fs.mkdirSync(path.join(dir, 'full-d.tmp')); // an unfinished backup is not one
    writeArchive(path.join(dir, LOG_DIR), [segment(11, 20)]);
    writeArchive(path.join(dir, LOG_DIR), [segment(21, 25)]);
    writeArchive(path.join(dir, LOG_DIR), [segment(26, 35)]);
    addPoint(dir, { name: 'early', offset: 15, time: '' });
    addPoint(dir, { name: 'late', offset: 28, time: '' });
    expect(() => addPoint(dir, { name: 'late', offset: 29, time: '' })).to.throw(/already exists/);
    expect(listFullBackups(dir).map((b) => path.basename(b.dir))).to.deep.equal(['full-a', 'full-b', 'full-c']);

    const names = (p: ReturnType<typeof planPrune>) => [p.backups.map((b) => path.basename(b.dir)), p.archives.map((a) => a.last), p.points.map((x) => x.name)];
    expect(names(planPrune(dir, { keep: 0, keepDays: 0 }, now))).to.deep.equal([[], [], []]);
    expect(names(planPrune(dir, { keep: 2, keepDays: 0 }, now))).to.deep.equal([['full-a'], [20], ['early']]);
    expect(names(planPrune(dir, { keep: 1, keepDays: 0 }, now))).to.deep.equal([['full-a', 'full-b'], [20, 25], ['early', 'late']]);
    // outside both rules: the count keeps 1, the age 7 days
    expect(names(planPrune(dir, { keep: 1, keepDays: 7 }, now))).to.deep.equal([['full-a'], [20], ['early']]);
    // the newest always stays
    expect(names(planPrune(dir, { keep: 0, keepDays: 1 }, now + 30 * DAY))[0]).to.deep.equal(['full-a', 'full-b']);
    expect(readPoints(dir).map((p) => p.name)).to.deep.equal(['early', 'late']);
    fs.rmSync(dir, { recursive: true });
  });

  it('--to-time takes ISO 8601, unix seconds and unix milliseconds', () => {
    expect(parseTime('2026-12-06T03:00:00Z')).to.equal(Date.UTC(2026, 11, 6, 3));
    expect(parseTime('1796522076')).to.equal(1796522076000);
    expect(parseTime('1796522076905')).to.equal(1796522076905);
    expect(() => parseTime('yesterday')).to.throw(/not a time/);
  });
});
