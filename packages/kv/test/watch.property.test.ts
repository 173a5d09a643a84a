import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { KvCommand, WatchPoll } from '../src/index.js';
import { watchTag } from '../src/watchEvents.js';
import { b, Harness, str } from './helpers.js';

// Random writes (puts, deletes, transactions) against a state machine with small watch bounds,
// and watchers polling at random moments, some of whose answers are lost (the client polls again
// from its last revision). Every watcher must receive exactly its range's events of a naive model,
// in order, each once — or a prefix of them, when the member ended it as slow-watcher.

const KEYS = ['a1', 'a2', 'b1', 'b2'];
const PREFIXES = ['', 'a', 'b1'];

type Step =
  | { readonly kind: 'put'; readonly key: number; readonly value: number }
  | { readonly kind: 'delete'; readonly key: number }
  | { readonly kind: 'txn'; readonly puts: readonly number[]; readonly deletes: readonly number[] }
  | { readonly kind: 'poll'; readonly watcher: number; readonly lost: boolean };

const step: fc.Arbitrary<Step> = fc.oneof(
  fc.record({ kind: fc.constant('put' as const), key: fc.nat(3), value: fc.nat(9) }),
  fc.record({ kind: fc.constant('delete' as const), key: fc.nat(3) }),
  fc.record({
    kind: fc.constant('txn' as const),
    puts: fc.uniqueArray(fc.nat(3), { maxLength: 2 }),
    deletes: fc.uniqueArray(fc.nat(3), { maxLength: 2 }),
  }),
  fc.record({ kind: fc.constant('poll' as const), watcher: fc.nat(2), lost: fc.boolean() }),
);

describe('watch delivery under random writes, batch bounds and lost answers', () => {
  it('gives every watcher its events exactly once, in order (or a prefix, if ended slow)', () => {
    // The runs must reach the paths under test, not only the easy one.
    const seen = { slow: 0, lost: 0, complete: 0, txnEvents: 0 };
    fc.assert(
      fc.property(
        fc.array(step, { maxLength: 80 }),
        fc.record({
          maxEvents: fc.integer({ min: 20, max: 60 }),
          maxBatchEvents: fc.integer({ min: 1, max: 4 }),
          maxBacklogEvents: fc.integer({ min: 3, max: 40 }),
        }),
        (steps, limits) => {
          const h = new Harness({ watch: { ...limits, maxBytes: 1 << 20 } });
          const model = new Map<string, string>();
          const expected: string[] = [];
          let revision = 0;
          const watchers = PREFIXES.map((p) => {
            const c = h.sm.watches.create({ prefix: b(p) }, { from: 1 });
            if (c.kind !== 'created') throw new Error('not created');
            return { prefix: p, id: c.id, next: 1, got: [] as string[], ended: null as string | null };
          });
          const apply = (cmd: KvCommand) => h.apply(cmd);
          for (const s of steps) {
            if (s.kind === 'put') {
              const k = KEYS[s.key]!;
              apply({ type: 'put', key: b(k), value: b(`v${s.value}`) });
              model.set(k, `v${s.value}`);
              expected.push(`${++revision} put ${k}=v${s.value}`);
            } else if (s.kind === 'delete') {
              const k = KEYS[s.key]!;
              apply({ type: 'delete', key: b(k) });
              if (model.delete(k)) expected.push(`${++revision} delete ${k}=`);
            } else if (s.kind === 'txn') {
              const puts = s.puts.map((i) => KEYS[i]!);
              const deletes = s.deletes.map((i) => KEYS[i]!).filter((k) => !puts.includes(k));
              apply({
                type: 'txn',
                compare: [],
                success: [
                  ...puts.map((k) => ({ type: 'put' as const, key: b(k), value: b('t') })),
                  ...deletes.map((k) => ({ type: 'delete' as const, key: b(k) })),
                ],
                failure: [],
              });
              const events: string[] = [];
              for (const k of puts) {
                model.set(k, 't');
                events.push(`put ${k}=t`);
              }
              for (const k of deletes) if (model.delete(k)) events.push(`delete ${k}=`);
              if (events.length > 1) seen.txnEvents++;
              if (events.length > 0) {
                revision++;
                for (const e of events) expected.push(`${revision} ${e}`);
              }
            } else {
              const w = watchers[s.watcher]!;
              if (w.ended !== null) continue;
              const p: WatchPoll = h.sm.watches.poll(w.id, w.next, watchTag({ prefix: b(w.prefix) }, false));
              if (p.kind === 'ended') w.ended = p.reason;
              else if (s.lost) seen.lost += p.kind === 'events' ? 1 : 0;
              else {
                if (p.kind === 'events') {
                  for (const e of p.events) {
                    if (e.kv.modRevision < w.next) continue;
                    w.got.push(`${e.kv.modRevision} ${e.type} ${str(e.kv.key)}=${str(e.kv.value)}`);
                  }
                }
                w.next = p.revision + 1;
              }
            }
          }
          expect(h.sm.revision).toBe(revision);
          for (const w of watchers) {
            // Drain: poll until idle at the store's revision (or ended).
            for (let i = 0; i < 1000 && w.ended === null && w.next <= revision; i++) {
              const p = h.sm.watches.poll(w.id, w.next, watchTag({ prefix: b(w.prefix) }, false));
              if (p.kind === 'ended') w.ended = p.reason;
              else {
                if (p.kind === 'events') {
                  for (const e of p.events)
                    w.got.push(`${e.kv.modRevision} ${e.type} ${str(e.kv.key)}=${str(e.kv.value)}`);
                }
                w.next = p.revision + 1;
              }
            }
            const mine = expected.filter((e) => e.split(' ')[2]!.startsWith(w.prefix));
            if (w.ended === null) {
              expect(w.got).toEqual(mine);
              seen.complete++;
            } else {
              seen.slow++;
              expect(w.ended).toBe('slow-watcher');
              expect(w.got).toEqual(mine.slice(0, w.got.length));
            }
          }
        },
      ),
      { numRuns: 300, seed: 18 },
    );
    expect(seen.slow).toBeGreaterThan(0);
    expect(seen.lost).toBeGreaterThan(0);
    expect(seen.complete).toBeGreaterThan(0);
    expect(seen.txnEvents).toBeGreaterThan(0);
  });
});
