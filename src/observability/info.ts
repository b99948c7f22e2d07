/**
 * The INFO text: Redis 7.0 section names, field names and layout
 * ("# Section" headers, `field:value` lines, CRLF, a blank line between
 * sections), plus a `# Talus` section for the hot set and the storage path.
 */
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Talus } from '../talus.js';
import type { Command } from '../commands/table.js';
import type { ServerStats } from '../execution/context.js';
import { VERSION } from '../version.js';
import { mallocName } from '../util/allocator.js';
import type { Keyspace } from '../keyspace/keyspace.js';

/** Server-level state INFO and the server commands share, beyond what Talus keeps. */
export interface ServerRuntime {
  runId: string;
  bgsaveInProgress: boolean;
  bgsaveStartedAt: number;
  lastBgsaveOk: boolean;
  lastBgsaveSecs: number;
  saves: number;
  startupMemory: number;
  peakMemory: number;
  /** ring of instantaneous samples: [ms, commands, net in, net out] */
  samples: Array<[number, number, number, number]>;
  sampler: NodeJS.Timeout | undefined;
}

const runtimes = new WeakMap<object, ServerRuntime>();

/** The runtime state of server `t` (one per server object). */
export function runtimeOf(t: object): ServerRuntime {
  let r = runtimes.get(t);
  if (!r) {
    r = {
      runId: randomBytes(20).toString('hex'),
      bgsaveInProgress: false,
      bgsaveStartedAt: 0,
      lastBgsaveOk: true,
      lastBgsaveSecs: -1,
      saves: 0,
      startupMemory: usedMemory(),
      peakMemory: 0,
      samples: [],
      sampler: undefined,
    };
    runtimes.set(t, r);
  }
  return r;
}

const SAMPLES = 16;

/** Start the 10 Hz sampler behind instantaneous_ops_per_sec and the kbps fields. */
export function startSampler(t: { readonly stats: ServerStats }): void {
  const r = runtimeOf(t);
  if (r.sampler) return;
  r.sampler = setInterval(() => {
    const s = t.stats;
    r.samples.push([performance.now(), s.commandsProcessed, s.netInputBytes, s.netOutputBytes]);
    if (r.samples.length > SAMPLES) r.samples.shift();
    const used = usedMemory();
    if (used > r.peakMemory) r.peakMemory = used;
  }, 100);
  r.sampler.unref();
}

function usedMemory(): number {
  const m = process.memoryUsage();
  return m.heapUsed + m.external;
}

/** Redis's bytesToHuman. */
export function bytesToHuman(n: number): string {
  const units = ['K', 'M', 'G', 'T', 'P'];
  if (n < 1024) return `${n}B`;
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(2)}${units[i]}`;
}

type Fields = Array<[string, string | number]>;

const SECTIONS = [
  'server', 'clients', 'memory', 'persistence', 'stats', 'replication', 'cpu', 'modules',
  'commandstats', 'errorstats', 'latencystats', 'cluster', 'keyspace', 'talus',
] as const;
type Section = (typeof SECTIONS)[number];
/** `all` and `everything` add these to the default set */
const NOT_DEFAULT = new Set<Section>(['commandstats', 'latencystats']);

/** Which sections a list of INFO arguments asks for (case-insensitive; unknown names are ignored). */
export function selectSections(args: string[]): Set<Section> {
  const out = new Set<Section>();
  if (args.length === 0) args = ['default'];
  for (const raw of args) {
    const a = raw.toLowerCase();
    if (a === 'all' || a === 'everything') for (const s of SECTIONS) out.add(s);
    else if (a === 'default') for (const s of SECTIONS) (NOT_DEFAULT.has(s) ? undefined : out.add(s));
    else if ((SECTIONS as readonly string[]).includes(a)) out.add(a as Section);
  }
  return out;
}

const TITLES: Record<Section, string> = {
  server: 'Server', clients: 'Clients', memory: 'Memory', persistence: 'Persistence', stats: 'Stats',
  replication: 'Replication', cpu: 'CPU', modules: 'Modules', commandstats: 'Commandstats',
  errorstats: 'Errorstats', latencystats: 'Latencystats', cluster: 'Cluster', keyspace: 'Keyspace', talus: 'Talus',
};

/** The INFO reply text for these section arguments. */
export function buildInfo(t: Talus, args: string[]): string {
  const wanted = selectSections(args);
  const parts: string[] = [];
  for (const s of SECTIONS) {
    if (!wanted.has(s)) continue;
    const lines = [`# ${TITLES[s]}`];
    for (const [k, v] of SECTION_FIELDS[s](t)) lines.push(`${k}:${v}`);
    parts.push(lines.join('\r\n') + '\r\n');
  }
  return parts.join('\r\n');
}

