/**
 * `--compare old.json`: a throughput run against an older one, step by step — the ratio of
 * throughput, p50 latency and CPU per operation (members) — with the changes beyond noise flagged.
 * Steps pair up by system, mode, value size and concurrency; steps only one side has are listed.
 */
import type { StepResult, ThroughputReport } from './throughput.js';

/**
 * A change smaller than this fraction is noise: on a shared 2-core VM, back-to-back runs of the
 * same build differ by 10–20 % in writes/s and CPU per write (docs/benchmarks.md, issue #20).
 */
export const DEFAULT_NOISE = 0.2;

export interface StepComparison {
  readonly key: string;
  /** new / old; null where either side lacks the figure (or the old one is 0). */
  readonly throughput: number | null;
  readonly p50: number | null;
  readonly cpuPerOp: number | null;
  /** What moved beyond noise, for the worse ("slower", "higher p50", "more CPU") or the better. */
  readonly worse: readonly string[];
  readonly better: readonly string[];
}

function stepKey(s: StepResult): string {
  return `${s.system} ${s.mode} ${s.value_size} B c=${s.concurrency}`;
}

function ratio(a: number | null | undefined, b: number | null | undefined): number | null {
  if (a === null || a === undefined || b === null || b === undefined || !(b > 0)) return null;
  return a / b;
}

/** Pairs the steps of `now` with those of `old` and rates each change against `noise`. */
export function compareRuns(
  now: ThroughputReport,
  old: ThroughputReport,
  noise = DEFAULT_NOISE,
): StepComparison[] {
  const before = new Map(old.steps.map((s) => [stepKey(s), s]));
  const out: StepComparison[] = [];
  for (const s of now.steps) {
    const key = stepKey(s);
    const o = before.get(key);
    if (o === undefined) continue;
    const throughput = ratio(s.ops_per_sec, o.ops_per_sec);
    const p50 = ratio(s.latency_ms.p50, o.latency_ms.p50);
    const cpuPerOp = ratio(s.cpu_us_per_op?.members, o.cpu_us_per_op?.members);
    const worse: string[] = [];
    const better: string[] = [];
    // Higher is better for throughput; lower is better for latency and CPU.
    const rate = (r: number | null, upGood: boolean, up: string, down: string) => {
      if (r === null) return;
      if (r > 1 + noise) (upGood ? better : worse).push(up);
      else if (r < 1 / (1 + noise)) (upGood ? worse : better).push(down);
    };
    rate(throughput, true, 'faster', 'slower');
    rate(p50, false, 'higher p50', 'lower p50');
    rate(cpuPerOp, false, 'more CPU/op', 'less CPU/op');
    out.push({ key, throughput, p50, cpuPerOp, worse, better });
  }
  return out;
}

const x = (r: number | null) => (r === null ? '-' : `${r.toFixed(2)}×`);

/** The comparison as a terminal table, with the steps that could not be paired named. */
export function comparisonTable(now: ThroughputReport, old: ThroughputReport, noise = DEFAULT_NOISE): string {
  const rows = compareRuns(now, old, noise);
  const lines = [
    `Compared with the run of ${old.started_at} (new / old; beyond ±${Math.round(noise * 100)} % flagged):`,
    '',
    `${'step'.padEnd(26)} ${'writes/s'.padStart(9)} ${'p50'.padStart(7)} ${'CPU/op'.padStart(7)}  verdict`,
  ];
  for (const r of rows) {
    const verdict =
      r.worse.length > 0
        ? `WORSE: ${r.worse.join(', ')}${r.better.length > 0 ? `; better: ${r.better.join(', ')}` : ''}`
        : r.better.length > 0
          ? `better: ${r.better.join(', ')}`
          : 'within noise';
    lines.push(
      `${r.key.padEnd(26)} ${x(r.throughput).padStart(9)} ${x(r.p50).padStart(7)} ${x(r.cpuPerOp).padStart(7)}  ${verdict}`,
    );
  }
  const paired = new Set(rows.map((r) => r.key));
  const onlyNew = now.steps.map(stepKey).filter((k) => !paired.has(k));
  const onlyOld = old.steps.map(stepKey).filter((k) => !paired.has(k));
  if (rows.length === 0) lines.push('(no step of this run matches a step of the older one)');
  if (onlyNew.length > 0) lines.push(`only in this run: ${onlyNew.join('; ')}`);
  if (onlyOld.length > 0) lines.push(`only in the older run: ${onlyOld.join('; ')}`);
  return `${lines.join('\n')}\n`;
}
