import { describe, expect, it } from 'vitest';
import { mixSuite, runSeeds, SIM_SEEDS } from './helpers/seeds.js';

// Seeds of the deterministic simulation: crashes, pauses and quiet runs, and lease reads. The
// suite is split over two files (simSeedsA/B) so that vitest runs them on two cores.
// KEEL_SIM_SEEDS sets the total (default 2,400): seven eighths over these two files, the last
// eighth in simTransfer.test.ts. Every failure names the command that replays it.
const MIXES = ['crashes', 'crash-partition', 'none'] as const;
const SIZES = [3, 5, 7] as const;
const PER_CASE = Math.max(1, Math.ceil((SIM_SEEDS * 7) / 8 / (2 * MIXES.length * SIZES.length)));

mixSuite(MIXES, SIZES, PER_CASE);

describe("simulation, lease reads (the engine's readLease), all faults, clock drift 2%", () => {
  it.each(SIZES)(
    `%i nodes, ${PER_CASE} seeds`,
    async (nodes) => {
      const failures = await runSeeds(
        9_000_000 + 100_000 * nodes,
        PER_CASE,
        { nodes, reads: 'lease' },
        (seed) => `pnpm sim --seed ${seed} --nodes ${nodes} --reads lease --trace`,
      );
      expect(failures).toEqual([]);
    },
    600_000,
  );
});
