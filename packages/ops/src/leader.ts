import type { MemberStatus } from './MemberStatus.js';

/** The part of a status the leader rules read (an etcd member's status can fill it in too). */
export type LeaderView = Pick<MemberStatus, 'id' | 'role' | 'term' | 'leader'>;

export interface Agreement<S extends LeaderView> {
  readonly leader: string;
  readonly term: number;
  /** The statuses that answered, all naming `leader`. */
  readonly statuses: readonly S[];
}

/**
 * The leader every answering member names, when that member itself says it leads; null otherwise
 * (members mid-election, or one that has not heard of the new leader yet). `all`: a member that
 * did not answer (null) also means no agreement.
 */
export function agreedLeader<S extends LeaderView>(
  statuses: readonly (S | null)[],
  all = true,
): Agreement<S> | null {
  const live = statuses.filter((s): s is S => s !== null);
  if (live.length === 0 || (all && live.length !== statuses.length)) return null;
  const leader = live[0]!.leader;
  if (leader === null || !live.every((s) => s.leader === leader)) return null;
  const ls = live.find((s) => s.id === leader);
  if (ls === undefined || ls.role !== 'leader') return null;
  return { leader, term: ls.term, statuses: live };
}

/**
 * The position of the member that says it leads in the highest term, or null: during a partition
 * a deposed leader may still say so (until CheckQuorum steps it down), in an older term.
 */
export function claimedLeader(statuses: readonly (LeaderView | null)[]): number | null {
  let best: number | null = null;
  for (const [i, s] of statuses.entries()) {
    if (s?.role === 'leader' && (best === null || s.term > statuses[best]!.term)) best = i;
  }
  return best;
}
