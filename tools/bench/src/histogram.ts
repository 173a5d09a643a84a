/**
 * A log-bucket latency histogram in the spirit of HdrHistogram: values (microseconds) fall into
 * buckets whose bounds grow by a factor of 2^(1/64) (~1.1 % apart), so any percentile is reported
 * within about 1 % of the true value, with constant memory, and histograms from several client
 * processes merge by adding counts. The exact minimum and maximum are kept on the side.
 */

const GROWTH = 2 ** (1 / 64);
const LOG_GROWTH = Math.log(GROWTH);

/** The plain-object form that crosses the worker IPC channel and merges. */
export interface HistogramData {
  /** [bucket index, count], bucket i holding values in (GROWTH^(i-1), GROWTH^i] µs. */
  readonly buckets: readonly (readonly [number, number])[];
  readonly count: number;
  readonly sumUs: number;
  readonly minUs: number;
  readonly maxUs: number;
}

export interface LatencySummary {
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly p999: number;
  readonly max: number;
  readonly mean: number;
}

export class Histogram {
  private readonly counts = new Map<number, number>();
  private n = 0;
  private sum = 0;
  private min = Number.POSITIVE_INFINITY;
  private max = 0;

  static from(data: HistogramData): Histogram {
    const h = new Histogram();
    h.merge(data);
    return h;
  }

  get count(): number {
    return this.n;
  }

  recordUs(us: number): void {
    const v = Math.max(us, 1);
    const i = Math.ceil(Math.log(v) / LOG_GROWTH - 1e-9);
    this.counts.set(i, (this.counts.get(i) ?? 0) + 1);
    this.n++;
    this.sum += us;
    if (us < this.min) this.min = us;
    if (us > this.max) this.max = us;
  }

  merge(d: HistogramData): void {
    for (const [i, c] of d.buckets) this.counts.set(i, (this.counts.get(i) ?? 0) + c);
    this.n += d.count;
    this.sum += d.sumUs;
    if (d.count > 0) {
      this.min = Math.min(this.min, d.minUs);
      this.max = Math.max(this.max, d.maxUs);
    }
  }

  toData(): HistogramData {
    return {
      buckets: [...this.counts.entries()].sort((a, b) => a[0] - b[0]),
      count: this.n,
      sumUs: this.sum,
      minUs: this.n === 0 ? 0 : this.min,
      maxUs: this.max,
    };
  }

  /** The value at quantile q (0..1) in µs: the upper bound of its bucket, clamped to [min, max]. */
  quantileUs(q: number): number {
    if (this.n === 0) return 0;
    const rank = Math.max(1, Math.ceil(q * this.n));
    let seen = 0;
    for (const [i, c] of [...this.counts.entries()].sort((a, b) => a[0] - b[0])) {
      seen += c;
      if (seen >= rank) return Math.min(this.max, Math.max(this.min, GROWTH ** i));
    }
    return this.max;
  }

  /** Percentiles in milliseconds, rounded to microseconds. */
  summaryMs(): LatencySummary {
    const ms = (us: number): number => Math.round(us) / 1000;
    return {
      p50: ms(this.quantileUs(0.5)),
      p90: ms(this.quantileUs(0.9)),
      p99: ms(this.quantileUs(0.99)),
      p999: ms(this.quantileUs(0.999)),
      max: ms(this.max),
      mean: this.n === 0 ? 0 : ms(this.sum / this.n),
    };
  }

  /**
   * The cumulative distribution as [latency ms, fraction ≤ it] points, thinned to at most
   * `maxPoints` (for charts and the JSON report).
   */
  cdfMs(maxPoints = 200): [number, number][] {
    if (this.n === 0) return [];
    const sorted = [...this.counts.entries()].sort((a, b) => a[0] - b[0]);
    const pts: [number, number][] = [];
    let seen = 0;
    for (const [i, c] of sorted) {
      seen += c;
      const us = Math.min(this.max, Math.max(this.min, GROWTH ** i));
      pts.push([Math.round(us) / 1000, seen / this.n]);
    }
    if (pts.length <= maxPoints) return pts;
    const step = pts.length / maxPoints;
    const thin: [number, number][] = [];
    for (let k = 0; k < maxPoints - 1; k++) thin.push(pts[Math.floor(k * step)]!);
    thin.push(pts[pts.length - 1]!);
    return thin;
  }
}

/** Order statistics of a small sample (election trials), exact: nearest-rank. */
export function sampleSummary(values: readonly number[]): {
  n: number;
  min: number;
  median: number;
  p90: number;
  p99: number;
  max: number;
  mean: number;
} {
  if (values.length === 0) return { n: 0, min: 0, median: 0, p90: 0, p99: 0, max: 0, mean: 0 };
  const s = [...values].sort((a, b) => a - b);
  const at = (q: number): number => s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))]!;
  const r = (v: number): number => Math.round(v * 100) / 100;
  return {
    n: s.length,
    min: r(s[0]!),
    median: r(at(0.5)),
    p90: r(at(0.9)),
    p99: r(at(0.99)),
    max: r(s[s.length - 1]!),
    mean: r(s.reduce((a, b) => a + b, 0) / s.length),
  };
}
