/**
 * Prometheus metrics. Every figure INFO has is read from INFO's own fields at
 * scrape time (one snapshot of `INFO everything` per scrape), so /metrics and
 * INFO never disagree. Names follow redis_exporter wherever Redis has the
 * figure, so its dashboards and alerts work unchanged; Talus's own figures are
 * `talus_*`. The histograms (cold reads, commits) have no INFO field: the
 * server observes into them as events happen.
 */
import { Counter, Gauge, Registry, collectDefaultMetrics, type Metric } from 'prom-client';

/** INFO as field -> value (observability/info.ts infoFields). */
export type InfoSnapshot = Map<string, string>;

type Labels = Record<string, string>;
type Emit = (value: number, labels?: Labels) => void;

/** `a=1,b=x` (commandstats, keyspace, slaveN values) as a record. */
export function parseInfoValue(value: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of value.split(',')) {
    const i = part.indexOf('=');
    if (i > 0) out[part.slice(0, i)] = part.slice(i + 1);
  }
  return out;
}

const num = (v: string | undefined): number => {
  const n = Number(v);
  return Number.isFinite(n) ? n : 0;
};

/** Seconds buckets from 100 µs to 10 s: cold reads and commits span that range. */
const LATENCY_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const BATCH_BUCKETS = [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 20000];

/**
 * A histogram without labels, counted in a typed array and rendered by the
 * registry like prom-client's own. prom-client's Histogram.observe hashes
 * its labels and finds its bucket through the bound turned into a property
 * name on every call: with a commit observing twice, that was 1.0-1.7% of
 * Talus's CPU under SET -P1 appendfsync always (docs/benchmarks.md,
 * "Session 16: the cost of a commit").
 */
export class CountingHistogram {
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  /** observations per bucket (not cumulative), the last past every bound (+Inf) */
  private readonly counts: Float64Array;
  private sum = 0;

  constructor(readonly name: string, readonly help: string, private readonly bounds: readonly number[], registry: Registry) {
    this.counts = new Float64Array(bounds.length + 1);
    registry.registerMetric(this as unknown as Metric);
  }

  observe(value: number): void {
    const bounds = this.bounds;
    let i = 0;
    while (i < bounds.length && value > bounds[i]!) i++;
    this.counts[i]!++;
    this.sum += value;
  }

  reset(): void {
    this.counts.fill(0);
    this.sum = 0;
  }

  /** The figures as prom-client's registry renders them: cumulative buckets, +Inf, sum and count. */
  async get(): Promise<{ name: string; help: string; type: string; aggregator: string; values: Array<{ metricName: string; labels: Record<string, string | number>; value: number }> }> {
    const bucket = `${this.name}_bucket`;
    const values: Array<{ metricName: string; labels: Record<string, string | number>; value: number }> = [];
    let total = 0;
    this.bounds.forEach((le, i) => {
      total += this.counts[i]!;
      values.push({ metricName: bucket, labels: { le }, value: total });
    });
    total += this.counts[this.bounds.length]!;
    values.push({ metricName: bucket, labels: { le: '+Inf' }, value: total });
    values.push({ metricName: `${this.name}_sum`, labels: {}, value: this.sum });
    values.push({ metricName: `${this.name}_count`, labels: {}, value: total });
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }
}

export class Metrics {
  readonly registry = new Registry();
  readonly coldReadSeconds: CountingHistogram;
  readonly commitSeconds: CountingHistogram;
  readonly commitBatchSize: CountingHistogram;
  private snapshot: InfoSnapshot | undefined;

  /** `info` gives INFO everything as fields; it is asked once per scrape. */
  constructor(private readonly info: () => InfoSnapshot) {
    const r = this.registry;
    this.coldReadSeconds = new CountingHistogram('talus_cold_read_duration_seconds', 'Time to read a batch of cold keys from PostgreSQL.', LATENCY_BUCKETS, r);
    this.commitSeconds = new CountingHistogram('talus_commit_duration_seconds', 'Time of one group commit to PostgreSQL.', LATENCY_BUCKETS, r);
    this.commitBatchSize = new CountingHistogram('talus_commit_batch_size', 'Dirty entries written by one group commit.', BATCH_BUCKETS, r);
    this.defineRedisFigures();
    this.defineTalusFigures();
  }

