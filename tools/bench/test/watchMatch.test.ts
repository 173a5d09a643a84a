import { describe, expect, it } from 'vitest';
import { Histogram } from '../src/histogram.js';
import { addCounts, emptyCounts, matchReceipts, nowUs } from '../src/watchMatch.js';

// Acks: revisions 10..14 acknowledged at 1000, 2000, ... µs; the measured window is [2000, 4000].
// Each put was sent 300 µs before its ack.
const acks = new Map<number, readonly [number, number]>(
  [10, 11, 12, 13, 14].map((rev, i) => [rev, [(i + 1) * 1000 - 300, (i + 1) * 1000]]),
);
const table = { acks, fromUs: 2000, toUs: 4000 };

describe('matchReceipts: one watcher against the acknowledged revisions', () => {
  it('a complete, ordered stream: nothing lost, latency of the measured receipts only', () => {
    const hist = new Histogram();
    const fromSend = new Histogram();
    const c = matchReceipts(
      table,
      { revs: [10, 11, 12, 13, 14], atUs: [1500, 2500, 3500, 4500, 5500] },
      hist,
      fromSend,
    );
    expect(c).toEqual({
      delivered: 5,
      measured: 3,
      lost: 0,
      duplicated: 0,
      reordered: 0,
      unacked: 0,
      beforeAck: 0,
    });
    expect(hist.count).toBe(3);
    expect(hist.summaryMs().max).toBeCloseTo(0.5, 3);
    // From the send: 300 µs more each.
    expect(fromSend.count).toBe(3);
    expect(fromSend.summaryMs().max).toBeCloseTo(0.8, 3);
  });

  it('counts a missing revision as lost, a repeat as duplicated, a step back as reordered', () => {
    const hist = new Histogram();
    const c = matchReceipts(
      table,
      { revs: [10, 12, 11, 12, 14], atUs: [1100, 3100, 3200, 3300, 5100] },
      hist,
    );
    expect(c).toMatchObject({ delivered: 5, lost: 1, duplicated: 1, reordered: 1 });
    // 12 and 11 are measured once each; the repeated 12 is not timed again.
    expect(c.measured).toBe(2);
    expect(hist.count).toBe(2);
  });

  it('an event no writer acknowledged is unacked, not lost; a receipt before the ack times as 0', () => {
    const hist = new Histogram();
    const c = matchReceipts(
      table,
      { revs: [10, 11, 12, 13, 14, 15], atUs: [1000, 1990, 3000, 4000, 5000, 6000] },
      hist,
    );
    expect(c).toMatchObject({ lost: 0, unacked: 1, beforeAck: 1, measured: 3 });
    // 11 came 10 µs before its ack: timed as 0, so the fastest measured receipt is at the floor.
    expect(hist.quantileUs(0)).toBeLessThanOrEqual(1);
  });

  it('a watcher that received nothing lost every acknowledged revision', () => {
    expect(matchReceipts(table, { revs: [], atUs: [] }, new Histogram())).toMatchObject({
      delivered: 0,
      lost: 5,
    });
  });

  it('addCounts sums watchers', () => {
    const a = { ...emptyCounts(), delivered: 2, lost: 1 };
    const b = { ...emptyCounts(), delivered: 3, duplicated: 1 };
    expect(addCounts(emptyCounts(), a)).toEqual(a);
    expect(addCounts(addCounts(emptyCounts(), a), b)).toMatchObject({ delivered: 5, lost: 1, duplicated: 1 });
  });

  it('nowUs is the monotonic clock in microseconds', () => {
    const a = nowUs();
    const b = nowUs();
    expect(b).toBeGreaterThanOrEqual(a);
    expect(Math.abs(a - Number(process.hrtime.bigint() / 1000n))).toBeLessThan(1_000_000);
  });
});
