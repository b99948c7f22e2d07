import { createHash } from 'node:crypto';

/**
 * How keys, hash fields and set / sorted-set members of any length fit the
 * btree indexes of their tables (migrations/0009_long_names.sql).
 *
 * PostgreSQL caps a btree entry at 2704 bytes. A name of at most
 * SHORT_NAME_BYTES is its own indexed form, as it always was. A longer name
 * is indexed as its first SHORT_NAME_BYTES bytes followed by its SHA-256
 * digest (LONG_FORM_BYTES in all), and the whole name is kept beside it in
 * an unindexed column. No short name has that length, so the two kinds never
 * collide, and a long form compares with a short name exactly as the whole
 * name does (they differ within the short one's bytes, or the short one is a
 * prefix of both): only long names sharing their first SHORT_NAME_BYTES
 * bytes are ordered by digest in an index, which readers that need byte
 * order sort out (zset windows in keyspace/values/zset.ts).
 */
export const SHORT_NAME_BYTES = 2560;
export const LONG_FORM_BYTES = SHORT_NAME_BYTES + 32;

/** The indexed form of a name (the name itself unless longer than SHORT_NAME_BYTES). */
export function indexedForm(name: Buffer): Buffer {
  if (name.length <= SHORT_NAME_BYTES) return name;
  return Buffer.concat([name.subarray(0, SHORT_NAME_BYTES), createHash('sha256').update(name).digest()], LONG_FORM_BYTES);
}

/** indexedForm of a latin1 name (one char per byte), as a latin1 string. */
export function indexedFormOf(name: string): string {
  if (name.length <= SHORT_NAME_BYTES) return name;
  return indexedForm(Buffer.from(name, 'latin1')).toString('latin1');
}

/** The last indexed form sharing `form`'s first SHORT_NAME_BYTES bytes (the end of a run of long forms). */
export function lastFormWithPrefix(form: Buffer): Buffer {
  return Buffer.concat([form.subarray(0, SHORT_NAME_BYTES), Buffer.alloc(LONG_FORM_BYTES - SHORT_NAME_BYTES, 0xff)]);
}
