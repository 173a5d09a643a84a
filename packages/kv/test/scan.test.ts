import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DEFAULT_KV_LIMITS, KvStateMachine, type ScanRange } from '../src/index.js';
import { keyString, prefixEnd, SortedKeys } from '../src/SortedKeys.js';
import { b, Harness, str } from './helpers.js';
import { assertProperty } from './propertySeeds.js';

function keysOf(h: Harness, range: ScanRange, limit: number, after?: string) {
  const r = h.sm.scan(range, limit, after === undefined ? undefined : b(after));
  return { keys: r.items.map((kv) => str(kv.key)), more: r.more };
}

function fill(h: Harness, keys: string[]): void {
  for (const k of keys) h.put(k, `v:${k}`);
}

describe('scan', () => {
  it('by prefix: only keys that start with the prefix, in byte order', () => {
    const h = new Harness();
    fill(h, ['user/2', 'user/10', 'user', 'usera', 'user/1', 'app/1', 'user0']);
    expect(keysOf(h, { prefix: b('user/') }, 100)).toEqual({
      keys: ['user/1', 'user/10', 'user/2'],
      more: false,
    });
    expect(keysOf(h, { prefix: b('user') }, 100).keys).toEqual([
      'user',
      'user/1',
      'user/10',
      'user/2',
      'user0',
      'usera',
    ]);
    expect(keysOf(h, { prefix: new Uint8Array(0) }, 100).keys).toHaveLength(7);
    expect(keysOf(h, { prefix: b('zzz') }, 100)).toEqual({ keys: [], more: false });
  });

  it('by range: [start, end), an empty start is the first key, a null end is past the last', () => {
    const h = new Harness();
    fill(h, ['a', 'b', 'c', 'd', 'e']);
    expect(keysOf(h, { start: b('b'), end: b('d') }, 100).keys).toEqual(['b', 'c']);
    expect(keysOf(h, { start: b('bb'), end: b('d') }, 100).keys).toEqual(['c']);
    expect(keysOf(h, { start: new Uint8Array(0), end: b('c') }, 100).keys).toEqual(['a', 'b']);
    expect(keysOf(h, { start: b('c'), end: null }, 100).keys).toEqual(['c', 'd', 'e']);
    expect(keysOf(h, { start: b('d'), end: b('b') }, 100).keys).toEqual([]);
  });

  it('limit and continuation: pages of `limit` keys, `more` until the range is exhausted', () => {
    const h = new Harness();
    const all = Array.from({ length: 25 }, (_, i) => `k${String(i).padStart(2, '0')}`);
    fill(h, all);
    const seen: string[] = [];
    let after: string | undefined;
    let pages = 0;
    for (;;) {
      const page = keysOf(h, { prefix: b('k') }, 10, after);
      pages++;
      seen.push(...page.keys);
      if (!page.more) break;
      after = page.keys[page.keys.length - 1];
    }
    expect(pages).toBe(3);
    expect(seen).toEqual(all);
    // A page that ends exactly at the last key says there is no more.
    expect(keysOf(h, { prefix: b('k') }, 25)).toMatchObject({ more: false });
    expect(keysOf(h, { prefix: b('k') }, 24)).toMatchObject({ more: true });
  });

  it('continuation survives writes between pages (keys, not positions, mark the place)', () => {
    const h = new Harness();
    fill(h, ['a', 'b', 'c', 'd']);
    const p1 = keysOf(h, { start: new Uint8Array(0), end: null }, 2);
    expect(p1.keys).toEqual(['a', 'b']);
    h.del('b');
    h.put('bb', 'new');
    h.put('0', 'before');
    expect(keysOf(h, { start: new Uint8Array(0), end: null }, 10, 'b').keys).toEqual(['bb', 'c', 'd']);
  });

  it('an `after` below the start of the range does not widen the range', () => {
    const h = new Harness();
    fill(h, ['a', 'b', 'c']);
    expect(keysOf(h, { start: b('b'), end: null }, 10, 'a').keys).toEqual(['b', 'c']);
    expect(keysOf(h, { prefix: b('c') }, 10, 'a').keys).toEqual(['c']);
  });

  it('clamps a local scan limit into 1..maxScanLimit (NaN counts as 1)', () => {
    const h = new Harness();
    fill(h, ['a', 'b', 'c']);
    expect(keysOf(h, { prefix: new Uint8Array(0) }, 0).keys).toEqual(['a']);
    expect(keysOf(h, { prefix: new Uint8Array(0) }, Number.NaN).keys).toEqual(['a']);
    expect(keysOf(h, { prefix: new Uint8Array(0) }, 1e9).keys).toEqual(['a', 'b', 'c']);
  });

  it('an empty store scans to nothing', () => {
    const h = new Harness();
    expect(h.sm.scan({ prefix: new Uint8Array(0) }, 10)).toEqual({
      ok: true,
      type: 'scan',
      revision: 0,
      items: [],
      more: false,
    });
  });

  it('prefixes ending in 0xff scan to the right place', () => {
    const h = new Harness();
    for (const key of [
      Uint8Array.of(1, 0xff),
      Uint8Array.of(1, 0xff, 0),
      Uint8Array.of(2),
      Uint8Array.of(0xff, 0xff, 1),
    ]) {
      h.apply({ type: 'put', key, value: new Uint8Array(0) });
    }
    expect(h.sm.scan({ prefix: Uint8Array.of(1, 0xff) }, 10).items.map((kv) => [...kv.key])).toEqual([
      [1, 0xff],
      [1, 0xff, 0],
    ]);
    expect(h.sm.scan({ prefix: Uint8Array.of(0xff, 0xff) }, 10).items).toHaveLength(1);
  });

  it('a scan through the log returns the same page as the local scan at that point', () => {
    const h = new Harness();
    fill(h, ['a', 'b', 'c']);
    const r = h.apply({ type: 'scan', range: { prefix: new Uint8Array(0) }, limit: 2 });
    expect(r).toEqual(h.sm.scan({ prefix: new Uint8Array(0) }, 2));
    expect(r).toMatchObject({ revision: 3, more: true });
  });

  it('stops at about maxScanBytes but always returns at least one item', () => {
    const sm = new KvStateMachine({ limits: { ...DEFAULT_KV_LIMITS, maxScanBytes: 100 } });
    const h = new Harness({}, sm);
    h.put('a', 'x'.repeat(60));
    h.put('b', 'x'.repeat(60));
    h.put('c', 'x'.repeat(200));
    expect(keysOf(h, { prefix: new Uint8Array(0) }, 10)).toEqual({ keys: ['a'], more: true });
    expect(keysOf(h, { prefix: new Uint8Array(0) }, 10, 'a')).toEqual({ keys: ['b'], more: true });
    expect(keysOf(h, { prefix: new Uint8Array(0) }, 10, 'b')).toEqual({ keys: ['c'], more: false });
  });

  it('matches a sorted-array model for random keys, ranges, limits and continuations', () => {
    const key = fc
      .uint8Array({ minLength: 1, maxLength: 4, min: 0, max: 3 })
      .map((a) => a.map((x) => [0, 1, 0xfe, 0xff][x]!));
    assertProperty(
      fc.property(
        fc.array(fc.tuple(fc.boolean(), key), { maxLength: 200 }),
        fc.oneof(
          fc.record({ prefix: fc.uint8Array({ maxLength: 2, min: 0, max: 0xff }) }),
          fc.record({
            start: fc.uint8Array({ maxLength: 3 }),
            end: fc.option(fc.uint8Array({ maxLength: 3 }), { nil: null }),
          }),
        ),
        fc.integer({ min: 1, max: 20 }),
        (ops, range, limit) => {
          const h = new Harness();
          const model = new Set<string>();
          for (const [isPut, k] of ops) {
            if (isPut) {
              h.apply({ type: 'put', key: k, value: k });
              model.add(keyString(k));
            } else {
              h.apply({ type: 'delete', key: k });
              model.delete(keyString(k));
            }
          }
          const inRange = (ks: string): boolean => {
            if ('prefix' in range) return ks.startsWith(keyString(range.prefix));
            return ks >= keyString(range.start) && (range.end === null || ks < keyString(range.end));
          };
          const expected = [...model].sort().filter(inRange);
          const got: string[] = [];
          let after: Uint8Array | undefined;
          for (let guard = 0; guard < 1000; guard++) {
            const page = h.sm.scan(range, limit, after);
            expect(page.items.length).toBeLessThanOrEqual(limit);
            got.push(...page.items.map((kv) => keyString(kv.key)));
            if (!page.more) break;
            expect(page.items.length).toBe(limit);
            after = page.items[page.items.length - 1]!.key;
          }
          expect(got).toEqual(expected);
        },
      ),
      { numRuns: 60 },
    );
  });
});

