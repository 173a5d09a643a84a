import { type CheckResult, checkHistory, isTxn, keysOf, type Operation, type Violation } from '@keel/checker';
import { type FaultEvent, faultsDuring } from './faults.js';
import type { LeaseCheck } from './leaseCheck.js';
import type { LockCheck } from './lockCheck.js';
import type { LockStats } from './lockWorkload.js';
import type { WatchCheck } from './watchCheck.js';
import { COUNTER_KEY } from './workload.js';

/** What the members said after the heal and the quiet period. */
export interface Convergence {
  readonly ok: boolean;
  readonly members: readonly {
    readonly id: string;
    readonly appliedIndex: number | null;
    readonly stateHash: string | null;
  }[];
  readonly detail: string;
}

export interface LostWrite {
  readonly key: string;
  readonly operation: Operation;
  /** The final read that does not reflect it. */
  readonly finalRead: Operation;
  readonly why: string;
}

export interface CounterCheck {
  readonly acked: number;
  readonly indeterminate: number;
  /** The counter's value in the final read (null: no final read, or absent). */
  readonly final: number | null;
  /** acked <= final <= acked + indeterminate */
  readonly ok: boolean;
}

export interface ViolationReport {
  readonly violation: Violation;
  /** The faults active during the violation's window (from the window's first invocation to its end). */
  readonly faults: readonly FaultEvent[];
  readonly from: number;
  readonly to: number;
}

export interface ChaosVerdict {
  readonly verdict: 'ok' | 'FAIL';
  /** Why the verdict failed, one line each (empty when ok). */
  readonly reasons: readonly string[];
  readonly ops: {
    readonly total: number;
    readonly ok: number;
    readonly fail: number;
    readonly unknown: number;
  };
  readonly linearizability: CheckResult['verdict'];
  readonly check: CheckResult;
  readonly violations: readonly ViolationReport[];
  readonly leases: LeaseCheck | null;
  readonly locks: { readonly check: LockCheck; readonly stats: LockStats } | null;
  readonly lostWrites: readonly LostWrite[];
  readonly counter: CounterCheck;
  readonly convergence: Convergence;
  readonly serving: { readonly ok: boolean; readonly detail: string };
  /** The watcher's stream against the committed history (null: no watcher ran). */
  readonly watch: WatchCheck | null;
  readonly checkMs: number;
}

export interface VerdictInput {
  readonly history: readonly Operation[];
  /** The final linearizable read of each key, taken after the heal (part of `history` too). */
  readonly finalReads: ReadonlyMap<string, Operation>;
  readonly faults: readonly FaultEvent[];
  readonly convergence: Convergence;
  readonly serving: { readonly ok: boolean; readonly detail: string };
  /** Members that exited on their own during the run (a fatal error, a WAL refused at startup). */
  /** The lease clients' check (leaseCheck.ts), when the run had lease clients. */
  readonly leases?: LeaseCheck;
  /** The lock clients' fenced writes (lockCheck.ts) and what they did, when the run had them. */
  readonly locks?: { readonly check: LockCheck; readonly stats: LockStats };
  readonly crashes?: readonly { readonly id: string; readonly code: number; readonly logTail: string }[];
  /** Wall-clock budget of the linearizability check; past it, undecided keys are `unknown`. */
  readonly checkBudgetMs: number;
  readonly watch?: WatchCheck;
}

/**
 * Judges a run. It fails on any of: a key whose history is not linearizable, a key the checker could
 * not decide within its budget (unknown is not ok), an acknowledged write missing from the final
 * state, a counter outside [acked, acked + indeterminate], members that did not converge, or a
 * cluster that did not take a write after the heal.
 */
