import { expect } from 'chai';
import type { Redis } from 'ioredis';
import { restartable, talusInfo } from './support/harness.js';
import { Raw, type RespValue } from './support/raw.js';

/**
 * Pipelines on cold keys (keys in PostgreSQL, not in the hot set): while one
 * request waits for its key, the client's later requests are parsed ahead and
 * their keys read in batches (server/client.ts lookAhead). Replies must stay
 * in request order and mean what they would without the look-ahead.
 */
const N = 600;

describe('cold keys in pipelines', function () {
  this.timeout(120_000);
  const talus = restartable([]);
  let r: Redis;
  const restart = async () => void (r = await talus.restart());

  before(async () => {
    await restart();
    const p = r.pipeline();
    for (let i = 0; i < N; i++) p.set(`s:${i}`, `v${i}`);
    p.select(1);
    for (let i = 0; i < 10; i++) p.set(`s:${i}`, `db1-${i}`);
    p.select(0);
    p.hset('h', 'f', '1');
    for (const [err] of (await p.exec())!) expect(err).to.equal(null);
  });

  after(async () => {
    await talus.stop();
  });

  it('reads the keys of a pipeline in a few batches, not one round trip per command', async () => {
    await restart();
    const before = (await talusInfo(r)).key_read_queries!;
    const p = r.pipeline();
    for (let i = 0; i < N; i++) p.get(`s:${i}`);
    // keys that do not exist are read too (and remembered as absent)
    for (let i = 0; i < N; i++) p.set(`new:${i}`, `n${i}`);
    const replies = (await p.exec())!;
    for (let i = 0; i < N; i++) expect(replies[i]).to.deep.equal([null, `v${i}`]);
    for (let i = 0; i < N; i++) expect(replies[N + i]).to.deep.equal([null, 'OK']);
    const queries = (await talusInfo(r)).key_read_queries! - before;
    // one per command would be 1200; batches of up to 250 from 256 parsed ahead
    expect(queries, 'key read queries').to.be.at.most(20);
    expect(await r.get('new:599')).to.equal('n599');
  });

  it('keeps replies in order across SELECT, MULTI, errors and writes to the keys it prefetched', async () => {
    await restart();
    const c = await Raw.open(talus.port);
    const cmds: string[][] = [
      ['GET', 's:1'],
      ['SET', 's:2', 'changed'],
      ['GET', 's:2'],
      ['SELECT', '1'],
      ['GET', 's:1'], // db 1 now: prefetch stopped at SELECT, the command still reads db 1
      ['GET', 's:2'],
      ['MULTI'],
      ['INCR', 's:3'], // a string that is not an integer: EXEC reports it
      ['GET', 's:4'],
      ['EXEC'],
      ['SELECT', '0'],
      ['HGET', 'h', 'f'],
      ['GET', 'h'],
      ['NOSUCHCOMMAND', 'x'],
      ['GET', 's:2'],
      ['DEL', 's:5', 'nokey'],
      ['GET', 's:5'],
    ];
    c.write(cmds.map((a) => `*${a.length}\r\n` + a.map((x) => `$${Buffer.byteLength(x)}\r\n${x}\r\n`).join('')).join(''));
    const got = await c.replies(cmds.length);
    const norm = (v: RespValue): unknown => (v instanceof Error ? `ERR:${v.message.split(' ')[0]}` : Array.isArray(v) ? v.map(norm) : v);
    expect(got.map(norm)).to.deep.equal([
      'v1',
      'OK',
      'changed',
      'OK',
      'db1-1',
      'db1-2',
      'OK',
      'QUEUED',
      'QUEUED',
      ['ERR:ERR', 'db1-4'],
      'OK',
      '1',
      'ERR:WRONGTYPE',
      'ERR:ERR',
      'changed',
      1,
      null,
    ]);
    c.sock.destroy();
  });

  it('keeps the requests after a script that waits (KEYS reading PostgreSQL, an undeclared cold key) behind its reply', async () => {
    for (const script of ["return table.concat(redis.call('KEYS', 's:59*'), ',')", "return redis.call('GET', 's:598')"]) {
      await restart();
      const c = await Raw.open(talus.port);
      // the script's declared key is cold too: EVAL waits for it first, then the script waits again
      c.send('EVAL', script, '1', 's:1');
      c.send('MSET', 's:3', 'x', 'new:1', 'y');
      c.send('PING', 'a');
      c.send('GET', 's:3');
      const got = await c.replies(4);
      expect(got[1], script).to.equal('OK');
      expect(got.slice(2), script).to.deep.equal(['a', 'x']);
      c.close();
    }
  });

  it('answers the requests before a protocol error, then closes the connection', async () => {
    await restart();
    const c = await Raw.open(talus.port);
    c.write('*2\r\n$3\r\nGET\r\n$4\r\ns:10\r\n*2\r\n$3\r\nGET\r\n$4\r\ns:11\r\n*1\r\n$abc\r\n*2\r\n$3\r\nGET\r\n$4\r\ns:12\r\n');
    const got = await c.replies(3);
    expect(got.slice(0, 2)).to.deep.equal(['v10', 'v11']);
    expect(got[2]).to.be.instanceOf(Error);
    expect((got[2] as Error).message).to.match(/^ERR Protocol error/);
    await new Promise((res) => setTimeout(res, 200));
    expect(c.closed).to.equal(true);
    expect(c.unread()).to.equal('');
  });
});
