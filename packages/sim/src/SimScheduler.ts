import type { Scheduler, TimerHandle } from '@keel/core';

/** One scheduled callback. Cancelling marks it; the queue skips it when it reaches the front. */
export class SimTimer {
  cancelled = false;
  constructor(
    readonly time: number,
    readonly seq: number,
    readonly fn: () => void,
  ) {}
}

/**
 * Virtual time for a whole simulated cluster. Events run in (time, sequence) order, so two events
 * due at the same instant run in the order they were scheduled: one seed, one interleaving.
 * Nothing here reads a real clock; time moves only when the next event is taken off the queue.
 */
export class SimScheduler implements Scheduler {
  private time = 0;
  private seq = 0;
  private readonly heap: SimTimer[] = [];
  private halted = false;
  /** Events run so far (cancelled ones excluded). */
  executed = 0;

  now(): number {
    return this.time;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    return this.after(ms, fn);
  }

  clearTimeout(handle: TimerHandle): void {
    if (handle instanceof SimTimer) handle.cancelled = true;
  }

  defer(fn: () => void): void {
    this.at(this.time, fn);
  }

  /** Schedules `fn` `ms` from now (negative or NaN delays count as zero). */
  after(ms: number, fn: () => void): SimTimer {
    return this.at(this.time + Math.max(0, ms || 0), fn);
  }

  /** Schedules `fn` at absolute virtual time `time` (never earlier than now). */
  at(time: number, fn: () => void): SimTimer {
    const t = new SimTimer(Math.max(time, this.time), this.seq++, fn);
    this.push(t);
    return t;
  }

  /** Events still queued, cancelled ones included. */
  get size(): number {
    return this.heap.length;
  }

  /** Time of the next live event, or null when nothing is queued. */
  peekTime(): number | null {
    this.dropCancelled();
    return this.heap.length > 0 ? this.heap[0]!.time : null;
  }

  /** Stops the run loops: `step` returns false from now on. */
  halt(): void {
    this.halted = true;
  }

  get isHalted(): boolean {
    return this.halted;
  }

  /** Runs the next live event. False when the queue is empty or the scheduler was halted. */
  step(): boolean {
    if (this.halted) return false;
    this.dropCancelled();
    const t = this.pop();
    if (t === undefined) return false;
    this.time = t.time;
    this.executed++;
    t.fn();
    return true;
  }

  /**
   * Runs every event due at or before `until`, then sets the clock to `until`. `after` is called
   * after each event; returning true stops early (the clock then stays at that event's time).
   */
  runUntil(until: number, after?: () => boolean): boolean {
    for (;;) {
      const next = this.peekTime();
      if (next === null || next > until) break;
      if (!this.step()) return false;
      if (after?.()) return false;
    }
    if (this.halted) return false;
    if (until > this.time) this.time = until;
    return true;
  }

  private dropCancelled(): void {
    while (this.heap.length > 0 && this.heap[0]!.cancelled) this.pop();
  }

  private less(a: SimTimer, b: SimTimer): boolean {
    return a.time < b.time || (a.time === b.time && a.seq < b.seq);
  }

  private push(t: SimTimer): void {
    const h = this.heap;
    h.push(t);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.less(h[i]!, h[p]!)) break;
      [h[i], h[p]] = [h[p]!, h[i]!];
      i = p;
    }
  }

  private pop(): SimTimer | undefined {
    const h = this.heap;
    if (h.length === 0) return undefined;
    const top = h[0]!;
    const last = h.pop()!;
    if (h.length > 0) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && this.less(h[l]!, h[m]!)) m = l;
        if (r < h.length && this.less(h[r]!, h[m]!)) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m]!, h[i]!];
        i = m;
      }
    }
    return top;
  }
}
