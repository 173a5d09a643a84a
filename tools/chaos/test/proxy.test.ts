import { once } from 'node:events';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { LinkProxy } from '../src/index.js';

/** An echo server behind the proxy, and a client connected through it. */
async function setup(): Promise<{
  proxy: LinkProxy;
  client: Socket;
  server: Server;
  received: () => string;
}> {
  let received = '';
  const server = createServer((s) => {
    s.on('data', (d) => {
      received += d.toString();
      s.write(d);
    });
    s.on('error', () => {});
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as { port: number }).port;
  const proxy = new LinkProxy({ targetHost: '127.0.0.1', targetPort: port, name: 'a->b' });
  await proxy.listen();
  const client = createConnection({ host: '127.0.0.1', port: proxy.port });
  await once(client, 'connect');
  open.push({ proxy, client, server });
  return { proxy, client, server, received: () => received };
}

const open: { proxy: LinkProxy; client: Socket; server: Server }[] = [];
afterEach(async () => {
  for (const o of open.splice(0)) {
    o.client.destroy();
    await o.proxy.close();
    o.server.close();
  }
});

function reads(s: Socket): { text: () => string } {
  let text = '';
  s.on('data', (d) => {
    text += d.toString();
  });
  return { text: () => text };
}

/** Resolves on 'close' (events.once would reject on the 'error' that precedes it). */
const closed = (s: Socket): Promise<void> => new Promise((r) => s.once('close', () => r()));

async function until(cond: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!cond()) {
    if (performance.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('LinkProxy', () => {
  it('pass: forwards both directions', async () => {
    const { client, proxy } = await setup();
    const r = reads(client);
    client.write('hello');
    await until(() => r.text() === 'hello');
    expect(proxy.counters).toMatchObject({ accepted: 1, bytesForward: 5, bytesBackward: 5, resets: 0 });
  });

  it('cut: holds the bytes without resetting the connection, and delivers them once healed', async () => {
    const { client, proxy, received } = await setup();
    const r = reads(client);
    let closed = false;
    client.on('close', () => {
      closed = true;
    });
    client.write('a');
    await until(() => r.text() === 'a');
    proxy.setMode({ kind: 'cut' });
    client.write('b');
    await new Promise((res) => setTimeout(res, 200));
    expect(received()).toBe('a');
    expect(closed).toBe(false);
    // A connection opened during the cut is accepted but goes nowhere until the heal.
    const late = createConnection({ host: '127.0.0.1', port: proxy.port });
    open.push({ proxy, client: late, server: open[0]!.server });
    await once(late, 'connect');
    late.write('c');
    await new Promise((res) => setTimeout(res, 100));
    expect(received()).toBe('a');
    proxy.setMode({ kind: 'pass' });
    await until(() => received().length === 3);
    expect([...received()].sort().join('')).toBe('abc');
    await until(() => r.text() === 'ab');
    expect(closed).toBe(false);
  });

  it('reset: resets open connections and every new one', async () => {
    const { client, proxy } = await setup();
    const err = once(client, 'error');
    proxy.setMode({ kind: 'reset' });
    expect(((await err)[0] as NodeJS.ErrnoException).code).toBe('ECONNRESET');
    const again = createConnection({ host: '127.0.0.1', port: proxy.port });
    again.on('error', () => {});
    await closed(again);
    expect(proxy.counters.resets).toBe(2);
  });

  it('slow: delays every chunk, in order', async () => {
    const { client, proxy } = await setup();
    const r = reads(client);
    proxy.setMode({ kind: 'slow', delayMs: 150 });
    const t0 = performance.now();
    client.write('1');
    client.write('2');
    await until(() => r.text() === '12');
    // There and back again: two delays.
    expect(performance.now() - t0).toBeGreaterThanOrEqual(290);
  });

  it('flaky: resets connections at random while passing bytes', async () => {
    const { client, proxy } = await setup();
    const r = reads(client);
    client.on('error', () => {});
    client.write('x');
    await until(() => r.text() === 'x');
    proxy.setMode({ kind: 'flaky', resetsPerSecond: 50 });
    await closed(client);
    expect(proxy.counters.resets).toBeGreaterThanOrEqual(1);
  });
});
