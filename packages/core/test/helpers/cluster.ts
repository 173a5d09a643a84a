import { Raft } from '../../src/raft/Raft.js';
import { SeededRng } from '../../src/raft/rng.js';
import type { RaftTestingConfig } from '../../src/raft/testingBugs.js';
import type { Entry, Message, NodeId, Ready, SnapshotMeta } from '../../src/raft/types.js';
import { MemoryLogStore } from '../../src/testing/MemoryLogStore.js';

export interface TestNode {
  readonly id: NodeId;
  raft: Raft;
  store: MemoryLogStore;
  applied: Entry[];
  readys: Ready[];
  /** Snapshots installed from the leader, in order. */
  installed: SnapshotMeta[];
}

/**
 * A synchronous, engine-level harness in the style of etcd's raft_test `network`: every node's
 * Ready is persisted at once, messages queue in one FIFO, and tests decide what to deliver, drop
 * or cut. No driver, no timers: each test is a readable script.
 */
export class TestCluster {
  readonly nodes = new Map<NodeId, TestNode>();
  /** Messages sent and not yet delivered, in send order. */
  queue: Message[] = [];
  /** Links that drop everything: `${from}->${to}`. */
  readonly cut = new Set<string>();
  readonly log: Message[] = [];
  private readonly stores: MemoryLogStore[] = [];

  constructor(
    readonly ids: readonly NodeId[],
    readonly extra: Partial<RaftTestingConfig> = {},
    seed = 1,
    /** Pre-existing durable logs, as the term of each entry from index 1, and the stored term. */
    initial: Record<NodeId, { terms: number[]; term?: number }> = {},
  ) {
    ids.forEach((id, i) => {
      const init = initial[id];
      const store =
        init === undefined
          ? new MemoryLogStore()
          : new MemoryLogStore({
              initial: {
                hardState: { term: init.term ?? Math.max(0, ...init.terms), vote: null, commit: 0 },
                entries: init.terms.map((term, k) => ({
                  index: k + 1,
                  term,
                  type: 1 as const,
                  data: new TextEncoder().encode(`${id}:${k + 1}@${term}`),
                })),
              },
            });
      const raft = new Raft({ id, voters: ids, rng: new SeededRng(seed * 31 + i), ...extra }, store);
      this.stores.push(store);
      this.nodes.set(id, { id, raft, store, applied: [], readys: [], installed: [] });
    });
  }

  /**
   * Adds a member process that joins an existing cluster: no log, no snapshot, no bootstrap voters
   * (join mode). It is not in the configuration until a leader adds it.
   */
  join(id: NodeId, seed = 99): TestNode {
    const store = new MemoryLogStore();
    const raft = new Raft({ id, voters: [], rng: new SeededRng(seed), ...this.extra }, store);
    const n: TestNode = { id, raft, store, applied: [], readys: [], installed: [] };
    this.nodes.set(id, n);
    (this.ids as NodeId[]).push(id);
    return n;
  }

  /**
   * `id` took a snapshot at `index` (≤ applied) and compacted its log up to it, as the driver does:
   * snapshotTaken first, then the log shrinks.
   */
  snapshot(id: NodeId, index: number): SnapshotMeta {
    const n = this.node(id);
    const meta: SnapshotMeta = { index, term: n.raft.log.term(index), conf: n.raft.confAt(index) };
    n.raft.snapshotTaken(meta);
    n.store.compact(index, meta.term);
    n.store.sync();
    return meta;
  }

  node(id: NodeId): TestNode {
    const n = this.nodes.get(id);
    if (n === undefined) throw new Error(`no node ${id}`);
    return n;
  }

  raft(id: NodeId): Raft {
    return this.node(id).raft;
  }

  /** Drains every node's Ready: persist at once, queue messages, record applied entries. */
  flush(): void {
    let again = true;
    while (again) {
      again = false;
      for (const n of this.nodes.values()) {
        for (let rd = n.raft.ready(); rd !== null; rd = n.raft.ready()) {
          again = true;
          n.readys.push(rd);
          this.enqueue(rd.messages);
          if (rd.snapshot !== null) {
            n.installed.push(rd.snapshot);
            n.store.compact(rd.snapshot.index, rd.snapshot.term);
          }
          n.store.append(rd.entries, rd.hardState, () => {});
          n.store.sync();
          this.enqueue(rd.messagesAfterPersist);
          n.raft.persisted(rd.number);
          if (rd.committed.length > 0) {
            n.applied.push(...rd.committed);
            n.raft.applied(rd.committed[rd.committed.length - 1]!.index);
          }
        }
      }
    }
  }

  private enqueue(msgs: readonly Message[]): void {
    for (const m of msgs) {
      this.log.push(m);
      if (!this.cut.has(`${m.from}->${m.to}`)) this.queue.push(m);
    }
  }

  /** Delivers queued messages (and what they cause) until the network is quiet. */
  deliverAll(filter: (m: Message) => boolean = () => true, limit = 100_000): void {
    this.flush();
    let steps = 0;
    while (this.queue.length > 0) {
      if (++steps > limit) throw new Error('network did not quiesce');
      const m = this.queue.shift()!;
      if (!filter(m)) continue;
      if (this.cut.has(`${m.from}->${m.to}`)) continue;
      this.nodes.get(m.to)?.raft.step(m);
      this.flush();
    }
  }

  /** Makes `id` campaign and delivers everything. */
  elect(id: NodeId): void {
    this.raft(id).campaign();
    this.deliverAll();
  }

  tick(id: NodeId, n = 1): void {
    for (let i = 0; i < n; i++) this.raft(id).tick();
    this.flush();
  }

  tickAll(n = 1): void {
    for (let i = 0; i < n; i++) for (const id of this.ids) this.raft(id).tick();
    this.flush();
  }

  isolate(id: NodeId): void {
    for (const other of this.ids) {
      if (other === id) continue;
      this.cut.add(`${id}->${other}`);
      this.cut.add(`${other}->${id}`);
    }
  }

  heal(): void {
    this.cut.clear();
  }

  leader(): NodeId | null {
    let found: NodeId | null = null;
    for (const n of this.nodes.values()) if (n.raft.role === 'leader') found = n.id;
    return found;
  }

  propose(id: NodeId, text: string): ReturnType<Raft['propose']> {
    const r = this.raft(id).propose(new TextEncoder().encode(text));
    this.flush();
    return r;
  }

  /** The durable log of `id` as (index, term) pairs. */
  terms(id: NodeId): number[] {
    const st = this.node(id).store;
    const out: number[] = [];
    for (let i = st.firstIndex(); i <= st.lastIndex(); i++) out.push(st.term(i));
    return out;
  }

  /** Data of applied Normal entries, as text. */
  appliedData(id: NodeId): string[] {
    return this.node(id)
      .applied.filter((e) => e.type === 1)
      .map((e) => new TextDecoder().decode(e.data));
  }
}
