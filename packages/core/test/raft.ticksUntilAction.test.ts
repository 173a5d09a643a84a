/**
 * `Raft.ticksUntilAction`: the ticks before the one it names only count (no Ready), the one it
 * names can act. The driver sleeps on it (lazy ticks), so an answer that is too late would delay a
 * heartbeat or an election: checked for leaders, followers, candidates and a leader in transfer.
 */
import { describe, expect, it } from 'vitest';
import type { Raft } from '../src/raft/Raft.js';
import { TestCluster } from './helpers/cluster.js';

/** Ticks `raft` up to the named tick: nothing before it, and returns whether the named one acted. */
function tickToAction(raft: Raft): boolean {
  const k = raft.ticksUntilAction();
  expect(k).toBeGreaterThanOrEqual(1);
  for (let i = 1; i < k; i++) {
    raft.tick();
    expect(raft.hasReady()).toBe(false);
  }
  raft.tick();
  return raft.hasReady();
}

describe('ticksUntilAction', () => {
  it('a leader: every heartbeat falls on a named tick', () => {
    const c = new TestCluster(['a', 'b', 'c'], { electionTicks: 10, heartbeatTicks: 3 });
    c.elect('a');
    let heartbeats = 0;
    for (let round = 0; round < 20; round++) {
      // The named tick is the heartbeat's or the CheckQuorum's, which acts only without a quorum.
      expect(c.raft('a').ticksUntilAction()).toBeLessThanOrEqual(3);
      if (tickToAction(c.raft('a'))) heartbeats++;
      c.deliverAll();
    }
    expect(heartbeats).toBeGreaterThanOrEqual(15);
  });

  it('an isolated leader steps down (CheckQuorum) on a named tick', () => {
    const c = new TestCluster(['a', 'b', 'c'], { electionTicks: 10, heartbeatTicks: 3 });
    c.elect('a');
    c.isolate('a');
    for (let i = 0; i < 10 && c.raft('a').role === 'leader'; i++) {
      tickToAction(c.raft('a'));
      c.deliverAll();
    }
    expect(c.raft('a').role).toBe('follower');
  });

  it('a follower that hears nothing: the named tick starts its campaign', () => {
    for (let seed = 1; seed <= 10; seed++) {
      const c = new TestCluster(['a', 'b', 'c'], { electionTicks: 10, heartbeatTicks: 3 }, seed);
      c.elect('a');
      c.isolate('b');
      expect(c.raft('b').ticksUntilAction()).toBeGreaterThanOrEqual(1);
      expect(tickToAction(c.raft('b'))).toBe(true);
      c.flush();
      expect(['pre-candidate', 'candidate']).toContain(c.raft('b').role);
      // A candidate that hears nothing campaigns again at its named tick.
      expect(tickToAction(c.raft('b'))).toBe(true);
    }
  });

  it('a heartbeat received pushes the follower’s named tick back', () => {
    const c = new TestCluster(['a', 'b', 'c'], { electionTicks: 10, heartbeatTicks: 3 });
    c.elect('a');
    c.tick('b', 2);
    const before = c.raft('b').ticksUntilAction();
    c.tick('a', 3);
    c.deliverAll();
    expect(c.raft('b').ticksUntilAction()).toBeGreaterThan(before);
  });

  it('a leader in transfer: the named tick is no later than the transfer timeout', () => {
    const c = new TestCluster(['a', 'b', 'c'], { electionTicks: 10, heartbeatTicks: 9 });
    c.elect('a');
    c.isolate('b');
    c.raft('a').transferLeader('b');
    c.flush();
    for (let i = 0; i < 12 && c.raft('a').transferee !== null; i++) {
      expect(c.raft('a').ticksUntilAction()).toBeLessThanOrEqual(10);
      c.tick('a', 1);
    }
    expect(c.raft('a').transferee).toBeNull();
  });
});
