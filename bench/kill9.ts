/**
 * kill -9 durability rounds: clients write (INCR on shared counters, SET of
 * sequence-numbered values on keys each client owns) and record every
 * acknowledged write; Talus is SIGKILLed at a random moment, restarted on the
 * same --dir (its embedded PostgreSQL, orphaned by the kill, is taken over),
 * and every acknowledged write must be there:
 *   counters: acknowledged max <= value <= INCRs sent
 *   SET keys: acknowledged seq <= stored seq <= last seq sent, bytes exact
 *
 *   node dist/bench/kill9.js [rounds=20] [--workers 8] [--inflight 32] [--appendfsync always]
 *
 * test/durability.test.ts runs the same rounds (3 of them) in CI.
 *
 * With --target postgres, each round SIGKILLs the embedded postmaster instead
 * (Talus restarts it; its crash recovery replays the WAL) and the load goes
 * on through the outage (refused writes are retried); once writes are
 * acknowledged again and some more went through, Talus itself is SIGKILLed
 * and restarted, so the check reads from PostgreSQL only:
 *
 *   node dist/bench/kill9.js 20 --target postgres
 *
 * test/embedded.test.ts runs 2 such rounds in CI.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Redis } from 'ioredis';
import { startTalus, stopPostgres, tempDir, type TalusProcess } from '../test/support/harness.js';

export interface Kill9Options {
  rounds: number;
  /** client connections writing concurrently */
  workers?: number;
  /** commands each worker keeps in flight (pipelined) */
  inflight?: number;
  counterKeys?: number;
  setKeysPerWorker?: number;
  /** the kill comes uniformly within this window (ms) once `minAcked` writes were acknowledged */
  killWindow?: [number, number];
  minAcked?: number;
  talusArgs?: string[];
  dir?: string;
  log?: (line: string) => void;
  /** what each round SIGKILLs: Talus (default) or its embedded postmaster */
  target?: 'talus' | 'postgres';
}

export interface RoundReport {
  round: number;
  killAfterMs: number;
  ackedWrites: number;
  failedWrites: number;
  ackedPerSec: number;
  /** writes sent but not acknowledged that turned out durable anyway */
  unackedButDurable: number;
  orphanPostgres: boolean;
  restartMs: number;
  keysVerified: number;
  violations: string[];
  /** --target postgres: from the postmaster's kill to the first acknowledged write sent after it (ms) */
  recoveryMs?: number;
  /** --target postgres: INFO talus after the recovery */
  pgRestarts?: number;
  pgLastExit?: string;
  pgRecoveryMs?: number;
}

export interface Kill9Report {
  rounds: RoundReport[];
  usedIncr: boolean;
  violations: string[];
}

const clientOpts = { enableReadyCheck: false, maxRetriesPerRequest: 0, retryStrategy: () => null } as const;

/** Deterministic content for (key, seq): verifies bytes, not just presence. */
export function valueFor(key: string, seq: number): string {
  const len = 16 + ((seq * 2654435761 + key.length * 97) % 2000);
  const head = `${seq}|${key}|`;
  return (head + 'abcdefghijklmnopqrstuvwxyz'.repeat(Math.ceil(len / 26) + 1)).slice(0, Math.max(len, head.length));
}

function seqOf(value: string): number {
  return Number(value.slice(0, value.indexOf('|')));
}

