import { KvClientError, KvClientErrorCode } from '@keel/kv';
import { describe, expect, it } from 'vitest';
import { checkerOutcome } from '../src/outcome.js';

describe('client failures as checker operations', () => {
  it('not-applied is a failed operation, whatever the code', () => {
    for (const code of [
      KvClientErrorCode.Timeout,
      KvClientErrorCode.Unavailable,
      KvClientErrorCode.BadRequest,
    ]) {
      expect(checkerOutcome(new KvClientError(code, 'x', { outcome: 'not-applied' }))).toEqual({
        status: 'fail',
      });
    }
  });

  it('unknown and applied are indeterminate', () => {
    const unknown = new KvClientError(KvClientErrorCode.Timeout, 'x', { outcome: 'unknown' });
    const applied = new KvClientError(KvClientErrorCode.Protocol, 'x', { outcome: 'applied' });
    expect(checkerOutcome(unknown)).toEqual({ status: 'unknown' });
    expect(checkerOutcome(applied)).toEqual({ status: 'unknown' });
  });

  it('anything that is not a client error is indeterminate', () => {
    expect(checkerOutcome(new Error('boom'))).toEqual({ status: 'unknown' });
  });
});
