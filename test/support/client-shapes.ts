import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import { Redis } from 'ioredis';

/**
 * Client shapes that test Talus's memory bound (maxmemory + 200 MB of RSS
 * whatever clients do), shared by bench/rss-shapes.ts and test/memory.test.ts.
 * Each drives a running Talus on `port` and checks what it got back.
 */

/** Deterministic value of key `i`: `size` bytes. */
export function shapeValue(i: number, size: number): Buffer {
  const b = Buffer.alloc(size, 97 + (i % 26));
  b.write(`v${i}:`, 0, 'latin1');
  return b;
}

/** A request in RESP multibulk form. */
export function resp(...args: Array<string | Buffer>): Buffer {
  const parts: Buffer[] = [Buffer.from(`*${args.length}\r\n`)];
  for (const a of args) {
    const b = typeof a === 'string' ? Buffer.from(a) : a;
    parts.push(Buffer.from(`$${b.length}\r\n`), b, Buffer.from('\r\n'));
  }
  return Buffer.concat(parts);
}

/**
 * Shape 1: the real `redis-cli --pipe` (mass insertion) fed `count` SETs of
 * `size`-byte values, keys `${prefix}${i}`. Resolves once redis-cli reports
 * every reply; rejects if it reports errors or exits non-zero.
 */
