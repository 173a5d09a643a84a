import { describe, expect, it } from 'vitest';
import {
  type Entry,
  LoopbackNetwork,
  type Message,
  type NodeId,
  PeerEvent,
  RaftNode,
  realScheduler,
  type Scheduler,
  SeededRng,
  type StateMachine,
  type TimerHandle,
} from '../src/index.js';
import { MemoryLogStore } from '../src/testing/index.js';

function hb(from: NodeId, to: NodeId, term = 1): Message {
  return { type: 'heartbeat', from, to, term, commit: 0, context: 0 };
}

/** A receiver that records what reaches it. */
function recorder() {
  const got: Message[] = [];
  const peers: Array<[NodeId, PeerEvent]> = [];
  return {
    got,
    peers,
    handlers: { message: (m: Message) => got.push(m), peer: (p: NodeId, e: PeerEvent) => peers.push([p, e]) },
  };
}

const turn = () => new Promise<void>((r) => setImmediate(r));

describe('LoopbackNetwork', () => {
  it('delivers a batch after the current job, in order, only to its addressees', async () => {
    const net = new LoopbackNetwork();
    const a = net.transport('a');
    const b = net.transport('b');
    const c = net.transport('c');
    const rb = recorder();
    const rc = recorder();
    a.start(recorder().handlers);
    b.start(rb.handlers);
    c.start(rc.handlers);
    const batch = [hb('a', 'b', 1), hb('a', 'c', 1), hb('a', 'b', 2)];
    a.send(batch);
    batch.length = 0; // the caller may reuse its array
    expect(rb.got).toEqual([]);
    await turn();
    expect(rb.got.map((m) => m.term)).toEqual([1, 2]);
    expect(rc.got.map((m) => m.term)).toEqual([1]);
    net.close();
  });

  it('drops messages to members that are unknown, not started or closed, and from a closed sender', async () => {
    const net = new LoopbackNetwork();
    const a = net.transport('a');
    const b = net.transport('b');
    const c = net.transport('c');
    const rb = recorder();
    a.start(recorder().handlers);
    a.send([hb('a', 'b'), hb('a', 'zz')]); // b not started yet, zz unknown
    await turn();
    b.start(rb.handlers);
    a.send([hb('a', 'b', 3)]);
    await a.close(); // in flight when the sender closes: lost
    await turn();
    expect(rb.got).toEqual([]);
    c.start(recorder().handlers);
    await b.close();
    c.send([hb('c', 'b')]);
    await turn();
    expect(rb.got).toEqual([]);
    net.close();
  });

  it('tells started members when a peer comes up and goes down', async () => {
    const net = new LoopbackNetwork();
    const ra = recorder();
    const rb = recorder();
    const a = net.transport('a');
    const b = net.transport('b');
    a.start(ra.handlers);
    b.start(rb.handlers);
    await turn();
    expect(ra.peers).toEqual([['b', PeerEvent.Connected]]);
    expect(rb.peers).toEqual([['a', PeerEvent.Connected]]);
    await b.close();
    await turn();
    expect(ra.peers).toEqual([
      ['b', PeerEvent.Connected],
      ['b', PeerEvent.Disconnected],
    ]);
    expect(rb.peers).toEqual([['a', PeerEvent.Connected]]);
    net.close();
  });

  it('gives one open transport per id, a new one after it closed (a restart), none after close()', async () => {
    const net = new LoopbackNetwork();
    const a1 = net.transport('a');
    expect(() => net.transport('a')).toThrow(/already has/);
    const rb = recorder();
    net.transport('b').start(rb.handlers);
    a1.start(recorder().handlers);
    a1.send([hb('a', 'b', 1)]);
    await a1.close(); // crashed with a message in flight
    const a2 = net.transport('a');
    a2.start(recorder().handlers);
    a2.send([hb('a', 'b', 2)]);
    await turn();
    // Only the new incarnation's message arrives; the old one died with its sender.
    expect(rb.got.map((m) => m.term)).toEqual([2]);
    net.close();
    expect(() => net.transport('c')).toThrow(/closed/);
  });

  it('hands batches over through the given defer (e.g. a Scheduler in virtual time)', () => {
    const queue: Array<() => void> = [];
    const net = new LoopbackNetwork({ defer: (fn) => queue.push(fn) });
    const rb = recorder();
    const a = net.transport('a');
    net.transport('b').start(rb.handlers);
    a.start(recorder().handlers);
    a.send([hb('a', 'b')]);
    expect(rb.got).toEqual([]);
    for (const fn of queue.splice(0)) fn();
    expect(rb.got).toHaveLength(1);
  });
});

/** realScheduler, counting the timers it holds, so a test can see that none is left behind. */
function countingScheduler(): Scheduler & { readonly live: () => number } {
  const live = new Set<TimerHandle>();
  return {
    now: realScheduler.now,
    defer: realScheduler.defer,
    setTimeout: (fn, ms) => {
      const h: TimerHandle = realScheduler.setTimeout(() => {
        live.delete(h);
        fn();
      }, ms);
      live.add(h);
      return h;
    },
    clearTimeout: (h) => {
      live.delete(h);
      realScheduler.clearTimeout(h);
    },
    live: () => live.size,
  };
}

class Log implements StateMachine<number> {
  readonly seen: string[] = [];
  apply(e: Entry): number {
    return this.seen.push(new TextDecoder().decode(e.data));
  }
}

async function until<T>(what: string, probe: () => T | null | undefined | false, ms = 15_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = probe();
    if (v !== null && v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('an in-process cluster: RaftNode + bare MemoryLogStore + realScheduler + LoopbackNetwork', () => {
  it('elects, commits 100 commands applied identically everywhere, and leaves no timer behind', async () => {
    const scheduler = countingScheduler();
    const ids = ['a', 'b', 'c'];
    const net = new LoopbackNetwork();
    const members = ids.map((id, i) => {
      const log = new Log();
      // No `schedule`: the store completes appends on its own (this cluster hung before it did).
      const node = new RaftNode<number>({
        raft: { id, voters: ids, rng: new SeededRng(i + 1) },
        storage: new MemoryLogStore(),
        transport: net.transport(id),
        stateMachine: log,
        scheduler,
      });
      node.start();
      return { id, node, log };
    });
    try {
      const leader = await until('a leader', () => members.find((m) => m.node.status().role === 'leader'));
      const outcomes = await Promise.all(
        Array.from(
          { length: 100 },
          (_, k) =>
            new Promise<boolean>((resolve) =>
              leader.node.propose(new TextEncoder().encode(`cmd-${k}`), (o) => resolve(o.ok)),
            ),
        ),
      );
      // Leadership may legitimately move meanwhile; what was committed must be the same everywhere.
      const committed = outcomes.filter(Boolean).length;
      expect(committed).toBeGreaterThan(0);
      await until('every member to apply the same commands', () => {
        const first = members[0]!.log.seen;
        return first.length >= committed && members.every((m) => m.log.seen.join() === first.join());
      });
    } finally {
      for (const m of members) m.node.stop();
      net.close();
    }
    expect(scheduler.live()).toBe(0);
  });
});
