import { killAllStarted } from '@keel/ops';
import { afterEach, describe, expect, it } from 'vitest';
import { buildSchedule, ChaosExit, type FaultFamily, familyOf } from '../src/index.js';
import { chaos, MEMBER_BUILT, VERDICT_LINE } from './helpers.js';

// A test that times out never reaches chaos()'s own cleanup: kill what it started, by PID, here.
afterEach(() => killAllStarted());

// Short real runs in the default suite: real `keel node` processes (apps/node's build), real
// clients, real faults. Any violation, lost write, wrong counter or failure to converge fails them;
// the output then holds the report and the seed that reproduces the schedule.

/**
 * The families the schedule of a run holds (proxied links, as `chaos()` runs): a fault is asserted
 * to have run only if the seed scheduled it; `buildSchedule` gives every family asked for at least
 * one step when the run is long enough, so the list below is a check, not a hope.
 */
function scheduled(seed: number, durationMs: number, faults: readonly FaultFamily[]): string[] {
  const steps = buildSchedule({ seed, nodes: 3, durationMs, faults, linkModes: true });
  return faults.filter((f) => steps.some((s) => familyOf(s.action) === f));
}

function expectOk(r: Awaited<ReturnType<typeof chaos>>, families: readonly string[]): void {
  const m = VERDICT_LINE.exec(r.lastLine);
  expect(m, r.lastLine).not.toBeNull();
  expect(r.lastLine, `${r.out}\n${r.err}`).toMatch(/0 violations, 0 lost writes, verdict ok$/);
  expect(r.code).toBe(ChaosExit.Ok);
  expect(Number(m![1])).toBeGreaterThan(100);
  const faults = r.json.faults as { kind: string }[];
  for (const f of families)
    expect(
      faults.some((x) => x.kind.startsWith(f)),
      `a ${f} fault ran`,
    ).toBe(true);
  expect(r.json).toMatchObject({ tool: 'keel-chaos', verdict: 'ok', linearizability: 'ok' });
  expect((r.json.counter as { ok: boolean }).ok).toBe(true);
  expect(r.html).toContain('id="timeline-overview"');
}

describe.skipIf(!MEMBER_BUILT)('keel chaos on a real 3-member cluster', () => {
  it('kill, torn WAL tails and power loss: nothing acknowledged is lost', async () => {
    const r = await chaos(
      '--nodes',
      '3',
      '--duration',
      '30s',
      '--faults',
      'kill,torn-wal,power-loss',
      '--seed',
      '20261130',
    );
    const families = scheduled(20261130, 30_000, ['kill', 'torn-wal', 'power-loss']);
    expect(families).toEqual(['kill', 'torn-wal', 'power-loss']);
    expectOk(r, families);
  });

  it('pauses, partitions, leadership transfers and membership changes: every operation linearizable', async () => {
    const r = await chaos(
      '--nodes',
      '3',
      '--duration',
      '30s',
      '--faults',
      'pause,partition,transfer,membership',
      '--seed',
      '7',
    );
    const families = scheduled(7, 30_000, ['pause', 'partition', 'transfer', 'membership']);
    expect(families).toEqual(['pause', 'partition', 'transfer', 'membership']);
    expectOk(r, families);
    // A member left the configuration and came back as a voter under the same id, through the
    // leader's POST /members; the convergence check then saw every member a voter again.
    const lent = (r.json.faults as { kind: string; members: string[]; notes: string[] }[]).filter(
      (f) =>
        f.kind === 'membership' &&
        f.notes.some((n) => n.startsWith(`removed ${f.members[0]} `)) &&
        f.notes.some((n) => n.startsWith(`re-added ${f.members[0]} as a learner `)) &&
        f.notes.some((n) => n.startsWith(`promoted ${f.members[0]} to voter `)),
    );
    expect(lent.length, JSON.stringify(r.json.faults)).toBeGreaterThan(0);
    expect((r.json.convergence as { detail: string }).detail).toMatch(/^all voters, at applied index \d+/);
  });

  it('the pipeline can fail: wiping the WAL of a majority (outside the fault model) gives verdict FAIL', async () => {
    const r = await chaos('--nodes', '3', '--duration', '12s', '--faults', 'amnesia', '--seed', '3');
    const m = VERDICT_LINE.exec(r.lastLine);
    expect(m, r.lastLine).not.toBeNull();
    expect(m![4]).toBe('FAIL');
    expect(r.code).toBe(ChaosExit.Fail);
    // What the wipe breaks depends on how far the workload got (a busy machine runs few operations):
    // acknowledged writes vanish (reads see absent keys: violations; the final state lacks them:
    // lost writes), or the wiped members hold another state than the survivor (no convergence).
    // At least one of them must show.
    const converged = (r.json.convergence as { ok: boolean }).ok;
    expect(Number(m![2]) + Number(m![3]) > 0 || !converged, r.out).toBe(true);
    expect(r.out).toContain('faults active then:');
    expect(r.out).toContain('amnesia');
    expect(r.out).toContain(
      'reproduce the fault schedule with: keel chaos --nodes 3 --duration 12s --faults amnesia --seed 3',
    );
    expect(r.html).toContain('verdict FAIL');
  });
});
