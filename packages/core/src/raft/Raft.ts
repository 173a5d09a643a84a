import { type RaftConfig, type ResolvedRaftConfig, resolveConfig } from './config.js';
import { invariant } from './errors.js';
import { isQuorum, quorumIndex } from './majority.js';
import { Progress, ProgressState } from './Progress.js';
import { RaftLog } from './RaftLog.js';
import type { LogStorage } from './storage.js';
import {
  type AppMessage,
  type AppRespMessage,
  type Entry,
  EntryType,
  type HardState,
  type HeartbeatMessage,
  type HeartbeatRespMessage,
  type Message,
  type NodeId,
  type ProposeResult,
  type ReadState,
  type Ready,
  type Rejection,
  Role,
  type SoftState,
  type TransferResult,
  type VoteMessage,
} from './types.js';

const EMPTY: readonly never[] = Object.freeze([]);
const MAX_COMMITTED_BYTES_PER_READY = 64 * 1024 * 1024;

interface PendingPersist {
  readonly number: number;
  /** Last entry carried by that Ready, or index -1 when it carried none. */
  readonly index: number;
  readonly term: number;
  readonly hardState: HardState | null;
}

/**
 * The Raft engine: a deterministic state machine. Inputs are `step` (a peer message), `tick`
 * (logical time), `propose`, and the completions `persisted` and `applied`; effects come out of
 * `ready()`. It never blocks, sleeps, reads a clock or does I/O, so one seed replays one run.
 *
 * Structure follows the paper's Figure 2 and etcd raft: `step` applies the term rules common to
 * every role once, then hands the message to the current role's step function.
 */
export class Raft {
  readonly id: NodeId;
  readonly log: RaftLog;
  private readonly cfg: ResolvedRaftConfig;

  term = 0;
  vote: NodeId | null = null;
  role: Role = Role.Follower;
  leader: NodeId | null = null;

  private readonly voters: readonly NodeId[];
  private readonly peers: readonly NodeId[];
  private readonly progress = new Map<NodeId, Progress>();
  private readonly votes = new Map<NodeId, boolean>();

  private electionElapsed = 0;
  private heartbeatElapsed = 0;
  private randomizedElectionTimeout = 0;

  private msgs: Message[] = [];
  private msgsAfterPersist: Message[] = [];
  private readyNumber = 0;
  private readonly pendingPersist: PendingPersist[] = [];
  private emittedHardState: HardState;
  private emittedSoftState: SoftState;
  /** Term and vote known to be on stable storage: a candidate counts its own vote only then. */
  private durableTerm: number;
  private durableVote: NodeId | null;

  /** The leader has new entries or a new commit index to send: flushed once per Ready. */
  private needsBroadcast = false;
  private uncommittedBytes = 0;
  private readonly matchScratch: number[] = [];
  private readonly matchBuf: number[] = [];

  // §6.4 linearizable reads. Every leader heartbeat broadcast is a numbered round; a read is
  // released once a quorum has acknowledged a round that started after the read arrived.
  private readStates: ReadState[] = [];
  private pendingReads: { from: NodeId; context: number; index: number; round: number }[] = [];
  private readsAwaitingTermCommit: { from: NodeId; context: number }[] = [];
  private round = 0;
  private confirmedRound = 0;
  private needRound = false;
  private readonly roundSentAt = new Map<number, number>();
  /** Ticks since this node took office (the leader's lease clock). */
  private leaderTicks = 0;
  private leaseUntil = 0;
  /** Set once this leader sent TimeoutNow: its lease is void for the rest of its term. */
  private leaseRevoked = false;

  // §3.10 leadership transfer.
  private leadTransferee: NodeId | null = null;
  private transferElapsed = 0;

  // Fast failover: the transport told us the connection to the leader dropped.
  private leaderLost = false;
  /** Ticks since a message from a leader arrived; drives vote stickiness under lease reads. */
  private sinceLeaderContact = 0;

  constructor(config: RaftConfig, storage: LogStorage) {
    this.cfg = resolveConfig(config);
    this.id = this.cfg.id;
    this.voters = [...this.cfg.voters].sort();
    this.peers = this.voters.filter((v) => v !== this.id);
    this.log = new RaftLog(storage);
    const hs = storage.initialState().hardState;
    invariant(hs.term >= 0 && hs.commit >= 0, 'stored hard state is malformed');
    this.term = hs.term;
    this.vote = hs.vote;
    this.durableTerm = hs.term;
    this.durableVote = hs.vote;
    this.emittedHardState = { term: hs.term, vote: hs.vote, commit: this.log.committed };
    this.emittedSoftState = { role: Role.Follower, leader: null, term: hs.term };
    this.becomeFollower(this.term, null);
  }

  // ---------------------------------------------------------------------------------------------
  // Inputs

