import { expect } from 'chai';
import net from 'node:net';
import { once } from 'node:events';
import { onreadAvailable, readConnection } from '../../src/server/connection-reads.js';

/** A listener made as Talus makes its own (pauseOnConnect), handing each accepted socket to `readConnection`. */
async function serve(useOnread: boolean, onSocket: (socket: net.Socket, chunks: Buffer[], accepted: net.Socket) => void): Promise<{ server: net.Server; port: number }> {
  const server = net.createServer({ pauseOnConnect: true }, (accepted) => {
    const chunks: Buffer[] = [];
    const socket = readConnection(accepted, (chunk) => chunks.push(chunk), useOnread);
    onSocket(socket, chunks, accepted);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { server, port: (server.address() as net.AddressInfo).port };
}

async function until(cond: () => boolean, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('connection reads (server/connection-reads.ts)', () => {
  it('takes the onread path on the Node versions it names (else Node changed what it relies on)', async () => {
    expect(onreadAvailable).to.equal(true, `Node ${process.versions.node} is outside the versions checked`);
    let got: { socket: net.Socket; accepted: net.Socket } | undefined;
    const { server, port } = await serve(true, (socket, _chunks, accepted) => (got = { socket, accepted }));
    const client = net.connect(port, '127.0.0.1');
    try {
      await until(() => got !== undefined);
      expect(got!.socket).to.not.equal(got!.accepted);
      expect(got!.accepted.destroyed).to.equal(true);
      await until(() => !got!.socket.connecting);
      expect(got!.socket.remoteAddress).to.equal('127.0.0.1');
      expect(got!.socket.remotePort).to.equal(client.localPort);
    } finally {
      client.destroy();
      server.close();
    }
  });

  for (const useOnread of [true, false]) {
    describe(useOnread ? 'through onread' : 'through data events', () => {
      it('delivers each read as its own Buffer, answers through the socket, and ends with the peer', async () => {
        let socket: net.Socket | undefined;
        let chunks: Buffer[] = [];
        const events: string[] = [];
        const { server, port } = await serve(useOnread, (s, c) => {
          socket = s;
          chunks = c;
          s.on('end', () => events.push('end'));
          s.on('close', () => events.push('close'));
        });
        const client = net.connect(port, '127.0.0.1');
        try {
          const replies: Buffer[] = [];
          client.on('data', (d) => replies.push(d));
          client.write('first');
          await until(() => Buffer.concat(chunks).length === 5);
          const first = chunks[0]!;
          client.write('second');
          await until(() => Buffer.concat(chunks).length === 11);
          // an earlier chunk is not written over by a later read
          expect(first.toString()).to.equal('first');
          expect(Buffer.concat(chunks).toString()).to.equal('firstsecond');
          socket!.write('pong');
          await until(() => Buffer.concat(replies).toString() === 'pong');
          client.end();
          await until(() => events.includes('close'));
          expect(events).to.deep.equal(['end', 'close']);
        } finally {
          client.destroy();
          server.close();
        }
      });

      it('stops reading while paused and reads what waited once resumed', async () => {
        let socket: net.Socket | undefined;
        let chunks: Buffer[] = [];
        const { server, port } = await serve(useOnread, (s, c) => {
          socket = s;
          chunks = c;
        });
        const client = net.connect(port, '127.0.0.1');
        try {
          client.write('a');
          await until(() => chunks.length === 1);
          socket!.pause();
          client.write('b'.repeat(100_000));
          await new Promise((r) => setTimeout(r, 100));
          expect(Buffer.concat(chunks).length).to.equal(1);
          socket!.resume();
          await until(() => Buffer.concat(chunks).length === 100_001);
          expect(Buffer.concat(chunks).toString()).to.equal('a' + 'b'.repeat(100_000));
        } finally {
          client.destroy();
          server.close();
        }
      });
    });
  }
});
