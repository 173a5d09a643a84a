import { loadavg } from 'node:os';
import { decodeResponse, encodeRequest } from '@keel/kv';
import { fetchStatus, type MemberStatus, sleep } from '@keel/ops';
import { ClientConnection } from '@keel/transport-zmq';
import { BackgroundLoad, type LoadSummary } from './backgroundLoad.js';
import { LocalCluster } from './cluster.js';
import { sampleSummary } from './histogram.js';
import { type Endpoint, waitForCatchUp } from './member.js';
import { describeMachine, type MachineInfo } from './proc.js';
import { type Progress, silentProgress } from './throughput.js';

/** How the leader is taken out: SIGKILL (a crash) or SIGSTOP (a hang: alive, silent). */
export const FaultMode = { Kill: 'kill', Stop: 'stop' } as const;
export type FaultMode = (typeof FaultMode)[keyof typeof FaultMode];

export interface ElectionOptions {
  readonly nodes: number;
  readonly trials: number;
  readonly modes: readonly FaultMode[];
  /** Minimum election timeouts T to measure (members draw from [T, 2T)). */
  readonly electionTimeoutsMs: readonly number[];
  /** Pause between two /status polls of one member during a trial. */
  readonly pollMs: number;
  /** A trial that has not seen both a leader and a committed write by then fails. */
  readonly trialTimeoutMs: number;
  /**
   * Also run every setting's trials with `scripts/load.mjs` beside the cluster (CPU spinners on
   * every core and an fdatasync loop), reported as separate runs next to the unloaded ones.
   */
  readonly load?: boolean;
  /** Keep the members' data dirs (and their logs, `<dir>/<id>/member.log`) here. */
  readonly dir?: string;
}

export const DEFAULT_ELECTION: ElectionOptions = {
  nodes: 3,
  trials: 50,
  modes: ['kill', 'stop'],
  electionTimeoutsMs: [150],
  pollMs: 2,
  trialTimeoutMs: 10_000,
};

/** The fast setting of the Raft paper's Figure 16 (timeouts 12–24 ms). */
export const FAST_ELECTION_TIMEOUT_MS = 12;

/**
 * Member flags for an election timeout T: a 10 ms tick and 50 ms heartbeat for the usual
 * 150–300 ms; for short timeouts a 1 ms tick and a heartbeat of T/4 so the timeout stays well
 * above the heartbeat (the paper used 12–24 ms with a much shorter broadcast time).
 */
export function memberArgsFor(electionTimeoutMs: number): string[] {
  const tick = electionTimeoutMs >= 100 ? 10 : 1;
  const heartbeat = electionTimeoutMs >= 150 ? 50 : Math.max(1, Math.floor(electionTimeoutMs / 4));
  return [
    '--election-timeout',
    String(electionTimeoutMs),
    '--heartbeat-interval',
    String(heartbeat),
    '--tick',
    String(tick),
  ];
}

export interface Trial {
  readonly trial: number;
  /** Wall-clock time of the signal (ISO), to find the trial in the members' logs. */
  readonly at?: string;
  readonly old_leader: string;
  readonly old_term: number;
  readonly new_leader: string | null;
  readonly new_term: number | null;
  /** Fault to a new leader that every survivor reports, ms; null when the trial failed. */
  readonly leader_ms: number | null;
  /** Fault to the first write committed through a survivor, ms; null when the trial failed. */
  readonly write_ms: number | null;
  readonly error: string | null;
}

export interface TimeSummary {
  readonly n: number;
  readonly min: number;
  readonly median: number;
  readonly p90: number;
  readonly p99: number;
  readonly max: number;
  readonly mean: number;
}

export interface ElectionRun {
  readonly mode: FaultMode;
  readonly election_timeout_ms: number;
  readonly member_args: readonly string[];
  readonly trials: readonly Trial[];
  readonly failures: number;
  readonly leader_ms: TimeSummary;
  readonly write_ms: TimeSummary;
  /** The background load these trials ran beside (its own summary), or null for none. */
  readonly load?: LoadSummary | null;
  /** The machine's 1-minute load average when the run began. */
  readonly loadavg_1m?: number;
}

/** Figure 16 of the Raft paper (Ongaro & Ousterhout, 2014): time to elect a new leader after a crash. */
export const FIGURE_16 = {
  '150-300': { median_ms: 171, p99_ms: 405, max_ms: 603 },
  '12-24': { mean_ms: 35, max_ms: 152 },
} as const;

