/** C's printf("%.<precision>g") of a double, as Lua and Redis print numbers. */
export function formatG(n: number, precision: number): string {
  if (Number.isNaN(n)) return 'nan';
  if (!Number.isFinite(n)) return n > 0 ? 'inf' : '-inf';
  if (n === 0) return Object.is(n, -0) ? '-0' : '0';
  const p = Math.max(1, precision);
  // the common case (redis.call('EXPIRE', k, 3600)): an integer of fewer than p digits prints as itself
  if (Number.isInteger(n) && Math.abs(n) < 10 ** p && Math.abs(n) < 2 ** 53) return String(n);
  // the exponent after rounding to p significant digits
  const [mantissa, e] = n.toExponential(p - 1).split('e');
  const exp = Number(e);
  if (exp < -4 || exp >= p) {
    const m = mantissa!.includes('.') ? mantissa!.replace(/0+$/, '').replace(/\.$/, '') : mantissa!;
    return `${m}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
  }
  const fixed = n.toFixed(p - 1 - exp);
  return fixed.includes('.') ? fixed.replace(/0+$/, '').replace(/\.$/, '') : fixed;
}
