/**
 * One conformance suite that every LogStore passes: the in-memory store of this kit and the
 * on-disk WAL of `@keel/log`. It imports vitest, so it is NOT re-exported from the testing kit's
 * index (vitest throws when imported outside its runner, and `@keel/sim` imports the kit).
 */
import { describe, expect, it } from 'vitest';
import type { Entry, EntryType, HardState } from '../raft/types.js';
import type { LogStore } from '../runtime/interfaces.js';

/** A store under test plus the means to make it durable and to reopen what it persisted. */
export interface LogStoreHarness {
  readonly store: LogStore;
  /**
   * Forces pending appends of the current store durable, for stores that complete only on demand
   * (MemoryLogStore without a scheduler). Omit for stores that sync by themselves.
   */
  readonly sync?: () => void;
  /**
   * Closes the current store (which flushes what is pending) and opens a new one over what it made
   * durable. Later `sync` calls refer to the reopened store.
   */
  readonly reopen: () => Promise<LogStore>;
  /** Releases whatever the harness holds (temporary directories); called after every test. */
  readonly cleanup?: () => Promise<void>;
}

function isCompactable(store: LogStore): boolean {
  return typeof store.compact === 'function';
}

/**
 * `LogStore.compact` with its durability callback, as a promise. TRANSITIONAL: a store whose
 * compact still returns a Promise (the form before the callback contract) is awaited instead;
 * the driver itself refuses that form, so migrate to the callback.
 */
function compact(h: LogStoreHarness, store: LogStore, index: number, term: number): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const r: unknown = store.compact!(index, term, (err) => (err ? reject(err) : resolve()));
    if (r instanceof Promise) r.then(() => resolve(), reject);
    h.sync?.();
  });
}

const enc = new TextEncoder();

export function entry(index: number, term: number, data: string | Uint8Array = `e${index}`): Entry {
  return {
    index,
    term,
    type: 1 as EntryType,
    data: typeof data === 'string' ? enc.encode(data) : data,
  };
}

export function range(lo: number, hi: number, term: number, size?: number): Entry[] {
  const out: Entry[] = [];
  for (let i = lo; i < hi; i++) {
    out.push(entry(i, term, size === undefined ? `e${i}` : new Uint8Array(size).fill(i & 0xff)));
  }
  return out;
}

/** Entries as plain values, so a Buffer and a Uint8Array with the same bytes compare equal. */
export function plain(
  entries: readonly Entry[],
): Array<{ index: number; term: number; type: number; data: string }> {
  return entries.map((e) => ({
    index: e.index,
    term: e.term,
    type: e.type,
    data: Array.from(e.data, (b) => b.toString(16).padStart(2, '0')).join(''),
  }));
}

function persist(
  h: LogStoreHarness,
  store: LogStore,
  entries: readonly Entry[],
  hardState: HardState | null = null,
): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    store.append(entries, hardState, (err) => (err ? reject(err) : resolve()));
    h.sync?.();
  });
}

function all(store: LogStore): Entry[] {
  return store.entries(store.firstIndex(), store.lastIndex() + 1, Number.POSITIVE_INFINITY);
}

