import { expect } from 'chai';
import { Redis } from 'ioredis';
import { restartable, startTalus, type TalusProcess } from './support/harness.js';
import { redisServerAvailable, startRedisServer, type RedisServer } from './support/redis-server.js';
import { LATENCY_HISTORY_LEN, LatencyMonitor } from '../src/observability/latency.js';

/** Every reply of `r` to `cmd`, or its error text. */
async function reply(r: Redis, ...cmd: string[]): Promise<unknown> {
  try {
    return await r.call(cmd[0]!, ...cmd.slice(1));
  } catch (e) {
    return `error: ${(e as Error).message}`;
  }
}

describe('latency monitor', function () {
  this.timeout(90_000);

  describe('LatencyMonitor', () => {
    it('keeps the worst sample per second, at most 160, and the all-time max; records only at or over the threshold', () => {
      let threshold = 0;
      const m = new LatencyMonitor(() => threshold);
      m.note('command', 500);
      expect(m.latest()).to.deep.equal([]); // off
      threshold = 10;
      m.note('command', 9.9);
      expect(m.latest()).to.deep.equal([]);
      m.add('command', 12, 1000);
      m.add('command', 30, 1000);
      m.add('command', 20, 1000);
      expect(m.history('command')).to.deep.equal([{ time: 1000, latency: 30 }]);
      for (let t = 1001; t < 1001 + LATENCY_HISTORY_LEN; t++) m.add('command', 15, t);
      expect(m.history('command')).to.have.length(LATENCY_HISTORY_LEN);
      expect(m.history('command')[0]!.time).to.equal(1001);
      expect(m.latest()).to.deep.equal([['command', 1000 + LATENCY_HISTORY_LEN, 15, 30]]);
      m.add('postgres-commit', 40, 2000);
      expect(m.history('Command')).to.deep.equal([]); // lookups are by exact name, as in Redis
      expect(m.reset(['COMMAND', 'nope'])).to.equal(1); // resets ignore case
      expect(m.reset()).to.equal(1);
      expect(m.latest()).to.deep.equal([]);
    });

    it('draws a graph and a doctor report', () => {
      const m = new LatencyMonitor(() => 1);
      expect(m.graph('x')).to.equal(undefined);
      expect(m.doctor()).to.include('No event reached');
      m.add('x', 10, 100);
      m.add('x', 40, 101);
      const graph = m.graph('x', 130)!.split('\n');
      expect(graph[0]).to.equal('x - high 40 ms, low 10 ms (all time high 40 ms)');
      expect(graph[1]).to.equal('-'.repeat(80));
      expect(graph.slice(2, 6)).to.deep.equal([' #', ' #', ' #', '##']);
      expect(graph.slice(6, 9)).to.deep.equal(['32', '09', 'ss']); // 30s and 29s ago, written downwards
      expect(m.doctor()).to.include('1. x: 2 latency spikes (average 25ms, mean deviation 15ms, period 1.00 sec). Worst all time event 40ms.');
      expect(new LatencyMonitor(() => 0).doctor()).to.include('disabled');
    });
  });

  it('records Talus events: postgres-commit for a commit, cold-read for a read of cold keys', async () => {
    // 8 MB values take well over the 1 ms threshold to commit and to read back
    const srv = restartable(['--latency-monitor-threshold', '1']);
    try {
      let r = await srv.restart();
      await r.set('big', Buffer.alloc(8 << 20, 'x'));
      const events = async () => ((await r.call('latency', 'latest')) as Array<[string]>).map((row) => row[0]);
      expect(await events()).to.include('postgres-commit');
      r = await srv.restart();
      expect((await r.getBuffer('big'))!.length).to.equal(8 << 20);
      expect(await events()).to.include('cold-read');
    } finally {
      await srv.stop();
    }
  });

  describe('LATENCY against redis-server 7.0', () => {
    let talus: TalusProcess;
    let t: Redis;
    let redis: RedisServer | undefined;
    let r: Redis | undefined;
    before(async function () {
      talus = await startTalus(['--enable-debug-command', 'yes']);
      t = talus.client();
      if (redisServerAvailable()) {
        redis = await startRedisServer(['--enable-debug-command', 'yes']);
        r = new Redis({ port: redis.port, host: '127.0.0.1' });
      }
    });
    after(async () => {
      r?.disconnect();
      await redis?.stop();
      await talus?.stop();
    });

    const both = async (...cmd: string[]) => {
      const ours = await reply(t, ...cmd);
      if (r) expect(ours, cmd.join(' ')).to.deep.equal(await reply(r, ...cmd));
      return ours;
    };

    it('answers alike with no events: LATEST, HISTORY, RESET, GRAPH, HELP, errors', async () => {
      expect(await both('latency', 'latest')).to.deep.equal([]);
      expect(await both('latency', 'history', 'command')).to.deep.equal([]);
      expect(await both('latency', 'reset')).to.equal(0);
      expect(await both('latency', 'graph', 'command')).to.equal("error: ERR No samples available for event 'command'");
      expect(await both('latency', 'help')).to.be.an('array').with.length(17);
      expect(await both('latency', 'nope')).to.match(/^error: ERR unknown subcommand 'nope'/);
      expect(await both('latency', 'history')).to.equal("error: ERR wrong number of arguments for 'latency|history' command");
      expect(await both('latency')).to.equal("error: ERR wrong number of arguments for 'latency' command");
      // no per-command histograms (latency-tracking is not built)
      expect(await reply(t, 'latency', 'histogram')).to.deep.equal([]);
    });

    it('records a slow command once latency-monitor-threshold is set, in the same shape', async () => {
      for (const c of [t, r]) {
        if (!c) continue;
        await c.config('SET', 'latency-monitor-threshold', '10');
        await c.call('debug', 'sleep', '0.05');
      }
      const check = (latest: unknown) => {
        const rows = latest as Array<[string, number, number, number]>;
        expect(rows).to.have.length(1);
        const [event, time, latency, max] = rows[0]!;
        expect(event).to.equal('command');
        expect(Math.abs(time - Date.now() / 1000)).to.be.below(60);
        expect(latency).to.be.at.least(50);
        expect(max).to.equal(latency);
      };
      check(await reply(t, 'latency', 'latest'));
      if (r) check(await reply(r, 'latency', 'latest'));
      const history = (await reply(t, 'latency', 'history', 'command')) as number[][];
      expect(history).to.have.length(1);
      expect(history[0]![1]).to.be.at.least(50);
      expect(String(await reply(t, 'latency', 'graph', 'command'))).to.match(/^command - high \d+ ms, low \d+ ms \(all time high \d+ ms\)\n-{80}\n/);
      expect(String(await reply(t, 'latency', 'doctor'))).to.include('1. command: 1 latency spikes');
      // a fast command under the threshold is not recorded
      await t.ping();
      expect(await both('latency', 'reset', 'COMMAND', 'other')).to.equal(1);
      expect(await both('latency', 'latest')).to.deep.equal([]);
    });
  });
});
