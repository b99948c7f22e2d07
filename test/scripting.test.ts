import { expect } from 'chai';
import type { Redis } from 'ioredis';
import { freshDatabase, startTalus, type TalusProcess } from './support/harness.js';

/** ioredis commands defined from scripts, as applications write them. */
type Scripted = Redis & {
  acquire(key: string, owner: string, ms: number): Promise<string | null>;
  extend(key: string, owner: string, ms: number): Promise<number>;
  release(key: string, owner: string): Promise<number>;
  enqueue(queue: string, job: string): Promise<number>;
  claim(queue: string, active: string): Promise<string | null>;
};

function define(r: Redis): Scripted {
  r.defineCommand('acquire', { numberOfKeys: 1, lua: "return redis.call('set', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2])" });
  r.defineCommand('extend', {
    numberOfKeys: 1,
    lua: "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) end return 0",
  });
  r.defineCommand('release', {
    numberOfKeys: 1,
    lua: "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0",
  });
  r.defineCommand('enqueue', { numberOfKeys: 1, lua: "return redis.call('rpush', KEYS[1], ARGV[1])" });
  r.defineCommand('claim', {
    numberOfKeys: 2,
    lua: "local job = redis.call('lpop', KEYS[1]) if job then redis.call('sadd', KEYS[2], job) end return job",
  });
  return r as Scripted;
}