export interface ElectionReport {
  readonly kind: 'election';
  readonly machine: MachineInfo;
  readonly started_at: string;
  readonly options: {
    readonly nodes: number;
    readonly trials: number;
    readonly modes: readonly FaultMode[];
    readonly election_timeouts_ms: readonly number[];
    readonly poll_ms: number;
    /** Whether every setting also ran beside the background load. */
    readonly load?: boolean;
  };
  readonly runs: readonly ElectionRun[];
  readonly reference: typeof FIGURE_16;
}

const nowMs = (): number => Number(process.hrtime.bigint()) / 1e6;
const encoder = new TextEncoder();

/** Watches the survivors' /status in one tight loop per member until stopped. */
class Watch {
  private readonly latest = new Map<string, MemberStatus>();
  private stopped = false;
  leaderAt: number | null = null;
  leader: { id: string; term: number } | null = null;
  private readonly loops: Promise<void>[];

  constructor(
    private readonly survivors: readonly Endpoint[],
    private readonly oldLeader: string,
    pollMs: number,
  ) {
    this.loops = survivors.map(async (ep) => {
      while (!this.stopped) {
        const s = await fetchStatus(ep.http, 250);
        if (s !== null) {
          this.latest.set(ep.id, s);
          this.check();
        }
        if (pollMs > 0) await sleep(pollMs);
      }
    });
  }

  private check(): void {
    if (this.leaderAt !== null) return;
    const first = this.latest.get(this.survivors[0]!.id);
    const id = first?.leader ?? null;
    if (id === null || id === this.oldLeader) return;
    for (const ep of this.survivors) if (this.latest.get(ep.id)?.leader !== id) return;
    const ls = this.latest.get(id);
    if (ls === undefined || ls.role !== 'leader') return;
    this.leaderAt = nowMs();
    this.leader = { id, term: ls.term };
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all(this.loops);
  }
}

/**
 * Sends puts through the survivors, a new attempt every 2 ms (alternating survivors), until one
 * commits; attempts in flight are bounded by that rate times the 1 s attempt timeout.
 */
class Writer {
  committedAt: number | null = null;
  private stopped = false;
  private readonly loop: Promise<void>;

  constructor(conns: readonly ClientConnection[], trial: number) {
    const payload = encodeRequest({
      command: { type: 'put', key: encoder.encode(`bench/election/${trial}`), value: encoder.encode('x') },
      consistency: 'linearizable',
    }).slice();
    const inFlight: Promise<void>[] = [];
    this.loop = (async () => {
      let k = 0;
      while (!this.stopped && this.committedAt === null) {
        const conn = conns[k++ % conns.length]!;
        // No small cap on attempts in flight: attempts a survivor forwards to a frozen leader
        // hang until their timeout, and a cap reached by them would stall the measurement.
        if (conn.inFlight < 2000) {
          inFlight.push(
            conn.request(payload, { timeoutMs: 1000 }).then(
              (bytes) => {
                const res = decodeResponse(bytes);
                if (res.kind === 'result' && res.result.ok && this.committedAt === null)
                  this.committedAt = nowMs();
              },
              () => {},
            ),
          );
        }
        await sleep(2);
      }
      await Promise.allSettled(inFlight);
    })();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.loop;
  }
}

async function runTrial(
  cluster: LocalCluster,
  conns: ReadonlyMap<string, ClientConnection>,
  mode: FaultMode,
  trial: number,
  opts: ElectionOptions,
): Promise<Trial> {
  const eps = cluster.members;
  const before = await waitForCatchUp(eps, 30_000);
  const old = before.leader;
  const survivors = eps.filter((e) => e.id !== old);
  const watch = new Watch(survivors, old, opts.pollMs);
  // Let every poller have one answer in hand (all still naming the old leader) before the fault.
  await sleep(20);
  let writer: Writer | null = null;
  let error: string | null = null;
  const t0 = nowMs();
  const at = new Date().toISOString();
  try {
    cluster.signal(old, mode === 'kill' ? 'SIGKILL' : 'SIGSTOP');
    writer = new Writer(
      survivors.map((s) => conns.get(s.id)!),
      trial,
    );
    const deadline = t0 + opts.trialTimeoutMs;
    while ((watch.leaderAt === null || writer.committedAt === null) && nowMs() < deadline) await sleep(2);
    if (watch.leaderAt === null) error = `no new leader within ${opts.trialTimeoutMs} ms`;
    else if (writer.committedAt === null) error = `no write committed within ${opts.trialTimeoutMs} ms`;
  } finally {
    await Promise.all([watch.stop(), writer?.stop()]);
    // Recovery between trials: the old leader comes back and catches up before the next fault.
    if (mode === 'kill') {
      await cluster.waitGone(old);
      cluster.restart(old);
    } else {
      cluster.signal(old, 'SIGCONT');
    }
  }
  const r = (v: number | null): number | null => (v === null ? null : Math.round((v - t0) * 100) / 100);
  return {
    trial,
    at,
    old_leader: old,
    old_term: before.term,
    new_leader: watch.leader?.id ?? null,
    new_term: watch.leader?.term ?? null,
    leader_ms: r(watch.leaderAt),
    write_ms: r(writer?.committedAt ?? null),
    error,
  };
}

