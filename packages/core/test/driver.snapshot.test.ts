/**
 * The driver's side of §7 and of membership changes: snapshots taken by policy and the log
 * compacted behind them, InstallSnapshot moved in chunks with flow control, loss and resumption,
 * a bounded retry, restart from snapshot plus log tail, and proposeConfChange.
 */
import { describe, expect, it } from 'vitest';
import { SeededRng } from '../src/raft/rng.js';
import type { Entry, Message, NodeId, SnapChunkMessage } from '../src/raft/types.js';
import type { StateMachine, TransportHandlers } from '../src/runtime/interfaces.js';
import { type ConfChangeOutcome, RaftNode } from '../src/runtime/RaftNode.js';
import { concatChunks, type SnapshotBytes } from '../src/runtime/snapshotBytes.js';
import { MemoryLogStore } from '../src/testing/MemoryLogStore.js';
import { MemorySnapshotStore } from '../src/testing/MemorySnapshotStore.js';
import { ManualScheduler } from './helpers/manualScheduler.js';

const enc = new TextEncoder();
const dec = new TextDecoder();

/** An append-only list of strings, snapshotted as JSON (in chunks of `chunkBytes` when set). */
class ListMachine implements StateMachine<number> {
  items: string[] = [];
  constructor(private readonly chunkBytes?: number) {}
  apply(e: Entry): number {
    this.items.push(dec.decode(e.data));
    return this.items.length;
  }
  snapshot(): SnapshotBytes | Promise<SnapshotBytes> {
    const bytes = enc.encode(JSON.stringify(this.items));
    const n = this.chunkBytes;
    if (n === undefined) return bytes;
    // Pieces of another size than the transfer's, with an empty one in between.
    const chunks: Uint8Array[] = [new Uint8Array(0)];
    for (let at = 0; at < bytes.length; at += n) chunks.push(bytes.slice(at, at + n), new Uint8Array(0));
    return chunks;
  }
  restore(data: Uint8Array): void {
    this.items = JSON.parse(dec.decode(data)) as string[];
  }
}

interface Member {
  id: NodeId;
  node: RaftNode<number>;
  store: MemoryLogStore;
  snaps: MemorySnapshotStore;
  machine: ListMachine;
  restored: number[];
}

/** A few RaftNodes over in-memory stores and a network whose every message a test may drop. */
class Harness {
  readonly sched = new ManualScheduler();
  readonly members = new Map<NodeId, Member>();
  readonly handlers = new Map<NodeId, TransportHandlers>();
  readonly sent: Message[] = [];
  readonly fatal: Error[] = [];
  /** Every `setPeers` call, by member. */
  readonly peerSets = new Map<NodeId, Map<NodeId, string>[]>();
  /** Return false to lose a message. */
  pass: (m: Message) => boolean = () => true;

  constructor(
    readonly voters: readonly NodeId[],
    readonly opts: {
      snapshotEntries?: number;
      snapshotBytes?: number;
      keep?: number;
      chunk?: number;
      machineChunk?: number;
    } = {},
  ) {
    for (const id of voters) this.start(id, voters);
  }

