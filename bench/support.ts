import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';

/** The value after `--name` on the command line, or `def`. */
export function option(name: string, def: string): string {
  const argv = process.argv.slice(2);
  const i = argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < argv.length ? argv[i + 1]! : def;
}

/** A process's resident set size in MB (/proc/<pid>/status VmRSS), 0 once it is gone. */
export function rssMb(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : 0;
  } catch {
    return 0;
  }
}

/** A request as RESP bytes (ASCII arguments), for benches that write raw sockets. */
export function command(...args: string[]): Buffer {
  let s = `*${args.length}\r\n`;
  for (const a of args) s += `$${Buffer.byteLength(a)}\r\n${a}\r\n`;
  return Buffer.from(s);
}

/** A raw TCP connection to a local server, Nagle off. */
export function connect(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ port, host: '127.0.0.1' }, () => resolve(s));
    s.setNoDelay(true);
    s.once('error', reject);
  });
}

/**
 * A redis-server 7.0.15 to measure beside Talus: on `port` (default a random
 * one), no persistence, `--maxclients 20000` (fan-out benches); resolves once
 * it accepts connections.
 */
export async function startRedis(port = 30000 + Math.floor(Math.random() * 9000)): Promise<{ port: number; pid: number; stop: () => Promise<void> }> {
  const proc = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--maxclients', '20000'], { stdio: 'ignore' });
  for (let i = 0; i < 100; i++) {
    try {
      (await connect(port)).destroy();
      break;
    } catch {
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  return { port, pid: proc.pid!, stop: () => new Promise((r) => { proc.once('exit', () => r()); proc.kill('SIGTERM'); }) };
}
