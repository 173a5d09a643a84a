import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { killAllStarted } from '@keel/ops';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { MEMBER_PROGRAM } from '../src/cluster.js';
import { ETCD_MISSING, etcdVersion } from '../src/etcd.js';
import { ExitCode, runBenchCli } from '../src/main.js';
import { captureIo, expectStepSchema, readJson, tempDir } from './helpers.js';

// Short smoke runs of every bench mode against real `keel node` processes (apps/node's build):
// they check the report's schema and that values are sane, not speed.
const tmp = tempDir('smoke');
afterEach(() => {
  // Every member and client process the run started, by PID, even when the test failed.
  killAllStarted();
});
afterAll(() => tmp.remove());

const LOAD = [
  '--nodes',
  '3',
  '--concurrency',
  '4',
  '--value-size',
  '64',
  '--warmup',
  '0.3',
  '--duration',
  '1',
];

// Watch: a short step, 4 watchers (2 processes, round-robin over 3 members), 2 writers at 100 puts/s.
const WATCH = [
  '--nodes',
  '3',
  '--watchers',
  '4',
  '--writers',
  '2',
  '--rate',
  '100',
  '--warmup',
  '0.3',
  '--duration',
  '1',
];

function expectWatchReport(
  r: { doc: Record<string, unknown>; html: string; out: string },
  system: string,
): void {
  expect(r.doc).toMatchObject({ tool: 'keel-bench', schema_version: 1, kind: 'watch' });
  const steps = r.doc.steps as Record<string, unknown>[];
  expect(steps).toHaveLength(1);
  const s = steps[0]!;
  // The counting, not speed: every watcher got every acknowledged put exactly once, in order.
  expect(s).toMatchObject({ system, watchers: 4, lost: 0, duplicated: 0, reordered: 0, caught_up: 4 });
  expect(s.watchers_ended).toEqual({});
  expect(s.puts as number).toBeGreaterThan(0);
  // Each measured put reaches all 4 watchers (an unacked put's events are not measured).
  expect(s.events).toBe((s.puts as number) * 4);
  expect(Object.values(s.watchers_per_member as Record<string, number>).sort()).toEqual([1, 1, 2]);
  expect((s.latency_ms as { p50: number }).p50).toBeGreaterThanOrEqual(0);
  expect((s.members as unknown[]).length).toBe(3);
  expect((s.clients as unknown[]).length).toBe(2);
  expect(r.out).toContain('events/s');
  expect(r.html).toContain('id="chart-watch-latency-cdf"');
}

async function bench(name: string, ...argv: string[]) {
  const json = join(tmp.path, `${name}.json`);
  const html = join(tmp.path, `${name}.html`);
  const c = captureIo();
  const code = await runBenchCli([...argv, '--json', json, '--html', html], c.io);
  if (code !== ExitCode.Ok) throw new Error(`exit ${code}: ${c.err()}`);
  return { doc: readJson(json), html: readFileSync(html, 'utf8'), out: c.out(), err: c.err() };
}