/** INFO as a map of field -> value, for tests and internal callers. */
export function infoFields(t: Talus, args: string[]): Map<string, string> {
  const m = new Map<string, string>();
  for (const line of buildInfo(t, args).split('\r\n')) {
    const i = line.indexOf(':');
    if (i > 0 && !line.startsWith('#')) m.set(line.slice(0, i), line.slice(i + 1));
  }
  return m;
}

function server(t: Talus): Fields {
  const r = runtimeOf(t);
  const now = Date.now();
  const uptime = Math.floor((now - t.stats.startedAt) / 1000);
  const usec = BigInt(Math.round((performance.timeOrigin + performance.now()) * 1000));
  const arch = os.arch() === 'x64' ? 'x86_64' : os.arch() === 'arm64' ? 'aarch64' : os.arch();
  const hz = Math.min(500, Math.max(1, t.config.values.hz));
  return [
    ['redis_version', VERSION.redis],
    ['redis_git_sha1', '00000000'],
    ['redis_git_dirty', 0],
    ['redis_build_id', '0'],
    ['redis_mode', 'standalone'],
    ['os', `${os.type()} ${os.release()} ${arch}`],
    ['arch_bits', 64],
    ['monotonic_clock', 'POSIX clock_gettime'],
    ['multiplexing_api', process.platform === 'linux' ? 'epoll' : process.platform === 'darwin' ? 'kqueue' : 'libuv'],
    ['atomicvar_api', 'c11-builtin'],
    ['gcc_version', '0.0.0'],
    ['process_id', process.pid],
    ['process_supervised', 'no'],
    ['run_id', r.runId],
    ['tcp_port', t.port],
    ['server_time_usec', usec.toString()],
    ['uptime_in_seconds', uptime],
    ['uptime_in_days', Math.floor(uptime / 86400)],
    ['hz', hz],
    ['configured_hz', t.config.values.hz],
    ['lru_clock', Math.floor(now / 1000) & 0xffffff],
    ['executable', process.argv[1] ? path.resolve(process.argv[1]) : process.execPath],
    ['config_file', t.config.configFile ?? ''],
    ['io_threads_active', 0],
  ];
}

function clients(t: Talus): Fields {
  let replicas = 0;
  let blocked = 0;
  let maxIn = 0;
  let maxOut = 0;
  for (const c of t.clients.values()) {
    if (c.session.flags.has('replica') || c.session.flags.has('slave')) replicas++;
    if (c.session.flags.has('blocked')) blocked++;
    maxIn = Math.max(maxIn, c.queryBytes);
    maxOut = Math.max(maxOut, c.outputBytes);
  }
  return [
    ['connected_clients', t.clients.size - replicas],
    ['cluster_connections', 0],
    ['maxclients', t.config.values.maxclients],
    ['client_recent_max_input_buffer', maxIn],
    ['client_recent_max_output_buffer', maxOut],
    ['blocked_clients', blocked],
    ['tracking_clients', t.tracking.clientCount],
    ['clients_in_timeout_table', 0],
  ];
}

/**
 * Redis 7.0's script memory fields. EVAL scripts and functions share one Lua
 * state in Talus: its heap is reported as the eval VM's (used_memory_lua,
 * used_memory_vm_eval), and used_memory_vm_functions is 0.
 */
function scriptMemory(t: Talus): Fields {
  const scripting = t.scripting;
  const vm = scripting?.engine.luaMemory ?? 0;
  const evalBytes = scripting?.engine.cacheBytes ?? 0;
  const fns = scripting?.functions;
  const functionBytes = fns === undefined ? 0 : fns.codeBytes + 64 * (fns.libraryCount + fns.functionCount);
  return [
    ['used_memory_lua', vm],
    ['used_memory_vm_eval', vm],
    ['used_memory_lua_human', bytesToHuman(vm)],
    ['used_memory_scripts_eval', evalBytes],
    ['number_of_cached_scripts', scripting?.engine.cachedCount ?? 0],
    ['number_of_functions', fns?.functionCount ?? 0],
    ['number_of_libraries', fns?.libraryCount ?? 0],
    ['used_memory_vm_functions', 0],
    ['used_memory_vm_total', vm],
    ['used_memory_vm_total_human', bytesToHuman(vm)],
    ['used_memory_functions', functionBytes],
    ['used_memory_scripts', evalBytes + functionBytes],
    ['used_memory_scripts_human', bytesToHuman(evalBytes + functionBytes)],
  ];
}

