import { type Progress, ProgressState } from './Progress.js';
import type { RaftCore } from './RaftCore.js';
import { type AppRespMessage, type HeartbeatRespMessage, type Message, type NodeId, Role } from './types.js';

/**
 * The leader's side: acknowledgements move followers' progress and the commit index (Figure 8's
 * current-term rule), heartbeat responses confirm reads, and leadership transfer (§3.10) hands
 * over once the target holds the whole log. Free functions over the engine's state, as etcd's
 * raft.go writes `stepLeader`.
 */

export function stepLeader(r: RaftCore, m: Message): void {
  const pr = r.tracker.get(m.from);
  if (pr === undefined) return;
  switch (m.type) {
    case 'appResp':
      pr.recentActive = true;
      handleAppResp(r, m, pr);
      return;
    case 'heartbeatResp':
      handleHeartbeatResp(r, m, pr);
      return;
    default:
      return;
  }
}

export function handleAppResp(r: RaftCore, m: AppRespMessage, pr: Progress): void {
  if (pr.state === ProgressState.Snapshot) {
    // The follower installed the snapshot (or never needed it): replicate from where it is.
    if (m.reject) return;
    pr.maybeUpdate(m.index);
    if (pr.match < pr.pendingSnapshot) return;
    pr.becomeReplicate();
    if (maybeCommit(r)) r.needsBroadcast = true;
    if (r.state !== Role.Leader) return;
    // A transfer target that caught up by InstallSnapshot may now hold the whole log.
    if (r.bugs.noHandOverAfterSnapshot !== true) maybeHandOver(r, m.from, pr);
    r.replicator.sendAppend(m.from, pr);
    return;
  }
  if (m.reject) {
    if (!r.replicator.backtrack(m, pr)) return;
    r.replicator.sendAppend(m.from, pr);
    return;
  }
  const wasProbe = pr.state === ProgressState.Probe;
  if (!pr.maybeUpdate(m.index)) {
    if (wasProbe) pr.probeSent = false;
    return;
  }
  if (wasProbe) pr.becomeReplicate();
  else pr.inflights.freeLE(m.index);
  if (maybeCommit(r)) r.needsBroadcast = true;
  if (r.state !== Role.Leader) return; // a removed leader stepped down on this commit
  maybeHandOver(r, m.from, pr);
  r.replicator.sendAppend(m.from, pr);
}

export function handleHeartbeatResp(r: RaftCore, m: HeartbeatRespMessage, pr: Progress): void {
  pr.recentActive = true;
  if (m.context > pr.ackedRound && m.context <= r.reads.lastRound) {
    pr.ackedRound = m.context;
    advanceReads(r);
  }
  r.replicator.catchUp(m.from, pr);
}

/** Commit index = what a majority holds, but only for entries of the current term (Fig. 8). */
export function maybeCommit(r: RaftCore): boolean {
  // Voters only; a leader that its own pending change removes does not count itself (§4.2.2).
  const index = r.tracker.committedIndex(r.log.stableIndex());
  if (index <= r.log.committed) return false;
  // §5.4.2: an entry from an earlier term is never committed by counting replicas.
  if (r.log.term(index) !== r.currentTerm && r.bugs.commitOldTermByCounting !== true) {
    return false;
  }
  const before = r.log.committed;
  r.log.commitTo(index);
  releaseUncommitted(r, before, index);
  if (maybeStepDownRemoved(r)) return true;
  if (r.log.term(index) === r.currentTerm) {
    for (const read of r.reads.takeAwaitingTermCommit()) leaderRead(r, read.from, read.context);
  }
  return true;
}

/**
 * A leader that a committed configuration no longer lists as a voter steps down (dissertation
 * §4.2.2). It hands over to the most up-to-date voter with TimeoutNow, so the cluster need not
 * wait out an election timeout, and never campaigns again (it is not promotable).
 */
export function maybeStepDownRemoved(r: RaftCore): boolean {
  if (r.state !== Role.Leader || r.promotable()) return false;
  if (r.confLog.pendingIndex(r.log.committed) > 0) return false;
  const best = r.tracker.mostCaughtUpVoter();
  // Announce the commit (so the successor applies the change too), then hand over.
  r.replicator.broadcastAppend();
  if (best !== null && best.match === r.log.lastIndex()) sendTimeoutNow(r, best.id);
  r.becomeFollower(r.currentTerm, null);
  return true;
}

export function releaseUncommitted(r: RaftCore, from: number, to: number): void {
  if (r.uncommittedBytes === 0) return;
  let freed = 0;
  for (const e of r.log.slice(from + 1, to + 1, Number.MAX_SAFE_INTEGER)) freed += e.data.length;
  r.uncommittedBytes = Math.max(0, r.uncommittedBytes - freed);
}

/**
 * §3.10 step 2: once the transfer target's log matches the leader's (whether by appends or by
 * InstallSnapshot), send it TimeoutNow. Returns whether it was sent. Every path that advances
 * the target's match goes through here, so a transfer never waits out its timer needlessly.
 */
export function maybeHandOver(r: RaftCore, from: NodeId, pr: Progress): boolean {
  if (from !== r.leadTransferee || pr.match !== r.log.lastIndex()) return false;
  sendTimeoutNow(r, from);
  return true;
}

export function sendTimeoutNow(r: RaftCore, to: NodeId): void {
  // The target may campaign whenever this arrives, skipping stickiness: no lease for the rest
  // of this term, even if the transfer aborts (a late TimeoutNow could still elect it).
  r.reads.revokeLease();
  r.send({ type: 'timeoutNow', from: r.id, to, term: r.currentTerm });
}

export function leaderRead(r: RaftCore, from: NodeId, context: number): void {
  const termCommitted = r.log.term(r.log.committed) === r.currentTerm;
  const voters = r.tracker.voters;
  const alone = voters.length === 1 && voters[0] === r.id;
  r.reads.request(
    from,
    context,
    termCommitted ? r.log.committed : null,
    alone || r.reads.leaseValid(r.leadTransferee !== null),
  );
}

/** A heartbeat response moved a follower's acknowledged round: what has a quorum confirmed? */
export function advanceReads(r: RaftCore): void {
  r.reads.confirm(r.tracker.confirmedRound(r.reads.lastRound));
}
