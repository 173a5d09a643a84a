import type { KeyValue, KvResult } from './results.js';
import { SortedKeys } from './SortedKeys.js';

/** One client session (dissertation §6.3): enough to answer a retry without executing it again. */
export interface SessionRecord {
  /** Highest sequence number executed; 0 before the first write. */
  lastSeq: number;
  /** The response to `lastSeq` (null before the first write). */
  lastResult: KvResult | null;
  /** Log clock of the last command that named this session. */
  lastActive: number;
}

/**
 * Everything the store is. Held in one object so a restore can replace it with one assignment: a
 * failed restore leaves the old state untouched.
 */
export interface KvState {
  /** Incremented by every write that changes a key; 0 for an empty, never-written store. */
  revision: number;
  /** The log clock: the largest entry time applied so far (never goes back). */
  clock: number;
  /** The largest client id ever issued; lower unknown ids are reported as expired. */
  highestClientId: number;
  /** Keys by their binary string (see `keyString`). Values are immutable; a write replaces one. */
  readonly data: Map<string, KeyValue>;
  /** The same keys in byte order, for scans. */
  readonly index: SortedKeys;
  /**
   * Sessions by client id, in order of last activity (oldest first): touching a session moves it to
   * the end, and because the log clock never goes back, expiry only ever removes from the front.
   */
  readonly sessions: Map<number, SessionRecord>;
}

export function emptyState(): KvState {
  return {
    revision: 0,
    clock: 0,
    highestClientId: 0,
    data: new Map(),
    index: new SortedKeys(),
    sessions: new Map(),
  };
}
