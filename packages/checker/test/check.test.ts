import { describe, expect, it } from 'vitest';
import { checkHistory, type Operation } from '../src/index.js';
import { HistoryBuilder } from './history.js';

const verdict = (h: HistoryBuilder | readonly Operation[], initial?: Record<string, string | null>) =>
  checkHistory(h instanceof HistoryBuilder ? h.ops : h, initial === undefined ? {} : { initial }).verdict;

describe('rejects histories that are not linearizable', () => {
  it('a read after an acknowledged write returns the value from before it (stale read)', () => {
    const h = new HistoryBuilder().put(1, 'x', 'a', 0, 10).get(2, 'x', null, 20, 30);
    expect(verdict(h)).toBe('violation');
  });

  it('a later acknowledged write is lost: a read returns the older value', () => {
    const h = new HistoryBuilder().put(1, 'x', 'a', 0, 10).put(2, 'x', 'b', 20, 30).get(3, 'x', 'a', 40, 50);
    expect(verdict(h)).toBe('violation');
  });

  it('two compare-and-swaps succeed on the same expected value', () => {
    const h = new HistoryBuilder()
      .put(1, 'x', '0', 0, 5)
      .cas(2, 'x', '0', '1', true, 10, 20)
      .cas(3, 'x', '0', '2', true, 12, 22);
    expect(verdict(h)).toBe('violation');
  });

  it('two creates (cas from absent) both succeed', () => {
    const h = new HistoryBuilder().cas(1, 'x', null, 'a', true, 0, 10).cas(2, 'x', null, 'b', true, 0, 10);
    expect(verdict(h)).toBe('violation');
  });

  it('a read returns a value that was never written', () => {
    const h = new HistoryBuilder().put(1, 'x', 'a', 0, 10).get(2, 'x', 'zzz', 5, 15);
    expect(verdict(h)).toBe('violation');
  });

  it('an increment takes effect twice (a retried command applied again)', () => {
    const h = new HistoryBuilder().incr(1, 'n', 1, '1', 0, 10).get(2, 'n', '2', 20, 30);
    expect(verdict(h)).toBe('violation');
  });

  it('an overwritten value reappears (a write replayed after a later one)', () => {
    const h = new HistoryBuilder()
      .put(1, 'x', 'a', 0, 10)
      .put(1, 'x', 'b', 20, 30)
      .get(2, 'x', 'b', 40, 50)
      .get(2, 'x', 'a', 60, 70);
    expect(verdict(h)).toBe('violation');
  });

  it('the effect of a write that definitely failed is observed', () => {
    const h = new HistoryBuilder().put(1, 'x', 'a', 0, 10, 'fail').get(2, 'x', 'a', 20, 30);
    expect(verdict(h)).toBe('violation');
  });

  it('an indeterminate write is observed before it was invoked', () => {
    const h = new HistoryBuilder().get(1, 'x', 'a', 0, 10).put(2, 'x', 'a', 20, null, 'unknown');
    expect(verdict(h)).toBe('violation');
  });

  it('two reads during one write see new then old (real-time order between readers)', () => {
    const h = new HistoryBuilder()
      .put(1, 'x', 'b', 0, 100)
      .get(2, 'x', 'b', 10, 20)
      .get(3, 'x', null, 30, 40);
    expect(verdict(h)).toBe('violation');
  });

  it('a delete acknowledged before a read is not seen', () => {
    const h = new HistoryBuilder().put(1, 'x', 'a', 0, 10).delete(1, 'x', 20, 30).get(2, 'x', 'a', 40, 50);
    expect(verdict(h)).toBe('violation');
  });

  it('a failed cas reports failure although the key held the expected value', () => {
    const h = new HistoryBuilder().put(1, 'x', 'a', 0, 10).cas(2, 'x', 'a', 'b', false, 20, 30);
    expect(verdict(h)).toBe('violation');
  });

  it('an acknowledged write is lost: after a quiet period the final read shows the value before it', () => {
    const h = new HistoryBuilder()
      .put(1, 'x', 'a', 0, 10)
      .put(2, 'x', 'b', 20, 30)
      .cas(3, 'x', 'b', 'c', 'unknown', 35, null)
      .get(4, 'x', 'a', 1000, 1010);
    expect(verdict(h)).toBe('violation');
  });

  it('a retried increment is counted twice: the next increment skips a value', () => {
    const h = new HistoryBuilder().incr(1, 'n', 1, '1', 0, 10).incr(2, 'n', 1, '3', 20, 30);
    expect(verdict(h)).toBe('violation');
  });

  it('an increment is lost: two sequential increments report the same value', () => {
    const h = new HistoryBuilder().incr(1, 'n', 1, '1', 0, 10).incr(2, 'n', 1, '1', 20, 30);
    expect(verdict(h)).toBe('violation');
  });

  it('finds the violation on one key among correct keys', () => {
    const h = new HistoryBuilder()
      .put(1, 'x', 'a', 0, 10)
      .get(2, 'x', 'a', 20, 30)
      .put(1, 'y', 'a', 0, 10)
      .get(2, 'y', null, 20, 30);
    const r = checkHistory(h.ops);
    expect(r.verdict).toBe('violation');
    expect(r.keys.map((k) => [k.key, k.verdict])).toEqual([
      ['x', 'ok'],
      ['y', 'violation'],
    ]);
    expect(r.violations.map((v) => v.key)).toEqual(['y']);
  });
});

