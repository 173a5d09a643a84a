import { type Entry, EntryType, type HardState, type Ready, Role, type SoftState } from '@keel/core';
import { MemoryLogStore } from '@keel/core/testing';
import { describe, expect, it } from 'vitest';
import { InvariantChecker, Property } from '../src/invariants.js';

const enc = new TextEncoder();

function e(index: number, term: number, data = `${index}@${term}`): Entry {
  return { index, term, type: EntryType.Normal, data: enc.encode(data) };
}

let readyNumber = 0;
function ready(parts: { soft?: SoftState; hard?: HardState; entries?: Entry[]; committed?: Entry[] }): Ready {
  return {
    number: ++readyNumber,
    softState: parts.soft ?? null,
    hardState: parts.hard ?? null,
    entries: parts.entries ?? [],
    messages: [],
    messagesAfterPersist: [],
    committed: parts.committed ?? [],
    readStates: [],
    snapshot: null,
    conf: null,
  } as Ready;
}

const leader = (term: number, id: string): SoftState => ({ role: Role.Leader, leader: id, term });
const follower = (term: number, id: string | null): SoftState => ({ role: Role.Follower, leader: id, term });

function checker(ids: string[] = ['a', 'b', 'c']) {
  const c = new InvariantChecker(() => 0);
  for (const id of ids) c.nodeStarted(id, new MemoryLogStore());
  const props = () => c.violations.map((v) => v.property);
  return { c, props };
}

describe('InvariantChecker', () => {
  it('accepts a normal run: elect, replicate, commit, apply', () => {
    const { c, props } = checker();
    c.onReady('a', ready({ hard: { term: 1, vote: 'a', commit: 0 } }));
    c.onReady('b', ready({ hard: { term: 1, vote: 'a', commit: 0 } }));
    c.onReady('a', ready({ soft: leader(1, 'a'), entries: [e(1, 1)] }));
    c.onReady('b', ready({ soft: follower(1, 'a'), entries: [e(1, 1)] }));
    c.onReady(
      'a',
      ready({ entries: [e(2, 1)], hard: { term: 1, vote: 'a', commit: 1 }, committed: [e(1, 1)] }),
    );
    c.onApply('a', e(1, 1));
    c.onReady(
      'b',
      ready({ entries: [e(2, 1)], hard: { term: 1, vote: 'a', commit: 2 }, committed: [e(1, 1), e(2, 1)] }),
    );
    c.onApply('b', e(1, 1));
    c.onApply('b', e(2, 1));
    expect(props()).toEqual([]);
    expect(c.commitIndex).toBe(2);
  });

  it('Election Safety: two leaders in one term', () => {
    const { c, props } = checker();
    c.onReady('a', ready({ soft: leader(2, 'a') }));
    c.onReady('b', ready({ soft: leader(2, 'b') }));
    expect(props()).toEqual([Property.ElectionSafety]);
  });

  it('one vote per term', () => {
    const { c, props } = checker();
    c.onReady('a', ready({ hard: { term: 3, vote: 'b', commit: 0 } }));
    c.onReady('a', ready({ hard: { term: 3, vote: 'c', commit: 0 } }));
    expect(props()).toEqual([Property.VoteOnce]);
  });

  it('Leader Append-Only: a leader rewriting its own log', () => {
    const { c, props } = checker();
    c.onReady('a', ready({ soft: leader(1, 'a'), entries: [e(1, 1), e(2, 1)] }));
    c.onReady('a', ready({ entries: [e(2, 1, 'other')] }));
    expect(props()).toContain(Property.LeaderAppendOnly);
  });

  it('a follower may truncate a conflicting suffix', () => {
    const { c, props } = checker();
    c.onReady('b', ready({ soft: follower(1, 'a'), entries: [e(1, 1), e(2, 1)] }));
    c.onReady('b', ready({ soft: follower(2, 'c'), entries: [e(2, 2)] }));
    expect(props()).toEqual([]);
  });

  it('Log Matching: same index and term, different content or history', () => {
    const { c, props } = checker();
    c.onReady('a', ready({ entries: [e(1, 1), e(2, 2)] }));
    c.onReady('b', ready({ entries: [e(1, 1, 'x'), e(2, 2)] }));
    expect(new Set(props())).toEqual(new Set([Property.LogMatching]));
  });

  it('State Machine Safety: different entries applied at one index', () => {
    const { c, props } = checker();
    c.onApply('a', e(1, 1));
    c.onApply('b', e(1, 2));
    expect(props()).toEqual([Property.StateMachineSafety]);
  });

  it('Leader Completeness: a new leader lacking a committed entry', () => {
    const { c, props } = checker();
    c.onReady('a', ready({ soft: leader(1, 'a'), entries: [e(1, 1)] }));
    c.onReady('a', ready({ entries: [e(2, 1)] }));
    c.onReady('b', ready({ soft: follower(1, 'a'), entries: [e(1, 1), e(2, 1)] }));
    c.onReady('a', ready({ hard: { term: 1, vote: 'a', commit: 2 }, committed: [e(1, 1), e(2, 1)] }));
    c.onReady('c', ready({ hard: { term: 2, vote: 'c', commit: 0 }, entries: [e(1, 1)] }));
    c.onReady('c', ready({ soft: leader(2, 'c') }));
    expect(props()).toEqual([Property.LeaderCompleteness]);
  });

  it('Figure 8: a leader advancing its commit index to an entry of an earlier term', () => {
    const { c, props } = checker();
    c.onReady('a', ready({ soft: follower(1, 'b'), entries: [e(1, 1), e(2, 1)] }));
    c.onReady(
      'a',
      ready({ soft: leader(3, 'a'), hard: { term: 3, vote: 'a', commit: 0 }, entries: [e(3, 3)] }),
    );
    c.onReady('a', ready({ hard: { term: 3, vote: 'a', commit: 2 }, committed: [e(1, 1), e(2, 1)] }));
    expect(props()).toEqual([Property.LeaderCommitRule]);
  });

  it('storage must hold what the Readys asked for', () => {
    const c = new InvariantChecker(() => 0);
    const store = new MemoryLogStore();
    c.nodeStarted('a', store);
    c.onReady('a', ready({ entries: [e(1, 1)] }));
    c.checkStore('a', store);
    expect(c.violations.map((v) => v.property)).toEqual([Property.Storage]);
  });

  it('a restarted member is checked against what its store recovered', () => {
    const c = new InvariantChecker(() => 0);
    c.nodeStarted('a', new MemoryLogStore());
    c.onReady('a', ready({ entries: [e(1, 1), e(2, 1)] }));
    const recovered = new MemoryLogStore({
      initial: {
        hardState: { term: 1, vote: null, commit: 0 },
        entries: [e(1, 1), e(2, 1, 'changed on disk')],
      },
    });
    c.nodeStopped('a');
    c.nodeStarted('a', recovered);
    expect(c.violations.map((v) => v.property)).toEqual([Property.LogMatching]);
  });

  it('disabled properties are not reported', () => {
    const c = new InvariantChecker(
      () => 0,
      () => {},
      new Set([Property.ElectionSafety]),
    );
    c.nodeStarted('a', new MemoryLogStore());
    c.nodeStarted('b', new MemoryLogStore());
    c.onReady('a', ready({ soft: leader(2, 'a') }));
    c.onReady('b', ready({ soft: leader(2, 'b') }));
    expect(c.ok).toBe(true);
  });
});
