import { expect } from 'chai';
import net from 'node:net';
import { startTalus, type TalusProcess } from './support/harness.js';
import { redisServerAvailable, startRedisServer, type RedisServer } from './support/redis-server.js';
import { encodeCommand, frameEnd } from './support/differential.js';

/** The raw reply frames to `commands`, over RESP3 when `resp3` (the HELLO reply left out). */
async function rawReplies(port: number, commands: string[][], resp3 = false): Promise<Buffer[]> {
  const sock = net.connect({ port, host: '127.0.0.1' });
  await new Promise<void>((resolve, reject) => {
    sock.once('connect', resolve);
    sock.once('error', reject);
  });
  const all = resp3 ? [['HELLO', '3'], ...commands] : commands;
  let buf = Buffer.alloc(0);
  const frames: Buffer[] = [];
  await new Promise<void>((resolve) => {
    sock.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      for (let end = frameEnd(buf, 0); end >= 0; end = frameEnd(buf, 0)) {
        frames.push(buf.subarray(0, end));
        buf = buf.subarray(end);
      }
      if (frames.length === all.length) resolve();
    });
    for (const c of all) sock.write(encodeCommand(c));
  });
  sock.destroy();
  return resp3 ? frames.slice(1) : frames;
}

const SHADES = ['\x1b[0;30;40m', '\x1b[0;90;100m', '\x1b[0;37;47m', '\x1b[0;97;107m', '\x1b[0m'];

/**
 * A LOLWUT drawing's shape: its frame type, its lines' lengths in characters
 * once the color codes are taken out, and the characters it uses with the
 * Braille patterns (random) left out.
 */
function shape(frame: Buffer): { type: string; widths: number[]; chars: string } {
  const text = frame.toString('utf8');
  const body = text.slice(text.indexOf('\r\n') + 2, -2);
  for (const code of body.match(/\x1b\[[0-9;]*m/g) ?? []) expect(SHADES).to.include(code);
  const plainText = body.replace(/\x1b\[[0-9;]*m/g, '');
  return {
    type: text[0]!,
    widths: plainText.split('\n').map((l) => [...l].length),
    chars: [...new Set(plainText.replace(/[\u2800-\u28ff]/g, ''))].sort().join(''),
  };
}

describe('LOLWUT', function () {
  this.timeout(90_000);
  let talus: TalusProcess;
  let redis: RedisServer | undefined;

  before(async function () {
    talus = await startTalus();
    if (redisServerAvailable()) redis = await startRedisServer();
  });
  after(async () => {
    await redis?.stop();
    await talus?.stop();
  });

  const exact = [
    ['LOLWUT'],
    ['lolwut', 'version'],
    ['lolwut', 'VERSION', '4'],
    ['lolwut', 'version', '7', 'x'],
    ['lolwut', 'foo', '5'],
    ['lolwut', '5'],
    ['lolwut', 'version', 'x'],
    ['lolwut', 'version', '05'],
    ['lolwut', 'version', '5', '1.5'],
    ['lolwut', 'version', '5', '1', '1', '+1'],
    ['lolwut', 'version', '5', '99999999999999999999'],
    ['lolwut', 'version', '6', '1', 'x'],
  ];

  it('answers the version line and the errors as redis-server, in RESP2 and RESP3', async function () {
    const ours2 = await rawReplies(talus.port, exact);
    const ours3 = await rawReplies(talus.port, exact, true);
    expect(ours2[0]!.toString()).to.equal('$18\r\nRedis ver. 7.0.15\n\r\n');
    expect(ours3[0]!.toString()).to.equal('=22\r\ntxt:Redis ver. 7.0.15\n\r\n');
    expect(ours2[6]!.toString()).to.equal('-ERR value is not an integer or out of range\r\n');
    if (!redis) this.skip();
    expect(ours2.map(String)).to.deep.equal((await rawReplies(redis!.port, exact)).map(String));
    expect(ours3.map(String)).to.deep.equal((await rawReplies(redis!.port, exact, true)).map(String));
  });

  it('is in the command table, so that COMMAND COUNT is redis-server\'s', async function () {
    const [ours] = await rawReplies(talus.port, [['COMMAND', 'COUNT']]);
    expect(ours!.toString()).to.equal(':240\r\n');
    if (!redis) this.skip();
    expect(ours!.toString()).to.equal((await rawReplies(redis!.port, [['COMMAND', 'COUNT']]))[0]!.toString());
  });

  // the art is random in both servers: what must match is its size, its characters and its caption
  const drawings = [
    ['5'],
    ['5', '1'],
    ['5', '-1'],
    ['5', '2', '2', '5'],
    ['5', '1', '8', '5'], // a canvas 1 pixel high: Redis omits the newline after a row starting at the last pixel row
    ['5', '7', '2', '5'],
    ['5', '10', '3', '3'],
    ['5', '20', '8', '12'],
    ['5', '11', '5', '12'],
    ['5', '1', '0'],
    ['5', '9223372036854775807', '1', '1'],
    ['5', '1000', '400', '1'],
    ['5', '40', '1', '20', 'extra'],
    ['6'],
    ['6', '0'],
    ['6', '1', '0'],
    ['6', '3', '2', 'x'],
    ['6', '2000', '3'],
    ['6', '5', '1001'],
  ];

  it('sizes VERSION 5 drawings as redis-server over a grid of columns and squares', async function () {
    if (!redis) this.skip();
    const cmds: string[][] = [];
    for (let cols = 1; cols <= 20; cols++) {
      for (const perRow of [1, 2, 3, 5, 8]) {
        for (const perCol of [1, 2, 5, 12]) cmds.push(['LOLWUT', 'VERSION', '5', String(cols), String(perRow), String(perCol)]);
      }
    }
    const ours = (await rawReplies(talus.port, cmds)).map((f) => shape(f).widths);
    const theirs = (await rawReplies(redis!.port, cmds)).map((f) => shape(f).widths);
    expect(ours).to.deep.equal(theirs);
  });

  for (const args of drawings) {
    it(`draws VERSION ${args.join(' ')} in redis-server's shape`, async function () {
      const cmd = ['LOLWUT', 'VERSION', ...args];
      const [ours2, ours3] = [(await rawReplies(talus.port, [cmd]))[0]!, (await rawReplies(talus.port, [cmd], true))[0]!];
      const caption = args[0] === '5' ? 'Georg Nees - schotter' : 'Dedicated to the 8 bit game developers';
      expect(ours2.toString()).to.include(caption).and.match(/Redis ver\. 7\.0\.15\n\r\n$/);
      if (!redis) this.skip();
      const [theirs2, theirs3] = [(await rawReplies(redis!.port, [cmd]))[0]!, (await rawReplies(redis!.port, [cmd], true))[0]!];
      expect(shape(ours2)).to.deep.equal(shape(theirs2));
      expect(shape(ours3)).to.deep.equal(shape(theirs3));
    });
  }
});
