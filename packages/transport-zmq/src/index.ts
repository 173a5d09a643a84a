import * as zmq from 'zeromq';

/** What the loaded ZeroMQ library supports; CURVE is required for authenticated clusters. */
export function zmqCapabilities(): { version: string; curve: boolean } {
  return { version: zmq.version, curve: Boolean(zmq.capability.curve) };
}
