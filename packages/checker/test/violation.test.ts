import { describe, expect, it } from 'vitest';
import { checkHistory, formatResult, formatViolation } from '../src/index.js';
import { HistoryBuilder } from './history.js';

// A stale read: after b is written and read, a reader sees a again.
const staleRead = () =>
  new HistoryBuilder()
    .put(1, 'x', 'a', 0, 10)
    .get(2, 'x', 'a', 12, 18)
    .put(1, 'x', 'b', 20, 30)
    .get(3, 'x', 'b', 25, 28)
    .cas(2, 'x', 'b', 'c', 'unknown', 32, null)
    .get(3, 'x', 'a', 40, 50)
    .put(4, 'x', 'd', 45, 60)
    .put(1, 'y', 'a', 0, 10);

describe('a violation report', () => {
  it('names the key, the longest linearization found and the operation that could not be placed', () => {
    const r = checkHistory(staleRead().ops);
    expect(r.verdict).toBe('violation');
    const v = r.violations[0]!;
    expect(v.key).toBe('x');
    expect(v.prefix.map((p) => [p.operation.id, p.stateAfter])).toEqual([
      [1, 'a'],
      [2, 'a'],
      [3, 'b'],
      [4, 'b'],
      [7, 'd'],
    ]);
    expect(v.state).toBe('d');
    expect(v.unplaceable.id).toBe(6);
    // The indeterminate cas is left out of the linearization.
    expect(v.concurrent.map((o) => o.id)).toEqual([5]);
    // From the last write that surely preceded the stale read to the read's return.
    expect(v.window.map((o) => o.id)).toEqual([3, 4, 5, 6, 7]);
  });

  it('lists the operations still competing for the same place as concurrent', () => {
    const h = new HistoryBuilder()
      .put(1, 'x', '0', 0, 5)
      .cas(2, 'x', '0', '1', true, 10, 20)
      .cas(3, 'x', '0', '2', true, 12, 22)
      .get(4, 'x', 'zzz', 11, 21);
    const v = checkHistory(h.ops).violations[0]!;
    expect(v.prefix.map((p) => p.operation.id)).toEqual([1, 2]);
    expect(v.unplaceable.id).toBe(4);
    expect(v.concurrent.map((o) => o.id)).toEqual([3]);
    expect(v.window.map((o) => o.id)).toEqual([1, 2, 4, 3]);
  });

  it('renders as text', () => {
    const r = checkHistory(staleRead().ops);
    expect(formatViolation(r.violations[0]!)).toBe(
      [
        'not linearizable: key "x"',
        '  the longest linearization found has 5 operation(s) and leaves "x" = "d";',
        '  then #6 p3 get -> "a" ok [40, 50] must take effect by t=50,',
        '  but neither it nor any other operation that may still go before it can extend that linearization.',
        '  operations from t=20 to t=50 (n: position in that linearization and the value after it;',
        '  *: not in it):',
        '    3  #3  p1  put "b"       ok       [20, 30]  "b"',
        '    4  #4  p3  get -> "b"    ok       [25, 28]  "b"',
        '    *  #5  p2  cas "b"->"c"  unknown  [32, ?)',
        '    *  #6  p3  get -> "a"    ok       [40, 50]',
        '    5  #7  p4  put "d"       ok       [45, 60]  "d"',
      ].join('\n'),
    );
    expect(formatResult(r).split('\n')[0]).toBe(
      `linearizability: violation (2 key(s): 1 ok, 1 violation, 0 unknown; ${r.steps} steps)`,
    );
  });

  it('cuts a long window', () => {
    const r = checkHistory(staleRead().ops);
    const text = formatViolation(r.violations[0]!, { maxWindow: 2 }).split('\n');
    expect(text.slice(-3)).toEqual([
      '    3  #3  p1  put "b"     ok  [20, 30]  "b"',
      '    4  #4  p3  get -> "b"  ok  [25, 28]  "b"',
      '    ... 3 more',
    ]);
  });
});
