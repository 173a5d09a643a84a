import { type ChildProcess, fork } from 'node:child_process';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import {
  cpuPercent,
  fetchStatus,
  killPid,
  type ProcSample,
  sampleProc,
  sleep,
  trackPid,
  untrackPid,
} from '@keel/ops';
import { LocalCluster } from './cluster.js';
import { EtcdCluster, fetchEtcdWalCounters } from './etcd.js';
import { cpuUsPerOp, type FloorReport, floorMultiple, measureFloor } from './floor.js';
import { Histogram, type LatencySummary } from './histogram.js';
import {
  agreedLeader,
  type Endpoint,
  fetchWalCounters,
  type Leadership,
  type WalCounters,
} from './member.js';
import { describeMachine, type MachineInfo } from './proc.js';
import type { BenchSystem, FromWorker, ToWorker, WorkerResult, WorkerStep } from './workerProtocol.js';

export const LoadMode = { Write: 'write', Read: 'read', Mixed: 'mixed', Txn: 'txn' } as const;
export type LoadMode = (typeof LoadMode)[keyof typeof LoadMode];

/**
 * Which cluster to load: one the bench starts (and stops), endpoints of a running one, or — for the
 * comparison — an etcd cluster the bench starts.
 */
export type Target =
  | {
      readonly kind: 'start';
      readonly nodes: number;
      readonly memberArgs?: readonly string[];
      /** Node.js flags for the members (profiling: `--cpu-prof`). */
      readonly nodeArgs?: readonly string[];
    }
  | { readonly kind: 'endpoints'; readonly endpoints: readonly Endpoint[] }
  | { readonly kind: 'etcd'; readonly nodes: number };

export interface ThroughputOptions {
  readonly mode: LoadMode;
  readonly target: Target;
  /** Outstanding requests per step (closed-loop clients in total). */
  readonly concurrency: readonly number[];
  readonly valueSizes: readonly number[];
  readonly warmupMs: number;
  readonly durationMs: number;
  /** Client processes the clients are spread over. */
  readonly workers: number;
  /** Fraction of reads in mixed mode (read mode: 1, write mode: 0). */
  readonly readRatio: number;
  /** Serve reads from local state of any member instead of linearizable reads at the leader. */
  readonly stale: boolean;
  readonly keyspace: number;
  /** Per-attempt reply timeout, ms. */
  readonly timeoutMs: number;
}

export const DEFAULT_THROUGHPUT: Omit<ThroughputOptions, 'mode' | 'target'> = {
  concurrency: [1, 16, 64, 256],
  valueSizes: [16, 256, 4096],
  warmupMs: 1000,
  durationMs: 5000,
  workers: 2,
  readRatio: 0.9,
  stale: false,
  keyspace: 1000,
  timeoutMs: 2000,
};

export interface MemberStepStats {
  readonly id: string;
  readonly role: string;
  readonly pid: number | null;
  readonly fsyncs_per_sec: number | null;
  readonly entries_per_fsync: number | null;
  readonly cpu_percent: number | null;
  readonly rss_mb: number | null;
}

export interface ClientStepStats {
  readonly pid: number;
  readonly clients: number;
  readonly ops: number;
  readonly cpu_percent: number;
  readonly rss_mb: number;
}

/** One step of a sweep: the JSON report holds one of these per step (schema in the README). */
export interface StepResult {
  /** The system measured: `keel`, or `etcd` in a comparison run. */
  readonly system: BenchSystem;
  readonly mode: LoadMode;
  readonly step: number;
  readonly nodes: number;
  readonly concurrency: number;
  readonly value_size: number;
  readonly read_ratio: number;
  readonly read_consistency: 'linearizable' | 'stale';
  readonly warmup_s: number;
  readonly duration_s: number;
  readonly leader: string;
  readonly ops: number;
  readonly ops_per_sec: number;
  readonly errors: number;
  readonly retries: number;
  readonly error_codes: Readonly<Record<string, number>>;
  readonly latency_ms: LatencySummary;
  /** [latency ms, fraction of operations at or below it]. */
  readonly latency_cdf: readonly (readonly [number, number])[];
  /** The leader's WAL: fsyncs per second and entries made durable per fsync over the step. */
  readonly fsyncs_per_sec: number | null;
  readonly entries_per_fsync: number | null;
  readonly members: readonly MemberStepStats[];
  readonly clients: readonly ClientStepStats[];
  /** p50 latency over the run's measured floor (`ThroughputReport.floor`); absent in older reports. */
  readonly floor_multiple?: number | null;
  /** CPU µs per completed operation: all members together, and all client processes together. */
  readonly cpu_us_per_op?: { readonly members: number | null; readonly clients: number | null };
}

