import type { Scheduler, TimerHandle } from './interfaces.js';

/**
 * The real event loop as the driver's Scheduler. `defer` is setImmediate: it runs after the I/O
 * callbacks of the current loop turn, so every client request and peer message that arrived in
 * that turn is folded into one Ready (one WAL write, one AppendEntries per follower).
 */
export const realScheduler: Scheduler = {
  now: () => performance.now(),
  // Node counts a timer on the loop's cached, whole-millisecond clock, so it can fire a fraction
  // of a millisecond before `ms` have passed on `now()`; a driver woken early finds nothing due
  // and must sleep again (a second wake-up per tick). One more millisecond avoids that.
  setTimeout: (fn, ms) => setTimeout(fn, ms > 0 ? Math.ceil(ms) + 1 : 0),
  clearTimeout: (h: TimerHandle) => clearTimeout(h as NodeJS.Timeout),
  defer: (fn) => {
    setImmediate(fn);
  },
};