describe.skipIf(!existsSync(MEMBER_PROGRAM))('keel-bench smoke runs on a real 3-member cluster', () => {
  it('write: one step at concurrency 4 reports throughput, latency, fsyncs and processes', async () => {
    const r = await bench('write', 'write', ...LOAD);
    expect(r.doc).toMatchObject({ tool: 'keel-bench', schema_version: 1, kind: 'throughput' });
    const steps = r.doc.steps as Record<string, unknown>[];
    expect(steps).toHaveLength(1);
    const s = steps[0]!;
    expectStepSchema(s, 3);
    expect(s).toMatchObject({ mode: 'write', concurrency: 4, value_size: 64, read_ratio: 0 });
    expect(s.fsyncs_per_sec as number).toBeGreaterThan(0);
    expect(s.entries_per_fsync as number).toBeGreaterThanOrEqual(0.5);
    expect(r.out).toContain('ops/s');
    expect(r.html).toContain('id="chart-throughput"');
    expect(r.html).toContain('id="chart-latency-cdf"');
    // The floor of the same run (issue #20): fsync on the three data dirs and ZeroMQ round trips.
    const floor = r.doc.floor as { fsync: { dirs: number; rounds: number }; floor_ms: number };
    expect(floor.fsync.dirs).toBe(3);
    expect(floor.fsync.rounds).toBeGreaterThan(0);
    expect(floor.floor_ms).toBeGreaterThan(0);
    expect(s.floor_multiple as number).toBeGreaterThan(0);
    const cpu = s.cpu_us_per_op as { members: number; clients: number };
    expect(cpu.members).toBeGreaterThan(0);
    expect(cpu.clients).toBeGreaterThan(0);
    expect(r.out).toContain('floor (fsync p50 + 2 RTT p50)');
    expect(r.html).toContain('Floor, same run.');
  });

  it('read: linearizable gets at the leader', async () => {
    const r = await bench('read', 'read', ...LOAD, '--keyspace', '100');
    const s = (r.doc.steps as Record<string, unknown>[])[0]!;
    expectStepSchema(s, 3);
    expect(s).toMatchObject({ mode: 'read', read_ratio: 1, read_consistency: 'linearizable' });
  });

  it('mixed: 90 % reads, 10 % writes', async () => {
    const r = await bench('mixed', 'mixed', ...LOAD, '--keyspace', '100');
    const s = (r.doc.steps as Record<string, unknown>[])[0]!;
    expectStepSchema(s, 3);
    expect(s).toMatchObject({ mode: 'mixed', read_ratio: 0.9 });
  });

  it('txn: every transaction finds its key and commits its two puts', async () => {
    const r = await bench('txn', 'txn', ...LOAD, '--keyspace', '100');
    const s = (r.doc.steps as Record<string, unknown>[])[0]!;
    expectStepSchema(s, 3);
    expect(s).toMatchObject({ mode: 'txn', read_ratio: 0, errors: 0 });
    expect(s.error_codes).not.toHaveProperty('txn-compare-failed');
  });

  it('watch: 4 watchers over 3 members receive every acknowledged put once, in order', async () => {
    const r = await bench('watch', 'watch', ...WATCH);
    expectWatchReport(r, 'keel');
    // A saved watch report renders again.
    const c = captureIo();
    expect(await runBenchCli(['report', join(tmp.path, 'watch.json')], c.io)).toBe(ExitCode.Ok);
    expect(c.out()).toContain('Keel watch fan-out');
  });

  it('election: two trials of kill and of stop elect a new leader and commit a write', async () => {
    const r = await bench('election', 'election', '--nodes', '3', '--trials', '2');
    expect(r.doc).toMatchObject({ tool: 'keel-bench', schema_version: 1, kind: 'election' });
    const runs = r.doc.runs as Record<string, unknown>[];
    expect(runs.map((x) => x.mode)).toEqual(['kill', 'stop']);
    for (const run of runs) {
      expect(run).toMatchObject({ election_timeout_ms: 150, failures: 0 });
      const trials = run.trials as Record<string, unknown>[];
      expect(trials).toHaveLength(2);
      for (const t of trials) {
        expect(t.error).toBeNull();
        expect(t.new_leader).not.toBe(t.old_leader);
        expect(t.new_term as number).toBeGreaterThan(t.old_term as number);
        // Sane values, not speed (a busy machine may be slow; speed is the benchmark's to report).
        expect(t.leader_ms as number).toBeGreaterThan(0);
        expect(Number.isFinite(t.leader_ms)).toBe(true);
        expect(t.write_ms as number).toBeGreaterThan(0);
        expect(Number.isFinite(t.write_ms)).toBe(true);
      }
      for (const k of ['leader_ms', 'write_ms']) {
        const s = run[k] as Record<string, number>;
        expect(s.n).toBe(2);
        expect(s.min).toBeLessThanOrEqual(s.median!);
        expect(s.median).toBeLessThanOrEqual(s.max!);
      }
    }
    expect(r.html).toContain('id="chart-election-150"');
    expect(r.html).toContain('paper 150-300 ms: median 171 ms');
  });
});

