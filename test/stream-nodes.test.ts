import { expect } from 'chai';
import { Redis } from 'ioredis';
import { startTalus, type TalusProcess } from './support/harness.js';
import { redisServerAvailable, startRedisServer, type RedisServer } from './support/redis-server.js';

/**
 * Approximate trimming (MAXLEN ~, MINID ~) removes whole nodes of Redis's
 * stream layout (listpacks bounded by stream-node-max-entries and
 * stream-node-max-bytes), so what it removes depends on where each node
 * ends. Talus mirrors the layout; these sequences run on a real
 * redis-server and on Talus, and every reply and the node count (XINFO
 * STREAM's radix-tree-keys) must be the same.
 */

type Cmd = Array<string | number>;

/** A stream command's reply as text, and the key's node count after it. */
async function step(c: Redis, key: string, cmd: Cmd): Promise<string> {
  const reply = await c.call(String(cmd[0]), ...cmd.slice(1)).then(
    (v) => JSON.stringify(v),
    (e: Error) => `error: ${e.message}`,
  );
  const info = (await c.call('XINFO', 'STREAM', key).catch(() => null)) as unknown[] | null;
  const nodes = info === null ? 'none' : `${info[info.indexOf('length') + 1]} in ${info[info.indexOf('radix-tree-keys') + 1]} nodes`;
  return `${reply} (${nodes})`;
}

