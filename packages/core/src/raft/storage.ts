import type { Entry, HardState } from './types.js';

/**
 * The engine's synchronous, read-only view of durable storage. Every entry the engine reads from
 * here has been reported durable through `persisted()`; entries still on their way to disk are kept
 * by the engine itself. A disk-backed store answers `term()` from memory and serves recent entries
 * from a cache, so these calls stay cheap.
 */
export interface LogStorage {
  /** The hard state and log bounds recovered at startup. */
  initialState(): { readonly hardState: HardState };
  /** First index still held (1 for a fresh log; snapshot index + 1 after compaction). */
  firstIndex(): number;
  /** Last index held; firstIndex() - 1 when empty. */
  lastIndex(): number;
  /**
   * Term of `index` for index in [firstIndex() - 1, lastIndex()]; index 0 has term 0. For
   * firstIndex() - 1 it is the term of the compaction point. Outside that range: -1.
   */
  term(index: number): number;
  /**
   * Entries in [lo, hi), stopping early once their payload bytes would exceed `maxBytes` (but always
   * at least one entry when lo < hi). lo and hi must lie within [firstIndex(), lastIndex() + 1].
   */
  entries(lo: number, hi: number, maxBytes: number): Entry[];
}

/**
 * The byte rule of `LogStorage.entries`, in one place for every store: appends entries
 * `at(lo) .. at(hi - 1)` to `out` while the payload bytes (counting `bytes` already in `out`) stay
 * within `maxBytes`; the first entry is always taken when `out` is empty. Stops early at an index
 * `at` does not have. Returns `out`.
 */
export function takeWithinBytes(
  out: Entry[],
  bytes: number,
  lo: number,
  hi: number,
  maxBytes: number,
  at: (index: number) => Entry | undefined,
): Entry[] {
  for (let i = lo; i < hi; i++) {
    const e = at(i);
    if (e === undefined) break;
    if (out.length > 0 && bytes + e.data.byteLength > maxBytes) break;
    bytes += e.data.byteLength;
    out.push(e);
  }
  return out;
}
