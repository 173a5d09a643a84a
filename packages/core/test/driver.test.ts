/**
 * The driver (RaftNode) over in-memory storage and transport with a hand-driven clock: proposals
 * answered with the state machine's result, reads, transfers, fatal storage errors, and logical
 * time that catches up after the process was frozen.
 */
import { describe, expect, it } from 'vitest';
import { SeededRng } from '../src/raft/rng.js';
import type { Entry, Message, NodeId } from '../src/raft/types.js';
import type { Transport, TransportHandlers } from '../src/runtime/interfaces.js';
import { type ProposeOutcome, RaftNode, type ReadOutcome } from '../src/runtime/RaftNode.js';
import { MemoryLogStore } from '../src/testing/MemoryLogStore.js';
import { ManualScheduler } from './helpers/manualScheduler.js';

function cluster(opts: { readLease?: boolean; heartbeatTicks?: number } = {}) {
  const sched = new ManualScheduler();
  const ids = ['a', 'b', 'c'];
  const handlers = new Map<NodeId, TransportHandlers>();
  let connected = true;
  /** Members cut off from the others: their messages, both ways, are dropped. */
  const isolated = new Set<NodeId>();
  const transport = (): Transport => ({
    start: (h) => {
      handlers.set(ids[handlers.size]!, h);
    },
    send: (msgs: readonly Message[]) => {
      if (!connected) return;
      for (const m of msgs) {
        if (isolated.has(m.from) || isolated.has(m.to)) continue;
        sched.defer(() => handlers.get(m.to)?.message(m));
      }
    },
    close: async () => {},
  });
  const applied = new Map<NodeId, string[]>(ids.map((id) => [id, []]));
  const stores = ids.map(() => new MemoryLogStore({ schedule: (fn) => sched.defer(fn) }));
  const fatal: Error[] = [];
  const nodes = ids.map(
    (id, i) =>
      new RaftNode<string>({
        raft: {
          id,
          voters: ids,
          rng: new SeededRng(i + 1),
          electionTicks: 10,
          heartbeatTicks: opts.heartbeatTicks ?? 1,
          readLease: opts.readLease ?? false,
        },
        storage: stores[i]!,
        transport: transport(),
        stateMachine: {
          apply: (e: Entry) => {
            const v = new TextDecoder().decode(e.data);
            applied.get(id)!.push(v);
            return `applied:${v}`;
          },
        },
        scheduler: sched,
        tickMs: 10,
        onFatal: (err) => fatal.push(err),
      }),
  );
  for (const n of nodes) n.start();
  const leader = (): RaftNode<string> | undefined => nodes.find((n) => n.status().role === 'leader');
  return {
    sched,
    nodes,
    stores,
    applied,
    fatal,
    leader,
    cut: () => {
      connected = false;
    },
    isolate: (id: NodeId) => isolated.add(id),
    heal: () => isolated.clear(),
    electLeader: (): RaftNode<string> => {
      for (let i = 0; i < 100 && leader() === undefined; i++) sched.advance(10);
      const l = leader();
      if (l === undefined) throw new Error('no leader');
      sched.advance(50);
      return l;
    },
  };
}

