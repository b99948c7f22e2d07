import { expect } from 'chai';
import fs from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import type { Redis } from 'ioredis';
import { freshDatabase, startTalus, tempDir, type TalusProcess } from './support/harness.js';

/**
 * With appendfsync always no client sees a write before it is committed to
 * PostgreSQL: not the writer (its reply waits for the commit), and not
 * anyone else (a read's reply, a MONITOR line, waits for the commit of what
 * it shows). The tests hold Talus's commits with a table lock in PostgreSQL
 * and check that what would show them stays unanswered meanwhile.
 */

const opts = { enableReadyCheck: false, maxRetriesPerRequest: 0, retryStrategy: () => null } as const;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A promise and whether it has settled yet. */
interface Watched<T> {
  promise: Promise<T>;
  settled: boolean;
}

function watched<T>(p: Promise<T>): Watched<T> {
  const w: Watched<T> = { promise: p, settled: false };
  p.then(
    () => (w.settled = true),
    () => (w.settled = true),
  );
  return w;
}

describe('visibility: nothing shows a write before it is durable', function () {
  this.timeout(120_000);

  let srv: TalusProcess;
  let url: string;
  let admin: pg.Client;
  let side: Redis;

  before(async () => {
    url = await freshDatabase();
    srv = await startTalus([], { databaseUrl: url });
    admin = new pg.Client({ connectionString: url });
    await admin.connect();
    side = client();
  });
  after(async () => {
    await admin?.end();
    await srv?.stop();
  });

  function client(): Redis {
    const c = srv.client(opts);
    c.on('error', () => undefined);
    return c;
  }

  /**
   * Hold every commit: each one appends to talus.changelog, which an
   * EXCLUSIVE lock blocks until `release`. Resolves once a commit is
   * actually waiting on the lock (so the writes before it have run).
   */
  let held: pg.Client | undefined;
  afterEach(async () => {
    // a failed test must not leave the commits of the next ones held
    await held?.end().catch(() => undefined);
    held = undefined;
  });

  async function holdCommits(): Promise<{ blocked: () => Promise<void>; release: () => Promise<void> }> {
    const locker = new pg.Client({ connectionString: url });
    await locker.connect();
    await locker.query('BEGIN');
    await locker.query('LOCK TABLE talus.changelog IN EXCLUSIVE MODE');
    held = locker;
    return {
      async blocked() {
        for (;;) {
          const { rows } = await admin.query<{ n: string }>(
            `SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`,
          );
          if (Number(rows[0]!.n) > 0) return;
          await sleep(10);
        }
      },
      async release() {
        held = undefined;
        await locker.query('COMMIT');
        await locker.end();
      },
    };
  }

  /**
   * Wait until Talus has run the last command of each client named (CLIENT
   * LIST's cmd=), then give any reply it wrote at once time to arrive.
   */
  async function ran(names: Array<[Redis, string]>): Promise<void> {
    const ids = await Promise.all(names.map(([c]) => clientId(c)));
    for (;;) {
      const list = (await side.client('LIST')) as string;
      const done = names.every(([, cmd], i) => new RegExp(`^id=${ids[i]} .* cmd=${cmd.toLowerCase()} `, 'm').test(list));
      if (done) break;
      await sleep(10);
    }
    await side.ping();
    await sleep(100);
  }

  const ids = new Map<Redis, number>();
  async function clientId(c: Redis): Promise<number> {
    let id = ids.get(c);
    if (id === undefined) {
      // asked before the test's commands, so it is answered at once
      id = Number(await c.client('ID'));
      ids.set(c, id);
    }
    return id;
  }

  it('a read of a key another client changed waits for that change to commit; reads of other keys do not', async () => {
    const a = client();
    const b = client();
    await a.mset('n', '0', 'other', 'x');
    await clientId(a);
    await clientId(b);
    const hold = await holdCommits();
    const incr = watched(a.incr('n'));
    await hold.blocked();
    const get = watched(b.get('n'));
    await ran([[b, 'get']]);
    expect(incr.settled, 'INCR acknowledged while its commit was held').to.equal(false);
    expect(get.settled, "GET showed the INCR before it was committed").to.equal(false);
    // a key nobody changed is answered at once, commits held or not
    expect(await side.get('other')).to.equal('x');
    await hold.release();
    expect(await incr.promise).to.equal(1);
    expect(await get.promise).to.equal('1');
  });

  it('covers deletes, TTLs, EXISTS/TYPE/STRLEN, hashes, and WATCH ... EXEC aborted by the change', async () => {
    const a = client();
    const b = client();
    await a.mset('gone', 'v', 'ttl', 'v');
    await a.hset('h', 'f', '1');
    const w = client();
    await w.watch('watched');
    await clientId(a);
    await clientId(b);
    await clientId(w);
    const hold = await holdCommits();
    const writes = watched(
      a.pipeline().del('gone').expire('ttl', 1000).hset('h', 'f', '2').set('watched', 'changed').exec(),
    );
    await hold.blocked();
    const reads = watched(
      b.pipeline().exists('gone').get('gone').type('gone').ttl('ttl').strlen('ttl').hget('h', 'f').exec(),
    );
    await ran([[b, 'hget']]);
    expect(reads.settled, 'a read showed an uncommitted write').to.equal(false);
    // WATCH ... EXEC on another connection: the nil reply would tell of the uncommitted SET
    const c = client();
    await c.watch('watched2');
    await c.multi().get('other').exec(); // nothing touched watched2: not held
    const exec = watched(w.multi().get('other').exec());
    await ran([[w, 'exec']]);
    expect(exec.settled, 'EXEC aborted by an uncommitted write answered before its commit').to.equal(false);
    expect(writes.settled).to.equal(false);
    await hold.release();
    const res = (await reads.promise)!.map(([err, v]) => (err ? err.message : v));
    expect(res.slice(0, 3)).to.deep.equal([0, null, 'none']);
    expect(res[3]).to.be.within(990, 1000);
    expect(res.slice(4)).to.deep.equal([1, '2']);
    expect(await exec.promise).to.equal(null);
    await writes.promise;
  });

  it('keyless reads of db state (DBSIZE, KEYS, SCAN, RANDOMKEY, INFO keyspace) wait for writes and FLUSHDB of that db', async () => {
    const a = client();
    const b = client();
    const other = client();
    await other.select(5);
    await other.set('five', '5');
    await a.select(3);
    await b.select(3);
    await clientId(a);
    await clientId(b);
    let hold = await holdCommits();
    const set = watched(a.set('k3', 'v'));
    await hold.blocked();
    const reads = watched(b.pipeline().dbsize().keys('*').scan('0').randomkey().info('keyspace').exec());
    await ran([[b, 'info']]);
    expect(reads.settled, 'a db-wide read showed an uncommitted SET').to.equal(false);
    // another db's state is not held
    expect(await other.dbsize()).to.equal(1);
    await hold.release();
    const res = (await reads.promise)!.map(([, v]) => v);
    expect(res.slice(0, 4)).to.deep.equal([1, ['k3'], ['0', ['k3']], 'k3']);
    expect(res[4]).to.match(/db3:keys=1,/);
    await set.promise;

    // a FLUSHDB is a change of every key of the db, the absent ones included
    hold = await holdCommits();
    const flush = watched(a.flushdb());
    await hold.blocked();
    const after = watched(b.pipeline().get('k3').dbsize().exec());
    await ran([[b, 'dbsize']]);
    expect(after.settled, 'a read showed an uncommitted FLUSHDB').to.equal(false);
    await hold.release();
    expect((await after.promise)!.map(([, v]) => v)).to.deep.equal([null, 0]);
    await flush.promise;
  });

  it('MONITOR shows a write once it is committed, after the writer got its reply', async () => {
    const a = client();
    const m = client();
    await clientId(a);
    const lines: string[] = [];
    const order: string[] = [];
    const monitor = await m.monitor();
    monitor.on('monitor', (_time: string, args: string[]) => {
      const line = args.join(' ').toLowerCase();
      lines.push(line);
      order.push(`line ${line}`);
    });
    const hold = await holdCommits();
    const set = watched(
      a.set('mk', 'mv').then((r) => {
        order.push('reply set mk mv');
        return r;
      }),
    );
    await hold.blocked();
    await ran([[a, 'set']]);
    expect(lines.filter((l) => l.startsWith('set mk')), 'MONITOR showed an uncommitted SET').to.deep.equal([]);
    await hold.release();
    await set.promise;
    while (!lines.some((l) => l === 'set mk mv')) await sleep(10);
    // when the line arrives the write is in PostgreSQL
    const { rows } = await admin.query(`SELECT convert_from(value, 'latin1') AS v FROM talus.keys WHERE db = 0 AND key = 'mk'::bytea`);
    expect(rows[0]?.v).to.equal('mv');
    // Talus writes the writer's reply first, the line next; this process reads them in that order
    expect(order.filter((o) => o.includes('mk'))).to.deep.equal(['reply set mk mv', 'line set mk mv']);
    monitor.disconnect();
  });

  it('200 rounds of INCR by one client and GET by another: GET never shows a value before it is committed', async () => {
    const a = client();
    const b = client();
    await a.set('ctr', '0');
    let early = 0;
    const notCommitted: string[] = [];
    for (let i = 0; i < 200; i++) {
      let aAnswered = false;
      const incr = a.incr('ctr').then((v) => {
        aAnswered = true;
        return v;
      });
      const seen = Number(await b.get('ctr'));
      const writerAnswered = aAnswered;
      const committed = await admin.query<{ v: string }>(
        `SELECT convert_from(value, 'latin1') AS v FROM talus.keys WHERE db = 0 AND key = 'ctr'::bytea`,
      );
      if (Number(committed.rows[0]?.v) < seen) notCommitted.push(`round ${i}: saw ${seen}, committed ${committed.rows[0]?.v}`);
      const mine = await incr;
      if (seen === mine && !writerAnswered) early++;
    }
    console.log(`      GET replies with the new value that arrived before the INCR's own reply: ${early} of 200`);
    expect(notCommitted, notCommitted.slice(0, 5).join('\n')).to.deep.equal([]);
    // Both replies are released by the same commit, the writer's written
    // first; before the read gate the GET won in every round.
    expect(early).to.equal(0);
  });

  it('kill -9 of PostgreSQL then of Talus under a read/write load: every value a reader saw was recovered', async () => {
    const dir = tempDir('visibility-kill');
    let crashSrv = await startTalus([], { embedded: true, dir });
    const keys = ['c:0', 'c:1', 'c:2'];
    const seen = new Map<string, number>();
    const acked = new Map<string, number>();
    let stop = false;
    let reads = 0;
    const loops: Promise<void>[] = [];
    for (let w = 0; w < 6; w++) {
      const c = crashSrv.client(opts);
      c.on('error', () => undefined);
      const reader = w % 2 === 1;
      loops.push((async () => {
        while (!stop) {
          const key = keys[Math.floor(Math.random() * keys.length)]!;
          try {
            if (reader) {
              const v = Number(await c.get(key));
              reads++;
              if (v > (seen.get(key) ?? 0)) seen.set(key, v);
            } else {
              const batch = Array.from({ length: 8 }, () => c.incr(key));
              for (const v of await Promise.all(batch)) if (v > (acked.get(key) ?? 0)) acked.set(key, v);
            }
          } catch {
            if (c.status === 'end') return;
            await sleep(5);
          }
        }
      })());
    }
    while (reads < 200) await sleep(20);
    const pid = Number(fs.readFileSync(path.join(dir, 'pg', 'postmaster.pid'), 'utf8').split('\n')[0]);
    process.kill(pid, 'SIGKILL');
    await sleep(300);
    await crashSrv.kill();
    stop = true;
    await Promise.all(loops);
    crashSrv = await startTalus([], { embedded: true, dir });
    try {
      const c = crashSrv.client(opts);
      const lost: string[] = [];
      for (const k of keys) {
        const recovered = Number(await c.get(k));
        if ((seen.get(k) ?? 0) > recovered) lost.push(`${k}: a reader saw ${seen.get(k)}, recovered ${recovered}`);
        if ((acked.get(k) ?? 0) > recovered) lost.push(`${k}: acknowledged ${acked.get(k)}, recovered ${recovered}`);
      }
      console.log(`      ${reads} reads; max seen ${JSON.stringify([...seen])}; recovered ${JSON.stringify(await c.mget(...keys))}`);
      expect(lost, lost.join('\n')).to.deep.equal([]);
    } finally {
      await crashSrv.stop();
    }
  });
});
