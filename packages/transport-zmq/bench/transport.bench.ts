/**
 * One-way throughput and round-trip latency of PeerTransport against raw zeromq sockets, measured
 * in the same run on 127.0.0.1, for 100-byte and 8 KiB messages.
 *
 * - raw one-way: a DEALER sending to a ROUTER with `await dealer.send(msg)` per message (the naive
 *   loop zeromq.js invites, since it allows one pending send per socket).
 * - transport one-way: `transport.send([msg])` per message (an AppendEntries whose frame size is
 *   the message size); the per-peer queue and pump pack what queued into one ZeroMQ message.
 * - round trip: one message out, a small answer back, one at a time (raw: ROUTER echoes a 1-byte
 *   ack; transport: an AppendEntries answered by an AppendEntries response).
 *
 *   pnpm bench            (node --conditions=source --import tsx bench/transport.bench.ts)
 */
import { cpus } from 'node:os';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { type AppMessage, EntryType, type Message, MessageType } from '@keel/core';
import { encodeMessage } from '@keel/core/codec';
import * as zmq from 'zeromq';
import { PeerTransport } from '../src/index.js';

const WINDOW_MS = Number(process.env.BENCH_WINDOW_MS ?? 1500);
const RTT_SAMPLES = Number(process.env.BENCH_RTT_SAMPLES ?? 2000);
const SIZES = [100, 8 * 1024];

