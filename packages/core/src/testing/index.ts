export type { MemoryLogStoreOptions } from './MemoryLogStore.js';
export { MemoryLogStore } from './MemoryLogStore.js';
