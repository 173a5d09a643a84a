export {
  applyConfChange,
  CONF_CHANGE_VERSION,
  type ConfEntry,
  confOf,
  decodeConfEntry,
  encodeConfEntry,
} from './raft/confChange.js';
export type { RaftConfig, ResolvedRaftConfig } from './raft/config.js';
export { resolveConfig } from './raft/config.js';
export { ErrorCode, InvariantError, invariant, KeelError } from './raft/errors.js';
export {
  checkMemberId,
  describeId,
  InvalidMemberIdError,
  isValidMemberId,
  MAX_ID_LENGTH,
  MEMBER_ID_ERROR_CODE,
  MEMBER_ID_PATTERN,
  MEMBER_ID_RULE,
} from './raft/memberId.js';
export { Raft } from './raft/Raft.js';
export type { Rng } from './raft/rng.js';
export { SeededRng } from './raft/rng.js';
export type { LogStorage } from './raft/storage.js';
export { takeWithinBytes } from './raft/storage.js';
export type {
  AppMessage,
  AppRespMessage,
  ConfChange,
  ConfChangeResult,
  ConfState,
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
  SnapAckMessage,
  SnapChunkMessage,
  SnapshotMessage,
  SnapshotMeta,
  SoftState,
  TimeoutNowMessage,
  TransferResult,
  VoteMessage,
  VoteRespMessage,
} from './raft/types.js';
export { ConfChangeRejection, ConfChangeType, EntryType, MessageType, Role } from './raft/types.js';
export type {
  ChannelState,
  ClientChannel,
  LogStore,
  Scheduler,
  SnapshotSink,
  SnapshotStore,
  StateMachine,
  StoredSnapshot,
  TimerHandle,
  Transport,
  TransportHandlers,
} from './runtime/interfaces.js';
export { ChannelErrorCode, PeerEvent } from './runtime/interfaces.js';
export type { LoopbackNetworkOptions } from './runtime/LoopbackNetwork.js';
export { LoopbackNetwork } from './runtime/LoopbackNetwork.js';
export type {
  ConfChangeOutcome,
  NodeStatus,
  ProposeOutcome,
  RaftNodeOptions,
  RaftObserver,
  ReadOutcome,
} from './runtime/RaftNode.js';
export { RaftNode } from './runtime/RaftNode.js';
export { realScheduler } from './runtime/realScheduler.js';
export type {
  DeadlineSource,
  LeaderDeadlines,
  ReadConsistencyLevel,
  RequestError,
  RequestService,
  ServiceRequest,
} from './runtime/requestService.js';
export { RequestErrorCode } from './runtime/requestService.js';
export type {
  SessionFailure,
  SessionLimits,
  SessionRecord,
  SessionsImage,
} from './runtime/SessionTable.js';
export {
  DEFAULT_MAX_SESSIONS,
  DEFAULT_SESSION_TIMEOUT_MS,
  SessionErrorCode,
  SessionTable,
} from './runtime/SessionTable.js';
export type { SnapshotBytes, SnapshotChunks } from './runtime/snapshotBytes.js';
export { ChunkReader, chunksLength, concatChunks, toChunks } from './runtime/snapshotBytes.js';
