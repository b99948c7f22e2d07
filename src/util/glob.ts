/**
 * Redis glob matching (KEYS, SCAN MATCH, PSUBSCRIBE, CONFIG GET, ACL patterns).
 *
 * Same token semantics as Redis's stringmatchlen, but matched iteratively with
 * a single backtrack point (the last '*') instead of recursion. Every non-star
 * token consumes exactly one byte and its extent in the pattern does not depend
 * on the subject, so remembering only the latest star is enough: the cost is
 * O(pattern * subject) in the worst case and there is no recursion depth, which
 * makes Redis's nesting limit unnecessary ("a*a*a*...b" is cheap).
 *
 * Deliberate details, kept from Redis:
 * - an empty subject matches only the empty pattern (so "*" does not match "";
 *   KEYS/SCAN special-case the pattern "*" before calling this);
 * - "[" without a closing "]" runs to the end of the pattern ("[abc" = "[abc]");
 * - ranges may be reversed ("[z-a]" = "[a-z]"); with nocase the bounds are
 *   lowercased after ordering, like Redis;
 * - inside a class "\x" is a literal x compared case-sensitively even with nocase;
 * - a trailing lone "\" matches a literal backslash.
 * Bytes are compared unsigned (Redis compares C chars, which are signed on x86,
 * so its ranges spanning 0x7f/0x80 behave oddly; ours are plain byte ranges).
 */

const STAR = 0x2a;
const QMARK = 0x3f;
const LBRACKET = 0x5b;
const RBRACKET = 0x5d;
const BACKSLASH = 0x5c;
const CARET = 0x5e;
const DASH = 0x2d;

function lower(c: number): number {
  return c >= 0x41 && c <= 0x5a ? c + 32 : c;
}

/**
 * Matches one non-star token at pattern[p] against byte ch.
 * Returns the pattern index after the token, or -1 when ch does not match.
 */
function matchToken(pattern: Buffer, p: number, ch: number, nocase: boolean): number {
  const plen = pattern.length;
  const c = pattern[p];
  if (c === QMARK) return p + 1;
  if (c === LBRACKET) {
    let i = p + 1;
    let negate = false;
    if (i < plen && pattern[i] === CARET) {
      negate = true;
      i++;
    }
    let hit = false;
    for (;;) {
      if (i >= plen) break; // unterminated class: ends with the pattern
      const k = pattern[i];
      if (k === BACKSLASH && plen - i >= 2) {
        if (pattern[i + 1] === ch) hit = true;
        i += 2;
      } else if (k === RBRACKET) {
        i++;
        break;
      } else if (plen - i >= 3 && pattern[i + 1] === DASH) {
        let lo = k;
        let hi = pattern[i + 2];
        if (lo > hi) {
          const t = lo;
          lo = hi;
          hi = t;
        }
        let x = ch;
        if (nocase) {
          lo = lower(lo);
          hi = lower(hi);
          x = lower(x);
        }
        if (x >= lo && x <= hi) hit = true;
        i += 3;
      } else {
        if (nocase ? lower(k) === lower(ch) : k === ch) hit = true;
        i++;
      }
    }
    return hit !== negate ? i : -1;
  }
  let lit = c;
  let next = p + 1;
  if (c === BACKSLASH && plen - p >= 2) {
    lit = pattern[p + 1];
    next = p + 2;
  }
  if (nocase ? lower(lit) === lower(ch) : lit === ch) return next;
  return -1;
}

export function globMatch(pattern: Buffer, subject: Buffer, nocase = false): boolean {
  const plen = pattern.length;
  const slen = subject.length;
  if (slen === 0) return plen === 0;
  let p = 0;
  let s = 0;
  // Where to resume after the latest star: pattern index after it, and the
  // subject index the star currently stops at.
  let starP = -1;
  let starS = 0;
  while (s < slen) {
    if (p < plen) {
      if (pattern[p] === STAR) {
        while (p + 1 < plen && pattern[p + 1] === STAR) p++;
        if (p + 1 === plen) return true; // trailing star swallows the rest
        starP = ++p;
        starS = s;
        continue;
      }
      const np = matchToken(pattern, p, subject[s], nocase);
      if (np >= 0) {
        p = np;
        s++;
        continue;
      }
    }
    // Mismatch (or pattern exhausted with subject left): let the star eat one more byte.
    if (starP < 0) return false;
    s = ++starS;
    p = starP;
  }
  while (p < plen && pattern[p] === STAR) p++;
  return p === plen;
}

/**
 * The literal bytes every match must start with: the pattern up to its first
 * '*', '?' or '[' with "\x" escapes resolved. Only meaningful for
 * case-sensitive matching. Used to turn "prefix*" into an index range scan.
 */
export function globLiteralPrefix(pattern: Buffer): Buffer {
  const plen = pattern.length;
  let i = 0;
  while (i < plen) {
    const c = pattern[i];
    if (c === STAR || c === QMARK || c === LBRACKET || c === BACKSLASH) break;
    i++;
  }
  if (i === plen || pattern[i] !== BACKSLASH) return pattern.subarray(0, i);
  const out: number[] = [];
  for (let k = 0; k < i; k++) out.push(pattern[k]);
  while (i < plen) {
    const c = pattern[i];
    if (c === STAR || c === QMARK || c === LBRACKET) break;
    if (c === BACKSLASH && i + 1 < plen) {
      out.push(pattern[i + 1]);
      i += 2;
    } else {
      out.push(c);
      i++;
    }
  }
  return Buffer.from(out);
}
