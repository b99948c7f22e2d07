import { expect } from 'chai';
import { BigReads, BIG_READ_MIN, type BigReader } from '../../src/server/big-reads.js';
import { encodeArray, encodeByteaArrayChunked, REFERENCED_ELEMENT_BYTES } from '../../src/storage/binary-array.js';

const MB = 1 << 20;

class Reader implements BigReader {
  queryBytes = 0;
  awaitedBytes = 0;
  held = false;
  holdForBigReads(held: boolean): void {
    this.held = held;
  }
}

describe('big requests read at once (BigReads)', () => {
  it('past the budget holds every reader but the first, and lets them go once it has run its request', () => {
    const reads = new BigReads(16 * MB);
    const [a, b, c] = [new Reader(), new Reader(), new Reader()];
    a.queryBytes = 10 * MB;
    expect(reads.update(a)).to.equal(true);
    b.queryBytes = 4 * MB;
    reads.update(b);
    expect([a.held, b.held]).to.deep.equal([false, false]);
    c.queryBytes = 4 * MB; // 18 MB: past the budget
    reads.update(c);
    expect([a.held, b.held, c.held]).to.deep.equal([false, false, true]);
    b.queryBytes = 6 * MB; // a reader that is not first grows past the budget: held too
    reads.update(b);
    expect(b.held).to.equal(true);
    a.queryBytes = 20 * MB; // the first goes on whatever its size
    reads.update(a);
    expect(a.held).to.equal(false);
    expect(reads.heldCount).to.equal(2);
    a.queryBytes = 0; // it ran its request: under the budget again, the others read on
    expect(reads.update(a)).to.equal(false);
    expect([b.held, c.held]).to.deep.equal([false, false]);
    expect(reads.bytes).to.equal(10 * MB);
  });

  it('when the first leaves and the rest is still past the budget, only the next in order reads', () => {
    const reads = new BigReads(8 * MB);
    const [a, b, c] = [new Reader(), new Reader(), new Reader()];
    for (const r of [a, b, c]) {
      r.queryBytes = 6 * MB;
      reads.update(r);
    }
    expect([a.held, b.held, c.held]).to.deep.equal([false, true, true]);
    a.queryBytes = 0;
    reads.update(a);
    expect([b.held, c.held]).to.deep.equal([false, true]);
    reads.remove(b); // closed
    expect(c.held).to.equal(false);
  });

  it('small requests take no part, and a reader idle for 5 s stops counting until it sends more', () => {
    const reads = new BigReads(8 * MB);
    const [small, stuck, other] = [new Reader(), new Reader(), new Reader()];
    small.queryBytes = BIG_READ_MIN - 1;
    expect(reads.update(small)).to.equal(false);
    stuck.queryBytes = 6 * MB;
    reads.update(stuck, 1_000);
    other.queryBytes = 6 * MB;
    reads.update(other, 1_000);
    expect(other.held).to.equal(true);
    reads.tick(4_000);
    expect(other.held).to.equal(true);
    reads.tick(6_001); // `stuck` neither grew nor ran: the held reader goes on
    expect(other.held).to.equal(false);
    expect(reads.bytes).to.equal(6 * MB);
    reads.update(stuck, 6_500); // unchanged: still idle
    expect(reads.bytes).to.equal(6 * MB);
    stuck.queryBytes = 7 * MB; // sends again: counted, behind `other`, and held
    reads.update(stuck, 7_000);
    expect(stuck.held).to.equal(true);
  });
});

describe('big requests counted by what they declare (BigReads)', () => {
  it('a request counts for its whole big argument as soon as its length is read, and one that is sending is not idle', () => {
    const reads = new BigReads(16 * MB);
    const [a, b] = [new Reader(), new Reader()];
    // a 16 MB argument, 64 KB of it in: it counts for 16 MB
    a.queryBytes = 64 * 1024;
    a.awaitedBytes = 16 * MB - 64 * 1024;
    expect(reads.update(a, 0)).to.equal(true);
    expect(reads.bytes).to.equal(16 * MB);
    // the next one is held after its first chunk, not once it holds 1 MB
    b.queryBytes = 64 * 1024;
    b.awaitedBytes = 16 * MB - 64 * 1024;
    reads.update(b, 0);
    expect(b.held).to.equal(true);
    // `a` goes on sending: its total is unchanged, but it is not idle
    for (let t = 1_000; t <= 10_000; t += 1_000) {
      a.queryBytes += MB;
      a.awaitedBytes -= MB;
      reads.update(a, t);
      reads.tick(t);
    }
    expect(b.held, 'held while the first sends').to.equal(true);
    a.queryBytes = 0; // ran
    a.awaitedBytes = 0;
    reads.update(a, 10_500);
    expect(b.held).to.equal(false);
  });
});

describe('bytea arrays in pieces (encodeByteaArrayChunked)', () => {
  it('gives the bytes encodeArray gives, referencing big elements instead of copying them', () => {
    const big = Buffer.alloc(REFERENCED_ELEMENT_BYTES + 5, 7);
    const values = [Buffer.from('a'), null, big, Buffer.alloc(0), Buffer.alloc(REFERENCED_ELEMENT_BYTES - 1, 1), big];
    const chunked = encodeByteaArrayChunked(values);
    const whole = encodeArray('bytea[]', values);
    expect(Buffer.concat(chunked.chunks as Buffer[]).equals(whole)).to.equal(true);
    expect(chunked.length).to.equal(whole.length);
    expect(chunked.chunks.filter((c) => c === big)).to.have.length(2);
  });
});
