import { expect } from 'chai';
import fs from 'node:fs';
import path from 'node:path';
import type { Redis } from 'ioredis';
import { freshDatabase, signalEmbeddedPostgres, startTalus, talusInfo, tempDir, type TalusProcess } from './support/harness.js';
import { freePort } from './support/redis-server.js';
import { startEmbeddedPostgres, type EmbeddedCluster } from '../src/storage/embedded.js';
import { Logger } from '../src/observability/logger.js';
import { EARLY_COMMIT_KEYS } from '../src/storage/flusher.js';
import { runKill9, valueFor } from '../bench/kill9.js';

/**
 * Durability: what was acknowledged survives restarts, kill -9 of Talus and
 * PostgreSQL outages; eviction never loses data. All against real processes.
 */

// INFO may not exist yet: no ready check; never reconnect behind our back.
const opts = { enableReadyCheck: false, maxRetriesPerRequest: 0, retryStrategy: () => null } as const;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function client(srv: TalusProcess): Redis {
  const c = srv.client(opts);
  c.on('error', () => undefined);
  return c;
}

async function knows(c: Redis, ...cmd: string[]): Promise<boolean> {
  try {
    await c.call(cmd[0]!, ...cmd.slice(1));
    return true;
  } catch (err) {
    return !/unknown command/.test((err as Error).message);
  }
}

