import { describe, expect, it } from 'vitest';
import {
  checkHistory,
  isTxn,
  type KeyValues,
  type Operation,
  type Outcome,
  step,
  stepTxn,
  type TxnCommand,
  type TxnStep,
} from '../src/index.js';
import { rng } from './generate.js';

const KEYS = ['x', 'y', 'z'] as const;

/** A random single-key command or transaction over three keys and three values. */
function randomOperation(random: () => number, id: number): Operation {
  const key = KEYS[Math.floor(random() * KEYS.length)]!;
  const value = ['a', 'b', 'c'][Math.floor(random() * 3)]!;
  const base = { id, process: id, invoke: 0, complete: 0, outcome: { status: 'unknown' } } as const;
  const r = random();
  if (r < 0.2) return { ...base, key, op: { kind: 'get' } };
  if (r < 0.35) return { ...base, key, op: { kind: 'put', value } };
  if (r < 0.4) return { ...base, key, op: { kind: 'delete' } };
  if (r < 0.5)
    return {
      ...base,
      key,
      op: { kind: 'cas', expected: random() < 0.3 ? null : value, value: `${value}${id}` },
    };
  const stepOf = (): TxnStep => {
    const k = KEYS[Math.floor(random() * KEYS.length)]!;
    const s = random();
    return s < 0.45
      ? { kind: 'get', key: k }
      : s < 0.9
        ? { kind: 'put', key: k, value: `${value}${id}` }
        : { kind: 'delete', key: k };
  };
  const steps = (): TxnStep[] => Array.from({ length: 1 + Math.floor(random() * 3) }, stepOf);
  const op: TxnCommand = {
    kind: 'txn',
    compare:
      random() < 0.3
        ? []
        : random() < 0.5
          ? [{ key, target: 'exists', op: random() < 0.5 ? '=' : '!=', value: random() < 0.5 }]
          : [{ key, target: 'value', op: random() < 0.7 ? '=' : '!=', value }],
    success: steps(),
    failure: steps(),
  };
  return { ...base, op };
}

/** Runs `o` on `state` and records the outcome a client would have seen. */
function run(state: KeyValues, o: Operation): { after: KeyValues; outcome: Outcome } {
  if (isTxn(o)) {
    // Replay the branch to learn the result: the model accepts any result for an unknown outcome.
    const after = stepTxn(state, o.op, { status: 'unknown' })!;
    // The compares restated independently of the model (an absent key fails every value compare).
    const succeeded = o.op.compare.every((c) => {
      const v = state[c.key] ?? null;
      if (c.target === 'exists') return (v !== null) === (c.op === '=' ? c.value : !c.value);
      return v !== null && (c.op === '=' ? v === c.value : v !== c.value);
    });
    const gets: (string | null)[] = [];
    const local: Record<string, string | null> = { ...state };
    for (const s of succeeded ? o.op.success : o.op.failure) {
      if (s.kind === 'get') gets.push(local[s.key] ?? null);
      else local[s.key] = s.kind === 'put' ? s.value : null;
    }
    return { after, outcome: { status: 'ok', result: { succeeded, gets } } };
  }
  const before = state[o.key] ?? null;
  const after = step(before, o.op, { status: 'unknown' })!;
  const outcome: Outcome =
    o.op.kind === 'get'
      ? { status: 'ok', result: before }
      : o.op.kind === 'cas'
        ? { status: 'ok', result: before === o.op.expected }
        : { status: 'ok' };
  return { after: { ...state, [o.key]: after }, outcome };
}

/** Every order that respects real time, by brute force: the reference the search must agree with. */
function bruteForce(history: readonly Operation[]): boolean {
  const ops = history.filter((o) => o.outcome.status !== 'fail');
  const end = ops.map((o) => (o.outcome.status === 'ok' ? o.complete! : Infinity));
  const placed = ops.map(() => false);
  const go = (state: KeyValues, left: number): boolean => {
    if (left === 0) return true;
    for (let i = 0; i < ops.length; i++) {
      if (placed[i]) continue;
      if (ops.some((_, j) => !placed[j] && end[j]! < ops[i]!.invoke)) continue;
      const o = ops[i]!;
      let after: KeyValues | undefined;
      if (isTxn(o)) after = stepTxn(state, o.op, o.outcome);
      else {
        const v = step(state[o.key] ?? null, o.op, o.outcome);
        after = v === undefined ? undefined : { ...state, [o.key]: v };
      }
      if (after === undefined) continue;
      placed[i] = true;
      if (go(after, left - (end[i] === Infinity ? 0 : 1))) return true;
      placed[i] = false;
    }
    return false;
  };
  return go({}, end.filter((e) => e !== Infinity).length);
}

/** A history of `n` operations from one sequential run, with intervals and some results perturbed. */
function randomHistory(seed: number, n: number): Operation[] {
  const random = rng(seed);
  let state: KeyValues = {};
  const out: Operation[] = [];
  for (let i = 0; i < n; i++) {
    const o = randomOperation(random, i + 1);
    const point = 10 * i + 5;
    const invoke = point - Math.floor(random() * 25);
    const complete = point + Math.floor(random() * 25);
    const { after, outcome } = run(state, o);
    const fate = random();
    if (fate < 0.2) {
      // Timed out; took effect or not.
      if (random() < 0.5) state = after;
      out.push({ ...o, invoke, complete: null, outcome: { status: 'unknown' } } as Operation);
      continue;
    }
    state = after;
    let seen = outcome;
    if (fate > 0.85 && seen.status === 'ok') {
      // A wrong answer, which may or may not be explainable by another order.
      const r = seen.result;
      if (typeof r === 'object' && r !== null && 'gets' in r) {
        seen =
          random() < 0.5 && r.gets.length > 0
            ? {
                status: 'ok',
                result: { ...r, gets: r.gets.map((g, j) => (j === 0 ? (g === null ? 'a' : null) : g)) },
              }
            : { status: 'ok', result: { ...r, succeeded: !r.succeeded } };
      } else if (o.op.kind === 'get') seen = { status: 'ok', result: random() < 0.5 ? null : 'b' };
      else if (o.op.kind === 'cas') seen = { status: 'ok', result: r !== true };
    }
    out.push({ ...o, invoke, complete, outcome: seen } as Operation);
  }
  return out;
}

describe('multi-key search agrees with brute force', () => {
  it('on 600 random histories of 7 operations over 3 keys: transactions, gets, puts, deletes, swaps', () => {
    let violations = 0;
    for (let seed = 1; seed <= 600; seed++) {
      const h = randomHistory(seed, 7);
      const expected = bruteForce(h) ? 'ok' : 'violation';
      const r = checkHistory(h);
      if (r.verdict !== expected)
        throw new Error(
          `seed ${seed}: search says ${r.verdict}, brute force ${expected}\n${JSON.stringify(h)}`,
        );
      if (expected === 'violation') violations++;
    }
    // Both verdicts are exercised.
    expect(violations).toBeGreaterThan(50);
    expect(violations).toBeLessThan(550);
  });
});
