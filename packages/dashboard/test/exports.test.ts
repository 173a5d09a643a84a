import { describe, expect, it } from 'vitest';

describe('public surface', () => {
  it('exports startDashboard, the action names, the load limits, the process states and the token header', async () => {
    // This list pins @keel/dashboard's public surface. Changing it changes the package's API: it
    // must be deliberate, update the README and come with a changeset (removing a name is breaking).
    expect(Object.keys(await import('../src/index.js')).sort()).toEqual([
      'ACTION_NAMES',
      'DESTRUCTIVE',
      'LOAD_LIMITS',
      'ProcessState',
      'TOKEN_HEADER',
      'startDashboard',
    ]);
  });
});
