import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Inflights } from '../src/raft/Inflights.js';
import { isQuorum, quorumIndex } from '../src/raft/majority.js';
import { SeededRng } from '../src/raft/rng.js';
import { assertProperty } from './helpers/propertySeeds.js';

describe('quorumIndex', () => {
  it('is the largest index that a majority has reached (naive oracle)', () => {
    assertProperty(
      fc.property(fc.array(fc.nat({ max: 50 }), { minLength: 1, maxLength: 9 }), (matches) => {
        let oracle = 0;
        for (let n = 0; n <= 50; n++) {
          const count = matches.filter((m) => m >= n).length;
          if (isQuorum(count, matches.length)) oracle = n;
        }
        expect(quorumIndex(matches)).toBe(oracle);
      }),
    );
  });

  it('does not modify its input', () => {
    const m = [3, 9, 1];
    quorumIndex(m);
    expect(m).toEqual([3, 9, 1]);
  });
});

describe('Inflights', () => {
  it('tracks count and bytes like a simple queue model', () => {
    const op = fc.oneof(
      fc.record({ kind: fc.constant('add' as const), bytes: fc.nat({ max: 100 }) }),
      fc.record({ kind: fc.constant('free' as const), upTo: fc.nat({ max: 60 }) }),
      fc.record({ kind: fc.constant('freeFirst' as const) }),
    );
    assertProperty(
      fc.property(fc.integer({ min: 1, max: 8 }), fc.array(op, { maxLength: 60 }), (max, ops) => {
        const inf = new Inflights(max, 250);
        const model: { index: number; bytes: number }[] = [];
        let next = 1;
        for (const o of ops) {
          if (o.kind === 'add') {
            if (inf.full()) continue;
            inf.add(next, o.bytes);
            model.push({ index: next, bytes: o.bytes });
            next++;
          } else if (o.kind === 'free') {
            inf.freeLE(o.upTo);
            while (model.length > 0 && model[0]!.index <= o.upTo) model.shift();
          } else {
            inf.freeFirst();
            model.shift();
          }
          const bytes = model.reduce((s, m) => s + m.bytes, 0);
          expect(inf.length).toBe(model.length);
          expect(inf.inflightBytes).toBe(bytes);
          expect(inf.full()).toBe(model.length >= max || bytes >= 250);
        }
      }),
    );
  });
});

describe('SeededRng', () => {
  it('replays the same sequence for a seed and stays in range', () => {
    const a = new SeededRng(99);
    const b = new SeededRng(99);
    for (let i = 0; i < 1000; i++) {
      const x = a.int(17);
      expect(x).toBe(b.int(17));
      expect(x).toBeGreaterThanOrEqual(0);
      expect(x).toBeLessThan(17);
    }
    expect(new SeededRng(1).next()).not.toBe(new SeededRng(2).next());
  });
});
