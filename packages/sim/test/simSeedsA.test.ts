import { mixSuite, SIM_SEEDS } from './helpers/seeds.js';

// Seeds of the deterministic simulation: network faults and partitions. The suite is split over
// two files (simSeedsA/B) so that vitest runs them on two cores. KEEL_SIM_SEEDS sets the total
// (default 2,400): seven eighths over these two files, the last eighth in simTransfer.test.ts.
// Every failure names the command that replays it with a full trace.
const MIXES = ['all', 'net', 'partitions'] as const;
const SIZES = [3, 5, 7] as const;
const PER_CASE = Math.max(1, Math.ceil((SIM_SEEDS * 7) / 8 / (2 * MIXES.length * SIZES.length)));

mixSuite(MIXES, SIZES, PER_CASE);
