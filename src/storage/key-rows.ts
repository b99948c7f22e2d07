import { ArrayEncoder, REFERENCED_ELEMENT_BYTES } from './binary-array.js';
import { MAX_STATEMENT_BYTES, type FlushBatch } from './batch.js';
import { expireDue } from './expire-due.js';
import { insertKeys, upsertKeys } from './writes.js';
import type { Entry } from '../keyspace/types.js';
import type { ArrayWrite } from './batch.js';

/**
 * The key rows (talus.keys) of a commit's entries with short names, encoded
 * straight from the entries into the statement's binary arrays: a commit
 * stages one row per dirty key, and going through FlushBatch.add cost seven
 * array pushes per row (a number boxed for each key id), then an array of
 * sizes per column, all of it live until the statement was built
 * (docs/benchmarks.md, "Session 15"). Rows are encoded when staged, in the
 * same synchronous step as the entries were taken, so they show the entries
 * as they were then.
 */
export class KeyRows {
  /** plain inserts (Entry.rowless) and upserts, each with its row's length and value columns */
  private readonly inserts = new RowList(insertKeys);
  private readonly upserts = new RowList(upsertKeys);

  add(e: Entry, insert: boolean, length: number, value: Buffer | null): void {
    (insert ? this.inserts : this.upserts).add(e, length, value);
  }

  /** Hand the rows to `batch`. */
  stage(batch: FlushBatch): void {
    this.inserts.stage(batch);
    this.upserts.stage(batch);
  }
}

class RowList {
  private readonly entries: Entry[] = [];
  private readonly lengths: number[] = [];
  private readonly values: Array<Buffer | null> = [];

  constructor(private readonly write: ArrayWrite) {}

  add(e: Entry, length: number, value: Buffer | null): void {
    this.entries.push(e);
    this.lengths.push(length);
    this.values.push(value);
  }

  stage(batch: FlushBatch): void {
    const { entries, lengths, values, write } = this;
    const n = entries.length;
    if (n === 0) return;
    let keyBytes = 0;
    let typeBytes = 0;
    let valueBytes = 0;
    let expiring = 0;
    let bigValue = false;
    const now = Date.now();
    for (let i = 0; i < n; i++) {
      const e = entries[i]!;
      keyBytes += e.name.length;
      typeBytes += e.type!.length;
      const bytes = values[i]?.length ?? 0;
      valueBytes += bytes;
      if (bytes >= REFERENCED_ELEMENT_BYTES) bigValue = true;
      if (e.expireAt !== 0) expiring++;
    }
    if (bigValue || keyBytes + valueBytes > MAX_STATEMENT_BYTES / 2) {
      // big values: rows FlushBatch references rather than copies (encodeByteaArrayChunked)
      // and can slice into statements of a bounded size
      for (let i = 0; i < n; i++) {
        const e = entries[i]!;
        const [at, due] = e.expireAt === 0 ? [null, null] : [e.expireAt, expireDue(e.expireAt, now)];
        batch.add(write, e.db, e.name, e.keyId, e.type, at, due, lengths[i], values[i]);
      }
      return;
    }
    const db = new ArrayEncoder('smallint[]', n, 2 * n);
    const key = new ArrayEncoder('bytea[]', n, keyBytes);
    const id = new ArrayEncoder('bigint[]', n, 8 * n);
    const type = new ArrayEncoder('text[]', n, typeBytes);
    const expireAt = new ArrayEncoder('bigint[]', n, 8 * expiring);
    const due = new ArrayEncoder('bigint[]', n, 8 * expiring);
    const length = new ArrayEncoder('bigint[]', n, 8 * n);
    const value = new ArrayEncoder('bytea[]', n, valueBytes);
    for (let i = 0; i < n; i++) {
      const e = entries[i]!;
      db.int2(e.db);
      key.bytes(e.name);
      id.int8(e.keyId);
      type.bytes(e.type!); // type names are ASCII: their latin1 bytes are their UTF-8
      if (e.expireAt === 0) {
        expireAt.null();
        due.null();
      } else {
        expireAt.int8(e.expireAt);
        due.int8(expireDue(e.expireAt, now));
      }
      length.int8(lengths[i]!);
      const v = values[i]!;
      if (v === null) value.null();
      else value.bytes(v);
    }
    batch.addEncoded(write, [db.done(), key.done(), id.done(), type.done(), expireAt.done(), due.done(), length.done(), value.done()]);
  }
}
