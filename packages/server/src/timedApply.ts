import type { StateMachine } from '@keel/core';
import { secondsSince } from './metricKit.js';

/** One apply in this many is timed. */
export const APPLY_SAMPLE_EVERY = 16;

/**
 * The state machine as the engine sees it, with one `apply` in `APPLY_SAMPLE_EVERY` timed
 * (`observe` gets seconds): the in-memory counterpart of etcd's backend commit. Sampled because
 * two clock readings and a histogram observation per entry, on every member, were a measurable
 * share of the write path's CPU at tens of thousands of entries a second; a fixed 1-in-16 sample
 * keeps the distribution while its `_count` counts the sampled applies only. Snapshot and restore
 * pass through untouched.
 */
export function timedApply<R>(machine: StateMachine<R>, observe: (seconds: number) => void): StateMachine<R> {
  let n = 0;
  const timed: StateMachine<R> = {
    apply(entry) {
      if (++n < APPLY_SAMPLE_EVERY) return machine.apply(entry);
      n = 0;
      const t0 = performance.now();
      try {
        return machine.apply(entry);
      } finally {
        observe(secondsSince(t0));
      }
    },
  };
  if (machine.snapshot !== undefined) timed.snapshot = () => machine.snapshot!();
  if (machine.restore !== undefined) timed.restore = (data) => machine.restore!(data);
  return timed;
}