describe('scripting: EVAL, EVALSHA, SCRIPT', function () {
  this.timeout(120_000);
  let srv: TalusProcess;
  let r: Redis;

  before(async () => {
    srv = await startTalus();
    r = srv.client();
  });
  after(async () => {
    await srv?.stop();
  });

  it('runs redis.call and converts replies as Redis does', async () => {
    expect(await r.eval("return redis.call('set', KEYS[1], ARGV[1])", 1, 'k', 'v')).to.equal('OK');
    expect(await r.eval("return {1, 'a', {2}, 3.99, true, false}", 0)).to.deep.equal([1, 'a', [2], 3, 1, null]);
    expect(await r.eval("return redis.call('get', 'k')", 0)).to.equal('v');
    expect(await r.eval('return tostring(10/2)', 0)).to.equal('5');
  });

  it('gives Redis error texts with the script name and line', async () => {
    await r.set('s', 'x');
    const err = await r.eval("return redis.call('incr','s')", 0).catch((e: Error) => e.message);
    expect(err).to.match(/^ERR value is not an integer or out of range script: [0-9a-f]{40}, on @user_script:1\.$/);
    expect(await r.eval('a = 1', 0).catch((e: Error) => e.message)).to.match(/^ERR user_script:1: Attempt to modify a readonly table script: /);
    expect(await r.eval('return os', 0).catch((e: Error) => e.message)).to.match(/nonexistent global variable 'os'/);
    expect(await r.eval("return redis.call('blpop', 'x', 0)", 0).catch((e: Error) => e.message)).to.match(/^ERR This Redis command is not allowed from script script:/);
    expect(await r.eval('return +', 0).catch((e: Error) => e.message)).to.equal("ERR Error compiling script (new function): user_script:1: unexpected symbol near '+'");
    expect(await r.evalsha('ffffffffffffffffffffffffffffffffffffffff', 0).catch((e: Error) => e.message)).to.equal('NOSCRIPT No matching script. Please use EVAL.');
    expect(await r.call('eval_ro', "return redis.call('set','k','v')", '0').catch((e: Error) => e.message)).to.match(/^ERR Write commands are not allowed from read-only scripts\./);
  });

  it('protects globals from rawset and setmetatable, as Redis 7 does', async () => {
    for (const body of ["rawset(_G, 'a', 1)", 'setmetatable(_G, {})', 'local g = getmetatable(_G) g.__index = {}', "rawset(redis, 'call', 1)"]) {
      await r.eval(body, 0).then(
        () => expect.fail(`${body} ran`),
        (e: Error) => expect(e.message).to.match(/Attempt to modify a readonly table/),
      );
    }
    expect(await r.eval("local t = {} rawset(t, 'a', 5) return t.a", 0)).to.equal(5);
  });

  it('has cjson, cmsgpack, bit and struct with the results of Redis', async () => {
    const hex = "local h = '' for i = 1, #e do h = h .. string.format('%02x', string.byte(e, i)) end return h";
    // figures from redis-server 7.0.15
    expect(await r.eval("return cjson.encode({1, 2, {a = 'x/y'}, '\\n', 1.5, 1e20, -0.0001, true})", 0)).to.equal('[1,2,{"a":"x\\/y"},"\\n",1.5,1e+20,-0.0001,true]');
    expect(await r.eval("return table.concat(cjson.decode('[0.0, -5e3, -1, 0.3e-3, 1023.2, 0e10]'), ' ')", 0)).to.equal('0 -5000 -1 0.0003 1023.2 0');
    expect(await r.callBuffer('EVAL', 'return cjson.decode(ARGV[1]).k', 0, '{"k":"\\u00e9\\ud83d\\ude00"}')).to.deep.equal(Buffer.from('é😀'));
    expect(await r.eval("return cjson.decode('[1,2')", 0).catch((e: Error) => e.message)).to.match(/^ERR user_script:1: Expected comma or array end but found T_END at character 5 script: /);
    expect(await r.eval('return cjson.encode({[1] = 1, [5] = 2, [20] = 3})', 0).catch((e: Error) => e.message)).to.match(/^ERR user_script:1: Cannot serialise table: excessively sparse array script: /);
    expect(await r.eval(`local e = cmsgpack.pack(0.1, 0.5, -1099511627776, 200, -5, -200, 70000, 'abc', {}, {1, 2}, {a = 1}, true, nil) ${hex}`, 0))
      .to.equal('cb3fb999999999999aca3f000000d3ffffff0000000000ccc8fbd1ff38ce00011170a36162639092010281a16101c3c0');
    expect(await r.eval(`local a = {y = 5} a.x = {x = a} local e = cmsgpack.pack(a) ${hex}`, 0)).to.equal(`${'82a17905a17881a178'.repeat(8)}c0`);
    expect(await r.eval("return {cmsgpack.unpack_limit(cmsgpack.pack(1, 2, 3), 2, 1)}", 0)).to.deep.equal([-1, 2, 3]);
    // binary-safe both ways: every byte value survives a pack and an unpack
    const bytes = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    expect(await r.callBuffer('EVAL', 'return cmsgpack.unpack(cmsgpack.pack(ARGV[1]))', 0, bytes)).to.deep.equal(bytes);
    expect(await r.callBuffer('EVAL', 'return cjson.decode(cjson.encode(ARGV[1]))', 0, bytes)).to.deep.equal(bytes);
    expect(await r.eval('return {bit.tobit(2^32 + 5), bit.bor(1, 2, 4, 128), bit.bnot(0), bit.lshift(1, 31), bit.rshift(-1, 28), bit.arshift(-256, 4), bit.rol(0x12345678, 12), bit.bswap(0x12345678)}', 0))
      .to.deep.equal([5, 135, -1, -2147483648, 15, -16, 1164411171, 2018915346]);
    expect(await r.eval("return {bit.tohex(255), bit.tohex(-1, -4)}", 0)).to.deep.equal(['000000ff', 'FFFF']);
    expect(await r.eval(`local e = struct.pack('>iHb!4dc3s', -2, 65535, -1, 1.5, 'abcdef', 'zz') ${hex}`, 0)).to.equal('fffffffeffffff003ff80000000000006162637a7a00');
    expect(await r.eval("return {struct.size('>iHb!4d'), struct.unpack('<i2 x c0', struct.pack('<i2 x c0', 3, 'abc'))}", 0)).to.deep.equal([16, 'abc', 7]);
    expect(await r.eval("return struct.pack('q', 1)", 0).catch((e: Error) => e.message)).to.match(/^ERR user_script:1: bad argument #1 to 'pack' \(invalid format option 'q'\) script: /);
    expect(await r.eval('cjson.encode = nil', 0).catch((e: Error) => e.message)).to.match(/Attempt to modify a readonly table/);
  });

  it('refuses bytecode in loadstring, as Redis does', async () => {
    expect(await r.eval('return loadstring(string.dump(function() return 1 end))()', 0).catch((e: Error) => e.message)).to.match(/^ERR user_script:1: attempt to call a nil value script: /);
    expect(await r.eval("return loadstring('return 7')()", 0)).to.equal(7);
  });

  it('refuses scripts that may write when over maxmemory (noeviction), unless allow-oom or no-writes', async () => {
    await r.set('oom', '123');
    await r.config('SET', 'maxmemory-policy', 'noeviction');
    await r.config('SET', 'maxmemory', '1');
    try {
      const oom = "OOM command not allowed when used memory > 'maxmemory'.";
      expect(await r.eval("redis.call('set', KEYS[1], 1) return 1", 1, 'oom').catch((e: Error) => e.message)).to.match(new RegExp(`^${oom} script: `));
      expect(await r.eval("return redis.call('get', KEYS[1])", 1, 'oom')).to.equal('123');
      expect(await r.eval('#!lua flags=\nreturn 1', 0).catch((e: Error) => e.message)).to.equal(oom);
      expect(await r.eval("#!lua flags=allow-oom\nreturn redis.call('set', KEYS[1], 5)", 1, 'oom')).to.equal('OK');
      expect(await r.eval("#!lua flags=no-writes\nreturn redis.call('get', KEYS[1])", 1, 'oom')).to.equal('5');
      expect(await r.call('FUNCTION', 'LOAD', "#!lua name=oomlib\nredis.register_function('f', function() return 1 end)").catch((e: Error) => e.message)).to.equal(oom);
    } finally {
      await r.config('SET', 'maxmemory', '0');
      await r.config('SET', 'maxmemory-policy', 'allkeys-lru');
    }
  });

  it('refuses scripts that may write without enough good followers (NOREPLICAS), unless no-writes', async () => {
    await r.set('norepl', 'v');
    await r.config('SET', 'min-replicas-to-write', '1');
    try {
      const noReplicas = 'NOREPLICAS Not enough good replicas to write.';
      // a shebang script may write unless it says no-writes: refused before it runs, as Redis
      expect(await r.eval("#!lua\nreturn redis.call('get', KEYS[1])", 1, 'norepl').catch((e: Error) => e.message)).to.equal(noReplicas);
      expect(await r.eval("#!lua flags=no-writes\nreturn redis.call('get', KEYS[1])", 1, 'norepl')).to.equal('v');
      // without a shebang the script runs, and its write is refused
      expect(await r.eval("return redis.call('set', KEYS[1], 1)", 1, 'norepl').catch((e: Error) => e.message)).to.match(/^NOREPLICAS /);
      expect(await r.get('norepl')).to.equal('v');
    } finally {
      await r.config('SET', 'min-replicas-to-write', '0');
    }
  });

  it('finds functions whatever their case and reads library names as Redis splits them', async () => {
    expect(await r.call('FUNCTION', 'LOAD', 'REPLACE', '#!lua name="quoted"\nredis.register_function(\'Hello\', function() return 1 end)')).to.equal('quoted');
    expect(await r.call('FCALL', 'HELLO', '0')).to.equal(1);
    expect(await r.call('FUNCTION', 'RESTORE', 'a', 'b', 'c').catch((e: Error) => e.message)).to.equal("ERR unknown subcommand or wrong number of arguments for 'RESTORE'. Try FUNCTION HELP.");
    expect(await r.call('FUNCTION', 'DELETE', 'quoted')).to.equal('OK');
  });

  it("passes redis.call each string's own bytes while Lua reuses the memory of collected strings", async () => {
    // Strings of one length made and collected in turn land at addresses freed by earlier ones: the
    // engine's reuse of the Buffer it gave for a string at the same address must not hand out stale bytes.
    const script = `
      for i = 1, 400 do
        redis.call('SET', string.format('memo:%04d', i), string.format('v%04d', i * 7))
        redis.call('EXPIRE', string.format('memo:%04d', i), 1000 + i)
        collectgarbage('collect')
      end
      redis.call('SET', KEYS[1], ARGV[1]) redis.call('SET', ARGV[1], KEYS[1])
      return {redis.call('GET', KEYS[1]), redis.call('TTL', 'memo:0001'), redis.call('TTL', 'memo:0400')}`;
    expect(await r.eval(script, 1, 'memo:key', 'memo:arg')).to.deep.equal(['memo:arg', 1001, 1400]);
    expect(await r.eval(script, 1, 'memo:k2', 'memo:a2')).to.deep.equal(['memo:a2', 1001, 1400]);
    const names = Array.from({ length: 400 }, (_, i) => `memo:${String(i + 1).padStart(4, '0')}`);
    const values = await r.mget(...names);
    expect(values).to.deep.equal(names.map((_, i) => `v${String((i + 1) * 7).padStart(4, '0')}`));
    expect(await r.get('memo:a2')).to.equal('memo:k2');
  });

  it('caches scripts (SCRIPT LOAD / EXISTS / FLUSH)', async () => {
    const sha = (await r.script('LOAD', "return 'hello'")) as string;
    expect(await r.evalsha(sha, 0)).to.equal('hello');
    expect(await r.script('EXISTS', sha, 'nope')).to.deep.equal([1, 0]);
    expect(await r.script('FLUSH')).to.equal('OK');
    expect(await r.script('EXISTS', sha)).to.deep.equal([0]);
  });

  it('fails a script that allocates without bound and goes on', async () => {
    // a small heap: filling the default 64 MB with 1 KB strings took the WASM Lua 80-95 s here (it slows as the heap fills)
    await r.config('SET', 'lua-heap-limit', '8mb');
    try {
      const err = await r.eval("local t = {} for i = 1, 1e9 do t[i] = string.rep('x', 1000) .. i end", 0).catch((e: Error) => e.message);
      expect(err).to.match(/^ERR Error running script [0-9a-f]{40}, not enough memory/);
      expect(await r.eval('return 1', 0)).to.equal(1);
    } finally {
      await r.config('SET', 'lua-heap-limit', '64mb');
    }
  });

  it('answers BUSY past busy-reply-threshold and SCRIPT KILL stops a script that has not written', async () => {
    await r.config('SET', 'busy-reply-threshold', '100');
    const looping = srv.client();
    const other = srv.client();
    await Promise.all([looping.ping(), other.ping()]); // connected (and ready-checked) before the script runs
    const result = looping.eval('local i = 0 while true do i = i + 1 end', 0).catch((e: Error) => e.message);
    let busy = '';
    for (let i = 0; i < 100 && !busy.startsWith('BUSY'); i++) busy = String(await other.get('k').catch((e: Error) => e.message));
    expect(busy).to.equal('BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.');
    expect(await other.script('KILL')).to.equal('OK');
    expect(await result).to.match(/^ERR Script killed by user with SCRIPT KILL\.\.\. script: /);
    expect(await other.script('KILL').catch((e: Error) => e.message)).to.equal('NOTBUSY No scripts in execution right now.');
    await r.config('SET', 'busy-reply-threshold', '5000');
  });

  it('keeps a lock and a job queue right under concurrent clients', async () => {
    const clients = Array.from({ length: 8 }, () => define(srv.client()));
    // lock: exactly one owner at a time; only the owner extends or releases
    let held = 0;
    let maxHeld = 0;
    await Promise.all(clients.map(async (c, i) => {
      for (let n = 0; n < 20; n++) {
        if ((await c.acquire('lock', `o${i}`, 10_000)) === 'OK') {
          maxHeld = Math.max(maxHeld, ++held);
          expect(await c.extend('lock', `o${i}`, 20_000)).to.equal(1);
          expect(await c.release('lock', `other${i}`)).to.equal(0);
          held--;
          expect(await c.release('lock', `o${i}`)).to.equal(1);
        }
      }
    }));
    expect(maxHeld).to.equal(1);
    // queue: every job claimed once
    await Promise.all(clients.map(async (c, i) => {
      for (let n = 0; n < 25; n++) await c.enqueue('jobs', `j${i}-${n}`);
    }));
    const claimed: string[] = [];
    await Promise.all(clients.map(async (c) => {
      for (;;) {
        const job = await c.claim('jobs', 'active');
        if (job === null) break;
        claimed.push(job);
      }
    }));
    expect(claimed.length).to.equal(200);
    expect(new Set(claimed).size).to.equal(200);
    expect(await r.scard('active')).to.equal(200);
  });
});

describe('scripting: undeclared cold keys', function () {
  this.timeout(120_000);

  it('reads and writes keys the script did not declare, loaded while the script waits', async () => {
    const url = await freshDatabase();
    let srv = await startTalus([], { databaseUrl: url });
    let r = srv.client();
    for (let i = 0; i < 50; i++) await r.set(`cold:${i}`, String(i));
    await r.rpush('cold:list', 'a', 'b');
    for (let i = 1; i <= 4; i++) await r.set(`guarded:${i}`, String(i));
    await srv.stop();
    // a restart: every key is in PostgreSQL only
    srv = await startTalus([], { databaseUrl: url });
    r = srv.client();
    const script = `
      local sum = 0
      for i = 0, 49 do sum = sum + tonumber(redis.call('get', 'cold:' .. i)) end
      redis.call('set', 'cold:sum', sum)
      redis.call('incr', 'cold:7')
      return {sum, redis.call('lrange', 'cold:list', 0, -1), redis.call('get', 'cold:missing')}`;
    expect(await r.eval(script, 0)).to.deep.equal([1225, ['a', 'b'], null]);
    expect(await r.get('cold:sum')).to.equal('1225');
    expect(await r.get('cold:7')).to.equal('8');
    // inside pcall and redis.pcall too, nested, with an error from a cold key raised after its load
    const guarded = `
      local ok1, v1 = pcall(redis.call, 'get', 'guarded:1')
      local ok2, v2 = pcall(function()
        local ok3, v3 = pcall(function() return redis.call('incr', 'guarded:2') end)
        return v3 + 100
      end)
      local ok4, e4 = pcall(function() return redis.call('hget', 'guarded:3', 'f') end)
      local e5 = redis.pcall('lpush', 'guarded:4', 'x')
      return {tostring(ok1), v1, tostring(ok2), v2, tostring(ok4), e4, e5['err']}`;
    expect(await r.eval(guarded, 0)).to.deep.equal([
      'true', '1', 'true', 103, 'false',
      'WRONGTYPE Operation against a key holding the wrong kind of value',
      'WRONGTYPE Operation against a key holding the wrong kind of value',
    ]);
    expect(await r.get('guarded:2')).to.equal('3');
    // over maxmemory, a key loaded for a waiting script stays until the script ran (it was unloaded as it landed, again and again)
    await r.config('SET', 'maxmemory', '1');
    expect(await r.eval("return {redis.call('get', 'cold:11'), redis.call('incr', 'cold:12')}", 0)).to.deep.equal(['11', 13]);
    await r.config('SET', 'maxmemory', '0');
    await srv.stop();
  });
});

describe('functions: persistence and replication', function () {
  this.timeout(180_000);
  const library = (name: string, body: string) => `#!lua name=${name}\nredis.register_function('${name}_fn', function(keys, args) ${body} end)`;
  let servers: TalusProcess[] = [];
  after(async () => {
    await Promise.all(servers.map((s) => s.stop()));
  });

  it('keeps libraries across a restart, FUNCTION FLUSH and DELETE included', async () => {
    const url = await freshDatabase();
    let srv = await startTalus([], { databaseUrl: url });
    let r = srv.client();
    expect(await r.call('FUNCTION', 'LOAD', library('kept', "return redis.call('incr', keys[1])"))).to.equal('kept');
    expect(await r.call('FUNCTION', 'LOAD', library('dropped', 'return 1'))).to.equal('dropped');
    expect(await r.call('FUNCTION', 'DELETE', 'dropped')).to.equal('OK');
    expect(await r.call('FCALL', 'kept_fn', '1', 'counter')).to.equal(1);
    await srv.stop();

    srv = await startTalus([], { databaseUrl: url });
    r = srv.client();
    expect(await r.call('FCALL', 'kept_fn', '1', 'counter')).to.equal(2);
    const listed = (await r.call('FUNCTION', 'LIST')) as unknown[][];
    expect(listed.map((lib) => lib[1])).to.deep.equal(['kept']);
    // RESTORE replaces what is stored, and a FLUSH leaves nothing behind
    const dump = (await r.callBuffer('FUNCTION', 'DUMP')) as Buffer;
    expect(await r.call('FUNCTION', 'FLUSH')).to.equal('OK');
    await srv.stop();

    srv = await startTalus([], { databaseUrl: url });
    r = srv.client();
    expect(await r.call('FUNCTION', 'LIST')).to.deep.equal([]);
    expect(String(await r.call('FCALL', 'kept_fn', '1', 'counter').catch((e: Error) => e))).to.contain('Function not found');
    expect(await r.call('FUNCTION', 'RESTORE', dump)).to.equal('OK');
    await srv.stop();

    srv = await startTalus([], { databaseUrl: url });
    servers.push(srv);
    expect(await srv.client().call('FCALL', 'kept_fn', '1', 'counter')).to.equal(3);
  });

  it('reaches a follower by full sync and by the change log, and the follower refuses FUNCTION LOAD', async () => {
    const leader = await startTalus([]);
    servers.push(leader);
    const l = leader.client();
    expect(await l.call('FUNCTION', 'LOAD', library('synced', 'return 1'))).to.equal('synced');
    const follower = await startTalus([]);
    servers.push(follower);
    const f = follower.client();
    // a library of the follower's own goes with the full sync
    expect(await f.call('FUNCTION', 'LOAD', library('local', 'return 0'))).to.equal('local');
    expect(await f.call('REPLICAOF', '127.0.0.1', String(leader.port))).to.equal('OK');
    const names = async () => ((await f.call('FUNCTION', 'LIST')) as unknown[][]).map((lib) => lib[1]).sort();
    const until = async (what: string, check: () => Promise<boolean>) => {
      for (let i = 0; !(await check()); i++) {
        if (i > 600) throw new Error(`timed out waiting for ${what}`);
        await new Promise((res) => setTimeout(res, 100));
      }
    };
    await until('the full sync', async () => JSON.stringify(await names()) === '["synced"]');
    // a follower refuses what may write: a function or shebang script without no-writes, and a script's write commands
    const readonlyError = "READONLY You can't write against a read only replica.";
    expect(await f.call('FCALL', 'synced_fn', '0').catch((e: Error) => e.message)).to.equal(readonlyError);
    expect(await f.eval("return redis.call('set', 'x', '1')", 0).catch((e: Error) => e.message)).to.match(new RegExp(`^${readonlyError} script: `));
    const readOnly = "#!lua name=streamed\nredis.register_function{function_name='streamed_fn', flags={'no-writes'}, callback=function(keys) return redis.call('get', keys[1]) end}";
    expect(await l.call('FUNCTION', 'LOAD', readOnly)).to.equal('streamed');
    expect(await l.call('FUNCTION', 'DELETE', 'synced')).to.equal('OK');
    await until('the streamed change', async () => JSON.stringify(await names()) === '["streamed"]');
    await l.set('k', 'v');
    await until('the key', async () => (await f.get('k')) === 'v');
    expect(await f.call('FCALL_RO', 'streamed_fn', '1', 'k')).to.equal('v');
    const refused = await f.call('FUNCTION', 'LOAD', library('mine', 'return 2')).catch((e: Error) => e);
    expect(String(refused)).to.contain("READONLY You can't write against a read only replica.");
    // and a restarted follower still has it
    await follower.stop();
  });
});