  /** Advances logical time by one tick. */
  tick(): void {
    if (this.role === Role.Leader) this.tickLeader();
    else {
      this.sinceLeaderContact++;
      this.tickElection();
    }
  }

  /** Handles a message from a peer. Messages for another node or from an unknown one are ignored. */
  step(m: Message): void {
    if (m.to !== this.id || m.from === this.id || !this.voters.includes(m.from)) return;

    // Figure 2, "Rules for all servers": a higher term makes us a follower of that term. Votes are
    // the exception that §9.6 and §6 carve out: pre-votes never change terms, and a node that has a
    // live leader ignores vote requests (leader stickiness) unless they come from a transfer.
    if (m.term > this.term) {
      if ((m.type === 'vote' || m.type === 'preVote') && !m.transfer && this.inLease(m.type)) return;
      if (m.type === 'preVote' || (m.type === 'preVoteResp' && !m.reject)) {
        // No term change: a pre-vote is a question about a future term, not a claim to it.
      } else if (m.type === 'app' || m.type === 'heartbeat') {
        this.becomeFollower(m.term, m.from);
      } else {
        this.becomeFollower(m.term, null);
      }
    } else if (m.term < this.term) {
      this.stepStale(m);
      return;
    }

    switch (m.type) {
      case 'vote':
      case 'preVote':
        this.handleVoteRequest(m);
        return;
      case 'readIndexResp':
        // Valid whatever our role is now: the leader confirmed it led after the read was issued.
        this.readStates.push(
          m.reject
            ? { context: m.context, ok: false, reason: 'not-leader' }
            : { context: m.context, ok: true, index: m.index },
        );
        return;
      case 'readIndex':
        if (this.role === Role.Leader) this.leaderRead(m.from, m.context);
        else this.rejectRead(m);
        return;
      default:
        break;
    }

    switch (this.role) {
      case Role.Leader:
        this.stepLeader(m);
        return;
      case Role.Candidate:
      case Role.PreCandidate:
        this.stepCandidate(m);
        return;
      case Role.Follower:
        this.stepFollower(m);
        return;
    }
  }

  /**
   * Proposes commands. Only the leader accepts; the result names the index of the first entry.
   * Entries are sent to followers at the next `ready()`, so proposals between two Readys travel in
   * the same AppendEntries messages (proposal batching).
   */
  propose(data: Uint8Array | readonly Uint8Array[]): ProposeResult {
    if (this.role !== Role.Leader) return { ok: false, reason: 'not-leader', leaderHint: this.leader };
    if (this.leadTransferee !== null) {
      return {
        ok: false,
        reason: 'proposal-dropped',
        message: `leadership is being transferred to ${this.leadTransferee}`,
      };
    }
    const items = data instanceof Uint8Array ? [data] : data;
    if (items.length === 0) return { ok: false, reason: 'proposal-dropped', message: 'nothing to propose' };
    let bytes = 0;
    for (const d of items) bytes += d.length;
    if (this.uncommittedBytes > 0 && this.uncommittedBytes + bytes > this.cfg.maxUncommittedBytes) {
      return {
        ok: false,
        reason: 'proposal-dropped',
        message: `leader holds ${this.uncommittedBytes} uncommitted bytes (limit ${this.cfg.maxUncommittedBytes})`,
      };
    }
    const first = this.log.lastIndex() + 1;
    const entries: Entry[] = new Array(items.length);
    for (let i = 0; i < items.length; i++) {
      entries[i] = { index: first + i, term: this.term, type: EntryType.Normal, data: items[i]! };
    }
    this.log.appendOwn(entries);
    this.uncommittedBytes += bytes;
    this.needsBroadcast = true;
    return { ok: true, firstIndex: first, term: this.term };
  }

  /** Starts an election now (as if the election timer fired). */
  campaign(): void {
    if (this.role === Role.Leader) return;
    this.hup();
  }

  /**
   * Starts a linearizable read (§6.4). The outcome arrives in a later Ready's `readStates` under
   * `context` (chosen by the caller, unique among its pending reads). A follower forwards the
   * request to its leader; with no known leader the read is refused at once.
   */
  readIndex(context: number): { readonly ok: true } | Rejection {
    if (this.role === Role.Leader) {
      this.leaderRead(this.id, context);
      return { ok: true };
    }
    if (this.role === Role.Follower && this.leader !== null && !this.leaderLost) {
      this.send({ type: 'readIndex', from: this.id, to: this.leader, term: this.term, context });
      return { ok: true };
    }
    return { ok: false, reason: 'not-leader', leaderHint: this.leaderLost ? null : this.leader };
  }

