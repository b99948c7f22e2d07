import { expect } from 'chai';
import net from 'node:net';
import { signalEmbeddedPostgres, startTalus, talusInfo, tempDir, type TalusProcess } from './support/harness.js';
import { peakRssMb, redisCliPipe, resetPeak, resp, rssSampler, shapeValue, slowReader } from './support/client-shapes.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('memory bound whatever the client does', function () {
  this.timeout(180_000);
  let srv: TalusProcess;
  before(async () => {
    srv = await startTalus(['--maxmemory', '64mb']);
  });
  after(async () => srv?.stop());

  it('clients writing and then reading big values at once keep RSS under maxmemory + 200 MB', async () => {
    // 8 clients x 2 x 8 MB: twice maxmemory, sent at once, then read back at once (most of them cold by then).
    // First on this server: after the 64 KiB values of the next test, malloc's holes add ~50 MB
    // (docs/benchmarks.md, "RSS by client shape"). 16 MB values (bench/rss-shapes.ts `big`)
    // peak at 234-261 MB here: too near the bound for a test on an unknown machine.
    const pid = srv.proc.pid!;
    resetPeak(pid);
    const sampler = rssSampler(pid, 20);
    const value = (c: number, i: number) => Buffer.alloc(8 << 20, 97 + c * 2 + i);
    const clients = Array.from({ length: 8 }, () => srv.client());
    await Promise.all(clients.map(async (c, n) => {
      for (const i of [0, 1]) await c.set(`bigv:${n}:${i}`, value(n, i));
    }));
    await Promise.all(clients.map(async (c, n) => {
      for (const i of [0, 1]) expect((await c.getBuffer(`bigv:${n}:${i}`))!.equals(value(n, i)), `bigv:${n}:${i}`).to.equal(true);
    }));
    const peak = Math.max(sampler.stop(), peakRssMb(pid));
    expect(peak, 'peak RSS (MB)').to.be.below(64 + 200);
    for (const c of clients) c.disconnect();
  });

  it('redis-cli --pipe of big values and a client that does not read keep RSS under maxmemory + 200 MB', async () => {
    const pid = srv.proc.pid!;
    const sampler = rssSampler(pid);
    await redisCliPipe(srv.port, 'pipe:', 2000, 64 * 1024); // 125 MB
    const c = srv.client();
    expect((await c.getBuffer('pipe:1999'))!.length).to.equal(64 * 1024);
    const r = await slowReader(srv.port, 'pipe:1999', { count: 3000, replyBytes: 3000 * (65536 + 10), stallMs: 2000, bytesPerSecond: 64 << 20 });
    expect(r.received).to.equal(3000 * (65536 + 10));
    const peak = Math.max(sampler.stop(), peakRssMb(pid));
    expect(peak, 'peak RSS (MB)').to.be.below(64 + 200);
  });

  it('64 clients each reading 600 big values in one MGET at once keep RSS under maxmemory + 200 MB', async () => {
    // 4,000 values of 64 KiB (four times maxmemory), then 38 MB of reply to each client, 2.4 GB in
    // all, most values cold: every client's keys were read and held for it at once (430 MB seen),
    // every reply made and held at once, and the burst of cold reads queued for a connection until
    // some failed with "timeout exceeded when trying to connect".
    const pid = srv.proc.pid!;
    await redisCliPipe(srv.port, 'mget:', 4000, 64 * 1024);
    resetPeak(pid);
    const sampler = rssSampler(pid, 20);
    const before = (await talusInfo(srv.client())).big_reply_gate_closings ?? 0;
    const clients = Array.from({ length: 64 }, () => srv.client());
    let wrong = 0;
    await Promise.all(clients.map(async (c, n) => {
      const ids = Array.from({ length: 600 }, (_, k) => (n * 61 + k) % 4000);
      const values = await c.mgetBuffer(...ids.map((i) => `mget:${i}`));
      ids.forEach((i, k) => { if (!values[k]?.equals(shapeValue(i, 64 * 1024))) wrong++; });
    }));
    for (const c of clients) c.disconnect();
    const peak = Math.max(sampler.stop(), peakRssMb(pid));
    expect(wrong, 'wrong values').to.equal(0);
    expect(peak, 'peak RSS (MB)').to.be.below(64 + 200);
    expect((await talusInfo(srv.client())).big_reply_gate_closings, 'times the gate closed').to.be.above(before);
  });

  it('32 clients each reading ten cold 1 MB values at once keep RSS under maxmemory + 200 MB', async () => {
    // Each batch of cold keys carried every value up to 1 MB with its key row: up to 250 MB of
    // values in one result, five times over in transit (435 MB seen with 320 such values).
    const pid = srv.proc.pid!;
    await redisCliPipe(srv.port, 'megs:', 320, 1 << 20);
    resetPeak(pid);
    const sampler = rssSampler(pid, 20);
    const clients = Array.from({ length: 32 }, () => srv.client());
    let wrong = 0;
    await Promise.all(clients.map(async (c, n) => {
      const p = c.pipeline();
      for (let k = 0; k < 10; k++) p.getBuffer(`megs:${n * 10 + k}`);
      const res = (await p.exec())!;
      res.forEach(([err, v], k) => { if (err || !(v as Buffer).equals(shapeValue(n * 10 + k, 1 << 20))) wrong++; });
    }));
    for (const c of clients) c.disconnect();
    const peak = Math.max(sampler.stop(), peakRssMb(pid));
    expect(wrong, 'wrong values').to.equal(0);
    expect(peak, 'peak RSS (MB)').to.be.below(64 + 200);
  });

  it('a full commit backlog holds writes only: PING, reads and INFO still answer', async () => {
    // Its own embedded PostgreSQL, stopped with SIGSTOP: the commit in flight then never ends.
    const dir = tempDir('backlog');
    const own = await startTalus(['--maxmemory', '64mb', '--appendfsync', 'everysec'], { embedded: true, dir });
    // the postmaster and its backends: the one committing must stop too
    const signalPostgres = (signal: NodeJS.Signals) => signalEmbeddedPostgres(dir, signal);
    let stopped = false;
    try {
      const writer = own.client();
      const reader = own.client();
      await writer.set('small', 'before');
      await writer.call('SAVE', []);
      signalPostgres('SIGSTOP');
      stopped = true;
      // 4 MB of change log that PostgreSQL cannot take: over the backlog's byte bound (maxmemory / 32, at least 2 MB)
      await writer.set('big', Buffer.alloc(4 << 20, 'x'));
      let written = false;
      const write = writer.set('small', 'after').then(() => (written = true));
      expect(await reader.ping()).to.equal('PONG');
      expect(await reader.get('small')).to.equal('before');
      expect(await reader.strlen('big')).to.equal(4 << 20);
      expect((await talusInfo(reader)).throttled_clients, 'writers held').to.equal(1);
      await sleep(300);
      expect(written, 'the write waits while the backlog is full').to.equal(false);
      signalPostgres('SIGCONT');
      stopped = false;
      await write;
      expect(await reader.get('small')).to.equal('after');
    } finally {
      if (stopped) signalPostgres('SIGCONT');
      await own.stop();
    }
  });

  it('closes a client past the normal hard output limit without sending it anything more', async () => {
    const c = srv.client();
    await c.set('big', Buffer.alloc(64 * 1024, 'x'));
    await c.config('SET', 'client-output-buffer-limit', 'normal 4mb 0 0');
    try {
      const s = net.connect({ port: srv.port, host: '127.0.0.1' });
      s.on('error', () => undefined);
      s.pause(); // never reads
      const closed = new Promise<void>((resolve) => s.once('close', () => resolve()));
      s.write(resp('CLIENT', 'SETNAME', 'nonreader'));
      s.write(Buffer.concat(Array.from({ length: 2000 }, () => resp('GET', 'big'))));
      let gone = false;
      for (let i = 0; i < 100 && !gone; i++) {
        await sleep(100);
        gone = !String(await c.client('LIST')).includes('name=nonreader');
      }
      expect(gone, 'client closed').to.equal(true);
      s.resume();
      await closed;
      expect(srv.output()).to.match(/scheduled to be closed ASAP for overcoming of output buffer limits/);
    } finally {
      await c.config('SET', 'client-output-buffer-limit', 'normal 0 0 0');
    }
  });

  it('subscribers and monitors that stop reading are closed once their unsent output passes a quarter of maxmemory', async () => {
    const c = srv.client();
    // without per-client limits: only the bound on all listeners together stops them
    await c.config('SET', 'client-output-buffer-limit', 'pubsub 0 0 0');
    const stalled: net.Socket[] = [];
    const reader = srv.client();
    try {
      for (let i = 0; i < 6; i++) {
        const s = net.connect({ port: srv.port, host: '127.0.0.1' });
        s.on('error', () => undefined);
        s.write(resp('CLIENT', 'SETNAME', `stalled${i}`));
        s.write(i === 5 ? resp('MONITOR') : resp('SUBSCRIBE', 'news'));
        stalled.push(s);
      }
      await sleep(300);
      for (const s of stalled) s.pause(); // from now on they read nothing
      let received = 0;
      reader.on('messageBuffer', () => received++);
      await reader.subscribe('news');
      const before = Number(/evicted_clients:(\d+)/.exec(String(await c.info('stats')))![1]);
      const message = Buffer.alloc(256 * 1024, 'm');
      let worst = 0;
      for (let batch = 0; batch < 20; batch++) {
        await Promise.all(Array.from({ length: 20 }, () => c.publish('news', message)));
        const list = String(await c.client('LIST'));
        const held = [...list.matchAll(/name=stalled\d .*?omem=(\d+)/g)].reduce((n, m) => n + Number(m[1]), 0);
        worst = Math.max(worst, held);
      }
      // 400 x 256 KB = 100 MB to each; the budget is 16 MB, checked every 2 MB pushed
      expect(worst, 'unsent output of the stalled listeners').to.be.below(24 << 20);
      const list = String(await c.client('LIST'));
      expect(list.match(/name=stalled/g)?.length ?? 0, 'stalled listeners left').to.be.at.most(1);
      for (let i = 0; i < 100 && received < 400; i++) await sleep(50);
      expect(received, 'messages the reading subscriber got').to.equal(400);
      const after = Number(/evicted_clients:(\d+)/.exec(String(await c.info('stats')))![1]);
      expect(after - before).to.be.at.least(5);
      expect(srv.output()).to.match(/subscribers and monitors hold \d+ MB unsent, over 16 MB/);
    } finally {
      for (const s of stalled) s.destroy();
      reader.disconnect();
      await c.config('SET', 'client-output-buffer-limit', 'pubsub 32mb 8mb 60');
    }
  });

  it('maxmemory-clients closes the client holding the most memory', async () => {
    const c = srv.client();
    await c.client('SETNAME', 'small');
    await c.config('SET', 'maxmemory-clients', '2mb');
    try {
      const s = net.connect({ port: srv.port, host: '127.0.0.1' });
      s.on('error', () => undefined);
      s.write(resp('CLIENT', 'SETNAME', 'hog'));
      // a SET of a 16 MB value, 3 MB of it sent: its query buffer holds 3 MB
      s.write(Buffer.concat([Buffer.from('*3\r\n$3\r\nSET\r\n$3\r\nhog\r\n$16777216\r\n'), Buffer.alloc(3 << 20, 'h')]));
      let gone = false;
      for (let i = 0; i < 100 && !gone; i++) {
        await sleep(100);
        gone = !String(await c.client('LIST')).includes('name=hog');
      }
      expect(gone, 'the big client was evicted').to.equal(true);
      expect(await c.ping()).to.equal('PONG');
      expect(String(await c.info('stats'))).to.match(/evicted_clients:[1-9]/);
      s.destroy();
    } finally {
      await c.config('SET', 'maxmemory-clients', '0');
    }
  });

  it('CLIENT LIST counts a partly received request in qbuf and tot-mem', async () => {
    const c = srv.client();
    const s = net.connect({ port: srv.port, host: '127.0.0.1' });
    s.on('error', () => undefined);
    s.write(resp('CLIENT', 'SETNAME', 'partial'));
    s.write(Buffer.concat([Buffer.from('*3\r\n$3\r\nSET\r\n$1\r\np\r\n$4194304\r\n'), Buffer.alloc(1 << 20, 'p')]));
    let line = '';
    for (let i = 0; i < 50; i++) {
      await sleep(100);
      line = String(await c.client('LIST')).split('\n').find((l) => l.includes('name=partial')) ?? '';
      if (Number(/qbuf=(\d+)/.exec(line)?.[1]) >= 1 << 20) break;
    }
    expect(Number(/qbuf=(\d+)/.exec(line)?.[1])).to.be.at.least(1 << 20);
    expect(Number(/tot-mem=(\d+)/.exec(line)?.[1])).to.be.at.least(1 << 20);
    s.destroy();
  });

  it('a value bigger than maxmemory is let go of once evicted (nothing keeps the last lookup alive)', async () => {
    const c = srv.client();
    const used = async () => Number(/used_memory:(\d+)/.exec(await c.info('memory'))![1]);
    // 150 MB: more than the hot set (64 MB), the start-up heap and the guard's slack together
    await c.setrange('evicted:huge', 150 << 20, 'x');
    expect(await c.strlen('evicted:huge')).to.equal((150 << 20) + 1);
    let low = Infinity;
    // evicted once committed; the memory guard collects within its recheck interval (10 s)
    for (let i = 0; i < 250 && low >= 150 << 20; i++) {
      await sleep(100);
      low = Math.min(low, await used());
    }
    expect(low / 2 ** 20, 'used_memory (MB) after eviction').to.be.below(150);
    expect((await c.getrange('evicted:huge', (150 << 20) - 1, -1)).length).to.equal(2);
  });

  it('16 clients asking KEYS * or SCAN 0 COUNT 1000000 of 400,000 keys at once keep RSS under maxmemory + 200 MB', async () => {
    // A reply of a Buffer per key took 300 MB for a million keys, and each client built its own at once;
    // such a SCAN read its million rows in one result (470 MB; eight clients, 2.4 GB).
    const pid = srv.proc.pid!;
    await redisCliPipe(srv.port, 'many:', 400_000, 8);
    const c = srv.client();
    const count = Number(await c.dbsize());
    resetPeak(pid);
    const sampler = rssSampler(pid, 20);
    const clients = Array.from({ length: 16 }, () => srv.client());
    const lengths = await Promise.all(clients.map(async (k, n) =>
      n % 2 === 0 ? (await k.keys('*')).length : ((await k.scan('0', 'COUNT', 1_000_000)) as [string, string[]])[1].length));
    const peak = Math.max(sampler.stop(), peakRssMb(pid));
    for (const k of clients) k.disconnect();
    expect(lengths).to.deep.equal(Array.from({ length: 16 }, () => count));
    expect(peak, 'peak RSS (MB)').to.be.below(64 + 200);
    expect((await c.keys('many:39999*')).sort()).to.deep.equal(['many:39999', 'many:399990', 'many:399991', 'many:399992', 'many:399993', 'many:399994', 'many:399995', 'many:399996', 'many:399997', 'many:399998', 'many:399999']);
    await c.flushall();
  });
});
