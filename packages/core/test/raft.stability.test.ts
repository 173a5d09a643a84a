/**
 * Leader stability: PreVote (dissertation §9.6) and CheckQuorum (§6.2) under partial
 * partitions, a long-isolated node rejoining, and the determinism of the engine itself.
 */
import { describe, expect, it } from 'vitest';
import type { RaftConfig } from '../src/raft/config.js';
import { SeededRng } from '../src/raft/rng.js';
import type { Message } from '../src/raft/types.js';
import { TestCluster } from './helpers/cluster.js';

/** Runs `ticks` rounds of: every node ticks once, then the network delivers everything. */
function run(c: TestCluster, ticks: number, each?: () => void): void {
  for (let i = 0; i < ticks; i++) {
    c.tickAll(1);
    c.deliverAll();
    each?.();
  }
}

function leaderChanges(c: TestCluster, ticks: number): { changes: number; terms: number } {
  let last = c.leader();
  let changes = 0;
  run(c, ticks, () => {
    const now = c.leader();
    if (now !== null && now !== last) {
      changes++;
      last = now;
    }
  });
  const terms = Math.max(...c.ids.map((id) => c.raft(id).term));
  return { changes, terms };
}

function partialPartition(extra: Partial<RaftConfig>): TestCluster {
  const c = new TestCluster(['a', 'b', 'c'], extra, 11);
  c.elect('a');
  expect(c.leader()).toBe('a');
  // The 2020 Cloudflare shape: a and b cannot talk, both still reach c.
  c.cut.add('a->b');
  c.cut.add('b->a');
  return c;
}

describe('partial partition (a and b cut, both reach c)', () => {
  it('with PreVote and CheckQuorum (the defaults) the leader stays and no term is wasted', () => {
    const c = partialPartition({});
    const term = c.raft('a').term;
    const { changes } = leaderChanges(c, 300);
    expect(changes).toBe(0);
    expect(c.leader()).toBe('a');
    expect(c.raft('a').term).toBe(term);
    expect(c.raft('b').term).toBe(term);
    // The cut-off follower cannot reach the leader, yet the cluster keeps committing through c.
    expect(c.propose('a', 'still-serving').ok).toBe(true);
    c.deliverAll();
    c.tickAll(1);
    c.deliverAll();
    expect(c.appliedData('c')).toContain('still-serving');
  });

  it('regression: without PreVote the cut-off follower inflates its term and deposes the leader on healing', () => {
    const c = partialPartition({ preVote: false });
    const term = c.raft('a').term;
    for (let i = 0; i < 300; i++) {
      c.propose('a', `w${i}`);
      run(c, 1);
    }
    // c's leader lease keeps a in office during the partition, but b's term runs away ...
    expect(c.leader()).toBe('a');
    expect(c.raft('b').term).toBeGreaterThan(term + 10);
    // ... and the moment the link heals, that term forces a needless election.
    c.heal();
    run(c, 50);
    expect(c.raft('a').term).toBeGreaterThan(term + 10);
  });

  it('regression: with neither option, load through the partition causes a needless leader change', () => {
    const c = partialPartition({ preVote: false, checkQuorum: false });
    let changes = 0;
    let last = c.leader();
    for (let i = 0; i < 300; i++) {
      const l = c.leader();
      if (l !== null) c.propose(l, `w${i}`);
      run(c, 1);
      if (c.leader() !== null && c.leader() !== last) {
        changes++;
        last = c.leader();
      }
    }
    expect(changes).toBeGreaterThan(0);
  });

  it('regression: with neither option, a stays a zombie leader that can never commit', () => {
    const c = partialPartition({ preVote: false, checkQuorum: false });
    run(c, 300);
    expect(c.raft('a').role).toBe('leader');
    expect(c.raft('b').role).toBe('leader');
    expect(c.raft('b').term).toBeGreaterThan(c.raft('a').term);
    const before = c.raft('a').log.committed;
    c.propose('a', 'lost');
    run(c, 20);
    expect(c.raft('a').log.committed).toBe(before);
  });
});

