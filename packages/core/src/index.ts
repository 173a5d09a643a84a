export { ErrorCode, InvariantError, invariant, KeelError } from './raft/errors.js';
export type { Rng } from './raft/rng.js';
export { SeededRng } from './raft/rng.js';
export type { LogStorage } from './raft/storage.js';
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
  Ready,
  Rejection,
  SoftState,
  TimeoutNowMessage,
  VoteMessage,
  VoteRespMessage,
} from './raft/types.js';
export { EntryType, MessageType, Role } from './raft/types.js';
export type {
  LogStore,
  Scheduler,
  StateMachine,
  TimerHandle,
  Transport,
  TransportHandlers,
} from './runtime/interfaces.js';
export { PeerEvent } from './runtime/interfaces.js';
