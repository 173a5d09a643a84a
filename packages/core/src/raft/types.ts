/**
 * The vocabulary of the engine: entries, hard state, messages and the Ready that carries effects
 * out. Names follow the Raft paper and etcd raft so that a reader who knows either finds each rule.
 */

/** A member's id: see MEMBER_ID_PATTERN in memberId.ts (1-64 of [A-Za-z0-9._-], alphanumeric first). */
export type NodeId = string;

export const EntryType = {
  /** Appended by a new leader when it takes office (§5.4.2, §8): lets it commit earlier terms. */
  Noop: 0,
  /** An application command; `data` is opaque to the engine. */
  Normal: 1,
  /** A single-server membership change (dissertation §4.1); `data` is an encoded `ConfChange`. */
  Config: 2,
} as const;
export type EntryType = (typeof EntryType)[keyof typeof EntryType];

export interface Entry {
  readonly index: number;
  readonly term: number;
  readonly type: EntryType;
  readonly data: Uint8Array;
}

/** What must be durable before a vote or an acknowledgement leaves (Figure 2, "Persistent state"). */
export interface HardState {
  readonly term: number;
  /** The candidate voted for in `term`, or null. */
  readonly vote: NodeId | null;
  /** Highest index known committed; persisted so a restart does not re-deliver less than it applied. */
  readonly commit: number;
}

/**
 * A cluster configuration (dissertation ch. 4): who votes, who only receives the log, and where to
 * reach them. `addresses` are opaque to the engine: it only carries them (in Config entries and
 * snapshots) so that the driver can connect to members added at run time; '' when unknown.
 * A Map, like every id-keyed record: an id is data, never a property name.
 */
export interface ConfState {
  readonly voters: readonly NodeId[];
  readonly learners: readonly NodeId[];
  readonly addresses: ReadonlyMap<NodeId, string>;
}

/** What a snapshot covers (§7): the last included index and term, and the configuration there. */
export interface SnapshotMeta {
  readonly index: number;
  readonly term: number;
  readonly conf: ConfState;
}

export const ConfChangeType = {
  /** Add a member that receives the log but neither votes nor counts toward any quorum. */
  AddLearner: 'addLearner',
  /** Make a learner a voter (once it has caught up). */
  Promote: 'promote',
  /** Add a voter directly (safe as a single-server change, but the cluster may stall while it catches up). */
  AddVoter: 'addVoter',
  /** Remove a voter or a learner. */
  Remove: 'remove',
} as const;
export type ConfChangeType = (typeof ConfChangeType)[keyof typeof ConfChangeType];

/** One single-server membership change (dissertation §4.1). */
export interface ConfChange {
  readonly type: ConfChangeType;
  readonly id: NodeId;
  /** Where to reach the member (addLearner, addVoter); opaque to the engine. */
  readonly address?: string;
}

export const Role = {
  Follower: 'follower',
  PreCandidate: 'pre-candidate',
  Candidate: 'candidate',
  Leader: 'leader',
} as const;
export type Role = (typeof Role)[keyof typeof Role];

/** Volatile state for observers and metrics; never persisted. */
export interface SoftState {
  readonly role: Role;
  readonly leader: NodeId | null;
  readonly term: number;
}

export const MessageType = {
  App: 'app',
  AppResp: 'appResp',
  Vote: 'vote',
  VoteResp: 'voteResp',
  PreVote: 'preVote',
  PreVoteResp: 'preVoteResp',
  Heartbeat: 'heartbeat',
  HeartbeatResp: 'heartbeatResp',
  TimeoutNow: 'timeoutNow',
  ReadIndex: 'readIndex',
  ReadIndexResp: 'readIndexResp',
  Snapshot: 'snapshot',
  SnapChunk: 'snapChunk',
  SnapAck: 'snapAck',
} as const;
export type MessageType = (typeof MessageType)[keyof typeof MessageType];

