import type { NodeId, Ready } from '@keel/core';
import type { Logger } from 'pino';
import type { NodeMetrics } from './metrics.js';

/**
 * Why a member's role changed, for the log line. `voter`: whether this member is a voter of its
 * configuration — a leader that removed itself steps down once its removal commits (§4.2.2), in
 * the same term, which is otherwise the sign of a failed CheckQuorum.
 */
export function roleChangeReason(
  prev: { role: string; term: number; leader: NodeId | null },
  next: { role: string; term: number; leader: NodeId | null },
  voter = true,
): string {
  if (next.role === 'leader') return 'won the election';
  if (next.role === 'candidate')
    return prev.role === 'pre-candidate' ? 'pre-vote granted' : 'asked to take over';
  if (next.role === 'pre-candidate') {
    return prev.leader === null
      ? 'election timeout'
      : `lost leader ${prev.leader} (timeout or dropped connection)`;
  }
  if (prev.role === 'leader') {
    if (next.term > prev.term) return `saw higher term ${next.term}`;
    return voter ? 'lost contact with a quorum (CheckQuorum)' : 'removed from the configuration';
  }
  if (next.term > prev.term) return `saw higher term ${next.term}`;
  if (prev.role !== 'follower') return next.leader === null ? 'election lost' : `${next.leader} won`;
  return next.leader === null ? 'leader lost' : `heard from leader ${next.leader}`;
}

/** Follows the engine's soft state: counts elections and leader changes, sets the role gauges, logs each change with its likely reason. */
export class RoleWatcher {
  private last: { role: string; term: number; leader: NodeId | null } = {
    role: 'follower',
    term: -1,
    leader: null,
  };

  constructor(
    private readonly metrics: NodeMetrics,
    private readonly log: Logger,
    /** Whether this member is a voter of its current configuration. */
    private readonly isVoter: () => boolean,
  ) {}

  /** Logs role and leader changes at info with term and the likely reason (from the transition). */
  observe(rd: Ready): void {
    const ss = rd.softState;
    if (ss === null) return;
    const prev = this.last;
    const m = this.metrics.raft;
    if (ss.role !== prev.role) {
      if (ss.role === 'pre-candidate' || ss.role === 'candidate') m.electionsStarted.inc();
      if (ss.role === 'leader') m.electionsWon.inc();
      m.setRole(ss.role);
    }
    // As etcd counts it: a known leader other than the one before (none in between counts again).
    if (ss.leader !== null && ss.leader !== prev.leader) m.leaderChanges.inc();
    m.hasLeader.set(ss.leader === null ? 0 : 1);
    this.last = { role: ss.role, term: ss.term, leader: ss.leader };
    if (prev.term < 0) return; // the initial state, logged by 'member started'
    const reason = roleChangeReason(prev, ss, this.isVoter());
    this.log.info(
      { term: ss.term, role: ss.role, leader: ss.leader, previousRole: prev.role, reason },
      `${ss.role} in term ${ss.term}${ss.leader === null ? ', no leader' : `, leader ${ss.leader}`} (${reason})`,
    );
  }
}
