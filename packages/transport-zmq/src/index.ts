import * as zmq from 'zeromq';

export type { ClientConnectionOptions } from './ClientConnection.js';
export { ClientConnection } from './ClientConnection.js';
export type {
  ClientRequest,
  ClientServerCurveOptions,
  ClientServerMetrics,
  ClientServerOptions,
} from './ClientServer.js';
export { CLIENT_ZAP_DOMAIN, ClientServer } from './ClientServer.js';
export type { CurveKeyPair } from './curve.js';
export { assertCurveKey, generateKeyPair, keyFingerprint, z85Decode, z85Encode } from './curve.js';
export { TransportError, TransportErrorCode } from './errors.js';
export type { TransportLogger } from './logger.js';
export { DropReason } from './PeerQueue.js';
export type {
  PeerByteCounts,
  PeerCurveOptions,
  PeerTransportMetrics,
  PeerTransportOptions,
} from './PeerTransport.js';
export { PEER_ZAP_DOMAIN, PeerFrameRejectReason, PeerTransport } from './PeerTransport.js';

/** What the loaded ZeroMQ library supports; CURVE is required for authenticated clusters. */
export function zmqCapabilities(): { version: string; curve: boolean } {
  return { version: zmq.version, curve: Boolean(zmq.capability.curve) };
}
