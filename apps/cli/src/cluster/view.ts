import type { ClusterSample, MemberSample } from './sample.js';

const COLUMNS = [
  'ID',
  'PID',
  'STATE',
  'ROLE',
  'TERM',
  'LEADER',
  'COMMIT',
  'APPLIED',
  'LAG',
  'OPS/S',
  'PORTS p/c/http',
];

function cells(m: MemberSample, withOps: boolean): string[] {
  const s = m.status;
  const dash = '-';
  return [
    m.id,
    m.pid === null || m.condition === 'stopped' ? dash : String(m.pid),
    m.condition === 'running' && s?.isolated === true ? 'isolated' : m.condition,
    s?.role ?? dash,
    s === null ? dash : String(s.term),
    s === null ? dash : (s.leader ?? 'none'),
    s === null ? dash : String(s.commitIndex),
    s === null ? dash : String(s.appliedIndex),
    m.lag === null ? dash : String(m.lag),
    withOps && m.opsPerSec !== null ? String(m.opsPerSec) : dash,
    `${m.record.ports.peer}/${m.record.ports.client}/${m.record.ports.http}`,
  ];
}

/**
 * The member table as aligned text lines; `withOps` adds ops/s (needs two samples), `withPorts`
 * the peer/client/HTTP ports (left out of the live view to fit 80 columns).
 */
export function renderTable(sample: ClusterSample, withOps = true, withPorts = true): string[] {
  const keep = (row: string[]): string[] => (withPorts ? row : row.slice(0, -1));
  const rows = [keep(COLUMNS), ...sample.members.map((m) => keep(cells(m, withOps)))];
  const widths = COLUMNS.map((_c, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) =>
    r
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd(),
  );
}

export function summaryLine(sample: ClusterSample): string {
  const up = sample.members.filter((m) => m.condition === 'running').length;
  const leader = sample.leader === null ? 'no leader' : `leader ${sample.leader} in term ${sample.term}`;
  return `${up}/${sample.members.length} members answering, ${leader}`;
}

/** The JSON shape of `status --json` (documented in the README). */
export function sampleJson(sample: ClusterSample): unknown {
  return {
    dir: sample.dir,
    leader: sample.leader,
    term: sample.term,
    members: sample.members.map((m) => ({
      id: m.id,
      pid: m.condition === 'stopped' ? null : m.pid,
      state: m.condition,
      isolated: m.status?.isolated === true,
      role: m.status?.role ?? null,
      term: m.status?.term ?? null,
      leader: m.status?.leader ?? null,
      commitIndex: m.status?.commitIndex ?? null,
      appliedIndex: m.status?.appliedIndex ?? null,
      lastIndex: m.status?.lastIndex ?? null,
      lag: m.lag,
      opsPerSec: m.opsPerSec,
      ports: m.record.ports,
      dataDir: m.record.dataDir,
      logFile: m.record.logFile,
    })),
  };
}

function key(m: MemberSample): string {
  const s = m.status;
  return `${m.condition} ${m.pid} ${s?.role ?? '-'} ${s?.term ?? '-'} ${s?.leader ?? '-'}`;
}

function describe(m: MemberSample): string {
  const s = m.status;
  if (s === null)
    return `${m.id} ${m.condition}${m.pid !== null && m.condition !== 'stopped' ? ` (pid ${m.pid})` : ''}`;
  return `${m.id} ${m.condition} pid ${m.pid}: ${s.role}, term ${s.term}, leader ${s.leader ?? 'none'}, applied ${s.appliedIndex}`;
}

/**
 * One line per member whose state, role, term or leader changed since `prev` (all members on the
 * first sample): the live view when stdout is not a terminal.
 */
export function changeLines(prev: ClusterSample | null, cur: ClusterSample): string[] {
  const before = new Map((prev?.members ?? []).map((m) => [m.id, key(m)]));
  const time = new Date(cur.at).toISOString().slice(11, 23);
  return cur.members.filter((m) => before.get(m.id) !== key(m)).map((m) => `${time} ${describe(m)}`);
}

export function viewHeader(dir: string, hint: (rest: string) => string): string[] {
  return [
    `keel cluster in ${dir}`,
    `in another terminal: ${hint('put a 1')} · ${hint('get a')}`,
    `                     ${hint('cluster status')} · kill n1 · restart n1 · logs n1 -f`,
  ];
}

/** Redraws a block of lines in place: cursor up over the previous frame, clear, print. */
export class LiveFrame {
  private lines = 0;
  constructor(
    private readonly write: (text: string) => void,
    /** Terminal width: longer lines are cut, since a wrapped line would break the redraw. */
    private readonly columns = 0,
  ) {}

  draw(lines: readonly string[]): void {
    const up = this.lines > 0 ? `\x1b[${this.lines}F` : '';
    const fit =
      this.columns > 1
        ? lines.map((l) => (l.length >= this.columns ? l.slice(0, this.columns - 1) : l))
        : lines;
    this.write(`${up}\x1b[J${fit.join('\n')}\n`);
    this.lines = lines.length;
  }

  hideCursor(): void {
    this.write('\x1b[?25l');
  }

  showCursor(): void {
    this.write('\x1b[?25h');
  }
}
