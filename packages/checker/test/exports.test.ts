import { describe, expect, it } from 'vitest';

describe('public surface', () => {
  it('exports the linearizability check, history validation, the model step, formatting and errors', async () => {
    // This list pins @keel/checker's public surface. Changing it changes the package's API: it must be
    // deliberate, update the README and come with a changeset (removing a name is breaking).
    expect(Object.keys(await import('../src/index.js')).sort()).toEqual([
      'CheckerError',
      'CheckerErrorCode',
      'DEFAULT_MAX_STEPS',
      'checkHistory',
      'formatCommand',
      'formatOperation',
      'formatResult',
      'formatViolation',
      'isTxn',
      'keysOf',
      'step',
      'stepTxn',
      'validateHistory',
    ]);
  });
});
