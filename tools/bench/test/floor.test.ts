import { mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  cpuUsPerOp,
  type FsyncFloor,
  floorMs,
  floorMultiple,
  measureFloor,
  measureFsyncFloor,
  measureZmqRtt,
  type RttFloor,
} from '../src/floor.js';
import { floorCells, floorLine } from '../src/floorText.js';
import { textReport } from '../src/report.js';
import { throughputFixture } from './fixtures.js';
import { tempDir } from './helpers.js';

const tmp = tempDir('floor');
afterAll(() => tmp.remove());

const summary = (p50: number) => ({ p50, p90: p50, p99: p50, p999: p50, max: p50, mean: p50 });
const fsync = (p50: number, rounds = 10): FsyncFloor => ({
  dirs: 3,
  rounds,
  bytes_per_write: 4096,
  round_ms: summary(p50),
  cpu_us_per_sync: 120,
});
const rtt = (p50: number, n = 100): RttFloor => ({ round_trips: n, bytes: 256, rtt_ms: summary(p50) });

describe('floor measurement', () => {
  it('fsync loop: every round writes and syncs in every dir at once, and leaves no file behind', async () => {
    const dirs = [join(tmp.path, 'a'), join(tmp.path, 'b')];
    for (const d of dirs) mkdirSync(d);
    const f = await measureFsyncFloor(dirs, { fsyncRounds: 5, budgetMs: 10_000 });
    expect(f.dirs).toBe(2);
    expect(f.rounds).toBe(5);
    expect(f.round_ms.p50).toBeGreaterThan(0);
    expect(f.round_ms.p50).toBeLessThanOrEqual(f.round_ms.max);
    expect(f.cpu_us_per_sync).toBeGreaterThanOrEqual(0);
    for (const d of dirs) expect(readdirSync(d)).toEqual([]);
  });

  it('fsync loop stops at its time budget', async () => {
    const d = join(tmp.path, 'budget');
    mkdirSync(d);
    const f = await measureFsyncFloor([d], { fsyncRounds: 1_000_000, budgetMs: 50 });
    expect(f.rounds).toBeGreaterThan(0);
    expect(f.rounds).toBeLessThan(1_000_000);
  });

  it('ZeroMQ round trip: bounded count, positive latencies', async () => {
    const r = await measureZmqRtt({ roundTrips: 20, budgetMs: 10_000 });
    expect(r.round_trips).toBe(20);
    expect(r.rtt_ms.p50).toBeGreaterThan(0);
  });

  it('measureFloor combines both; without dirs there is no fsync part and no floor', async () => {
    const r = await measureFloor([], { roundTrips: 5 });
    expect(r.fsync).toBeNull();
    expect(r.rtt?.round_trips).toBe(5);
    expect(r.floor_ms).toBeNull();
  });

  it('floor = fsync p50 + 2 RTT p50; multiples and CPU per op', () => {
    expect(floorMs(fsync(0.5), rtt(0.1))).toBeCloseTo(0.7, 9);
    expect(floorMs(null, rtt(0.1))).toBeNull();
    expect(floorMs(fsync(0.5, 0), rtt(0.1))).toBeNull();
    expect(floorMultiple(2.1, 0.7)).toBe(3);
    expect(floorMultiple(2.1, null)).toBeNull();
    // 123 % of a core at 258 writes/s: 4767 µs per write (issue #20's figure).
    expect(cpuUsPerOp(123, 258)).toBe(4767);
    expect(cpuUsPerOp(null, 258)).toBeNull();
    expect(cpuUsPerOp(50, 0)).toBeNull();
  });

  it('the text report shows the floor line and the per-step multiple and CPU per op', () => {
    const r = throughputFixture();
    const steps = r.steps.map((s) => ({
      ...s,
      floor_multiple: 2.5,
      cpu_us_per_op: { members: 480, clients: 60 },
    }));
    const floor = { fsync: fsync(0.5), rtt: rtt(0.1), floor_ms: 0.7 };
    const text = textReport({ ...r, steps, floor });
    expect(text).toContain('floor (fsync p50 + 2 RTT p50) 0.700 ms');
    expect(text).toContain('p50/floor');
    expect(floorCells(steps[0]!)).toEqual(['2.50x', '480', '60']);
    // Reports saved before these fields existed still render.
    expect(floorLine(undefined)).toBeNull();
    expect(floorCells(r.steps[0]!)).toEqual(['-', '-', '-']);
    expect(textReport(r)).not.toContain('floor (');
  });
});
