import { expect } from 'chai';
import fs from 'node:fs';
import path from 'node:path';
import net from 'node:net';
import { Redis } from 'ioredis';
import { startTalus, tempDir, type TalusProcess } from './support/harness.js';
import { Raw } from './support/raw.js';

function parseInfo(text: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const line of text.split('\r\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const i = line.indexOf(':');
    m.set(line.slice(0, i), line.slice(i + 1));
  }
  return m;
}

function sections(text: string): string[] {
  return text.split('\r\n').filter((l) => l.startsWith('# ')).map((l) => l.slice(2));
}

describe('server and introspection commands', function () {
  this.timeout(60_000);
  let srv: TalusProcess;
  let r: Redis;
  let confPath: string;
  const raws: Raw[] = [];
  const raw = async () => {
    const c = await Raw.open(srv.port);
    raws.push(c);
    return c;
  };

  before(async () => {
    const dir = tempDir('conf');
    confPath = path.join(dir, 'talus.conf');
    fs.writeFileSync(confPath, '# written by the test\nslowlog-max-len 64\nmaxmemory-policy allkeys-lru\n');
    srv = await startTalus(['--config', confPath]);
    r = srv.client();
  });

  after(async () => {
    for (const c of raws) c.close();
    await srv?.stop();
  });

  describe('INFO', () => {
    it('default sections, in order, CRLF lines, parseable fields', async () => {
      const text = (await r.info()) as string;
      expect(sections(text)).to.deep.equal([
        'Server', 'Clients', 'Memory', 'Persistence', 'Stats', 'Replication', 'CPU', 'Modules', 'Errorstats', 'Cluster', 'Keyspace', 'Talus',
      ]);
      expect(text).to.match(/\r\n$/);
      expect(text.replace(/\r\n/g, '')).to.not.include('\n');
      const f = parseInfo(text);
      expect(f.get('redis_version')).to.equal('7.0.15');
      expect(f.get('redis_mode')).to.equal('standalone');
      expect(f.get('tcp_port')).to.equal(String(srv.port));
      expect(f.get('config_file')).to.equal(confPath);
      expect(f.get('run_id')).to.match(/^[0-9a-f]{40}$/);
      expect(Number(f.get('connected_clients'))).to.be.at.least(1);
      expect(Number(f.get('used_memory'))).to.be.greaterThan(0);
      expect(f.get('maxmemory_policy')).to.equal('allkeys-lru');
      expect(f.get('role')).to.equal('master');
      expect(f.get('used_cpu_user')).to.match(/^\d+\.\d{6}$/);
      expect(f.get('loading')).to.equal('0');
      expect(f.get('cluster_enabled')).to.equal('0');
      expect(f.get('storage_healthy')).to.equal('1');
      expect(f.has('rejected_calls')).to.equal(false);
    });

    it('all / everything add commandstats; sections are case-insensitive and not repeated', async () => {
      await r.ping();
      for (const arg of ['all', 'everything']) {
        const text = (await r.info(arg)) as string;
        expect(sections(text)).to.include('Commandstats');
        expect(text).to.match(/cmdstat_ping:calls=\d+,usec=\d+,usec_per_call=\d+\.\d\d,rejected_calls=0,failed_calls=0/);
      }
      const cpu = (await r.call('info', 'CPU', 'sentinel')) as string;
      expect(sections(cpu)).to.deep.equal(['CPU']);
      const twice = (await r.call('info', 'cpu', 'default')) as string;
      expect(twice.match(/used_cpu_user_children/g)).to.have.length(1);
      expect((await r.call('info', 'commandSTATS')) as string).to.include('rejected_calls');
    });

    it('errorstats, keyspace, stats and the Talus section follow activity', async () => {
      await r.call('config', 'resetstat');
      await r.call('nosuchcommand').catch(() => undefined);
      await r.call('get').catch(() => undefined);
      await r.set('info:k1', 'v');
      await r.set('info:k2', 'v', 'EX', 100);
      const f = parseInfo((await r.info('everything')) as string);
      expect(f.get('errorstat_ERR')).to.equal('count=2');
      expect(f.get('total_error_replies')).to.equal('2');
      expect(f.get('cmdstat_get')).to.match(/rejected_calls=1,failed_calls=0/);
      expect(f.get('db0')).to.match(/^keys=\d+,expires=\d+,avg_ttl=\d+$/);
      expect(Number(/expires=(\d+)/.exec(f.get('db0')!)![1])).to.be.at.least(1);
      expect(Number(f.get('hot_set_bytes'))).to.be.greaterThan(0);
      expect(Number(f.get('changelog_seq'))).to.be.at.least(2);
      expect(Number(f.get('durable_seq'))).to.equal(Number(f.get('changelog_seq')));
      expect(Number(f.get('flusher_commits'))).to.be.greaterThan(0);
      expect(f.get('flusher_failures')).to.equal('0');
      expect(f.get('master_repl_offset')).to.equal(f.get('changelog_seq'));
    });

    it('is a verbatim string in RESP3', async () => {
      const c = await raw();
      c.send('HELLO', '3');
      await c.reply();
      c.write('*2\r\n$4\r\nINFO\r\n$6\r\nserver\r\n');
      await new Promise((res) => setTimeout(res, 100));
      const head = c.unread().slice(0, 12);
      expect(head).to.match(/^=\d+\r\ntxt:/);
      const v = (await c.reply()) as string;
      expect(v.startsWith('# Server\r\n')).to.equal(true);
    });
  });

  describe('CONFIG', () => {
    it('GET returns name/value pairs for names and patterns', async () => {
      expect(await r.config('GET', 'slowlog-max-len')).to.deep.equal(['slowlog-max-len', '64']);
      const many = (await r.call('config', 'get', 'maxmemory*', 'slowlog-max-len')) as string[];
      const names = many.filter((_, i) => i % 2 === 0);
      expect(names).to.include.members(['maxmemory', 'maxmemory-policy', 'slowlog-max-len']);
      expect(new Set(names).size).to.equal(names.length);
      expect(await r.config('GET', 'no-such-option')).to.deep.equal([]);
    });

    it('SET validates, applies and reports Redis errors', async () => {
      expect(await r.config('SET', 'slowlog-max-len', '10')).to.equal('OK');
      expect(await r.config('GET', 'slowlog-max-len')).to.deep.equal(['slowlog-max-len', '10']);
      expect(await r.call('config', 'set', 'maxmemory-samples', '7', 'hz', '20')).to.equal('OK');
      const err = await r.call('config', 'set', 'nosuch', '1').catch((e: Error) => e);
      expect((err as Error).message).to.equal("ERR Unknown option or number of arguments for CONFIG SET - 'nosuch'");
      const odd = await r.call('config', 'set', 'hz', '10', 'maxmemory').catch((e: Error) => e);
      expect((odd as Error).message).to.equal("ERR wrong number of arguments for 'config|set' command");
      const bad = await r.call('config', 'set', 'hz', 'abc').catch((e: Error) => e);
      expect((bad as Error).message).to.match(/^ERR CONFIG SET failed \(possibly related to argument 'hz'\) - /);
      const imm = await r.call('config', 'set', 'databases', '3').catch((e: Error) => e);
      expect((imm as Error).message).to.match(/can't set immutable config/);
      const sub = await r.call('config', 'foo').catch((e: Error) => e);
      expect((sub as Error).message).to.equal("ERR unknown subcommand 'foo'. Try CONFIG HELP.");
      const help = (await r.call('config', 'help')) as string[];
      expect(help[0]).to.match(/^CONFIG <subcommand>/);
    });

    it('SET proto-max-bulk-len applies to connections already open', async () => {
      const c = await raw();
      c.send('PING');
      expect(await c.reply()).to.equal('PONG');
      await r.config('SET', 'proto-max-bulk-len', '1mb');
      try {
        c.write('*2\r\n$4\r\nECHO\r\n$2000000\r\n');
        const e = (await c.reply()) as Error;
        expect(e.message).to.equal('ERR Protocol error: invalid bulk length');
        expect(await c.waitClosed()).to.equal(true);
      } finally {
        await r.config('SET', 'proto-max-bulk-len', '512mb');
      }
    });

    it('SET slowlog-max-len trims the slow log', async () => {
      await r.config('SET', 'slowlog-log-slower-than', '0');
      for (let i = 0; i < 8; i++) await r.ping();
      await r.config('SET', 'slowlog-max-len', '3');
      expect(await r.call('slowlog', 'len')).to.equal(3);
      await r.config('SET', 'slowlog-log-slower-than', '10000');
      await r.config('SET', 'slowlog-max-len', '10');
    });

    it('REWRITE writes changed options to the config file, keeping the rest', async () => {
      await r.config('SET', 'slowlog-max-len', '77');
      expect(await r.config('REWRITE')).to.equal('OK');
      const text = fs.readFileSync(confPath, 'utf8');
      expect(text).to.include('# written by the test');
      expect(text).to.match(/^slowlog-max-len 77$/m);
      expect(text).to.match(/^maxmemory-policy allkeys-lru$/m);
      expect(text).to.match(/^hz 20$/m);
    });

    it('RESETSTAT clears command and error statistics', async () => {
      await r.ping();
      expect(await r.call('config', 'resetstat')).to.equal('OK');
      const f = parseInfo((await r.info('all')) as string);
      expect(f.has('cmdstat_ping')).to.equal(false);
      expect(Number(f.get('total_commands_processed'))).to.be.lessThan(3);
      expect(f.get('total_error_replies')).to.equal('0');
    });
  });

  describe('CLIENT', () => {
    it('ID, SETNAME, GETNAME, INFO and LIST in the Redis 7.0 format', async () => {
      const id = (await r.call('client', 'id')) as number;
      expect(id).to.be.a('number');
      expect(await r.call('client', 'getname')).to.equal(null);
      expect(await r.call('client', 'setname', 'tester')).to.equal('OK');
      expect(await r.call('client', 'getname')).to.equal('tester');
      const bad = await r.call('client', 'setname', 'a b').catch((e: Error) => e);
      expect((bad as Error).message).to.equal('ERR Client names cannot contain spaces, newlines or special characters.');
      const line = (await r.call('client', 'info')) as string;
      expect(line, line).to.match(
        new RegExp(
          `^id=${id} addr=127\\.0\\.0\\.1:\\d+ laddr=127\\.0\\.0\\.1:${srv.port} fd=\\d+ name=tester age=\\d+ idle=0 flags=N db=0 ` +
            'sub=0 psub=0 ssub=0 multi=-1 qbuf=26 qbuf-free=\\d+ argv-mem=10 multi-mem=0 rbs=\\d+ rbp=\\d+ obl=0 oll=0 omem=0 ' +
            'tot-mem=\\d+ events=r cmd=client\\|info user=default redir=-1 resp=[23]\\n$',
        ),
      );
      const list = (await r.call('client', 'list')) as string;
      expect(list.endsWith('\n')).to.equal(true);
      const mine = list.split('\n').find((l) => l.startsWith(`id=${id} `))!;
      expect(mine).to.match(/ qbuf=26 .* cmd=client\|list user=default redir=-1 resp=[23]$/);
      const byId = (await r.call('client', 'list', 'id', String(id))) as string;
      expect(byId.trim().split('\n')).to.have.length(1);
      expect(await r.call('client', 'list', 'type', 'pubsub')).to.equal('');
      const e1 = await r.call('client', 'list', 'type', 'nope').catch((e: Error) => e);
      expect((e1 as Error).message).to.equal("ERR Unknown client type 'nope'");
      const e2 = await r.call('client', 'list', 'id', 'x').catch((e: Error) => e);
      expect((e2 as Error).message).to.equal('ERR Invalid client ID');
      await r.call('client', 'setname', '');
    });

    it('shows MULTI state and the last command of other clients', async () => {
      const c = await raw();
      c.send('CLIENT', 'SETNAME', 'other');
      c.send('MULTI');
      c.send('SET', 'a', 'b');
      expect(await c.replies(3)).to.deep.equal(['OK', 'OK', 'QUEUED']);
      const line = ((await r.call('client', 'list')) as string).split('\n').find((l) => l.includes('name=other'))!;
      expect(line).to.match(/ flags=x /);
      expect(line).to.match(/ multi=1 /);
      expect(line).to.match(/ cmd=multi /);
      c.send('DISCARD');
      await c.reply();
    });

    it('KILL by address, by ID and by filters; errors as Redis', async () => {
      const victim = await raw();
      victim.send('CLIENT', 'ID');
      const vid = (await victim.reply()) as number;
      expect(await r.call('client', 'kill', 'id', String(vid))).to.equal(1);
      expect(await victim.waitClosed()).to.equal(true);

      const v2 = await raw();
      v2.send('PING');
      await v2.reply();
      const addr = `${v2.sock.localAddress}:${v2.sock.localPort}`;
      expect(await r.call('client', 'kill', addr)).to.equal('OK');
      expect(await v2.waitClosed()).to.equal(true);
      const none = await r.call('client', 'kill', '1.2.3.4:5').catch((e: Error) => e);
      expect((none as Error).message).to.equal('ERR No such client');

      const msg = async (...a: string[]) => ((await r.call('client', 'kill', ...a).catch((e: Error) => e)) as Error).message;
      expect(await msg('id', '0')).to.equal('ERR client-id should be greater than 0');
      expect(await msg('id', 'str')).to.equal('ERR client-id should be greater than 0');
      expect(await msg('id', '10', 'wrong_arg')).to.equal('ERR syntax error');
      expect(await msg('type', 'wrong')).to.equal("ERR Unknown client type 'wrong'");
      expect(await msg('user', 'nobody')).to.equal("ERR No such user 'nobody'");
      expect(await msg('skipme', 'maybe')).to.equal('ERR syntax error');
      expect(await r.call('client', 'kill', 'id', '999999')).to.equal(0);

      // SKIPME yes (default) spares the caller
      const v3 = await raw();
      v3.send('CLIENT', 'SETNAME', 'v3');
      await v3.reply();
      expect(await r.call('client', 'kill', 'type', 'normal', 'skipme', 'yes')).to.be.at.least(1);
      expect(await v3.waitClosed()).to.equal(true);
      expect(await r.ping()).to.equal('PONG');
    });

    it('KILL SKIPME NO closes the caller after its reply', async () => {
      const c = await raw();
      c.send('CLIENT', 'ID');
      const id = String(await c.reply());
      c.send('CLIENT', 'KILL', 'ID', id, 'SKIPME', 'NO');
      expect(await c.reply()).to.equal(1);
      expect(await c.waitClosed()).to.equal(true);
    });

    it('REPLY OFF / ON / SKIP', async () => {
      const c = await raw();
      c.send('CLIENT', 'REPLY', 'OFF');
      c.send('PING', 'a');
      c.send('PING', 'b');
      c.send('CLIENT', 'REPLY', 'ON');
      c.send('PING', 'c');
      expect(await c.replies(2)).to.deep.equal(['OK', 'c']);
      c.send('CLIENT', 'REPLY', 'SKIP');
      c.send('PING', 'd');
      c.send('PING', 'e');
      expect(await c.reply()).to.equal('e');
      c.send('CLIENT', 'REPLY', 'SKIP');
      c.send('CLIENT', 'REPLY', 'ON');
      c.send('PING', 'f');
      expect(await c.replies(2)).to.deep.equal(['OK', 'f']);
      c.send('CLIENT', 'REPLY', 'MAYBE');
      expect(((await c.reply()) as Error).message).to.equal('ERR syntax error');
    });

    it('small subcommands and errors', async () => {
      expect(await r.call('client', 'getredir')).to.equal(-1);
      expect(await r.call('client', 'no-evict', 'on')).to.equal('OK');
      expect(await r.call('client', 'no-evict', 'off')).to.equal('OK');
      expect(await r.call('client', 'setinfo', 'lib-name', 'mylib')).to.equal('OK');
      expect(await r.call('client', 'unblock', '12345')).to.equal(0);
      const msg = async (...a: string[]) => ((await r.call('client', ...a).catch((e: Error) => e)) as Error).message;
      expect(await msg('unblock', '1', 'later')).to.equal('ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR');
      expect(await msg('pause', 'abc')).to.equal('ERR timeout is not an integer or out of range');
      expect(await msg('pause', '10', 'foo')).to.equal('ERR CLIENT PAUSE mode must be WRITE or ALL');
      expect(await msg('foo')).to.equal("ERR unknown subcommand 'foo'. Try CLIENT HELP.");
      expect(await msg('kill')).to.equal("ERR wrong number of arguments for 'client|kill' command");
      expect(await msg('caching', 'yes')).to.match(/^ERR CLIENT CACHING can be called only/);
      expect(((await r.call('client', 'help')) as string[])[0]).to.match(/^CLIENT <subcommand>/);
    });

    it('PAUSE WRITE holds writes until it ends, not reads', async () => {
      await r.set('pause:k', '1');
      const c = await raw();
      expect(await r.call('client', 'pause', '300', 'write')).to.equal('OK');
      const started = Date.now();
      c.send('SET', 'pause:k', '2');
      c.send('GET', 'pause:k');
      const other = await raw();
      other.send('GET', 'pause:k');
      expect(await other.reply()).to.equal('1');
      expect(await c.replies(2)).to.deep.equal(['OK', '2']);
      expect(Date.now() - started).to.be.at.least(250);
    });

    it('UNPAUSE releases held commands at once', async () => {
      const c = await raw();
      await r.call('client', 'pause', '10000', 'write');
      c.send('SET', 'pause:k', '3');
      expect(await c.silent(100)).to.equal(true);
      await r.call('client', 'unpause');
      expect(await c.reply()).to.equal('OK');
    });

    it('a pause longer than a timer holds (2^31 ms and up, to INT64_MAX)', async () => {
      for (const ms of ['2147483648', '9223372036854775807']) {
        const c = await raw();
        expect(await r.call('client', 'pause', ms, 'write')).to.equal('OK');
        c.send('SET', 'pause:k', '4');
        expect(await c.silent(200), `CLIENT PAUSE ${ms}`).to.equal(true);
        await r.call('client', 'unpause');
        expect(await c.reply()).to.equal('OK');
      }
    });

    it('PAUSE WRITE holds scripts that may write, judged by their shebang flags', async () => {
      await r.call('client', 'pause', '10000', 'write');
      const plain = await raw();
      const shebang = await raw();
      const readOnly = await raw();
      plain.send('EVAL', 'return 1', '0'); // no shebang: EVAL may replicate
      shebang.send('EVAL', '#!lua\nreturn 2', '0'); // a shebang without no-writes may write
      readOnly.send('EVAL', '#!lua flags=no-writes\nreturn 3', '0');
      expect(await readOnly.reply()).to.equal(3);
      readOnly.send('EVAL_RO', 'return 4', '0');
      expect(await readOnly.reply()).to.equal(4);
      expect(await plain.silent(100)).to.equal(true);
      expect(await shebang.silent(1)).to.equal(true);
      await r.call('client', 'unpause');
      expect(await plain.reply()).to.equal(1);
      expect(await shebang.reply()).to.equal(2);
    });

    it('held clients count as blocked; keys expire neither lazily nor actively during a pause', async () => {
      const blocked = async () => Number(/blocked_clients:(\d+)/.exec((await r.info('clients')) as string)![1]);
      const expired = async () => Number(/expired_keys:(\d+)/.exec((await r.info('stats')) as string)![1]);
      await r.set('pause:ttl', 'v', 'PX', 20);
      const before = await expired();
      await r.call('client', 'pause', '10000', 'write');
      const c = await raw();
      c.send('SET', 'pause:k', '4');
      expect(await c.silent(100)).to.equal(true);
      expect(await blocked()).to.equal(1);
      await new Promise((done) => setTimeout(done, 150)); // past the TTL, and active expiry cycles
      expect(await r.get('pause:ttl')).to.equal(null); // logically expired...
      expect(await expired()).to.equal(before); // ...but not deleted: that would be a write
      await r.call('client', 'unpause');
      expect(await c.reply()).to.equal('OK');
      expect(await blocked()).to.equal(0);
      await r.get('pause:ttl');
      expect(await expired()).to.equal(before + 1);
    });
  });

  describe('COMMAND', () => {
    it('COUNT, LIST and INFO come from the command table', async () => {
      const count = (await r.call('command', 'count')) as number;
      expect(count).to.be.greaterThan(20);
      const all = (await r.call('command')) as unknown[][];
      expect(all).to.have.length(count);
      const list = (await r.call('command', 'list')) as string[];
      expect(list).to.include.members(['get', 'set', 'client|list', 'config|get']);
      expect(await r.call('command', 'list', 'filterby', 'pattern', 'config|*re*')).to.have.members(['config|rewrite', 'config|resetstat']);
      expect(await r.call('command', 'list', 'filterby', 'aclcat', 'transaction')).to.include.members(['multi', 'exec', 'watch']);
      expect(await r.call('command', 'list', 'filterby', 'module', 'x')).to.deep.equal([]);
      const e = await r.call('command', 'list', 'bad').catch((x: Error) => x);
      expect((e as Error).message).to.equal('ERR syntax error');

      const [get, nope, cfg] = (await r.call('command', 'info', 'get', 'get|key', 'config|get')) as unknown[][];
      expect(get!.slice(0, 7)).to.deep.equal(['get', 2, ['readonly', 'fast'], 1, 1, 1, ['@read', '@string', '@fast']]);
      expect(get![7]).to.deep.equal([]);
      expect(get![8]).to.deep.equal([
        ['flags', ['RO', 'access'], 'begin_search', ['type', 'index', 'spec', ['index', 1]], 'find_keys',
          ['type', 'range', 'spec', ['lastkey', 0, 'keystep', 1, 'limit', 0]]],
      ]);
      expect(nope).to.equal(null);
      expect(cfg!.slice(0, 3)).to.deep.equal(['config|get', -3, ['admin', 'noscript', 'loading', 'stale']]);
      const [client] = (await r.call('command', 'info', 'client')) as unknown[][];
      expect((client![9] as unknown[][]).map((s) => s[0])).to.include('client|kill');
    });

    it('DOCS and GETKEYS / GETKEYSANDFLAGS', async () => {
      const docs = (await r.call('command', 'docs', 'get')) as unknown[];
      expect(docs[0]).to.equal('get');
      const fields = docs[1] as unknown[];
      expect(fields[0]).to.equal('summary');
      expect(fields[1]).to.be.a('string');
      expect(fields.slice(2, 6)).to.deep.equal(['since', '1.0.0', 'group', 'string']);
      expect(await r.call('command', 'getkeys', 'get', 'key')).to.deep.equal(['key']);
      expect(await r.call('command', 'getkeys', 'set', 'k', 'v')).to.deep.equal(['k']);
      expect(await r.call('command', 'getkeysandflags', 'set', 'k1', 'v1')).to.deep.equal([['k1', ['OW', 'update']]]);
      const msg = async (...a: string[]) => ((await r.call('command', ...a).catch((e: Error) => e)) as Error).message;
      expect(await msg('getkeys', 'nosuch', 'a')).to.equal('ERR Invalid command specified');
      expect(await msg('getkeys', 'ping', 'x')).to.equal('ERR The command has no key arguments');
      expect(await msg('getkeys', 'get', 'a', 'b')).to.equal('ERR Invalid number of arguments specified for command');
      expect(await msg('foo')).to.equal("ERR unknown subcommand 'foo'. Try COMMAND HELP.");
    });
  });

  describe('SLOWLOG', () => {
    it('records every command with slowlog-log-slower-than 0', async () => {
      await r.config('SET', 'slowlog-log-slower-than', '0');
      await r.call('slowlog', 'reset');
      await r.call('client', 'setname', 'slowpoke');
      await r.set('slow:k', 'v');
      const entries = (await r.call('slowlog', 'get', '2')) as unknown[][];
      expect(entries).to.have.length(2);
      const [id, time, usec, args, addr, name] = entries[0]!;
      expect(args).to.deep.equal(['set', 'slow:k', 'v']);
      expect(id).to.be.a('number');
      expect(Math.abs((time as number) - Date.now() / 1000)).to.be.lessThan(5);
      expect(usec).to.be.a('number');
      expect(addr).to.match(/^127\.0\.0\.1:\d+$/);
      expect(name).to.equal('slowpoke');
      expect(await r.call('slowlog', 'len')).to.be.at.least(2);
      const all = (await r.call('slowlog', 'get', '-1')) as unknown[];
      expect(all.length).to.be.at.least(3);
      const e = await r.call('slowlog', 'get', '-2').catch((x: Error) => x);
      expect((e as Error).message).to.equal('ERR count should be greater than or equal to -1');
      await r.config('SET', 'slowlog-log-slower-than', '10000');
      await r.call('slowlog', 'reset');
      expect(await r.call('slowlog', 'len')).to.equal(0);
      await r.call('client', 'setname', '');
    });
  });

  describe('MONITOR', () => {
    it('streams the commands other clients run', async () => {
      const m = await raw();
      m.send('MONITOR');
      expect(await m.reply()).to.equal('OK');
      await r.set('mon:foo', 'bar');
      await r.get('mon:foo');
      const [a, b2] = (await m.replies(2)) as string[];
      expect(a).to.match(/^\d+\.\d{6} \[0 127\.0\.0\.1:\d+\] "set" "mon:foo" "bar"$/);
      expect(b2).to.match(/"get" "mon:foo"$/);
    });

    it('shows MULTI, the queued commands and EXEC in execution order', async () => {
      const m = await raw();
      m.send('MONITOR');
      await m.reply();
      const c = await raw();
      c.send('MULTI');
      c.send('SET', 'mon:x', '1');
      c.send('EXEC');
      await c.replies(3);
      const lines = (await m.replies(3)) as string[];
      expect(lines[0], lines.join('\n')).to.match(/"MULTI"$/);
      expect(lines[1]).to.match(/"SET" "mon:x" "1"$/);
      expect(lines[2]).to.match(/"EXEC"$/);
    });

    it('shows EVAL, EVALSHA and FCALL before the commands their script calls, and a refused EVALSHA too (as Redis)', async () => {
      const m = await raw();
      m.send('MONITOR');
      await m.reply();
      await r.call('function', 'load', 'replace', "#!lua name=monlib\nredis.register_function('monf', function() return redis.call('set', 'mon:f', 'v') end)");
      await r.eval("return redis.call('set', KEYS[1], ARGV[1])", 1, 'mon:e', 'v');
      await r.call('evalsha', 'a'.repeat(40), '0').catch(() => undefined);
      await r.call('fcall', 'monf', '0');
      const lines = (await m.replies(6)) as string[];
      const shown = lines.map((l) => l.replace(/^\d+\.\d{6} \[0 [^\]]+\] /, ''));
      expect(shown[0], lines.join('\n')).to.match(/^"function" "load" "replace"/);
      expect(shown.slice(1)).to.deep.equal([
        `"eval" "return redis.call('set', KEYS[1], ARGV[1])" "1" "mon:e" "v"`,
        '"set" "mon:e" "v"',
        `"evalsha" "${'a'.repeat(40)}" "0"`,
        '"fcall" "monf" "0"',
        '"set" "mon:f" "v"',
      ]);
      expect(lines[2]).to.match(/ \[0 lua\] /);
    });
  });

  describe('misc server commands', () => {
    it('WAIT for followers there are not waits its timeout, as Redis; inside MULTI it answers at once', async () => {
      const t = Date.now();
      expect(await r.call('WAIT', '1', '300')).to.equal(0);
      expect(Date.now() - t).to.be.at.least(250);
      expect(await r.call('WAIT', '0', '0')).to.equal(0);
      const t2 = Date.now();
      expect(await r.multi().call('WAIT', '1', '0').exec()).to.deep.equal([[null, 0]]);
      expect(Date.now() - t2).to.be.below(250);
    });

    it('TIME, LASTSAVE, SAVE, BGSAVE, BGREWRITEAOF, ROLE', async () => {
      const [s, us] = (await r.time()) as unknown as string[];
      expect(Math.abs(Number(s) - Date.now() / 1000)).to.be.lessThan(5);
      expect(Number(us)).to.be.within(0, 999999);
      const before = (await r.lastsave()) as number;
      await r.set('save:k', 'v');
      expect(await r.save()).to.equal('OK');
      expect(await r.lastsave()).to.be.at.least(before);
      expect(parseInfo((await r.info('persistence')) as string).get('rdb_changes_since_last_save')).to.equal('0');
      expect(await r.bgsave()).to.equal('Background saving started');
      expect(await r.bgrewriteaof()).to.equal('Background append only file rewriting started');
      const role = (await r.call('role')) as unknown[];
      expect(role[0]).to.equal('master');
      expect(role[1]).to.be.a('number');
      expect(role[2]).to.deep.equal([]);
    });

    it('FUNCTION FLUSH is accepted; DEBUG is refused unless enabled', async () => {
      expect(await r.call('function', 'flush')).to.equal('OK');
      expect(await r.call('function', 'flush', 'async')).to.equal('OK');
      const f = await r.call('function', 'flush', 'later').catch((e: Error) => e);
      expect((f as Error).message).to.equal('ERR FUNCTION FLUSH only supports SYNC|ASYNC option');
      expect(await r.call('function', 'list')).to.deep.equal([]);
      const d = await r.call('debug', 'sleep', '0').catch((e: Error) => e);
      expect((d as Error).message).to.match(/^ERR DEBUG command not allowed\. If the enable-debug-command option is set to "local"/);
    });
  });

  describe('protocol', () => {
    it('HELLO 3 switches to RESP3 map replies', async () => {
      const c = await raw();
      c.send('HELLO', '3');
      const hello = (await c.reply()) as Map<string, unknown>;
      expect(hello).to.be.instanceOf(Map);
      expect(hello.get('server')).to.equal('redis');
      expect(hello.get('proto')).to.equal(3);
      c.send('CONFIG', 'GET', 'slowlog-max-len');
      const cfg = (await c.reply()) as Map<string, unknown>;
      expect(cfg).to.be.instanceOf(Map);
      expect(cfg.get('slowlog-max-len')).to.match(/^\d+$/);
      c.send('GET', 'resp3:missing');
      expect(await c.reply()).to.equal(null);
      c.send('HELLO', '4');
      expect(((await c.reply()) as Error).message).to.equal('NOPROTO unsupported protocol version');
    });

    it('pipelines 10k commands sent in one write, replies in order', async () => {
      const c = await raw();
      const n = 10_000;
      let req = '';
      for (let i = 0; i < n; i++) {
        req += i % 2 === 0 ? `*3\r\n$3\r\nSET\r\n$9\r\npipe:${String(i % 100).padStart(4, '0')}\r\n$${String(i).length}\r\n${i}\r\n` : `*2\r\n$4\r\nECHO\r\n$${String(i).length}\r\n${i}\r\n`;
      }
      c.write(req);
      const replies = await c.replies(n, 30_000);
      for (let i = 0; i < n; i++) expect(replies[i]).to.equal(i % 2 === 0 ? 'OK' : String(i));
    });

    it('accepts inline commands', async () => {
      const c = await raw();
      c.write('PING\r\n');
      expect(await c.reply()).to.equal('PONG');
      c.write('SET inline:a "hello world"\r\nGET inline:a\r\n');
      expect(await c.replies(2)).to.deep.equal(['OK', 'hello world']);
      c.write('\r\nECHO x\n');
      expect(await c.reply()).to.equal('x');
    });

    it('malformed requests get the Redis protocol error, then the connection closes', async () => {
      const cases: Array<[string, string]> = [
        ['*1\r\nfoo\r\n', "ERR Protocol error: expected '$', got 'f'"],
        ['*3000000000\r\n', 'ERR Protocol error: invalid multibulk length'],
        ['*3\r\n$3\r\nSET\r\n$1\r\nx\r\n$blabla\r\n', 'ERR Protocol error: invalid bulk length'],
        ['set """test-key""" v\r\n', 'ERR Protocol error: unbalanced quotes in request'],
      ];
      for (const [req, msg] of cases) {
        const c = await raw();
        c.write(req);
        expect(((await c.reply()) as Error).message).to.equal(msg);
        expect(await c.waitClosed(), req).to.equal(true);
      }
    });

    it('QUIT answers OK and closes; commands pipelined after it do not run', async () => {
      const c = await raw();
      c.write('*1\r\n$4\r\nQUIT\r\n*3\r\n$3\r\nSET\r\n$7\r\nquit:k1\r\n$1\r\nv\r\n');
      expect(await c.reply()).to.equal('OK');
      expect(await c.waitClosed()).to.equal(true);
      expect(await r.get('quit:k1')).to.equal(null);
    });
  });

  describe('AUTH and requirepass', () => {
    afterEach(async () => {
      const c = srv.client({ password: 'sekret' });
      await c.config('SET', 'requirepass', '').catch(() => undefined);
      c.disconnect();
    });

    it('NOAUTH before AUTH, WRONGPASS on a bad password, then access', async () => {
      expect(await r.config('SET', 'requirepass', 'sekret')).to.equal('OK');
      const c = await raw();
      c.send('PING');
      expect(((await c.reply()) as Error).message).to.equal('NOAUTH Authentication required.');
      c.send('AUTH', 'wrong');
      expect(((await c.reply()) as Error).message).to.equal('WRONGPASS invalid username-password pair or user is disabled.');
      c.send('AUTH', 'default', 'wrong');
      expect(((await c.reply()) as Error).message).to.equal('WRONGPASS invalid username-password pair or user is disabled.');
      c.send('HELLO', '3', 'AUTH', 'default', 'nope');
      expect(((await c.reply()) as Error).message).to.match(/^WRONGPASS/);
      c.send('AUTH', 'sekret');
      expect(await c.reply()).to.equal('OK');
      c.send('PING');
      expect(await c.reply()).to.equal('PONG');
      const h = await raw();
      h.send('HELLO', '2', 'AUTH', 'default', 'sekret');
      expect(((await h.reply()) as unknown[])[0]).to.equal('server');
    });
  });
});

