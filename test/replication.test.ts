import { expect } from 'chai';
import pg from 'pg';
import type { Redis } from 'ioredis';
import { infoFields, freshDatabase, startTalus, type TalusProcess } from './support/harness.js';
import { compareDatasets, printableKey, readDataset } from './support/dataset.js';
import { effectArgs, readChangelog } from './support/changelog-replay.js';
import { SHORT_TTL_MS, WORKLOAD_DBS, Workload, type Cmd } from './support/workload.js';

/**
 * Replication (docs/replication.md) with real processes: a leader and two
 * followers converge under the replay test's randomized workload (one
 * follower full-synced before the load, one joining in the middle of it),
 * a follower killed with kill -9 resumes with a partial sync, followers
 * refuse writes, REPLICAOF NO ONE promotes, an unfinished full sync answers
 * -LOADING until a new one completes, a leader killed with kill -9 and
 * restarted is resumed from with a partial sync, and a full sync carries a
 * stream's pending entries whose entries are gone.
 */
const SEED = Number(process.env.TALUS_REPL_SEED ?? Math.floor(Math.random() * 2 ** 31));
const COMMANDS = Number(process.env.TALUS_REPL_COMMANDS ?? 6000);
const BATCH = 200;
const BIG_MEMBERS = 300;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Poll until `check` holds (the link is asynchronous); fails with `what` after `ms`. */
/** A server loading a full sync answers -LOADING: not yet, for `until`. */
const notYetIfLoading = (err: Error): false => {
  if (err.message.startsWith('LOADING')) return false;
  throw err;
};

async function until(what: string, check: () => Promise<boolean>, ms = 60_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check().catch(notYetIfLoading))) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

/** The leader's offset is applied (and committed) by every follower. */
async function caughtUp(leader: Redis, followers: Redis[]): Promise<void> {
  const offset = Number((await infoFields(leader, 'replication')).master_repl_offset);
  for (const f of followers) {
    await until(`a follower at offset ${offset}`, async () => Number((await infoFields(f, 'replication')).slave_repl_offset) >= offset);
  }
}

