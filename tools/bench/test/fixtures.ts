import type { ElectionReport } from '../src/election.js';
import { FIGURE_16, memberArgsFor } from '../src/election.js';
import { Histogram, sampleSummary } from '../src/histogram.js';
import { describeMachine } from '../src/proc.js';
import type { StepResult, ThroughputReport } from '../src/throughput.js';
import type { WatchReport, WatchStepResult } from '../src/watch.js';

/** A throughput report with made-up but plausible numbers (for report rendering tests). */
export function throughputFixture(): ThroughputReport {
  const steps: StepResult[] = [];
  let k = 0;
  for (const size of [16, 256]) {
    for (const c of [1, 16, 64]) {
      const h = new Histogram();
      for (let i = 1; i <= 2000; i++)
        h.recordUs(c * 100 + ((i * 7919) % 3000) + (i % 100 === 0 ? 20_000 : 0));
      const rate = (c * 1000) / (c * 0.1 + 1.5);
      steps.push({
        system: 'keel',
        mode: 'write',
        step: ++k,
        nodes: 3,
        concurrency: c,
        value_size: size,
        read_ratio: 0,
        read_consistency: 'linearizable',
        warmup_s: 1,
        duration_s: 5,
        leader: 'n1',
        ops: Math.round(rate * 5),
        ops_per_sec: rate,
        errors: 0,
        retries: 0,
        error_codes: {},
        latency_ms: h.summaryMs(),
        latency_cdf: h.cdfMs(),
        fsyncs_per_sec: 300,
        entries_per_fsync: c / 2,
        members: ['n1', 'n2', 'n3'].map((id) => ({
          id,
          role: id === 'n1' ? 'leader' : 'follower',
          pid: 100,
          fsyncs_per_sec: 300,
          entries_per_fsync: c / 2,
          cpu_percent: 40,
          rss_mb: 80,
        })),
        clients: [{ pid: 200, clients: c, ops: Math.round(rate * 5), cpu_percent: 10, rss_mb: 90 }],
      });
    }
  }
  return {
    kind: 'throughput',
    machine: describeMachine(),
    started_at: new Date(0).toISOString(),
    options: {
      system: 'keel',
      mode: 'write',
      nodes: 3,
      concurrency: [1, 16, 64],
      value_sizes: [16, 256],
      warmup_s: 1,
      duration_s: 5,
      workers: 2,
      read_ratio: 0,
      stale: false,
      keyspace: 1000,
      cluster: 'started',
    },
    steps,
  };
}

export function electionFixture(): ElectionReport {
  const runs = [150, 12].flatMap((T) =>
    (['kill', 'stop'] as const).map((mode) => {
      const trials = Array.from({ length: 20 }, (_v, i) => ({
        trial: i + 1,
        old_leader: 'n1',
        old_term: i + 1,
        new_leader: 'n2',
        new_term: i + 2,
        leader_ms: T * 1.1 + ((i * 37) % T),
        write_ms: T * 1.2 + ((i * 37) % T),
        error: null,
      }));
      return {
        mode,
        election_timeout_ms: T,
        member_args: memberArgsFor(T),
        trials,
        failures: 0,
        leader_ms: sampleSummary(trials.map((t) => t.leader_ms)),
        write_ms: sampleSummary(trials.map((t) => t.write_ms)),
      };
    }),
  );
  return {
    kind: 'election',
    machine: describeMachine(),
    started_at: new Date(0).toISOString(),
    options: { nodes: 3, trials: 20, modes: ['kill', 'stop'], election_timeouts_ms: [150, 12], poll_ms: 2 },
    runs,
    reference: FIGURE_16,
  };
}

/** A watch fan-out report with made-up but plausible numbers. */
export function watchFixture(): WatchReport {
  const steps: WatchStepResult[] = [1, 100, 1000].map((watchers, k) => {
    const h = new Histogram();
    const f = new Histogram();
    for (let i = 1; i <= 500; i++) {
      h.recordUs(200 * (k + 1) + i * 7 * (k + 1));
      f.recordUs(1000 * (k + 1) + i * 9 * (k + 1));
    }
    const puts = 600;
    return {
      system: 'keel',
      step: k + 1,
      nodes: 3,
      watchers,
      writers: 4,
      rate: 200,
      value_size: 64,
      warmup_s: 1,
      duration_s: 3,
      leader: 'n2',
      puts,
      puts_per_sec: puts / 3,
      put_errors: 0,
      put_error_codes: {},
      events: puts * watchers,
      events_per_sec: (puts * watchers) / 3,
      latency_ms: h.summaryMs(),
      latency_cdf: h.cdfMs(),
      latency_from_send_ms: f.summaryMs(),
      lost: 0,
      duplicated: 0,
      reordered: 0,
      unacked: 0,
      before_ack: 3,
      caught_up: watchers,
      watchers_ended: {},
      member_cpu_us_per_event: Math.round(3000 / watchers),
      watchers_per_member: { n1: Math.ceil(watchers / 3), n2: Math.floor(watchers / 3) },
      members: ['n1', 'n2', 'n3'].map((id) => ({
        id,
        role: id === 'n2' ? 'leader' : 'follower',
        pid: 100,
        cpu_percent: 20,
        rss_mb: 80,
      })),
      clients: [{ pid: 200, watchers, cpu_percent: 10, rss_mb: 100 }],
    };
  });
  return {
    kind: 'watch',
    machine: describeMachine(),
    started_at: new Date(0).toISOString(),
    options: {
      system: 'keel',
      nodes: 3,
      watchers: [1, 100, 1000],
      writers: 4,
      rate: 200,
      value_size: 64,
      warmup_s: 1,
      duration_s: 3,
      workers: 2,
      cluster: 'started',
    },
    steps,
  };
}