export async function redisCliPipe(port: number, prefix: string, count: number, size: number): Promise<void> {
  const cli = spawn('redis-cli', ['-h', '127.0.0.1', '-p', String(port), '--pipe'], { stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  cli.stdout.on('data', (d: Buffer) => (out += d.toString()));
  cli.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number>((resolve) => cli.on('exit', (code) => resolve(code ?? -1)));
  cli.stdin.on('error', () => undefined); // redis-cli exiting early shows in its exit code
  for (let i = 0; i < count && cli.exitCode === null; i++) {
    if (!cli.stdin.write(resp('SET', `${prefix}${i}`, shapeValue(i, size)))) {
      await Promise.race([new Promise((resolve) => cli.stdin.once('drain', resolve)), exited]);
    }
  }
  cli.stdin.end();
  const code = await exited;
  const m = /errors:\s*(\d+),\s*replies:\s*(\d+)/.exec(out);
  if (code !== 0 || !m || Number(m[1]) !== 0 || Number(m[2]) !== count) {
    throw new Error(`redis-cli --pipe exited ${code}: ${out.trim()}`);
  }
}

/**
 * Shape 2: `clients` connections at once, each sending its whole share of
 * MSETs (`valuesPerMset` values of `size` bytes each) as one pipeline.
 * Keys `${prefix}${i}` for i < total values.
 */
export async function pipelinedMsets(
  port: number,
  prefix: string,
  opts: { clients: number; msetsPerClient: number; valuesPerMset: number; size: number },
): Promise<void> {
  const { clients, msetsPerClient, valuesPerMset, size } = opts;
  await Promise.all(
    Array.from({ length: clients }, async (_, c) => {
      const r = new Redis({ port, host: '127.0.0.1', maxRetriesPerRequest: 0, enableOfflineQueue: true });
      try {
        const p = r.pipeline();
        for (let m = 0; m < msetsPerClient; m++) {
          const args: Array<string | Buffer> = [];
          for (let v = 0; v < valuesPerMset; v++) {
            const i = (c * msetsPerClient + m) * valuesPerMset + v;
            args.push(`${prefix}${i}`, shapeValue(i, size));
          }
          p.mset(...(args as [string, Buffer]));
        }
        for (const [err] of (await p.exec())!) if (err) throw err;
      } finally {
        r.disconnect();
      }
    }),
  );
}

/**
 * Shape 3: GETs of keys `${prefix}${i}`, i < count (cold after a restart),
 * in pipelines of `pipeline`, over `clients` connections; every value is
 * checked against shapeValue. Returns how many were wrong.
 */
export async function pipelinedGets(
  port: number,
  prefix: string,
  opts: { count: number; size: number; clients: number; pipeline: number },
): Promise<number> {
  const { count, size, clients, pipeline } = opts;
  let next = 0;
  let wrong = 0;
  await Promise.all(
    Array.from({ length: clients }, async () => {
      const r = new Redis({ port, host: '127.0.0.1', maxRetriesPerRequest: 0 });
      try {
        while (next < count) {
          const start = next;
          const end = Math.min(count, start + pipeline);
          next = end;
          const p = r.pipeline();
          for (let i = start; i < end; i++) p.getBuffer(`${prefix}${i}`);
          const res = (await p.exec())!;
          for (let i = start; i < end; i++) {
            const [err, v] = res[i - start]!;
            if (err || !(v as Buffer | null)?.equals(shapeValue(i, size))) wrong++;
          }
        }
      } finally {
        r.disconnect();
      }
    }),
  );
  return wrong;
}

/**
 * Shape 4: one raw connection sends `count` GETs of `key` at once and does
 * not read for `stallMs`, then reads at most `bytesPerSecond`. Resolves with
 * the bytes received once the connection ends (the server closed it) or all
 * the replies came (`replyBytes`), whichever is first.
 */
export async function slowReader(
  port: number,
  key: string,
  opts: { count: number; replyBytes: number; stallMs: number; bytesPerSecond: number },
): Promise<{ received: number; closedByServer: boolean }> {
  const socket = net.connect({ port, host: '127.0.0.1' });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  socket.on('error', () => undefined);
  socket.pause();
  const request = resp('GET', key);
  const batch = Buffer.concat(Array.from({ length: 1000 }, () => request));
  for (let sent = 0; sent < opts.count; sent += 1000) {
    const n = Math.min(1000, opts.count - sent);
    if (!socket.write(n === 1000 ? batch : batch.subarray(0, n * request.length))) {
      // The server stops reading while our replies pile up: go on once the kernel takes more.
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, 200);
        socket.once('drain', () => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }
  await new Promise((r) => setTimeout(r, opts.stallMs));
  let received = 0;
  let closedByServer = false;
  await new Promise<void>((resolve) => {
    const started = Date.now();
    const done = () => {
      clearInterval(pacer);
      resolve();
    };
    // Read in steps: resume until the allowance for the elapsed time is used, then pause.
    const pacer = setInterval(() => {
      const allowed = ((Date.now() - started) / 1000) * opts.bytesPerSecond;
      if (received < allowed) socket.resume();
    }, 20);
    socket.on('data', (d: Buffer) => {
      received += d.length;
      if (received >= opts.replyBytes) {
        socket.destroy();
        done();
        return;
      }
      const allowed = ((Date.now() - started) / 1000) * opts.bytesPerSecond;
      if (received >= allowed) socket.pause();
    });
    socket.once('close', () => {
      closedByServer = received < opts.replyBytes;
      done();
    });
  });
  socket.destroy();
  return { received, closedByServer };
}

/** Samples a process's RSS (VmRSS) every `everyMs`; `stop` returns the peak in MB. */
export function rssSampler(pid: number, everyMs = 50): { stop(): number; peak(): number } {
  let peak = 0;
  const sample = () => {
    try {
      const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
      if (m) peak = Math.max(peak, Number(m[1]) / 1024);
    } catch {
      /* the process is gone */
    }
  };
  sample();
  const timer = setInterval(sample, everyMs);
  return {
    peak: () => peak,
    stop() {
      clearInterval(timer);
      sample();
      return peak;
    },
  };
}

/**
 * The kernel's peak RSS of a process (VmHWM) in MB since the last reset: it
 * catches peaks between samples. `resetPeak` starts a new window (writing 5
 * to clear_refs; false where that is not allowed).
 */
export function peakRssMb(pid: number): number {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : 0;
  } catch {
    return 0;
  }
}

export function resetPeak(pid: number): boolean {
  try {
    fs.writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}
