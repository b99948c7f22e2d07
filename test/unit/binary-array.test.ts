import { expect } from 'chai';
import { ArrayEncoder, encodeArray } from '../../src/storage/binary-array.js';

describe('binary arrays (storage/binary-array.ts)', () => {
  it('ArrayEncoder writes element by element what encodeArray writes from a column of values', () => {
    const ids = [1, -2, 2 ** 40 + 7, -(2 ** 52)];
    const ints = new ArrayEncoder('bigint[]', ids.length, 8 * ids.length);
    for (const n of ids) ints.int8(n);
    expect(ints.done().equals(encodeArray('bigint[]', ids))).to.equal(true);

    const dbs = [0, 15, -1];
    const small = new ArrayEncoder('smallint[]', dbs.length, 2 * dbs.length);
    for (const n of dbs) small.int2(n);
    expect(small.done().equals(encodeArray('smallint[]', dbs))).to.equal(true);

    // latin1 names (one char per byte, past ASCII too), Buffers and NULLs
    const names = ['k', '\u00ff\u0000\u0080x', 'x'.repeat(40), Buffer.from([1, 2, 3]), null, Buffer.alloc(0)];
    const bytes = new ArrayEncoder('bytea[]', names.length, 1 + 4 + 40 + 3 + 0 + 0);
    for (const v of names) (v === null ? bytes.null() : bytes.bytes(v));
    const asBuffers = names.map((v) => (typeof v === 'string' ? Buffer.from(v, 'latin1') : v));
    expect(bytes.done().equals(encodeArray('bytea[]', asBuffers))).to.equal(true);
  });

  it('refuses an array whose elements did not fill what was sized', () => {
    const a = new ArrayEncoder('bigint[]', 2, 16);
    a.int8(1);
    expect(() => a.done()).to.throw(/encoded/);
  });
});
