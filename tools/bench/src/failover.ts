import { KvClient, KvClientError } from '@keel/kv';
import { sleep } from '@keel/ops';
import { ClientConnection } from '@keel/transport-zmq';
import { LocalCluster } from './cluster.js';
import { sampleSummary } from './histogram.js';
import { agreedLeader, type Endpoint } from './member.js';
import { describeMachine } from './proc.js';

/**
 * Per-put latency around a failover, seen by writing clients (issue #15):
 * - `stop-leader`: SIGTERM the leader (graceful stop) while `writers` clients put in a loop;
 * - `kill-two`: SIGKILL the leader and one follower of a 5-member cluster.
 * Each trial starts a fresh cluster. Reported: every put in flight at the event or started in the
 * `afterMs` that follow (latency max, p99, errors), and for kill-two how long after the cluster
 * had a leader again the slowest of them completed.
 */
export const FailoverScenario = { StopLeader: 'stop-leader', KillTwo: 'kill-two' } as const;
export type FailoverScenario = (typeof FailoverScenario)[keyof typeof FailoverScenario];

export interface FailoverOptions {
  readonly scenario: FailoverScenario;
  readonly trials: number;
  readonly writers: number;
  /** Writing before the event. */
  readonly beforeMs: number;
  /** Writing after the event. */
  readonly afterMs: number;
}

export const DEFAULT_FAILOVER = { trials: 5, writers: 8, beforeMs: 1000, afterMs: 3000 } as const;

interface Put {
  readonly start: number;
  end: number;
  error: string | null;
}

export interface FailoverTrial {
  readonly puts: number;
  readonly maxMs: number;
  readonly p99Ms: number;
  readonly errors: number;
  /** kill-two: ms from the first moment a live member leads until the last affected put ended. */
  readonly afterLeaderMs: number | null;
}

export async function runFailover(
  opts: FailoverOptions,
  log: (line: string) => void,
): Promise<{ trials: FailoverTrial[]; summary: string }> {
  const nodes = opts.scenario === FailoverScenario.KillTwo ? 5 : 3;
  const trials: FailoverTrial[] = [];
  for (let t = 0; t < opts.trials; t++) {
    const cluster = await LocalCluster.start({ nodes });
    try {
      const trial = await runTrial(cluster, opts);
      trials.push(trial);
      log(
        `trial ${t + 1}/${opts.trials}: ${trial.puts} puts around the event, max ${trial.maxMs} ms, p99 ${trial.p99Ms} ms, errors ${trial.errors}${trial.afterLeaderMs === null ? '' : `, last one done ${trial.afterLeaderMs} ms after a leader was back`}`,
      );
    } finally {
      await cluster.stop();
    }
  }
  const m = describeMachine();
  const max = sampleSummary(trials.map((x) => x.maxMs));
  const lines = [
    `keel-bench failover --scenario ${opts.scenario} --trials ${opts.trials}  (${nodes} members, ${opts.writers} writing clients, fresh cluster per trial)`,
    `machine: ${m.cpu_model}, ${m.cores} cores, node ${process.version}`,
    `put latency around the event, per trial: max of max ${max.max} ms, median of max ${max.median} ms; p99 (worst trial) ${Math.max(...trials.map((x) => x.p99Ms))} ms; errors ${trials.reduce((a, x) => a + x.errors, 0)}`,
  ];
  if (opts.scenario === FailoverScenario.KillTwo) {
    const after = trials.map((x) => x.afterLeaderMs ?? Number.NaN);
    lines.push(`slowest affected put completed after a leader was back: max ${Math.max(...after)} ms`);
  }
  return { trials, summary: lines.join('\n') };
}

async function runTrial(cluster: LocalCluster, opts: FailoverOptions): Promise<FailoverTrial> {
  const eps: readonly Endpoint[] = cluster.members;
  const first = await agreedLeader(eps);
  if (first === null) throw new Error('no leader before the event');
  const puts: Put[] = [];
  let running = true;
  const members = new Map(cluster.members.map((m) => [m.id, m.client]));
  const loops = Array.from({ length: opts.writers }, async (_, w) => {
    const kv = new KvClient({
      endpoints: cluster.members.map((m) => m.client),
      members,
      connect: (a) => new ClientConnection({ address: `tcp://${a}` }),
    });
    try {
      for (let i = 0; running && i < 1_000_000; i++) {
        const p: Put = { start: performance.now(), end: 0, error: null };
        puts.push(p);
        try {
          await kv.put(`w${w}/${i % 1000}`, `${i}`);
        } catch (err) {
          p.error = err instanceof KvClientError ? `${err.code} (${err.outcome})` : String(err);
        }
        p.end = performance.now();
      }
    } finally {
      await kv.close();
    }
  });
  await sleep(opts.beforeMs);
  const victims = [first.leader];
  if (opts.scenario === FailoverScenario.KillTwo) {
    victims.push(cluster.members.find((m) => m.id !== first.leader)!.id);
  }
  const eventAt = performance.now();
  for (const v of victims)
    cluster.signal(v, opts.scenario === FailoverScenario.KillTwo ? 'SIGKILL' : 'SIGTERM');
  // When a live member leads again (polled; the figure is bounded by the poll interval).
  const rest = cluster.members.filter((m) => !victims.includes(m.id));
  let leaderAt: number | null = null;
  const until = eventAt + opts.afterMs;
  while (performance.now() < until) {
    if (leaderAt === null) {
      const l = await agreedLeader(rest);
      if (l !== null && !victims.includes(l.leader)) leaderAt = performance.now();
    }
    await sleep(5);
  }
  running = false;
  await Promise.all(loops);
  const affected = puts.filter((p) => p.end >= eventAt && p.start <= until);
  const lat = sampleSummary(affected.map((p) => p.end - p.start));
  const afterLeader =
    opts.scenario === FailoverScenario.KillTwo && leaderAt !== null
      ? Math.round(Math.max(0, ...affected.map((p) => p.end - Math.max(p.start, leaderAt as number))))
      : null;
  return {
    puts: affected.length,
    maxMs: Math.round(lat.max),
    p99Ms: Math.round(lat.p99),
    errors: affected.filter((p) => p.error !== null).length,
    afterLeaderMs: afterLeader,
  };
}
