import { describe, expect, it } from 'vitest';
import { FaultMix, runSeed } from '../src/testing/index.js';

// Seeds of the deterministic simulation: crashes, pauses and quiet runs. The suite is split over two files
// (simSeedsA/B) so that vitest runs them on two cores. KEEL_SIM_SEEDS sets the total (default
// 2,400): seven eighths over these two files, the last eighth in simTransfer.test.ts. Every
// failure names the command that replays it with a full trace.
const TOTAL = (Number(process.env.KEEL_SIM_SEEDS ?? 2400) * 7) / 8;
const MIXES = ['crashes', 'crash-partition', 'none'] as const;
const SIZES = [3, 5, 7] as const;
const PER_CASE = Math.max(1, Math.ceil(TOTAL / (2 * MIXES.length * SIZES.length)));

describe.each(MIXES)('simulation, faults: %s', (mix) => {
  it.each(SIZES)(
    `%i nodes, ${PER_CASE} seeds: every invariant, liveness after healing, linearizability`,
    async (nodes) => {
      // Disjoint seed ranges per case, stable when PER_CASE changes.
      const start = 1_000_000 * (Object.keys(FaultMix).indexOf(mix) + 1) + 100_000 * nodes;
      const failures: string[] = [];
      for (let seed = start; seed < start + PER_CASE; seed++) {
        // Yield now and then: a worker that blocks for minutes misses vitest's RPC deadlines.
        if ((seed - start) % 8 === 7) await new Promise((r) => setImmediate(r));
        const r = runSeed(seed, { nodes, faults: FaultMix[mix]! });
        if (!r.ok) {
          failures.push(
            `pnpm sim --seed ${seed} --nodes ${nodes} --faults ${mix} --trace: ${r.violations[0]}`,
          );
        }
      }
      expect(failures).toEqual([]);
    },
    600_000,
  );
});

describe("simulation, lease reads (the engine's readLease), all faults, clock drift 2%", () => {
  it.each(SIZES)(
    `%i nodes, ${PER_CASE} seeds`,
    async (nodes) => {
      const start = 9_000_000 + 100_000 * nodes;
      const failures: string[] = [];
      for (let seed = start; seed < start + PER_CASE; seed++) {
        // Yield now and then: a worker that blocks for minutes misses vitest's RPC deadlines.
        if ((seed - start) % 8 === 7) await new Promise((r) => setImmediate(r));
        const r = runSeed(seed, { nodes, reads: 'lease' });
        if (!r.ok) failures.push(`seed ${seed} (${nodes} nodes, reads: 'lease'): ${r.violations[0]}`);
      }
      expect(failures).toEqual([]);
    },
    600_000,
  );
});