describe('RaftNode driver', () => {
  it('answers a proposal with the state machine result once applied, everywhere', () => {
    const c = cluster();
    const l = c.electLeader();
    const outcomes: ProposeOutcome<string>[] = [];
    l.propose(new TextEncoder().encode('x'), (o) => outcomes.push(o));
    l.propose(new TextEncoder().encode('y'), (o) => outcomes.push(o));
    c.sched.advance(100);
    expect(outcomes.map((o) => (o.ok ? o.result : o.reason))).toEqual(['applied:x', 'applied:y']);
    for (const id of ['a', 'b', 'c']) expect(c.applied.get(id)).toEqual(['x', 'y']);
  });

  it('a follower proposing answers not-leader with a hint', () => {
    const c = cluster();
    const l = c.electLeader();
    const f = c.nodes.find((n) => n !== l)!;
    let out: ProposeOutcome<string> | undefined;
    f.propose(new Uint8Array([1]), (o) => {
      out = o;
    });
    expect(out).toEqual({ ok: false, reason: 'not-leader', leaderHint: l.id });
  });

  it('serves a linearizable read on a follower after it has applied the read index', () => {
    const c = cluster();
    const l = c.electLeader();
    l.propose(new TextEncoder().encode('w'), () => {});
    const f = c.nodes.find((n) => n !== l)!;
    let out: ReadOutcome | undefined;
    f.read((o) => {
      out = o;
    });
    c.sched.advance(100);
    expect(out?.ok).toBe(true);
    if (out?.ok) expect(f.status().appliedIndex).toBeGreaterThanOrEqual(out.index);
  });

  it('transfers leadership on request', () => {
    const c = cluster();
    const l = c.electLeader();
    const target = c.nodes.find((n) => n !== l)!;
    expect(l.transferLeader(target.id)).toEqual({ ok: true });
    c.sched.advance(100);
    expect(target.status().role).toBe('leader');
  });

  it('a frozen leader does not trust a lease that ran out while it was frozen', () => {
    const c = cluster({ readLease: true });
    // With lease reads a fresh member grants no vote for an election timeout: just wait.
    const l = c.electLeader();
    c.sched.advance(30); // heartbeat rounds confirmed: the lease is live
    let before: ReadOutcome | undefined;
    l.read((o) => {
      before = o;
    });
    c.sched.drain();
    expect(before?.ok).toBe(true);
    // Freeze: the clock moves ten election timeouts, no timer fires, the network is gone.
    c.cut();
    c.sched.jump(1000);
    let after: ReadOutcome | undefined;
    l.read((o) => {
      after = o;
    });
    c.sched.drain();
    c.sched.advance(3000);
    // Refused (leadership lost, CheckQuorum) or timed out: never served from the dead lease.
    expect(after).toBeDefined();
    expect(after?.ok).toBe(false);
  });

  it('an idle cluster sleeps between heartbeats: no timer per tick (lazy ticks)', () => {
    const c = cluster({ heartbeatTicks: 3 });
    const l = c.electLeader();
    const term = l.status().term;
    const armed = c.sched.setTimeout.bind(c.sched);
    let timers = 0;
    c.sched.setTimeout = (fn, ms) => {
      timers++;
      return armed(fn, ms);
    };
    c.sched.advance(1000); // 100 ticks
    // One timer per tick would be 300; the leader wakes per heartbeat (every 3 ticks), followers
    // about once per election timeout.
    expect(timers).toBeLessThan(80);
    expect(l.status().role).toBe('leader');
    expect(l.status().term).toBe(term);
    // Logical time still runs while asleep: with the network cut, the leader steps down
    // (CheckQuorum) and everyone campaigns (pre-vote, unanswered) on their timers.
    c.cut();
    c.sched.advance(1000);
    expect(c.nodes.map((n) => n.status().role)).toEqual(['pre-candidate', 'pre-candidate', 'pre-candidate']);
  });

  it('stops on a failed fsync and reports it once', () => {
    const c = cluster();
    const l = c.electLeader();
    const i = c.nodes.indexOf(l);
    c.stores[i]!.failNextSync();
    const outcomes: ProposeOutcome<string>[] = [];
    l.propose(new Uint8Array([9]), (o) => outcomes.push(o));
    c.sched.advance(50);
    expect(c.fatal).toHaveLength(1);
    expect((c.fatal[0] as { code?: string }).code).toBe('KEEL_STORAGE_FAILED');
    expect(outcomes).toEqual([{ ok: false, reason: 'stopped', message: 'the node stopped' }]);
  });

  it('answers a membership change whose entry a newer leader replaced with its own entries', () => {
    const c = cluster();
    const old = c.electLeader();
    c.isolate(old.id);
    const outcomes: unknown[] = [];
    // Appended at the old leader only: it cannot commit without the others.
    old.proposeConfChange({ type: 'addLearner', id: 'd', address: 'd' }, (o) => outcomes.push(o));
    const others = c.nodes.filter((n) => n !== old);
    const newLeader = (): RaftNode<string> | undefined => others.find((n) => n.status().role === 'leader');
    for (let i = 0; i < 200 && newLeader() === undefined; i++) c.sched.advance(10);
    const next = newLeader();
    if (next === undefined) throw new Error('no new leader');
    next.propose(new TextEncoder().encode('after'), () => {});
    c.sched.advance(100);
    c.heal();
    // The old leader learns of the newer term; the entry at the change's index is now the new
    // leader's no-op, then 'after': applied there, the change must be answered as dropped.
    for (let i = 0; i < 200 && !c.applied.get(old.id)!.includes('after'); i++) c.sched.advance(10);
    expect(c.applied.get(old.id)).toContain('after');
    expect(outcomes).toEqual([
      {
        ok: false,
        reason: 'proposal-dropped',
        message: expect.stringMatching(/was replaced by a newer leader/),
      },
    ]);
  });
});
