import { describe, expect, it } from 'vitest';
import * as sim from '../src/index.js';

// The package's public surface, pinned so that a change to it is deliberate (and gets a changeset).
// These are the names `@keel/core/testing` exported for the simulator before issue #16.
describe('@keel/sim exports', () => {
  it('exports exactly the simulator', () => {
    expect(Object.keys(sim).sort()).toEqual([
      'ALL_FAULTS',
      'Fault',
      'FaultMix',
      'InvariantChecker',
      'Nemesis',
      'Property',
      'RegisterMachine',
      'SimCluster',
      'SimDisk',
      'SimHost',
      'SimNetwork',
      'SimScheduler',
      'SimTimer',
      'Workload',
      'catchUpTransfer',
      'decodeCommand',
      'deriveSeed',
      'describeMessage',
      'describeReady',
      'encodeCommand',
      'nodesForSeed',
      'runSeed',
    ]);
  });
});
