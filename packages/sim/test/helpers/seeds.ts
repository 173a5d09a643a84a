import { describe, expect, it } from 'vitest';
import { FaultMix, runSeed, type SimOptions, type SimResult } from '../../src/index.js';

/** Seeds in the default suite, over all simulator test files (KEEL_SIM_SEEDS scales it). */
export const SIM_SEEDS = Number(process.env.KEEL_SIM_SEEDS ?? 2400);

/** First seed of a (mix, size) case: disjoint ranges, stable when the per-case count changes. */
export function mixStart(mix: string, nodes: number): number {
  return 1_000_000 * (Object.keys(FaultMix).indexOf(mix) + 1) + 100_000 * nodes;
}

/**
 * Runs `count` seeds from `start` and returns one line per failing seed: its replay command and
 * first violation. Yields to the runner every few seeds: a worker that blocks for minutes misses
 * vitest's RPC deadlines.
 */
export async function runSeeds(
  start: number,
  count: number,
  options: SimOptions,
  replay: (seed: number) => string,
  each?: (r: SimResult) => void,
): Promise<string[]> {
  const failures: string[] = [];
  for (let seed = start; seed < start + count; seed++) {
    if ((seed - start) % 8 === 7) await new Promise((r) => setImmediate(r));
    const r = runSeed(seed, options);
    each?.(r);
    if (!r.ok) failures.push(`${replay(seed)}: ${r.violations[0]}`);
  }
  return failures;
}

/** One test per (fault mix, cluster size): every invariant, liveness after healing, linearizability. */
export function mixSuite(mixes: readonly string[], sizes: readonly number[], perCase: number): void {
  describe.each(mixes)('simulation, faults: %s', (mix) => {
    it.each(sizes)(
      `%i nodes, ${perCase} seeds: every invariant, liveness after healing, linearizability`,
      async (nodes) => {
        const failures = await runSeeds(
          mixStart(mix, nodes),
          perCase,
          { nodes, faults: FaultMix[mix]! },
          (seed) => `pnpm sim --seed ${seed} --nodes ${nodes} --faults ${mix} --trace`,
        );
        expect(failures).toEqual([]);
      },
      600_000,
    );
  });
}
