/**
 * Start-to-ready time of Talus: spawns bin/talus N times on one prepared
 * database (already migrated by a first, unmeasured start) and prints the
 * milliseconds from spawn to the "Ready to accept connections" log line,
 * plus how long reading the command spec data takes in this process.
 *
 *   npx tsc -b && node dist/bench/startup.js [--runs 10] [--root <checkout with a dist/>]
 *
 * --root compares another build (e.g. an older commit built elsewhere) on
 * the same machine and database cluster.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { ROOT, freshDatabase, stopPostgres, tempDir } from '../test/support/harness.js';
import { commandSpecs } from '../src/commands/spec.js';
import { option } from './support.js';

const runs = Number(option('runs', '10'));
const root = path.resolve(option('root', ROOT));

function startOnce(databaseUrl: string): Promise<number> {
  const t0 = performance.now();
  const args = ['--port', '0', '--bind', '127.0.0.1', '--dir', tempDir('startup'), '--database-url', databaseUrl];
  const proc = spawn(path.join(root, 'bin/talus'), args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NODE: process.execPath } });
  return new Promise((resolve, reject) => {
    let out = '';
    let readyMs: number | undefined;
    const onData = (d: Buffer) => {
      out += d.toString();
      if (readyMs === undefined && out.includes('Ready to accept connections')) {
        readyMs = performance.now() - t0;
        proc.kill('SIGTERM');
      }
    };
    proc.stdout!.on('data', onData);
    proc.stderr!.on('data', onData);
    proc.once('exit', (code) => {
      if (readyMs !== undefined) resolve(readyMs);
      else reject(new Error(`Talus exited with ${code} before it was ready:\n${out}`));
    });
  });
}

const t0 = performance.now();
const specs = commandSpecs();
const specMs = performance.now() - t0;

const db = await freshDatabase();
await startOnce(db); // migrates the database: not measured
const times: number[] = [];
for (let i = 0; i < runs; i++) times.push(await startOnce(db));
times.sort((a, b) => a - b);
const fmt = (ms: number) => ms.toFixed(0);
console.log(`root ${root}`);
console.log(`start-to-ready over ${runs} runs: min ${fmt(times[0]!)} ms, median ${fmt(times[Math.floor(runs / 2)]!)} ms, max ${fmt(times[runs - 1]!)} ms`);
console.log(`reading the command spec data (${specs.size} commands and subcommands): ${specMs.toFixed(1)} ms`);
await stopPostgres();
