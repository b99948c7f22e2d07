import { expect } from 'chai';
import { Redis } from 'ioredis';
import { restartable, startTalus, type TalusProcess } from './support/harness.js';
import { redisServerAvailable, startRedisServer, type RedisServer } from './support/redis-server.js';
import { LATENCY_HISTORY_LEN, LatencyMonitor } from '../src/observability/latency.js';
import { highestEquivalent, LatencyHistogram, lowestEquivalent } from '../src/observability/latency-histogram.js';

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

  describe('LatencyHistogram', () => {
    it('buckets like Redis: two significant digits, percentiles at the bucket top', () => {
      expect([lowestEquivalent(200), highestEquivalent(200)]).to.deep.equal([200, 200]);
      expect([lowestEquivalent(1000), highestEquivalent(1000)]).to.deep.equal([1000, 1003]);
      expect([lowestEquivalent(3000), highestEquivalent(3000)]).to.deep.equal([2992, 3007]);
      const h = new LatencyHistogram();
      for (let i = 0; i < 98; i++) h.record(1000);
      h.record(2000);
      h.record(5000);
      expect(h.total).to.equal(100);
      expect(h.valueAtPercentile(50)).to.equal(1003);
      expect(h.valueAtPercentile(99)).to.equal(2007);
      expect(h.valueAtPercentile(99.9)).to.equal(5023); // 5000 is in the bucket 4992..5023
      expect(h.valueAtPercentile(0)).to.equal(1000);
      // cumulative counts at 1024 ns, 2048 ns, ... (keys: the level's bucket top, in µs)
      expect(h.cumulative()).to.deep.equal([[1, 98], [2, 99], [8, 100]]);
      h.record(0); // clamped to 1 ns
      h.record(5e9); // clamped to 1 s
      expect(h.cumulative()[0]).to.deep.equal([1, 99]);
      expect(h.cumulative().at(-1)![1]).to.equal(102);
    });

    it('keeps buckets of every width apart, in order', () => {
      const values = [1, 255, 256, 258, 511, 512, 4095, 123_456, 65_000_000, 999_999_999];
      const h = new LatencyHistogram();
      for (const v of [...values].reverse()) h.record(v);
      values.forEach((v, i) => expect(h.valueAtPercentile(((i + 1) / values.length) * 100), String(v)).to.equal(highestEquivalent(v)));
    });
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
    });

    it('keeps per-command histograms: LATENCY HISTOGRAM and INFO latencystats name the same commands as Redis', async () => {
      const names = async (c: Redis) => {
        await c.config('RESETSTAT');
        for (let i = 0; i < 3; i++) await c.set('lt:k', String(i));
        await c.get('lt:k');
        const histogram = (await c.call('latency', 'histogram', 'set', 'get', 'config', 'nosuch')) as unknown[];
        const info = (await c.info('latencystats')).split('\r\n').filter((l) => l.startsWith('latency_percentiles_usec_'));
        return { histogram, info };
      };
      const ours = await names(t);
      // [name, [calls, n, histogram_usec, [usec, cumulative, ...]], ...]
      expect(ours.histogram.filter((_, i) => i % 2 === 0).sort()).to.deep.equal(['config|resetstat', 'get', 'set']);
      const set = ours.histogram[ours.histogram.indexOf('set') + 1] as [string, number, string, number[]];
      expect(set.slice(0, 3)).to.deep.equal(['calls', 3, 'histogram_usec']);
      expect(set[3].at(-1)).to.equal(3); // cumulative: the last count is every call
      for (const line of ours.info) expect(line).to.match(/^latency_percentiles_usec_[a-z|]+:p50=\d+\.\d{3},p99=\d+\.\d{3},p99\.9=\d+\.\d{3}$/);
      expect(ours.info.map((l) => l.split(':')[0]).sort()).to.deep.equal(
        ['config|resetstat', 'get', 'latency|histogram', 'set'].map((n) => `latency_percentiles_usec_${n}`),
      );
      if (r) {
        const theirs = await names(r);
        expect(theirs.histogram.filter((_, i) => i % 2 === 0).sort()).to.deep.equal(ours.histogram.filter((_, i) => i % 2 === 0).sort());
        expect(theirs.info.map((l) => l.split(':')[0]).sort()).to.deep.equal(ours.info.map((l) => l.split(':')[0]).sort());
      }
      // off: nothing more is recorded, INFO latencystats is empty
      await t.config('SET', 'latency-tracking', 'no');
      try {
        expect((await t.info('latencystats')).trim()).to.equal('# Latencystats');
      } finally {
        await t.config('SET', 'latency-tracking', 'yes');
      }
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
