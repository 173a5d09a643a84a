import { ErrorCode, KeelError } from './errors.js';
import { InvalidMemberIdError, isValidMemberId } from './memberId.js';
import type { Rng } from './rng.js';
import type { NodeId } from './types.js';

// The simulator (packages/core/src/testing) still imports the planted-bug type from here.

export interface RaftConfig {
  /** This member's id; must be one of `voters` unless `voters` is empty. */
  readonly id: NodeId;
  /**
   * The bootstrap configuration: every voting member, this one included. Used only by a fresh
   * member (no snapshot, no Config entry in its log); afterwards the configuration comes from the
   * log (dissertation ch. 4). Empty = join mode: the member waits, never campaigns, and takes its
   * configuration from the leader that adds it (appends or a snapshot).
   */
  readonly voters: readonly NodeId[];
  /** Addresses of the bootstrap voters (opaque; carried in `ConfState.addresses`). Default ''. */
  readonly addresses?: ReadonlyMap<NodeId, string>;
  /** The randomness source for election timeouts; seed it for reproducible runs. */
  readonly rng: Rng;
  /** Minimum election timeout T in ticks; each timeout is drawn from [T, 2T). Default 10. */
  readonly electionTicks?: number;
  /** Heartbeat interval in ticks; must be below electionTicks. Default 1. */
  readonly heartbeatTicks?: number;
  /** PreVote (dissertation §9.6). Default true. */
  readonly preVote?: boolean;
  /** CheckQuorum (§6.2): a leader without a quorum's contact for an election timeout steps down. Default true. */
  readonly checkQuorum?: boolean;
  /** Payload bytes per AppendEntries message. Default 1 MiB. */
  readonly maxMsgBytes?: number;
  /** AppendEntries messages in flight per follower in replicate state. Default 256. */
  readonly maxInflightMsgs?: number;
  /** Payload bytes in flight per follower. Default 32 MiB. */
  readonly maxInflightBytes?: number;
  /** Bytes of proposals the leader holds uncommitted before it drops new ones. Default 64 MiB. */
  readonly maxUncommittedBytes?: number;
  /**
   * Lease reads (dissertation §6.4.1), opt-in: the leader answers reads without a heartbeat round
   * while its lease holds. The lease starts when the leader sent the heartbeat round a quorum
   * acknowledged and lasts electionTicks - maxClockDriftTicks ticks. Safe only if no member's
   * clock runs faster than another's by more than that margin over one election timeout. Requires
   * checkQuorum. Default false.
   */
  readonly readLease?: boolean;
  /** Clock drift bound for lease reads, in ticks. Default 2. */
  readonly maxClockDriftTicks?: number;
  /**
   * Fast failover: when the transport reports the connection to the leader dropped, a follower
   * starts a PreVote campaign after 1 + rank ticks (rank = its position among the other voters)
   * instead of waiting out its election timeout. Default true.
   */
  readonly fastFailover?: boolean;
  /**
   * A commit index that moved while a follower has no new entries to receive is announced at the
   * leader's next tick (or sooner, by the next append or heartbeat), not at once in an append of
   * its own. Under load the next append carries it anyway; at one outstanding write this saves
   * two commit-only appends and their two acknowledgements per write (3 members). The cost:
   * followers may learn a commit, and apply it, up to a tick later (their linearizable reads are
   * unaffected: a ReadIndex round's heartbeats carry the commit index). Default true.
   */
  readonly lazyCommitAnnounce?: boolean;
}

export type ResolvedRaftConfig = Required<Omit<RaftConfig, 'addresses'>> & {
  readonly addresses: ReadonlyMap<NodeId, string>;
};

export function resolveConfig(c: RaftConfig): ResolvedRaftConfig {
  const r: ResolvedRaftConfig = {
    electionTicks: 10,
    heartbeatTicks: 1,
    preVote: true,
    checkQuorum: true,
    maxMsgBytes: 1024 * 1024,
    maxInflightMsgs: 256,
    maxInflightBytes: 32 * 1024 * 1024,
    maxUncommittedBytes: 64 * 1024 * 1024,
    readLease: false,
    maxClockDriftTicks: 2,
    fastFailover: true,
    lazyCommitAnnounce: true,
    ...c,
    addresses: c.addresses ?? new Map<NodeId, string>(),
  };
  const bad = (msg: string): never => {
    throw new KeelError(ErrorCode.InvalidConfig, msg);
  };
  if (!isValidMemberId(r.id)) throw new InvalidMemberIdError(r.id);
  if (new Set(r.voters).size !== r.voters.length) bad('voters contains a duplicate id');
  for (const v of r.voters) if (!isValidMemberId(v)) throw new InvalidMemberIdError(v, 'voter id');
  if (r.voters.length > 0 && !r.voters.includes(r.id)) {
    bad(
      `member '${r.id}' is not among the voters (${r.voters.join(', ')}); give no voters to join an existing cluster`,
    );
  }
  if (!Number.isInteger(r.electionTicks) || r.electionTicks < 2) bad('electionTicks must be an integer >= 2');
  if (!Number.isInteger(r.heartbeatTicks) || r.heartbeatTicks < 1 || r.heartbeatTicks >= r.electionTicks) {
    bad('heartbeatTicks must be an integer in [1, electionTicks)');
  }
  if (r.maxMsgBytes < 1) bad('maxMsgBytes must be positive');
  if (r.readLease && !r.checkQuorum)
    bad('readLease requires checkQuorum (the lease rests on leader stickiness)');
  if (r.readLease && (r.maxClockDriftTicks < 0 || r.maxClockDriftTicks >= r.electionTicks)) {
    bad('maxClockDriftTicks must be in [0, electionTicks) for lease reads');
  }
  if (r.maxInflightMsgs < 1) bad('maxInflightMsgs must be at least 1');
  if (r.maxInflightBytes < r.maxMsgBytes) bad('maxInflightBytes must be at least maxMsgBytes');
  return r;
}