  /**
   * Leadership transfer (dissertation §3.10): stop accepting proposals, bring `to` up to date,
   * then send it TimeoutNow so it campaigns at once. Aborts after an election timeout.
   */
  transferLeader(to: NodeId): TransferResult {
    if (this.role !== Role.Leader) return { ok: false, reason: 'not-leader', leaderHint: this.leader };
    if (!this.voters.includes(to)) {
      return { ok: false, reason: 'unknown-member', message: `'${to}' is not a voting member` };
    }
    if (to === this.id) return { ok: true };
    this.leadTransferee = to;
    this.transferElapsed = 0;
    // A leader handing over gives up its lease first: the target's election skips stickiness.
    this.leaseUntil = 0;
    const pr = this.progress.get(to)!;
    if (pr.match === this.log.lastIndex()) {
      this.sendTimeoutNow(to);
    } else {
      // Catch the target up now rather than at the next heartbeat: earlier appends may be lost.
      pr.becomeProbe();
      this.sendAppend(to, pr);
    }
    return { ok: true };
  }

  /** The minimum election timeout in ticks (T; timeouts are drawn from [T, 2T)). */
  get electionTimeoutTicks(): number {
    return this.cfg.electionTicks;
  }

  /** The member leadership is being transferred to, if a transfer is under way. */
  get transferee(): NodeId | null {
    return this.leadTransferee;
  }

  /**
   * A transport hint: the connection to `peer` dropped. A follower that loses its leader this
   * way campaigns (PreVote first) after 1 + rank ticks instead of a full election timeout. Safety
   * never rests on this: a false hint costs at most a pre-vote round that others refuse.
   */
  peerDisconnected(peer: NodeId): void {
    if (!this.cfg.fastFailover || this.role !== Role.Follower) return;
    if (peer !== this.leader || this.leaderLost) return;
    this.leaderLost = true;
    // Stagger by rank among the survivors so two followers rarely split the vote.
    const rank = this.voters.filter((v) => v !== peer).indexOf(this.id);
    this.randomizedElectionTimeout = Math.min(
      this.randomizedElectionTimeout,
      this.electionElapsed + 1 + rank,
    );
  }

  /** A transport hint: the connection to `peer` is up. Nothing to do: messages prove liveness. */
  peerConnected(_peer: NodeId): void {}

  /** Everything in Readys up to `readyNumber` is durable. */
  persisted(readyNumber: number): void {
    let hardState: HardState | null = null;
    const written: PendingPersist[] = [];
    while (this.pendingPersist.length > 0 && this.pendingPersist[0]!.number <= readyNumber) {
      const p = this.pendingPersist.shift()!;
      if (p.index >= 0) written.push(p);
      if (p.hardState !== null) hardState = p.hardState;
    }
    if (hardState !== null) {
      this.durableTerm = hardState.term;
      this.durableVote = hardState.vote;
    }
    // The newest write whose last entry is still in the log marks the durable end; a write whose
    // tail a later Ready truncated no longer does.
    for (let i = written.length - 1; i >= 0; i--) {
      const p = written[i]!;
      if (this.log.term(p.index) === p.term) {
        this.log.stableTo(p.index, p.term);
        break;
      }
    }

    if (this.role === Role.Candidate && this.durableTerm === this.term && this.durableVote === this.id) {
      if (!this.votes.has(this.id)) this.recordVote(this.id, true);
    }
    // §10.2.1: the leader counts itself toward a quorum only for what is durable on its own disk.
    if (this.role === Role.Leader && this.maybeCommit()) this.needsBroadcast = true;
  }

  /** The driver applied every committed entry up to `index`. */
  applied(index: number): void {
    this.log.appliedTo(index);
  }

  /** Whether `ready()` would return something. */
  hasReady(): boolean {
    if (this.needsBroadcast && this.role === Role.Leader) return true;
    if (this.msgs.length > 0 || this.msgsAfterPersist.length > 0 || this.readStates.length > 0) return true;
    if (this.needRound && this.role === Role.Leader) return true;
    if (this.log.unwrittenCount() > 0) return true;
    if (!sameVote(this.hardState(), this.emittedHardState)) return true;
    if (!sameSoftState(this.softState(), this.emittedSoftState)) return true;
    return Math.min(this.log.committed, this.log.stableIndex()) > this.log.applying;
  }