describe('replication', function () {
  this.timeout(600_000);
  let leader: TalusProcess | undefined;
  let f1: TalusProcess | undefined;
  let f2: TalusProcess | undefined;
  after(async () => {
    await Promise.all([leader?.stop(), f1?.stop(), f2?.stop()]);
  });

  it(`a leader and two followers converge under ${COMMANDS} randomized commands; kill -9 resumes partially; NO ONE promotes (seed ${SEED})`, async () => {
    const urlL = await freshDatabase();
    leader = await startTalus(['--paged-collection-threshold', '100'], { databaseUrl: urlL });
    const l = leader.client();
    const work = new Workload(SEED, BIG_MEMBERS);
    const run = async (db: number, cmds: Cmd[]) => {
      const p = l.pipeline();
      p.select(db);
      for (const cmd of cmds) p.callBuffer(String(cmd[0]), ...cmd.slice(1));
      await p.exec();
    };
    // Data before any follower: the first full sync carries it (big collections too).
    for (const set of [0, 1]) await run(0, work.seedBig(set));
    let done = 0;
    const load = async (upTo: number) => {
      for (let batch = 0; done < upTo; batch++) {
        const cmds: Cmd[] = [];
        while (cmds.length < BATCH) cmds.push(...work.next());
        if (batch % 15 === 7) cmds.push(['FLUSHDB']);
        done += cmds.length;
        await run(work.pick(WORKLOAD_DBS), cmds);
      }
    };
    await load(COMMANDS * 0.2);

    const url1 = await freshDatabase();
    f1 = await startTalus(['--replicaof', '127.0.0.1', String(leader.port)], { databaseUrl: url1 });
    f2 = await startTalus([]);
    const r2 = f2.client();
    // F2 becomes a follower by command, while the load runs.
    const joining = (async () => {
      await sleep(300);
      expect(await r2.call('REPLICAOF', '127.0.0.1', String(leader!.port))).to.equal('OK');
    })();
    await Promise.all([load(COMMANDS * 0.5), joining]);

    // Followers refuse writes, and say who they follow.
    const r1 = f1.client();
    await until('F1 linked', async () => (await infoFields(r1, 'replication')).master_link_status === 'up');
    await until('F2 linked', async () => (await infoFields(r2, 'replication')).master_link_status === 'up');
    const err = await r1.set('x', '1').catch((e: Error) => e);
    expect(String(err)).to.contain("READONLY You can't write against a read only replica.");
    const role = (await r1.call('ROLE')) as unknown[];
    expect(role.slice(0, 4)).to.deep.equal(['slave', '127.0.0.1', leader.port, 'connected']);

    // F1 killed with kill -9 while writes go on, then restarted on its database: a partial sync.
    const before = await infoFields(l, 'stats');
    await f1.kill();
    await load(COMMANDS * 0.75);
    f1 = await startTalus(['--replicaof', '127.0.0.1', String(leader.port)], { databaseUrl: url1 });
    await load(COMMANDS);
    const r1b = f1.client();
    await until('F1 linked again', async () => (await infoFields(r1b, 'replication')).master_link_status === 'up');
    const stats = await infoFields(l, 'stats');
    expect(Number(stats.sync_partial_ok), 'partial syncs').to.equal(Number(before.sync_partial_ok) + 1);
    expect(Number(stats.sync_full), 'full syncs').to.equal(Number(before.sync_full));

    // Converged: WAIT sees both followers commit the last write; the data sets agree.
    await sleep(SHORT_TTL_MS + 50);
    const l0 = leader.client(); // db 0 (the load's client SELECTs)
    await l0.set('last', 'write');
    expect(await l0.call('WAIT', '2', '60000')).to.equal(2);
    await caughtUp(l, [r1b, r2]);
    const info = await infoFields(l, 'replication');
    expect(info.role).to.equal('master');
    expect(info.connected_slaves).to.equal('2');
    expect(info.slave0).to.match(/^ip=127\.0\.0\.1,port=\d+,state=online,offset=\d+,lag=\d+$/);
    const expected = await readDataset(l, WORKLOAD_DBS);
    const differing: string[] = [];
    for (const [name, f] of [['F1', r1b], ['F2', r2]] as const) {
      const got = await readDataset(f, WORKLOAD_DBS);
      const differences = compareDatasets(expected, got, Date.now());
      if (differences.length > 0) differing.push(`${name} differs from the leader in ${differences.length} keys (seed ${SEED})`);
      for (const d of differences.slice(0, 5)) differing.push(`${name}: db ${d.db} ${printableKey(d.key)}: ${d.what}`);
    }
    expect(differing).to.deep.equal([]);

    // REPLICAOF NO ONE promotes: writable, a master, its data kept.
    expect(await r2.call('REPLICAOF', 'NO', 'ONE')).to.equal('OK');
    expect(await r2.set('promoted', 'yes')).to.equal('OK');
    expect(((await r2.call('ROLE')) as unknown[])[0]).to.equal('master');
    expect(await f2.client().get('last')).to.equal('write'); // db 0 (readDataset left r2 in another)
    await until('the leader sees one follower', async () => (await infoFields(l, 'replication')).connected_slaves === '1');

    // A full sync that never finished (as after a kill -9 in its middle) leaves a
    // partial data set: -LOADING until a full sync completes, never served as healthy.
    await f1.kill();
    const db = new pg.Client({ connectionString: url1 });
    await db.connect();
    await db.query('UPDATE talus.replication SET master_offset = -1');
    await db.end();
    f1 = await startTalus(['--replicaof', '127.0.0.1', '1'], { databaseUrl: url1 }); // no leader there
    const r1c = f1.client({ enableReadyCheck: false }); // ioredis's ready check would wait for loading:0
    expect(String(await r1c.get('last').catch((e: Error) => e))).to.contain('LOADING Redis is loading the dataset in memory');
    expect((await infoFields(r1c, 'persistence')).loading).to.equal('1');
    // replica-serve-stale-data no: with the link down, MASTERDOWN comes first (as in Redis)
    await r1c.config('SET', 'replica-serve-stale-data', 'no');
    expect(String(await r1c.get('last').catch((e: Error) => e))).to.contain("MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'.");
    await r1c.config('SET', 'replica-serve-stale-data', 'yes');
    const fullBefore = Number((await infoFields(l, 'stats')).sync_full);
    expect(await r1c.call('REPLICAOF', '127.0.0.1', String(leader.port))).to.equal('OK');
    await until('F1 fully synced', async () => (await infoFields(r1c, 'replication')).master_link_status === 'up');
    expect(await r1c.get('last')).to.equal('write');
    expect(Number((await infoFields(l, 'stats')).sync_full)).to.equal(fullBefore + 1);

    // The leader killed with kill -9 and restarted on its database and port: same
    // replication id (kept in PostgreSQL), so its follower resumes with a partial sync.
    const port = leader.port;
    await leader.kill();
    leader = await startTalus(['--port', String(port)], { databaseUrl: urlL });
    const lb = leader.client();
    await lb.set('after', 'restart');
    await until('F1 sees the write', async () => (await r1c.get('after')) === 'restart');
    const restarted = await infoFields(lb, 'stats');
    expect([restarted.sync_full, restarted.sync_partial_ok]).to.deep.equal(['0', '1']);
  });
});

