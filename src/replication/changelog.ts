/** One mutation as an effect: a command that reproduces it (absolute times, final values). */
export interface ChangeRecord {
  seq: number;
  db: number;
  at: number;
  /** the effect encoded as a RESP array of bulk strings */
  effect: Buffer;
}

/**
 * The change log's in-memory tail. Every mutation appends its effect with the
 * next sequence number; the flusher takes the records not yet committed and
 * writes them in the same transaction as the data they describe, so the
 * committed log and the committed data never disagree. The sequence number is
 * the replication offset.
 */
export class Changelog {
  /** last sequence number handed out */
  seq: number;
  private pending: ChangeRecord[] = [];
  private readonly listeners = new Set<(r: ChangeRecord) => void>();

  constructor(lastSeq: number) {
    this.seq = lastSeq;
  }

  append(db: number, args: Array<Buffer | string>): number {
    const rec: ChangeRecord = { seq: ++this.seq, db, at: Date.now(), effect: encodeEffect(args) };
    this.pending.push(rec);
    for (const l of this.listeners) l(rec);
    return rec.seq;
  }

  /** Records not yet handed to the flusher, oldest first. */
  take(): ChangeRecord[] {
    const out = this.pending;
    this.pending = [];
    return out;
  }

  /** Give records back after a failed commit, ahead of newer ones. */
  restore(records: ChangeRecord[]): void {
    this.pending = records.concat(this.pending);
  }

  /** Observe appends (replication feeds, MONITOR-like tools). */
  subscribe(listener: (r: ChangeRecord) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}

export function encodeEffect(args: Array<Buffer | string>): Buffer {
  const parts: Buffer[] = [Buffer.from(`*${args.length}\r\n`)];
  for (const a of args) {
    const b = typeof a === 'string' ? Buffer.from(a) : a;
    parts.push(Buffer.from(`$${b.length}\r\n`), b, CRLF);
  }
  return Buffer.concat(parts);
}

const CRLF = Buffer.from('\r\n');