export function judge(input: VerdictInput): ChaosVerdict {
  const t0 = performance.now();
  // The wall-clock budget decides; the step budget (deterministic, for the simulator) is lifted.
  const check = checkHistory(input.history, {
    maxSteps: Number.POSITIVE_INFINITY,
    timeoutMs: input.checkBudgetMs,
    clock: () => performance.now(),
  });
  const checkMs = performance.now() - t0;
  const ops = { total: input.history.length, ok: 0, fail: 0, unknown: 0 };
  for (const o of input.history) ops[o.outcome.status]++;

  const violations = check.violations.map((v): ViolationReport => {
    const from = v.window.length > 0 ? Math.min(...v.window.map((o) => o.invoke)) : v.unplaceable.invoke;
    const to = v.unplaceable.complete ?? from;
    return { violation: v, faults: faultsDuring(input.faults, from, to), from, to };
  });
  const lostWrites = findLostWrites(input.history, input.finalReads);
  const counter = checkCounter(input.history, input.finalReads.get(COUNTER_KEY));

  const reasons: string[] = [];
  if (violations.length > 0) reasons.push(`${violations.length} key(s) not linearizable`);
  const unknown = check.keys.filter((k) => k.verdict === 'unknown');
  if (unknown.length > 0) {
    reasons.push(
      `linearizability undecided on ${unknown.length} key(s) within ${input.checkBudgetMs} ms (unknown is not ok)`,
    );
  }
  if (lostWrites.length > 0) reasons.push(`${lostWrites.length} acknowledged write(s) lost`);
  if (!counter.ok) {
    reasons.push(
      `counter is ${counter.final ?? 'unread'}, outside [${counter.acked}, ${counter.acked + counter.indeterminate}] (acknowledged, + indeterminate increments)`,
    );
  }
  if (!input.convergence.ok) reasons.push(`members did not converge: ${input.convergence.detail}`);
  if (input.watch !== undefined && !input.watch.ok) reasons.push(`watch stream wrong: ${input.watch.detail}`);
  if (input.locks !== undefined && !input.locks.check.ok)
    reasons.push(`lock holders overlapped: ${input.locks.check.problems[0]}`);
  if (input.leases !== undefined && !input.leases.ok)
    reasons.push(`leases wrong: ${input.leases.problems[0]}`);
  if (!input.serving.ok) reasons.push(`cluster did not serve writes after the heal: ${input.serving.detail}`);
  for (const c of input.crashes ?? []) {
    reasons.push(
      `${c.id} exited on its own with code ${c.code}; its log ends: ${c.logTail.replace(/\n/g, ' | ')}`,
    );
  }
  return {
    verdict: reasons.length === 0 ? 'ok' : 'FAIL',
    reasons,
    ops,
    linearizability: check.verdict,
    check,
    violations,
    lostWrites,
    counter,
    convergence: input.convergence,
    serving: input.serving,
    watch: input.watch ?? null,
    leases: input.leases ?? null,
    locks: input.locks ?? null,
    checkMs,
  };
}

/**
 * The value an operation certainly wrote to `key`, if any: an acknowledged put, a successful cas, or
 * a put in the branch an acknowledged transaction ran.
 */
function written(o: Operation, key: string): string | undefined {
  if (o.outcome.status !== 'ok') return undefined;
  if (isTxn(o)) {
    const branch = o.outcome.result.succeeded ? o.op.success : o.op.failure;
    const last = branch.findLast((s) => s.key === key && s.kind !== 'get');
    return last?.kind === 'put' ? last.value : undefined;
  }
  if (o.key !== key) return undefined;
  if (o.op.kind === 'put') return o.op.value;
  if (o.op.kind === 'cas' && o.outcome.result === true) return o.op.value;
  return undefined;
}

/** Whether an operation may have written `value` to `key`, whatever its outcome. */
function mayHaveWritten(o: Operation, key: string, value: string): boolean {
  if (isTxn(o))
    return [...o.op.success, ...o.op.failure].some(
      (s) => s.kind === 'put' && s.key === key && s.value === value,
    );
  return o.key === key && 'value' in o.op && o.op.value === value;
}

/**
 * An acknowledged write is lost when the final read shows a value that was certainly replaced by it:
 * every value is written once, so the final value names its writer F, and an acknowledged write W
 * invoked after F was acknowledged must come after F in any linearization — yet F's value is what
 * remains. (A final read of a value nobody wrote, or of nothing, loses every acknowledged write.)
 */
export function findLostWrites(
  history: readonly Operation[],
  finalReads: ReadonlyMap<string, Operation>,
): LostWrite[] {
  const lost: LostWrite[] = [];
  for (const [key, finalRead] of finalReads) {
    if (key === COUNTER_KEY || finalRead.outcome.status !== 'ok') continue;
    const value = finalRead.outcome.result as string | null;
    const writes = history.filter((o) => o !== finalRead && keysOf(o).includes(key));
    const writer = value === null ? undefined : writes.find((o) => mayHaveWritten(o, key, value));
    for (const w of writes) {
      if (written(w, key) === undefined || w === writer || w.complete === null) continue;
      if (w.complete > finalRead.invoke) continue; // still concurrent with the final read
      let why: string | null = null;
      if (writer === undefined)
        why =
          value === null
            ? 'the key is absent at the end'
            : `the final value ${JSON.stringify(value)} was never written`;
      else if (writer.outcome.status === 'ok' && writer.complete !== null && writer.complete < w.invoke) {
        why = `the final value ${JSON.stringify(value)} was written by #${writer.id}, acknowledged before this write began`;
      }
      if (why !== null) lost.push({ key, operation: w, finalRead, why });
    }
  }
  return lost;
}

export function checkCounter(history: readonly Operation[], finalRead: Operation | undefined): CounterCheck {
  let acked = 0;
  let indeterminate = 0;
  for (const o of history) {
    if (isTxn(o) || o.key !== COUNTER_KEY || o.op.kind !== 'incr') continue;
    if (o.outcome.status === 'ok') acked++;
    else if (o.outcome.status === 'unknown') indeterminate++;
  }
  const raw = finalRead?.outcome.status === 'ok' ? (finalRead.outcome.result as string | null) : undefined;
  const final = raw === undefined ? null : raw === null ? 0 : Number(raw);
  const ok = final !== null && Number.isInteger(final) && final >= acked && final <= acked + indeterminate;
  return { acked, indeterminate, final, ok };
}
