/**
 * One test per rule of the Raft paper's Figure 2 (named after the rule), then Figure 7 and
 * Figure 8. Each is a script: inputs to the engine, then the exact effects it must produce.
 */
import { describe, expect, it } from 'vitest';
import { Raft } from '../src/raft/Raft.js';
import { SeededRng } from '../src/raft/rng.js';
import type { AppMessage, Entry, Message, Ready } from '../src/raft/types.js';
import { MemoryLogStore } from '../src/testing/MemoryLogStore.js';
import { TestCluster } from './helpers/cluster.js';

const enc = (s: string) => new TextEncoder().encode(s);

function entry(index: number, term: number, data = `e${index}`): Entry {
  return { index, term, type: 1, data: enc(data) };
}

/** A lone engine (with peers that exist only as message targets) over an in-memory store. */
function lone(opts: { terms?: number[]; term?: number; vote?: string | null; preVote?: boolean } = {}) {
  const terms = opts.terms ?? [];
  const store = new MemoryLogStore({
    initial: {
      hardState: { term: opts.term ?? Math.max(0, ...terms), vote: opts.vote ?? null, commit: 0 },
      entries: terms.map((t, i) => entry(i + 1, t)),
    },
  });
  const raft = new Raft(
    { id: 'a', voters: ['a', 'b', 'c'], rng: new SeededRng(7), preVote: opts.preVote ?? false },
    store,
  );
  /** Runs one Ready through "persist immediately"; returns it (or null). */
  const drain = (): Ready | null => {
    const rd = raft.ready();
    if (rd === null) return null;
    store.append(rd.entries, rd.hardState, () => {});
    store.sync();
    raft.persisted(rd.number);
    return rd;
  };
  return { raft, store, drain };
}

function sent(rd: Ready | null): Message[] {
  return rd === null ? [] : [...rd.messages, ...rd.messagesAfterPersist];
}

function app(over: Partial<AppMessage>): AppMessage {
  return {
    type: 'app',
    from: 'b',
    to: 'a',
    term: 1,
    prevIndex: 0,
    prevTerm: 0,
    entries: [],
    commit: 0,
    ...over,
  };
}

describe('Figure 2 — rules for all servers', () => {
  it('if commitIndex > lastApplied: apply log[lastApplied+1], in order, once', () => {
    const c = new TestCluster(['a', 'b', 'c']);
    c.elect('a');
    for (const v of ['1', '2', '3']) c.propose('a', v);
    c.deliverAll();
    c.tickAll(1);
    c.deliverAll();
    for (const id of c.ids) {
      const indexes = c.node(id).applied.map((e) => e.index);
      expect(indexes).toEqual([...indexes].sort((x, y) => x - y));
      expect(new Set(indexes).size).toBe(indexes.length);
      expect(c.appliedData(id)).toEqual(['1', '2', '3']);
    }
  });

  it('if a message carries term T > currentTerm: set currentTerm = T and become follower', () => {
    const { raft, drain } = lone({ term: 1 });
    raft.campaign();
    drain();
    expect(raft.role).toBe('candidate');
    raft.step(app({ term: 5, from: 'c' }));
    expect(raft.term).toBe(5);
    expect(raft.role).toBe('follower');
    expect(raft.leader).toBe('c');
  });
});

describe('Figure 2 — followers', () => {
  it('respond to RPCs from leaders (AppendEntries gets an acknowledgement)', () => {
    const { raft, drain } = lone({ term: 1 });
    raft.step(app({ term: 1, entries: [entry(1, 1)] }));
    const rd = drain();
    expect(rd?.messages).toEqual([]);
    expect(rd?.messagesAfterPersist).toEqual([
      { type: 'appResp', from: 'a', to: 'b', term: 1, index: 1, reject: false, hintIndex: 0, hintTerm: 0 },
    ]);
  });

  it('if the election timeout elapses without hearing from a leader: become candidate', () => {
    const { raft, drain } = lone({ term: 1 });
    for (let i = 0; i < 20 && raft.role === 'follower'; i++) raft.tick();
    expect(raft.role).toBe('candidate');
    expect(raft.term).toBe(2);
    drain();
  });

  it('an election timeout is drawn from [T, 2T) ticks', () => {
    for (let seed = 0; seed < 50; seed++) {
      const store = new MemoryLogStore();
      const raft = new Raft(
        { id: 'a', voters: ['a', 'b', 'c'], rng: new SeededRng(seed), electionTicks: 10 },
        store,
      );
      let ticks = 0;
      while (raft.role === 'follower') {
        raft.tick();
        ticks++;
      }
      expect(ticks).toBeGreaterThanOrEqual(10);
      expect(ticks).toBeLessThan(20);
    }
  });
});

