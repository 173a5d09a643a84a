import type { Scheduler, TimerHandle } from '../../src/runtime/interfaces.js';

/** A hand-driven clock for driver tests: deferred work runs on drain(), timers on advance(). */
export class ManualScheduler implements Scheduler {
  time = 0;
  private timers: { at: number; fn: () => void; dead: boolean }[] = [];
  private queue: (() => void)[] = [];
  now(): number {
    return this.time;
  }
  setTimeout(fn: () => void, ms: number): TimerHandle {
    const t = { at: this.time + ms, fn, dead: false };
    this.timers.push(t);
    return t;
  }
  clearTimeout(h: TimerHandle): void {
    (h as { dead: boolean }).dead = true;
  }
  defer(fn: () => void): void {
    this.queue.push(fn);
  }
  drain(): void {
    for (let i = 0; i < 100_000 && this.queue.length > 0; i++) this.queue.shift()!();
  }
  /** Advances time by `ms`, firing due timers in order and draining deferred work after each. */
  advance(ms: number): void {
    const end = this.time + ms;
    this.drain();
    for (;;) {
      const live = this.timers.filter((t) => !t.dead && t.at <= end).sort((a, b) => a.at - b.at);
      if (live.length === 0) break;
      const t = live[0]!;
      t.dead = true;
      this.time = t.at;
      t.fn();
      this.drain();
    }
    this.timers = this.timers.filter((t) => !t.dead);
    this.time = end;
  }
  /** Moves the clock without firing anything, as a frozen process experiences it. */
  jump(ms: number): void {
    this.time += ms;
  }
}
