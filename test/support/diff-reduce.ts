/**
 * Reduce a differential-fuzzer divergence to a short command sequence.
 *
 *   npx tsc -b && DIFF_SEED=270002 REDUCE_RUN=hll120 node dist/test/support/diff-reduce.js
 *
 * DIFF_SEED is the seed the failure reports (offsets included). REDUCE_RUN
 * names the `it` of test/differential.test.ts that failed:
 *   all        Talus answers every generated sequence (every family)
 *   hll3000    HyperLogLog, hll-sparse-max-bytes 3000 (add REDUCE_SUBJECT=paged for talus-cold)
 *   hll120     HyperLogLog, hll-sparse-max-bytes 120 (same)
 *   paged      cold keys and paged collections
 *   pipeline   pipelines of 16 on the paged Talus
 * DIFF_STEPS and DIFF_KEYS as for the test. It starts its own redis-server
 * and Talus, regenerates the sequence, then removes commands (ddmin) as long
 * as the last one still diverges, on fresh keys each try, and prints the
 * reduced sequence with both servers' replies.
 */
import { startTalus, type TalusProcess } from './harness.js';
import { startRedisServer, type RedisServer } from './redis-server.js';
import {
  ALL_FAMILIES,
  HASHES,
  HYPERLOGLOG,
  KEYS,
  LISTS,
  RawConnection,
  SETS,
  SORTING,
  TRANSACTIONS,
  ZSETS,
  exact,
  runDifferential,
  show,
  showCommand,
  type Arg,
  type Family,
  type Step,
} from './differential.js';

const env = process.env;
const seed = Number(env.DIFF_SEED);
const run = env.REDUCE_RUN ?? 'all';
const steps = Number(env.DIFF_STEPS ?? 400);
const pipeline = run === 'pipeline' ? 16 : 1;
const paged = run === 'paged' || run === 'pipeline' || env.REDUCE_SUBJECT === 'paged';
const families: Family[] = run.startsWith('hll')
  ? [HYPERLOGLOG]
  : run === 'paged'
    ? [LISTS, HASHES, SETS, ZSETS, KEYS, SORTING, TRANSACTIONS]
    : ALL_FAMILIES;
const protocol: 2 | 3 = seed % 4 === 3 ? 3 : 2;

/** The steps with every occurrence of the key prefix `from` replaced by `to`. */
function rekey(list: Step[], from: string, to: string): Step[] {
  const f = Buffer.from(from, 'latin1');
  const t = Buffer.from(to, 'latin1');
  const swap = (a: Arg): Arg => {
    const b = Buffer.isBuffer(a) ? a : Buffer.from(a);
    const parts: Buffer[] = [];
    let at = 0;
    for (let i = b.indexOf(f); i >= 0; i = b.indexOf(f, at)) {
      parts.push(b.subarray(at, i), t);
      at = i + f.length;
    }
    if (parts.length === 0) return a;
    parts.push(b.subarray(at));
    return Buffer.concat(parts);
  };
  return list.map((s) => ({ args: s.args.map(swap), compare: s.compare }));
}

let tries = 0;

/** Send `list` to both servers on fresh keys: the replies, and whether the last step diverges. */
async function replay(refPort: number, subPort: number, list: Step[], prefix: string): Promise<{ diverges: boolean; lines: string[] }> {
  const fresh = rekey(list, prefix, `r${process.pid % 1000}.${++tries}:`);
  const [ref, sub] = await Promise.all([RawConnection.connect(refPort), RawConnection.connect(subPort)]);
  const lines: string[] = [];
  let diverges = false;
  try {
    if (protocol === 3) await Promise.all([ref.call(['HELLO', '3']), sub.call(['HELLO', '3'])]);
    for (let i = 0; i < fresh.length; i += pipeline) {
      const batch = fresh.slice(i, i + pipeline);
      const [as, bs] = await Promise.all([ref.pipeline(batch.map((s) => s.args)), sub.pipeline(batch.map((s) => s.args))]);
      batch.forEach((s, j) => {
        const same = (s.compare ?? exact)(as[j]!, bs[j]!);
        lines.push(`${showCommand(list[i + j]!.args)}\n      redis: ${show(as[j]!)}${same ? '' : `\n      talus: ${show(bs[j]!)}`}`);
        if (i + j === fresh.length - 1) diverges = !same;
      });
    }
  } finally {
    ref.close();
    sub.close();
  }
  return { diverges, lines };
}

/** ddmin over the commands before the last one, keeping the last one's divergence. */
async function reduce(test: (list: Step[]) => Promise<boolean>, all: Step[]): Promise<Step[]> {
  const target = all[all.length - 1]!;
  let before = all.slice(0, -1);
  let n = 2;
  while (before.length > 0) {
    const chunk = Math.ceil(before.length / n);
    let reduced = false;
    for (let start = 0; start < before.length; start += chunk) {
      const without = [...before.slice(0, start), ...before.slice(start + chunk)];
      if (await test([...without, target])) {
        before = without;
        n = Math.max(n - 1, 2);
        reduced = true;
        break;
      }
    }
    if (!reduced) {
      if (chunk === 1) break;
      n = Math.min(n * 2, before.length);
    }
  }
  return [...before, target];
}

async function main(): Promise<void> {
  if (!Number.isFinite(seed)) throw new Error('set DIFF_SEED to the seed the divergence reports');
  const pagedArgs = paged ? ['--maxmemory', '1', '--paged-collection-threshold', '2'] : [];
  let redis: RedisServer | undefined;
  let talus: TalusProcess | undefined;
  try {
    [redis, talus] = await Promise.all([startRedisServer(), startTalus(['--appendfsync', 'everysec', ...pagedArgs])]);
    if (run.startsWith('hll')) {
      for (const port of [redis.port, talus.port]) {
        const c = await RawConnection.connect(port);
        await c.call(['CONFIG', 'SET', 'hll-sparse-max-bytes', run.slice(3)]);
        c.close();
      }
    }
    const res = await runDifferential({
      reference: { name: 'redis', port: redis.port },
      subject: { name: 'talus', port: talus.port },
      families,
      seeds: [seed],
      steps,
      resp3: (s) => s % 4 === 3,
      pipeline,
    });
    const d = res.divergence;
    if (!d) {
      console.log(`seed ${seed} (${run}): no divergence in ${res.commandsSent} commands`);
      return;
    }
    console.log(`seed ${seed} (${run}): diverges at command #${d.step} ${d.command}; reducing ${d.steps.length} commands`);
    const test = async (list: Step[]) => (await replay(redis!.port, talus!.port, list, d.prefix)).diverges;
    if (!(await test(d.steps))) console.log('(the replay on fresh keys does not diverge: reducing anyway is pointless)');
    else {
      const small = await reduce(test, d.steps);
      const { lines } = await replay(redis.port, talus.port, small, d.prefix);
      console.log(`reduced to ${small.length} command(s) (RESP${protocol}, ${tries} tries):`);
      for (const l of lines) console.log(`  ${l}`);
    }
  } finally {
    await Promise.all([redis?.stop(), talus?.stop()]);
  }
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    console.error(e);
    process.exit(1);
  },
);
