/**
 * Pub/sub figures, Talus beside redis-server 7.0.15 (same machine, same client):
 *
 * 1. Throughput: 50 subscribers on one channel, one publisher pipelining
 *    PUBLISH (depth --depth) for --seconds; prints messages delivered per
 *    second (summed over subscribers, counted from the bytes they read), the
 *    server's CPU time per message (/proc/<pid>/stat: steadier than wall time
 *    on a shared machine) and the Talus / Redis ratios. Measured --rounds
 *    times (default 5), Redis and Talus alternately, so each ratio compares
 *    runs a few seconds apart; prints medians and each round's ratio (one
 *    5-second run gave 0.21-0.79x on the shared development VM).
 * 2. Fan-out stall: --fanout subscribers (default 10,000) on one channel
 *    (their sockets paused after subscribing, so this process spends nothing
 *    reading them); a probe client sends PING after PING and records each
 *    round trip while a publisher sends --publishes PUBLISHes to that channel,
 *    one every 50 ms. Prints the probe's worst and p99 round trip with and
 *    without the publishes, and checks every subscriber got every message.
 *
 *   node dist/bench/pubsub.js [--seconds 5] [--rounds 5] [--depth 64] [--fanout 10000]
 *                             [--publishes 20] [--appendfsync always] [--no-fanout]
 *
 * redis-server must be on PATH (started with --save '' --appendonly no on a
 * free port and stopped at the end).
 */
import fs from 'node:fs';
import net from 'node:net';
import { command, connect, option, startRedis } from './support.js';
import { startTalus, stopPostgres } from '../test/support/harness.js';

const seconds = Number(option('seconds', '5'));
const rounds = Number(option('rounds', '5'));
const depth = Number(option('depth', '64'));
const fanout = Number(option('fanout', '10000'));
const publishes = Number(option('publishes', '20'));
const fsync = option('appendfsync', 'always');

/** Read from `s` until `bytes` more arrived. */
function readBytes(s: net.Socket, bytes: number): Promise<void> {
  return new Promise((resolve) => {
    let got = 0;
    const on = (d: Buffer) => {
      got += d.length;
      if (got >= bytes) {
        s.off('data', on);
        resolve();
      }
    };
    s.on('data', on);
  });
}

const CHANNEL = 'bench-channel';
const PAYLOAD = 'x'.repeat(32);
const MESSAGE_BYTES = command('message', CHANNEL, PAYLOAD).length;
const SUBSCRIBED_BYTES = Buffer.from(`*3\r\n$9\r\nsubscribe\r\n$${CHANNEL.length}\r\n${CHANNEL}\r\n:1\r\n`).length;

async function subscribers(port: number, n: number): Promise<net.Socket[]> {
  const out: net.Socket[] = [];
  for (let i = 0; i < n; i += 200) {
    const batch = await Promise.all(Array.from({ length: Math.min(200, n - i) }, async () => {
      const s = await connect(port);
      const ok = readBytes(s, SUBSCRIBED_BYTES);
      s.write(command('SUBSCRIBE', CHANNEL));
      await ok;
      return s;
    }));
    out.push(...batch);
  }
  return out;
}

/** CPU seconds (user + system) a process has used, from /proc/<pid>/stat. */
function cpuSeconds(pid: number): number {
  const fields = fs.readFileSync(`/proc/${pid}/stat`, 'latin1').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (USER_HZ 100)
}

interface Throughput {
  /** messages delivered per second of wall time */
  rate: number;
  /** server CPU microseconds per delivered message: less sensitive to a busy machine */
  cpuUsPerMessage: number;
}

/** Messages per second delivered to 50 subscribers while one client pipelines PUBLISH. */
async function throughput(port: number, pid: number): Promise<Throughput> {
  const subs = await subscribers(port, 50);
  let received = 0;
  for (const s of subs) s.on('data', (d: Buffer) => (received += d.length));
  const pub = await connect(port);
  const request = command('PUBLISH', CHANNEL, PAYLOAD);
  let inFlight = 0;
  let replyBytes = 0;
  let stop = false;
  const fill = () => {
    const chunks: Buffer[] = [];
    while (!stop && inFlight < depth) {
      chunks.push(request);
      inFlight++;
    }
    if (chunks.length > 0) pub.write(Buffer.concat(chunks));
  };
  // each reply is ":50\r\n" (5 bytes)
  pub.on('data', (d: Buffer) => {
    replyBytes += d.length;
    const done = Math.floor(replyBytes / 5);
    replyBytes -= done * 5;
    inFlight -= done;
    fill();
  });
  const started = performance.now();
  const startBytes = received;
  const startCpu = cpuSeconds(pid);
  fill();
  await new Promise((r) => setTimeout(r, seconds * 1000));
  stop = true;
  const delivered = (received - startBytes) / MESSAGE_BYTES;
  const rate = delivered / ((performance.now() - started) / 1000);
  const cpuUsPerMessage = ((cpuSeconds(pid) - startCpu) * 1e6) / delivered;
  for (const s of [...subs, pub]) s.destroy();
  return { rate, cpuUsPerMessage };
}

