import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type KeyCommand as Command,
  checkHistory,
  type KeyOperation as Operation,
  type Outcome,
  step,
  type Value,
} from '../src/index.js';
import { concurrentClients } from './generate.js';

const KEYS = ['x', 'y', 'z'] as const;
// incr needs integer values: keep the sequential model on integers by starting every key at '0'.
const initial = { x: '0', y: '0', z: '0' };
const VALUES = ['0', '1', '2', '3'] as const;

const commandArb: fc.Arbitrary<Command> = fc.oneof(
  { weight: 3, arbitrary: fc.constant<Command>({ kind: 'get' }) },
  { weight: 3, arbitrary: fc.constantFrom(...VALUES).map<Command>((value) => ({ kind: 'put', value })) },
  {
    weight: 2,
    arbitrary: fc
      .record({ expected: fc.constantFrom(null, ...VALUES), value: fc.constantFrom(...VALUES) })
      .map<Command>(({ expected, value }) => ({ kind: 'cas', expected, value })),
  },
  { weight: 1, arbitrary: fc.constant<Command>({ kind: 'delete' }) },
  {
    weight: 1,
    arbitrary: fc.integer({ min: -1, max: 2 }).map<Command>((delta) => ({ kind: 'incr', delta })),
  },
);

/**
 * One operation of a sequential execution. `fate` says what the client saw: `ok`, a timeout after
 * it took effect (`late`) or with no answer at all (`lost`); `phantom` and `failed` operations did
 * not take effect (reported unknown and fail).
 */
const stepArb = fc.record({
  key: fc.constantFrom(...KEYS),
  command: commandArb,
  process: fc.nat(7),
  lead: fc.nat(30),
  lag: fc.nat(30),
  fate: fc.constantFrom('ok', 'ok', 'ok', 'ok', 'ok', 'late', 'lost', 'phantom', 'failed'),
});

type Step = typeof stepArb extends fc.Arbitrary<infer T> ? T : never;

/**
 * Runs the steps against the model one after the other (operation i takes effect at 10·i + 5)
 * and records each with an interval around that instant.
 */
function sequentialHistory(steps: readonly Step[]): Operation[] {
  const state = new Map<string, Value>(Object.entries(initial));
  return steps.map((s, i) => {
    const point = 10 * i + 5;
    const invoke = point - s.lead;
    const complete = point + s.lag;
    const before = state.get(s.key) ?? null;
    const tookEffect = s.fate === 'ok' || s.fate === 'late' || s.fate === 'lost';
    const after = step(before, s.command, { status: 'unknown' })!;
    if (tookEffect) state.set(s.key, after);
    const result =
      s.command.kind === 'get'
        ? before
        : s.command.kind === 'cas'
          ? before === s.command.expected
          : s.command.kind === 'incr'
            ? after
            : undefined;
    const outcome: Outcome =
      s.fate === 'ok'
        ? result === undefined
          ? { status: 'ok' }
          : ({ status: 'ok', result } as Outcome)
        : s.fate === 'failed'
          ? { status: 'fail' }
          : { status: 'unknown' };
    const completeAt = s.fate === 'lost' || (s.fate === 'phantom' && s.lag % 2 === 0) ? null : complete;
    return {
      id: i,
      process: s.process,
      key: s.key,
      op: s.command,
      invoke,
      complete: completeAt,
      outcome,
    } as Operation;
  });
}

/** Every order of the operations that respects real time, tried one by one; tiny histories only. */
function bruteForce(history: readonly Operation[], start: Readonly<Record<string, Value>>): boolean {
  const ops = history.filter(
    (o) => o.outcome.status !== 'fail' && !(o.op.kind === 'get' && o.outcome.status !== 'ok'),
  );
  const end = ops.map((o) => (o.outcome.status === 'ok' ? o.complete! : Infinity));
  const placed = ops.map(() => false);
  const state = new Map<string, Value>(Object.entries(start));
  const search = (remainingRequired: number): boolean => {
    if (remainingRequired === 0) return true;
    for (let i = 0; i < ops.length; i++) {
      if (placed[i]) continue;
      // i may go next only if no unplaced operation returned before i was invoked.
      if (ops.some((_, j) => !placed[j] && end[j]! < ops[i]!.invoke)) continue;
      const o = ops[i]!;
      const before = state.get(o.key) ?? null;
      const after = step(before, o.op, o.outcome);
      if (after === undefined) continue;
      placed[i] = true;
      state.set(o.key, after);
      if (search(remainingRequired - (end[i] === Infinity ? 0 : 1))) return true;
      state.set(o.key, before);
      placed[i] = false;
    }
    return false;
  };
  return search(end.filter((e) => e !== Infinity).length);
}

