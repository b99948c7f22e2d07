import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { Redis } from 'ioredis';
import { tempDir } from './harness.js';

/**
 * Real Redis Sentinel processes (Debian's redis-sentinel 7.0) monitoring a
 * Talus leader: each with its own config file in a scratch dir (Sentinel
 * rewrites it), on a random free loopback port in 30000-39999, its log kept
 * for the test to show when something fails.
 */
export interface SentinelProcess {
  port: number;
  proc: ChildProcess;
  log: () => string;
  client(): Redis;
  stop(): Promise<void>;
}

export const SENTINEL_BIN = process.env.REDIS_SENTINEL_BIN ?? 'redis-sentinel';

export function sentinelAvailable(): boolean {
  return spawnSync(SENTINEL_BIN, ['--version'], { stdio: 'ignore' }).status === 0;
}

/** A free loopback port picked at random in 30000-39999 (other servers share this machine). */
export async function randomFreePort(): Promise<number> {
  for (;;) {
    const port = 30000 + Math.floor(Math.random() * 10000);
    const free = await new Promise<boolean>((resolve) => {
      const srv = net.createServer();
      srv.once('error', () => resolve(false));
      srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
    });
    if (free) return port;
  }
}

export interface SentinelOptions {
  /** the name Sentinel monitors the leader under */
  name?: string;
  quorum?: number;
  downAfterMs?: number;
  failoverTimeoutMs?: number;
}

/** Start one Sentinel monitoring the leader at 127.0.0.1:leaderPort; resolves once it listens. */
export async function startSentinel(leaderPort: number, o: SentinelOptions = {}): Promise<SentinelProcess> {
  const name = o.name ?? 'talus';
  const dir = tempDir('sentinel');
  const port = await randomFreePort();
  const logFile = path.join(dir, 'sentinel.log');
  const conf = path.join(dir, 'sentinel.conf');
  fs.writeFileSync(
    conf,
    [
      `port ${port}`,
      'bind 127.0.0.1',
      'daemonize no',
      `logfile ${logFile}`,
      `dir ${dir}`,
      `sentinel monitor ${name} 127.0.0.1 ${leaderPort} ${o.quorum ?? 2}`,
      `sentinel down-after-milliseconds ${name} ${o.downAfterMs ?? 1000}`,
      `sentinel failover-timeout ${name} ${o.failoverTimeoutMs ?? 5000}`,
      `sentinel parallel-syncs ${name} 1`,
      '',
    ].join('\n'),
  );
  const proc = spawn(SENTINEL_BIN, [conf], { stdio: 'ignore' });
  const log = () => (fs.existsSync(logFile) ? fs.readFileSync(logFile, 'utf8') : '');
  const exited = new Promise<void>((resolve) => proc.on('exit', () => resolve()));
  const deadline = Date.now() + 20_000;
  while (!/Sentinel ID is/.test(log())) {
    if (proc.exitCode !== null) throw new Error(`redis-sentinel exited with ${proc.exitCode}:\n${log()}`);
    if (Date.now() > deadline) throw new Error(`redis-sentinel did not start in time:\n${log()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  const clients: Redis[] = [];
  return {
    port,
    proc,
    log,
    client() {
      const c = new Redis({ port, host: '127.0.0.1', maxRetriesPerRequest: 1 });
      clients.push(c);
      return c;
    },
    async stop() {
      for (const c of clients) c.disconnect();
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
      await exited;
    },
  };
}