describe('SortedKeys', () => {
  it('agrees with a sorted array through many inserts and deletes (chunks split and empty)', () => {
    assertProperty(
      fc.property(
        fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 0, max: 3000 })), {
          minLength: 2500,
          maxLength: 6000,
        }),
        (ops) => {
          const s = new SortedKeys();
          const model = new Set<string>();
          for (const [ins, n] of ops) {
            const k = String(n).padStart(4, '0');
            if (ins) expect(s.insert(k)).toBe(!model.has(k));
            else expect(s.delete(k)).toBe(model.has(k));
            if (ins) model.add(k);
            else model.delete(k);
          }
          const sorted = [...model].sort();
          expect([...s.keys()]).toEqual(sorted);
          expect(s.size).toBe(sorted.length);
          const from = '1500';
          const got: string[] = [];
          s.forEachInRange(from, true, '2500', (k) => {
            got.push(k);
            return true;
          });
          expect(got).toEqual(sorted.filter((k) => k > from && k < '2500'));
          expect([...SortedKeys.fromSorted(sorted).keys()]).toEqual(sorted);
        },
      ),
      { numRuns: 6 },
    );
  });

  it('keyString preserves byte order, including long keys; prefixEnd skips trailing 0xff', () => {
    const long = new Uint8Array(10_000).map((_, i) => i % 256);
    expect(keyString(long).length).toBe(10_000);
    expect(keyString(long).charCodeAt(9_999)).toBe(9_999 % 256);
    expect(keyString(Uint8Array.of(1, 0xff)) < keyString(Uint8Array.of(2))).toBe(true);
    expect(prefixEnd(keyString(Uint8Array.of(1, 0xff)))).toBe(keyString(Uint8Array.of(2)));
    expect(prefixEnd(keyString(Uint8Array.of(0xff, 0xff)))).toBeNull();
    expect(prefixEnd('')).toBeNull();
  });

  it('50k keys in random order through the log, then pages of a prefix scan', () => {
    const h = new Harness();
    let x = 12345;
    for (let i = 0; i < 50_000; i++) {
      x = (x * 1103515245 + 12345) % 2 ** 31;
      h.put(`key/${i % 100}/${x}`, 'v');
    }
    const keys = h.sm.size;
    let seen = 0;
    let after: Uint8Array | undefined;
    for (;;) {
      const page = h.sm.scan({ prefix: b('key/7/') }, 100, after);
      seen += page.items.length;
      if (!page.more) break;
      after = page.items[page.items.length - 1]!.key;
    }
    const all = h.sm.scan({ prefix: b('key/') }, 10_000);
    expect(all.items).toHaveLength(10_000);
    expect(seen).toBeGreaterThan(300);
    expect(seen).toBeLessThan(keys);
  });
});
