import type { LogStorage } from '../raft/storage.js';
import type { Entry, HardState, Message, NodeId, SnapshotMeta } from '../raft/types.js';
import type { SnapshotBytes, SnapshotChunks } from './snapshotBytes.js';

/**
 * Durable log storage as the driver uses it: the engine's read view plus writes. Implemented by the
 * in-memory store of the testing kit and by `@keel/log`; both pass one conformance suite.
 *
 * Durability contract: `append` makes its entries and hard state visible to reads at once and calls
 * `onDurable` once they are on stable storage (fsync done). Callbacks fire in call order, so a store
 * may cover many appends with one fsync (group commit). A write or fsync failure is fatal: the
 * store reports the error to every pending and later callback, never retries, and accepts no more
 * appends.
 */
export interface LogStore extends LogStorage {
  /**
   * Persists `hardState` (when not null) and `entries`. When `entries[0].index` is at or below
   * lastIndex(), the suffix from that index is truncated first. Entries must be contiguous and
   * start at most at lastIndex() + 1.
   */
  append(
    entries: readonly Entry[],
    hardState: HardState | null,
    onDurable: (err: Error | null) => void,
  ): void;
  /**
   * Drops the log prefix up to and including `index`, which a durable snapshot covers (§7); `term`
   * is the term at `index`. If the log holds `index` with `term`, the entries after it stay;
   * otherwise (installing a snapshot the log does not reach or contradicts) the whole log goes and
   * restarts empty at index + 1. Either way, reads see the result at once: firstIndex() = index + 1
   * (unless index < firstIndex(): nothing to do) and term(index) = term. `onDurable` fires once the
   * compaction is on stable storage, in call order with `append` callbacks, with the same fatal
   * error rules. Required when the driver has a SnapshotStore.
   *
   * Callback style, not a Promise, like `append`: the simulator runs stores in virtual time.
   */
  compact?(index: number, term: number, onDurable: (err: Error | null) => void): void;
  /** Flushes what is pending and releases files; no call is accepted afterwards. */
  close(): Promise<void>;
}

/** A peer's reachability as the transport sees it (a hint only: safety never depends on it). */
export const PeerEvent = {
  Connected: 'connected',
  Disconnected: 'disconnected',
} as const;
export type PeerEvent = (typeof PeerEvent)[keyof typeof PeerEvent];

export interface TransportHandlers {
  /** A decoded message from a configured peer, addressed to this member. */
  message(msg: Message): void;
  /** The connection to `peer` came up or went down. */
  peer(peer: NodeId, event: PeerEvent): void;
}

/**
 * Moves engine messages between members. Sending never blocks and may drop (Raft tolerates loss,
 * duplication and reordering). A transport may let small control messages (heartbeats, votes,
 * responses) overtake queued AppendEntries so they never starve behind a long replication queue.
 */
export interface Transport {
  /** Registers the receiver; called once, before any message can be delivered. */
  start(handlers: TransportHandlers): void | Promise<void>;
  send(messages: readonly Message[]): void;
  /**
   * Optional: the members to connect to changed (membership, dissertation ch. 4). `peers` maps every
   * other member of the configuration, voters and learners, to its address ('' when unknown).
   * Called with the configuration at startup and whenever it changes.
   */
  setPeers?(peers: ReadonlyMap<NodeId, string>): void;
  close(): Promise<void>;
}

/** The replicated application. `apply` is deterministic: same entries, same results, everywhere. */
export interface StateMachine<Result = unknown> {
  /** Applies one committed Normal entry; the result goes back to whoever proposed it. */
  apply(entry: Entry): Result;
  /**
   * The whole state as of the last applied entry (§7). Needed for snapshots: a node whose state
   * machine lacks `snapshot`/`restore` never snapshots and cannot install one (a fatal error).
   * A large state may be encoded in the background (a promise), but it must be captured at the
   * call: entries applied after it are not part of the snapshot. Encoding it all synchronously
   * stalls the node (and a leader's heartbeats) for as long as that takes. A large state should
   * also come as chunks (about a megabyte each) rather than one buffer: see SnapshotChunks.
   */
  snapshot?(): SnapshotBytes | PromiseLike<SnapshotBytes>;
  /** Replaces the whole state with a snapshot's bytes (from `snapshot()` on some member), contiguous. */
  restore?(data: Uint8Array): void;
}

