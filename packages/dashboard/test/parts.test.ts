import { describe, expect, it } from 'vitest';
import { histogramTotals, meanMsBetween } from '../src/metrics.js';
import { Timeline } from '../src/Timeline.js';
import { LOAD_LIMITS, loadSettings, percentile } from '../src/WriteLoad.js';

describe('Timeline', () => {
  it('keeps only the newest events, oldest first', () => {
    const t = new Timeline(3);
    for (let i = 0; i < 5; i++) t.add({ at: i, kind: 'action', text: `e${i}` });
    expect(t.last(10).map((e) => e.text)).toEqual(['e2', 'e3', 'e4']);
    expect(t.last(1).map((e) => e.text)).toEqual(['e4']);
  });
});

describe('write load settings', () => {
  it('clamps rate, concurrency and duration into the limits; odd values take the defaults', () => {
    expect(loadSettings({ rate: 1e9, concurrency: 1e6, durationMs: 1e12 })).toEqual({
      rate: LOAD_LIMITS.maxRate,
      concurrency: LOAD_LIMITS.maxConcurrency,
      durationMs: LOAD_LIMITS.maxDurationMs,
    });
    expect(loadSettings({ rate: 'x', concurrency: -1, durationMs: Number.NaN })).toEqual({
      rate: LOAD_LIMITS.defaultRate,
      concurrency: LOAD_LIMITS.defaultConcurrency,
      durationMs: LOAD_LIMITS.defaultDurationMs,
    });
  });

  it('takes percentiles by nearest rank', () => {
    const v = Array.from({ length: 100 }, (_x, i) => i + 1);
    expect(percentile(v, 50)).toBe(50);
    expect(percentile(v, 99)).toBe(99);
    expect(percentile([], 50)).toBeNull();
  });
});

describe('metrics', () => {
  it('adds a histogram over its label sets and averages the observations between two readings', () => {
    const a = 'x_sum 1\nx_count 10\nx_bucket{le="1"} 10\n';
    const b = 'x_sum{k="a"} 1.5\nx_sum{k="b"} 0.5\nx_count{k="a"} 15\nx_count{k="b"} 5\nxy_sum 100\n';
    expect(histogramTotals(a, 'x')).toEqual({ sum: 1, count: 10 });
    expect(histogramTotals(b, 'x')).toEqual({ sum: 2, count: 20 });
    expect(meanMsBetween(histogramTotals(a, 'x'), histogramTotals(b, 'x'))).toBeCloseTo(100);
    expect(meanMsBetween(histogramTotals(a, 'x'), histogramTotals(a, 'x'))).toBeNull();
    expect(histogramTotals('', 'x')).toBeNull();
  });
});
