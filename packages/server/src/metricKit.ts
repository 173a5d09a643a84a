import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/**
 * The conventions every `keel_*` metric follows (https://prometheus.io/docs/practices/naming/),
 * applied where the metrics are made rather than remembered at each one:
 * - a counter (cumulative, never decreasing) ends in `_total`, a gauge never does;
 * - a quantity with a unit names it in base units: `_seconds`, `_bytes`;
 * - every series exists from start: an unlabelled metric is exported at 0, a labelled one is
 *   created for each value of a closed label set (or each peer once it is known) before any event.
 */
/** `read`: for a gauge read at every scrape (prom-client's `collect`), where its value comes from. */
export function gauge(
  r: Registry,
  name: string,
  help: string,
  labelNames: readonly string[] = [],
  read?: () => number,
): Gauge {
  if (name.endsWith('_total')) throw new Error(`gauge ${name}: _total is for counters`);
  if (read === undefined) return new Gauge({ name, help, labelNames, registers: [r] });
  return new Gauge({
    name,
    help,
    labelNames,
    registers: [r],
    collect() {
      this.set(read());
    },
  });
}

export function counter(
  r: Registry,
  name: string,
  help: string,
  labelNames: readonly string[] = [],
): Counter {
  if (!name.endsWith('_total')) throw new Error(`counter ${name}: a counter's name ends in _total`);
  return new Counter({ name, help, labelNames, registers: [r] });
}

export function histogram(
  r: Registry,
  name: string,
  help: string,
  buckets: readonly number[],
  labelNames: readonly string[] = [],
): Histogram {
  if (!name.endsWith('_seconds') && !name.endsWith('_bytes')) {
    throw new Error(`histogram ${name}: name its unit (_seconds or _bytes)`);
  }
  return new Histogram({ name, help, buckets: [...buckets], labelNames, registers: [r] });
}

/** Creates the series of `c` for each label value (at 0), so that they exist before their first event. */
export function precreate(c: Counter, label: string, values: Iterable<string>): void {
  for (const v of values) c.inc({ [label]: v }, 0);
}

/**
 * Sets a counter to a cumulative count kept elsewhere (the WAL's, the transport's), read at scrape
 * time. The count never decreases while the member runs, so the exported value is a true counter.
 */
export function mirror(c: Counter, value: number, labels?: Record<string, string>): void {
  if (labels === undefined) {
    c.reset();
    c.inc(value);
  } else {
    c.remove(labels);
    c.inc(labels, value);
  }
}

/** Seconds since `t0` (a `performance.now()` reading). */
export function secondsSince(t0: number): number {
  return (performance.now() - t0) / 1000;
}