/**
 * Servers of one describe block, all stopped after it (resumed first: a
 * failure may leave one SIGSTOPped). `start` takes startTalus's arguments.
 */
function serversStoppedAfter(): typeof startTalus {
  const started: TalusProcess[] = [];
  after(async () => {
    for (const p of started) if (p.proc.exitCode === null && p.proc.signalCode === null) p.proc.kill('SIGCONT');
    await Promise.all(started.map((p) => p.stop()));
  });
  return async (...args) => {
    const p = await startTalus(...args);
    started.push(p);
    return p;
  };
}

describe('replication: a leader gone in the middle of a full sync', function () {
  this.timeout(120_000);
  const start = serversStoppedAfter();

  it('the follower keeps its old data set (none of the snapshot applied) and completes a sync once the leader is back', async () => {
    const urlL = await freshDatabase();
    let leader = await start([], { databaseUrl: urlL });
    const l = leader.client();
    // Big values: the snapshot takes many round trips of the leader's 8 MB window.
    const big = Buffer.alloc(256 * 1024, 'v');
    for (let i = 0; i < 200; i += 20) {
      const p = l.pipeline();
      for (let j = i; j < i + 20; j++) p.set(`big:${j}`, big);
      await p.exec();
    }
    // The follower-to-be holds another data set, its own (a leader until now).
    const follower = await start([]);
    const f = follower.client();
    const p = f.pipeline();
    for (let i = 0; i < 100; i++) p.set(`old:${i}`, String(i));
    await p.exec();

    expect(await f.call('REPLICAOF', '127.0.0.1', String(leader.port))).to.equal('OK');
    // Freeze the leader once the snapshot is flowing: the follower holds part of it.
    await until('the snapshot to flow', async () => {
      const r = await infoFields(f, 'replication');
      return r.master_sync_in_progress === '1' && Number(r.master_sync_read_bytes) > 0;
    });
    leader.proc.kill('SIGSTOP');
    const during = await infoFields(f, 'replication');
    expect([during.master_link_status, during.master_sync_in_progress], 'link, sync in progress').to.deep.equal(['down', '1']);
    expect(Number(during.master_sync_read_bytes)).to.be.greaterThan(0);
    // replica-serve-stale-data yes: the old data set is served while the snapshot arrives, and nothing of the snapshot shows.
    expect(await f.get('old:7')).to.equal('7');
    expect(await f.dbsize()).to.equal(100);
    expect(await f.exists('big:0')).to.equal(0);
    expect((await infoFields(f, 'persistence')).loading).to.equal('0');

    // kill -9 of the leader in the middle of the transfer.
    const port = leader.port;
    await leader.kill();
    await until('the follower to see the link gone', async () => (await infoFields(f, 'replication')).master_sync_in_progress === '0');
    const gone = await infoFields(f, 'replication');
    expect(gone.master_link_status).to.equal('down');
    expect(Number(gone.master_link_down_since_seconds)).to.be.at.least(-1);
    expect(await f.dbsize()).to.equal(100);
    expect(await f.get('old:99')).to.equal('99');
    expect(await f.exists('big:0')).to.equal(0);
    expect((await infoFields(f, 'persistence')).loading).to.equal('0');
    expect(String(await f.set('x', '1').catch((e: Error) => e))).to.contain('READONLY');

    // The leader back on its database and port: the follower completes a (full) sync.
    leader = await start(['--port', String(port)], { databaseUrl: urlL });
    await until('the follower synced', async () => (await infoFields(f, 'replication')).master_link_status === 'up');
    expect(await f.dbsize()).to.equal(200);
    expect(await f.exists('old:7')).to.equal(0);
    expect((await f.getBuffer('big:199'))?.equals(big)).to.equal(true);
    expect((await infoFields(leader.client(), 'stats')).sync_full).to.equal('1');
  });
});

