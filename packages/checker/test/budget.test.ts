import { describe, expect, it } from 'vitest';
import { CheckerError, CheckerErrorCode, checkHistory, type Operation } from '../src/index.js';
import { HistoryBuilder } from './history.js';

/**
 * Hard for any linearizability search: `writers` fully concurrent puts of distinct values and as
 * many concurrent reads, one of a value nobody wrote, so every order must be refuted.
 */
function hard(writers: number, key = 'x'): HistoryBuilder {
  const h = new HistoryBuilder();
  for (let i = 0; i < writers; i++) h.put(i, key, `v${i}`, 0, 100);
  for (let i = 0; i < writers; i++) h.get(writers + i, key, i === 0 ? 'never' : `v${i}`, 0, 100);
  return h;
}

describe('the budget', () => {
  it('gives verdict unknown when the step budget runs out, and says so per key', () => {
    const h = new HistoryBuilder().put(1, 'a', '1', 0, 10).get(1, 'a', '1', 20, 30);
    for (const o of hard(12, 'b').ops) h.ops.push({ ...o, id: o.id + 100 });
    const r = checkHistory(h.ops, { maxSteps: 1000 });
    expect(r.verdict).toBe('unknown');
    expect(r.keys.map((k) => [k.key, k.verdict, k.verdict === 'unknown' ? k.reason : ''])).toEqual([
      ['a', 'ok', ''],
      ['b', 'unknown', 'step-budget'],
    ]);
    expect(r.steps).toBeLessThanOrEqual(1001);
  });

  it('decides the same history when the budget allows', () => {
    expect(checkHistory(hard(12).ops).verdict).toBe('violation');
  });

  it('gives verdict unknown when the deadline passes, reading the injected clock', () => {
    let now = 0;
    const r = checkHistory(hard(14).ops, { timeoutMs: 5, clock: () => now++ });
    expect(r.verdict).toBe('unknown');
    expect(r.keys[0]).toMatchObject({ verdict: 'unknown', reason: 'deadline' });
  });

  it('marks keys after the first violation as skipped when asked to stop there', () => {
    const h = new HistoryBuilder()
      .put(1, 'a', '1', 0, 10)
      .get(2, 'a', null, 20, 30)
      .put(1, 'b', '1', 0, 10)
      .get(2, 'b', '1', 20, 30)
      .get(3, 'b', '1', 40, 50);
    const r = checkHistory(h.ops, { stopOnViolation: true });
    expect(r.verdict).toBe('violation');
    expect(r.keys.map((k) => [k.key, k.verdict, k.verdict === 'unknown' ? k.reason : ''])).toEqual([
      ['a', 'violation', ''],
      ['b', 'unknown', 'skipped'],
    ]);
  });
});

describe('a malformed history', () => {
  const put = (over: Record<string, unknown>): Operation =>
    ({
      id: 1,
      process: 1,
      key: 'x',
      op: { kind: 'put', value: 'a' },
      invoke: 0,
      complete: 10,
      outcome: { status: 'ok' },
      ...over,
    }) as Operation;

  it.each([
    ['a duplicate id', [put({}), put({})], /duplicate id 1/],
    [
      'a completion before the invocation',
      [put({ invoke: 20 })],
      /completes \(10\) before it is invoked \(20\)/,
    ],
    ['an ok outcome without a completion', [put({ complete: null })], /ok outcome needs a completion time/],
    ['an unknown kind', [put({ op: { kind: 'append', value: 'a' } })], /op.kind must be/],
    [
      'a get without a result',
      [put({ op: { kind: 'get' }, outcome: { status: 'ok' } })],
      /get result must be a string or null/,
    ],
    [
      'a cas with a string result',
      [put({ op: { kind: 'cas', expected: null, value: 'a' }, outcome: { status: 'ok', result: 'yes' } })],
      /cas result must be a boolean/,
    ],
    ['a missing status', [put({ outcome: {} })], /outcome.status must be/],
  ])('is refused with a CheckerError: %s', (_name, history, message) => {
    let error: unknown;
    try {
      checkHistory(history);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(CheckerError);
    expect((error as CheckerError).code).toBe(CheckerErrorCode.InvalidHistory);
    expect((error as CheckerError).message).toMatch(message);
  });

  it('refuses a negative step budget', () => {
    expect(() => checkHistory([], { maxSteps: -1 })).toThrow(CheckerError);
  });
});
