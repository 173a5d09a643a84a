import { type SessionLimits, SessionTable } from '@keel/core';
import { LeaseTable } from './LeaseTable.js';
import type { KeyValue, KvResult } from './results.js';
import { SortedKeys } from './SortedKeys.js';

/**
 * Everything the store is. Held in one object so a restore can replace it with one assignment: a
 * failed restore leaves the old state untouched.
 */
export interface KvState {
  /** Incremented by every write that changes a key; 0 for an empty, never-written store. */
  revision: number;
  /** The log clock: the largest entry time applied so far (never goes back). */
  clock: number;
  /** Bytes of the live keys and values (derived: not in snapshots, recomputed on restore). */
  bytes: number;
  /** Keys by their binary string (see `keyString`). Values are immutable; a write replaces one. */
  readonly data: Map<string, KeyValue>;
  /** The same keys in byte order, for scans. */
  readonly index: SortedKeys;
  /** Exactly-once sessions (§6.3): the client's last command and its result; expiry by `clock`. */
  readonly sessions: SessionTable<KvResult>;
  /** Leases and their attached keys (each key's `lease` names its lease). */
  readonly leases: LeaseTable;
}

export function emptyState(sessionLimits: SessionLimits): KvState {
  return {
    revision: 0,
    clock: 0,
    bytes: 0,
    data: new Map(),
    index: new SortedKeys(),
    sessions: new SessionTable(sessionLimits),
    leases: new LeaseTable(),
  };
}
