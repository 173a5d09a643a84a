import type { Operation } from '@keel/checker';
import { describe, expect, it } from 'vitest';
import { COUNTER_KEY, type Convergence, type FaultEvent, judge } from '../src/index.js';

// The verdict path of a run, fed hand-made histories: it must fail every way a store can break
// its promises, and pass the tricky histories a correct store produces under faults.

const converged: Convergence = { ok: true, members: [], detail: 'all at applied index 9' };
const serving = { ok: true, detail: 'a write was acknowledged' };

class H {
  readonly ops: Operation[] = [];
  readonly finals = new Map<string, Operation>();
  put(key: string, value: string, invoke: number, complete: number | null, status: 'ok' | 'unknown' = 'ok') {
    this.ops.push({
      id: this.ops.length + 1,
      process: 1,
      key,
      op: { kind: 'put', value },
      invoke,
      complete,
      outcome: status === 'ok' ? { status: 'ok' } : { status: 'unknown' },
    });
    return this;
  }
  get(key: string, result: string | null, invoke: number, complete: number, final = false) {
    const o: Operation = {
      id: this.ops.length + 1,
      process: final ? 'final' : 2,
      key,
      op: { kind: 'get' },
      invoke,
      complete,
      outcome: { status: 'ok', result },
    };
    this.ops.push(o);
    if (final) this.finals.set(key, o);
    return this;
  }
  incr(result: string | 'unknown', invoke: number, complete: number | null) {
    this.ops.push({
      id: this.ops.length + 1,
      process: 3,
      key: COUNTER_KEY,
      op: { kind: 'incr', delta: 1 },
      invoke,
      complete,
      outcome: result === 'unknown' ? { status: 'unknown' } : { status: 'ok', result },
    });
    return this;
  }
  /** A transaction writing `value` to every key of `keys` (no compare), acknowledged. */
  putAll(keys: readonly string[], value: string, invoke: number, complete: number) {
    this.ops.push({
      id: this.ops.length + 1,
      process: 4,
      op: {
        kind: 'txn',
        compare: [],
        success: keys.map((key) => ({ kind: 'put', key, value })),
        failure: [],
      },
      invoke,
      complete,
      outcome: { status: 'ok', result: { succeeded: true, gets: [] } },
    });
    return this;
  }
  judge(faults: FaultEvent[] = []) {
    return judge({
      history: this.ops,
      finalReads: this.finals,
      faults,
      convergence: converged,
      serving,
      checkBudgetMs: 10_000,
    });
  }
}

const partition: FaultEvent = {
  step: 3,
  kind: 'partition:isolate-leader',
  description: 'partition: isolate the leader',
  members: ['n1', 'n2', 'n3'],
  start: 15,
  end: 45,
  notes: [],
};

