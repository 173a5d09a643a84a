import { describe, expect, it } from 'vitest';
import { FaultMix, Property, runSeed, type SimOptions } from '../src/index.js';

/** The first seed in [0, limit) whose run reports a violation, with that violation. */
function firstCaught(options: SimOptions, limit: number): { seed: number; violation: string } | null {
  for (let seed = 0; seed < limit; seed++) {
    const r = runSeed(seed, options);
    if (!r.ok) return { seed, violation: r.violations[0]! };
  }
  return null;
}

// The checks must be able to fail. Each test plants a known bug behind a test-only switch and
// asserts the simulator catches it within a bounded number of seeds (deterministic, so the seed
// found is always the same one).
describe('planted bugs are caught', () => {
  it('granting two votes in one term: caught as a second vote', () => {
    const hit = firstCaught({ bugs: { doubleVote: true } }, 50);
    expect(hit?.violation).toMatch(/^vote-once .*voted for \S+ and then \S+ in term \d+/);
  });

  it('granting two votes in one term: with that check off, caught as two leaders in one term', () => {
    const hit = firstCaught({ bugs: { doubleVote: true }, disabledChecks: [Property.VoteOnce] }, 100);
    expect(hit?.violation).toMatch(/^election-safety .*both leaders of term \d+/);
  });

  it("counting replicas of an earlier term's entry toward commit (Figure 8)", () => {
    const hit = firstCaught({ bugs: { commitOldTermByCounting: true } }, 100);
    expect(hit?.violation).toMatch(
      /^leader-commit-rule .*advanced its commit index to \d+@\d+, an entry of an earlier term/,
    );
  });

  it('reads served by a leader without the log: caught by the linearizability checker', () => {
    const hit = firstCaught({ unsafeLocalReads: true, faults: FaultMix.partitions! }, 300);
    expect(hit?.violation).toMatch(/^linearizability .*not linearizable: key "k\d"/);
  });

  it('a disk that acknowledges writes before they are durable: caught at the first commit', () => {
    const hit = firstCaught({ lyingDisks: true, faults: FaultMix.crashes! }, 10);
    expect(hit?.violation).toMatch(/^durability .*is committed but durable on only \d+ of \d+ members/);
  });

  it('counting learners as voters: caught as two leaders in one term', () => {
    const hit = firstCaught({ bugs: { countLearnerVotes: true }, faults: FaultMix.membership! }, 50);
    expect(hit?.violation).toMatch(/^election-safety .*both leaders of term \d+/);
  });

  it('accepting a configuration change while another is uncommitted (§4.1): caught as a commit without a quorum', () => {
    const hit = firstCaught({ bugs: { skipConfCommitCheck: true }, faults: FaultMix.membership! }, 100);
    expect(hit?.violation).toMatch(/^durability .*is committed but durable on only \d+ of \d+ members/);
  });

  it('no TimeoutNow when the transfer target catches up by InstallSnapshot (issue #15): caught as a stalled hand-over', () => {
    const hit = firstCaught({ bugs: { noHandOverAfterSnapshot: true }, faults: FaultMix.transfers! }, 100);
    expect(hit?.violation).toMatch(
      /^transfer-complete .*(has matched the whole log \(\d+\) for [\d.]+ms but no TimeoutNow|ended without TimeoutNow)/,
    );
    expect(runSeed(hit!.seed, { faults: FaultMix.transfers! }).violations).toEqual([]);
  });

  it('counts a hand-over sent in the same Ready as a removed leader hand-over to another voter (seed 4650)', () => {
    // The leader had proposed its own removal with a transfer to n6 pending: n6's ack made it send
    // TimeoutNow to n6, and the removal's commit then made it hand over to n3 too, both in one
    // Ready. The check once kept only the last TimeoutNow and reported the transfer as never handed over.
    expect(runSeed(4650).violations).toEqual([]);
  });

  it('the same seeds pass without the bugs', () => {
    for (let seed = 0; seed < 10; seed++) expect(runSeed(seed).violations).toEqual([]);
    for (let seed = 0; seed < 25; seed++) {
      expect(runSeed(seed, { faults: FaultMix.membership! }).violations).toEqual([]);
    }
  });
});