/** Probe PING round trips (ms) for `ms` while `during` runs. */
async function probe(port: number, ms: number, during: () => Promise<void>): Promise<number[]> {
  const s = await connect(port);
  const rtts: number[] = [];
  let running = true;
  const loop = (async () => {
    while (running) {
      const t = performance.now();
      const got = readBytes(s, 7); // +PONG\r\n
      s.write(command('PING'));
      await got;
      rtts.push(performance.now() - t);
    }
  })();
  const work = during();
  await new Promise((r) => setTimeout(r, ms));
  await work;
  running = false;
  await loop;
  s.destroy();
  return rtts.sort((a, b) => a - b);
}

function summary(rtts: number[]): string {
  const p = (q: number) => rtts[Math.min(rtts.length - 1, Math.floor(q * rtts.length))]!.toFixed(2);
  return `max ${rtts[rtts.length - 1]!.toFixed(2)} ms, p99 ${p(0.99)} ms, median ${p(0.5)} ms (${rtts.length} pings)`;
}

/** Stop reading a socket at the handle (pause() alone keeps reading up to the stream's high-water mark). */
function stopReading(s: net.Socket): void {
  s.pause();
  const handle = (s as unknown as { _handle?: { reading: boolean; readStop(): number } })._handle;
  if (handle) {
    handle.reading = false;
    handle.readStop();
  }
}

async function fanoutStall(port: number): Promise<string> {
  const subs = await subscribers(port, fanout);
  for (const s of subs) stopReading(s);
  const pub = await connect(port);
  const quiet = await probe(port, publishes * 50, async () => undefined);
  const loaded = await probe(port, publishes * 50, async () => {
    for (let i = 0; i < publishes; i++) {
      const reply = readBytes(pub, 3 + String(fanout).length);
      pub.write(command('PUBLISH', CHANNEL, PAYLOAD));
      await reply;
      await new Promise((r) => setTimeout(r, 50));
    }
  });
  // every subscriber got every message
  let complete = 0;
  await Promise.all(subs.map(async (s) => {
    const got = readBytes(s, publishes * MESSAGE_BYTES);
    const handle = (s as unknown as { _handle?: { reading: boolean; readStart(): number } })._handle;
    if (handle) {
      handle.reading = true;
      handle.readStart();
    }
    s.resume();
    await Promise.race([got, new Promise((r) => setTimeout(r, 20_000))]);
    if (s.bytesRead >= SUBSCRIBED_BYTES + publishes * MESSAGE_BYTES) complete++;
  }));
  for (const s of [...subs, pub]) s.destroy();
  return `quiet:   ${summary(quiet)}\n  publish: ${summary(loaded)}\n  subscribers with all ${publishes} messages: ${complete}/${fanout}`;
}

const redis = await startRedis();
const talus = await startTalus(['--appendfsync', fsync, '--maxclients', '20000'], { embedded: true });
try {
  const rs: Throughput[] = [];
  const ts: Throughput[] = [];
  for (let i = 0; i < rounds; i++) {
    rs.push(await throughput(redis.port, redis.pid));
    ts.push(await throughput(talus.port, talus.proc.pid!));
  }
  const median = (xs: number[]) => {
    const s = [...xs].sort((a, b) => a - b);
    return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
  };
  const r: Throughput = { rate: median(rs.map((x) => x.rate)), cpuUsPerMessage: median(rs.map((x) => x.cpuUsPerMessage)) };
  const t: Throughput = { rate: median(ts.map((x) => x.rate)), cpuUsPerMessage: median(ts.map((x) => x.cpuUsPerMessage)) };
  const perRound = ts.map((x, i) => (x.rate / rs[i]!.rate).toFixed(2)).join(' ');
  const line = (x: Throughput) => `${Math.round(x.rate).toLocaleString('en')} messages delivered/s, ${x.cpuUsPerMessage.toFixed(2)} us server CPU per message`;
  console.log(`PUBLISH to 50 subscribers, pipeline depth ${depth}, ${seconds} s x ${rounds} rounds, ${PAYLOAD.length}-byte payload (appendfsync ${fsync}); medians:`);
  console.log(`  redis-server 7.0.15: ${line(r)}`);
  console.log(`  Talus:               ${line(t)}`);
  console.log(`  ratio Talus/Redis:   ${(t.rate / r.rate).toFixed(2)}x messages/s, ${(r.cpuUsPerMessage / t.cpuUsPerMessage).toFixed(2)}x messages per CPU second`);
  console.log(`  each round's messages/s ratio: ${perRound}`);
  if (!process.argv.includes('--no-fanout')) {
    console.log(`PUBLISH to ${fanout.toLocaleString('en')} subscribers, ${publishes} publishes 50 ms apart; probe client PING round trips:`);
    console.log(`  redis-server ${await fanoutStall(redis.port)}`);
    console.log(`  Talus ${await fanoutStall(talus.port)}`);
  }
} finally {
  await talus.stop();
  await redis.stop();
  await stopPostgres();
}
