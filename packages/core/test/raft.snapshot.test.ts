import { describe, expect, it } from 'vitest';
import { confOf } from '../src/raft/confChange.js';
import { Raft } from '../src/raft/Raft.js';
import { SeededRng } from '../src/raft/rng.js';
import type { Entry, Message, SnapshotMessage } from '../src/raft/types.js';
import { MemoryLogStore } from '../src/testing/MemoryLogStore.js';
import { TestCluster } from './helpers/cluster.js';

const enc = new TextEncoder();

/** a leads {a, b, c}; c is cut off while `n` entries commit on a and b; a snapshots at `snapAt`. */
function laggingFollower(n: number, snapAt: number): TestCluster {
  const c = new TestCluster(['a', 'b', 'c']);
  c.elect('a');
  c.isolate('c');
  c.cut.delete('a->b');
  c.cut.delete('b->a');
  for (let i = 0; i < n; i++) c.propose('a', `x${i}`);
  c.deliverAll();
  expect(c.raft('a').log.committed).toBe(n + 1);
  c.snapshot('a', snapAt);
  expect(c.node('a').store.firstIndex()).toBe(snapAt + 1);
  return c;
}

function snapshotsTo(c: TestCluster, to: string): SnapshotMessage[] {
  return c.log.filter((m): m is SnapshotMessage => m.type === 'snapshot' && m.to === to);
}

describe('§7 snapshots: a follower that needs compacted entries gets the snapshot', () => {
  it('a follower far behind is sent the snapshot, installs it, then receives the tail', () => {
    const c = laggingFollower(10, 8);
    c.heal();
    c.tick('a', 1); // heartbeat → c answers → probe → rejected → next below firstIndex
    c.deliverAll();
    const sent = snapshotsTo(c, 'c');
    expect(sent.length).toBe(1);
    expect(sent[0]!.meta).toEqual({ index: 8, term: 1, conf: confOf(['a', 'b', 'c']) });
    // The follower installed it: its log restarts after the snapshot and then holds the tail.
    expect(c.node('c').installed.map((m) => m.index)).toEqual([8]);
    const cs = c.node('c').store;
    expect(cs.firstIndex()).toBe(9);
    expect(cs.term(8)).toBe(1);
    expect(c.terms('c')).toEqual(c.terms('a'));
    // Once it acknowledged the snapshot the leader replicates normally (no second snapshot).
    c.raft('a').reportSnapshot('c', true);
    c.propose('a', 'after');
    c.deliverAll();
    expect(snapshotsTo(c, 'c').length).toBe(1);
    expect(c.raft('a').progressOf('c')).toMatchObject({ state: 'replicate', match: 12 });
    c.tick('a', 1); // the heartbeat carries the commit index
    c.deliverAll();
    expect(c.raft('c').log.committed).toBe(12);
    // Applying resumes after the snapshot: what it covers (2-8) is never applied entry by entry.
    expect(c.node('c').applied.map((e) => e.index)).toEqual([1, 9, 10, 11, 12]);
  });

  it('while a snapshot is under way the leader sends the follower no appends; a failure retries later', () => {
    const c = laggingFollower(6, 5);
    c.heal();
    c.tick('a', 1);
    c.deliverAll((m) => m.type !== 'snapshot'); // the snapshot is lost on its way
    expect(c.raft('a').progressOf('c')!.state).toBe('snapshot');
    const appsBefore = c.log.filter((m) => m.type === 'app' && m.to === 'c').length;
    c.propose('a', 'more');
    c.tick('a', 3);
    c.deliverAll((m) => m.type !== 'snapshot');
    expect(c.log.filter((m) => m.type === 'app' && m.to === 'c').length).toBe(appsBefore);
    // The driver gives up: back to probing, and the next heartbeat response starts a new snapshot.
    c.raft('a').reportSnapshot('c', false);
    expect(c.raft('a').progressOf('c')!.state).toBe('probe');
    const before = snapshotsTo(c, 'c').length;
    c.tick('a', 1);
    c.deliverAll();
    expect(snapshotsTo(c, 'c').length).toBe(before + 1);
    expect(c.terms('c')).toEqual(c.terms('a'));
  });

  it('a stale snapshot (at or below the commit index) is answered with the current state, not installed', () => {
    const c = new TestCluster(['a', 'b', 'c']);
    c.elect('a');
    for (let i = 0; i < 5; i++) c.propose('a', `x${i}`);
    c.deliverAll();
    // The leader announces the last commit index at its next tick (lazyCommitAnnounce).
    c.tick('a');
    c.deliverAll();
    const b = c.raft('b');
    expect(b.log.committed).toBe(6);
    const meta = { index: 4, term: 1, conf: confOf(['a', 'b', 'c']) };
    c.queue = [];
    b.step({ type: 'snapshot', from: 'a', to: 'b', term: 1, meta });
    const rd = b.ready()!;
    expect(rd.snapshot).toBeNull();
    expect(rd.messagesAfterPersist).toEqual([
      { type: 'appResp', from: 'b', to: 'a', term: 1, index: 6, reject: false, hintIndex: 0, hintTerm: 0 },
    ]);
    expect(c.node('b').store.firstIndex()).toBe(1);
  });

  it('a snapshot whose last entry the follower already holds only advances its commit index (Figure 13 step 6)', () => {
    const c = new TestCluster(['a', 'b', 'c']);
    c.elect('a');
    for (let i = 0; i < 4; i++) c.propose('a', `x${i}`);
    c.deliverAll((m) => !(m.type === 'app' && m.to === 'b' && m.commit >= 5) && m.type !== 'heartbeat');
    const b = c.raft('b');
    const committedBefore = b.log.committed;
    expect(b.log.lastIndex()).toBe(5);
    expect(committedBefore).toBeLessThan(5);
    b.step({
      type: 'snapshot',
      from: 'a',
      to: 'b',
      term: 1,
      meta: { index: 5, term: 1, conf: confOf(['a', 'b', 'c']) },
    });
    const rd = b.ready()!;
    expect(rd.snapshot).toBeNull();
    expect(b.log.committed).toBe(5);
    expect(rd.committed.map((e) => e.index).at(-1)).toBe(5);
  });

  it('the install acknowledgement waits for the Ready that carries the snapshot to be durable', () => {
    const store = new MemoryLogStore();
    const f = new Raft({ id: 'f', voters: ['l', 'f', 'g'], rng: new SeededRng(1) }, store);
    f.ready();
    const meta = { index: 40, term: 3, conf: confOf(['l', 'f', 'g']) };
    f.step({ type: 'snapshot', from: 'l', to: 'f', term: 3, meta });
    const rd = f.ready()!;
    expect(rd.snapshot).toEqual(meta);
    expect(rd.messages.filter((m) => m.type === 'appResp')).toEqual([]);
    expect(rd.messagesAfterPersist).toEqual([
      { type: 'appResp', from: 'f', to: 'l', term: 3, index: 40, reject: false, hintIndex: 0, hintTerm: 0 },
    ]);
    // Before the install is durable the engine already sees the log as starting after it.
    expect(f.log.firstIndex()).toBe(41);
    expect(f.log.term(40)).toBe(3);
    expect(f.log.lastIndex()).toBe(40);
    // An append right after the snapshot is accepted.
    f.step({
      type: 'app',
      from: 'l',
      to: 'f',
      term: 3,
      prevIndex: 40,
      prevTerm: 3,
      entries: [{ index: 41, term: 3, type: 1, data: enc.encode('x') }],
      commit: 41,
    });
    store.compact(40, 3);
    store.append(rd.entries, rd.hardState, () => {});
    store.sync();
    f.persisted(rd.number);
    const rd2 = f.ready()!;
    store.append(rd2.entries, rd2.hardState, () => {});
    store.sync();
    f.persisted(rd2.number);
    const rd3 = f.ready();
    const committed = [...rd2.committed, ...(rd3?.committed ?? [])];
    expect(committed.map((e: Entry) => e.index)).toEqual([41]);
  });
});

