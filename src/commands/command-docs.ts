/**
 * COMMAND INFO and COMMAND DOCS entries built from a command's spec data
 * (src/commands/spec.ts) with the RESP3 types Redis 7.0 uses: flags and ACL
 * categories are sets of status strings, tips / key specs / subcommands /
 * history are sets, docs and key specs are maps, everything else bulk
 * strings and integers (a container's subcommand entries are an array).
 */
import { MapReply, SetReply, SimpleString, type Reply } from '../protocol/reply.js';
import type { ArgumentData, CommandSpec, KeySpecData } from './spec.js';

const bulk = (s: string) => Buffer.from(s);
const statusSet = (items: string[]) => new SetReply(items.map((s) => new SimpleString(s)));

/** Plain JSON as a reply: strings bulk, numbers integers, lists arrays, objects maps. */
function plainReply(v: unknown): Reply {
  if (typeof v === 'string') return bulk(v);
  if (typeof v === 'number') return v;
  if (Array.isArray(v)) return v.map(plainReply);
  if (v !== null && typeof v === 'object') return mapOf(v as Record<string, unknown>, (_k, x) => plainReply(x));
  return null;
}

function mapOf(obj: Record<string, unknown>, value: (key: string, v: unknown) => Reply): MapReply {
  return new MapReply(Object.entries(obj).map(([k, v]): [Reply, Reply] => [bulk(k), value(k, v)]));
}

function keySpecReply(spec: KeySpecData): Reply {
  return mapOf(spec as unknown as Record<string, unknown>, (k, v) => (k === 'flags' ? statusSet(v as string[]) : plainReply(v)));
}

function argumentReply(arg: ArgumentData): Reply {
  return mapOf(arg, (k, v) => {
    if (k === 'flags') return statusSet(v as string[]);
    if (k === 'arguments') return (v as ArgumentData[]).map(argumentReply);
    return plainReply(v);
  });
}

/** One COMMAND INFO entry; `subs` are the entries of the subcommands Talus serves. */
export function infoFromSpec(fullName: string, spec: CommandSpec, subs: Reply[]): Reply {
  return [
    bulk(fullName),
    spec.arity,
    statusSet(spec.flags),
    spec.first_key,
    spec.last_key,
    spec.step,
    statusSet(spec.acl_categories),
    new SetReply(spec.tips.map(bulk)),
    new SetReply(spec.key_specs.map(keySpecReply)),
    // Redis 7.0 sends a container's subcommands as an array, a command's none as an empty set
    subs.length > 0 ? subs : new SetReply([]),
  ];
}

/** One COMMAND DOCS entry (the map under the command's name); `subs` by full name. */
export function docsFromSpec(spec: CommandSpec, subs: Array<[string, Reply]>): Reply {
  const docs = mapOf(spec.docs, (k, v) => {
    if (k === 'doc_flags') return statusSet(v as string[]);
    if (k === 'history') return new SetReply((v as string[][]).map(plainReply));
    if (k === 'arguments') return (v as ArgumentData[]).map(argumentReply);
    return plainReply(v);
  });
  if (subs.length > 0) {
    docs.entries.push([bulk('subcommands'), new MapReply(subs.map(([name, sub]): [Reply, Reply] => [bulk(name), sub]))]);
  }
  return docs;
}