  /** Collects the effects accumulated since the previous Ready, or null when there are none. */
  ready(): Ready | null {
    if (this.needRound) {
      this.needRound = false;
      if (this.role === Role.Leader) this.broadcastHeartbeat();
    }
    if (this.needsBroadcast) {
      this.needsBroadcast = false;
      if (this.role === Role.Leader) this.broadcastAppend();
    }
    if (!this.hasReady()) return null;

    const number = ++this.readyNumber;
    const soft = this.softState();
    const softState = sameSoftState(soft, this.emittedSoftState) ? null : soft;
    if (softState !== null) this.emittedSoftState = softState;
    const entries = this.log.takeUnwritten();
    // Term and vote must be durable before votes leave; the commit index need not be (a restarted
    // node relearns it from the leader). So a commit-only change never costs a write of its own:
    // it rides along with the next entries or vote.
    const hs = this.hardState();
    const hardState =
      !sameVote(hs, this.emittedHardState) ||
      (entries.length > 0 && hs.commit !== this.emittedHardState.commit)
        ? hs
        : null;
    if (hardState !== null) this.emittedHardState = hardState;

    const lastEntry = entries.length > 0 ? entries[entries.length - 1]! : undefined;
    this.pendingPersist.push({
      number,
      index: lastEntry === undefined ? -1 : lastEntry.index,
      term: lastEntry === undefined ? -1 : lastEntry.term,
      hardState,
    });

    const messages = this.msgs.length > 0 ? this.msgs : EMPTY;
    const messagesAfterPersist = this.msgsAfterPersist.length > 0 ? this.msgsAfterPersist : EMPTY;
    if (this.msgs.length > 0) this.msgs = [];
    if (this.msgsAfterPersist.length > 0) this.msgsAfterPersist = [];

    const committed = this.log.takeCommitted(MAX_COMMITTED_BYTES_PER_READY);
    const readStates = this.readStates.length > 0 ? this.readStates : EMPTY;
    if (this.readStates.length > 0) this.readStates = [];
    return {
      number,
      softState,
      hardState,
      entries: entries.length > 0 ? entries : EMPTY,
      messages,
      messagesAfterPersist,
      committed: committed.length > 0 ? committed : EMPTY,
      readStates,
    };
  }

  hardState(): HardState {
    const e = this.emittedHardState;
    if (e.term === this.term && e.vote === this.vote && e.commit === this.log.committed) return e;
    return { term: this.term, vote: this.vote, commit: this.log.committed };
  }

  softState(): SoftState {
    const e = this.emittedSoftState;
    if (e.role === this.role && e.leader === this.leader && e.term === this.term) return e;
    return { role: this.role, leader: this.leader, term: this.term };
  }

  /** Per-follower replication state, for status pages (leader only; empty otherwise). */
  progressOf(peer: NodeId): { match: number; next: number; state: string } | null {
    const p = this.progress.get(peer);
    return p === undefined ? null : { match: p.match, next: p.next, state: p.state };
  }

  // ---------------------------------------------------------------------------------------------
  // Roles

  private becomeFollower(term: number, leader: NodeId | null): void {
    if (this.role === Role.Leader) this.failReads();
    if (term > this.term) {
      this.term = term;
      this.vote = null;
    }
    this.leaderLost = false;
    this.leadTransferee = null;
    this.role = Role.Follower;
    this.leader = leader;
    this.resetTimers();
    this.progress.clear();
    this.votes.clear();
    this.uncommittedBytes = 0;
  }

  private becomePreCandidate(): void {
    this.role = Role.PreCandidate;
    this.leader = null;
    this.votes.clear();
    this.resetTimers();
  }

  private becomeCandidate(): void {
    this.term += 1;
    this.vote = this.id;
    this.role = Role.Candidate;
    this.leader = null;
    this.votes.clear();
    this.resetTimers();
  }

  private becomeLeader(): void {
    this.role = Role.Leader;
    this.leader = this.id;
    this.leadTransferee = null;
    this.leaderLost = false;
    this.sinceLeaderContact = 0;
    this.round = 0;
    this.confirmedRound = 0;
    this.roundSentAt.clear();
    this.leaderTicks = 0;
    this.leaseUntil = 0;
    this.leaseRevoked = false;
    this.resetTimers();
    this.votes.clear();
    this.progress.clear();
    const next = this.log.lastIndex() + 1;
    for (const p of this.peers) {
      const pr = new Progress(next, this.cfg.maxInflightMsgs, this.cfg.maxInflightBytes);
      pr.recentActive = true;
      this.progress.set(p, pr);
    }
    this.uncommittedBytes = 0;
    // §5.4.2 / §8: a no-op of the new term lets the leader commit everything before it.
    this.log.appendOwn([{ index: next, term: this.term, type: EntryType.Noop, data: new Uint8Array(0) }]);
    this.needsBroadcast = true;
  }

  private resetTimers(): void {
    this.electionElapsed = 0;
    this.heartbeatElapsed = 0;
    const t = this.cfg.electionTicks;
    this.randomizedElectionTimeout = t + this.cfg.rng.int(t);
  }

  // ---------------------------------------------------------------------------------------------
  // Time

  private tickElection(): void {
    this.electionElapsed++;
    if (this.electionElapsed >= this.randomizedElectionTimeout) {
      this.electionElapsed = 0;
      this.hup();
    }
  }

