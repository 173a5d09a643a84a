// The public surface of @keel/log: the WAL, the snapshot store, the directory lock, their options
// and errors. Record formats, codecs and the WAL's inner pieces (SegmentWriter, GroupCommit, ...)
// stay internal; test/exports.test.ts pins this list so a change to it is deliberate.
export { DirLock } from './DirLock.js';
export { SnapshotError, SnapshotErrorCode, WalError, WalErrorCode } from './errors.js';
export type { FileSnapshotStoreOptions } from './FileSnapshotStore.js';
export { FileSnapshotStore, openSnapshotStore } from './FileSnapshotStore.js';
export type { SegmentSyncState, WalLogger, WalMetrics, WalOptions } from './types.js';
export { openLog, WalLogStore } from './WalLogStore.js';
