import { expect } from 'chai';
import { BloomFilter } from '../../src/util/bloom-filter.js';
import { NameFilter } from '../../src/keyspace/name-filter.js';

/** The filters behind "names known absent": never a false negative, about the false positives they were sized for. */

/** names as redis-benchmark makes them, and some binary ones */
function names(n: number, prefix = 'key:'): string[] {
  return Array.from({ length: n }, (_, i) => `${prefix}${String(i).padStart(12, '0')}`);
}

describe('BloomFilter', () => {
  it('holds every name added, and rules out about 1% of the others', () => {
    const f = new BloomFilter(50_000, 0.01);
    for (const n of names(50_000)) f.add(n);
    for (const n of names(50_000)) expect(f.has(n), n).to.equal(true);
    let falsePositives = 0;
    for (const n of names(100_000, 'other:')) if (f.has(n)) falsePositives++;
    expect(falsePositives / 100_000).to.be.below(0.02);
    expect(f.count).to.be.within(49_000, 50_000);
    // ~9.6 bits per name
    expect(f.bytes).to.be.within(59_000, 61_000);
  });

  it('hashes a latin1 string and its bytes alike', () => {
    const f = new BloomFilter(1000, 0.01);
    const bytes = [Buffer.from([0, 1, 0xff, 0x80, 0x7f]), Buffer.from('caf\xe9', 'latin1'), Buffer.alloc(0), Buffer.alloc(3000, 0xab)];
    for (const b of bytes) f.addBytes(b);
    for (const b of bytes) expect(f.has(b.toString('latin1'))).to.equal(true);
    const g = new BloomFilter(1000, 0.01);
    for (const b of bytes) g.add(b.toString('latin1'));
    for (const b of bytes) expect(g.hasBytes(b)).to.equal(true);
  });

  it('add tells whether the name was new', () => {
    const f = new BloomFilter(100, 0.01);
    expect(f.add('a')).to.equal(true);
    expect(f.add('a')).to.equal(false);
    expect(f.count).to.equal(1);
  });
});

describe('NameFilter', () => {
  it('grows by layers past the names it was sized for, holding every name', () => {
    const f = NameFilter.create(1000, 1 << 20, true)!;
    const all = names(40_000);
    for (const n of all) expect(f.add(n)).to.equal(true);
    expect(f.layerCount).to.be.above(1);
    for (const n of all) expect(f.mayHold(n), n).to.equal(true);
    let falsePositives = 0;
    for (const n of names(50_000, 'absent:')) if (f.mayHold(n)) falsePositives++;
    // each layer half as many as the one before: under twice the first's rate in all
    expect(falsePositives / 50_000).to.be.below(0.02);
  });

  it('answers false once it would outgrow its bound, and is not made when the first layer does not fit', () => {
    const f = NameFilter.create(0, 8 << 10, true)!;
    let added = 0;
    for (const n of names(100_000)) {
      if (!f.add(n)) break;
      added++;
    }
    expect(added).to.be.above(1000).and.below(100_000);
    expect(f.bytes).to.be.at.most(8 << 10);
    expect(NameFilter.create(1_000_000, 1 << 20, false)).to.equal(undefined);
  });
});
