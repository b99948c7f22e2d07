import { randomBytes } from 'node:crypto';

/** What is persisted of a history (talus.replication, migrations/0013). */
export interface HistoryState {
  replid: string;
  replid2: string;
  secondOffset: number;
  delta: number;
  start: number;
}

export const NO_REPLID = '0'.repeat(40);

export const newReplid = (): string => randomBytes(20).toString('hex');

/**
 * This server's replication history, as Redis's PSYNC2 ids (docs/replication.md):
 * `replid` names it, and its offsets are the leader's offsets, shared by every
 * server of a replication group. A follower logs each leader record it applies
 * as exactly one record of its own change log (Keyspace.beginRelay), so its own
 * sequence numbers and the history's offsets differ by a constant `delta`
 * (own seq = offset + delta) from `start` (the first own record of the
 * history; a full sync's snapshot commands come before it). A promoted
 * follower thus holds the old leader's records under the old leader's offsets
 * and serves partial syncs to the other followers: `replid2` is the history
 * it branched from, valid up to `secondOffset`.
 */
export class ReplicationHistory implements HistoryState {
  replid: string;
  replid2: string;
  secondOffset: number;
  delta: number;
  start: number;
  /** changed since the flusher last took it (it commits it with the records it covers) */
  changed = false;

  constructor(s: HistoryState) {
    this.replid = s.replid;
    this.replid2 = s.replid2;
    this.secondOffset = s.secondOffset;
    this.delta = s.delta;
    this.start = s.start;
  }

  offsetOf(seq: number): number {
    return seq - this.delta;
  }

  seqOf(offset: number): number {
    return offset + this.delta;
  }

  /** PSYNC replid next: whether `next` (the follower's next offset) continues this history or the one it branched from. */
  continues(replid: string, next: number): boolean {
    if (replid === this.replid) return true;
    return replid !== NO_REPLID && replid === this.replid2 && next <= this.secondOffset;
  }

  /** A new history branching after own record `seq` (promotion, DEBUG CHANGE-REPL-ID, a leader's new id at +CONTINUE). */
  shift(seq: number, replid = newReplid()): void {
    this.replid2 = this.replid;
    this.secondOffset = this.offsetOf(seq) + 1;
    this.replid = replid;
    this.changed = true;
  }

  /** A full sync of history `replid` at `offset` is loaded; own records up to `seq` are not that history's. */
  reset(replid: string, offset: number, seq: number): void {
    this.replid = replid;
    this.replid2 = NO_REPLID;
    this.secondOffset = -1;
    this.delta = seq - offset;
    this.start = seq + 1;
    this.changed = true;
  }

  /**
   * Own record `seq` is history offset `offset`; if that breaks the constant
   * difference (a local write on a writable follower, or a bug), the history
   * restarts after it: earlier offsets are no longer served from here.
   */
  align(seq: number, offset: number): boolean {
    if (seq - offset === this.delta) return true;
    this.delta = seq - offset;
    this.start = seq + 1;
    this.changed = true;
    return false;
  }

  /** The state to commit, if it changed. */
  take(): HistoryState | undefined {
    if (!this.changed) return undefined;
    this.changed = false;
    return { replid: this.replid, replid2: this.replid2, secondOffset: this.secondOffset, delta: this.delta, start: this.start };
  }
}
