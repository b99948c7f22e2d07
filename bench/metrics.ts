/**
 * What /metrics costs: the time and size of one scrape (after a load that
 * fills INFO commandstats and errorstats), and the write throughput of a
 * pipelined SET load with and without a scraper polling every 100 ms
 * (alternating rounds, so that drift of a shared machine hits both alike).
 *
 *   npx tsc -b && node dist/bench/metrics.js [--rounds 3] [--seconds 3]
 */
import { performance } from 'node:perf_hooks';
import { startTalus, stopPostgres } from '../test/support/harness.js';
import { freePort } from '../test/support/redis-server.js';
import { option } from './support.js';

const rounds = Number(option('rounds', '3'));
const seconds = Number(option('seconds', '3'));

const metricsPort = await freePort();
const srv = await startTalus(['--metrics-port', String(metricsPort), '--appendfsync', 'everysec']);
const c = srv.client();

async function scrape(): Promise<{ ms: number; bytes: number }> {
  const t = performance.now();
  const body = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
  return { ms: performance.now() - t, bytes: body.length };
}

/** SETs in pipelines of 100 for `seconds`: operations per second. */
async function load(withScraper: boolean): Promise<number> {
  let scraping = withScraper;
  const scraper = (async () => {
    while (scraping) {
      await scrape();
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
  const end = performance.now() + seconds * 1000;
  let ops = 0;
  let i = 0;
  while (performance.now() < end) {
    const p = c.pipeline();
    for (let j = 0; j < 100; j++) p.set(`k:${i++ % 10_000}`, 'v'.repeat(32));
    await p.exec();
    ops += 100;
  }
  scraping = false;
  await scraper;
  return ops / seconds;
}

// fill commandstats with a spread of commands (and an error) so the scrape has its usual size
for (const cmd of ['get', 'set', 'incr', 'hset', 'hget', 'lpush', 'lrange', 'sadd', 'zadd', 'zrange', 'exists', 'del', 'expire', 'ttl', 'type']) {
  await c.call(cmd, `warm:${cmd}`, ...(['set', 'lpush', 'sadd'].includes(cmd) ? ['1'] : cmd === 'hset' ? ['f', '1'] : cmd === 'zadd' ? ['1', 'm'] : cmd === 'lrange' || cmd === 'zrange' ? ['0', '-1'] : cmd === 'expire' ? ['100'] : cmd === 'hget' ? ['f'] : [])).catch(() => undefined);
}
await c.call('nosuchcommand').catch(() => undefined);

const scrapes: number[] = [];
let bytes = 0;
for (let i = 0; i < 200; i++) {
  const s = await scrape();
  scrapes.push(s.ms);
  bytes = s.bytes;
}
scrapes.sort((a, b) => a - b);
console.log(`/metrics scrape (idle server, 200 scrapes): median ${scrapes[100]!.toFixed(2)} ms, p99 ${scrapes[198]!.toFixed(2)} ms, ${bytes} bytes`);

const plain: number[] = [];
const scraped: number[] = [];
for (let r = 0; r < rounds; r++) {
  plain.push(await load(false));
  scraped.push(await load(true));
}
const median = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)]!;
console.log(`pipelined SET (appendfsync everysec), ${rounds} rounds of ${seconds} s each:`);
console.log(`  without scraping: median ${median(plain).toFixed(0)} ops/s (${plain.map((x) => x.toFixed(0)).join(', ')})`);
console.log(`  scraped every 100 ms: median ${median(scraped).toFixed(0)} ops/s (${scraped.map((x) => x.toFixed(0)).join(', ')})`);

await srv.stop();
await stopPostgres();