describe('replication options', function () {
  this.timeout(120_000);
  const start = serversStoppedAfter();

  it('replica-announce-ip/port, min-replicas-to-write (NOREPLICAS), a follower refusing to follow itself', async () => {
    const leader = await start([]);
    const l = leader.client();
    const follower = await start(['--replicaof', '127.0.0.1', String(leader.port), '--replica-announce-ip', '10.1.2.3', '--replica-announce-port', '4242']);
    const f = follower.client();
    await until('the follower linked', async () => (await infoFields(f, 'replication')).master_link_status === 'up');
    // What the follower announces is what the leader shows (and Sentinel connects to).
    await until('an ACK', async () => /^ip=10\.1\.2\.3,port=4242,state=online,/.test((await infoFields(l, 'replication')).slave0 ?? ''));

    // min-replicas-to-write: writes (and EXEC of writes) refused without enough good followers, as Redis.
    await l.config('SET', 'min-replicas-to-write', '2');
    expect((await infoFields(l, 'replication')).min_slaves_good_slaves).to.equal('1');
    expect(String(await l.set('k', 'v').catch((e: Error) => e))).to.contain('NOREPLICAS Not enough good replicas to write.');
    expect(await l.get('k')).to.equal(null);
    const tx = await l.multi().set('k', 'v').exec().catch((e: Error) => e);
    expect(String(tx)).to.contain('EXECABORT Transaction discarded because of previous errors.');
    await l.config('SET', 'min-replicas-to-write', '1');
    expect(await l.set('k', 'v')).to.equal('OK');
    await l.config('SET', 'min-replicas-to-write', '0');
    expect((await infoFields(l, 'replication')).min_slaves_good_slaves).to.equal(undefined);

    // A transaction reaches the follower as MULTI ... EXEC records (4 here), applied there as one EXEC.
    const offset = Number((await infoFields(l, 'replication')).master_repl_offset);
    expect(await l.multi().set('t1', 'a').set('t2', 'b').exec()).to.deep.equal([[null, 'OK'], [null, 'OK']]);
    expect(Number((await infoFields(l, 'replication')).master_repl_offset)).to.equal(offset + 4);
    await until('the follower applied it', async () => (await f.get('t2')) === 'b');
    expect(await f.get('t1')).to.equal('a');
    expect(await f.info('commandstats')).to.match(/cmdstat_exec:calls=1,/);
    expect(Number((await infoFields(f, 'replication')).slave_repl_offset)).to.equal(offset + 4);

    // A server told to follow itself refuses in the handshake, with a clear message, and stays unlinked.
    expect(await l.call('REPLICAOF', '127.0.0.1', String(leader.port))).to.equal('OK');
    await until('the refusal logged', async () => leader!.output().includes("Can't replicate from myself"));
    expect((await infoFields(l, 'replication')).master_link_status).to.equal('down');
    expect(await l.call('REPLICAOF', 'NO', 'ONE')).to.equal('OK');
    expect(await l.set('k2', 'v')).to.equal('OK');
  });
});

describe('replication of scripts', function () {
  this.timeout(120_000);
  const start = serversStoppedAfter();

  it("a script's writes are one MULTI ... EXEC unit in the change log, and a follower never shows part of them", async () => {
    const url = await freshDatabase();
    const leader = await start([], { databaseUrl: url });
    const l = leader.client();
    const follower = await start(['--replicaof', '127.0.0.1', String(leader.port)]);
    const f = follower.client();
    await until('the follower linked', async () => (await infoFields(f, 'replication')).master_link_status === 'up');

    // Each run sets the N keys to one generation: a reader must always see them equal.
    const N = 50;
    const keys = Array.from({ length: N }, (_, i) => `inv:${i}`);
    const script = 'for i, k in ipairs(KEYS) do redis.call("SET", k, ARGV[1]) end return #KEYS';
    const offset = Number((await infoFields(l, 'replication')).master_repl_offset);
    expect(await l.eval(script, N, ...keys, '0')).to.equal(N);
    expect(Number((await infoFields(l, 'replication')).master_repl_offset), 'MULTI, N effects, EXEC').to.equal(offset + N + 2);
    // one write: a lone record, as Redis 7 streams it
    expect(await l.eval('return redis.call("SET", KEYS[1], "x")', 1, 'single')).to.equal('OK');
    expect(Number((await infoFields(l, 'replication')).master_repl_offset)).to.equal(offset + N + 3);
    await caughtUp(l, [f]);

    let stop = false;
    let reads = 0;
    const torn: string[] = [];
    const reader = (async () => {
      while (!stop) {
        const vals = await f.mget(...keys);
        reads++;
        if (new Set(vals).size !== 1) torn.push(`generation mix: ${[...new Set(vals)].join(',')}`);
      }
    })();
    const GENERATIONS = 150;
    for (let g = 1; g <= GENERATIONS; g++) await l.eval(script, N, ...keys, String(g));
    // a script long enough to span the engine's time slices (its first effects would otherwise commit alone)
    const long = 'for i = 1, 20000 do redis.call("SET", "long:" .. (i % 100), ARGV[1]) end for i, k in ipairs(KEYS) do redis.call("SET", k, ARGV[1]) end return 1';
    expect(await l.eval(long, N, ...keys, 'last')).to.equal(1);
    await caughtUp(l, [f]);
    stop = true;
    await reader;
    expect(torn.slice(0, 3)).to.deep.equal([]);
    expect(reads).to.be.greaterThan(0);
    expect(new Set(await f.mget(...keys))).to.deep.equal(new Set(['last']));

    // The committed change log: every script's SETs of inv:* sit between a MULTI and its EXEC.
    const records = await readChangelog(url);
    let open = false;
    let units = 0;
    for (const r of records) {
      const args = effectArgs(r.effect).map((a) => a.toString());
      if (args[0] === 'MULTI') {
        expect(open, `MULTI inside MULTI at ${r.seq}`).to.equal(false);
        open = true;
      } else if (args[0] === 'EXEC') {
        expect(open, `EXEC without MULTI at ${r.seq}`).to.equal(true);
        open = false;
        units++;
      } else if (args[1]?.startsWith('inv:') || args[1]?.startsWith('long:')) {
        expect(open, `${args.join(' ')} outside MULTI ... EXEC at ${r.seq}`).to.equal(true);
      } else if (args[1] === 'single') {
        expect(open, 'a one-write script is not wrapped').to.equal(false);
      }
    }
    expect(units).to.equal(GENERATIONS + 2);
  });
});

