import type { Entry } from '@keel/core';

/** Per-entry bookkeeping beyond the payload, for the byte budget. */
const ENTRY_OVERHEAD = 64;

/**
 * The most recent entries, kept in memory so replication to followers (which mostly reads just
 * appended entries) never touches the disk. A contiguous window ending at the log's last index,
 * bounded in bytes; older entries are read back from their segment.
 */
export class EntryCache {
  #entries: Array<Entry | undefined> = [];
  #head = 0;
  /** Index of #entries[#head]. */
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
    if (at < 0 || at >= this.#entries.length - this.#head) return undefined;
    return this.#entries[this.#head + at];
  }

  /** Appends `e`; a gap or an overwrite restarts the window at e.index. */
  push(e: Entry): void {
    const at = e.index - this.#first;
    const len = this.#entries.length - this.#head;
    if (at !== len) {
      if (at >= 0 && at < len) this.truncateFrom(e.index);
      else this.#reset(e.index);
    }
    this.#entries.push(e);
    this.#bytes += e.data.byteLength + ENTRY_OVERHEAD;
    while (this.#bytes > this.#limit && this.#head < this.#entries.length) this.#evictOne();
  }

  truncateFrom(index: number): void {
    const at = index - this.#first;
    const len = this.#entries.length - this.#head;
    if (at >= len) return;
    if (at <= 0) {
      this.#reset(index);
      return;
    }
    for (let i = this.#head + at; i < this.#entries.length; i++) {
      this.#bytes -= this.#entries[i]!.data.byteLength + ENTRY_OVERHEAD;
    }
    this.#entries.length = this.#head + at;
  }

  /** Forgets entries below `index` (compaction). */
  dropBefore(index: number): void {
    while (this.#first < index && this.#head < this.#entries.length) this.#evictOne();
    if (this.#head === this.#entries.length) this.#reset(Math.max(index, this.#first));
  }

  /** Empties the cache; the next entry pushed is `first`. */
  clear(first: number): void {
    this.#reset(first);
  }

  #evictOne(): void {
    const e = this.#entries[this.#head]!;
    this.#bytes -= e.data.byteLength + ENTRY_OVERHEAD;
    this.#entries[this.#head] = undefined;
    this.#head++;
    this.#first++;
    if (this.#head > 4096 && this.#head * 2 > this.#entries.length) {
      this.#entries = this.#entries.slice(this.#head);
      this.#head = 0;
    }
  }

  #reset(first: number): void {
    this.#entries = [];
    this.#head = 0;
    this.#first = first;
    this.#bytes = 0;
  }
}