describe('stream node layout and approximate trimming, beside redis-server', function () {
  this.timeout(300_000);
  let redis: RedisServer | undefined;
  let srv: TalusProcess | undefined;
  let r: Redis;
  let t: Redis;

  before(async function () {
    if (!redisServerAvailable()) return this.skip();
    [redis, srv] = await Promise.all([startRedisServer(), startTalus(['--appendfsync', 'everysec'])]);
    r = new Redis({ port: redis.port, host: '127.0.0.1' });
    t = srv.client();
  });
  after(async () => {
    r?.disconnect();
    await Promise.all([redis?.stop(), srv?.stop()]);
  });

  /** Node limits on both servers. */
  async function limits(entries: number, bytes: number): Promise<void> {
    for (const c of [r, t]) await c.config('SET', 'stream-node-max-entries', String(entries), 'stream-node-max-bytes', String(bytes));
  }

  /** Run `cmds` on `key` on both servers (on a fresh key unless `fresh` is false): the same replies and node counts, command by command. */
  async function same(key: string, cmds: Cmd[], fresh = true): Promise<string[]> {
    if (fresh) await Promise.all([r.del(key), t.del(key)]);
    const lines: string[] = [];
    for (const cmd of cmds) {
      const [a, b] = [await step(r, key, cmd), await step(t, key, cmd)];
      const shown = cmd.map((x) => (String(x).length > 40 ? `<${String(x).length} bytes>` : x)).join(' ');
      lines.push(`${shown}: ${a}`);
      expect(b, `${shown} (talus; redis ${a})\n${lines.join('\n')}`).to.equal(a);
    }
    return lines;
  }

  it('counts a node\'s bytes as its listpack takes them (change-log replay seed 1201656647)', async () => {
    await limits(100, 4096);
    // 2973 listpack bytes: the next entry fits the 4096 (Talus counted 5932 and started a node, so MINID ~ removed the first)
    const lines = await same('xs', [
      ['XADD', 'xs', '10-2', 'm', 'v'.repeat(2942)],
      ['XADD', 'xs', 'MINID', '~', '72-1', '72-2', 'm"', 'x'.repeat(15)],
      ['XTRIM', 'xs', 'MAXLEN', '=', 0],
    ]);
    expect(lines[1]).to.match(/ \(2 in 1 nodes\)$/);
    expect(lines[2]).to.match(/^.*: 2 /);
  });

  it('keeps a node whose live entries an exact trim deleted, and fills it on', async () => {
    await limits(4, 4096);
    const lines = await same('h', [
      ['XADD', 'h', '1-0', 'f', 'a'],
      ['XADD', 'h', '2-0', 'f', 'b'],
      ['XADD', 'h', '3-0', 'f', 'c'],
      ['XDEL', 'h', '3-0'],
      // the node's last entry is deleted, so MINID = 3-0 deletes the other two in it and leaves it empty
      ['XTRIM', 'h', 'MINID', '=', '3-0'],
      // the empty node takes a fourth entry (4 counted with the deleted ones), the fifth starts a node
      ['XADD', 'h', '4-0', 'f', 'd'],
      ['XADD', 'h', '5-0', 'f', 'e'],
      ['XTRIM', 'h', 'MINID', '~', '5-0'],
      ['XDEL', 'h', '5-0'],
      ['XADD', 'h', '6-0', 'f', 'e'],
    ]);
    expect(lines[4]).to.match(/: 2 \(0 in 1 nodes\)$/);
    expect(lines[7]).to.match(/: 1 \(1 in 1 nodes\)$/);
  });

  it('restores a payload with an emptied node as redis-server does, and goes on alike', async () => {
    await limits(4, 4096);
    await same('e', [
      ['XADD', 'e', '1-0', 'f', 'a'],
      ['XADD', 'e', '2-0', 'f', 'b'],
      ['XADD', 'e', '3-0', 'f', 'c'],
      ['XDEL', 'e', '3-0'],
      ['XTRIM', 'e', 'MINID', '=', '3-0'],
    ]);
    const payload = (await r.dumpBuffer('e'))!;
    for (const c of [r, t]) await c.restore('e2', 0, payload, 'REPLACE');
    const lines = await same('e2', [['XLEN', 'e2'], ['XADD', 'e2', '4-0', 'f', 'd'], ['XADD', 'e2', '5-0', 'f', 'e'], ['XTRIM', 'e2', 'MINID', '~', '5-0']], false);
    expect(lines[0]).to.match(/: 0 \(0 in 1 nodes\)$/);
    // Talus's payload leaves the emptied node out (it keeps no deleted entries): the same stream, fewer nodes
    await r.restore('e3', 0, (await t.dumpBuffer('e'))!, 'REPLACE');
    expect(await r.xinfo('STREAM', 'e3')).to.deep.include.members(['length', 0]);
  });

  it('stops an approximate trim at its default LIMIT (100 x stream-node-max-entries; 10000 when that is 0)', async () => {
    for (const [entries, bytes] of [[3, 4096], [0, 60]] as const) {
      await limits(entries, bytes);
      await Promise.all([r.del('big'), t.del('big')]);
      for (const c of [r, t]) {
        const p = c.pipeline();
        for (let i = 1; i <= 12_000; i++) p.xadd('big', `${i}-0`, 'f', String(i));
        await p.exec();
      }
      await same('big', [['XTRIM', 'big', 'MAXLEN', '~', 0], ['XTRIM', 'big', 'MINID', '~', '11000-0'], ['XADD', 'big', 'MAXLEN', '~', '10', '12001-0', 'f', 'x']], false);
    }
  });

  it('lays out the same nodes for random histories (XADD, XDEL, exact and approximate trims, LIMIT)', async () => {
    let seed = 20261207;
    const rand = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % n);
    const value = () =>
      rand(4) === 0
        ? String(rand(3) === 0 ? -rand(1 << 20) : rand(1 << 20) * (rand(2) ? 1 : 4099)) // integer-encoded
        : 'v'.repeat(rand(6) === 0 ? 60 + rand(300) : rand(70));
    for (const [entries, bytes] of [[100, 4096], [5, 4096], [0, 300], [7, 250], [3, 0]] as const) {
      await limits(entries, bytes);
      let ms = 1;
      const cmds: Cmd[] = [];
      for (let i = 0; i < 300; i++) {
        const id = () => `${Math.max(1, ms - rand(6))}-${rand(4)}`;
        const trim = (): Cmd => {
          const way = rand(3) === 0 ? '=' : '~';
          const spec: Cmd = rand(2) ? ['MAXLEN', way, rand(25)] : ['MINID', way, id()];
          return way === '~' && rand(5) === 0 ? [...spec, 'LIMIT', rand(12)] : spec;
        };
        const kind = rand(10);
        if (kind < 5) {
          ms += rand(3);
          // same field names as the node's first entry (values only) or others; sequences that go down within a node
          const fields = rand(3) ? ['f', value(), 'g', value()] : ['h', value(), ...(rand(2) ? ['f', value()] : [])];
          cmds.push(['XADD', 's', ...(rand(3) === 0 ? trim() : []), `${ms}-${rand(5)}`, ...fields]);
        } else if (kind < 7) cmds.push(['XDEL', 's', id(), id(), id()]);
        else cmds.push(['XTRIM', 's', ...trim()]);
      }
      await same('s', cmds);
    }
  });
});