describe('§7 restart from a snapshot plus the log tail', () => {
  it('applying resumes after the snapshot index; the configuration comes from the snapshot', () => {
    const entries: Entry[] = [];
    for (let i = 21; i <= 25; i++) entries.push({ index: i, term: 2, type: 1, data: enc.encode(`e${i}`) });
    const store = new MemoryLogStore({
      initial: { hardState: { term: 2, vote: null, commit: 24 }, entries, firstIndex: 21, firstTerm: 2 },
    });
    const meta = { index: 20, term: 2, conf: confOf(['p', 'q', 'r'], ['s']) };
    // Bootstrap voters are ignored: the snapshot's configuration wins.
    const r = new Raft({ id: 'q', voters: ['q'], rng: new SeededRng(3) }, store, meta);
    expect(r.conf()).toEqual(meta.conf);
    expect(r.log.applied).toBe(20);
    expect(r.snapshot).toEqual(meta);
    const rd = r.ready()!;
    expect(rd.conf).toEqual(meta.conf);
    expect(rd.committed.map((e) => e.index)).toEqual([21, 22, 23, 24]);
  });

  it('a log compacted beyond the snapshot is refused (entries would be lost)', () => {
    const store = new MemoryLogStore({
      initial: { hardState: { term: 2, vote: null, commit: 30 }, entries: [], firstIndex: 31, firstTerm: 2 },
    });
    const meta = { index: 20, term: 2, conf: confOf(['q']) };
    expect(() => new Raft({ id: 'q', voters: ['q'], rng: new SeededRng(3) }, store, meta)).toThrow(
      /the log starts at 31 but the snapshot ends at 20/,
    );
  });

  it('a leader whose log and snapshot both lack what a follower needs stops with an invariant error', () => {
    const c = new TestCluster(['a', 'b', 'c']);
    c.elect('a');
    c.isolate('c');
    c.cut.delete('a->b');
    c.cut.delete('b->a');
    for (let i = 0; i < 4; i++) c.propose('a', `x${i}`);
    c.deliverAll();
    // Compacting without telling the engine about a snapshot breaks the driver contract.
    c.node('a').store.compact(4, 1);
    c.heal();
    expect(() => {
      c.tick('a', 1);
      c.deliverAll();
    }).toThrow(/no snapshot covers the gap/);
  });
});

describe('snapshot messages', () => {
  it('are ignored as chunks by the engine (drivers move the bytes)', () => {
    const r = new Raft({ id: 'a', voters: ['a', 'b'], rng: new SeededRng(1) }, new MemoryLogStore());
    r.ready();
    const chunk: Message = {
      type: 'snapChunk',
      from: 'b',
      to: 'a',
      term: 9,
      meta: { index: 5, term: 9, conf: confOf(['a', 'b']) },
      offset: 0,
      total: 1,
      data: new Uint8Array([1]),
    };
    r.step(chunk);
    expect(r.term).toBe(0);
    expect(r.ready()).toBeNull();
  });
});
