import { type HeartbeatMessage, MessageType } from '@keel/core';
import { encodeBatch, Writer, writeClientRequests } from '@keel/core/codec';
import { afterEach, describe, expect, it } from 'vitest';
import * as zmq from 'zeromq';
import {
  assertCurveKey,
  ClientConnection,
  ClientServer,
  generateKeyPair,
  keyFingerprint,
  PeerTransport,
  TransportError,
  z85Decode,
  z85Encode,
} from '../src/index.js';
import {
  closeAll,
  idMap,
  type Member,
  memoryLogger,
  startCluster,
  waitConnected,
  waitFor,
} from './helpers.js';

const hb = (from: string, to: string, term: number): HeartbeatMessage => ({
  type: MessageType.Heartbeat,
  from,
  to,
  term,
  commit: 0,
  context: 0,
});

let open: Member[] = [];
const closers: (() => unknown)[] = [];
afterEach(async () => {
  await closeAll(open);
  open = [];
  for (const c of closers.splice(0)) await c();
});

describe('CURVE keys', () => {
  it('generates Z85 key pairs that round-trip through the Z85 codec', () => {
    const { publicKey, secretKey } = generateKeyPair();
    expect(publicKey).toHaveLength(40);
    expect(secretKey).toHaveLength(40);
    expect(z85Encode(z85Decode(publicKey)!)).toBe(publicKey);
    // The RFC 32 test vector.
    expect(z85Encode(new Uint8Array([0x86, 0x4f, 0xd2, 0x6f, 0xb5, 0x59, 0xf7, 0x5b]))).toBe('HelloWorld');
    expect(() => assertCurveKey('short', 'key')).toThrow(TransportError);
    expect(() => assertCurveKey(`${publicKey.slice(0, 39)}~`, 'key')).toThrow(TransportError);
  });
});

describe('PeerTransport with CURVE', () => {
  const keys = { a: generateKeyPair(), b: generateKeyPair(), c: generateKeyPair() };
  const peerKeys = idMap({ a: keys.a.publicKey, b: keys.b.publicKey, c: keys.c.publicKey });
  const curveFor = (id: 'a' | 'b' | 'c') => ({ ...keys[id], peerKeys });

  it('encrypts and delivers between members whose keys are configured', async () => {
    open = await startCluster(['a', 'b', 'c'], (id) => ({ curve: curveFor(id as 'a' | 'b' | 'c') }));
    await waitConnected(open);
    const [a, b, c] = open as [Member, Member, Member];
    a.transport.send([hb('a', 'b', 1), hb('a', 'c', 1)]);
    c.transport.send([hb('c', 'a', 2)]);
    await waitFor(
      () =>
        b.recorder.messages.length === 1 &&
        c.recorder.messages.length === 1 &&
        a.recorder.messages.length === 1,
      'encrypted delivery',
    );
    expect(a.transport.metrics.authFailures).toBe(0);
  });

  it('a peer with an unknown key cannot deliver a single message', async () => {
    // 'b' is a member, but the impostor below holds a key nobody allowed.
    open = await startCluster(['a'], () => ({
      curve: curveFor('a'),
      peers: idMap({ b: 'tcp://127.0.0.1:1' }),
    }));
    const [a] = open as [Member];
    const impostor = generateKeyPair();
    const dealer = new zmq.Dealer({
      routingId: 'b',
      linger: 0,
      curveServerKey: keys.a.publicKey,
      curvePublicKey: impostor.publicKey,
      curveSecretKey: impostor.secretKey,
    });
    closers.push(() => dealer.close());
    const refused = new Promise<void>((resolve) => dealer.events.on('handshake:error:auth', () => resolve()));
    dealer.connect(a.endpoint);
    void dealer.send(encodeBatch([hb('b', 'a', 1)])).catch(() => {});
    await refused;
    await waitFor(() => a.transport.metrics.authFailures >= 1, 'the ZAP refusal counted');
    // A plaintext peer is refused too: the endpoint only speaks CURVE.
    const plain = new zmq.Dealer({ routingId: 'b', linger: 0 });
    closers.push(() => plain.close());
    plain.connect(a.endpoint);
    void plain.send(encodeBatch([hb('b', 'a', 2)])).catch(() => {});
    // Meanwhile a legitimate peer gets through, which bounds how long we must watch.
    const b = new PeerTransport({
      id: 'b',
      bind: 'tcp://127.0.0.1:0',
      curve: curveFor('b'),
      peers: idMap({ a: a.endpoint }),
    });
    closers.push(() => b.close());
    await b.start({ message() {}, peer() {} });
    b.send([hb('b', 'a', 3)]);
    await waitFor(() => a.recorder.messages.length >= 1, 'the legitimate message');
    expect(a.recorder.messages.map((m) => m.term)).toEqual([3]);
    expect(a.transport.metrics.received).toBe(1);
  });
});