export interface ThroughputReport {
  readonly kind: 'throughput';
  readonly machine: MachineInfo;
  readonly started_at: string;
  readonly options: {
    readonly system: BenchSystem;
    /** The etcd version in a comparison run. */
    readonly system_version?: string;
    readonly mode: LoadMode;
    readonly nodes: number;
    readonly concurrency: readonly number[];
    readonly value_sizes: readonly number[];
    readonly warmup_s: number;
    readonly duration_s: number;
    readonly workers: number;
    readonly read_ratio: number;
    readonly stale: boolean;
    readonly keyspace: number;
    readonly cluster: 'started' | 'external';
  };
  readonly steps: readonly StepResult[];
  /** The floor measured before the first step (raw fsync on the data dirs, ZeroMQ RTT); absent in older reports. */
  readonly floor?: FloorReport | null;
}

/** Where a long run tells its progress (a bar on a terminal, lines otherwise). */
export interface Progress {
  phase(text: string): void;
  /** `fraction` of the whole run done, with the current step's label and live ops/s. */
  update(fraction: number, label: string, opsPerSec: number): void;
  done(): void;
}

export const silentProgress: Progress = { phase: () => {}, update: () => {}, done: () => {} };

const WORKER_IS_TS = import.meta.url.endsWith('.ts');
const WORKER_SCRIPT = fileURLToPath(new URL(WORKER_IS_TS ? './worker.ts' : './worker.js', import.meta.url));
const PACKAGE_DIR = fileURLToPath(new URL('../', import.meta.url));

/** A forked client process and the messages it sent that nobody has consumed yet. */
export class Worker {
  private readonly inbox: FromWorker[] = [];
  private waiters: (() => void)[] = [];
  exited = false;

  private constructor(readonly child: ChildProcess) {
    child.on('message', (m: FromWorker) => {
      this.inbox.push(m);
      for (const w of this.waiters.splice(0)) w();
    });
    child.on('exit', () => {
      this.exited = true;
      if (child.pid !== undefined) untrackPid(child.pid);
      for (const w of this.waiters.splice(0)) w();
    });
  }

