/**
 * Client-side caching figures, Talus beside redis-server 7.0.15 (same machine,
 * same client):
 *
 * 1. What tracking costs a reader: one RESP3 client pipelining GET (depth
 *    --depth) over --keys distinct keys for --seconds, tracking off then on
 *    (every key read goes into the tracking table), after one warm-up run.
 *    Prints GETs per second and the server's CPU time per GET (/proc/<pid>/stat).
 * 2. Invalidation fan-out: --clients RESP3 tracking clients each read one key;
 *    another client SETs it; prints how long until every reader got its
 *    invalidation (median and worst of --rounds rounds).
 *
 *   node dist/bench/tracking.js [--seconds 3] [--depth 64] [--keys 10000]
 *                               [--clients 1000] [--rounds 20] [--appendfsync always]
 *
 * redis-server must be on PATH (started with --save '' --appendonly no on a
 * free port and stopped at the end).
 */
import fs from 'node:fs';
import net from 'node:net';
import { command, connect, option, startRedis } from './support.js';
import { startTalus, stopPostgres } from '../test/support/harness.js';

const seconds = Number(option('seconds', '3'));
const depth = Number(option('depth', '64'));
const keys = Number(option('keys', '10000'));
const clients = Number(option('clients', '1000'));
const rounds = Number(option('rounds', '20'));
const fsync = option('appendfsync', 'always');

/** Send `cmds` and resolve once `bytes` more bytes arrived. */
function exchange(s: net.Socket, cmds: Buffer, bytes: number): Promise<void> {
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
    s.write(cmds);
  });
}

function cpuSeconds(pid: number): number {
  const fields = fs.readFileSync(`/proc/${pid}/stat`, 'latin1').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** A RESP3 connection, tracking on or off; its setup replies consumed. */
async function resp3(port: number, track: boolean): Promise<net.Socket> {
  const s = await connect(port);
  await new Promise<void>((resolve) => {
    let buf = '';
    const on = (d: Buffer) => {
      buf += d.toString('latin1');
      if ((track ? /\+OK\r\n$/ : /modules\r\n\*0\r\n$/).test(buf)) {
        s.off('data', on);
        resolve();
      }
    };
    s.on('data', on);
    s.write(Buffer.concat([command('HELLO', '3'), ...(track ? [command('CLIENT', 'TRACKING', 'ON')] : [])]));
  });
  return s;
}

/** GETs per second and server CPU microseconds per GET for one pipelining client. */
async function reads(port: number, pid: number, track: boolean): Promise<string> {
  const s = await resp3(port, track);
  // values 'v' (7 bytes per reply: $1\r\nv\r\n), batches of `depth`
  let i = 0;
  let done = 0;
  const cpu0 = cpuSeconds(pid);
  const end = Date.now() + seconds * 1000;
  while (Date.now() < end) {
    const batch: Buffer[] = [];
    for (let j = 0; j < depth; j++) batch.push(command('GET', `bt:${i++ % keys}`));
    await exchange(s, Buffer.concat(batch), depth * 7);
    done += depth;
  }
  const cpu = cpuSeconds(pid) - cpu0;
  s.destroy();
  return `${Math.round(done / seconds).toLocaleString('en')} GET/s, ${((cpu * 1e6) / done).toFixed(2)} us CPU/GET`;
}

async function fanout(port: number): Promise<string> {
  const readers: net.Socket[] = [];
  for (let i = 0; i < clients; i++) readers.push(await resp3(port, true));
  const writer = await connect(port);
  const times: number[] = [];
  const INVALIDATION = '>2\r\n$10\r\ninvalidate\r\n*1\r\n$5\r\nbt:fk\r\n'.length;
  for (let r = 0; r < rounds; r++) {
    await Promise.all(readers.map((s) => exchange(s, command('GET', 'bt:fk'), 7)));
    const t0 = performance.now();
    const all = Promise.all(readers.map((s) => exchange(s, Buffer.alloc(0), INVALIDATION)));
    await exchange(writer, command('SET', 'bt:fk', 'v'), 5);
    await all;
    times.push(performance.now() - t0);
  }
  for (const s of [...readers, writer]) s.destroy();
  times.sort((a, b) => a - b);
  return `median ${times[times.length >> 1]!.toFixed(1)} ms, worst ${times[times.length - 1]!.toFixed(1)} ms`;
}

async function fill(port: number): Promise<void> {
  const s = await connect(port);
  for (let i = 0; i < keys; i += 1000) {
    const args: string[] = ['MSET'];
    for (let j = i; j < Math.min(keys, i + 1000); j++) args.push(`bt:${j}`, 'v');
    await exchange(s, command(...args), 5);
  }
  await exchange(s, command('SET', 'bt:fk', 'v'), 5);
  s.destroy();
}

const redis = await startRedis();
const talus = await startTalus(['--appendfsync', fsync, '--maxclients', '20000'], { embedded: true });
try {
  console.log(`GET over ${keys.toLocaleString('en')} keys, one RESP3 client, pipeline depth ${depth}, ${seconds} s each (appendfsync ${fsync}):`);
  for (const [name, port, pid] of [['redis-server 7.0.15', redis.port, redis.pid], ['Talus', talus.port, talus.proc.pid!]] as const) {
    await fill(port);
    await reads(port, pid, false); // warm-up (JIT, resident keys), not reported
    console.log(`  ${name.padEnd(20)} tracking off: ${await reads(port, pid, false)}; on: ${await reads(port, pid, true)}`);
  }
  console.log(`SET of a key ${clients.toLocaleString('en')} tracking clients read, until all got the invalidation (${rounds} rounds):`);
  console.log(`  redis-server 7.0.15:  ${await fanout(redis.port)}`);
  console.log(`  Talus:                ${await fanout(talus.port)}`);
} finally {
  await talus.stop();
  await redis.stop();
  await stopPostgres();
}
