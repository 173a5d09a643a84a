import { EntryType } from '@keel/core';
import { describe, expect, it } from 'vitest';
import { encodeCommand, FaultMix, RegisterMachine, type RegisterOp, runSeed } from '../src/index.js';
import { mixStart, runSeeds, SIM_SEEDS } from './helpers/seeds.js';

const entry = (id: number, key: string, op: RegisterOp) => ({
  index: id,
  term: 1,
  type: EntryType.Normal,
  data: encodeCommand({ id, key, op }),
});

describe('RegisterMachine transactions', () => {
  it("compare, then one branch, atomically; a get sees its branch's writes; snapshots keep them", () => {
    const m = new RegisterMachine();
    const create: RegisterOp = {
      kind: 'txn',
      compare: [{ key: 'a', target: 'exists', op: '=', value: false }],
      success: [
        { kind: 'put', key: 'a', value: '1' },
        { kind: 'put', key: 'b', value: '1' },
        { kind: 'get', key: 'b' },
      ],
      failure: [
        { kind: 'get', key: 'a' },
        { kind: 'delete', key: 'b' },
        { kind: 'get', key: 'b' },
      ],
    };
    expect(m.apply(entry(1, 'a', create))).toEqual({ kind: 'txn', succeeded: true, gets: ['1'] });
    expect(m.apply(entry(2, 'a', create))).toEqual({ kind: 'txn', succeeded: false, gets: ['1', null] });
    expect([m.get('a'), m.get('b')]).toEqual(['1', null]);
    const absent: RegisterOp = {
      kind: 'txn',
      compare: [{ key: 'b', target: 'value', op: '!=', value: 'x' }],
      success: [{ kind: 'put', key: 'c', value: 'no' }],
      failure: [],
    };
    // An absent key fails every value compare, != included.
    expect(m.apply(entry(3, 'b', absent))).toEqual({ kind: 'txn', succeeded: false, gets: [] });
    const copy = new RegisterMachine();
    copy.restore(m.snapshot());
    expect(copy.snapshot()).toEqual(m.snapshot());
  });
});

describe('simulation with transactions', () => {
  it('a transaction whose writes land in two steps (planted bug): caught by the checker across keys', () => {
    // Without transactions the same bug is invisible: nothing exercises it.
    expect(runSeed(0, { splitTxnWrites: true }).violations).toEqual([]);
    const r = runSeed(0, { txns: 0.3, splitTxnWrites: true });
    expect(r.stats.linearizable).toBe('violation');
    expect(r.violations[0]).toMatch(/^linearizability .*not linearizable: keys "k0", "k1"/);
    expect(runSeed(0, { txns: 0.3 }).violations).toEqual([]);
  });

  it('transactions off leave the run exactly as it was', () => {
    expect(runSeed(7, { txns: 0, trace: true }).trace).toEqual(runSeed(7, { trace: true }).trace);
  });

  // KEEL_SIM_SEEDS / 8 seeds (300 by default) with a quarter of operations transactions over the
  // workload's two keys (one group); `pnpm sim --txns 25` runs more.
  const PER_CASE = Math.max(1, Math.ceil(SIM_SEEDS / 8 / 6));
  describe.each(['all', 'crashes'] as const)('faults: %s', (mix) => {
    it.each([3, 5, 7])(
      `%i nodes, ${PER_CASE} seeds, 25%% transactions: every invariant, linearizability across keys`,
      async (nodes) => {
        const failures = await runSeeds(
          mixStart(mix, nodes) + 50_000,
          PER_CASE,
          { nodes, faults: FaultMix[mix]!, txns: 0.25 },
          (seed) => `pnpm sim --seed ${seed} --nodes ${nodes} --faults ${mix} --txns 25 --trace`,
        );
        expect(failures).toEqual([]);
      },
      600_000,
    );
  });
});
