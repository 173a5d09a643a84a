import type { Entry, HardState, LogStore } from '@keel/core';
import type { WalLogStore } from '@keel/log';
import { secondsSince } from './metricKit.js';
import type { NodeMetrics } from './metrics.js';

/** Times every append until durable (fsync latency as the driver sees it, batching included). */
export function instrumented(
  wal: WalLogStore,
  metrics: NodeMetrics,
  publishSync: (() => void) | null,
): LogStore {
  return {
    initialState: () => wal.initialState(),
    firstIndex: () => wal.firstIndex(),
    lastIndex: () => wal.lastIndex(),
    term: (i) => wal.term(i),
    entries: (lo, hi, max) => wal.entries(lo, hi, max),
    compact: (index: number, term: number, onDurable: (err: Error | null) => void) =>
      wal.compact(index, term, onDurable),
    append: (entries: readonly Entry[], hs: HardState | null, onDurable: (err: Error | null) => void) => {
      const t0 = performance.now();
      wal.append(entries, hs, (err) => {
        if (err === null) metrics.disk.appendDurable.observe(secondsSince(t0));
        if (err === null) publishSync?.();
        onDurable(err);
      });
    },
    close: () => wal.close(),
  };
}
