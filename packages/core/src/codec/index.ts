// @keel/core/codec: the binary wire format of peer messages and client records. Transports and
// services that frame bytes import it from here; applications driving the engine never need it.
export type { ClientReplyRecord, ClientRequestRecord } from './client.js';
export {
  CLIENT_HEADER_MAX_BYTES,
  clientRecordSizeBound,
  decodeClientReplies,
  decodeClientRequests,
  ReplyStatus,
  writeClientReplies,
  writeClientRequests,
} from './client.js';
export { CodecErrorCode, DecodeError, DecodeErrorReason, EncodeError } from './errors.js';
export type { CodecLimits } from './frame.js';
export {
  DEFAULT_CODEC_LIMITS,
  FrameKind,
  openFrame,
  readId,
  WIRE_VERSION,
  writeFrameHeader,
  writeId,
} from './frame.js';
export {
  BATCH_HEADER_MAX_BYTES,
  decodeBatch,
  decodeMessage,
  encodeBatch,
  encodeMessage,
  MessageCode,
  messageSizeBound,
  readMessage,
  writeBatch,
  writeMessage,
} from './messages.js';
export { Reader } from './Reader.js';
export { readSessions, writeSessions } from './sessions.js';
export { DEFAULT_WRITER_POOL_BYTES, MAX_VARINT_BYTES, Writer } from './Writer.js';
