/**
 * `lazyCommitAnnounce`: a commit index that no append carries yet is announced at the leader's
 * next tick, not in a commit-only append of its own at once; the next append or heartbeat carries
 * it instead. Off, the commit-only append leaves at once (the engine before this option).
 */
import { describe, expect, it } from 'vitest';
import type { Message } from '../src/raft/types.js';
import { TestCluster } from './helpers/cluster.js';

const commitOnly = (m: Message): boolean => m.type === 'app' && m.entries.length === 0;

describe('lazyCommitAnnounce', () => {
  it('announces a commit at the next tick, once, and followers then apply it', () => {
    const c = new TestCluster(['a', 'b', 'c'], { electionTicks: 10, heartbeatTicks: 5 });
    c.elect('a');
    c.tick('a');
    c.deliverAll();
    c.log.length = 0;
    c.propose('a', 'x');
    c.deliverAll();
    // Committed on the leader, appended on the followers, not yet announced.
    expect(c.raft('a').log.committed).toBe(2);
    expect(c.raft('b').log.committed).toBe(1);
    expect(c.log.filter(commitOnly)).toEqual([]);
    expect(c.raft('a').ticksUntilAction()).toBe(1);
    c.tick('a');
    c.deliverAll();
    expect(c.log.filter(commitOnly).map((m) => [m.to, (m as { commit: number }).commit])).toEqual([
      ['b', 2],
      ['c', 2],
    ]);
    expect(c.appliedData('b').at(-1)).toBe('x');
    expect(c.appliedData('c').at(-1)).toBe('x');
    // Nothing more is owed: back to sleeping until the heartbeat.
    expect(c.raft('a').ticksUntilAction()).toBeGreaterThan(1);
  });

  it('the next append carries the commit: back-to-back writes send no commit-only appends', () => {
    const c = new TestCluster(['a', 'b', 'c'], { electionTicks: 10, heartbeatTicks: 5 });
    c.elect('a');
    c.tick('a');
    c.deliverAll();
    c.log.length = 0;
    for (let i = 0; i < 5; i++) {
      c.propose('a', `x${i}`);
      c.deliverAll();
    }
    expect(c.log.filter(commitOnly)).toEqual([]);
    // Each follower applied all but the last write, whose commit the next tick announces.
    expect(c.appliedData('b').at(-1)).toBe('x3');
    c.tick('a');
    c.deliverAll();
    expect(c.appliedData('b').at(-1)).toBe('x4');
    expect(c.log.filter(commitOnly).length).toBe(2);
  });

  it('a heartbeat due at that tick carries the commit instead of an append', () => {
    const c = new TestCluster(['a', 'b', 'c'], { electionTicks: 10, heartbeatTicks: 1 });
    c.elect('a');
    c.tick('a');
    c.deliverAll();
    c.log.length = 0;
    c.propose('a', 'x');
    c.deliverAll();
    c.tick('a');
    c.deliverAll();
    expect(c.log.filter(commitOnly)).toEqual([]);
    expect(c.appliedData('b').at(-1)).toBe('x');
  });

  it('off: the commit-only appends leave at once', () => {
    const c = new TestCluster(['a', 'b', 'c'], {
      electionTicks: 10,
      heartbeatTicks: 5,
      lazyCommitAnnounce: false,
    });
    c.elect('a');
    c.log.length = 0;
    c.propose('a', 'x');
    c.deliverAll();
    // To the follower whose ack made the commit (the other one had not acked yet), no tick needed.
    expect(c.log.filter(commitOnly).map((m) => m.to)).toEqual(['b']);
    expect(c.appliedData('b').at(-1)).toBe('x');
  });
});
