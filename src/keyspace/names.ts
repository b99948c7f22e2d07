/**
 * Key names in the keyspace are latin1 strings of the request's bytes (one
 * character per byte). A command converts its key several times: when the
 * executor plans it, when the handler looks it up, when it reports the
 * change. The last conversion is remembered by Buffer identity, so those are
 * one string, and V8 hashes it once for all the Map lookups.
 *
 * A request's argument Buffers are never rewritten (protocol/parser.ts); the
 * executor forgets the memo before each command all the same, so a Buffer
 * that some command rewrites in place cannot be named by a stale string.
 */
let lastBuffer: Buffer | undefined;
let lastName = '';

export function keyName(key: Buffer): string {
  if (key === lastBuffer) return lastName;
  lastName = key.toString('latin1');
  lastBuffer = key;
  return lastName;
}

/** Drop the remembered conversion (the executor, before each command). */
export function forgetKeyName(): void {
  lastBuffer = undefined;
}