describe('properties', () => {
  it('accepts every history recorded around a sequential execution, in any input order', () => {
    fc.assert(
      fc.property(fc.array(stepArb, { minLength: 1, maxLength: 80 }), fc.nat(), (steps, seed) => {
        const history = sequentialHistory(steps);
        expect(checkHistory(history, { initial }).verdict).toBe('ok');
        const shuffled = [...history].sort(
          (a, b) => ((a.id * 7919 + seed) % 101) - ((b.id * 7919 + seed) % 101),
        );
        expect(checkHistory(shuffled, { initial }).verdict).toBe('ok');
      }),
      { numRuns: 400 },
    );
  });

  it('rejects it once one read returns a value never written, and reports that key', () => {
    fc.assert(
      fc.property(fc.array(stepArb, { minLength: 1, maxLength: 80 }), fc.nat(), (steps, pick) => {
        const history = sequentialHistory(steps);
        const reads = history.filter((o) => o.op.kind === 'get' && o.outcome.status === 'ok');
        fc.pre(reads.length > 0);
        const victim = reads[pick % reads.length]!;
        const mutated = history.map((o) =>
          o === victim ? ({ ...o, outcome: { status: 'ok', result: 'never-written' } } as Operation) : o,
        );
        const r = checkHistory(mutated, { initial });
        expect(r.verdict).toBe('violation');
        expect(r.violations.map((v) => v.key)).toEqual([victim.key]);
        const v = r.violations[0]!;
        // The reported prefix is itself a valid sequential run that respects real time.
        let state: Value = initial[victim.key as keyof typeof initial];
        for (const [n, p] of v.prefix.entries()) {
          state = step(state, p.operation.op as Command, p.operation.outcome)!;
          expect(p.stateAfter).toBe(state);
          for (const later of v.prefix.slice(n + 1)) {
            // Real time binds only operations that returned: one that timed out may have taken
            // effect at any moment after its invocation, its "completion" included.
            if (later.operation.outcome.status !== 'ok') continue;
            expect(later.operation.complete === null || later.operation.complete >= p.operation.invoke).toBe(
              true,
            );
          }
        }
        expect(v.state).toBe(state);
        expect(v.window).toContain(v.unplaceable);
      }),
      { numRuns: Number(process.env.KEEL_CHECKER_RUNS ?? 400) },
    );
  });

  it('agrees with a brute-force search on small arbitrary histories', () => {
    const operationArb = fc.record({
      key: fc.constantFrom('x', 'y'),
      command: commandArb,
      invoke: fc.nat(20),
      duration: fc.nat(15),
      status: fc.constantFrom('ok', 'ok', 'ok', 'unknown', 'fail'),
      noAnswer: fc.boolean(),
      read: fc.constantFrom(null, ...VALUES, '4'),
      swapped: fc.boolean(),
    });
    let violations = 0;
    fc.assert(
      fc.property(fc.array(operationArb, { minLength: 1, maxLength: 7 }), (drafts) => {
        const history = drafts.map((d, id): Operation => {
          const complete = d.status === 'unknown' && d.noAnswer ? null : d.invoke + d.duration;
          const outcome: Outcome =
            d.status !== 'ok'
              ? { status: d.status }
              : d.command.kind === 'get'
                ? { status: 'ok', result: d.read }
                : d.command.kind === 'cas'
                  ? { status: 'ok', result: d.swapped }
                  : d.command.kind === 'incr'
                    ? { status: 'ok', result: d.read ?? '0' }
                    : { status: 'ok' };
          return {
            id,
            process: id,
            key: d.key,
            op: d.command,
            invoke: d.invoke,
            complete,
            outcome,
          } as Operation;
        });
        const expected = bruteForce(history, { x: '0', y: '0' }) ? 'ok' : 'violation';
        if (expected === 'violation') violations++;
        expect(checkHistory(history, { initial: { x: '0', y: '0' } }).verdict).toBe(expected);
      }),
      { numRuns: 3000 },
    );
    // Both verdicts were exercised, not just one.
    expect(violations).toBeGreaterThan(300);
    expect(violations).toBeLessThan(2700);
  });

  it('accepts histories of concurrent clients with timeouts, and rejects one bad read among them', () => {
    for (let seed = 1; seed <= 20; seed++) {
      for (const uniqueValues of [true, false]) {
        const history = concurrentClients({ seed, operations: 300, clients: 8, keys: 3, uniqueValues });
        expect(checkHistory(history).verdict).toBe('ok');
        const reads = history.filter((o) => o.op.kind === 'get' && o.outcome.status === 'ok');
        const victim = reads[seed % reads.length]!;
        const mutated = history.map((o) =>
          o === victim ? ({ ...o, outcome: { status: 'ok', result: 'never-written' } } as Operation) : o,
        );
        expect(checkHistory(mutated).verdict).toBe('violation');
      }
    }
  });

  it('accepts a 2,000-operation history of 8 clients over 5 keys', () => {
    const history = concurrentClients({ seed: 7, operations: 2000, clients: 8, keys: 5, uniqueValues: true });
    expect(checkHistory(history).verdict).toBe('ok');
  });
});
