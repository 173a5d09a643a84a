/**
 * Two members and a client in one process, with CURVE on.
 *   node --conditions=source --import tsx examples/quickstart.ts
 */
import { MessageType } from '@keel/core';
import { ClientConnection, ClientServer, generateKeyPair, PeerTransport } from '@keel/transport-zmq';

const keys = { n1: generateKeyPair(), n2: generateKeyPair() };
const peerKeys = new Map([
  ['n1', keys.n1.publicKey],
  ['n2', keys.n2.publicKey],
]);

const n1 = new PeerTransport({ id: 'n1', bind: 'tcp://127.0.0.1:0', curve: { ...keys.n1, peerKeys } });
const n2 = new PeerTransport({ id: 'n2', bind: 'tcp://127.0.0.1:0', curve: { ...keys.n2, peerKeys } });
n1.addPeer('n2', await n2.listen()); // in a real cluster: peers: { n2: 'tcp://10.0.0.2:7001' }
n2.addPeer('n1', await n1.listen());

const got = new Promise<void>((resolve) => {
  void n2.start({
    message: (m) => {
      console.log(`n2 received ${m.type} from ${m.from} in term ${m.term}`);
      resolve();
    },
    peer: (id, event) => console.log(`n2: ${id} ${event}`),
  });
});
await n1.start({ message: () => {}, peer: (id, event) => console.log(`n1: ${id} ${event}`) });
n1.send([{ type: MessageType.Heartbeat, from: 'n1', to: 'n2', term: 1, commit: 0, context: 0 }]);
await got;

// The client endpoint: requests with ids, many in flight on one connection.
const serverKeys = generateKeyPair();
const clientKeys = generateKeyPair();
const server = new ClientServer({
  bind: 'tcp://127.0.0.1:0',
  curve: { ...serverKeys, clientKeys: [clientKeys.publicKey] },
});
await server.start((request) => request.reply(request.payload.slice().reverse()));
const client = new ClientConnection({
  address: server.endpoint!,
  curve: { ...clientKeys, serverPublicKey: serverKeys.publicKey },
});
const replies = await Promise.all([
  client.request(new Uint8Array([1, 2, 3])),
  client.request(new Uint8Array([4, 5])),
]);
console.log(
  'replies',
  replies.map((r) => [...r]),
);

console.log('n1 metrics', n1.metrics);
await Promise.all([client.close(), server.close(), n1.close(), n2.close()]);
