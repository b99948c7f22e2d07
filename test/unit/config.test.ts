import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { parseConfText, readConfFile, rewriteConfFile, splitArgs, quoteConfArg, REWRITE_SIGNATURE } from '../../src/config/conf-file.js';
import { helpText, loadConfig, parseArgv, parseDotenv } from '../../src/config/load.js';
import { renderConfigurationDoc, renderEnvExample, renderSampleConf, repoRoot } from '../../src/config/print-conf.js';
import {
  ConfigError,
  OPTIONS,
  configSchema,
  defaultConfig,
  envName,
  formatMemory,
  lookupOption,
  parseMemory,
  type TalusConfig,
} from '../../src/config/schema.js';
import { ConfigStore } from '../../src/config/store.js';

const KB = 1024;
const MB = 1024 * 1024;
const GB = 1024 * 1024 * 1024;

let tmp: string;
function write(name: string, text: string): string {
  const p = path.join(tmp, name);
  fs.mkdirSync(path.dirname(p), { recursive: true });
  fs.writeFileSync(p, text);
  return p;
}
/** loadConfig without a .env and with an empty environment unless given. */
function load(argv: string[], env: NodeJS.ProcessEnv = {}, cwd = tmp) {
  return loadConfig({ argv, env, cwd });
}
function errorOf(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (e) {
    expect(e).to.be.instanceOf(ConfigError);
    return e as ConfigError;
  }
  throw new Error('expected a ConfigError');
}
async function rejection(p: Promise<unknown>): Promise<ConfigError> {
  try {
    await p;
  } catch (e) {
    expect(e).to.be.instanceOf(ConfigError);
    return e as ConfigError;
  }
  throw new Error('expected a ConfigError');
}
const get1 = (s: ConfigStore, name: string) => s.get([name])[0]?.[1];

