import { describe, expect, it } from 'vitest';
import type { HardState } from '../src/index.js';
import { MemoryLogStore } from '../src/testing/index.js';
import { entry, logStoreConformance, plain, range } from '../src/testing/logStoreSuite.js';

function harness(store: MemoryLogStore) {
  let current = store;
  return {
    store,
    sync: () => current.sync(),
    reopen: async () => {
      await current.close();
      current = current.crash();
      return current;
    },
  };
}

logStoreConformance('MemoryLogStore (sync on demand)', async () =>
  harness(new MemoryLogStore({ schedule: 'manual' })),
);

logStoreConformance('MemoryLogStore (no schedule: completes on its own)', async () => {
  let current = new MemoryLogStore();
  return {
    store: current,
    reopen: async () => {
      await current.close();
      current = current.crash();
      return current;
    },
  };
});

logStoreConformance('MemoryLogStore (scheduled completions)', async () => {
  const schedule = (fn: () => void) => queueMicrotask(fn);
  const store = new MemoryLogStore({ schedule });
  let current = store;
  return {
    store,
    reopen: async () => {
      await current.close();
      current = current.crash();
      return current;
    },
  };
});

describe('MemoryLogStore', () => {
  it('crash() keeps what was synced and loses pending appends, including their truncations', () => {
    const s = new MemoryLogStore();
    const calls: Array<Error | null> = [];
    s.append(range(1, 6, 1), { term: 1, vote: 'a', commit: 2 }, (e) => calls.push(e));
    s.sync();
    s.append(range(4, 8, 2), { term: 2, vote: 'b', commit: 3 }, (e) => calls.push(e));
    s.compact(2, 1);
    expect(s.pendingCount).toBe(1);
    expect(s.lastIndex()).toBe(7);
    expect(s.firstIndex()).toBe(3);

    const c = s.crash();
    expect(c.firstIndex()).toBe(1);
    expect(c.lastIndex()).toBe(5);
    expect([1, 2, 3, 4, 5].map((i) => c.term(i))).toEqual([1, 1, 1, 1, 1]);
    expect(c.initialState().hardState).toEqual({ term: 1, vote: 'a', commit: 2 });
    expect(c.pendingCount).toBe(0);
    expect(calls).toEqual([null]);

    s.sync();
    const d = s.crash();
    expect(d.firstIndex()).toBe(3);
    expect(d.term(2)).toBe(1);
    expect(plain(d.entries(3, 8, Infinity))).toEqual(plain([...range(3, 4, 1), ...range(4, 8, 2)]));
    expect(calls).toEqual([null, null]);
  });

  it('crash() of a crashed store is independent of the original', () => {
    const s = new MemoryLogStore();
    s.append(range(1, 3, 1), null, () => {});
    s.sync();
    const c = s.crash();
    s.append(range(2, 4, 5), null, () => {});
    s.sync();
    expect(c.term(2)).toBe(1);
    expect(c.lastIndex()).toBe(2);
  });

  it('with a schedule, each append completes through its own scheduled callback, in order', () => {
    const queue: Array<() => void> = [];
    const s = new MemoryLogStore({ schedule: (fn) => queue.push(fn) });
    const done: number[] = [];
    s.append([entry(1, 1)], null, () => done.push(1));
    s.append([entry(2, 1)], null, () => done.push(2));
    expect(queue).toHaveLength(2);
    expect(s.pendingCount).toBe(2);
    queue.shift()!();
    expect(done).toEqual([1]);
    expect(s.crash().lastIndex()).toBe(1);
    queue.shift()!();
    expect(done).toEqual([1, 2]);
    expect(s.pendingCount).toBe(0);
  });

  it('without a schedule, an append completes on its own once the current job is done', async () => {
    const s = new MemoryLogStore();
    const done: Array<Error | null> = [];
    s.append([entry(1, 1)], { term: 1, vote: 'a', commit: 0 }, (e) => done.push(e));
    s.compact(0, 0, (e) => done.push(e));
    // Never from inside append: the caller's driver must not be re-entered.
    expect(done).toEqual([]);
    expect(s.pendingCount).toBe(1);
    await Promise.resolve();
    expect(done).toEqual([null, null]);
    expect(s.pendingCount).toBe(0);
    expect(s.crash().lastIndex()).toBe(1);
  });

  it('without a schedule, sync() hands durability to the caller for good', async () => {
    const s = new MemoryLogStore();
    const done: number[] = [];
    s.append([entry(1, 1)], null, () => done.push(1));
    s.sync();
    expect(done).toEqual([1]);
    s.append([entry(2, 1)], null, () => done.push(2));
    await new Promise((r) => setImmediate(r));
    expect(done).toEqual([1]);
    expect(s.crash().lastIndex()).toBe(1);
    s.sync();
    expect(done).toEqual([1, 2]);
  });

  it('without a schedule, crash() loses the pending appends: they never complete afterwards', async () => {
    const s = new MemoryLogStore();
    const done: number[] = [];
    s.append([entry(1, 1)], null, () => done.push(1));
    const c = s.crash();
    await new Promise((r) => setImmediate(r));
    expect(done).toEqual([]);
    expect(c.lastIndex()).toBe(0);
    // The successor completes the way its predecessor did: on its own until driven by hand.
    c.append([entry(1, 2)], null, () => done.push(2));
    await Promise.resolve();
    expect(done).toEqual([2]);
    c.sync();
    c.append([entry(2, 2)], null, () => done.push(3));
    const d = c.crash();
    d.append([entry(2, 3)], null, () => done.push(4));
    await new Promise((r) => setImmediate(r));
    expect(done).toEqual([2]);
    d.sync();
    expect(done).toEqual([2, 4]);
  });

  it("schedule: 'manual' completes only on sync()", async () => {
    const s = new MemoryLogStore({ schedule: 'manual' });
    const done: number[] = [];
    s.append([entry(1, 1)], null, () => done.push(1));
    await new Promise((r) => setImmediate(r));
    expect(done).toEqual([]);
    s.sync();
    expect(done).toEqual([1]);
  });

  it('sync() completes earlier than scheduled; the late completion is then a no-op', () => {
    const queue: Array<() => void> = [];
    const s = new MemoryLogStore({ schedule: (fn) => queue.push(fn) });
    const done: number[] = [];
    s.append([entry(1, 1)], null, () => done.push(1));
    s.sync();
    expect(done).toEqual([1]);
    for (const fn of queue) fn();
    expect(done).toEqual([1]);
  });

  it('failNextSync(): that sync and every later append fail with KEEL_STORAGE_FAILED', () => {
    const s = new MemoryLogStore();
    const errs: Array<Error | null> = [];
    const hs: HardState = { term: 1, vote: null, commit: 0 };
    s.append([entry(1, 1)], hs, (e) => errs.push(e));
    s.sync();
    s.failNextSync();
    s.append([entry(2, 1)], null, (e) => errs.push(e));
    s.append([entry(3, 1)], null, (e) => errs.push(e));
    s.sync();
    s.append([entry(4, 1)], null, (e) => errs.push(e));
    s.sync();
    expect(errs[0]).toBeNull();
    expect(errs.slice(1).map((e) => (e as Error & { code?: string })?.code)).toEqual([
      'KEEL_STORAGE_FAILED',
      'KEEL_STORAGE_FAILED',
      'KEEL_STORAGE_FAILED',
    ]);
    // Nothing after the failure became durable or was accepted.
    expect(s.lastIndex()).toBe(3);
    expect(s.crash().lastIndex()).toBe(1);
  });

  it('initial content is validated and honoured (firstIndex/firstTerm)', () => {
    const s = new MemoryLogStore({
      initial: {
        hardState: { term: 3, vote: 'z', commit: 10 },
        entries: range(11, 13, 3),
        firstIndex: 11,
        firstTerm: 2,
      },
    });
    expect(s.firstIndex()).toBe(11);
    expect(s.term(10)).toBe(2);
    expect(s.term(0)).toBe(-1);
    expect(s.lastIndex()).toBe(12);
    expect(
      () =>
        new MemoryLogStore({
          initial: { hardState: { term: 0, vote: null, commit: 0 }, entries: range(2, 3, 1) },
        }),
    ).toThrow();
  });

  // Half a million entries through append + sync, every callback once and in order. How fast is a
  // benchmark's question (speed is never asserted in a unit test): see bench/engine.bench.ts.
  it('moves half a million entries through append + sync, every batch made durable once', () => {
    const s = new MemoryLogStore();
    const batch = 256;
    const total = 256 * 2000;
    const data = new Uint8Array(16);
    let durable = 0;
    for (let i = 1; i <= total; i += batch) {
      const es = [];
      for (let j = 0; j < batch; j++) es.push({ index: i + j, term: 1, type: 1 as const, data });
      const first = i;
      s.append(es, null, () => {
        expect(durable).toBe(first - 1);
        durable += batch;
      });
      if (((i - 1) / batch) % 4 === 3) s.sync();
    }
    s.sync();
    expect(durable).toBe(total);
    expect(s.lastIndex()).toBe(total);
    expect(s.entries(total - 2, total + 1, Number.POSITIVE_INFINITY).map((e) => e.index)).toEqual([
      total - 2,
      total - 1,
      total,
    ]);
  });
});
