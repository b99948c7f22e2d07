import { expect } from 'chai';
import { globLiteralPrefix, globMatch } from '../../src/util/glob.js';

const b = (s: string) => Buffer.from(s, 'latin1');
const m = (pattern: string, subject: string, nocase = false) => globMatch(b(pattern), b(subject), nocase);

/**
 * Straightforward exhaustive backtracking reference with the same token rules,
 * used to cross-check the iterative matcher on random small inputs.
 */
function reference(pat: Buffer, str: Buffer, nocase: boolean): boolean {
  const lower = (c: number) => (c >= 65 && c <= 90 ? c + 32 : c);
  if (str.length === 0) return pat.length === 0;
  const go = (p: number, s: number): boolean => {
    if (s === str.length) {
      while (p < pat.length && pat[p] === 42) p++;
      return p === pat.length;
    }
    if (p === pat.length) return false;
    const c = pat[p];
    if (c === 42) {
      for (let k = s; k < str.length; k++) if (go(p + 1, k)) return true;
      return pat.subarray(p).every((x) => x === 42);
    }
    const ch = str[s];
    if (c === 63) return go(p + 1, s + 1);
    if (c === 91) {
      let i = p + 1;
      let neg = false;
      if (pat[i] === 94 && i < pat.length) {
        neg = true;
        i++;
      }
      let hit = false;
      while (i < pat.length) {
        if (pat[i] === 92 && pat.length - i >= 2) {
          if (pat[i + 1] === ch) hit = true;
          i += 2;
        } else if (pat[i] === 93) {
          i++;
          break;
        } else if (pat.length - i >= 3 && pat[i + 1] === 45) {
          let [lo, hi] = [pat[i], pat[i + 2]];
          if (lo > hi) [lo, hi] = [hi, lo];
          const x = nocase ? lower(ch) : ch;
          if (nocase) [lo, hi] = [lower(lo), lower(hi)];
          if (x >= lo && x <= hi) hit = true;
          i += 3;
        } else {
          if (nocase ? lower(pat[i]) === lower(ch) : pat[i] === ch) hit = true;
          i++;
        }
      }
      return hit !== neg && go(i, s + 1);
    }
    let lit = c;
    let next = p + 1;
    if (c === 92 && pat.length - p >= 2) {
      lit = pat[p + 1];
      next = p + 2;
    }
    return (nocase ? lower(lit) === lower(ch) : lit === ch) && go(next, s + 1);
  };
  return go(0, 0);
}