export function logStoreConformance(name: string, open: () => Promise<LogStoreHarness>): void {
  describe(`LogStore conformance: ${name}`, () => {
    let h: LogStoreHarness | undefined;
    async function start(): Promise<LogStoreHarness> {
      h = await open();
      return h;
    }
    async function finish(): Promise<void> {
      const cur = h;
      h = undefined;
      await cur?.cleanup?.();
    }
    const test = (title: string, fn: (h: LogStoreHarness) => Promise<void>) =>
      it(title, async () => {
        try {
          await fn(await start());
        } finally {
          await finish();
        }
      });

    test('an empty log has bounds [1, 0], term(0) = 0 and an empty hard state', async (h) => {
      const s = h.store;
      expect(s.firstIndex()).toBe(1);
      expect(s.lastIndex()).toBe(0);
      expect(s.term(0)).toBe(0);
      expect(s.term(1)).toBe(-1);
      expect(s.term(-1)).toBe(-1);
      expect(s.entries(1, 1, 100)).toEqual([]);
      expect(s.initialState().hardState).toEqual({ term: 0, vote: null, commit: 0 });
    });

    test('appended entries are readable at once, before they are durable', async (h) => {
      const s = h.store;
      const durable = new Promise<void>((resolve, reject) =>
        s.append(range(1, 4, 1), null, (err) => (err ? reject(err) : resolve())),
      );
      expect(s.lastIndex()).toBe(3);
      expect(s.term(3)).toBe(1);
      expect(plain(s.entries(1, 4, 1 << 20))).toEqual(plain(range(1, 4, 1)));
      h.sync?.();
      await durable;
    });

    test('append then read [lo, hi) returns exactly those entries with their bytes', async (h) => {
      const s = h.store;
      const es = [
        entry(1, 1, new Uint8Array(0)),
        { index: 2, term: 1, type: 0 as EntryType, data: new Uint8Array(0) },
        entry(3, 2, new Uint8Array([0, 255, 1, 254, 0])),
        entry(
          4,
          2,
          new Uint8Array(1000).map((_, i) => (i * 7) & 0xff),
        ),
        entry(5, 3, 'five'),
      ];
      await persist(h, s, es);
      expect(s.firstIndex()).toBe(1);
      expect(s.lastIndex()).toBe(5);
      expect(plain(all(s))).toEqual(plain(es));
      expect(plain(s.entries(2, 4, 1 << 20))).toEqual(plain(es.slice(1, 3)));
      expect(s.entries(3, 3, 1 << 20)).toEqual([]);
      expect([0, 1, 2, 3, 4, 5].map((i) => s.term(i))).toEqual([0, 1, 1, 2, 2, 3]);
    });

    test('term() is -1 outside [firstIndex - 1, lastIndex]', async (h) => {
      const s = h.store;
      await persist(h, s, range(1, 4, 2));
      expect(s.term(-1)).toBe(-1);
      expect(s.term(0)).toBe(0);
      expect(s.term(3)).toBe(2);
      expect(s.term(4)).toBe(-1);
      expect(s.term(1000)).toBe(-1);
    });

    test('a byte limit stops a read early but always returns at least one entry', async (h) => {
      const s = h.store;
      await persist(h, s, range(1, 11, 1, 100));
      expect(s.entries(1, 11, 0).map((e) => e.index)).toEqual([1]);
      expect(s.entries(1, 11, 99).map((e) => e.index)).toEqual([1]);
      expect(s.entries(1, 11, 100).map((e) => e.index)).toEqual([1]);
      expect(s.entries(1, 11, 250).map((e) => e.index)).toEqual([1, 2]);
      expect(s.entries(3, 11, 300).map((e) => e.index)).toEqual([3, 4, 5]);
      expect(s.entries(1, 11, 1 << 20)).toHaveLength(10);
    });

    test('an append at or below lastIndex truncates the conflicting suffix first', async (h) => {
      let s = h.store;
      await persist(h, s, range(1, 6, 1));
      await persist(h, s, range(3, 5, 2));
      expect(s.lastIndex()).toBe(4);
      expect([1, 2, 3, 4, 5].map((i) => s.term(i))).toEqual([1, 1, 2, 2, -1]);
      const expected = [...range(1, 3, 1), ...range(3, 5, 2)];
      expect(plain(all(s))).toEqual(plain(expected));
      // Truncating everything and rewriting from index 1.
      await persist(h, s, range(1, 2, 3));
      expect(s.lastIndex()).toBe(1);
      expect(s.term(1)).toBe(3);
      await persist(h, s, range(2, 4, 3));
      s = await h.reopen();
      expect(plain(all(s))).toEqual(plain(range(1, 4, 3)));
    });

    test('a truncation inside one batch of pending appends is seen by reads and by reopen', async (h) => {
      let s = h.store;
      const done: Array<Promise<void>> = [];
      const add = (es: Entry[], hs: HardState | null = null) =>
        done.push(new Promise((res, rej) => s.append(es, hs, (err) => (err ? rej(err) : res()))));
      add(range(1, 8, 1));
      add(range(5, 7, 2), { term: 2, vote: null, commit: 3 });
      add(range(7, 9, 2));
      add(range(6, 7, 3), { term: 3, vote: 'n2', commit: 4 });
      const expected = [...range(1, 5, 1), ...range(5, 6, 2), ...range(6, 7, 3)];
      expect(plain(all(s))).toEqual(plain(expected));
      h.sync?.();
      await Promise.all(done);
      s = await h.reopen();
      expect(plain(all(s))).toEqual(plain(expected));
      expect(s.initialState().hardState).toEqual({ term: 3, vote: 'n2', commit: 4 });
    });

    test('hard state survives a reopen; the latest one wins; entries may be empty', async (h) => {
      let s = h.store;
      await persist(h, s, [], { term: 1, vote: 'node-a', commit: 0 });
      expect(s.initialState().hardState).toEqual({ term: 1, vote: 'node-a', commit: 0 });
      await persist(h, s, range(1, 3, 1), { term: 2, vote: null, commit: 1 });
      s = await h.reopen();
      expect(s.initialState().hardState).toEqual({ term: 2, vote: null, commit: 1 });
      await persist(h, s, [], { term: 7, vote: 'x_Y-9', commit: 2 });
      s = await h.reopen();
      expect(s.initialState().hardState).toEqual({ term: 7, vote: 'x_Y-9', commit: 2 });
      expect(s.lastIndex()).toBe(2);
    });

    test('durability callbacks fire once each, without error, in call order', async (h) => {
      const s = h.store;
      const order: number[] = [];
      const all: Array<Promise<void>> = [];
      for (let i = 1; i <= 50; i++) {
        all.push(
          new Promise<void>((resolve, reject) =>
            s.append([entry(i, 1)], i % 10 === 0 ? { term: 1, vote: null, commit: i - 5 } : null, (err) => {
              order.push(i);
              if (err) reject(err);
              else resolve();
            }),
          ),
        );
        if (i % 7 === 0) h.sync?.();
      }
      h.sync?.();
      await Promise.all(all);
      expect(order).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    });

    test('an append that leaves a gap or is not contiguous is refused', async (h) => {
      const s = h.store;
      await persist(h, s, range(1, 3, 1));
      expect(() => s.append([entry(5, 1)], null, () => {})).toThrow();
      expect(() => s.append([entry(3, 1), entry(5, 1)], null, () => {})).toThrow();
      expect(s.lastIndex()).toBe(2);
    });

    test('reopen preserves everything durable, and close flushes what is pending', async (h) => {
      let s = h.store;
      await persist(h, s, range(1, 101, 1, 33), { term: 1, vote: 'a', commit: 50 });
      await persist(h, s, range(90, 120, 2, 17));
      // Not awaited: close() (inside reopen) must make it durable.
      const last = new Promise<void>((res, rej) =>
        s.append(range(120, 125, 2), { term: 2, vote: 'b', commit: 110 }, (err) => (err ? rej(err) : res())),
      );
      const expected = all(s);
      s = await h.reopen();
      await last;
      expect(s.firstIndex()).toBe(1);
      expect(s.lastIndex()).toBe(124);
      expect(plain(all(s))).toEqual(plain(expected));
      expect(s.initialState().hardState).toEqual({ term: 2, vote: 'b', commit: 110 });
      for (let i = 0; i <= 124; i++) expect(s.term(i)).toBe(i === 0 ? 0 : i < 90 ? 1 : 2);
      // The reopened store keeps working.
      await persist(h, s, range(125, 127, 3));
      s = await h.reopen();
      expect(s.lastIndex()).toBe(126);
      expect(s.term(126)).toBe(3);
    });

    test('compact(index, term) drops the prefix; term(index) stays answerable; survives reopen', async (h) => {
      let s = h.store;
      if (!isCompactable(s)) return;
      await persist(h, s, range(1, 21, 1, 10));
      await compact(h, s, 10, 1);
      expect(s.firstIndex()).toBe(11);
      expect(s.lastIndex()).toBe(20);
      expect(s.term(10)).toBe(1);
      expect(s.term(9)).toBe(-1);
      expect(plain(all(s))).toEqual(plain(range(11, 21, 1, 10)));
      await persist(h, s, range(21, 23, 2, 10));
      s = await h.reopen();
      expect(s.firstIndex()).toBe(11);
      expect(s.lastIndex()).toBe(22);
      expect(s.term(10)).toBe(1);
      expect(plain(all(s))).toEqual(plain([...range(11, 21, 1, 10), ...range(21, 23, 2, 10)]));
    });

    test('compact past lastIndex (snapshot install) empties the log and restarts after it', async (h) => {
      let s = h.store;
      if (!isCompactable(s)) return;
      await persist(h, s, range(1, 6, 1));
      await compact(h, s, 50, 4);
      expect(s.firstIndex()).toBe(51);
      expect(s.lastIndex()).toBe(50);
      expect(s.term(50)).toBe(4);
      expect(s.term(5)).toBe(-1);
      await persist(h, s, range(51, 53, 4), { term: 4, vote: null, commit: 50 });
      s = await h.reopen();
      expect(s.firstIndex()).toBe(51);
      expect(s.lastIndex()).toBe(52);
      expect(s.term(50)).toBe(4);
      expect(plain(all(s))).toEqual(plain(range(51, 53, 4)));
    });

    test('compact below firstIndex changes nothing; compact at a held (index, term) keeps the suffix', async (h) => {
      let s = h.store;
      if (!isCompactable(s)) return;
      await persist(h, s, range(1, 11, 1));
      await persist(h, s, range(11, 16, 2));
      await compact(h, s, 5, 1);
      await compact(h, s, 3, 1);
      expect(s.firstIndex()).toBe(6);
      expect(s.term(5)).toBe(1);
      await compact(h, s, 12, 2);
      expect(s.firstIndex()).toBe(13);
      expect(s.lastIndex()).toBe(15);
      expect(s.term(12)).toBe(2);
      s = await h.reopen();
      expect(s.firstIndex()).toBe(13);
      expect(plain(all(s))).toEqual(plain(range(13, 16, 2)));
    });

    test('compact at an index the log holds with another term (snapshot install) empties the log', async (h) => {
      let s = h.store;
      if (!isCompactable(s)) return;
      await persist(h, s, range(1, 11, 1));
      await compact(h, s, 8, 3);
      expect(s.firstIndex()).toBe(9);
      expect(s.lastIndex()).toBe(8);
      expect(s.term(8)).toBe(3);
      await persist(h, s, range(9, 11, 3));
      s = await h.reopen();
      expect(s.firstIndex()).toBe(9);
      expect(s.term(8)).toBe(3);
      expect(plain(all(s))).toEqual(plain(range(9, 11, 3)));
    });

    test('compaction and appends become durable in call order (one durability order for both)', async (h) => {
      const s = h.store;
      if (!isCompactable(s)) return;
      await persist(h, s, range(1, 11, 1));
      const order: string[] = [];
      let legacy: Promise<unknown> | null = null;
      const done = new Promise<void>((resolve, reject) => {
        s.append(range(11, 13, 1), null, (err) => (err ? reject(err) : order.push('append 11-12')));
        const r: unknown = s.compact!(10, 1, (err) => (err ? reject(err) : order.push('compact 10')));
        if (r instanceof Promise) legacy = r;
        s.append(range(13, 14, 1), null, (err) => {
          if (err) reject(err);
          order.push('append 13');
          resolve();
        });
        h.sync?.();
      });
      await done;
      // TRANSITIONAL: a Promise-style compact has no callback whose order could be checked.
      if (legacy !== null) await legacy;
      else expect(order).toEqual(['append 11-12', 'compact 10', 'append 13']);
      expect(s.firstIndex()).toBe(11);
      expect(s.lastIndex()).toBe(13);
    });
  });
}
