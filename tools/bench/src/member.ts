/** What the bench reads from a member's HTTP endpoint: `/status` (JSON) and `/metrics` (Prometheus text). */
import {
  type Agreement,
  agreedLeader as agreedAmong,
  fetchMetrics,
  fetchStatus,
  type MemberStatus,
  sleep,
} from '@keel/ops';

/**
 * What the bench needs of a member's view of the cluster: the core of a Keel member's `/status`
 * (`MemberStatus` of @keel/ops), which an etcd member's status can fill in as well.
 */
export type RaftView = Pick<
  MemberStatus,
  'id' | 'role' | 'term' | 'leader' | 'commitIndex' | 'appliedIndex' | 'lastIndex' | 'pid'
> &
  Partial<Pick<MemberStatus, 'snapshotIndex' | 'firstIndex'>>;

/** A member as the bench addresses it. */
export interface Endpoint {
  readonly id: string;
  /** Client endpoint, `host:port`. */
  readonly client: string;
  /** HTTP endpoint, `host:port`. */
  readonly http: string;
}

/** The WAL counters of one member, from `/metrics` (cumulative since the member started). */
export interface WalCounters {
  readonly fsyncs: number;
  /** Entries made durable. */
  readonly entries: number;
}

/** Reads one unlabelled-by-us metric value (the member adds only `node_id`). */
export function metricValue(text: string, name: string): number | null {
  const re = new RegExp(`^${name}(?:\\{[^}]*\\})?\\s+(\\S+)$`, 'm');
  const m = re.exec(text);
  return m === null ? null : Number(m[1]);
}

export async function fetchWalCounters(ep: Endpoint, timeoutMs = 1000): Promise<WalCounters | null> {
  const text = await fetchMetrics(ep.http, timeoutMs);
  if (text === null) return null;
  // As for etcd: the number of fsyncs is the count of the fsync-duration histogram.
  const fsyncs = metricValue(text, 'keel_disk_wal_fsync_duration_seconds_count');
  const entries = metricValue(text, 'keel_disk_wal_entries_total');
  if (fsyncs === null || entries === null) return null;
  return { fsyncs, entries };
}

export function tcpAddress(hostPort: string): string {
  return `tcp://${hostPort}`;
}

/** The leader the members agree on, with their statuses (Keel's or etcd's). */
export type Leadership = Agreement<RaftView>;

/** The leader every answering member agrees on (`all`: every endpoint must answer), or null. */
export async function agreedLeader(eps: readonly Endpoint[], all = true): Promise<Leadership | null> {
  return agreedAmong(await Promise.all(eps.map((e) => fetchStatus(e.http))), all);
}

/** Waits (bounded) until every member follows one leader and has applied its commit index. */
export async function waitForCatchUp(eps: readonly Endpoint[], timeoutMs: number): Promise<Leadership> {
  const deadline = performance.now() + timeoutMs;
  let last = 'no member answered';
  while (performance.now() < deadline) {
    const l = await agreedLeader(eps);
    if (l !== null) {
      const commit = l.statuses.find((s) => s.id === l.leader)!.commitIndex;
      if (l.statuses.every((s) => s.appliedIndex >= commit)) return l;
      last = `leader ${l.leader} at commit ${commit}, applied ${l.statuses.map((s) => `${s.id}=${s.appliedIndex}`).join(' ')}`;
    } else {
      last = 'members do not agree on a leader';
    }
    await sleep(20);
  }
  throw new Error(`cluster did not settle within ${timeoutMs} ms (${last})`);
}
