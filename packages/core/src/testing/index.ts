export type { RaftTestingConfig, TestingBugs } from '../raft/testingBugs.js';
export type { MemoryLogStoreOptions } from './MemoryLogStore.js';
export { MemoryLogStore } from './MemoryLogStore.js';
export { MemorySnapshotStore, type MemorySnapshotStoreOptions } from './MemorySnapshotStore.js';
export { INVALID_IDS, SPECIAL_KEYS, SPECIAL_VALID_IDS } from './specialIds.js';
