import { expect } from 'chai';
import path from 'node:path';
import type { Redis } from 'ioredis';
import { startTalus, tempDir, type TalusProcess } from './support/harness.js';
import { freePort } from './support/redis-server.js';
import { startEmbeddedPostgres, type EmbeddedCluster } from '../src/storage/embedded.js';
import { Logger } from '../src/observability/logger.js';

/**
 * The metrics-port listener: /metrics during a load (redis_exporter's names,
 * talus_ figures, counters that move, figures equal to INFO's), /healthz, and
 * /readyz following PostgreSQL's availability.
 */

/** `name{labels} value` lines of an exposition text, as name{labels} -> value. */
function samples(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const i = line.lastIndexOf(' ');
    out.set(line.slice(0, i), Number(line.slice(i + 1)));
  }
  return out;
}

async function get(port: number, p: string): Promise<{ status: number; body: string; type: string }> {
  const res = await fetch(`http://127.0.0.1:${port}${p}`);
  return { status: res.status, body: await res.text(), type: res.headers.get('content-type') ?? '' };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('metrics and health endpoints', function () {
  this.timeout(120_000);
  let cluster: EmbeddedCluster | undefined;
  let srv: TalusProcess | undefined;
  let metricsPort = 0;
  let pgDir = '';
  let pgPort = 0;
  let c: Redis;

  before(async () => {
    pgDir = tempDir('pg-metrics');
    pgPort = await freePort();
    const log = new Logger('warning', path.join(pgDir, 'talus-test-pg.log'));
    cluster = await startEmbeddedPostgres({ dir: pgDir, port: pgPort, log });
    metricsPort = await freePort();
    srv = await startTalus(['--database-url', cluster.url, '--metrics-port', String(metricsPort), '--maxmemory', '64mb']);
    c = srv.client({ enableReadyCheck: false, maxRetriesPerRequest: 0, retryStrategy: () => null });
    c.on('error', () => undefined);
  });

  after(async () => {
    await srv?.stop();
    await cluster?.stop();
  });

  it('serves /metrics with redis_exporter names and talus_ figures, and its counters move under load', async () => {
    const first = await get(metricsPort, '/metrics');
    expect(first.status).to.equal(200);
    expect(first.type).to.match(/^text\/plain/);
    const before = samples(first.body);

    // a load running while we scrape: writes, hits, misses, an error, a cold read
    let running = true;
    const load = (async () => {
      let i = 0;
      while (running) {
        await c.set(`m:${i % 500}`, `v${i}`);
        await c.get(`m:${i % 500}`);
        await c.get(`absent:${i}`);
        i++;
      }
    })();
    await sleep(300);
    const during = samples((await get(metricsPort, '/metrics')).body);
    running = false;
    await load;
    await c.call('NOSUCHCOMMAND').catch(() => undefined);
    await c.hset('h', 'f', 'v');
    const after = samples((await get(metricsPort, '/metrics')).body);

    const names = [
      'redis_up', 'redis_uptime_in_seconds', 'redis_connected_clients', 'redis_blocked_clients',
      'redis_memory_used_bytes', 'redis_memory_max_bytes', 'redis_commands_processed_total',
      'redis_keyspace_hits_total', 'redis_keyspace_misses_total', 'redis_expired_keys_total', 'redis_evicted_keys_total',
      'redis_net_input_bytes_total', 'redis_net_output_bytes_total', 'redis_connected_slaves', 'redis_master_repl_offset',
      'redis_rdb_last_save_timestamp_seconds', 'talus_hot_set_bytes', 'talus_hot_set_hits_total', 'talus_hot_set_misses_total',
      'talus_dirty_keys', 'talus_throttled_clients', 'talus_changelog_offset', 'talus_durable_offset',
      'talus_commit_duration_seconds_count', 'talus_commit_batch_size_count', 'talus_cold_read_duration_seconds_count',
      'talus_postgres_pool_connections{state="total"}', 'talus_storage_healthy',
      'talus_name_filter_bytes', 'talus_name_filter_names', 'talus_name_filters_ready', 'talus_name_filter_reads_avoided_total',
    ];
    for (const n of names) expect(after.has(n), `${n} in /metrics`).to.equal(true);
    expect(after.get('redis_up')).to.equal(1);
    expect(after.get('redis_memory_max_bytes')).to.equal(64 * 1024 * 1024);
    expect(after.get('talus_storage_healthy')).to.equal(1);
    expect(after.get('talus_postgres_pool_connections{state="total"}')).to.be.greaterThan(0);
    expect([...after.keys()].some((k) => k.startsWith('redis_instance_info{role="master",redis_version="7.0.15"'))).to.equal(true);

    // the counters moved between the scrapes
    for (const n of ['redis_commands_processed_total', 'redis_keyspace_hits_total', 'redis_keyspace_misses_total', 'redis_net_input_bytes_total', 'redis_net_output_bytes_total', 'talus_changelog_offset', 'talus_commits_total', 'talus_commit_duration_seconds_count']) {
      expect(during.get(n)!, `${n} moved during the load`).to.be.greaterThan(before.get(n) ?? 0);
      expect(after.get(n)!, `${n} kept moving`).to.be.at.least(during.get(n)!);
    }
    expect(during.get('redis_commands_total{cmd="set"}')!).to.be.greaterThan(before.get('redis_commands_total{cmd="set"}') ?? 0);
    expect(after.get('redis_commands_total{cmd="hset"}')).to.equal(1);
    expect(after.get('redis_commands_duration_seconds_total{cmd="get"}')!).to.be.greaterThan(0);
    expect(after.get('redis_errors_total{err="ERR"}')!).to.be.at.least(1);
    expect(after.get('redis_db_keys{db="db0"}')).to.equal(await c.dbsize());
    expect(after.get('talus_commit_batch_size_sum')!).to.be.greaterThan(0);
  });

  it('agrees with INFO: both read the same fields', async () => {
    await c.set('agree', '1');
    const info = await c.info('everything');
    const field = (n: string) => Number(new RegExp(`\\r\\n${n}:(\\d+)`).exec(info)![1]);
    const m = samples((await get(metricsPort, '/metrics')).body);
    // nothing ran in between but the INFO itself, counted once it has run (a scrape is no command)
    expect(m.get('redis_commands_processed_total')).to.equal(field('total_commands_processed') + 1);
    expect(m.get('talus_changelog_offset')).to.equal(field('changelog_seq'));
    expect(m.get('redis_keyspace_hits_total')).to.equal(field('keyspace_hits'));
  });

  it('answers /healthz and a 404 for other paths', async () => {
    expect((await get(metricsPort, '/healthz')).status).to.equal(200);
    expect((await get(metricsPort, '/nothing')).status).to.equal(404);
  });

  it('/readyz on a follower is 503 while its link to the leader is down, 200 once it is up', async () => {
    const leaderPort = await freePort();
    const followerMetrics = await freePort();
    const follower = await startTalus(['--replicaof', '127.0.0.1', String(leaderPort), '--metrics-port', String(followerMetrics)]);
    let leader: TalusProcess | undefined;
    try {
      const down = await get(followerMetrics, '/readyz');
      expect(down.status).to.equal(503);
      expect(down.body).to.match(/link to the leader is down/);
      const m = samples((await get(followerMetrics, '/metrics')).body);
      expect(m.get('redis_master_link_up')).to.equal(0);
      leader = await startTalus(['--port', String(leaderPort)]);
      let status = 0;
      for (let i = 0; i < 120 && status !== 200; i++) {
        status = (await get(followerMetrics, '/readyz')).status;
        if (status !== 200) await sleep(250);
      }
      expect(status).to.equal(200);
      expect(samples((await get(followerMetrics, '/metrics')).body).get('redis_master_link_up')).to.equal(1);
    } finally {
      await follower.stop();
      await leader?.stop();
    }
  });

  it('/readyz is 200, 503 while PostgreSQL is stopped, and 200 once it is back', async () => {
    const ready = await get(metricsPort, '/readyz');
    expect(ready.status, ready.body).to.equal(200);
    await cluster!.stop();
    const down = await get(metricsPort, '/readyz');
    expect(down.status).to.equal(503);
    expect(down.body).to.match(/PostgreSQL unreachable/);
    expect((await get(metricsPort, '/healthz')).status, 'the process is still alive').to.equal(200);
    const log = new Logger('warning', path.join(pgDir, 'talus-test-pg.log'));
    cluster = await startEmbeddedPostgres({ dir: pgDir, port: pgPort, log });
    let status = 0;
    for (let i = 0; i < 60 && status !== 200; i++) {
      status = (await get(metricsPort, '/readyz')).status;
      if (status !== 200) await sleep(250);
    }
    expect(status).to.equal(200);
  });
});
