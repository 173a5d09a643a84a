import { decodeConfEntry } from './confChange.js';
import { invariant } from './errors.js';
import type { RaftLog } from './RaftLog.js';
import { type ConfState, type Entry, EntryType, type SnapshotMeta } from './types.js';

/** A configuration that took effect when its Config entry was appended (dissertation §4.1). */
interface ConfAt {
  readonly index: number;
  readonly term: number;
  readonly conf: ConfState;
}

/** Log entries read per chunk when replaying Config entries at startup. */
const REPLAY_CHUNK_BYTES = 8 * 1024 * 1024;

/**
 * The configuration log (dissertation ch. 4): the configuration at the snapshot (or the bootstrap
 * one), and one per Config entry after it in the log. The last one is in effect: a configuration
 * takes effect when its entry is appended, not when it commits, and is abandoned if the entry is
 * truncated away. Single-server changes only, so at most one is uncommitted (see
 * `pendingIndex`); no joint configurations.
 */
export class ConfLog {
  private base: ConfState;
  private baseIndex: number;
  private readonly entries: ConfAt[] = [];

  constructor(base: ConfState, baseIndex: number) {
    this.base = base;
    this.baseIndex = baseIndex;
  }

  /** Replays the Config entries `log` holds after the base, in chunks so a long log is not loaded at once. */
  replay(log: RaftLog): void {
    const first = Math.max(log.firstIndex(), this.baseIndex + 1);
    const last = log.lastIndex();
    for (let lo = first; lo <= last; ) {
      const chunk = log.slice(lo, last + 1, REPLAY_CHUNK_BYTES);
      for (const e of chunk) if (e.type === EntryType.Config) this.push(e);
      lo += chunk.length;
    }
  }

  /** The effective configuration (the latest Config entry in the log, else the base). */
  current(): ConfState {
    const n = this.entries.length;
    return n > 0 ? this.entries[n - 1]!.conf : this.base;
  }

  /** The configuration in effect at `index` (at least the base index): what a snapshot there records. */
  at(index: number): ConfState {
    for (let i = this.entries.length - 1; i >= 0; i--) {
      const c = this.entries[i]!;
      if (c.index <= index) return c.conf;
    }
    return this.base;
  }

  /** Index of the latest Config entry if it is above `committed`, else 0. */
  pendingIndex(committed: number): number {
    const n = this.entries.length;
    if (n === 0) return 0;
    const top = this.entries[n - 1]!.index;
    return top > committed ? top : 0;
  }

  /**
   * Records the configuration a Config entry makes effective. The entry carries the whole
   * configuration (validated by the leader that appended it), so no earlier one is needed to read it.
   */
  push(e: Entry): void {
    const decoded = decodeConfEntry(e.data);
    invariant(decoded !== null, `Config entry ${e.index}@${e.term} cannot be decoded`);
    this.entries.push({ index: e.index, term: e.term, conf: decoded.conf });
  }

  /**
   * After a follower's append: configurations whose entries a conflicting suffix replaced are
   * rolled back, and the new Config entries take effect (dissertation §4.1). Returns whether the
   * effective configuration may have changed.
   */
  afterAppend(entries: readonly Entry[], log: RaftLog): boolean {
    let changed = false;
    while (this.entries.length > 0) {
      const top = this.entries[this.entries.length - 1]!;
      if (top.index < log.firstIndex() || log.term(top.index) === top.term) break;
      this.entries.pop();
      changed = true;
    }
    const n = this.entries.length;
    let after = n > 0 ? this.entries[n - 1]!.index : this.baseIndex;
    for (const e of entries) {
      if (e.type !== EntryType.Config || e.index <= after || log.term(e.index) !== e.term) continue;
      this.push(e);
      after = e.index;
      changed = true;
    }
    return changed;
  }

  /** A local snapshot: the configurations up to it are folded into its own, so the log before it may go. */
  compactTo(meta: SnapshotMeta): void {
    while (this.entries.length > 0 && this.entries[0]!.index <= meta.index) this.entries.shift();
    this.base = meta.conf;
    this.baseIndex = meta.index;
  }

  /** The leader's snapshot replaced the whole log: its configuration is the only one. */
  resetTo(meta: SnapshotMeta): void {
    this.entries.length = 0;
    this.base = meta.conf;
    this.baseIndex = meta.index;
  }
}
