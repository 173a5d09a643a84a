import {
  type Entry,
  type SessionFailure,
  type SessionLimits,
  SessionTable,
  type StateMachine,
} from '@keel/core';
import { JobQueueDecodeError } from './bytes.js';
import { decodeCommand } from './codec.js';
import type { Command, Job, JobResult, Refusal, SessionCommand } from './commands.js';
import { decodeSnapshot, encodeSnapshot, type QueueState } from './snapshot.js';

/**
 * A replicated FIFO job queue with at-least-once leases: the `StateMachine` every member runs.
 *
 * The lease rule — time is what the log says:
 *
 * 1. The machine's clock `now` starts at 0 and moves only when an entry is applied: each command
 *    carries `at`, its proposer's clock reading, and applying it sets `now = max(now, at)`. Every
 *    member applies the same entries in the same order, so every member has the same `now` after
 *    the same index, whatever its own clock says. No member ever reads a clock in `apply`.
 * 2. Before a command takes effect, every lease whose `deadline <= now` expires, in order of
 *    (deadline, lease id): its job returns to the queue at its place in enqueue order (the lowest
 *    job id is always claimed first) with its attempt count kept.
 * 3. `claim` hands the oldest queued job to the worker under a new lease: the lease id is the claim
 *    entry's log index (unique, the same everywhere) and `deadline = now + leaseMs`.
 * 4. `ack(leaseId)` while the lease is live (rule 2 did not expire it at this entry) finishes the
 *    job for good: it leaves the machine and its id is never issued again. `nack` while live puts
 *    the job back at once. Either on a lease that is not live is refused with `lease-lost`: the job
 *    went (or will go) back to the queue and may run again — at-least-once.
 * 5. `tick` only moves the clock, so that leases expire while nothing else is written; whoever
 *    wants expiry to be timely (the leader's host, a supervisor, any client) proposes one now and
 *    then.
 *
 * Consequences: replicas never disagree about a lease, even across leader changes, restarts and
 * snapshots (the clock and the deadlines are part of the state). Clocks only decide *when* in real
 * time a lease lapses: a proposer whose clock runs ahead moves `now` forward for everyone and leases
 * lapse early (more redeliveries); one whose clock runs behind changes nothing (max). No clock can
 * make an acked job come back or lose an enqueued one — those follow from rules 2–4 alone.
 *
 * Exactly-once writes — @keel/core's `SessionTable` (dissertation §6.3): a client opens a session
 * (`openSession`; its id is that entry's index) and numbers its writes 1, 2, 3... A write whose
 * outcome the client never heard (the member died after taking it) is resent with the same number:
 * the machine executes a number once and answers the resend with the first result, so a resent
 * enqueue is one job, not two, and a resent claim hands back the same lease. Sessions idle for
 * `sessionTimeoutMs` of log time expire. Writes without a session are at-least-once, as before.
 */
export class JobQueue implements StateMachine<JobResult> {
  readonly #sessionLimits: SessionLimits;
  #s: QueueState;

