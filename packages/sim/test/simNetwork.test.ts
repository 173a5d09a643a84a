import {
  type HeartbeatMessage,
  type Message,
  type NodeId,
  type PeerEvent,
  SeededRng,
  type Transport,
} from '@keel/core';
import { describe, expect, it } from 'vitest';
import { SimHost } from '../src/SimHost.js';
import { SimNetwork } from '../src/SimNetwork.js';
import { SimScheduler } from '../src/SimScheduler.js';

function hb(from: NodeId, to: NodeId, commit: number): HeartbeatMessage {
  return { type: 'heartbeat', from, to, term: 1, commit, context: 0 };
}

function setup(ids: readonly NodeId[] = ['a', 'b', 'c']) {
  const sched = new SimScheduler();
  const net = new SimNetwork({ scheduler: sched, rng: new SeededRng(7) });
  const hosts = new Map<NodeId, SimHost>();
  const got = new Map<NodeId, Message[]>();
  const hints: string[] = [];
  const transports = new Map<NodeId, Transport>();
  for (const id of ids) {
    const h = new SimHost(id, sched);
    hosts.set(id, h);
    net.addHost(h);
    got.set(id, []);
  }
  const boot = (id: NodeId): void => {
    hosts.get(id)!.boot();
    const t = net.transport(id);
    transports.set(id, t);
    void t.start({
      message: (m) => got.get(id)!.push(m),
      peer: (peer: NodeId, event: PeerEvent) => hints.push(`${id}:${peer}:${event}`),
    });
    net.hostChanged(id);
  };
  for (const id of ids) boot(id);
  const send = (m: Message): void => transports.get(m.from)!.send([m]);
  const drain = (): void => {
    while (sched.step());
  };
  return { sched, net, hosts, got, hints, send, drain, boot };
}

describe('SimNetwork', () => {
  it('delivers after a latency, FIFO per link, as a copy', () => {
    const { got, send, drain, sched } = setup();
    const m = hb('a', 'b', 1);
    send(m);
    for (let i = 2; i <= 20; i++) send(hb('a', 'b', i));
    drain();
    const commits = got.get('b')!.map((x) => (x as HeartbeatMessage).commit);
    expect(commits).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    expect(got.get('b')![0]).not.toBe(m);
    expect(got.get('b')![0]).toEqual(m);
    expect(sched.now()).toBeGreaterThan(0);
  });

  it('reorders when asked', () => {
    const { net, got, send, drain } = setup();
    net.faults.reorder = true;
    for (let i = 1; i <= 50; i++) send(hb('a', 'b', i));
    drain();
    const commits = got.get('b')!.map((x) => (x as HeartbeatMessage).commit);
    expect(commits).toHaveLength(50);
    expect(commits).not.toEqual([...commits].sort((x, y) => x - y));
  });

  it('drops and duplicates at the configured rates', () => {
    const { net, got, send, drain } = setup();
    net.faults.dropRate = 0.5;
    for (let i = 0; i < 400; i++) send(hb('a', 'b', i));
    drain();
    const n = got.get('b')!.length;
    expect(n).toBeGreaterThan(120);
    expect(n).toBeLessThan(280);
    net.heal();
    net.faults.dupRate = 1;
    got.set('c', []);
    send(hb('a', 'c', 1));
    drain();
    expect(got.get('c')!).toHaveLength(2);
  });

  it('cuts links one way for asymmetric partitions, and heals them', () => {
    const { net, got, send, drain } = setup();
    net.cutLink('a', 'b');
    send(hb('a', 'b', 1));
    send(hb('b', 'a', 2));
    drain();
    expect(got.get('b')).toEqual([]);
    expect(got.get('a')).toHaveLength(1);
    net.heal();
    send(hb('a', 'b', 3));
    drain();
    expect(got.get('b')).toHaveLength(1);
  });

  it('loses messages in flight when the link is cut', () => {
    const { net, got, send, sched, drain } = setup();
    send(hb('a', 'b', 1));
    sched.defer(() => net.isolate('b'));
    drain();
    expect(got.get('b')).toEqual([]);
  });

  it('a bridge sees both halves, which do not see each other', () => {
    const { net, got, send, drain } = setup(['a', 'b', 'c', 'd', 'e']);
    net.bridge(['a', 'b'], ['d', 'e']);
    send(hb('a', 'd', 1));
    send(hb('a', 'c', 2));
    send(hb('e', 'c', 3));
    send(hb('c', 'b', 4));
    drain();
    expect(got.get('d')).toEqual([]);
    expect(got.get('c')).toHaveLength(2);
    expect(got.get('b')).toHaveLength(1);
  });

  it('tells members when peers go away and come back, and can lie', () => {
    const { net, hints, hosts, drain, boot } = setup();
    drain();
    hints.length = 0; // members booted one by one and saw each other come up
    net.cutLink('a', 'b');
    drain();
    expect(hints).toEqual(['a:b:disconnected']);
    hints.length = 0;
    hosts.get('c')!.crash();
    net.hostChanged('c');
    drain();
    expect(hints.sort()).toEqual(['a:c:disconnected', 'b:c:disconnected']);
    hints.length = 0;
    boot('c');
    drain();
    // The restarted member learns of its cut links; the others see it back.
    expect(hints.sort()).toEqual(['a:c:connected', 'b:c:connected']);
    hints.length = 0;
    net.falseHint('b', 'a', 'disconnected');
    drain();
    expect(hints).toEqual(['b:a:disconnected']);
  });

  it('does not deliver to a crashed member', () => {
    const { got, send, hosts, net, drain } = setup();
    send(hb('a', 'b', 1));
    hosts.get('b')!.crash();
    net.hostChanged('b');
    drain();
    expect(got.get('b')).toEqual([]);
    expect(net.stats.dropped).toBe(1);
  });
});