describe('the verdict of a run', () => {
  it('fails a stale read and names the faults active in its window', () => {
    const v = new H().put('r0', 'a', 0, 10).put('r0', 'b', 20, 30).get('r0', 'a', 40, 50).judge([partition]);
    expect(v.verdict).toBe('FAIL');
    expect(v.violations).toHaveLength(1);
    expect(v.violations[0]!.faults.map((f) => f.step)).toEqual([3]);
    expect(v.reasons[0]).toMatch(/1 key\(s\) not linearizable/);
  });

  it('fails a lost write: the final read after the heal shows the value it replaced', () => {
    const v = new H().put('r0', 'a', 0, 10).put('r0', 'b', 20, 30).get('r0', 'a', 1000, 1010, true).judge();
    expect(v.verdict).toBe('FAIL');
    expect(v.lostWrites.map((l) => l.operation.id)).toEqual([2]);
    expect(v.lostWrites[0]!.why).toMatch(/acknowledged before this write began/);
  });

  it("checks transactions across keys: a transaction's writes are seen together, and none is lost", () => {
    const ok = new H()
      .putAll(['r0', 'r1'], 't1', 0, 10)
      .get('r0', 't1', 1000, 1010, true)
      .get('r1', 't1', 1000, 1010, true)
      .get(COUNTER_KEY, null, 1000, 1010, true)
      .judge();
    expect(ok.reasons).toEqual([]);
    expect(ok.check.keys.map((k) => k.keys)).toEqual([undefined, ['r0', 'r1']]);
    // r1 kept an older value though the transaction that replaced it was acknowledged.
    const lost = new H()
      .put('r1', 'old', 0, 5)
      .putAll(['r0', 'r1'], 't1', 10, 20)
      .get('r0', 't1', 1000, 1010, true)
      .get('r1', 'old', 1000, 1010, true)
      .judge();
    expect(lost.verdict).toBe('FAIL');
    expect(lost.lostWrites.map((l) => [l.key, l.operation.id])).toEqual([['r1', 2]]);
    expect(lost.reasons[0]).toMatch(/1 key\(s\) not linearizable/);
  });

  it('fails a write lost entirely (the key is absent at the end)', () => {
    const v = new H().put('r1', 'x', 0, 10).get('r1', null, 100, 110, true).judge();
    expect(v.lostWrites).toHaveLength(1);
    expect(v.verdict).toBe('FAIL');
  });

  it('fails a duplicated increment: the counter exceeds acknowledged + indeterminate', () => {
    const h = new H().incr('1', 0, 10).incr('2', 20, 30).get(COUNTER_KEY, '3', 100, 110, true);
    const v = h.judge();
    expect(v.counter).toEqual({ acked: 2, indeterminate: 0, final: 3, ok: false });
    expect(v.verdict).toBe('FAIL');
  });

  it('fails a lost increment: the counter is below the acknowledged increments', () => {
    const v = new H().incr('1', 0, 10).incr('2', 20, 30).get(COUNTER_KEY, '1', 100, 110, true).judge();
    expect(v.counter.ok).toBe(false);
    expect(v.verdict).toBe('FAIL');
  });

  it('passes indeterminate writes that land late and increments that may or may not have counted', () => {
    const h = new H()
      .put('r0', 'a', 0, 10)
      .put('r0', 'b', 20, null, 'unknown')
      .get('r0', 'a', 30, 40)
      .get('r0', 'b', 200, 210, true)
      .incr('1', 0, 10)
      .incr('unknown', 20, null)
      .incr('unknown', 25, null)
      .incr('3', 50, 60)
      .get(COUNTER_KEY, '3', 100, 110, true);
    const v = h.judge();
    expect(v.reasons).toEqual([]);
    expect(v.counter).toEqual({ acked: 2, indeterminate: 2, final: 3, ok: true });
    expect(v.verdict).toBe('ok');
  });

  it('fails when members did not converge or the cluster takes no write, whatever the history', () => {
    const h = new H().put('r0', 'a', 0, 10).get('r0', 'a', 20, 30, true).get(COUNTER_KEY, null, 20, 30, true);
    const v = judge({
      history: h.ops,
      finalReads: h.finals,
      faults: [],
      convergence: { ok: false, members: [], detail: 'applied/hash differ: n1=5/aa n2=5/bb' },
      serving: { ok: false, detail: 'no write acknowledged within 30 s' },
      checkBudgetMs: 1000,
    });
    expect(v.verdict).toBe('FAIL');
    expect(v.reasons).toHaveLength(2);
  });

  it('fails when the checker cannot decide within its budget: unknown is not ok', () => {
    const h = new H();
    for (let i = 0; i < 40; i++) h.put('r0', `v${i}`, i, null, 'unknown');
    for (let i = 0; i < 40; i++) h.get('r0', `v${(i * 7) % 40}`, 100 + i * 2, 101 + i * 2);
    const v = judge({
      history: h.ops,
      finalReads: new Map(),
      faults: [],
      convergence: converged,
      serving,
      checkBudgetMs: 0,
    });
    expect(v.linearizability).not.toBe('ok');
    expect(v.verdict).toBe('FAIL');
  });
});
