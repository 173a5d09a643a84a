/**
 * Snapshots and membership changes with the driver, in one process: three members over in-memory
 * storage and a loop-back transport, snapshotting every 10 entries. A fourth member starts in join
 * mode, is added as a learner (it catches up through the leader's snapshot), promoted, and then an
 * original member is removed.
 *
 *   pnpm --filter @keel/core exec tsx --conditions=source examples/membership.ts
 */
import {
  type ConfChange,
  type ConfChangeOutcome,
  type Entry,
  type Message,
  type NodeId,
  RaftNode,
  type Scheduler,
  SeededRng,
  type StateMachine,
  type TransportHandlers,
} from '@keel/core';
import { MemoryLogStore, MemorySnapshotStore } from '@keel/core/testing';

/** The application: a list of strings, snapshotted as JSON. */
class List implements StateMachine<number> {
  items: string[] = [];
  apply(e: Entry): number {
    return this.items.push(new TextDecoder().decode(e.data));
  }
  snapshot(): Uint8Array {
    return new TextEncoder().encode(JSON.stringify(this.items));
  }
  restore(data: Uint8Array): void {
    this.items = JSON.parse(new TextDecoder().decode(data)) as string[];
  }
}

const scheduler: Scheduler = {
  now: () => performance.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
  defer: (fn) => setImmediate(fn),
};
const handlers = new Map<NodeId, TransportHandlers>();
const members = new Map<NodeId, { node: RaftNode<number>; list: List }>();

function start(id: NodeId, voters: NodeId[]): void {
  const list = new List();
  const node = new RaftNode<number>({
    raft: { id, voters, rng: new SeededRng(id.charCodeAt(0)) },
    storage: new MemoryLogStore({ schedule: (fn) => setImmediate(fn) }),
    snapshotStore: new MemorySnapshotStore({ schedule: (fn) => setImmediate(fn) }),
    snapshotEntries: 10,
    compactKeepEntries: 2,
    transport: {
      start: (h) => {
        handlers.set(id, h);
      },
      send: (msgs: readonly Message[]) => {
        for (const m of msgs) setImmediate(() => handlers.get(m.to)?.message(m));
      },
      close: async () => {},
    },
    stateMachine: list,
    scheduler,
    onConf: (conf) =>
      console.log(`${id} conf: voters ${conf.voters.join(',')} learners ${conf.learners.join(',') || '-'}`),
  });
  members.set(id, { node, list });
  node.start();
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function leader(): Promise<RaftNode<number>> {
  for (;;) {
    for (const { node } of members.values()) if (node.status().role === 'leader') return node;
    await sleep(10);
  }
}

async function change(cc: ConfChange): Promise<ConfChangeOutcome> {
  for (;;) {
    const l = await leader();
    const o = await new Promise<ConfChangeOutcome>((r) => l.proposeConfChange(cc, r));
    // Right after an election the new leader must first commit an entry of its term.
    if (o.ok || o.reason !== 'term-not-committed') return o;
    await sleep(20);
  }
}

for (const id of ['a', 'b', 'c']) start(id, ['a', 'b', 'c']);
const l = await leader();
for (let i = 0; i < 25; i++) l.propose(new TextEncoder().encode(`v${i}`), () => {});
await sleep(200);
console.log(
  `leader ${l.id}: applied ${l.status().appliedIndex}, snapshot at ${l.status().snapshotIndex}, log starts at ${l.status().firstIndex}`,
);

start('d', []); // join mode: no log, no snapshot, no bootstrap voters; never campaigns
console.log('addLearner d:', await change({ type: 'addLearner', id: 'd', address: 'mem://d' }));
await sleep(200);
const d = members.get('d')!;
console.log(`d caught up: ${d.list.items.length} items, snapshot at ${d.node.status().snapshotIndex}`);
console.log('promote d:', await change({ type: 'promote', id: 'd' }));
console.log('remove a:', await change({ type: 'remove', id: 'a' }));
await sleep(400);
const now = await leader();
console.log(`leader now ${now.id}, voters ${now.status().conf.voters.join(',')}`);
for (const { node } of members.values()) node.stop();