  static async start(): Promise<Worker> {
    const child = fork(WORKER_SCRIPT, [], {
      cwd: PACKAGE_DIR,
      execArgv: WORKER_IS_TS ? ['--conditions=source', '--import', 'tsx'] : [],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    if (child.pid !== undefined) trackPid(child.pid);
    const w = new Worker(child);
    await w.next((m) => m.type === 'ready', 30_000, 'start');
    return w;
  }

  get pid(): number {
    return this.child.pid ?? 0;
  }

  send(msg: ToWorker): void {
    this.child.send(msg);
  }

  /** The next message matching `pick` (bounded); a worker `error` message or exit fails it. */
  async next<T extends FromWorker>(
    pick: (m: FromWorker) => m is T,
    timeoutMs: number,
    what: string,
  ): Promise<T>;
  async next(pick: (m: FromWorker) => boolean, timeoutMs: number, what: string): Promise<FromWorker>;
  async next(pick: (m: FromWorker) => boolean, timeoutMs: number, what: string): Promise<FromWorker> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const i = this.inbox.findIndex((m) => pick(m) || m.type === 'error');
      if (i >= 0) {
        const m = this.inbox.splice(i, 1)[0]!;
        if (m.type === 'error') throw new Error(`client process ${this.pid}: ${m.message}`);
        return m;
      }
      if (this.exited) throw new Error(`client process ${this.pid} exited during ${what}`);
      const left = deadline - performance.now();
      if (left <= 0)
        throw new Error(`client process ${this.pid}: no answer for ${what} within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.min(left, 250));
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  /** Drops progress messages, returning the latest op count. */
  drainProgress(): number | null {
    let ops: number | null = null;
    for (let i = this.inbox.length - 1; i >= 0; i--) {
      const m = this.inbox[i]!;
      if (m.type === 'progress') {
        ops ??= m.ops;
        this.inbox.splice(i, 1);
      } else if (m.type === 'measuring') {
        this.inbox.splice(i, 1);
      }
    }
    return ops;
  }

  async stop(): Promise<void> {
    if (this.exited) return;
    try {
      this.send({ type: 'exit' });
    } catch {
      // channel already closed
    }
    const deadline = performance.now() + 3000;
    while (!this.exited && performance.now() < deadline) await sleep(10);
    if (!this.exited) killPid(this.pid, 'SIGKILL');
    untrackPid(this.pid);
  }
}

export interface MemberSample {
  readonly wal: WalCounters | null;
  readonly proc: ProcSample | null;
  readonly at: number;
}

export async function sampleMembers(
  system: BenchSystem,
  eps: readonly Endpoint[],
  pids: ReadonlyMap<string, number>,
): Promise<Map<string, MemberSample>> {
  const out = new Map<string, MemberSample>();
  await Promise.all(
    eps.map(async (e) => {
      const pid = pids.get(e.id);
      const proc = pid === undefined ? null : sampleProc(pid);
      const wal = system === 'etcd' ? await fetchEtcdWalCounters(e) : await fetchWalCounters(e);
      out.set(e.id, { wal, proc, at: performance.now() });
    }),
  );
  return out;
}

export async function findLeader(eps: readonly Endpoint[], timeoutMs: number): Promise<Leadership> {
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    const l = await agreedLeader(eps, false);
    if (l !== null) return l;
    await sleep(50);
  }
  throw new Error(`no leader that the members agree on within ${timeoutMs} ms`);
}

/** Endpoints with the ids the members report for themselves (a plain endpoint list has none). */
export async function identify(eps: readonly Endpoint[]): Promise<Endpoint[]> {
  return Promise.all(
    eps.map(async (e) => {
      const s = await fetchStatus(e.http, 2000);
      if (s === null) throw new Error(`member at http://${e.http}/status does not answer`);
      return { ...e, id: s.id };
    }),
  );
}

export function spread(total: number, parts: number): number[] {
  return Array.from({ length: parts }, (_v, i) => Math.floor(total / parts) + (i < total % parts ? 1 : 0));
}

const round = (v: number, digits = 1): number => Math.round(v * 10 ** digits) / 10 ** digits;

/**
 * Runs the sweep: for every value size and concurrency, a warm-up and then a measured window of
 * closed-loop load from separate client processes, with the members' WAL, CPU and RSS over the
 * same window. Writes are plain puts without client sessions (no exactly-once bookkeeping: the
 * raw replication path) sent straight to the leader.
 */
