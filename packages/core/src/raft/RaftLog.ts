import { invariant } from './errors.js';
import { type LogStorage, takeWithinBytes } from './storage.js';
import type { Entry } from './types.js';

/**
 * The engine's view of the log: the durable prefix lives in `storage`, the rest in `unstable`
 * (appended here, possibly handed to the driver in a Ready, not yet reported durable). Terms never
 * decrease along the log, which the binary searches below rely on.
 */
export class RaftLog {
  /** Entries at and after `offset` that are not yet durable. */
  private unstable: Entry[] = [];
  /** Index of unstable[0]; everything below it is durable in storage. */
  private offset: number;
  /** Last index already handed to the driver in a Ready (entries after it are still to be written). */
  private handedOut: number;
  /** Highest index known committed (Figure 2's commitIndex). */
  committed: number;
  /** Highest index handed out for applying. */
  applying: number;
  /** Highest index the driver reported applied (Figure 2's lastApplied). */
  applied: number;
  /**
   * A snapshot installed (§7) but not yet reported durable: until then the log is empty up to and
   * including its index, whatever storage still holds.
   */
  private installing: { readonly index: number; readonly term: number } | null = null;

  /**
   * `snapshotIndex`: the index of the snapshot the state machine was restored from at startup
   * (0 for none); applying resumes after it.
   */
  constructor(
    private readonly storage: LogStorage,
    snapshotIndex = 0,
  ) {
    const last = storage.lastIndex();
    this.offset = last + 1;
    this.handedOut = last;
    const first = storage.firstIndex();
    invariant(
      first - 1 <= Math.max(snapshotIndex, 0) || snapshotIndex === 0,
      `the log starts at ${first} but the snapshot ends at ${snapshotIndex}: entries in between are lost`,
    );
    // The persisted commit may run ahead of a log whose unsynced tail was lost: those entries are
    // committed on a quorum and come back from the leader, so clamp rather than trust it.
    const commit = Math.min(storage.initialState().hardState.commit, last);
    const base = Math.max(first - 1, snapshotIndex);
    this.committed = Math.max(commit, base);
    this.applying = base;
    this.applied = base;
  }

  firstIndex(): number {
    return this.installing !== null ? this.installing.index + 1 : this.storage.firstIndex();
  }

  lastIndex(): number {
    return this.unstable.length > 0 ? this.offset + this.unstable.length - 1 : this.offset - 1;
  }

  /** Last index that is durable (reported through persisted()). */
  stableIndex(): number {
    return this.offset - 1;
  }

  lastTerm(): number {
    return this.term(this.lastIndex());
  }

  /** Term at `index`, or -1 when the index is outside the log (compacted or beyond the end). */
  term(index: number): number {
    if (index >= this.offset) {
      const e = this.unstable[index - this.offset];
      return e === undefined ? -1 : e.term;
    }
    const inst = this.installing;
    if (inst !== null) return index === inst.index ? inst.term : -1;
    return this.storage.term(index);
  }

  matchTerm(index: number, term: number): boolean {
    const t = this.term(index);
    return t !== -1 && t === term;
  }

  /** §5.4.1: a candidate's log is at least as up to date as ours. */
  isUpToDate(lastIndex: number, lastTerm: number): boolean {
    const ourTerm = this.lastTerm();
    return lastTerm > ourTerm || (lastTerm === ourTerm && lastIndex >= this.lastIndex());
  }

  /** Entries in [lo, hi) up to `maxBytes` of payload (at least one when lo < hi). */
  slice(lo: number, hi: number, maxBytes: number): Entry[] {
    if (lo >= hi) return [];
    const out: Entry[] = [];
    let bytes = 0;
    if (lo < this.offset) {
      const stored = this.storage.entries(lo, Math.min(hi, this.offset), maxBytes);
      for (const e of stored) {
        bytes += e.data.length;
        out.push(e);
      }
      if (out.length < Math.min(hi, this.offset) - lo) return out;
      lo = this.offset;
    }
    return takeWithinBytes(out, bytes, lo, hi, maxBytes, (i) => this.unstable[i - this.offset]);
  }

  /**
   * Appends entries after `prevIndex` as a follower receiving AppendEntries (Figure 2, receiver
   * steps 3-4): skips entries already present, truncates from the first conflicting one.
   * Returns the index of the last new entry.
   */
  appendAfter(prevIndex: number, entries: readonly Entry[]): number {
    let i = 0;
    // Skip the prefix we already hold with matching terms.
    for (; i < entries.length; i++) {
      const e = entries[i]!;
      const t = this.term(e.index);
      if (t !== e.term) break;
    }
    if (i < entries.length) {
      const conflictAt = entries[i]!.index;
      invariant(
        conflictAt > this.committed,
        `entry ${conflictAt} conflicts with the committed prefix (commit ${this.committed})`,
      );
      this.truncateAndAppend(entries, i);
    }
    return prevIndex + entries.length;
  }

