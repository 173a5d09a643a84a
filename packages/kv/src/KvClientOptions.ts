/**
 * The options and argument shapes of `KvClient` (KvClient.ts re-exports them): kept apart so the
 * client file holds the behaviour.
 */
import type { ClientChannel, NodeId } from '@keel/core';
import type { KvLimits } from './limits.js';
import type { ReadConsistency } from './protocol.js';
import type { KeyValue } from './results.js';

/** Keys and values: bytes, or a string (sent as UTF-8). */
export type Bytes = string | Uint8Array;

export interface KvClientOptions {
  /** Client endpoints of members, `host:port`; any subset of the cluster works. */
  readonly endpoints: readonly string[];
  /** Opens a channel to one endpoint (called lazily, once per endpoint, again after `close()`). */
  readonly connect: (address: string) => ClientChannel;
  /**
   * Member ids and their client endpoints (`new Map([['n1', '127.0.0.1:7201'], ...])`), so a
   * `not-leader` answer's leader hint leads straight to the leader. Optional: without it the client
   * tries the next endpoint (followers forward writes anyway). An invalid member id is refused.
   */
  readonly members?: ReadonlyMap<NodeId, string>;
  /** Deadline of one operation, retries included. Default 10 000 ms. */
  readonly timeoutMs?: number;
  /** How long one attempt waits for a member's answer before trying another. Default 3000 ms. */
  readonly attemptTimeoutMs?: number;
  /**
   * Exactly-once writes through sessions (default true). Off: writes carry no session and a retry
   * may apply a write twice (at-least-once).
   */
  readonly session?: boolean;
  /**
   * Without sessions only: send a write again after an attempt that may have reached the store
   * (sent and unanswered, or answered `stopped`/`timeout`). Default true (at-least-once: a retried
   * `cas` or `incr` may apply twice). False (at-most-once): such a write fails at once with
   * `KEEL_CLIENT_OUTCOME_UNKNOWN`; attempts known not to have run (`not-leader`, not sent, `busy`)
   * are still retried. For one-shot callers such as the CLI, where a session would cost two more
   * log entries per write.
   */
  readonly retryUnknownWrites?: boolean;
  /** Sessions used for concurrent writes (each has one write in flight; more writes queue). Default 8. */
  readonly sessions?: number;
  /** First and largest pause between retries (doubled per consecutive failure, with jitter). */
  readonly backoffMs?: { readonly min: number; readonly max: number };
  /** Must match the members' limits; requests are checked against them before sending. */
  readonly limits?: KvLimits;
  /**
   * Hedging (default on): after no answer for ~3x the recent p99 (within `hedgeDelayMs`, default
   * 20–1000 ms), also send the request to the next live member. Only reads and session writes.
   */
  readonly hedge?: boolean;
  readonly hedgeDelayMs?: { readonly min: number; readonly max: number };
}

export interface CallOptions {
  /** Overrides the client's `timeoutMs` for this operation. */
  readonly timeoutMs?: number;
}

/** Options of `put`. */
export interface PutOptions extends CallOptions {
  /** Attach the key to this lease (granted with `grantLease`): deleted when the lease ends. */
  readonly lease?: number;
}

export interface ReadOptions extends CallOptions {
  /** Default `linearizable`. */
  readonly consistency?: ReadConsistency;
}

/** What `cas` compares: the current value (null = must be absent) or version (0 = must be absent). */
export type CasExpectInput = { readonly value: Bytes | null } | { readonly version: number };

/** `{ prefix }`, or `{ start, end }` = `[start, end)` (`end` omitted or null: to the last key). */
export type ScanRangeInput =
  | { readonly prefix: Bytes }
  | { readonly start: Bytes; readonly end?: Bytes | null };

export interface ScanOptions extends ReadOptions {
  /** Items per page, 1 to 10 000. Default 1000. */
  readonly limit?: number;
  /** Continue after this key (the `after` of the previous page). */
  readonly after?: Bytes;
}

export interface ScanPage {
  readonly revision: number;
  readonly items: readonly KeyValue[];
  /** More keys remain: pass `after` to the next call. */
  readonly more: boolean;
  /** The last item's key (null on an empty page). */
  readonly after: Uint8Array | null;
}
