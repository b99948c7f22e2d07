import pg from 'pg';
import type { Redis } from 'ioredis';
import { decodeEffect, decodeSegment, type ChangeRecord } from '../../src/replication/changelog.js';

/**
 * Test tool: read a Talus database's committed change log from PostgreSQL
 * and apply it to another server over RESP (SELECT db, then the effect).
 * Not the follower's apply path: a follower receives the same framing from
 * its leader (src/replication/leader.ts) and runs it through the executor
 * in-process (src/replication/follower.ts).
 */

/** Every committed record, oldest first; throws if sequence numbers have a gap. */
export async function readChangelog(databaseUrl: string): Promise<ChangeRecord[]> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{ first_seq: string; last_seq: string; records: Buffer }>(
      'SELECT first_seq, last_seq, records FROM talus.changelog ORDER BY first_seq',
    );
    const out: ChangeRecord[] = [];
    for (const row of rows) {
      const first = Number(row.first_seq);
      const records = decodeSegment(first, row.records);
      if (records.length !== Number(row.last_seq) - first + 1) {
        throw new Error(`segment ${first}..${row.last_seq} holds ${records.length} records`);
      }
      const expected = out.length > 0 ? out[out.length - 1]!.seq + 1 : first;
      if (first !== expected) throw new Error(`change log gap: segment starts at ${first}, expected ${expected}`);
      out.push(...records);
    }
    return out;
  } finally {
    await client.end();
  }
}

/** The arguments of an effect (src/replication/changelog.ts). */
export const effectArgs = decodeEffect;

export interface ApplyFailure {
  record: ChangeRecord;
  error: string;
}

/**
 * Send each record to `client` (SELECT db first when it changes), in
 * pipelines of `batch`; returns the records the server refused.
 */
export async function applyChangelog(client: Redis, records: readonly ChangeRecord[], batch = 1000): Promise<ApplyFailure[]> {
  const failures: ApplyFailure[] = [];
  let db = -1;
  for (let i = 0; i < records.length; i += batch) {
    const slice = records.slice(i, i + batch);
    const p = client.pipeline();
    const sent: Array<ChangeRecord | undefined> = [];
    for (const r of slice) {
      if (r.db !== db) {
        p.select(r.db);
        sent.push(undefined);
        db = r.db;
      }
      const [name, ...args] = effectArgs(r.effect);
      // upper case: ioredis transforms the replies of some lower-case names
      p.callBuffer(name!.toString('latin1').toUpperCase(), ...args);
      sent.push(r);
    }
    const replies = (await p.exec())!;
    replies.forEach(([err], j) => {
      if (!err) return;
      const record = sent[j];
      if (record === undefined) throw new Error(`SELECT failed: ${err.message}`);
      failures.push({ record, error: err.message });
    });
  }
  return failures;
}

/** An effect as text for messages: arguments quoted, binary escaped, long ones cut. */
export function describeEffect(effect: Buffer): string {
  return effectArgs(effect)
    .map((a) => {
      const s = a.toString('latin1');
      const cut = s.length > 40 ? s.slice(0, 40) : s;
      const esc = cut.replace(/[^\x20-\x7e]/g, (ch) => `\\x${ch.charCodeAt(0).toString(16).padStart(2, '0')}`);
      return s.length > 40 ? `"${esc}..."(${s.length})` : `"${esc}"`;
    })
    .join(' ');
}
