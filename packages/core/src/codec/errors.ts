import { KeelError } from '../raft/errors.js';

/** Stable codes of the wire codec's errors. */
export const CodecErrorCode = {
  /** Bytes from the network that are not a valid frame; never fatal to the receiver. */
  DecodeFailed: 'KEEL_DECODE_FAILED',
  /** A value that cannot be put on the wire (a caller bug: negative index, bad id, mixed batch). */
  EncodeFailed: 'KEEL_ENCODE_FAILED',
} as const;
export type CodecErrorCode = (typeof CodecErrorCode)[keyof typeof CodecErrorCode];

/** Why a frame was rejected; receivers count rejections per reason. */
export const DecodeErrorReason = {
  /** The frame ends inside a field. */
  Truncated: 'truncated',
  /** The frame, a count or a length is above the configured limit. */
  Oversized: 'oversized',
  /** The version byte is not one this build speaks. */
  Version: 'version',
  /** The frame kind or a message type code is unknown. */
  UnknownType: 'unknown-type',
  /** A member id (sender, receiver, configuration member, leader hint) outside MEMBER_ID_PATTERN. */
  InvalidMemberId: 'invalid-member-id',
  /** Anything else: trailing bytes, non-canonical varints, unknown flag bits. */
  Malformed: 'malformed',
} as const;
export type DecodeErrorReason = (typeof DecodeErrorReason)[keyof typeof DecodeErrorReason];

export class DecodeError extends KeelError {
  override readonly name = 'DecodeError';
  readonly reason: DecodeErrorReason;
  /** Byte offset in the frame where decoding stopped. */
  readonly offset: number;

  constructor(reason: DecodeErrorReason, message: string, offset: number) {
    super(CodecErrorCode.DecodeFailed, `${message} (at byte ${offset})`);
    this.reason = reason;
    this.offset = offset;
  }
}

export class EncodeError extends KeelError {
  override readonly name = 'EncodeError';
  constructor(message: string) {
    super(CodecErrorCode.EncodeFailed, message);
  }
}
