import type { Scheduler, TimerHandle } from './interfaces.js';

/**
 * The real event loop as the driver's Scheduler. `defer` is setImmediate: it runs after the I/O
 * callbacks of the current loop turn, so every client request and peer message that arrived in
 * that turn is folded into one Ready (one WAL write, one AppendEntries per follower).
 */
export const realScheduler: Scheduler = {
  now: () => performance.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h: TimerHandle) => clearTimeout(h as NodeJS.Timeout),
  defer: (fn) => {
    setImmediate(fn);
  },
};
