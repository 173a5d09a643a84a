import type { Entry, EntryType } from '@keel/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EntryCache } from '../src/EntryCache.js';
import { assertProperty } from './propertySeeds.js';

const entry = (index: number, size: number): Entry => ({
  index,
  term: 1,
  type: 1 as EntryType,
  data: new Uint8Array(size),
});

type Op =
  | { op: 'push'; size: number }
  | { op: 'overwrite'; back: number; size: number }
  | { op: 'jump'; ahead: number }
  | { op: 'truncate'; back: number }
  | { op: 'drop'; ahead: number }
  | { op: 'clear' };

describe('EntryCache (ring buffer)', () => {
  it('keeps a contiguous window ending at the last push, within its byte budget', () => {
    const op: fc.Arbitrary<Op> = fc.oneof(
      { weight: 8, arbitrary: fc.record({ op: fc.constant('push' as const), size: fc.nat({ max: 200 }) }) },
      {
        weight: 1,
        arbitrary: fc.record({
          op: fc.constant('overwrite' as const),
          back: fc.nat({ max: 40 }),
          size: fc.nat({ max: 200 }),
        }),
      },
      { weight: 1, arbitrary: fc.record({ op: fc.constant('jump' as const), ahead: fc.nat({ max: 5 }) }) },
      {
        weight: 1,
        arbitrary: fc.record({ op: fc.constant('truncate' as const), back: fc.nat({ max: 40 }) }),
      },
      { weight: 1, arbitrary: fc.record({ op: fc.constant('drop' as const), ahead: fc.nat({ max: 40 }) }) },
      { weight: 1, arbitrary: fc.constant({ op: 'clear' as const }) },
    );
    assertProperty(
      fc.property(
        fc.array(op, { minLength: 0, maxLength: 3000, size: 'max' }),
        fc.integer({ min: 64, max: 300_000 }),
        (ops, limit) => {
          const cache = new EntryCache(limit);
          // Model: the entries the cache holds (a push may evict the oldest), by index.
          let model: Entry[] = [];
          let next = 1;
          cache.clear(1);
          for (const o of ops) {
            if (o.op === 'push') {
              const e = entry(next++, o.size);
              cache.push(e);
              model.push(e);
            } else if (o.op === 'overwrite') {
              const at = Math.max(1, next - o.back);
              const e = entry(at, o.size);
              cache.push(e);
              model = model.filter((m) => m.index < at);
              model.push(e);
              next = at + 1;
            } else if (o.op === 'jump') {
              // A gap: the window restarts at the pushed entry.
              const e = entry(next + o.ahead + 1, 10);
              next = e.index + 1;
              cache.push(e);
              model = [e];
            } else if (o.op === 'truncate') {
              const at = Math.max(1, next - o.back);
              cache.truncateFrom(at);
              model = model.filter((m) => m.index < at);
              next = at;
            } else if (o.op === 'drop') {
              const first = model.length > 0 ? model[0]!.index : next;
              const to = Math.min(next, first + o.ahead);
              cache.dropBefore(to);
              model = model.filter((m) => m.index >= to);
            } else {
              cache.clear(next);
              model = [];
            }
            // The cached window is a suffix of the model, every entry by reference, within budget.
            let held = 0;
            let bytes = 0;
            for (let k = model.length - 1; k >= 0; k--) {
              const got = cache.get(model[k]!.index);
              if (got === undefined) break;
              expect(got).toBe(model[k]);
              held++;
              bytes += got.data.byteLength + 64;
            }
            for (let k = 0; k < model.length - held; k++) expect(cache.get(model[k]!.index)).toBeUndefined();
            expect(cache.bytes).toBe(bytes);
            expect(cache.bytes).toBeLessThanOrEqual(limit);
            if (o.op === 'push' || o.op === 'overwrite' || o.op === 'jump') {
              // Only a push evicts, and only as much as the budget demands.
              if (held < model.length) {
                expect(bytes + model[model.length - held - 1]!.data.byteLength + 64).toBeGreaterThan(limit);
              }
            } else {
              expect(held).toBe(model.length);
            }
            model = model.slice(model.length - held);
            expect(cache.get(next)).toBeUndefined();
            expect(cache.get(0)).toBeUndefined();
          }
        },
      ),
      { numRuns: 2 },
    );
  });
});
