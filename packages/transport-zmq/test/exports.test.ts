import { describe, expect, it } from 'vitest';

describe('public surface', () => {
  it('exports the peer transport, the client server and connection, CURVE helpers and their errors', async () => {
    // This list pins @keel/transport-zmq's public surface. Changing it changes the package's API: it must be
    // deliberate, update the README and come with a changeset (removing a name is breaking).
    expect(Object.keys(await import('../src/index.js')).sort()).toEqual([
      'CLIENT_ZAP_DOMAIN',
      'ClientConnection',
      'ClientServer',
      'DropReason',
      'PEER_ZAP_DOMAIN',
      'PeerFrameRejectReason',
      'PeerTransport',
      'TransportError',
      'TransportErrorCode',
      'assertCurveKey',
      'generateKeyPair',
      'keyFingerprint',
      'z85Decode',
      'z85Encode',
      'zmqCapabilities',
    ]);
  });
});