describe('Figure 2 — candidates', () => {
  it('on conversion: increment currentTerm, vote for self, send RequestVote to all others', () => {
    // Figure 2 asks for durable state before *responding*; a request promises nothing, so it
    // leaves at once and the candidate's fsync overlaps the voters' (the self-vote counts only
    // once durable: next test).
    const { raft, drain } = lone({ terms: [1, 1], term: 1 });
    raft.campaign();
    const rd = drain();
    expect(rd?.hardState).toEqual({ term: 2, vote: 'a', commit: 0 });
    expect(rd?.messages).toEqual([
      { type: 'vote', from: 'a', to: 'b', term: 2, lastIndex: 2, lastTerm: 1, transfer: false },
      { type: 'vote', from: 'a', to: 'c', term: 2, lastIndex: 2, lastTerm: 1, transfer: false },
    ]);
    expect(rd?.messagesAfterPersist).toEqual([]);
  });

  it('if votes received from a majority: become leader', () => {
    const { raft, drain } = lone({ term: 1 });
    raft.campaign();
    drain();
    raft.step({ type: 'voteResp', from: 'b', to: 'a', term: 2, reject: false });
    expect(raft.role).toBe('leader');
  });

  it('the self-vote counts only once it is durable', () => {
    const store = new MemoryLogStore();
    const raft = new Raft({ id: 'a', voters: ['a', 'b', 'c'], rng: new SeededRng(1), preVote: false }, store);
    raft.campaign();
    const rd = raft.ready()!;
    store.append(rd.entries, rd.hardState, () => {});
    raft.step({ type: 'voteResp', from: 'b', to: 'a', term: 1, reject: false });
    expect(raft.role).toBe('candidate');
    store.sync();
    raft.persisted(rd.number);
    expect(raft.role).toBe('leader');
  });

  // With vote requests leaving before the candidate's own fsync, a candidate of five can hold a
  // majority of other members' votes while its term and self-vote are not yet durable. Leading
  // then is unsafe: a crash before the fsync restarts it in its old term with no vote, it may vote
  // for a rival in the same term, and that rival can win too: two leaders of one term.
  it('does not lead before its own term and vote are durable, even with a majority of other votes', () => {
    const store = new MemoryLogStore();
    const voters = ['a', 'b', 'c', 'd', 'e'];
    const raft = new Raft({ id: 'a', voters, rng: new SeededRng(1), preVote: false }, store);
    raft.campaign();
    const rd = raft.ready()!;
    store.append(rd.entries, rd.hardState, () => {});
    for (const from of ['b', 'c', 'd'])
      raft.step({ type: 'voteResp', from, to: 'a', term: 1, reject: false });
    expect(raft.role).toBe('candidate');
    store.sync();
    raft.persisted(rd.number);
    expect(raft.role).toBe('leader');
  });

  it('if AppendEntries is received from a new leader: become follower', () => {
    const { raft, drain } = lone({ term: 1 });
    raft.campaign();
    drain();
    raft.step(app({ term: 2, from: 'c' }));
    expect(raft.role).toBe('follower');
    expect(raft.leader).toBe('c');
  });

  it('if the election timeout elapses: start a new election', () => {
    const { raft, drain } = lone({ term: 1 });
    raft.campaign();
    drain();
    for (let i = 0; i < 20 && raft.term === 2; i++) raft.tick();
    expect(raft.role).toBe('candidate');
    expect(raft.term).toBe(3);
  });
});

