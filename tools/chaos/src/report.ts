import { formatOperation, formatViolation } from '@keel/checker';
import type { LeaseCheck } from './leaseCheck.js';
import { type ChaosRun, DEFAULT_CHAOS } from './run.js';

export const REPORT_SCHEMA_VERSION = 1;

const sec = (ms: number): string => `${(ms / 1000).toFixed(3)} s`;

/** The command that reproduces a run's fault schedule. */
export function reproduceCommand(run: ChaosRun): string {
  const o = run.options;
  // The member flags `keel chaos` takes as its own, as it was given them.
  const member = ['--election-timeout', '--snapshot-entries', '--compact-keep'].flatMap((flag) => {
    const at = o.memberArgs.indexOf(flag);
    return at >= 0 ? [`${flag} ${o.memberArgs[at + 1]}`] : [];
  });
  return [
    'keel chaos',
    `--nodes ${o.nodes}`,
    `--duration ${Math.round(o.durationMs / 1000)}s`,
    `--faults ${o.faults.join(',')}`,
    `--seed ${o.seed}`,
    ...(o.netns ? ['--netns'] : []),
    ...(o.clients !== DEFAULT_CHAOS.clients ? [`--clients ${o.clients}`] : []),
    ...(o.keys !== DEFAULT_CHAOS.keys ? [`--keys ${o.keys}`] : []),
    ...(o.txnPercent !== DEFAULT_CHAOS.txnPercent ? [`--txns ${o.txnPercent}`] : []),
    ...(o.leaseClients !== DEFAULT_CHAOS.leaseClients ? [`--lease-clients ${o.leaseClients}`] : []),
    ...(o.lockClients !== DEFAULT_CHAOS.lockClients ? [`--lock-clients ${o.lockClients}`] : []),
    ...member,
  ].join(' ');
}

/** The one line every run ends with. */
export function verdictLine(run: ChaosRun): string {
  const v = run.verdict;
  return `chaos: ${v.ops.total} ops, ${v.violations.length} violations, ${v.lostWrites.length} lost writes, verdict ${v.verdict}`;
}

/** A readable report: the run, what broke and when, and every reason for a failed verdict. */
export function textReport(run: ChaosRun): string {
  const v = run.verdict;
  const lines: string[] = [];
  lines.push(`keel chaos — seed ${run.options.seed}`);
  lines.push(`  reproduce: ${reproduceCommand(run)}`);
  lines.push(
    `  operations: ${v.ops.total} (${v.ops.ok} ok, ${v.ops.fail} failed, ${v.ops.unknown} indeterminate) over ${sec(run.endMs)}`,
  );
  const errs = Object.entries(run.errors);
  if (errs.length > 0) lines.push(`  client errors: ${errs.map(([k, n]) => `${k} ${n}`).join(', ')}`);
  lines.push(`  faults: ${run.faults.length} injected (${summarizeFaults(run)})`);
  const counts = { ok: 0, violation: 0, unknown: 0 };
  for (const k of v.check.keys) counts[k.verdict]++;
  lines.push(
    `  linearizability: ${v.linearizability} (${keyCount(v.check.keys)}: ${counts.ok} ok, ${counts.violation} violation, ${counts.unknown} unknown; ${Math.round(v.checkMs)} ms)`,
  );
  for (const k of v.check.keys)
    if (k.verdict === 'unknown')
      lines.push(`    key ${(k.keys ?? [k.key]).join(',')}: unknown (${k.reason})`);
  lines.push(
    `  counter: ${v.counter.final ?? 'unread'} (acknowledged increments ${v.counter.acked}, indeterminate ${v.counter.indeterminate}) ${v.counter.ok ? 'ok' : 'WRONG'}`,
  );
  lines.push(`  lost writes: ${v.lostWrites.length}`);
  if (v.watch !== null) lines.push(`  watch: ${v.watch.ok ? 'ok' : 'WRONG'} — ${v.watch.detail}`);
  if (v.leases !== null) lines.push(`  leases: ${describeLeases(v.leases)}`);
  if (v.locks !== null) {
    const { check: k, stats: s } = v.locks;
    lines.push(
      `  lock: ${k.ok ? 'ok' : 'WRONG'} — ${k.writes} fenced writes by ${k.holders} holders, in token order; ${s.acquired} acquisitions, ${s.lost} lost mid-hold, ${s.fencedRefused} writes refused by their fence${k.ok ? '' : `; ${k.problems[0]}`}`,
    );
  }
  for (const l of v.lostWrites.slice(0, 20)) lines.push(`    ${formatOperation(l.operation)}: ${l.why}`);
  lines.push(`  convergence: ${v.convergence.ok ? 'ok' : 'FAILED'} — ${v.convergence.detail}`);
  lines.push(`  writes after heal: ${v.serving.ok ? 'ok' : 'FAILED'} — ${v.serving.detail}`);
  for (const r of v.violations) {
    lines.push('');
    lines.push(
      `violation on key "${(r.violation.keys ?? [r.violation.key]).join(',')}" between ${sec(r.from)} and ${sec(r.to)}:`,
    );
    lines.push(indent(formatViolation(r.violation, { maxWindow: 30 }), '  '));
    lines.push(
      r.faults.length === 0
        ? '  faults active then: none'
        : `  faults active then:\n${r.faults.map((f) => `    ${describeEvent(f)}`).join('\n')}`,
    );
  }
  if (v.reasons.length > 0) {
    lines.push('');
    lines.push('FAIL because:');
    for (const r of v.reasons) lines.push(`  - ${r}`);
    lines.push(`reproduce the fault schedule with: ${reproduceCommand(run)}`);
  }
  return `${lines.join('\n')}\n`;
}

