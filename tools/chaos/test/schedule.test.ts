import { describe, expect, it } from 'vitest';
import {
  ALL_FAULTS,
  buildSchedule,
  cutLinks,
  describeStep,
  type FaultFamily,
  type FaultStep,
  familyOf,
  linkName,
  maxRemoved,
  type ScheduleOptions,
} from '../src/index.js';

const base: ScheduleOptions = { seed: 42, nodes: 3, durationMs: 60_000, faults: ALL_FAULTS, linkModes: true };

describe('the nemesis schedule', () => {
  it('is a function of its options: the same seed gives the same faults at the same offsets', () => {
    const a = buildSchedule(base);
    const b = buildSchedule({ ...base });
    expect(a).toEqual(b);
    expect(a.length).toBeGreaterThan(10);
    expect(buildSchedule({ ...base, seed: 43 })).not.toEqual(a);
  });

  it('stays inside the run and uses only the chosen fault families', () => {
    for (const seed of [1, 2, 3, 4, 5]) {
      const steps = buildSchedule({ ...base, seed, faults: ['pause', 'partition'] });
      for (const s of steps) {
        expect(s.atMs).toBeGreaterThanOrEqual(1000);
        expect(s.atMs + s.durationMs).toBeLessThanOrEqual(base.durationMs);
        expect(['pause', 'partition']).toContain(s.action.kind);
      }
      expect(steps.some((s) => s.action.kind === 'pause')).toBe(true);
      expect(steps.some((s) => s.action.kind === 'partition')).toBe(true);
    }
  });

  it('gives every fault family asked for at least one step when the run has room, deterministically', () => {
    for (let seed = 1; seed <= 200; seed++) {
      for (const faults of [
        ['pause', 'partition', 'transfer', 'membership'],
        ['kill', 'torn-wal', 'power-loss'],
        ['kill', 'pause', 'transfer'],
      ] as FaultFamily[][]) {
        const o = { ...base, seed, durationMs: 30_000, faults };
        const steps = buildSchedule(o);
        for (const f of faults)
          expect(
            steps.some((s) => familyOf(s.action) === f),
            `seed ${seed}: ${f}`,
          ).toBe(true);
        expect(buildSchedule(o)).toEqual(steps);
      }
    }
  });

  it('runs process faults one at a time, and network faults and membership steps one at a time beside them', () => {
    const steps = buildSchedule({ ...base, durationMs: 300_000 });
    const net = (k: string) => k === 'partition';
    const membership = (k: string) => k === 'membership';
    for (const track of [(k: string) => !net(k) && !membership(k), net, membership]) {
      const mine = steps.filter((s) => track(s.action.kind));
      for (let i = 1; i < mine.length; i++) {
        expect(mine[i]!.atMs).toBeGreaterThan(mine[i - 1]!.atMs + mine[i - 1]!.durationMs);
      }
    }
  });

  it('enabling a process fault does not move the network faults', () => {
    const net = (faults: ScheduleOptions['faults']) =>
      buildSchedule({ ...base, faults }).filter((s) => s.action.kind === 'partition');
    expect(net(['partition'])).toEqual(net(['partition', 'kill', 'pause']));
  });

  it('makes some cuts reject instead of drop, without moving any other draw', () => {
    const steps = buildSchedule({ ...base, faults: ['partition'], durationMs: 600_000 });
    const rejecting = steps.filter((s) => s.action.kind === 'partition' && s.action.reject === true);
    expect(rejecting.length).toBeGreaterThan(steps.length / 10);
    for (const s of rejecting) {
      expect(s.action.kind === 'partition' && ['slow', 'flaky'].includes(s.action.shape.kind)).toBe(false);
      expect(describeStep(s)).toContain('(links reject)');
    }
  });

  it('makes about one power loss in eight a cluster-wide outage', () => {
    const steps = buildSchedule({ ...base, faults: ['power-loss'], durationMs: 1_200_000 });
    const all = steps.filter((s) => s.action.kind === 'power-loss' && s.action.everyone === true);
    expect(all.length).toBeGreaterThan(steps.length / 20);
    expect(all.length).toBeLessThan(steps.length / 4);
    expect(describeStep(all[0]!)).toMatch(/^power-loss of every member/);
  });

  it('offers slow and flaky links only where the network can make them', () => {
    const steps = buildSchedule({ ...base, faults: ['partition'], durationMs: 600_000, linkModes: false });
    const shapes = new Set(steps.map((s) => (s.action.kind === 'partition' ? s.action.shape.kind : '')));
    expect(shapes).toEqual(new Set(['split', 'isolate-leader', 'bridge', 'asymmetric']));
  });

  it('covers every fault family and pauses both shorter and longer than an election timeout', () => {
    const steps = buildSchedule({ ...base, durationMs: 600_000 });
    expect(new Set(steps.map((s) => s.action.kind))).toEqual(new Set(ALL_FAULTS));
    const pauses = steps.filter((s) => s.action.kind === 'pause').map((s) => s.durationMs);
    expect(Math.min(...pauses)).toBeLessThan(150);
    expect(Math.max(...pauses)).toBeGreaterThan(1000);
    expect(describeStep(steps[0]!)).toMatch(/ for \d+\.\d s$/);
  });
});

