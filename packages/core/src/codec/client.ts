/**
 * The client wire format: requests with ids, many to a frame, and replies matched by id. Payloads
 * are opaque here (the KV protocol defines them); ids let one connection keep many requests in
 * flight and receive replies in any order.
 *
 *   requests = version:u8 (1)  kind:u8 (0x10)  count:varint  { id:varint  len:varint  payload }
 *   replies  = version:u8 (1)  kind:u8 (0x11)  count:varint  { id:varint  status:u8  len:varint  payload }
 *
 * A reply with status Error carries a UTF-8 message instead of a payload.
 */
import { DecodeErrorReason, EncodeError } from './errors.js';
import { type CodecLimits, DEFAULT_CODEC_LIMITS, FrameKind, openFrame, writeFrameHeader } from './frame.js';
import { MAX_VARINT_BYTES, type Writer } from './Writer.js';

export interface ClientRequestRecord {
  readonly id: number;
  readonly payload: Uint8Array;
}

export const ReplyStatus = {
  Ok: 0,
  /** The server could not handle the request; the payload is a UTF-8 message. */
  Error: 1,
} as const;
export type ReplyStatus = (typeof ReplyStatus)[keyof typeof ReplyStatus];

export interface ClientReplyRecord {
  readonly id: number;
  readonly status: ReplyStatus;
  readonly payload: Uint8Array;
}

/** Bytes a client frame header takes at most. */
export const CLIENT_HEADER_MAX_BYTES = 2 + MAX_VARINT_BYTES;

/** Upper bound of one request or reply record inside its frame. */
export function clientRecordSizeBound(payload: Uint8Array): number {
  return 2 * MAX_VARINT_BYTES + 1 + payload.length;
}

function checkCount(n: number, limits: CodecLimits): void {
  if (n === 0) throw new EncodeError('a frame carries at least one record');
  if (n > limits.maxMessagesPerFrame)
    throw new EncodeError(`${n} records above ${limits.maxMessagesPerFrame}`);
}

function finishChecked(w: Writer, limits: CodecLimits): Uint8Array {
  if (w.length > limits.maxFrameBytes) {
    const n = w.length;
    w.reset();
    throw new EncodeError(`frame of ${n} bytes above limit ${limits.maxFrameBytes}`);
  }
  return w.finish();
}

export function writeClientRequests(
  w: Writer,
  requests: readonly ClientRequestRecord[],
  limits: CodecLimits = DEFAULT_CODEC_LIMITS,
): Uint8Array {
  checkCount(requests.length, limits);
  try {
    writeFrameHeader(w, FrameKind.ClientRequests);
    w.varint(requests.length);
    for (const r of requests) {
      w.varint(r.id);
      w.lenBytes(r.payload);
    }
  } catch (err) {
    w.reset();
    throw err;
  }
  return finishChecked(w, limits);
}

export function writeClientReplies(
  w: Writer,
  replies: readonly ClientReplyRecord[],
  limits: CodecLimits = DEFAULT_CODEC_LIMITS,
): Uint8Array {
  checkCount(replies.length, limits);
  try {
    writeFrameHeader(w, FrameKind.ClientReplies);
    w.varint(replies.length);
    for (const r of replies) {
      w.varint(r.id);
      w.u8(r.status);
      w.lenBytes(r.payload);
    }
  } catch (err) {
    w.reset();
    throw err;
  }
  return finishChecked(w, limits);
}

/** Decodes a requests frame or throws a DecodeError. Payloads are views into `frame`. */
export function decodeClientRequests(
  frame: Uint8Array,
  limits: CodecLimits = DEFAULT_CODEC_LIMITS,
): ClientRequestRecord[] {
  const r = openFrame(frame, FrameKind.ClientRequests, limits);
  const count = r.count(limits.maxMessagesPerFrame, 'request count');
  if (count === 0) r.fail(DecodeErrorReason.Malformed, 'empty frame');
  const out: ClientRequestRecord[] = [];
  for (let i = 0; i < count; i++) {
    const id = r.varint();
    const payload = r.lenBytes(limits.maxFrameBytes);
    out.push({ id, payload });
  }
  r.done();
  return out;
}

/** Decodes a replies frame or throws a DecodeError. Payloads are views into `frame`. */
export function decodeClientReplies(
  frame: Uint8Array,
  limits: CodecLimits = DEFAULT_CODEC_LIMITS,
): ClientReplyRecord[] {
  const r = openFrame(frame, FrameKind.ClientReplies, limits);
  const count = r.count(limits.maxMessagesPerFrame, 'reply count');
  if (count === 0) r.fail(DecodeErrorReason.Malformed, 'empty frame');
  const out: ClientReplyRecord[] = [];
  for (let i = 0; i < count; i++) {
    const id = r.varint();
    const code = r.u8();
    const status: ReplyStatus =
      code === ReplyStatus.Ok
        ? ReplyStatus.Ok
        : code === ReplyStatus.Error
          ? ReplyStatus.Error
          : r.fail(DecodeErrorReason.UnknownType, `reply status ${code}`);
    const payload = r.lenBytes(limits.maxFrameBytes);
    out.push({ id, status, payload });
  }
  r.done();
  return out;
}
