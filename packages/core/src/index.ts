export type { ClientReplyRecord, ClientRequestRecord } from './codec/client.js';
export {
  CLIENT_HEADER_MAX_BYTES,
  clientRecordSizeBound,
  decodeClientReplies,
  decodeClientRequests,
  ReplyStatus,
  writeClientReplies,
  writeClientRequests,
} from './codec/client.js';
export { CodecErrorCode, DecodeError, DecodeErrorReason, EncodeError } from './codec/errors.js';
export type { CodecLimits } from './codec/frame.js';
export {
  DEFAULT_CODEC_LIMITS,
  FrameKind,
  isValidNodeId,
  MAX_ID_LENGTH,
  openFrame,
  readId,
  WIRE_VERSION,
  writeFrameHeader,
  writeId,
} from './codec/frame.js';
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
} from './codec/messages.js';
export { Reader } from './codec/Reader.js';
export { DEFAULT_WRITER_POOL_BYTES, MAX_VARINT_BYTES, Writer } from './codec/Writer.js';
export type { RaftConfig, ResolvedRaftConfig, TestingBugs } from './raft/config.js';
export { resolveConfig } from './raft/config.js';
export { ErrorCode, InvariantError, invariant, KeelError } from './raft/errors.js';
export { Raft } from './raft/Raft.js';
export type { Rng } from './raft/rng.js';
export { SeededRng } from './raft/rng.js';
export type { LogStorage } from './raft/storage.js';
export { takeWithinBytes } from './raft/storage.js';
export type {
  AppMessage,
  AppRespMessage,
  Entry,
  HardState,
  HeartbeatMessage,
  HeartbeatRespMessage,
  Message,
  NodeId,
  ProposeResult,
  ReadIndexMessage,
  ReadIndexRespMessage,
  ReadState,
  Ready,
  Rejection,
  SoftState,
  TimeoutNowMessage,
  TransferResult,
  VoteMessage,
  VoteRespMessage,
} from './raft/types.js';
export { EntryType, MessageType, Role } from './raft/types.js';
export type {
  ClientChannel,
  LogStore,
  Scheduler,
  StateMachine,
  TimerHandle,
  Transport,
  TransportHandlers,
} from './runtime/interfaces.js';
export { PeerEvent } from './runtime/interfaces.js';
export type {
  NodeStatus,
  ProposeOutcome,
  RaftNodeOptions,
  RaftObserver,
  ReadOutcome,
} from './runtime/RaftNode.js';
export { RaftNode } from './runtime/RaftNode.js';
