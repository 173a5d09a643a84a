import { afterEach, describe, expect, it } from 'vitest';
import { ClientConnection, ClientServer, PeerTransport } from '../src/index.js';
import { closeAll, idMap, Recorder, waitConnected } from './helpers.js';

/**
 * IPv6 literals (`tcp://[::1]:port`) bind and dial: ZeroMQ needs its IPv6 option for them on every
 * socket (without it, binding fails with "No such device"). Skips only where the host has no ::1.
 */
const closers: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of closers.splice(0).reverse()) await c();
});

describe('IPv6 endpoints', () => {
  it('a client server binds [::1] and a client reaches it', async () => {
    const s = new ClientServer({ bind: 'tcp://[::1]:0' });
    closers.push(() => s.close());
    await s.start((r) => r.reply(r.payload));
    expect(s.endpoint).toMatch(/^tcp:\/\/\[::1\]:\d+$/);
    const c = new ClientConnection({ address: s.endpoint! });
    closers.push(() => c.close());
    expect(await c.request(new Uint8Array([7]))).toEqual(new Uint8Array([7]));
  });

  it('peers bind [::1], connect and exchange messages', async () => {
    const ids = ['a', 'b'];
    const transports = ids.map((id) => new PeerTransport({ id, bind: 'tcp://[::1]:0' }));
    const endpoints = await Promise.all(transports.map((t) => t.listen()));
    const members = ids.map((id, i) => ({
      id,
      transport: transports[i]!,
      recorder: new Recorder(),
      endpoint: endpoints[i]!,
    }));
    closers.push(() => closeAll(members));
    for (const m of members) {
      for (const o of members) if (o.id !== m.id) m.transport.addPeer(o.id, o.endpoint);
      await m.transport.start(m.recorder);
    }
    await waitConnected(members);
    expect(idMap({ a: endpoints[0]! }).get('a')).toMatch(/^tcp:\/\/\[::1\]:/);
  });
});
