/**
 * Random sequences of append (with truncation), hard state, compact and reopen against a model
 * that is just an array: after every step the store and the model agree on bounds, terms, entries
 * and hard state. Tiny segments make rotations and segment deletion part of almost every run.
 */
import type { HardState } from '@keel/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { openLog, type WalLogStore } from '../src/index.js';
import { mkEntries, payload, sameBytes, tempDir } from './helpers.js';
import { assertAsyncProperty } from './propertySeeds.js';

const LONG = process.env.KEEL_LONG === '1';

type Op =
  | { kind: 'append'; back: number; count: number; size: number; bumpTerm: boolean; hs: boolean }
  | { kind: 'compact'; back: number; beyond: boolean }
  | { kind: 'reopen' };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      kind: fc.constant('append' as const),
      back: fc.nat({ max: 8 }),
      count: fc.integer({ min: 0, max: 12 }),
      size: fc.integer({ min: 0, max: 300 }),
      bumpTerm: fc.boolean(),
      hs: fc.boolean(),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('compact' as const),
      back: fc.nat({ max: 10 }),
      beyond: fc.boolean(),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('reopen' as const) }) },
);

interface Model {
  first: number;
  firstTerm: number;
  terms: number[]; // terms[i] is the term of index first + i
  sizes: number[];
  hardState: HardState;
}

function check(log: WalLogStore, m: Model): void {
  const last = m.first + m.terms.length - 1;
  expect([log.firstIndex(), log.lastIndex()]).toEqual([m.first, last]);
  expect(log.term(m.first - 1)).toBe(m.firstTerm);
  expect(log.term(last + 1)).toBe(-1);
  const got = log.entries(m.first, last + 1, Number.POSITIVE_INFINITY);
  expect(got.map((e) => e.term)).toEqual(m.terms);
  got.forEach((e, k) => {
    expect(e.index).toBe(m.first + k);
    expect(sameBytes(e.data, payload(e.index, e.term, m.sizes[k]))).toBe(true);
  });
  expect(log.initialState().hardState).toEqual(m.hardState);
}

describe('WAL against a model', () => {
  it('agrees after any sequence of append / truncate / compact / reopen', async () => {
    await assertAsyncProperty(
      fc.asyncProperty(
        fc.array(opArb, { minLength: 1, maxLength: 30 }),
        fc.boolean(),
        async (ops, prealloc) => {
          const { dir, cleanup } = await tempDir('keel-prop-');
          const options = { segmentSize: 1024, preallocate: prealloc, cacheBytes: 512 };
          let log = await openLog(dir, options);
          try {
            const m: Model = {
              first: 1,
              firstTerm: 0,
              terms: [],
              sizes: [],
              hardState: { term: 0, vote: null, commit: 0 },
            };
            let term = 1;
            for (const op of ops) {
              const last = m.first + m.terms.length - 1;
              if (op.kind === 'append') {
                if (op.bumpTerm) term++;
                const from = Math.max(m.first, last + 1 - op.back);
                const es = mkEntries(from, from + op.count, term, op.size);
                const hs = op.hs
                  ? { term, vote: term % 2 ? `n${term}` : null, commit: Math.max(0, from - 1) }
                  : null;
                await new Promise<void>((res, rej) => log.append(es, hs, (e) => (e ? rej(e) : res())));
                if (es.length > 0) {
                  m.terms.length = from - m.first;
                  m.sizes.length = from - m.first;
                  for (const e of es) {
                    m.terms.push(e.term);
                    m.sizes.push(op.size);
                  }
                }
                if (hs) m.hardState = hs;
              } else if (op.kind === 'compact') {
                const index = op.beyond ? last + 1 + op.back : Math.max(m.first - 1, last - op.back);
                const t = op.beyond ? term : index === m.first - 1 ? m.firstTerm : m.terms[index - m.first]!;
                if (index < m.first) continue;
                await log.compact(index, t);
                const keep = index - m.first + 1;
                if (keep <= m.terms.length && (keep === 0 || m.terms[keep - 1] === t)) {
                  m.terms.splice(0, keep);
                  m.sizes.splice(0, keep);
                } else {
                  m.terms = [];
                  m.sizes = [];
                }
                m.first = index + 1;
                m.firstTerm = t;
              } else {
                await log.close();
                log = await openLog(dir, options);
              }
              check(log, m);
            }
            await log.close();
            log = await openLog(dir, options);
            check(log, m);
          } finally {
            await log.close();
            await cleanup();
          }
        },
      ),
      { numRuns: LONG ? 100 : 12 },
    );
  }, 120_000);
});