function memory(t: Talus): Fields {
  const r = runtimeOf(t);
  const m = process.memoryUsage();
  const used = m.heapUsed + m.external;
  if (used > r.peakMemory) r.peakMemory = used;
  const v = t.config.values;
  const dataset = t.keyspace?.bytes ?? 0;
  const overhead = Math.max(0, used - dataset);
  const total = os.totalmem();
  return [
    ['used_memory', used],
    ['used_memory_human', bytesToHuman(used)],
    ['used_memory_rss', m.rss],
    ['used_memory_rss_human', bytesToHuman(m.rss)],
    ['used_memory_peak', r.peakMemory],
    ['used_memory_peak_human', bytesToHuman(r.peakMemory)],
    ['used_memory_peak_perc', `${((used / (r.peakMemory || 1)) * 100).toFixed(2)}%`],
    ['used_memory_overhead', overhead],
    ['used_memory_startup', r.startupMemory],
    ['used_memory_dataset', dataset],
    ['used_memory_dataset_perc', `${((dataset / (used || 1)) * 100).toFixed(2)}%`],
    ['allocator_allocated', m.heapTotal + m.external],
    ['allocator_active', m.heapTotal + m.external],
    ['allocator_resident', m.rss],
    ['total_system_memory', total],
    ['total_system_memory_human', bytesToHuman(total)],
    ...scriptMemory(t),
    ['maxmemory', v.maxmemory],
    ['maxmemory_human', bytesToHuman(v.maxmemory)],
    ['maxmemory_policy', v.maxmemoryPolicy],
    ['allocator_frag_ratio', '1.00'],
    ['allocator_frag_bytes', 0],
    ['allocator_rss_ratio', (m.rss / (m.heapTotal + m.external || 1)).toFixed(2)],
    ['allocator_rss_bytes', Math.max(0, m.rss - m.heapTotal - m.external)],
    ['rss_overhead_ratio', '1.00'],
    ['rss_overhead_bytes', 0],
    ['mem_fragmentation_ratio', (m.rss / (used || 1)).toFixed(2)],
    ['mem_fragmentation_bytes', m.rss - used],
    ['mem_not_counted_for_evict', 0],
    ['mem_replication_backlog', 0],
    ['mem_total_replication_buffers', 0],
    ['mem_clients_slaves', 0],
    ['mem_clients_normal', clientMemory(t)],
    ['mem_cluster_links', 0],
    ['mem_aof_buffer', 0],
    ['mem_allocator', mallocName()],
    ['active_defrag_running', 0],
    ['lazyfree_pending_objects', 0],
    ['lazyfreed_objects', 0],
  ];
}

function clientMemory(t: Talus): number {
  let n = 0;
  for (const c of t.clients.values()) n += c.memoryUsage;
  return n;
}

function persistence(t: Talus): Fields {
  const r = runtimeOf(t);
  // Everything is saved once committed to PostgreSQL: what is not yet is the
  // change-log tail past the durable point.
  const unsaved = (t.keyspace?.changelog.seq ?? 0) - (t.flusher?.durableSeq ?? 0);
  const healthy = t.flusher?.healthy ?? true;
  const b = t.backups;
  // With backups configured, a save is a full backup (src/backup): changes
  // since the last one are the change-log records after its offset.
  const backing = b?.configured ?? false;
  const sinceBackup = b && b.lastOffset >= 0 ? (t.keyspace?.changelog.seq ?? 0) - b.lastOffset : t.keyspace?.changelog.seq ?? 0;
  return [
    ['loading', t.replication?.loading ? 1 : 0],
    ['async_loading', 0],
    ['current_cow_peak', 0],
    ['current_cow_size', 0],
    ['current_cow_size_age', 0],
    ['current_fork_perc', '0.00'],
    ['current_save_keys_processed', 0],
    ['current_save_keys_total', 0],
    ['rdb_changes_since_last_save', Math.max(0, backing ? sinceBackup : unsaved)],
    ['rdb_bgsave_in_progress', (backing ? b.inProgress : r.bgsaveInProgress) ? 1 : 0],
    ['rdb_last_save_time', t.lastSave],
    ['rdb_last_bgsave_status', (backing ? b.lastOk : r.lastBgsaveOk) ? 'ok' : 'err'],
    ['rdb_last_bgsave_time_sec', backing ? b.lastSecs : r.lastBgsaveSecs],
    ['rdb_current_bgsave_time_sec', backing ? (b.inProgress ? Math.floor((Date.now() - b.startedAt) / 1000) : -1) : r.bgsaveInProgress ? Math.floor((Date.now() - r.bgsaveStartedAt) / 1000) : -1],
    ['rdb_saves', r.saves],
    ['rdb_last_cow_size', 0],
    ['rdb_last_load_keys_expired', 0],
    ['rdb_last_load_keys_loaded', 0],
    ['aof_enabled', t.config.values.appendonly ? 1 : 0],
    ['aof_rewrite_in_progress', 0],
    ['aof_rewrite_scheduled', 0],
    ['aof_last_rewrite_time_sec', -1],
    ['aof_current_rewrite_time_sec', -1],
    ['aof_last_bgrewrite_status', 'ok'],
    ['aof_rewrites', 0],
    ['aof_rewrites_consecutive_failures', 0],
    ['aof_last_write_status', healthy ? 'ok' : 'err'],
    ['aof_last_cow_size', 0],
    ['module_fork_in_progress', 0],
    ['module_fork_last_cow_size', 0],
    ...backupFields(t),
  ];
}

