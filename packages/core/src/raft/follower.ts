import { campaignVote } from './election.js';
import type { RaftCore } from './RaftCore.js';
import type { AppMessage, HeartbeatMessage, Message, NodeId, SnapshotMessage } from './types.js';

/**
 * The follower's side of replication (Figure 2's receiver rules, §7 InstallSnapshot, heartbeats)
 * and answers to messages from older terms. Free functions over the engine's state, as etcd's
 * raft.go writes `stepFollower`.
 */

export function stepFollower(r: RaftCore, m: Message): void {
  switch (m.type) {
    case 'app':
      heardFromLeader(r, m.from);
      handleAppend(r, m);
      return;
    case 'heartbeat':
      heardFromLeader(r, m.from);
      handleHeartbeat(r, m);
      return;
    case 'snapshot':
      heardFromLeader(r, m.from);
      handleSnapshot(r, m);
      return;
    case 'timeoutNow':
      // §3.10: the leader hands over; campaign now, skipping PreVote and others' stickiness.
      // A learner (or removed member) cannot: it has no vote to win with.
      if (r.promotable()) campaignVote(r, true);
      return;
    default:
      return;
  }
}

export function heardFromLeader(r: RaftCore, from: NodeId): void {
  r.electionElapsed = 0;
  r.sinceLeaderContact = 0;
  r.leaderLost = false;
  r.lead = from;
}

export function handleAppend(r: RaftCore, m: AppMessage): void {
  const reply = (index: number, reject: boolean, hintIndex: number, hintTerm: number): void => {
    r.send({
      type: 'appResp',
      from: r.id,
      to: m.from,
      term: r.currentTerm,
      index,
      reject,
      hintIndex,
      hintTerm,
    });
  };
  if (r.log.matchTerm(m.prevIndex, m.prevTerm)) {
    const lastNew = r.log.appendAfter(m.prevIndex, m.entries);
    if (r.confLog.afterAppend(m.entries, r.log)) r.applyConf();
    // Figure 2, receiver step 5: commit up to what the leader committed, within what we hold.
    r.log.commitTo(Math.min(m.commit, lastNew));
    reply(lastNew, false, 0, 0);
    return;
  }
  if (m.prevIndex < r.log.committed) {
    // Everything up to our commit index matches the leader (Log Matching + Leader Completeness).
    reply(r.log.committed, false, 0, 0);
    return;
  }
  // Figure 2, receiver step 2: reject; hint where our log diverges so the leader skips a term.
  const last = r.log.lastIndex();
  if (m.prevIndex > last) {
    reply(m.prevIndex, true, last + 1, 0);
  } else {
    const t = r.log.term(m.prevIndex);
    reply(m.prevIndex, true, r.log.firstIndexOfTermAt(m.prevIndex), t);
  }
}

/**
 * InstallSnapshot (§7, Figure 13) once the driver stored every byte. A snapshot at or below the
 * commit index is stale: answered with the current state, never installed. One whose last entry
 * the log already holds only advances the commit index (Figure 13 step 6). Otherwise the log is
 * replaced and the next Ready carries the snapshot to install; the acknowledgement leaves once
 * that Ready is durable.
 */
export function handleSnapshot(r: RaftCore, m: SnapshotMessage): void {
  const meta = m.meta;
  const reply = (index: number): void => {
    r.send({
      type: 'appResp',
      from: r.id,
      to: m.from,
      term: r.currentTerm,
      index,
      reject: false,
      hintIndex: 0,
      hintTerm: 0,
    });
  };
  if (meta.index <= r.log.committed) {
    reply(r.log.committed);
    return;
  }
  if (r.log.matchTerm(meta.index, meta.term)) {
    r.log.commitTo(meta.index);
    reply(meta.index);
    return;
  }
  r.log.installSnapshot(meta.index, meta.term);
  r.snapshotMeta = meta;
  r.pendingInstall = meta;
  r.confLog.resetTo(meta);
  r.applyConf();
  reply(meta.index);
}

export function handleHeartbeat(r: RaftCore, m: HeartbeatMessage): void {
  // The leader sends min(match, commit), so this never commits an entry we might not share.
  if (m.commit > r.log.committed) r.log.commitTo(Math.min(m.commit, r.log.lastIndex()));
  r.send({
    type: 'heartbeatResp',
    from: r.id,
    to: m.from,
    term: r.currentTerm,
    context: m.context,
  });
}

/** A message from an older term: tell the sender about the newer term where that helps. */
export function stepStale(r: RaftCore, m: Message): void {
  if (
    (m.type === 'app' || m.type === 'heartbeat' || m.type === 'snapshot') &&
    (r.cfg.checkQuorum || r.cfg.preVote)
  ) {
    // A deposed leader (or one cut off for a while) learns the new term and steps down; without
    // this a node with PreVote could never raise its term past a stale leader's.
    r.send({
      type: 'appResp',
      from: r.id,
      to: m.from,
      term: r.currentTerm,
      index: 0,
      reject: true,
      hintIndex: 0,
      hintTerm: 0,
    });
  } else if (m.type === 'preVote') {
    r.send({ type: 'preVoteResp', from: r.id, to: m.from, term: r.currentTerm, reject: true });
  }
}
