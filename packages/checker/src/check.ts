import { componentModel, components, initialState, readOnly } from './component.js';
import { CheckerError, CheckerErrorCode } from './errors.js';
import { type History, isTxn, keysOf, type Operation, type Value } from './history.js';
import type { KeyValues } from './model.js';
import { validateHistory } from './validate.js';
import {
  type Budget,
  registerModel,
  type SearchModel,
  type SearchOp,
  type SearchResult,
  search,
  type UnknownReason,
} from './wgl.js';

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

/**
 * What a searched object holds: one key's value, or, for keys grouped by transactions, each key's
 * value (every key of the group listed).
 */
export type State = Value | KeyValues;

/** One operation of a linearization, with the key's value (or the keys' values) after it took effect. */
export interface LinearizedOperation {
  readonly operation: Operation;
  readonly stateAfter: State;
}

/**
 * Why a key's history cannot be linearized, as the search saw it at its deepest dead end: after
 * `prefix` the key holds `state`; `unplaceable` must take effect before it returned, but no
 * operation that could still go before it — itself or one of `concurrent` — extends the prefix
 * into a linearization.
 */
export interface Violation {
  /** The key; for keys grouped by transactions, the first of `keys`. */
  readonly key: string;
  /** Only for keys grouped by transactions: every key of the group, sorted. */
  readonly keys?: readonly string[];
  /** The longest linearizable prefix found, in linearization order. */
  readonly prefix: readonly LinearizedOperation[];
  /** The key's value after `prefix` (each key's, for a group). */
  readonly state: State;
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
  /** The key; for keys grouped by transactions (see `keys`), the first of them. */
  readonly key: string;
  /**
   * Only when transactions tie several keys together: every key of the group, sorted. Such keys
   * are searched as one object (a transaction's writes and reads are atomic), so they share one
   * result.
   */
  readonly keys?: readonly string[];
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
  /** One per key (one per group of keys tied by transactions), sorted by key. */
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

  const groups = partition(history);
  // Small groups first: when the budget runs out, as many keys as possible are already decided.
  groups.sort((a, b) => a.ops.length - b.ops.length || cmp(a.keys[0]!, b.keys[0]!));

  const results: KeyResult[] = [];
  let steps = 0;
  let stop: UnknownReason | 'skipped' | undefined;
  for (const { keys, ops } of groups) {
    const key = keys[0]!;
    const base = { key, ...(keys.length > 1 ? { keys } : {}), operations: ops.length };
    if (stop !== undefined) {
      results.push({ ...base, verdict: 'unknown', steps: 0, reason: stop });
      continue;
    }
    const r = searchGroup(keys, ops, options.initial, budget);
    steps += r.steps;
    switch (r.kind) {
      case 'ok':
        results.push({ ...base, steps: r.steps, verdict: 'ok' });
        break;
      case 'unknown':
        results.push({ ...base, steps: r.steps, verdict: 'unknown', reason: r.reason });
        stop = r.reason;
        break;
      case 'violation':
        results.push({ ...base, steps: r.steps, verdict: 'violation', violation: r.violation });
        if (options.stopOnViolation === true) stop = 'skipped';
        break;
    }
  }

  const keys = results.sort((a, b) => cmp(a.key, b.key));
  const violations = keys.flatMap((k) => (k.verdict === 'violation' ? [k.violation] : []));
  const verdict: Verdict =
    violations.length > 0 ? 'violation' : keys.some((k) => k.verdict === 'unknown') ? 'unknown' : 'ok';
  return { verdict, keys, violations, steps };
}

interface Group {
  /** Sorted. */
  readonly keys: readonly string[];
  readonly ops: SearchOp[];
}

type GroupResult =
  | Exclude<SearchResult, { kind: 'violation' }>
  | { readonly kind: 'violation'; readonly steps: number; readonly violation: Violation };

