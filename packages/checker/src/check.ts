import { CheckerError, CheckerErrorCode } from './errors.js';
import type { History, Operation, Value } from './history.js';
import { stepOperation } from './model.js';
import { validateHistory } from './validate.js';
import { type Budget, type SearchOp, search, type UnknownReason } from './wgl.js';

export type Verdict = 'ok' | 'violation' | 'unknown';

export interface CheckOptions {
  /** Each key's value before the history starts; keys not listed start absent (`null`). */
  readonly initial?: Readonly<Record<string, Value>>;
  /**
   * Search steps for the whole check, shared by its keys (smallest key first). When they run out,
   * the key being searched and every key after it get verdict `unknown`. Deterministic, unlike
   * `timeoutMs`, so the simulator should prefer it. Default 10,000,000 (a few seconds at most).
   */
  readonly maxSteps?: number;
  /** Wall-clock limit for the whole check, read from `clock`. Off unless given. */
  readonly timeoutMs?: number;
  /** Milliseconds; default `Date.now`. Only read when `timeoutMs` is set. */
  readonly clock?: () => number;
  /** Stop at the first key with a violation; the keys not yet searched get `unknown`. */
  readonly stopOnViolation?: boolean;
}

export const DEFAULT_MAX_STEPS = 10_000_000;

/** One operation of a linearization, with the key's value after it took effect. */
export interface LinearizedOperation {
  readonly operation: Operation;
  readonly stateAfter: Value;
}

/**
 * Why a key's history cannot be linearized, as the search saw it at its deepest dead end: after
 * `prefix` the key holds `state`; `unplaceable` must take effect before it returned, but no
 * operation that could still go before it — itself or one of `concurrent` — extends the prefix
 * into a linearization.
 */
export interface Violation {
  readonly key: string;
  /** The longest linearizable prefix found, in linearization order. */
  readonly prefix: readonly LinearizedOperation[];
  /** The key's value after `prefix`. */
  readonly state: Value;
  /** The first operation the search could not place: its return was reached with it unplaced. */
  readonly unplaceable: Operation;
  /** The other operations that were not in `prefix` and were invoked before `unplaceable` returned. */
  readonly concurrent: readonly Operation[];
  /**
   * The operations to show, ordered by invocation: those of `prefix`, `unplaceable` and
   * `concurrent` whose intervals meet the span from the last write known to precede all the
   * unplaced ones (where `state` came from) to the return of `unplaceable`.
   */
  readonly window: readonly Operation[];
}

interface KeyResultBase {
  readonly key: string;
  /** Operations searched: `fail` operations and gets without a result are left out. */
  readonly operations: number;
  readonly steps: number;
}
export type KeyResult =
  | (KeyResultBase & { readonly verdict: 'ok' })
  | (KeyResultBase & { readonly verdict: 'violation'; readonly violation: Violation })
  | (KeyResultBase & { readonly verdict: 'unknown'; readonly reason: UnknownReason | 'skipped' });

export interface CheckResult {
  /** `violation` if any key has one; else `unknown` if any key ran out of budget; else `ok`. */
  readonly verdict: Verdict;
  /** One per key, sorted by key. */
  readonly keys: readonly KeyResult[];
  /** The violating keys' reports, sorted by key; empty unless the verdict is `violation`. */
  readonly violations: readonly Violation[];
  readonly steps: number;
}

/**
 * Checks that a key-value history is linearizable. Linearizability is local (Herlihy & Wing's
 * P-compositionality), so each key is checked on its own, which keeps each search small.
 *
 * Throws `CheckerError` (`KEEL_INVALID_HISTORY`) for a malformed history; a history that is merely
 * not linearizable is a `violation` verdict, and one the budget could not decide is `unknown`.
 */