/** Talus's backup fields (docs/backup.md), after Redis's. */
function backupFields(t: Talus): Fields {
  const b = t.backups;
  if (!b) return [];
  return [
    ['backup_configured', b.configured ? 1 : 0],
    ['backup_full_backups_taken', b.backups],
    ['backup_last_offset', b.lastOffset],
    ['backup_last_size', b.lastSize],
    ['backup_last_error', b.lastError.replace(/[\r\n]+/g, ' ')],
    ['backup_archived_offset', b.archivedOffset ?? -1],
    ['backup_archive_lag', b.archiveLag(t.flusher?.durableSeq ?? 0)],
    ['backup_archive_files_written', b.archiveFiles],
    ['backup_archive_error', b.archiveError.replace(/[\r\n]+/g, ' ')],
  ];
}

/** Per-second rate over the sampler's window: [ops, input kbps, output kbps]. */
function rates(t: Talus): [number, number, number] {
  const s = runtimeOf(t).samples;
  if (s.length < 2) return [0, 0, 0];
  const a = s[0]!;
  const b = s[s.length - 1]!;
  const secs = (b[0] - a[0]) / 1000;
  if (secs <= 0) return [0, 0, 0];
  return [Math.round((b[1] - a[1]) / secs), (b[2] - a[2]) / secs / 1024, (b[3] - a[3]) / secs / 1024];
}

function stats(t: Talus): Fields {
  const s = t.stats;
  const ks = t.keyspace?.stats ?? { hits: 0, misses: 0, expired: 0, evicted: 0, loads: 0 };
  const [ops, inKbps, outKbps] = rates(t);
  return [
    ['total_connections_received', s.connectionsReceived],
    ['total_commands_processed', s.commandsProcessed],
    ['instantaneous_ops_per_sec', ops],
    ['total_net_input_bytes', s.netInputBytes],
    ['total_net_output_bytes', s.netOutputBytes],
    ['total_net_repl_input_bytes', 0],
    ['total_net_repl_output_bytes', 0],
    ['instantaneous_input_kbps', inKbps.toFixed(2)],
    ['instantaneous_output_kbps', outKbps.toFixed(2)],
    ['instantaneous_input_repl_kbps', '0.00'],
    ['instantaneous_output_repl_kbps', '0.00'],
    ['rejected_connections', s.rejectedConnections],
    ['sync_full', t.replication?.stats.syncFull ?? 0],
    ['sync_partial_ok', t.replication?.stats.syncPartialOk ?? 0],
    ['sync_partial_err', t.replication?.stats.syncPartialErr ?? 0],
    ['expired_keys', ks.expired],
    ['expired_stale_perc', '0.00'],
    ['expired_time_cap_reached_count', 0],
    ['expire_cycle_cpu_milliseconds', 0],
    ['evicted_keys', ks.evicted],
    ['evicted_clients', t.stats.evictedClients],
    ['total_eviction_exceeded_time', 0],
    ['current_eviction_exceeded_time', 0],
    ['keyspace_hits', ks.hits],
    ['keyspace_misses', ks.misses],
    ['pubsub_channels', t.pubsub.count('channel')],
    ['pubsub_patterns', t.pubsub.count('pattern')],
    ['pubsubshard_channels', t.pubsub.count('shard')],
    ['latest_fork_usec', 0],
    ['total_forks', 0],
    ['migrate_cached_sockets', 0],
    ['slave_expires_tracked_keys', 0],
    ['active_defrag_hits', 0],
    ['active_defrag_misses', 0],
    ['active_defrag_key_hits', 0],
    ['active_defrag_key_misses', 0],
    ['total_active_defrag_time', 0],
    ['current_active_defrag_time', 0],
    ['tracking_total_keys', t.tracking.totalKeys],
    ['tracking_total_items', t.tracking.totalItems],
    ['tracking_total_prefixes', t.tracking.totalPrefixes],
    ['unexpected_error_replies', 0],
    ['total_error_replies', s.errorReplies],
    ['dump_payload_sanitizations', 0],
    ['total_reads_processed', 0],
    ['total_writes_processed', 0],
    ['io_threaded_reads_processed', 0],
    ['io_threaded_writes_processed', 0],
    ['reply_buffer_shrinks', 0],
    ['reply_buffer_expands', 0],
  ];
}

