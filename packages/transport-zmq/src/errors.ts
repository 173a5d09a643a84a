import { ChannelErrorCode, KeelError } from '@keel/core';

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
  /** The request certainly did not reach the server (its connection was down, or the send failed). */
  NotSent: ChannelErrorCode.NotSent,
  /** The request was sent, then the connection was lost before its reply: the outcome is unknown. */
  Disconnected: ChannelErrorCode.Disconnected,
  /** An option or key is invalid. */
  InvalidConfig: 'KEEL_TRANSPORT_INVALID_CONFIG',
} as const;
export type TransportErrorCode = (typeof TransportErrorCode)[keyof typeof TransportErrorCode];

export class TransportError extends KeelError {
  override readonly name = 'TransportError';
}
