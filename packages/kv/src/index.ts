export type {
  CasCommand,
  CasExpect,
  CloseSessionCommand,
  CommandCheck,
  DeleteCommand,
  GetCommand,
  IncrCommand,
  KeepAliveCommand,
  KvCommand,
  KvCommandType,
  KvEntry,
  PutCommand,
  ReadCommand,
  RegisterSessionCommand,
  ScanCommand,
  ScanRange,
  SessionCommand,
  SessionRef,
  WriteCommand,
} from './commands.js';
export {
  CommandCode,
  checkCommand,
  decodeEntry,
  ENTRY_VERSION,
  encodeEntry,
  isReadCommand,
  isWriteCommand,
  readCommand,
  writeCommand,
} from './commands.js';
export { crc32 } from './crc32.js';
export { KvErrorCode, SnapshotError, SnapshotErrorReason } from './errors.js';
export { KvClient } from './KvClient.js';
export type { KvOutcome } from './KvClientError.js';
export { KvClientError, KvClientErrorCode } from './KvClientError.js';
export type {
  Bytes,
  CallOptions,
  CasExpectInput,
  KvClientOptions,
  PutOptions,
  ReadOptions,
  ScanOptions,
  ScanPage,
  ScanRangeInput,
} from './KvClientOptions.js';
export type { LeaseKeepAlive, LeaseRevoked, LeaseTtl } from './KvLeases.js';
export type { KvStateMachineOptions } from './KvStateMachine.js';
export { DEFAULT_MAX_SESSIONS, DEFAULT_SESSION_TIMEOUT_MS, KvStateMachine } from './KvStateMachine.js';
export type { WatchBatch, WatchOptions } from './KvWatch.js';
export type { LeaseListener } from './LeaseTable.js';
export type {
  LeaseCommand,
  LeaseExpireCommand,
  LeaseGrantCommand,
  LeaseKeepAliveCommand,
  LeaseListCommand,
  LeaseRevokeCommand,
  LeaseTimeToLiveCommand,
} from './leaseCommands.js';
export { MAX_LEASE_TTL_SECONDS, MIN_LEASE_TTL_SECONDS } from './leaseCommands.js';
export type {
  LeaseGrant,
  LeaseGrantResult,
  LeaseKeepAliveResult,
  LeaseListResult,
  LeaseResult,
  LeaseRevokeResult,
  LeaseTimeToLiveResult,
} from './leaseResults.js';
export type { KeyCheck, KvLimits, ValueCheck } from './limits.js';
export { checkKey, checkValue, DEFAULT_KV_LIMITS, KeyLimits } from './limits.js';
export type {
  DecodedRequest,
  IdentifiedRequest,
  IdentifiedResponse,
  KvRequest,
  KvResponse,
} from './protocol.js';
export {
  decodeRequest,
  decodeRequestFrame,
  decodeResponse,
  decodeResponseFrame,
  encodeRequest,
  encodeRequestFrame,
  encodeResponse,
  encodeResponseFrame,
  MemberErrorCode,
  PROTOCOL_VERSION,
  ReadConsistency,
} from './protocol.js';
export type { CampaignOptions, ElectionLeader, Leadership, ObserveOptions } from './recipes/Election.js';
export { Election } from './recipes/Election.js';
export type { SessionOptions as RecipeOptions } from './recipes/LeaseSession.js';
export type { AcquireOptions, LockHandle } from './recipes/Lock.js';
export { Lock } from './recipes/Lock.js';
export type {
  CasResult,
  CloseSessionResult,
  CompareFailed,
  DeleteResult,
  Failure,
  GetResult,
  IncrResult,
  KeepAliveResult,
  KeyValue,
  KvResult,
  PutResult,
  RegisterSessionResult,
  ScanResult,
} from './results.js';
export { ResultCode, readResult, writeResult } from './results.js';
export { kvService } from './service.js';
export { SNAPSHOT_CHUNK_BYTES, SNAPSHOT_VERSION } from './snapshot.js';
export type { CompareOp, TxnCommand, TxnCompare, TxnOp, TxnOpResult, TxnResult } from './txn.js';
export { MAX_TXN_OPS } from './txn.js';
export type { CompareInput, TxnInput, TxnOpInput } from './txnInput.js';
export type { WatchHistoryLimits } from './WatchHistory.js';
export type { WatchCreated, WatchEnded, WatchHub, WatchLimits, WatchPoll } from './WatchHub.js';
export { DEFAULT_WATCH_LIMITS, WatchEndReason } from './WatchHub.js';
export type { WatchEvent, WatchRange } from './watchEvents.js';
export type { WatchReply, WatchRequest } from './watchProtocol.js';
export {
  decodeWatchReply,
  decodeWatchRequest,
  encodeWatchReply,
  encodeWatchRequest,
  MAX_WATCH_WAIT_MS,
} from './watchProtocol.js';
