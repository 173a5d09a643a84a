/**
 * A 3-member cluster in one process, in real time: the driver (`RaftNode`) over in-memory logs and
 * a loopback network, with a state machine of your own. It elects a leader, commits 100 commands,
 * checks that every member applied the same sequence and shuts down, leaving nothing behind: the
 * process exits on its own.
 *
 *   pnpm --filter @keel/core exec tsx --conditions=source examples/in-process.ts
 */
import {
  type Entry,
  LoopbackNetwork,
  RaftNode,
  realScheduler,
  SeededRng,
  type StateMachine,
} from '@keel/core';
import { MemoryLogStore } from '@keel/core/testing';

/** The application: a running sum of the numbers proposed; apply returns the new sum. */
class Sum implements StateMachine<number> {
  total = 0;
  readonly seen: number[] = [];
  apply(e: Entry): number {
    const n = new DataView(e.data.buffer, e.data.byteOffset, e.data.byteLength).getInt32(0);
    this.seen.push(n);
    this.total += n;
    return this.total;
  }
}

// --- the cluster: ten lines ---
const ids = ['a', 'b', 'c'];
const net = new LoopbackNetwork();
const members = ids.map((id, i) => {
  const sum = new Sum();
  const node = new RaftNode<number>({
    raft: { id, voters: ids, rng: new SeededRng(i + 1) },
    storage: new MemoryLogStore(),
    transport: net.transport(id),
    stateMachine: sum,
    scheduler: realScheduler,
  });
  node.start();
  return { id, node, sum };
});

// --- using it ---
const deadline = Date.now() + 10_000;
async function until<T>(what: string, probe: () => T | null | undefined): Promise<T> {
  for (;;) {
    const v = probe();
    if (v !== null && v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

const leader = await until('a leader', () => members.find((m) => m.node.status().role === 'leader'));
console.log(`leader: ${leader.id} (term ${leader.node.status().term})`);

const results = await Promise.all(
  Array.from({ length: 100 }, (_, k) => {
    const data = new Uint8Array(4);
    new DataView(data.buffer).setInt32(0, k + 1);
    return new Promise<number>((resolve, reject) =>
      leader.node.propose(data, (o) => (o.ok ? resolve(o.result) : reject(new Error(o.reason)))),
    );
  }),
);
console.log(`committed: ${results.length}, last result ${results[results.length - 1]}`);

const last = leader.node.status().commitIndex;
await until(
  'every member to apply',
  () => members.every((m) => m.node.status().appliedIndex >= last) || null,
);
for (const m of members)
  console.log(`${m.id} applied through ${m.node.status().appliedIndex}: sum ${m.sum.total}`);
const same = members.every((m) => m.sum.seen.join() === leader.sum.seen.join());
console.log(`same sequence on every member: ${same}`);

for (const m of members) m.node.stop();
net.close();