  start(
    id: NodeId,
    voters: readonly NodeId[],
    stores?: { store: MemoryLogStore; snaps: MemorySnapshotStore },
    peers?: ReadonlyMap<NodeId, string>,
  ): Member {
    const store = stores?.store ?? new MemoryLogStore({ schedule: (fn) => this.sched.defer(fn) });
    const snaps = stores?.snaps ?? new MemorySnapshotStore({ schedule: (fn) => this.sched.defer(fn) });
    const machine = new ListMachine(this.opts.machineChunk);
    const restored: number[] = [];
    const node = new RaftNode<number>({
      raft: { id, voters, rng: new SeededRng(id.charCodeAt(0)), electionTicks: 10 },
      storage: store,
      transport: {
        start: (h) => {
          this.handlers.set(id, h);
        },
        send: (msgs) => {
          for (const m of msgs) {
            this.sent.push(m);
            if (!this.pass(m)) continue;
            this.sched.defer(() => this.handlers.get(m.to)?.message(m));
          }
        },
        setPeers: (p) => {
          const list = this.peerSets.get(id) ?? [];
          list.push(new Map(p));
          this.peerSets.set(id, list);
        },
        close: async () => {},
      },
      ...(peers !== undefined ? { peers } : {}),
      stateMachine: machine,
      scheduler: this.sched,
      tickMs: 10,
      snapshotStore: snaps,
      snapshotEntries: this.opts.snapshotEntries ?? 0,
      ...(this.opts.snapshotBytes !== undefined ? { snapshotBytes: this.opts.snapshotBytes } : {}),
      compactKeepEntries: this.opts.keep ?? 0,
      snapshotChunkBytes: this.opts.chunk ?? 16,
      snapshotWindowChunks: 2,
      snapshotRetryMs: 50,
      snapshotMaxRetries: 3,
      onFatal: (err) => this.fatal.push(err),
      observer: { restore: (_n, meta) => restored.push(meta.index) },
    });
    const m: Member = { id, node, store, snaps, machine, restored };
    this.members.set(id, m);
    node.start();
    return m;
  }

  /** Power loss: only what was durable survives; the process is gone. */
  crash(id: NodeId): { store: MemoryLogStore; snaps: MemorySnapshotStore } {
    const m = this.members.get(id)!;
    m.node.stop();
    this.handlers.delete(id);
    this.members.delete(id);
    return { store: m.store.crash(), snaps: m.snaps.crash() };
  }

  m(id: NodeId): Member {
    return this.members.get(id)!;
  }

  leader(): Member {
    for (let i = 0; i < 200; i++) {
      for (const m of this.members.values()) if (m.node.status().role === 'leader') return m;
      this.sched.advance(10);
    }
    throw new Error('no leader');
  }

  write(n: number, prefix = 'v'): void {
    const l = this.leader();
    for (let i = 0; i < n; i++) l.node.propose(enc.encode(`${prefix}${i}`), () => {});
    this.sched.advance(100);
  }

  chunksTo(id: NodeId): SnapChunkMessage[] {
    return this.sent.filter((m): m is SnapChunkMessage => m.type === 'snapChunk' && m.to === id);
  }
}

