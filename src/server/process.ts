/**
 * Process-level options: daemonize, pidfile, shutdown-on-sigterm/sigint.
 *
 * daemonize: Node cannot fork, so the first process starts a detached copy of
 * itself (same node flags, arguments and environment, with bin/talus's malloc preload,
 * plus DAEMONIZED_TALUS_CHILD)
 * with no terminal: its output goes to `logfile`, or nowhere. The first
 * process exits 0 once the copy accepts connections (the copy says so over an
 * IPC channel), or 1 if the copy exits first; so `talus --daemonize yes`
 * returning 0 means the server is up, as with redis-server.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { TalusConfig } from '../config/schema.js';
import { preloadVariables } from '../util/allocator.js';

// Not TALUS_*: those name options, and an unknown one is warned about.
const CHILD_MARK = 'DAEMONIZED_TALUS_CHILD';

/** Whether this process is the detached copy started by `startDaemon`. */
export function isDaemonChild(): boolean {
  return process.env[CHILD_MARK] === '1';
}

/** The pidfile to write, if any: `pidfile`, else `<dir>/talus.pid` when daemonized (Redis uses /var/run/redis.pid). */
export function pidfilePath(v: Pick<TalusConfig, 'pidfile' | 'daemonize' | 'dir'>): string | undefined {
  if (v.pidfile) return path.resolve(v.pidfile);
  return v.daemonize ? path.join(v.dir, 'talus.pid') : undefined;
}

/**
 * Start the detached copy and wait until it is ready (resolves 0) or gone
 * (resolves 1, with its exit code in the message written to stderr).
 */
export function startDaemon(logfile: string): Promise<number> {
  const out = logfile ? fs.openSync(logfile, 'a') : 'ignore';
  const child = spawn(process.execPath, [...process.execArgv, ...process.argv.slice(1)], {
    detached: true,
    stdio: ['ignore', out, out, 'ipc'],
    env: { ...process.env, ...preloadVariables(), [CHILD_MARK]: '1' },
  });
  if (typeof out === 'number') fs.closeSync(out);
  return new Promise((resolve) => {
    child.on('message', (m) => {
      if (m !== 'ready') return;
      child.disconnect();
      child.unref();
      resolve(0);
    });
    child.on('exit', (code, signal) => {
      process.stderr.write(`talus: the daemonized server exited during start-up (${signal ?? `code ${code}`})${logfile ? `; see ${logfile}` : ''}\n`);
      resolve(1);
    });
  });
}

/** In the detached copy: tell the waiting parent that connections are accepted, and drop the channel. */
export function reportDaemonReady(): void {
  if (process.send) process.send('ready', () => process.disconnect());
}

export function writePidfile(file: string): void {
  fs.writeFileSync(file, `${process.pid}\n`);
}

/** Remove the pidfile if it is still ours (another instance may have taken it over). */
export function removePidfile(file: string): void {
  try {
    if (fs.readFileSync(file, 'utf8').trim() === String(process.pid)) fs.rmSync(file);
  } catch {
    // already gone
  }
}

/**
 * Why a shutdown signal is not acted upon, or undefined to shut down.
 * Talus always tries to commit pending writes before exiting: under
 * appendfsync everysec/no they include acknowledged writes, so no flag skips
 * that commit. What the flags change is the case where PostgreSQL is
 * unreachable, as a failing final save does in Redis: `default` and `save`
 * keep the server running (nothing acknowledged is lost); `nosave` and
 * `force` exit anyway. `now` has nothing to skip (there are no replicas to
 * wait for).
 */
export function signalShutdownRefusal(signal: string, flags: readonly string[], storageHealthy: boolean): string | undefined {
  if (storageHealthy || flags.includes('nosave') || flags.includes('force')) return undefined;
  const option = signal === 'SIGINT' ? 'shutdown-on-sigint' : 'shutdown-on-sigterm';
  return `${signal} received but PostgreSQL is unreachable, so pending writes cannot be committed: not exiting (${option} is '${flags.join(' ')}'; set it to 'force' or 'nosave' to exit anyway)`;
}
