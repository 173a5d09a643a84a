import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { compareRuns, comparisonTable } from '../src/compare.js';
import { runBenchCli } from '../src/main.js';
import { jsonReport } from '../src/report.js';
import type { StepResult, ThroughputReport } from '../src/throughput.js';
import { electionFixture, throughputFixture } from './fixtures.js';
import { captureIo, tempDir } from './helpers.js';

const tmp = tempDir('compare');
afterAll(() => tmp.remove());

/** The fixture with one step changed: `f` maps that step (256 B, c=64) to its new figures. */
function changed(f: (s: StepResult) => Partial<StepResult>): ThroughputReport {
  const r = throughputFixture();
  return {
    ...r,
    started_at: new Date(1000).toISOString(),
    steps: r.steps.map((s) => (s.value_size === 256 && s.concurrency === 64 ? { ...s, ...f(s) } : s)),
  };
}

describe('--compare', () => {
  it('pairs steps and flags only the changes beyond noise, in the right direction', () => {
    const old = throughputFixture();
    const now = changed((s) => ({
      ops_per_sec: s.ops_per_sec * 0.5,
      latency_ms: { ...s.latency_ms, p50: s.latency_ms.p50 * 1.1 },
      cpu_us_per_op: { members: 50, clients: 10 },
    }));
    const oldWithCpu: ThroughputReport = {
      ...old,
      steps: old.steps.map((s) => ({ ...s, cpu_us_per_op: { members: 100, clients: 10 } })),
    };
    const rows = compareRuns(now, oldWithCpu);
    expect(rows.length).toBe(old.steps.length);
    const hit = rows.find((r) => r.key === 'keel write 256 B c=64')!;
    expect(hit.throughput).toBeCloseTo(0.5, 5);
    expect(hit.p50).toBeCloseTo(1.1, 5);
    expect(hit.worse).toEqual(['slower']);
    expect(hit.better).toEqual(['less CPU/op']);
    const same = rows.find((r) => r.key === 'keel write 16 B c=1')!;
    expect(same.throughput).toBe(1);
    expect(same.worse).toEqual([]);
    expect(same.better).toEqual([]);
    // No CPU figure on one side (the new run's other steps, or the old run): no ratio.
    expect(same.cpuPerOp).toBeNull();
    expect(compareRuns(now, old).find((r) => r.key === hit.key)!.cpuPerOp).toBeNull();
    const text = comparisonTable(now, oldWithCpu);
    expect(text).toMatch(
      /keel write 256 B c=64 +0\.50× +1\.10× +0\.50× +WORSE: slower; better: less CPU\/op/,
    );
    expect(text).toMatch(/keel write 16 B c=1 +1\.00× +1\.00× +- +within noise/);
  });

  it('names the steps only one run has', () => {
    const old = throughputFixture();
    const now: ThroughputReport = { ...old, steps: old.steps.filter((s) => s.concurrency !== 16) };
    const text = comparisonTable(now, old);
    expect(text).toContain('only in the older run: keel write 16 B c=16; keel write 256 B c=16');
  });

  it('keel bench report <new.json> --compare <old.json> prints the comparison; bad files are usage errors', async () => {
    const oldFile = join(tmp.path, 'old.json');
    const newFile = join(tmp.path, 'new.json');
    const electionFile = join(tmp.path, 'election.json');
    writeFileSync(oldFile, jsonReport(throughputFixture(), ['keel-bench', 'write']));
    writeFileSync(
      newFile,
      jsonReport(
        changed((s) => ({ ops_per_sec: s.ops_per_sec * 2 })),
        ['keel-bench', 'write'],
      ),
    );
    writeFileSync(electionFile, jsonReport(electionFixture(), ['keel-bench', 'election']));
    const c = captureIo();
    expect(await runBenchCli(['report', newFile, '--compare', oldFile], c.io)).toBe(0);
    expect(c.out()).toMatch(/keel write 256 B c=64 +2\.00× .*better: faster/);
    const bad = captureIo();
    expect(await runBenchCli(['report', newFile, '--compare', electionFile], bad.io)).toBe(1);
    expect(bad.err()).toMatch(/not a write, read or mixed report/);
    const usage = captureIo();
    expect(await runBenchCli(['write', '--compare', join(tmp.path, 'missing.json')], usage.io)).toBe(2);
    expect(usage.err()).toMatch(/--compare .*missing\.json/);
    const notHere = captureIo();
    expect(await runBenchCli(['election', '--compare', oldFile], notHere.io)).toBe(2);
  });
});
