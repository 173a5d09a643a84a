import { describeId, isValidMemberId, MAX_ID_LENGTH } from '../raft/memberId.js';
import { DecodeError, DecodeErrorReason, EncodeError } from './errors.js';
import { Reader } from './Reader.js';
import type { Writer } from './Writer.js';

/**
 * Every Keel frame starts with two bytes: the wire version and the frame kind. A receiver rejects
 * any other version outright (no negotiation: members of one cluster run one wire version).
 */
export const WIRE_VERSION = 1;

/**
 * Frame kinds. 0x01-0x0f belong to the peer protocol (this package); 0x10-0x1f are reserved for
 * the KV client protocol, which builds its frames with the same header, Writer and Reader.
 */
export const FrameKind = {
  /** One or more Raft messages from one member to another. */
  RaftBatch: 0x01,
  /** Client requests, each with a request id (see the transport's client protocol). */
  ClientRequests: 0x10,
  /** Replies to client requests, matched by request id. */
  ClientReplies: 0x11,
} as const;
export type FrameKind = (typeof FrameKind)[keyof typeof FrameKind];

const KNOWN_KINDS: ReadonlySet<number> = new Set(Object.values(FrameKind));

/** What a decoder accepts at most; everything it allocates is bounded by these. */
export interface CodecLimits {
  /** Largest frame accepted or produced, in bytes. */
  readonly maxFrameBytes: number;
  /** Most messages (or client requests/replies) in one frame. */
  readonly maxMessagesPerFrame: number;
  /** Most entries in one AppendEntries message. */
  readonly maxEntriesPerMessage: number;
}

export const DEFAULT_CODEC_LIMITS: CodecLimits = {
  maxFrameBytes: 16 * 1024 * 1024,
  maxMessagesPerFrame: 65_536,
  maxEntriesPerMessage: 65_536,
};

/** Starts a frame: version and kind. */
export function writeFrameHeader(w: Writer, kind: FrameKind): void {
  w.u8(WIRE_VERSION);
  w.u8(kind);
}

/**
 * Opens a frame: checks its size against `limits`, the version, and that the kind is `expected`.
 * Returns a Reader positioned after the header.
 */
export function openFrame(frame: Uint8Array, expected: FrameKind, limits: CodecLimits): Reader {
  if (frame.length > limits.maxFrameBytes) {
    throw new DecodeError(
      DecodeErrorReason.Oversized,
      `frame of ${frame.length} bytes above limit ${limits.maxFrameBytes}`,
      0,
    );
  }
  if (frame.length < 2)
    throw new DecodeError(DecodeErrorReason.Truncated, 'frame shorter than its header', 0);
  if (frame[0] !== WIRE_VERSION) {
    throw new DecodeError(DecodeErrorReason.Version, `wire version ${frame[0]}, expected ${WIRE_VERSION}`, 0);
  }
  const kind = frame[1]!;
  if (kind !== expected) {
    throw new DecodeError(
      KNOWN_KINDS.has(kind) ? DecodeErrorReason.Malformed : DecodeErrorReason.UnknownType,
      `frame kind 0x${kind.toString(16)}, expected 0x${expected.toString(16)}`,
      1,
    );
  }
  return new Reader(frame, 2);
}

/** A member id: one length byte, then ASCII (see MEMBER_ID_PATTERN). */
export function writeId(w: Writer, id: string): void {
  if (!isValidMemberId(id)) throw new EncodeError(`invalid member id ${describeId(id)}`);
  w.u8(id.length);
  for (let i = 0; i < id.length; i++) w.u8(id.charCodeAt(i));
}

/** Reads a member id; anything but a valid one is a DecodeError with reason `invalid-member-id`. */
export function readId(r: Reader): string {
  const n = r.u8();
  if (n === 0 || n > MAX_ID_LENGTH) r.fail(DecodeErrorReason.InvalidMemberId, `member id length ${n}`);
  const view = r.bytesView(n);
  let id = '';
  for (let i = 0; i < n; i++) id += String.fromCharCode(view[i]!);
  if (!isValidMemberId(id))
    r.fail(DecodeErrorReason.InvalidMemberId, `member id ${describeId(id)} is invalid`);
  return id;
}
