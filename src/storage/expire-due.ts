/**
 * When active expiry may reclaim a cold key (talus.keys.expire_due, the
 * column its index is on: migrations/0016): the end of the window of
 * `window(ttl)` milliseconds that holds `expireAt`. Refreshing a TTL by the
 * same amount within the window leaves the column as it was, so the row's
 * update stays HOT (PostgreSQL writes no index entry when no indexed column
 * changed). A key is never reclaimed early (expire_due >= expireAt); a cold
 * one is reclaimed at most a window late, reads see it expired on time (the
 * loader checks expire_at).
 */
export function expireDue(expireAt: number, now: number): number {
  const w = windowFor(expireAt - now);
  // past 2^52 a multiple of w may not be a safe integer: exact time
  return w === 1 || expireAt > 2 ** 52 ? expireAt : Math.ceil(expireAt / w) * w;
}

/** The window for a TTL: the largest power of two up to 1/32 of it, and at most 2^16 ms. */
export function windowFor(ttl: number): number {
  if (ttl < 64) return 1;
  let e = Math.floor(Math.log2(ttl));
  if (2 ** e > ttl) e--; // log2 rounded up just below a power of two
  return 2 ** Math.min(16, e - 5);
}
