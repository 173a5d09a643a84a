/**
 * Core engine benchmark: an in-process 3-node cluster (engine + driver) over in-memory stores and
 * an in-memory transport, 256-byte proposals, closed loop. Reports committed entries per second
 * and heap allocated per entry. Run with `pnpm bench` in packages/core (flags set in package.json).
 *
 * What this measures is the CPU cost of consensus in JavaScript (engine, driver, batching), with
 * storage and network free: an upper bound for a real cluster, not a prediction of one.
 */

import { cpus } from 'node:os';
import { PerformanceObserver } from 'node:perf_hooks';
import { SeededRng } from '../src/raft/rng.js';
import type { Message, NodeId } from '../src/raft/types.js';
import type { Scheduler, TimerHandle, Transport, TransportHandlers } from '../src/runtime/interfaces.js';
import { RaftNode } from '../src/runtime/RaftNode.js';
import { MemoryLogStore } from '../src/testing/MemoryLogStore.js';

/** A synchronous event loop in virtual time: deferred work runs FIFO; timers fire when idle. */
class LoopScheduler implements Scheduler {
  private queue: (() => void)[] = [];
  private timers: { at: number; fn: () => void; dead: boolean }[] = [];
  private time = 0;
  now(): number {
    return this.time;
  }
  setTimeout(fn: () => void, ms: number): TimerHandle {
    const t = { at: this.time + ms, fn, dead: false };
    this.timers.push(t);
    return t;
  }
  clearTimeout(h: TimerHandle): void {
    (h as { dead: boolean }).dead = true;
  }
  defer(fn: () => void): void {
    this.queue.push(fn);
  }
  /** Runs deferred work; when none is left, advances time to the next timer. */
  turn(): void {
    if (this.queue.length > 0) {
      const q = this.queue;
      this.queue = [];
      for (const fn of q) fn();
      return;
    }
    this.timers = this.timers.filter((t) => !t.dead);
    if (this.timers.length === 0) return;
    let next = this.timers[0]!;
    for (const t of this.timers) if (t.at < next.at) next = t;
    this.time = next.at;
    const due = this.timers.filter((t) => t.at <= this.time);
    this.timers = this.timers.filter((t) => t.at > this.time);
    for (const t of due) if (!t.dead) t.fn();
  }
}

class LoopTransport implements Transport {
  handlers: TransportHandlers | null = null;
  constructor(
    private readonly loop: LoopScheduler,
    private readonly peers: Map<NodeId, LoopTransport>,
  ) {}
  start(h: TransportHandlers): void {
    this.handlers = h;
  }
  send(messages: readonly Message[]): void {
    for (const m of messages) {
      const to = this.peers.get(m.to);
      if (to?.handlers) {
        const h = to.handlers;
        this.loop.defer(() => h.message(m));
      }
    }
  }
  async close(): Promise<void> {}
}

interface Run {
  entries: number;
  seconds: number;
  entriesPerSec: number;
  readys: number;
}

function runCluster(opts: { seconds: number; window: number; batch: number; payload: number }): Run {
  const loop = new LoopScheduler();
  const ids = ['n1', 'n2', 'n3'];
  const transports = new Map<NodeId, LoopTransport>();
  for (const id of ids) transports.set(id, new LoopTransport(loop, transports));
  let readys = 0;
  const nodes = ids.map(
    (id, i) =>
      new RaftNode<void>({
        raft: { id, voters: ids, rng: new SeededRng(i + 1), electionTicks: 10, heartbeatTicks: 1 },
        storage: new MemoryLogStore({ schedule: (fn) => loop.defer(fn) }),
        transport: transports.get(id)!,
        stateMachine: { apply: () => undefined },
        scheduler: loop,
        tickMs: 10,
        observer: { ready: () => void readys++ },
      }),
  );
  for (const n of nodes) n.start();
  nodes[0]!.campaign();
  for (let i = 0; i < 10_000 && nodes[0]!.status().role !== 'leader'; i++) loop.turn();
  const leader = nodes[0]!;
  if (leader.status().role !== 'leader') throw new Error('no leader elected');

  const payload = new Uint8Array(opts.payload).fill(7);
  let outstanding = 0;
  let committed = 0;
  const done = (o: { ok: boolean }): void => {
    outstanding--;
    if (o.ok) committed++;
  };
  const start = process.hrtime.bigint();
  const deadline = start + BigInt(Math.round(opts.seconds * 1e9));
  let iterations = 0;
  for (;;) {
    while (outstanding + opts.batch <= opts.window) {
      for (let i = 0; i < opts.batch; i++) {
        outstanding++;
        leader.propose(payload, done);
      }
    }
    loop.turn();
    if ((++iterations & 63) === 0 && process.hrtime.bigint() > deadline) break;
  }
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  for (const n of nodes) n.stop();
  return { entries: committed, seconds, entriesPerSec: committed / seconds, readys };
}

/** Heap bytes allocated per committed entry: heapUsed growth over a window with no GC at all. */
function allocationPerEntry(): { bytesPerEntry: number; entries: number; gcs: number } {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) return { bytesPerEntry: Number.NaN, entries: 0, gcs: -1 };
  let gcs = 0;
  const obs = new PerformanceObserver((list) => {
    gcs += list.getEntries().length;
  });
  gc();
  obs.observe({ entryTypes: ['gc'] });
  const before = process.memoryUsage().heapUsed;
  const r = runCluster({ seconds: 0.25, window: 4096, batch: 256, payload: 256 });
  const after = process.memoryUsage().heapUsed;
  obs.disconnect();
  return { bytesPerEntry: (after - before) / r.entries, entries: r.entries, gcs };
}

const seconds = Number(process.env.KEEL_BENCH_SECONDS ?? 3);
console.log(`@keel/core engine benchmark — ${cpus()[0]?.model ?? 'cpu'}, node ${process.version}`);
console.log('3 in-process nodes, in-memory stores and transport, 256-byte proposals, one core\n');
runCluster({ seconds: 0.5, window: 4096, batch: 256, payload: 256 }); // warm-up
const rows: string[][] = [['window', 'batch', 'entries', 'seconds', 'entries/s', 'readys']];
for (const [window, batch] of [
  [1, 1],
  [64, 16],
  [4096, 256],
  [16384, 1024],
] as const) {
  const r = runCluster({ seconds, window, batch, payload: 256 });
  rows.push([
    String(window),
    String(batch),
    String(r.entries),
    r.seconds.toFixed(2),
    Math.round(r.entriesPerSec).toLocaleString('en-US'),
    String(r.readys),
  ]);
}
const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
for (const r of rows) console.log(r.map((c, i) => c.padStart(widths[i]!)).join('  '));
const alloc = allocationPerEntry();
console.log(
  `\nheap allocated per committed entry (window 4096, batch 256; ${alloc.entries} entries, ${alloc.gcs} GCs during the window): ${
    Number.isNaN(alloc.bytesPerEntry)
      ? 'n/a (run with --expose-gc)'
      : `${Math.round(alloc.bytesPerEntry)} bytes`
  }`,
);
console.log('target: >= 1,000,000 entries/s');
