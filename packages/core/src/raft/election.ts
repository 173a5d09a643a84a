import { handleAppend, handleHeartbeat, handleSnapshot, heardFromLeader } from './follower.js';
import { VoteResult } from './ProgressTracker.js';
import type { RaftCore } from './RaftCore.js';
import { type Message, type NodeId, Role, type VoteMessage } from './types.js';

/**
 * Elections (§5.2, dissertation §9.6 PreVote, §6 leader stickiness): when a member campaigns,
 * whom it asks, how it answers (pre)vote requests, and the tally that makes it leader. Free
 * functions over the engine's state, as etcd's raft.go writes `stepCandidate`.
 */

/**
 * Leader stickiness: a node that heard from a live leader within the minimum election timeout
 * ignores (pre)votes (§6, §9.6). A dropped connection to the leader lifts it, except for real
 * votes when lease reads are on: a leader's lease must outlive any hint.
 */
export function inLease(r: RaftCore, type: 'vote' | 'preVote'): boolean {
  if (!r.cfg.checkQuorum) return false;
  if (r.state === Role.Leader) return true;
  if (type === 'vote' && r.cfg.readLease && r.sinceLeaderContact < r.cfg.electionTicks) return true;
  return r.lead !== null && !r.leaderLost && r.electionElapsed < r.cfg.electionTicks;
}

export function hup(r: RaftCore): void {
  if (r.cfg.preVote) campaignPreVote(r);
  else campaignVote(r, false);
}

export function campaignPreVote(r: RaftCore): void {
  r.becomePreCandidate();
  recordVote(r, r.id, true);
  if (r.state !== Role.PreCandidate) return; // single-node cluster: already won
  const lastIndex = r.log.lastIndex();
  const lastTerm = r.log.lastTerm();
  for (const p of electorate(r)) {
    r.send({
      type: 'preVote',
      from: r.id,
      to: p,
      term: r.currentTerm + 1,
      lastIndex,
      lastTerm,
      transfer: false,
    });
  }
}

export function campaignVote(r: RaftCore, transfer: boolean): void {
  r.becomeCandidate();
  // The self-vote counts once this term and vote are durable (see persisted()).
  const lastIndex = r.log.lastIndex();
  const lastTerm = r.log.lastTerm();
  for (const p of electorate(r)) {
    r.send({
      type: 'vote',
      from: r.id,
      to: p,
      term: r.currentTerm,
      lastIndex,
      lastTerm,
      transfer,
    });
  }
}

/** Who is asked for votes: the other voters (and, under a planted bug, the learners too). */
export function electorate(r: RaftCore): readonly NodeId[] {
  return r.bugs.countLearnerVotes === true ? r.tracker.peers : r.tracker.voters.filter((v) => v !== r.id);
}

export function handleVoteRequest(r: RaftCore, m: VoteMessage): void {
  // Any member answers, learners included: one may have been promoted without knowing it yet
  // (as etcd does). Only the candidate decides whose vote counts: voters of its configuration.
  const respType = m.type === 'vote' ? 'voteResp' : 'preVoteResp';
  const canVote =
    r.votedFor === m.from ||
    (r.votedFor === null && r.lead === null) ||
    (m.type === 'preVote' && m.term > r.currentTerm) ||
    (m.type === 'vote' && r.bugs.doubleVote === true);
  const upToDate = r.log.isUpToDate(m.lastIndex, m.lastTerm);
  if (canVote && upToDate && preVoteYields(r, m)) {
    // A granted pre-vote answers in the future term it was asked about.
    r.send({ type: respType, from: r.id, to: m.from, term: m.term, reject: false });
    if (m.type === 'vote') {
      r.electionElapsed = 0;
      r.votedFor = m.from;
    } else if (r.state === Role.PreCandidate) {
      // Having backed another pre-candidate for the same term, stop our own campaign: if both
      // went on to the real election they would split the vote.
      r.becomeFollower(r.currentTerm, null);
    }
  } else {
    r.send({ type: respType, from: r.id, to: m.from, term: r.currentTerm, reject: true });
    if (canVote && upToDate && m.type === 'preVote') {
      // We outrank this rival pre-candidate. It may have ignored our own request while it still
      // heard its leader (stickiness); campaigning, it no longer does: ask it again now rather
      // than at our next election timeout.
      r.send({
        type: 'preVote',
        from: r.id,
        to: m.from,
        term: r.currentTerm + 1,
        lastIndex: r.log.lastIndex(),
        lastTerm: r.log.lastTerm(),
        transfer: false,
      });
    }
  }
}

/**
 * Two followers that lose the same leader at the same moment (fast failover: both saw the
 * connection drop) pre-campaign for the same term. Granting each other's pre-vote would send
 * both into the real election, where each votes for itself: a split vote costs a whole election
 * timeout, and on a loaded machine the 1 + rank tick stagger is lost in scheduling delays. So a
 * pre-candidate backs a rival for the same term only if the rival ranks first: a strictly more
 * up-to-date log, else an earlier place in the voter list. One of any two yields, whatever the
 * message timing. Pre-votes change no state, so safety is untouched; a pre-candidate that
 * yields to a rival that then fails campaigns again at its next election timeout.
 */
export function preVoteYields(r: RaftCore, m: VoteMessage): boolean {
  if (m.type !== 'preVote' || r.state !== Role.PreCandidate || m.term !== r.currentTerm + 1) return true;
  const lastTerm = r.log.lastTerm();
  const lastIndex = r.log.lastIndex();
  if (m.lastTerm !== lastTerm || m.lastIndex !== lastIndex) return true; // theirs is newer (checked)
  const voters = r.tracker.voters;
  const theirs = voters.indexOf(m.from);
  return theirs >= 0 && theirs < voters.indexOf(r.id);
}

export function recordVote(r: RaftCore, from: NodeId, granted: boolean): void {
  r.tracker.recordVote(from, granted);
  const result = r.tracker.tallyVotes(r.bugs.countLearnerVotes === true);
  if (result === VoteResult.Won) {
    if (r.state === Role.PreCandidate) campaignVote(r, false);
    // A candidate leads only once its own term and self-vote are durable (recorded by
    // persisted()), even when other members' votes alone make a quorum: its vote requests left
    // before that fsync, and a candidate that crashed first would restart in its old term free
    // to vote for a rival in this one, which could then win the same term.
    else if (r.state === Role.Candidate && r.tracker.voteOf(r.id) === true) r.becomeLeader();
  } else if (result === VoteResult.Lost) {
    r.becomeFollower(r.currentTerm, null);
  }
}

export function stepCandidate(r: RaftCore, m: Message): void {
  switch (m.type) {
    case 'app':
      r.becomeFollower(m.term, m.from);
      heardFromLeader(r, m.from);
      handleAppend(r, m);
      return;
    case 'heartbeat':
      r.becomeFollower(m.term, m.from);
      heardFromLeader(r, m.from);
      handleHeartbeat(r, m);
      return;
    case 'snapshot':
      r.becomeFollower(m.term, m.from);
      heardFromLeader(r, m.from);
      handleSnapshot(r, m);
      return;
    case 'preVoteResp':
      if (r.state === Role.PreCandidate) recordVote(r, m.from, !m.reject);
      return;
    case 'voteResp':
      if (r.state === Role.Candidate) recordVote(r, m.from, !m.reject);
      return;
    default:
      return;
  }
}
