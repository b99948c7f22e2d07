import { expect } from 'chai';
import { execFile, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import type { Redis } from 'ioredis';
import { ROOT, freshDatabase, postgresUrl, startTalus, tempDir, type TalusProcess } from './support/harness.js';
import { compareDatasets, printableKey, readDataset, type Dataset } from './support/dataset.js';

/**
 * Backups (docs/backup.md): full backups on BGSAVE, change-log archives,
 * `talus restore` to the latest point, an offset and a named point, plain
 * pg_restore by hand, a backup under a write load, and the faults a restore
 * must name.
 */

const DBS = [0, 3, 9];

/** `bin/talus <args>`: exit code and output. */
function talusCli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(path.join(ROOT, 'bin/talus'), args, { cwd: ROOT, env: { ...process.env, NODE: process.execPath }, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

async function persistenceInfo(r: Redis): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const line of (await r.info('persistence')).split('\r\n')) {
    const at = line.indexOf(':');
    if (at > 0) out[line.slice(0, at)] = line.slice(at + 1);
  }
  return out;
}

async function offsetOf(r: Redis): Promise<number> {
  return Number(/master_repl_offset:(\d+)/.exec(await r.info('replication'))![1]);
}

/** BGSAVE and wait for it to end; returns INFO persistence after it. */
async function bgsave(r: Redis): Promise<Record<string, string>> {
  expect(await r.bgsave()).to.equal('Background saving started');
  for (;;) {
    const info = await persistenceInfo(r);
    if (info.rdb_bgsave_in_progress === '0') return info;
    await new Promise((res) => setTimeout(res, 100));
  }
}

/** Wait until the archive holds every committed record up to `offset`. */
async function archivedTo(r: Redis, offset: number): Promise<void> {
  for (;;) {
    const info = await persistenceInfo(r);
    if (Number(info.backup_archived_offset) >= offset) return;
    expect(info.backup_archive_error).to.equal('');
    await new Promise((res) => setTimeout(res, 200));
  }
}

async function loadEveryType(r: Redis): Promise<void> {
  const p = r.pipeline();
  p.select(0);
  for (let i = 0; i < 200; i++) p.set(`s:${i}`, `v${i}`);
  p.set('big', randomBytes(3 << 20));
  for (let i = 0; i < 30; i++) p.set(`ttl:${i}`, `t${i}`, 'PX', 3_600_000 + i);
  const fields: string[] = [];
  const members: string[] = [];
  const scored: Array<string | number> = [];
  for (let i = 0; i < 1500; i++) {
    fields.push(`f${i}`, `value ${i}`);
    members.push(`m${i}`);
    scored.push(i * 1.5, `z${i}`);
  }
  p.hset('hash', ...fields).sadd('set', ...members).zadd('zset', ...scored).rpush('list', ...members);
  p.pexpire('hash', 7_200_000);
  p.select(3);
  p.hset('h3', 'a', '1', 'b', '2').set('bin\x00key', Buffer.from([0, 1, 2, 255]));
  p.select(9);
  p.rpush('l9', 'x', 'y', 'z').zadd('z9', 1, 'one', 2, 'two');
  await p.exec();
  await r.select(0);
}

/** Changes of every kind after the backup (phase `n` makes them differ). */
async function writeMore(r: Redis, n: number): Promise<void> {
  const p = r.pipeline();
  p.select(0);
  for (let i = 0; i < 50; i++) p.incr(`counter:${i % 5}`);
  p.hset('hash', `f${n}`, `changed in phase ${n}`, `new${n}`, 'x');
  p.srem('set', `m${n}`).zincrby('zset', 100, `z${n}`).lpush('list', `head${n}`).rpop('list');
  p.del(`s:${n}`).set(`s:new:${n}`, 'fresh', 'PX', 5_400_000);
  p.set('big', randomBytes(1 << 20));
  p.select(3);
  p.hdel('h3', 'a').hset('h3', `p${n}`, String(n));
  p.select(9);
  p.lpush('l9', `p${n}`).zrem('z9', 'one');
  await p.exec();
  await r.select(0);
}

async function serveDataset(opts: { databaseUrl?: string; dir?: string }): Promise<Dataset> {
  const srv = opts.dir ? await startTalus([], { embedded: true, dir: opts.dir }) : await startTalus([], { databaseUrl: opts.databaseUrl! });
  try {
    return await readDataset(srv.client(), DBS);
  } finally {
    await srv.stop();
  }
}

function expectSame(actual: Dataset, expected: Dataset): void {
  const diffs = compareDatasets(expected, actual);
  expect(diffs.map((d) => `db${d.db} ${printableKey(d.key)}: ${d.what}`)).to.deep.equal([]);
  let keys = 0;
  for (const m of expected.values()) keys += m.size;
  expect(keys).to.be.greaterThan(200);
}

async function hasTalusSchema(url: string): Promise<boolean> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return (await c.query(`SELECT 1 FROM pg_namespace WHERE nspname = 'talus'`)).rows.length > 0;
  } finally {
    await c.end();
  }
}

