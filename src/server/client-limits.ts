import type { Client } from './client.js';
import type { Talus } from '../talus.js';

/**
 * maxmemory-clients (Redis 7 client eviction): when the memory all normal
 * clients hold (query buffers, requests parsed ahead, queued MULTI
 * commands, unsent output: Client.memoryUsage) passes the limit, the
 * clients holding the most are closed, biggest first, until the rest fit.
 * Clients with CLIENT NO-EVICT on are counted but never closed.
 */

/** The limit in bytes: a memory value, or a percentage of maxmemory (stored negative); 0 = off. */
export function clientMemoryLimit(setting: number, maxmemory: number): number {
  return setting >= 0 ? setting : Math.floor((maxmemory * -setting) / 100);
}

function evictable(c: Client): boolean {
  return !c.session.noEvict && !c.session.flags.has('master') && !c.session.flags.has('replica') && !c.session.flags.has('slave');
}

/** Close the biggest clients until the total fits `limit`; returns how many were closed. */
export function evictClients(talus: Talus, limit: number): number {
  if (limit <= 0) return 0;
  let total = 0;
  const candidates: Array<{ c: Client; used: number }> = [];
  for (const c of talus.clients.values()) {
    if (c.session.flags.has('master') || c.session.flags.has('replica') || c.session.flags.has('slave')) continue;
    const used = c.memoryUsage;
    total += used;
    if (evictable(c)) candidates.push({ c, used });
  }
  if (total <= limit) return 0;
  candidates.sort((a, b) => b.used - a.used);
  let closed = 0;
  for (const { c, used } of candidates) {
    if (total <= limit) break;
    talus.log.notice(`Evicting client: ${c.describe()}`);
    c.closeNow();
    total -= used;
    closed++;
  }
  return closed;
}
