import type { Entry } from '@keel/core';

/** Per-entry bookkeeping beyond the payload, for the byte budget. */
const ENTRY_OVERHEAD = 64;

/**
 * The most recent entries, kept in memory so replication to followers (which mostly reads just
 * appended entries) never touches the disk. A contiguous window ending at the log's last index,
 * bounded in bytes; older entries are read back from their segment.
 *
 * A ring buffer (power-of-two capacity) with the charged size of each slot in a parallel typed
 * array: a push in steady state (full cache) stores one reference and evicts the oldest entry
 * without touching it, so it never pulls a long-evicted object back into the CPU cache.
 */
export class EntryCache {
  #ring: Array<Entry | undefined> = new Array(1024);
  #sizes = new Int32Array(1024);
  #mask = 1023;
  /** Ring position of the first cached entry. */
  #head = 0;
  #len = 0;
  /** Index of the first cached entry. */
  #first = 1;
  #bytes = 0;
  readonly #limit: number;

  constructor(limitBytes: number) {
    this.#limit = limitBytes;
  }

  get bytes(): number {
    return this.#bytes;
  }

  get(index: number): Entry | undefined {
    const at = index - this.#first;
    if (at < 0 || at >= this.#len) return undefined;
    return this.#ring[(this.#head + at) & this.#mask];
  }

  /** Appends `e`; a gap or an overwrite restarts the window at e.index. */
  push(e: Entry): void {
    const at = e.index - this.#first;
    if (at !== this.#len) {
      if (at >= 0 && at < this.#len) this.truncateFrom(e.index);
      else this.#reset(e.index);
    }
    const size = e.data.byteLength + ENTRY_OVERHEAD;
    if (this.#len > this.#mask) this.#grow();
    const p = (this.#head + this.#len) & this.#mask;
    this.#ring[p] = e;
    this.#sizes[p] = size;
    this.#len++;
    this.#bytes += size;
    while (this.#bytes > this.#limit && this.#len > 0) this.#evictOne();
  }

  truncateFrom(index: number): void {
    const at = index - this.#first;
    if (at >= this.#len) return;
    if (at <= 0) {
      this.#reset(index);
      return;
    }
    for (let k = at; k < this.#len; k++) {
      const p = (this.#head + k) & this.#mask;
      this.#bytes -= this.#sizes[p]!;
      this.#ring[p] = undefined;
    }
    this.#len = at;
  }

  /** Forgets entries below `index` (compaction). */
  dropBefore(index: number): void {
    while (this.#first < index && this.#len > 0) this.#evictOne();
    if (this.#len === 0) this.#reset(Math.max(index, this.#first));
  }

  /** Empties the cache; the next entry pushed is `first`. */
  clear(first: number): void {
    this.#reset(first);
  }

  #evictOne(): void {
    const p = this.#head;
    this.#bytes -= this.#sizes[p]!;
    this.#ring[p] = undefined;
    this.#head = (p + 1) & this.#mask;
    this.#len--;
    this.#first++;
  }

  #grow(): void {
    const cap = (this.#mask + 1) * 2;
    const ring: Array<Entry | undefined> = new Array(cap);
    const sizes = new Int32Array(cap);
    for (let k = 0; k < this.#len; k++) {
      const p = (this.#head + k) & this.#mask;
      ring[k] = this.#ring[p];
      sizes[k] = this.#sizes[p]!;
    }
    this.#ring = ring;
    this.#sizes = sizes;
    this.#mask = cap - 1;
    this.#head = 0;
  }

  #reset(first: number): void {
    if (this.#mask > 1023) {
      // Do not keep a large ring (and its references) alive across a reset.
      this.#ring = new Array(1024);
      this.#sizes = new Int32Array(1024);
      this.#mask = 1023;
    } else {
      this.#ring.fill(undefined);
    }
    this.#head = 0;
    this.#len = 0;
    this.#first = first;
    this.#bytes = 0;
  }
}
