// Three Raft engines in one process: elect a leader and commit an entry.
// Run: pnpm --filter @keel/core exec tsx --conditions=source examples/three-nodes.ts
import { type Message, Raft, SeededRng } from '@keel/core';
import { MemoryLogStore } from '@keel/core/testing';

const ids = ['a', 'b', 'c'];
const nodes = ids.map((id, i) => {
  const store = new MemoryLogStore();
  const raft = new Raft({ id, voters: ids, rng: new SeededRng(i + 1) }, store);
  return { id, raft, store, applied: [] as string[] };
});
const inbox: Message[] = [];

/** The driver loop of DESIGN.md, done by hand: persist, then send, then apply. */
function drive(): void {
  for (const n of nodes) {
    for (let rd = n.raft.ready(); rd !== null; rd = n.raft.ready()) {
      inbox.push(...rd.messages); // safe to send at once
      n.store.append(rd.entries, rd.hardState, () => {});
      n.store.sync(); // "fsync"
      inbox.push(...rd.messagesAfterPersist); // votes and acks: only once durable
      n.raft.persisted(rd.number);
      for (const e of rd.committed) if (e.data.length > 0) n.applied.push(new TextDecoder().decode(e.data));
      if (rd.committed.length > 0) n.raft.applied(rd.committed[rd.committed.length - 1]!.index);
    }
  }
}

// Tick until someone's election timeout fires and it wins; deliver every message.
for (let t = 0; t < 100 && !nodes.some((n) => n.raft.role === 'leader'); t++) {
  for (const n of nodes) n.raft.tick();
  drive();
  while (inbox.length > 0) {
    const m = inbox.shift()!;
    nodes.find((n) => n.id === m.to)!.raft.step(m);
    drive();
  }
}
const leader = nodes.find((n) => n.raft.role === 'leader')!;
console.log(`leader: ${leader.id} (term ${leader.raft.term})`);

const r = leader.raft.propose(new TextEncoder().encode('hello, raft'));
console.log('proposed:', r);
for (let round = 0; round < 3; round++) {
  for (const n of nodes) n.raft.tick(); // a heartbeat carries the new commit index to followers
  drive();
  while (inbox.length > 0) {
    const m = inbox.shift()!;
    nodes.find((n) => n.id === m.to)!.raft.step(m);
    drive();
  }
}
for (const n of nodes) console.log(`${n.id} applied:`, n.applied);