describe('backups', function () {
  this.timeout(180_000);
  let srv: TalusProcess;
  let r: Redis;
  let backupDir: string;
  let sourceUrl: string;
  let fullBackup: string;
  const states: Record<'A' | 'B' | 'C' | 'D', { data: Dataset; offset: number }> = {} as never;

  before(async () => {
    backupDir = path.join(tempDir('backups'), 'backups');
    sourceUrl = await freshDatabase();
    srv = await startTalus(['--backup-dir', backupDir, '--paged-collection-threshold', '64'], { databaseUrl: sourceUrl });
    r = srv.client();
  });
  after(async () => srv?.stop());

  it('BGSAVE takes a full backup with its manifest; the change log after it is archived', async () => {
    await loadEveryType(r);
    states.A = { data: await readDataset(srv.client(), DBS), offset: await offsetOf(r) };
    const before = await r.lastsave();
    await new Promise((res) => setTimeout(res, 1100)); // LASTSAVE has a 1 s resolution
    const info = await bgsave(r);
    expect(info.rdb_last_bgsave_status).to.equal('ok');
    expect(Number(info.backup_last_offset)).to.equal(states.A.offset);
    expect(Number(info.rdb_changes_since_last_save)).to.equal(0);
    expect(await r.lastsave()).to.be.greaterThan(before);
    const full = fs.readdirSync(backupDir).filter((n) => n.startsWith('full-'));
    expect(full).to.have.length(1);
    fullBackup = path.join(backupDir, full[0]!);
    const manifest = JSON.parse(fs.readFileSync(path.join(fullBackup, 'manifest.json'), 'utf8'));
    expect(manifest.offset).to.equal(states.A.offset);
    expect(manifest.postgresVersion).to.match(/^15/);
    expect(manifest.files[0].name).to.equal('dump.pgc');
    expect(manifest.files[0].sha256).to.match(/^[0-9a-f]{64}$/);
    expect(manifest.keys).to.deep.include({ db: 3, type: 'hash', n: 1 });

    // Three phases of writes, each archived before the next (so three archive files).
    await writeMore(r, 1);
    states.B = { data: await readDataset(srv.client(), DBS), offset: await offsetOf(r) };
    const mark = await talusCli(['backup', 'mark', 'p1', '--database-url', sourceUrl, '--backup-dir', backupDir]);
    expect(mark.stderr).to.equal('');
    expect(mark.stdout).to.contain(`offset ${states.B.offset}`);
    await archivedTo(r, states.B.offset);
    await writeMore(r, 2);
    states.C = { data: await readDataset(srv.client(), DBS), offset: await offsetOf(r) };
    await archivedTo(r, states.C.offset);
    await writeMore(r, 3);
    states.D = { data: await readDataset(srv.client(), DBS), offset: await offsetOf(r) };
    await archivedTo(r, states.D.offset);
    expect(fs.readdirSync(path.join(backupDir, 'log')).filter((n) => n.endsWith('.tlog')).length).to.be.at.least(3);
    expect((await persistenceInfo(r)).backup_archive_lag).to.equal('0');
  });

  it('restores to the latest point: every key, value and TTL equals the source', async () => {
    const dir = path.join(tempDir('restored'), 'data');
    const out = await talusCli(['restore', '--from', backupDir, '--dir', dir]);
    expect(out.code, out.stderr).to.equal(0);
    expect(out.stdout).to.contain(`final offset ${states.D.offset}`);
    expect(out.stdout).to.match(/checksums checked: \d+ files/);
    expect(out.stdout).to.match(/db0: .*hash 1/);
    expectSame(await serveDataset({ dir }), states.D.data);
  });

  it('restores to an intermediate offset and to a named point: exactly the state there', async () => {
    const atC = await freshDatabase();
    const c = await talusCli(['restore', '--from', backupDir, '--to-offset', String(states.C.offset), '--database-url', atC]);
    expect(c.code, c.stderr).to.equal(0);
    expect(c.stdout).to.contain(`final offset ${states.C.offset}`);
    expectSame(await serveDataset({ databaseUrl: atC }), states.C.data);

    const atB = await freshDatabase();
    const b = await talusCli(['restore', '--from', fullBackup, '--to-name', 'p1', '--database-url', atB]);
    expect(b.code, b.stderr).to.equal(0);
    expect(b.stdout).to.contain(`final offset ${states.B.offset}`);
    expectSame(await serveDataset({ databaseUrl: atB }), states.B.data);

    // onto a database that holds Talus data: refused unless --force
    const again = await talusCli(['restore', '--from', fullBackup, '--database-url', atB]);
    expect(again.code).to.equal(1);
    expect(again.stderr).to.contain('already holds Talus data');
    expectSame(await serveDataset({ databaseUrl: atB }), states.B.data);
  });

  it('a plain pg_restore of the dump, then Talus on that database, serves the backed-up data', async () => {
    const url = await freshDatabase();
    const u = new URL(url);
    const res = spawnSync('pg_restore', ['--no-owner', '--dbname', url, path.join(fullBackup, 'dump.pgc')], { env: { ...process.env, PGPASSWORD: decodeURIComponent(u.password) }, encoding: 'utf8' });
    expect(res.status, res.stderr).to.equal(0);
    expectSame(await serveDataset({ databaseUrl: url }), states.A.data);
  });

  it('verify and prune --dry-run report without changing anything', async () => {
    const v = await talusCli(['backup', 'verify', fullBackup, '--scratch-url', await postgresUrl()]);
    expect(v.code, v.stderr).to.equal(0);
    expect(v.stdout).to.contain('key counts match the manifest');
    expect(v.stdout).to.contain(`restorable to offsets ${states.A.offset}-${states.D.offset}`);
    // a second backup, then keep 1: the first and the archives before the second would go
    await bgsave(r);
    const dry = await talusCli(['backup', 'prune', '--dry-run', '--backup-dir', backupDir, '--backup-keep', '1']);
    expect(dry.code, dry.stderr).to.equal(0);
    expect(dry.stdout).to.contain(`would remove ${fullBackup}`);
    expect(dry.stdout).to.contain('would remove restore point p1');
    expect(fs.existsSync(fullBackup)).to.equal(true);
  });

  describe('faults', () => {
    function copyBackups(): string {
      const copy = path.join(tempDir('faulty'), 'backups');
      fs.cpSync(backupDir, copy, { recursive: true });
      return copy;
    }

    async function expectRefused(args: string[], message: RegExp): Promise<void> {
      const url = await freshDatabase();
      const out = await talusCli(['restore', ...args, '--database-url', url]);
      expect(out.code).to.equal(1);
      expect(out.stderr).to.match(message);
      expect(await hasTalusSchema(url)).to.equal(false); // nothing half-restored
    }

    it('a truncated dump is an error naming the file, with or without its manifest', async () => {
      const copy = copyBackups();
      const dump = path.join(copy, path.basename(fullBackup), 'dump.pgc');
      fs.truncateSync(dump, Math.floor(fs.statSync(dump).size / 2));
      await expectRefused(['--from', path.join(copy, path.basename(fullBackup))], new RegExp(`${dump}: \\d+ bytes, the manifest says`));
      await expectRefused(['--from', dump], new RegExp(`pg_restore of ${dump} failed`));
    });

    it('a corrupted archive and a missing segment are errors naming the files', async () => {
      const copy = copyBackups();
      const logDir = path.join(copy, 'log');
      const files = fs.readdirSync(logDir).sort();
      const last = path.join(logDir, files[files.length - 1]!);
      const bytes = fs.readFileSync(last);
      bytes[bytes.length - 3] ^= 0xff;
      fs.writeFileSync(last, bytes);
      await expectRefused(['--from', path.join(copy, path.basename(fullBackup))], new RegExp(`${last}: checksum mismatch`));
      fs.rmSync(path.join(logDir, files[1]!));
      await expectRefused(['--from', path.join(copy, path.basename(fullBackup))], new RegExp(`missing change-log archive: records \\d+-\\d+ are in no file .*between ${files[0]} and ${files[2]}`));
    });
  });
});

