/**
 * `keel-bench snapshot`: what snapshots cost and buy on a real cluster (paper §7) — the time to
 * take one of a large store and how long the leader's event loop stalls meanwhile, restart time
 * from a snapshot against replaying the same history from the WAL, installing the snapshot on a
 * member that fell behind the leader's compacted log (time, throughput, leader stall), and write
 * throughput while snapshots are taken against without.
 */
import { decodeResponse, encodeRequest } from '@keel/kv';
import { fetchMetrics, fetchStatus, sleep } from '@keel/ops';
import { ClientConnection } from '@keel/transport-zmq';
import { LocalCluster, type LocalMember } from './cluster.js';
import { type Endpoint, metricValue, waitForCatchUp } from './member.js';
import { describeMachine, type MachineInfo } from './proc.js';
import { type Progress, silentProgress } from './throughput.js';

export interface SnapshotBenchOptions {
  readonly nodes: number;
  /** Keys written before the measurements (one entry each). */
  readonly keys: number;
  readonly valueSize: number;
  /** Each of the two write-throughput windows (without, then with snapshots). */
  readonly writeMs: number;
  /** Outstanding writes during the throughput windows. */
  readonly concurrency: number;
  /** Entries kept in the WAL behind a snapshot (the members' --compact-keep). */
  readonly compactKeep: number;
}

export const DEFAULT_SNAPSHOT_BENCH: SnapshotBenchOptions = {
  nodes: 3,
  keys: 1_000_000,
  valueSize: 16,
  writeMs: 5000,
  concurrency: 64,
  compactKeep: 1000,
};

export interface SnapshotResults {
  readonly keys: number;
  /** Log entries when the measurements began. */
  readonly entries: number;
  readonly load_ms: number;
  readonly snapshot_bytes: number | null;
  /** POST /snapshot on the leader to its snapshot being saved. */
  readonly take_ms: number;
  /** The leader's longest event-loop stall while it took the snapshot (encoding it is synchronous). */
  readonly take_leader_stall_ms: number | null;
  /** A follower restarted with no snapshot: WAL replay of every entry, until it has applied the commit index. */
  readonly restart_replay_ms: number;
  /** The same follower restarted from its snapshot plus the WAL tail. */
  readonly restart_snapshot_ms: number;
  /** A follower behind the leader's compacted log restarted: snapshot streamed, installed, caught up. */
  readonly install_ms: number;
  readonly install_mb_per_s: number | null;
  readonly install_leader_stall_ms: number | null;
  readonly writes_without_snapshots_per_sec: number;
  /** The leader's longest event-loop stall while it served those writes (GC of a large heap and all), the baseline for the stalls above. */
  readonly write_stall_without_snapshots_ms: number | null;
  readonly writes_with_snapshots_per_sec: number;
  readonly snapshots_during_writes: number;
  readonly write_stall_ms: number | null;
}

export interface SnapshotReport {
  readonly kind: 'snapshot';
  readonly machine: MachineInfo;
  readonly started_at: string;
  readonly options: {
    readonly nodes: number;
    readonly keys: number;
    readonly value_size: number;
    readonly write_s: number;
    readonly concurrency: number;
    readonly compact_keep: number;
  };
  readonly results: SnapshotResults;
}

const encoder = new TextEncoder();

/** Closed-loop plain puts through one connection: `lanes` outstanding, until `stop()` or `count` done. */
async function writeLoop(
  client: string,
  lanes: number,
  valueSize: number,
  keyOf: (i: number) => string,
  opts: { count?: number; untilMs?: number; progress?: (done: number) => void },
): Promise<number> {
  const conn = new ClientConnection({ address: `tcp://${client}`, reconnectIntervalMs: 20 });
  const value = new Uint8Array(valueSize).fill(0x61);
  let next = 0;
  let done = 0;
  let failed: string | null = null;
  const end = opts.untilMs ?? Number.POSITIVE_INFINITY;
  const count = opts.count ?? Number.POSITIVE_INFINITY;
  const lane = async (): Promise<void> => {
    while (next < count && performance.now() < end && failed === null) {
      const key = encoder.encode(keyOf(next++));
      const payload = encodeRequest({
        command: { type: 'put', key, value },
        consistency: 'linearizable',
      }).slice();
      let ok = false;
      for (let attempt = 0; attempt < 5 && !ok; attempt++) {
        try {
          const res = decodeResponse(await conn.request(payload, { timeoutMs: 5000 }));
          ok = res.kind === 'result' && res.result.ok;
          if (!ok && attempt === 4) failed = res.kind === 'error' ? res.code : 'rejected';
        } catch (err) {
          if (attempt === 4) failed = (err as Error).message;
        }
      }
      if (ok) {
        done++;
        if (done % 10_000 === 0) opts.progress?.(done);
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: lanes }, lane));
  } finally {
    await conn.close();
  }
  if (failed !== null) throw new Error(`writes failed: ${failed}`);
  return done;
}