function replication(t: Talus): Fields {
  return t.replication?.infoFields() ?? [['role', t.role]];
}

function cpu(): Fields {
  const u = process.cpuUsage();
  const sys = (u.system / 1e6).toFixed(6);
  const user = (u.user / 1e6).toFixed(6);
  return [
    ['used_cpu_sys', sys],
    ['used_cpu_user', user],
    ['used_cpu_sys_children', '0.000000'],
    ['used_cpu_user_children', '0.000000'],
    ['used_cpu_sys_main_thread', sys],
    ['used_cpu_user_main_thread', user],
  ];
}

function commandstats(t: Talus): Fields {
  const out: Fields = [];
  const add = (c: Command) => {
    const s = c.stats;
    if (s.calls === 0 && s.failed === 0 && s.rejected === 0) return;
    const per = s.calls === 0 ? 0 : s.usec / s.calls;
    out.push([
      `cmdstat_${c.fullName}`,
      `calls=${s.calls},usec=${s.usec},usec_per_call=${per.toFixed(2)},rejected_calls=${s.rejected},failed_calls=${s.failed}`,
    ]);
  };
  for (const c of t.commands.all()) {
    add(c);
    for (const sub of c.subcommands.values()) add(sub);
  }
  return out;
}

/** Per-command latency percentiles (latency-tracking), in command table order. */
function latencystats(t: Talus): Fields {
  const v = t.config.values;
  if (!v.latencyTracking) return [];
  const order: string[] = [];
  for (const c of t.commands.all()) {
    order.push(c.fullName);
    for (const sub of c.subcommands.values()) order.push(sub.fullName);
  }
  return t.latencyTracker.infoFields(v.latencyTrackingInfoPercentiles, order);
}

function errorstats(t: Talus): Fields {
  return [...t.errorCounts].map(([code, n]): [string, string] => [`errorstat_${code}`, `count=${n}`]);
}

function keyspace(t: Talus): Fields {
  const out: Fields = [];
  for (const db of t.keyspace?.dbs ?? []) {
    if (db.count <= 0) continue;
    const now = Date.now();
    let expires = 0;
    let ttlSum = 0;
    for (const e of db.expiring) {
      if (e.type === null || e.expireAt === 0) continue;
      expires++;
      ttlSum += Math.max(0, e.expireAt - now);
    }
    out.push([`db${db.index}`, `keys=${db.count},expires=${expires},avg_ttl=${expires ? Math.round(ttlSum / expires) : 0}`]);
  }
  return out;
}

