import { describe, expect, it } from 'vitest';
import { ErrorCode, InvariantError, invariant, KeelError } from '../src/index.js';

describe('errors', () => {
  it('carry a stable code and a name', () => {
    const err = new KeelError(ErrorCode.InvalidConfig, 'bad config', { cause: new Error('x') });
    expect(err.code).toBe('KEEL_INVALID_CONFIG');
    expect(err.name).toBe('KeelError');
    expect(err.cause).toBeInstanceOf(Error);
  });

  it('invariant() throws an InvariantError only when the condition fails', () => {
    expect(() => invariant(true, 'fine')).not.toThrow();
    expect(() => invariant(false, 'two leaders in term 3')).toThrow(InvariantError);
    try {
      invariant(0, 'boom');
    } catch (e) {
      expect((e as KeelError).code).toBe(ErrorCode.InvariantViolated);
    }
  });
});
