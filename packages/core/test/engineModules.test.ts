import { describe, expect, it } from 'vitest';
import { ReadOnly } from '../src/raft/ReadOnly.js';
import type { Entry, NodeId } from '../src/raft/types.js';
import { PendingRequests } from '../src/runtime/PendingRequests.js';
import type { ProposeOutcome, ReadOutcome } from '../src/runtime/RaftNode.js';
import { ManualScheduler } from './helpers/manualScheduler.js';

describe('ReadOnly (§6.4 reads on the leader)', () => {
  function setup(lease = false) {
    const sent: { to: NodeId; context: number; index: number; reject: boolean }[] = [];
    const reads = new ReadOnly('a', { on: lease, ticks: 8 }, (to, context, index, reject) =>
      sent.push({ to, context, index, reject }),
    );
    return { reads, sent };
  }

  it('releases a read only once a quorum acknowledged a round that started after it arrived', () => {
    const { reads, sent } = setup();
    reads.startRound(); // round 1 left before the read
    reads.request('b', 7, 5, false);
    expect(reads.roundWanted).toBe(true);
    reads.confirm(1);
    expect(sent).toEqual([]);
    expect(reads.startRound()).toBe(2);
    reads.confirm(2);
    expect(sent).toEqual([{ to: 'b', context: 7, index: 5, reject: false }]);
  });

  it('holds reads until an entry of the term commits, and fails them all when leadership ends', () => {
    const { reads, sent } = setup();
    reads.request('a', 1, null, false);
    reads.request('c', 2, 3, false);
    expect(reads.takeAwaitingTermCommit()).toEqual([{ from: 'a', context: 1 }]);
    reads.request('a', 1, null, false);
    reads.failAll();
    expect(reads.takeStates()).toEqual([{ context: 1, ok: false, reason: 'leadership-lost' }]);
    expect(sent).toEqual([{ to: 'c', context: 2, index: 0, reject: true }]);
  });

  it('a confirmed round extends the lease from when it was sent; TimeoutNow revokes it', () => {
    const { reads } = setup(true);
    reads.tick();
    reads.startRound(); // sent at leader tick 1: lease until tick 9
    for (let i = 0; i < 5; i++) reads.tick();
    reads.confirm(1);
    expect(reads.leaseValid(false)).toBe(true);
    expect(reads.leaseValid(true)).toBe(false);
    for (let i = 0; i < 3; i++) reads.tick();
    expect(reads.leaseValid(false)).toBe(false);
    reads.startRound();
    reads.confirm(2);
    expect(reads.leaseValid(false)).toBe(true);
    reads.revokeLease();
    expect(reads.leaseValid(false)).toBe(false);
  });
});

describe('PendingRequests (the driver waiters)', () => {
  const entry = (index: number, term: number): Entry => ({ index, term, type: 1, data: new Uint8Array(0) });

  it('answers each waiter exactly once: by its entry, a newer leader, a timeout or stop', () => {
    const sched = new ManualScheduler();
    const pending = new PendingRequests<string>(sched, 100, () => ({
      voters: [],
      learners: [],
      addresses: new Map(),
    }));
    const outcomes: (ProposeOutcome<string> | ReadOutcome)[] = [];
    pending.addProposal(3, 2, (o) => outcomes.push(o));
    pending.addProposal(4, 2, (o) => outcomes.push(o));
    pending.applied(entry(3, 2), 'ok');
    pending.applied(entry(4, 3), undefined);
    const timedOut = pending.nextReadContext();
    pending.addRead(timedOut, (o) => outcomes.push(o));
    sched.advance(100);
    pending.readState({ context: timedOut, ok: true, index: 1 }, 9); // late: ignored
    const waits = pending.nextReadContext();
    pending.addRead(waits, (o) => outcomes.push(o));
    pending.readState({ context: waits, ok: true, index: 6 }, 5);
    pending.serveReads(6);
    pending.addProposal(9, 3, (o) => outcomes.push(o));
    pending.stopAll();
    pending.stopAll();
    expect(outcomes).toEqual([
      { ok: true, index: 3, result: 'ok' },
      { ok: false, reason: 'proposal-dropped', message: 'entry 4 was replaced by a newer leader' },
      { ok: false, reason: 'timeout', message: 'read not confirmed within 100 ms' },
      { ok: true, index: 6 },
      { ok: false, reason: 'stopped', message: 'the node stopped' },
    ]);
  });

  it('answers a membership change whose index a newer leader filled with another kind of entry', () => {
    const pending = new PendingRequests<string>(new ManualScheduler(), 100, () => ({
      voters: [],
      learners: [],
      addresses: new Map(),
    }));
    const outcomes: unknown[] = [];
    pending.addConfChange(5, 2, (o) => outcomes.push(o));
    pending.addConfChange(6, 2, (o) => outcomes.push(o));
    pending.applied({ index: 5, term: 3, type: 1, data: new Uint8Array(0) }, 'a command'); // Normal
    pending.applied({ index: 6, term: 3, type: 0, data: new Uint8Array(0) }, undefined); // Noop
    expect(outcomes).toEqual([
      { ok: false, reason: 'proposal-dropped', message: 'entry 5 was replaced by a newer leader' },
      { ok: false, reason: 'proposal-dropped', message: 'entry 6 was replaced by a newer leader' },
    ]);
  });
});