function postmasterPid(dir: string): number | undefined {
  try {
    const pid = Number(fs.readFileSync(path.join(dir, 'pg', 'postmaster.pid'), 'utf8').split('\n')[0]);
    return pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** INFO talus as name -> value. */
async function infoTalus(srv: TalusProcess): Promise<Record<string, string>> {
  const c = srv.client(clientOpts);
  try {
    const out: Record<string, string> = {};
    for (const line of (await c.info('talus')).split('\r\n')) {
      const i = line.indexOf(':');
      if (i > 0) out[line.slice(0, i)] = line.slice(i + 1);
    }
    return out;
  } finally {
    c.disconnect();
  }
}

export async function runKill9(opts: Kill9Options): Promise<Kill9Report> {
  const workers = opts.workers ?? 8;
  const inflight = opts.inflight ?? 32;
  const counterKeys = opts.counterKeys ?? 64;
  const setKeys = opts.setKeysPerWorker ?? 200;
  const [w0, w1] = opts.killWindow ?? [0, 1500];
  const minAcked = opts.minAcked ?? 50;
  const args = opts.talusArgs ?? [];
  const log = opts.log ?? (() => undefined);
  const dir = opts.dir ?? tempDir('kill9');
  const target = opts.target ?? 'talus';

  const ackedCounter = new Map<string, number>();
  const sentCounter = new Map<string, number>();
  const ackedSet = new Map<string, number>();
  const sentSet = new Map<string, number>();
  const report: Kill9Report = { rounds: [], usedIncr: false, violations: [] };

  let srv: TalusProcess = await startTalus(args, { embedded: true, dir });
  {
    const probe = srv.client(clientOpts);
    report.usedIncr = await probe.incr('probe:incr').then(() => true, () => false);
    probe.disconnect();
  }
  if (!report.usedIncr) log('INCR unknown to this Talus: SET-only load');

  try {
    for (let round = 1; round <= opts.rounds; round++) {
      let stop = false;
      let acked = 0;
      let failed = 0;
      // --target postgres. The outage as clients see it: backends of the killed
      // postmaster may still commit for a moment, so it starts at the first
      // refusal after the kill and ends at the first acknowledgement of a write
      // sent after that refusal.
      let pgKilledAt = Infinity;
      let firstAckAfterKill: number | undefined;
      let firstRefusalAfterKill: number | undefined;
      let firstAckAfterOutage: number | undefined;
      let lastAckedSentAt = 0;
      const ackedAt = (sentAt: number) => {
        lastAckedSentAt = Math.max(lastAckedSentAt, sentAt);
        if (sentAt < pgKilledAt) return;
        firstAckAfterKill ??= Date.now();
        if (firstRefusalAfterKill !== undefined && sentAt >= firstRefusalAfterKill) firstAckAfterOutage ??= Date.now();
      };
      const refusedAt = (sentAt: number) => {
        failed++;
        if (sentAt >= pgKilledAt) firstRefusalAfterKill ??= Date.now();
      };
      const clients: Redis[] = [];
      const loops: Promise<void>[] = [];
      const loadStart = Date.now();
      for (let w = 0; w < workers; w++) {
        const c = srv.client(clientOpts);
        c.on('error', () => undefined);
        clients.push(c);
        loops.push((async () => {
          while (!stop) {
            const batch: Promise<void>[] = [];
            let broken = false;
            const sentAt = Date.now();
            for (let i = 0; i < inflight; i++) {
              if (report.usedIncr && Math.random() < 0.5) {
                const key = `c:${Math.floor(Math.random() * counterKeys)}`;
                sentCounter.set(key, (sentCounter.get(key) ?? 0) + 1);
                batch.push(c.incr(key).then(
                  (v) => {
                    acked++;
                    ackedAt(sentAt);
                    if (v > (ackedCounter.get(key) ?? 0)) ackedCounter.set(key, v);
                  },
                  () => {
                    refusedAt(sentAt);
                    broken = true;
                  },
                ));
              } else {
                const key = `s:${w}:${Math.floor(Math.random() * setKeys)}`;
                const seq = (sentSet.get(key) ?? 0) + 1;
                sentSet.set(key, seq);
                batch.push(c.set(key, valueFor(key, seq)).then(
                  (r) => {
                    if (r !== 'OK') {
                      failed++;
                      return;
                    }
                    acked++;
                    ackedAt(sentAt);
                    if (seq > (ackedSet.get(key) ?? 0)) ackedSet.set(key, seq);
                  },
                  () => {
                    refusedAt(sentAt);
                    broken = true;
                  },
                ));
              }
            }
            await Promise.all(batch);
            if (broken && (target === 'talus' || stop || c.status === 'end')) return;
            // PostgreSQL is down (MISCONF): try again shortly
            if (broken) await sleep(20);
          }
        })());
      }

      // the load must be under way (a restarted Talus loads keys cold at first)
      const warmDeadline = Date.now() + 30_000;
      while (acked < minAcked && Date.now() < warmDeadline) await sleep(10);
      const killAfterMs = Math.round(w0 + Math.random() * (w1 - w0));
      await sleep(killAfterMs);
      const ackedAtKill = acked;
      const pgBefore = postmasterPid(dir);
      const killedAt = Date.now();
      let pgRound: Pick<RoundReport, 'recoveryMs' | 'pgRestarts' | 'pgLastExit' | 'pgRecoveryMs'> = {};
      if (target === 'postgres') {
        if (pgBefore === undefined || !alive(pgBefore)) throw new Error(`round ${round}: no embedded postmaster running in ${dir}`);
        pgKilledAt = killedAt;
        process.kill(pgBefore, 'SIGKILL');
        // Talus restarted PostgreSQL, writes sent since are acknowledged, and some more
        let info = await infoTalus(srv);
        while (Number(info.embedded_pg_restarts) < 1) {
          await sleep(50);
          info = await infoTalus(srv);
        }
        const restartSeenAt = Date.now();
        while (lastAckedSentAt < restartSeenAt) await sleep(5);
        const again = acked + minAcked;
        while (acked < again) await sleep(5);
        pgRound = {
          recoveryMs: (firstAckAfterOutage ?? firstAckAfterKill!) - killedAt,
          pgRestarts: Number(info.embedded_pg_restarts),
          pgLastExit: info.embedded_pg_last_exit,
          pgRecoveryMs: Number(info.embedded_pg_last_recovery_ms),
        };
        stop = true; // then the loops end at the connection's loss, not in a retry pause
      }
      await srv.kill();
      stop = true;
      await Promise.all(loops);
      for (const c of clients) c.disconnect();
      const orphanPostgres = target === 'talus' && pgBefore !== undefined && alive(pgBefore);

      srv = await startTalus(args, { embedded: true, dir });
      const restartMs = Date.now() - killedAt;

      // verify everything ever acknowledged, in pipelined chunks
      const violations: string[] = [];
      let unackedButDurable = 0;
      const c = srv.client(clientOpts);
      const keys = [...sentCounter.keys(), ...sentSet.keys()];
      for (let i = 0; i < keys.length; i += 1000) {
        const chunk = keys.slice(i, i + 1000);
        const p = c.pipeline();
        for (const k of chunk) p.get(k);
        const res = (await p.exec()) ?? [];
        chunk.forEach((k, j) => {
          const [err, raw] = res[j] ?? [new Error('no reply'), null];
          if (err) {
            violations.push(`${k}: GET failed: ${err.message}`);
            return;
          }
          const v = raw as string | null;
          if (k.startsWith('c:')) {
            const n = v === null ? 0 : Number(v);
            const lo = ackedCounter.get(k) ?? 0;
            const hi = sentCounter.get(k) ?? 0;
            if (!(n >= lo && n <= hi)) violations.push(`${k}: counter ${v}, acknowledged ${lo}, sent ${hi}`);
            else if (n > lo) unackedButDurable++;
          } else {
            const lo = ackedSet.get(k) ?? 0;
            const hi = sentSet.get(k) ?? 0;
            if (v === null) {
              if (lo > 0) violations.push(`${k}: missing, acknowledged seq ${lo}`);
              return;
            }
            const seq = seqOf(v);
            if (!(seq >= lo && seq <= hi)) violations.push(`${k}: seq ${seq}, acknowledged ${lo}, sent ${hi}`);
            else if (v !== valueFor(k, seq)) violations.push(`${k}: seq ${seq} has corrupted bytes (${v.length} bytes)`);
            else if (seq > lo) unackedButDurable++;
          }
        });
      }
      c.disconnect();
      const r: RoundReport = {
        round,
        killAfterMs,
        ackedWrites: acked,
        failedWrites: failed,
        ackedPerSec: Math.round(ackedAtKill / ((killedAt - loadStart) / 1000)),
        unackedButDurable,
        orphanPostgres,
        restartMs,
        keysVerified: keys.length,
        violations,
        ...pgRound,
      };
      report.rounds.push(r);
      report.violations.push(...violations.map((v) => `round ${round}: ${v}`));
      if (target === 'postgres') {
        log(
          `round ${round}: postmaster killed after ${killAfterMs} ms of load, writes acknowledged again ${r.recoveryMs} ms later ` +
            `(PostgreSQL up again after ${r.pgRecoveryMs} ms; INFO restarts ${r.pgRestarts}, last exit ${r.pgLastExit}); ` +
            `${acked} acknowledged, ${failed} refused or cut off, ${unackedButDurable} unacknowledged-but-durable, ` +
            `${keys.length} keys verified after a kill -9 of Talus, ${violations.length} violations`,
        );
      } else log(
        `round ${round}: kill after ${killAfterMs} ms, ${acked} acknowledged (${r.ackedPerSec}/s), ${failed} cut off, ` +
          `${unackedButDurable} unacknowledged-but-durable, orphan PG ${orphanPostgres ? 'yes' : 'no'}, ` +
          `restart ${restartMs} ms, ${keys.length} keys verified, ${violations.length} violations`,
      );
      for (const v of violations.slice(0, 10)) log(`  VIOLATION ${v}`);
    }
  } finally {
    await srv.stop();
  }
  return report;
}

// --- command line -----------------------------------------------------------------
if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  const argv = process.argv.slice(2);
  const opt = (name: string, def: number) => {
    const i = argv.indexOf(`--${name}`);
    return i >= 0 ? Number(argv[i + 1]) : def;
  };
  const fsync = argv.includes('--appendfsync') ? argv[argv.indexOf('--appendfsync') + 1]! : 'always';
  const target = argv.includes('--target') ? (argv[argv.indexOf('--target') + 1] as 'talus' | 'postgres') : 'talus';
  const rounds = Number(argv.find((a, i) => /^\d+$/.test(a) && !argv[i - 1]?.startsWith('--')) ?? 20);
  const t0 = Date.now();
  const report = await runKill9({
    rounds,
    workers: opt('workers', 8),
    inflight: opt('inflight', 32),
    talusArgs: ['--appendfsync', fsync],
    target,
    log: (l) => console.log(l),
  });
  const sum = (f: (r: RoundReport) => number) => report.rounds.reduce((a, r) => a + f(r), 0);
  const restarts = report.rounds.map((r) => r.restartMs).sort((a, b) => a - b);
  const recoveries = report.rounds.map((r) => r.recoveryMs ?? 0).sort((a, b) => a - b);
  if (target === 'postgres') console.log(
    `\n${report.rounds.length} postmaster kills (appendfsync ${fsync}) in ${((Date.now() - t0) / 1000).toFixed(0)} s: ` +
      `writes acknowledged again after median ${recoveries[Math.floor(recoveries.length / 2)]} ms / ` +
      `min ${recoveries[0]} ms / max ${recoveries[recoveries.length - 1]} ms; ` +
      `${sum((r) => r.ackedWrites)} acknowledged writes, ${sum((r) => r.failedWrites)} refused or cut off, ` +
      `${sum((r) => r.unackedButDurable)} unacknowledged-but-durable, ` +
      `LOST ACKNOWLEDGED WRITES: ${report.violations.length}`,
  );
  else console.log(
    `\n${report.rounds.length} rounds (appendfsync ${fsync}, ${report.usedIncr ? 'INCR+SET' : 'SET only'}) in ${((Date.now() - t0) / 1000).toFixed(0)} s: ` +
      `${sum((r) => r.ackedWrites)} acknowledged writes, ${sum((r) => r.failedWrites)} cut off by the kill, ` +
      `${sum((r) => r.unackedButDurable)} unacknowledged-but-durable, ` +
      `orphaned PostgreSQL taken over in ${report.rounds.filter((r) => r.orphanPostgres).length}/${report.rounds.length} rounds, ` +
      `restart after kill median ${restarts[Math.floor(restarts.length / 2)]} ms / max ${restarts[restarts.length - 1]} ms, ` +
      `LOST ACKNOWLEDGED WRITES: ${report.violations.length}`,
  );
  await stopPostgres();
  process.exit(report.violations.length === 0 ? 0 : 1);
}
