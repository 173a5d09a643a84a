import type { Command, Operation, Outcome, Value } from './history.js';

/**
 * The sequential specification of one key: a register holding a string or nothing. `step` says
 * whether `op` may take effect on a key holding `state` and still produce what the client saw,
 * and if so what the key holds afterwards. It returns `undefined` when it may not.
 *
 * An `unknown` outcome matches any result: the client saw nothing. A `fail` outcome never reaches
 * the model (the checker drops those operations before searching).
 */
export function step(state: Value, op: Command, outcome: Outcome): Value | undefined {
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

/** The model step for a recorded operation. */
export function stepOperation(state: Value, o: Operation): Value | undefined {
  return step(state, o.op, o.outcome);
}

const INTEGER = /^-?(0|[1-9][0-9]*)$/;

function parseInteger(s: string): number | undefined {
  if (!INTEGER.test(s)) return undefined;
  const n = Number(s);
  return Number.isSafeInteger(n) ? n : undefined;
}
