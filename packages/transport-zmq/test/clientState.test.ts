import { createServer } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { ClientConnection, type ClientRequest, ClientServer, TransportErrorCode } from '../src/index.js';
import { waitFor } from './helpers.js';

const closers: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of closers.splice(0).reverse()) await c();
});

const bytes = (...xs: number[]) => new Uint8Array(xs);

async function server(handler: (r: ClientRequest) => void): Promise<ClientServer> {
  const s = new ClientServer({ bind: 'tcp://127.0.0.1:0' });
  await s.start(handler);
  closers.push(() => s.close());
  return s;
}

function connect(address: string, timeoutMs = 20_000): ClientConnection {
  const c = new ClientConnection({ address, timeoutMs });
  closers.push(() => c.close());
  return c;
}

/** A port nothing listens on (bound and released). */
async function deadPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const port = (s.address() as import('node:net').AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

describe('client connection state', () => {
  it('is up once connected, and down once the server is gone', async () => {
    const s = await server((r) => r.reply(r.payload));
    const c = connect(s.endpoint!);
    expect(await c.request(bytes(1))).toEqual(bytes(1));
    expect(c.state()).toBe('up');
    await s.close();
    await waitFor(() => c.state() === 'down', 'the connection seen down');
  });

  it('fails a request to a member that refuses connections as not sent, long before its timeout', async () => {
    const c = connect(`tcp://127.0.0.1:${await deadPort()}`);
    // Made before the first connection attempt failed: held, then failed when the refusal is seen.
    await expect(c.request(bytes(1))).rejects.toMatchObject({ code: TransportErrorCode.NotSent });
    expect(c.state()).toBe('down');
    // Made while known down: failed at once.
    await expect(c.request(bytes(2))).rejects.toMatchObject({ code: TransportErrorCode.NotSent });
    expect(c.inFlight).toBe(0);
  });

  it('fails a request sent on a connection that is then lost as disconnected (outcome unknown)', async () => {
    const held: ClientRequest[] = [];
    const s = await server((r) => {
      held.push(r);
    });
    const c = connect(s.endpoint!);
    const pending = c.request(bytes(1));
    await waitFor(() => held.length === 1, 'the request at the server');
    await s.close();
    await expect(pending).rejects.toMatchObject({ code: TransportErrorCode.Disconnected });
  });

  it('comes back up when the member listens again', async () => {
    const port = await deadPort();
    const c = connect(`tcp://127.0.0.1:${port}`);
    await expect(c.request(bytes(1))).rejects.toMatchObject({ code: TransportErrorCode.NotSent });
    const s = new ClientServer({ bind: `tcp://127.0.0.1:${port}` });
    closers.push(() => s.close());
    await s.start((r) => r.reply(r.payload));
    await waitFor(() => c.state() === 'up', 'the connection up again');
    expect(await c.request(bytes(2))).toEqual(bytes(2));
  });
});

describe('ClientServer.drain', () => {
  it('puts the answers given just before it on the wire before closing', async () => {
    const held: ClientRequest[] = [];
    const s = await server((r) => {
      held.push(r);
    });
    const c = connect(s.endpoint!);
    const all = Array.from({ length: 50 }, (_, i) => c.request(bytes(i)));
    await waitFor(() => held.length === 50, 'fifty requests at the server');
    // As a stopping member does: answer everything in flight, then close in the same turn.
    for (const r of held) r.reply(r.payload);
    await s.drain(1000);
    expect(await Promise.all(all)).toEqual(Array.from({ length: 50 }, (_, i) => bytes(i)));
    expect(s.metrics.droppedReplies).toBe(0);
  });

  it('tells its clients it is going away, so they send nothing more', async () => {
    const s = await server((r) => r.reply(r.payload));
    const c = connect(s.endpoint!);
    expect(await c.request(bytes(1))).toEqual(bytes(1));
    const draining = s.drain(1000);
    await waitFor(() => c.state() === 'down', 'the client told');
    await expect(c.request(bytes(2))).rejects.toMatchObject({ code: TransportErrorCode.NotSent });
    await draining;
    expect(s.metrics.requests).toBe(1);
  });

  it('is bounded: a drain with nothing to send closes at once, and a second close is harmless', async () => {
    const s = await server((r) => r.reply(r.payload));
    await s.drain(1000);
    await s.close();
    await expect(s.drain(1000)).resolves.toBeUndefined();
  });
});
