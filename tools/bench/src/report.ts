import type { ElectionReport, ElectionRun } from './election.js';
import { FLOOR_HEADS, floorCells, floorHtml, floorLine } from './floorText.js';
import type { MachineInfo } from './proc.js';
import { type SnapshotReport, snapshotTable } from './snapshot.js';
import { escapeHtml, lineChart, type Mark, type Series, sampleCdf } from './svg.js';
import type { StepResult, ThroughputReport } from './throughput.js';
import type { WatchReport } from './watch.js';
import { watchHtml, watchTable } from './watchReport.js';

export type BenchReport = ThroughputReport | ElectionReport | SnapshotReport | WatchReport;

/** Version of the JSON document; bump it when a field changes meaning or goes away. */
export const REPORT_SCHEMA_VERSION = 1;

// --- terminal -------------------------------------------------------------------------------------

export function table(head: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

const n = (v: number | null | undefined, digits = 1): string =>
  v === null || v === undefined ? '-' : v.toFixed(digits);

export function machineLine(m: MachineInfo): string {
  return `${m.cpu_model}, ${m.cores} cores, ${m.memory_gib} GiB, ${m.os} ${m.kernel}, node ${m.node}, load ${m.loadavg.join(' ')}`;
}

/** The measured system as a reader names it: "Keel", or "etcd 3.4.23" in a comparison run. */
export function systemName(r: ThroughputReport): string {
  // Reports saved before the etcd comparison existed have no `system`: they measured Keel.
  if (r.options.system !== 'etcd') return 'Keel';
  return r.options.system_version !== undefined ? `etcd ${r.options.system_version}` : 'etcd';
}

export function throughputTable(r: ThroughputReport): string {
  const main = table(
    [
      'step',
      'mode',
      'conc',
      'value B',
      'ops/s',
      'p50 ms',
      'p90',
      'p99',
      'p99.9',
      'max',
      'fsync/s',
      'ent/fsync',
      ...FLOOR_HEADS,
      'errors',
      'retries',
    ],
    r.steps.map((s) => [
      String(s.step),
      s.mode + (s.read_ratio > 0 && s.read_ratio < 1 ? ` ${Math.round(s.read_ratio * 100)}%r` : ''),
      String(s.concurrency),
      String(s.value_size),
      n(s.ops_per_sec, 0),
      n(s.latency_ms.p50, 2),
      n(s.latency_ms.p90, 2),
      n(s.latency_ms.p99, 2),
      n(s.latency_ms.p999, 2),
      n(s.latency_ms.max, 2),
      n(s.fsyncs_per_sec, 0),
      n(s.entries_per_fsync, 2),
      ...floorCells(s),
      String(s.errors),
      String(s.retries),
    ]),
  );
  const floor = floorLine(r.floor);
  const procs = table(
    ['step', 'process', 'role', 'cpu %', 'rss MB', 'fsync/s', 'ent/fsync'],
    r.steps.flatMap((s) => [
      ...s.members.map((m) => [
        String(s.step),
        `${m.id} (pid ${m.pid ?? '?'})`,
        m.role,
        n(m.cpu_percent),
        n(m.rss_mb),
        n(m.fsyncs_per_sec, 0),
        n(m.entries_per_fsync, 2),
      ]),
      ...s.clients.map((c) => [
        String(s.step),
        `client (pid ${c.pid})`,
        `${c.clients} clients`,
        n(c.cpu_percent),
        n(c.rss_mb),
        '',
        '',
      ]),
    ]),
  );
  return `${systemName(r)}, ${r.options.nodes} members: ${machineLine(r.machine)}\n${floor === null ? '' : `${floor}\n`}\n${main}\n\n${procs}\n`;
}

/** The load column: the load average at the start, and the background load if one ran. */
function loadLabel(run: ElectionRun): string {
  const avg = run.loadavg_1m === undefined ? '' : `avg ${run.loadavg_1m.toFixed(1)}`;
  if (run.load === undefined || run.load === null) return avg;
  return `${avg} +load ${run.load.cpu} cpu, ${run.load.fsyncsPerSecond} fsync/s`;
}

/** Loaded over unloaded medians and p90s, per setting, when the run has both. */
function loadRatios(r: ElectionReport): string[] {
  const out: string[] = [];
  for (const loaded of r.runs.filter((x) => x.load !== undefined && x.load !== null)) {
    const quiet = r.runs.find(
      (x) =>
        x.mode === loaded.mode &&
        x.election_timeout_ms === loaded.election_timeout_ms &&
        (x.load === undefined || x.load === null),
    );
    if (quiet === undefined) continue;
    const ratio = (a: number, b: number): string => (b > 0 ? (a / b).toFixed(2) : '-');
    out.push(
      `${loaded.election_timeout_ms} ms ${loaded.mode}, new leader, loaded / unloaded: median ${ratio(loaded.leader_ms.median, quiet.leader_ms.median)}x, p90 ${ratio(loaded.leader_ms.p90, quiet.leader_ms.p90)}x`,
    );
  }
  return out;
}

export function electionTable(r: ElectionReport): string {
  const rows: string[][] = [];
  for (const run of r.runs) {
    for (const [metric, s] of [
      ['new leader', run.leader_ms],
      ['first write', run.write_ms],
    ] as const) {
      rows.push([
        `${run.election_timeout_ms}-${run.election_timeout_ms * 2} ms`,
        run.mode,
        loadLabel(run),
        metric,
        String(s.n),
        n(s.min),
        n(s.median),
        n(s.p90),
        n(s.p99),
        n(s.max),
        n(s.mean),
        String(run.failures),
      ]);
    }
  }
  const ref = r.reference;
  return [
    machineLine(r.machine),
    '',
    table(
      ['timeouts', 'fault', 'load', 'until', 'n', 'min ms', 'median', 'p90', 'p99', 'max', 'mean', 'failed'],
      rows,
    ),
    '',
    'load: the 1-minute load average when the run began; "+load": scripts/load.mjs ran beside it (CPU spinners, fdatasync loop; its fsyncs/s).',
    ...loadRatios(r),
    `Raft paper, Figure 16 (crash, 5 servers): 150-300 ms: median ${ref['150-300'].median_ms} ms, p99 ${ref['150-300'].p99_ms} ms, max ${ref['150-300'].max_ms} ms; 12-24 ms: mean ${ref['12-24'].mean_ms} ms, max ${ref['12-24'].max_ms} ms`,
    '',
  ].join('\n');
}

export function textReport(r: BenchReport): string {
  if (r.kind === 'snapshot') return snapshotTable(r);
  if (r.kind === 'watch') return watchTable(r);
  return r.kind === 'throughput' ? throughputTable(r) : electionTable(r);
}

// --- JSON -------------------------------------------------------------------------------------------

export function jsonReport(r: BenchReport, command: readonly string[]): string {
  return `${JSON.stringify({ tool: 'keel-bench', schema_version: REPORT_SCHEMA_VERSION, command, ...r }, null, 2)}\n`;
}

/** A report read back from its JSON document (for `keel-bench report`), with the command that made it. */
export function parseJsonReport(text: string): { report: BenchReport; command: string[] } {
  const doc = JSON.parse(text) as Record<string, unknown>;
  if (doc.tool !== 'keel-bench' || doc.schema_version !== REPORT_SCHEMA_VERSION) {
    throw new Error(`not a keel-bench report of schema version ${REPORT_SCHEMA_VERSION}`);
  }
  if (!['throughput', 'election', 'snapshot', 'watch'].includes(String(doc.kind)))
    throw new Error(`unknown report kind ${String(doc.kind)}`);
  const { tool: _tool, schema_version: _v, command, ...rest } = doc;
  return {
    report: rest as unknown as BenchReport,
    command: Array.isArray(command) ? command.map(String) : ['keel-bench'],
  };
}

// --- HTML -------------------------------------------------------------------------------------------

const CSS = `body{font-family:system-ui,sans-serif;margin:24px;color:#222;max-width:1100px}
table{border-collapse:collapse;margin:12px 0;font-size:13px}th,td{border:1px solid #ccc;padding:3px 8px;text-align:right}
th{background:#f4f4f4}td:first-child,th:first-child{text-align:left}h1{font-size:22px}h2{font-size:18px;margin-top:28px}
.chart{display:block;margin:12px 0;max-width:100%;height:auto}code{background:#f4f4f4;padding:1px 4px}`;

export function htmlTable(head: readonly string[], rows: readonly (readonly string[])[]): string {
  return `<table><tr>${head.map((h) => `<th>${escapeHtml(h)}</th>`).join('')}</tr>${rows
    .map((r) => `<tr>${r.map((c) => `<td>${escapeHtml(c)}</td>`).join('')}</tr>`)
    .join('')}</table>`;
}

export function machineHtml(m: MachineInfo): string {
  return htmlTable(
    ['machine', ''],
    [
      ['CPU', m.cpu_model],
      ['cores', String(m.cores)],
      ['memory', `${m.memory_gib} GiB`],
      ['OS / kernel', `${m.os} ${m.kernel}`],
      ['Node.js', m.node],
      ['host', m.hostname],
      ['load average at start (1/5/15 min)', m.loadavg.join(' / ')],
    ],
  );
}

export function page(title: string, body: string, command: readonly string[]): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>
<meta name="viewport" content="width=device-width, initial-scale=1"><style>${CSS}</style></head>
<body><h1>${escapeHtml(title)}</h1>
<p>Command: <code>${escapeHtml(command.join(' '))}</code></p>
${body}
</body></html>
`;
}

function throughputHtml(r: ThroughputReport, command: readonly string[]): string {
  const sizes = [...new Set(r.steps.map((s) => s.value_size))];
  const byConc = (pick: (s: StepResult) => number): Series[] =>
    sizes.map((size) => ({
      name: `${size} B values`,
      markers: true,
      points: r.steps.filter((s) => s.value_size === size).map((s) => [s.concurrency, pick(s)] as const),
    }));
  const tput = lineChart({
    id: 'chart-throughput',
    title: `${systemName(r)} ${r.options.mode}: throughput vs outstanding requests (${r.options.nodes} members)`,
    xLabel: 'outstanding requests (log)',
    yLabel: 'ops/s',
    xLog: true,
    series: byConc((s) => s.ops_per_sec),
  });
  const p99 = lineChart({
    id: 'chart-latency-p99',
    title: 'p50 and p99 latency vs outstanding requests',
    xLabel: 'outstanding requests (log)',
    yLabel: 'ms',
    xLog: true,
    series: [
      ...byConc((s) => s.latency_ms.p50).map((s) => ({ ...s, name: `p50, ${s.name}` })),
      ...byConc((s) => s.latency_ms.p99).map((s) => ({ ...s, name: `p99, ${s.name}`, dashed: true })),
    ],
  });
  const cdf = lineChart({
    id: 'chart-latency-cdf',
    title: 'latency CDF per step',
    xLabel: 'latency, ms (log)',
    yLabel: 'fraction of operations',
    xLog: true,
    yMin: 0,
    yMax: 1,
    series: r.steps.map((s) => ({
      name: `c=${s.concurrency}, ${s.value_size} B`,
      step: true,
      points: s.latency_cdf,
    })),
  });
  const rows = r.steps.map((s) => [
    String(s.step),
    String(s.concurrency),
    String(s.value_size),
    n(s.ops_per_sec, 0),
    n(s.latency_ms.p50, 2),
    n(s.latency_ms.p90, 2),
    n(s.latency_ms.p99, 2),
    n(s.latency_ms.p999, 2),
    n(s.latency_ms.max, 2),
    n(s.fsyncs_per_sec, 0),
    n(s.entries_per_fsync, 2),
    ...floorCells(s),
    String(s.errors),
    String(s.retries),
  ]);
  const body = [
    `<p>${escapeHtml(systemName(r))}, ${r.options.mode} load, ${r.options.nodes} members (${r.options.cluster === 'started' ? 'started by the bench' : 'external cluster'}), ${r.options.workers} client processes, warm-up ${r.options.warmup_s} s and ${r.options.duration_s} s measured per step, keyspace ${r.options.keyspace}${r.options.read_ratio > 0 ? `, ${Math.round(r.options.read_ratio * 100)} % ${r.options.stale ? 'stale' : 'linearizable'} reads` : ''}. Started ${escapeHtml(r.started_at)}.</p>`,
    floorHtml(r.floor),
    tput,
    p99,
    cdf,
    '<h2>Steps</h2>',
    htmlTable(
      [
        'step',
        'conc',
        'value B',
        'ops/s',
        'p50 ms',
        'p90',
        'p99',
        'p99.9',
        'max',
        'fsync/s',
        'entries/fsync',
        ...FLOOR_HEADS,
        'errors',
        'retries',
        'members (role, CPU, RSS)',
        'clients (CPU, RSS)',
      ],
      rows,
    ),
    '<h2>Machine</h2>',
    machineHtml(r.machine),
  ].join('\n');
  return page(`${systemName(r)} bench: ${r.options.mode}`, body, command);
}

function referenceMarks(T: number, r: ElectionReport): Mark[] {
  const ref = r.reference;
  if (T === 150) {
    return [
      {
        x: ref['150-300'].median_ms,
        y: 0.5,
        label: `paper 150-300 ms: median ${ref['150-300'].median_ms} ms`,
      },
      { x: ref['150-300'].p99_ms, y: 0.99, label: `paper 150-300 ms: p99 ${ref['150-300'].p99_ms} ms` },
      { x: ref['150-300'].max_ms, y: 1, label: `paper 150-300 ms: max ${ref['150-300'].max_ms} ms` },
    ];
  }
  if (T === 12) {
    return [
      {
        x: ref['12-24'].mean_ms,
        y: 0.5,
        label: `paper 12-24 ms: mean ${ref['12-24'].mean_ms} ms (drawn at 0.5)`,
      },
      { x: ref['12-24'].max_ms, y: 1, label: `paper 12-24 ms: max ${ref['12-24'].max_ms} ms` },
    ];
  }
  return [];
}

function electionHtml(r: ElectionReport, command: readonly string[]): string {
  const timeouts = [...new Set(r.runs.map((x) => x.election_timeout_ms))];
  const charts = timeouts.map((T) => {
    const runs = r.runs.filter((x) => x.election_timeout_ms === T);
    const ok = (run: ElectionRun) => run.trials.filter((t) => t.error === null);
    return lineChart({
      id: `chart-election-${T}`,
      title: `election time CDF, timeouts ${T}-${2 * T} ms, ${r.options.nodes} members`,
      xLabel: 'ms after the fault',
      yLabel: 'fraction of trials',
      yMin: 0,
      yMax: 1,
      series: runs.flatMap((run) => [
        {
          name: `${run.mode}${run.load ? ' +load' : ''}: new leader`,
          step: true,
          points: sampleCdf(ok(run).map((t) => t.leader_ms!)),
        },
        {
          name: `${run.mode}${run.load ? ' +load' : ''}: first write`,
          step: true,
          dashed: true,
          points: sampleCdf(ok(run).map((t) => t.write_ms!)),
        },
      ]),
      marks: referenceMarks(T, r),
    });
  });
  const rows = r.runs.flatMap((run) =>
    (
      [
        ['new leader', run.leader_ms],
        ['first write', run.write_ms],
      ] as const
    ).map(([metric, s]) => [
      `${run.election_timeout_ms}-${2 * run.election_timeout_ms} ms`,
      run.mode === 'kill' ? 'kill (SIGKILL)' : 'stop (SIGSTOP)',
      loadLabel(run),
      metric,
      String(s.n),
      n(s.min),
      n(s.median),
      n(s.p90),
      n(s.p99),
      n(s.max),
      n(s.mean),
      String(run.failures),
    ]),
  );
  const ref = r.reference;
  const body = [
    `<p>${r.options.trials} trials per fault mode and setting on a ${r.options.nodes}-member cluster started by the bench. Each trial takes the leader out (SIGKILL or SIGSTOP) and measures, on the bench's clock from the signal, the time until every survivor's <code>/status</code> names the same new leader (polled every ${r.options.poll_ms} ms) and until a put sent through a survivor commits. The old leader is restarted (or resumed) and caught up before the next trial. Started ${escapeHtml(r.started_at)}.</p>`,
    ...charts,
    htmlTable(
      ['timeouts', 'fault', 'load', 'until', 'n', 'min ms', 'median', 'p90', 'p99', 'max', 'mean', 'failed'],
      rows,
    ),
    ...loadRatios(r).map((line) => `<p>${escapeHtml(line)}</p>`),
    `<p>Reference, Raft paper Figure 16 (5 servers, crash of the leader): 150-300 ms timeouts: median ${ref['150-300'].median_ms} ms, p99 ${ref['150-300'].p99_ms} ms, max ${ref['150-300'].max_ms} ms; 12-24 ms: mean ${ref['12-24'].mean_ms} ms, max ${ref['12-24'].max_ms} ms. Drawn as diamonds on the matching chart (the 12-24 ms mean at 0.5).</p>`,
    '<h2>Machine</h2>',
    machineHtml(r.machine),
  ].join('\n');
  return page('Keel bench: election latency', body, command);
}

/** A self-contained HTML page: inline CSS and inline SVG, no script, nothing fetched. */
function snapshotHtml(r: SnapshotReport, command: readonly string[]): string {
  const rows = snapshotTable(r)
    .split('\n')
    .slice(2)
    .filter((l) => l.trim() !== '')
    .map((l) => {
      const at = l.search(/ {2}\S/);
      return [l.slice(0, at).trim(), l.slice(at).trim()];
    });
  const body = [
    `<p>${r.options.nodes} members started by the bench with automatic snapshots off (every snapshot is asked for with <code>POST /snapshot</code>), compaction keeping ${r.options.compact_keep} entries. Stalls are the leader's longest event-loop delay over the phase (<code>nodejs_eventloop_lag_max_seconds</code>). Started ${escapeHtml(r.started_at)}.</p>`,
    htmlTable(['measure', 'result'], rows),
    '<h2>Machine</h2>',
    machineHtml(r.machine),
  ].join('\n');
  return page('Keel bench: snapshots', body, command);
}

export function htmlReport(r: BenchReport, command: readonly string[]): string {
  if (r.kind === 'snapshot') return snapshotHtml(r, command);
  if (r.kind === 'watch') return watchHtml(r, command);
  return r.kind === 'throughput' ? throughputHtml(r, command) : electionHtml(r, command);
}