async function post(http: string, path: string): Promise<number> {
  try {
    const res = await fetch(`http://${http}${path}`, { method: 'POST', signal: AbortSignal.timeout(5000) });
    await res.text();
    return res.status;
  } catch {
    return 0;
  }
}

/** The member's longest event-loop stall since the previous call (prom-client resets it per scrape), ms. */
async function stallMs(http: string): Promise<number | null> {
  const text = await fetchMetrics(http, 5000);
  const v = text === null ? null : metricValue(text, 'nodejs_eventloop_lag_max_seconds');
  return v === null ? null : Math.round(v * 1000 * 10) / 10;
}

async function snapshotBytes(http: string): Promise<number | null> {
  const text = await fetchMetrics(http, 5000);
  return text === null ? null : metricValue(text, 'keel_snapshot_bytes');
}

async function until<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(5);
  }
}

/** Restarts a stopped member and times it until it has applied `index` (its own clock: the bench's). */
async function timedCatchUp(cluster: LocalCluster, m: LocalMember, index: number): Promise<number> {
  const t0 = performance.now();
  cluster.restart(m.id);
  await until(`${m.id} to apply ${index}`, 600_000, async () => {
    const s = await fetchStatus(m.http, 200);
    return s !== null && s.appliedIndex >= index ? true : undefined;
  });
  return Math.round(performance.now() - t0);
}

async function stopMember(cluster: LocalCluster, id: string): Promise<void> {
  cluster.signal(id, 'SIGTERM');
  await cluster.waitGone(id, 30_000);
}

/** Takes a snapshot on `m` now and waits until it is saved; returns the time it took. */
async function takeSnapshot(m: Endpoint): Promise<number> {
  const from = (await fetchStatus(m.http, 2000))?.snapshotIndex ?? 0;
  const t0 = performance.now();
  const code = await post(m.http, '/snapshot');
  if (code !== 202) throw new Error(`POST /snapshot on ${m.id} answered ${code}`);
  await until(`${m.id}'s snapshot to be saved`, 300_000, async () => {
    const s = await fetchStatus(m.http, 1000);
    return s !== null && (s.snapshotIndex ?? 0) > from ? true : undefined;
  });
  return Math.round(performance.now() - t0);
}