describe('a backup under a write load', function () {
  this.timeout(120_000);

  it('restores to a consistent state: every counter equals its value at the backup offset', async () => {
    const backupDir = path.join(tempDir('load'), 'backups');
    const srv = await startTalus(['--backup-dir', backupDir]);
    try {
      const writers = [0, 1, 2, 3].map(() => srv.client());
      let stop = false;
      // each transaction bumps one counter and the total: any consistent state has sum == total
      const load = writers.map(async (w, i) => {
        while (!stop) await w.multi().incr(`counter:${i}`).incr('total').exec();
      });
      await new Promise((res) => setTimeout(res, 500));
      const r = srv.client();
      await bgsave(r);
      await new Promise((res) => setTimeout(res, 300));
      stop = true;
      await Promise.all(load);
      const backup = path.join(backupDir, fs.readdirSync(backupDir).find((n) => n.startsWith('full-'))!);
      const offset = JSON.parse(fs.readFileSync(path.join(backup, 'manifest.json'), 'utf8')).offset as number;
      const url = await freshDatabase();
      const out = await talusCli(['restore', '--from', backup, '--to-offset', String(offset), '--database-url', url]);
      expect(out.code, out.stderr).to.equal(0);
      const restored = await startTalus([], { databaseUrl: url });
      try {
        const c = restored.client();
        const values = (await c.mget('counter:0', 'counter:1', 'counter:2', 'counter:3', 'total')).map(Number);
        const total = values.pop()!;
        expect(total).to.be.greaterThan(0);
        expect(values.reduce((a, b) => a + b, 0)).to.equal(total);
        expect(Number(/master_repl_offset:(\d+)/.exec(await c.info('replication'))![1])).to.equal(offset);
      } finally {
        await restored.stop();
      }
    } finally {
      await srv.stop();
    }
  });
});