  /**
   * Node's process figures (process_*, nodejs_*, event-loop lag): only once
   * something scrapes, since the event-loop monitor samples all the time.
   */
  includeProcessMetrics(): void {
    collectDefaultMetrics({ register: this.registry });
  }

  /** The exposition text; content type in `contentType`. */
  async render(): Promise<string> {
    this.snapshot = undefined;
    try {
      return await this.registry.metrics();
    } finally {
      this.snapshot = undefined;
    }
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  private field(name: string): string | undefined {
    this.snapshot ??= this.info();
    return this.snapshot.get(name);
  }

  private fields(): InfoSnapshot {
    this.snapshot ??= this.info();
    return this.snapshot;
  }

  private gauge(name: string, help: string, read: (emit: Emit) => void, labelNames: string[] = []): void {
    new Gauge({
      name, help, labelNames, registers: [this.registry],
      collect() {
        this.reset();
        read((v, l) => (l ? this.set(l, v) : this.set(v)));
      },
    });
  }

  private counter(name: string, help: string, read: (emit: Emit) => void, labelNames: string[] = []): void {
    new Counter({
      name, help, labelNames, registers: [this.registry],
      collect() {
        this.reset();
        read((v, l) => (l ? this.inc(l, Math.max(0, v)) : this.inc(Math.max(0, v))));
      },
    });
  }

  /** A gauge or counter equal to one numeric INFO field. */
  private fromField(kind: 'gauge' | 'counter', name: string, field: string, help: string): void {
    this[kind](name, help, (emit) => emit(num(this.field(field))));
  }

  private defineRedisFigures(): void {
    this.gauge('redis_up', 'Whether the server answers (always 1 when scraped).', (emit) => emit(1));
    this.fromField('gauge', 'redis_uptime_in_seconds', 'uptime_in_seconds', 'Seconds since the server started.');
    this.fromField('gauge', 'redis_connected_clients', 'connected_clients', 'Client connections (followers excluded).');
    this.fromField('gauge', 'redis_blocked_clients', 'blocked_clients', 'Clients blocked on a key (BLPOP...).');
    this.fromField('gauge', 'redis_memory_used_bytes', 'used_memory', 'Memory used by the process heap (INFO used_memory).');
    this.fromField('gauge', 'redis_memory_max_bytes', 'maxmemory', 'maxmemory: the bound of the hot set (0 = none).');
    this.fromField('counter', 'redis_commands_processed_total', 'total_commands_processed', 'Commands processed.');
    this.fromField('counter', 'redis_keyspace_hits_total', 'keyspace_hits', 'Key lookups that found the key.');
    this.fromField('counter', 'redis_keyspace_misses_total', 'keyspace_misses', 'Key lookups that found no key.');
    this.fromField('counter', 'redis_expired_keys_total', 'expired_keys', 'Keys expired.');
    this.fromField('counter', 'redis_evicted_keys_total', 'evicted_keys', 'Keys unloaded from memory under maxmemory (they stay in PostgreSQL).');
    this.fromField('counter', 'redis_net_input_bytes_total', 'total_net_input_bytes', 'Bytes read from clients.');
    this.fromField('counter', 'redis_net_output_bytes_total', 'total_net_output_bytes', 'Bytes written to clients.');
    this.fromField('counter', 'redis_connections_received_total', 'total_connections_received', 'Connections accepted.');
    this.fromField('counter', 'redis_rejected_connections_total', 'rejected_connections', 'Connections refused (maxclients...).');
    this.fromField('gauge', 'redis_connected_slaves', 'connected_slaves', 'Followers fed by this server.');
    this.fromField('gauge', 'redis_master_repl_offset', 'master_repl_offset', 'Replication offset (the change-log sequence).');
    this.fromField('gauge', 'redis_rdb_last_save_timestamp_seconds', 'rdb_last_save_time', 'LASTSAVE: the last successful save or backup (unix seconds).');
    this.gauge('redis_rdb_last_bgsave_status', '1 when the last save or backup succeeded.', (emit) => emit(this.field('rdb_last_bgsave_status') === 'err' ? 0 : 1));
    this.fromField('gauge', 'redis_rdb_bgsave_in_progress', 'rdb_bgsave_in_progress', '1 while a save or backup runs.');
    this.fromField('gauge', 'redis_rdb_changes_since_last_save', 'rdb_changes_since_last_save', 'Changes not yet committed to PostgreSQL.');
    this.gauge('redis_master_link_up', 'On a follower: 1 while the link to the leader is up.', (emit) => {
      const status = this.field('master_link_status');
      if (status !== undefined) emit(status === 'up' ? 1 : 0);
    });
    this.gauge('redis_master_sync_in_progress', 'On a follower: 1 during a full sync.', (emit) => {
      const v = this.field('master_sync_in_progress');
      if (v !== undefined) emit(num(v));
    });
    // one series per follower (INFO replication's slaveN lines), labelled as redis_exporter labels them
    const perFollower = (name: string, help: string, field: string) =>
      this.gauge(name, help, (emit) => {
        for (const [k, v] of this.fields()) {
          if (!/^slave\d+$/.test(k)) continue;
          const s = parseInfoValue(v);
          emit(num(s[field]), { slave_ip: s['ip'] ?? '', slave_port: s['port'] ?? '', slave_state: s['state'] ?? '' });
        }
      }, ['slave_ip', 'slave_port', 'slave_state']);
    perFollower('redis_connected_slave_lag_seconds', 'Seconds since each follower last acknowledged.', 'lag');
    perFollower('redis_connected_slave_offset_bytes', 'Offset each follower acknowledged.', 'offset');
    this.counter('redis_commands_total', 'Calls per command (INFO commandstats).', (emit) => {
      for (const [k, v] of this.fields()) if (k.startsWith('cmdstat_')) emit(num(parseInfoValue(v)['calls']), { cmd: k.slice(8) });
    }, ['cmd']);
    this.counter('redis_commands_duration_seconds_total', 'Time spent per command (INFO commandstats usec).', (emit) => {
      for (const [k, v] of this.fields()) if (k.startsWith('cmdstat_')) emit(num(parseInfoValue(v)['usec']) / 1e6, { cmd: k.slice(8) });
    }, ['cmd']);
    this.counter('redis_commands_failed_calls_total', 'Failed calls per command.', (emit) => {
      for (const [k, v] of this.fields()) if (k.startsWith('cmdstat_')) emit(num(parseInfoValue(v)['failed_calls']), { cmd: k.slice(8) });
    }, ['cmd']);
    this.counter('redis_commands_rejected_calls_total', 'Rejected calls per command.', (emit) => {
      for (const [k, v] of this.fields()) if (k.startsWith('cmdstat_')) emit(num(parseInfoValue(v)['rejected_calls']), { cmd: k.slice(8) });
    }, ['cmd']);
    this.counter('redis_errors_total', 'Error replies by error code (INFO errorstats).', (emit) => {
      for (const [k, v] of this.fields()) if (k.startsWith('errorstat_')) emit(num(parseInfoValue(v)['count']), { err: k.slice(10) });
    }, ['err']);
    this.gauge('redis_db_keys', 'Keys per database (PostgreSQL included).', (emit) => {
      for (const [k, v] of this.fields()) if (/^db\d+$/.test(k)) emit(num(parseInfoValue(v)['keys']), { db: k });
    }, ['db']);
    this.gauge('redis_db_keys_expiring', 'Keys with a TTL per database (resident ones).', (emit) => {
      for (const [k, v] of this.fields()) if (/^db\d+$/.test(k)) emit(num(parseInfoValue(v)['expires']), { db: k });
    }, ['db']);
    const INFO_LABELS = ['role', 'redis_version', 'redis_build_id', 'redis_mode', 'os', 'maxmemory_policy', 'tcp_port', 'run_id', 'process_id', 'master_replid', 'talus_version'];
    this.gauge('redis_instance_info', 'Information about the instance (in the labels).', (emit) => {
      const labels: Labels = {};
      for (const l of INFO_LABELS) labels[l] = this.field(l) ?? '';
      emit(1, labels);
    }, INFO_LABELS);
  }

  private defineTalusFigures(): void {
    this.fromField('gauge', 'talus_hot_set_bytes', 'hot_set_bytes', 'Estimated bytes of the resident keys (what maxmemory bounds).');
    this.fromField('gauge', 'talus_hot_set_squeeze_bytes', 'hot_set_squeeze_bytes', 'How far below maxmemory the hot set is held while the process RSS nears maxmemory + 200 MB.');
    this.fromField('gauge', 'talus_hot_set_entries', 'hot_set_entries', 'Resident entries (tombstones of known-absent keys included).');
    this.fromField('counter', 'talus_hot_set_hits_total', 'hot_set_hits', 'Key lookups served from memory.');
    this.fromField('counter', 'talus_hot_set_misses_total', 'hot_set_misses', 'Keys read from PostgreSQL (not resident when asked for).');
    this.fromField('gauge', 'talus_name_filter_bytes', 'name_filter_bytes', 'Bytes of the filters of names that may have a row in PostgreSQL (counted in used_memory).');
    this.fromField('gauge', 'talus_name_filter_names', 'name_filter_names', 'Names in those filters.');
    this.fromField('gauge', 'talus_name_filters_ready', 'name_filters_ready', 'Dbs whose name filter is built (it rules names out).');
    this.fromField('counter', 'talus_name_filter_reads_avoided_total', 'name_filter_reads_avoided', 'Names known absent by a name filter: PostgreSQL reads not made.');
    this.fromField('gauge', 'talus_dirty_keys', 'dirty_entries', 'Changed keys not yet committed to PostgreSQL (the commit backlog).');
    this.fromField('gauge', 'talus_throttled_clients', 'throttled_clients', 'Clients not read until the commit backlog shrinks.');
    this.fromField('gauge', 'talus_big_request_bytes', 'big_request_bytes', 'Bytes of big requests read and not yet run, bounded together.');
    this.fromField('gauge', 'talus_big_request_held_clients', 'big_request_held_clients', 'Clients not read while other clients\' big requests fill their budget.');
    this.fromField('gauge', 'talus_big_reply_bytes', 'big_reply_bytes', 'Bytes of big replies not yet written to their clients, bounded together.');
    this.fromField('gauge', 'talus_big_reply_held_clients', 'big_reply_held_clients', 'Clients whose next request waits while big replies fill their budget.');
    this.fromField('counter', 'talus_big_reply_gate_closings_total', 'big_reply_gate_closings', 'Times big replies filled their budget and requests waited.');
    this.fromField('gauge', 'talus_clients_awaiting_durability', 'clients_awaiting_durability', 'Clients with replies waiting for a commit.');
    this.fromField('gauge', 'talus_changelog_offset', 'changelog_seq', 'Sequence of the last change-log record.');
    this.fromField('gauge', 'talus_durable_offset', 'durable_seq', 'Sequence of the last change-log record committed to PostgreSQL.');
    this.fromField('counter', 'talus_commits_total', 'flusher_commits', 'Group commits to PostgreSQL.');
    this.fromField('counter', 'talus_commit_failures_total', 'flusher_failures', 'Group commits that failed (retried).');
    this.fromField('counter', 'talus_committed_entries_total', 'flusher_entries', 'Entries written by group commits.');
    this.fromField('gauge', 'talus_storage_healthy', 'storage_healthy', '1 while commits to PostgreSQL succeed.');
    this.fromField('counter', 'talus_key_read_queries_total', 'key_read_queries', 'Key-row queries to PostgreSQL.');
    this.fromField('gauge', 'talus_scheduler_waiting', 'scheduler_waiting', 'Commands waiting for their keys to be read.');
    this.gauge('talus_postgres_pool_connections', 'PostgreSQL pool connections by state (total, idle) and requests waiting for one.', (emit) => {
      emit(num(this.field('pg_pool_total')), { state: 'total' });
      emit(num(this.field('pg_pool_idle')), { state: 'idle' });
      emit(num(this.field('pg_pool_waiting')), { state: 'waiting' });
    }, ['state']);
    this.gauge('talus_embedded_postgres_up', 'The embedded PostgreSQL is running (absent with an external database).', (emit) => {
      const v = this.field('embedded_pg_up');
      if (v !== undefined) emit(num(v));
    });
    this.gauge('talus_embedded_postgres_restarts', 'Restarts of the embedded PostgreSQL by its supervisor.', (emit) => {
      const v = this.field('embedded_pg_restarts');
      if (v !== undefined) emit(num(v));
    });
    // Backup figures come from INFO persistence `backup_*` fields when the
    // backup engine reports them: each numeric one is exposed as talus_<field>.
    this.gauge('talus_backup', 'Numeric backup_* fields of INFO persistence, by field.', (emit) => {
      for (const [k, v] of this.fields()) {
        if (k.startsWith('backup_') && v !== '' && Number.isFinite(Number(v))) emit(Number(v), { field: k });
      }
    }, ['field']);
  }
}
