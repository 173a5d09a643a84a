import { encodeCommand } from './codec.js';
import type { Command, Job, JobResult } from './commands.js';

/**
 * Gets one command committed and returns the machine's result for it. In one process that is a
 * RaftNode's propose (see inProcess.ts); across processes, a request to a member's client port.
 * It rejects when the outcome is unknown (the member stopped or the connection failed after
 * sending): the command may or may not have been applied.
 */
export type Propose = (command: Uint8Array) => Promise<JobResult>;

export interface JobQueueClientOptions {
  /** The clock stamped on every command (`at`); default Date.now. See the lease rule in JobQueue.ts. */
  readonly now?: () => number;
  /** Names this client's leases (for dashboards); default 'worker'. */
  readonly worker?: string;
  /** Lease length for claim() when not given there; default 30 s. */
  readonly leaseMs?: number;
}

/** A job handed to this client, and the lease it holds it under until `deadline` (log clock). */
export interface Claimed {
  readonly job: Job;
  readonly leaseId: number;
  readonly deadline: number;
}

/** Unexpected result for a command: a bug in the machine or a mismatched codec version. */
export class JobQueueProtocolError extends Error {
  readonly code = 'JOBQ_PROTOCOL';
  constructor(command: string, result: JobResult) {
    super(`${command}: unexpected result ${JSON.stringify(result)}`);
    this.name = 'JobQueueProtocolError';
  }
}

/** The job queue's API for producers and workers. */
export class JobQueueClient {
  readonly #propose: Propose;
  readonly #now: () => number;
  readonly #worker: string;
  readonly #leaseMs: number;

  constructor(propose: Propose, options: JobQueueClientOptions = {}) {
    this.#propose = propose;
    this.#now = options.now ?? Date.now;
    this.#worker = options.worker ?? 'worker';
    this.#leaseMs = options.leaseMs ?? 30_000;
  }

  /** Adds a job at the tail; resolves with its id once committed. */
  async enqueue(payload: Uint8Array): Promise<number> {
    const r = await this.#run({ kind: 'enqueue', at: this.#now(), payload });
    if (r.kind !== 'enqueued') throw new JobQueueProtocolError('enqueue', r);
    return r.jobId;
  }

  /** Takes the oldest queued job under a lease, or null when the queue is empty. */
  async claim(leaseMs = this.#leaseMs): Promise<Claimed | null> {
    const r = await this.#run({ kind: 'claim', at: this.#now(), worker: this.#worker, leaseMs });
    if (r.kind === 'claimed') return { job: r.job, leaseId: r.leaseId, deadline: r.deadline };
    if (r.kind === 'refused' && r.reason === 'empty') return null;
    throw new JobQueueProtocolError('claim', r);
  }

  /**
   * Finishes the job held under `leaseId`. True: done for good. False: the lease was lost (it
   * expired by the log's clock, or was already acked or nacked); the job may run again.
   */
  async ack(leaseId: number): Promise<boolean> {
    return this.#settle('ack', leaseId);
  }

  /** Gives the job back at once. False: the lease was already lost. */
  async nack(leaseId: number): Promise<boolean> {
    return this.#settle('nack', leaseId);
  }

  /** Moves the log's clock to this client's now (expiring due leases); resolves with the clock. */
  async tick(): Promise<number> {
    const r = await this.#run({ kind: 'tick', at: this.#now() });
    if (r.kind !== 'ticked') throw new JobQueueProtocolError('tick', r);
    return r.now;
  }

  async #settle(kind: 'ack' | 'nack', leaseId: number): Promise<boolean> {
    const r = await this.#run({ kind, at: this.#now(), leaseId });
    if (r.kind === (kind === 'ack' ? 'acked' : 'nacked')) return true;
    if (r.kind === 'refused' && r.reason === 'lease-lost') return false;
    throw new JobQueueProtocolError(kind, r);
  }

  #run(c: Command): Promise<JobResult> {
    return this.#propose(encodeCommand(c));
  }
}