describe('Figure 2 — leaders', () => {
  it('upon election: send AppendEntries (with a no-op of the new term) to every server at once', () => {
    const { raft, drain } = lone({ terms: [1], term: 1 });
    raft.campaign();
    drain();
    raft.step({ type: 'voteResp', from: 'b', to: 'a', term: 2, reject: false });
    const rd = drain();
    expect(rd?.entries.map((e) => [e.index, e.term, e.type])).toEqual([[2, 2, 0]]);
    const apps = rd?.messages.filter((m) => m.type === 'app') as AppMessage[];
    expect(apps.map((m) => [m.to, m.prevIndex, m.prevTerm, m.entries.length])).toEqual([
      ['b', 1, 1, 1],
      ['c', 1, 1, 1],
    ]);
  });

  it('repeats heartbeats during idle periods', () => {
    const c = new TestCluster(['a', 'b', 'c']);
    c.elect('a');
    c.log.length = 0;
    c.tick('a', 1);
    expect(c.queue.filter((m) => m.type === 'heartbeat').map((m) => m.to)).toEqual(['b', 'c']);
  });

  it('on a client command: append to the local log and answer after it is applied', () => {
    const c = new TestCluster(['a', 'b', 'c']);
    c.elect('a');
    const r = c.propose('a', 'cmd');
    expect(r).toEqual({ ok: true, firstIndex: 2, term: 1 });
    expect(c.raft('a').log.lastIndex()).toBe(2);
    c.deliverAll();
    expect(c.appliedData('a')).toEqual(['cmd']);
  });

  it('a follower asked to propose answers not-leader with a hint', () => {
    const c = new TestCluster(['a', 'b', 'c']);
    c.elect('a');
    expect(c.raft('b').propose(enc('x'))).toEqual({ ok: false, reason: 'not-leader', leaderHint: 'a' });
  });

  it('if AppendEntries fails because of log inconsistency: move nextIndex back and retry', () => {
    const c = new TestCluster(['a', 'b', 'c'], { preVote: false }, 1, {
      a: { terms: [1, 1, 2, 2, 3], term: 3 },
      b: { terms: [1, 1, 2, 2, 3] },
      c: { terms: [1, 1, 1, 1], term: 3 },
    });
    c.elect('a');
    expect(c.terms('c')).toEqual(c.terms('a'));
    expect(c.log.filter((m) => m.type === 'appResp' && m.from === 'c' && m.reject).length).toBeGreaterThan(0);
  });

  it('commitIndex = N when a majority has matchIndex >= N and log[N].term == currentTerm', () => {
    const c = new TestCluster(['a', 'b', 'c']);
    c.elect('a');
    c.isolate('c');
    c.propose('a', 'v');
    c.deliverAll();
    expect(c.raft('a').log.committed).toBe(2);
    expect(c.raft('c').log.committed).toBe(0);
  });
});

describe('Figure 2 — AppendEntries receiver', () => {
  it('1. reply false (with its term) if term < currentTerm', () => {
    const { raft, drain } = lone({ term: 3 });
    raft.step(app({ term: 2 }));
    const out = sent(drain());
    expect(out).toEqual([
      { type: 'appResp', from: 'a', to: 'b', term: 3, index: 0, reject: true, hintIndex: 0, hintTerm: 0 },
    ]);
  });

  it('2. reply false if the log has no entry at prevLogIndex with prevLogTerm, with a conflict hint', () => {
    const { raft, drain } = lone({ terms: [1, 2, 2, 2], term: 3 });
    raft.step(app({ term: 3, prevIndex: 4, prevTerm: 3 }));
    expect(sent(drain())).toEqual([
      { type: 'appResp', from: 'a', to: 'b', term: 3, index: 4, reject: true, hintIndex: 2, hintTerm: 2 },
    ]);
    raft.step(app({ term: 3, prevIndex: 9, prevTerm: 3 }));
    expect(sent(drain())).toEqual([
      { type: 'appResp', from: 'a', to: 'b', term: 3, index: 9, reject: true, hintIndex: 5, hintTerm: 0 },
    ]);
  });

  it('3. if an existing entry conflicts with a new one, delete it and all that follow', () => {
    const { raft, store, drain } = lone({ terms: [1, 1, 1], term: 2 });
    raft.step(app({ term: 2, prevIndex: 1, prevTerm: 1, entries: [entry(2, 2)] }));
    const rd = drain();
    expect(rd?.entries.map((e) => [e.index, e.term])).toEqual([[2, 2]]);
    expect(store.lastIndex()).toBe(2);
    expect(store.term(2)).toBe(2);
  });

  it('4. append any new entries not already in the log (duplicates are not rewritten)', () => {
    const { raft, drain } = lone({ terms: [1, 1], term: 1 });
    raft.step(app({ term: 1, prevIndex: 0, prevTerm: 0, entries: [entry(1, 1), entry(2, 1), entry(3, 1)] }));
    const rd = drain();
    expect(rd?.entries.map((e) => e.index)).toEqual([3]);
  });

  it('5. if leaderCommit > commitIndex: commitIndex = min(leaderCommit, index of last new entry)', () => {
    const { raft, drain } = lone({ terms: [1, 1, 1, 1], term: 1 });
    raft.step(app({ term: 1, prevIndex: 1, prevTerm: 1, entries: [entry(2, 1)], commit: 10 }));
    drain();
    expect(raft.log.committed).toBe(2);
  });
});

