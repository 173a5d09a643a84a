/**
 * Small SVG line charts for the HTML report, generated here so the report needs no script and no
 * network: every chart is plain inline SVG.
 */

export interface Series {
  readonly name: string;
  readonly points: readonly (readonly [number, number])[];
  /** Draw as a step function (CDFs) instead of straight segments. */
  readonly step?: boolean;
  readonly dashed?: boolean;
  readonly markers?: boolean;
}

export interface Mark {
  readonly x: number;
  readonly y: number;
  readonly label: string;
}

export interface ChartSpec {
  readonly id: string;
  readonly title: string;
  readonly xLabel: string;
  readonly yLabel: string;
  readonly xLog?: boolean;
  readonly series: readonly Series[];
  /** Reference points drawn as hollow diamonds with a label (e.g. the paper's Figure 16). */
  readonly marks?: readonly Mark[];
  readonly yMin?: number;
  readonly yMax?: number;
}

const PALETTE = [
  '#1f77b4',
  '#d62728',
  '#2ca02c',
  '#ff7f0e',
  '#9467bd',
  '#8c564b',
  '#e377c2',
  '#17becf',
  '#7f7f7f',
  '#bcbd22',
];
const W = 820;
const H = 380;
const M = { left: 70, right: 270, top: 36, bottom: 50 };

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function niceTicks(lo: number, hi: number, count = 6): number[] {
  if (hi <= lo) hi = lo + 1;
  const raw = (hi - lo) / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((f) => f * mag).find((s) => s >= raw) ?? 10 * mag;
  const ticks: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step)
    ticks.push(Number(v.toPrecision(12)));
  return ticks;
}

function logTicks(lo: number, hi: number): number[] {
  const ticks: number[] = [];
  for (let e = Math.floor(Math.log10(lo)); e <= Math.ceil(Math.log10(hi)); e++) {
    for (const f of [1, 2, 5]) {
      const v = f * 10 ** e;
      if (v >= lo * 0.999 && v <= hi * 1.001) ticks.push(Number(v.toPrecision(12)));
    }
  }
  return ticks;
}

function fmt(v: number): string {
  if (v === 0) return '0';
  if (Math.abs(v) >= 10_000) return `${Number((v / 1000).toPrecision(3))}k`;
  return String(Number(v.toPrecision(3)));
}

