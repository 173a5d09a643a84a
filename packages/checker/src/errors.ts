/**
 * A malformed history is a bug in whoever recorded it, not a verdict about the system under test,
 * so it is thrown rather than returned. The `code` is stable; match on it, not on the message.
 */
export const CheckerErrorCode = {
  InvalidHistory: 'KEEL_INVALID_HISTORY',
  InvalidOptions: 'KEEL_INVALID_CHECKER_OPTIONS',
} as const;
export type CheckerErrorCode = (typeof CheckerErrorCode)[keyof typeof CheckerErrorCode];

export class CheckerError extends Error {
  override readonly name = 'CheckerError';
  readonly code: CheckerErrorCode;

  constructor(code: CheckerErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}
