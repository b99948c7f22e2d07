import { expect } from 'chai';
import { Changelog, decodeEffect, encodeEffect } from '../../src/replication/changelog.js';

/** The pending records as [seq, db, effect arguments joined by spaces]. */
function shown(log: Changelog): Array<[number, number, string]> {
  return log.take().records.map((r) => [r.seq, r.db, decodeEffect(r.effect).map((a) => a.toString('latin1')).join(' ')]);
}

describe('the change log tail (Changelog)', () => {
  it('hands out consecutive seqs and takes the pending records as one segment of them', () => {
    const log = new Changelog(41);
    expect(log.append(0, ['SET', 'k', Buffer.from([0, 13, 10, 255])])).to.equal(42);
    expect(log.append(3, encodeEffect(['DEL', 'k']))).to.equal(43);
    const bigger = 'x'.repeat(40_000); // past the first buffer: it grows
    expect(log.append(1, ['SET', 'big', bigger])).to.equal(44);
    expect(log.pendingBytes).to.be.above(40_000);
    const taken = log.take();
    expect([taken.firstSeq, taken.lastSeq, taken.count, taken.bytes.length]).to.deep.equal([42, 44, 3, taken.bytes.length]);
    expect(taken.records.map((r) => [r.seq, r.db])).to.deep.equal([[42, 0], [43, 3], [44, 1]]);
    expect(taken.records[0]!.effect.equals(encodeEffect(['SET', 'k', Buffer.from([0, 13, 10, 255])]))).to.equal(true);
    expect(decodeEffect(taken.records[2]!.effect)[2]!.toString()).to.equal(bigger);
    expect(taken.lastAt).to.equal(taken.records[2]!.at);
    expect(Math.abs(taken.lastAt - Date.now())).to.be.below(5000);
    expect(log.pendingBytes).to.equal(0);
    // nothing pending: an empty segment after the last seq
    const none = log.take();
    expect([none.firstSeq, none.lastSeq, none.count, none.bytes.length]).to.deep.equal([45, 44, 0, 0]);
  });

  it('gives taken records back ahead of newer ones after a failed commit', () => {
    const log = new Changelog(0);
    log.append(0, ['SET', 'a', '1']);
    log.append(0, ['SET', 'b', '2']);
    const taken = log.take();
    log.append(2, ['SET', 'c', '3']);
    log.restore(taken);
    expect(shown(log)).to.deep.equal([[1, 0, 'SET a 1'], [2, 0, 'SET b 2'], [3, 2, 'SET c 3']]);
  });

  it('wraps the records since a mark in MULTI ... EXEC, renumbering them', () => {
    const log = new Changelog(9);
    log.append(0, ['SET', 'before', '1']);
    const mark = log.mark();
    log.append(5, ['SET', 'a', '1']);
    log.append(6, ['SET', 'b', '2']);
    expect(log.wrap(mark, ['MULTI'], encodeEffect(['EXEC']))).to.equal(true);
    expect(log.seq).to.equal(14);
    expect(shown(log)).to.deep.equal([[10, 0, 'SET before 1'], [11, 5, 'MULTI'], [12, 5, 'SET a 1'], [13, 6, 'SET b 2'], [14, 6, 'EXEC']]);
  });

  it('wraps after a commit that took nothing (a script forcing one before its first write)', () => {
    const log = new Changelog(0);
    const mark = log.mark();
    log.take();
    log.append(0, ['SET', 'a', '1']);
    log.append(0, ['SET', 'b', '2']);
    expect(log.wrap(mark, ['MULTI'], ['EXEC'])).to.equal(true);
    expect(shown(log).map((r) => r[2])).to.deep.equal(['MULTI', 'SET a 1', 'SET b 2', 'EXEC']);
  });

  it('does not wrap records a commit has taken since the mark', () => {
    const log = new Changelog(0);
    const mark = log.mark();
    log.append(0, ['SET', 'a', '1']);
    log.take();
    log.append(0, ['SET', 'b', '2']);
    expect(log.wrap(mark, ['MULTI'], ['EXEC'])).to.equal(false);
    expect(shown(log)).to.deep.equal([[2, 0, 'SET b 2']]);
  });

  it('writes a number argument as the text String() gives it', () => {
    for (const n of [0, 7, -1, 2_147_483_648, 100_000_000_000, 1_000_000_000_000_007, 1_765_000_000_123, -9_007_199_254_740_991, 9_007_199_254_740_991, 2 ** 63 - 1024, 1.5]) {
      expect(encodeEffect(['SET', 'k', 'v', 'PXAT', n]).equals(encodeEffect(['SET', 'k', 'v', 'PXAT', String(n)])), String(n)).to.equal(true);
    }
    const log = new Changelog(0);
    log.append(0, ['PEXPIREAT', 'k', 1_765_000_000_123]);
    expect(shown(log)).to.deep.equal([[1, 0, 'PEXPIREAT k 1765000000123']]);
  });
});