describe('CONFIG SET port', function () {
  this.timeout(60_000);

  it('moves the listener: new connections on the new port, connected clients stay; a port in use fails the whole CONFIG SET', async () => {
    const srv = await startTalus([]);
    try {
      const r = srv.client();
      await r.set('k', 'v');
      const busy = net.createServer();
      await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', () => resolve()));
      const busyPort = (busy.address() as net.AddressInfo).port;
      const before = await r.config('GET', 'maxmemory');
      const err = await r.config('SET', 'maxmemory', '10000001', 'port', String(busyPort)).catch((e: Error) => e.message);
      busy.close();
      expect(err).to.match(/^ERR CONFIG SET failed \(possibly related to argument 'port'\) - Unable to listen on this port/);
      expect(await r.config('GET', 'maxmemory')).to.deep.equal(before);
      const spare = net.createServer();
      await new Promise<void>((resolve) => spare.listen(0, '127.0.0.1', () => resolve()));
      const newPort = (spare.address() as net.AddressInfo).port;
      await new Promise<void>((resolve) => spare.close(() => resolve()));
      expect(await r.config('SET', 'port', String(newPort))).to.equal('OK');
      expect(await r.get('k')).to.equal('v'); // the connected client stays
      expect(await r.config('GET', 'port')).to.deep.equal(['port', String(newPort)]);
      const moved = new Redis({ port: newPort, host: '127.0.0.1', lazyConnect: true });
      await moved.connect();
      expect(await moved.get('k')).to.equal('v');
      moved.disconnect();
      const old = new Redis({ port: srv.port, host: '127.0.0.1', lazyConnect: true, retryStrategy: () => null });
      old.on('error', () => undefined);
      expect(await old.connect().then(() => 'connected', () => 'refused')).to.equal('refused');
    } finally {
      await srv.stop();
    }
  });
});

describe('SHUTDOWN', function () {
  this.timeout(60_000);

  it('closes the connection without a reply and stops the server', async () => {
    const srv = await startTalus();
    try {
      const c = await Raw.open(srv.port);
      c.send('SET', 'k', 'v');
      expect(await c.reply()).to.equal('OK');
      c.send('SHUTDOWN', 'ABORT');
      expect(((await c.reply()) as Error).message).to.equal('ERR No shutdown in progress.');
      c.send('SHUTDOWN', 'SAVE', 'NOSAVE');
      expect(((await c.reply()) as Error).message).to.equal('ERR syntax error');
      const exited = new Promise<number | null>((res) => srv.proc.once('exit', (code) => res(code)));
      c.send('SHUTDOWN');
      expect(await c.waitClosed(20_000)).to.equal(true);
      expect(await exited).to.equal(0);
    } finally {
      await srv.stop();
    }
  });
});
