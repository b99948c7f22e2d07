import { expect } from 'chai';
import { Redis } from 'ioredis';
import { Raw } from './support/raw.js';
import fs from 'node:fs';
import { createHash } from 'node:crypto';
import path from 'node:path';
import { startTalus, tempDir, useTalus, type TalusProcess } from './support/harness.js';
import { loadConfig } from '../src/config/load.js';
import { redisServerAvailable, startRedisServer, type RedisServer } from './support/redis-server.js';

/** The reply of `r` to `cmd`, or its error text. */
async function reply(r: Redis, ...cmd: string[]): Promise<unknown> {
  try {
    return await r.call(cmd[0]!, ...cmd.slice(1));
  } catch (e) {
    return `error: ${(e as Error).message}`;
  }
}

const PW_HASH = '30c952fab122c3f9759f02a6d95c3758b246b4fee239957b2d4fee46e26170c4'; // sha256("pw")

describe('ACL', function () {
  this.timeout(60_000);
  let srv: TalusProcess;
  let r: Redis;
  useTalus([], (s, c) => {
    srv = s;
    r = c;
  });
  const opened: Redis[] = [];
  const client = (opts: Record<string, unknown> = {}) => {
    const c = new Redis({ port: srv.port, host: '127.0.0.1', lazyConnect: true, enableReadyCheck: false, disableClientInfo: true, ...opts });
    opened.push(c);
    return c;
  };
  afterEach(async () => {
    for (const c of opened.splice(0)) c.disconnect();
    await r.call('ACL', 'LOG', 'RESET');
    for (const u of (await r.call('ACL', 'USERS')) as string[]) if (u !== 'default') await r.call('ACL', 'DELUSER', u);
    await r.config('SET', 'requirepass', '');
  });

  it('starts with the default user: nopass, every key, channel and command', async () => {
    expect(await r.call('ACL', 'LIST')).to.deep.equal(['user default on nopass ~* &* +@all']);
    expect(await r.call('ACL', 'USERS')).to.deep.equal(['default']);
    expect(await r.call('ACL', 'WHOAMI')).to.equal('default');
    expect(await r.call('ACL', 'GETUSER', 'default')).to.deep.equal([
      'flags', ['on', 'nopass'], 'passwords', [], 'commands', '+@all', 'keys', '~*', 'channels', '&*', 'selectors', [],
    ]);
    expect(await r.call('ACL', 'GETUSER', 'nobody')).to.equal(null);
  });

  it('requirepass is the default user\'s password', async () => {
    await r.config('SET', 'requirepass', 'pw');
    expect(await r.call('ACL', 'LIST')).to.deep.equal([`user default on #${PW_HASH} ~* &* +@all`]);
    const c = await Raw.open(srv.port);
    try {
      c.send('GET', 'x');
      expect(((await c.reply()) as Error).message).to.equal('NOAUTH Authentication required.');
      c.send('AUTH', 'pw');
      expect(await c.reply()).to.equal('OK');
      c.send('ACL', 'WHOAMI');
      expect(await c.reply()).to.equal('default');
    } finally {
      c.close();
    }
    await r.config('SET', 'requirepass', '');
    expect(await r.call('ACL', 'LIST')).to.deep.equal(['user default on nopass ~* &* +@all']);
  });

  it('SETUSER rules, LIST and GETUSER describe them as Redis does', async () => {
    expect(await r.call('ACL', 'SETUSER', 'foo')).to.equal('OK');
    expect(await r.call('ACL', 'LIST')).to.deep.equal(['user default on nopass ~* &* +@all', 'user foo off resetchannels -@all']);
    expect(await r.call('ACL', 'SETUSER', 'foo', 'on', '>pw', '%R~r*', '%W~w*', '~k*', '&ch*', '+get', '-set', '+config|get', '+@hash', '-@list', '+select|0')).to.equal('OK');
    const line = ((await r.call('ACL', 'LIST')) as string[])[1]!;
    expect(line.startsWith(`user foo on #${PW_HASH} %R~r* %W~w* ~k* resetchannels &ch* -@all +@hash `)).to.equal(true);
    expect(line.split(' ').slice(11).sort()).to.deep.equal(['+config|get', '+get', '+select|0']);
    const u = (await r.call('ACL', 'GETUSER', 'foo')) as unknown[];
    expect(u.slice(0, 4)).to.deep.equal(['flags', ['on'], 'passwords', [PW_HASH]]);
    expect(u.slice(6)).to.deep.equal(['keys', '%R~r* %W~w* ~k*', 'channels', '&ch*', 'selectors', []]);
    expect(await r.call('ACL', 'SETUSER', 'z2', 'allcommands', '-@hash', '-get', '+hget')).to.equal('OK');
    expect(((await r.call('ACL', 'LIST')) as string[])[2]).to.equal('user z2 off resetchannels +@all -@hash -get +hget');
  });

  it('SETUSER errors, and a bad rule changes nothing', async () => {
    const err = (rule: string) => reply(r, 'ACL', 'SETUSER', 'foo', rule);
    expect(await err('+bogus')).to.equal("error: ERR Error in ACL SETUSER modifier '+bogus': Unknown command or category name in ACL");
    expect(await err('+@bogus')).to.equal("error: ERR Error in ACL SETUSER modifier '+@bogus': Unknown command or category name in ACL");
    expect(await err('-select|0')).to.equal("error: ERR Error in ACL SETUSER modifier '-select|0': Unknown command or category name in ACL");
    expect(await err('+config|bogus')).to.equal("error: ERR Error in ACL SETUSER modifier '+config|bogus': Unknown command or category name in ACL");
    expect(await err('bogus')).to.equal("error: ERR Error in ACL SETUSER modifier 'bogus': Syntax error");
    expect(await err('%X~a')).to.equal("error: ERR Error in ACL SETUSER modifier '%X~a': Syntax error");
    expect(await err('#abc')).to.equal(
      "error: ERR Error in ACL SETUSER modifier '#abc': The password hash must be exactly 64 characters and contain only lowercase hexadecimal characters",
    );
    expect(await err('<nope')).to.equal(
      "error: ERR Error in ACL SETUSER modifier '<nope': The password you are trying to remove from the user does not exist",
    );
    expect(await reply(r, 'ACL', 'SETUSER', 'foo', 'allkeys', '~x')).to.equal(
      "error: ERR Error in ACL SETUSER modifier '~x': Adding a pattern after the * pattern (or the 'allkeys' flag) is not valid and does not have any effect. Try 'resetkeys' to start with an empty list of patterns",
    );
    expect(await reply(r, 'ACL', 'SETUSER', 'a b')).to.equal("error: ERR Usernames can't contain spaces or null characters");
    expect(await r.call('ACL', 'USERS')).to.deep.equal(['default']);
    await r.call('ACL', 'SETUSER', 'foo', 'on', 'nopass');
    expect(await reply(r, 'ACL', 'SETUSER', 'foo', 'off', '+bogus')).to.match(/^error: ERR Error in ACL SETUSER/);
    expect(((await r.call('ACL', 'GETUSER', 'foo')) as unknown[])[1]).to.deep.equal(['on', 'nopass']);
    expect(await reply(r, 'ACL', 'SETUSER', 'foo', '(~x +get)')).to.match(/^error: ERR Error in ACL SETUSER modifier '\(~x \+get\)': /);
  });

  it('AUTH and HELLO AUTH with any user; WRONGPASS and the ACL log', async () => {
    await r.call('ACL', 'SETUSER', 'alice', 'on', '>secret', '~*', '+@all');
    await r.call('ACL', 'SETUSER', 'bob', 'off', '>secret', '~*', '+@all');
    const c = client();
    await c.connect();
    expect(await reply(c, 'AUTH', 'alice', 'nope')).to.equal('error: WRONGPASS invalid username-password pair or user is disabled.');
    expect(await reply(c, 'AUTH', 'bob', 'secret')).to.equal('error: WRONGPASS invalid username-password pair or user is disabled.');
    expect(await reply(c, 'AUTH', 'ghost', 'x')).to.equal('error: WRONGPASS invalid username-password pair or user is disabled.');
    expect(await reply(c, 'AUTH', 'secret')).to.equal(
      'error: ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?',
    );
    expect(await reply(c, 'AUTH', 'alice', 'secret')).to.equal('OK');
    expect(await reply(c, 'ACL', 'WHOAMI')).to.equal('alice');
    const h = client();
    await h.connect();
    const hello = (await h.call('HELLO', '3', 'AUTH', 'alice', 'secret')) as Record<string, unknown> | unknown[];
    expect(hello).to.not.equal(null);
    expect(await reply(h, 'ACL', 'WHOAMI')).to.equal('alice');
    expect(await reply(h, 'HELLO', '2', 'AUTH', 'alice', 'bad')).to.equal('error: WRONGPASS invalid username-password pair or user is disabled.');
    const log = (await r.call('ACL', 'LOG')) as unknown[][];
    expect(log.length).to.equal(4);
    const first = log[log.length - 1]!;
    expect(first.filter((_, i) => i % 2 === 0)).to.deep.equal(['count', 'reason', 'context', 'object', 'username', 'age-seconds', 'client-info']);
    expect(first.slice(0, 10)).to.deep.equal(['count', 1, 'reason', 'auth', 'context', 'toplevel', 'object', 'AUTH', 'username', 'alice']);
    expect(first[13]).to.match(/^id=\d+ addr=/);
    expect(((await r.call('ACL', 'LOG', '1')) as unknown[]).length).to.equal(1);
    expect(await r.call('ACL', 'LOG', 'RESET')).to.equal('OK');
    expect(await r.call('ACL', 'LOG')).to.deep.equal([]);
  });

  it('NOPERM for commands, keys and channels, in Redis\'s order, logged', async () => {
    await r.call('ACL', 'SETUSER', 'u', 'on', 'nopass', '%R~r*', '%W~w*', '~k*', '&news*', '-@all', '+get', '+set', '+copy', '+publish', '+subscribe', '+psubscribe', '+config|get', '+multi', '+exec', '+select|1');
    const c = client();
    await c.connect();
    await c.call('AUTH', 'u', 'any');
    expect(await reply(c, 'DEL', 'k1')).to.equal("error: NOPERM this user has no permissions to run the 'del' command");
    expect(await reply(c, 'CONFIG', 'SET', 'hz', '10')).to.equal("error: NOPERM this user has no permissions to run the 'config|set' command");
    expect(await reply(c, 'CONFIG', 'GET', 'hz')).to.deep.equal(['hz', '10']);
    expect(await reply(c, 'CONFIG', 'BOGUS')).to.equal("error: ERR unknown subcommand 'BOGUS'. Try CONFIG HELP.");
    expect(await reply(c, 'SELECT', '2')).to.equal("error: NOPERM this user has no permissions to run the 'select' command");
    expect(await reply(c, 'SELECT', '1')).to.equal('OK');
    expect(await reply(c, 'SELECT', '0')).to.equal("error: NOPERM this user has no permissions to run the 'select' command");
    expect(await reply(c, 'GET', 'r1')).to.equal(null);
    expect(await reply(c, 'GET', 'w1')).to.equal('error: NOPERM this user has no permissions to access one of the keys used as arguments');
    expect(await reply(c, 'SET', 'w1', 'v')).to.equal('OK');
    expect(await reply(c, 'SET', 'r1', 'v')).to.equal('error: NOPERM this user has no permissions to access one of the keys used as arguments');
    expect(await reply(c, 'SET', 'k1', 'v')).to.equal('OK');
    expect(await reply(c, 'COPY', 'k1', 'w2')).to.equal(1);
    expect(await reply(c, 'COPY', 'w2', 'k2')).to.equal('error: NOPERM this user has no permissions to access one of the keys used as arguments');
    expect(await reply(c, 'GET', 'k1', 'x')).to.equal("error: ERR wrong number of arguments for 'get' command");
    expect(await reply(c, 'PUBLISH', 'news.1', 'x')).to.equal(0);
    expect(await reply(c, 'PUBLISH', 'sport', 'x')).to.equal('error: NOPERM this user has no permissions to access one of the channels used as arguments');
    const log = (await r.call('ACL', 'LOG')) as unknown[][];
    expect(log.map((e) => [e[3], e[5], e[7], e[9]])).to.deep.include.members([
      ['command', 'toplevel', 'del', 'u'],
      ['command', 'toplevel', 'config|set', 'u'],
      ['key', 'toplevel', 'w1', 'u'],
      ['key', 'toplevel', 'r1', 'u'],
      ['channel', 'toplevel', 'sport', 'u'],
    ]);
    const s = client();
    await s.connect();
    await s.call('AUTH', 'u', 'x');
    expect(await reply(s, 'SUBSCRIBE', 'news.a', 'sport')).to.equal('error: NOPERM this user has no permissions to access one of the channels used as arguments');
    expect(await reply(s, 'PSUBSCRIBE', 'news.*')).to.equal('error: NOPERM this user has no permissions to access one of the channels used as arguments');
    expect(await reply(s, 'PSUBSCRIBE', 'news*')).to.equal(1);
    // revoking the channels disconnects the subscriber, as Redis does
    const closed = new Promise<void>((resolve) => s.once('close', () => resolve()));
    await r.call('ACL', 'SETUSER', 'u', 'resetchannels', '&other');
    await closed;
  });

  it('inside MULTI a denied command aborts EXEC; a changed rule fails its command in EXEC', async () => {
    await r.call('ACL', 'SETUSER', 'm', 'on', 'nopass', '~*', '-@all', '+multi', '+exec', '+set', '+get');
    const c = client();
    await c.connect();
    await c.call('AUTH', 'm', 'x');
    expect(await reply(c, 'MULTI')).to.equal('OK');
    expect(await reply(c, 'DEL', 'a')).to.equal("error: NOPERM this user has no permissions to run the 'del' command");
    expect(await reply(c, 'EXEC')).to.equal('error: EXECABORT Transaction discarded because of previous errors.');
    expect(await reply(c, 'MULTI')).to.equal('OK');
    expect(await reply(c, 'SET', 'a', '1')).to.equal('QUEUED');
    expect(await reply(c, 'GET', 'a')).to.equal('QUEUED');
    await r.call('ACL', 'SETUSER', 'm', '-set');
    const res = (await c.call('EXEC')) as unknown[];
    expect((res[0] as Error).message).to.equal(
      'NOPERM ACLs rules changed between the moment the transaction was accumulated and the EXEC call. This command is no longer allowed for the following reason: no permission to execute the command or subcommand',
    );
    expect(res[1]).to.equal(null);
    const log = (await r.call('ACL', 'LOG')) as unknown[][];
    expect([log[0]![3], log[0]![5], log[0]![7]]).to.deep.equal(['command', 'multi', 'set']);
  });

  it('scripts: redis.call checks the user\'s permissions', async () => {
    await r.call('ACL', 'SETUSER', 's', 'on', 'nopass', '~k*', '-@all', '+eval', '+get');
    const c = client();
    await c.connect();
    await c.call('AUTH', 's', 'x');
    expect(await reply(c, 'EVAL', "return redis.call('get', KEYS[1])", '1', 'k1')).to.equal(null);
    const denied = (await reply(c, 'EVAL', "return redis.call('set', 'k1', 'v')", '0')) as string;
    expect(denied).to.match(/^error: ERR The user executing the script can't run this command or subcommand script: /);
    const key = (await reply(c, 'EVAL', "return redis.call('get', 'other')", '0')) as string;
    expect(key).to.match(/^error: ERR The user executing the script can't access at least one of the keys mentioned in the command script: /);
    const pcall = await reply(c, 'EVAL', "local e = redis.pcall('set', 'k1', 'v'); return e['err']", '0');
    expect(pcall).to.equal("ERR The user executing the script can't run this command or subcommand");
    const log = (await r.call('ACL', 'LOG')) as unknown[][];
    expect([log[0]![3], log[0]![5], log[0]![7]]).to.deep.equal(['command', 'lua', 'set']);
    expect(await reply(c, 'EVAL', "return redis.acl_check_cmd('get', 'k1')", '0')).to.equal(1);
    expect(await reply(c, 'EVAL', "return redis.acl_check_cmd('get', 'zz')", '0')).to.equal(null);
    expect(await reply(c, 'EVAL', "return redis.acl_check_cmd('set', 'k1', 'v')", '0')).to.equal(null);
    expect(await reply(c, 'EVAL', "return redis.acl_check_cmd('nosuch')", '0')).to.match(/^error: ERR Invalid command passed to redis.acl_check_cmd\(\)/);
  });

  it('DELUSER disconnects the user\'s clients; default cannot be removed', async () => {
    await r.call('ACL', 'SETUSER', 'gone', 'on', 'nopass', '+@all', '~*');
    const c = client({ retryStrategy: () => null });
    await c.connect();
    await c.call('AUTH', 'gone', 'x');
    const closed = new Promise<void>((resolve) => c.once('end', () => resolve()));
    expect(await r.call('ACL', 'DELUSER', 'gone', 'nobody')).to.equal(1);
    await closed;
    expect(await reply(r, 'ACL', 'DELUSER', 'default')).to.equal("error: ERR The 'default' user cannot be removed");
  });

  it('CAT, GENPASS, DRYRUN, HELP, LOAD/SAVE without an ACL file', async () => {
    const cats = (await r.call('ACL', 'CAT')) as string[];
    expect(cats).to.include.members(['keyspace', 'read', 'write', 'string', 'pubsub', 'admin', 'dangerous', 'scripting']);
    expect(cats.length).to.equal(21);
    const strings = (await r.call('ACL', 'CAT', 'string')) as string[];
    expect(strings).to.include.members(['get', 'set', 'append']);
    expect(strings).to.not.include('hget');
    expect(await r.call('ACL', 'CAT', 'admin')).to.include('config|set');
    expect(await reply(r, 'ACL', 'CAT', 'bogus')).to.equal("error: ERR Unknown category 'bogus'");
    expect((await r.call('ACL', 'GENPASS')) as string).to.match(/^[0-9a-f]{64}$/);
    expect((await r.call('ACL', 'GENPASS', '5')) as string).to.match(/^[0-9a-f]{2}$/);
    expect(await reply(r, 'ACL', 'GENPASS', '0')).to.equal(
      'error: ERR ACL GENPASS argument must be the number of bits for the output password, a positive number up to 4096',
    );
    await r.call('ACL', 'SETUSER', 'd', 'on', 'nopass', '+get', '~a');
    expect(await r.call('ACL', 'DRYRUN', 'd', 'get', 'a')).to.equal('OK');
    expect(await r.call('ACL', 'DRYRUN', 'd', 'set', 'a', '1')).to.equal("This user has no permissions to run the 'set' command");
    expect(await r.call('ACL', 'DRYRUN', 'd', 'get', 'b')).to.equal("This user has no permissions to access the 'b' key");
    expect(await reply(r, 'ACL', 'DRYRUN', 'nobody', 'get', 'a')).to.equal("error: ERR User 'nobody' not found");
    expect(await reply(r, 'ACL', 'DRYRUN', 'd', 'bogus', 'a')).to.equal("error: ERR Command 'bogus' not found");
    const help = (await r.call('ACL', 'HELP')) as string[];
    expect(help[0]).to.equal('ACL <subcommand> [<arg> [value] [opt] ...]. Subcommands are:');
    expect(help.length).to.equal(29);
    expect(await reply(r, 'ACL', 'SAVE')).to.match(/^error: ERR This Redis instance is not configured to use an ACL file/);
  });

  describe('against redis-server', () => {
    let redis: RedisServer | undefined;
    before(async function () {
      if (!redisServerAvailable()) this.skip();
      redis = await startRedisServer();
    });
    after(async () => redis?.stop());

    it('answers SETUSER, LIST, GETUSER, DRYRUN and errors as Redis does', async () => {
      const theirs = new Redis({ port: redis!.port });
      const script: string[][] = [
        ['ACL', 'SETUSER', 'cmp', 'on', '>pw', '%R~r*', '~k*', '&c*', '-@all', '+@hash', '+get'],
        ['ACL', 'GETUSER', 'cmp'],
        ['ACL', 'SETUSER', 'cmp2', '+@all', '-get', '-@hash'],
        ['ACL', 'LIST'],
        ['ACL', 'SETUSER', 'cmp', '+nosuch'],
        ['ACL', 'SETUSER', 'cmp', '!0000'],
        ['ACL', 'DRYRUN', 'cmp', 'hset', 'r1', 'f', 'v'],
        ['ACL', 'DRYRUN', 'cmp', 'hget', 'r1', 'f'],
        ['ACL', 'DRYRUN', 'cmp', 'set', 'k', 'v'],
        ['ACL', 'DRYRUN', 'cmp', 'config', 'nosuch'],
        ['ACL', 'DRYRUN', 'cmp', 'config', 'get'],
        ['ACL', 'DRYRUN', 'cmp', 'CONFIG', 'GET', 'x'],
        ['ACL', 'DELUSER', 'default'],
        ['ACL', 'GENPASS', 'x'],
        ['AUTH', 'cmp', 'nope'],
        ['ACL', 'USERS'],
      ];
      try {
        for (const cmd of script) expect(await reply(r, ...cmd), cmd.join(' ')).to.deep.equal(await reply(theirs, ...cmd));
      } finally {
        theirs.disconnect();
      }
    });
  });

  describe('aclfile and user directives', () => {
    it('reads the ACL file at startup; ACL SAVE writes it, ACL LOAD reads it all or nothing', async () => {
      const dir = tempDir('acl');
      const file = path.join(dir, 'users.acl');
      fs.writeFileSync(file, 'user alice on >pw ~a* +@all\n\nuser default on nopass ~* &* +@all\n');
      const t = await startTalus(['--aclfile', file]);
      const c = t.client();
      try {
        expect(await c.call('ACL', 'LIST')).to.deep.equal([`user alice on #${PW_HASH} ~a* resetchannels +@all`, 'user default on nopass ~* &* +@all']);
        await c.call('ACL', 'SETUSER', 'bob', 'on', 'nopass', '+get', '~b');
        expect(await c.call('ACL', 'SAVE')).to.equal('OK');
        expect(fs.readFileSync(file, 'utf8')).to.equal(
          `user alice on #${PW_HASH} ~a* resetchannels +@all\nuser bob on nopass ~b resetchannels -@all +get\nuser default on nopass ~* &* +@all\n`,
        );
        fs.writeFileSync(file, 'user carol on nopass +bogus\nfoo\nuser carol off\n');
        expect(await reply(c, 'ACL', 'LOAD')).to.equal(
          `error: ERR ${file}:1: Error in applying operation '+bogus': Unknown command or category name in ACL. ${file}:2 should start with user keyword followed by the username. WARNING: Duplicate user 'carol' found on line 3. WARNING: ACL errors detected, no change to the previously active ACL rules was performed`,
        );
        expect(await c.call('ACL', 'USERS')).to.deep.equal(['alice', 'bob', 'default']);
        fs.writeFileSync(file, 'user carol on nopass +@all ~*\n');
        expect(await c.call('ACL', 'LOAD')).to.equal('OK');
        expect(await c.call('ACL', 'LIST')).to.deep.equal(['user carol on nopass ~* resetchannels +@all', 'user default on nopass ~* &* +@all']);
        fs.rmSync(file);
        expect(await reply(c, 'ACL', 'LOAD')).to.equal(`error: ERR Error loading ACLs, opening file '${file}': No such file or directory`);
      } finally {
        c.disconnect();
        await t.stop();
      }
    });

    it('declares users with `user` lines of the config file (not together with aclfile)', async () => {
      const dir = tempDir('acl');
      const conf = path.join(dir, 'talus.conf');
      fs.writeFileSync(conf, 'user ops on >pw ~* +@all -flushall\nrequirepass top\n');
      const t = await startTalus(['--config', conf]);
      const c = t.client({ password: 'top' });
      try {
        expect(await c.call('ACL', 'LIST')).to.deep.equal([
          `user default on #${hashOf('top')} ~* &* +@all`,
          `user ops on #${PW_HASH} ~* resetchannels +@all -flushall`,
        ]);
        const ops = new Redis({ port: t.port, host: '127.0.0.1', username: 'ops', password: 'pw' });
        expect(await ops.call('ACL', 'WHOAMI')).to.equal('ops');
        expect(await reply(ops, 'FLUSHALL')).to.equal("error: NOPERM this user has no permissions to run the 'flushall' command");
        ops.disconnect();
        expect(await reply(c, 'ACL', 'SAVE')).to.match(/^error: ERR This Redis instance is not configured to use an ACL file/);
        // CONFIG REWRITE writes every user where the first `user` line was, as Redis
        await c.call('ACL', 'SETUSER', 'dev', 'on', 'nopass', '+get', '~d*');
        expect(await c.call('CONFIG', 'REWRITE')).to.equal('OK');
        expect(fs.readFileSync(conf, 'utf8').split('\n').slice(0, 4)).to.deep.equal([
          `user default on #${hashOf('top')} ~* &* +@all`,
          'user dev on nopass ~d* resetchannels -@all +get',
          `user ops on #${PW_HASH} ~* resetchannels +@all -flushall`,
          'requirepass top',
        ]);
      } finally {
        c.disconnect();
        await t.stop();
      }
      fs.writeFileSync(conf, 'user ops on\naclfile /tmp/x.acl\n');
      expect(() => loadConfig({ argv: [conf], env: {}, dotenv: false })).to.throw(
        'Configuring Redis with users defined in redis.conf and at the same setting an ACL file path is invalid.',
      );
      fs.writeFileSync(conf, 'user ops on +@all\n');
      expect(loadConfig({ argv: [conf, '--user', 'dev', 'on', '+get'], env: {}, dotenv: false }).users).to.deep.equal([['ops', 'on', '+@all'], ['dev', 'on', '+get']]);
    });
  });
});

function hashOf(p: string): string {
  return createHash('sha256').update(p).digest('hex');
}