  private tickLeader(): void {
    this.heartbeatElapsed++;
    this.electionElapsed++;
    this.leaderTicks++;
    this.sinceLeaderContact = 0;
    if (this.leadTransferee !== null && ++this.transferElapsed >= this.cfg.electionTicks) {
      // §3.10: the target did not take over within an election timeout; resume normal service.
      this.leadTransferee = null;
    }
    if (this.electionElapsed >= this.cfg.electionTicks) {
      this.electionElapsed = 0;
      // §6.2 CheckQuorum: a leader that has not heard from a quorum in an election timeout steps
      // down, so a partitioned leader stops serving and clients move on.
      if (this.cfg.checkQuorum && !this.quorumActive()) {
        this.becomeFollower(this.term, null);
        return;
      }
    }
    if (this.heartbeatElapsed >= this.cfg.heartbeatTicks) {
      this.heartbeatElapsed = 0;
      this.broadcastHeartbeat();
    }
  }

  private quorumActive(): boolean {
    let active = 1; // self
    for (const [, pr] of this.progress) {
      if (pr.recentActive) active++;
      pr.recentActive = false;
    }
    return isQuorum(active, this.voters.length);
  }

  // ---------------------------------------------------------------------------------------------
  // Elections

  /**
   * Leader stickiness: a node that heard from a live leader within the minimum election timeout
   * ignores (pre)votes (§6, §9.6). A dropped connection to the leader lifts it, except for real
   * votes when lease reads are on: a leader's lease must outlive any hint.
   */
  private inLease(type: 'vote' | 'preVote'): boolean {
    if (!this.cfg.checkQuorum) return false;
    if (this.role === Role.Leader) return true;
    if (type === 'vote' && this.cfg.readLease && this.sinceLeaderContact < this.cfg.electionTicks)
      return true;
    return this.leader !== null && !this.leaderLost && this.electionElapsed < this.cfg.electionTicks;
  }

  private hup(): void {
    if (this.cfg.preVote) this.campaignPreVote();
    else this.campaignVote(false);
  }

  private campaignPreVote(): void {
    this.becomePreCandidate();
    this.recordVote(this.id, true);
    if (this.role !== Role.PreCandidate) return; // single-node cluster: already won
    const lastIndex = this.log.lastIndex();
    const lastTerm = this.log.lastTerm();
    for (const p of this.peers) {
      this.send({
        type: 'preVote',
        from: this.id,
        to: p,
        term: this.term + 1,
        lastIndex,
        lastTerm,
        transfer: false,
      });
    }
  }

  private campaignVote(transfer: boolean): void {
    this.becomeCandidate();
    // The self-vote counts once this term and vote are durable (see persisted()).
    const lastIndex = this.log.lastIndex();
    const lastTerm = this.log.lastTerm();
    for (const p of this.peers) {
      this.send({ type: 'vote', from: this.id, to: p, term: this.term, lastIndex, lastTerm, transfer });
    }
  }

  private handleVoteRequest(m: VoteMessage): void {
    const respType = m.type === 'vote' ? 'voteResp' : 'preVoteResp';
    const canVote =
      this.vote === m.from ||
      (this.vote === null && this.leader === null) ||
      (m.type === 'preVote' && m.term > this.term) ||
      (m.type === 'vote' && this.cfg.testingBugs.doubleVote === true);
    if (canVote && this.log.isUpToDate(m.lastIndex, m.lastTerm)) {
      // A granted pre-vote answers in the future term it was asked about.
      this.send({ type: respType, from: this.id, to: m.from, term: m.term, reject: false });
      if (m.type === 'vote') {
        this.electionElapsed = 0;
        this.vote = m.from;
      }
    } else {
      this.send({ type: respType, from: this.id, to: m.from, term: this.term, reject: true });
    }
  }

  private recordVote(from: NodeId, granted: boolean): void {
    if (!this.votes.has(from)) this.votes.set(from, granted);
    let yes = 0;
    let no = 0;
    for (const [, g] of this.votes) {
      if (g) yes++;
      else no++;
    }
    const n = this.voters.length;
    if (isQuorum(yes, n)) {
      if (this.role === Role.PreCandidate) this.campaignVote(false);
      else if (this.role === Role.Candidate) this.becomeLeader();
    } else if (isQuorum(no, n)) {
      this.becomeFollower(this.term, null);
    }
  }

