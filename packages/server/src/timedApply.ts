import type { StateMachine } from '@keel/core';
import { secondsSince } from './metricKit.js';

/**
 * The state machine as the engine sees it, with each `apply` timed (`observe` gets seconds): the
 * in-memory counterpart of etcd's backend commit. Snapshot and restore pass through untouched.
 */
export function timedApply<R>(machine: StateMachine<R>, observe: (seconds: number) => void): StateMachine<R> {
  const timed: StateMachine<R> = {
    apply(entry) {
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
