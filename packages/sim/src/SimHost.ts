import type { NodeId, Scheduler, TimerHandle } from '@keel/core';
import type { SimScheduler } from './SimScheduler.js';

interface HostTimer {
  readonly inner: TimerHandle;
  cancelled: boolean;
}

/**
 * The "process" a simulated member runs in. Everything that executes member code (its timers,
 * message deliveries, fsync completions, client requests) goes through `run`, so that
 * - while the process is paused (SIGSTOP, a long GC) nothing runs and work piles up in order,
 *   to run when it resumes;
 * - once it crashes, nothing scheduled for that incarnation ever runs again, even after a restart.
 */
export class SimHost {
  private generation = 0;
  private paused = false;
  private held: Array<() => void> = [];
  private alive = false;

  constructor(
    readonly id: NodeId,
    private readonly sched: SimScheduler,
    /** How fast this member's clock runs against virtual time: its timers wait ms / rate. */
    readonly clockRate = 1,
  ) {}

  get up(): boolean {
    return this.alive;
  }

  get isPaused(): boolean {
    return this.paused;
  }

  /** The current incarnation; bumps on every crash. */
  get incarnation(): number {
    return this.generation;
  }

  /** Starts a new incarnation; the previous one must have crashed (or none ran yet). */
  boot(): void {
    this.alive = true;
    this.paused = false;
  }

  /** Ends this incarnation: pending work is discarded and never runs. */
  crash(): void {
    this.generation++;
    this.alive = false;
    this.paused = false;
    this.held = [];
  }

  pause(): void {
    if (this.alive) this.paused = true;
  }

  /** Resumes; the work that piled up runs now, in the order it became due. */
  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    const held = this.held;
    this.held = [];
    const gen = this.generation;
    for (const fn of held) this.sched.defer(() => this.exec(fn, gen));
  }

  /** Runs `fn` as this member, now: held while paused, dropped when down. */
  run(fn: () => void): void {
    this.exec(fn, this.generation);
  }

  /** Runs `fn` as this member (same incarnation only) after `ms` of virtual time. */
  after(ms: number, fn: () => void): void {
    const gen = this.generation;
    this.sched.after(ms, () => this.exec(fn, gen));
  }

  /** A `Scheduler` bound to the current incarnation, for its `RaftNode`. */
  scheduler(): Scheduler {
    const gen = this.generation;
    const sched = this.sched;
    return {
      now: () => sched.now() * this.clockRate,
      setTimeout: (fn, ms) => {
        const h: { inner: TimerHandle; cancelled: boolean } = { inner: 0, cancelled: false };
        const fire = (): void => {
          if (!h.cancelled) fn();
        };
        h.inner = sched.at(this.virtualDeadline(ms), () => this.exec(fire, gen));
        return h;
      },
      clearTimeout: (handle) => {
        const h = handle as HostTimer;
        h.cancelled = true;
        sched.clearTimeout(h.inner);
      },
      defer: (fn) => sched.defer(() => this.exec(fn, gen)),
    };
  }

  /**
   * The virtual time at which a timer set now for `ms` of this member's clock is due: the first
   * instant at which `now()` reads at least the set time plus `ms`. Dividing by the clock rate alone
   * can land an ulp early (the clock then reads just under the deadline), and a timer must never
   * fire before its own clock says it is due: the driver would see its tick as early and lose it.
   */
  private virtualDeadline(ms: number): number {
    const rate = this.clockRate;
    const due = this.sched.now() * rate + Math.max(0, ms || 0);
    let t = due / rate;
    while (t * rate < due) t += Math.max(Number.MIN_VALUE, t * Number.EPSILON);
    return t;
  }

  private exec(fn: () => void, gen: number): void {
    if (!this.alive || gen !== this.generation) return;
    if (this.paused) this.held.push(fn);
    else fn();
  }
}