/** A snapshot as stored: what it covers and the state machine's bytes, as chunks in order. */
export interface StoredSnapshot {
  readonly meta: SnapshotMeta;
  readonly chunks: SnapshotChunks;
}

/**
 * Durable storage of state-machine snapshots (§7). Saves are atomic (a crash leaves either the old
 * latest snapshot or the new one, never a mix) and durable before their callback fires; older
 * snapshots may be deleted once a newer one is saved. Callbacks, not promises, so that the
 * simulator can run an implementation in virtual time. An error passed to a callback is fatal to
 * the node (like a failed fsync).
 */
export interface SnapshotStore {
  /** The latest completely saved snapshot, or null. Read at startup and whenever a follower needs it. */
  load(): StoredSnapshot | null;
  /**
   * Saves a snapshot taken locally; it becomes `load()`'s answer once `done(null)` fires, unless
   * a snapshot with a higher index is already the latest (then it is discarded: never go back).
   */
  save(meta: SnapshotMeta, chunks: SnapshotChunks, done: (err: Error | null) => void): void;
  /**
   * Starts receiving a snapshot of `total` bytes from the leader, chunk by chunk. Chunks need not
   * be durable: a receiver that restarts starts over. Only `finish` makes it the latest snapshot.
   */
  receive(meta: SnapshotMeta, total: number): SnapshotSink;
}

/** An incoming snapshot being written (see SnapshotStore.receive). */
export interface SnapshotSink {
  /**
   * Appends the next bytes; `offset` always equals the bytes written so far. `data` becomes the
   * sink's: the caller never changes it afterwards, so the sink may keep it without a copy.
   */
  write(offset: number, data: Uint8Array): void;
  /**
   * All `total` bytes were written: save them atomically and durably as the latest snapshot
   * (discarded instead if a snapshot with a higher index is already the latest).
   */
  finish(done: (err: Error | null) => void): void;
  /** Discards what was received (a newer snapshot arrived, or the transfer was abandoned). */
  abort(): void;
}

export type TimerHandle = { readonly __timer: unique symbol } | number | object;

/** Time and scheduling for the driver: the real event loop in production, virtual time in simulation. */
export interface Scheduler {
  /** Milliseconds on a monotonic clock. */
  now(): number;
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
  /** Runs `fn` after the current batch of work: the point where inputs are coalesced into one Ready. */
  defer(fn: () => void): void;
}

/**
 * A request/response channel from a client to one member: many requests in flight, replies
 * matched to requests. `@keel/transport-zmq`'s ClientConnection implements it; the KV client
 * takes a factory of these, so `@keel/kv` needs no network package.
 */
export interface ClientChannel {
  request(payload: Uint8Array, options?: { readonly timeoutMs?: number }): Promise<Uint8Array>;
  close(): Promise<void>;
  /**
   * What the channel knows of its member's connection (optional: a channel without it is taken
   * as `up`). `down`: it was lost or refused and not yet re-established, so a request now fails
   * at once with `KEEL_CHANNEL_NOT_SENT` instead of waiting out its timeout.
   */
  state?(): ChannelState;
}

/** `connecting`: never connected yet; `up`: connected (handshake done); `down`: lost or refused. */
export type ChannelState = 'connecting' | 'up' | 'down';

/**
 * Codes a `ClientChannel` rejects with when it knows what happened to the request, so a client can
 * tell "certainly not executed" from "outcome unknown" without knowing the transport.
 */
export const ChannelErrorCode = {
  /** The request certainly did not reach the member (it was down, or the send failed). */
  NotSent: 'KEEL_CHANNEL_NOT_SENT',
  /** The request was sent, then the connection went away: it may or may not have been executed. */
  Disconnected: 'KEEL_CHANNEL_DISCONNECTED',
} as const;
export type ChannelErrorCode = (typeof ChannelErrorCode)[keyof typeof ChannelErrorCode];
