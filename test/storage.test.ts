import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import pg from 'pg';
import type { Redis } from 'ioredis';
import { freshDatabase, restartable, startTalus, talusInfo, tempDir } from './support/harness.js';
import { migrate, MIGRATIONS_DIR } from '../src/storage/migrate.js';
import { Logger } from '../src/observability/logger.js';
import { decodeSegment, encodeEffect } from '../src/replication/changelog.js';
import { encodeArray } from '../src/storage/binary-array.js';

/**
 * The storage layer against a real PostgreSQL: upgrades of a database that
 * already holds data (each migration that rewrites stored data is applied to
 * rows in the layout before it), and the binary arrays commits send.
 */
describe('storage', function () {
  this.timeout(60_000);
  const log = new Logger('warning');
  let pool: pg.Pool | undefined;

  afterEach(async () => {
    await pool?.end();
    pool = undefined;
  });

  /** A database (`url`, or a fresh one) migrated up to `version` (the files up to it, copied aside). */
  async function databaseAt(version: number, url?: string): Promise<pg.Pool> {
    const dir = tempDir('migrations');
    for (const f of fs.readdirSync(MIGRATIONS_DIR)) {
      if (/^\d{4}_/.test(f) && Number(f.slice(0, 4)) <= version) fs.copyFileSync(path.join(MIGRATIONS_DIR, f), path.join(dir, f));
    }
    pool = new pg.Pool({ connectionString: url ?? (await freshDatabase()) });
    expect(await migrate(pool, log, dir)).to.equal(version);
    return pool;
  }

  it('0006 turns per-record change-log rows into segments that decode to the same records', async () => {
    const db = await databaseAt(5);
    const effects = [encodeEffect(['SET', 'k', Buffer.from([0, 13, 10, 255])]), encodeEffect(['DEL', 'k']), encodeEffect(['FLUSHDB'])];
    const at = [1795575000123, 1795575000124, 1795575009999];
    for (let i = 0; i < effects.length; i++) {
      await db.query('INSERT INTO talus.changelog (seq, db, at, effect) VALUES ($1, $2, $3, $4)', [10 + i, i, at[i], effects[i]]);
    }
    expect(await migrate(db, log)).to.be.at.least(6);
    const { rows } = await db.query<{ first_seq: string; last_seq: string; at: string; records: Buffer }>(
      'SELECT first_seq, last_seq, at, records FROM talus.changelog ORDER BY first_seq');
    expect(rows.map((r) => [Number(r.first_seq), Number(r.last_seq), Number(r.at)])).to.deep.equal([
      [10, 10, at[0]], [11, 11, at[1]], [12, 12, at[2]],
    ]);
    const records = rows.flatMap((r) => decodeSegment(Number(r.first_seq), r.records));
    expect(records.map((r) => [r.seq, r.db, r.at, r.effect.toString('hex')])).to.deep.equal(
      effects.map((e, i) => [10 + i, i, at[i], e.toString('hex')]));
  });

  it('0008 moves string values into their key rows and drops the strings table', async () => {
    const db = await databaseAt(7);
    const big = Buffer.alloc(3 << 20, 7); // TOASTed
    await db.query(`INSERT INTO talus.keys (db, key, key_id, type, expire_at, length) VALUES
      (0, 'a', 11, 'string', NULL, 0), (0, 'empty', 12, 'string', NULL, 0), (3, 'a', 13, 'string', 1795575000123, 0),
      (0, 'h', 14, 'hash', NULL, 1), (0, 'big', 15, 'string', NULL, 0)`);
    await db.query(`INSERT INTO talus.strings (key_id, value) VALUES (11, '\\x00ff0d0a'), (12, ''), (13, 'three'), (15, $1), (99, 'orphan')`, [big]);
    await db.query(`INSERT INTO talus.hashes (key_id, field, value) VALUES (14, 'f', 'v')`);
    await db.query(`INSERT INTO talus.garbage (key_id, type) VALUES (98, 'string'), (97, 'hash')`);
    expect(await migrate(db, log)).to.be.at.least(8);
    const { rows } = await db.query<{ db: number; key: string; type: string; value: Buffer | null; expire_at: string | null }>(
      `SELECT db, convert_from(key, 'UTF8') AS key, type, value, expire_at FROM talus.keys ORDER BY key_id`);
    expect(rows.map((r) => [r.db, r.key, r.type, r.value?.toString('hex') ?? null, r.expire_at === null ? null : Number(r.expire_at)])).to.deep.equal([
      [0, 'a', 'string', '00ff0d0a', null], [0, 'empty', 'string', '', null], [3, 'a', 'string', Buffer.from('three').toString('hex'), 1795575000123],
      [0, 'h', 'hash', null, null], [0, 'big', 'string', big.toString('hex'), null],
    ]);
    expect((await db.query(`SELECT to_regclass('talus.strings') AS t`)).rows[0].t).to.equal(null);
    expect((await db.query(`SELECT key_id, type FROM talus.garbage ORDER BY key_id`)).rows.map((r) => [Number(r.key_id), r.type])).to.deep.equal([[97, 'hash']]);
  });

  it('0009 gives names over 2560 bytes their indexed form and keeps them whole; Talus reads them back', async () => {
    const url = await freshDatabase();
    pool = await databaseAt(8, url);
    // the longest names 0008 accepted (2,600 bytes), and the longest that keep their form
    const name = (tag: string, size: number) => Buffer.concat([Buffer.from(tag), Buffer.alloc(size - tag.length, 0xfe)]);
    const longKey = name('k', 2600);
    const keptKey = name('kept', 2560);
    const field = name('f', 2561);
    const member = name('m', 2600);
    await pool.query(`INSERT INTO talus.keys (db, key, key_id, type, length, value) VALUES
      (0, $1, 11, 'string', 0, 'long'), (0, $2, 12, 'string', 0, 'kept'), (0, 'h', 13, 'hash', 2, NULL),
      (0, 's', 14, 'set', 1, NULL), (0, 'z', 15, 'zset', 2, NULL)`, [longKey, keptKey]);
    await pool.query(`INSERT INTO talus.hashes (key_id, field, value) VALUES (13, $1, 'v'), (13, 'short', 'w')`, [field]);
    await pool.query(`INSERT INTO talus.sets (key_id, member) VALUES (14, $1)`, [member]);
    await pool.query(`INSERT INTO talus.zsets (key_id, member, score) VALUES (15, $1, 2), (15, 'a', 1)`, [member]);
    expect(await migrate(pool, log)).to.be.at.least(9);
    const form = (b: Buffer) => Buffer.concat([b.subarray(0, 2560), createHash('sha256').update(b).digest()]).toString('hex');
    const keys = await pool.query<{ key: Buffer; long_key: Buffer | null }>('SELECT key, long_key FROM talus.keys ORDER BY key_id');
    expect(keys.rows.map((r) => [r.key.toString('hex'), r.long_key?.toString('hex') ?? null])).to.deep.equal([
      [form(longKey), longKey.toString('hex')], [keptKey.toString('hex'), null], ['68', null], ['73', null], ['7a', null],
    ]);
    const fields = await pool.query<{ field: Buffer; long_field: Buffer | null }>('SELECT field, long_field FROM talus.hashes ORDER BY value');
    expect(fields.rows.map((r) => [r.field.toString('hex'), r.long_field?.toString('hex') ?? null])).to.deep.equal([
      [form(field), field.toString('hex')], [Buffer.from('short').toString('hex'), null],
    ]);
    const sets = await pool.query<{ member: Buffer; long_member: Buffer }>('SELECT member, long_member FROM talus.sets');
    expect([sets.rows[0]!.member.toString('hex'), sets.rows[0]!.long_member.toString('hex')]).to.deep.equal([form(member), member.toString('hex')]);
    await pool.end();
    pool = undefined;

    const srv = await startTalus([], { databaseUrl: url });
    try {
      const c = srv.client();
      expect(await c.get(longKey)).to.equal('long');
      expect(await c.get(keptKey)).to.equal('kept');
      expect(await c.hget('h', field)).to.equal('v');
      expect(await c.sismember('s', member)).to.equal(1);
      expect(await c.zrangeBuffer('z', '0', '-1')).to.deep.equal([Buffer.from('a'), member]);
      expect(((await c.callBuffer('KEYS', 'k*')) as Buffer[]).map((k) => k.toString('hex')).sort()).to.deep.equal([longKey.toString('hex'), keptKey.toString('hex')].sort());
      expect(await c.del(longKey)).to.equal(1);
      expect(await c.hdel('h', field)).to.equal(1);
      await srv.stop();
      const again = await startTalus([], { databaseUrl: url });
      try {
        const c2 = again.client();
        expect(await c2.exists(longKey)).to.equal(0);
        expect(await c2.hgetall('h')).to.deep.equal({ short: 'w' });
      } finally {
        await again.stop();
      }
    } finally {
      await srv.stop();
    }
  });

  it('0016 gives keys with a TTL an exact expire_due; refreshed TTLs keep theirs (HOT updates) and cold keys still expire', async () => {
    const url = await freshDatabase();
    pool = await databaseAt(15, url);
    const soon = Date.now() + 6000;
    await pool.query(`INSERT INTO talus.keys (db, key, key_id, type, expire_at, length, value) VALUES
      (0, 'forever', 11, 'string', NULL, 0, 'a'), (0, 'soon', 12, 'string', $1, 0, 'b'), (0, 'later', 13, 'string', 4102444800000, 0, 'c')`, [soon]);
    expect(await migrate(pool, log)).to.be.at.least(16);
    const due = async () => (await pool!.query<{ key: string; expire_at: string | null; expire_due: string | null }>(
      `SELECT convert_from(key, 'UTF8') AS key, expire_at, expire_due FROM talus.keys ORDER BY key`)).rows
      .map((r) => [r.key, r.expire_at === null ? null : Number(r.expire_at), r.expire_due === null ? null : Number(r.expire_due)]);
    expect(await due()).to.deep.equal([['forever', null, null], ['later', 4102444800000, 4102444800000], ['soon', soon, soon]]);
    const hotUpdates = async () => Number((await pool!.query(`SELECT n_tup_hot_upd FROM pg_stat_user_tables WHERE relid = 'talus.keys'::regclass`)).rows[0].n_tup_hot_upd);

    const srv = await startTalus(['--appendfsync', 'always', '--maxmemory-policy', 'allkeys-lru'], { databaseUrl: url });
    try {
      const c = srv.client();
      // the row migrated with its exact time is reclaimed once it is due, cold (never loaded)
      if (Date.now() < soon - 500) expect(await c.dbsize()).to.equal(3);
      for (let i = 0; i < 150 && (await c.dbsize()) !== 2; i++) await new Promise((r) => setTimeout(r, 100));
      expect(Date.now()).to.be.at.least(soon);
      expect(await c.dbsize()).to.equal(2);
      expect(await c.get('soon')).to.equal(null);
      expect(await c.get('later')).to.equal('c');
      // a sliding TTL (one refresh per commit): the window is 65,536 ms for an hour, so expire_due stays and no update touches an index
      await c.set('session', 'v', 'EX', 3600);
      const hotBefore = await hotUpdates();
      for (let i = 0; i < 20; i++) expect(await c.expire('session', 3600)).to.equal(1);
      const [, at, d] = (await due()).find((r) => r[0] === 'session')!;
      expect(d as number).to.be.at.least(at as number).and.below((at as number) + 65_536);
      expect((d as number) % 65_536).to.equal(0);
      // an idle backend reports its statistics within 10 s (PostgreSQL 15); a window boundary may fall inside the 20 refreshes once
      let hot = 0;
      for (let i = 0; i < 150 && (hot = (await hotUpdates()) - hotBefore) < 19; i++) await new Promise((r) => setTimeout(r, 100));
      expect(hot).to.be.at.least(19);
    } finally {
      await srv.stop();
    }
  });

  it('the embedded PostgreSQL keeps freed heap instead of trimming it after every statement', async function () {
    // An external TALUS_TEST_DATABASE_URL server is tuned by its owner.
    if (process.env.TALUS_TEST_DATABASE_URL) this.skip();
    pool = new pg.Pool({ connectionString: await freshDatabase() });
    // The postmaster's: backends overwrite their environment with their process titles.
    const { rows } = await pool.query<{ dir: string }>(`SELECT current_setting('data_directory') AS dir`);
    const postmaster = fs.readFileSync(path.join(rows[0]!.dir, 'postmaster.pid'), 'utf8').split('\n')[0];
    const env = fs.readFileSync(`/proc/${postmaster}/environ`, 'latin1').split('\0');
    expect(env).to.include(`MALLOC_TRIM_THRESHOLD_=${16 << 20}`);
  });

  it('binary arrays reach PostgreSQL as the values they encode, NULLs and edge values included', async () => {
    pool = new pg.Pool({ connectionString: await freshDatabase() });
    const ints = [0, -1, 1, 2 ** 32, -(2 ** 32) - 1, Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER, null];
    const floats = [0, -0.5, 1e308, Infinity, -Infinity, 5e-324, null];
    const bytes = [Buffer.alloc(0), Buffer.from([0, 13, 10, 255]), null, Buffer.alloc(70_000, 7)];
    const texts = ['string', 'zset', '', 'ünïcode', null];
    const { rows } = await pool.query({
      text: `SELECT array_to_json($1::bigint[])::text AS i, $2::float8[]::text AS f, $3::bytea[] AS b,
        array_to_json($4::text[])::text AS t, $5::smallint[]::text AS s`,
      values: [
        encodeArray('bigint[]', ints), encodeArray('float8[]', floats), encodeArray('bytea[]', bytes),
        encodeArray('text[]', texts), encodeArray('smallint[]', [-32768, 15, 32767]),
      ],
      types: { getTypeParser: () => (v: string) => v } as unknown as pg.CustomTypesConfig,
    });
    expect(rows[0].i).to.equal(JSON.stringify(ints));
    expect(rows[0].f).to.equal('{0,-0.5,1e+308,Infinity,-Infinity,5e-324,NULL}');
    const b = rows[0].b as string;
    expect(b).to.equal(`{"\\\\x","\\\\x000d0aff",NULL,"\\\\x${'07'.repeat(70_000)}"}`);
    expect(rows[0].t).to.equal(JSON.stringify(texts));
    expect(rows[0].s).to.equal('{-32768,15,32767}');
  });

  it('a collection MOVEd out of a db that is flushed in the same commit keeps its member rows', async () => {
    // The flush deletes the key's old row in the flushed db; its incarnation
    // lives on under the moved name, so the janitor must not get its rows.
    const url = await freshDatabase();
    let srv = await startTalus(['--database-url', url]);
    try {
      let c = srv.client();
      await c.sadd('s', 'a', 'b', 'c');
      await c.multi().move('s', 1).flushdb().exec();
      await c.hset('h', 'f', 'v', 'g', 'w');
      // the same through a SWAPDB: h's old row moves to db 1 with it, and db 1 is flushed
      await c.multi().move('h', 1).swapdb(0, 1).select(1).flushdb().select(0).exec();
      pool = new pg.Pool({ connectionString: url });
      for (let i = 0; i < 100; i++) {
        const { rows } = await pool.query<{ n: string }>('SELECT count(*) AS n FROM talus.garbage');
        if (Number(rows[0]!.n) === 0) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      await srv.kill();
      srv = await startTalus(['--database-url', url]);
      c = srv.client();
      // db 0 is the old db 1 now, holding both
      expect((await c.smembers('s')).sort()).to.deep.equal(['a', 'b', 'c']);
      expect(await c.hgetall('h')).to.deep.equal({ f: 'v', g: 'w' });
      expect(await c.dbsize()).to.equal(2);
      await c.select(1);
      expect(await c.dbsize()).to.equal(0);
    } finally {
      await srv.stop();
    }
  });

  it('keys new to PostgreSQL are inserted without an upsert, and names reused between commits read back after a kill -9', async () => {
    // A name created where PostgreSQL can hold no row is a plain INSERT
    // (Entry.rowless): one that had a row after all would fail its commit.
    const url = await freshDatabase();
    let srv = await startTalus(['--database-url', url]);
    try {
      let c = srv.client();
      await c.set('a', '1');
      await c.multi().set('b', '1').del('b').set('b', '2').exec(); // created, deleted, created again: one insert
      await c.set('c', '1');
      await c.multi().del('c').set('c', '2').exec(); // a row: deleted and written again
      await c.multi().set('d', 'd1').rename('d', 'e').exec(); // never a row for d; e inserted with d's incarnation
      await c.rename('e', 'a'); // onto a key with a row
      await c.multi().set('f', 'f1').move('f', 1).exec(); // inserted in db 1
      await c.multi().set('g', 'g1').swapdb(0, 1).exec(); // db-wide operations in the commit: upserts
      await c.multi().set('h', 'h1').flushdb().set('h', 'h2').exec();
      expect((await talusInfo(c)).flusher_failures).to.equal(0);
      await srv.kill();
      srv = await startTalus(['--database-url', url]);
      c = srv.client();
      expect(await c.keys('*')).to.deep.equal(['h']);
      expect(await c.get('h')).to.equal('h2');
      await c.select(1);
      expect((await c.keys('*')).sort()).to.deep.equal(['a', 'b', 'c', 'g']);
      expect(await c.mget('a', 'b', 'c', 'g')).to.deep.equal(['d1', '2', '2', 'g1']);
      // db 1 is not all resident now: a name read as missing from PostgreSQL is inserted, one read with its row upserted
      await c.set('z', 'z1');
      await c.set('b', 'b2');
      expect((await talusInfo(c)).flusher_failures).to.equal(0);
      await srv.kill();
      srv = await startTalus(['--database-url', url]);
      c = srv.client();
      await c.select(1);
      expect(await c.mget('a', 'b', 'c', 'g', 'z')).to.deep.equal(['d1', 'b2', '2', 'g1', 'z1']);
    } finally {
      await srv.stop();
    }
  });

  it('members new to PostgreSQL are inserted without an upsert; removed, re-added, binary and long members read back after a kill -9', async () => {
    // A member first written where it was not in the value (the value mirrors
    // the commits before; a paged one knows it absent) is a plain INSERT
    // (MemberChanges.added), as are all members of a new key: one that had a
    // row after all would fail its commit (flusher_failures).
    const url = await freshDatabase();
    const args = ['--database-url', url, '--paged-collection-threshold', '20'];
    const bin = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    const long = Buffer.concat([Buffer.alloc(3000, 0xe9), Buffer.from('end')]);
    type Model = Map<string, number>; // member (hex) -> payload
    interface Kind {
      key: string;
      add(c: Redis, m: Buffer, v: number): ReturnType<Redis['hset']>;
      del(c: Redis, m: Buffer): ReturnType<Redis['hdel']>;
      read(c: Redis): Promise<Model>;
    }
    const hexes = (pairs: Array<[Buffer, number]>): Model => new Map(pairs.map(([m, v]) => [m.toString('hex'), v]));
    const kinds: Kind[] = [
      {
        key: 'h',
        add: (c, m, v) => c.hset('h', m, String(v)),
        del: (c, m) => c.hdel('h', m),
        async read(c) {
          const fields = await c.hkeysBuffer('h');
          const values = await c.hmgetBuffer('h', ...fields);
          return hexes(fields.map((f, i) => [f, Number(values[i]!.toString())]));
        },
      },
      {
        key: 's',
        add: (c, m) => c.sadd('s', m),
        del: (c, m) => c.srem('s', m),
        read: async (c) => hexes((await c.smembersBuffer('s')).map((m) => [m, 0])),
      },
      {
        key: 'z',
        add: (c, m, v) => c.zadd('z', v, m),
        del: (c, m) => c.zrem('z', m),
        async read(c) {
          const flat = await c.zrangeBuffer('z', '0', '-1', 'WITHSCORES');
          const pairs: Array<[Buffer, number]> = [];
          for (let i = 0; i < flat.length; i += 2) pairs.push([flat[i]!, Number(flat[i + 1]!.toString())]);
          return hexes(pairs);
        },
      },
    ];
    const m = (s: string) => Buffer.from(s);
    const models = kinds.map(() => new Map() as Model);
    /** One step per kind: `ops` run in one MULTI (one commit), mirrored in the model. */
    const step = async (c: Redis, ops: Array<['add', Buffer, number] | ['del', Buffer]>) => {
      for (const [k, kind] of kinds.entries()) {
        const tx = c.multi();
        for (const op of ops) {
          if (op[0] === 'add') {
            kind.add(tx as unknown as Redis, op[1], kind.key === 's' ? 0 : op[2]);
            models[k]!.set(op[1].toString('hex'), kind.key === 's' ? 0 : op[2]);
          } else {
            kind.del(tx as unknown as Redis, op[1]);
            models[k]!.delete(op[1].toString('hex'));
          }
        }
        await tx.exec();
      }
    };
    const check = async (c: Redis) => {
      for (const [k, kind] of kinds.entries()) expect(await kind.read(c), kind.key).to.deep.equal(models[k]);
      expect((await talusInfo(c)).flusher_failures).to.equal(0);
    };
    let srv = await startTalus(args);
    try {
      let c = srv.client();
      // a new key: every member inserted
      await step(c, Array.from({ length: 30 }, (_, i) => ['add', m(`m${i}`), i] as ['add', Buffer, number]));
      await step(c, [['add', bin, 1], ['add', long, 2], ['add', m('n1'), 3]]); // new members of a key with rows
      await step(c, [['del', m('m0')], ['add', m('m0'), 4]]); // a row: deleted and written again in one commit
      await step(c, [['add', m('t1'), 5], ['del', m('t1')]]); // added and removed: nothing to write
      await step(c, [['add', m('t2'), 6], ['del', m('t2')], ['add', m('t2'), 7]]); // no row: one insert
      await step(c, [['del', m('m1')]]);
      await step(c, [['add', m('m1'), 8]]); // its delete committed: an insert
      await step(c, [['add', m('m2'), 9]]); // an update of a row
      await check(c);
      await srv.kill();
      srv = await startTalus(args);
      c = srv.client();
      expect((await talusInfo(c)).flusher_failures).to.equal(0);
      // cold and over the threshold: paged, members read as they are needed
      await step(c, [['add', m('m3'), 10]]); // a row read back: an upsert
      await step(c, [['del', m('m4')]]);
      await step(c, [['add', m('m4'), 11]]);
      await step(c, [['add', m('after'), 12], ['add', bin, 13]]); // known absent: an insert; a row: an upsert
      await step(c, [['del', m('m5')], ['add', m('m5'), 14], ['del', long]]);
      await check(c);
      await srv.kill();
      srv = await startTalus(args);
      c = srv.client();
      await check(c);
      expect((await talusInfo(c)).paged_opens).to.be.greaterThan(0);
    } finally {
      await srv.stop();
    }
  });

  it('the janitor trims the change log to changelog-retention, oldest segments first, keeping the newest', async () => {
    const url = await freshDatabase();
    const srv = await startTalus(['--database-url', url, '--changelog-retention', '20kb']);
    try {
      const c = srv.client();
      const value = 'x'.repeat(1000);
      for (let i = 0; i < 100; i++) await c.set(`trim:${i}`, value); // 100 commits of ~1 KB each
      pool = new pg.Pool({ connectionString: url });
      const size = async () => (await pool!.query<{ n: string; lo: string; hi: string }>(
        'SELECT coalesce(sum(length(records)), 0) AS n, min(first_seq) AS lo, max(last_seq) AS hi FROM talus.changelog')).rows[0]!;
      let now = await size();
      for (let i = 0; i < 50 && Number(now.n) > 20 * 1024; i++) {
        await new Promise((r) => setTimeout(r, 100));
        now = await size();
      }
      expect(Number(now.n)).to.be.at.most(20 * 1024).and.above(10 * 1024);
      expect(Number(now.lo)).to.be.above(1);
      expect(Number(now.hi)).to.equal(100);
      expect(Number((await c.get('trim:0'))?.length)).to.equal(1000); // data is not the log's to trim
    } finally {
      await srv.stop();
    }
  });

  it('a commit past the statement bound goes as several statements, and values past the inline read size read back whole', async () => {
    const url = await freshDatabase();
    let srv = await startTalus(['--database-url', url]);
    try {
      const big = (seed: number) => {
        const b = Buffer.allocUnsafe(34 << 20); // two of them pass MAX_STATEMENT_BYTES (64 MB) and INLINE_VALUE_BYTES (32 MB)
        for (let i = 0; i < b.length; i += 4) b.writeUInt32LE((i * 2654435761 + seed) >>> 0, i);
        return b;
      };
      const a = big(1);
      const b = big(2);
      let c = srv.client();
      // one transaction: one commit holding both values
      const replies = await c.multi().set('big:a', a).set('big:b', b).set('small', 'x').exec();
      expect(replies!.map(([err, v]) => err ?? v)).to.deep.equal(['OK', 'OK', 'OK']);
      pool = new pg.Pool({ connectionString: url });
      const { rows } = await pool.query<{ first_seq: string; last_seq: string }>('SELECT first_seq, last_seq FROM talus.changelog ORDER BY first_seq');
      expect(rows.length, 'change-log segments of that commit').to.be.at.least(2);
      expect(Number(rows[rows.length - 1]!.last_seq) - Number(rows[0]!.first_seq)).to.be.at.least(2);
      await srv.stop();
      srv = await startTalus(['--database-url', url]);
      c = srv.client();
      expect((await c.getBuffer('big:a'))!.equals(a)).to.equal(true);
      expect((await c.getBuffer('big:b'))!.equals(b)).to.equal(true);
      expect(await c.get('small')).to.equal('x');
      expect((await talusInfo(c)).flusher_failures).to.equal(0);
    } finally {
      await srv.stop();
    }
  });
});