describe('globMatch', () => {
  it('literals and *', () => {
    expect(m('foo', 'foo')).to.equal(true);
    expect(m('foo', 'fo')).to.equal(false);
    expect(m('foo', 'fooo')).to.equal(false);
    expect(m('*', 'anything')).to.equal(true);
    expect(m('foo*', 'foo')).to.equal(true);
    expect(m('foo*', 'foobar')).to.equal(true);
    expect(m('*bar', 'foobar')).to.equal(true);
    expect(m('*o*', 'foo')).to.equal(true);
    expect(m('*x*', 'foo')).to.equal(false);
    expect(m('f**o', 'fo')).to.equal(true);
    expect(m('a*b*c', 'aXXbYYc')).to.equal(true);
    expect(m('a*b*c', 'aXXbYY')).to.equal(false);
  });

  it('KEYS patterns from the keyspace tests', () => {
    const keys = ['foo_a', 'foo_b', 'foo_c', 'key_x', 'key_y', 'key_z'];
    expect(keys.filter((k) => m('foo*', k))).to.deep.equal(['foo_a', 'foo_b', 'foo_c']);
    expect(keys.filter((k) => m('*', k))).to.deep.equal(keys);
    expect(keys.filter((k) => m('key_?', k))).to.deep.equal(['key_x', 'key_y', 'key_z']);
    expect(keys.filter((k) => m('*_[ab]', k))).to.deep.equal(['foo_a', 'foo_b']);
    expect(keys.filter((k) => m('*_[^ab]', k))).to.deep.equal(['foo_c', 'key_x', 'key_y', 'key_z']);
    expect(keys.filter((k) => m('[fk]??_[x-z]', k))).to.deep.equal(['key_x', 'key_y', 'key_z']);
  });

  it('empty subject matches only the empty pattern (Redis quirk; "*" is special-cased by callers)', () => {
    expect(m('', '')).to.equal(true);
    expect(m('*', '')).to.equal(false);
    expect(m('**', '')).to.equal(false);
    expect(m('', 'a')).to.equal(false);
  });

  it('?', () => {
    expect(m('h?llo', 'hello')).to.equal(true);
    expect(m('h?llo', 'hllo')).to.equal(false);
    expect(m('???', 'abc')).to.equal(true);
    expect(m('?*', 'a')).to.equal(true);
  });

  it('classes, negation, ranges', () => {
    expect(m('h[ae]llo', 'hallo')).to.equal(true);
    expect(m('h[ae]llo', 'hillo')).to.equal(false);
    expect(m('h[^e]llo', 'hallo')).to.equal(true);
    expect(m('h[^e]llo', 'hello')).to.equal(false);
    expect(m('h[a-b]llo', 'hbllo')).to.equal(true);
    expect(m('h[a-b]llo', 'hcllo')).to.equal(false);
    expect(m('[z-a]', 'm')).to.equal(true); // reversed range
    expect(m('[0-9][0-9]', '42')).to.equal(true);
    expect(m('[a-]', ']')).to.equal(true); // "a-]" is the range ]..a, class unterminated
    expect(m('[]]', ']')).to.equal(false); // "[]" is an empty class, then a literal "]"
    expect(m('[]]', '')).to.equal(false);
  });

  it('unterminated class runs to the end of the pattern', () => {
    expect(m('[abc', 'b')).to.equal(true);
    expect(m('[abc', 'd')).to.equal(false);
    expect(m('x[', 'xa')).to.equal(false);
    expect(m('[^', 'q')).to.equal(true);
  });

  it('escapes', () => {
    expect(m('\\*', '*')).to.equal(true);
    expect(m('\\*', 'a')).to.equal(false);
    expect(m('a\\?b', 'a?b')).to.equal(true);
    expect(m('a\\?b', 'axb')).to.equal(false);
    expect(m('[\\]]', ']')).to.equal(true);
    expect(m('[\\-a]', '-')).to.equal(true);
    expect(m('ab\\', 'ab\\')).to.equal(true); // trailing lone backslash is literal
  });

  it('nocase', () => {
    expect(m('FOO*', 'foobar', true)).to.equal(true);
    expect(m('FOO*', 'foobar')).to.equal(false);
    expect(m('[A-C]x', 'bX', true)).to.equal(true);
    expect(m('[abc]', 'B', true)).to.equal(true);
    expect(m('[\\A]', 'a', true)).to.equal(false); // escaped class member stays case-sensitive
  });

  it('is binary safe', () => {
    expect(globMatch(Buffer.from([0x2a, 0, 0x2a]), Buffer.from([1, 2, 0, 3]))).to.equal(true);
    expect(globMatch(Buffer.from([0x5b, 0x80, 0x2d, 0xff, 0x5d]), Buffer.from([0xc3]))).to.equal(true);
    expect(globMatch(Buffer.from([0x3f]), Buffer.from([0xff]))).to.equal(true);
  });

  it('does not blow up on pathological patterns', () => {
    const pattern = b('a*'.repeat(200) + 'b');
    const subject = b('a'.repeat(5000));
    const t0 = Date.now();
    expect(globMatch(pattern, subject)).to.equal(false);
    expect(globMatch(b('*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*b'), b('a'.repeat(100000)))).to.equal(false);
    expect(globMatch(b('*'.repeat(10000) + 'x'), b('y'.repeat(10000)))).to.equal(false);
    expect(Date.now() - t0).to.be.below(2000);
  });

  it('agrees with an exhaustive reference on random inputs', () => {
    let seed = 12345;
    const rnd = (n: number) => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    const patAlphabet = ['a', 'b', 'A', '*', '?', '[', ']', '^', '-', '\\', 'c'];
    const strAlphabet = ['a', 'b', 'A', 'B', 'c', '-', ']', '\\', '*'];
    for (let i = 0; i < 20000; i++) {
      let p = '';
      let s = '';
      for (let k = rnd(8); k > 0; k--) p += patAlphabet[rnd(patAlphabet.length)];
      for (let k = rnd(7); k > 0; k--) s += strAlphabet[rnd(strAlphabet.length)];
      const nocase = rnd(2) === 1;
      expect(m(p, s, nocase), `${JSON.stringify(p)} ~ ${JSON.stringify(s)} nocase=${nocase}`).to.equal(
        reference(b(p), b(s), nocase),
      );
    }
  });
});

describe('globLiteralPrefix', () => {
  const prefix = (s: string) => globLiteralPrefix(b(s)).toString('latin1');
  it('returns the bytes before the first special character', () => {
    expect(prefix('user:*')).to.equal('user:');
    expect(prefix('user:?x')).to.equal('user:');
    expect(prefix('user:[ab]')).to.equal('user:');
    expect(prefix('*')).to.equal('');
    expect(prefix('')).to.equal('');
    expect(prefix('exact')).to.equal('exact');
  });

  it('resolves escapes', () => {
    expect(prefix('a\\*b*')).to.equal('a*b');
    expect(prefix('a\\\\b?')).to.equal('a\\b');
    expect(prefix('ab\\')).to.equal('ab\\');
  });

  it('every match starts with the prefix', () => {
    for (const [p, s] of [
      ['foo\\*bar*', 'foo*barbaz'],
      ['k:*:x', 'k:1:x'],
    ]) {
      expect(m(p, s)).to.equal(true);
      expect(s.startsWith(prefix(p))).to.equal(true);
    }
  });
});
