import { describe, expect, it } from 'vitest';
import { Histogram, sampleSummary } from '../src/histogram.js';

describe('Histogram', () => {
  it('reports percentiles within about 1 % for 1..10000 µs', () => {
    const h = new Histogram();
    for (let us = 1; us <= 10_000; us++) h.recordUs(us);
    const s = h.summaryMs();
    expect(s.p50).toBeGreaterThanOrEqual(5);
    expect(s.p50).toBeLessThan(5.06);
    expect(s.p99).toBeGreaterThanOrEqual(9.9);
    expect(s.p99).toBeLessThan(10.01);
    expect(s.max).toBe(10);
    expect(s.mean).toBeCloseTo(5.0005, 2);
  });

  it('merges histograms from several processes by adding counts', () => {
    const a = new Histogram();
    const b = new Histogram();
    for (let i = 0; i < 900; i++) a.recordUs(1000);
    for (let i = 0; i < 100; i++) b.recordUs(50_000);
    const m = Histogram.from(a.toData());
    m.merge(b.toData());
    expect(m.count).toBe(1000);
    expect(m.summaryMs().p50).toBeCloseTo(1, 1);
    expect(m.summaryMs().p99).toBe(50);
    const cdf = m.cdfMs();
    expect(cdf[cdf.length - 1]).toEqual([50, 1]);
  });

  it('is empty-safe', () => {
    expect(new Histogram().summaryMs()).toEqual({ p50: 0, p90: 0, p99: 0, p999: 0, max: 0, mean: 0 });
    expect(new Histogram().cdfMs()).toEqual([]);
  });
});

describe('sampleSummary', () => {
  it('uses nearest-rank order statistics', () => {
    const s = sampleSummary([5, 1, 4, 2, 3, 6, 7, 8, 9, 10]);
    expect(s).toMatchObject({ n: 10, min: 1, median: 5, p90: 9, p99: 10, max: 10, mean: 5.5 });
  });
});
