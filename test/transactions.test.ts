import { expect } from 'chai';
import type { Redis } from 'ioredis';
import { startTalus, type TalusProcess } from './support/harness.js';
import { Raw, type RespValue } from './support/raw.js';

/** Errors as their message, at any depth. */
const msg = (v: RespValue): RespValue => (v instanceof Error ? v.message : Array.isArray(v) ? v.map(msg) : v);

function infoField(text: string, name: string): string | undefined {
  return new RegExp(`^${name}:(.*)$`, 'm').exec(text)?.[1]?.trim();
}

describe('transactions: MULTI / EXEC / DISCARD / WATCH', function () {
  this.timeout(60_000);
  let srv: TalusProcess;
  let r: Redis;
  const raws: Raw[] = [];
  const raw = async () => {
    const c = await Raw.open(srv.port);
    raws.push(c);
    return c;
  };
  /** Send commands and collect one reply each. */
  const run = async (c: Raw, ...cmds: string[][]) => {
    for (const cmd of cmds) c.send(...cmd);
    return (await c.replies(cmds.length)).map(msg);
  };

  before(async () => {
    srv = await startTalus();
    r = srv.client();
  });

  after(async () => {
    for (const c of raws) c.close();
    await srv?.stop();
  });

  beforeEach(async () => {
    await r.flushall();
  });

  it('MULTI queues, EXEC runs everything and returns every reply', async () => {
    const c = await raw();
    expect(await run(c, ['MULTI'], ['SET', 'a', '1'], ['INCR', 'a'], ['GET', 'a'], ['PING'], ['EXEC'])).to.deep.equal([
      'OK', 'QUEUED', 'QUEUED', 'QUEUED', 'QUEUED', ['OK', 2, '2', 'PONG'],
    ]);
    expect(await run(c, ['MULTI'], ['EXEC'])).to.deep.equal(['OK', []]);
  });

  it('works through ioredis multi()', async () => {
    const res = await r.multi().set('io', 'x').append('io', 'y').get('io').exec();
    expect(res).to.deep.equal([[null, 'OK'], [null, 2], [null, 'xy']]);
  });

  it('control errors: nesting, EXEC/DISCARD without MULTI, WATCH inside MULTI', async () => {
    const c = await raw();
    expect(await run(c, ['EXEC'], ['DISCARD'])).to.deep.equal(['ERR EXEC without MULTI', 'ERR DISCARD without MULTI']);
    expect(await run(c, ['MULTI'], ['MULTI'], ['WATCH', 'x'], ['SET', 'n', '1'], ['EXEC'])).to.deep.equal([
      'OK', 'ERR MULTI calls can not be nested', 'ERR WATCH inside MULTI is not allowed', 'QUEUED', ['OK'],
    ]);
  });

  it('a command rejected while queueing aborts EXEC, which leaves MULTI state', async () => {
    const c = await raw();
    const replies = await run(c, ['MULTI'], ['SET', 'f1', 'v'], ['NOSUCHCMD'], ['GET'], ['SET', 'f2', 'v'], ['EXEC'], ['PING']);
    expect(replies[1]).to.equal('QUEUED');
    expect(replies[2]).to.match(/^ERR unknown command 'NOSUCHCMD'/);
    expect(replies[3]).to.equal("ERR wrong number of arguments for 'get' command");
    expect(replies[5]).to.equal('EXECABORT Transaction discarded because of previous errors.');
    expect(replies[6]).to.equal('PONG');
    expect(await r.exists('f1', 'f2')).to.equal(0);
  });

  it('an error at run time fails only its own command', async () => {
    await r.set('s', 'foo');
    const c = await raw();
    expect(await run(c, ['MULTI'], ['INCR', 's'], ['SET', 't', '1'], ['EXEC'])).to.deep.equal([
      'OK', 'QUEUED', 'QUEUED', ['ERR value is not an integer or out of range', 'OK'],
    ]);
    expect(await r.get('t')).to.equal('1');
  });

  it('commands that refuse transactions (SAVE, SHUTDOWN) abort it', async () => {
    const c = await raw();
    expect(await run(c, ['MULTI'], ['SET', 'foo', 'bar'], ['SAVE'], ['EXEC'])).to.deep.equal([
      'OK', 'QUEUED', 'ERR Command not allowed inside a transaction', 'EXECABORT Transaction discarded because of previous errors.',
    ]);
    expect(await r.get('foo')).to.equal(null);
  });

  it('DISCARD drops the queue and the WATCHed keys', async () => {
    const c = await raw();
    expect(await run(c, ['WATCH', 'x'], ['MULTI'], ['SET', 'x', '1'], ['DISCARD'])).to.deep.equal(['OK', 'OK', 'QUEUED', 'OK']);
    expect(await r.exists('x')).to.equal(0);
    await r.set('x', '10');
    expect(await run(c, ['MULTI'], ['INCR', 'x'], ['EXEC'])).to.deep.equal(['OK', 'QUEUED', [11]]);
  });

  describe('WATCH', () => {
    it('EXEC returns a nil array when another client changed a watched key', async () => {
      await r.set('w', '30');
      const c = await raw();
      expect(await run(c, ['WATCH', 'w'])).to.deep.equal(['OK']);
      await r.set('w', '40');
      c.send('MULTI');
      c.send('SET', 'w', 'mine');
      c.send('EXEC');
      expect(await c.replies(2)).to.deep.equal(['OK', 'QUEUED']);
      await new Promise((res) => setTimeout(res, 50));
      expect(c.unread()).to.equal('*-1\r\n');
      expect(await c.reply()).to.equal(null);
      expect(await r.get('w')).to.equal('40');
      // the key is no longer watched afterwards
      expect(await run(c, ['MULTI'], ['SET', 'w', 'mine'], ['EXEC'])).to.deep.equal(['OK', 'QUEUED', ['OK']]);
    });

    it('RESP3 clients get a null for an aborted EXEC', async () => {
      await r.set('w3', '1');
      const c = await raw();
      await run(c, ['HELLO', '3'], ['WATCH', 'w3']);
      await r.set('w3', '2');
      await run(c, ['MULTI'], ['PING']);
      c.send('EXEC');
      await new Promise((res) => setTimeout(res, 50));
      expect(c.unread()).to.equal('_\r\n');
    });

    it('unmodified keys let EXEC run; several WATCH calls accumulate', async () => {
      await r.set('k1', '1');
      const c = await raw();
      expect(await run(c, ['WATCH', 'k1', 'k2', 'k3'], ['WATCH', 'k4'], ['MULTI'], ['PING'], ['EXEC'])).to.deep.equal([
        'OK', 'OK', 'OK', 'QUEUED', ['PONG'],
      ]);
      await run(c, ['WATCH', 'a', 'b', 'k1', 'c']);
      await r.set('k1', '2');
      expect((await run(c, ['MULTI'], ['PING'], ['EXEC']))[2]).to.equal(null);
    });

    it('a watched key that did not exist and was created (or created and deleted) counts as changed', async () => {
      const c = await raw();
      await run(c, ['WATCH', 'ghost']);
      await r.set('ghost', '1');
      expect((await run(c, ['MULTI'], ['PING'], ['EXEC']))[2]).to.equal(null);
      await r.del('ghost');
      await run(c, ['WATCH', 'ghost']);
      await r.set('ghost', '1');
      await r.del('ghost');
      expect((await run(c, ['MULTI'], ['PING'], ['EXEC']))[2]).to.equal(null);
    });

    it('UNWATCH forgets the keys', async () => {
      await r.set('u', '1');
      const c = await raw();
      await run(c, ['WATCH', 'u']);
      await r.set('u', '2');
      expect(await run(c, ['UNWATCH'], ['MULTI'], ['PING'], ['EXEC'])).to.deep.equal(['OK', 'OK', 'QUEUED', ['PONG']]);
      expect(await run(c, ['UNWATCH'])).to.deep.equal(['OK']);
    });

    it('EXPIRE on a watched key, and a watched key expiring, count as changes', async () => {
      await r.set('e1', 'v');
      const c = await raw();
      await run(c, ['WATCH', 'e1']);
      await r.expire('e1', 100);
      expect((await run(c, ['MULTI'], ['PING'], ['EXEC']))[2]).to.equal(null);

      await r.set('e2', 'v', 'PX', 100);
      await run(c, ['WATCH', 'e2']);
      await new Promise((res) => setTimeout(res, 250));
      expect((await run(c, ['MULTI'], ['PING'], ['EXEC']))[2]).to.equal(null);
    });

    it('a key already expired when watched does not abort EXEC', async () => {
      await r.set('stale', 'v', 'PX', 1);
      await new Promise((res) => setTimeout(res, 20));
      const c = await raw();
      await run(c, ['WATCH', 'stale']);
      expect(await r.exists('stale')).to.equal(0);
      expect(await run(c, ['MULTI'], ['PING'], ['EXEC'])).to.deep.equal(['OK', 'QUEUED', ['PONG']]);
    });

    it('FLUSHALL / FLUSHDB touch watched keys that exist, not missing ones', async () => {
      const c = await raw();
      await r.set('x', '30');
      await run(c, ['WATCH', 'x']);
      await r.flushall();
      expect((await run(c, ['MULTI'], ['PING'], ['EXEC']))[2]).to.equal(null);
      await run(c, ['WATCH', 'x']);
      await r.flushdb();
      expect((await run(c, ['MULTI'], ['PING'], ['EXEC']))[2]).to.deep.equal(['PONG']);
    });

    it('remembers the db of a watched key', async () => {
      const c = await raw();
      await run(c, ['SELECT', '5'], ['SET', 'x', '30'], ['WATCH', 'x'], ['SELECT', '1'], ['SET', 'x', '10'], ['SELECT', '5']);
      expect((await run(c, ['MULTI'], ['PING'], ['EXEC']))[2]).to.deep.equal(['PONG']);
      await run(c, ['WATCH', 'x'], ['SELECT', '1']);
      await r.select(5);
      await r.set('x', '31');
      await r.select(0);
      expect((await run(c, ['MULTI'], ['PING'], ['EXEC']))[2]).to.equal(null);
    });

    it('RESET ends MULTI and forgets WATCHed keys', async () => {
      await r.set('rw', '1');
      const c = await raw();
      expect(await run(c, ['WATCH', 'rw'], ['MULTI'], ['RESET'])).to.deep.equal(['OK', 'OK', 'RESET']);
      await r.set('rw', '2');
      expect(await run(c, ['MULTI'], ['PING'], ['EXEC'])).to.deep.equal(['OK', 'QUEUED', ['PONG']]);
    });
  });

  it('SELECT inside MULTI moves the following commands to that db', async () => {
    await r.select(3);
    await r.set('cnt', '41');
    await r.select(0);
    const c = await raw();
    expect(await run(c, ['MULTI'], ['SELECT', '3'], ['INCR', 'cnt'], ['SELECT', '0'], ['INCR', 'cnt'], ['EXEC'])).to.deep.equal([
      'OK', 'QUEUED', 'QUEUED', 'QUEUED', 'QUEUED', ['OK', 42, 'OK', 1],
    ]);
  });

  it('keys evicted from the hot set are loaded before EXEC; watched keys stay', async () => {
    await r.set('cold', '10');
    await r.set('watched', '1');
    const c = await raw();
    await run(c, ['WATCH', 'watched']);
    const loadsBefore = Number(infoField((await r.info('talus')) as string, 'keys_loaded'));
    await r.config('SET', 'maxmemory', '1');
    try {
      // the cron evicts clean entries at 10 Hz
      await new Promise((res) => setTimeout(res, 300));
      expect(await run(c, ['MULTI'], ['INCR', 'cold'], ['GET', 'watched'], ['EXEC'])).to.deep.equal([
        'OK', 'QUEUED', 'QUEUED', [11, '1'],
      ]);
      const loadsAfter = Number(infoField((await r.info('talus')) as string, 'keys_loaded'));
      expect(loadsAfter).to.be.greaterThan(loadsBefore);
    } finally {
      await r.config('SET', 'maxmemory', '1gb');
    }
    expect(await r.get('cold')).to.equal('11');
  });

  it('a lower maxmemory set inside EXEC does not evict the keys of the running transaction', async () => {
    await r.set('tk', '5');
    const c = await raw();
    try {
      const replies = await run(c, ['MULTI'], ['CONFIG', 'SET', 'maxmemory', '1'], ['INCR', 'tk'], ['GET', 'tk'], ['EXEC']);
      expect(replies[4]).to.deep.equal(['OK', 6, '6']);
    } finally {
      await r.config('SET', 'maxmemory', '1gb');
    }
    expect(await r.get('tk')).to.equal('6');
  });

  it('SWAPDB inside MULTI: later commands find the swapped-in keys resident', async () => {
    await r.select(1);
    await r.set('sw', '5');
    await r.select(0);
    await r.config('SET', 'maxmemory', '1');
    await new Promise((res) => setTimeout(res, 300));
    await r.config('SET', 'maxmemory', '1gb');
    const c = await raw();
    expect(await run(c, ['MULTI'], ['SWAPDB', '0', '1'], ['INCR', 'sw'], ['EXEC'])).to.deep.equal(['OK', 'QUEUED', 'QUEUED', ['OK', 6]]);
    await r.call('swapdb', '0', '1');
  });

  it('asynchronous keyless commands inside EXEC keep their place in the reply', async () => {
    const c = await raw();
    const replies = await run(c, ['MULTI'], ['SET', 'ak', '1'], ['CONFIG', 'REWRITE'], ['BGSAVE'], ['GET', 'ak'], ['EXEC']);
    expect((replies[5] as RespValue[]).map(msg)).to.deep.equal([
      'OK', 'ERR The server is running without a config file', 'Background saving started', '1',
    ]);
  });

  it('a CONFIG SET error inside EXEC is one element of the array', async () => {
    const c = await raw();
    const replies = await run(c, ['MULTI'], ['SET', 'foo', 'bar'], ['CONFIG', 'SET', 'maxmemory', 'bla'], ['EXEC']);
    const exec = replies[3] as RespValue[];
    expect(msg(exec[0]!)).to.equal('OK');
    expect(msg(exec[1]!)).to.match(/^ERR CONFIG SET failed \(possibly related to argument 'maxmemory'\)/);
  });

  it('the EXEC reply comes after the transaction is committed; stats count each command', async () => {
    await r.call('config', 'resetstat');
    const c = await raw();
    await run(c, ['MULTI'], ['SET', 'd1', 'a'], ['SET', 'd2', 'b'], ['EXEC']);
    const info = (await r.info('everything')) as string;
    expect(infoField(info, 'durable_seq')).to.equal(infoField(info, 'changelog_seq'));
    expect(infoField(info, 'cmdstat_multi')).to.match(/^calls=1,/);
    expect(infoField(info, 'cmdstat_exec')).to.match(/^calls=1,/);
    expect(infoField(info, 'cmdstat_set')).to.match(/^calls=2,/);
  });

  it('CLIENT LIST shows the transaction while it is being queued', async () => {
    const c = await raw();
    await run(c, ['CLIENT', 'SETNAME', 'txer'], ['MULTI'], ['SET', 'q', '1'], ['SET', 'q', '2']);
    const line = ((await r.call('client', 'list')) as string).split('\n').find((l) => l.includes('name=txer'))!;
    expect(line).to.match(/ flags=x .* multi=2 /);
    await run(c, ['DISCARD']);
  });
});
