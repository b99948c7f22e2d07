/**
 * MIGRATE host port key|"" destination-db timeout [COPY] [REPLACE]
 * [AUTH password] [AUTH2 username password] [KEYS key ...]: moves keys to
 * another server (redis-server or Talus) with DUMP payloads (dump.ts) sent
 * as RESTOREs with each key's remaining TTL, then deletes the keys the
 * target restored unless COPY.
 *
 * Redis does it all inside one command call, blocking its whole server.
 * Here the handler does what needs the keys (lookups, payloads, TTLs), hands
 * the transfer to the server's MIGRATE client (server/migration.ts, reached
 * through the context) and suspends (execution/suspension.ts): its keys stay
 * claimed while the target answers, so no other command sees or changes
 * them half way, and the deletions afterwards are ordinary mutations at the
 * seam (`del` events, DEL effects in the change log, as Redis propagates
 * MIGRATE as DEL of the keys it moved). Other keys are served meanwhile.
 */
import type { CommandDef } from './table.js';
import type { CommandContext, MigrateKey, MigrateResult } from '../execution/context.js';
import type { Entry } from '../keyspace/types.js';
import { ErrorReply, OK, SimpleString, type Reply } from '../protocol/reply.js';
import { Errors } from './errors.js';
import { int64Arg, keyword } from './args.js';
import { changed, lookupRead } from './keyaccess.js';
import { dumpValue } from './dump.js';
import { Suspended } from '../execution/suspension.js';

const NOKEY = new SimpleString('NOKEY');

/**
 * Where the keys are, as Redis's own key finder for MIGRATE says (COMMAND
 * GETKEYS too, spec-keys.ts): the key argument, or everything after KEYS
 * when the key argument is ""; none when KEYS comes with a key argument.
 */
function keyPositions(args: Buffer[]): number[] {
  for (let j = 6; j < args.length; j++) {
    const o = keyword(args[j]!);
    if (o === 'AUTH') j++;
    else if (o === 'AUTH2') j += 2;
    else if (o === 'KEYS') {
      if (args[3]!.length !== 0) return [];
      const out: number[] = [];
      for (let i = j + 1; i < args.length; i++) out.push(i);
      return out;
    }
  }
  return [3];
}

function migrate(c: CommandContext, args: Buffer[]): Reply {
  let copy = false;
  let replace = false;
  let username: Buffer | undefined;
  let password: Buffer | undefined;
  let keyArgs = [args[3]!];
  for (let j = 6; j < args.length; j++) {
    const more = args.length - j - 1;
    const o = keyword(args[j]!);
    if (o === 'COPY') copy = true;
    else if (o === 'REPLACE') replace = true;
    else if (o === 'AUTH') {
      if (more < 1) return Errors.syntax();
      password = args[++j]!;
    } else if (o === 'AUTH2') {
      if (more < 2) return Errors.syntax();
      username = args[++j]!;
      password = args[++j]!;
    } else if (o === 'KEYS') {
      if (args[3]!.length !== 0) return new ErrorReply('ERR When using MIGRATE KEYS option, the key argument must be set to the empty string');
      keyArgs = args.slice(j + 1);
      break;
    } else return Errors.syntax();
  }
  let timeoutMs = Number(int64Arg(args[5]!));
  const db = Number(int64Arg(args[4]!));
  if (timeoutMs <= 0) timeoutMs = 1000;

  const now = Date.now();
  const found: Array<{ name: Buffer; entry: Entry }> = [];
  for (const name of keyArgs) {
    const entry = lookupRead(c, name);
    if (entry !== undefined) found.push({ name, entry });
  }
  if (found.length === 0) return NOKEY;
  const keys: MigrateKey[] = found.map(({ name, entry }) => ({
    name,
    // RESTORE's TTL is relative; 0 would mean none, so a key about to expire gets 1 ms
    ttl: entry.expireAt === 0 ? 0 : Math.max(1, entry.expireAt - now),
    payload: dumpValue(entry),
  }));
  const sourceDb = c.session.db;
  const transfer = c.server.migration.migrate({ host: args[1]!.toString(), port: args[2]!.toString(), db, timeoutMs, username, password, replace, keys });
  return new Suspended(transfer, (result: MigrateResult) => {
    if (!copy) {
      const ks = c.keyspace;
      const deleted: Buffer[] = [];
      for (const i of result.restored) {
        const { name, entry } = found[i]!;
        // claimed meanwhile, so normally still this entry; if anything else is there now, it was not moved
        if (ks.lookup(sourceDb, entry.name) !== entry) continue;
        ks.remove(sourceDb, entry);
        deleted.push(name);
      }
      for (let i = 0; i < deleted.length; i++) changed(c, deleted[i]!, 'del', i === 0 ? ['DEL', ...deleted] : undefined, sourceDb.index);
    }
    return result.error === undefined ? OK : new ErrorReply(result.error);
  });
}

export const migrateCommands: CommandDef[] = [
  { name: 'migrate', movableKeys: keyPositions, suspends: true, handler: migrate },
];
