import type { CheckResult, State, Violation } from './check.js';
import type { Operation, TxnCompare, TxnResult, TxnStep, Value } from './history.js';

/**
 * `put "a"`, `get -> "a"`, `cas "a"->"b" -> true`, `incr +1 -> "3"`, `delete`, and
 * `txn if x = "a", y exists then put x "b"; get y else get x -> then ["c"]`.
 */
export function formatCommand(o: Operation): string {
  const result = o.outcome.status === 'ok' ? o.outcome.result : undefined;
  switch (o.op.kind) {
    case 'txn': {
      const compare = o.op.compare.length === 0 ? '' : ` if ${o.op.compare.map(showCompare).join(', ')}`;
      const txn = `txn${compare} then ${showSteps(o.op.success)} else ${showSteps(o.op.failure)}`;
      if (result === undefined) return txn;
      const r = result as TxnResult;
      return `${txn} -> ${r.succeeded ? 'then' : 'else'} [${r.gets.map(show).join(', ')}]`;
    }
    case 'put':
      return `put ${show(o.op.value)}`;
    case 'delete':
      return 'delete';
    case 'get':
      return result === undefined ? 'get' : `get -> ${show(result as Value)}`;
    case 'cas': {
      const cas = `cas ${show(o.op.expected)}->${show(o.op.value)}`;
      return result === undefined ? cas : `${cas} -> ${String(result)}`;
    }
    case 'incr': {
      const delta = o.op.delta ?? 1;
      const incr = `incr ${delta >= 0 ? '+' : ''}${delta}`;
      return result === undefined ? incr : `${incr} -> ${show(result as Value)}`;
    }
  }
}

/** `#17 p2 get -> "v1" ok [10, 14]`; an indeterminate operation's interval is `[10, ?)`. */
export function formatOperation(o: Operation): string {
  return `#${o.id} p${o.process} ${formatCommand(o)} ${o.outcome.status} ${interval(o)}`;
}

export interface FormatOptions {
  /** How many operations of the window to print at most; default 40. */
  readonly maxWindow?: number;
}

/**
 * A violation as text for a test failure or a chaos report:
 *
 * ```
 * not linearizable: key "x"
 *   the longest linearization found has 5 operation(s) and leaves "x" = "d";
 *   then #6 p3 get -> "a" ok [40, 50] must take effect by t=50,
 *   but neither it nor any other operation that may still go before it can extend that linearization.
 *   operations from t=20 to t=50 (n: position in that linearization and the value after it;
 *   *: not in it):
 *     3  #3  p1  put "b"       ok       [20, 30]  "b"
 *     4  #4  p3  get -> "b"    ok       [25, 28]  "b"
 *     *  #5  p2  cas "b"->"c"  unknown  [32, ?)
 *     *  #6  p3  get -> "a"    ok       [40, 50]
 *     5  #7  p4  put "d"       ok       [45, 60]  "d"
 * ```
 */
export function formatViolation(v: Violation, options: FormatOptions = {}): string {
  const maxWindow = options.maxWindow ?? 40;
  const position = new Map<Operation, number>();
  for (const [i, p] of v.prefix.entries()) position.set(p.operation, i + 1);
  const blocked = new Set<Operation>([v.unplaceable, ...v.concurrent]);

  const from = v.window.length > 0 ? v.window[0]!.invoke : v.unplaceable.invoke;
  const what = v.keys === undefined ? `key ${show(v.key)}` : `keys ${v.keys.map(show).join(', ')}`;
  const leaves = v.keys === undefined ? `${show(v.key)} = ${showState(v.state)}` : showState(v.state);
  const lines = [
    `not linearizable: ${what}`,
    `  the longest linearization found has ${v.prefix.length} operation(s) and leaves ${leaves};`,
    `  then ${formatOperation(v.unplaceable)} must take effect by t=${v.unplaceable.complete},`,
    `  but neither it nor any other operation that may still go before it can extend that linearization.`,
    `  operations from t=${from} to t=${v.unplaceable.complete} (n: position in that linearization and the value after it;`,
    `  *: not in it):`,
  ];
  const rows = v.window.slice(0, maxWindow).map((o) => {
    const n = position.get(o);
    const mark = blocked.has(o) ? '*' : String(n ?? '');
    const after = n === undefined ? '' : showState(v.prefix[n - 1]!.stateAfter);
    return [mark, `#${o.id}`, `p${o.process}`, formatCommand(o), o.outcome.status, interval(o), after];
  });
  const widths = rows.reduce((w, r) => w.map((x, c) => Math.max(x, r[c]!.length)), [0, 0, 0, 0, 0, 0, 0]);
  for (const r of rows) {
    const cells = r.map((cell, c) => (c === 0 ? cell.padStart(widths[c]!) : cell.padEnd(widths[c]!)));
    lines.push(`    ${cells.join('  ').trimEnd()}`);
  }
  if (v.window.length > maxWindow) lines.push(`    ... ${v.window.length - maxWindow} more`);
  return lines.join('\n');
}

/** A one-paragraph summary of a whole check, with every violation formatted. */
export function formatResult(r: CheckResult, options: FormatOptions = {}): string {
  const counts = { ok: 0, violation: 0, unknown: 0 };
  for (const k of r.keys) counts[k.verdict]++;
  // Keys tied by transactions share one result: count both when there are such groups.
  const keyCount = r.keys.reduce((n, k) => n + (k.keys?.length ?? 1), 0);
  const what =
    keyCount === r.keys.length ? `${keyCount} key(s)` : `${keyCount} key(s) in ${r.keys.length} group(s)`;
  const head = `linearizability: ${r.verdict} (${what}: ${counts.ok} ok, ${counts.violation} violation, ${counts.unknown} unknown; ${r.steps} steps)`;
  const unknown = r.keys.flatMap((k) =>
    k.verdict === 'unknown'
      ? [
          `  ${k.keys === undefined ? `key ${show(k.key)}` : `keys ${k.keys.map(show).join(', ')}`}: unknown (${k.reason})`,
        ]
      : [],
  );
  return [head, ...unknown, ...r.violations.map((v) => formatViolation(v, options))].join('\n');
}

function interval(o: Operation): string {
  if (o.outcome.status === 'ok') return `[${o.invoke}, ${o.complete}]`;
  return `[${o.invoke}, ?)`;
}

function show(v: Value): string {
  return v === null ? 'absent' : JSON.stringify(v);
}

/** One key's value as `"a"`; a group's as `x = "a", y = absent`. */
function showState(s: State): string {
  if (s === null || typeof s === 'string') return show(s);
  return Object.entries(s)
    .map(([k, v]) => `${k} = ${show(v)}`)
    .join(', ');
}

function showCompare(c: TxnCompare): string {
  if (c.target === 'exists') return `${c.key} ${(c.op === '=') === c.value ? 'exists' : 'absent'}`;
  return `${c.key} ${c.op} ${show(c.value)}`;
}

function showSteps(steps: readonly TxnStep[]): string {
  if (steps.length === 0) return 'nothing';
  return steps
    .map((s) => (s.kind === 'put' ? `put ${s.key} ${show(s.value)}` : `${s.kind} ${s.key}`))
    .join('; ');
}
