import { describe, expect, it } from 'vitest';
import {
  CheckerErrorCode,
  checkHistory,
  formatOperation,
  formatResult,
  type Operation,
  type TxnCommand,
  type TxnOperation,
  type Value,
} from '../src/index.js';
import { HistoryBuilder } from './history.js';

type Seen = { succeeded: boolean; gets: Value[] } | 'fail' | 'unknown';

/** Appends a transaction to a builder's history. */
function txn(
  h: HistoryBuilder,
  process: number,
  op: Omit<TxnCommand, 'kind'>,
  seen: Seen,
  invoke: number,
  complete: number | null,
): HistoryBuilder {
  const outcome =
    seen === 'fail' || seen === 'unknown' ? { status: seen } : { status: 'ok' as const, result: seen };
  const o: TxnOperation = {
    id: 1000 + h.ops.length,
    process,
    op: { kind: 'txn', ...op },
    invoke,
    complete,
    outcome,
  };
  h.ops.push(o);
  return h;
}

const putBoth = (v: string): Omit<TxnCommand, 'kind'> => ({
  compare: [],
  success: [
    { kind: 'put', key: 'x', value: v },
    { kind: 'put', key: 'y', value: v },
  ],
  failure: [],
});
const readBoth: Omit<TxnCommand, 'kind'> = {
  compare: [],
  success: [
    { kind: 'get', key: 'x' },
    { kind: 'get', key: 'y' },
  ],
  failure: [],
};

const readBoth2 = (a: string, b: string): Omit<TxnCommand, 'kind'> => ({
  compare: [],
  success: [
    { kind: 'get', key: a },
    { kind: 'get', key: b },
  ],
  failure: [],
});