/** A single key without transactions is searched as one register, as always; a group as one map. */
function searchGroup(
  keys: readonly string[],
  ops: readonly SearchOp[],
  initial: Readonly<Record<string, Value>> | undefined,
  budget: Budget,
): GroupResult {
  const group = keys.length > 1 || ops.some((o) => isTxn(o.op));
  const key = keys[0]!;
  const start = initial !== undefined && Object.hasOwn(initial, key) ? (initial[key] ?? null) : null;
  if (!group) return searchWith(keys, ops, start, budget, registerModel);
  return searchWith(keys, ops, initialState(keys, initial), budget, componentModel(keys));
}

function searchWith<S extends State>(
  keys: readonly string[],
  ops: readonly SearchOp[],
  initial: S,
  budget: Budget,
  model: SearchModel<S>,
): GroupResult {
  const r = search(ops, initial, budget, model);
  if (r.kind !== 'violation') return r;
  const prefix = r.prefix.map((i) => ops[i]!.op);
  const candidates = r.candidates.map((i) => ops[i]!.op);
  const violation = explain(keys, initial, model, prefix, ops[r.unplaceable]!.op, candidates);
  return { kind: 'violation', steps: r.steps, violation };
}

/**
 * The groups of keys and, per group, the operations the search must consider. A `fail` never took
 * effect, and a read that returned nothing constrains nothing, so both are dropped (their keys stay
 * listed, on their own). Anything else that did not return `ok` may take effect at any time after
 * its invocation: its interval is open to +∞.
 */
function partition(history: History): Group[] {
  const dropped = (o: Operation): boolean => {
    const status = o.outcome.status;
    if (status === 'fail') return true;
    if (status !== 'unknown') return false;
    if (isTxn(o)) return readOnly(o.op.success) && readOnly(o.op.failure);
    return o.op.kind === 'get';
  };
  const keyLists: (readonly string[])[] = [];
  for (const o of history) {
    const keys = keysOf(o);
    if (dropped(o)) for (const k of keys) keyLists.push([k]);
    else keyLists.push(keys);
  }
  const groups = new Map<string, Group>();
  for (const keys of components(keyLists)) {
    const group: Group = { keys, ops: [] };
    for (const k of keys) groups.set(k, group);
  }
  for (const o of history) {
    if (dropped(o)) continue;
    const group = groups.get(keysOf(o)[0]!)!;
    group.ops.push({ op: o, call: o.invoke, ret: o.outcome.status === 'ok' ? o.complete! : Infinity });
  }
  return [...new Set(groups.values())];
}

function explain<S extends State>(
  keys: readonly string[],
  initial: S,
  model: SearchModel<S>,
  prefixOps: readonly Operation[],
  unplaceable: Operation,
  candidates: readonly Operation[],
): Violation {
  let state = initial;
  const prefix = prefixOps.map((operation) => {
    state = model.step(state, operation)!;
    return { operation, stateAfter: state };
  });

  const concurrent = candidates.filter((o) => o !== unplaceable);
  // The window spans from the last write known to precede every candidate (where the reader can
  // see the state come from) to the moment the unplaceable operation returned.
  let from = unplaceable.invoke;
  for (const o of concurrent) from = Math.min(from, o.invoke);
  for (let i = prefix.length - 1; i >= 0; i--) {
    const operation = prefix[i]!.operation;
    if (writes(operation) && completion(operation) < from) {
      from = operation.invoke;
      break;
    }
  }
  const to = completion(unplaceable);
  const window = [...prefix.map((p) => p.operation), ...candidates]
    .filter((o) => o.invoke <= to && completion(o) >= from)
    .sort((a, b) => a.invoke - b.invoke || a.id - b.id);
  const key = keys[0]!;
  return { key, ...(keys.length > 1 ? { keys } : {}), prefix, state, unplaceable, concurrent, window };
}

/** Whether an operation may write (a get never does; a transaction, unless its branches only read). */
function writes(o: Operation): boolean {
  if (!isTxn(o)) return o.op.kind !== 'get';
  if (o.outcome.status === 'ok') return !readOnly(o.outcome.result.succeeded ? o.op.success : o.op.failure);
  return !(readOnly(o.op.success) && readOnly(o.op.failure));
}

/** When an operation's effect window closes: +∞ unless it returned ok. */
export function completion(o: Operation): number {
  return o.outcome.status === 'ok' && o.complete !== null ? o.complete : Infinity;
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
