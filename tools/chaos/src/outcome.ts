import { KvClientError } from '@keel/kv';

/**
 * What a failed client operation is for the checker, by the client's own classification
 * (`KvClientError.outcome`): `not-applied` (never sent, or refused before the log took it) is a
 * failed operation; `unknown` — and `applied`, whose return value is lost — is indeterminate, as
 * is anything that is not a KvClientError.
 */
export function checkerOutcome(err: unknown): { status: 'unknown' } | { status: 'fail' } {
  return err instanceof KvClientError && err.outcome === 'not-applied'
    ? { status: 'fail' }
    : { status: 'unknown' };
}
