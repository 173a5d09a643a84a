import { describe, expect, it } from 'vitest';

describe('public surface', () => {
  it('exports exactly the WAL, the snapshot store, the directory lock and their errors', async () => {
    // Changing this list changes @keel/log's API: update the README and add a changeset.
    expect(Object.keys(await import('../src/index.js')).sort()).toEqual([
      'DirLock',
      'FileSnapshotStore',
      'SnapshotError',
      'SnapshotErrorCode',
      'WalError',
      'WalErrorCode',
      'WalLogStore',
      'openLog',
      'openSnapshotStore',
    ]);
  });
});
