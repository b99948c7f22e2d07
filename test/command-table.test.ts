import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import { ROOT, startTalus, type TalusProcess } from './support/harness.js';
import { redisServerAvailable, startRedisServer, type RedisServer } from './support/redis-server.js';
import { Resp3Connection, diffResp, plain, type RespValue } from './support/resp-tree.js';
import { sampleArguments, type DocArgument } from './support/sample-args.js';

/**
 * The command table against redis-server 7.0.15: COMMAND INFO, COMMAND DOCS,
 * COMMAND GETKEYS and GETKEYSANDFLAGS of every command Talus lists must be
 * Redis's replies, RESP3 types included. Each test gathers every difference
 * before failing, so that one run shows all of them.
 */

/** Talus's subcommands redis-server 7.0 lacks (docs/compatibility.md, "Command table"). */
const EXTENSIONS = ['client|setinfo', 'client|no-touch'];

describe('command table: COMMAND INFO/DOCS/GETKEYS vs redis-server', function () {
  this.timeout(180_000);
  let redis: RedisServer | undefined;
  let talus: TalusProcess | undefined;
  let r: Resp3Connection;
  let t: Resp3Connection;
  let names: string[] = [];
  let redisNames = new Set<string>();

  before(async function () {
    if (!redisServerAvailable()) {
      console.warn('      redis-server not installed: command table comparison skipped');
      this.skip();
    }
    [redis, talus] = await Promise.all([startRedisServer(), startTalus(['--appendfsync', 'everysec'])]);
    [r, t] = await Promise.all([Resp3Connection.open(redis.port), Resp3Connection.open(talus.port)]);
    names = (plain(await t.call(['COMMAND', 'LIST'])) as string[]).sort();
    redisNames = new Set(plain(await r.call(['COMMAND', 'LIST'])) as string[]);
  });

  after(async () => {
    r?.close();
    t?.close();
    await Promise.all([redis?.stop(), talus?.stop()]);
  });

  /** Redis's full names of a container's subcommands, from its COMMAND INFO entry. */
  const subNames = (info: RespValue): string[] => subEntries(info).map((s) => s[0] as string);

  it('has no command redis-server lacks but the documented extensions', async () => {
    const extra: string[] = [];
    for (const name of names) {
      if (!name.includes('|')) {
        if (!redisNames.has(name)) extra.push(name);
        const [info] = (await r.call(['COMMAND', 'INFO', name])) as RespValue[];
        if (info) for (const sub of subNames((await t.call(['COMMAND', 'INFO', name]) as RespValue[])[0]!)) {
          if (!subNames(info).includes(sub)) extra.push(sub);
        }
      }
    }
    expect(extra.sort()).to.deep.equal([...EXTENSIONS].sort());
    const compat = fs.readFileSync(path.join(ROOT, 'docs/compatibility.md'), 'utf8');
    for (const ext of EXTENSIONS) expect(compat, `${ext} documented`).to.include(ext.replace('|', ' ').toUpperCase());
  });

  it('COMMAND INFO and COMMAND DOCS equal redis-server\'s for every command and subcommand', async () => {
    const diffs: string[] = [];
    for (const name of names) {
      if (EXTENSIONS.includes(name)) continue;
      for (const sub of ['INFO', 'DOCS']) {
        const expected = await r.call(['COMMAND', sub, name]);
        const actual = await t.call(['COMMAND', sub, name]);
        diffs.push(...diffResp(withoutSubcommands(sub, expected, names), withoutSubcommands(sub, actual, names), `${sub} ${name}`));
      }
    }
    expect(diffs, diffs.join('\n')).to.deep.equal([]);
  });

  it('COMMAND GETKEYS and GETKEYSANDFLAGS agree with redis-server on sample calls built from the docs', async () => {
    const diffs: string[] = [];
    let compared = 0;
    for (const name of names) {
      if (EXTENSIONS.includes(name)) continue;
      const docs = plain(await r.call(['COMMAND', 'DOCS', name])) as Record<string, { arguments?: DocArgument[] }>;
      const entry = docs[name]!;
      const head = name.split('|');
      for (const full of [false, true]) {
        const argv = [...head, ...sampleArguments(entry.arguments ?? [], full)];
        for (const sub of ['GETKEYS', 'GETKEYSANDFLAGS']) {
          const cmd = ['COMMAND', sub, ...argv];
          diffs.push(...diffResp(await r.call(cmd), await t.call(cmd), cmd.join(' ')));
          compared++;
        }
      }
    }
    expect(compared).to.be.greaterThan(400);
    expect(diffs, diffs.join('\n')).to.deep.equal([]);
  });
});

/** The subcommand entries of a COMMAND INFO entry: an array, or an empty set when it has none. */
function subEntries(info: RespValue): RespValue[][] {
  const subs = (info as RespValue[])[9]!;
  return (Array.isArray(subs) ? subs : (subs as { set: RespValue[] }).set) as RespValue[][];
}

/**
 * A container's entry with only the subcommands both servers have (an
 * extension or a missing one is checked apart), by name: Redis lists them in
 * its hash table's order, which differs from one redis-server to the next.
 */
function withoutSubcommands(kind: string, reply: RespValue, talusNames: string[]): RespValue {
  const keep = (name: RespValue) => talusNames.includes(name as string) && !EXTENSIONS.includes(name as string);
  if (kind === 'INFO') {
    return (reply as RespValue[]).map((info) => {
      const fields = [...(info as RespValue[])];
      if (Array.isArray(fields[9])) fields[9] = subEntries(info).filter((s) => keep(s[0]!)).sort(byFirst);
      return fields;
    });
  }
  const strip = (docs: RespValue): RespValue => ({
    map: (docs as { map: Array<[RespValue, RespValue]> }).map.map(([k, v]): [RespValue, RespValue] =>
      k === 'subcommands' ? [k, { map: (v as { map: Array<[RespValue, RespValue]> }).map.filter(([n]) => keep(n)).sort(byFirst) }] : [k, v]),
  });
  return { map: (reply as { map: Array<[RespValue, RespValue]> }).map.map(([k, v]): [RespValue, RespValue] => [k, strip(v)]) };
}

const byFirst = (a: RespValue[], b: RespValue[]) => String(a[0]).localeCompare(String(b[0]));