describe('§7 in the driver: snapshots by policy, compaction, InstallSnapshot in chunks', () => {
  it('snapshots every N applied entries and compacts the log behind them, keeping some', () => {
    const h = new Harness(['a', 'b', 'c'], { snapshotEntries: 10, keep: 3 });
    h.write(25);
    for (const m of h.members.values()) {
      // The policy is checked after each applied batch: the snapshot is at the batch's end.
      const s = m.node.status();
      expect(s.snapshotIndex).toBeGreaterThanOrEqual(10);
      expect(m.snaps.load()!.meta.index).toBe(s.snapshotIndex);
      expect(s.firstIndex).toBe(s.snapshotIndex - 3 + 1); // three entries kept behind it
      expect(m.machine.items.length).toBe(25);
    }
  });

  it('snapshots once the entries applied since the last snapshot carry N bytes, whatever their count', () => {
    const h = new Harness(['a', 'b', 'c'], { snapshotEntries: 0, snapshotBytes: 100 });
    h.write(10, 'x'.repeat(9)); // 10 entries of 10 bytes: 100 bytes
    const l = h.leader();
    const first = l.node.status().snapshotIndex;
    expect(first).toBeGreaterThan(0);
    h.write(9, 'y'.repeat(9)); // 90 bytes more: below the limit again
    expect(l.node.status().snapshotIndex).toBe(first);
    h.write(1, 'z'.repeat(20)); // over it
    expect(l.node.status().snapshotIndex).toBeGreaterThan(first);
    // Without either limit, never.
    const none = new Harness(['a', 'b', 'c'], { snapshotEntries: 0, snapshotBytes: 0 });
    none.write(50, 'x'.repeat(100));
    expect(none.leader().node.status().snapshotIndex).toBe(0);
  });

  it('a follower that was away gets the snapshot in chunks, then the tail, and converges', () => {
    const h = new Harness(['a', 'b', 'c'], { snapshotEntries: 10, chunk: 16 });
    const l = h.leader();
    const away = [...h.members.keys()].find((id) => id !== l.id)!;
    h.pass = (m) => m.to !== away && m.from !== away;
    h.write(30);
    expect(l.node.status().firstIndex).toBeGreaterThan(2);
    h.pass = () => true;
    h.sched.advance(500);
    const f = h.m(away);
    expect(f.restored.length).toBe(1);
    const chunks = h.chunksTo(away);
    const total = chunks[0]!.total;
    expect(total).toBeGreaterThan(16 * 4); // several chunks
    expect(new Set(chunks.map((c) => c.offset)).size).toBe(Math.ceil(total / 16));
    expect(f.machine.items).toEqual(l.machine.items);
    h.write(3, 'w');
    expect(f.machine.items).toEqual(l.machine.items);
    expect(f.node.status().appliedIndex).toBe(l.node.status().appliedIndex);
    expect(h.fatal).toEqual([]);
  });

  it('a snapshot the state machine hands over in chunks of another size travels and restores byte for byte', () => {
    const h = new Harness(['a', 'b', 'c'], { snapshotEntries: 10, chunk: 16, machineChunk: 7 });
    const l = h.leader();
    const away = [...h.members.keys()].find((id) => id !== l.id)!;
    h.pass = (m) => m.to !== away && m.from !== away;
    h.write(30);
    const saved = l.snaps.load()!;
    expect(saved.chunks.length).toBeGreaterThan(10); // kept as the machine's chunks, not joined
    h.pass = () => true;
    h.sched.advance(500);
    const f = h.m(away);
    expect(f.restored.length).toBe(1);
    const sent = h.chunksTo(away);
    expect(sent.every((c) => c.data.length === 16 || c.offset + c.data.length === c.total)).toBe(true);
    expect(concatChunks(f.snaps.load()!.chunks)).toEqual(concatChunks(l.snaps.load()!.chunks));
    expect(f.machine.items).toEqual(l.machine.items);
    expect(h.fatal).toEqual([]);
  });

  it('a lost chunk is resent from the offset the receiver acknowledged, not from the start', () => {
    const h = new Harness(['a', 'b', 'c'], { snapshotEntries: 10, chunk: 16 });
    const l = h.leader();
    const away = [...h.members.keys()].find((id) => id !== l.id)!;
    h.pass = (m) => m.to !== away && m.from !== away;
    h.write(30);
    let dropped = 0;
    h.pass = (m) => {
      // Lose the chunk at offset 48 the first time, and the acknowledgements after it.
      if (m.type === 'snapChunk' && m.offset === 48 && dropped === 0) {
        dropped++;
        return false;
      }
      return true;
    };
    h.sched.advance(1000);
    expect(dropped).toBe(1);
    const offsets = h.chunksTo(away).map((c) => c.offset);
    expect(offsets.filter((o) => o === 48).length).toBe(2);
    expect(offsets.filter((o) => o === 0).length).toBe(1); // never restarted from scratch
    expect(h.m(away).restored.length).toBe(1);
    expect(h.m(away).machine.items).toEqual(l.machine.items);
  });

  it('a transfer without progress is given up after a bounded number of retries, then retried later', () => {
    const h = new Harness(['a', 'b', 'c'], { snapshotEntries: 10, chunk: 16 });
    const l = h.leader();
    const away = [...h.members.keys()].find((id) => id !== l.id)!;
    h.pass = (m) => m.to !== away && m.from !== away;
    h.write(30);
    // Heartbeats get through but no chunk does: the leader must not spin on one transfer forever.
    h.pass = (m) => m.type !== 'snapChunk';
    h.sched.advance(400);
    const starts = h.chunksTo(away).filter((c) => c.offset === 0).length;
    expect(starts).toBeGreaterThanOrEqual(2); // gave up (after 3 retries of 50 ms) and began again
    expect(l.node.status().role).toBe('leader'); // heartbeats were never starved
    h.pass = () => true;
    h.sched.advance(500);
    expect(h.m(away).machine.items).toEqual(l.machine.items);
  });

  it('a restarted member restores its latest snapshot, then replays only the log tail', () => {
    const h = new Harness(['a', 'b', 'c'], { snapshotEntries: 10, keep: 2 });
    h.write(25);
    const l = h.leader();
    const f = [...h.members.keys()].find((id) => id !== l.id)!;
    h.m(f).node.takeSnapshot(); // a snapshot at the last applied entry
    h.sched.advance(1);
    h.write(4, 'tail');
    const before = [...h.m(f).machine.items];
    const recovered = h.crash(f);
    const snap = recovered.snaps.load()!.meta.index;
    expect(snap).toBe(26);
    const m = h.start(f, ['a', 'b', 'c'], recovered);
    expect(m.restored).toEqual([snap]);
    expect(m.node.status().appliedIndex).toBe(snap);
    expect(m.node.status().firstIndex).toBe(snap - 2 + 1);
    expect(m.machine.items.length).toBe(25); // the snapshot's state, before any replay
    h.sched.advance(200);
    expect(m.machine.items).toEqual(before);
    expect(m.node.status().appliedIndex).toBe(l.node.status().appliedIndex);
  });
});

