/**
 * Redis's LFU access counter (OBJECT FREQ, redis-cli --hotkeys): a
 * logarithmic 8-bit counter that starts at 5, grows with probability
 * 1 / ((counter - 5) * lfu-log-factor + 1) per access, and loses one per
 * lfu-decay-time minutes without access. Kept only while the
 * maxmemory-policy is an LFU one, as Redis does; eviction itself stays LRU
 * (keyspace.ts).
 */
export const LFU_INIT_VAL = 5;

export interface LfuSettings {
  /** maxmemory-policy is volatile-lfu or allkeys-lfu */
  enabled: boolean;
  logFactor: number;
  decayMinutes: number;
}

/** What LFU state an entry carries. */
export interface LfuState {
  freq: number;
  /** minute (since the epoch) of the last decay or access */
  freqMinute: number;
}

const minutesNow = (now: number) => Math.floor(now / 60_000);

/** The counter after the decay due since its last access (Redis's LFUDecrAndReturn). */
export function lfuCounter(e: LfuState, s: LfuSettings, now = Date.now()): number {
  if (s.decayMinutes <= 0) return e.freq;
  const periods = Math.floor((minutesNow(now) - e.freqMinute) / s.decayMinutes);
  return periods <= 0 ? e.freq : Math.max(0, e.freq - periods);
}

/** One access (Redis's updateLFU: decay, then a logarithmic increment). */
export function lfuTouch(e: LfuState, s: LfuSettings, now = Date.now()): void {
  let counter = lfuCounter(e, s, now);
  if (counter < 255) {
    const base = Math.max(0, counter - LFU_INIT_VAL);
    if (Math.random() < 1 / (base * s.logFactor + 1)) counter++;
  }
  e.freq = counter;
  e.freqMinute = minutesNow(now);
}
