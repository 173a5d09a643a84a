import type { LogStorage } from '../raft/storage.js';
import type { Entry, HardState, Message, NodeId } from '../raft/types.js';

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
  close(): Promise<void>;
}

/** The replicated application. `apply` is deterministic: same entries, same results, everywhere. */
export interface StateMachine<Result = unknown> {
  /** Applies one committed Normal entry; the result goes back to whoever proposed it. */
  apply(entry: Entry): Result;
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
}