describe('a snapshot encoded in the background (a promise from StateMachine.snapshot)', () => {
  it('is saved with the index it was captured at, while entries go on being applied', async () => {
    const h = new Harness(['a', 'b', 'c'], { snapshotEntries: 0 });
    h.write(5);
    const l = h.leader();
    const m = l.machine;
    // Capture now (a copy), hand the bytes over later, as KvStateMachine does for large stores.
    let release: (() => void) | null = null;
    m.snapshot = () => {
      const captured = enc.encode(JSON.stringify(m.items));
      return new Promise<Uint8Array>((resolve) => {
        release = () => resolve(captured);
      });
    };
    const at = l.node.status().appliedIndex;
    expect(l.node.takeSnapshot()).toBe(true);
    expect(l.node.takeSnapshot()).toBe(false); // one at a time
    h.write(3, 'later'); // applied while the snapshot is being encoded
    expect(l.snaps.load()).toBeNull();
    (release as unknown as () => void)();
    await Promise.resolve();
    h.sched.advance(10);
    const saved = l.snaps.load()!;
    expect(saved.meta.index).toBe(at);
    expect(JSON.parse(dec.decode(concatChunks(saved.chunks)))).toEqual(['v0', 'v1', 'v2', 'v3', 'v4']);
    expect(l.node.status().snapshotIndex).toBe(at);
    expect(m.items).toHaveLength(8);
  });
});

