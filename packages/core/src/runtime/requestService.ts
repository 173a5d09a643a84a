import type { NodeId } from '../raft/types.js';

/**
 * The seam between a member's generic client request server (`@keel/server`) and one state
 * machine's client protocol (for example `@keel/kv`'s `kvService`). The server owns the network,
 * leadership, forwarding, ReadIndex/lease reads and timeouts; the service owns the bytes: it says
 * what a request is (a command to replicate, or a read to run once it is safe) and encodes answers.
 * It lives here, beside `StateMachine`, so a state machine package can implement it without
 * depending on the server (a state machine package stays free of I/O).
 */
export interface RequestService<Machine, Result> {
  /** Decodes one request. Never throws: a request that does not decode is a `reject`. */
  decode(payload: Uint8Array): ServiceRequest<Machine, Result>;
  /** The reply carrying a result: an applied write's, or a read's. */
  encodeResult(result: Result): Uint8Array;
  /** The reply carrying an error from the server (not the state machine). */
  encodeError(error: RequestError): Uint8Array;
  /**
   * Deadlines the leader keeps for the state machine (leases): which ids have one, and the
   * command that ends one. The state machine never reads a clock; the leader arms these, re-arms
   * every one with its full duration when it becomes leader, and proposes `expire` when one passes.
   */
  readonly deadlines?: DeadlineSource<Machine>;
}

/**
 * The state machine's side of the leader's deadlines: ids (lease ids) with a duration each, read
 * from the applied state.
 */
export interface DeadlineSource<Machine> {
  /** Every id with its full duration in ms: armed when this member becomes leader. */
  all(machine: Machine): Iterable<readonly [id: number, durationMs: number]>;
  /**
   * Follows the applied state: `armed` when an id appears (a grant applied), `dropped` when it goes
   * (revoked or expired), `reset` when the state is replaced (a snapshot). Returns an unsubscribe.
   */
  follow(
    machine: Machine,
    on: {
      armed(id: number, durationMs: number): void;
      dropped(id: number): void;
      reset(): void;
    },
  ): () => void;
  /** The entry to propose when `id`'s deadline passes (stamped with the leader's clock). */
  expire(id: number, leaderTime: number): Uint8Array;
}

/** The leader's deadlines as a `leader` request sees them. */
export interface LeaderDeadlines {
  /** The leader's clock (ms) when the request arrived, before leadership was confirmed. */
  readonly arrivedAt: number;
  /** ms left before `id`'s deadline (never negative), or undefined when `id` has none. */
  remaining(id: number): number | undefined;
  /**
   * Moves `id`'s deadline to `arrivedAt + durationMs` (never earlier than it is). Measured from
   * the arrival, which precedes the client's view of the renewal, so the leader never expires a
   * lease the client still believes alive.
   */
  extend(id: number, durationMs: number): void;
}

/** How fresh a read must be: ReadIndex (§6.4), the leader's lease (§6.4.1), or local state. */
export type ReadConsistencyLevel = 'linearizable' | 'lease' | 'stale';

/**
 * What a request asks for. `label` names the request kind in metrics (`keel_client_requests_total`).
 * - `write`: `command(leaderTime)` gives the bytes to propose; the leader's wall clock is passed so
 *   a service can stamp it into the entry (time decided by the log, never by each member's clock).
 *   It may throw: the request is then answered `bad-request` with the error's message.
 * - `read`: `run(machine)` is called once a read at `consistency` is safe on this member.
 * - `wait`: a long poll served from this member's local state (watches): `poll(machine)` is called
 *   at arrival and again after the member applies entries or restores a snapshot, until it gives
 *   the reply's bytes; after `maxWaitMs` without one, `expire(machine)` gives them. The service
 *   encodes these replies itself (they are not `Result`s). A member that knows no leader refuses
 *   it as `not-leader` (it may be cut off from the cluster, and far behind).
 * - `leader`: served by the leader only (others answer `not-leader` with a hint, never forward):
 *   the leader notes its clock at arrival, confirms it still leads with a ReadIndex round, waits
 *   to have applied up to it, then calls `run` with its deadlines (lease keep-alive, time to live).
 *   Nothing is written to the log.
 * - `reject`: answered at once with `code` and `message`.
 */
export type ServiceRequest<Machine, Result> =
  | { readonly kind: 'write'; readonly label: string; readonly command: (leaderTime: number) => Uint8Array }
  | {
      readonly kind: 'read';
      readonly label: string;
      readonly consistency: ReadConsistencyLevel;
      readonly run: (machine: Machine) => Result;
    }
  | {
      readonly kind: 'wait';
      readonly label: string;
      readonly maxWaitMs: number;
      readonly poll: (machine: Machine) => Uint8Array | null;
      readonly expire: (machine: Machine) => Uint8Array;
    }
  | {
      readonly kind: 'leader';
      readonly label: string;
      readonly run: (machine: Machine, deadlines: LeaderDeadlines) => Result;
    }
  | {
      readonly kind: 'reject';
      readonly label: string;
      readonly code: typeof RequestErrorCode.BadRequest | typeof RequestErrorCode.Unsupported;
      readonly message: string;
    };

/** Why a member answered a request with an error instead of a result (the codes clients see). */
export const RequestErrorCode = {
  /** This member is not the leader; retry at `leaderHint` (null: no leader known yet). */
  NotLeader: 'not-leader',
  /** The command was not committed (overload, or leadership changed first): it had no effect. */
  ProposalDropped: 'proposal-dropped',
  /** No answer in time: the command may or may not have been applied. */
  Timeout: 'timeout',
  /** The member is shutting down: the command may or may not have been applied. */
  Stopped: 'stopped',
  /** The request did not decode or broke a limit. */
  BadRequest: 'bad-request',
  /** A feature this member does not offer (for example lease reads when they are disabled). */
  Unsupported: 'unsupported',
  /** Too many requests in flight; retry later. */
  Busy: 'busy',
} as const;
export type RequestErrorCode = (typeof RequestErrorCode)[keyof typeof RequestErrorCode];

export interface RequestError {
  readonly code: RequestErrorCode;
  readonly message: string;
  readonly leaderHint: NodeId | null;
}