export async function runSnapshotBench(
  opts: SnapshotBenchOptions,
  progress: Progress = silentProgress,
): Promise<SnapshotReport> {
  const startedAt = new Date().toISOString();
  const machine = describeMachine();
  progress.phase(`starting a ${opts.nodes}-member cluster (automatic snapshots off)`);
  const cluster = await LocalCluster.start({
    nodes: opts.nodes,
    memberArgs: [
      '--snapshot-entries',
      '0',
      '--snapshot-bytes',
      '0',
      '--compact-keep',
      String(opts.compactKeep),
    ],
  });
  try {
    const lead = await waitForCatchUp(cluster.members, 20_000);
    const leader = cluster.member(lead.leader);
    const follower = cluster.members.find((m) => m.id !== leader.id)!;
    const steps = 7;
    const tick = (k: number, label: string): void => progress.update(k / steps, label, 0);

    tick(0, `writing ${opts.keys} keys`);
    const t0 = performance.now();
    await writeLoop(leader.client, 256, opts.valueSize, (i) => `snap/${String(i).padStart(10, '0')}`, {
      count: opts.keys,
      progress: (done) => progress.update((done / opts.keys) * (1 / steps), `writing keys: ${done}`, 0),
    });
    const loadMs = Math.round(performance.now() - t0);
    const settled = await waitForCatchUp(cluster.members, 120_000);
    const entries = settled.statuses.find((s) => s.id === leader.id)!.commitIndex;

    tick(1, 'restart by replaying the WAL');
    await stopMember(cluster, follower.id);
    const restartReplay = await timedCatchUp(cluster, follower, entries);

    tick(2, 'taking a snapshot on every member');
    await stallMs(leader.http); // resets the leader's stall gauge
    const takeMs = await takeSnapshot(leader);
    const takeStall = await stallMs(leader.http);
    for (const m of cluster.members) if (m.id !== leader.id) await takeSnapshot(m);
    const bytes = await snapshotBytes(leader.http);

    tick(3, 'restart from the snapshot');
    await stopMember(cluster, follower.id);
    const restartSnapshot = await timedCatchUp(cluster, follower, entries);

    tick(4, 'installing the snapshot on a member behind the compacted log');
    await stopMember(cluster, follower.id);
    // Move the log on past what compaction keeps, then snapshot and compact the leader.
    await writeLoop(leader.client, 64, opts.valueSize, (i) => `snap/${String(i).padStart(10, '0')}`, {
      count: opts.compactKeep * 2 + 100,
    });
    await takeSnapshot(leader);
    const target = (await fetchStatus(leader.http, 2000))!.commitIndex;
    await stallMs(leader.http);
    const installMs = await timedCatchUp(cluster, follower, target);
    const installStall = await stallMs(leader.http);
    const restored = await fetchStatus(follower.http, 2000);
    if ((restored?.snapshotIndex ?? 0) < entries) {
      throw new Error(`${follower.id} caught up without installing the leader's snapshot`);
    }

    tick(5, 'writes without snapshots');
    const wKey = (i: number): string => `snap/${String(i % opts.keys).padStart(10, '0')}`;
    // A warm-up first: the member that just installed a snapshot is still settling.
    await writeLoop(leader.client, opts.concurrency, opts.valueSize, wKey, {
      untilMs: performance.now() + 1000,
    });
    await stallMs(leader.http);
    const w0 = performance.now();
    const without = await writeLoop(leader.client, opts.concurrency, opts.valueSize, wKey, {
      untilMs: w0 + opts.writeMs,
    });
    const withoutRate = (without * 1000) / (performance.now() - w0);
    const baseStall = await stallMs(leader.http);

    tick(6, 'writes while the leader snapshots every second');
    await stallMs(leader.http);
    const w1 = performance.now();
    let taken = 0;
    let writing = true;
    const snapshotter = (async () => {
      while (writing) {
        await sleep(1000);
        if (writing && (await post(leader.http, '/snapshot')) === 202) taken++;
      }
    })();
    const withSnaps = await writeLoop(leader.client, opts.concurrency, opts.valueSize, wKey, {
      untilMs: w1 + opts.writeMs,
    });
    const withRate = (withSnaps * 1000) / (performance.now() - w1);
    writing = false;
    await snapshotter;
    const writeStall = await stallMs(leader.http);
    progress.done();

    const round = (v: number, d = 1): number => Math.round(v * 10 ** d) / 10 ** d;
    return {
      kind: 'snapshot',
      machine,
      started_at: startedAt,
      options: {
        nodes: opts.nodes,
        keys: opts.keys,
        value_size: opts.valueSize,
        write_s: opts.writeMs / 1000,
        concurrency: opts.concurrency,
        compact_keep: opts.compactKeep,
      },
      results: {
        keys: opts.keys,
        entries,
        load_ms: loadMs,
        snapshot_bytes: bytes,
        take_ms: takeMs,
        take_leader_stall_ms: takeStall,
        restart_replay_ms: restartReplay,
        restart_snapshot_ms: restartSnapshot,
        install_ms: installMs,
        install_mb_per_s: bytes === null ? null : round(bytes / 2 ** 20 / (installMs / 1000)),
        install_leader_stall_ms: installStall,
        writes_without_snapshots_per_sec: round(withoutRate, 0),
        write_stall_without_snapshots_ms: baseStall,
        writes_with_snapshots_per_sec: round(withRate, 0),
        snapshots_during_writes: taken,
        write_stall_ms: writeStall,
      },
    };
  } finally {
    await cluster.stop();
  }
}

export function snapshotTable(r: SnapshotReport): string {
  const x = r.results;
  const ms = (v: number | null): string => (v === null ? '?' : `${v} ms`);
  const rows: [string, string][] = [
    [
      'store',
      `${x.keys} keys of ${r.options.value_size} B, ${x.entries} log entries (loaded in ${x.load_ms} ms)`,
    ],
    ['snapshot size', x.snapshot_bytes === null ? '?' : `${(x.snapshot_bytes / 2 ** 20).toFixed(1)} MiB`],
    [
      'take a snapshot (leader)',
      `${ms(x.take_ms)}; leader event loop stalled at most ${ms(x.take_leader_stall_ms)}`,
    ],
    ['restart: replay the whole WAL', ms(x.restart_replay_ms)],
    [
      'restart: snapshot + WAL tail',
      `${ms(x.restart_snapshot_ms)} (${(x.restart_replay_ms / Math.max(1, x.restart_snapshot_ms)).toFixed(1)}x faster)`,
    ],
    [
      'install on a member behind the compacted log',
      `${ms(x.install_ms)} (${x.install_mb_per_s ?? '?'} MiB/s); leader stalled at most ${ms(x.install_leader_stall_ms)}`,
    ],
    [
      `writes at ${r.options.concurrency} outstanding`,
      `${x.writes_without_snapshots_per_sec}/s without (stall at most ${ms(x.write_stall_without_snapshots_ms)}), ${x.writes_with_snapshots_per_sec}/s with a snapshot every second (${x.snapshots_during_writes} taken; ratio ${(x.writes_with_snapshots_per_sec / Math.max(1, x.writes_without_snapshots_per_sec)).toFixed(2)}; stall at most ${ms(x.write_stall_ms)})`,
    ],
  ];
  const w = Math.max(...rows.map((r2) => r2[0].length));
  return [
    `snapshot bench, ${r.options.nodes} members`,
    '',
    ...rows.map(([k, v]) => `${k.padEnd(w)}  ${v}`),
    '',
  ].join('\n');
}