describe('Figure 2 — RequestVote receiver', () => {
  it('1. reply false if term < currentTerm', () => {
    const { raft, drain } = lone({ term: 5 });
    raft.step({ type: 'vote', from: 'b', to: 'a', term: 4, lastIndex: 9, lastTerm: 4, transfer: false });
    // Stale requests are dropped: the candidate learns the term from others' answers.
    expect(sent(drain())).toEqual([]);
    expect(raft.vote).toBe(null);
  });

  it('2. grant if votedFor is null or the candidate, and its log is at least as up to date', () => {
    const { raft, drain } = lone({ terms: [1, 2], term: 2 });
    raft.step({ type: 'vote', from: 'b', to: 'a', term: 3, lastIndex: 2, lastTerm: 2, transfer: false });
    let rd = drain();
    expect(rd?.hardState).toEqual({ term: 3, vote: 'b', commit: 0 });
    expect(rd?.messages).toEqual([]);
    expect(rd?.messagesAfterPersist).toEqual([
      { type: 'voteResp', from: 'a', to: 'b', term: 3, reject: false },
    ]);
    // Same candidate again: granted again. Another candidate in the same term: refused.
    raft.step({ type: 'vote', from: 'b', to: 'a', term: 3, lastIndex: 2, lastTerm: 2, transfer: false });
    raft.step({ type: 'vote', from: 'c', to: 'a', term: 3, lastIndex: 5, lastTerm: 2, transfer: false });
    rd = drain();
    expect(rd?.messagesAfterPersist).toEqual([
      { type: 'voteResp', from: 'a', to: 'b', term: 3, reject: false },
      { type: 'voteResp', from: 'a', to: 'c', term: 3, reject: true },
    ]);
  });

  it('§5.4.1: refuse a candidate whose log is less up to date', () => {
    const { raft, drain } = lone({ terms: [1, 2, 2], term: 2 });
    raft.step({ type: 'vote', from: 'b', to: 'a', term: 3, lastIndex: 9, lastTerm: 1, transfer: false });
    raft.step({ type: 'vote', from: 'c', to: 'a', term: 3, lastIndex: 2, lastTerm: 2, transfer: false });
    expect(sent(drain())).toEqual([
      { type: 'voteResp', from: 'a', to: 'b', term: 3, reject: true },
      { type: 'voteResp', from: 'a', to: 'c', term: 3, reject: true },
    ]);
  });
});

describe('Figure 2 — persistent state before responding', () => {
  it('votes and acknowledgements leave only after the Ready holding them is durable', () => {
    const c = new TestCluster(['a', 'b', 'c']);
    c.elect('a');
    c.propose('a', 'x');
    let granted = 0;
    for (const n of c.nodes.values()) {
      for (const rd of n.readys) {
        for (const m of rd.messages) expect(['appResp', 'voteResp']).not.toContain(m.type);
        granted += rd.messagesAfterPersist.filter((m) => m.type === 'voteResp' && !m.reject).length;
      }
    }
    expect(granted).toBeGreaterThan(0);
  });

  it('§10.2.1: the leader sends AppendEntries before its own write is durable but counts itself only after', () => {
    const store = new MemoryLogStore();
    const raft = new Raft({ id: 'a', voters: ['a', 'b', 'c'], rng: new SeededRng(3), preVote: false }, store);
    const persistNow = () => {
      const rd = raft.ready();
      if (rd === null) return null;
      store.append(rd.entries, rd.hardState, () => {});
      store.sync();
      raft.persisted(rd.number);
      return rd;
    };
    raft.campaign();
    persistNow();
    raft.step({ type: 'voteResp', from: 'b', to: 'a', term: 1, reject: false });
    persistNow();
    raft.step({
      type: 'appResp',
      from: 'b',
      to: 'a',
      term: 1,
      index: 1,
      reject: false,
      hintIndex: 0,
      hintTerm: 0,
    });
    persistNow();
    // Proposal: its AppendEntries leaves in the same Ready that hands the entry to the store.
    raft.propose(enc('x'));
    const rd = raft.ready()!;
    expect(rd.entries.map((e) => e.index)).toEqual([2]);
    expect(rd.messages.some((m) => m.type === 'app' && m.entries.length === 1)).toBe(true);
    store.append(rd.entries, rd.hardState, () => {});
    // Follower c acknowledges; the leader itself is not durable yet: one of three is no quorum.
    raft.step({
      type: 'appResp',
      from: 'c',
      to: 'a',
      term: 1,
      index: 2,
      reject: false,
      hintIndex: 0,
      hintTerm: 0,
    });
    expect(raft.log.committed).toBe(1);
    store.sync();
    raft.persisted(rd.number);
    expect(raft.log.committed).toBe(2);
  });
});

