/**
 * Regenerates src/commands/spec/*.json, the command table's interface data
 * (arity, flags, key specs, ACL categories, tips, docs), from a running
 * redis-server 7.0.15: for every command and subcommand Talus implements
 * (the rows of src/commands/*.ts), its COMMAND INFO and COMMAND DOCS replies
 * read over RESP3, so that sets, maps and status strings keep their types.
 *
 *   npx tsc -b && node dist/scripts/gen-command-spec.js [redis-port]
 *
 * Without a port it starts its own redis-server (REDIS_SERVER_BIN or the one
 * on PATH) on a free port and stops it. Commands redis-server lacks (Talus
 * extensions) are listed and left to the rows' own description.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { allCommands } from '../src/commands/index.js';
import { startRedisServer, type RedisServer } from '../test/support/redis-server.js';
import { Resp3Connection, plain, type RespValue } from '../test/support/resp-tree.js';
import type { CommandSpec } from '../src/commands/spec.js';

const SPEC_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../src/commands/spec');

/** The elements of an array or set reply (COMMAND INFO sends its lists as RESP3 sets). */
function items(v: RespValue): RespValue[] {
  if (Array.isArray(v)) return v;
  if (v !== null && typeof v === 'object' && 'set' in v) return v.set;
  throw new Error(`not a list: ${JSON.stringify(v)}`);
}

function specOf(info: RespValue, docs: Record<string, unknown>, implementedSubs: Set<string>): CommandSpec {
  const [, arity, flags, first, last, step, categories, tips, keySpecs, subs] = info as RespValue[];
  const { subcommands: subDocs, ...ownDocs } = docs as { subcommands?: Record<string, Record<string, unknown>> };
  const spec: CommandSpec = {
    arity: arity as number,
    flags: plain(flags!) as string[],
    first_key: first as number,
    last_key: last as number,
    step: step as number,
    acl_categories: plain(categories!) as string[],
    tips: plain(tips!) as string[],
    key_specs: plain(keySpecs!) as CommandSpec['key_specs'],
    docs: ownDocs as unknown as CommandSpec['docs'],
  };
  const subcommands: Record<string, CommandSpec> = {};
  // by name: Redis lists them in its hash table's order, which changes from one process to the next
  const byName = (items(subs!) as RespValue[][]).sort((a, b) => (a[0] as string).localeCompare(b[0] as string));
  for (const sub of byName) {
    const fullName = sub[0] as string;
    if (!implementedSubs.has(fullName)) continue;
    subcommands[fullName.split('|')[1]!] = specOf(sub, subDocs![fullName]!, new Set());
  }
  if (Object.keys(subcommands).length > 0) spec.subcommands = subcommands;
  return spec;
}

async function main(): Promise<void> {
  const givenPort = process.argv[2] ? Number(process.argv[2]) : undefined;
  const server: RedisServer | undefined = givenPort ? undefined : await startRedisServer();
  const conn = await Resp3Connection.open(givenPort ?? server!.port);
  try {
    const byGroup = new Map<string, Record<string, CommandSpec>>();
    const extensions: string[] = [];
    for (const def of [...allCommands].sort((a, b) => a.name.localeCompare(b.name))) {
      const name = def.name.toLowerCase();
      const [info] = (await conn.call(['COMMAND', 'INFO', name])) as RespValue[];
      if (info === null) {
        extensions.push(name);
        continue;
      }
      const docs = plain(await conn.call(['COMMAND', 'DOCS', name])) as Record<string, Record<string, unknown>>;
      const subs = new Set((def.subcommands ?? []).map((s) => `${name}|${s.name.toLowerCase()}`));
      const spec = specOf(info!, docs[name]!, subs);
      const redisSubs = new Set((items((info as RespValue[])[9]!) as RespValue[][]).map((s) => s[0] as string));
      for (const s of subs) if (!redisSubs.has(s)) extensions.push(s);
      const group = spec.docs.group;
      if (!byGroup.has(group)) byGroup.set(group, {});
      byGroup.get(group)![name] = spec;
    }
    fs.mkdirSync(SPEC_DIR, { recursive: true });
    for (const f of fs.readdirSync(SPEC_DIR)) if (f.endsWith('.json')) fs.unlinkSync(path.join(SPEC_DIR, f));
    for (const [group, specs] of [...byGroup].sort()) {
      fs.writeFileSync(path.join(SPEC_DIR, `${group}.json`), `${JSON.stringify(specs, null, 1)}\n`);
      console.log(`${group}.json: ${Object.keys(specs).length} commands`);
    }
    console.log(`not in redis-server (Talus extensions): ${extensions.join(', ') || 'none'}`);
  } finally {
    conn.close();
    await server?.stop();
  }
}

await main();
