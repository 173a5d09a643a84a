export { crc32c } from './crc32c.js';
export { SnapshotError, SnapshotErrorCode, WalError, WalErrorCode } from './errors.js';
export type { FileSnapshotStoreOptions } from './FileSnapshotStore.js';
export {
  decodeSnapshotFile,
  encodeSnapshotFile,
  FileSnapshotStore,
  openSnapshotStore,
  snapshotFileName,
} from './FileSnapshotStore.js';
export type { SegmentSyncState, WalLogger, WalMetrics, WalOptions } from './types.js';
export { openLog, WalLogStore } from './WalLogStore.js';
