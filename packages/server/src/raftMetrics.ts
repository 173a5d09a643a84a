import type { Counter, Gauge, Registry } from 'prom-client';
import { counter, gauge, mirror } from './metricKit.js';

const ROLES = ['follower', 'pre-candidate', 'candidate', 'leader'] as const;

/** What the engine's status gives at scrape time. */
export interface RaftView {
  readonly term: number;
  readonly role: string;
  readonly leader: string | null;
  readonly commitIndex: number;
  readonly appliedIndex: number;
  readonly lastIndex: number;
}

/**
 * The consensus state of one member: `keel_raft_*` mirror the engine, `keel_server_*` are the
 * etcd-equivalent health series (`etcd_server_has_leader`, `etcd_server_leader_changes_seen_total`,
 * `etcd_server_proposals_committed_total`, ...), named so that dashboards built for etcd map 1:1.
 */
export class RaftMetrics {
  readonly term: Gauge;
  readonly role: Gauge;
  readonly isLeader: Gauge;
  readonly leader: Gauge;
  readonly commitIndex: Gauge;
  readonly appliedIndex: Gauge;
  readonly lastIndex: Gauge;
  readonly hasLeader: Gauge;
  readonly leaderChanges: Counter;
  readonly proposalsCommitted: Counter;
  readonly proposalsApplied: Counter;
  readonly electionsStarted: Counter;
  readonly electionsWon: Counter;
  readonly snapshots: Counter;
  readonly snapshotsRestored: Counter;
  readonly snapshotBytes: Gauge;

  constructor(r: Registry) {
    this.term = gauge(r, 'keel_raft_term', 'Current Raft term');
    this.role = gauge(r, 'keel_raft_role', 'Current role (1 for the active role)', ['role']);
    this.isLeader = gauge(r, 'keel_raft_is_leader', '1 if this member is the leader');
    this.leader = gauge(
      r,
      'keel_raft_leader',
      'The leader this member knows (1 on the label of its id; none: no series, see keel_server_has_leader)',
      ['leader'],
    );
    this.commitIndex = gauge(r, 'keel_raft_commit_index', 'Highest committed log index');
    this.appliedIndex = gauge(r, 'keel_raft_applied_index', 'Highest applied log index');
    this.lastIndex = gauge(r, 'keel_raft_last_index', 'Last log index');
    this.hasLeader = gauge(r, 'keel_server_has_leader', '1 if this member knows a leader, else 0');
    this.leaderChanges = counter(
      r,
      'keel_server_leader_changes_seen_total',
      'Times this member saw a new leader (another id than the one it knew before)',
    );
    // etcd exports these two as gauges named _total; they never decrease (a commit or apply index),
    // so here they are counters, as their names say.
    this.proposalsCommitted = counter(
      r,
      'keel_server_proposals_committed_total',
      'Log entries known committed (the commit index)',
    );
    this.proposalsApplied = counter(
      r,
      'keel_server_proposals_applied_total',
      'Log entries applied to the state machine (the applied index)',
    );
    this.electionsStarted = counter(
      r,
      'keel_elections_started_total',
      'Campaigns started (pre-vote or vote)',
    );
    this.electionsWon = counter(r, 'keel_elections_won_total', 'Elections won');
    this.snapshots = counter(r, 'keel_snapshots_total', 'Snapshots taken by this member');
    this.snapshotsRestored = counter(
      r,
      'keel_snapshots_restored_total',
      'State restored from a snapshot (startup or install)',
    );
    this.snapshotBytes = gauge(r, 'keel_snapshot_bytes', 'Size of the latest snapshot taken or restored');
    this.setRole('follower');
  }

  setRole(role: string): void {
    for (const r of ROLES) this.role.set({ role: r }, r === role ? 1 : 0);
    this.isLeader.set(role === 'leader' ? 1 : 0);
  }

  /** Mirrors the engine's state (at scrape time). */
  refresh(s: RaftView): void {
    this.term.set(s.term);
    this.commitIndex.set(s.commitIndex);
    this.appliedIndex.set(s.appliedIndex);
    this.lastIndex.set(s.lastIndex);
    mirror(this.proposalsCommitted, s.commitIndex);
    mirror(this.proposalsApplied, s.appliedIndex);
    this.setRole(s.role);
    this.leader.reset();
    if (s.leader !== null) this.leader.set({ leader: s.leader }, 1);
    this.hasLeader.set(s.leader === null ? 0 : 1);
  }
}
