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
 * The recent events of the store, by revision, in revision order: revisions `start..end` with no
 * gap (every revision is one put or delete, or the writes of one transaction). Bounded by events
 * and bytes: appending past a bound evicts whole revisions from the oldest end. Nothing here reads a clock, so every member that applied
 * the same entries since its last restore holds the same window (given the same limits).
 *
 * Not part of snapshots: a watch is a member-local service over what the member applied, and a
 * client resumes on another member when this one cannot serve its revision. After a restore the
 * window is empty and starts right after the snapshot's revision.
 */
export class WatchHistory {
  /** The events of each kept revision, oldest first. */
  private slots: (readonly WatchEvent[])[] = [];
  /** Index in `slots` of the oldest kept revision (evicted slots are dropped in bulk). */
  private head = 0;
  private heldBytes = 0;
  private heldEvents = 0;
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

  /** Revisions kept. */
  get size(): number {
    return this.slots.length - this.head;
  }

  /** Events kept. */
  get events(): number {
    return this.heldEvents;
  }

  get bytes(): number {
    return this.heldBytes;
  }

  /** Empties the window at `revision` (a restore): the next event must be `revision + 1`. */
  reset(revision: number): void {
    this.slots = [];
    this.head = 0;
    this.heldBytes = 0;
    this.heldEvents = 0;
    this.last = revision;
  }

  /** Adds the next revision's events (one, or a transaction's); returns how many revisions were evicted. */
  append(events: readonly WatchEvent[]): number {
    const rev = this.last + 1;
    for (const e of events) {
      if (eventRevision(e) !== rev)
        throw new Error(`watch history: event at revision ${eventRevision(e)} after ${this.last}`);
    }
    if (events.length === 0) throw new Error('watch history: a revision without events');
    this.slots.push(events);
    this.heldBytes += slotSize(events);
    this.heldEvents += events.length;
    this.last = rev;
    let evicted = 0;
    // The newest revision is always kept, even when it alone is over a bound.
    while (
      this.size > 1 &&
      (this.heldEvents > this.limits.maxEvents || this.heldBytes > this.limits.maxBytes)
    ) {
      const old = this.slots[this.head]!;
      this.heldBytes -= slotSize(old);
      this.heldEvents -= old.length;
      this.head++;
      evicted++;
    }
    if (this.head > 1024 && this.head * 2 > this.slots.length) {
      this.slots = this.slots.slice(this.head);
      this.head = 0;
    }
    return evicted;
  }

  /** The events of `revision`, if kept. */
  at(revision: number): readonly WatchEvent[] | undefined {
    if (revision < this.start || revision > this.last) return undefined;
    return this.slots[this.head + (revision - this.start)];
  }
}

function slotSize(events: readonly WatchEvent[]): number {
  let n = 0;
  for (const e of events) n += eventSize(e);
  return n;
}
