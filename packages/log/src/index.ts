export { crc32c } from './crc32c.js';
export { WalError, WalErrorCode } from './errors.js';
export type { SegmentSyncState, WalLogger, WalMetrics, WalOptions } from './types.js';
export { openLog, WalLogStore } from './WalLogStore.js';
