import { afterEach, describe, expect, it } from 'vitest';
import * as zmq from 'zeromq';
import { ClientConnection, type ClientRequest, ClientServer, TransportErrorCode } from '../src/index.js';
import { memoryLogger, waitFor } from './helpers.js';

const closers: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of closers.splice(0).reverse()) await c();
});

const bytes = (...xs: number[]) => new Uint8Array(xs);

async function server(handler: (r: ClientRequest) => void, options: { maxPendingReplies?: number } = {}) {
  const s = new ClientServer({ bind: 'tcp://127.0.0.1:0', ...options });
  await s.start(handler);
  closers.push(() => s.close());
  return s;
}

function connect(address: string, timeoutMs?: number): ClientConnection {
  const c = new ClientConnection({ address, ...(timeoutMs === undefined ? {} : { timeoutMs }) });
  closers.push(() => c.close());
  return c;
}

describe('client protocol over ZeroMQ', () => {
  it('keeps many requests in flight on one connection and matches replies answered out of order', async () => {
    const held: ClientRequest[] = [];
    const s = await server((r) => {
      held.push(r);
      // Answer in reverse once all 100 are in.
      if (held.length === 100) for (const h of held.reverse()) h.reply(bytes((h.payload[0]! * 2) % 256));
    });
    const c = connect(s.endpoint!);
    const results = await Promise.all(Array.from({ length: 100 }, (_, i) => c.request(bytes(i))));
    expect(results).toEqual(Array.from({ length: 100 }, (_, i) => bytes((i * 2) % 256)));
    // Requests issued in one turn shared frames.
    expect(s.metrics.framesReceived).toBeLessThan(10);
    expect(s.metrics.requests).toBe(100);
    expect(c.inFlight).toBe(0);
  });

  it('routes each reply to the connection that asked', async () => {
    const s = await server((r) => r.reply(r.payload));
    const clients = Array.from({ length: 5 }, () => connect(s.endpoint!));
    const results = await Promise.all(
      clients.flatMap((c, ci) => Array.from({ length: 20 }, (_, i) => c.request(bytes(ci, i)))),
    );
    expect(results).toEqual(clients.flatMap((_, ci) => Array.from({ length: 20 }, (_, i) => bytes(ci, i))));
  });

  it('turns a failed request into a remote error, and a handler that throws into one too', async () => {
    const log = memoryLogger();
    const s = new ClientServer({ bind: 'tcp://127.0.0.1:0', logger: log });
    closers.push(() => s.close());
    await s.start((r) => {
      if (r.payload[0] === 1) r.fail('not the leader');
      else throw new Error('bug');
    });
    const c = connect(s.endpoint!);
    await expect(c.request(bytes(1))).rejects.toMatchObject({
      code: TransportErrorCode.Remote,
      message: 'not the leader',
    });
    await expect(c.request(bytes(2))).rejects.toMatchObject({ code: TransportErrorCode.Remote });
    expect(log.lines.some((l) => l.level === 'error')).toBe(true);
  });

  it('times out a request nobody answers, and ignores a late reply', async () => {
    let late: ClientRequest | null = null;
    const s = await server((r) => {
      late = r;
    });
    const c = connect(s.endpoint!, 100);
    await expect(c.request(bytes(1))).rejects.toMatchObject({ code: TransportErrorCode.Timeout });
    late!.reply(bytes(2));
    late!.reply(bytes(3)); // a second answer is ignored
    await waitFor(() => s.metrics.replies === 1, 'the late reply sent');
    expect(c.inFlight).toBe(0);
  });

  it('rejects what is in flight when the connection closes', async () => {
    const s = await server(() => {});
    const c = new ClientConnection({ address: s.endpoint! });
    const pending = c.request(bytes(1));
    await c.close();
    await expect(pending).rejects.toMatchObject({ code: TransportErrorCode.Closed });
    await expect(c.request(bytes(1))).rejects.toMatchObject({ code: TransportErrorCode.Closed });
  });

  it('drops replies above the pending limit and counts them', async () => {
    const held: ClientRequest[] = [];
    const s = await server(
      (r) => {
        held.push(r);
      },
      { maxPendingReplies: 2 },
    );
    const c = connect(s.endpoint!, 300);
    const all = Array.from({ length: 5 }, (_, i) =>
      c.request(bytes(i)).catch((e: { code: string }) => e.code),
    );
    await waitFor(() => held.length === 5, 'five requests');
    for (const r of held) r.reply(r.payload);
    const results = await Promise.all(all);
    expect(results.filter((r) => r instanceof Uint8Array)).toHaveLength(2);
    expect(s.metrics.droppedReplies).toBe(3);
  });

  it('rejects hostile request frames without calling the handler', async () => {
    let calls = 0;
    const s = await server((r) => {
      calls++;
      r.reply(r.payload);
    });
    const raw = new zmq.Dealer({ linger: 0 });
    closers.push(() => raw.close());
    raw.connect(s.endpoint!);
    for (let i = 0; i < 100; i++) await raw.send(Buffer.from([1, 0x10, 5, i, i]));
    await raw.send([Buffer.from([1]), Buffer.from([2])]);
    await waitFor(
      () => Object.values(s.metrics.decodeErrors).reduce((a, b) => a + b, 0) === 101,
      'rejections',
    );
    expect(calls).toBe(0);
    const c = connect(s.endpoint!);
    expect(await c.request(bytes(7))).toEqual(bytes(7));
  });
});
