/**
 * etcd as the peer the load benchmarks compare Keel with: a local cluster of real `etcd` processes
 * (Debian's etcd-server, or any `etcd` on PATH / in KEEL_BENCH_ETCD), started with fresh data dirs
 * on loopback and stopped afterwards, and what the bench reads from it — the leader (through the
 * gRPC gateway's JSON API) and the WAL fsync counters (from `/metrics`).
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  processAlive as alive,
  fetchMetrics,
  freeBasePort,
  killPid,
  sleep,
  trackPid,
  untrackPid,
} from '@keel/ops';
import { type Endpoint, type Leadership, metricValue, type RaftView, type WalCounters } from './member.js';

const HOST = '127.0.0.1';

/** The etcd binary: KEEL_BENCH_ETCD, else `etcd` on PATH. */
export function etcdBinary(): string {
  return process.env.KEEL_BENCH_ETCD ?? 'etcd';
}

/** The version line of the etcd binary, or null when there is none (the bench then says how to install it). */
export function etcdVersion(binary = etcdBinary()): string | null {
  const r = spawnSync(binary, ['--version'], { encoding: 'utf8', timeout: 10_000 });
  if (r.status !== 0 || typeof r.stdout !== 'string') return null;
  const m = /etcd Version:\s*(\S+)/.exec(r.stdout);
  return m === null ? null : m[1]!;
}

export const ETCD_MISSING =
  "no 'etcd' binary found: install it (Debian: apt-get install etcd-server) or point KEEL_BENCH_ETCD at one";

interface EtcdMember extends Endpoint {
  pid: number;
  child: ChildProcess | null;
}

/** JSON numbers in etcd's gateway come as decimal strings (uint64); member ids are compared as strings. */
interface GatewayStatus {
  readonly header?: { readonly member_id?: string };
  readonly leader?: string;
  readonly raftTerm?: string;
  readonly raftIndex?: string;
  readonly raftAppliedIndex?: string;
}

async function postJson<T>(hostPort: string, path: string, timeoutMs: number): Promise<T | null> {
  try {
    const res = await fetch(`http://${hostPort}${path}`, {
      method: 'POST',
      body: '{}',
      headers: { 'content-type': 'application/json' },
      signal: AbortSignal.timeout(timeoutMs),
    });
    return res.ok ? ((await res.json()) as T) : null;
  } catch {
    return null;
  }
}

/**
 * A local etcd cluster for comparison runs. Defaults are etcd's own (heartbeat 100 ms, election
 * 1000 ms, fsync on every WAL write), so it is measured as its users run it.
 */
export class EtcdCluster {
  private constructor(
    private readonly dir: string,
    readonly members: EtcdMember[],
    readonly version: string,
  ) {}

  /** Each member's data dir (where the bench measures the fsync floor). */
  get dataDirs(): string[] {
    return this.members.map((m) => join(this.dir, m.id));
  }

  static async start(nodes: number, settleTimeoutMs = 30_000): Promise<EtcdCluster> {
    const binary = etcdBinary();
    const version = etcdVersion(binary);
    if (version === null) throw new Error(ETCD_MISSING);
    const base = await freeBasePort(nodes);
    const dir = mkdtempSync(join(tmpdir(), 'keel-bench-etcd-'));
    const ids = Array.from({ length: nodes }, (_v, i) => i + 1);
    const initial = ids.map((i) => `e${i}=http://${HOST}:${base + i}`).join(',');
    const members: EtcdMember[] = ids.map((i) => ({
      id: `e${i}`,
      client: `${HOST}:${base + 100 + i}`,
      // etcd serves /metrics and the JSON gateway on its client port.
      http: `${HOST}:${base + 100 + i}`,
      pid: 0,
      child: null,
    }));
    const cluster = new EtcdCluster(dir, members, version);
    try {
      for (const [k, m] of members.entries()) {
        const i = k + 1;
        const dataDir = join(dir, m.id);
        mkdirSync(dataDir, { recursive: true });
        const fd = openSync(join(dir, `${m.id}.log`), 'a');
        try {
          const child = spawn(
            binary,
            [
              '--name',
              m.id,
              '--data-dir',
              dataDir,
              '--listen-peer-urls',
              `http://${HOST}:${base + i}`,
              '--initial-advertise-peer-urls',
              `http://${HOST}:${base + i}`,
              '--listen-client-urls',
              `http://${m.client}`,
              '--advertise-client-urls',
              `http://${m.client}`,
              '--initial-cluster',
              initial,
              '--initial-cluster-token',
              `keel-bench-${base}`,
              '--initial-cluster-state',
              'new',
              '--logger',
              'zap',
            ],
            { stdio: ['ignore', fd, fd] },
          );
          if (child.pid === undefined) throw new Error(`could not start etcd member ${m.id}`);
          child.on('error', () => {});
          m.pid = child.pid;
          m.child = child;
          trackPid(child.pid);
        } finally {
          closeSync(fd);
        }
      }
      await cluster.leadership(settleTimeoutMs, true);
    } catch (err) {
      await cluster.stop();
      throw err;
    }
    return cluster;
  }

