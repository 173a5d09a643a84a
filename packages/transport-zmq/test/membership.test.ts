import { type Message, MessageType } from '@keel/core';
import { afterEach, describe, expect, it } from 'vitest';
import { PeerTransport } from '../src/index.js';
import { closeAll, idMap, Recorder, waitFor } from './helpers.js';

const hb = (from: string, to: string, context: number): Message => ({
  type: MessageType.Heartbeat,
  from,
  to,
  term: 1,
  commit: 0,
  context,
});

let open: PeerTransport[] = [];
afterEach(async () => {
  await closeAll(open.map((transport) => ({ transport })));
  open = [];
});

async function member(id: string): Promise<{ t: PeerTransport; r: Recorder; endpoint: string }> {
  const t = new PeerTransport({ id, bind: 'tcp://127.0.0.1:0', reconnectIntervalMs: 20 });
  open.push(t);
  const endpoint = await t.listen();
  const r = new Recorder();
  await t.start(r);
  return { t, r, endpoint };
}

describe('PeerTransport.setPeers (configuration changes)', () => {
  it('adds new members, removes members that left, keeps known addresses for empty ones', async () => {
    const a = await member('a');
    const b = await member('b');
    const c = await member('c');
    a.t.setPeers(idMap({ a: '', b: b.endpoint }));
    expect(a.t.peerIds()).toEqual(['b']);
    // A member takes messages only from members it has configured.
    b.t.addPeer('a', a.endpoint);

    // c joins: a learns its address from the configuration; b's empty address keeps what a knows.
    a.t.setPeers(idMap({ a: '', b: '', c: c.endpoint }));
    expect(a.t.peerIds().sort()).toEqual(['b', 'c']);
    c.t.addPeer('a', a.endpoint);
    a.t.send([hb('a', 'c', 7), hb('a', 'b', 8)]);
    await waitFor(() => c.r.messages.some((m) => m.type === 'heartbeat' && m.context === 7), 'c hears a');
    await waitFor(() => b.r.messages.some((m) => m.type === 'heartbeat' && m.context === 8), 'b hears a');

    // b leaves: a forgets it, and later messages to it are dropped as for an unknown member.
    const before = a.t.metrics.dropped['unknown-peer'];
    a.t.setPeers(idMap({ a: '', c: '' }));
    expect(a.t.peerIds()).toEqual(['c']);
    a.t.send([hb('a', 'b', 9)]);
    expect(a.t.metrics.dropped['unknown-peer']).toBe(before + 1);
  });

  it('reconnects a member whose address changed, and skips a new member without an address', async () => {
    const a = await member('a');
    const b1 = await member('b');
    a.t.setPeers(idMap({ b: b1.endpoint, x: '' }));
    expect(a.t.peerIds()).toEqual(['b']);
    await b1.t.close();
    const b2 = await member('b');
    b2.t.addPeer('a', a.endpoint);
    a.t.setPeers(idMap({ b: b2.endpoint }));
    a.t.send([hb('a', 'b', 5)]);
    await waitFor(
      () => b2.r.messages.some((m) => m.type === 'heartbeat' && m.context === 5),
      'b at its new address',
    );
  });
});