describe('durability', function () {
  this.timeout(120_000);

  describe('restart (SIGTERM)', () => {
    let srv: TalusProcess | undefined;
    after(async () => srv?.stop());

    it('keeps every key, value and overwrite across clean restarts', async () => {
      const dir = tempDir('restart');
      srv = await startTalus([], { embedded: true, dir });
      let c = client(srv);
      const expected = new Map<string, Buffer>();
      const p = c.pipeline();
      for (let i = 0; i < 2000; i++) {
        const v = Buffer.from(valueFor(`k${i}`, i));
        expected.set(`k${i}`, v);
        p.set(`k${i}`, v);
      }
      const binary = Buffer.from([0, 1, 2, 255, 13, 10, 0]);
      expected.set('bin\x00key', binary);
      p.set(Buffer.from('bin\x00key', 'latin1'), binary);
      expected.set('empty', Buffer.alloc(0));
      p.set('empty', '');
      expected.set('big', Buffer.alloc(3 * 1024 * 1024, 'z'));
      p.set('big', expected.get('big')!);
      for (const [, r] of (await p.exec())!) expect(r).to.equal('OK');
      await srv.stop();

      srv = await startTalus([], { embedded: true, dir });
      c = client(srv);
      // overwrite some, then restart again
      for (let i = 0; i < 2000; i += 7) {
        const v = Buffer.from(`second-${i}`);
        expected.set(`k${i}`, v);
        expect(await c.set(`k${i}`, v)).to.equal('OK');
      }
      await srv.stop();

      srv = await startTalus([], { embedded: true, dir });
      c = client(srv);
      const names = [...expected.keys()];
      const got = await c.mgetBuffer(...names.map((n) => Buffer.from(n, 'latin1'))).catch(async () => {
        // MGET may not exist yet
        const q = c.pipeline();
        for (const n of names) q.getBuffer(Buffer.from(n, 'latin1'));
        return ((await q.exec()) ?? []).map(([, v]) => v as Buffer | null);
      });
      names.forEach((n, i) => {
        expect(got[i], n).to.not.equal(null);
        expect(got[i]!.equals(expected.get(n)!), `${n} has the wrong bytes`).to.equal(true);
      });
    });
  });

  describe('shutdown under appendfsync everysec', () => {
    it('a SIGTERM under a pipelined write load commits every acknowledged write before exiting', async () => {
      const databaseUrl = await freshDatabase();
      const dir = tempDir('sigterm-load');
      let srv = await startTalus(['--appendfsync', 'everysec'], { databaseUrl, dir });
      // 4 clients pipelining SETs of 2 KB, acknowledged before they are
      // committed; the SIGTERM comes while commits of seconds are in flight
      const value = (w: number, i: number) => `${w}:${i}:`.padEnd(2048, 'v');
      const acked: number[] = [0, 0, 0, 0];
      let stop = false;
      const writers = acked.map(async (_, w) => {
        const c = client(srv);
        try {
          for (let from = 0; !stop; from += 2000) {
            const p = c.pipeline();
            for (let i = from; i < from + 2000; i++) p.set(`load:${w}:${i}`, value(w, i));
            const replies = (await p.exec())!;
            for (const [e] of replies) {
              if (e !== null) return;
              acked[w]!++;
            }
          }
        } catch {
          // the server went away
        }
      });
      await sleep(4000);
      srv.proc.kill('SIGTERM');
      stop = true;
      await Promise.all(writers);
      await srv.stop();
      expect(srv.output()).not.to.include('commit to PostgreSQL failed');
      expect(acked.every((n) => n > 0), 'every writer had writes acknowledged').to.equal(true);
      srv = await startTalus(['--appendfsync', 'everysec'], { databaseUrl, dir });
      const c = client(srv);
      try {
        for (let w = 0; w < acked.length; w++) {
          const last = acked[w]! - 1;
          for (const i of [0, Math.floor(last / 2), last - 1, last]) expect(await c.get(`load:${w}:${i}`), `load:${w}:${i} of ${acked[w]}`).to.equal(value(w, i));
        }
        expect(await c.dbsize()).to.be.at.least(acked.reduce((a, b) => a + b, 0));
      } finally {
        await srv.stop();
      }
    });
  });

  describe('kill -9 during a write load', () => {
    it('loses no acknowledged write over 3 rounds (embedded PostgreSQL orphaned by each kill)', async () => {
      const lines: string[] = [];
      const report = await runKill9({ rounds: 3, workers: 6, inflight: 32, log: (l) => lines.push(l) });
      console.log(lines.map((l) => `      ${l}`).join('\n'));
      expect(report.violations, report.violations.slice(0, 20).join('\n')).to.deep.equal([]);
      for (const r of report.rounds) {
        expect(r.ackedWrites, `round ${r.round} acknowledged nothing before the kill`).to.be.greaterThan(0);
        expect(r.orphanPostgres, `round ${r.round}: the kill left no PostgreSQL behind to take over`).to.equal(true);
      }
    });
  });

  describe('PostgreSQL stop/start while writing', () => {
    let cluster: EmbeddedCluster | undefined;
    let srv: TalusProcess | undefined;
    let stopWriter: (() => Promise<void>) | undefined;
    after(async () => {
      await stopWriter?.();
      await srv?.stop();
      await cluster?.stop();
    });

    it('refuses writes while PostgreSQL is down (never a false OK), serves resident reads, recovers on the same port', async function () {
      // 'Connection is closed.' here was Talus crashing on PostgreSQL's shutdown
      // notice (fixed in c7d749c). No retries since session 5: 11 clean
      // first attempts in a row, besides the CI runs since the fix.
      await stopWriter?.();
      await srv?.stop();
      await cluster?.stop();
      const pgDir = tempDir('pg-outage');
      const pgPort = await freePort();
      // PostgreSQL's own exit notices go to a file, not into the test report
      const log = new Logger('warning', path.join(pgDir, 'talus-test-pg.log'));
      cluster = await startEmbeddedPostgres({ dir: pgDir, port: pgPort, log });
      const url = cluster.url;
      srv = await startTalus(['--database-url', url]);
      const c = client(srv);

      // acknowledged before the outage; resident in memory
      const acked = new Map<string, string>();
      for (let i = 0; i < 200; i++) {
        expect(await c.set(`pre:${i}`, `v${i}`)).to.equal('OK');
        acked.set(`pre:${i}`, `v${i}`);
      }

      // a background writer that keeps going through the outage
      // pgDown: true from the moment cluster.stop() has returned until we start PostgreSQL again
      const st: { phase: 'before' | 'down' | 'after'; pgDown: boolean; writing: boolean } = {
        phase: 'before',
        pgDown: false,
        writing: true,
      };
      const outcomes = { before: { ok: 0, err: 0 }, down: { ok: 0, err: 0 }, after: { ok: 0, err: 0 } };
      const errorsSeen = new Set<string>();
      const falseOks: string[] = [];
      const w = client(srv);
      const writer = (async () => {
        for (let i = 0; st.writing; i++) {
          const key = `bg:${i}`;
          const sentIn = st.phase;
          const sentWhileDown = st.pgDown;
          try {
            const r = await w.set(key, `b${i}`);
            if (r !== 'OK') throw new Error(`unexpected reply ${r}`);
            // sent and answered while PostgreSQL was certainly down: must not be OK
            if (sentWhileDown && st.pgDown) falseOks.push(key);
            else acked.set(key, `b${i}`);
            outcomes[sentIn].ok++;
          } catch (err) {
            outcomes[sentIn].err++;
            errorsSeen.add((err as Error).message.replace(/\(.*\)/, '(...)').slice(0, 100));
            if (w.status === 'end') return; // connection gone: nothing more to learn
            await sleep(5);
          }
        }
      })();
      stopWriter = async () => {
        st.writing = false;
        await writer;
      };
      await sleep(300);

      await cluster.stop();
      st.pgDown = true;
      st.phase = 'down';
      const downAt = Date.now();
      // writes of our own, after PostgreSQL is gone
      const downReplies: string[] = [];
      for (let i = 0; i < 20; i++) {
        try {
          downReplies.push(String(await c.set(`down:${i}`, 'x')));
        } catch (err) {
          downReplies.push((err as Error).message);
        }
        await sleep(50);
      }
      const talus = srv;
      expect(talus.proc.exitCode, `Talus exited while PostgreSQL was down:\n${talus.output().slice(-3000)}`).to.equal(null);
      for (const r of downReplies) expect(r).to.match(/^(MISCONF|ERR storage)/);
      // resident keys still read fine
      for (let i = 0; i < 200; i += 10) expect(await c.get(`pre:${i}`)).to.equal(`v${i}`);
      const downMs = Date.now() - downAt;

      // PostgreSQL back on the same port
      st.pgDown = false;
      cluster = await startEmbeddedPostgres({ dir: pgDir, port: pgPort, log });
      const upAt = Date.now();
      let recoveredMs = -1;
      while (Date.now() - upAt < 20_000) {
        try {
          if ((await c.set('probe', 'after')) === 'OK') {
            recoveredMs = Date.now() - upAt;
            break;
          }
        } catch {
          /* not yet */
        }
        await sleep(100);
      }
      st.phase = 'after';
      expect(recoveredMs, 'writes were not accepted again within 20 s of PostgreSQL coming back').to.be.at.least(0);
      acked.set('probe', 'after');
      for (let i = 0; i < 100; i++) {
        expect(await c.set(`post:${i}`, `p${i}`)).to.equal('OK');
        acked.set(`post:${i}`, `p${i}`);
      }
      await sleep(300);
      await stopWriter();
      console.log(
        `      outage ${downMs} ms; background SETs ok/err before ${outcomes.before.ok}/${outcomes.before.err}, ` +
          `during ${outcomes.down.ok}/${outcomes.down.err}, after ${outcomes.after.ok}/${outcomes.after.err}; ` +
          `writes accepted again ${recoveredMs} ms after PostgreSQL was back; errors: ${[...errorsSeen].join(' | ')}`,
      );
      expect(falseOks, 'OK replies while PostgreSQL was down').to.deep.equal([]);
      expect(outcomes.down.err).to.be.greaterThan(0);

      // acknowledged means durable: kill -9 and read back from PostgreSQL
      await srv.kill();
      srv = await startTalus(['--database-url', url]);
      const c2 = client(srv);
      const names = [...acked.keys()];
      const p = c2.pipeline();
      for (const n of names) p.get(n);
      const res = (await p.exec()) ?? [];
      const lost = names.filter((n, i) => res[i]?.[1] !== acked.get(n));
      expect(lost, `acknowledged writes lost: ${lost.slice(0, 10).join(' ')}`).to.deep.equal([]);
    });
  });

  describe('appendfsync everysec', () => {
    let srv: TalusProcess | undefined;
    after(async () => srv?.stop());

    it('a frozen PostgreSQL fails cold reads with ERR storage unavailable in 30 s, not a hang; they work again once it answers', async function () {
      this.timeout(120_000);
      const dir = tempDir('frozen-pg');
      let own = await startTalus([], { embedded: true, dir });
      await own.client().set('cold', 'value');
      await own.stop();
      own = await startTalus([], { embedded: true, dir }); // every key cold
      let frozen = false;
      try {
        const c = own.client();
        await c.set('hot', 'here');
        signalEmbeddedPostgres(dir, 'SIGSTOP');
        frozen = true;
        const t = Date.now();
        // BITOP names the key twice: queued on it twice, it once got two errors, and every reply after them went to the wrong command
        const res = (await c.pipeline().bitop('OR', 'dst', 'cold', 'cold').ping().exec())!;
        const waited = Date.now() - t;
        expect(String(res[0]![0])).to.contain('ERR storage unavailable: PostgreSQL did not answer a read of cold keys within 30 s');
        expect(res[1]).to.deep.equal([null, 'PONG']);
        expect(waited, 'ms before the error').to.be.within(25_000, 45_000);
        expect(await c.ping()).to.equal('PONG');
        expect(await c.echo('in step')).to.equal('in step');
        signalEmbeddedPostgres(dir, 'SIGCONT');
        frozen = false;
        expect(await c.get('cold')).to.equal('value');
        expect(await c.get('hot')).to.equal('here');
      } finally {
        if (frozen) signalEmbeddedPostgres(dir, 'SIGCONT');
        await own.stop();
      }
    });

    it('paces commits by flush-interval-ms and commits everything within it', async () => {
      srv = await startTalus(['--appendfsync', 'everysec', '--flush-interval-ms', '600']);
      const c = client(srv);
      const stat = async (name: string) => (await talusInfo(c))[name]!;
      await c.set('pace:first', '0'); // the first write commits at once (nothing committed for 600 ms)
      for (let i = 0; i < 50 && (await stat('dirty_entries')) > 0; i++) await sleep(20);
      const before = await stat('flusher_commits');
      const started = Date.now();
      for (let i = 0; i < 20; i++) {
        expect(await c.set(`pace:${i}`, String(i))).to.equal('OK'); // answered before any commit
        await sleep(10);
      }
      expect(Date.now() - started, 'the writes took under the interval').to.be.below(600);
      expect(await stat('flusher_commits') - before, 'commits during the writes').to.be.at.most(1);
      expect(await stat('dirty_entries')).to.be.above(0);
      for (let i = 0; i < 100 && (await stat('dirty_entries')) > 0; i++) await sleep(20);
      expect(await stat('dirty_entries'), 'committed within the interval').to.equal(0);
      expect(await stat('flusher_commits') - before).to.be.at.most(2);

      // everysec still commits within a second, whatever the interval
      await c.config('SET', 'flush-interval-ms', '5000');
      await c.set('pace:a', '1'); // both go in the next commit, due a second after the last
      await c.set('pace:b', '2');
      const wrote = Date.now();
      while ((await stat('dirty_entries')) > 0 && Date.now() - wrote < 3000) await sleep(20);
      expect(Date.now() - wrote, 'everysec commits within a second').to.be.below(1500);
    });

    it('starts a paced commit early once enough keys wait', async () => {
      srv ??= await startTalus(['--appendfsync', 'everysec']);
      const c = client(srv);
      await c.config('SET', 'flush-interval-ms', '1000');
      const stat = async (name: string) => (await talusInfo(c))[name]!;
      await c.set('early:first', '0'); // commits at once; the next commit is due a second later
      for (let i = 0; i < 50 && (await stat('dirty_entries')) > 0; i++) await sleep(20);
      const before = await stat('flusher_commits');
      const started = Date.now();
      const p = c.pipeline();
      for (let i = 0; i < EARLY_COMMIT_KEYS + 500; i++) p.set(`early:${i}`, String(i));
      await p.exec();
      // the interval alone would keep all of them dirty for most of a second
      while ((await stat('flusher_commits')) === before && Date.now() - started < 3000) await sleep(10);
      expect(Date.now() - started, 'a commit started before the interval was up').to.be.below(700);
      for (let i = 0; i < 100 && (await stat('dirty_entries')) > 0; i++) await sleep(20);
      expect(await stat('dirty_entries')).to.equal(0);
      expect(await c.get(`early:${EARLY_COMMIT_KEYS + 499}`)).to.equal(String(EARLY_COMMIT_KEYS + 499));
    });
  });

  describe('eviction', () => {
    let srv: TalusProcess | undefined;
    after(async () => srv?.stop());

    it('with maxmemory 2mb, a data set ~10x larger reads back intact', async () => {
      const maxmemory = 2 * 1024 * 1024;
      srv = await startTalus(['--maxmemory', '2mb', '--appendfsync', 'everysec']);
      const c = client(srv);
      const n = 5_000; // 5,000 x 4 KiB = 20 MiB
      const valueOf = (j: number) => valueFor(`ev:${j}`, 1000 + (j % 997)).padEnd(4096, '.').slice(0, 4096);
      for (let i = 0; i < n; i += 1000) {
        const p = c.pipeline();
        for (let j = i; j < i + 1000; j++) p.set(`ev:${j}`, valueOf(j));
        for (const [err] of (await p.exec())!) expect(err).to.equal(null);
      }
      // random order, so reads keep loading cold keys and evicting others
      const order = Array.from({ length: n }, (_, i) => i).sort(() => Math.random() - 0.5);
      for (let i = 0; i < n; i += 1000) {
        const ids = order.slice(i, i + 1000);
        const p = c.pipeline();
        for (const j of ids) p.get(`ev:${j}`);
        const res = (await p.exec())!;
        ids.forEach((j, k) => expect(res[k]![1], `ev:${j}`).to.equal(valueOf(j)));
      }
      if (await knows(c, 'DBSIZE')) expect(await c.dbsize()).to.equal(n);
      await sleep(500); // serverCron evicts at 10 Hz
      if (await knows(c, 'INFO', 'memory')) {
        const info = String(await c.info('memory'));
        const dataset = /used_memory_dataset:(\d+)/.exec(info)?.[1];
        if (dataset !== undefined) expect(Number(dataset), 'hot set (used_memory_dataset) above maxmemory').to.be.at.most(maxmemory * 1.1);
      }
      // the process itself stays bounded too (hot set 2 MB; Node + buffers on top)
      const rss = Number(/VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(path.join('/proc', String(srv.proc.pid), 'status'), 'utf8'))?.[1]) * 1024;
      expect(rss, 'Talus RSS').to.be.below(400 * 1024 * 1024);
    });

    it('bounds the memory overwritten values take: commits in step with the writes, and the guard collects what they leave', async () => {
      const guarded = await startTalus(['--maxmemory', '2mb', '--appendfsync', 'everysec']);
      try {
        const c = client(guarded);
        const big = Buffer.alloc(1 << 20, 'x');
        const usedMemory = async () => Number(/used_memory:(\d+)/.exec(String(await c.info('memory')))?.[1]);
        // 160 MB of values, each garbage once the next overwrite is committed.
        // Ten SETs of one key are one dirty key but 10 MB of change log: the
        // commit backlog counts those bytes, so a commit never carries much.
        let peak = 0;
        for (let i = 0; i < 16; i++) {
          const p = c.pipeline();
          for (let j = 0; j < 10; j++) p.set('churn', big);
          await p.exec();
          peak = Math.max(peak, await usedMemory());
        }
        expect(peak, 'heap used + external during the churn').to.be.below(150 << 20);
        expect((await talusInfo(c)).memory_guard_collections, 'full collections asked for').to.be.at.least(1);
        // Once the last commit is in, the garbage goes (heap used + external back near the start's).
        let used = Infinity;
        for (let i = 0; i < 150 && used >= 100 << 20; i++) {
          await sleep(100);
          used = await usedMemory();
        }
        expect(used, 'heap used + external 15 s after the churn').to.be.below(100 << 20);
      } finally {
        await guarded.stop();
      }
    });
  });
});
