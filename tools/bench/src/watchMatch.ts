/**
 * Matching what watchers received against what the writers committed (`keel bench watch`).
 *
 * The commit time of a revision is proxied by the moment its writer got the put's answer (the
 * acknowledgement: the leader has committed and applied it). Writer and watchers run in separate
 * processes on one machine and stamp times from the same clock, Linux's CLOCK_MONOTONIC
 * (`process.hrtime`), so a watcher's receive time minus the ack time is the delivery latency. A
 * watcher may receive an event before its writer has read the answer (the event and the answer
 * race from the leader, and on a busy machine the writer's process may be scheduled late); such
 * receipts count in `beforeAck` and are recorded as 0. Since the commit happened between the put
 * being sent and its ack, the latency from the send is kept too: an upper bound, where the one from
 * the ack understates.
 */
import type { Histogram } from './histogram.js';

/** Microseconds on the clock every bench process shares (CLOCK_MONOTONIC on Linux). */
export function nowUs(): number {
  return Number(process.hrtime.bigint() / 1000n);
}

/** One watcher's receipts in arrival order: each event's revision and its receive time (µs). */
export interface Receipts {
  readonly revs: number[];
  readonly atUs: number[];
}

/** The writers' acknowledgements: revision → [sent, ack] times (µs), and the measured window. */
export interface AckTable {
  readonly acks: ReadonlyMap<number, readonly [number, number]>;
  /** Receipts of revisions acked inside [fromUs, toUs] are the measured ones. */
  readonly fromUs: number;
  readonly toUs: number;
}

export interface WatchCounts {
  /** Every event received, in or out of the measured window. */
  delivered: number;
  /** Receipts of revisions acked inside the measured window (their latency is recorded). */
  measured: number;
  /** Acked revisions a watcher never received (summed over watchers). */
  lost: number;
  /** Receipts of a revision the same watcher had already received. */
  duplicated: number;
  /** Receipts of a revision lower than one the same watcher received before. */
  reordered: number;
  /** Receipts of revisions no writer acknowledged (a put whose answer was lost or late). */
  unacked: number;
  /** Receipts stamped before the writer's ack (recorded as latency 0). */
  beforeAck: number;
}

export function emptyCounts(): WatchCounts {
  return { delivered: 0, measured: 0, lost: 0, duplicated: 0, reordered: 0, unacked: 0, beforeAck: 0 };
}

export function addCounts(into: WatchCounts, c: Readonly<WatchCounts>): WatchCounts {
  into.delivered += c.delivered;
  into.measured += c.measured;
  into.lost += c.lost;
  into.duplicated += c.duplicated;
  into.reordered += c.reordered;
  into.unacked += c.unacked;
  into.beforeAck += c.beforeAck;
  return into;
}

/**
 * Counts one watcher's receipts against the acks and records the latency of each measured receipt
 * from the ack in `hist` (and from the send in `fromSend`). Every watcher was watching before the
 * first write, so it owes every acked revision.
 */
export function matchReceipts(t: AckTable, r: Receipts, hist: Histogram, fromSend?: Histogram): WatchCounts {
  const c = emptyCounts();
  const seen = new Set<number>();
  let highest = 0;
  for (let i = 0; i < r.revs.length; i++) {
    const rev = r.revs[i]!;
    c.delivered++;
    if (seen.has(rev)) {
      c.duplicated++;
      continue;
    }
    seen.add(rev);
    if (rev < highest) c.reordered++;
    else highest = rev;
    const times = t.acks.get(rev);
    if (times === undefined) {
      c.unacked++;
      continue;
    }
    const [sent, ack] = times;
    if (ack < t.fromUs || ack > t.toUs) continue;
    c.measured++;
    const latency = r.atUs[i]! - ack;
    if (latency < 0) c.beforeAck++;
    hist.recordUs(Math.max(0, latency));
    fromSend?.recordUs(Math.max(0, r.atUs[i]! - sent));
  }
  for (const rev of t.acks.keys()) if (!seen.has(rev)) c.lost++;
  return c;
}