describe('accepts tricky linearizable histories', () => {
  it('concurrent writes may be read in either order', () => {
    const writes = () => new HistoryBuilder().put(1, 'x', 'a', 0, 10).put(2, 'x', 'b', 0, 10);
    expect(verdict(writes().get(3, 'x', 'a', 20, 30).get(3, 'x', 'a', 40, 50))).toBe('ok');
    expect(verdict(writes().get(3, 'x', 'b', 20, 30).get(3, 'x', 'b', 40, 50))).toBe('ok');
    // ...but once completed, their order is fixed for every later reader.
    expect(verdict(writes().get(3, 'x', 'a', 20, 30).get(4, 'x', 'b', 40, 50))).toBe('violation');
  });

  it('reads overlapping a write may see the old or the new value, flipping once', () => {
    const h = new HistoryBuilder()
      .put(1, 'x', 'a', 0, 100)
      .get(2, 'x', null, 10, 20)
      .get(3, 'x', null, 15, 50)
      .get(2, 'x', 'a', 30, 40)
      .get(4, 'x', 'a', 5, 95);
    expect(verdict(h)).toBe('ok');
  });

  it('an indeterminate write may take effect long after the client gave up', () => {
    const h = new HistoryBuilder()
      .put(1, 'x', 'a', 0, 10, 'unknown')
      .put(2, 'x', 'b', 20, 30)
      .get(3, 'x', 'b', 40, 50)
      .get(3, 'x', 'a', 60, 70);
    expect(verdict(h)).toBe('ok');
  });

  it('an indeterminate write that never completed later appears', () => {
    const h = new HistoryBuilder().put(1, 'x', 'a', 0, null, 'unknown').get(2, 'x', 'a', 500, 510);
    expect(verdict(h)).toBe('ok');
  });

  it('an indeterminate write may never appear', () => {
    const h = new HistoryBuilder()
      .put(1, 'x', 'a', 0, null, 'unknown')
      .get(2, 'x', null, 50, 60)
      .put(2, 'x', 'b', 70, 80)
      .get(2, 'x', 'b', 90, 100);
    expect(verdict(h)).toBe('ok');
  });

  it('an indeterminate write appears at most once', () => {
    const h = new HistoryBuilder()
      .put(1, 'x', 'a', 0, null, 'unknown')
      .get(2, 'x', 'a', 10, 20)
      .put(2, 'x', 'b', 30, 40)
      .get(2, 'x', 'a', 50, 60);
    expect(verdict(h)).toBe('violation');
  });

  it('concurrent cas races: exactly one of the contenders wins', () => {
    const h = new HistoryBuilder()
      .put(1, 'x', '0', 0, 5)
      .cas(1, 'x', '0', '1', false, 10, 20)
      .cas(2, 'x', '0', '2', true, 10, 20)
      .cas(3, 'x', '0', '3', false, 12, 18)
      .get(4, 'x', '2', 30, 40);
    expect(verdict(h)).toBe('ok');
  });

  it('a cas chain across clients, with one indeterminate link that did take effect', () => {
    const h = new HistoryBuilder()
      .cas(1, 'x', null, 'a', true, 0, 10)
      .cas(2, 'x', 'a', 'b', 'unknown', 20, null)
      .cas(3, 'x', 'b', 'c', true, 30, 40)
      .get(1, 'x', 'c', 50, 60);
    expect(verdict(h)).toBe('ok');
  });

  it('operations whose intervals touch count as concurrent', () => {
    const h = new HistoryBuilder().put(1, 'x', 'a', 0, 10).get(2, 'x', null, 10, 20);
    expect(verdict(h)).toBe('ok');
  });

  it('failed operations and gets without an answer are ignored', () => {
    const h = new HistoryBuilder()
      .put(1, 'x', 'a', 0, 10, 'fail')
      .cas(1, 'x', null, 'b', 'fail', 0, 10)
      .get(2, 'x', { status: 'unknown' }, 0, null)
      .get(2, 'x', { status: 'fail' }, 0, 5)
      .get(3, 'x', null, 20, 30);
    expect(verdict(h)).toBe('ok');
  });

  it('increments from an absent key, with one indeterminate increment taking effect', () => {
    const h = new HistoryBuilder()
      .incr(1, 'n', 1, '1', 0, 10)
      .incr(2, 'n', 5, 'unknown', 5, 15)
      .incr(3, 'n', 1, '7', 20, 30)
      .get(1, 'n', '7', 40, 50);
    expect(verdict(h)).toBe('ok');
  });

  it('an indeterminate increment may make the counter skip a value, once', () => {
    const skip = () =>
      new HistoryBuilder()
        .incr(1, 'n', 1, '1', 0, 10)
        .incr(2, 'n', 1, 'unknown', 15, null)
        .incr(3, 'n', 1, '3', 20, 30);
    expect(verdict(skip())).toBe('ok');
    expect(verdict(skip().incr(3, 'n', 1, '5', 40, 50))).toBe('violation');
  });

  it('a stale-looking read is fine while the write it misses is still running', () => {
    const h = new HistoryBuilder()
      .put(1, 'x', 'a', 0, 10)
      .put(2, 'x', 'b', 20, 90)
      .get(3, 'x', 'a', 30, 40)
      .get(4, 'x', 'b', 50, 60);
    expect(verdict(h)).toBe('ok');
  });

  it('starts from the given initial values', () => {
    const h = new HistoryBuilder().get(1, 'x', 'seed', 0, 10).cas(1, 'x', 'seed', 'a', true, 20, 30);
    expect(verdict(h, { x: 'seed' })).toBe('ok');
    expect(verdict(h)).toBe('violation');
  });

  it('an empty history and a history of writes only are linearizable', () => {
    expect(verdict([])).toBe('ok');
    const h = new HistoryBuilder().put(1, 'x', 'a', 0, 10).put(2, 'x', 'b', 5, null, 'unknown');
    expect(verdict(h)).toBe('ok');
  });

  it('does not depend on the order of the operations in the input', () => {
    const h = new HistoryBuilder()
      .put(1, 'x', 'a', 0, 10)
      .put(2, 'x', 'b', 0, 10)
      .get(3, 'x', 'b', 20, 30)
      .get(1, 'x', 'b', 35, 36);
    expect(verdict(h)).toBe('ok');
    expect(verdict([...h.ops].reverse())).toBe('ok');
  });
});
