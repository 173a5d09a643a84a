import type { DeadlineSource, LeaderDeadlines, Scheduler, TimerHandle } from '@keel/core';

/** How long after proposing an expiry the leader proposes it again if the lease is still there. */
export const EXPIRE_RETRY_MS = 1000;
/** Node's timers take at most 2^31-1 ms; a later deadline is reached by waking up on the way. */
const MAX_TIMER_MS = 2 ** 31 - 1;

export interface LeaseTimersDeps<Machine> {
  readonly source: DeadlineSource<Machine>;
  readonly machine: Machine;
  readonly scheduler: Pick<Scheduler, 'now' | 'setTimeout' | 'clearTimeout'>;
  /** Proposes an entry (the leader's `node.propose`); the outcome only matters for logging. */
  readonly propose: (data: Uint8Array) => void;
  /** The leader's wall clock, stamped on the expiry entry (as on every write). */
  readonly wallClock?: () => number;
  readonly retryMs?: number;
}

/**
 * The leader's lease deadlines (etcd's lessor, leader side). The state machine knows each lease's
 * TTL but never a clock; this member, only while it leads, keeps a deadline per lease on its own
 * monotonic clock and proposes the expiry entry when one passes, so every member deletes the
 * lease's keys at the same entry.
 *
 * - On becoming leader every lease is re-armed with its full TTL from that moment (etcd's rule):
 *   the old leader's deadlines are unknown here, and a lease must never expire early because the
 *   leadership moved; a grant applied while leading is armed at its apply.
 * - On losing leadership every deadline is dropped; a follower arms nothing.
 * - Keep-alives (`LeaderDeadlines.extend`) move a deadline later, never earlier.
 * - One timer, for the earliest deadline, over a binary heap of (deadline, id); an extended lease
 *   leaves a stale heap entry behind, skipped when it surfaces. So thousands of leases cost one
 *   timer, and a keep-alive O(log n).
 * - An expiry is proposed once; if the lease is still there `retryMs` later (the proposal was
 *   dropped by a leader change or overload) it is proposed again.
 */
export class LeaseTimers<Machine> {
  private leading = false;
  private readonly deadlines = new Map<number, number>();
  private readonly heap: [deadline: number, id: number][] = [];
  private timer: TimerHandle | null = null;
  private timerAt = Number.POSITIVE_INFINITY;
  private readonly unfollow: () => void;
  private readonly retryMs: number;
  /** Expiries this member proposed as leader. */
  proposedExpiries = 0;

  constructor(private readonly deps: LeaseTimersDeps<Machine>) {
    this.retryMs = deps.retryMs ?? EXPIRE_RETRY_MS;
    this.unfollow = deps.source.follow(deps.machine, {
      armed: (id, ms) => {
        if (this.leading) this.set(id, this.now() + ms);
      },
      dropped: (id) => {
        this.deadlines.delete(id);
      },
      reset: () => {
        if (this.leading) this.rearmAll();
      },
    });
  }

  /** Whether this member keeps deadlines now (it leads). */
  get active(): boolean {
    return this.leading;
  }

  /** Deadlines armed now. */
  get size(): number {
    return this.deadlines.size;
  }

  now(): number {
    return this.deps.scheduler.now();
  }

  /** Follows the engine's role: arms every lease on becoming leader, drops them all on losing it. */
  setLeader(leading: boolean): void {
    if (leading === this.leading) return;
    this.leading = leading;
    if (leading) this.rearmAll();
    else this.clear();
  }

  /** The deadlines as a request that arrived at `arrivedAt` sees them (see `LeaderDeadlines`). */
  view(arrivedAt: number): LeaderDeadlines {
    return {
      arrivedAt,
      remaining: (id) => {
        const d = this.deadlines.get(id);
        return d === undefined ? undefined : Math.max(0, Math.round(d - this.now()));
      },
      extend: (id, durationMs) => {
        if (!this.leading) return;
        const d = this.deadlines.get(id);
        const next = arrivedAt + durationMs;
        if (d === undefined || next > d) this.set(id, next);
      },
    };
  }

  close(): void {
    this.unfollow();
    this.leading = false;
    this.clear();
  }

  private rearmAll(): void {
    this.clear();
    const now = this.now();
    for (const [id, ms] of this.deps.source.all(this.deps.machine)) this.set(id, now + ms);
  }

  private clear(): void {
    this.deadlines.clear();
    this.heap.length = 0;
    this.cancelTimer();
  }

  private set(id: number, deadline: number): void {
    this.deadlines.set(id, deadline);
    heapPush(this.heap, [deadline, id]);
    if (deadline < this.timerAt) this.schedule();
  }

  private cancelTimer(): void {
    if (this.timer !== null) this.deps.scheduler.clearTimeout(this.timer);
    this.timer = null;
    this.timerAt = Number.POSITIVE_INFINITY;
  }

  private schedule(): void {
    this.cancelTimer();
    // Drop stale entries (extended or gone leases) so the timer is for a real deadline.
    while (this.heap.length > 0) {
      const [d, id] = this.heap[0]!;
      if (this.deadlines.get(id) === d) break;
      heapPop(this.heap);
    }
    const top = this.heap[0];
    if (top === undefined) return;
    this.timerAt = top[0];
    const wait = Math.min(MAX_TIMER_MS, Math.max(0, top[0] - this.now()));
    this.timer = this.deps.scheduler.setTimeout(() => this.fire(), wait);
  }

  private fire(): void {
    this.timer = null;
    this.timerAt = Number.POSITIVE_INFINITY;
    if (!this.leading) return;
    const now = this.now();
    const due: number[] = [];
    while (this.heap.length > 0 && this.heap[0]![0] <= now) {
      const [d, id] = heapPop(this.heap)!;
      if (this.deadlines.get(id) === d) due.push(id);
    }
    const time = this.deps.wallClock?.() ?? Date.now();
    for (const id of due) {
      // Proposed once; looked at again after retryMs, in case the entry never commits.
      this.set(id, now + this.retryMs);
      this.proposedExpiries++;
      this.deps.propose(this.deps.source.expire(id, time));
    }
    this.schedule();
  }
}

function heapPush(h: [number, number][], e: [number, number]): void {
  h.push(e);
  let i = h.length - 1;
  while (i > 0) {
    const p = (i - 1) >> 1;
    if (h[p]![0] <= h[i]![0]) break;
    [h[p], h[i]] = [h[i]!, h[p]!];
    i = p;
  }
}

function heapPop(h: [number, number][]): [number, number] | undefined {
  const top = h[0];
  const last = h.pop();
  if (top === undefined || last === undefined || h.length === 0) return top;
  h[0] = last;
  let i = 0;
  for (;;) {
    const l = 2 * i + 1;
    const r = l + 1;
    let m = i;
    if (l < h.length && h[l]![0] < h[m]![0]) m = l;
    if (r < h.length && h[r]![0] < h[m]![0]) m = r;
    if (m === i) return top;
    [h[m], h[i]] = [h[i]!, h[m]!];
    i = m;
  }
}