  /**
   * `sessionTimeoutMs` and `maxSessions` are replicated semantics (every member must use the same
   * values); defaults: 10 minutes of log time and 10 000 sessions.
   */
  constructor(options: { readonly sessionTimeoutMs?: number; readonly maxSessions?: number } = {}) {
    this.#sessionLimits = {
      ...(options.sessionTimeoutMs === undefined ? {} : { timeoutMs: options.sessionTimeoutMs }),
      ...(options.maxSessions === undefined ? {} : { maxSessions: options.maxSessions }),
    };
    this.#s = emptyState(this.#sessionLimits);
  }

  apply(entry: Entry): JobResult {
    let c: Command;
    try {
      c = decodeCommand(entry.data);
    } catch (err) {
      // A bad entry is refused the same way on every member; anything else is a bug: let it stop the node.
      if (err instanceof JobQueueDecodeError) return { kind: 'refused', reason: 'bad-command' };
      throw err;
    }
    const s = this.#s;
    if (c.at > s.now) s.now = c.at;
    this.#expire();
    const now = Math.floor(s.now);
    s.sessions.expire(now);
    switch (c.kind) {
      case 'tick':
        return { kind: 'ticked', now: s.now };
      case 'openSession': {
        const r = s.sessions.register(entry.index, now);
        return r.ok ? { kind: 'sessionOpened', clientId: r.clientId } : refusal(r);
      }
      case 'closeSession': {
        const r = s.sessions.close(c.clientId, now);
        return r.ok ? { kind: 'sessionClosed' } : refusal(r);
      }
      default: {
        if (c.session === undefined) return this.#write(c, entry.index);
        const r = s.sessions.execute(c.session.clientId, c.session.seq, now, () =>
          this.#write(c, entry.index),
        );
        return 'ok' in r ? refusal(r) : r;
      }
    }
  }

  /** Rules 3 and 4, and enqueue. */
  #write(c: SessionCommand, index: number): JobResult {
    const s = this.#s;
    switch (c.kind) {
      case 'enqueue': {
        const job = { id: s.nextJobId++, payload: c.payload, attempt: 0 };
        s.ready.push(job);
        return { kind: 'enqueued', jobId: job.id };
      }
      case 'claim': {
        const queued = s.ready.shift();
        if (queued === undefined) return { kind: 'refused', reason: 'empty' };
        const job: Job = { ...queued, attempt: queued.attempt + 1 };
        const deadline = s.now + c.leaseMs;
        s.leases.set(index, { job, deadline, worker: c.worker });
        if (deadline < s.nextDeadline) s.nextDeadline = deadline;
        return { kind: 'claimed', job, leaseId: index, deadline };
      }
      case 'ack':
      case 'nack': {
        const lease = s.leases.get(c.leaseId);
        if (lease === undefined) return { kind: 'refused', reason: 'lease-lost' };
        s.leases.delete(c.leaseId);
        if (c.kind === 'nack') {
          this.#requeue(lease.job);
          return { kind: 'nacked', jobId: lease.job.id };
        }
        s.done++;
        return { kind: 'acked', jobId: lease.job.id };
      }
    }
  }

  /** Rule 2: leases due at `now` end, earliest deadline first (ties: lower lease id first). */
  #expire(): void {
    const s = this.#s;
    if (s.now < s.nextDeadline) return;
    const due: Array<[number, number]> = [];
    let next = Number.POSITIVE_INFINITY;
    for (const [id, lease] of s.leases) {
      if (lease.deadline <= s.now) due.push([lease.deadline, id]);
      else if (lease.deadline < next) next = lease.deadline;
    }
    due.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    for (const [, id] of due) {
      this.#requeue(s.leases.get(id)!.job);
      s.leases.delete(id);
    }
    s.nextDeadline = next;
  }

  /** Back into the queue at its place in enqueue order (jobs are kept sorted by id). */
  #requeue(job: Job): void {
    const q = this.#s.ready;
    let lo = 0;
    let hi = q.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (q[mid]!.id < job.id) lo = mid + 1;
      else hi = mid;
    }
    q.splice(lo, 0, job);
  }

  snapshot(): Uint8Array {
    return encodeSnapshot(this.#s);
  }

  restore(data: Uint8Array): void {
    this.#s = decodeSnapshot(data, this.#sessionLimits);
  }

  /** A read-only view for dashboards and tests (read it after a linearizable `read` to be current). */
  view(): QueueView {
    const s = this.#s;
    return {
      now: s.now,
      queued: s.ready.map((j) => j.id),
      leased: [...s.leases].map(([leaseId, l]) => ({
        leaseId,
        jobId: l.job.id,
        worker: l.worker,
        deadline: l.deadline,
      })),
      done: s.done,
      nextJobId: s.nextJobId,
      sessions: s.sessions.size,
    };
  }
}

export interface QueueView {
  readonly now: number;
  /** Ids of the queued jobs, in the order they will be claimed. */
  readonly queued: readonly number[];
  readonly leased: ReadonlyArray<{
    readonly leaseId: number;
    readonly jobId: number;
    readonly worker: string;
    readonly deadline: number;
  }>;
  /** Jobs acked so far. */
  readonly done: number;
  /** Ids below this were issued; a job id not queued, not leased and below it is done. */
  readonly nextJobId: number;
  /** Live client sessions. */
  readonly sessions: number;
}

/** A session failure as the queue's refusal (a registration out of order is a bad command). */
function refusal(f: SessionFailure): JobResult {
  const reason: Refusal = f.code === 'invalid-command' ? 'bad-command' : f.code;
  return { kind: 'refused', reason };
}

function emptyState(sessionLimits: SessionLimits): QueueState {
  return {
    now: 0,
    nextJobId: 1,
    done: 0,
    ready: [],
    leases: new Map(),
    nextDeadline: Number.POSITIVE_INFINITY,
    sessions: new SessionTable(sessionLimits),
  };
}
