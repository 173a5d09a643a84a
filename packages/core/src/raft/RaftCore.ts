import { ConfLog } from './ConfLog.js';
import { applyConfChange, confOf, EMPTY_CONF, encodeConfEntry } from './confChange.js';
import { type RaftConfig, type ResolvedRaftConfig, resolveConfig } from './config.js';
import { handleVoteRequest, hup, inLease, recordVote, stepCandidate } from './election.js';
import { invariant } from './errors.js';
import { stepFollower, stepStale } from './follower.js';
import { leaderRead, maybeCommit, maybeHandOver, stepLeader } from './leader.js';
import { ProgressState } from './Progress.js';
import { ProgressTracker } from './ProgressTracker.js';
import { RaftLog } from './RaftLog.js';
import { ReadOnly } from './ReadOnly.js';
import { ReadyRecords } from './ReadyRecords.js';
import { Replicator } from './Replicator.js';
import type { LogStorage } from './storage.js';
import { type TestingBugs, testingBugsOf } from './testingBugs.js';
import {
  type ConfChange,
  type ConfChangeResult,
  type ConfState,
  type Entry,
  EntryType,
  type HardState,
  type Message,
  type NodeId,
  type ProposeResult,
  type Ready,
  type Rejection,
  Role,
  type SnapshotMeta,
  type SoftState,
  type TransferResult,
} from './types.js';

const EMPTY: readonly never[] = Object.freeze([]);
const MAX_COMMITTED_BYTES_PER_READY = 64 * 1024 * 1024;

/**
 * The engine's state and step core (etcd's raft struct): `step` applies the term rules common to
 * every role once, then hands the message to the current role's step function (`stepLeader` in
 * leader.ts, `stepCandidate` in election.ts, `stepFollower` in follower.ts), which are free
 * functions over this state. Role changes (`becomeX`), timers, the inputs and the Ready live here.
 *
 * Internal: its fields are open to those role modules only. Users see `Raft`, which exposes the
 * inputs and read-only views, so no caller can change engine state except through an input.
 */
export class RaftCore {
  readonly id: NodeId;
  readonly log: RaftLog;
  readonly cfg: ResolvedRaftConfig;
  readonly bugs: TestingBugs;

  // Figure 2's persistent state (currentTerm, votedFor) and this node's role and known leader:
  // read-only outside src/raft (Raft's getters); only the engine's inputs change them.
  currentTerm = 0;
  votedFor: NodeId | null = null;
  state: Role = Role.Follower;
  lead: NodeId | null = null;

  /** Voters, replication targets, per-follower progress and the vote tally. */
  readonly tracker: ProgressTracker;

  /** Membership (dissertation ch. 4): the configuration of every Config entry in the log. */
  readonly confLog: ConfLog;
  /** The effective configuration changed since the last Ready. */
  confDirty = true;
  /** The latest local snapshot (taken, installed or found at startup): what lagging followers get. */
  snapshotMeta: SnapshotMeta | null;
  /** A snapshot accepted from the leader, to hand out in the next Ready. */
  pendingInstall: SnapshotMeta | null = null;

  electionElapsed = 0;
  heartbeatElapsed = 0;
  randomizedElectionTimeout = 0;

  /** Messages for the next Ready, what the last one carried, and what waits to be durable. */
  readonly records: ReadyRecords;
  /** Term and vote known to be on stable storage: a candidate counts its own vote only then. */
  durableTerm: number;
  durableVote: NodeId | null;

  /** The leader has new entries or a new commit index to send: flushed once per Ready. */
  needsBroadcast = false;
  uncommittedBytes = 0;

  /** AppendEntries, heartbeats and snapshots to followers, as their progress allows. */
  readonly replicator: Replicator;
  /** §6.4 linearizable reads: the ReadIndex queue, heartbeat rounds and the lease. */
  readonly reads: ReadOnly;

  // §3.10 leadership transfer.
  leadTransferee: NodeId | null = null;
  transferElapsed = 0;

  // Fast failover: the transport told us the connection to the leader dropped.
  leaderLost = false;
  /** Leader: a commit index some follower has not been told, announced at the next tick. */
  commitOwed = false;
  /** Ticks since a message from a leader arrived; drives vote stickiness under lease reads. */
  sinceLeaderContact = 0;

