/**
 * `keel bench watch`: watch fan-out. N watchers on one prefix, spread over the client processes
 * and round-robin over the members (followers serve watches), while writers in a process of their
 * own put keys under the prefix at a paced rate (or flat out). Per step: events delivered per
 * second over all watchers, delivery latency from the writer's ack (the commit-time proxy, see
 * watchMatch.ts) to each watcher's receipt, events lost / duplicated / reordered (each must be 0),
 * and the members' CPU and RSS. `--system etcd` runs the same against etcd with etcd3 watches.
 */
import { cpuPercent, sleep } from '@keel/ops';
import { LocalCluster } from './cluster.js';
import { EtcdCluster } from './etcd.js';
import { cpuUsPerOp } from './floor.js';
import { Histogram, type LatencySummary } from './histogram.js';
import type { Endpoint, Leadership } from './member.js';
import { describeMachine, type MachineInfo } from './proc.js';
import {
  findLeader,
  identify,
  type MemberSample,
  type Progress,
  sampleMembers,
  silentProgress,
  spread,
  type Target,
  Worker,
} from './throughput.js';
import { addCounts, emptyCounts, type WatchCounts } from './watchMatch.js';
import type { BenchSystem, WatchWorkerResult, WriteResult } from './workerProtocol.js';

export interface WatchBenchOptions {
  readonly target: Target;
  /** Watchers per step (the sweep). */
  readonly watchers: readonly number[];
  /** Concurrent writers (each one put outstanding). */
  readonly writers: number;
  /** Puts per second over all writers; 0 = flat out. */
  readonly rate: number;
  readonly valueSize: number;
  readonly warmupMs: number;
  readonly durationMs: number;
  /** Client processes the watchers are spread over (the writers have one more of their own). */
  readonly workers: number;
  /** Per-put reply timeout. */
  readonly timeoutMs: number;
  /** How long the watchers may take after the last write to receive it. */
  readonly drainMs: number;
  /** Which members serve the watchers: all (round-robin), or the followers only (the leader serves none). */
  readonly watchOn: 'all' | 'followers';
}

export const DEFAULT_WATCH_BENCH: Omit<WatchBenchOptions, 'target'> = {
  watchers: [1, 100, 1000],
  writers: 4,
  rate: 200,
  valueSize: 64,
  warmupMs: 1000,
  durationMs: 5000,
  workers: 2,
  timeoutMs: 2000,
  drainMs: 10_000,
  watchOn: 'all',
};

export interface WatchStepResult {
  readonly system: BenchSystem;
  readonly step: number;
  readonly nodes: number;
  readonly watchers: number;
  readonly writers: number;
  /** The paced rate asked for (puts/s), 0 = flat out. */
  readonly rate: number;
  readonly value_size: number;
  readonly warmup_s: number;
  readonly duration_s: number;
  readonly leader: string;
  /** Puts acknowledged inside the measured window, and per second. */
  readonly puts: number;
  readonly puts_per_sec: number;
  readonly put_errors: number;
  readonly put_error_codes: Readonly<Record<string, number>>;
  /** Receipts (all watchers) of the puts acknowledged in the window, and per second of it. */
  readonly events: number;
  readonly events_per_sec: number;
  /** Ack of the put (commit proxy) → a watcher receiving its event. */
  readonly latency_ms: LatencySummary;
  readonly latency_cdf: readonly (readonly [number, number])[];
  /** Put sent → a watcher receiving its event: an upper bound (the commit is between send and ack). */
  readonly latency_from_send_ms: LatencySummary;
  /** Acked revisions some watcher never received; repeated; out of order (all must be 0). */
  readonly lost: number;
  readonly duplicated: number;
  readonly reordered: number;
  /** Events of puts whose answer the writer did not get (timeouts). */
  readonly unacked: number;
  /** Receipts stamped before the writer's ack (recorded as 0 ms). */
  readonly before_ack: number;
  /** Watchers that had received the last acked revision at the end of the drain. */
  readonly caught_up: number;
  /** Watchers that ended on their own (error code → count), e.g. KEEL_CLIENT_SLOW_WATCHER. */
  readonly watchers_ended: Readonly<Record<string, number>>;
  /** CPU µs of all members together per delivered event (members' CPU % over events/s). */
  readonly member_cpu_us_per_event: number | null;
  /** Member id → watchers it served. */
  readonly watchers_per_member: Readonly<Record<string, number>>;
  readonly members: readonly {
    readonly id: string;
    readonly role: string;
    readonly pid: number | null;
    readonly cpu_percent: number | null;
    readonly rss_mb: number | null;
  }[];
  /** The watcher processes, CPU over the measured window. */
  readonly clients: readonly {
    readonly pid: number;
    readonly watchers: number;
    readonly cpu_percent: number | null;
    readonly rss_mb: number | null;
  }[];
}

