import { describe, expect, it } from 'vitest';
import { FaultMix, runSeed } from '../src/index.js';
import { mixStart, runSeeds, SIM_SEEDS } from './helpers/seeds.js';

// Membership changes (add a learner and promote it, remove, replace) and snapshot installs mixed
// with crashes (some right after a snapshot was saved, around the log compaction), partitions and
// message loss. Every safety invariant (over compacted logs and changing configurations), liveness
// after healing, and linearizability. An eighth of KEEL_SIM_SEEDS on top of the other files.
const SIZES = [3, 5] as const;
const PER_CASE = Math.max(1, Math.ceil(SIM_SEEDS / 8 / SIZES.length));

describe('simulation, faults: membership (with snapshots and compaction)', () => {
  it.each(SIZES)(
    `%i nodes, ${PER_CASE} seeds: every invariant, liveness after healing, linearizability`,
    async (nodes) => {
      let proposed = 0;
      let restored = 0;
      const failures = await runSeeds(
        mixStart('membership', nodes),
        PER_CASE,
        { nodes, faults: FaultMix.membership! },
        (seed) => `pnpm sim --seed ${seed} --nodes ${nodes} --faults membership --trace`,
        (r) => {
          proposed += r.stats.membership.proposed;
          restored += r.stats.snapshots.restored;
        },
      );
      expect(failures).toEqual([]);
      // The mix must actually exercise what it claims to.
      expect(proposed).toBeGreaterThan(PER_CASE);
      expect(restored).toBeGreaterThan(PER_CASE);
    },
    600_000,
  );
});

describe('regressions found by `pnpm sim --seeds 20000`', () => {
  it.each([
    // A follower saved a snapshot from a leader that lost its term while the save was in flight (the
    // engine refused it), then installed the new leader's older one: it must restore the bytes it
    // received, not the store's newer latest.
    [16628, 'installs the snapshot it received, not a newer one the engine refused'],
    [17267, 'installs the snapshot it received, not a newer one the engine refused'],
    // A deposed leader of an older term still listed a configuration whose entries had been
    // replaced: the durability check must use only the newest term's leader.
    [12823, "checks durability against the newest leader's configuration only"],
    [18229, "checks durability against the newest leader's configuration only"],
    [18424, "checks durability against the newest leader's configuration only"],
    // Members added while cut off held no log and no configuration; a candidate whose configuration
    // listed them as voters needs their votes: they must answer (learners and joiners answer vote
    // requests, only the candidate decides whose vote counts) — else no leader, ever.
    [24156, 'elects a leader with voters that do not know they are voters'],
    [27240, 'elects a leader with voters that do not know they are voters'],
    [30465, 'elects a leader with voters that do not know they are voters'],
    [34281, 'elects a leader with voters that do not know they are voters'],
    // With learners answering votes, a removed and wiped member re-added under its old id let a
    // stale candidate that still counted that id win (Leader Completeness): ids are never reused.
    [13485, 'never reuses the id of a removed, wiped member'],
    [14232, 'never reuses the id of a removed, wiped member'],
    [17124, 'never reuses the id of a removed, wiped member'],
  ])('seed %i %s', (seed) => {
    expect(runSeed(seed).violations).toEqual([]);
  });
});
