import { eventRevision, eventSize, type WatchEvent } from './watchEvents.js';

/** How much history a member keeps for watches. Member-local: members may differ. */
export interface WatchHistoryLimits {
  /** Most events kept. */
  readonly maxEvents: number;
  /** Most bytes of events kept (keys, values and previous values, plus 64 bytes each). */
  readonly maxBytes: number;
}

export const DEFAULT_WATCH_HISTORY_LIMITS: WatchHistoryLimits = {
  maxEvents: 10_000,
  maxBytes: 32 * 1024 * 1024,
};

/**
 * The recent events of the store, one per revision, in revision order: revisions `start..end`
 * with no gap (every revision is exactly one put or delete). Bounded by count and bytes: appending
 * past a bound evicts from the oldest end. Nothing here reads a clock, so every member that applied
 * the same entries since its last restore holds the same window (given the same limits).
 *
 * Not part of snapshots: a watch is a member-local service over what the member applied, and a
 * client resumes on another member when this one cannot serve its revision. After a restore the
 * window is empty and starts right after the snapshot's revision.
 */
export class WatchHistory {
  private events: WatchEvent[] = [];
  /** Index in `events` of the oldest kept event (evicted slots are dropped in bulk). */
  private head = 0;
  private heldBytes = 0;
  /** The revision of the newest event, or of the store when the window is empty. */
  private last = 0;

  constructor(readonly limits: WatchHistoryLimits = DEFAULT_WATCH_HISTORY_LIMITS) {
    if (!(Number.isSafeInteger(limits.maxEvents) && limits.maxEvents > 0)) {
      throw new RangeError(`maxEvents must be a positive integer, got ${limits.maxEvents}`);
    }
    if (!(Number.isSafeInteger(limits.maxBytes) && limits.maxBytes > 0)) {
      throw new RangeError(`maxBytes must be a positive integer, got ${limits.maxBytes}`);
    }
  }

  /** The oldest revision a watch can start from here (`end + 1` when the window is empty). */
  get start(): number {
    return this.last - this.size + 1;
  }

  /** The newest revision applied here. */
  get end(): number {
    return this.last;
  }

  get size(): number {
    return this.events.length - this.head;
  }

  get bytes(): number {
    return this.heldBytes;
  }

  /** Empties the window at `revision` (a restore): the next event must be `revision + 1`. */
  reset(revision: number): void {
    this.events = [];
    this.head = 0;
    this.heldBytes = 0;
    this.last = revision;
  }

  /** Adds the next revision's event; returns how many old events were evicted. */
  append(e: WatchEvent): number {
    const rev = eventRevision(e);
    if (rev !== this.last + 1) throw new Error(`watch history: event at revision ${rev} after ${this.last}`);
    this.events.push(e);
    this.heldBytes += eventSize(e);
    this.last = rev;
    let evicted = 0;
    // The newest event is always kept, even when it alone is over the byte bound.
    while (this.size > 1 && (this.size > this.limits.maxEvents || this.heldBytes > this.limits.maxBytes)) {
      this.heldBytes -= eventSize(this.events[this.head]!);
      this.head++;
      evicted++;
    }
    if (this.head > 1024 && this.head * 2 > this.events.length) {
      this.events = this.events.slice(this.head);
      this.head = 0;
    }
    return evicted;
  }

  /** The event at `revision`, if kept. */
  at(revision: number): WatchEvent | undefined {
    if (revision < this.start || revision > this.last) return undefined;
    return this.events[this.head + (revision - this.start)];
  }
}
