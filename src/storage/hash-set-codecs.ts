import { memberCodec } from './member-codec.js';
import { registerCodec } from './codecs.js';
import { HashValue } from '../keyspace/values/hash.js';
import { SetValue } from '../keyspace/values/set.js';

/** Hashes (talus.hashes: field, value) and sets (talus.sets: member), one row per member. */

export const hashCodec = memberCodec<HashValue>({
  type: 'hash',
  table: 'talus.hashes',
  memberColumn: 'field',
  payload: [['value', 'bytea']],
  get: (v, f) => v.fields.get(f),
  entries: (v) => v.fields,
  empty: () => {
    const v = new HashValue();
    v.changes.fresh = false;
    return v;
  },
  addRow: (v, f, [val]) => v.loadRow(f, val as Buffer),
  length: (v) => v.size,
  sizeOf: (v) => v.bytes + (v.pages?.absentBytes ?? 0),
  clone: (v) => v.clone(),
  knows: (v, m) => v.knows(m),
});

registerCodec(hashCodec);

export const setCodec = memberCodec<SetValue>({
  type: 'set',
  table: 'talus.sets',
  memberColumn: 'member',
  payload: [],
  get: (v, m) => (v.members.has(m) ? null : undefined),
  entries: function* (v) {
    for (const m of v.members) yield [m, null];
  },
  empty: () => {
    const v = new SetValue();
    v.changes.fresh = false;
    return v;
  },
  addRow: (v, m) => v.loadRow(m),
  length: (v) => v.size,
  sizeOf: (v) => v.bytes + (v.pages?.absentBytes ?? 0),
  clone: (v) => v.clone(),
  knows: (v, m) => v.knows(m),
});

registerCodec(setCodec);
