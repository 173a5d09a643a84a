import { type SessionLimits, SessionTable } from '@keel/core';
import { DecodeError, Reader, readSessions, Writer, writeSessions } from '@keel/core/codec';
import { ByteReader, ByteWriter, JobQueueDecodeError } from './bytes.js';
import { decodeResult, encodeResult } from './codec.js';
import { type Job, type JobResult, Limits } from './commands.js';

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
  /** Exactly-once client sessions, expiring by the log's clock (`now`, in whole milliseconds). */
  readonly sessions: SessionTable<JobResult>;
}

/** 2 adds the sessions; 1 (no sessions) is still read. */
const SNAPSHOT_VERSION = 2;
/** Largest encoded result kept by a session: a claimed job with its payload, and some. */
const MAX_RESULT_BYTES = Limits.payloadBytes + 64;
/** Upper bound on counts read from a snapshot, to refuse a corrupt one before allocating. */
const MAX_ITEMS = 100_000_000;

/**
 *   2 | now:f64 | nextJobId | done | ready count | (id attempt payload)* |
 *   lease count | (leaseId deadline:f64 worker id attempt payload)* | sessions:bytes
 *
 * `sessions` is @keel/core's `writeSessions` of the session table, each kept result as length-
 * prefixed `encodeResult` bytes.
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
  const sessions = new Writer();
  writeSessions(sessions, s.sessions.image(), (out, result) => out.lenBytes(encodeResult(result)));
  return w.bytes(sessions.finish()).finish();
}

export function decodeSnapshot(data: Uint8Array, sessionLimits: SessionLimits = {}): QueueState {
  const r = new ByteReader(data);
  const version = r.u8();
  if (version !== 1 && version !== SNAPSHOT_VERSION)
    throw new JobQueueDecodeError(`unknown snapshot version ${version}`);
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
  const sessions =
    version === 1
      ? new SessionTable<JobResult>(sessionLimits)
      : new SessionTable(sessionLimits, readSessionBlob(r.bytes(data.length), Math.floor(now)));
  r.done();
  return { now, nextJobId, done, ready, leases, nextDeadline, sessions };
}

function readSessionBlob(blob: Uint8Array, clock: number) {
  const corrupt = (message: string): never => {
    throw new JobQueueDecodeError(`snapshot sessions: ${message}`);
  };
  try {
    const r = new Reader(blob);
    const image = readSessions(r, clock, (input) => decodeResult(input.lenBytes(MAX_RESULT_BYTES)), corrupt);
    r.done();
    return image;
  } catch (err) {
    if (err instanceof DecodeError) corrupt(err.message);
    throw err;
  }
}
