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

export type Command =
  | { readonly kind: 'enqueue'; readonly at: number; readonly payload: Uint8Array }
  | { readonly kind: 'claim'; readonly at: number; readonly worker: string; readonly leaseMs: number }
  | { readonly kind: 'ack'; readonly at: number; readonly leaseId: number }
  | { readonly kind: 'nack'; readonly at: number; readonly leaseId: number }
  /** Only moves the clock forward, so leases expire while nobody else writes. */
  | { readonly kind: 'tick'; readonly at: number };

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
 * entry is not a valid command (every member refuses it the same way).
 */
export type Refusal = 'empty' | 'lease-lost' | 'bad-command';

export type JobResult =
  | { readonly kind: 'enqueued'; readonly jobId: number }
  | { readonly kind: 'claimed'; readonly job: Job; readonly leaseId: number; readonly deadline: number }
  | { readonly kind: 'acked'; readonly jobId: number }
  | { readonly kind: 'nacked'; readonly jobId: number }
  | { readonly kind: 'ticked'; readonly now: number }
  | { readonly kind: 'refused'; readonly reason: Refusal };
