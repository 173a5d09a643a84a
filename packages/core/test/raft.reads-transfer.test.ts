/**
 * Linearizable reads (§6.4), lease reads, leadership transfer (§3.10) and fast failover on a
 * dropped connection, as scripted scenarios against the engine.
 */
import { describe, expect, it } from 'vitest';
import type { Message, ReadState } from '../src/raft/types.js';
import { TestCluster } from './helpers/cluster.js';

/** Every read state a node has produced so far. */
function readStates(c: TestCluster, id: string): ReadState[] {
  return c.node(id).readys.flatMap((rd) => [...rd.readStates]);
}

function settle(c: TestCluster, ticks = 3): void {
  for (let i = 0; i < ticks; i++) {
    c.tickAll(1);
    c.deliverAll();
  }
}

describe('ReadIndex (§6.4)', () => {
  it('the leader releases a read at its commit index after one heartbeat round to a quorum', () => {
    const c = new TestCluster(['a', 'b', 'c']);
    c.elect('a');
    c.propose('a', 'x');
    c.deliverAll();
    const commit = c.raft('a').log.committed;
    expect(c.raft('a').readIndex(7)).toEqual({ ok: true });
    c.flush();
    expect(readStates(c, 'a')).toEqual([]);
    const hb = c.queue.filter((m) => m.type === 'heartbeat');
    expect(hb.length).toBe(2);
    c.deliverAll();
    expect(readStates(c, 'a')).toEqual([{ context: 7, ok: true, index: commit }]);
  });

  it('batches: one round serves every read that arrived before it started', () => {
    const c = new TestCluster(['a', 'b', 'c']);
    c.elect('a');
    c.log.length = 0;
    for (let ctx = 1; ctx <= 50; ctx++) c.raft('a').readIndex(ctx);
    c.deliverAll();
    expect(c.log.filter((m) => m.type === 'heartbeat').length).toBe(2);
    expect(readStates(c, 'a').map((r) => r.context)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
  });

  it('a new leader waits until an entry of its own term is committed', () => {
    const c = new TestCluster(['a', 'b', 'c']);
    c.raft('a').campaign();
    // Deliver votes only: a leads but its no-op is not committed yet.
    c.deliverAll(
      (m) => m.type === 'preVote' || m.type === 'preVoteResp' || m.type === 'vote' || m.type === 'voteResp',
    );
    expect(c.raft('a').role).toBe('leader');
    c.raft('a').readIndex(1);
    c.queue = c.queue.filter((m) => m.type !== 'app');
    c.tick('a', 1);
    c.deliverAll((m) => m.type !== 'app' && m.type !== 'appResp');
    expect(readStates(c, 'a')).toEqual([]);
    c.tickAll(1);
    c.deliverAll();
    c.tickAll(1);
    c.deliverAll();
    const rs = readStates(c, 'a');
    expect(rs).toHaveLength(1);
    expect(rs[0]).toMatchObject({ context: 1, ok: true });
    if (rs[0]!.ok) expect(c.raft('a').log.term(rs[0]!.index)).toBe(c.raft('a').term);
  });

  it('a follower asks the leader for the read index, then serves once it has applied it', () => {
    const c = new TestCluster(['a', 'b', 'c']);
    c.elect('a');
    c.propose('a', 'x');
    c.deliverAll();
    expect(c.raft('b').readIndex(3)).toEqual({ ok: true });
    c.deliverAll();
    const rs = readStates(c, 'b');
    expect(rs).toEqual([{ context: 3, ok: true, index: c.raft('a').log.committed }]);
  });

  it('a leader cut off in a minority never confirms a read: it fails when leadership is lost', () => {
    const c = new TestCluster(['a', 'b', 'c']);
    c.elect('a');
    c.isolate('a');
    c.raft('a').readIndex(9);
    // The majority elects a new leader and commits a write the old leader never sees.
    settle(c, 40);
    const newLeader = c.leader() === 'a' ? null : c.leader();
    expect(c.raft('a').role).not.toBe('leader');
    expect(
      newLeader === 'b' ||
        newLeader === 'c' ||
        c.raft('b').role === 'leader' ||
        c.raft('c').role === 'leader',
    ).toBe(true);
    expect(readStates(c, 'a')).toEqual([{ context: 9, ok: false, reason: 'leadership-lost' }]);
  });

  it('a node with no known leader refuses a read at once', () => {
    const c = new TestCluster(['a', 'b', 'c']);
    expect(c.raft('b').readIndex(1)).toEqual({ ok: false, reason: 'not-leader', leaderHint: null });
  });
});

/**
 * With lease reads a restarted or fresh node assumes it may have just heard from a leader and
 * grants no vote for an election timeout, so elect only after that window.
 */
function leaseCluster(extra: Record<string, unknown> = {}): TestCluster {
  const c = new TestCluster(['a', 'b', 'c'], {
    readLease: true,
    electionTicks: 10,
    maxClockDriftTicks: 2,
    ...extra,
  });
  for (let i = 0; i < 100 && c.leader() === null; i++) settle(c, 1);
  // Whoever won, hand leadership to a (a transfer bypasses stickiness by design).
  if (c.leader() !== 'a') {
    c.raft(c.leader()!).transferLeader('a');
    c.deliverAll();
  }
  expect(c.leader()).toBe('a');
  return c;
}

describe('lease reads (opt-in)', () => {
  it('a fresh member grants no vote within its first election timeout (it may have had a leader)', () => {
    const c = new TestCluster(['a', 'b', 'c'], { readLease: true });
    c.elect('a');
    expect(c.raft('a').role).not.toBe('leader');
  });

  it('serve without a round while the lease holds, and need a round again once it has run out', () => {
    const c = leaseCluster();
    settle(c, 2); // a heartbeat round confirmed: the lease starts
    c.log.length = 0;
    c.raft('a').readIndex(1);
    c.flush();
    expect(readStates(c, 'a').at(-1)).toMatchObject({ context: 1, ok: true });
    expect(c.log.filter((m) => m.type === 'heartbeat').length).toBe(0);
    // Followers go silent: after electionTicks - drift ticks the lease has expired.
    c.isolate('a');
    for (let i = 0; i < 8; i++) c.tick('a', 1);
    c.raft('a').readIndex(2);
    c.flush();
    expect(readStates(c, 'a').some((r) => r.context === 2)).toBe(false);
  });

  it('a leader transferring leadership gives up its lease first', () => {
    const c = leaseCluster();
    settle(c, 2);
    c.isolate('b');
    c.isolate('c');
    c.raft('a').transferLeader('b');
    c.raft('a').readIndex(5);
    c.flush();
    expect(readStates(c, 'a').some((r) => r.context === 5)).toBe(false);
  });

  it('is refused by configuration without CheckQuorum', () => {
    expect(() => new TestCluster(['a', 'b', 'c'], { readLease: true, checkQuorum: false })).toThrow(
      /checkQuorum/,
    );
  });
});

describe('leadership transfer (§3.10)', () => {
  it('transfers to an up-to-date follower: TimeoutNow, then it wins without PreVote', () => {
    const c = new TestCluster(['a', 'b', 'c']);
    c.elect('a');
    const term = c.raft('a').term;
    expect(c.raft('a').transferLeader('b')).toEqual({ ok: true });
    c.deliverAll();
    expect(c.raft('b').role).toBe('leader');
    expect(c.raft('b').term).toBe(term + 1);
    expect(c.log.some((m) => m.type === 'timeoutNow' && m.to === 'b')).toBe(true);
    expect(c.log.some((m) => m.type === 'vote' && m.from === 'b' && m.transfer)).toBe(true);
  });

  it('catches a lagging follower up before sending TimeoutNow', () => {
    const c = new TestCluster(['a', 'b', 'c']);
    c.elect('a');
    c.isolate('c');
    for (let i = 0; i < 20; i++) c.propose('a', `v${i}`);
    c.deliverAll();
    c.heal();
    c.log.length = 0;
    c.raft('a').transferLeader('c');
    c.deliverAll();
    const seq = c.log
      .filter((m) => m.to === 'c' && (m.type === 'app' || m.type === 'timeoutNow'))
      .map((m) => m.type);
    expect(seq.at(-1)).toBe('timeoutNow');
    expect(seq.filter((t) => t === 'app').length).toBeGreaterThan(0);
    expect(c.leader()).toBe('c');
    expect(c.raft('c').log.lastIndex()).toBeGreaterThanOrEqual(21);
  });

  it('stops accepting proposals while transferring', () => {
    const c = new TestCluster(['a', 'b', 'c']);
    c.elect('a');
    c.isolate('b');
    c.raft('a').transferLeader('b');
    expect(c.propose('a', 'x')).toMatchObject({ ok: false, reason: 'proposal-dropped' });
  });

  it('to a dead node aborts after an election timeout and the leader resumes', () => {
    const c = new TestCluster(['a', 'b', 'c'], { electionTicks: 10 });
    c.elect('a');
    c.isolate('b');
    c.raft('a').transferLeader('b');
    for (let i = 0; i < 10; i++) {
      c.tick('a', 1);
      c.tick('c', 1);
      c.deliverAll();
    }
    expect(c.leader()).toBe('a');
    expect(c.raft('a').transferee).toBe(null);
    expect(c.propose('a', 'after').ok).toBe(true);
  });

  it('rejects unknown members and non-leaders with a code', () => {
    const c = new TestCluster(['a', 'b', 'c']);
    c.elect('a');
    expect(c.raft('a').transferLeader('zz')).toMatchObject({ ok: false, reason: 'unknown-member' });
    expect(c.raft('b').transferLeader('c')).toEqual({ ok: false, reason: 'not-leader', leaderHint: 'a' });
  });
});

describe('fast failover on a dropped connection', () => {
  function deadLeader(): TestCluster {
    const c = new TestCluster(['a', 'b', 'c'], { electionTicks: 15 });
    c.elect('a');
    settle(c, 2);
    c.isolate('a');
    return c;
  }

  it('followers that lose the leader elect a new one within a few ticks, not an election timeout', () => {
    const c = deadLeader();
    c.raft('b').peerDisconnected('a');
    c.raft('c').peerDisconnected('a');
    let ticks = 0;
    while (c.raft('b').role !== 'leader' && c.raft('c').role !== 'leader' && ticks < 100) {
      c.tick('b', 1);
      c.tick('c', 1);
      c.deliverAll();
      ticks++;
    }
    expect(ticks).toBeLessThanOrEqual(3);
  });

  it('survivors that pre-campaign at the same moment do not split the vote: one yields (issue #15)', () => {
    // On a loaded machine the 1 + rank tick stagger is lost in scheduling delays: both survivors
    // pre-campaign together. If each granted the other's pre-vote, both would become candidates,
    // vote for themselves and wait out a whole election timeout.
    const c = deadLeader();
    const term = c.raft('b').term;
    c.log.length = 0;
    c.raft('b').peerDisconnected('a');
    c.raft('c').peerDisconnected('a');
    c.raft('b').campaign();
    c.raft('c').campaign();
    c.deliverAll();
    expect(c.raft('b').role).toBe('leader');
    expect(c.raft('b').term).toBe(term + 1);
    expect(c.raft('c').term).toBe(term + 1);
    expect(new Set(c.log.filter((m) => m.type === 'vote').map((m) => m.from))).toEqual(new Set(['b']));
  });

  it('a pre-candidate that outranks a rival asks it again: the rival may have ignored it under stickiness', () => {
    const c = deadLeader();
    // b learns of the dead leader first; c still trusts a and ignores b's pre-vote.
    c.raft('b').peerDisconnected('a');
    c.raft('b').campaign();
    c.deliverAll();
    expect(c.raft('b').role).toBe('pre-candidate');
    // Then c learns of it too and pre-campaigns: b refuses (it ranks first) and asks c again.
    c.raft('c').peerDisconnected('a');
    c.raft('c').campaign();
    c.deliverAll();
    expect(c.raft('b').role).toBe('leader');
    expect(c.raft('c').role).toBe('follower');
  });

  it('a pre-candidate never yields to a less up-to-date log, whatever the voter order', () => {
    const c = new TestCluster(['a', 'b', 'c'], { electionTicks: 15 });
    c.elect('a');
    settle(c, 2);
    // c holds one more entry than b: a reached only c before it died.
    c.cut.add('a->b');
    c.propose('a', 'x');
    c.deliverAll();
    c.isolate('a');
    expect(c.raft('c').log.lastIndex()).toBe(c.raft('b').log.lastIndex() + 1);
    c.raft('b').peerDisconnected('a');
    c.raft('c').peerDisconnected('a');
    c.raft('b').campaign();
    c.raft('c').campaign();
    c.deliverAll();
    expect(c.raft('c').role).toBe('leader');
    expect(c.raft('b').role).toBe('follower');
  });

  it('without the hint the same failover waits for an election timeout', () => {
    const c = deadLeader();
    let ticks = 0;
    while (c.raft('b').role !== 'leader' && c.raft('c').role !== 'leader' && ticks < 100) {
      c.tick('b', 1);
      c.tick('c', 1);
      c.deliverAll();
      ticks++;
    }
    expect(ticks).toBeGreaterThanOrEqual(15);
  });

  it('a false hint on a flapping link does not depose a live leader', () => {
    const c = new TestCluster(['a', 'b', 'c'], { electionTicks: 15 });
    c.elect('a');
    const term = c.raft('a').term;
    for (let round = 0; round < 30; round++) {
      // The a-b link drops and comes back every few ticks; c stays connected.
      c.raft('b').peerDisconnected('a');
      c.cut.add('a->b');
      c.cut.add('b->a');
      settle(c, 3);
      c.cut.clear();
      settle(c, 2);
    }
    expect(c.leader()).toBe('a');
    expect(c.raft('a').term).toBe(term);
  });

  it('a hung leader (no disconnect) is still detected by the normal timeout', () => {
    const c = deadLeader();
    settle(c, 40);
    expect(c.raft('b').role === 'leader' || c.raft('c').role === 'leader').toBe(true);
  });

  it('with lease reads on, a hint alone cannot win real votes inside the lease window', () => {
    const c = leaseCluster({ electionTicks: 15 });
    settle(c, 2);
    // A false hint at both followers while a is alive but its messages are delayed.
    c.isolate('a');
    c.log.length = 0;
    c.raft('b').peerDisconnected('a');
    c.raft('c').peerDisconnected('a');
    const votes: Message[] = [];
    for (let i = 0; i < 5; i++) {
      c.tick('b', 1);
      c.tick('c', 1);
      c.deliverAll();
    }
    votes.push(...c.log.filter((m) => m.type === 'voteResp' && !m.reject));
    expect(votes).toEqual([]);
    expect(c.raft('b').role).not.toBe('leader');
    expect(c.raft('c').role).not.toBe('leader');
  });
});

describe('leadership transfer: the transfer always ends (issue #15)', () => {
  it('to a follower that catches up by InstallSnapshot to the last index: TimeoutNow on the snapshot ack', () => {
    const c = new TestCluster(['a', 'b', 'c'], { electionTicks: 10 });
    c.elect('a');
    c.isolate('c');
    for (let i = 0; i < 10; i++) c.propose('a', `x${i}`);
    c.deliverAll();
    const last = c.raft('a').log.lastIndex();
    c.snapshot('a', last); // the snapshot covers everything: no entries follow it
    c.heal();
    c.log.length = 0;
    expect(c.raft('a').transferLeader('c')).toEqual({ ok: true });
    c.tick('a', 1); // heartbeat → c answers → probe → rejected → snapshot → installed → ack
    c.deliverAll();
    expect(c.node('c').installed.map((m) => m.index)).toEqual([last]);
    const toC = c.log.filter((m) => m.to === 'c' && (m.type === 'snapshot' || m.type === 'timeoutNow'));
    expect(toC.map((m) => m.type)).toEqual(['snapshot', 'timeoutNow']);
    expect(c.leader()).toBe('c');
  });

  it('transferLeader(self) while a transfer is pending cancels it: proposals are accepted again', () => {
    const c = new TestCluster(['a', 'b', 'c']);
    c.elect('a');
    c.isolate('b');
    c.raft('a').transferLeader('b');
    expect(c.raft('a').transferee).toBe('b');
    expect(c.raft('a').transferLeader('a')).toEqual({ ok: true });
    expect(c.raft('a').transferee).toBe(null);
    expect(c.propose('a', 'x').ok).toBe(true);
  });

  it('repeating transferLeader(sameTarget) does not restart the abort timer', () => {
    const c = new TestCluster(['a', 'b', 'c'], { electionTicks: 10 });
    c.elect('a');
    c.isolate('b');
    c.raft('a').transferLeader('b');
    // A caller retrying every few ticks must not keep the leader refusing writes forever.
    for (let i = 0; i < 10; i++) {
      if (i % 3 === 2) expect(c.raft('a').transferLeader('b')).toEqual({ ok: true });
      c.tick('a', 1);
      c.tick('c', 1);
      c.deliverAll();
    }
    expect(c.leader()).toBe('a');
    expect(c.raft('a').transferee).toBe(null);
    expect(c.propose('a', 'after').ok).toBe(true);
  });

  it('a transfer to another target replaces the pending one and starts its own timer', () => {
    const c = new TestCluster(['a', 'b', 'c'], { electionTicks: 10 });
    c.elect('a');
    c.isolate('b');
    c.isolate('c');
    c.raft('a').transferLeader('b');
    c.tick('a', 5);
    c.raft('a').transferLeader('c');
    expect(c.raft('a').transferee).toBe('c');
    c.tick('a', 9);
    expect(c.raft('a').transferee).toBe('c');
    c.tick('a', 1);
    expect(c.raft('a').transferee).toBe(null);
  });
});