export async function runThroughput(
  opts: ThroughputOptions,
  progress: Progress = silentProgress,
): Promise<ThroughputReport> {
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
    // The floor, on the members' own data dirs, before any load (a dir in TMPDIR for a cluster
    // the bench did not start).
    progress.phase('measuring the floor: raw write+fdatasync on the data dirs, ZeroMQ round trip');
    const floor = await measureFloor(
      cluster !== null ? cluster.members.map((m) => m.dataDir) : etcd !== null ? etcd.dataDirs : [tmpdir()],
    );
    progress.phase(`starting ${opts.workers} client processes`);
    for (const w of await Promise.all(Array.from({ length: opts.workers }, () => Worker.start())))
      workers.push(w);

    const leaderOf = (timeoutMs: number): Promise<Leadership> =>
      etcd !== null ? etcd.leadership(timeoutMs) : findLeader(eps, timeoutMs);
    const readRatio =
      opts.mode === 'write' || opts.mode === 'txn' ? 0 : opts.mode === 'read' ? 1 : opts.readRatio;
    const consistency = opts.stale ? 'stale' : 'linearizable';
    // Reads need keys to read; a transaction's compare needs the value it compares with.
    if (readRatio > 0 || opts.mode === 'txn') {
      progress.phase(`writing ${opts.keyspace} keys to ${opts.mode === 'txn' ? 'compare' : 'read'}`);
      const l = await leaderOf(10_000);
      const ep = eps.find((e) => e.id === l.leader)!;
      const w = workers[0]!;
      w.send({
        type: 'fill',
        system,
        endpoint: ep.client,
        keyspace: opts.keyspace,
        valueSize: Math.max(...opts.valueSizes),
      });
      await w.next((m) => m.type === 'filled', 120_000, 'prefill');
    }

    const plan = opts.valueSizes.flatMap((valueSize) => opts.concurrency.map((c) => ({ valueSize, c })));
    const stepMs = opts.warmupMs + opts.durationMs;
    const steps: StepResult[] = [];
    for (const [k, { valueSize, c }] of plan.entries()) {
      const label = `step ${k + 1}/${plan.length}: ${opts.mode} c=${c} ${valueSize} B`;
      const leadership = await leaderOf(10_000);
      const leaderEp = eps.find((e) => e.id === leadership.leader)!;
      const pids = new Map(leadership.statuses.map((s) => [s.id, s.pid]));
      const roles = new Map(leadership.statuses.map((s) => [s.id, s.role]));
      const step: Omit<WorkerStep, 'clients'> = {
        system,
        writeEndpoint: leaderEp.client,
        readEndpoints: consistency === 'stale' ? eps.map((e) => e.client) : [leaderEp.client],
        readRatio,
        consistency,
        txn: opts.mode === 'txn',
        valueSize,
        keyspace: opts.keyspace,
        warmupMs: opts.warmupMs,
        durationMs: opts.durationMs,
        timeoutMs: opts.timeoutMs,
        attempts: 3,
      };
      const shares = spread(c, workers.length);
      const active = workers.filter((_w, i) => shares[i]! > 0);
      const t0 = performance.now();
      workers.forEach((w, i) => {
        if (shares[i]! > 0) w.send({ type: 'run', step: { ...step, clients: shares[i]! } });
      });

      // The members' counters over the same window the clients measure.
      const results: WorkerResult[] = [];
      let before: Map<string, MemberSample> | null = null;
      let after: Map<string, MemberSample> | null = null;
      const pending = active.map((w) =>
        w
          .next((m) => m.type === 'done', stepMs + opts.timeoutMs * 3 + 30_000, label)
          .then((m) => {
            if (m.type === 'done') results.push(m.result);
          }),
      );
      let finished = false;
      const all = Promise.all(pending).finally(() => {
        finished = true;
      });
      const liveOps = new Map<Worker, number>();
      let lastOps = 0;
      let lastRate = 0;
      let lastAt = performance.now();
      while (!finished) {
        const now = performance.now();
        if (before === null && now - t0 >= opts.warmupMs) before = await sampleMembers(system, eps, pids);
        else if (after === null && now - t0 >= stepMs) after = await sampleMembers(system, eps, pids);
        for (const w of active) {
          const latest = w.drainProgress();
          if (latest !== null) liveOps.set(w, latest);
        }
        let ops = 0;
        for (const v of liveOps.values()) ops += v;
        // Live rate over the last half second or more, from the clients' own counts (measured window only).
        let rate = lastRate;
        if (now - lastAt >= 500) {
          rate = ops >= lastOps ? ((ops - lastOps) * 1000) / (now - lastAt) : 0;
          lastRate = rate;
          lastOps = ops;
          lastAt = now;
        }
        progress.update((k + Math.min(1, (now - t0) / stepMs)) / plan.length, label, rate);
        await Promise.race([all, sleep(50)]);
      }
      await all;
      for (const w of active) w.drainProgress();
      after ??= await sampleMembers(system, eps, pids);
      before ??= after;
      steps.push(
        stepResult(
          system,
          opts,
          k + 1,
          eps,
          c,
          valueSize,
          readRatio,
          consistency,
          leadership,
          roles,
          pids,
          before,
          after,
          results,
          floor.floor_ms,
        ),
      );
      progress.update((k + 1) / plan.length, label, 0);
    }
    progress.done();
    return {
      kind: 'throughput',
      machine,
      started_at: startedAt,
      options: {
        system,
        ...(etcd !== null ? { system_version: etcd.version } : {}),
        mode: opts.mode,
        nodes: eps.length,
        concurrency: opts.concurrency,
        value_sizes: opts.valueSizes,
        warmup_s: opts.warmupMs / 1000,
        duration_s: opts.durationMs / 1000,
        workers: opts.workers,
        read_ratio: readRatio,
        stale: opts.stale,
        keyspace: opts.keyspace,
        cluster: opts.target.kind === 'endpoints' ? 'external' : 'started',
      },
      steps,
      floor,
    };
  } finally {
    await Promise.allSettled(workers.map((w) => w.stop()));
    if (cluster !== null) await cluster.stop();
    if (etcd !== null) await etcd.stop();
  }
}

