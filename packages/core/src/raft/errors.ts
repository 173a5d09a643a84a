/**
 * Errors that mean "this node must stop": a broken invariant, corrupt input from storage, a
 * misuse of the engine's API. Expected outcomes (not the leader, proposal dropped) are returned
 * as values, never thrown. Every error carries a stable `code` that callers may match on.
 */
export const ErrorCode = {
  InvariantViolated: 'KEEL_INVARIANT_VIOLATED',
  InvalidConfig: 'KEEL_INVALID_CONFIG',
  InvalidArgument: 'KEEL_INVALID_ARGUMENT',
  StorageFailed: 'KEEL_STORAGE_FAILED',
  NodeStopped: 'KEEL_NODE_STOPPED',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

export class KeelError extends Error {
  override readonly name: string = 'KeelError';
  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

export class InvariantError extends KeelError {
  override readonly name = 'InvariantError';
  constructor(message: string) {
    super(ErrorCode.InvariantViolated, message);
  }
}

export function invariant(condition: unknown, message: string): asserts condition {
  if (!condition) throw new InvariantError(message);
}