// The peer comparison: the same load against a real etcd cluster. etcd is a Debian package
// (etcd-server), not an npm dependency, so without it the test says why it is skipped.
const etcd = etcdVersion();
if (etcd === null) console.log(`keel-bench etcd smoke run skipped: ${ETCD_MISSING}`);

describe.skipIf(etcd === null)('keel-bench --system etcd on a real 3-member etcd cluster', () => {
  it('write and read: the same step schema, with etcd fsync counters and its version', async () => {
    const w = await bench('etcd-write', 'write', '--system', 'etcd', ...LOAD);
    expect(w.doc).toMatchObject({ kind: 'throughput', options: { system: 'etcd', system_version: etcd } });
    const s = (w.doc.steps as Record<string, unknown>[])[0]!;
    expectStepSchema(s, 3);
    expect(s).toMatchObject({ system: 'etcd', mode: 'write' });
    expect(s.fsyncs_per_sec as number).toBeGreaterThan(0);
    expect(w.out).toContain(`etcd ${etcd}, 3 members`);
    expect(w.html).toContain(`etcd ${etcd} bench: write`);

    const r = await bench('etcd-read', 'read', '--system', 'etcd', ...LOAD, '--keyspace', '50');
    const rs = (r.doc.steps as Record<string, unknown>[])[0]!;
    expectStepSchema(rs, 3);
    expect(rs).toMatchObject({ system: 'etcd', read_ratio: 1 });

    const t = await bench('etcd-txn', 'txn', '--system', 'etcd', ...LOAD, '--keyspace', '50');
    const ts = (t.doc.steps as Record<string, unknown>[])[0]!;
    expectStepSchema(ts, 3);
    expect(ts).toMatchObject({ system: 'etcd', mode: 'txn', errors: 0 });
  });

  it('watch: the same counts with etcd3 watches', async () => {
    const r = await bench('etcd-watch', 'watch', '--system', 'etcd', ...WATCH);
    expectWatchReport(r, 'etcd');
    expect(r.out).toContain(`etcd ${etcd} watch fan-out`);
  });

  it('refuses --system etcd with an external cluster, and an unknown system', async () => {
    const c = captureIo();
    expect(await runBenchCli(['write', '--system', 'etcd', '--endpoints', 'a:1/a:2'], c.io)).toBe(
      ExitCode.Usage,
    );
    expect(c.err()).toContain('starts its own etcd cluster');
    const d = captureIo();
    expect(await runBenchCli(['write', '--system', 'zookeeper'], d.io)).toBe(ExitCode.Usage);
    expect(d.err()).toContain('--system must be keel or etcd');
  });
});

describe.skipIf(!existsSync(MEMBER_PROGRAM))('keel-bench snapshot on a real 3-member cluster', () => {
  it('takes, restores and installs snapshots and reports every figure', async () => {
    const r = await bench(
      'snapshot',
      'snapshot',
      '--keys',
      '3000',
      '--duration',
      '0.5',
      '--concurrency',
      '8',
      '--compact-keep',
      '100',
    );
    expect(r.doc).toMatchObject({ tool: 'keel-bench', kind: 'snapshot', options: { keys: 3000 } });
    const x = r.doc.results as Record<string, number | null>;
    expect(x.entries as number).toBeGreaterThanOrEqual(3000);
    expect(x.snapshot_bytes as number).toBeGreaterThan(3000 * 16);
    for (const k of ['take_ms', 'restart_replay_ms', 'restart_snapshot_ms', 'install_ms']) {
      expect(x[k] as number, k).toBeGreaterThan(0);
    }
    expect(x.writes_without_snapshots_per_sec as number).toBeGreaterThan(0);
    expect(x).toHaveProperty('write_stall_without_snapshots_ms');
    expect(x.writes_with_snapshots_per_sec as number).toBeGreaterThan(0);
    expect(r.out).toContain('restart: snapshot + WAL tail');
    expect(r.html).toContain('Keel bench: snapshots');
  });
});