function summarizeFaults(run: ChaosRun): string {
  const by = new Map<string, number>();
  for (const f of run.faults) by.set(f.kind, (by.get(f.kind) ?? 0) + 1);
  return [...by].map(([k, n]) => `${k} ${n}`).join(', ') || 'none';
}

export function describeEvent(f: {
  step: number;
  description: string;
  members: readonly string[];
  start: number;
  end: number | null;
  notes: readonly string[];
}): string {
  const span = `${sec(f.start)} – ${f.end === null ? 'end' : sec(f.end)}`;
  const notes = f.notes.length > 0 ? ` (${f.notes.join('; ')})` : '';
  return `#${f.step} ${span}: ${f.description} [${f.members.join(', ')}]${notes}`;
}

function indent(text: string, by: string): string {
  return text
    .split('\n')
    .map((l) => by + l)
    .join('\n');
}

/** The whole run as JSON: options, schedule, faults, verdict and the complete history. */
export function jsonReport(run: ChaosRun, command: readonly string[]): string {
  const v = run.verdict;
  return `${JSON.stringify(
    {
      tool: 'keel-chaos',
      schema_version: REPORT_SCHEMA_VERSION,
      command: command.join(' '),
      reproduce: reproduceCommand(run),
      seed: run.options.seed,
      options: run.options,
      verdict: v.verdict,
      reasons: v.reasons,
      ops: v.ops,
      violations: v.violations.map((r) => ({
        key: r.violation.key,
        from_ms: r.from,
        to_ms: r.to,
        unplaceable: r.violation.unplaceable.id,
        window: r.violation.window.map((o) => o.id),
        text: formatViolation(r.violation),
        faults: r.faults.map((f) => f.step),
      })),
      lost_writes: v.lostWrites.map((l) => ({ key: l.key, operation: l.operation.id, why: l.why })),
      counter: v.counter,
      linearizability: v.linearizability,
      keys: v.check.keys.map((k) => ({
        key: k.key,
        verdict: k.verdict,
        operations: k.operations,
        ...(k.verdict === 'unknown' ? { reason: k.reason } : {}),
      })),
      convergence: v.convergence,
      serving: v.serving,
      watch: v.watch,
      check_ms: Math.round(v.checkMs),
      client_errors: run.errors,
      schedule: run.schedule,
      faults: run.faults,
      history: run.history,
    },
    null,
    1,
  )}\n`;
}

/** `6 keys`, or `6 keys in 4 groups` when transactions tie some keys into one checked group. */
function keyCount(results: readonly { readonly keys?: readonly string[] }[]): string {
  const keys = results.reduce((n, k) => n + (k.keys?.length ?? 1), 0);
  return keys === results.length ? `${keys} keys` : `${keys} keys in ${results.length} groups`;
}

function describeLeases(l: LeaseCheck): string {
  const o = l.overrunMs;
  const overrun =
    o === null
      ? 'no key let go'
      : `key gone ${Math.round(o.p50)} ms (p50), ${Math.round(o.p99)} ms (p99), ${Math.round(o.max)} ms (max) past its deadline`;
  const head = `${l.ok ? 'ok' : 'WRONG'} — ${l.leases} leases, ${l.expired} let go (${l.judged} under a stable leader, bound ${l.boundMs} ms); ${overrun}`;
  return l.ok ? head : `${head}; ${l.problems[0]}`;
}