export function checkHistory(history: History, options: CheckOptions = {}): CheckResult {
  validateHistory(history);
  const maxSteps = options.maxSteps ?? DEFAULT_MAX_STEPS;
  if (!(maxSteps >= 0)) {
    throw new CheckerError(CheckerErrorCode.InvalidOptions, `maxSteps must be >= 0, got ${maxSteps}`);
  }
  const clock = options.clock ?? Date.now;
  const budget: Budget = {
    steps: maxSteps,
    deadline: options.timeoutMs === undefined ? undefined : clock() + options.timeoutMs,
    clock: options.timeoutMs === undefined ? undefined : clock,
  };

  const byKey = partition(history);
  // Small keys first: when the budget runs out, as many keys as possible are already decided.
  const order = [...byKey.keys()].sort((a, b) => byKey.get(a)!.length - byKey.get(b)!.length || cmp(a, b));

  const results = new Map<string, KeyResult>();
  let steps = 0;
  let stop: UnknownReason | 'skipped' | undefined;
  for (const key of order) {
    const ops = byKey.get(key)!;
    if (stop !== undefined) {
      results.set(key, { key, verdict: 'unknown', operations: ops.length, steps: 0, reason: stop });
      continue;
    }
    const initial = options.initial?.[key] ?? null;
    const r = search(ops, initial, budget);
    steps += r.steps;
    const base = { key, operations: ops.length, steps: r.steps };
    switch (r.kind) {
      case 'ok':
        results.set(key, { ...base, verdict: 'ok' });
        break;
      case 'unknown':
        results.set(key, { ...base, verdict: 'unknown', reason: r.reason });
        stop = r.reason;
        break;
      case 'violation': {
        const prefix = r.prefix.map((i) => ops[i]!.op);
        const candidates = r.candidates.map((i) => ops[i]!.op);
        const violation = explain(key, initial, prefix, ops[r.unplaceable]!.op, candidates);
        results.set(key, { ...base, verdict: 'violation', violation });
        if (options.stopOnViolation === true) stop = 'skipped';
        break;
      }
    }
  }

  const keys = [...results.values()].sort((a, b) => cmp(a.key, b.key));
  const violations = keys.flatMap((k) => (k.verdict === 'violation' ? [k.violation] : []));
  const verdict: Verdict =
    violations.length > 0 ? 'violation' : keys.some((k) => k.verdict === 'unknown') ? 'unknown' : 'ok';
  return { verdict, keys, violations, steps };
}

/**
 * Per key, the operations the search must consider. A `fail` never took effect, and a get that
 * returned nothing constrains nothing, so both are dropped. Anything else that did not return `ok`
 * may take effect at any time after its invocation: its interval is open to +∞.
 */
function partition(history: History): Map<string, SearchOp[]> {
  const byKey = new Map<string, SearchOp[]>();
  for (const op of history) {
    const status = op.outcome.status;
    let list = byKey.get(op.key);
    if (list === undefined) {
      list = [];
      byKey.set(op.key, list);
    }
    if (status === 'fail' || (status === 'unknown' && op.op.kind === 'get')) continue;
    const ret = status === 'ok' ? op.complete! : Infinity;
    list.push({ op, call: op.invoke, ret });
  }
  return byKey;
}

function explain(
  key: string,
  initial: Value,
  prefixOps: readonly Operation[],
  unplaceable: Operation,
  candidates: readonly Operation[],
): Violation {
  let state = initial;
  const prefix = prefixOps.map((operation) => {
    state = stepOperation(state, operation)!;
    return { operation, stateAfter: state };
  });

  const concurrent = candidates.filter((o) => o !== unplaceable);
  // The window spans from the last write known to precede every candidate (where the reader can
  // see the state come from) to the moment the unplaceable operation returned.
  let from = unplaceable.invoke;
  for (const o of concurrent) from = Math.min(from, o.invoke);
  for (let i = prefix.length - 1; i >= 0; i--) {
    const operation = prefix[i]!.operation;
    if (operation.op.kind !== 'get' && completion(operation) < from) {
      from = operation.invoke;
      break;
    }
  }
  const to = completion(unplaceable);
  const window = [...prefix.map((p) => p.operation), ...candidates]
    .filter((o) => o.invoke <= to && completion(o) >= from)
    .sort((a, b) => a.invoke - b.invoke || a.id - b.id);
  return { key, prefix, state, unplaceable, concurrent, window };
}

/** When an operation's effect window closes: +∞ unless it returned ok. */
export function completion(o: Operation): number {
  return o.outcome.status === 'ok' && o.complete !== null ? o.complete : Infinity;
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