/**
 * Election latency on a real cluster: per election timeout setting and fault mode, `trials` times
 * take the leader out and time, from the bench's clock at the signal, (a) until every survivor
 * reports the same new leader and (b) until a write sent through a survivor commits.
 */
export async function runElection(
  opts: ElectionOptions,
  progress: Progress = silentProgress,
): Promise<ElectionReport> {
  const startedAt = new Date().toISOString();
  const machine = describeMachine();
  const runs: ElectionRun[] = [];
  const loads = opts.load === true ? [false, true] : [false];
  const total = opts.electionTimeoutsMs.length * opts.modes.length * loads.length * opts.trials;
  let doneTrials = 0;
  for (const T of opts.electionTimeoutsMs) {
    const memberArgs = memberArgsFor(T);
    progress.phase(`starting a ${opts.nodes}-member cluster with ${memberArgs.join(' ')}`);
    const cluster = await LocalCluster.start({
      nodes: opts.nodes,
      memberArgs,
      ...(opts.dir !== undefined ? { dir: `${opts.dir}/T${T}` } : {}),
    });
    const conns = new Map(
      cluster.members.map((m) => [
        m.id,
        new ClientConnection({ address: `tcp://${m.client}`, reconnectIntervalMs: 10 }),
      ]),
    );
    try {
      for (const mode of opts.modes) {
        for (const loaded of loads) {
          const loadavg1m = Math.round(loadavg()[0]! * 100) / 100;
          // Bounded: a trial takes seconds; the load stops by itself long after the trials should.
          const load = loaded ? BackgroundLoad.start({ maxSeconds: 120 + opts.trials * 60 }) : null;
          const trials: Trial[] = [];
          let summary: LoadSummary | null = null;
          try {
            for (let i = 1; i <= opts.trials; i++) {
              const label = `election T=${T} ms ${mode}${loaded ? ' under load' : ''}: trial ${i}/${opts.trials}`;
              progress.update(doneTrials / total, label, 0);
              trials.push(await runTrial(cluster, conns, mode, i, opts));
              doneTrials++;
              progress.update(doneTrials / total, label, 0);
            }
          } finally {
            summary = (await load?.stop()) ?? null;
          }
          const ok = trials.filter((t) => t.error === null);
          runs.push({
            mode,
            election_timeout_ms: T,
            member_args: memberArgs,
            trials,
            failures: trials.length - ok.length,
            leader_ms: sampleSummary(ok.map((t) => t.leader_ms!)),
            write_ms: sampleSummary(ok.map((t) => t.write_ms!)),
            load: loaded
              ? (summary ?? { cpu: 0, fsync: 0, seconds: 0, fsyncsPerSecond: 0, writtenMiB: 0 })
              : null,
            loadavg_1m: loadavg1m,
          });
        }
      }
      await waitForCatchUp(cluster.members, 30_000);
    } finally {
      await Promise.allSettled([...conns.values()].map((c) => c.close()));
      await cluster.stop();
    }
  }
  progress.done();
  return {
    kind: 'election',
    machine,
    started_at: startedAt,
    options: {
      nodes: opts.nodes,
      trials: opts.trials,
      modes: opts.modes,
      election_timeouts_ms: opts.electionTimeoutsMs,
      poll_ms: opts.pollMs,
      load: opts.load === true,
    },
    runs,
    reference: FIGURE_16,
  };
}