interface MessageBase {
  readonly from: NodeId;
  readonly to: NodeId;
  /** The sender's term; for a pre-vote request and its grant, the term the candidate would use. */
  readonly term: number;
}

/** AppendEntries (Figure 2). */
export interface AppMessage extends MessageBase {
  readonly type: 'app';
  readonly prevIndex: number;
  readonly prevTerm: number;
  readonly entries: readonly Entry[];
  readonly commit: number;
}

/**
 * AppendEntries reply. On success `index` is the last index now known to match the leader.
 * On rejection `index` is the rejected `prevIndex`, and the hint lets the leader skip a whole
 * conflicting term per round trip (§5.3, "fast backtracking"): `hintTerm` is the follower's term
 * at `prevIndex` (0 when its log is shorter) and `hintIndex` is the first index of that term in the
 * follower's log (or its last index + 1 when its log is shorter).
 */
export interface AppRespMessage extends MessageBase {
  readonly type: 'appResp';
  readonly index: number;
  readonly reject: boolean;
  readonly hintIndex: number;
  readonly hintTerm: number;
}

/** RequestVote (Figure 2) or its pre-vote twin (dissertation §9.6). */
export interface VoteMessage extends MessageBase {
  readonly type: 'vote' | 'preVote';
  readonly lastIndex: number;
  readonly lastTerm: number;
  /** Set for a campaign started by leadership transfer: voters skip the leader-stickiness check. */
  readonly transfer: boolean;
}

export interface VoteRespMessage extends MessageBase {
  readonly type: 'voteResp' | 'preVoteResp';
  readonly reject: boolean;
}

/** Heartbeat; `context` is non-zero when it also confirms leadership for pending reads. */
export interface HeartbeatMessage extends MessageBase {
  readonly type: 'heartbeat';
  readonly commit: number;
  readonly context: number;
}

export interface HeartbeatRespMessage extends MessageBase {
  readonly type: 'heartbeatResp';
  readonly context: number;
}

/** Leadership transfer (dissertation §3.10): the recipient campaigns at once. */
export interface TimeoutNowMessage extends MessageBase {
  readonly type: 'timeoutNow';
}

/** A follower asks the leader for a read index on behalf of a linearizable read (§6.4). */
export interface ReadIndexMessage extends MessageBase {
  readonly type: 'readIndex';
  readonly context: number;
}

export interface ReadIndexRespMessage extends MessageBase {
  readonly type: 'readIndexResp';
  readonly context: number;
  readonly index: number;
  readonly reject: boolean;
}

/**
 * InstallSnapshot (§7, Figure 13) as the engine sees it: the leader asks the driver to bring the
 * follower the snapshot described by `meta`, and the follower's driver steps its engine with this
 * message once every byte is stored. It never travels as such: drivers move the bytes in
 * `snapChunk`/`snapAck` messages.
 */
export interface SnapshotMessage extends MessageBase {
  readonly type: 'snapshot';
  readonly meta: SnapshotMeta;
}

/**
 * One chunk of a snapshot between drivers (never given to the engine). `offset` is the chunk's
 * position in the snapshot's `total` bytes; the last chunk ends at `total`.
 */
export interface SnapChunkMessage extends MessageBase {
  readonly type: 'snapChunk';
  readonly meta: SnapshotMeta;
  readonly offset: number;
  readonly total: number;
  readonly data: Uint8Array;
}

/**
 * A receiver's acknowledgement of snapshot chunks: it holds the bytes [0, next) of the snapshot
 * (index, snapTerm). `reject`: it will not take this snapshot (it has a newer one, or no room);
 * the sender stops.
 */
export interface SnapAckMessage extends MessageBase {
  readonly type: 'snapAck';
  readonly index: number;
  readonly snapTerm: number;
  readonly next: number;
  readonly reject: boolean;
}

