import { claimedLeader, fetchStatus, type MemberStatus } from '@keel/ops';
import type { ClusterFile, MemberRecord } from './ClusterFile.js';
import { checkOwnership } from './ownership.js';

/**
 * What the CLI shows for a member:
 * - running: its process is ours and answers /status;
 * - starting: its process is ours, started less than 10 s ago, and /status does not answer yet;
 * - unreachable: its process is ours but /status did not answer in time;
 * - paused: SIGSTOPped by `keel cluster pause`;
 * - stopped: stopped by the CLI (down, stop, kill);
 * - down: recorded as running, but its process is gone (it crashed or was killed from outside).
 */
export type MemberCondition = 'running' | 'starting' | 'unreachable' | 'paused' | 'stopped' | 'down';

export interface MemberSample {
  readonly id: string;
  readonly pid: number | null;
  readonly condition: MemberCondition;
  readonly status: MemberStatus | null;
  readonly record: MemberRecord;
  /** Leader's last index minus this member's applied index; null when either is unknown. */
  readonly lag: number | null;
  /** Applied entries per second since the previous sample; null on the first. */
  readonly opsPerSec: number | null;
}

export interface ClusterSample {
  readonly at: number;
  readonly dir: string;
  readonly leader: string | null;
  readonly term: number | null;
  readonly members: readonly MemberSample[];
}

/** How long a member that does not answer yet counts as starting rather than unreachable. */
const STARTING_MS = 10_000;

export interface SampleOptions {
  readonly timeoutMs?: number;
  /** The previous sample, for ops/s. */
  readonly previous?: ClusterSample | null;
}

/** Checks every member's process and asks each live one for /status, all in parallel. */
export async function sampleCluster(file: ClusterFile, opts: SampleOptions = {}): Promise<ClusterSample> {
  const timeoutMs = opts.timeoutMs ?? 500;
  const at = Date.now();
  const raw = await Promise.all(
    file.members.map(async (m) => {
      if (m.state === 'stopped') return { m, condition: 'stopped' as const, status: null };
      const own = checkOwnership(m);
      if (own.kind !== 'ours') return { m, condition: 'down' as const, status: null };
      if (m.state === 'paused') return { m, condition: 'paused' as const, status: null };
      const status = await fetchStatus(`${file.host}:${m.ports.http}`, timeoutMs);
      if (status !== null) return { m, condition: 'running' as const, status };
      const young = m.startedAt !== null && at - Date.parse(m.startedAt) < STARTING_MS;
      return { m, condition: young ? ('starting' as const) : ('unreachable' as const), status };
    }),
  );
  // The leader is the member that says it leads in the highest term (an old leader cut off from
  // the others may still believe it leads in an older one).
  const claimed = claimedLeader(raw.map((r) => r.status));
  const leader: MemberStatus | null = claimed === null ? null : raw[claimed]!.status;
  const terms = raw.flatMap((r) => (r.status === null ? [] : [r.status.term]));
  const prev = new Map((opts.previous?.members ?? []).map((p) => [p.id, p]));
  const dt = opts.previous ? (at - opts.previous.at) / 1000 : 0;
  const members = raw.map((r): MemberSample => {
    const p = prev.get(r.m.id);
    const opsPerSec =
      r.status !== null && p?.status != null && p.pid === r.m.pid && dt > 0
        ? Math.max(0, Math.round((r.status.appliedIndex - p.status.appliedIndex) / dt))
        : null;
    return {
      id: r.m.id,
      pid: r.m.pid,
      condition: r.condition,
      status: r.status,
      record: r.m,
      lag:
        leader !== null && r.status !== null ? Math.max(0, leader.lastIndex - r.status.appliedIndex) : null,
      opsPerSec,
    };
  });
  return {
    at,
    dir: file.dir,
    leader: leader?.id ?? null,
    term: terms.length > 0 ? Math.max(...terms) : null,
    members,
  };
}

/** True when a majority of members agree on one leader that says it leads. */
export function leaderSettled(s: ClusterSample): boolean {
  if (s.leader === null) return false;
  const agree = s.members.filter((m) => m.status?.leader === s.leader).length;
  return agree > s.members.length / 2;
}
