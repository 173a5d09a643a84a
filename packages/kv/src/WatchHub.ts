import { DEFAULT_WATCH_HISTORY_LIMITS, WatchHistory, type WatchHistoryLimits } from './WatchHistory.js';
import { eventSize, rangeMatches, type WatchEvent, type WatchRange, watchTag } from './watchEvents.js';

/** Member-local bounds of the watch service (members may differ; nothing here is replicated). */
export interface WatchLimits extends WatchHistoryLimits {
  /** Most watchers on this member; one more evicts the least recently polled (reason `evicted`). */
  readonly maxWatchers: number;
  /**
   * A watcher whose undelivered matching events exceed this many, or `maxBacklogBytes`, is
   * cancelled with reason `slow-watcher`: a reader that does not keep up never holds member memory.
   */
  readonly maxBacklogEvents: number;
  readonly maxBacklogBytes: number;
  /** Most events, and about most bytes, in one delivered batch (at least one event is always sent). */
  readonly maxBatchEvents: number;
  readonly maxBatchBytes: number;
}

export const DEFAULT_WATCH_LIMITS: WatchLimits = {
  ...DEFAULT_WATCH_HISTORY_LIMITS,
  maxWatchers: 10_000,
  maxBacklogEvents: 10_000,
  maxBacklogBytes: 16 * 1024 * 1024,
  maxBatchEvents: 1000,
  maxBatchBytes: 2 * 1024 * 1024,
};

/**
 * Why a watch ended on this member. `cancelled`: by its client. `slow-watcher`: its backlog passed
 * the bound, or fell out of the history window. `evicted`: the member's watcher table was full.
 * `restored`: a snapshot replaced the member's state past the watcher's position. `compacted`: the
 * start revision is older than the history window. `unknown`: no such watch here (the member
 * restarted, or forgot it long ago). A client resumes elsewhere from its last revision after
 * `evicted`, `restored` and `unknown`; it surfaces `slow-watcher` and `compacted`.
 */
export const WatchEndReason = {
  Cancelled: 'cancelled',
  SlowWatcher: 'slow-watcher',
  Evicted: 'evicted',
  Restored: 'restored',
  Compacted: 'compacted',
  Unknown: 'unknown',
} as const;
export type WatchEndReason = (typeof WatchEndReason)[keyof typeof WatchEndReason];

export interface WatchEnded {
  readonly kind: 'ended';
  readonly reason: WatchEndReason;
  readonly message: string;
  /** For `compacted`: the oldest revision this member can start a watch from. Else 0. */
  readonly oldest: number;
}

/**
 * What polling a watch gives. `events`: the next batch, in revision order. `revision` is the
 * watch's progress: every event of the watch up to it has been delivered (in this batch or
 * before), so a client resumes from `revision + 1`. `idle`: nothing new yet.
 */
export type WatchPoll =
  | { readonly kind: 'events'; readonly events: readonly WatchEvent[]; readonly revision: number }
  | { readonly kind: 'idle'; readonly revision: number }
  | WatchEnded;

export type WatchCreated =
  | { readonly kind: 'created'; readonly id: number; readonly revision: number }
  | WatchEnded;

interface Watcher {
  readonly id: number;
  readonly range: WatchRange;
  readonly prevValue: boolean;
  /** `watchTag` of its range and flag: a poll must name it. */
  readonly tag: number;
  /** The first revision not delivered yet. */
  next: number;
  /** Matching events in `next..end`: the watcher's unsent backlog. */
  pendingEvents: number;
  pendingBytes: number;
}

/** Ended watches remembered so their client learns why: at most this many. */
const MAX_ENDED = 1024;

/**
 * The watches served by one member: a shared history window of events plus, per watcher, a
 * cursor and the size of its backlog (memory per watcher is constant; events are shared). Polled,
 * not pushed: the member answers a client's poll with the batch after its cursor, or holds the
 * poll until an event arrives (see `kvService`). Deterministic and clock-free.
 */
export class WatchHub {
  readonly history: WatchHistory;
  readonly limits: WatchLimits;
  /** By id, least recently polled first. */
  private readonly watchers = new Map<number, Watcher>();
  private readonly ended = new Map<number, WatchEnded>();
  private nextId = 1;

  constructor(limits: Partial<WatchLimits> = {}) {
    this.limits = { ...DEFAULT_WATCH_LIMITS, ...limits };
    this.history = new WatchHistory(this.limits);
  }

  get watcherCount(): number {
    return this.watchers.size;
  }

  /**
   * Starts a watch at revision `from` (default: the next revision). `from` older than the history
   * window is `compacted`; a `from` beyond the newest revision waits for it.
   */
  create(
    range: WatchRange,
    options: { readonly from?: number; readonly prevValue?: boolean } = {},
  ): WatchCreated {
    const h = this.history;
    const from = options.from ?? h.end + 1;
    if (!(Number.isSafeInteger(from) && from >= 1)) {
      return this.endedResult(
        WatchEndReason.Compacted,
        `start revision ${from} is not a positive integer`,
        h.start,
      );
    }
    if (from < h.start) {
      return this.endedResult(
        WatchEndReason.Compacted,
        `revision ${from} is compacted on this member: the oldest revision available is ${h.start}`,
        h.start,
      );
    }
    const w: Watcher = {
      id: this.nextId++,
      range,
      prevValue: options.prevValue ?? false,
      tag: watchTag(range, options.prevValue ?? false),
      next: from,
      pendingEvents: 0,
      pendingBytes: 0,
    };
    this.recount(w);
    this.watchers.set(w.id, w);
    if (this.watchers.size > this.limits.maxWatchers) {
      const [oldest] = this.watchers.keys();
      this.end(
        oldest!,
        WatchEndReason.Evicted,
        `more than ${this.limits.maxWatchers} watchers on this member`,
      );
    }
    this.checkBacklog(w);
    return { kind: 'created', id: w.id, revision: h.end };
  }

