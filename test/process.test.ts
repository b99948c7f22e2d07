import { expect } from 'chai';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { Redis } from 'ioredis';
import { freshDatabase, ROOT, startTalus, tempDir } from './support/harness.js';
import { freePort } from './support/redis-server.js';
import { signalShutdownRefusal } from '../src/server/process.js';

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** Whether bin/talus finds jemalloc on this machine (Debian's libjemalloc2). */
const hasJemalloc = () => ['/usr/lib/x86_64-linux-gnu/libjemalloc.so.2', '/usr/lib/aarch64-linux-gnu/libjemalloc.so.2'].some((f) => fs.existsSync(f));

/** Wait until the process is gone (polling: it is not our child). */
async function gone(pid: number): Promise<void> {
  while (alive(pid)) await new Promise((r) => setTimeout(r, 100));
}

describe('process options: pidfile, daemonize, shutdown-on-sigterm', function () {
  this.timeout(120_000);

  it('pidfile without daemonize: written at start-up, removed at shutdown', async () => {
    const file = path.join(tempDir('pid'), 'talus.pid');
    const srv = await startTalus(['--pidfile', file]);
    try {
      // bin/talus execs node, so the spawned pid is the server's
      expect(fs.readFileSync(file, 'utf8')).to.equal(`${srv.proc.pid}\n`);
    } finally {
      await srv.stop();
    }
    expect(srv.proc.exitCode).to.equal(0);
    expect(fs.existsSync(file)).to.equal(false);
  });

  it('daemonize yes: returns 0 once the detached server accepts connections; pidfile <dir>/talus.pid; SIGTERM stops it and removes the pidfile', async () => {
    const dir = tempDir('daemon');
    const port = await freePort();
    const logfile = path.join(dir, 'talus.log');
    const args = ['--daemonize', 'yes', '--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--logfile', logfile, '--database-url', await freshDatabase()];
    const launcher = spawn(path.join(ROOT, 'bin/talus'), args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NODE: process.execPath } });
    let out = '';
    launcher.stdout!.on('data', (d) => (out += d));
    launcher.stderr!.on('data', (d) => (out += d));
    const code = await new Promise<number | null>((resolve) => launcher.on('exit', (c) => resolve(c)));
    expect(code, out).to.equal(0);
    expect(out).to.equal(''); // the server's output goes to its logfile
    const pidfile = path.join(dir, 'talus.pid');
    const pid = Number(fs.readFileSync(pidfile, 'utf8'));
    expect(pid).to.not.equal(launcher.pid);
    expect(alive(pid)).to.equal(true);
    const r = new Redis({ port, host: '127.0.0.1', maxRetriesPerRequest: 1 });
    try {
      // ready means ready: no retry needed
      expect(await r.set('k', 'v')).to.equal('OK');
      expect(await r.get('k')).to.equal('v');
      // the detached copy runs on the malloc the launcher preloaded
      expect(/mem_allocator:(\w+)/.exec(String(await r.info('memory')))?.[1]).to.equal(hasJemalloc() ? 'jemalloc' : 'libc');
    } finally {
      r.disconnect();
    }
    process.kill(pid, 'SIGTERM');
    await gone(pid);
    expect(fs.existsSync(pidfile)).to.equal(false);
    expect(fs.readFileSync(logfile, 'utf8')).to.include('Ready to accept connections');
  });

  it('daemonize yes: exits 1 when the server cannot start', async () => {
    const dir = tempDir('daemon-bad');
    const busy = await startTalus([]);
    try {
      const args = ['--daemonize', 'yes', '--port', String(busy.port), '--bind', '127.0.0.1', '--dir', dir, '--database-url', await freshDatabase()];
      const launcher = spawn(path.join(ROOT, 'bin/talus'), args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NODE: process.execPath } });
      let err = '';
      launcher.stderr!.on('data', (d) => (err += d));
      const code = await new Promise<number | null>((resolve) => launcher.on('exit', (c) => resolve(c)));
      expect(code).to.equal(1);
      expect(err).to.include('exited during start-up');
    } finally {
      await busy.stop();
    }
  });

  it('SIGTERM and SIGINT exit only when pending writes can be committed, unless nosave or force', () => {
    expect(signalShutdownRefusal('SIGTERM', ['default'], true)).to.equal(undefined);
    expect(signalShutdownRefusal('SIGTERM', ['default'], false)).to.include("shutdown-on-sigterm is 'default'");
    expect(signalShutdownRefusal('SIGINT', ['save'], false)).to.include('shutdown-on-sigint');
    expect(signalShutdownRefusal('SIGTERM', ['nosave'], false)).to.equal(undefined);
    expect(signalShutdownRefusal('SIGTERM', ['save', 'force'], false)).to.equal(undefined);
    expect(signalShutdownRefusal('SIGTERM', ['now'], false)).to.not.equal(undefined);
  });

  it('SIGINT with shutdown-on-sigint set commits and exits 0', async () => {
    const srv = await startTalus(['--shutdown-on-sigint', 'nosave now', '--appendfsync', 'everysec']);
    const r = srv.client();
    await r.set('a', '1');
    r.disconnect();
    srv.proc.kill('SIGINT');
    await new Promise((resolve) => srv.proc.on('exit', resolve));
    expect(srv.proc.exitCode).to.equal(0);
    expect(srv.output()).to.include('Received SIGINT');
  });

  it('runs on jemalloc when the system has it, TALUS_MALLOC=glibc on glibc; PostgreSQL does not inherit the preload', async () => {
    const dir = tempDir('malloc');
    const srv = await startTalus([], { embedded: true, dir });
    try {
      const r = srv.client();
      const info = String(await r.info('memory'));
      expect(/mem_allocator:(\w+)/.exec(info)?.[1]).to.equal(hasJemalloc() ? 'jemalloc' : 'libc');
      const pid = Number(/process_id:(\d+)/.exec(String(await r.info('server')))![1]);
      expect(fs.readFileSync(`/proc/${pid}/maps`, 'utf8').includes('libjemalloc')).to.equal(hasJemalloc());
      const postmaster = Number(fs.readFileSync(path.join(dir, 'pg', 'postmaster.pid'), 'utf8').split('\n')[0]);
      expect(fs.readFileSync(`/proc/${postmaster}/maps`, 'utf8')).not.to.include('libjemalloc');
      r.disconnect();
      expect(srv.output()).not.to.include('Ignoring unknown environment variable');
    } finally {
      await srv.stop();
    }
    const plain = await startTalus([], { env: { TALUS_MALLOC: 'glibc' } });
    try {
      const r = plain.client();
      expect(/mem_allocator:(\w+)/.exec(String(await r.info('memory')))?.[1]).to.equal('libc');
      r.disconnect();
      expect(plain.output()).not.to.include('Ignoring unknown environment variable');
    } finally {
      await plain.stop();
    }
  });
});