  /** Appends entries at the end (a leader's own proposals). */
  appendOwn(entries: readonly Entry[]): void {
    if (entries.length === 0) return;
    invariant(entries[0]!.index === this.lastIndex() + 1, 'leader append is not contiguous');
    for (const e of entries) this.unstable.push(e);
  }

  private truncateAndAppend(entries: readonly Entry[], from: number): void {
    const at = entries[from]!.index;
    invariant(at <= this.lastIndex() + 1, `append at ${at} leaves a gap after ${this.lastIndex()}`);
    if (at >= this.offset) {
      this.unstable.length = at - this.offset;
    } else {
      // The conflict lies in the durable part: the new suffix replaces it once written.
      this.unstable = [];
      this.offset = at;
    }
    if (this.handedOut >= at) this.handedOut = at - 1;
    for (let k = from; k < entries.length; k++) this.unstable.push(entries[k]!);
  }

  /**
   * Installs a snapshot (§7, Figure 13 steps 7-8): the whole log is replaced by the snapshot's
   * (index, term); entries not yet written are discarded. The caller checked that the snapshot is
   * ahead of the commit index and that the log does not already hold (index, term).
   */
  installSnapshot(index: number, term: number): void {
    invariant(index > this.committed, `snapshot ${index} is not ahead of the commit index ${this.committed}`);
    this.unstable = [];
    this.offset = index + 1;
    this.handedOut = index;
    this.committed = index;
    this.applying = index;
    this.applied = index;
    this.installing = { index, term };
  }

  /** The driver made the snapshot install at (index, term) durable: storage now starts after it. */
  snapshotDurable(index: number, term: number): void {
    const inst = this.installing;
    if (inst !== null && inst.index === index && inst.term === term) this.installing = null;
  }

  /** Raises the commit index; never lowers it. */
  commitTo(index: number): boolean {
    if (index <= this.committed) return false;
    invariant(index <= this.lastIndex(), `commit ${index} beyond last index ${this.lastIndex()}`);
    this.committed = index;
    return true;
  }

  /** How many entries were appended but not yet handed out in a Ready. */
  unwrittenCount(): number {
    return this.lastIndex() - this.handedOut;
  }

  /** Entries to hand to the driver for writing (those after the last handed-out index). */
  takeUnwritten(): Entry[] {
    const last = this.lastIndex();
    if (this.handedOut >= last) return [];
    const from = this.handedOut + 1 - this.offset;
    const out = from === 0 ? this.unstable.slice() : this.unstable.slice(from);
    this.handedOut = last;
    return out;
  }

  /** The driver reports entries up to (index, term) durable. Ignored if the log changed since. */
  stableTo(index: number, term: number): void {
    if (index < this.offset || this.installing !== null) return;
    if (this.term(index) !== term) return;
    this.unstable.splice(0, index + 1 - this.offset);
    this.offset = index + 1;
  }

  /** Committed, durable entries not yet handed out for applying, up to `maxBytes`. */
  takeCommitted(maxBytes: number): Entry[] {
    const hi = Math.min(this.committed, this.stableIndex());
    if (hi <= this.applying) return [];
    const out = this.slice(this.applying + 1, hi + 1, maxBytes);
    if (out.length > 0) this.applying = out[out.length - 1]!.index;
    return out;
  }

  appliedTo(index: number): void {
    invariant(index <= this.applying, `applied ${index} beyond what was handed out (${this.applying})`);
    if (index > this.applied) this.applied = index;
  }

  /**
   * The first index of the run of entries with term `term` that ends at or after `index`
   * (going down from `index`); used to build a rejection hint.
   */
  firstIndexOfTermAt(index: number): number {
    const t = this.term(index);
    let lo = Math.max(this.firstIndex(), this.committed + 1);
    if (lo > index) return index;
    let hi = index;
    // Smallest i in [lo, index] with term(i) >= t (terms are non-decreasing).
    while (lo < hi) {
      const mid = Math.floor((lo + hi) / 2);
      if (this.term(mid) >= t) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }

  /** The last index at or below `index` whose term is at most `term`, or firstIndex-1. */
  lastIndexWithTermAtMost(index: number, term: number): number {
    let lo = this.firstIndex() - 1;
    let hi = Math.min(index, this.lastIndex());
    if (this.term(hi) <= term) return hi;
    // Largest i in [lo, hi] with term(i) <= term.
    while (lo < hi) {
      const mid = Math.ceil((lo + hi) / 2);
      if (this.term(mid) <= term) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }
}