describe('a long-isolated node rejoins', () => {
  it('does not depose the sitting leader (PreVote keeps its term from climbing)', () => {
    const c = new TestCluster(['a', 'b', 'c'], {}, 5);
    c.elect('a');
    const term = c.raft('a').term;
    c.isolate('c');
    run(c, 200);
    expect(c.raft('c').term).toBe(term);
    c.heal();
    run(c, 50);
    expect(c.leader()).toBe('a');
    expect(c.raft('a').term).toBe(term);
    expect(c.raft('c').leader).toBe('a');
  });

  it('regression: without PreVote the rejoining node forces a new election', () => {
    const c = new TestCluster(['a', 'b', 'c'], { preVote: false }, 5);
    c.elect('a');
    const term = c.raft('a').term;
    c.isolate('c');
    run(c, 200);
    expect(c.raft('c').term).toBeGreaterThan(term + 5);
    c.heal();
    run(c, 50);
    expect(c.raft('a').term).toBeGreaterThan(term + 5);
  });
});

describe('CheckQuorum', () => {
  it('a leader that loses contact with a quorum steps down within an election timeout', () => {
    const c = new TestCluster(['a', 'b', 'c'], { electionTicks: 10 }, 3);
    c.elect('a');
    c.isolate('a');
    let ticks = 0;
    while (c.raft('a').role === 'leader' && ticks < 100) {
      c.tick('a', 1);
      ticks++;
    }
    expect(c.raft('a').role).toBe('follower');
    expect(ticks).toBeLessThanOrEqual(20);
  });

  it('a node that heard from a live leader within the election timeout ignores (pre)votes', () => {
    const c = new TestCluster(['a', 'b', 'c'], {}, 3);
    c.elect('a');
    const term = c.raft('b').term;
    c.raft('b').step({
      type: 'vote',
      from: 'c',
      to: 'b',
      term: term + 1,
      lastIndex: 99,
      lastTerm: term,
      transfer: false,
    });
    c.raft('b').step({
      type: 'preVote',
      from: 'c',
      to: 'b',
      term: term + 1,
      lastIndex: 99,
      lastTerm: term,
      transfer: false,
    });
    const rd = c.raft('b').ready();
    expect(rd === null ? [] : [...rd.messages, ...rd.messagesAfterPersist]).toEqual([]);
    expect(c.raft('b').term).toBe(term);
  });
});

describe('determinism', () => {
  /** A messy run: random drops, duplicates and reordering from one seed; returns every Ready as JSON. */
  function messyRun(seed: number): string {
    const c = new TestCluster(['a', 'b', 'c', 'd', 'e'], {}, seed);
    const rng = new SeededRng(seed);
    for (let round = 0; round < 400; round++) {
      for (const id of c.ids) if (rng.int(3) > 0) c.raft(id).tick();
      c.flush();
      if (rng.int(10) === 0 && c.leader() !== null) c.propose(c.leader()!, `v${round}`);
      const batch = c.queue;
      c.queue = [];
      // Shuffle, drop 10%, duplicate 5%.
      const kept: Message[] = [];
      for (const m of batch) {
        if (rng.int(10) === 0) continue;
        kept.push(m);
        if (rng.int(20) === 0) kept.push(m);
      }
      for (let i = kept.length - 1; i > 0; i--) {
        const j = rng.int(i + 1);
        [kept[i], kept[j]] = [kept[j]!, kept[i]!];
      }
      for (const m of kept) {
        c.nodes.get(m.to)?.raft.step(m);
        c.flush();
      }
    }
    const out: unknown[] = [];
    for (const n of c.nodes.values()) out.push(n.id, n.readys);
    return JSON.stringify(out, (_k, v) => (v instanceof Uint8Array ? Array.from(v) : v));
  }

  it('the same seed and inputs give byte-identical Readys; another seed differs', () => {
    const first = messyRun(42);
    expect(messyRun(42)).toBe(first);
    expect(messyRun(43)).not.toBe(first);
    expect(first.length).toBeGreaterThan(10_000);
  });
});
