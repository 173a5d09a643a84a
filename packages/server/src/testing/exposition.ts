/**
 * A strict checker of the Prometheus text exposition format (version 0.0.4), for tests that scrape
 * a member (`@keel/server/testing`): prom-client writes the format but has no parser, and promtool
 * is a Go binary we do not ship. It parses every line and reports, for the whole text:
 * - format: HELP then TYPE before a family's samples, each at most once; a family's samples
 *   together; valid metric and label names (no reserved `__` labels); quoted, escaped label
 *   values; no label twice; numeric values; no series twice;
 * - types: a histogram's samples are `_bucket` (with `le`), `_sum` and `_count`, per label set the
 *   buckets ascend, are cumulative, end at `+Inf`, and `+Inf` equals `_count`; a counter is never
 *   negative;
 * - naming, for families with the `conventionsPrefix` (ours; Node's default metrics predate the
 *   conventions, e.g. the gauge `nodejs_active_handles_total`): a counter ends in `_total` and
 *   nothing else does; a histogram names its unit (`_seconds`, `_bytes`); units are base units
 *   (no `_ms`, `_kb`, `_minutes`, ...); an `_info` gauge is 1.
 * Returns the problems found, each with its line number; none means the text passed.
 */
export function checkExposition(text: string, conventionsPrefix = 'keel_'): string[] {
  const problems: string[] = [];
  const families = new Map<string, Family>();
  const seen = new Set<string>();
  let current: Family | null = null;
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  else problems.push('the text does not end with a newline');

  /** What is wrong with one line, or null. */
  const checkLine = (line: string): string | null => {
    if (line.startsWith('#')) {
      const m = /^# (HELP|TYPE) ([^ ]+)(?: (.*))?$/.exec(line);
      if (m === null) return 'a comment other than HELP or TYPE';
      const [, kind, name, rest = ''] = m as unknown as [string, 'HELP' | 'TYPE', string, string];
      if (!METRIC_NAME.test(name)) return 'invalid metric name';
      let f = families.get(name);
      if (f === undefined) {
        if (current !== null) current.closed = true;
        f = { name, help: null, type: null, closed: false, samples: 0, histograms: new Map() };
        families.set(name, f);
        current = f;
      } else if (f.closed || f.samples > 0) {
        return `${kind} after the samples of ${name}`;
      }
      if (kind === 'HELP') {
        if (f.help !== null) return 'a second HELP';
        if (f.type !== null) return 'HELP after TYPE';
        f.help = rest;
      } else {
        if (f.type !== null) return 'a second TYPE';
        if (!TYPES.has(rest)) return `unknown type ${rest}`;
        f.type = rest as MetricType;
      }
      return null;
    }
    const sample = parseSample(line);
    if (typeof sample === 'string') return sample;
    const f = familyOf(sample.name, families);
    if (f === null || f.type === null) return 'a sample without a TYPE for its family';
    if (f.help === null) return `no HELP for ${f.name}`;
    if (f !== current) {
      if (f.closed || f.samples > 0) return `the samples of ${f.name} are not together`;
      if (current !== null) current.closed = true;
      current = f;
    }
    f.samples++;
    const labels = [...sample.labels].sort().map(([k, v]) => `${k}=${JSON.stringify(v)}`);
    const key = `${sample.name}{${labels.join(',')}}`;
    if (seen.has(key)) return 'the same series twice';
    seen.add(key);
    const suffix = sample.name.slice(f.name.length);
    if (f.type === 'histogram') {
      if (!['_bucket', '_sum', '_count'].includes(suffix))
        return 'a histogram sample that is no _bucket, _sum or _count';
      return histogramSampleProblem(f, suffix, sample);
    }
    if (f.type === 'summary') {
      if (!['', '_sum', '_count'].includes(suffix))
        return 'a summary sample that is no quantile, _sum or _count';
      if (suffix === '' && !sample.labels.has('quantile')) return 'a summary quantile without quantile label';
    } else if (suffix !== '') {
      return `a ${f.type} sample named other than its family ${f.name}`;
    }
    if (f.type === 'counter' && !(sample.value >= 0)) return 'a negative counter';
    const ours = f.name.startsWith(conventionsPrefix);
    if (ours && f.type === 'gauge' && f.name.endsWith('_info') && sample.value !== 1)
      return 'an _info gauge that is not 1';
    return null;
  };

  for (const [i, line] of lines.entries()) {
    // Empty lines are allowed (and ignored) by the format; prom-client puts one between families.
    if (line === '') continue;
    const why = checkLine(line);
    if (why !== null) problems.push(`line ${i + 1}: ${why}: ${line}`);
  }

  for (const f of families.values()) {
    if (f.type === 'histogram') {
      for (const [labels, h] of f.histograms) {
        const where = `${f.name}{${labels}}`;
        if (h.inf === null) problems.push(`${where}: no le="+Inf" bucket`);
        if (h.count === null) problems.push(`${where}: no _count`);
        if (h.sum === null) problems.push(`${where}: no _sum`);
        if (h.inf !== null && h.count !== null && h.inf !== h.count) {
          problems.push(`${where}: the +Inf bucket (${h.inf}) is not _count (${h.count})`);
        }
      }
    }
    if (!f.name.startsWith(conventionsPrefix)) continue;
    problems.push(...namingProblems(f.name, f.type));
  }
  return problems;
}

