import { memberCodec } from './member-codec.js';
import { registerCodec, type TypeCodec } from './codecs.js';
import { StreamValue } from '../keyspace/values/stream.js';

/**
 * Streams: one row per entry in talus.streams, keyed by (key_id, id) with the
 * ID as 16 bytes (milliseconds and sequence, big-endian: byte order is ID
 * order); the entry's fields and values packed in one bytea (4-byte length
 * before each). The stream's last ID, entries added, greatest deleted ID and
 * its consumer groups (with their pending entries and consumers) are the key
 * row's note, rewritten with the key row at each commit. Streams are loaded
 * whole (no paging).
 */

export function packFields(fields: Buffer[]): Buffer {
  let n = 0;
  for (const f of fields) n += 4 + f.length;
  const out = Buffer.allocUnsafe(n);
  let o = 0;
  for (const f of fields) {
    out.writeUInt32BE(f.length, o);
    f.copy(out, o + 4);
    o += 4 + f.length;
  }
  return out;
}

export function unpackFields(b: Buffer): Buffer[] {
  const out: Buffer[] = [];
  let o = 0;
  while (o < b.length) {
    const len = b.readUInt32BE(o);
    out.push(Buffer.from(b.subarray(o + 4, o + 4 + len)));
    o += 4 + len;
  }
  return out;
}

const base = memberCodec<StreamValue>({
  type: 'stream',
  table: 'talus.streams',
  memberColumn: 'id',
  payload: [['fields', 'bytea']],
  get: (v, id) => {
    const f = v.get(id);
    return f === undefined ? undefined : packFields(f);
  },
  entries: function* (v) {
    for (const id of v.ids) yield [id, packFields(v.get(id)!)];
  },
  empty: () => {
    const v = new StreamValue();
    v.changes.fresh = false;
    return v;
  },
  addRow: (v, id, [fields]) => v.loadRow(id, unpackFields(fields as Buffer)),
  length: (v) => v.size,
  sizeOf: (v) => v.bytes,
  clone: (v) => v.clone(),
  knows: () => true,
});

export const streamCodec: TypeCodec = {
  ...base,
  openPaged: undefined,
  satisfies: undefined,
  fetch: undefined,
  warmUp: undefined,
  rowNote: (v) => (v as StreamValue).encodeNote(),
  readRowNote: (v, note) => (v as StreamValue).decodeNote(note),
};

registerCodec(streamCodec);
