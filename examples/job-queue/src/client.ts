import { encodeCommand } from './codec.js';
import type { Command, Job, JobResult, SessionCommand } from './commands.js';
import { OutcomeUnknownError } from './errors.js';

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
  /**
   * With a session open (`openSession()`), how long one write keeps resending while its outcome is
   * unknown (ms); default 30 000. Keep it well below the machine's session timeout.
   */
  readonly resendForMs?: number;
}

/** The session this client wrote in is gone (expired or closed): a write's outcome may be unknown. */
export class JobQueueSessionError extends Error {
  readonly code = 'JOBQ_SESSION_LOST';
  constructor(message: string) {
    super(message);
    this.name = 'JobQueueSessionError';
  }
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
  readonly #resendForMs: number;
  /** The open session: its id and the last sequence number used. */
  #session: { clientId: number; seq: number } | null = null;
  /** Writes in a session go one at a time (a session keeps one result): each waits for this. */
  #tail: Promise<unknown> = Promise.resolve();

  constructor(propose: Propose, options: JobQueueClientOptions = {}) {
    this.#propose = propose;
    this.#now = options.now ?? Date.now;
    this.#worker = options.worker ?? 'worker';
    this.#leaseMs = options.leaseMs ?? 30_000;
    this.#resendForMs = options.resendForMs ?? 30_000;
  }

  /**
   * Makes this client's writes exactly-once: from here on enqueue, claim, ack and nack carry the
   * session's next sequence number and go one at a time; a write whose outcome is unknown (the
   * member died after taking it) is resent with the same number until its result comes back (the
   * queue executes it once) or `resendForMs` passes. Without a session a write whose outcome is
   * unknown rejects with `OutcomeUnknownError` and is never resent.
   */
  async openSession(): Promise<number> {
    if (this.#session !== null) throw new Error('a session is already open');
    const r = await this.#propose(encodeCommand({ kind: 'openSession', at: this.#now() }));
    if (r.kind !== 'sessionOpened') throw new JobQueueProtocolError('openSession', r);
    this.#session = { clientId: r.clientId, seq: 0 };
    return r.clientId;
  }

  /** Ends the session (best effort: an unclosed one expires by the log's clock). */
  async closeSession(): Promise<void> {
    const session = this.#session;
    if (session === null) return;
    await this.#tail.catch(() => {});
    this.#session = null;
    await this.#propose(encodeCommand({ kind: 'closeSession', at: this.#now(), clientId: session.clientId }));
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

  #run(c: SessionCommand | Extract<Command, { kind: 'tick' }>): Promise<JobResult> {
    if (this.#session === null || c.kind === 'tick') return this.#propose(encodeCommand(c));
    const run = this.#tail.then(
      () => this.#inSession(c),
      () => this.#inSession(c),
    );
    this.#tail = run.catch(() => {});
    return run;
  }

  /** One write in the session: numbered once, resent while its outcome is unknown. */
  async #inSession(c: SessionCommand): Promise<JobResult> {
    const session = this.#session;
    if (session === null) throw new JobQueueSessionError(`${c.kind}: the session was closed`);
    const bytes = encodeCommand({ ...c, session: { clientId: session.clientId, seq: ++session.seq } });
    const giveUp = performance.now() + this.#resendForMs;
    for (let pause = 20; ; pause = Math.min(pause * 2, 500)) {
      let r: JobResult;
      try {
        r = await this.#propose(bytes);
      } catch (err) {
        if (!(err instanceof OutcomeUnknownError) || performance.now() > giveUp) throw err;
        await new Promise((resolve) => setTimeout(resolve, pause));
        continue;
      }
      if (r.kind === 'refused' && (r.reason === 'session-expired' || r.reason === 'unknown-session')) {
        this.#session = null;
        throw new JobQueueSessionError(`${c.kind}: session ${session.clientId}: ${r.reason}`);
      }
      return r;
    }
  }
}
