/**
 * The commands of Redis Cluster and of the module system, which Talus has
 * without either (CLUSTER, ASKING, READONLY, READWRITE, MODULE,
 * RESTORE-ASKING): every reply byte for byte against a non-cluster
 * redis-server 7.0.15 with no module loaded, with enable-module-command at
 * its default (no) and at yes.
 */
import { expect } from 'chai';
import { startTalus, type TalusProcess } from './support/harness.js';
import { redisServerAvailable, startRedisServer, type RedisServer } from './support/redis-server.js';
import { RawConnection, show, type Arg } from './support/differential.js';

const CLUSTER_SUBS = [
  'ADDSLOTS 1', 'ADDSLOTSRANGE 1 2', 'BUMPEPOCH', 'COUNT-FAILURE-REPORTS n', 'COUNTKEYSINSLOT 1', 'DELSLOTS 1',
  'DELSLOTSRANGE 1 2', 'FAILOVER', 'FLUSHSLOTS', 'FORGET n', 'GETKEYSINSLOT 1 1', 'HELP', 'INFO', 'KEYSLOT a', 'LINKS',
  'MEET 127.0.0.1 1', 'MYID', 'NODES', 'REPLICAS n', 'REPLICATE n', 'RESET', 'SAVECONFIG', 'SET-CONFIG-EPOCH 1',
  'SETSLOT 1 STABLE', 'SHARDS', 'SLAVES n', 'SLOTS',
];

const COMMANDS: string[] = [
  'CLUSTER', ...CLUSTER_SUBS.map((s) => `CLUSTER ${s}`), 'CLUSTER info', 'cluster nodes',
  'CLUSTER FOO', 'CLUSTER HELP extra', 'CLUSTER KEYSLOT', 'CLUSTER INFO x', 'CLUSTER GETKEYSINSLOT 1',
  'ASKING', 'ASKING x', 'READONLY', 'READONLY x', 'READWRITE', 'READWRITE x',
  'MODULE', 'MODULE HELP', 'MODULE help x', 'MODULE LIST', 'MODULE LIST x', 'MODULE FOO',
  'MODULE LOAD', 'MODULE LOAD /nonexistent/mod.so', 'MODULE LOAD /nonexistent/mod.so a b',
  'MODULE LOADEX', 'MODULE LOADEX /nonexistent/mod.so', 'MODULE LOADEX /x.so CONFIG a b ARGS c', 'MODULE LOADEX /x.so CONFIG a',
  'MODULE LOADEX /x.so FOO', 'MODULE UNLOAD', 'MODULE UNLOAD mod', 'MODULE UNLOAD a b',
  'COMMAND INFO cluster|info asking readonly readwrite module|list restore-asking',
];

async function replies(port: number, commands: Arg[][]): Promise<Buffer[]> {
  const conn = await RawConnection.connect(port);
  try {
    const out: Buffer[] = [];
    for (const c of commands) out.push(await conn.call(c));
    return out;
  } finally {
    conn.close();
  }
}

for (const moduleCommand of ['no', 'yes']) {
  describe(`cluster and module commands without either, as redis-server (enable-module-command ${moduleCommand})`, function () {
    this.timeout(60_000);
    let redis: RedisServer | undefined;
    let talus: TalusProcess | undefined;

    before(async function () {
      if (!redisServerAvailable()) this.skip();
      const opts = ['--enable-module-command', moduleCommand];
      [redis, talus] = await Promise.all([startRedisServer(opts), startTalus(opts)]);
    });
    after(async () => {
      await Promise.all([redis?.stop(), talus?.stop()]);
    });

    it('answers every call byte for byte as redis-server', async () => {
      const cmds = COMMANDS.map((c) => c.split(' '));
      const [expected, actual] = await Promise.all([replies(redis!.port, cmds), replies(talus!.port, cmds)]);
      const diffs = cmds.flatMap((c, i) => (expected[i]!.equals(actual[i]!) ? [] : [`${c.join(' ')}: redis ${show(expected[i]!)} talus ${show(actual[i]!)}`]));
      expect(diffs, diffs.join('\n')).to.deep.equal([]);
    });

    // only where MODULE LOAD is allowed to try (enable-module-command yes)
    if (moduleCommand !== 'no') {
      it('logs why a module cannot be loaded', async () => {
        await replies(talus!.port, [['MODULE', 'LOAD', '/tmp/some-module.so']]);
        // the log line may reach the pipe after the reply reached the client
        const logged = /Module \/tmp\/some-module\.so failed to load: Talus cannot load Redis modules/;
        for (let i = 0; i < 50 && !logged.test(talus!.output()); i++) await new Promise((r) => setTimeout(r, 100));
        expect(talus!.output()).to.match(logged);
      });
    }

    it('RESTORE-ASKING restores as RESTORE', async () => {
      const cmds: Arg[][] = [['SET', 'src', 'value'], ['DEL', 'copy']];
      await Promise.all([replies(redis!.port, cmds), replies(talus!.port, cmds)]);
      const [payload] = await replies(redis!.port, [['DUMP', 'src']]);
      const body = payload!.subarray(payload!.indexOf('\r\n') + 2, payload!.length - 2);
      const calls: Arg[][] = [
        ['RESTORE-ASKING', 'copy', '0', body], ['GET', 'copy'], ['RESTORE-ASKING', 'copy', '0', body],
        ['RESTORE-ASKING', 'copy', '5000', body, 'REPLACE'], ['PTTL', 'copy'], ['RESTORE-ASKING', 'copy', '0', 'bad', 'REPLACE'],
        ['RESTORE-ASKING', 'copy'],
      ];
      const [expected, actual] = await Promise.all([replies(redis!.port, calls), replies(talus!.port, calls)]);
      // the PTTL read back: up to a few ms under 5000
      const ttl = (b: Buffer) => b.toString().replace(/^:(4\d{3}|5000)\r\n$/, ':about 5000');
      expect(actual.map(ttl)).to.deep.equal(expected.map(ttl));
    });
  });
}