  /**
   * `snapshot`: the meta of the latest local snapshot, which the state machine was restored from
   * (null for none). The configuration comes from the latest of that snapshot and the Config
   * entries in the log; `config.voters` only bootstraps a member that has neither.
   */
  constructor(config: RaftConfig, storage: LogStorage, snapshot: SnapshotMeta | null = null) {
    this.cfg = resolveConfig(config);
    this.bugs = testingBugsOf(config);
    this.id = this.cfg.id;
    this.tracker = new ProgressTracker(this.id, this.cfg.maxInflightMsgs, this.cfg.maxInflightBytes);
    this.reads = new ReadOnly(
      this.id,
      { on: this.cfg.readLease, ticks: this.cfg.electionTicks - this.cfg.maxClockDriftTicks },
      (to, context, index, reject) =>
        this.send({
          type: 'readIndexResp',
          from: this.id,
          to,
          term: this.currentTerm,
          context,
          index,
          reject,
        }),
    );
    this.log = new RaftLog(storage, snapshot?.index ?? 0);
    this.replicator = new Replicator({
      id: this.id,
      log: this.log,
      tracker: this.tracker,
      maxMsgBytes: this.cfg.maxMsgBytes,
      term: () => this.currentTerm,
      snapshot: () => this.snapshotMeta,
      send: (m) => this.send(m),
    });
    this.snapshotMeta = snapshot;
    this.confLog = new ConfLog(
      snapshot !== null
        ? snapshot.conf
        : this.cfg.voters.length > 0
          ? confOf(this.cfg.voters, [], this.cfg.addresses)
          : EMPTY_CONF,
      snapshot?.index ?? 0,
    );
    this.confLog.replay(this.log);
    this.applyConf();
    const hs = storage.initialState().hardState;
    invariant(hs.term >= 0 && hs.commit >= 0, 'stored hard state is malformed');
    this.currentTerm = hs.term;
    this.votedFor = hs.vote;
    this.durableTerm = hs.term;
    this.durableVote = hs.vote;
    this.records = new ReadyRecords(
      { term: hs.term, vote: hs.vote, commit: this.log.committed },
      { role: Role.Follower, leader: null, term: hs.term },
    );
    this.becomeFollower(this.currentTerm, null);
  }

  /** The current term (Figure 2's currentTerm). */
  get term(): number {
    return this.currentTerm;
  }

  /** Whom this node voted for in the current term (Figure 2's votedFor), or null. */
  get vote(): NodeId | null {
    return this.votedFor;
  }

  /** This node's role. */
  get role(): Role {
    return this.state;
  }

  /** The leader of the current term as far as this node knows, or null. */
  get leader(): NodeId | null {
    return this.lead;
  }

  // ---------------------------------------------------------------------------------------------
  // Inputs

  /** Advances logical time by one tick. */
  tick(): void {
    if (this.state === Role.Leader) this.tickLeader();
    else {
      this.sinceLeaderContact++;
      this.tickElection();
    }
  }

  /** Handles a message from a peer. Messages for another node or from an unknown one are ignored. */
  step(m: Message): void {
    if (m.to !== this.id || m.from === this.id) return;
    // Chunks of a snapshot are the drivers' business; the engine sees the whole snapshot at once.
    if (m.type === 'snapChunk' || m.type === 'snapAck') return;
    // A removed member that keeps campaigning must not raise the cluster's terms (dissertation
    // §4.2.3): vote requests from outside our configuration are ignored, unless the candidate's
    // log is at least as up to date as ours. Our configuration may be the stale one (we joined
    // and have not caught up, or were promoted without knowing): a legitimate candidate needs our
    // vote then. A removed member lacks the entry that removed it, which the members that
    // committed it hold, so they ignore it.
    if (
      (m.type === 'vote' || m.type === 'preVote') &&
      !this.tracker.isVoter(m.from) &&
      !this.log.isUpToDate(m.lastIndex, m.lastTerm)
    ) {
      return;
    }

    // Figure 2, "Rules for all servers": a higher term makes us a follower of that term. Votes are
    // the exception that §9.6 and §6 carve out: pre-votes never change terms, and a node that has a
    // live leader ignores vote requests (leader stickiness) unless they come from a transfer.
    if (m.term > this.currentTerm) {
      if ((m.type === 'vote' || m.type === 'preVote') && !m.transfer && inLease(this, m.type)) return;
      if (m.type === 'preVote' || (m.type === 'preVoteResp' && !m.reject)) {
        // No term change: a pre-vote is a question about a future term, not a claim to it.
      } else if (m.type === 'app' || m.type === 'heartbeat' || m.type === 'snapshot') {
        this.becomeFollower(m.term, m.from);
      } else {
        this.becomeFollower(m.term, null);
      }
    } else if (m.term < this.currentTerm) {
      stepStale(this, m);
      return;
    }

    switch (m.type) {
      case 'vote':
      case 'preVote':
        handleVoteRequest(this, m);
        return;
      case 'readIndexResp':
        // Valid whatever our role is now: the leader confirmed it led after the read was issued.
        this.reads.answered(m.context, m.index, m.reject);
        return;
      case 'readIndex':
        if (this.state === Role.Leader) leaderRead(this, m.from, m.context);
        else this.reads.reject(m.from, m.context);
        return;
      default:
        break;
    }

    switch (this.state) {
      case Role.Leader:
        stepLeader(this, m);
        return;
      case Role.Candidate:
      case Role.PreCandidate:
        stepCandidate(this, m);
        return;
      case Role.Follower:
        stepFollower(this, m);
        return;
    }
  }