describe('PeerTransport with a wrong key for a peer', () => {
  it('both sides say which member and which key, once however often the dialer retries', async () => {
    const keys = { a: generateKeyPair(), b: generateKeyPair() };
    const wrong = generateKeyPair();
    const logs = { a: memoryLogger(), b: memoryLogger() };
    // 'a' holds a key for 'b' that is not b's; 'b' holds a's right key.
    open = await startCluster(['a', 'b'], (id) => ({
      logger: logs[id as 'a' | 'b'],
      reconnectIntervalMs: 20,
      reconnectMaxIntervalMs: 20,
      curve: {
        ...keys[id as 'a' | 'b'],
        peerKeys: idMap({ a: keys.a.publicKey, b: id === 'a' ? wrong.publicKey : keys.b.publicKey }),
      },
    }));
    const [a, b] = open as [Member, Member];
    await waitFor(
      () => a.transport.metrics.handshakeFailures >= 3 && b.transport.metrics.handshakeFailures >= 3,
      'several failed handshakes on both sides',
    );
    const warned = (log: typeof logs.a) =>
      log.lines.filter((l) => l.level === 'warn' && /handshake/.test(l.msg));
    expect(warned(logs.a)).toHaveLength(1);
    expect(warned(logs.a)[0]!.msg).toContain(`member b at ${b.endpoint}`);
    expect(warned(logs.a)[0]!.msg).toContain(keyFingerprint(wrong.publicKey));
    expect(warned(logs.b)).toHaveLength(1);
    expect(warned(logs.b)[0]!.msg).toContain(keyFingerprint(keys.b.publicKey));
    // Nothing crossed from a to b meanwhile.
    a.transport.send([hb('a', 'b', 1)]);
    expect(b.recorder.messages).toEqual([]);
  });
});

describe('PeerTransport configuration changes with CURVE', () => {
  it('a member added without a known key is logged and left unconnected, not thrown on', async () => {
    const log = memoryLogger();
    const a = generateKeyPair();
    const t = new PeerTransport({
      id: 'a',
      bind: 'tcp://127.0.0.1:0',
      logger: log,
      curve: { ...a, peerKeys: new Map() },
    });
    closers.push(() => t.close());
    await t.start({ message() {}, peer() {} });
    // A configuration change names 'n4', whose key this member was never given.
    expect(() => t.setPeers(new Map([['n4', 'tcp://127.0.0.1:1']]))).not.toThrow();
    expect(() => t.setPeers(new Map([['n4', 'tcp://127.0.0.1:1']]))).not.toThrow();
    expect(t.peerIds()).toEqual([]);
    const lines = log.lines.filter((l) => /n4 has no CURVE public key/.test(l.msg));
    expect(lines).toHaveLength(1);
  });
});

describe('ClientServer with CURVE', () => {
  const server = generateKeyPair();
  const client = generateKeyPair();

  async function startServer() {
    const log = memoryLogger();
    const s = new ClientServer({
      bind: 'tcp://127.0.0.1:0',
      logger: log,
      curve: { ...server, clientKeys: [client.publicKey] },
    });
    const seen: number[] = [];
    await s.start((req) => {
      seen.push(req.id);
      req.reply(req.payload);
    });
    closers.push(() => s.close());
    return { s, seen, endpoint: s.endpoint!, log };
  }

  it('serves a client whose key is allowed', async () => {
    const { endpoint, log } = await startServer();
    const c = new ClientConnection({
      address: endpoint,
      curve: { ...client, serverPublicKey: server.publicKey },
    });
    closers.push(() => c.close());
    expect(await c.request(new Uint8Array([1, 2, 3]))).toEqual(new Uint8Array([1, 2, 3]));
    expect(log.lines.some((l) => /unauthenticated/.test(l.msg))).toBe(false);
  });

  it('a client with an unknown key cannot deliver a single command', async () => {
    const { s, seen, endpoint } = await startServer();
    const stranger = generateKeyPair();
    const c = new ClientConnection({
      address: endpoint,
      timeoutMs: 500,
      curve: { ...stranger, serverPublicKey: server.publicKey },
    });
    closers.push(() => c.close());
    // Refused at the handshake, so known not sent (before, it waited out its timeout).
    await expect(c.request(new Uint8Array([9]))).rejects.toMatchObject({ code: 'KEEL_CHANNEL_NOT_SENT' });
    // And with raw sockets, plaintext:
    const raw = new zmq.Dealer({ linger: 0 });
    closers.push(() => raw.close());
    raw.connect(endpoint);
    void raw
      .send(writeClientRequests(new Writer(), [{ id: 1, payload: new Uint8Array([1]) }]))
      .catch(() => {});
    await waitFor(() => s.metrics.authFailures >= 1, 'refusal counted');
    expect(seen).toEqual([]);
    expect(s.metrics.requests).toBe(0);
  });

  it('logs a refused key once, naming its fingerprint, however often it retries', async () => {
    const { s, endpoint, log } = await startServer();
    const stranger = generateKeyPair();
    for (let i = 1; i <= 3; i++) {
      const c = new ClientConnection({
        address: endpoint,
        timeoutMs: 500,
        curve: { ...stranger, serverPublicKey: server.publicKey },
      });
      closers.push(() => c.close());
      await waitFor(() => s.metrics.authFailures >= i, `refusal ${i} of the same key`);
    }
    const refused = log.lines.filter((l) => l.level === 'warn' && /refused/.test(l.msg));
    expect(refused).toHaveLength(1);
    expect(refused[0]!.msg).toContain(keyFingerprint(stranger.publicKey));
  });
});
