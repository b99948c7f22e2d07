/**
 * EVALSHA throughput, Talus beside redis-server 7.0.15 in one run: a script
 * of three commands (GET, INCR, EXPIRE on its one declared key) called with
 * redis-benchmark at -P 1 and -P 16 (--clients connections, keys drawn from
 * --keyspace), each pipeline depth measured on redis-server and then on Talus
 * back to back (the machine's speed drifts within minutes). Prints requests
 * per second, p50 latency and the Talus/Redis ratio per depth.
 *
 *   node dist/bench/scripting.js [--requests 100000] [--clients 50]
 *                                [--keyspace 100000] [--pipelines "1 16"]
 *                                [--appendfsync always] [--port <n>]
 *
 * redis-server and redis-benchmark must be on PATH (redis-server is started
 * with --save '' --appendonly no on a free port and stopped at the end).
 * --port fixes the ports instead (a machine where only some are free):
 * redis-server on n, Talus on n+1 and its embedded PostgreSQL on n+2.
 */
import { execFileSync } from 'node:child_process';
import { option, startRedis } from './support.js';
import { startTalus, stopPostgres } from '../test/support/harness.js';

const requests = option('requests', '100000');
const clients = option('clients', '50');
const keyspace = option('keyspace', '100000');
const pipelines = option('pipelines', '1 16').split(/\s+/).filter(Boolean);
const fsync = option('appendfsync', 'always');
const basePort = Number(option('port', '0'));

const SCRIPT = "local v = redis.call('GET', KEYS[1]) redis.call('INCR', KEYS[1]) redis.call('EXPIRE', KEYS[1], 3600) return v";

function cli(port: number, ...args: string[]): string {
  return execFileSync('redis-cli', ['-p', String(port), ...args], { encoding: 'latin1' }).trim();
}

/** redis-benchmark's CSV row for one run of `command`: requests per second and p50 latency (ms; columns: test, rps, avg, min, p50, ...). */
function run(port: number, command: string[], pipeline: string): { rps: number; p50: number } {
  const out = execFileSync('redis-benchmark', [
    '-p', String(port), '-c', clients, '-n', requests, '-P', pipeline, '-r', keyspace, '--csv', ...command,
  ], { encoding: 'latin1', maxBuffer: 16 << 20 });
  const row = out.trim().split('\n').pop()!.split(',').map((f) => f.replace(/"/g, ''));
  return { rps: Number(row[1]), p50: Number(row[4]) };
}

const redis = await (basePort > 0 ? startRedis(basePort) : startRedis());
const fixedPorts = basePort > 0 ? ['--port', String(basePort + 1), '--embedded-pg-port', String(basePort + 2)] : [];
const talus = await startTalus(['--appendfsync', fsync, ...fixedPorts], { embedded: true });
try {
  const sha = cli(redis.port, 'SCRIPT', 'LOAD', SCRIPT);
  if (cli(talus.port, 'SCRIPT', 'LOAD', SCRIPT) !== sha) throw new Error('the script has another sha on Talus');
  const evalsha = ['EVALSHA', sha, '1', 'bench:script:__rand_int__'];
  // the same keys with one INCR each: what the script costs beyond a plain write
  const incr = ['INCR', 'bench:script:__rand_int__'];
  // warm-up: every key written once, so both servers measure the same hot keys
  run(redis.port, evalsha, '16');
  run(talus.port, evalsha, '16');
  console.log(`EVALSHA of GET+INCR+EXPIRE (and a plain INCR for reference), ${requests} requests, ${clients} clients, ${keyspace} keys, Talus appendfsync ${fsync}`);
  console.log('command  | pipeline | redis rps | talus rps | ratio | redis p50 ms | talus p50 ms');
  for (const p of pipelines) {
    for (const [name, command] of [['EVALSHA', evalsha], ['INCR', incr]] as const) {
      const r = run(redis.port, [...command], p);
      const t = run(talus.port, [...command], p);
      console.log(`${name.padEnd(8)} | -P ${p.padEnd(5)} | ${r.rps.toFixed(0).padStart(9)} | ${t.rps.toFixed(0).padStart(9)} | ${(t.rps / r.rps).toFixed(2)}x | ${r.p50.toFixed(3).padStart(12)} | ${t.p50.toFixed(3).padStart(12)}`);
    }
  }
} finally {
  await talus.stop();
  await redis.stop();
  await stopPostgres();
}