export function lineChart(spec: ChartSpec): string {
  const pts = spec.series.flatMap((s) => s.points).concat((spec.marks ?? []).map((m) => [m.x, m.y] as const));
  const xs = pts.map((p) => p[0]).filter((x) => !spec.xLog || x > 0);
  const ys = pts.map((p) => p[1]);
  let xLo = xs.length > 0 ? Math.min(...xs) : 1;
  let xHi = xs.length > 0 ? Math.max(...xs) : 10;
  if (spec.xLog) {
    xLo = 10 ** Math.floor(Math.log10(xLo));
    xHi = 10 ** Math.ceil(Math.log10(xHi));
  } else {
    xLo = Math.min(0, xLo);
    xHi = xHi === xLo ? xLo + 1 : xHi * 1.05;
  }
  const yLo = spec.yMin ?? 0;
  const yHi = spec.yMax ?? (ys.length > 0 ? Math.max(...ys) * 1.1 || 1 : 1);
  const pw = W - M.left - M.right;
  const ph = H - M.top - M.bottom;
  const sx = (x: number): number =>
    M.left +
    (spec.xLog
      ? ((Math.log10(Math.max(x, xLo)) - Math.log10(xLo)) / (Math.log10(xHi) - Math.log10(xLo))) * pw
      : ((x - xLo) / (xHi - xLo)) * pw);
  const sy = (y: number): number => M.top + ph - ((y - yLo) / (yHi - yLo)) * ph;
  const f = (n: number): string => n.toFixed(1);

  const out: string[] = [];
  out.push(
    `<svg class="chart" id="${escapeHtml(spec.id)}" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="${escapeHtml(spec.title)}">`,
  );
  out.push(`<rect x="0" y="0" width="${W}" height="${H}" fill="#fff"/>`);
  out.push(`<text x="${M.left}" y="22" font-size="15" font-weight="bold">${escapeHtml(spec.title)}</text>`);
  const xt = spec.xLog ? logTicks(xLo, xHi) : niceTicks(xLo, xHi);
  for (const t of xt) {
    const x = sx(t);
    out.push(`<line x1="${f(x)}" y1="${M.top}" x2="${f(x)}" y2="${M.top + ph}" stroke="#eee"/>`);
    out.push(`<text x="${f(x)}" y="${M.top + ph + 16}" font-size="11" text-anchor="middle">${fmt(t)}</text>`);
  }
  for (const t of niceTicks(yLo, yHi, 5)) {
    const y = sy(t);
    out.push(`<line x1="${M.left}" y1="${f(y)}" x2="${M.left + pw}" y2="${f(y)}" stroke="#eee"/>`);
    out.push(`<text x="${M.left - 6}" y="${f(y + 4)}" font-size="11" text-anchor="end">${fmt(t)}</text>`);
  }
  out.push(`<rect x="${M.left}" y="${M.top}" width="${pw}" height="${ph}" fill="none" stroke="#888"/>`);
  out.push(
    `<text x="${M.left + pw / 2}" y="${H - 10}" font-size="12" text-anchor="middle">${escapeHtml(spec.xLabel)}</text>`,
  );
  out.push(
    `<text x="16" y="${M.top + ph / 2}" font-size="12" text-anchor="middle" transform="rotate(-90 16 ${M.top + ph / 2})">${escapeHtml(spec.yLabel)}</text>`,
  );
  spec.series.forEach((s, i) => {
    const color = PALETTE[i % PALETTE.length]!;
    const p = s.points.filter((q) => !spec.xLog || q[0] > 0);
    if (p.length === 0) return;
    const d: string[] = [];
    p.forEach(([x, y], k) => {
      if (k === 0) {
        if (s.step) d.push(`M${f(sx(x))},${f(sy(0))}`, `L${f(sx(x))},${f(sy(y))}`);
        else d.push(`M${f(sx(x))},${f(sy(y))}`);
      } else if (s.step) {
        d.push(`H${f(sx(x))}`, `V${f(sy(y))}`);
      } else {
        d.push(`L${f(sx(x))},${f(sy(y))}`);
      }
    });
    out.push(
      `<path class="series" d="${d.join('')}" fill="none" stroke="${color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="6 4"' : ''}><title>${escapeHtml(s.name)}</title></path>`,
    );
    if (s.markers) {
      for (const [x, y] of p) {
        out.push(
          `<circle cx="${f(sx(x))}" cy="${f(sy(y))}" r="3" fill="${color}"><title>${escapeHtml(`${s.name}: ${fmt(x)}, ${fmt(y)}`)}</title></circle>`,
        );
      }
    }
    const ly = M.top + 8 + i * 18;
    out.push(
      `<line x1="${M.left + pw + 12}" y1="${ly}" x2="${M.left + pw + 34}" y2="${ly}" stroke="${color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="6 4"' : ''}/>`,
    );
    out.push(`<text x="${M.left + pw + 40}" y="${ly + 4}" font-size="11">${escapeHtml(s.name)}</text>`);
  });
  const marks = spec.marks ?? [];
  marks.forEach((m, i) => {
    const x = sx(m.x);
    const y = sy(m.y);
    out.push(
      `<path class="mark" d="M${f(x)},${f(y - 6)}L${f(x + 6)},${f(y)}L${f(x)},${f(y + 6)}L${f(x - 6)},${f(y)}Z" fill="none" stroke="#000" stroke-width="1.5"><title>${escapeHtml(m.label)}</title></path>`,
    );
    const ly = M.top + 8 + (spec.series.length + i) * 18;
    out.push(
      `<path d="M${M.left + pw + 23},${ly - 5}L${M.left + pw + 28},${ly}L${M.left + pw + 23},${ly + 5}L${M.left + pw + 18},${ly}Z" fill="none" stroke="#000"/>`,
    );
    out.push(`<text x="${M.left + pw + 40}" y="${ly + 4}" font-size="11">${escapeHtml(m.label)}</text>`);
  });
  out.push('</svg>');
  return out.join('\n');
}

/** Empirical CDF points of a sample, as [value, fraction ≤ value]. */
export function sampleCdf(values: readonly number[]): [number, number][] {
  const s = [...values].sort((a, b) => a - b);
  return s.map((v, i) => [v, (i + 1) / s.length]);
}