describe('Figure 7 — followers a-f with divergent logs converge to the leader', () => {
  // Terms of each log from index 1, as drawn in the paper (leader for term 8).
  const logs = {
    L: [1, 1, 1, 4, 4, 5, 5, 6, 6, 6],
    a: [1, 1, 1, 4, 4, 5, 5, 6, 6],
    b: [1, 1, 1, 4],
    c: [1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 6],
    d: [1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 7, 7],
    e: [1, 1, 1, 4, 4, 4, 4],
    f: [1, 1, 1, 2, 2, 2, 3, 3, 3, 3, 3],
  };

  for (const f of ['a', 'b', 'c', 'd', 'e', 'f'] as const) {
    it(`follower (${f}) ends with exactly the leader's log`, () => {
      // Two-node view of the leader and one follower, with a third node that votes for the leader.
      const c = new TestCluster(['L', f, 'v'], { preVote: false }, 1, {
        L: { terms: logs.L, term: 7 },
        [f]: { terms: logs[f], term: 7 },
        v: { terms: logs.L, term: 7 },
      });
      c.isolate(f);
      c.elect('L');
      expect(c.raft('L').role).toBe('leader');
      c.heal();
      c.propose('L', 'x');
      c.deliverAll();
      c.tickAll(1);
      c.deliverAll();
      expect(c.terms(f)).toEqual([...logs.L, 8, 8]);
      // Fast backtracking: far fewer round trips than entries to repair.
      const rejects = c.log.filter((m) => m.type === 'appResp' && m.from === f && m.reject).length;
      expect(rejects).toBeLessThanOrEqual(4);
    });
  }
});

describe('Figure 8 — an entry from an older term is never committed by counting replicas', () => {
  /**
   * (c) of Figure 8: S1 leads in term 4; index 2 holds term 2 on S1 and S2, and reaches S3. S1 wins
   * term 4 with votes from S2-S4 while S5 is cut off; only votes are delivered, then S2 and S3
   * acknowledge index 2. Returns S1's commit index.
   */
  function figure8(testingBugs: { commitOldTermByCounting?: boolean } = {}): number {
    const ids = ['s1', 's2', 's3', 's4', 's5'];
    const c = new TestCluster(ids, { preVote: false, testingBugs }, 1, {
      s1: { terms: [1, 2], term: 3 },
      s2: { terms: [1, 2], term: 3 },
      s3: { terms: [1], term: 3 },
      s4: { terms: [1], term: 3 },
      s5: { terms: [1, 3], term: 3 },
    });
    c.isolate('s5');
    c.raft('s1').campaign();
    c.deliverAll((m) => m.type === 'vote' || m.type === 'voteResp');
    expect(c.raft('s1').role).toBe('leader');
    expect(c.raft('s1').term).toBe(4);
    // The leader's log is [1, 2, 4 (no-op)]; hold back its appends, let two followers ack index 2.
    c.queue = c.queue.filter((m) => m.type !== 'app');
    for (const from of ['s3', 's2']) {
      c.raft('s1').step({
        type: 'appResp',
        from,
        to: 's1',
        term: 4,
        index: 2,
        reject: false,
        hintIndex: 0,
        hintTerm: 0,
      });
    }
    c.flush();
    return c.raft('s1').log.committed;
  }

  it('S1 re-elected in term 4 replicates its term-2 entry to a majority, but it commits only with a term-4 entry', () => {
    // s1, s2, s3 hold index 2 (term 2): a majority, yet it must not be committed.
    expect(figure8()).toBe(0);
  });

  it('with the planted bug (counting old-term entries) the same script commits it', () => {
    expect(figure8({ commitOldTermByCounting: true })).toBe(2);
  });
});