describe('the janitor and unarchived change log', function () {
  this.timeout(120_000);

  it('keeps every segment not archived yet, whatever the retention, and trims it once archived', async () => {
    const url = await freshDatabase();
    const backupDir = path.join(tempDir('janitor'), 'backups');
    // archiving only once a year, and a retention of 1 byte: only the backups' floor keeps the log
    const srv = await startTalus(['--backup-dir', backupDir, '--backup-log-cron', '0 0 1 1 *', '--changelog-retention', '1'], { databaseUrl: url });
    const db = new pg.Client({ connectionString: url });
    await db.connect();
    const firstSeq = async () => Number((await db.query('SELECT min(first_seq) AS s FROM talus.changelog')).rows[0].s);
    const until = async (cond: () => Promise<boolean>) => {
      while (!(await cond())) await new Promise((res) => setTimeout(res, 100));
    };
    try {
      const r = srv.client();
      for (let i = 0; i < 20; i++) await r.set(`before:${i}`, i);
      const offset = Number((await bgsave(r)).backup_last_offset);
      expect(offset).to.equal(20);
      for (let i = 0; i < 20; i++) await r.set(`after:${i}`, i);
      // the segments up to the backup go (retention), the ones after it stay (not archived)
      await until(async () => (await firstSeq()) > offset);
      expect(await firstSeq()).to.equal(offset + 1);
      // archiving continuously now: once archived, the log is trimmed to its newest segment
      await r.config('SET', 'backup-log-cron', '');
      await archivedTo(r, 40);
      await until(async () => (await firstSeq()) === 40);
      const files = fs.readdirSync(path.join(backupDir, 'log'));
      expect(files).to.deep.equal([`${String(21).padStart(20, '0')}-${String(40).padStart(20, '0')}.tlog`]);
    } finally {
      await db.end();
      await srv.stop();
    }
  });
});

describe('a restore replaying a transaction', function () {
  this.timeout(120_000);

  it('applies an archived MULTI ... EXEC whole, and not at all when the target offset is inside it', async () => {
    const backupDir = path.join(tempDir('tx'), 'backups');
    const srv = await startTalus(['--backup-dir', backupDir]);
    try {
      const r = srv.client();
      await r.set('before', '1');
      await bgsave(r);
      const start = await offsetOf(r);
      // MULTI, SET, SET (db 3), EXEC: four records
      const tx = srv.client();
      expect(await tx.multi().set('tx:a', 'A').select(3).set('tx:b', 'B').exec()).to.have.length(3);
      const end = await offsetOf(r);
      expect(end).to.equal(start + 4);
      await r.set('after', '1');
      await archivedTo(r, end + 1);
      const from = path.join(backupDir, fs.readdirSync(backupDir).find((n) => n.startsWith('full-'))!);
      const restoreTo = async (offset: number | undefined) => {
        const url = await freshDatabase();
        const out = await talusCli(['restore', '--from', from, ...(offset === undefined ? [] : ['--to-offset', String(offset)]), '--database-url', url]);
        expect(out.code, out.stderr).to.equal(0);
        const restored = await startTalus([], { databaseUrl: url });
        try {
          const c = restored.client();
          const a = await c.get('tx:a');
          await c.select(3);
          return { a, b: await c.get('tx:b'), after: await c.select(0).then(() => c.get('after')), stdout: out.stdout };
        } finally {
          await restored.stop();
        }
      };
      const whole = await restoreTo(undefined);
      expect(whole).to.include({ a: 'A', b: 'B', after: '1' });
      // the target is after the first SET of the transaction: the replay stops before its MULTI
      const cut = await restoreTo(start + 2);
      expect(cut).to.include({ a: null, b: null, after: null });
      expect(cut.stdout).to.contain(`final offset ${start}`);
    } finally {
      await srv.stop();
    }
  });
});