export interface WatchReport {
  readonly kind: 'watch';
  readonly machine: MachineInfo;
  readonly started_at: string;
  readonly options: {
    readonly system: BenchSystem;
    readonly system_version?: string;
    readonly nodes: number;
    readonly watchers: readonly number[];
    readonly writers: number;
    readonly rate: number;
    readonly value_size: number;
    readonly warmup_s: number;
    readonly duration_s: number;
    readonly workers: number;
    /** Absent in reports before the option: `all`. */
    readonly watch_on?: 'all' | 'followers';
    readonly cluster: 'started' | 'external';
  };
  readonly steps: readonly WatchStepResult[];
}

const round = (v: number, digits = 1): number => Math.round(v * 10 ** digits) / 10 ** digits;

/** Runs the sweep over watcher counts on one cluster (a fresh prefix per step). */
export async function runWatchBench(
  opts: WatchBenchOptions,
  progress: Progress = silentProgress,
): Promise<WatchReport> {
  const startedAt = new Date().toISOString();
  const machine = describeMachine();
  let cluster: LocalCluster | null = null;
  let etcd: EtcdCluster | null = null;
  const system: BenchSystem = opts.target.kind === 'etcd' ? 'etcd' : 'keel';
  const workers: Worker[] = [];
  try {
    let eps: Endpoint[];
    if (opts.target.kind === 'etcd') {
      progress.phase(`starting a ${opts.target.nodes}-member etcd cluster`);
      etcd = await EtcdCluster.start(opts.target.nodes);
      eps = etcd.members.map((m) => ({ id: m.id, client: m.client, http: m.http }));
    } else if (opts.target.kind === 'start') {
      progress.phase(`starting a ${opts.target.nodes}-member cluster`);
      cluster = await LocalCluster.start({
        nodes: opts.target.nodes,
        ...(opts.target.memberArgs !== undefined ? { memberArgs: opts.target.memberArgs } : {}),
        ...(opts.target.nodeArgs !== undefined ? { nodeArgs: opts.target.nodeArgs } : {}),
      });
      eps = cluster.members.map((m) => ({ id: m.id, client: m.client, http: m.http }));
    } else {
      eps = await identify(opts.target.endpoints);
    }
    progress.phase(`starting ${opts.workers} watcher processes and 1 writer process`);
    for (const w of await Promise.all(Array.from({ length: opts.workers + 1 }, () => Worker.start())))
      workers.push(w);
    const writer = workers[opts.workers]!;
    const watcherProcs = workers.slice(0, opts.workers);
    const leaderOf = (timeoutMs: number): Promise<Leadership> =>
      etcd !== null ? etcd.leadership(timeoutMs) : findLeader(eps, timeoutMs);
    const idOf = new Map(eps.map((e) => [e.client, e.id]));

    const steps: WatchStepResult[] = [];
    for (const [k, n] of opts.watchers.entries()) {
      const label = `step ${k + 1}/${opts.watchers.length}: ${n} watchers`;
      const prefix = `wbench/${Date.now().toString(36)}-${k + 1}/`;
      const leadership = await leaderOf(10_000);
      const leaderEp = eps.find((e) => e.id === leadership.leader)!;
      const pids = new Map(leadership.statuses.map((s) => [s.id, s.pid]));
      const roles = new Map(leadership.statuses.map((s) => [s.id, s.role]));

      progress.phase(`${label}: opening the watchers`);
      const watchEndpoints = eps
        .filter((e) => opts.watchOn === 'all' || e.id !== leadership.leader)
        .map((e) => e.client);
      const shares = spread(n, watcherProcs.length);
      const active = watcherProcs.filter((_w, i) => shares[i]! > 0);
      let first = 0;
      watcherProcs.forEach((w, i) => {
        if (shares[i]! === 0) return;
        w.send({
          type: 'watch',
          spec: {
            system,
            endpoints: watchEndpoints,
            prefix,
            watchers: shares[i]!,
            firstIndex: first,
          },
        });
        first += shares[i]!;
      });
      await Promise.all(active.map((w) => w.next((m) => m.type === 'watching', 90_000, `${label}: open`)));

      // Writes start only now: every watcher is open, so each owes every acknowledged revision.
      const stepMs = opts.warmupMs + opts.durationMs;
      writer.send({
        type: 'watch-write',
        spec: {
          system,
          endpoint: leaderEp.client,
          prefix,
          writers: opts.writers,
          rate: opts.rate,
          valueSize: opts.valueSize,
          warmupMs: opts.warmupMs,
          durationMs: opts.durationMs,
          timeoutMs: opts.timeoutMs,
        },
      });
      const written = writer.next((m) => m.type === 'written', stepMs + opts.timeoutMs * 2 + 30_000, label);
      const t0 = performance.now();
      const tick = async (untilMs: number): Promise<void> => {
        while (performance.now() - t0 < untilMs) {
          progress.update(
            (k + Math.min(1, (performance.now() - t0) / stepMs)) / opts.watchers.length,
            label,
            0,
          );
          await sleep(Math.min(100, Math.max(1, untilMs - (performance.now() - t0))));
        }
      };
      await tick(opts.warmupMs);
      for (const p of active) p.send({ type: 'watch-mark' });
      const before = await sampleMembers(system, eps, pids);
      await tick(stepMs);
      for (const p of active) p.send({ type: 'watch-mark' });
      const after = await sampleMembers(system, eps, pids);
      const w = await written;
      if (w.type !== 'written') throw new Error('unexpected writer answer');
      const acks = w.result.acks;
      const lastRevision = acks.reduce((m, [r]) => Math.max(m, r), 0);

      progress.phase(`${label}: ${acks.length} puts acknowledged; waiting for every watcher to receive them`);
      const drainStart = performance.now();
      for (const p of active) {
        p.send({
          type: 'watch-drain',
          acks,
          fromUs: w.result.fromUs,
          toUs: w.result.toUs,
          lastRevision,
          drainMs: opts.drainMs,
        });
      }
      const results: WatchWorkerResult[] = [];
      for (const p of active) {
        const m = await p.next((x) => x.type === 'watch-done', opts.drainMs + 60_000, `${label}: drain`);
        if (m.type === 'watch-done') results.push(m.result);
      }
      steps.push(
        watchStep(
          system,
          opts,
          k + 1,
          n,
          eps,
          idOf,
          leadership,
          roles,
          pids,
          before,
          after,
          w.result,
          results,
        ),
      );
      progress.phase(
        `${label}: drained in ${Math.round(performance.now() - drainStart)} ms; ${steps.at(-1)!.events_per_sec} events/s`,
      );
    }
    progress.done();
    return {
      kind: 'watch',
      machine,
      started_at: startedAt,
      options: {
        system,
        ...(etcd !== null ? { system_version: etcd.version } : {}),
        nodes: eps.length,
        watchers: opts.watchers,
        writers: opts.writers,
        rate: opts.rate,
        value_size: opts.valueSize,
        warmup_s: opts.warmupMs / 1000,
        duration_s: opts.durationMs / 1000,
        workers: opts.workers,
        watch_on: opts.watchOn,
        cluster: opts.target.kind === 'endpoints' ? 'external' : 'started',
      },
      steps,
    };
  } finally {
    await Promise.allSettled(workers.map((w) => w.stop()));
    if (cluster !== null) await cluster.stop();
    if (etcd !== null) await etcd.stop();
  }
}

