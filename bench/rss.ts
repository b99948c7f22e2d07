/**
 * Memory bound: Talus with --maxmemory 64mb takes 10x that in 1 KiB values
 * (written through ioredis pipelines), then every value is read back and
 * checked byte for byte (cold keys load from PostgreSQL, evicting others).
 * The Talus process RSS (/proc/<pid>/status VmRSS) is sampled every 50 ms
 * throughout; the run passes when max RSS <= maxmemory + 200 MB.
 *
 *   node dist/bench/rss.js [--maxmemory-mb 64] [--factor 10] [--value-size 1024]
 *                          [--appendfsync always] [--conns 4] [--pipeline 1000]
 */
import type { Redis } from 'ioredis';
import { option, rssMb } from './support.js';
import { startTalus, stopPostgres } from '../test/support/harness.js';

const opt = option;
const maxmemoryMb = Number(opt('maxmemory-mb', '64'));
const factor = Number(opt('factor', '10'));
const valueSize = Number(opt('value-size', '1024'));
const fsync = opt('appendfsync', 'always');
const conns = Number(opt('conns', '4'));
const pipeline = Number(opt('pipeline', '1000'));
const MB = 1024 * 1024;
const total = maxmemoryMb * MB * factor;
const keys = Math.ceil(total / valueSize);
const limitMb = maxmemoryMb + 200;

/** Deterministic bytes for key i. */
function valueOf(i: number): Buffer {
  const b = Buffer.alloc(valueSize, 97 + (i % 26));
  b.write(`v${i}:`, 0, 'latin1');
  return b;
}


const srv = await startTalus(['--maxmemory', `${maxmemoryMb}mb`, '--appendfsync', fsync], { embedded: true });
const pid = srv.proc.pid!;
await new Promise((r) => setTimeout(r, 500));
const startRss = rssMb(pid);
const samples: Array<{ t: number; phase: string; rss: number }> = [];
let phase = 'idle';
const t0 = Date.now();
const sampler = setInterval(() => samples.push({ t: Date.now() - t0, phase, rss: rssMb(pid) }), 50);
// INFO memory once a second on its own connection, to split RSS up:
// used_memory = V8 heap used + external, allocator_allocated = heap total + external,
// used_memory_dataset = the hot set Talus counts against maxmemory
const infoMax = { used_memory: 0, allocator_allocated: 0, used_memory_dataset: 0 };
const infoClient = srv.client({ enableReadyCheck: false, maxRetriesPerRequest: 0 });
infoClient.on('error', () => undefined);
const infoTimer = setInterval(() => {
  infoClient.info('memory').then((text) => {
    for (const k of Object.keys(infoMax) as Array<keyof typeof infoMax>) {
      const v = Number(new RegExp(`${k}:(\\d+)`).exec(String(text))?.[1] ?? 0);
      if (v > infoMax[k]) infoMax[k] = v;
    }
  }, () => undefined);
}, 1000);
const clients: Redis[] = Array.from({ length: conns }, () => {
  const c = srv.client({ enableReadyCheck: false, maxRetriesPerRequest: 0 });
  c.on('error', () => undefined);
  return c;
});

console.log(`Talus pid ${pid}, maxmemory ${maxmemoryMb} MB, writing ${keys} x ${valueSize} B = ${(keys * valueSize / MB).toFixed(0)} MB ` +
  `(appendfsync ${fsync}, ${conns} connections, pipelines of ${pipeline})`);

/** Run `work(chunkStart)` for every chunk of keys, `conns` chunks at a time. */
async function forChunks(order: number[], work: (c: Redis, start: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(clients.map(async (c) => {
    while (next < order.length) await work(c, order[next++]!);
  }));
}

const chunks = Array.from({ length: Math.ceil(keys / pipeline) }, (_, i) => i * pipeline);

phase = 'write';
let t = Date.now();
await forChunks(chunks, async (c, start) => {
  const p = c.pipeline();
  for (let i = start; i < Math.min(start + pipeline, keys); i++) p.set(`rss:${i}`, valueOf(i));
  for (const [err] of (await p.exec())!) if (err) throw err;
});
const writeSecs = (Date.now() - t) / 1000;
console.log(`write: ${writeSecs.toFixed(1)} s, ${Math.round(keys / writeSecs)} SET/s, max RSS so far ${Math.max(...samples.map((s) => s.rss)).toFixed(0)} MB`);

phase = 'read';
t = Date.now();
let bad = 0;
// chunks in shuffled order: reads keep loading cold keys and evicting others
const shuffled = [...chunks].sort(() => Math.random() - 0.5);
await forChunks(shuffled, async (c, start) => {
  const p = c.pipeline();
  const end = Math.min(start + pipeline, keys);
  for (let i = start; i < end; i++) p.getBuffer(`rss:${i}`);
  const res = (await p.exec())!;
  for (let i = start; i < end; i++) {
    const [err, v] = res[i - start]!;
    if (err || !(v as Buffer | null)?.equals(valueOf(i))) {
      if (bad++ < 5) console.log(`  rss:${i} wrong: ${err?.message ?? (v === null ? 'nil' : `${(v as Buffer).length} bytes`)}`);
    }
  }
});
const readSecs = (Date.now() - t) / 1000;
phase = 'done';
await new Promise((r) => setTimeout(r, 200));
clearInterval(sampler);
clearInterval(infoTimer);

let info = '';
try {
  info = String(await clients[0]!.info('memory'));
} catch {
  /* INFO may not exist yet */
}
const usedMemory = /used_memory:(\d+)/.exec(info)?.[1];
const maxOf = (ph: string) => Math.max(0, ...samples.filter((s) => s.phase === ph).map((s) => s.rss));
const maxRss = Math.max(...samples.map((s) => s.rss));
console.log(`read:  ${readSecs.toFixed(1)} s, ${Math.round(keys / readSecs)} GET/s, ${bad} wrong values`);
console.log(`RSS: at start ${startRss.toFixed(0)} MB, max while writing ${maxOf('write').toFixed(0)} MB, max while reading ${maxOf('read').toFixed(0)} MB, at end ${samples[samples.length - 1]?.rss.toFixed(0)} MB` +
  (usedMemory ? `; INFO used_memory at end ${(Number(usedMemory) / MB).toFixed(1)} MB` : ''));
if (infoMax.used_memory > 0) {
  console.log(`INFO memory maxima: used_memory (heap used + external) ${(infoMax.used_memory / MB).toFixed(0)} MB, ` +
    `allocator_allocated (heap total + external) ${(infoMax.allocator_allocated / MB).toFixed(0)} MB, ` +
    `used_memory_dataset (hot set) ${(infoMax.used_memory_dataset / MB).toFixed(1)} MB`);
}
const ok = maxRss <= limitMb && bad === 0;
console.log(`max RSS ${maxRss.toFixed(0)} MB vs limit maxmemory + 200 MB = ${limitMb} MB: ${ok ? 'OK' : 'FAIL'} (${samples.length} samples)`);

await srv.stop();
await stopPostgres();
process.exit(ok ? 0 : 1);
