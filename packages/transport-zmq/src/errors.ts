import { KeelError } from '@keel/core';

/** Stable codes of the transport's errors. */
export const TransportErrorCode = {
  /** The connection or server was closed before the request completed. */
  Closed: 'KEEL_TRANSPORT_CLOSED',
  /** No reply within the request's timeout. */
  Timeout: 'KEEL_REQUEST_TIMEOUT',
  /** Too many requests in flight or queued on this connection. */
  Overloaded: 'KEEL_TRANSPORT_OVERLOADED',
  /** The server answered with an error instead of a reply. */
  Remote: 'KEEL_REMOTE_ERROR',
  /** An option or key is invalid. */
  InvalidConfig: 'KEEL_TRANSPORT_INVALID_CONFIG',
} as const;
export type TransportErrorCode = (typeof TransportErrorCode)[keyof typeof TransportErrorCode];

export class TransportError extends KeelError {
  override readonly name = 'TransportError';
}