function watchStep(
  system: BenchSystem,
  opts: WatchBenchOptions,
  step: number,
  watchers: number,
  eps: readonly Endpoint[],
  idOf: ReadonlyMap<string, string>,
  leadership: Leadership,
  roles: ReadonlyMap<string, string>,
  pids: ReadonlyMap<string, number>,
  before: ReadonlyMap<string, MemberSample>,
  after: ReadonlyMap<string, MemberSample>,
  writes: WriteResult,
  results: readonly WatchWorkerResult[],
): WatchStepResult {
  const hist = new Histogram();
  const fromSend = new Histogram();
  const counts: WatchCounts = emptyCounts();
  // keel-lint-allow-object-map: member ids and error codes, serialized to the report
  const perMember: Record<string, number> = {};
  // keel-lint-allow-object-map: member ids and error codes, serialized to the report
  const ended: Record<string, number> = {};
  let caughtUp = 0;
  for (const r of results) {
    hist.merge(r.histogram);
    fromSend.merge(r.fromSend);
    addCounts(counts, r.counts);
    caughtUp += r.caughtUp;
    for (const [ep, c] of Object.entries(r.perEndpoint)) {
      const id = idOf.get(ep) ?? ep;
      perMember[id] = (perMember[id] ?? 0) + c;
    }
    for (const [code, c] of Object.entries(r.ended)) ended[code] = (ended[code] ?? 0) + c;
  }
  const secs = opts.durationMs / 1000;
  const members = eps.map((e) => {
    const a = before.get(e.id);
    const b = after.get(e.id);
    return {
      id: e.id,
      role: roles.get(e.id) ?? 'unknown',
      pid: pids.get(e.id) ?? null,
      cpu_percent: cpuPercent(a?.proc ?? null, b?.proc ?? null),
      rss_mb: b?.proc == null ? null : round(b.proc.rssBytes / 2 ** 20),
    };
  });
  const memberCpu = members.some((m) => m.cpu_percent === null)
    ? null
    : members.reduce((t, m) => t + m.cpu_percent!, 0);
  return {
    system,
    step,
    nodes: eps.length,
    watchers,
    writers: opts.writers,
    rate: opts.rate,
    value_size: opts.valueSize,
    warmup_s: opts.warmupMs / 1000,
    duration_s: secs,
    leader: leadership.leader,
    puts: writes.puts,
    puts_per_sec: round(writes.puts / secs),
    put_errors: writes.errors,
    put_error_codes: writes.errorCodes,
    events: counts.measured,
    events_per_sec: round(counts.measured / secs),
    latency_ms: hist.summaryMs(),
    latency_cdf: hist.cdfMs(),
    latency_from_send_ms: fromSend.summaryMs(),
    lost: counts.lost,
    duplicated: counts.duplicated,
    reordered: counts.reordered,
    unacked: counts.unacked,
    before_ack: counts.beforeAck,
    caught_up: caughtUp,
    watchers_ended: ended,
    member_cpu_us_per_event: cpuUsPerOp(memberCpu, counts.measured / secs),
    watchers_per_member: perMember,
    members,
    clients: results.map((r) => ({
      pid: r.pid,
      watchers: r.watchers,
      cpu_percent: r.windowMs > 0 ? round((r.cpuMs / r.windowMs) * 100) : null,
      rss_mb: round(r.rssBytes / 2 ** 20),
    })),
  };
}