describe('membership steps in the schedule', () => {
  const membership = (o: Partial<ScheduleOptions>): FaultStep[] =>
    buildSchedule({ ...base, durationMs: 600_000, ...o }).filter((s) => s.action.kind === 'membership');

  /** The most members the schedule holds out of the configuration at one moment. */
  const mostOut = (steps: readonly FaultStep[]): number => {
    const edges = steps.flatMap((s) => [
      { at: s.atMs, d: 1 },
      { at: s.atMs + s.durationMs, d: -1 },
    ]);
    edges.sort((a, b) => a.at - b.at || a.d - b.d);
    let out = 0;
    let most = 0;
    for (const e of edges) {
      out += e.d;
      most = Math.max(most, out);
    }
    return most;
  };

  it('are part of the default mix and aim at the leader or a fixed member', () => {
    expect(ALL_FAULTS).toContain('membership');
    const steps = membership({});
    expect(steps.length).toBeGreaterThan(30);
    const targets = steps.map((s) => (s.action.kind === 'membership' ? s.action.target.kind : ''));
    expect(new Set(targets)).toEqual(new Set(['leader', 'member']));
    for (const s of steps) {
      expect(s.durationMs).toBeGreaterThanOrEqual(1000);
      expect(s.durationMs).toBeLessThanOrEqual(6000);
    }
    expect(describeStep(steps[0]!)).toMatch(
      /^membership: remove (the leader|n\d), re-add it as a learner, promote it for/,
    );
  });

  it('hold one member out at a time with 3 members, each back (plus a 2 s gap) before the next removal', () => {
    expect(maxRemoved(3)).toBe(1);
    for (const seed of [1, 2, 3, 42, 2026]) {
      const steps = membership({ seed });
      expect(mostOut(steps)).toBe(1);
      for (let i = 1; i < steps.length; i++) {
        expect(steps[i]!.atMs).toBeGreaterThanOrEqual(steps[i - 1]!.atMs + steps[i - 1]!.durationMs + 2000);
      }
    }
  });

  it('never leave fewer than 3 voters with 5 members, and do hold two out at once', () => {
    expect(maxRemoved(5)).toBe(2);
    for (const seed of [1, 2, 3, 42, 2026]) {
      const steps = membership({ seed, nodes: 5 });
      expect(mostOut(steps)).toBe(2);
      expect(5 - mostOut(steps)).toBeGreaterThanOrEqual(3);
    }
  });

  it('move none of the other faults', () => {
    const others = (faults: ScheduleOptions['faults']) =>
      buildSchedule({ ...base, faults }).filter((s) => s.action.kind !== 'membership');
    const without = ALL_FAULTS.filter((f) => f !== 'membership');
    expect(others(ALL_FAULTS)).toEqual(others(without));
    expect(membership({ faults: ['membership'] })).toEqual(membership({}));
  });
});

describe('partitions as cut links', () => {
  const names = (links: ReturnType<typeof cutLinks>) => (links ?? []).map(linkName).sort();

  it('split and isolate-leader cut both directions between the sides', () => {
    expect(names(cutLinks({ kind: 'split', minority: [0] }, 3, null))).toEqual(
      ['n1->n2', 'n1->n3', 'n2->n1', 'n3->n1'].sort(),
    );
    expect(names(cutLinks({ kind: 'isolate-leader' }, 3, 2))).toEqual([
      'n1->n3',
      'n2->n3',
      'n3->n1',
      'n3->n2',
    ]);
    expect(cutLinks({ kind: 'isolate-leader' }, 3, null)).toEqual([]);
  });

  it('a bridge keeps the bridge member connected to both halves', () => {
    const links = names(cutLinks({ kind: 'bridge', left: [0, 1], right: [3, 4], bridge: 2 }, 5, null));
    expect(links).toHaveLength(8);
    expect(links.some((l) => l.includes('n3'))).toBe(false);
  });

  it('asymmetric cuts one direction only', () => {
    expect(
      names(
        cutLinks({ kind: 'asymmetric', member: { kind: 'member', index: 1 }, direction: 'out' }, 3, null),
      ),
    ).toEqual(['n2->n1', 'n2->n3']);
    expect(
      names(cutLinks({ kind: 'asymmetric', member: { kind: 'leader' }, direction: 'in' }, 3, 0)),
    ).toEqual(['n2->n1', 'n3->n1']);
  });
});
