import { expect } from 'chai';
import pg from 'pg';
import type { Redis } from 'ioredis';
import { freshDatabase, startTalus, type TalusProcess } from './support/harness.js';
import { Raw, type RespValue } from './support/raw.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const opts = { enableReadyCheck: false, maxRetriesPerRequest: 0, retryStrategy: () => null } as const;

/**
 * Client-side caching (CLIENT TRACKING) over raw connections, so pushes are
 * seen in the order they arrive among the replies: RESP3 `invalidate` pushes,
 * RESP2 redirection to a `__redis__:invalidate` subscriber, BCAST, OPTIN/OPTOUT,
 * NOLOOP, flushes, the table limit, and the durability gate.
 */
describe('client tracking', function () {
  this.timeout(120_000);
  let srv: TalusProcess;
  let url: string;
  let c: Redis;
  before(async () => {
    url = await freshDatabase();
    srv = await startTalus([], { databaseUrl: url });
    c = srv.client(opts);
  });
  after(async () => srv?.stop());

  const opened: Raw[] = [];
  afterEach(() => {
    for (const r of opened.splice(0)) r.close();
  });

  async function raw(): Promise<Raw> {
    const r = await Raw.open(srv.port);
    opened.push(r);
    return r;
  }

  /** A RESP3 connection with tracking on (extra CLIENT TRACKING options after ON). */
  async function tracking(...options: string[]): Promise<Raw> {
    const r = await raw();
    r.send('HELLO', '3');
    await r.reply();
    r.send('CLIENT', 'TRACKING', 'ON', ...options);
    expect(await r.reply()).to.equal('OK');
    return r;
  }

  async function call(r: Raw, ...args: string[]): Promise<RespValue> {
    r.send(...args);
    return r.reply();
  }

  /** Nothing more arrives on `r`: a PING answered with nothing before it. */
  async function nothingPending(r: Raw): Promise<void> {
    expect(await call(r, 'PING')).to.equal('PONG');
  }

  it('RESP3: a key read is invalidated once when another client changes it, then forgotten', async () => {
    await c.set('t:a', '1');
    const r = await tracking();
    expect(await call(r, 'GET', 't:a')).to.equal('1');
    await c.set('t:a', '2');
    expect(await r.reply()).to.deep.equal(['invalidate', ['t:a']]);
    await c.set('t:a', '3'); // not read again: not tracked any more
    await nothingPending(r);
    // read again: tracked again; DEL, EXPIRE and collection writes invalidate too
    expect(await call(r, 'MGET', 't:a', 't:b')).to.deep.equal(['3', null]);
    await c.del('t:a');
    await c.hset('t:b', 'f', 'v');
    expect(await r.replies(2)).to.deep.equal([['invalidate', ['t:a']], ['invalidate', ['t:b']]]);
  });

  it("the client's own write: the invalidation comes after its reply, in a transaction too; NOLOOP sends none", async () => {
    const r = await tracking();
    await c.hset('t:h', 'f', '1');
    expect(await call(r, 'HGET', 't:h', 'f')).to.equal('1');
    expect(await call(r, 'HDEL', 't:h', 'f')).to.equal(1);
    expect(await r.reply()).to.deep.equal(['invalidate', ['t:h']]);

    await c.mset('t:x', '1', 't:y', '2');
    expect(await call(r, 'GET', 't:x')).to.equal('1');
    r.send('MULTI');
    r.send('INCR', 't:x');
    r.send('GET', 't:y');
    r.send('EXEC');
    expect(await r.replies(4)).to.deep.equal(['OK', 'QUEUED', 'QUEUED', [2, '2']]);
    expect(await r.reply()).to.deep.equal(['invalidate', ['t:x']]);

    const n = await tracking('NOLOOP');
    expect(await call(n, 'GET', 't:x')).to.equal('2');
    expect(await call(n, 'SET', 't:x', 'mine')).to.equal('OK');
    await nothingPending(n);
    expect(await call(n, 'GET', 't:x')).to.equal('mine');
    await c.set('t:x', 'theirs');
    expect(await n.reply()).to.deep.equal(['invalidate', ['t:x']]);
  });

  it('OPTIN tracks only after CLIENT CACHING YES, OPTOUT all but after CLIENT CACHING NO', async () => {
    await c.mset('t:in1', '1', 't:in2', '1', 't:out1', '1', 't:out2', '1');
    const optin = await tracking('OPTIN');
    expect(await call(optin, 'GET', 't:in1')).to.equal('1');
    expect(await call(optin, 'CLIENT', 'CACHING', 'YES')).to.equal('OK');
    expect(await call(optin, 'GET', 't:in2')).to.equal('1');
    const optout = await tracking('OPTOUT');
    expect(await call(optout, 'CLIENT', 'CACHING', 'NO')).to.equal('OK');
    expect(await call(optout, 'GET', 't:out1')).to.equal('1');
    expect(await call(optout, 'GET', 't:out2')).to.equal('1');
    await c.mset('t:in1', '2', 't:in2', '2', 't:out1', '2', 't:out2', '2');
    expect(await optin.reply()).to.deep.equal(['invalidate', ['t:in2']]);
    expect(await optout.reply()).to.deep.equal(['invalidate', ['t:out2']]);
    await nothingPending(optin);
    await nothingPending(optout);
  });

  it('BCAST: every changed key under a prefix, one message per prefix; NOLOOP leaves out the own writes', async () => {
    const b = await tracking('BCAST', 'PREFIX', 'bc:a:', 'PREFIX', 'bc:b:');
    const all = await tracking('BCAST', 'NOLOOP');
    await c.mset('bc:a:1', '1', 'bc:a:2', '2', 'bc:b:1', '1', 'bc:c:1', '1');
    const got = (await b.replies(2)) as Array<[string, string[]]>;
    expect(got.map((m) => m[1].sort())).to.have.deep.members([['bc:a:1', 'bc:a:2'], ['bc:b:1']]);
    const everything = (await all.reply()) as [string, string[]];
    expect(everything[0]).to.equal('invalidate');
    expect(everything[1].sort()).to.deep.equal(['bc:a:1', 'bc:a:2', 'bc:b:1', 'bc:c:1']);
    // NOLOOP: its own write is not sent back to it, another client's is
    expect(await call(all, 'SET', 'bc:own', 'x')).to.equal('OK');
    await sleep(50);
    await nothingPending(all);
    await c.set('bc:other', 'y');
    expect(await all.reply()).to.deep.equal(['invalidate', ['bc:other']]);
    expect(await call(b, 'CLIENT', 'TRACKINGINFO')).to.deep.equal(
      new Map<RespValue, RespValue>([['flags', ['on', 'bcast']], ['redirect', 0], ['prefixes', ['bc:a:', 'bc:b:']]]),
    );
    expect(await c.client('LIST', 'ID', String(await call(b, 'CLIENT', 'ID')))).to.match(/ flags=tB .* redir=0 /);
  });

  it('RESP2: REDIRECT to a __redis__:invalidate subscriber; a vanished target is a broken redirect', async () => {
    const sink = await raw();
    const sinkId = String(await call(sink, 'CLIENT', 'ID'));
    expect(await call(sink, 'SUBSCRIBE', '__redis__:invalidate')).to.deep.equal(['subscribe', '__redis__:invalidate', 1]);
    const r2 = await raw();
    expect(await call(r2, 'CLIENT', 'TRACKING', 'ON', 'REDIRECT', sinkId)).to.equal('OK');
    expect(await call(r2, 'CLIENT', 'GETREDIR')).to.equal(Number(sinkId));
    await c.set('t:r', '1');
    expect(await call(r2, 'GET', 't:r')).to.equal('1');
    await c.set('t:r', '2');
    expect(await sink.reply()).to.deep.equal(['message', '__redis__:invalidate', ['t:r']]);

    // A RESP3 client whose target is gone is told so, and CLIENT LIST shows R
    const r3 = await tracking('REDIRECT', sinkId);
    expect(await call(r3, 'GET', 't:r')).to.equal('2');
    sink.close();
    while (String(await c.client('LIST')).includes(`id=${sinkId} `)) await sleep(10);
    await c.set('t:r', '3');
    expect(await r3.reply()).to.deep.equal(['tracking-redir-broken', Number(sinkId)]);
    const info = (await call(r3, 'CLIENT', 'TRACKINGINFO')) as Map<RespValue, RespValue>;
    expect(info.get('flags')).to.deep.equal(['on', 'broken_redirect']);
    expect(String(await call(r3, 'CLIENT', 'INFO'))).to.match(new RegExp(` flags=tR .* redir=${sinkId} `));
  });

  it('FLUSHALL and FLUSHDB send a null invalidation and empty the table', async () => {
    const r = await tracking();
    expect(await call(r, 'GET', 't:f')).to.equal(null);
    expect(String(await c.info('stats'))).to.match(/tracking_total_keys:[1-9]/);
    await c.flushall();
    expect(await r.reply()).to.deep.equal(['invalidate', null]);
    expect(String(await c.info('stats'))).to.match(/tracking_total_keys:0\r\ntracking_total_items:0\r\n/);
    await c.flushdb();
    expect(await r.reply()).to.deep.equal(['invalidate', null]);
  });

  it('replies and errors of CLIENT TRACKING / CACHING / GETREDIR / TRACKINGINFO are Redis 7.0s', async () => {
    const r = await raw();
    const err = async (...args: string[]) => ((await call(r, ...args)) as Error).message;
    expect(await err('CLIENT', 'TRACKING', 'ON', 'PREFIX', 'a')).to.equal('ERR PREFIX option requires BCAST mode to be enabled');
    expect(await err('CLIENT', 'TRACKING', 'ON', 'BCAST', 'OPTIN')).to.equal('ERR OPTIN and OPTOUT are not compatible with BCAST');
    expect(await err('CLIENT', 'TRACKING', 'ON', 'OPTIN', 'OPTOUT')).to.equal("ERR You can't specify both OPTIN mode and OPTOUT mode");
    expect(await err('CLIENT', 'TRACKING', 'ON', 'REDIRECT', '999999')).to.equal('ERR The client ID you want redirect to does not exist');
    expect(await err('CLIENT', 'TRACKING', 'ON', 'FOO')).to.equal('ERR syntax error');
    expect(await err('CLIENT', 'CACHING', 'YES')).to.equal(
      'ERR CLIENT CACHING can be called only when the client is in tracking mode with OPTIN or OPTOUT mode enabled',
    );
    expect(await err('CLIENT', 'TRACKING', 'ON', 'BCAST', 'PREFIX', 'ab', 'PREFIX', 'a')).to.equal(
      "ERR Prefix 'ab' overlaps with another provided prefix 'a'. Prefixes for a single client must not overlap.",
    );
    expect(await call(r, 'CLIENT', 'TRACKING', 'ON', 'BCAST', 'PREFIX', 'ab')).to.equal('OK');
    expect(await err('CLIENT', 'TRACKING', 'ON', 'BCAST', 'PREFIX', 'abc')).to.equal(
      "ERR Prefix 'abc' overlaps with an existing prefix 'ab'. Prefixes for a single client must not overlap.",
    );
    expect(await err('CLIENT', 'TRACKING', 'ON')).to.match(/^ERR You can't switch BCAST mode on\/off/);
    expect(await call(r, 'CLIENT', 'TRACKING', 'OFF')).to.equal('OK');
    expect(await call(r, 'CLIENT', 'TRACKING', 'ON', 'OPTIN')).to.equal('OK');
    expect(await err('CLIENT', 'CACHING', 'NO')).to.equal('ERR CLIENT CACHING NO is only valid when tracking is enabled in OPTOUT mode.');
    expect(await call(r, 'CLIENT', 'CACHING', 'YES')).to.equal('OK');
    // RESP2: the flags are a plain array
    // CLIENT CACHING holds for the next command that is not CLIENT ...
    expect(await call(r, 'CLIENT', 'TRACKINGINFO')).to.deep.equal(['flags', ['on', 'optin', 'caching-yes'], 'redirect', 0, 'prefixes', []]);
    expect(await call(r, 'PING')).to.equal('PONG');
    expect(await call(r, 'CLIENT', 'TRACKINGINFO')).to.deep.equal(['flags', ['on', 'optin'], 'redirect', 0, 'prefixes', []]);
    expect(await call(r, 'CLIENT', 'TRACKING', 'OFF')).to.equal('OK');
    expect(await call(r, 'CLIENT', 'GETREDIR')).to.equal(-1);
    expect(await call(r, 'CLIENT', 'TRACKINGINFO')).to.deep.equal(['flags', ['off'], 'redirect', -1, 'prefixes', []]);
  });

  it('INFO counts tracking clients, keys, items and prefixes', async () => {
    const n = (info: string, field: string) => Number(new RegExp(`${field}:(\\d+)`).exec(info)![1]);
    // the connections of earlier tests are closed: wait until the server saw them go
    let before = String(await c.info());
    while (n(before, 'tracking_clients') > 0) {
      await sleep(20);
      before = String(await c.info());
    }
    const a = await tracking();
    const b = await tracking();
    await tracking('BCAST', 'PREFIX', 'info:p:');
    await call(a, 'MGET', 'info:1', 'info:2');
    await call(b, 'GET', 'info:1');
    const info = String(await c.info());
    expect(n(info, 'tracking_clients') - n(before, 'tracking_clients')).to.equal(3);
    expect(n(info, 'tracking_total_keys') - n(before, 'tracking_total_keys')).to.equal(2);
    expect(n(info, 'tracking_total_items') - n(before, 'tracking_total_items')).to.equal(3);
    expect(n(info, 'tracking_total_prefixes') - n(before, 'tracking_total_prefixes')).to.equal(1);
  });

  it('tracking-table-max-keys: keys over the limit leave the table with an invalidation', async () => {
    await c.flushall();
    const r = await tracking();
    await call(r, 'MGET', 'lim:1', 'lim:2', 'lim:3');
    expect(await c.config('SET', 'tracking-table-max-keys', '1')).to.equal('OK');
    try {
      const got = (await r.replies(2)) as Array<[string, string[]]>;
      expect(got.map((m) => m[1][0])).to.deep.equal(['lim:1', 'lim:2']);
      expect(String(await c.info('stats'))).to.match(/tracking_total_keys:1\r\n/);
    } finally {
      await c.config('SET', 'tracking-table-max-keys', '1000000');
    }
  });

  it('appendfsync always: an invalidation does not go out before the write that caused it is committed', async () => {
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    const locker = new pg.Client({ connectionString: url });
    await locker.connect();
    try {
      await c.set('t:d', 'old');
      const r = await tracking();
      const bcast = await tracking('BCAST', 'PREFIX', 't:d');
      expect(await call(r, 'GET', 't:d')).to.equal('old');
      await locker.query('BEGIN');
      await locker.query('LOCK TABLE talus.changelog IN EXCLUSIVE MODE');
      const writer = srv.client(opts);
      const set = writer.set('t:d', 'new');
      for (;;) {
        const { rows } = await admin.query<{ n: string }>(
          `SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`,
        );
        if (Number(rows[0]!.n) > 0) break;
        await sleep(10);
      }
      await sleep(200);
      expect(r.unread(), 'an invalidation showed an uncommitted SET').to.equal('');
      expect(bcast.unread(), 'a BCAST invalidation showed an uncommitted SET').to.equal('');
      await locker.query('COMMIT');
      expect(await set).to.equal('OK');
      expect(await r.reply()).to.deep.equal(['invalidate', ['t:d']]);
      expect(await bcast.reply()).to.deep.equal(['invalidate', ['t:d']]);
      writer.disconnect();
    } finally {
      await locker.end().catch(() => undefined);
      await admin.end();
    }
  });
});