export type Message =
  | AppMessage
  | AppRespMessage
  | VoteMessage
  | VoteRespMessage
  | HeartbeatMessage
  | HeartbeatRespMessage
  | TimeoutNowMessage
  | ReadIndexMessage
  | ReadIndexRespMessage
  | SnapshotMessage
  | SnapChunkMessage
  | SnapAckMessage;

/**
 * A linearizable read's outcome (§6.4). `ok`: the read may be served once the state machine has
 * applied `index`. Otherwise it failed (no leader, leadership lost) and must not be served: the
 * caller retries elsewhere.
 */
export type ReadState =
  | { readonly context: number; readonly ok: true; readonly index: number }
  | { readonly context: number; readonly ok: false; readonly reason: 'not-leader' | 'leadership-lost' };

/**
 * Everything the engine wants done, numbered. The driver must, in this order of guarantees:
 * 1. send `messages` at once (they promise nothing about local durable state: requests such as
 *    RequestVote, and a leader's AppendEntries, which it counts for itself only once durable);
 * 2. persist `hardState` (if not null) and `entries` (if the first entry's index is at or below the
 *    store's last index, truncate the store's suffix from that index first), then call
 *    `persisted(number)` once that write, and those of every earlier Ready, are durable;
 * 3. only then send `messagesAfterPersist` (vote answers, append acknowledgements);
 * 4. apply `committed` in order and report `applied(index)`;
 * 5. serve each ok `readStates` entry once the applied index reaches its index.
 * Readys are handed out in increasing `number`; completions may batch (persisted(7) covers 1-7).
 */
export interface Ready {
  readonly number: number;
  readonly softState: SoftState | null;
  readonly hardState: HardState | null;
  readonly entries: readonly Entry[];
  readonly messages: readonly Message[];
  readonly messagesAfterPersist: readonly Message[];
  readonly committed: readonly Entry[];
  readonly readStates: readonly ReadState[];
  /**
   * A snapshot to install (§7) before `entries`: restore the state machine from the stored
   * snapshot with this meta, then reset the log so that it starts after `index` (LogStore.compact);
   * durable as part of this Ready. Committed entries of this Ready come after it.
   */
  readonly snapshot: SnapshotMeta | null;
  /**
   * The effective configuration, when it changed (at startup, when a Config entry was appended or
   * truncated away, or a snapshot was installed): the driver adds and removes transport peers.
   */
  readonly conf: ConfState | null;
}

/** An expected failure, returned (never thrown) with a stable code. */
export type Rejection =
  | { readonly ok: false; readonly reason: 'not-leader'; readonly leaderHint: NodeId | null }
  | { readonly ok: false; readonly reason: 'proposal-dropped'; readonly message: string };

export type ProposeResult =
  | { readonly ok: true; readonly firstIndex: number; readonly term: number }
  | Rejection;

/** Why a configuration change was refused; stable strings. */
export const ConfChangeRejection = {
  NotLeader: 'not-leader',
  /** An earlier Config entry is not committed yet: only one change may be pending (§4.1). */
  Pending: 'conf-change-pending',
  /** The leader has not committed an entry of its own term yet (dissertation §4.1, the fix of 2015). */
  TermNotCommitted: 'term-not-committed',
  /** Unknown member, already a member, removing the last voter, promoting a non-learner, ... */
  Invalid: 'invalid-conf-change',
  /** The leader is transferring leadership. */
  Dropped: 'proposal-dropped',
} as const;

export type ConfChangeResult =
  | { readonly ok: true; readonly index: number; readonly term: number }
  | { readonly ok: false; readonly reason: 'not-leader'; readonly leaderHint: NodeId | null }
  | {
      readonly ok: false;
      readonly reason:
        | 'conf-change-pending'
        | 'term-not-committed'
        | 'invalid-conf-change'
        | 'proposal-dropped';
      readonly message: string;
    };

export type TransferResult =
  | { readonly ok: true }
  | { readonly ok: false; readonly reason: 'not-leader'; readonly leaderHint: NodeId | null }
  | { readonly ok: false; readonly reason: 'unknown-member'; readonly message: string };