  /**
   * Proposes commands. Only the leader accepts; the result names the index of the first entry.
   * Entries are sent to followers at the next `ready()`, so proposals between two Readys travel in
   * the same AppendEntries messages (proposal batching).
   */
  propose(data: Uint8Array | readonly Uint8Array[]): ProposeResult {
    if (this.state !== Role.Leader) return { ok: false, reason: 'not-leader', leaderHint: this.lead };
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
      entries[i] = { index: first + i, term: this.currentTerm, type: EntryType.Normal, data: items[i]! };
    }
    this.log.appendOwn(entries);
    this.uncommittedBytes += bytes;
    this.needsBroadcast = true;
    return { ok: true, firstIndex: first, term: this.currentTerm };
  }

  /** Starts an election now (as if the election timer fired). */
  campaign(): void {
    if (this.state === Role.Leader || !this.promotable()) return;
    hup(this);
  }

  /**
   * Starts a linearizable read (§6.4). The outcome arrives in a later Ready's `readStates` under
   * `context` (chosen by the caller, unique among its pending reads). A follower forwards the
   * request to its leader; with no known leader the read is refused at once.
   */
  readIndex(context: number): { readonly ok: true } | Rejection {
    if (this.state === Role.Leader) {
      leaderRead(this, this.id, context);
      return { ok: true };
    }
    if (this.state === Role.Follower && this.lead !== null && !this.leaderLost) {
      this.send({ type: 'readIndex', from: this.id, to: this.lead, term: this.currentTerm, context });
      return { ok: true };
    }
    return { ok: false, reason: 'not-leader', leaderHint: this.leaderLost ? null : this.lead };
  }

  /**
   * Leadership transfer (dissertation §3.10): stop accepting proposals, bring `to` up to date,
   * then send it TimeoutNow so it campaigns at once. Aborts after an election timeout.
   */
  transferLeader(to: NodeId): TransferResult {
    if (this.state !== Role.Leader) return { ok: false, reason: 'not-leader', leaderHint: this.lead };
    if (!this.tracker.isVoter(to)) {
      return { ok: false, reason: 'unknown-member', message: `'${to}' is not a voting member` };
    }
    if (to === this.leadTransferee) {
      // A retry of the pending transfer keeps its deadline (as etcd does): restarting the timer
      // would let a caller that retries keep this leader refusing proposals forever.
      return { ok: true };
    }
    // Any other request replaces the pending transfer; one to this leader itself only cancels it,
    // so proposals are accepted again at once.
    this.leadTransferee = null;
    if (to === this.id) return { ok: true };
    this.leadTransferee = to;
    this.transferElapsed = 0;
    // A leader handing over gives up its lease first: the target's election skips stickiness.
    this.reads.dropLease();
    const pr = this.tracker.get(to)!;
    if (!maybeHandOver(this, to, pr) && pr.state !== ProgressState.Snapshot) {
      // Catch the target up now rather than at the next heartbeat: earlier appends may be lost.
      pr.becomeProbe();
      this.replicator.sendAppend(to, pr);
    }
    return { ok: true };
  }

  /**
   * Proposes a single-server membership change (dissertation §4.1). It takes effect on each member
   * when its Config entry is appended there. Refused unless this node leads, no other change is
   * uncommitted, an entry of this leader's term is committed (the fix of §4.1's 2015 bug: without
   * it, a change could be lost to a leader that never saw an earlier one), and the change is valid.
   */
  proposeConfChange(cc: ConfChange): ConfChangeResult {
    if (this.state !== Role.Leader) return { ok: false, reason: 'not-leader', leaderHint: this.lead };
    if (this.leadTransferee !== null) {
      return {
        ok: false,
        reason: 'proposal-dropped',
        message: `leadership is being transferred to ${this.leadTransferee}`,
      };
    }
    const pending = this.confLog.pendingIndex(this.log.committed);
    if (pending > 0 && this.bugs.skipConfCommitCheck !== true) {
      return {
        ok: false,
        reason: 'conf-change-pending',
        message: `the change at index ${pending} is not committed yet (commit index ${this.log.committed})`,
      };
    }
    if (this.log.term(this.log.committed) !== this.currentTerm) {
      return {
        ok: false,
        reason: 'term-not-committed',
        message: `the leader of term ${this.currentTerm} has not committed an entry of its term yet`,
      };
    }
    const next = applyConfChange(this.conf(), cc);
    if (typeof next === 'string') return { ok: false, reason: 'invalid-conf-change', message: next };
    const index = this.log.lastIndex() + 1;
    const e: Entry = {
      index,
      term: this.currentTerm,
      type: EntryType.Config,
      data: encodeConfEntry(cc, next),
    };
    this.log.appendOwn([e]);
    this.confLog.push(e);
    this.applyConf();
    this.needsBroadcast = true;
    return { ok: true, index, term: this.currentTerm };
  }

  /** The effective configuration (the latest Config entry in the log, else the snapshot's). */
  conf(): ConfState {
    return this.confLog.current();
  }

  /** The configuration in effect at `index` (at least the snapshot index): what a snapshot there records. */
  confAt(index: number): ConfState {
    return this.confLog.at(index);
  }

  /** The latest local snapshot's meta, or null. */
  get snapshot(): SnapshotMeta | null {
    return this.snapshotMeta;
  }

  /** Whether this member may campaign: it is a voter of its configuration. */
  promotable(): boolean {
    return this.tracker.isVoter(this.id);
  }

  /**
   * The driver saved a snapshot of the state machine up to `meta.index` (§7): from now on it is what
   * a follower that needs compacted entries receives, and the log may be compacted up to it.
   */
  snapshotTaken(meta: SnapshotMeta): void {
    invariant(meta.index <= this.log.applied, `snapshot at ${meta.index} beyond applied ${this.log.applied}`);
    if (this.snapshotMeta !== null && meta.index <= this.snapshotMeta.index) return;
    const t = this.log.term(meta.index);
    invariant(t === -1 || t === meta.term, `snapshot ${meta.index}@${meta.term} but the log has term ${t}`);
    this.snapshotMeta = meta;
    this.confLog.compactTo(meta);
  }

  /**
   * The driver's outcome of moving a snapshot to `peer` (§7). Failure: back to probing, retried at
   * the next heartbeat response. Success: probe from the snapshot's index on, once the follower
   * acknowledges.
   */
  reportSnapshot(peer: NodeId, ok: boolean): void {
    if (this.state !== Role.Leader) return;
    const pr = this.tracker.get(peer);
    if (pr === undefined || pr.state !== ProgressState.Snapshot) return;
    if (!ok) pr.pendingSnapshot = 0;
    pr.becomeProbe();
    pr.probeSent = true;
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
    if (!this.cfg.fastFailover || this.state !== Role.Follower || !this.promotable()) return;
    if (peer !== this.lead || this.leaderLost) return;
    this.leaderLost = true;
    // Stagger by rank among the survivors so two followers rarely split the vote.
    const rank = this.tracker.voters.filter((v) => v !== peer).indexOf(this.id);
    this.randomizedElectionTimeout = Math.min(
      this.randomizedElectionTimeout,
      this.electionElapsed + 1 + rank,
    );
  }

  /** A transport hint: the connection to `peer` is up. Nothing to do: messages prove liveness. */
  peerConnected(_peer: NodeId): void {}

  /** Everything in Readys up to `readyNumber` is durable. */
  persisted(readyNumber: number): void {
    const hardState = this.records.persisted(readyNumber, this.log);
    if (hardState !== null) {
      this.durableTerm = hardState.term;
      this.durableVote = hardState.vote;
    }

    if (
      this.state === Role.Candidate &&
      this.durableTerm === this.currentTerm &&
      this.durableVote === this.id
    ) {
      if (this.tracker.voteOf(this.id) === undefined) recordVote(this, this.id, true);
    }
    // §10.2.1: the leader counts itself toward a quorum only for what is durable on its own disk.
    if (this.state === Role.Leader && maybeCommit(this)) this.needsBroadcast = true;
  }

  /** The driver applied every committed entry up to `index`. */
  applied(index: number): void {
    this.log.appliedTo(index);
  }

  /** Whether `ready()` would return something. */
  hasReady(): boolean {
    if (this.needsBroadcast && this.state === Role.Leader) return true;
    if (this.records.hasMessages() || this.reads.hasStates()) return true;
    if (this.reads.roundWanted && this.state === Role.Leader) return true;
    if (this.log.unwrittenCount() > 0) return true;
    if (this.pendingInstall !== null || this.confDirty) return true;
    if (this.records.changed(this.hardState(), this.softState())) return true;
    return Math.min(this.log.committed, this.log.stableIndex()) > this.log.applying;
  }

  /** Collects the effects accumulated since the previous Ready, or null when there are none. */
  ready(): Ready | null {
    if (this.reads.takeRoundWanted() && this.state === Role.Leader) this.broadcastHeartbeat();
    if (this.needsBroadcast) {
      this.needsBroadcast = false;
      if (this.state === Role.Leader && this.replicator.broadcastAppend(!this.cfg.lazyCommitAnnounce)) {
        this.commitOwed = true;
      }
    }
    if (!this.hasReady()) return null;

    const snapshot = this.pendingInstall;
    this.pendingInstall = null;
    const conf = this.confDirty ? this.conf() : null;
    this.confDirty = false;
    const soft = this.softState();
    const entries = this.log.takeUnwritten();
    const head = this.records.next(this.hardState(), soft, entries, snapshot);
    const committed = this.log.takeCommitted(MAX_COMMITTED_BYTES_PER_READY);
    const readStates = this.reads.hasStates() ? this.reads.takeStates() : EMPTY;
    return {
      number: head.number,
      softState: head.softState,
      hardState: head.hardState,
      entries: entries.length > 0 ? entries : EMPTY,
      messages: head.messages,
      messagesAfterPersist: head.messagesAfterPersist,
      committed: committed.length > 0 ? committed : EMPTY,
      readStates,
      snapshot,
      conf,
    };
  }

  hardState(): HardState {
    return this.records.hardState(this.currentTerm, this.votedFor, this.log.committed);
  }

  softState(): SoftState {
    return this.records.softState(this.state, this.lead, this.currentTerm);
  }

  /** Per-follower replication state, for status pages (leader only; empty otherwise). */
  progressOf(peer: NodeId): { match: number; next: number; state: string } | null {
    const p = this.tracker.get(peer);
    return p === undefined ? null : { match: p.match, next: p.next, state: p.state };
  }

  // ---------------------------------------------------------------------------------------------
  // Roles

  becomeFollower(term: number, leader: NodeId | null): void {
    if (this.state === Role.Leader) this.reads.failAll();
    if (term > this.currentTerm) {
      this.currentTerm = term;
      this.votedFor = null;
    }
    this.leaderLost = false;
    this.leadTransferee = null;
    this.state = Role.Follower;
    this.lead = leader;
    this.resetTimers();
    this.tracker.clearProgress();
    this.tracker.resetVotes();
    this.uncommittedBytes = 0;
  }

  becomePreCandidate(): void {
    this.state = Role.PreCandidate;
    this.lead = null;
    this.tracker.resetVotes();
    this.resetTimers();
  }

  becomeCandidate(): void {
    this.currentTerm += 1;
    this.votedFor = this.id;
    this.state = Role.Candidate;
    this.lead = null;
    this.tracker.resetVotes();
    this.resetTimers();
  }

  becomeLeader(): void {
    this.state = Role.Leader;
    this.commitOwed = false;
    this.lead = this.id;
    this.leadTransferee = null;
    this.leaderLost = false;
    this.sinceLeaderContact = 0;
    this.reads.reset();
    this.resetTimers();
    this.tracker.resetVotes();
    const next = this.log.lastIndex() + 1;
    this.tracker.resetProgress(next);
    this.uncommittedBytes = 0;
    // §5.4.2 / §8: a no-op of the new term lets the leader commit everything before it.
    this.log.appendOwn([
      { index: next, term: this.currentTerm, type: EntryType.Noop, data: new Uint8Array(0) },
    ]);
    this.needsBroadcast = true;
  }

  resetTimers(): void {
    this.electionElapsed = 0;
    this.heartbeatElapsed = 0;
    const t = this.cfg.electionTicks;
    this.randomizedElectionTimeout = t + this.cfg.rng.int(t);
  }

  // ---------------------------------------------------------------------------------------------
  // Time

  broadcastHeartbeat(): void {
    const context = this.reads.startRound();
    this.heartbeatElapsed = 0;
    this.replicator.broadcastHeartbeat(context);
  }

  /**
   * How many ticks from now the first one that can act comes: the `n`-th next tick may send
   * (heartbeats), campaign or step down; the ticks before it only count. A driver may hold those
   * and deliver them later, all at once, provided it delivers every tick that is due before it
   * hands the engine anything else: the engine then sees the same ticks between its inputs.
   */
  ticksUntilAction(): number {
    let n: number;
    if (this.state === Role.Leader) {
      n = Math.min(
        this.cfg.heartbeatTicks - this.heartbeatElapsed,
        this.cfg.electionTicks - this.electionElapsed,
      );
      if (this.commitOwed) n = 1;
      if (this.leadTransferee !== null) n = Math.min(n, this.cfg.electionTicks - this.transferElapsed);
    } else {
      n = this.randomizedElectionTimeout - this.electionElapsed;
    }
    return Math.max(1, n);
  }

  tickElection(): void {
    this.electionElapsed++;
    if (this.electionElapsed >= this.randomizedElectionTimeout) {
      this.electionElapsed = 0;
      // Learners, removed members and members waiting to join never campaign (§4.2.3).
      if (this.promotable() || this.bugs.countLearnerVotes === true) hup(this);
    }
  }

  tickLeader(): void {
    this.heartbeatElapsed++;
    this.electionElapsed++;
    this.reads.tick();
    this.sinceLeaderContact = 0;
    if (this.leadTransferee !== null && ++this.transferElapsed >= this.cfg.electionTicks) {
      // §3.10: the target did not take over within an election timeout; resume normal service.
      this.leadTransferee = null;
    }
    if (this.electionElapsed >= this.cfg.electionTicks) {
      this.electionElapsed = 0;
      // §6.2 CheckQuorum: a leader that has not heard from a quorum in an election timeout steps
      // down, so a partitioned leader stops serving and clients move on.
      // Voters only: learners never count toward a quorum.
      if (this.cfg.checkQuorum && !this.tracker.quorumActive()) {
        this.becomeFollower(this.currentTerm, null);
        return;
      }
    }
    if (this.heartbeatElapsed >= this.cfg.heartbeatTicks) {
      this.heartbeatElapsed = 0;
      this.broadcastHeartbeat();
    }
    if (this.commitOwed) {
      // After the heartbeats: a follower they told needs no append of its own.
      this.commitOwed = false;
      this.replicator.broadcastAppend();
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Membership

  /** Makes the effective configuration the one the engine acts on. */
  applyConf(): void {
    const conf = this.conf();
    this.tracker.setConf(conf);
    this.confDirty = true;
    if (this.state === Role.Leader) {
      this.tracker.syncProgress(this.log.lastIndex() + 1);
      if (this.leadTransferee !== null && !this.tracker.isVoter(this.leadTransferee)) {
        this.leadTransferee = null;
      }
    } else if (
      (this.state === Role.Candidate || this.state === Role.PreCandidate) &&
      !this.promotable() &&
      this.bugs.countLearnerVotes !== true
    ) {
      this.becomeFollower(this.currentTerm, null);
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Output

  send(m: Message): void {
    // Votes and acknowledgements promise durable state: they leave only after the Ready that
    // holds that state is persisted (Figure 2; DESIGN.md "Rules that carry the safety"). A vote
    // *request* promises nothing: it leaves at once, so the candidate's fsync of its term and
    // self-vote overlaps the voters' fsyncs instead of preceding them (one fsync fewer on the
    // failover path). The self-vote counts only once durable (persisted()) and the candidate leads
    // only then (recordVote), so one that crashes first never led and may vote anew on restart.
    switch (m.type) {
      case 'appResp':
      case 'voteResp':
        this.records.sendAfterPersist(m);
        return;
      default:
        this.records.send(m);
    }
  }
}
