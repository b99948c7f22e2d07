import { expect } from 'chai';
import { expireDue, windowFor } from '../../src/storage/expire-due.js';

describe('expire_due (storage/expire-due.ts)', () => {
  const now = 1_795_575_000_000;

  it('is never before the key expires, and at most a 32nd of its TTL or 65,536 ms after', () => {
    for (const ttl of [-5, 0, 1, 63, 64, 65, 100, 1000, 4095, 4096, 60_000, 3_600_000, 86_400_000, 2 ** 40, 2 ** 45 - 1]) {
      for (const skew of [0, 1, 777, 65_535]) {
        const at = now + ttl + skew;
        const due = expireDue(at, now);
        expect(due, `ttl ${ttl}`).to.be.at.least(at);
        expect(due - at, `ttl ${ttl}`).to.be.below(Math.max(1, Math.min(Math.max(ttl + skew, 0) / 32, 65_536)));
        expect(Number.isSafeInteger(due)).to.equal(true);
      }
    }
  });

  it('stays the same when a TTL is refreshed within its window', () => {
    // an hour's TTL set again every second: one change of expire_due in 65 refreshes at most
    let changes = 0;
    let last = expireDue(now + 3_600_000, now);
    for (let t = 1000; t <= 65_000; t += 1000) {
      const due = expireDue(now + t + 3_600_000, now + t);
      if (due !== last) changes++;
      last = due;
    }
    expect(changes).to.be.at.most(1);
  });

  it('windows are powers of two from 1 ms (TTLs under 64 ms) to 65,536 ms', () => {
    expect(windowFor(-1)).to.equal(1);
    expect(windowFor(63)).to.equal(1);
    expect(windowFor(64)).to.equal(2);
    expect(windowFor(4096)).to.equal(128);
    expect(windowFor(2 ** 21 - 1)).to.equal(2 ** 15);
    expect(windowFor(2 ** 21)).to.equal(2 ** 16);
    expect(windowFor(2 ** 50)).to.equal(2 ** 16);
  });

  it('keeps times past 2^52 exact', () => {
    expect(expireDue(2 ** 52 + 3, now)).to.equal(2 ** 52 + 3);
  });
});
