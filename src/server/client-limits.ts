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

/**
 * Subscribers and monitors are sent what other clients do, whether they read
 * it or not: their output is not bounded by their own requests, as a normal
 * client's is (OUTPUT_BOUND). client-output-buffer-limit bounds each one
 * (pubsub 32 MB hard by default; monitors are normal clients, unbounded), not
 * all of them together: 20 subscribers that stop reading held 908 MB. The
 * unsent output of those that are behind, all together, is bounded by this
 * budget: a quarter of maxmemory, at least 8 MB and at most 256 MB (256 MB
 * without maxmemory), so that the process stays within maxmemory + 200 MB.
 */
export function listenerOutputBudget(maxmemory: number): number {
  const MB = 1 << 20;
  if (maxmemory <= 0) return 256 * MB;
  return Math.min(256 * MB, Math.max(8 * MB, Math.floor(maxmemory / 4)));
}

/** A subscriber (RESP2 or RESP3) or a monitor: sent output it did not ask for. */
function isListener(c: Client): boolean {
  return c.monitor || c.session.flags.has('pubsub');
}

/**
 * Close the listeners holding the most unsent output until the rest fit
 * `budget`; returns how many were closed. A listener that reads keeps little
 * unsent and is never the one closed while one that stopped holds more.
 */
export function closeSlowListeners(talus: Talus, budget: number): number {
  let total = 0;
  const listeners: Array<{ c: Client; unsent: number }> = [];
  for (const c of talus.clients.values()) {
    // One that is not behind (the kernel took all it was given) holds only
    // what this turn pushed: a big fan-out to readers closes none of them.
    if (!isListener(c) || c.socket.writableLength === 0) continue;
    const unsent = c.outputBytes;
    total += unsent;
    listeners.push({ c, unsent });
  }
  if (total <= budget) return 0;
  listeners.sort((a, b) => b.unsent - a.unsent);
  let closed = 0;
  for (const { c, unsent } of listeners) {
    if (total <= budget) break;
    talus.log.warning(`Closing client ${c.describe()}: subscribers and monitors hold ${Math.round(total / 2 ** 20)} MB unsent, over ${Math.round(budget / 2 ** 20)} MB`);
    c.closeNow();
    total -= unsent;
    closed++;
  }
  return closed;
}
