import { expect } from 'chai';
import net from 'node:net';
import pg from 'pg';
import type { Redis } from 'ioredis';
import { freshDatabase, startTalus, type TalusProcess } from './support/harness.js';
import { Raw, type RespValue } from './support/raw.js';
import { resp } from './support/client-shapes.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const opts = { enableReadyCheck: false, maxRetriesPerRequest: 0, retryStrategy: () => null } as const;
const SUBSCRIBED_MODE_ERROR = "only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context";

describe('pub/sub', function () {
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

  async function raw(): Promise<Raw> {
    return Raw.open(srv.port);
  }

  /** Wait until CLIENT LIST shows (or no longer shows) a client with this name. */
  async function listed(name: string, present: boolean): Promise<boolean> {
    for (let i = 0; i < 200; i++) {
      if (String(await c.client('LIST')).includes(`name=${name} `) === present) return true;
      await sleep(50);
    }
    return false;
  }

  it('delivers to channel and pattern subscribers (ioredis, RESP2) and PUBLISH counts receivers', async () => {
    const sub = srv.client(opts);
    const got: string[] = [];
    sub.on('message', (ch: string, m: string) => got.push(`message ${ch} ${m}`));
    sub.on('pmessage', (p: string, ch: string, m: string) => got.push(`pmessage ${p} ${ch} ${m}`));
    expect(await sub.subscribe('news.tech', 'news.art')).to.equal(2);
    expect(await sub.psubscribe('news.*', 'n?ws.[st]*')).to.equal(4);
    expect(await c.publish('news.tech', 'hello')).to.equal(3);
    expect(await c.publish('news.sport', 'goal')).to.equal(2);
    expect(await c.publish('weather', 'rain')).to.equal(0);
    for (let i = 0; i < 100 && got.length < 5; i++) await sleep(20);
    expect(got).to.deep.equal([
      'message news.tech hello',
      'pmessage news.* news.tech hello',
      'pmessage n?ws.[st]* news.tech hello',
      'pmessage news.* news.sport goal',
      'pmessage n?ws.[st]* news.sport goal',
    ]);
    expect(await c.pubsub('NUMSUB', 'news.tech', 'weather')).to.deep.equal(['news.tech', 1, 'weather', 0]);
    expect(await c.call('PUBSUB', 'NUMPAT')).to.equal(2);
    expect((await c.pubsub('CHANNELS', 'news.*') as string[]).sort()).to.deep.equal(['news.art', 'news.tech']);
    const info = String(await c.info('stats'));
    expect(info).to.match(/pubsub_channels:2\r\n/);
    expect(info).to.match(/pubsub_patterns:2\r\n/);
    sub.disconnect();
    // closing the connection ends its subscriptions
    for (let i = 0; i < 100 && (await c.call('PUBSUB', 'NUMPAT')) !== 0; i++) await sleep(20);
    expect(await c.call('PUBSUB', 'NUMPAT')).to.equal(0);
    expect(await c.pubsub('CHANNELS')).to.deep.equal([]);
  });

  it('RESP2 subscribed mode allows only (un)subscribing, PING, QUIT and RESET, with Redis\'s errors', async () => {
    const r = await raw();
    r.send('SUBSCRIBE', 'a', 'b');
    expect(await r.replies(2)).to.deep.equal([['subscribe', 'a', 1], ['subscribe', 'b', 2]]);
    r.send('GET', 'k');
    r.send('CLIENT', 'LIST');
    r.send('PING');
    r.send('PING', 'hi');
    const [get, list, ping, pingArg] = await r.replies(4);
    expect((get as Error).message).to.equal(`ERR Can't execute 'get': ${SUBSCRIBED_MODE_ERROR}`);
    expect((list as Error).message).to.equal(`ERR Can't execute 'client|list': ${SUBSCRIBED_MODE_ERROR}`);
    expect(ping).to.deep.equal(['pong', '']);
    expect(pingArg).to.deep.equal(['pong', 'hi']);
    r.send('UNSUBSCRIBE');
    expect(await r.replies(2)).to.deep.equal([['unsubscribe', 'a', 1], ['unsubscribe', 'b', 0]]);
    r.send('UNSUBSCRIBE');
    expect(await r.reply()).to.deep.equal(['unsubscribe', null, 0]);
    r.send('PING');
    expect(await r.reply()).to.equal('PONG');
    // RESET leaves subscribed mode and drops every subscription
    r.send('PSUBSCRIBE', 'x*');
    r.send('RESET');
    expect(await r.replies(2)).to.deep.equal([['psubscribe', 'x*', 1], 'RESET']);
    expect(await c.call('PUBSUB', 'NUMPAT')).to.equal(0);
    r.send('GET', 'k');
    expect(await r.reply()).to.equal(null);
    r.close();
  });

  it('RESP3: confirmations and messages are pushes, any command runs while subscribed', async () => {
    const r = await raw();
    r.send('HELLO', '3');
    await r.reply();
    r.send('SUBSCRIBE', 'ch');
    r.send('SET', 'resp3key', 'v');
    r.send('GET', 'resp3key');
    expect(await r.replies(3)).to.deep.equal([['subscribe', 'ch', 1], 'OK', 'v']);
    expect(await c.publish('ch', 'payload')).to.equal(1);
    expect(await r.reply()).to.deep.equal(['message', 'ch', 'payload']);
    // the wire form is a push (">"), not an array
    r.send('PUBLISH', 'ch', 'self');
    await r.replies(2);
    r.send('SSUBSCRIBE', 'shard1');
    expect(await r.reply()).to.deep.equal(['ssubscribe', 'shard1', 1]);
    expect(await c.call('SPUBLISH', 'shard1', 'sm')).to.equal(1);
    expect(await r.reply()).to.deep.equal(['smessage', 'shard1', 'sm']);
    expect(await c.pubsub('SHARDCHANNELS')).to.deep.equal(['shard1']);
    expect(await c.pubsub('SHARDNUMSUB', 'shard1', 'nope')).to.deep.equal(['shard1', 1, 'nope', 0]);
    expect(String(await c.info('stats'))).to.match(/pubsubshard_channels:1\r\n/);
    r.close();
    const s = net.connect(srv.port, '127.0.0.1');
    const bytes = await new Promise<string>((resolve) => {
      let got = '';
      s.on('data', (d) => {
        got += d.toString('latin1');
        if (got.includes('wire')) resolve(got);
      });
      s.write(Buffer.concat([resp('HELLO', '3'), resp('SUBSCRIBE', 'w')]));
      setTimeout(() => void c.publish('w', 'wire'), 300);
    });
    s.destroy();
    expect(bytes).to.include('>3\r\n$9\r\nsubscribe\r\n$1\r\nw\r\n:1\r\n');
    expect(bytes).to.include('>3\r\n$7\r\nmessage\r\n$1\r\nw\r\n$4\r\nwire\r\n');
  });

  it('CLIENT LIST shows sub/psub/ssub and flag P; CLIENT KILL TYPE pubsub closes subscribers only', async () => {
    const r = await raw();
    r.send('CLIENT', 'SETNAME', 'listener');
    r.send('SUBSCRIBE', 'a', 'b');
    r.send('PSUBSCRIBE', 'p*');
    r.send('SSUBSCRIBE', 's');
    await r.replies(5);
    const line = String(await c.client('LIST')).split('\n').find((l) => l.includes('name=listener '))!;
    expect(line).to.match(/ flags=P /);
    expect(line).to.match(/ sub=2 psub=1 ssub=1 /);
    expect(Number(await c.call('CLIENT', 'KILL', 'TYPE', 'pubsub'))).to.equal(1);
    expect(await r.waitClosed()).to.equal(true);
    expect(await c.ping()).to.equal('PONG');
    expect(await c.pubsub('NUMSUB', 'a')).to.deep.equal(['a', 0]);
  });

  it('timeout does not close a subscriber, but closes an idle normal client', async () => {
    const sub = await raw();
    sub.send('CLIENT', 'SETNAME', 'idlesub');
    sub.send('SUBSCRIBE', 'quiet');
    await sub.replies(2);
    const idle = await raw();
    idle.send('CLIENT', 'SETNAME', 'idlenormal');
    await idle.reply();
    await c.config('SET', 'timeout', '1');
    try {
      // this test's own client stays busy meanwhile
      for (let i = 0; i < 100 && !idle.closed; i++) {
        await c.ping();
        await sleep(100);
      }
      expect(idle.closed, 'idle normal client closed').to.equal(true);
      expect(sub.closed).to.equal(false);
      expect(await c.publish('quiet', 'still here')).to.equal(1);
      expect(await sub.reply()).to.deep.equal(['message', 'quiet', 'still here']);
    } finally {
      await c.config('SET', 'timeout', '0');
      sub.close();
    }
  });

  it('client-output-buffer-limit pubsub closes a subscriber that does not read', async () => {
    await c.config('SET', 'client-output-buffer-limit', 'pubsub 1mb 256kb 60');
    try {
      const s = net.connect(srv.port, '127.0.0.1');
      s.on('error', () => undefined);
      s.write(Buffer.concat([resp('CLIENT', 'SETNAME', 'slowsub'), resp('SUBSCRIBE', 'flood')]));
      expect(await listed('slowsub', true)).to.equal(true);
      for (let i = 0; i < 100 && Number((await c.pubsub('NUMSUB', 'flood'))[1]) === 0; i++) await sleep(20);
      s.pause(); // reads nothing from now on
      const message = Buffer.alloc(64 * 1024, 'm');
      let receivers = 1;
      // publish until the subscriber is gone: far less than the 64 MB sent if it were never closed
      for (let i = 0; i < 1000 && receivers > 0; i++) receivers = await c.publish('flood', message);
      expect(receivers, 'the slow subscriber was closed').to.equal(0);
      expect(await listed('slowsub', false)).to.equal(true);
      expect(srv.output()).to.match(/name=slowsub .* scheduled to be closed ASAP for overcoming of output buffer limits/);
      s.destroy();
    } finally {
      await c.config('SET', 'client-output-buffer-limit', 'pubsub 32mb 8mb 60');
    }
    // the same limit does not apply to a normal client
    expect(await c.get('nothing')).to.equal(null);
  });

  it('patterns: classes, escapes, and a pathological pattern is matched in bounded time', async () => {
    const r = await raw();
    const nasty = '*a'.repeat(60) + 'b';
    r.send('PSUBSCRIBE', 'h[ae]llo', 'h\\*', nasty);
    await r.replies(3);
    expect(await c.publish('hallo', '1')).to.equal(1);
    expect(await c.publish('hillo', '2')).to.equal(0);
    expect(await c.publish('h*', '3')).to.equal(1);
    expect(await c.publish('hx', '4')).to.equal(0);
    // a channel the nasty pattern nearly matches: exponential for a naive matcher
    expect(await c.publish('a'.repeat(5000), '5')).to.equal(0);
    expect(await c.publish('a'.repeat(70) + 'b', '6')).to.equal(1);
    const got = await r.replies(3);
    expect(got).to.deep.equal([
      ['pmessage', 'h[ae]llo', 'hallo', '1'],
      ['pmessage', 'h\\*', 'h*', '3'],
      ['pmessage', nasty, 'a'.repeat(70) + 'b', '6'],
    ]);
    r.close();
  });

  it('PUBSUB errors and HELP match Redis', async () => {
    const err = async (...args: string[]) => {
      try {
        await c.call('PUBSUB', ...args);
      } catch (e) {
        return (e as Error).message;
      }
      return 'no error';
    };
    expect(await err('CHANNELS', 'a', 'b')).to.equal("ERR unknown subcommand or wrong number of arguments for 'CHANNELS'. Try PUBSUB HELP.");
    expect(await err('NUMPAT', 'x')).to.equal("ERR wrong number of arguments for 'pubsub|numpat' command");
    expect(await err('NOPE')).to.equal("ERR unknown subcommand 'NOPE'. Try PUBSUB HELP.");
    const help = (await c.call('PUBSUB', 'HELP')) as string[];
    expect(help[0]).to.equal('PUBSUB <subcommand> [<arg> [value] [opt] ...]. Subcommands are:');
    expect(help).to.include('SHARDNUMSUB [<shardchannel> ...]');
  });

  it('inside MULTI: confirmations and the publisher\'s own messages go inside EXEC\'s reply; SSUBSCRIBE is refused', async () => {
    const r = await raw();
    r.send('MULTI');
    r.send('SSUBSCRIBE', 's');
    r.send('SUBSCRIBE', 'm');
    r.send('PUBLISH', 'm', 'x');
    r.send('EXEC');
    const replies = await r.replies(4);
    expect(replies).to.deep.equal(['OK', 'QUEUED', 'QUEUED', 'QUEUED']);
    // Like Redis: "*3", then the error, SUBSCRIBE's confirmation, the
    // message to self and PUBLISH's count (so the array reads as three
    // entries and the count comes after it)
    const [array, count] = await r.replies(2);
    const [refused, ...rest] = array as RespValue[];
    expect((refused as Error).message).to.equal("ERR SSUBSCRIBE isn't allowed for a DENY BLOCKING client");
    expect(rest).to.deep.equal([['subscribe', 'm', 1], ['message', 'm', 'x']]);
    expect(count).to.equal(1);
    r.close();
  });

  it('a PUBLISH inside a transaction that wrote waits for that write to commit (appendfsync always)', async () => {
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    const locker = new pg.Client({ connectionString: url });
    await locker.connect();
    const sub = await raw();
    sub.send('SUBSCRIBE', 'tx');
    await sub.reply();
    const pub = await raw();
    try {
      await locker.query('BEGIN');
      await locker.query('LOCK TABLE talus.changelog IN EXCLUSIVE MODE');
      pub.send('MULTI');
      pub.send('SET', 'txkey', 'v');
      pub.send('PUBLISH', 'tx', 'done');
      pub.send('EXEC');
      expect(await pub.replies(3)).to.deep.equal(['OK', 'QUEUED', 'QUEUED']);
      // the commit is waiting on the lock
      for (;;) {
        const { rows } = await admin.query<{ n: string }>(
          `SELECT count(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`,
        );
        if (Number(rows[0]!.n) > 0) break;
        await sleep(10);
      }
      expect(await sub.silent(300), 'message shown before the write it follows was committed').to.equal(true);
      expect(await pub.silent(0)).to.equal(true);
      // a later PUBLISH is counted at once, and reaches the subscriber after the held message
      expect(await c.publish('tx', 'after')).to.equal(1);
      expect(await sub.silent(100)).to.equal(true);
      await locker.query('COMMIT');
      expect(await pub.reply()).to.deep.equal(['OK', 1]);
      expect(await sub.replies(2)).to.deep.equal([['message', 'tx', 'done'], ['message', 'tx', 'after']]);
    } finally {
      await locker.end().catch(() => undefined);
      await admin.end();
      sub.close();
      pub.close();
    }
  });
});
