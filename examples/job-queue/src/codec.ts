import { ByteReader, ByteWriter, JobQueueDecodeError } from './bytes.js';
import { type Command, type JobResult, Limits, type Refusal, type SessionRef } from './commands.js';

/**
 * Wire format of commands (the bytes of a log entry) and results (what a request service would
 * send back). Version byte first, so a later format can be told apart; then a tag.
 *
 *   command: 1 | tag | at:f64 | [clientId:varint seq:varint] | body
 *            body = enqueue: payload:bytes | claim: worker:utf8 leaseMs:varint
 *                 | ack/nack: leaseId:varint | tick, openSession: nothing | closeSession: clientId:varint
 *            The tag's top bit (0x80) says the session fields follow (enqueue, claim, ack, nack only).
 */
export const CODEC_VERSION = 1;

const CommandTag = {
  enqueue: 1,
  claim: 2,
  ack: 3,
  nack: 4,
  tick: 5,
  openSession: 6,
  closeSession: 7,
} as const;
const IN_SESSION = 0x80;
const ResultTag = {
  enqueued: 1,
  claimed: 2,
  acked: 3,
  nacked: 4,
  ticked: 5,
  refused: 6,
  sessionOpened: 7,
  sessionClosed: 8,
} as const;
/** By their index on the wire: append only. */
const REFUSALS: readonly Refusal[] = [
  'empty',
  'lease-lost',
  'bad-command',
  'unknown-session',
  'session-expired',
  'stale-sequence',
];

export function encodeCommand(c: Command): Uint8Array {
  const session = 'session' in c ? c.session : undefined;
  const w = new ByteWriter()
    .u8(CODEC_VERSION)
    .u8(CommandTag[c.kind] | (session === undefined ? 0 : IN_SESSION))
    .f64(c.at);
  if (session !== undefined) w.varint(session.clientId).varint(session.seq);
  switch (c.kind) {
    case 'enqueue':
      return w.bytes(c.payload).finish();
    case 'claim':
      return w.utf8(c.worker).varint(c.leaseMs).finish();
    case 'ack':
    case 'nack':
      return w.varint(c.leaseId).finish();
    case 'tick':
    case 'openSession':
      return w.finish();
    case 'closeSession':
      return w.varint(c.clientId).finish();
  }
}

/** Decodes a command; throws JobQueueDecodeError on anything else (the machine turns that into a refusal). */
export function decodeCommand(bytes: Uint8Array): Command {
  const r = new ByteReader(bytes);
  const version = r.u8();
  if (version !== CODEC_VERSION) throw new JobQueueDecodeError(`unknown command version ${version}`);
  const flagged = r.u8();
  const tag = flagged & ~IN_SESSION;
  const at = r.f64();
  let session: SessionRef | undefined;
  if (flagged & IN_SESSION) {
    if (
      tag !== CommandTag.enqueue &&
      tag !== CommandTag.claim &&
      tag !== CommandTag.ack &&
      tag !== CommandTag.nack
    )
      throw new JobQueueDecodeError(`command tag ${tag} cannot be in a session`);
    session = { clientId: r.varint(), seq: r.varint() };
    if (session.clientId === 0 || session.seq === 0)
      throw new JobQueueDecodeError('session ids and sequence numbers start at 1');
  }
  const inSession = session === undefined ? {} : { session };
  let c: Command;
  switch (tag) {
    case CommandTag.enqueue:
      c = { kind: 'enqueue', at, payload: r.bytes(Limits.payloadBytes), ...inSession };
      break;
    case CommandTag.claim: {
      const worker = r.utf8(Limits.workerChars * 4);
      const leaseMs = r.varint();
      if (leaseMs < 1 || leaseMs > Limits.leaseMs) throw new JobQueueDecodeError(`lease of ${leaseMs} ms`);
      c = { kind: 'claim', at, worker, leaseMs, ...inSession };
      break;
    }
    case CommandTag.ack:
      c = { kind: 'ack', at, leaseId: r.varint(), ...inSession };
      break;
    case CommandTag.nack:
      c = { kind: 'nack', at, leaseId: r.varint(), ...inSession };
      break;
    case CommandTag.tick:
      c = { kind: 'tick', at };
      break;
    case CommandTag.openSession:
      c = { kind: 'openSession', at };
      break;
    case CommandTag.closeSession:
      c = { kind: 'closeSession', at, clientId: r.varint() };
      break;
    default:
      throw new JobQueueDecodeError(`unknown command tag ${tag}`);
  }
  r.done();
  return c;
}

export function encodeResult(res: JobResult): Uint8Array {
  const w = new ByteWriter().u8(CODEC_VERSION).u8(ResultTag[res.kind]);
  switch (res.kind) {
    case 'enqueued':
    case 'acked':
    case 'nacked':
      return w.varint(res.jobId).finish();
    case 'claimed':
      return w
        .varint(res.job.id)
        .varint(res.job.attempt)
        .bytes(res.job.payload)
        .varint(res.leaseId)
        .f64(res.deadline)
        .finish();
    case 'ticked':
      return w.f64(res.now).finish();
    case 'sessionOpened':
      return w.varint(res.clientId).finish();
    case 'sessionClosed':
      return w.finish();
    case 'refused':
      return w.u8(REFUSALS.indexOf(res.reason)).finish();
  }
}

export function decodeResult(bytes: Uint8Array): JobResult {
  const r = new ByteReader(bytes);
  const version = r.u8();
  if (version !== CODEC_VERSION) throw new JobQueueDecodeError(`unknown result version ${version}`);
  const tag = r.u8();
  let res: JobResult;
  switch (tag) {
    case ResultTag.enqueued:
      res = { kind: 'enqueued', jobId: r.varint() };
      break;
    case ResultTag.acked:
      res = { kind: 'acked', jobId: r.varint() };
      break;
    case ResultTag.nacked:
      res = { kind: 'nacked', jobId: r.varint() };
      break;
    case ResultTag.claimed: {
      const id = r.varint();
      const attempt = r.varint();
      const payload = r.bytes(Limits.payloadBytes);
      res = { kind: 'claimed', job: { id, attempt, payload }, leaseId: r.varint(), deadline: r.f64() };
      break;
    }
    case ResultTag.ticked:
      res = { kind: 'ticked', now: r.f64() };
      break;
    case ResultTag.sessionOpened:
      res = { kind: 'sessionOpened', clientId: r.varint() };
      break;
    case ResultTag.sessionClosed:
      res = { kind: 'sessionClosed' };
      break;
    case ResultTag.refused: {
      const reason = REFUSALS[r.u8()];
      if (reason === undefined) throw new JobQueueDecodeError('unknown refusal');
      res = { kind: 'refused', reason };
      break;
    }
    default:
      throw new JobQueueDecodeError(`unknown result tag ${tag}`);
  }
  r.done();
  return res;
}