describe('membership in the driver (dissertation ch. 4)', () => {
  it('adds a joining member as a learner, promotes it, removes another; outcomes name the configuration', () => {
    const h = new Harness(['a', 'b', 'c'], { snapshotEntries: 10 });
    h.write(15);
    const l = h.leader();
    const d = h.start('d', []); // join mode
    const outcomes: ConfChangeOutcome[] = [];
    l.node.proposeConfChange({ type: 'addLearner', id: 'd', address: 'mem://d' }, (o) => outcomes.push(o));
    l.node.proposeConfChange({ type: 'promote', id: 'd' }, (o) => outcomes.push(o));
    h.sched.advance(300);
    expect(outcomes[0]).toMatchObject({ ok: false, reason: 'conf-change-pending' });
    expect(outcomes[1]).toMatchObject({
      ok: true,
      conf: {
        voters: ['a', 'b', 'c'],
        learners: ['d'],
        addresses: new Map([
          ['a', ''],
          ['b', ''],
          ['c', ''],
          ['d', 'mem://d'],
        ]),
      },
    });
    // It joined through the leader's snapshot (its log was compacted) and caught up.
    expect(d.restored.length).toBe(1);
    expect(d.machine.items).toEqual(l.machine.items);
    let promoted: ConfChangeOutcome | undefined;
    l.node.proposeConfChange({ type: 'promote', id: 'd' }, (o) => {
      promoted = o;
    });
    h.sched.advance(100);
    expect(promoted).toMatchObject({ ok: true, conf: { voters: ['a', 'b', 'c', 'd'], learners: [] } });
    const victim = ['a', 'b', 'c'].find((id) => id !== l.id)!;
    let removed: ConfChangeOutcome | undefined;
    l.node.proposeConfChange({ type: 'remove', id: victim }, (o) => {
      removed = o;
    });
    h.sched.advance(100);
    expect(removed).toMatchObject({ ok: true });
    expect(d.node.status().conf.voters).toEqual(['a', 'b', 'c', 'd'].filter((v) => v !== victim));
    h.write(2, 'z');
    expect(d.machine.items).toEqual(l.machine.items);
    expect(h.fatal).toEqual([]);
  });

  it("a joining member keeps its startup peers although the leader's snapshot lists an older configuration", () => {
    const h = new Harness(['a', 'b', 'c'], { snapshotEntries: 10 });
    h.write(25); // a snapshot at the batch's end, configuration {a, b, c}
    const change = (cc: Parameters<RaftNode<number>['proposeConfChange']>[0]) => {
      let out: ConfChangeOutcome | undefined;
      h.leader().node.proposeConfChange(cc, (o) => {
        out = o;
      });
      h.sched.advance(200);
      expect(out).toMatchObject({ ok: true });
    };
    h.start(
      'd',
      [],
      undefined,
      new Map([
        ['a', 'a:1'],
        ['b', 'b:1'],
        ['c', 'c:1'],
      ]),
    );
    change({ type: 'addLearner', id: 'd', address: 'd:1' });
    change({ type: 'promote', id: 'd' });
    const old = h.leader().id;
    change({ type: 'remove', id: old });
    h.m(old).node.stop();
    h.members.delete(old);
    // e joins: the leader's latest snapshot still says {a, b, c}, without d (maybe the leader).
    const e = h.start(
      'e',
      [],
      undefined,
      new Map([
        ['a', 'a:1'],
        ['b', 'b:1'],
        ['c', 'c:1'],
        ['d', 'd:1'],
      ]),
    );
    change({ type: 'addLearner', id: 'e', address: 'e:1' });
    expect(e.restored.length).toBe(1);
    expect(h.m('e').node.status().conf.voters).toEqual(['a', 'b', 'c', 'd'].filter((v) => v !== old));
    const calls = h.peerSets.get('e')!;
    for (const p of calls) expect([...p.keys()]).toContain('d'); // never cut off from d
    const expected = new Map([
      ['a', 'a:1'],
      ['b', 'b:1'],
      ['c', 'c:1'],
      ['d', 'd:1'],
    ]);
    expected.delete(old); // dropped once a configuration change showed it leaving
    expect(calls.at(-1)).toEqual(expected);
    expect(e.machine.items).toEqual(h.leader().machine.items);
  });

  it('refuses a change on a follower with not-leader and an invalid one with its reason', () => {
    const h = new Harness(['a', 'b', 'c']);
    const l = h.leader();
    h.sched.advance(50);
    const f = [...h.members.values()].find((m) => m !== l)!;
    const out: ConfChangeOutcome[] = [];
    f.node.proposeConfChange({ type: 'addLearner', id: 'x' }, (o) => out.push(o));
    l.node.proposeConfChange({ type: 'remove', id: 'nobody' }, (o) => out.push(o));
    expect(out).toEqual([
      { ok: false, reason: 'not-leader', leaderHint: l.id },
      { ok: false, reason: 'invalid-conf-change', message: "'nobody' is not a member" },
    ]);
  });

  it('a LogStore whose compact returns a Promise (the old form) stops the node with a clear error', () => {
    const h = new Harness(['a']);
    const m = h.m('a');
    (m.store as unknown as { compact: unknown }).compact = () => Promise.resolve();
    h.leader();
    m.node.takeSnapshot();
    h.sched.advance(20);
    expect(h.fatal.map((e) => e.message)).toEqual([
      'LogStore.compact returned a Promise: it must take (index, term, onDurable) and call onDurable',
    ]);
  });
});