  /**
   * The next batch of watch `id`. `from`, when given, is the first revision the client has not
   * received: a poll whose answer was lost is answered again from there (never a gap). `tag`, when
   * given, must be the watch's `watchTag`: after a member restart, ids start over, and a poll for
   * the old watch must not be answered from another one (nor from past the client's position).
   */
  poll(id: number, from?: number, tag?: number): WatchPoll {
    const w = this.watchers.get(id);
    if (w === undefined || (tag !== undefined && tag !== w.tag) || (from !== undefined && from > w.next)) {
      const ended = w === undefined ? this.ended.get(id) : undefined;
      return ended ?? this.endedResult(WatchEndReason.Unknown, `no such watch ${id} on this member`, 0);
    }
    this.watchers.delete(id);
    this.watchers.set(id, w);
    const h = this.history;
    if (from !== undefined && from < w.next) {
      if (from < h.start) {
        return this.end(id, WatchEndReason.SlowWatcher, `revision ${from} left this member's history window`);
      }
      w.next = from;
      this.recount(w);
    }
    const events: WatchEvent[] = [];
    let bytes = 0;
    // Whole revisions only: a transaction's events are delivered together.
    while (w.next <= h.end) {
      const matching = h.at(w.next)!.filter((e) => rangeMatches(w.range, e.kv.key));
      const size = matching.reduce((n, e) => n + eventSize(e), 0);
      if (
        matching.length > 0 &&
        events.length > 0 &&
        (events.length + matching.length > this.limits.maxBatchEvents ||
          bytes + size > this.limits.maxBatchBytes)
      )
        break;
      for (const e of matching)
        events.push(w.prevValue || e.prev === null ? e : { type: e.type, kv: e.kv, prev: null });
      bytes += size;
      w.pendingEvents -= matching.length;
      w.pendingBytes -= size;
      w.next++;
    }
    if (events.length === 0) return { kind: 'idle', revision: w.next - 1 };
    return { kind: 'events', events, revision: w.next - 1 };
  }

  /** Ends watch `id` at its client's request. */
  cancel(id: number): WatchEnded {
    if (!this.watchers.has(id))
      return this.ended.get(id) ?? this.endedResult(WatchEndReason.Unknown, `no watch ${id}`, 0);
    return this.end(id, WatchEndReason.Cancelled, 'cancelled by the client');
  }

  /** The store changed: the events of the next revision (one, or a transaction's writes). */
  record(events: readonly WatchEvent[]): void {
    const evicted = this.history.append(events);
    const rev = this.history.end;
    const start = this.history.start;
    for (const w of [...this.watchers.values()]) {
      if (evicted > 0 && w.next < start) {
        // Nothing it watches was undelivered in what left the window: it just moves up.
        if (w.pendingEvents === 0) w.next = start;
        else
          this.end(
            w.id,
            WatchEndReason.SlowWatcher,
            `revision ${w.next} left this member's history window before it was read`,
          );
        if (!this.watchers.has(w.id)) continue;
      }
      if (rev < w.next) continue;
      for (const e of events) {
        if (!rangeMatches(w.range, e.kv.key)) continue;
        w.pendingEvents++;
        w.pendingBytes += eventSize(e);
      }
      this.checkBacklog(w);
    }
  }

  /** A snapshot replaced the state at `revision`: watchers still before it cannot be served here. */
  reset(revision: number): void {
    this.history.reset(revision);
    for (const w of [...this.watchers.values()]) {
      if (w.next <= revision) {
        this.end(w.id, WatchEndReason.Restored, `this member installed a snapshot at revision ${revision}`);
      } else {
        w.pendingEvents = 0;
        w.pendingBytes = 0;
      }
    }
  }

  private checkBacklog(w: Watcher): void {
    const l = this.limits;
    if (w.pendingEvents > l.maxBacklogEvents || w.pendingBytes > l.maxBacklogBytes) {
      this.end(
        w.id,
        WatchEndReason.SlowWatcher,
        `${w.pendingEvents} event(s) of ${w.pendingBytes} byte(s) undelivered (bounds ${l.maxBacklogEvents} events, ${l.maxBacklogBytes} bytes)`,
      );
    }
  }

  /** Counts the watcher's backlog from scratch (a start or a rewind into the window). */
  private recount(w: Watcher): void {
    w.pendingEvents = 0;
    w.pendingBytes = 0;
    for (let r = w.next; r <= this.history.end; r++) {
      for (const e of this.history.at(r)!) {
        if (!rangeMatches(w.range, e.kv.key)) continue;
        w.pendingEvents++;
        w.pendingBytes += eventSize(e);
      }
    }
  }

  private end(id: number, reason: WatchEndReason, message: string): WatchEnded {
    this.watchers.delete(id);
    const ended = this.endedResult(reason, message, 0);
    this.ended.set(id, ended);
    if (this.ended.size > MAX_ENDED) {
      const [first] = this.ended.keys();
      this.ended.delete(first!);
    }
    return ended;
  }

  private endedResult(reason: WatchEndReason, message: string, oldest: number): WatchEnded {
    return { kind: 'ended', reason, message, oldest };
  }
}