describe('replication retention', function () {
  this.timeout(120_000);
  const start = serversStoppedAfter();

  it('the age retention keeps the change log a connected follower still needs; a gone follower holds nothing', async () => {
    const leader = await start(['--changelog-retention-seconds', '1']);
    const l = leader.client();
    const follower = await start(['--replicaof', '127.0.0.1', String(leader.port)]);
    const f = follower.client();
    await until('the follower linked', async () => (await infoFields(f, 'replication')).master_link_status === 'up');
    await l.set('k0', 'v');
    await caughtUp(l, [f]);
    const acked = async () => Number(/offset=(\d+)/.exec((await infoFields(l, 'replication')).slave0 ?? '')?.[1] ?? -1);
    await until('the follower acknowledged', async () => (await acked()) === Number((await infoFields(l, 'replication')).master_repl_offset));
    const ack = await acked();

    // Stopped (its connection open, no ACKs): everything after its ACK stays, past the age limit.
    follower.proc.kill('SIGSTOP');
    for (let i = 1; i <= 20; i++) {
      await l.set(`k${i}`, 'v');
      await sleep(100);
    }
    await sleep(7000); // over the age limit, several trim rounds and INFO's refresh of the first retained record
    expect(Number((await infoFields(l, 'replication')).repl_backlog_first_byte_offset)).to.be.at.most(ack + 1);
    follower.proc.kill('SIGCONT');
    await caughtUp(l, [f]);
    expect(await f.get('k20')).to.equal('v');

    // Gone: the age limit trims down to the newest segment.
    await follower.kill();
    const last = Number((await infoFields(l, 'replication')).master_repl_offset);
    await until('the log trimmed', async () => Number((await infoFields(l, 'replication')).repl_backlog_first_byte_offset) === last, 30_000);
  });
});

describe('replication output', function () {
  this.timeout(120_000);
  const start = serversStoppedAfter();

  it("a follower that does not read holds bounded output on its leader; past the replica output limit it is dropped and resumes with a partial sync", async () => {
    const leader = await start([]);
    const l = leader.client();
    const follower = await start(['--replicaof', '127.0.0.1', String(leader.port)]);
    const f = follower.client();
    await until('the follower linked', async () => (await infoFields(f, 'replication')).master_link_status === 'up');
    const replicaOmem = async () => Number(/omem=(\d+)/.exec(String(await l.client('LIST')).split('\n').find((line: string) => /flags=S/.test(line)) ?? '')?.[1] ?? -1);
    const value = 'x'.repeat(1 << 20);

    // 32 MB written while the follower is stopped: the leader holds at most ~8 MB (+ a commit) for it.
    follower.proc.kill('SIGSTOP');
    let most = 0;
    for (let i = 0; i < 32; i++) {
      await l.set(`big${i}`, value);
      most = Math.max(most, await replicaOmem());
    }
    expect(most, 'most unsent output held for the follower').to.be.within(1, 12 << 20);
    follower.proc.kill('SIGCONT');
    await caughtUp(l, [f]);
    expect(await f.strlen('big31')).to.equal(1 << 20);

    // client-output-buffer-limit replica: a record that passes it drops the follower, which resumes from the change log.
    await l.config('SET', 'client-output-buffer-limit', 'replica 3mb 0 0');
    const before = await infoFields(l, 'stats');
    follower.proc.kill('SIGSTOP');
    await l.set('huge', 'y'.repeat(4 << 20));
    await until('the follower dropped', async () => leader!.output().includes('scheduled to be closed ASAP for overcoming of output buffer limits'));
    await l.config('SET', 'client-output-buffer-limit', 'replica 256mb 64mb 60');
    follower.proc.kill('SIGCONT');
    await until('the follower back', async () => (await infoFields(l, 'replication')).connected_slaves === '1' && (await infoFields(f, 'replication')).master_link_status === 'up');
    await caughtUp(l, [f]);
    expect(await f.strlen('huge')).to.equal(4 << 20);
    const after = await infoFields(l, 'stats');
    expect(Number(after.sync_partial_ok)).to.equal(Number(before.sync_partial_ok) + 1);
    expect(after.sync_full).to.equal(before.sync_full);
  });
});

