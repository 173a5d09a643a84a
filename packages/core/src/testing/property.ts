import type { IAsyncProperty, IProperty, Parameters } from 'fast-check';

/**
 * Seeds for the property tests of every package (`@keel/core/testing/property`; issue #22). Each
 * property runs on a fixed list of seeds — every seed that once found a bug, plus a spread — and
 * on one random seed that the test file prints, so a failure in CI is replayed with one command:
 *
 *   KEEL_PROPERTY_SEED=<seed> [KEEL_PROPERTY_PATH=<path>] npx vitest run <file> -t <name>
 *
 * Pure like the rest of the kit: the caller hands in the environment, its random seed and
 * fast-check itself, so the kit depends on neither (and is not re-exported from its index).
 */
export const FIXED_PROPERTY_SEEDS: readonly number[] = [
  // codec: a snapChunk whose configuration had a learner named __proto__ (issue #22).
  1968231919,
  // codec: a learner named __proto__ made the encoder read Object.prototype as its address.
  1350178720, 1, 20_261_203,
];

/** The part of fast-check used here: pass the module (`import fc from 'fast-check'`). */
export interface FastCheck {
  assert<Ts>(property: IAsyncProperty<Ts>, params?: Parameters<Ts>): Promise<void>;
  assert<Ts>(property: IProperty<Ts>, params?: Parameters<Ts>): void;
}

export interface PropertyRunner {
  /** The seeds every property runs: the pinned one alone, else the fixed ones and the random one. */
  readonly seeds: readonly number[];
  /** fc.assert on every seed, `numRuns` each; a failure names its seed and how to replay it. */
  assert<Ts>(property: IProperty<Ts>, params?: { readonly numRuns?: number }): void;
  /** The same for an fc.asyncProperty. */
  assertAsync<Ts>(property: IAsyncProperty<Ts>, params?: { readonly numRuns?: number }): Promise<void>;
}

export interface PropertyRunnerOptions {
  readonly fc: FastCheck;
  /** KEEL_PROPERTY_SEED: run this seed alone. */
  readonly pinnedSeed?: string | undefined;
  /** KEEL_PROPERTY_PATH: fast-check's path of a failure, to jump to its counterexample. */
  readonly path?: string | undefined;
  /** The file's random seed (the caller draws and prints it). */
  readonly randomSeed: number;
  /** How to replay a seed, for the failure message (see replayCommand). */
  readonly replay: (seed: number) => string;
}

export function propertyRunner(o: PropertyRunnerOptions): PropertyRunner {
  let seeds: readonly number[];
  if (o.pinnedSeed !== undefined) {
    const seed = Number(o.pinnedSeed);
    if (!Number.isInteger(seed)) throw new Error(`KEEL_PROPERTY_SEED=${o.pinnedSeed} is not an integer`);
    seeds = [seed];
  } else {
    seeds = [...FIXED_PROPERTY_SEEDS, o.randomSeed];
  }
  const params = (seed: number, numRuns: number | undefined) => ({
    seed,
    ...(numRuns !== undefined ? { numRuns } : {}),
    ...(o.path !== undefined ? { path: o.path } : {}),
  });
  const failed = (seed: number, err: unknown): Error =>
    new Error(`property failed with seed ${seed}; replay: ${o.replay(seed)}\n${(err as Error).message}`, {
      cause: err,
    });
  return {
    seeds,
    assert(property, p = {}) {
      for (const seed of seeds) {
        try {
          o.fc.assert(property, params(seed, p.numRuns));
        } catch (err) {
          throw failed(seed, err);
        }
      }
    },
    async assertAsync(property, p = {}) {
      for (const seed of seeds) {
        try {
          await o.fc.assert(property, params(seed, p.numRuns));
        } catch (err) {
          throw failed(seed, err);
        }
      }
    },
  };
}

/** The one command that replays `seed` for the running test (vitest's `expect.getState()`). */
export function replayCommand(
  seed: number,
  cwd: string,
  test: { readonly testPath?: string | undefined; readonly currentTestName?: string | undefined },
): string {
  const path = test.testPath ?? '<test file>';
  const file = path.startsWith(`${cwd}/`) ? path.slice(cwd.length + 1) : path;
  const name = (test.currentTestName ?? '').split(' > ').at(-1) ?? '';
  return `KEEL_PROPERTY_SEED=${seed} npx vitest run ${file} -t ${JSON.stringify(name)} (in ${cwd})`;
}
