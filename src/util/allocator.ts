/**
 * The malloc Talus runs on. bin/talus preloads jemalloc when the system has
 * it (LD_PRELOAD, MALLOC_CONF); the programs Talus starts (the embedded
 * PostgreSQL, initdb, pg_dump, pg_restore) are not meant to inherit that:
 * PostgreSQL's memory settings are tuned for glibc's malloc
 * (storage/embedded.ts), and a preload a user's machine lacks would only be
 * warned about by every one of them.
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

/** `env` for a program Talus starts: without a preloaded jemalloc and its settings. */
export function childEnvironment(env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const preload = env.LD_PRELOAD;
  if (preload === undefined) return { ...env };
  const entries = preload.split(/[\s:]+/).filter((p) => p !== '');
  const kept = entries.filter((p) => !JEMALLOC.test(p));
  if (kept.length === entries.length) return { ...env };
  const out = { ...env };
  delete out.MALLOC_CONF;
  if (kept.length > 0) out.LD_PRELOAD = kept.join(' ');
  else delete out.LD_PRELOAD;
  return out;
}
