import { expect } from 'chai';
import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import type { Redis } from 'ioredis';
import { freshDatabase, startTalus, type TalusProcess } from './support/harness.js';

/**
 * The redis-cli modes operators use run to completion against Talus, over
 * keys that are cold (in PostgreSQL only) when the scan starts: --bigkeys,
 * --memkeys, --scan, --hotkeys (which, as in Redis, needs an LFU policy),
 * and the endless ones (--stat, --latency-history) print their lines.
 */

const run = promisify(execFile);

async function cli(port: number, ...args: string[]): Promise<{ stdout: string; stderr: string; code: number }> {
  try {
    const { stdout, stderr } = await run('redis-cli', ['-p', String(port), ...args], { maxBuffer: 16 << 20 });
    return { stdout, stderr, code: 0 };
  } catch (err) {
    const e = err as { stdout: string; stderr: string; code: number };
    return { stdout: e.stdout, stderr: e.stderr, code: e.code };
  }
}

/** Start an endless mode, wait for `lines` lines of output after its header, stop it. */
function firstLines(port: number, lines: number, ...args: string[]): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const p = spawn('redis-cli', ['-p', String(port), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const take = (d: Buffer) => {
      out += d.toString();
      const got = out.split('\n').filter((l) => /\d/.test(l));
      if (got.length >= lines) {
        p.kill();
        resolve(got);
      }
    };
    p.stdout.on('data', take);
    p.stderr.on('data', take);
    p.on('exit', (code) => reject(new Error(`redis-cli ${args.join(' ')} exited with ${code}: ${out}`)));
  });
}

describe('redis-cli admin modes', function () {
  this.timeout(120_000);
  let srv: TalusProcess | undefined;
  let c: Redis;

  before(async () => {
    const url = await freshDatabase();
    const first = await startTalus([], { databaseUrl: url });
    const w = first.client();
    const p = w.pipeline();
    for (let i = 0; i < 300; i++) p.set(`str:${i}`, 'x'.repeat(i + 1));
    for (let i = 0; i < 20; i++) {
      p.rpush(`list:${i}`, ...Array.from({ length: i + 1 }, (_, j) => `e${j}`));
      p.hset(`hash:${i}`, 'f', 'v', 'g', 'w');
      p.sadd(`set:${i}`, 'a', 'b', 'c');
      p.zadd(`zset:${i}`, 1, 'a', 2, 'b');
    }
    await p.exec();
    await first.stop();
    // every key cold: the scans read PostgreSQL
    srv = await startTalus(['--maxmemory-policy', 'allkeys-lfu'], { databaseUrl: url });
    c = srv.client();
  });

  after(async () => srv?.stop());

  it('--bigkeys finds the biggest key of each type', async () => {
    const r = await cli(srv!.port, '--bigkeys');
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout).to.include('Sampled 380 keys in the keyspace!');
    expect(r.stdout).to.match(/Biggest string found '"str:299"' has 300 bytes/);
    expect(r.stdout).to.match(/Biggest {3}list found '"list:19"' has 20 items/);
    expect(r.stdout).to.include('300 strings with 45150 bytes');
  });

  it('--memkeys sizes every key with MEMORY USAGE', async () => {
    const r = await cli(srv!.port, '--memkeys');
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout).to.include('Sampled 380 keys in the keyspace!');
    expect(r.stdout).to.match(/Biggest string found '"str:299"' has \d+ bytes/);
    expect(r.stdout).to.match(/20 zsets with \d+ bytes/);
  });

  it('--scan lists every key (and --pattern filters)', async () => {
    const all = (await cli(srv!.port, '--scan')).stdout.trim().split('\n');
    expect(all).to.have.length(380);
    const lists = (await cli(srv!.port, '--scan', '--pattern', 'list:*')).stdout.trim().split('\n').sort();
    expect(lists).to.deep.equal(Array.from({ length: 20 }, (_, i) => `list:${i}`).sort());
  });

  it('--hotkeys reports access frequencies under an LFU policy, and refuses as Redis does otherwise', async () => {
    // lfu-log-factor 0: every access counts (the counter is logarithmic otherwise)
    await c.config('SET', 'lfu-log-factor', '0');
    const before = Number(await c.object('FREQ', 'str:7'));
    for (let i = 0; i < 50; i++) await c.get('str:7');
    await c.config('SET', 'lfu-log-factor', '10');
    expect(Number(await c.object('FREQ', 'str:7'))).to.equal(before + 50);
    const r = await cli(srv!.port, '--hotkeys');
    expect(r.code, r.stderr).to.equal(0);
    // the hottest key comes first, with its counter
    expect(r.stdout.split('\n').find((l) => l.startsWith('hot key found'))).to.equal(`hot key found with counter: ${before + 50}\tkeyname: "str:7"`);
    await c.config('SET', 'maxmemory-policy', 'allkeys-lru');
    try {
      const refused = await cli(srv!.port, '--hotkeys');
      expect(refused.code).to.equal(1);
      expect(refused.stderr).to.match(/An LFU maxmemory policy is not selected/);
    } finally {
      await c.config('SET', 'maxmemory-policy', 'allkeys-lfu');
    }
  });

  it('--stat and --latency-history print their figures', async () => {
    const stat = await firstLines(srv!.port, 3, '--stat', '-i', '0.1');
    expect(stat.some((l) => /^380\s+\S+\s+\d+\s+\d+\s+\d+ \(\+\d+\)/.test(l)), stat.join('\n')).to.equal(true);
    const latency = await firstLines(srv!.port, 1, '--latency-history', '-i', '0.2', '--raw');
    expect(latency[0]).to.match(/^\d+ \d+ [\d.]+ \d+/);
  });
});
