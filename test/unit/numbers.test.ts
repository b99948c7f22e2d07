import { expect } from 'chai';
import {
  formatDouble,
  formatInteger,
  formatLongDouble,
  int64Add,
  parseFloatArg,
  parseInteger,
  parseSafeInt,
} from '../../src/util/numbers.js';

const b = (s: string) => Buffer.from(s, 'latin1');

describe('numbers', () => {
  describe('parseInteger (string2ll)', () => {
    it('accepts canonical integers', () => {
      expect(parseInteger(b('0'))).to.equal(0n);
      expect(parseInteger(b('7'))).to.equal(7n);
      expect(parseInteger(b('-7'))).to.equal(-7n);
      expect(parseInteger(b('1234567890123456'))).to.equal(1234567890123456n);
      expect(parseInteger(b('9223372036854775807'))).to.equal(9223372036854775807n);
      expect(parseInteger(b('-9223372036854775808'))).to.equal(-9223372036854775808n);
    });

    it('rejects out of range', () => {
      expect(parseInteger(b('9223372036854775808'))).to.equal(null);
      expect(parseInteger(b('-9223372036854775809'))).to.equal(null);
      expect(parseInteger(b('99999999999999999999'))).to.equal(null);
      expect(parseInteger(b('123456789012345678901'))).to.equal(null);
    });

    it('rejects non-canonical forms', () => {
      // string2ll: after an optional '-' the first digit must be 1-9, so "-0" is rejected.
      for (const s of ['', '-', '+1', '-0', '00', '01', '-01', ' 1', '1 ', '1.0', '1e3', '0x10', 'abc', '1a', '--1', '\x001']) {
        expect(parseInteger(b(s)), JSON.stringify(s)).to.equal(null);
      }
    });
  });

  describe('parseSafeInt', () => {
    it('accepts the safe range', () => {
      expect(parseSafeInt(b('0'))).to.equal(0);
      expect(parseSafeInt(b('-15'))).to.equal(-15);
      expect(parseSafeInt(b('9007199254740991'))).to.equal(9007199254740991);
      expect(parseSafeInt(b('-9007199254740991'))).to.equal(-9007199254740991);
    });

    it('rejects beyond it and non-canonical forms', () => {
      for (const s of ['9007199254740992', '-9007199254740992', '9223372036854775807', '99999999999999999', '-0', '+1', '01', '', '1 ']) {
        expect(parseSafeInt(b(s)), s).to.equal(null);
      }
    });
  });

  describe('int64Add', () => {
    it('adds within range and returns null on overflow', () => {
      expect(int64Add(1n, 2n)).to.equal(3n);
      expect(int64Add(9223372036854775806n, 1n)).to.equal(9223372036854775807n);
      expect(int64Add(9223372036854775807n, 1n)).to.equal(null);
      expect(int64Add(-9223372036854775808n, -1n)).to.equal(null);
      expect(int64Add(-9223372036854775808n, 9223372036854775807n)).to.equal(-1n);
    });
  });

  describe('formatInteger', () => {
    it('formats numbers and bigints', () => {
      expect(formatInteger(0)).to.equal('0');
      expect(formatInteger(-0)).to.equal('0');
      expect(formatInteger(-12)).to.equal('-12');
      expect(formatInteger(2 ** 70)).to.equal('1180591620717411303424');
      expect(formatInteger(-9223372036854775808n)).to.equal('-9223372036854775808');
    });
  });

  describe('parseFloatArg', () => {
    it('accepts decimal forms', () => {
      const ok: Array<[string, number]> = [
        ['1', 1],
        ['-1', -1],
        ['+1', 1],
        ['1.5', 1.5],
        ['.5', 0.5],
        ['5.', 5],
        ['-.5', -0.5],
        ['1e3', 1000],
        ['1E+3', 1000],
        ['1e-3', 0.001],
        ['00012', 12],
        ['0', 0],
        ['3.0e3', 3000],
        ['1.7976931348623157e308', 1.7976931348623157e308],
        ['4e-320', 4e-320], // denormal: accepted
      ];
      for (const [s, v] of ok) expect(parseFloatArg(b(s)), s).to.equal(v);
      expect(Object.is(parseFloatArg(b('-0')), -0)).to.equal(true);
    });

    it('accepts inf and infinity in any case, with a sign', () => {
      for (const s of ['inf', 'INF', '+inf', 'Infinity', 'iNfInItY', '+infinity']) {
        expect(parseFloatArg(b(s)), s).to.equal(Infinity);
      }
      expect(parseFloatArg(b('-inf'))).to.equal(-Infinity);
      expect(parseFloatArg(b('-Infinity'))).to.equal(-Infinity);
    });

    it('accepts C hex floats', () => {
      expect(parseFloatArg(b('0x10'))).to.equal(16);
      expect(parseFloatArg(b('0x1p3'))).to.equal(8);
      expect(parseFloatArg(b('-0X1.8P1'))).to.equal(-3);
      expect(parseFloatArg(b('0x.8'))).to.equal(0.5);
    });

    it('rejects garbage, spaces, nan and out-of-range values', () => {
      for (const s of [
        '',
        ' ',
        ' 1',
        '1 ',
        '\t1',
        '1x',
        '.',
        '-',
        '+',
        'e5',
        '1e',
        '1e+',
        '1..2',
        '--1',
        '+-1',
        'nan',
        'NaN',
        '-nan',
        'inf ',
        'infinit',
        'infinityy',
        '0x',
        '0x1p',
        '1e400',
        '-1e400',
        '1e-400',
        '0x1p-1080',
        '1_000',
        'Infinity1',
        '\x001',
      ]) {
        expect(parseFloatArg(b(s)), JSON.stringify(s)).to.equal(null);
      }
    });

    it('accepts zero with a huge exponent (no underflow for an exact zero)', () => {
      expect(parseFloatArg(b('0e-999'))).to.equal(0);
    });
  });

  describe('formatLongDouble (INCRBYFLOAT)', () => {
    const cases: Array<[number, string]> = [
      [10.5, '10.5'],
      [3.0e3, '3000'],
      [5.0e-3, '0.005'],
      [0, '0'],
      [-0, '0'],
      [-1.25, '-1.25'],
      [1e21, '1000000000000000000000'],
      [1.5e25, '15000000000000000000000000'],
      [1e-7, '0.0000001'],
      [-1.2345e-10, '-0.00000000012345'],
      [0.1 + 0.2, '0.30000000000000004'],
      [5e-324, '0.' + '0'.repeat(323) + '5'],
      [Infinity, 'inf'],
      [-Infinity, '-inf'],
    ];
    for (const [n, s] of cases) {
      it(`${n} -> ${s.length > 40 ? s.slice(0, 40) + '...' : s}`, () => {
        expect(formatLongDouble(n)).to.equal(s);
        if (Number.isFinite(n)) expect(Number(s)).to.equal(n === 0 ? 0 : n);
      });
    }
  });

  describe('formatDouble', () => {
    it('is re-exported for score replies and matches %.17g', () => {
      expect(formatDouble(2.5)).to.equal('2.5');
      expect(formatDouble(1 / 3)).to.equal('0.33333333333333331');
      expect(formatDouble(-1e-300)).to.equal('-1e-300');
      expect(formatDouble(100)).to.equal('100');
      expect(formatDouble(9007199254740993)).to.equal('9007199254740992');
    });
  });
});
