/**
 * Replication figures: a leader loaded with --keys strings (and --keys/100
 * hashes of 100 fields), then a follower started with --replicaof: time of
 * its full sync; then --writes SETs on the leader in pipelines, and how long
 * the follower takes to apply them after the leader acknowledged
 * the last one; then the latency of SET + WAIT 1 (the follower's commit).
 *
 *   npx tsc -b && node dist/bench/replication.js [--keys 100000] [--writes 50000]
 */
import { performance } from 'node:perf_hooks';
import type { Redis } from 'ioredis';
import { startTalus, stopPostgres } from '../test/support/harness.js';
import { option } from './support.js';

const keys = Number(option('keys', '100000'));
const writes = Number(option('writes', '50000'));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function field(r: Redis, name: string): Promise<string> {
  const m = new RegExp(`^${name}:(.*)$`, 'm').exec(await r.info('replication'));
  return m ? m[1]!.trim() : '';
}

async function load(r: Redis, n: number, prefix: string): Promise<void> {
  for (let i = 0; i < n; i += 1000) {
    const p = r.pipeline();
    for (let j = i; j < Math.min(n, i + 1000); j++) p.set(`${prefix}:${j}`, `value-${j}-${'x'.repeat(40)}`);
    await p.exec();
  }
}

const leader = await startTalus([]);
const follower = await startTalus([]).catch((e) => {
  throw e;
});
try {
  const l = leader.client();
  await load(l, keys, 'k');
  for (let h = 0; h < keys / 100; h++) {
    const args: string[] = [];
    for (let f = 0; f < 100; f++) args.push(`f${f}`, `v${f}`);
    await l.hset(`h:${h}`, ...args);
  }
  const r = follower.client();
  let t = performance.now();
  await r.call('REPLICAOF', '127.0.0.1', String(leader.port));
  while ((await field(r, 'master_link_status')) !== 'up') await sleep(20);
  const fullMs = performance.now() - t;
  const total = keys + keys / 100;
  console.log(`full sync: ${total} keys (${keys} strings, ${keys / 100} hashes of 100 fields) in ${Math.round(fullMs)} ms = ${Math.round(total / (fullMs / 1000))} keys/s`);

  t = performance.now();
  await load(l, writes, 'w');
  const writeMs = performance.now() - t;
  const offset = Number(await field(l, 'master_repl_offset'));
  const acked = performance.now();
  while (Number(await field(r, 'slave_repl_offset')) < offset) await sleep(10);
  const lagMs = performance.now() - acked;
  console.log(`stream: ${writes} SETs acknowledged by the leader in ${Math.round(writeMs)} ms (${Math.round(writes / (writeMs / 1000))}/s); follower applied the last one ${Math.round(lagMs)} ms later`);

  const samples: number[] = [];
  for (let i = 0; i < 50; i++) {
    const s = performance.now();
    await l.set('wait:k', String(i));
    await l.call('WAIT', '1', '0');
    samples.push(performance.now() - s);
  }
  samples.sort((a, b) => a - b);
  console.log(`SET + WAIT 1: median ${samples[25]!.toFixed(1)} ms, p90 ${samples[45]!.toFixed(1)} ms (50 runs)`);
} finally {
  await follower.stop();
  await leader.stop();
  await stopPostgres();
}
