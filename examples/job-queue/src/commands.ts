/**
 * The job queue's commands and results. Every command carries `at`: the proposer's clock reading in
 * milliseconds. It is the only source of time the machine has, and it enters the machine only
 * through the log (see JobQueue.ts for the lease rule).
 */

/** Limits every member enforces identically (a command over them is refused, not half-applied). */
export const Limits = {
  payloadBytes: 1024 * 1024,
  workerChars: 256,
  /** Longest lease a claim may ask for: one hour. */
  leaseMs: 60 * 60 * 1000,
} as const;

/**
 * Names a write as command `seq` of client session `clientId`: the machine executes it at most once
 * and answers a resend with the first result (exactly-once; see the sessions section of JobQueue.ts).
 */
export interface SessionRef {
  readonly clientId: number;
  readonly seq: number;
}

/** The commands a session can carry: the ones that change the queue. */
export type SessionCommand =
  | {
      readonly kind: 'enqueue';
      readonly at: number;
      readonly payload: Uint8Array;
      readonly session?: SessionRef;
    }
  | {
      readonly kind: 'claim';
      readonly at: number;
      readonly worker: string;
      readonly leaseMs: number;
      readonly session?: SessionRef;
    }
  | { readonly kind: 'ack'; readonly at: number; readonly leaseId: number; readonly session?: SessionRef }
  | { readonly kind: 'nack'; readonly at: number; readonly leaseId: number; readonly session?: SessionRef };

export type Command =
  | SessionCommand
  /** Only moves the clock forward, so leases expire while nobody else writes. */
  | { readonly kind: 'tick'; readonly at: number }
  /** Opens a client session; its id is this entry's log index. */
  | { readonly kind: 'openSession'; readonly at: number }
  | { readonly kind: 'closeSession'; readonly at: number; readonly clientId: number };

export type CommandKind = Command['kind'];

/** A job as handed to a worker. `attempt` counts claims, 1 for the first. */
export interface Job {
  readonly id: number;
  readonly payload: Uint8Array;
  readonly attempt: number;
}

/**
 * Why a command was refused. `lease-lost`: the lease is unknown, already acked or nacked, or
 * expired by the log's clock; the job may run again elsewhere (at-least-once). `bad-command`: the
 * entry is not a valid command (every member refuses it the same way). The session refusals are
 * @keel/core's `SessionErrorCode`s.
 */
export type Refusal =
  | 'empty'
  | 'lease-lost'
  | 'bad-command'
  /** The session id was never issued. */
  | 'unknown-session'
  /** The session expired (idle for longer than the session timeout, by the log's clock) or was closed. */
  | 'session-expired'
  /** A sequence number below the session's last: its result is no longer kept. */
  | 'stale-sequence';

export type JobResult =
  | { readonly kind: 'enqueued'; readonly jobId: number }
  | { readonly kind: 'claimed'; readonly job: Job; readonly leaseId: number; readonly deadline: number }
  | { readonly kind: 'acked'; readonly jobId: number }
  | { readonly kind: 'nacked'; readonly jobId: number }
  | { readonly kind: 'ticked'; readonly now: number }
  | { readonly kind: 'sessionOpened'; readonly clientId: number }
  | { readonly kind: 'sessionClosed' }
  | { readonly kind: 'refused'; readonly reason: Refusal };