  /** Each member's view as the bench's RaftView (role from whether it is the leader it reports). */
  async statuses(): Promise<RaftView[]> {
    const raw = await Promise.all(
      this.members.map((m) => postJson<GatewayStatus>(m.client, '/v3/maintenance/status', 1000)),
    );
    const out: RaftView[] = [];
    // Map etcd's numeric member ids to our names: each member reports its own id in the header.
    const names = new Map<string, string>();
    raw.forEach((s, k) => {
      const own = s?.header?.member_id;
      if (own !== undefined) names.set(own, this.members[k]!.id);
    });
    raw.forEach((s, k) => {
      if (s === null) return;
      const m = this.members[k]!;
      const own = s.header?.member_id;
      const leader = s.leader !== undefined && s.leader !== '0' ? (names.get(s.leader) ?? null) : null;
      out.push({
        id: m.id,
        role: own !== undefined && own === s.leader ? 'leader' : 'follower',
        term: Number(s.raftTerm ?? 0),
        leader,
        commitIndex: Number(s.raftIndex ?? 0),
        appliedIndex: Number(s.raftAppliedIndex ?? s.raftIndex ?? 0),
        lastIndex: Number(s.raftIndex ?? 0),
        pid: m.pid,
      });
    });
    return out;
  }

  /** The leader every member agrees on, waiting (bounded) for it; `all`: every member must answer. */
  async leadership(timeoutMs: number, all = false): Promise<Leadership> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const statuses = await this.statuses();
      const leader = statuses[0]?.leader ?? null;
      if (
        leader !== null &&
        (!all || statuses.length === this.members.length) &&
        statuses.every((s) => s.leader === leader)
      ) {
        const ls = statuses.find((s) => s.id === leader);
        if (ls !== undefined) return { leader, term: ls.term, statuses };
      }
      if (performance.now() >= deadline) {
        throw new Error(
          `etcd members did not agree on a leader within ${timeoutMs} ms (logs in ${this.dir})`,
        );
      }
      for (const m of this.members) {
        if (m.pid > 0 && !alive(m.pid))
          throw new Error(`etcd member ${m.id} exited (log: ${this.dir}/${m.id}.log)`);
      }
      await sleep(100);
    }
  }

  /** Stops every member by PID (SIGTERM, then SIGKILL) and removes the data dirs. */
  async stop(graceMs = 5000): Promise<void> {
    const pids = this.members.map((m) => m.pid).filter((p) => p > 0 && alive(p));
    for (const pid of pids) killPid(pid, 'SIGTERM');
    const deadline = performance.now() + graceMs;
    while (pids.some(alive) && performance.now() < deadline) await sleep(20);
    for (const pid of pids) if (alive(pid)) killPid(pid, 'SIGKILL');
    const hard = performance.now() + 3000;
    while (pids.some(alive) && performance.now() < hard) await sleep(20);
    for (const pid of pids) untrackPid(pid);
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/**
 * etcd's WAL counters from `/metrics`: fsyncs are the count of its WAL fsync histogram; entries
 * are its committed proposals (one per client write), so entries per fsync is comparable to
 * Keel's entries per fsync.
 */
export async function fetchEtcdWalCounters(ep: Endpoint, timeoutMs = 1000): Promise<WalCounters | null> {
  const text = await fetchMetrics(ep.http, timeoutMs);
  if (text === null) return null;
  const fsyncs = metricValue(text, 'etcd_disk_wal_fsync_duration_seconds_count');
  const entries = metricValue(text, 'etcd_server_proposals_committed_total');
  if (fsyncs === null || entries === null) return null;
  return { fsyncs, entries };
}
