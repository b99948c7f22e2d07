/**
 * Backups (docs/backup.md): for --mb of data (1024 by default),
 *
 * 1. fill a Talus (its own database on the test cluster, backups configured)
 *    with strings of --value-kb random bytes (incompressible: the worst case
 *    for pg_dump's compression) plus one hash, set, zset and list of 100,000
 *    members each; SAVE waits until PostgreSQL has everything;
 * 2. BGSAVE (a full backup: snapshot, pg_dump -Fc, SHA-256, manifest), timed
 *    from the command to rdb_bgsave_in_progress:0, next to a plain
 *    `pg_dump -Fc --schema=talus` of the same database;
 * 3. --records SETs (small values, pipelined) after the backup, archived;
 * 4. `talus restore --from <backup dir> --database-url <empty db>`: pg_restore
 *    time and MB/s, replay rate of the archived change log (records/s).
 *
 *   npx tsc -b && node dist/bench/backup.js [--mb 1024] [--value-kb 64] [--records 200000]
 *
 * MB/s are of the talus schema's size in PostgreSQL (tables, indexes, TOAST).
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { ROOT, freshDatabase, startTalus, stopPostgres, tempDir } from '../test/support/harness.js';
import { option } from './support.js';

const mb = Number(option('mb', '1024'));
const valueKb = Number(option('value-kb', '64'));
const records = Number(option('records', '200000'));

const secs = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const rate = (bytes: number, ms: number) => `${(bytes / (1 << 20) / (ms / 1000)).toFixed(1)} MB/s`;

async function schemaBytes(url: string): Promise<number> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    const { rows } = await c.query(`SELECT sum(pg_total_relation_size(c.oid))::bigint AS n FROM pg_class c
      JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'talus' AND c.relkind IN ('r', 'm')`);
    return Number(rows[0].n);
  } finally {
    await c.end();
  }
}

function run(file: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ ms: number; stdout: string }> {
  const t = performance.now();
  return new Promise((resolve, reject) => {
    execFile(file, args, { cwd: ROOT, env: { ...process.env, NODE: process.execPath, ...env }, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${file} ${args.join(' ')}: ${stderr || err.message}`));
      else resolve({ ms: performance.now() - t, stdout });
    });
  });
}

const backupDir = path.join(tempDir('bench-backup'), 'backups');
const url = await freshDatabase();
const srv = await startTalus(['--backup-dir', backupDir, '--appendfsync', 'everysec', '--maxmemory', '256mb'], { databaseUrl: url });
process.on('exit', () => {
  if (srv.proc.exitCode === null) srv.proc.kill('SIGTERM');
});
const r = srv.client();

// 1. fill
let t = performance.now();
const value = randomBytes(valueKb << 10);
const strings = Math.ceil((mb << 10) / valueKb);
for (let i = 0; i < strings; i += 64) {
  const p = r.pipeline();
  for (let j = i; j < Math.min(strings, i + 64); j++) {
    value.writeUInt32BE(j, 0); // distinct values
    p.set(`s:${j}`, value);
  }
  await p.exec();
}
for (let i = 0; i < 100_000; i += 1000) {
  const fields: string[] = [];
  const scored: Array<string | number> = [];
  for (let j = i; j < i + 1000; j++) {
    fields.push(`m${j}`);
    scored.push(j, `m${j}`);
  }
  await r.pipeline().hset('hash', ...fields.flatMap((f) => [f, f])).sadd('set', ...fields).zadd('zset', ...scored).rpush('list', ...fields).exec();
}
await r.save();
const fillMs = performance.now() - t;
const bytes = await schemaBytes(url);
console.log(`data: ${strings} strings of ${valueKb} KB + 4 collections of 100,000 members; talus schema ${(bytes / (1 << 20)).toFixed(0)} MB in PostgreSQL; filled in ${secs(fillMs)}`);

// 2. full backup, and a plain pg_dump of the same database
t = performance.now();
await r.bgsave();
while (/rdb_bgsave_in_progress:1/.test(await r.info('persistence'))) await new Promise((res) => setTimeout(res, 50));
const backupMs = performance.now() - t;
if (!/rdb_last_bgsave_status:ok/.test(await r.info('persistence'))) throw new Error(`backup failed: ${await r.info('persistence')}`);
const full = path.join(backupDir, fs.readdirSync(backupDir).find((n) => n.startsWith('full-'))!);
const dumpBytes = fs.statSync(path.join(full, 'dump.pgc')).size;
console.log(`full backup (BGSAVE): ${secs(backupMs)}, ${rate(bytes, backupMs)}, dump ${(dumpBytes / (1 << 20)).toFixed(0)} MB`);
const u = new URL(url);
const plainFile = path.join(tempDir('bench-plain'), 'plain.pgc');
const password = decodeURIComponent(u.password);
u.password = '';
const plain = await run('pg_dump', ['-Fc', '--schema=talus', `--file=${plainFile}`, `--dbname=${u}`], { PGPASSWORD: password });
console.log(`plain pg_dump -Fc --schema=talus: ${secs(plain.ms)}, ${rate(bytes, plain.ms)}`);
fs.rmSync(plainFile);

// 3. change log after the backup, archived
t = performance.now();
for (let i = 0; i < records; i += 1000) {
  const p = r.pipeline();
  for (let j = i; j < Math.min(records, i + 1000); j++) p.set(`after:${j % 50_000}`, `v${j}`);
  await p.exec();
}
await r.save();
const offset = Number(/master_repl_offset:(\d+)/.exec(await r.info('replication'))![1]);
while (Number(/backup_archived_offset:(-?\d+)/.exec(await r.info('persistence'))![1]) < offset) await new Promise((res) => setTimeout(res, 100));
console.log(`${records} SETs after the backup, committed and archived in ${secs(performance.now() - t)}`);
await srv.stop();

// 4. restore: pg_restore, then the replay of the archived change log
const target = await freshDatabase();
const restored = await run(path.join(ROOT, 'bin/talus'), ['restore', '--from', backupDir, '--database-url', target]);
const m = /pg_restore ([\d.]+) s, replay ([\d.]+) s(?: \(applying: (\d+) records\/s\))?/.exec(restored.stdout)!;
console.log(`restore: ${secs(restored.ms)} in all; pg_restore ${m[1]} s (${rate(bytes, Number(m[1]) * 1000)}); replay of ${records} records ${m[2]} s with its server's start and stop, ${m[3] ?? 0} records/s applying`);
console.log(restored.stdout.trim().split('\n').slice(-4).join('\n'));
await stopPostgres();
