import { expect } from 'chai';
import net from 'node:net';
import os from 'node:os';
import { startTalus, type TalusProcess } from './support/harness.js';
import { redisServerAvailable, startRedisServer } from './support/redis-server.js';
import { isLoopbackPeer, PROTECTED_MODE_DENIED, refusedByProtectedMode } from '../src/server/protected-mode.js';

/**
 * Connect from `localAddress`, send PING, and collect what the server says
 * until it closes the connection or answers the PING.
 */
function pingFrom(host: string, port: number, localAddress: string): Promise<{ text: string; closed: boolean }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port, localAddress });
    let text = '';
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ text, closed: false });
    }, 5000);
    socket.on('connect', () => socket.write('PING\r\n'));
    socket.on('data', (d) => {
      text += d.toString('latin1');
      if (text.startsWith('+PONG\r\n') || text.startsWith('-NOAUTH')) {
        clearTimeout(timer);
        socket.destroy();
        resolve({ text, closed: false });
      }
    });
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({ text, closed: true });
    });
    socket.on('error', (err) => {
      clearTimeout(timer);
      if (text) resolve({ text, closed: true });
      else reject(err);
    });
  });
}

/** A non-loopback IPv4 address of this machine, if it has one. */
function machineAddress(): string | undefined {
  for (const list of Object.values(os.networkInterfaces())) {
    for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  }
  return undefined;
}

describe('protected-mode', function () {
  this.timeout(90_000);

  it('counts only 127.0.0.1, ::1 and the Unix socket as local, as Redis 7.0 does', () => {
    for (const a of ['127.0.0.1', '::1', '::ffff:127.0.0.1', undefined]) expect(isLoopbackPeer(a), String(a)).to.equal(true);
    for (const a of ['127.0.0.2', '10.0.0.1', '::ffff:10.0.0.1', 'fd00::2', '192.0.2.2']) expect(isLoopbackPeer(a), a).to.equal(false);
    expect(refusedByProtectedMode({ protectedMode: true, requirepass: '' }, '10.0.0.1')).to.equal(true);
    expect(refusedByProtectedMode({ protectedMode: true, requirepass: 'pw' }, '10.0.0.1')).to.equal(false);
    expect(refusedByProtectedMode({ protectedMode: false, requirepass: '' }, '10.0.0.1')).to.equal(false);
    expect(refusedByProtectedMode({ protectedMode: true, requirepass: '' }, '127.0.0.1')).to.equal(false);
  });

  describe('a Talus at the defaults (protected-mode yes, no password)', () => {
    let srv: TalusProcess;
    const address = machineAddress();
    before(async () => {
      // 127.0.0.1 for the harness's client, and the machine's own address if it has one.
      srv = await startTalus(['--bind', '127.0.0.1', ...(address ? [address] : [])]);
    });
    after(async () => srv?.stop());

    it('refuses a client from 127.0.0.2 with the DENIED error and closes; 127.0.0.1 is served', async () => {
      const denied = await pingFrom('127.0.0.1', srv.port, '127.0.0.2');
      expect(denied).to.deep.equal({ text: PROTECTED_MODE_DENIED, closed: true });
      expect((await pingFrom('127.0.0.1', srv.port, '127.0.0.1')).text).to.equal('+PONG\r\n');
      const info = await srv.client().info('stats');
      expect(Number(/rejected_connections:(\d+)/.exec(info)![1])).to.be.at.least(1);
    });

    it("refuses a client on the machine's non-loopback address", async function () {
      // Traffic to the machine's own address stays on the machine.
      if (!address) this.skip();
      expect(await pingFrom(address!, srv.port, address!)).to.deep.equal({ text: PROTECTED_MODE_DENIED, closed: true });
    });

    it('serves such clients once a password is set, or protected-mode is turned off', async () => {
      const r = srv.client();
      await r.config('SET', 'requirepass', 'secret');
      try {
        expect((await pingFrom('127.0.0.1', srv.port, '127.0.0.2')).text).to.match(/^-NOAUTH/);
      } finally {
        await r.config('SET', 'requirepass', '');
      }
      await r.config('SET', 'protected-mode', 'no');
      try {
        expect((await pingFrom('127.0.0.1', srv.port, '127.0.0.2')).text).to.equal('+PONG\r\n');
      } finally {
        await r.config('SET', 'protected-mode', 'yes');
      }
    });
  });

  it('sends the same bytes as redis-server 7.0', async function () {
    if (!redisServerAvailable()) this.skip();
    const redis = await startRedisServer(['--protected-mode', 'yes']);
    try {
      expect(await pingFrom('127.0.0.1', redis.port, '127.0.0.2')).to.deep.equal({ text: PROTECTED_MODE_DENIED, closed: true });
    } finally {
      await redis.stop();
    }
  });
});