/** An AppendEntries from a to b whose encoded frame is exactly `size` bytes. */
function appOfSize(size: number, index: number): AppMessage {
  const make = (n: number): AppMessage => ({
    type: MessageType.App,
    from: 'a',
    to: 'b',
    term: 1,
    prevIndex: index - 1,
    prevTerm: 1,
    commit: 0,
    entries: [{ index, term: 1, type: EntryType.Normal, data: new Uint8Array(n) }],
  });
  const overhead = encodeMessage(make(0)).length;
  let n = size - overhead;
  while (encodeMessage(make(n)).length > size) n--;
  return make(n);
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function rawOneWay(size: number): Promise<number> {
  const router = new zmq.Router({ linger: 0 });
  await router.bind('tcp://127.0.0.1:0');
  const dealer = new zmq.Dealer({ linger: 0, routingId: 'a' });
  dealer.connect(router.lastEndpoint!);
  const payload = Buffer.alloc(size, 7);
  await dealer.send(payload);
  await router.receive();
  let received = 0;
  let lastAt = 0;
  const receiving = (async () => {
    for await (const [, body] of router) {
      if (body!.length !== size) throw new Error('raw: wrong size');
      received++;
      lastAt = performance.now();
    }
  })().catch(() => {});
  let sent = 0;
  const start = performance.now();
  while (performance.now() - start < WINDOW_MS) {
    for (let i = 0; i < 256; i++, sent++) await dealer.send(payload);
  }
  const deadline = performance.now() + 5000;
  while (received < sent && performance.now() < deadline) await new Promise((r) => setTimeout(r, 1));
  const rate = received / ((lastAt - start) / 1000);
  dealer.close();
  router.close();
  await receiving;
  return rate;
}

async function rawRoundTrip(size: number): Promise<number[]> {
  const router = new zmq.Router({ linger: 0 });
  await router.bind('tcp://127.0.0.1:0');
  const dealer = new zmq.Dealer({ linger: 0 });
  dealer.connect(router.lastEndpoint!);
  const echo = (async () => {
    for await (const [id] of router) await router.send([id!, 'k']);
  })().catch(() => {});
  const payload = Buffer.alloc(size, 7);
  const samples: number[] = [];
  for (let i = 0; i < RTT_SAMPLES + 200; i++) {
    const t0 = performance.now();
    await dealer.send(payload);
    await dealer.receive();
    if (i >= 200) samples.push((performance.now() - t0) * 1000);
  }
  dealer.close();
  router.close();
  await echo;
  return samples.sort((x, y) => x - y);
}

async function pair(onB: (m: Message, b: PeerTransport) => void, onA: (m: Message) => void) {
  const a = new PeerTransport({
    id: 'a',
    bind: 'tcp://127.0.0.1:0',
    maxQueueMessages: 65_536,
    maxQueueBytes: 1 << 30,
  });
  const b = new PeerTransport({
    id: 'b',
    bind: 'tcp://127.0.0.1:0',
    maxQueueMessages: 65_536,
    maxQueueBytes: 1 << 30,
  });
  const [ea, eb] = await Promise.all([a.listen(), b.listen()]);
  a.addPeer('b', eb);
  b.addPeer('a', ea);
  let up = false;
  await a.start({ message: onA, peer: (_, e) => (up = e === 'connected') });
  await b.start({ message: (m) => onB(m, b), peer: () => {} });
  while (!up) await new Promise((r) => setTimeout(r, 1));
  return { a, b };
}

async function transportOneWay(
  size: number,
): Promise<{ rate: number; framesPerMsg: number; dropped: number }> {
  const msg = appOfSize(size, 1);
  let received = 0;
  let lastAt = 0;
  const { a, b } = await pair(
    (m) => {
      // Equivalence check: what arrives is what was sent.
      if (m.type !== MessageType.App || m.entries[0]!.data.length !== msg.entries[0]!.data.length) {
        throw new Error('transport: wrong message');
      }
      received++;
      lastAt = performance.now();
    },
    () => {},
  );
  let sent = 0;
  const start = performance.now();
  while (performance.now() - start < WINDOW_MS) {
    for (let i = 0; i < 256; i++, sent++) a.send([msg]);
    // Keep the queue below its limit: the bench measures delivery, not the drop policy.
    while (a.metrics.queued > 8192) await yieldToLoop();
    await yieldToLoop();
  }
  const deadline = performance.now() + 5000;
  while (received < sent && performance.now() < deadline) await new Promise((r) => setTimeout(r, 1));
  const m = a.metrics;
  const dropped = Object.values(m.dropped).reduce((x, y) => x + y, 0);
  await Promise.all([a.close(), b.close()]);
  return { rate: received / ((lastAt - start) / 1000), framesPerMsg: m.framesSent / m.sent, dropped };
}

async function transportRoundTrip(size: number): Promise<number[]> {
  let resolve: () => void = () => {};
  const { a, b } = await pair(
    (m, self) => {
      if (m.type === MessageType.App) {
        self.send([
          {
            type: MessageType.AppResp,
            from: 'b',
            to: 'a',
            term: 1,
            index: 1,
            reject: false,
            hintIndex: 0,
            hintTerm: 0,
          },
        ]);
      }
    },
    () => resolve(),
  );
  const msg = appOfSize(size, 1);
  const samples: number[] = [];
  for (let i = 0; i < RTT_SAMPLES + 200; i++) {
    const t0 = performance.now();
    await new Promise<void>((r) => {
      resolve = r;
      a.send([msg]);
    });
    if (i >= 200) samples.push((performance.now() - t0) * 1000);
  }
  await Promise.all([a.close(), b.close()]);
  return samples.sort((x, y) => x - y);
}

const fmt = (n: number) => Math.round(n).toLocaleString('en');

console.log(
  `PeerTransport vs raw zeromq ${zmq.version} on 127.0.0.1 — node ${process.version}, ${cpus().length} CPU(s) ` +
    `(${cpus()[0]?.model ?? '?'}), window ${WINDOW_MS} ms, ${RTT_SAMPLES} RTT samples\n`,
);
const rows: string[][] = [];
for (const size of SIZES) {
  const raw = await rawOneWay(size);
  const t = await transportOneWay(size);
  const rawRtt = await rawRoundTrip(size);
  const tRtt = await transportRoundTrip(size);
  rows.push([
    size === 100 ? '100 B' : '8 KiB',
    fmt(raw),
    fmt(t.rate),
    `${(t.rate / raw).toFixed(2)}x`,
    `${(1 / t.framesPerMsg).toFixed(1)}`,
    String(t.dropped),
    `${fmt(percentile(rawRtt, 50))} / ${fmt(percentile(rawRtt, 99))}`,
    `${fmt(percentile(tRtt, 50))} / ${fmt(percentile(tRtt, 99))}`,
  ]);
}
const header = [
  'size',
  'raw msg/s',
  'transport msg/s',
  'ratio',
  'msgs/frame',
  'dropped',
  'raw RTT p50/p99 µs',
  'transport RTT p50/p99 µs',
];
console.log(`| ${header.join(' | ')} |`);
console.log(`|${header.map(() => '---').join('|')}|`);
for (const r of rows) console.log(`| ${r.join(' | ')} |`);
