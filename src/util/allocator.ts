/**
 * The malloc Talus runs on. bin/talus preloads jemalloc when the system has
 * it (LD_PRELOAD, MALLOC_CONF). No program Talus starts should inherit that:
 * jemalloc's background thread makes any process it is loaded into
 * multithreaded, and the kernel refuses a new user namespace to such a
 * process (`unshare --user`, how root runs the embedded PostgreSQL), and
 * PostgreSQL's memory settings are tuned for glibc's malloc
 * (storage/embedded.ts). So the preload is taken out of process.env once at
 * start-up (withholdPreload), and given back only to the daemonized copy of
 * Talus itself (preloadVariables).
 */
import fs from 'node:fs';

const JEMALLOC = /(^|\/)libjemalloc[^/]*$/;

let name: string | undefined;

/** INFO memory mem_allocator: "jemalloc" when a jemalloc library is mapped into this process, else "libc". */
export function mallocName(): string {
  if (name === undefined) {
    let maps = '';
    try {
      maps = fs.readFileSync('/proc/self/maps', 'utf8');
    } catch {
      // not Linux: no preload from bin/talus either
    }
    name = maps.split('\n').some((line) => JEMALLOC.test(line.trim().split(/\s+/).pop() ?? '')) ? 'jemalloc' : 'libc';
  }
  return name;
}

/** What withholdPreload took out of process.env. */
const withheld: Record<string, string> = {};

/** Take a preloaded jemalloc and its settings out of process.env, so that programs Talus starts do not inherit them. */
export function withholdPreload(env: NodeJS.ProcessEnv = process.env): void {
  const preload = env.LD_PRELOAD;
  if (preload === undefined) return;
  const entries = preload.split(/[\s:]+/).filter((p) => p !== '');
  const kept = entries.filter((p) => !JEMALLOC.test(p));
  if (kept.length === entries.length) return;
  withheld.LD_PRELOAD = preload;
  if (env.MALLOC_CONF !== undefined) withheld.MALLOC_CONF = env.MALLOC_CONF;
  delete env.MALLOC_CONF;
  if (kept.length > 0) env.LD_PRELOAD = kept.join(' ');
  else delete env.LD_PRELOAD;
}

/** The variables withholdPreload took: for a copy of Talus itself (daemonize). */
export function preloadVariables(): Record<string, string> {
  return { ...withheld };
}