function stepResult(
  system: BenchSystem,
  opts: ThroughputOptions,
  step: number,
  eps: readonly Endpoint[],
  concurrency: number,
  valueSize: number,
  readRatio: number,
  consistency: 'linearizable' | 'stale',
  leadership: Leadership,
  roles: ReadonlyMap<string, string>,
  pids: ReadonlyMap<string, number>,
  before: ReadonlyMap<string, MemberSample>,
  after: ReadonlyMap<string, MemberSample>,
  results: readonly WorkerResult[],
  floor: number | null,
): StepResult {
  const hist = new Histogram();
  let ops = 0;
  let errors = 0;
  let retries = 0;
  // keel-lint-allow-object-map: keyed by KEEL_* error codes, serialized to the report
  const codes: Record<string, number> = {};
  for (const r of results) {
    hist.merge(r.histogram);
    ops += r.ops;
    errors += r.errors;
    retries += r.retries;
    for (const [code, n] of Object.entries(r.errorCodes)) codes[code] = (codes[code] ?? 0) + n;
  }
  const members = eps.map((e): MemberStepStats => {
    const a = before.get(e.id);
    const b = after.get(e.id);
    const secs = a !== undefined && b !== undefined ? (b.at - a.at) / 1000 : 0;
    const df = a?.wal != null && b?.wal != null ? b.wal.fsyncs - a.wal.fsyncs : null;
    const de = a?.wal != null && b?.wal != null ? b.wal.entries - a.wal.entries : null;
    return {
      id: e.id,
      role: roles.get(e.id) ?? 'unknown',
      pid: pids.get(e.id) ?? null,
      fsyncs_per_sec: df === null || secs <= 0 ? null : round(df / secs),
      entries_per_fsync: df === null || de === null || df <= 0 ? null : round(de / df, 2),
      cpu_percent: cpuPercent(a?.proc ?? null, b?.proc ?? null),
      rss_mb: b?.proc == null ? null : round(b.proc.rssBytes / 2 ** 20),
    };
  });
  const leader = members.find((m) => m.id === leadership.leader);
  const opsPerSec = round(ops / (opts.durationMs / 1000));
  const latency = hist.summaryMs();
  const clients = results.map((r) => ({
    pid: r.pid,
    clients: r.clients,
    ops: r.ops,
    cpu_percent: round((r.cpuMs / r.windowMs) * 100),
    rss_mb: round(r.rssBytes / 2 ** 20),
  }));
  const memberCpu = members.some((m) => m.cpu_percent === null)
    ? null
    : members.reduce((t, m) => t + m.cpu_percent!, 0);
  const clientCpu = clients.reduce((t, c) => t + c.cpu_percent, 0);
  return {
    system,
    mode: opts.mode,
    step,
    nodes: eps.length,
    concurrency,
    value_size: valueSize,
    read_ratio: readRatio,
    read_consistency: consistency,
    warmup_s: opts.warmupMs / 1000,
    duration_s: opts.durationMs / 1000,
    leader: leadership.leader,
    ops,
    ops_per_sec: opsPerSec,
    errors,
    retries,
    error_codes: codes,
    latency_ms: latency,
    latency_cdf: hist.cdfMs(),
    fsyncs_per_sec: leader?.fsyncs_per_sec ?? null,
    entries_per_fsync: leader?.entries_per_fsync ?? null,
    members,
    clients,
    floor_multiple: floorMultiple(latency.p50, floor),
    cpu_us_per_op: {
      members: cpuUsPerOp(memberCpu, opsPerSec),
      clients: cpuUsPerOp(clients.length === 0 ? null : clientCpu, opsPerSec),
    },
  };
}
