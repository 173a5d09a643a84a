/**
 * A Prometheus histogram's `_sum` and `_count`, added over every label set (a member's latency
 * histograms have none or one series per kind). Null when the text has no such series.
 */
export function histogramTotals(text: string, name: string): { sum: number; count: number } | null {
  let sum = 0;
  let count = 0;
  let seen = false;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const rest = line.slice(name.length);
    const isSum = rest.startsWith('_sum');
    if (!isSum && !rest.startsWith('_count')) continue;
    const value = Number(line.slice(line.lastIndexOf(' ') + 1));
    if (!Number.isFinite(value)) continue;
    seen = true;
    if (isSum) sum += value;
    else count += value;
  }
  return seen ? { sum, count } : null;
}

/** Mean of the observations between two readings of a histogram, in milliseconds; null without any. */
export function meanMsBetween(
  before: { sum: number; count: number } | null,
  after: { sum: number; count: number } | null,
): number | null {
  if (before === null || after === null) return null;
  const n = after.count - before.count;
  if (n <= 0) return null;
  return ((after.sum - before.sum) / n) * 1000;
}
