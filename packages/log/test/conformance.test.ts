import type { LogStore } from '@keel/core';
import { logStoreConformance } from '@keel/core/testing/suite';
import { openLog, type WalOptions } from '../src/index.js';
import { tempDir } from './helpers.js';

function walHarness(options: WalOptions) {
  return async () => {
    const { dir, cleanup } = await tempDir();
    let current: LogStore = await openLog(dir, options);
    return {
      store: current,
      reopen: async () => {
        await current.close();
        current = await openLog(dir, options);
        return current;
      },
      cleanup: async () => {
        await current.close();
        await cleanup();
      },
    };
  };
}

logStoreConformance('WalLogStore', walHarness({ segmentSize: 1024 * 1024 }));
// Tiny segments, no preallocation and a tiny cache: rotations inside one append, cold reads.
logStoreConformance(
  'WalLogStore (1 KiB segments, 256-byte cache)',
  walHarness({ segmentSize: 1024, preallocate: false, cacheBytes: 256 }),
);