describe('transactions: keys they name are checked together', () => {
  it('keys named like Object.prototype members are plain keys (absent until written)', () => {
    const keys = ['constructor', '__proto__'];
    const write: Omit<TxnCommand, 'kind'> = {
      compare: [],
      success: keys.map((key) => ({ kind: 'put' as const, key, value: 'v' })),
      failure: [],
    };
    const h = txn(
      new HistoryBuilder(),
      1,
      readBoth2(keys[0]!, keys[1]!),
      { succeeded: true, gets: [null, null] },
      0,
      1,
    );
    txn(h, 1, write, { succeeded: true, gets: [] }, 2, 3);
    txn(h, 1, readBoth2(keys[0]!, keys[1]!), { succeeded: true, gets: ['v', 'v'] }, 4, 5);
    expect(checkHistory(h.ops).verdict).toBe('ok');
    // And the check is not vacuous: reading them back absent after the write is a violation.
    txn(h, 1, readBoth2(keys[0]!, keys[1]!), { succeeded: true, gets: [null, null] }, 6, 7);
    expect(checkHistory(h.ops).verdict).toBe('violation');
  });

  it("a transaction that reads half of another one's writes is a violation", () => {
    const h = txn(new HistoryBuilder(), 1, putBoth('1'), { succeeded: true, gets: [] }, 0, 10);
    txn(h, 2, readBoth, { succeeded: true, gets: ['1', null] }, 2, 8);
    const r = checkHistory(h.ops);
    expect(r.verdict).toBe('violation');
    expect(r.keys.map((k) => [k.key, k.keys, k.verdict])).toEqual([['x', ['x', 'y'], 'violation']]);
  });

  it('a concurrent read that sees all or none of the writes is fine', () => {
    for (const gets of [
      ['1', '1'],
      [null, null],
    ]) {
      const h = txn(new HistoryBuilder(), 1, putBoth('1'), { succeeded: true, gets: [] }, 0, 10);
      txn(h, 2, readBoth, { succeeded: true, gets }, 2, 8);
      expect(checkHistory(h.ops).verdict).toBe('ok');
    }
  });

  it('single-key reads that see the writes land one at a time are a violation (per key they are fine)', () => {
    // x = 1 is seen by t=5, so the transaction took effect by then; y read after it must see 1 too.
    const h = txn(new HistoryBuilder(), 1, putBoth('1'), { succeeded: true, gets: [] }, 0, 10);
    h.get(2, 'x', '1', 2, 5).get(2, 'y', null, 6, 9);
    expect(checkHistory(h.ops).verdict).toBe('violation');
    // The same reads with the writes as two separate puts are linearizable.
    const apart = new HistoryBuilder().put(1, 'x', '1', 0, 10).put(3, 'y', '1', 0, 10);
    apart.get(2, 'x', '1', 2, 5).get(2, 'y', null, 6, 9);
    expect(checkHistory(apart.ops).verdict).toBe('ok');
  });

  it('two transactions cannot both win the same compare', () => {
    const create = (v: string): Omit<TxnCommand, 'kind'> => ({
      compare: [{ key: 'lock', target: 'exists', op: '=', value: false }],
      success: [
        { kind: 'put', key: 'lock', value: v },
        { kind: 'put', key: 'owner', value: v },
      ],
      failure: [{ kind: 'get', key: 'owner' }],
    });
    const h = txn(new HistoryBuilder(), 1, create('a'), { succeeded: true, gets: [] }, 0, 10);
    txn(h, 2, create('b'), { succeeded: true, gets: [] }, 0, 10);
    expect(checkHistory(h.ops).verdict).toBe('violation');
    const fair = txn(new HistoryBuilder(), 1, create('a'), { succeeded: true, gets: [] }, 0, 10);
    txn(fair, 2, create('b'), { succeeded: false, gets: ['a'] }, 0, 10);
    expect(checkHistory(fair.ops).verdict).toBe('ok');
    const wrongOwner = txn(new HistoryBuilder(), 1, create('a'), { succeeded: true, gets: [] }, 0, 10);
    txn(wrongOwner, 2, create('b'), { succeeded: false, gets: ['b'] }, 0, 10);
    expect(checkHistory(wrongOwner.ops).verdict).toBe('violation');
  });

  it('value compares follow the store: an absent key fails every one, != included', () => {
    const ne = {
      compare: [{ key: 'x', target: 'value', op: '!=', value: 'a' }],
      success: [],
      failure: [],
    } as const;
    const absent = txn(new HistoryBuilder(), 1, ne, { succeeded: true, gets: [] }, 0, 10);
    expect(checkHistory(absent.ops).verdict).toBe('violation');
    const present = txn(
      new HistoryBuilder().put(1, 'x', 'b', 0, 1),
      1,
      ne,
      { succeeded: true, gets: [] },
      2,
      10,
    );
    expect(checkHistory(present.ops).verdict).toBe('ok');
  });

  it('a get in a branch sees the writes before it', () => {
    const op: Omit<TxnCommand, 'kind'> = {
      compare: [],
      success: [
        { kind: 'get', key: 'x' },
        { kind: 'put', key: 'x', value: '2' },
        { kind: 'get', key: 'x' },
      ],
      failure: [],
    };
    const ok = txn(new HistoryBuilder(), 1, op, { succeeded: true, gets: [null, '2'] }, 0, 10);
    expect(checkHistory(ok.ops).verdict).toBe('ok');
    const bad = txn(new HistoryBuilder(), 1, op, { succeeded: true, gets: [null, null] }, 0, 10);
    expect(checkHistory(bad.ops).verdict).toBe('violation');
  });

  it('an indeterminate transaction may take effect late or never, but not before it was invoked', () => {
    const late = txn(new HistoryBuilder(), 1, putBoth('1'), 'unknown', 0, null);
    txn(late, 2, readBoth, { succeeded: true, gets: [null, null] }, 5, 8);
    txn(late, 2, readBoth, { succeeded: true, gets: ['1', '1'] }, 20, 30);
    expect(checkHistory(late.ops).verdict).toBe('ok');
    const early = txn(new HistoryBuilder(), 2, readBoth, { succeeded: true, gets: ['1', '1'] }, 0, 8);
    txn(early, 1, putBoth('1'), 'unknown', 10, null);
    expect(checkHistory(early.ops).verdict).toBe('violation');
    const failed = txn(new HistoryBuilder(), 1, putBoth('1'), 'fail', 0, 5);
    txn(failed, 2, readBoth, { succeeded: true, gets: ['1', '1'] }, 10, 20);
    expect(checkHistory(failed.ops).verdict).toBe('violation');
  });

  it('two indeterminate writes of the same value to different keys are not interchangeable', () => {
    // The search uses the earliest of identical pending operations first; on one key that loses
    // nothing, in a group it must not take a put on z for the same put on y.
    const h = new HistoryBuilder().put(1, 'z', 'c', 0, null, 'unknown').put(2, 'y', 'c', 1, null, 'unknown');
    txn(h, 3, readBoth2('y', 'z'), { succeeded: true, gets: ['c', null] }, 10, 20);
    expect(checkHistory(h.ops).verdict).toBe('ok');
  });

  it('keys no transaction ties stay apart; the budget and unknown verdicts apply per group', () => {
    const h = txn(new HistoryBuilder(), 1, putBoth('1'), { succeeded: true, gets: [] }, 0, 10);
    h.put(3, 'z', 'a', 0, 10).get(3, 'z', 'a', 20, 30);
    // A hard group: many concurrent transactions writing x and y, reads that refute every order.
    for (let i = 0; i < 12; i++) txn(h, 10 + i, putBoth(`v${i}`), { succeeded: true, gets: [] }, 100, 200);
    for (let i = 0; i < 12; i++) {
      txn(
        h,
        30 + i,
        readBoth,
        { succeeded: true, gets: i === 0 ? ['v1', 'v2'] : [`v${i}`, `v${i}`] },
        100,
        200,
      );
    }
    const r = checkHistory(h.ops, { maxSteps: 2000 });
    expect(r.verdict).toBe('unknown');
    expect(r.keys.map((k) => [k.key, k.keys, k.verdict])).toEqual([
      ['x', ['x', 'y'], 'unknown'],
      ['z', undefined, 'ok'],
    ]);
    expect(formatResult(r)).toContain('keys "x", "y": unknown (step-budget)');
    expect(checkHistory(h.ops).verdict).toBe('violation');
  });

  it("formats transactions and a group's violation", () => {
    const h = txn(
      new HistoryBuilder(),
      1,
      {
        compare: [
          { key: 'x', target: 'value', op: '=', value: 'a' },
          { key: 'y', target: 'exists', op: '=', value: true },
        ],
        success: [
          { kind: 'put', key: 'x', value: 'b' },
          { kind: 'get', key: 'y' },
        ],
        failure: [{ kind: 'delete', key: 'y' }],
      },
      { succeeded: true, gets: ['c'] },
      0,
      10,
    );
    expect(formatOperation(h.ops[0]!)).toBe(
      '#1000 p1 txn if x = "a", y exists then put x "b"; get y else delete y -> then ["c"] ok [0, 10]',
    );
    const half = txn(new HistoryBuilder(), 1, putBoth('1'), { succeeded: true, gets: [] }, 0, 10);
    txn(half, 2, readBoth, { succeeded: true, gets: ['1', null] }, 20, 30);
    const text = formatResult(checkHistory(half.ops)).split('\n');
    expect(text[0]).toMatch(
      /^linearizability: violation \(2 key\(s\) in 1 group\(s\): 0 ok, 1 violation, 0 unknown; \d+ steps\)$/,
    );
    expect(text[1]).toBe('not linearizable: keys "x", "y"');
    expect(text[2]).toBe('  the longest linearization found has 1 operation(s) and leaves x = "1", y = "1";');
  });

  it('rejects a malformed transaction', () => {
    const bad = {
      id: 1,
      process: 1,
      op: {
        kind: 'txn',
        compare: [{ key: 'x', target: 'version', op: '=', value: 1 }],
        success: [],
        failure: [],
      },
      invoke: 0,
      complete: 1,
      outcome: { status: 'ok', result: { succeeded: true, gets: [] } },
    };
    expect(() => checkHistory([bad as unknown as Operation])).toThrow(
      expect.objectContaining({ code: CheckerErrorCode.InvalidHistory }),
    );
  });
});