function talus(t: Talus): Fields {
  const ks = t.keyspace;
  const f = t.flusher;
  let entries = 0;
  let complete = 0;
  for (const db of ks?.dbs ?? []) {
    entries += db.entries.size;
    if (db.complete) complete++;
  }
  return [
    ['talus_version', VERSION.talus],
    ['storage', t.embedded ? 'embedded' : 'external'],
    ['storage_healthy', f?.healthy === false ? 0 : 1],
    ['storage_last_error', (f?.lastError ?? '').replace(/[\r\n]+/g, ' ')],
    ...embeddedSupervision(t),
    ['hot_set_bytes', ks?.bytes ?? 0],
    ['hot_set_bytes_human', bytesToHuman(ks?.bytes ?? 0)],
    ['hot_set_entries', entries],
    // how far below maxmemory the hot set is held while RSS is near maxmemory + 200 MB (server/memory.ts)
    ['hot_set_squeeze_bytes', Math.round(t.memory.squeeze)],
    ['dbs_fully_resident', complete],
    ...nameFilterFields(ks),
    ['dirty_entries', ks?.dirtyCount ?? 0],
    ['throttled_clients', t.throttledCount],
    ['big_request_bytes', t.bigReads.bytes],
    ['big_request_held_clients', t.bigReads.heldCount],
    ['big_reply_bytes', t.bigReplies.bytes],
    ['big_reply_held_clients', t.bigReplies.heldCount],
    ['big_reply_gate_closings', t.bigReplies.closings],
    ['changelog_seq', ks?.changelog.seq ?? 0],
    ['durable_seq', f?.durableSeq ?? 0],
    ['flusher_commits', f?.stats.commits ?? 0],
    ['flusher_entries', f?.stats.entries ?? 0],
    ['flusher_failures', f?.stats.failures ?? 0],
    ['flusher_last_commit_ms', f?.stats.lastCommitMs ?? 0],
    ['keys_loaded', ks?.stats.loads ?? 0],
    // a lookup is served from memory unless its key had to be read from PostgreSQL
    ['hot_set_hits', Math.max(0, (ks?.stats.hits ?? 0) + (ks?.stats.misses ?? 0) - (ks?.stats.loads ?? 0))],
    ['hot_set_misses', ks?.stats.loads ?? 0],
    ...poolFields(t),
    ['unreported_mutations', ks?.stats.unreported ?? 0],
    ['unplanned_key_accesses', ks?.stats.unplanned ?? 0],
    ['key_read_queries', t.loader?.stats.keyQueries ?? 0],
    ['memory_guard_collections', t.memory.collections],
    ['paged_opens', t.loader?.stats.pagedOpens ?? 0],
    ['paged_partial_reads', t.loader?.stats.partialReads ?? 0],
    ['paged_whole_reads', t.loader?.stats.wholeReads ?? 0],
    ['paged_streamed_reads', t.loader?.stats.streamedReads ?? 0],
    ['scheduler_waiting', t.scheduler?.waiting ?? 0],
    ['clients_awaiting_durability', t.awaitingDurability.size],
    ['active_expire_enabled', t.activeExpire ? 1 : 0],
  ];
}

/**
 * The name filters (keyspace/name-filter.ts): names and bytes of every db's
 * (their bytes are in used_memory and used_memory_overhead, as ArrayBuffers
 * outside the hot set), dbs whose filter is ready, being built or was given
 * up, and names they ruled out (reads of PostgreSQL not made).
 */
function nameFilterFields(ks: Keyspace | undefined): Fields {
  let names = 0;
  let bytes = 0;
  let ready = 0;
  let building = 0;
  for (const db of ks?.dbs ?? []) {
    const f = db.names;
    if (f === undefined) continue;
    names += f.names;
    bytes += f.bytes;
    if (f.ready) ready++;
    else building++;
  }
  return [
    ['name_filter_names', names],
    ['name_filter_bytes', bytes],
    ['name_filter_bytes_human', bytesToHuman(bytes)],
    ['name_filters_ready', ready],
    ['name_filters_building', building],
    ['name_filters_given_up', ks?.stats.nameFiltersDropped ?? 0],
    ['name_filter_reads_avoided', ks?.stats.ruledOut ?? 0],
  ];
}

/** The PostgreSQL pool: connections open, idle, and requests waiting for one. */
function poolFields(t: Talus): Fields {
  const p = t.database?.poolState();
  return p ? [['pg_pool_total', p.total], ['pg_pool_idle', p.idle], ['pg_pool_waiting', p.waiting]] : [];
}

/** The embedded PostgreSQL's supervisor: is it up, how often it was restarted, its last exit. */
function embeddedSupervision(t: Talus): Fields {
  const s = t.embedded?.supervision;
  if (!s) return [];
  return [
    ['embedded_pg_up', s.up ? 1 : 0],
    ['embedded_pg_restarts', s.restarts],
    ['embedded_pg_last_exit', s.lastExit || 'none'],
    ['embedded_pg_last_exit_time', Math.floor(s.lastExitAt / 1000)],
    ['embedded_pg_last_recovery_ms', s.lastRecoveryMs],
  ];
}

const SECTION_FIELDS: Record<Section, (t: Talus) => Fields> = {
  server,
  clients,
  memory,
  persistence,
  stats,
  replication,
  cpu: () => cpu(),
  modules: () => [],
  commandstats,
  errorstats,
  latencystats,
  cluster: () => [['cluster_enabled', 0]],
  keyspace,
  talus,
};
