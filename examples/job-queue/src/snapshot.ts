import { ByteReader, ByteWriter, JobQueueDecodeError } from './bytes.js';
import { type Job, Limits } from './commands.js';

/** A job under a lease. */
export interface Lease {
  readonly job: Job;
  readonly deadline: number;
  readonly worker: string;
}

/** Everything the machine knows; a snapshot is exactly this, so a restored member behaves the same. */
export interface QueueState {
  /** The log's clock (see JobQueue.ts). */
  now: number;
  nextJobId: number;
  done: number;
  /** Queued jobs, sorted by id. */
  ready: Job[];
  /** Live leases by lease id, in claim order (ascending ids). */
  leases: Map<number, Lease>;
  /** The earliest deadline among the leases (Infinity when none): derived, not stored. */
  nextDeadline: number;
}

const SNAPSHOT_VERSION = 1;
/** Upper bound on counts read from a snapshot, to refuse a corrupt one before allocating. */
const MAX_ITEMS = 100_000_000;

/**
 *   1 | now:f64 | nextJobId | done | ready count | (id attempt payload)* |
 *   lease count | (leaseId deadline:f64 worker id attempt payload)*
 */
export function encodeSnapshot(s: QueueState): Uint8Array {
  const w = new ByteWriter().u8(SNAPSHOT_VERSION).f64(s.now).varint(s.nextJobId).varint(s.done);
  w.varint(s.ready.length);
  for (const j of s.ready) w.varint(j.id).varint(j.attempt).bytes(j.payload);
  w.varint(s.leases.size);
  for (const [leaseId, l] of s.leases) {
    w.varint(leaseId)
      .f64(l.deadline)
      .utf8(l.worker)
      .varint(l.job.id)
      .varint(l.job.attempt)
      .bytes(l.job.payload);
  }
  return w.finish();
}

export function decodeSnapshot(data: Uint8Array): QueueState {
  const r = new ByteReader(data);
  const version = r.u8();
  if (version !== SNAPSHOT_VERSION) throw new JobQueueDecodeError(`unknown snapshot version ${version}`);
  const now = r.f64();
  const nextJobId = r.varint();
  const done = r.varint();
  const ready: Job[] = [];
  for (let n = r.count(MAX_ITEMS); n > 0; n--) {
    ready.push({ id: r.varint(), attempt: r.varint(), payload: r.bytes(Limits.payloadBytes) });
  }
  const leases = new Map<number, Lease>();
  let nextDeadline = Number.POSITIVE_INFINITY;
  for (let n = r.count(MAX_ITEMS); n > 0; n--) {
    const leaseId = r.varint();
    const deadline = r.f64();
    const worker = r.utf8(Limits.workerChars * 4);
    const job = { id: r.varint(), attempt: r.varint(), payload: r.bytes(Limits.payloadBytes) };
    leases.set(leaseId, { job, deadline, worker });
    if (deadline < nextDeadline) nextDeadline = deadline;
  }
  r.done();
  return { now, nextJobId, done, ready, leases, nextDeadline };
}
