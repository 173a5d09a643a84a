import { formatCommand, formatViolation, keysOf, type Operation } from '@keel/checker';
import { describeEvent, reproduceCommand, verdictLine } from './report.js';
import type { ChaosRun } from './run.js';

/** Most operations drawn in the overview; violation windows are always drawn in full. */
const MAX_OPS_DRAWN = 25_000;
const LANE = 14;
const WIDTH = 1400;
const LEFT = 70;

const esc = (s: string): string =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

const COLORS = { ok: '#3a7d44', fail: '#9a9a9a', unknown: '#e0a030', bad: '#d22' } as const;

/**
 * A self-contained HTML timeline of a run (inline SVG and CSS, no scripts or network): one lane
 * per client with each operation as a bar from invocation to completion (green ok, grey failed,
 * orange indeterminate, red in a violation), fault intervals as bands above, and a zoomed view of
 * every violation's window. Hovering a bar shows the operation.
 */
export function htmlTimeline(run: ChaosRun): string {
  const v = run.verdict;
  const bad = new Set<number>();
  for (const r of v.violations) for (const o of r.violation.window) bad.add(o.id);
  for (const l of v.lostWrites) bad.add(l.operation.id);

  const overview = timeline(run, run.history, 0, Math.max(run.endMs, 1), bad, 'overview');
  const windows = v.violations.map((r, i) => {
    const pad = Math.max(50, (r.to - r.from) * 0.2);
    const ops = run.history.filter((o) => o.invoke <= r.to + pad && end(o, run.endMs) >= r.from - pad);
    return `<h2>Violation ${i + 1}: key ${esc(r.violation.key)}</h2>
<pre>${esc(formatViolation(r.violation, { maxWindow: 60 }))}</pre>
<p>Faults active: ${r.faults.length === 0 ? 'none' : r.faults.map((f) => esc(describeEvent(f))).join('<br>')}</p>
${timeline(
  run,
  ops.filter((o) => keysOf(o).some((k) => (r.violation.keys ?? [r.violation.key]).includes(k))),
  r.from - pad,
  r.to + pad,
  bad,
  `v${i}`,
)}`;
  });
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>keel chaos, seed ${run.options.seed}: ${v.verdict}</title>
<style>
body{font:13px/1.4 system-ui,sans-serif;margin:20px;color:#222}
pre{background:#f6f6f6;padding:8px;overflow:auto;font-size:12px}
.verdict-ok{color:${COLORS.ok}}.verdict-FAIL{color:${COLORS.bad}}
svg text{font:10px monospace;fill:#444}
.legend span{display:inline-block;width:12px;height:10px;margin:0 4px 0 12px;vertical-align:middle}
</style></head><body>
<h1>keel chaos — <span class="verdict-${v.verdict}">verdict ${v.verdict}</span></h1>
<p><code>${esc(verdictLine(run))}</code><br>reproduce: <code>${esc(reproduceCommand(run))}</code></p>
${v.reasons.length > 0 ? `<ul>${v.reasons.map((r) => `<li>${esc(r)}</li>`).join('')}</ul>` : ''}
<p class="legend"><span style="background:${COLORS.ok}"></span>ok<span style="background:${COLORS.fail}"></span>failed<span style="background:${COLORS.unknown}"></span>indeterminate<span style="background:${COLORS.bad}"></span>in a violation or lost<span style="background:#c8d8f0"></span>fault active</p>
<h2>Timeline</h2>
${overview}
${windows.join('\n')}
<h2>Faults</h2>
<pre>${run.faults.map((f) => esc(describeEvent(f))).join('\n') || 'none'}</pre>
<h2>Summary</h2>
<pre>ops ${v.ops.total} (ok ${v.ops.ok}, failed ${v.ops.fail}, indeterminate ${v.ops.unknown})
counter ${v.counter.final ?? 'unread'}: acknowledged ${v.counter.acked}, indeterminate ${v.counter.indeterminate}
convergence: ${esc(v.convergence.detail)}
writes after heal: ${esc(v.serving.detail)}</pre>
</body></html>
`;
}

function end(o: Operation, endMs: number): number {
  return o.complete ?? endMs;
}

function timeline(
  run: ChaosRun,
  ops: readonly Operation[],
  from: number,
  to: number,
  bad: ReadonlySet<number>,
  id: string,
): string {
  const span = Math.max(1e-6, to - from);
  const x = (t: number): number =>
    LEFT + ((Math.min(Math.max(t, from), to) - from) / span) * (WIDTH - LEFT - 10);
  const processes = [...new Set(ops.map((o) => String(o.process)))].sort((a, b) =>
    a.localeCompare(b, 'en', { numeric: true }),
  );
  const lane = new Map(processes.map((p, i) => [p, i]));
  const faults = run.faults.filter((f) => f.start <= to && (f.end ?? run.endMs) >= from);
  const faultTop = 16;
  const top = faultTop + faults.length * 12 + 8;
  const height = top + processes.length * LANE + 24;
  const parts: string[] = [];
  faults.forEach((f, i) => {
    const x0 = x(f.start);
    const x1 = Math.max(x0 + 2, x(f.end ?? run.endMs));
    parts.push(
      `<rect x="${x0.toFixed(1)}" y="${faultTop}" width="${(x1 - x0).toFixed(1)}" height="${height - faultTop - 20}" fill="#c8d8f0" opacity="0.35"><title>${esc(describeEvent(f))}</title></rect>`,
      `<text x="${(x0 + 2).toFixed(1)}" y="${faultTop + 10 + i * 12}">${esc(`#${f.step} ${f.kind} ${f.members.join(',')}`)}</text>`,
    );
  });
  processes.forEach((p, i) => {
    parts.push(`<text x="2" y="${top + i * LANE + 10}">${esc(p === 'final' ? 'final' : `c${p}`)}</text>`);
  });
  // Past the limit, an even sample across the whole run (plus every operation in a violation).
  const stride = Math.ceil(ops.length / MAX_OPS_DRAWN);
  let drawn = 0;
  for (const [i, o] of ops.entries()) {
    if (i % stride !== 0 && !bad.has(o.id)) continue;
    drawn++;
    const y = top + lane.get(String(o.process))! * LANE + 2;
    const x0 = x(o.invoke);
    const x1 = Math.max(x0 + 1, x(end(o, run.endMs)));
    const color = bad.has(o.id) ? COLORS.bad : COLORS[o.outcome.status];
    const label = `#${o.id} ${keysOf(o).join(',')} ${formatCommand(o)} ${o.outcome.status} [${o.invoke.toFixed(1)}, ${o.complete === null ? '?' : o.complete.toFixed(1)}] ms`;
    parts.push(
      `<rect x="${x0.toFixed(1)}" y="${y}" width="${(x1 - x0).toFixed(1)}" height="${LANE - 4}" fill="${color}"><title>${esc(label)}</title></rect>`,
    );
  }
  const ticks: string[] = [];
  for (let k = 0; k <= 10; k++) {
    const t = from + (span * k) / 10;
    ticks.push(
      `<text x="${x(t).toFixed(1)}" y="${height - 6}" text-anchor="middle">${(t / 1000).toFixed(span < 5000 ? 3 : 1)} s</text>`,
    );
  }
  const omitted = ops.length - drawn;
  return `<svg id="timeline-${id}" xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}">
${parts.join('\n')}
${ticks.join('\n')}
</svg>${omitted > 0 ? `<p>${drawn} of ${ops.length} operations drawn (every ${stride}th, and all in violations).</p>` : ''}`;
}
