import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { StoredSegment } from '../storage/backup-store.js';
import { syncPath } from './manifest.js';

/**
 * Change-log archives: the committed change log after a full backup, copied
 * to `<backup dir>/log/<first>-<last>.tlog` (the offset range it holds, zero
 * padded so names sort by offset). A file is one header line, JSON with its
 * range, byte count and the SHA-256 of the body, then the body: the change-log
 * segments as stored (per segment first_seq, last_seq, at as int8, the
 * records' length as int4, big-endian, then the records of
 * replication/changelog.ts). Written under a temporary name, synced, renamed.
 */

export const LOG_DIR = 'log';
const FORMAT = 'talus-log-1';
const SEGMENT_HEADER = 28;

export interface ArchiveHeader {
  format: typeof FORMAT;
  first: number;
  last: number;
  segments: number;
  /** unix ms of the last record */
  lastAt: number;
  bytes: number;
  sha256: string;
}

export interface ArchiveFile {
  file: string;
  first: number;
  last: number;
}

export function archiveName(first: number, last: number): string {
  return `${String(first).padStart(20, '0')}-${String(last).padStart(20, '0')}.tlog`;
}

/** Write `segments` (consecutive) as one archive file in `logDir`. */
export function writeArchive(logDir: string, segments: readonly StoredSegment[]): ArchiveFile {
  const first = segments[0]!.firstSeq;
  const last = segments[segments.length - 1]!.lastSeq;
  let size = 0;
  for (const s of segments) size += SEGMENT_HEADER + s.records.length;
  const body = Buffer.allocUnsafe(size);
  let at = 0;
  for (const s of segments) {
    body.writeBigInt64BE(BigInt(s.firstSeq), at);
    body.writeBigInt64BE(BigInt(s.lastSeq), at + 8);
    body.writeBigInt64BE(BigInt(s.at), at + 16);
    body.writeInt32BE(s.records.length, at + 24);
    s.records.copy(body, at + SEGMENT_HEADER);
    at += SEGMENT_HEADER + s.records.length;
  }
  const header: ArchiveHeader = {
    format: FORMAT,
    first,
    last,
    segments: segments.length,
    lastAt: segments[segments.length - 1]!.at,
    bytes: body.length,
    sha256: createHash('sha256').update(body).digest('hex'),
  };
  fs.mkdirSync(logDir, { recursive: true });
  const file = path.join(logDir, archiveName(first, last));
  const tmp = `${file}.tmp`;
  try {
    const fd = fs.openSync(tmp, 'w');
    try {
      fs.writeFileSync(fd, `${JSON.stringify(header)}\n`);
      fs.writeFileSync(fd, body);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, file);
  } catch (err) {
    fs.rmSync(tmp, { force: true }); // a full disk leaves no partial file behind
    throw err;
  }
  syncPath(logDir);
  return { file, first, last };
}

/** The archive files of `logDir`, by offset (leftover temporary files are not listed). */
export function listArchives(logDir: string): ArchiveFile[] {
  let names: string[];
  try {
    names = fs.readdirSync(logDir);
  } catch {
    return [];
  }
  const out: ArchiveFile[] = [];
  for (const name of names) {
    const m = /^(\d{20})-(\d{20})\.tlog$/.exec(name);
    if (m) out.push({ file: path.join(logDir, name), first: Number(m[1]), last: Number(m[2]) });
  }
  return out.sort((a, b) => a.first - b.first);
}

/** Read and check one archive (header, length, checksum, consecutive segments); throws naming the file. */
export function readArchive(a: ArchiveFile): StoredSegment[] {
  const data = fs.readFileSync(a.file);
  const nl = data.indexOf(10);
  let h: ArchiveHeader;
  try {
    if (nl < 0) throw new Error('no header line');
    h = JSON.parse(data.toString('utf8', 0, nl)) as ArchiveHeader;
    if (h.format !== FORMAT) throw new Error(`format ${JSON.stringify(h.format)}`);
  } catch (err) {
    throw new Error(`${a.file}: not a readable change-log archive (${(err as Error).message})`);
  }
  const body = data.subarray(nl + 1);
  if (h.first !== a.first || h.last !== a.last) throw new Error(`${a.file}: holds records ${h.first}-${h.last}, its name says ${a.first}-${a.last}`);
  if (body.length !== h.bytes) throw new Error(`${a.file}: ${body.length} bytes of records, the header says ${h.bytes} (truncated)`);
  const sum = createHash('sha256').update(body).digest('hex');
  if (sum !== h.sha256) throw new Error(`${a.file}: checksum mismatch (SHA-256 ${sum}, the header says ${h.sha256}): the archive is corrupted`);
  const out: StoredSegment[] = [];
  let at = 0;
  let next = h.first;
  while (at < body.length) {
    const firstSeq = Number(body.readBigInt64BE(at));
    const lastSeq = Number(body.readBigInt64BE(at + 8));
    const n = body.readInt32BE(at + 24);
    if (firstSeq !== next || lastSeq < firstSeq) throw new Error(`${a.file}: segment ${firstSeq}-${lastSeq} where ${next} was expected`);
    out.push({ firstSeq, lastSeq, at: Number(body.readBigInt64BE(at + 16)), records: body.subarray(at + SEGMENT_HEADER, at + SEGMENT_HEADER + n) });
    at += SEGMENT_HEADER + n;
    next = lastSeq + 1;
  }
  if (next !== h.last + 1) throw new Error(`${a.file}: records end at ${next - 1}, the header says ${h.last}`);
  return out;
}

/**
 * The archive files holding records `from`..`to` (to: undefined = all there
 * are), in order, checked for gaps: a missing range is an error naming the
 * files on either side of it.
 */
export function archivesFor(logDir: string, from: number, to: number | undefined): ArchiveFile[] {
  const out: ArchiveFile[] = [];
  let next = from;
  let previous: ArchiveFile | undefined;
  for (const a of listArchives(logDir)) {
    if (a.last < next) continue;
    if (to !== undefined && next > to) break;
    if (a.first > next) {
      const before = previous ? path.basename(previous.file) : 'the full backup';
      throw new Error(`missing change-log archive: records ${next}-${a.first - 1} are in no file of ${logDir} (between ${before} and ${path.basename(a.file)})`);
    }
    if (a.first < next && previous) {
      throw new Error(`${a.file}: overlaps ${path.basename(previous.file)}`);
    }
    out.push(a);
    previous = a;
    next = a.last + 1;
  }
  if (to !== undefined && next <= to) {
    const after = previous ? `after ${path.basename(previous.file)}` : `in ${logDir}`;
    throw new Error(`missing change-log archive: records ${next}-${to} are in no file ${after}`);
  }
  return out;
}

/** The last record archived in `logDir` (undefined: none). */
export function lastArchived(logDir: string): number | undefined {
  const all = listArchives(logDir);
  return all.length > 0 ? Math.max(...all.map((a) => a.last)) : undefined;
}