/** The naming conventions for one family of ours (https://prometheus.io/docs/practices/naming/). */
export function namingProblems(name: string, type: MetricType | null): string[] {
  const out: string[] = [];
  if (type === 'counter' && !name.endsWith('_total')) out.push(`${name}: a counter's name ends in _total`);
  if (type !== 'counter' && name.endsWith('_total'))
    out.push(`${name}: only a counter's name ends in _total`);
  if ((type === 'histogram' || type === 'summary') && !/_(seconds|bytes)$/.test(name)) {
    out.push(`${name}: a ${type} names its unit (_seconds or _bytes)`);
  }
  for (const part of name.split('_')) {
    if (NON_BASE_UNITS.has(part)) out.push(`${name}: '${part}' is not a base unit (seconds, bytes)`);
  }
  return out;
}

type MetricType = 'counter' | 'gauge' | 'histogram' | 'summary' | 'untyped';
const TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped']);
const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const NON_BASE_UNITS = new Set([
  'ms',
  'millis',
  'milliseconds',
  'us',
  'micros',
  'microseconds',
  'ns',
  'nanoseconds',
  'minutes',
  'hours',
  'days',
  'kb',
  'mb',
  'gb',
  'kilobytes',
  'megabytes',
  'gigabytes',
  'kib',
  'mib',
  'percent',
]);

interface Family {
  readonly name: string;
  help: string | null;
  type: MetricType | null;
  /** Another family's lines came after this one's. */
  closed: boolean;
  samples: number;
  /** Per label set (without `le`): what its samples said. */
  readonly histograms: Map<
    string,
    { les: number[]; counts: number[]; inf: number | null; sum: number | null; count: number | null }
  >;
}

interface Sample {
  readonly name: string;
  readonly labels: Map<string, string>;
  readonly value: number;
}

/** The family a sample belongs to: its own name, or its name without a histogram/summary suffix. */
function familyOf(name: string, families: Map<string, Family>): Family | null {
  const own = families.get(name);
  if (own !== undefined) return own;
  const m = /^(.*)(_bucket|_sum|_count)$/.exec(name);
  return m === null ? null : (families.get(m[1]!) ?? null);
}

function histogramSampleProblem(f: Family, suffix: string, s: Sample): string | null {
  const rest = [...s.labels].filter(([k]) => k !== 'le');
  const key = rest.map(([k, v]) => `${k}="${v}"`).join(',');
  let h = f.histograms.get(key);
  if (h === undefined) {
    h = { les: [], counts: [], inf: null, sum: null, count: null };
    f.histograms.set(key, h);
  }
  if (suffix === '_sum') h.sum = s.value;
  else if (suffix === '_count') h.count = s.value;
  else {
    const le = s.labels.get('le');
    if (le === undefined) return 'a bucket without le';
    const bound = parseValue(le);
    if (bound === null) return 'an le that is no number';
    if (h.inf !== null) return 'a bucket after +Inf';
    if (h.les.length > 0 && bound <= h.les.at(-1)!) return 'buckets not in ascending order of le';
    if (h.counts.length > 0 && s.value < h.counts.at(-1)!) return 'bucket counts that are not cumulative';
    h.les.push(bound);
    h.counts.push(s.value);
    if (bound === Number.POSITIVE_INFINITY) h.inf = s.value;
  }
  return null;
}

/** `name{label="value",...} value [timestamp]`, or what is wrong with it. */
function parseSample(line: string): Sample | string {
  const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})? ([^ ]+)(?: (-?\d+))?$/.exec(line);
  if (m === null) return 'not a sample line (name{labels} value [timestamp])';
  const labels = new Map<string, string>();
  if (m[2] !== undefined) {
    const parsed = parseLabels(m[2].slice(1, -1), labels);
    if (parsed !== null) return parsed;
  }
  const value = parseValue(m[3]!);
  if (value === null) return `a value that is no number: ${m[3]}`;
  return { name: m[1]!, labels, value };
}

function parseLabels(body: string, into: Map<string, string>): string | null {
  let i = 0;
  while (i < body.length) {
    const name = /^[^=]*/.exec(body.slice(i))![0];
    if (!LABEL_NAME.test(name)) return `invalid label name '${name}'`;
    if (name.startsWith('__')) return `reserved label name '${name}'`;
    if (into.has(name)) return `label '${name}' twice`;
    i += name.length;
    if (body[i] !== '=' || body[i + 1] !== '"') return `label '${name}' without a quoted value`;
    i += 2;
    let value = '';
    for (;;) {
      const c = body[i];
      if (c === undefined) return `label '${name}': unterminated value`;
      i++;
      if (c === '"') break;
      if (c === '\n') return `label '${name}': a raw newline`;
      if (c === '\\') {
        const e = body[i++];
        if (e === 'n') value += '\n';
        else if (e === '\\' || e === '"') value += e;
        else return `label '${name}': invalid escape \\${e ?? ''}`;
      } else value += c;
    }
    into.set(name, value);
    if (i === body.length) break;
    if (body[i] !== ',') return `label '${name}': expected ',' after its value`;
    i++;
  }
  return null;
}

/**
 * A sample value or `le` as Prometheus reads it (Go's strconv.ParseFloat): a decimal float, or
 * NaN / Inf / Infinity with an optional sign, in any case (prom-client writes NaN as `Nan`).
 */
function parseValue(v: string): number | null {
  const special = /^([-+]?)(inf|infinity|nan)$/i.exec(v);
  if (special !== null) {
    if (special[2]!.toLowerCase() === 'nan') return Number.NaN;
    return special[1] === '-' ? Number.NEGATIVE_INFINITY : Number.POSITIVE_INFINITY;
  }
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(v)) return null;
  return Number(v);
}