  private stepCandidate(m: Message): void {
    switch (m.type) {
      case 'app':
        this.becomeFollower(m.term, m.from);
        this.heardFromLeader(m.from);
        this.handleAppend(m);
        return;
      case 'heartbeat':
        this.becomeFollower(m.term, m.from);
        this.heardFromLeader(m.from);
        this.handleHeartbeat(m);
        return;
      case 'preVoteResp':
        if (this.role === Role.PreCandidate) this.recordVote(m.from, !m.reject);
        return;
      case 'voteResp':
        if (this.role === Role.Candidate) this.recordVote(m.from, !m.reject);
        return;
      default:
        return;
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Followers

  private stepFollower(m: Message): void {
    switch (m.type) {
      case 'app':
        this.heardFromLeader(m.from);
        this.handleAppend(m);
        return;
      case 'heartbeat':
        this.heardFromLeader(m.from);
        this.handleHeartbeat(m);
        return;
      case 'timeoutNow':
        // §3.10: the leader hands over; campaign now, skipping PreVote and others' stickiness.
        this.campaignVote(true);
        return;
      default:
        return;
    }
  }

  private heardFromLeader(from: NodeId): void {
    this.electionElapsed = 0;
    this.sinceLeaderContact = 0;
    this.leaderLost = false;
    this.leader = from;
  }

  private handleAppend(m: AppMessage): void {
    const reply = (index: number, reject: boolean, hintIndex: number, hintTerm: number): void => {
      this.send({
        type: 'appResp',
        from: this.id,
        to: m.from,
        term: this.term,
        index,
        reject,
        hintIndex,
        hintTerm,
      });
    };
    if (this.log.matchTerm(m.prevIndex, m.prevTerm)) {
      const lastNew = this.log.appendAfter(m.prevIndex, m.entries);
      // Figure 2, receiver step 5: commit up to what the leader committed, within what we hold.
      this.log.commitTo(Math.min(m.commit, lastNew));
      reply(lastNew, false, 0, 0);
      return;
    }
    if (m.prevIndex < this.log.committed) {
      // Everything up to our commit index matches the leader (Log Matching + Leader Completeness).
      reply(this.log.committed, false, 0, 0);
      return;
    }
    // Figure 2, receiver step 2: reject; hint where our log diverges so the leader skips a term.
    const last = this.log.lastIndex();
    if (m.prevIndex > last) {
      reply(m.prevIndex, true, last + 1, 0);
    } else {
      const t = this.log.term(m.prevIndex);
      reply(m.prevIndex, true, this.log.firstIndexOfTermAt(m.prevIndex), t);
    }
  }

  private handleHeartbeat(m: HeartbeatMessage): void {
    // The leader sends min(match, commit), so this never commits an entry we might not share.
    if (m.commit > this.log.committed) this.log.commitTo(Math.min(m.commit, this.log.lastIndex()));
    this.send({ type: 'heartbeatResp', from: this.id, to: m.from, term: this.term, context: m.context });
  }

  /** A message from an older term: tell the sender about the newer term where that helps. */
  private stepStale(m: Message): void {
    if ((m.type === 'app' || m.type === 'heartbeat') && (this.cfg.checkQuorum || this.cfg.preVote)) {
      // A deposed leader (or one cut off for a while) learns the new term and steps down; without
      // this a node with PreVote could never raise its term past a stale leader's.
      this.send({
        type: 'appResp',
        from: this.id,
        to: m.from,
        term: this.term,
        index: 0,
        reject: true,
        hintIndex: 0,
        hintTerm: 0,
      });
    } else if (m.type === 'preVote') {
      this.send({ type: 'preVoteResp', from: this.id, to: m.from, term: this.term, reject: true });
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Leader

  private stepLeader(m: Message): void {
    const pr = this.progress.get(m.from);
    if (pr === undefined) return;
    switch (m.type) {
      case 'appResp':
        pr.recentActive = true;
        this.handleAppResp(m, pr);
        return;
      case 'heartbeatResp':
        this.handleHeartbeatResp(m, pr);
        return;
      default:
        return;
    }
  }

  private handleAppResp(m: AppRespMessage, pr: Progress): void {
    if (m.reject) {
      if (!this.backtrack(m, pr)) return;
      this.sendAppend(m.from, pr);
      return;
    }
    const wasProbe = pr.state === ProgressState.Probe;
    if (!pr.maybeUpdate(m.index)) {
      if (wasProbe) pr.probeSent = false;
      return;
    }
    if (wasProbe) pr.becomeReplicate();
    else pr.inflights.freeLE(m.index);
    if (this.maybeCommit()) this.needsBroadcast = true;
    if (m.from === this.leadTransferee && pr.match === this.log.lastIndex()) this.sendTimeoutNow(m.from);
    this.sendAppend(m.from, pr);
  }

  /** Moves `next` back after a rejection using the follower's hint. Returns false for stale rejections. */
  private backtrack(m: AppRespMessage, pr: Progress): boolean {
    const rejected = m.index;
    if (pr.state === ProgressState.Replicate) {
      if (rejected <= pr.match) return false;
      pr.becomeProbe();
    } else if (rejected !== pr.next - 1) {
      return false;
    }
    let next: number;
    if (m.hintTerm > 0) {
      // If we hold entries of the follower's conflicting term, our last one of them is where the
      // logs may still agree; otherwise skip the follower's whole run of that term.
      const at = this.log.lastIndexWithTermAtMost(rejected, m.hintTerm);
      next = this.log.term(at) === m.hintTerm ? at + 1 : m.hintIndex;
    } else {
      next = m.hintIndex;
    }
    pr.next = Math.max(pr.match + 1, Math.min(next, rejected));
    pr.probeSent = false;
    return true;
  }

  private handleHeartbeatResp(m: HeartbeatRespMessage, pr: Progress): void {
    pr.recentActive = true;
    if (m.context > pr.ackedRound && m.context <= this.round) {
      pr.ackedRound = m.context;
      this.advanceReads();
    }
    const last = this.log.lastIndex();
    if (pr.match >= last) return;
    if (pr.state === ProgressState.Probe) {
      pr.probeSent = false;
      this.sendAppend(m.from, pr);
      return;
    }
    // Replicate state with the follower behind: appends may have been lost. Let one more message
    // through a full window, and when everything was already sent, probe the end of what we sent:
    // a follower that lacks it rejects, which drops it back to probe state.
    if (pr.inflights.full()) pr.inflights.freeFirst();
    if (!this.sendAppend(m.from, pr)) this.sendEmptyAppend(m.from, pr);
  }

  /** Commit index = what a majority holds, but only for entries of the current term (Fig. 8). */
  private maybeCommit(): boolean {
    const matches = this.matchBuf;
    matches.length = 0;
    matches.push(this.log.stableIndex());
    for (const p of this.peers) matches.push(this.progress.get(p)!.match);
    const index = quorumIndex(matches, this.matchScratch);
    if (index <= this.log.committed) return false;
    // §5.4.2: an entry from an earlier term is never committed by counting replicas.
    if (this.log.term(index) !== this.term && this.cfg.testingBugs.commitOldTermByCounting !== true) {
      return false;
    }
    const before = this.log.committed;
    this.log.commitTo(index);
    this.releaseUncommitted(before, index);
    if (this.readsAwaitingTermCommit.length > 0 && this.log.term(index) === this.term) {
      const waiting = this.readsAwaitingTermCommit;
      this.readsAwaitingTermCommit = [];
      for (const r of waiting) this.leaderRead(r.from, r.context);
    }
    return true;
  }

  private releaseUncommitted(from: number, to: number): void {
    if (this.uncommittedBytes === 0) return;
    let freed = 0;
    for (const e of this.log.slice(from + 1, to + 1, Number.MAX_SAFE_INTEGER)) freed += e.data.length;
    this.uncommittedBytes = Math.max(0, this.uncommittedBytes - freed);
  }

  private broadcastAppend(): void {
    for (const p of this.peers) {
      const pr = this.progress.get(p)!;
      const sentAny = this.sendAppend(p, pr);
      if (!sentAny && pr.sentCommit < this.log.committed && pr.match >= this.log.committed) {
        // Nothing new to send but the commit index moved: tell the follower so it can apply.
        this.sendEmptyAppend(p, pr);
      }
    }
  }

  private broadcastHeartbeat(): void {
    this.round++;
    this.roundSentAt.set(this.round, this.leaderTicks);
    this.heartbeatElapsed = 0;
    this.needRound = false;
    for (const p of this.peers) {
      const pr = this.progress.get(p)!;
      const commit = Math.min(pr.match, this.log.committed);
      const context = this.round;
      const hb: HeartbeatMessage = {
        type: 'heartbeat',
        from: this.id,
        to: p,
        term: this.term,
        commit,
        context,
      };
      this.send(hb);
    }
  }

  private sendTimeoutNow(to: NodeId): void {
    // The target may campaign whenever this arrives, skipping stickiness: no lease for the rest
    // of this term, even if the transfer aborts (a late TimeoutNow could still elect it).
    this.leaseRevoked = true;
    this.send({ type: 'timeoutNow', from: this.id, to, term: this.term });
  }

  // ---------------------------------------------------------------------------------------------
  // Reads (§6.4)

  private leaderRead(from: NodeId, context: number): void {
    // §6.4 step 1: until an entry of its own term is committed, a new leader does not know the
    // commit index of its predecessor; the read waits for the no-op to commit.
    if (this.log.term(this.log.committed) !== this.term) {
      this.readsAwaitingTermCommit.push({ from, context });
      return;
    }
    const index = this.log.committed;
    if (this.peers.length === 0 || this.leaseValid()) {
      this.releaseRead(from, context, index);
      return;
    }
    // Steps 2-3: confirm leadership with a heartbeat round that starts after this read arrived;
    // every read that arrives before that round starts shares it.
    this.pendingReads.push({ from, context, index, round: this.round + 1 });
    this.needRound = true;
  }

  private leaseValid(): boolean {
    return (
      this.cfg.readLease &&
      !this.leaseRevoked &&
      this.leadTransferee === null &&
      this.leaderTicks < this.leaseUntil
    );
  }

  private advanceReads(): void {
    const acked = this.matchBuf;
    acked.length = 0;
    acked.push(this.round);
    for (const p of this.peers) acked.push(this.progress.get(p)!.ackedRound);
    const q = quorumIndex(acked, this.matchScratch);
    if (q <= this.confirmedRound) return;
    this.confirmedRound = q;
    const sentAt = this.roundSentAt.get(q);
    if (sentAt !== undefined && this.cfg.readLease) {
      // The lease runs from when the confirmed round was sent, not from when it was acknowledged.
      this.leaseUntil = Math.max(
        this.leaseUntil,
        sentAt + this.cfg.electionTicks - this.cfg.maxClockDriftTicks,
      );
    }
    for (const key of this.roundSentAt.keys()) {
      if (key >= q) break;
      this.roundSentAt.delete(key);
    }
    let released = 0;
    while (released < this.pendingReads.length && this.pendingReads[released]!.round <= q) {
      const r = this.pendingReads[released]!;
      this.releaseRead(r.from, r.context, r.index);
      released++;
    }
    if (released > 0) this.pendingReads.splice(0, released);
  }

  private releaseRead(from: NodeId, context: number, index: number): void {
    if (from === this.id) this.readStates.push({ context, ok: true, index });
    else this.sendReadResp(from, context, index, false);
  }

  private rejectRead(m: { readonly from: NodeId; readonly context: number }): void {
    this.sendReadResp(m.from, m.context, 0, true);
  }

  private sendReadResp(to: NodeId, context: number, index: number, reject: boolean): void {
    this.send({ type: 'readIndexResp', from: this.id, to, term: this.term, context, index, reject });
  }

  /** Leadership ends: no pending read may be served any more (it could be stale). */
  private failReads(): void {
    const all = [...this.readsAwaitingTermCommit, ...this.pendingReads];
    this.readsAwaitingTermCommit = [];
    this.pendingReads = [];
    for (const r of all) {
      if (r.from === this.id) {
        this.readStates.push({ context: r.context, ok: false, reason: 'leadership-lost' });
      } else {
        this.rejectRead(r);
      }
    }
  }

  /**
   * Sends as many AppendEntries to `to` as flow control allows: one probe in probe state, a
   * pipeline of messages up to the in-flight window in replicate state. Returns whether it sent.
   */
  private sendAppend(to: NodeId, pr: Progress): boolean {
    let sent = false;
    const last = this.log.lastIndex();
    while (!pr.isPaused()) {
      if (pr.state === ProgressState.Replicate && pr.next > last) break;
      const prevIndex = pr.next - 1;
      const prevTerm = this.log.term(prevIndex);
      invariant(
        prevTerm >= 0,
        `no term for index ${prevIndex} to replicate to ${to} (snapshots not supported yet)`,
      );
      const entries = this.log.slice(pr.next, last + 1, this.cfg.maxMsgBytes);
      const commit = this.log.committed;
      this.send({ type: 'app', from: this.id, to, term: this.term, prevIndex, prevTerm, entries, commit });
      pr.sentCommit = commit;
      sent = true;
      if (pr.state === ProgressState.Replicate) {
        if (entries.length === 0) break;
        const lastSent = entries[entries.length - 1]!.index;
        let bytes = 0;
        for (const e of entries) bytes += e.data.length;
        pr.inflights.add(lastSent, bytes);
        pr.next = lastSent + 1;
      } else {
        pr.probeSent = true;
      }
    }
    return sent;
  }

  private sendEmptyAppend(to: NodeId, pr: Progress): void {
    const prevIndex = pr.next - 1;
    const prevTerm = this.log.term(prevIndex);
    if (prevTerm < 0) return;
    const commit = this.log.committed;
    this.send({
      type: 'app',
      from: this.id,
      to,
      term: this.term,
      prevIndex,
      prevTerm,
      entries: EMPTY,
      commit,
    });
    pr.sentCommit = commit;
  }

  // ---------------------------------------------------------------------------------------------
  // Output

  private send(m: Message): void {
    // Votes and acknowledgements promise durable state: they leave only after the Ready that
    // holds that state is persisted (Figure 2; DESIGN.md "Rules that carry the safety").
    switch (m.type) {
      case 'appResp':
      case 'vote':
      case 'voteResp':
        this.msgsAfterPersist.push(m);
        return;
      default:
        this.msgs.push(m);
    }
  }
}

function sameVote(a: HardState, b: HardState): boolean {
  return a.term === b.term && a.vote === b.vote;
}

function sameSoftState(a: SoftState, b: SoftState): boolean {
  return a.role === b.role && a.leader === b.leader && a.term === b.term;
}
