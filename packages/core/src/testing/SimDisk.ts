import type { SeededRng } from '../raft/rng.js';
import type { Entry, HardState } from '../raft/types.js';
import type { LogStore } from '../runtime/interfaces.js';
import type { MemoryLogStore } from './MemoryLogStore.js';
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
  /** Terms of the durable log by index (index 0: term 0), for cheap durability checks. */
  private readonly durableTerms: number[] = [0];
  /** Appends not yet covered by an fsync: first index and terms. */
  private unsynced: { first: number; terms: number[] }[] = [];

  constructor(
    readonly store: MemoryLogStore,
    private readonly host: SimHost,
    private readonly rng: SeededRng,
    /**
     * PLANTED BUG for tests: the disk acknowledges writes at once, before they are durable (a
     * volatile write cache that ignores flushes). A crash then loses acknowledged data.
     */
    private readonly lies = false,
  ) {
    // A store handed to a new disk holds only durable state (fresh, or recovered after a crash).
    for (let i = 1; i <= store.lastIndex(); i++) this.durableTerms.push(store.term(i));
  }

  /** What would survive a power loss right now (terms only; index 0 has term 0, absent -1). */
  readonly durable = {
    term: (index: number): number => (index < this.durableTerms.length ? this.durableTerms[index]! : -1),
    firstIndex: (): number => 1,
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
    if (entries.length > 0)
      this.unsynced.push({ first: entries[0]!.index, terms: entries.map((e) => e.term) });
    if (this.syncPending) return;
    this.syncPending = true;
    // Mostly fast (an SSD's fdatasync), now and then slow enough to matter for elections.
    const ms = chance(this.rng, 0.05) ? uniform(this.rng, 5, 40) : uniform(this.rng, 0.05, 1.5);
    this.host.after(ms, () => {
      this.syncPending = false;
      this.syncs++;
      // Appends made by the callbacks below belong to the next fsync.
      const batch = this.unsynced;
      this.unsynced = [];
      for (const b of batch) {
        this.durableTerms.length = Math.min(this.durableTerms.length, b.first);
        for (const t of b.terms) this.durableTerms.push(t);
      }
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
