import fc from 'fast-check';
import { expect } from 'vitest';
import { propertyRunner, replayCommand } from '../../src/testing/property.js';

// The fixed seeds plus one random seed per test file, printed (docs/testing.md).
const runner = propertyRunner({
  fc,
  pinnedSeed: process.env.KEEL_PROPERTY_SEED,
  path: process.env.KEEL_PROPERTY_PATH,
  randomSeed: (Math.random() * 0x7fffffff) | 0,
  replay: (seed) => replayCommand(seed, process.cwd(), expect.getState()),
});
if (process.env.KEEL_PROPERTY_SEED === undefined)
  console.info(`property seeds: ${runner.seeds.join(', ')} (last: random)`);

export const assertProperty: typeof runner.assert = (property, params) => runner.assert(property, params);
export const assertAsyncProperty: typeof runner.assertAsync = (property, params) =>
  runner.assertAsync(property, params);
