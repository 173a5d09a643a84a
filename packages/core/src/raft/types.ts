/**
 * The vocabulary of the engine: entries, hard state, messages and the Ready that carries effects
 * out. Names follow the Raft paper and etcd raft so that a reader who knows either finds each rule.
 */

/** A member's id: 1-64 characters of [A-Za-z0-9_-]. */
export type NodeId = string;

export const EntryType = {
  /** Appended by a new leader when it takes office (§5.4.2, §8): lets it commit earlier terms. */
  Noop: 0,
  /** An application command; `data` is opaque to the engine. */
  Normal: 1,
  /** A configuration change (reserved for the membership issue). */
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

export type Message =
  | AppMessage
  | AppRespMessage
  | VoteMessage
  | VoteRespMessage
  | HeartbeatMessage
  | HeartbeatRespMessage
  | TimeoutNowMessage
  | ReadIndexMessage
  | ReadIndexRespMessage;

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
 * 1. send `messages` at once (they never depend on unpersisted local state);
 * 2. persist `hardState` (if not null) and `entries` (if the first entry's index is at or below the
 *    store's last index, truncate the store's suffix from that index first), then call
 *    `persisted(number)` once that write, and those of every earlier Ready, are durable;
 * 3. only then send `messagesAfterPersist` (votes, acknowledgements);
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
}

/** An expected failure, returned (never thrown) with a stable code. */
export type Rejection =
  | { readonly ok: false; readonly reason: 'not-leader'; readonly leaderHint: NodeId | null }
  | { readonly ok: false; readonly reason: 'proposal-dropped'; readonly message: string };

export type ProposeResult =
  | { readonly ok: true; readonly firstIndex: number; readonly term: number }
  | Rejection;

export type TransferResult =
  | { readonly ok: true }
  | { readonly ok: false; readonly reason: 'not-leader'; readonly leaderHint: NodeId | null }
  | { readonly ok: false; readonly reason: 'unknown-member'; readonly message: string };