describe('FAILOVER', function () {
  this.timeout(120_000);
  const servers: TalusProcess[] = [];
  after(async () => {
    for (const s of servers) if (s.proc.exitCode === null) s.proc.kill('SIGCONT'); // a test that failed with a follower stopped
    await Promise.all(servers.map((s) => s.stop()));
  });

  const err = async (p: Promise<unknown>) => String(await p.catch((e: Error) => e));
  const state = async (r: Redis) => (await infoFields(r, 'replication')).master_failover_state;

  /** A leader and two linked followers (F1 on a database of its own, to restart it on), 100 keys written. */
  async function trio() {
    const leader = await startTalus([]);
    servers.push(leader);
    const l = leader.client();
    const f1Db = await freshDatabase();
    const f1 = await startTalus(['--replicaof', '127.0.0.1', String(leader.port)], { databaseUrl: f1Db });
    const f2 = await startTalus(['--replicaof', '127.0.0.1', String(leader.port)]);
    servers.push(f1, f2);
    const r1 = f1.client();
    const r2 = f2.client();
    for (const r of [r1, r2]) await until('a follower linked', async () => (await infoFields(r, 'replication')).master_link_status === 'up');
    for (let i = 0; i < 100; i++) await l.set(`k${i}`, String(i));
    return { leader, l, f1, f1Db, f2, r1, r2 };
  }

  it('hands leadership to a synced follower, which continues the history; the old leader follows it', async () => {
    const t = await trio();
    const { l, f2, r1, r2, f1Db } = t;
    let f1 = t.f1;

    // Redis's refusals.
    expect(await err(r1.call('FAILOVER'))).to.contain('ERR FAILOVER is not valid when server is a replica.');
    expect(await err(l.call('FAILOVER', 'ABORT'))).to.contain('ERR No failover in progress.');
    expect(await err(l.call('FAILOVER', 'TO', '127.0.0.1', '1'))).to.contain('ERR FAILOVER target HOST and PORT is not a replica.');
    expect(await err(l.call('FAILOVER', 'FORCE'))).to.contain('ERR FAILOVER with force option requires both a timeout and target HOST and IP.');
    expect(await err(l.call('FAILOVER', 'TIMEOUT', '0'))).to.contain('ERR FAILOVER timeout must be greater than 0');

    expect(await l.call('FAILOVER', 'TO', '127.0.0.1', String(f1.port), 'TIMEOUT', '10000')).to.equal('OK');
    await until('F1 to lead', async () => ((await r1.call('ROLE')) as unknown[])[0] === 'master');
    await until('the old leader to follow F1', async () => {
      const r = await infoFields(l, 'replication');
      return r.role === 'slave' && r.master_port === String(f1.port) && r.master_link_status === 'up' && r.master_failover_state === 'no-failover';
    });
    const stats = await infoFields(r1, 'stats');
    expect([stats.sync_partial_ok, stats.sync_full], 'partial syncs, full syncs on F1').to.deep.equal(['1', '0']);
    expect(String(await l.set('x', '1').catch((e: Error) => e))).to.contain('READONLY');

    // F1's writes reach the old leader and, through it, F2 (which continued under the new id).
    expect(await r1.set('after', 'failover')).to.equal('OK');
    await until('the old leader has the write', async () => (await l.get('after')) === 'failover');
    await until('F2 has the write', async () => (await r2.get('after')) === 'failover');
    expect(await r2.get('k99')).to.equal('99');
    const ids = await infoFields(r1, 'replication');
    expect((await infoFields(r2, 'replication')).master_replid).to.equal(ids.master_replid);

    // The new leader restarted on its database keeps its history (replid, replid2, offsets): its followers resume.
    const port = f1.port;
    await f1.kill();
    f1 = await startTalus(['--port', String(port)], { databaseUrl: f1Db });
    servers.push(f1);
    const r1b = f1.client();
    const again = await infoFields(r1b, 'replication');
    expect([again.master_replid, again.master_replid2, again.second_repl_offset]).to.deep.equal([ids.master_replid, ids.master_replid2, ids.second_repl_offset]);
    await r1b.set('after', 'restart');
    await until('the old leader has the write', async () => (await l.get('after')) === 'restart');
    expect(Number((await infoFields(r1b, 'stats')).sync_full), 'full syncs after the restart').to.equal(0);
  });

  it('TIMEOUT gives up on a follower that cannot catch up, ABORT puts the leader back, FORCE promotes anyway; expiry waits while writes are held', async () => {
    const { leader, l, f2, r1, r2 } = await trio();
    const l2 = leader.client(); // held writes: a connection of their own
    // Redis 7.0.15's refusals of bad combinations (checked against redis-server).
    expect(await err(l.call('FAILOVER', 'ABORT', 'TIMEOUT', '10'))).to.contain('ERR syntax error');
    expect(await err(l.call('FAILOVER', 'TIMEOUT', '10', 'ABORT'))).to.contain('ERR syntax error');
    expect(await err(l.call('FAILOVER', 'FORCE', 'TIMEOUT', '100'))).to.contain('ERR FAILOVER with force option requires both a timeout and target HOST and IP.');
    expect(await err(l.call('FAILOVER', 'TO', '127.0.0.1', String(f2.port), 'FORCE'))).to.contain('ERR FAILOVER with force option requires both a timeout and target HOST and IP.');
    expect(await err(l.call('FAILOVER', 'TIMEOUT', 'abc'))).to.contain('ERR value is not an integer or out of range');
    expect(await err(l.call('FAILOVER', 'TIMEOUT', '-1'))).to.contain('ERR FAILOVER timeout must be greater than 0');
    expect(await err(l.call('FAILOVER', 'TO', '127.0.0.1'))).to.contain('ERR syntax error');
    expect(await err(l.call('FAILOVER', 'TO', '127.0.0.1', 'abc'))).to.contain('ERR value is not an integer or out of range');
    expect(await err(l.call('FAILOVER', 'TIMEOUT', '10', 'TIMEOUT', '20'))).to.contain('ERR syntax error');
    expect(await err(l.call('FAILOVER', 'FORCE', 'FORCE', 'TO', '127.0.0.1', String(f2.port), 'TIMEOUT', '10'))).to.contain('ERR syntax error');
    expect(await err(l.call('FAILOVER', 'ABORT', 'ABORT'))).to.contain('ERR syntax error');

    // F2 stopped: it acknowledges nothing more, and misses the next write.
    f2.proc.kill('SIGSTOP');
    await l.set('missed', 'by f2');

    // ABORT while waiting for sync: the held write runs on the leader. Expiry waits meanwhile (no DEL while writes are held).
    await l.set('ttl', 'v', 'PX', 1000);
    const expiredBefore = (await infoFields(l, 'stats')).expired_keys;
    expect(await l.call('FAILOVER', 'TO', '127.0.0.1', String(f2.port))).to.equal('OK');
    expect(await l.pttl('ttl')).to.be.greaterThan(0); // alive when the pause began
    expect(await state(l)).to.equal('waiting-for-sync');
    expect(await err(l.call('FAILOVER'))).to.contain('ERR FAILOVER already in progress.');
    let heldDone = false;
    const held = l2.set('held', '1').then((r) => ((heldDone = true), r));
    await until('the key to be past its expiry', async () => (await l.pttl('ttl')) === -2);
    await sleep(300); // a few active expiry cycles
    expect((await infoFields(l, 'stats')).expired_keys, 'keys expired while writes are held').to.equal(expiredBefore);
    expect(heldDone).to.equal(false);
    expect(await state(l)).to.equal('waiting-for-sync');
    expect(await l.call('FAILOVER', 'ABORT')).to.equal('OK');
    expect(await held).to.equal('OK');
    expect(await state(l)).to.equal('no-failover');
    await until('the expiry to resume', async () => (await infoFields(l, 'stats')).expired_keys !== expiredBefore);
    expect(await err(l.call('FAILOVER', 'ABORT'))).to.contain('ERR No failover in progress.');

    // TIMEOUT: F2 never catches up; the failover is aborted and the leader takes writes again.
    expect(await l.call('FAILOVER', 'TO', '127.0.0.1', String(f2.port), 'TIMEOUT', '500')).to.equal('OK');
    const held2 = l2.set('held', '2');
    await until('the timeout to abort the failover', async () => (await state(l)) === 'no-failover');
    expect(await held2).to.equal('OK');
    expect(((await l.call('ROLE')) as unknown[])[0]).to.equal('master');
    expect(await l.set('after-timeout', '1')).to.equal('OK');
    expect(leader.output()).to.contain('Replica never caught up before timeout');

    // FORCE: past the timeout the handover goes ahead to F2 anyway.
    expect(await l.call('FAILOVER', 'TO', '127.0.0.1', String(f2.port), 'FORCE', 'TIMEOUT', '500')).to.equal('OK');
    const held3 = l2.set('held', '3').catch((e: Error) => e);
    await until('the forced handover', async () => (await state(l)) === 'failover-in-progress');
    f2.proc.kill('SIGCONT');
    await until('F2 to lead', async () => ((await r2.call('ROLE')) as unknown[])[0] === 'master');
    await until('the old leader to follow F2', async () => {
      const r = await infoFields(l, 'replication');
      return r.role === 'slave' && r.master_port === String(f2.port) && r.master_link_status === 'up' && r.master_failover_state === 'no-failover';
    });
    // the write held through the handover runs on a follower now
    expect(String(await held3)).to.contain('READONLY');
    expect(await r2.set('after', 'force')).to.equal('OK');
    await until('the old leader has the write', async () => (await l.get('after')) === 'force');
    await until('F1 has the write', async () => (await r1.get('after')) === 'force');
  });
});

