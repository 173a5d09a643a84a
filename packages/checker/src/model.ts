import type { KeyCommand, Operation, Outcome, TxnCommand, TxnCompare, TxnResult, Value } from './history.js';

/**
 * The sequential specification of one key: a register holding a string or nothing. `step` says
 * whether `op` may take effect on a key holding `state` and still produce what the client saw,
 * and if so what the key holds afterwards. It returns `undefined` when it may not.
 *
 * An `unknown` outcome matches any result: the client saw nothing. A `fail` outcome never reaches
 * the model (the checker drops those operations before searching).
 */
export function step(state: Value, op: KeyCommand, outcome: Outcome): Value | undefined {
  const known = outcome.status === 'ok';
  switch (op.kind) {
    case 'put':
      return op.value;
    case 'delete':
      return null;
    case 'get':
      return !known || outcome.result === state ? state : undefined;
    case 'cas': {
      const swapped = state === op.expected;
      if (known && outcome.result !== swapped) return undefined;
      return swapped ? op.value : state;
    }
    case 'incr': {
      const current = state === null ? 0 : parseInteger(state);
      // Incrementing a non-integer is an error in the store: no effect, and no ok result.
      if (current === undefined) return known ? undefined : state;
      const next = String(current + (op.delta ?? 1));
      return !known || outcome.result === next ? next : undefined;
    }
  }
}

/** Several keys' values; a key not listed is absent. */
export type KeyValues = Readonly<Record<string, Value>>;

/**
 * A copy of `state` with no prototype: keys are the store's, any string at all, so `__proto__` or
 * `constructor` must be plain entries, never Object.prototype's.
 */
export function copyState(state: KeyValues): Record<string, Value> {
  return Object.assign(Object.create(null) as Record<string, Value>, state);
}

/**
 * The sequential specification of a transaction on the keys it names: `state` before, and after if
 * it may take effect with `outcome` (the branch that ran and the values read must match); else
 * `undefined`. The writes land together: no other operation can be placed between them.
 */
export function stepTxn(state: KeyValues, op: TxnCommand, outcome: Outcome): KeyValues | undefined {
  const read = (key: string): Value => state[key] ?? null;
  const succeeded = op.compare.every((c) => compareHolds(read(c.key), c));
  const seen = outcome.status === 'ok' ? (outcome.result as TxnResult) : undefined;
  if (seen !== undefined && seen.succeeded !== succeeded) return undefined;
  let next: Record<string, Value> | undefined;
  let g = 0;
  for (const s of succeeded ? op.success : op.failure) {
    switch (s.kind) {
      case 'put':
        next ??= copyState(state);
        next[s.key] = s.value;
        break;
      case 'delete':
        next ??= copyState(state);
        next[s.key] = null;
        break;
      case 'get': {
        const v = (next ?? state)[s.key] ?? null;
        if (seen !== undefined && seen.gets[g] !== v) return undefined;
        g++;
        break;
      }
    }
  }
  if (seen !== undefined && seen.gets.length !== g) return undefined;
  return next ?? state;
}

function compareHolds(v: Value, c: TxnCompare): boolean {
  if (c.target === 'exists') return (v !== null) === (c.op === '=' ? c.value : !c.value);
  // An absent key fails every value comparison, `!=` included (etcd's rule).
  if (v === null) return false;
  switch (c.op) {
    case '=':
      return v === c.value;
    case '!=':
      return v !== c.value;
    case '<':
      return v < c.value;
    case '>':
      return v > c.value;
  }
}

/** The model step for a recorded single-key operation. */
export function stepOperation(state: Value, o: Operation): Value | undefined {
  return o.op.kind === 'txn' ? undefined : step(state, o.op, o.outcome);
}

const INTEGER = /^-?(0|[1-9][0-9]*)$/;

function parseInteger(s: string): number | undefined {
  if (!INTEGER.test(s)) return undefined;
  const n = Number(s);
  return Number.isSafeInteger(n) ? n : undefined;
}
