import { isQuorum, quorumIndex } from './majority.js';
import { Progress } from './Progress.js';
import type { ConfState, NodeId } from './types.js';

/** The outcome of an election so far (etcd's VoteResult). */
export const VoteResult = {
  Pending: 'pending',
  Won: 'won',
  Lost: 'lost',
} as const;
export type VoteResult = (typeof VoteResult)[keyof typeof VoteResult];

/**
 * Who counts and how far each member got, like etcd's `tracker/`: the voters and replication
 * targets of the effective configuration, the leader's per-follower `Progress`, and a candidate's
 * vote tally. Quorum arithmetic (commit index, confirmed read round, CheckQuorum, election) is
 * done here, over voters only: learners replicate but never count (dissertation §4.2.1).
 */
export class ProgressTracker {
  private voterIds: readonly NodeId[] = [];
  private peerIds: readonly NodeId[] = [];
  private readonly progress = new Map<NodeId, Progress>();
  private readonly votes = new Map<NodeId, boolean>();
  /** Reused per call on the hot path (every acknowledgement), to allocate nothing. */
  private readonly buf: number[] = [];
  private readonly scratch: number[] = [];

  constructor(
    private readonly id: NodeId,
    private readonly maxInflightMsgs: number,
    private readonly maxInflightBytes: number,
  ) {}

  /** Voters of the effective configuration (sorted), this member included if it is one. */
  get voters(): readonly NodeId[] {
    return this.voterIds;
  }

  /** Every other member of the effective configuration, voters and learners: replication targets. */
  get peers(): readonly NodeId[] {
    return this.peerIds;
  }

  /** Takes on a new effective configuration; `progress` follows at the next `syncProgress`. */
  setConf(conf: ConfState): void {
    this.voterIds = conf.voters;
    this.peerIds = [...conf.voters, ...conf.learners].filter((p) => p !== this.id).sort();
  }

  isVoter(id: NodeId): boolean {
    return this.voterIds.includes(id);
  }

  // ---------------------------------------------------------------------------------------------
  // Progress (the leader's view of each follower)

  get(peer: NodeId): Progress | undefined {
    return this.progress.get(peer);
  }

  /** A new leader: every peer starts probing at `next`, counted active for the first CheckQuorum. */
  resetProgress(next: number): void {
    this.progress.clear();
    for (const p of this.peerIds) this.progress.set(p, this.newProgress(next));
  }

  /** The configuration changed under a leader: new peers start probing at `next`, removed ones go. */
  syncProgress(next: number): void {
    for (const p of this.peerIds) {
      if (this.progress.has(p)) continue;
      this.progress.set(p, this.newProgress(next));
    }
    for (const p of [...this.progress.keys()]) if (!this.peerIds.includes(p)) this.progress.delete(p);
  }

  clearProgress(): void {
    this.progress.clear();
  }

  /** The largest index a quorum of voters holds; this member counts with `selfIndex`. */
  committedIndex(selfIndex: number): number {
    const matches = this.buf;
    matches.length = 0;
    for (const v of this.voterIds) {
      matches.push(v === this.id ? selfIndex : (this.progress.get(v)?.match ?? 0));
    }
    return quorumIndex(matches, this.scratch);
  }

  /** The latest heartbeat round a quorum of voters acknowledged; this member counts with `selfRound`. */
  confirmedRound(selfRound: number): number {
    const acked = this.buf;
    acked.length = 0;
    for (const v of this.voterIds) {
      acked.push(v === this.id ? selfRound : (this.progress.get(v)?.ackedRound ?? 0));
    }
    return quorumIndex(acked, this.scratch);
  }

  /**
   * §6.2 CheckQuorum: whether a quorum of voters was heard from since the last call. Starts the
   * next period (every follower inactive until heard from again).
   */
  quorumActive(): boolean {
    let active = 0;
    for (const v of this.voterIds) {
      if (v === this.id) active++;
      else if (this.progress.get(v)?.recentActive === true) active++;
    }
    for (const [, pr] of this.progress) pr.recentActive = false;
    return isQuorum(active, this.voterIds.length);
  }

  /** The voter with the highest match (the first in voter order on a tie), or null with no progress. */
  mostCaughtUpVoter(): { readonly id: NodeId; readonly match: number } | null {
    let best: NodeId | null = null;
    let bestMatch = -1;
    for (const v of this.voterIds) {
      const m = this.progress.get(v)?.match ?? -1;
      if (m > bestMatch) {
        best = v;
        bestMatch = m;
      }
    }
    return best === null ? null : { id: best, match: bestMatch };
  }

  // ---------------------------------------------------------------------------------------------
  // Votes (a candidate's or pre-candidate's tally)

  resetVotes(): void {
    this.votes.clear();
  }

  /** Records `from`'s answer; a member's first answer in an election is the one that counts. */
  recordVote(from: NodeId, granted: boolean): void {
    if (!this.votes.has(from)) this.votes.set(from, granted);
  }

  /** `from`'s recorded answer, or undefined before it answered. */
  voteOf(from: NodeId): boolean | undefined {
    return this.votes.get(from);
  }

  /**
   * Counts the answers of the voters of the current configuration (learners never count;
   * `countAll` is a planted bug that counts them).
   */
  tallyVotes(countAll: boolean): VoteResult {
    let yes = 0;
    let no = 0;
    for (const [id, g] of this.votes) {
      if (!countAll && !this.voterIds.includes(id)) continue;
      if (g) yes++;
      else no++;
    }
    const n = this.voterIds.length;
    if (isQuorum(yes, n)) return VoteResult.Won;
    if (isQuorum(no, n)) return VoteResult.Lost;
    return VoteResult.Pending;
  }

  private newProgress(next: number): Progress {
    const pr = new Progress(next, this.maxInflightMsgs, this.maxInflightBytes);
    pr.recentActive = true;
    return pr;
  }
}
