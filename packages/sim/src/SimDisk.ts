import type { Entry, HardState, LogStore, SeededRng } from '@keel/core';
import type { MemoryLogStore } from '@keel/core/testing';
import type { SimHost } from './SimHost.js';
import { chance, uniform } from './simRng.js';

/**
 * A member's disk: a `MemoryLogStore` whose fsync completes a random, usually small, delay after
 * the first append that needs it. Appends that arrive while an fsync is pending ride on it (group
 * commit). A crash that lands between an append and its fsync loses the append, as power loss would.
 */
export class SimDisk implements LogStore {
  private syncPending = false;
  /** fsyncs completed (for stats). */
  syncs = 0;

  constructor(
    readonly store: MemoryLogStore,
    private readonly host: SimHost,
    private readonly rng: SeededRng,
    /**
     * PLANTED BUG for tests: the disk acknowledges writes at once, before they are durable (a
     * volatile write cache that ignores flushes). A crash then loses acknowledged data.
     */
    private readonly lies = false,
  ) {}

  /** What would survive a power loss right now (terms only; index 0 has term 0, absent -1). */
  readonly durable = {
    term: (index: number): number => this.store.durableTerm(index),
    firstIndex: (): number => this.store.durableFirstIndex(),
  };

  initialState(): { readonly hardState: HardState } {
    return this.store.initialState();
  }
  firstIndex(): number {
    return this.store.firstIndex();
  }
  lastIndex(): number {
    return this.store.lastIndex();
  }
  term(index: number): number {
    return this.store.term(index);
  }
  entries(lo: number, hi: number, maxBytes: number): Entry[] {
    return this.store.entries(lo, hi, maxBytes);
  }

  append(
    entries: readonly Entry[],
    hardState: HardState | null,
    onDurable: (err: Error | null) => void,
  ): void {
    if (this.lies) {
      this.store.append(entries, hardState, () => {});
      this.host.after(0, () => onDurable(null));
    } else {
      this.store.append(entries, hardState, onDurable);
    }
    this.requestSync();
  }

  compact(index: number, term: number, onDurable: (err: Error | null) => void): void {
    this.store.compact(index, term, onDurable);
    this.requestSync();
  }

  /** The first write since the last fsync starts one; later writes ride on it (group commit). */
  private requestSync(): void {
    if (this.syncPending) return;
    this.syncPending = true;
    // Mostly fast (an SSD's fdatasync), now and then slow enough to matter for elections.
    const ms = chance(this.rng, 0.05) ? uniform(this.rng, 5, 40) : uniform(this.rng, 0.05, 1.5);
    this.host.after(ms, () => {
      this.syncPending = false;
      this.syncs++;
      this.store.sync();
    });
  }

  close(): Promise<void> {
    return this.store.close();
  }

  /** What survives a power loss: a new store with only the durable state. */
  crash(): MemoryLogStore {
    return this.store.crash();
  }
}
