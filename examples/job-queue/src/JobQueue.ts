import type { Entry, StateMachine } from '@keel/core';
import { JobQueueDecodeError } from './bytes.js';
import { decodeCommand } from './codec.js';
import type { Command, Job, JobResult } from './commands.js';
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
 */
export class JobQueue implements StateMachine<JobResult> {
  #s: QueueState = emptyState();

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
        s.leases.set(entry.index, { job, deadline, worker: c.worker });
        if (deadline < s.nextDeadline) s.nextDeadline = deadline;
        return { kind: 'claimed', job, leaseId: entry.index, deadline };
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
      case 'tick':
        return { kind: 'ticked', now: s.now };
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
    this.#s = decodeSnapshot(data);
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
}

function emptyState(): QueueState {
  return {
    now: 0,
    nextJobId: 1,
    done: 0,
    ready: [],
    leases: new Map(),
    nextDeadline: Number.POSITIVE_INFINITY,
  };
}