describe('config', () => {
  beforeEach(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'talus-config-'));
  });
  afterEach(() => {
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  describe('schema', () => {
    it('has the documented defaults', () => {
      const d = defaultConfig();
      expect(d.port).to.equal(9221);
      expect(d.bind).to.equal('127.0.0.1');
      expect(d.dir).to.equal('./data');
      expect(d.databaseUrl).to.equal('');
      expect(d.embeddedPgPort).to.equal(0);
      expect(d.pgPoolSize).to.equal(8);
      expect(d.databases).to.equal(16);
      expect(d.maxmemory).to.equal(GB);
      expect(d.maxmemoryPolicy).to.equal('allkeys-lru');
      expect(d.appendfsync).to.equal('always');
      expect(d.replicaReadOnly).to.equal(true);
      expect(d.replicaof).to.equal(null);
      expect(d.protoMaxBulkLen).to.equal(512 * MB);
      expect(d.save).to.deep.equal([]);
      expect(d.listMaxListpackSize).to.equal(-2);
      expect(d.backupCron).to.equal(''); // no scheduled backups unless asked for (docs/backup.md)
      expect(d.changelogRetention).to.equal(GB);
      expect(d.clientOutputBufferLimit.replica).to.deep.equal({ hardBytes: 256 * MB, softBytes: 64 * MB, softSeconds: 60 });
    });

    it('is one zod object: parse({}) gives the defaults, text is parsed', () => {
      expect(configSchema.parse({})).to.deep.equal(defaultConfig());
      const v = configSchema.parse({ port: '6400', maxmemory: '64mb', appendonly: 'yes' });
      expect(v.port).to.equal(6400);
      expect(v.maxmemory).to.equal(64 * MB);
      expect(v.appendonly).to.equal(true);
    });

    it('types values (compile-time check)', () => {
      const v: TalusConfig = defaultConfig();
      const n: number = v.maxmemory;
      const b: boolean = v.lazyfreeLazyUserDel;
      const p: 'always' | 'everysec' | 'no' = v.appendfsync;
      expect([n, b, p]).to.have.length(3);
    });

    it('derives env names and has every option documented', () => {
      expect(envName('maxmemory-policy')).to.equal('TALUS_MAXMEMORY_POLICY');
      expect(lookupOption('database-url')!.env).to.deep.equal(['TALUS_DATABASE_URL', 'DATABASE_URL']);
      for (const def of OPTIONS) {
        expect(def.doc, def.name).to.match(/\S/);
        expect(def.name).to.match(/^[a-z][a-z0-9-]*$/);
      }
    });

    it('parses memory units like Redis', () => {
      expect(parseMemory('0')).to.equal(0);
      expect(parseMemory('12345')).to.equal(12345);
      expect(parseMemory('100b')).to.equal(100);
      expect(parseMemory('100k')).to.equal(100_000);
      expect(parseMemory('100kb')).to.equal(100 * KB);
      expect(parseMemory('64m')).to.equal(64_000_000);
      expect(parseMemory('64MB')).to.equal(64 * MB);
      expect(parseMemory('1g')).to.equal(1_000_000_000);
      expect(parseMemory('1Gb')).to.equal(GB);
      for (const bad of ['', 'mb', '1.5gb', '-1', '10tb', '1 gb', 'abc', '99999999999999999999']) {
        expect(parseMemory(bad), bad).to.equal(undefined);
      }
      expect(formatMemory(GB)).to.equal('1gb');
      expect(formatMemory(512 * MB)).to.equal('512mb');
      expect(formatMemory(4096)).to.equal('4kb');
      expect(formatMemory(3000)).to.equal('3000');
      expect(formatMemory(0)).to.equal('0');
    });

    it('parses integers strictly, durations with units', () => {
      const port = lookupOption('port')!;
      expect(port.parse('6379')).to.deep.equal({ ok: true, value: 6379 });
      expect(port.parse('abc')).to.deep.equal({ ok: false, error: "argument couldn't be parsed into an integer" });
      expect(port.parse('1e3').ok).to.equal(false);
      expect(port.parse(' 1').ok).to.equal(false);
      expect(port.parse('70000')).to.deep.equal({ ok: false, error: 'argument must be between 0 and 65535 inclusive' });
      const timeout = lookupOption('timeout')!;
      expect(timeout.parse('5m')).to.deep.equal({ ok: true, value: 300 });
      expect(timeout.parse('1d')).to.deep.equal({ ok: true, value: 86400 });
      expect(timeout.parse('-1').ok).to.equal(false);
    });

    it('parses enums and booleans case-insensitively', () => {
      expect(lookupOption('maxmemory-policy')!.parse('ALLKEYS-LFU')).to.deep.equal({ ok: true, value: 'allkeys-lfu' });
      expect(lookupOption('maxmemory-policy')!.parse('lru')).to.deep.equal({
        ok: false,
        error:
          'argument(s) must be one of the following: volatile-lru, volatile-lfu, volatile-random, volatile-ttl, allkeys-lru, allkeys-lfu, allkeys-random, noeviction',
      });
      const b = lookupOption('appendonly')!;
      expect(b.parse('YES')).to.deep.equal({ ok: true, value: true });
      expect(b.parse('no')).to.deep.equal({ ok: true, value: false });
      expect(b.parse('true')).to.deep.equal({ ok: false, error: "argument must be 'yes' or 'no'" });
    });

    it('validates special values', () => {
      expect(lookupOption('save')!.parse('3600 1 300 100')).to.deep.equal({
        ok: true,
        value: [
          { seconds: 3600, changes: 1 },
          { seconds: 300, changes: 100 },
        ],
      });
      expect(lookupOption('save')!.parse('3600').ok).to.equal(false);
      expect(lookupOption('replicaof')!.parse('10.0.0.1 6379')).to.deep.equal({ ok: true, value: { host: '10.0.0.1', port: 6379 } });
      expect(lookupOption('replicaof')!.parse('no one')).to.deep.equal({ ok: true, value: null });
      expect(lookupOption('backup-cron')!.parse('*/5 * * * *').ok).to.equal(true);
      expect(lookupOption('backup-cron')!.parse('').ok).to.equal(true);
      expect(lookupOption('backup-cron')!.parse('every day').ok).to.equal(false);
      expect(lookupOption('database-url')!.parse('postgres://u:p@h:5432/db').ok).to.equal(true);
      expect(lookupOption('database-url')!.parse('mysql://x').ok).to.equal(false);
      expect(lookupOption('maxmemory-clients')!.parse('10%')).to.deep.equal({ ok: true, value: -10 });
      expect(lookupOption('proto-max-bulk-len')!.parse('1000')).to.deep.equal({
        ok: false,
        error: `argument must be between ${MB} and ${Number.MAX_SAFE_INTEGER} inclusive`,
      });
      // The flusher holds one connection for commits: one alone would leave none for cold reads.
      expect(lookupOption('pg-pool-size')!.parse('1').ok).to.equal(false);
      expect(lookupOption('pg-pool-size')!.parse('2')).to.deep.equal({ ok: true, value: 2 });
      expect(lookupOption('shutdown-on-sigterm')!.parse('NOW force')).to.deep.equal({ ok: true, value: ['now', 'force'] });
    });
  });

  describe('conf file syntax', () => {
    it('splits arguments like sdssplitargs', () => {
      expect(splitArgs('set a b')).to.deep.equal(['set', 'a', 'b']);
      expect(splitArgs('  requirepass   "a b"  ')).to.deep.equal(['requirepass', 'a b']);
      expect(splitArgs('x "a\\"b\\n\\x41\\\\"')).to.deep.equal(['x', 'a"b\nA\\']);
      expect(splitArgs("x 'it\\'s' ''")).to.deep.equal(['x', "it's", '']);
      expect(splitArgs("x 'a\\nb'")).to.deep.equal(['x', 'a\\nb']);
      expect(splitArgs('x ""')).to.deep.equal(['x', '']);
      expect(splitArgs('x "unterminated')).to.equal(undefined);
      expect(splitArgs('x "a"b')).to.equal(undefined);
      expect(splitArgs("x 'a")).to.equal(undefined);
    });

    it('quotes only when needed and round-trips', () => {
      for (const s of ['plain', '', 'a b', 'q"uote', "it's", 'back\\slash', 'new\nline', '#hash', 'tab\tx', '\x01']) {
        expect(splitArgs(`x ${quoteConfArg(s)}`), JSON.stringify(s)).to.deep.equal(['x', s]);
      }
      expect(quoteConfArg('plain')).to.equal('plain');
      expect(quoteConfArg('')).to.equal('""');
    });

    it('skips comments and accepts pika "name : value"', () => {
      const r = parseConfText('# c\n\n  # indented\nport 1\nrequirepass : secret\nmaxmemory: 1gb\nmasterauth :\n', 'f');
      expect(r).to.deep.equal([
        { line: 4, args: ['port', '1'] },
        { line: 5, args: ['requirepass', 'secret'] },
        { line: 6, args: ['maxmemory', '1gb'] },
        { line: 7, args: ['masterauth'] },
      ]);
      expect(() => parseConfText('port "1', 'f.conf')).to.throw(ConfigError, 'f.conf:1');
    });

    it('reads includes relative to the including file, in order', () => {
      write('sub/extra.conf', 'maxmemory 2gb\ninclude more.conf\n');
      write('sub/more.conf', 'databases 4\n');
      const main = write('main.conf', 'port 1000\ninclude sub/extra.conf\nport 2000\n');
      const d = readConfFile(main);
      expect(d.map((x) => [x.name, x.args, path.basename(x.file), x.line])).to.deep.equal([
        ['port', ['1000'], 'main.conf', 1],
        ['maxmemory', ['2gb'], 'extra.conf', 1],
        ['databases', ['4'], 'more.conf', 1],
        ['port', ['2000'], 'main.conf', 3],
      ]);
    });

    it('rejects include cycles and missing files', () => {
      write('a.conf', 'include b.conf\n');
      write('b.conf', 'include a.conf\n');
      expect(() => readConfFile(path.join(tmp, 'a.conf'))).to.throw(ConfigError, 'includes itself');
      write('c.conf', 'include nope.conf\n');
      expect(() => readConfFile(path.join(tmp, 'c.conf'))).to.throw(ConfigError, 'nope.conf');
    });
  });

  describe('loadConfig', () => {
    it('merges defaults < file < env < argv', () => {
      const conf = write('t.conf', 'port 1000\nmaxmemory 10mb\ndatabases 4\n');
      const all = load([conf, '--port', '3000'], { TALUS_PORT: '2000', TALUS_MAXMEMORY: '20mb' });
      expect(all.values.port).to.equal(3000);
      expect(all.values.maxmemory).to.equal(20 * MB);
      expect(all.values.databases).to.equal(4);
      expect(all.values.pgPoolSize).to.equal(8);
      expect(all.configFile).to.equal(conf);
      expect(all.origins.get('port')).to.deep.equal({ kind: 'argv' });
      expect(all.origins.get('maxmemory')).to.deep.equal({ kind: 'env', variable: 'TALUS_MAXMEMORY' });
      expect(all.origins.get('databases')).to.deep.equal({ kind: 'file', file: conf, line: 3 });
      expect(all.origins.has('pg-pool-size')).to.equal(false);
      expect(load([conf], { TALUS_PORT: '2000' }).values.port).to.equal(2000);
      expect(load([conf]).values.port).to.equal(1000);
      expect(load([]).values.port).to.equal(9221);
    });

    it('reads .env under the real environment', () => {
      write('.env', '# comment\nexport TALUS_PORT=7000\nTALUS_REQUIREPASS="p w#d" # trailing\nTALUS_MAXMEMORY=5mb # note\nOTHER=1\n');
      const v = load([], { TALUS_MAXMEMORY: '6mb' }).values;
      expect(v.port).to.equal(7000);
      expect(v.requirepass).to.equal('p w#d');
      expect(v.maxmemory).to.equal(6 * MB);
      expect(loadConfig({ argv: [], env: {}, cwd: tmp, dotenv: false }).values.port).to.equal(9221);
      const e = errorOf(() => load([], {}, write('bad/.env', 'TALUS_PORT=x\n') && path.join(tmp, 'bad')));
      expect(e.message).to.include("Invalid value 'x' for option 'port'").and.include('TALUS_PORT in ').and.include('.env');
    });

    it('parses .env syntax', () => {
      const m = parseDotenv("A=1\nB='x y'\nC=\"a\\nb\"\n  D = spaced  \nE=\n#F=2\nG=a#b\n");
      expect([...m]).to.deep.equal([
        ['A', '1'],
        ['B', 'x y'],
        ['C', 'a\nb'],
        ['D', 'spaced'],
        ['E', ''],
        ['G', 'a#b'],
      ]);
      expect(() => parseDotenv('A="x\n')).to.throw(ConfigError, 'Unterminated');
      expect(() => parseDotenv('just words\n')).to.throw(ConfigError, '.env:1');
    });

    it('reads DATABASE_URL; TALUS_DATABASE_URL wins', () => {
      expect(load([], { DATABASE_URL: 'postgres://a/x' }).values.databaseUrl).to.equal('postgres://a/x');
      expect(load([], { DATABASE_URL: 'postgres://a/x', TALUS_DATABASE_URL: 'postgres://b/y' }).values.databaseUrl).to.equal('postgres://b/y');
    });

    it('parses the command line like redis-server', () => {
      expect(parseArgv(['t.conf', '--port', '6400', '--save', '', '--replicaof', '10.0.0.1', '6379', '--list-max-listpack-size', '-2'])).to.deep.equal({
        configFile: 't.conf',
        directives: [
          { name: 'port', args: ['6400'] },
          { name: 'save', args: [''] },
          { name: 'replicaof', args: ['10.0.0.1', '6379'] },
          { name: 'list-max-listpack-size', args: ['-2'] },
        ],
      });
      expect(parseArgv(['-c', 'x.conf', '--port=1'])).to.deep.equal({ configFile: 'x.conf', directives: [{ name: 'port', args: ['1'] }] });
      expect(parseArgv(['--config', 'x.conf']).configFile).to.equal('x.conf');
      expect(parseArgv(['--help', '--version']).directives).to.deep.equal([]);
      expect(() => parseArgv(['--port', '1', 'stray.conf', 'x'])).to.not.throw(); // values of --port
      expect(() => parseArgv(['a.conf', '-c', 'b.conf'])).to.throw(ConfigError, 'More than one config file');

      const v = load(['--port', '6400', '--dir', './data2', '--maxmemory', '64mb', '--save', '', '--bind', '127.0.0.1', '::1']).values;
      expect(v.port).to.equal(6400);
      expect(v.dir).to.equal(path.join(tmp, 'data2'));
      expect(v.maxmemory).to.equal(64 * MB);
      expect(v.save).to.deep.equal([]);
      expect(v.bind).to.equal('127.0.0.1 ::1');
    });

    it('applies aliases, quoting and repeated directives from the file', () => {
      const conf = write(
        't.conf',
        [
          'zset-max-ziplist-entries 5',
          'SLAVEOF no one',
          'hash-max-ziplist-entries 99',
          'requirepass "secret with spaces"',
          "logfile 'x'",
          'bind 0.0.0.0 ::',
          'bind 127.0.0.1',
          'save 3600 1',
          'save 300 100',
          'client-output-buffer-limit normal 1mb 2mb 3',
          'client-output-buffer-limit pubsub 0 0 0',
          'maxmemory 1MB',
          'maxmemory 2mb',
          '',
        ].join('\n'),
      );
      const v = load([conf]).values;
      expect(v.zsetMaxListpackEntries).to.equal(5);
      expect(v.replicaof).to.equal(null);
      expect(v.hashMaxListpackEntries).to.equal(99);
      expect(v.requirepass).to.equal('secret with spaces');
      expect(v.logfile).to.equal('x');
      expect(v.bind).to.equal('127.0.0.1');
      expect(v.save).to.deep.equal([
        { seconds: 3600, changes: 1 },
        { seconds: 300, changes: 100 },
      ]);
      expect(v.clientOutputBufferLimit).to.deep.equal({
        normal: { hardBytes: MB, softBytes: 2 * MB, softSeconds: 3 },
        replica: { hardBytes: 256 * MB, softBytes: 64 * MB, softSeconds: 60 },
        pubsub: { hardBytes: 0, softBytes: 0, softSeconds: 0 },
      });
      expect(v.maxmemory).to.equal(2 * MB);
      // save "" resets; the command line replaces the file's save points.
      const c2 = write('t2.conf', 'save 3600 1\nsave ""\nsave 60 5\n');
      expect(load([c2]).values.save).to.deep.equal([{ seconds: 60, changes: 5 }]);
      expect(load([c2, '--save', '10 1']).values.save).to.deep.equal([{ seconds: 10, changes: 1 }]);
    });

    it('names the option, the value, what is accepted and the source in errors', () => {
      const conf = write('bad.conf', '# hi\nport 1\nport abc\n');
      expect(errorOf(() => load([conf])).message).to.equal(
        `Invalid value 'abc' for option 'port': expected an integer between 0 and 65535 (from ${conf}:3)`,
      );
      expect(errorOf(() => load(['--port', 'abc'])).message).to.equal(
        "Invalid value 'abc' for option 'port': expected an integer between 0 and 65535 (from command line)",
      );
      const env = errorOf(() => load([], { TALUS_MAXMEMORY: 'lots' }));
      expect(env.message).to.match(/^Invalid value 'lots' for option 'maxmemory': expected a memory size .* \(from environment variable TALUS_MAXMEMORY\)$/);
      expect(env.option).to.equal('maxmemory');
      expect(errorOf(() => load(['--prot', '1'])).message).to.equal("Unknown option 'prot' (from command line); did you mean 'port'?");
      expect(errorOf(() => load(['--frobnicate', '1'])).message).to.equal("Unknown option 'frobnicate' (from command line)");
      const unk = write('unk.conf', 'maxmemroy 1gb\n');
      expect(errorOf(() => load([unk])).message).to.equal(`Unknown option 'maxmemroy' (from ${unk}:1); did you mean 'maxmemory'?`);
      expect(errorOf(() => load(['--maxmemory-policy', 'lru'])).message).to.include(
        "for option 'maxmemory-policy': expected one of: volatile-lru, volatile-lfu",
      );
      expect(errorOf(() => load(['--appendonly', 'true'])).message).to.include("Invalid value 'true' for option 'appendonly': expected yes or no");
      expect(errorOf(() => load(['--port', '1', '2'])).message).to.include("Option 'port' takes one value, got 2 (from command line)");
      expect(errorOf(() => load(['--backup-cron', 'nope'])).message).to.include("Invalid value 'nope' for option 'backup-cron': expected a cron expression");
      // Secrets are not echoed.
      const secret = errorOf(() => load([], { DATABASE_URL: 'mysql://user:hunter2@h' }));
      expect(secret.message).to.not.include('hunter2');
      expect(secret.message).to.include("option 'database-url'").and.include('DATABASE_URL');
      expect(errorOf(() => load([path.join(tmp, 'missing.conf')])).message).to.include('Cannot read config file');
    });

    it('warns about unknown TALUS_ variables', () => {
      expect(load([], { TALUS_PROT: '1', HOME: '/x' }).warnings).to.deep.equal(["Ignoring unknown environment variable TALUS_PROT; did you mean 'port'?"]);
    });

    it('helpText lists every option', () => {
      const h = helpText();
      for (const def of OPTIONS) expect(h).to.include(`--${def.name} <`);
      expect(h).to.include('TALUS_MAXMEMORY_POLICY');
    });
  });

  describe('ConfigStore', () => {
    it('keeps the values object identity across CONFIG SET', () => {
      const s = ConfigStore.withDefaults();
      const v = s.values;
      s.set([['maxmemory', '64mb']]);
      expect(s.values).to.equal(v);
      expect(v.maxmemory).to.equal(64 * MB);
    });

    it('CONFIG GET formats values as Redis does', () => {
      const s = ConfigStore.withDefaults({ save: '3600 1 300 100' });
      expect(s.get(['maxmemory'])).to.deep.equal([['maxmemory', String(GB)]]);
      expect(get1(s, 'appendonly')).to.equal('no');
      expect(get1(s, 'maxmemory-policy')).to.equal('allkeys-lru');
      expect(get1(s, 'save')).to.equal('3600 1 300 100');
      expect(get1(s, 'notify-keyspace-events')).to.equal('');
      const notify = lookupOption('notify-keyspace-events')!;
      const parsed = notify.parse('KEA');
      expect(parsed.ok && notify.show(parsed.value)).to.equal('AKE');
      expect(get1(s, 'client-output-buffer-limit')).to.equal('normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60');
      expect(get1(s, 'replicaof')).to.equal('');
      expect(get1(s, 'stream-node-max-bytes')).to.equal('4096');
      expect(s.get(['MAXMEMORY'])).to.deep.equal([['maxmemory', String(GB)]]);
      expect(s.get(['nosuchoption'])).to.deep.equal([]);
    });

    it('CONFIG GET globs over names and aliases without duplicates', () => {
      const s = ConfigStore.withDefaults();
      const names = s.get(['*max-*-entries*']).map(([n]) => n);
      expect(names).to.include.members([
        'hash-max-listpack-entries',
        'hash-max-ziplist-entries',
        'zset-max-listpack-entries',
        'zset-max-ziplist-entries',
        'set-max-intset-entries',
        'set-max-listpack-entries',
      ]);
      expect(names).to.not.include('stream-node-max-entries');
      const res = s.get(['maxmemory', 'maxmemory*', 'bind', '*of', 'MAXMEMORY']);
      const keys = res.map(([n]) => n);
      expect(new Set(keys).size).to.equal(keys.length);
      expect(keys).to.include.members(['maxmemory', 'maxmemory-samples', 'maxmemory-clients', 'maxmemory-policy', 'bind', 'slaveof', 'replicaof']);
      expect(s.get(['*']).length).to.equal(OPTIONS.reduce((n, d) => n + (d.hidden ? 0 : 1 + d.aliases.length), 0));
      expect(s.get(['hash-max-*-v?lue']).map(([n]) => n)).to.deep.equal(['hash-max-listpack-value', 'hash-max-ziplist-value']);
    });

    it('globs like Redis, case-insensitively; hidden options only by exact name', () => {
      const s = ConfigStore.withDefaults();
      const names = (...patterns: string[]) => s.get(patterns).map(([n]) => n);
      expect(names('H[ZA]SH-MAX-L?STPACK-ENTRIES')).to.deep.equal(['hash-max-listpack-entries']);
      expect(names('hash-max-[^l]*-entries')).to.deep.equal(['hash-max-ziplist-entries']);
      expect(names('tcp-keepalive\\*')).to.deep.equal([]);
      expect(names('*-max-*')).to.not.include('maxmemory');
      expect(names('*')).to.not.include('key-load-delay');
      expect(names('key-load-*')).to.deep.equal([]);
      expect(names('KEY-LOAD-DELAY')).to.deep.equal(['key-load-delay']);
    });

    it('CONFIG SET parses, handles aliases and case', () => {
      const s = ConfigStore.withDefaults();
      s.set([
        ['MAXMEMORY', '100mb'],
        ['maxmemory-policy', 'VOLATILE-TTL'],
        ['zset-max-ziplist-entries', '9'],
        ['hash-max-ziplist-entries', '7'],
      ]);
      expect(s.values.maxmemory).to.equal(100 * MB);
      expect(s.values.maxmemoryPolicy).to.equal('volatile-ttl');
      expect(s.values.zsetMaxListpackEntries).to.equal(9);
      expect(get1(s, 'zset-max-listpack-entries')).to.equal('9');
      expect(get1(s, 'hash-max-listpack-entries')).to.equal('7');
      s.set([['client-output-buffer-limit', 'pubsub 1mb 0 0']]);
      expect(get1(s, 'client-output-buffer-limit')).to.equal('normal 0 0 0 slave 268435456 67108864 60 pubsub 1048576 0 0');
    });

    it('CONFIG SET errors use the Redis wording', () => {
      const s = ConfigStore.withDefaults();
      const msg = (pairs: Array<[string, string]>) => errorOf(() => s.set(pairs)).message;
      expect(msg([['foo', 'bar']])).to.equal("ERR Unknown option or number of arguments for CONFIG SET - 'foo'");
      expect(msg([['daemonize', 'yes']])).to.equal("ERR CONFIG SET failed (possibly related to argument 'daemonize') - can't set immutable config");
      expect(msg([['maxmemory', 'lots']])).to.equal("ERR CONFIG SET failed (possibly related to argument 'maxmemory') - argument must be a memory value");
      expect(msg([['maxmemory-samples', '100']])).to.equal(
        "ERR CONFIG SET failed (possibly related to argument 'maxmemory-samples') - argument must be between 1 and 64 inclusive",
      );
      expect(msg([['timeout', 'x']])).to.equal(
        "ERR CONFIG SET failed (possibly related to argument 'timeout') - argument couldn't be parsed into an integer",
      );
      expect(msg([['appendonly', 'maybe']])).to.equal("ERR CONFIG SET failed (possibly related to argument 'appendonly') - argument must be 'yes' or 'no'");
      expect(msg([['appendfsync', 'sometimes']])).to.equal(
        "ERR CONFIG SET failed (possibly related to argument 'appendfsync') - argument(s) must be one of the following: always, everysec, no",
      );
      expect(msg([['maxmemory', '1mb'], ['MaxMemory', '2mb']])).to.equal(
        "ERR CONFIG SET failed (possibly related to argument 'MaxMemory') - duplicate parameter",
      );
      expect(msg([['hash-max-listpack-entries', '1'], ['hash-max-ziplist-entries', '2']])).to.equal(
        "ERR CONFIG SET failed (possibly related to argument 'hash-max-ziplist-entries') - duplicate parameter",
      );
      // A value error is reported under the canonical name.
      expect(msg([['slave-priority', 'x']])).to.include("argument 'replica-priority'");
      // The first problem in argument order wins.
      expect(msg([['daemonize', 'yes'], ['foo', 'bar']])).to.include("can't set immutable config");
      expect(msg([['foo', 'bar'], ['port', '1']])).to.include("Unknown option or number of arguments for CONFIG SET - 'foo'");
      expect(msg([['client-output-buffer-limit', 'normal 1 2']])).to.include('Wrong number of arguments in buffer limit configuration.');
      expect(msg([['notify-keyspace-events', 'KEQ']])).to.include('Invalid event class character');
    });

    it('CONFIG SET is all-or-nothing', () => {
      const s = ConfigStore.withDefaults();
      const before = structuredClone(s.values);
      errorOf(() => s.set([['maxmemory', '10mb'], ['timeout', '5'], ['maxmemory-policy', 'nope']]));
      errorOf(() => s.set([['maxmemory', '10mb'], ['databases', '2']]));
      expect(s.values).to.deep.equal(before);
    });

    it('fires listeners after a change, and rolls back when one fails', () => {
      const s = ConfigStore.withDefaults();
      const seen: unknown[] = [];
      const off = s.onChange('maxmemory', (v) => seen.push(v));
      s.onChange('zset-max-ziplist-entries', (v) => seen.push(['zset', v]));
      s.set([['maxmemory', '1mb']]);
      s.set([['maxmemory', '1mb']]); // unchanged: no event
      s.set([['zset-max-listpack-entries', '3']]);
      expect(seen).to.deep.equal([MB, ['zset', 3]]);
      off();
      s.set([['maxmemory', '2mb']]);
      expect(seen).to.have.length(2);

      s.onChange('timeout', (v) => {
        if (v === 13) throw new Error('unlucky');
      });
      const e = errorOf(() => s.set([['maxmemory', '3mb'], ['timeout', '13']]));
      expect(e.message).to.equal("ERR CONFIG SET failed (possibly related to argument 'timeout') - unlucky");
      expect(s.values.maxmemory).to.equal(2 * MB);
      expect(s.values.timeout).to.equal(0);
      expect(() => s.onChange('nope', () => {})).to.throw(ConfigError);
    });

    it('lets internal callers change immutable options', () => {
      const s = ConfigStore.withDefaults();
      s.set([['port', '7001']], { allowImmutable: true });
      expect(get1(s, 'port')).to.equal('7001');
    });

    it('withDefaults applies overrides, including immutable ones', () => {
      const s = ConfigStore.withDefaults({ port: 0, maxmemory: '64mb', appendonly: true });
      expect(s.values.port).to.equal(0);
      expect(s.values.maxmemory).to.equal(64 * MB);
      expect(s.values.appendonly).to.equal(true);
    });
  });

  describe('CONFIG REWRITE', () => {
    it('fails without a config file', async () => {
      const e = await rejection(ConfigStore.withDefaults().rewrite());
      expect(e.message).to.equal('ERR The server is running without a config file');
    });

    it('keeps comments and unknown lines, replaces first occurrences, appends new options', async () => {
      const original = [
        '# My config',
        'port 7000',
        '',
        '# memory',
        'maxmemory 1gb   # not a comment in redis syntax, but kept as is',
        'include extra.conf',
        'hash-max-ziplist-entries 128',
        'maxmemory-policy allkeys-lru',
        'maxmemory-policy noeviction',
        'requirepass : old',
        '',
      ].join('\n');
      write('extra.conf', '# extra\n');
      const conf = write('r.conf', original.replace('   # not a comment in redis syntax, but kept as is', ''));
      const s = ConfigStore.from(load([conf, '--databases', '4']));
      expect(s.values.maxmemoryPolicy).to.equal('noeviction');
      s.set([
        ['maxmemory', '64mb'],
        ['maxmemory-policy', 'allkeys-lfu'],
        ['hash-max-listpack-entries', '7'],
        ['requirepass', 'new pass'],
        ['timeout', '30'],
        ['save', '60 10 300 1'],
      ]);
      await s.rewrite();
      const text = fs.readFileSync(conf, 'utf8');
      expect(text.split('\n')).to.deep.equal([
        '# My config',
        'port 7000',
        '',
        '# memory',
        'maxmemory 64mb',
        'include extra.conf',
        'hash-max-listpack-entries 7',
        'maxmemory-policy allkeys-lfu',
        'requirepass "new pass"',
        '',
        REWRITE_SIGNATURE,
        'timeout 30',
        'databases 4',
        'save 60 10 300 1',
        '',
      ]);
      // The rewritten file loads back to the same values.
      const again = ConfigStore.from(load([conf]));
      for (const name of ['maxmemory', 'maxmemory-policy', 'hash-max-listpack-entries', 'requirepass', 'timeout', 'save', 'databases', 'port']) {
        expect(get1(again, name), name).to.equal(get1(s, name));
      }
      // A second rewrite does not add another signature.
      again.set([['hz', '20']]);
      await again.rewrite();
      const text2 = fs.readFileSync(conf, 'utf8');
      expect(text2.split(REWRITE_SIGNATURE)).to.have.length(2);
      expect(text2.endsWith('save 60 10 300 1\nhz 20\n')).to.equal(true);
      expect(fs.readdirSync(tmp).filter((f) => f.includes('.tmp-'))).to.deep.equal([]);
    });

    it('rewriteConfFile creates a missing file and keeps the mode', async () => {
      const p = path.join(tmp, 'new.conf');
      await rewriteConfFile(p, new Map<string, string | string[]>([['port', '1'], ['save', []], ['bind', ['127.0.0.1', '::1']]]));
      expect(fs.readFileSync(p, 'utf8')).to.equal(`${REWRITE_SIGNATURE}\nport 1\nsave ""\nbind 127.0.0.1 ::1\n`);
      fs.chmodSync(p, 0o600);
      await rewriteConfFile(p, new Map([['port', '2']]));
      expect(fs.statSync(p).mode & 0o777).to.equal(0o600);
      expect(fs.readFileSync(p, 'utf8')).to.equal(`${REWRITE_SIGNATURE}\nport 2\nsave ""\nbind 127.0.0.1 ::1\n`);
    });
  });

  describe('what each option does (effect)', () => {

    /** Every .ts file under src/ except src/config, as one text. */
    function sourceOutsideConfig(): string {
      const out: string[] = [];
      const walk = (dir: string) => {
        for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
          const p = path.join(dir, e.name);
          if (e.isDirectory()) {
            if (p !== path.join(repoRoot(), 'src', 'config')) walk(p);
          } else if (e.name.endsWith('.ts')) out.push(fs.readFileSync(p, 'utf8'));
        }
      };
      walk(path.join(repoRoot(), 'src'));
      return out.join('\n');
    }

    it('every live option is read outside src/config (values.<key>, a destructured <key>, or onChange by name)', () => {
      const src = sourceOutsideConfig();
      const unread = OPTIONS.filter((def) => {
        if (def.effect.kind !== 'live') return false;
        const read =
          new RegExp(`\\.${def.key}\\b`).test(src) ||
          new RegExp(`\\{[^}]*\\b${def.key}\\b[^}]*\\}\\s*=\\s*[^;\\n]*values`).test(src) ||
          src.includes(`'${def.name}'`);
        return !read;
      });
      expect(unread.map((d) => d.name), 'live options nothing reads: build them or classify them no-effect / not-built').to.deep.equal([]);
    });

    it('no-effect options give a reason; not-built ones say what is missing', () => {
      for (const def of OPTIONS) {
        if (def.effect.kind === 'no-effect') expect(def.effect.reason, def.name).to.match(/^\S.{10,}/);
        if (def.effect.kind === 'not-built') expect(def.effect.missing, def.name).to.match(/not built/);
      }
      expect(lookupOption('io-threads')!.effect.kind).to.equal('no-effect');
      expect(lookupOption('hash-max-listpack-entries')!.effect.kind).to.equal('live'); // OBJECT ENCODING reports by it
      expect(lookupOption('notify-keyspace-events')!.effect.kind).to.equal('live');
      expect(lookupOption('repl-diskless-sync-delay')!.effect.kind).to.equal('not-built');
      expect(lookupOption('min-replicas-to-write')!.effect.kind).to.equal('live');
      expect(lookupOption('repl-timeout')!.effect.kind).to.equal('live');
    });

    it('CONFIG SET refuses a non-default value of a not-built option, and accepts its default', () => {
      const s = ConfigStore.withDefaults();
      const msg = (pairs: Array<[string, string]>) => errorOf(() => s.set(pairs)).message;
      expect(msg([['repl-diskless-sync-delay', '30']])).to.equal(
        "ERR CONFIG SET failed (possibly related to argument 'repl-diskless-sync-delay') - repl-diskless-sync-delay: this part of replication is not built yet; only '5' is accepted",
      );
      // scripting is built: lua-time-limit (busy-reply-threshold) is live
      s.set([['lua-time-limit', '10']]);
      expect(get1(s, 'busy-reply-threshold')).to.equal('10');
      // backups are built: backup-cron takes any cron expression
      s.set([['backup-cron', '0 4 * * *']]);
      expect(get1(s, 'backup-cron')).to.equal('0 4 * * *');
      // all or nothing: a refused pair leaves the others unset
      expect(msg([['maxmemory', '5mb'], ['repl-diskless-sync-delay', '1']])).to.include('replication is not built yet');
      expect(s.values.maxmemory).to.equal(GB);
      // the default (what CONFIG GET * gives back, e.g. to the Tcl suite) is always accepted
      s.set([['repl-diskless-sync-delay', '5'], ['min-slaves-to-write', '0'], ['backup-cron', '']]);
      // no-effect options take any valid value
      s.set([['list-max-ziplist-size', '5'], ['activedefrag', 'yes']]);
      expect(get1(s, 'list-max-listpack-size')).to.equal('5');
    });

    it('refuses a not-built option set at start-up from the file, the environment or the command line', () => {
      const conf = write('nb.conf', 'repl-diskless-sync-delay 30\n');
      expect(errorOf(() => load([conf])).message).to.equal(
        `Unsupported value '30' for option 'repl-diskless-sync-delay' (from ${conf}:1): repl-diskless-sync-delay: this part of replication is not built yet; only '5' is accepted`,
      );
      expect(errorOf(() => load([], { TALUS_PROPAGATION_ERROR_BEHAVIOR: 'panic' })).message).to.equal(
        "Unsupported value 'panic' for option 'propagation-error-behavior' (from environment variable TALUS_PROPAGATION_ERROR_BEHAVIOR): propagation-error-behavior: this part of replication is not built yet; only 'ignore' is accepted",
      );
      expect(load(['--repl-diskless-sync-delay', '5', '--replicaof', 'no', 'one']).values.replicaof).to.equal(null);
      expect(load([], { TALUS_REPLICAOF: '10.0.0.1 6379' }).values.replicaof).to.deep.equal({ host: '10.0.0.1', port: 6379 });
    });

    it('--help, talus.conf and docs/configuration.md say what each option does in Talus', () => {
      const help = helpText();
      expect(help).to.include('Accepted for compatibility, no effect in Talus: Talus does its network I/O on the Node.js event loop.');
      expect(help).to.include("Not built: this part of replication is not built yet; only '5' is accepted.");
      const doc = renderConfigurationDoc();
      for (const def of OPTIONS) expect(doc, def.name).to.include(`| \`${def.name}\``);
      expect(doc).to.match(/\| `io-threads` \| `1` \| no \| no effect \|/);
      expect(doc).to.match(/\| `repl-diskless-sync-delay` \| `5` \| yes \| not built \|/);
      expect(renderSampleConf()).to.include('# Accepted for compatibility, no effect in Talus: Talus does its network I/O');
    });
  });

  describe('generated files', () => {
    it('docs/configuration.md matches renderConfigurationDoc() (regenerate: node dist/src/config/print-conf.js --write)', () => {
      expect(fs.readFileSync(path.join(repoRoot(), 'docs', 'configuration.md'), 'utf8')).to.equal(renderConfigurationDoc());
    });

    it('talus.conf matches renderSampleConf() (regenerate: node dist/src/config/print-conf.js --write)', () => {
      expect(fs.readFileSync(path.join(repoRoot(), 'talus.conf'), 'utf8')).to.equal(renderSampleConf());
    });

    it('.env.example matches renderEnvExample() (regenerate: node dist/src/config/print-conf.js --write)', () => {
      expect(fs.readFileSync(path.join(repoRoot(), '.env.example'), 'utf8')).to.equal(renderEnvExample());
    });

    it('the sample config loads to the defaults', () => {
      const conf = write('talus.conf', renderSampleConf());
      const v = load([conf]).values as Record<string, unknown>;
      const d = defaultConfig() as Record<string, unknown>;
      d.dir = path.join(tmp, 'data');
      expect(v).to.deep.equal(d);
    });

    it('the uncommented .env.example loads to the defaults', () => {
      write('.env', renderEnvExample().replace(/^#(TALUS_)/gm, '$1'));
      const loaded = load([]);
      expect(loaded.origins.size).to.equal(OPTIONS.length);
      const d = defaultConfig() as Record<string, unknown>;
      d.dir = path.join(tmp, 'data');
      expect(loaded.values).to.deep.equal(d);
    });
  });
});
