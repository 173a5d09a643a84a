import { relative } from 'node:path';
import fc from 'fast-check';
import { expect } from 'vitest';

/**
 * Property tests run a fixed set of seeds — every seed that once found a bug, plus a spread — and
 * one random seed per test file, printed, so a failure anywhere (CI included) is reproduced by one
 * command (docs/testing.md):
 *
 *   KEEL_PROPERTY_SEED=<seed> [KEEL_PROPERTY_PATH=<path>] pnpm --filter <pkg> exec vitest run <file>
 */
export const FIXED_PROPERTY_SEEDS: readonly number[] = [
  // codec: a snapChunk whose configuration had a learner named __proto__ (issue #22).
  1968231919,
  // codec: a learner named __proto__ made the encoder read Object.prototype as its address.
  1350178720, 1, 20_261_203,
];

const pinned = process.env.KEEL_PROPERTY_SEED;
const path = process.env.KEEL_PROPERTY_PATH;

/** This file's random seed, chosen once and printed once. */
const randomSeed = (Math.random() * 0x7fffffff) | 0;
if (pinned === undefined)
  console.info(
    `property tests: fixed seeds ${FIXED_PROPERTY_SEEDS.join(', ')} and random seed ${randomSeed}`,
  );

/** The seeds to run: KEEL_PROPERTY_SEED alone when set, otherwise the fixed ones and the random one. */
export function propertySeeds(): readonly number[] {
  if (pinned !== undefined) {
    const seed = Number(pinned);
    if (!Number.isInteger(seed)) throw new Error(`KEEL_PROPERTY_SEED=${pinned} is not an integer`);
    return [seed];
  }
  return [...FIXED_PROPERTY_SEEDS, randomSeed];
}

/**
 * fc.assert over every seed of propertySeeds(); `numRuns` per seed. A failure names the seed and the
 * command that replays it.
 */
export function assertProperty<Ts>(property: fc.IRawProperty<Ts>, params: { numRuns?: number } = {}): void {
  for (const seed of propertySeeds()) {
    try {
      fc.assert(property, { ...params, seed, ...(path !== undefined ? { path } : {}) });
    } catch (err) {
      const { testPath, currentTestName } = expect.getState();
      const file = testPath === undefined ? '<test file>' : relative(process.cwd(), testPath);
      const name = (currentTestName ?? '').split(' > ').at(-1) ?? '';
      const replay = `KEEL_PROPERTY_SEED=${seed} npx vitest run ${file} -t ${JSON.stringify(name)} (in ${process.cwd()})`;
      throw new Error(`property failed with seed ${seed}; replay: ${replay}\n${(err as Error).message}`, {
        cause: err,
      });
    }
  }
}