describe('replication: a full sync and the change-log archive', function () {
  this.timeout(120_000);
  const start = serversStoppedAfter();

  it('a follower that takes backups logs the loaded snapshot (a point-in-time restore replays it); one that does not, skips it', async () => {
    const leader = await start([]);
    const l = leader.client();
    const p = l.pipeline();
    for (let i = 0; i < 300; i++) p.set(`snap:${i}`, String(i));
    await p.exec();
    const plain = await start([]);
    const archived = await start(['--backup-dir', 'backups']);
    const seqAfterSync = async (f: TalusProcess): Promise<number> => {
      const c = f.client();
      const before = Number((await infoFields(c, 'talus')).changelog_seq);
      expect(await c.call('REPLICAOF', '127.0.0.1', String(leader.port))).to.equal('OK');
      await until('the follower synced', async () => (await infoFields(c, 'replication')).master_link_status === 'up' && (await c.dbsize()) === 300);
      return Number((await infoFields(c, 'talus')).changelog_seq) - before;
    };
    const unlogged = await seqAfterSync(plain);
    const logged = await seqAfterSync(archived);
    expect(unlogged, 'records logged by the follower without backups').to.be.below(10);
    expect(logged, 'records logged by the follower with backups').to.be.at.least(300);
  });
});

describe('replication: a full sync of streams', function () {
  this.timeout(120_000);
  const start = serversStoppedAfter();

  it("pending entries whose stream entries are gone (trimmed, deleted) reach the follower, as Redis's RDB carries them", async () => {
    const leader = await start([]);
    const l = leader.client();
    const p = l.pipeline();
    for (const k of ['xs:trimmed', 'xs:deleted', 'xs:emptied']) {
      p.call('XADD', k, '3-0', 'f', 'a');
      p.call('XADD', k, '5-0', 'f', 'b');
      p.call('XGROUP', 'CREATE', k, 'g1', '0');
      p.call('XREADGROUP', 'GROUP', 'g1', 'c2', 'COUNT', '2', 'STREAMS', k, '>');
    }
    // 3-0 stays pending in each, its entry gone: the max deleted ID stays 0-0 under a trim
    p.call('XTRIM', 'xs:trimmed', 'MINID', '5-0');
    p.call('XDEL', 'xs:deleted', '3-0');
    p.call('XTRIM', 'xs:emptied', 'MAXLEN', '0');
    p.call('XSETID', 'xs:emptied', '1-0'); // below both pending entries
    for (const [err] of (await p.exec())!) expect(err).to.equal(null);
    const follower = await start(['--replicaof', '127.0.0.1', String(leader.port)]);
    const f = follower.client();
    await until('the follower synced', async () => (await infoFields(f, 'replication')).master_link_status === 'up');
    await caughtUp(l, [f]);
    expect(await f.call('XPENDING', 'xs:trimmed', 'g1')).to.deep.equal([2, '3-0', '5-0', [['c2', '2']]]);
    expect(compareDatasets(await readDataset(l, [0]), await readDataset(f, [0]), Date.now())).to.deep.equal([]);
  });
});
