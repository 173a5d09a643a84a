export type { Address, ParseResult, PeerAddress } from './addresses.js';
export { hostPort, parseAddress, parsePeers, tcpEndpoint } from './addresses.js';
export type { AdminHttpServer, StatusSource } from './adminHttp.js';
export { startAdminHttp } from './adminHttp.js';
export { claimDataDir } from './dataDir.js';
export { ConfigError, StartupError } from './errors.js';
export { isLoopback } from './exposure.js';
export { makeDirectory } from './makeDirectory.js';
export type {
  MemberAddresses,
  MemberChangeReply,
  MemberChangeRequest,
  MemberInfo,
  MembersView,
} from './membership.js';
export {
  changeInEffect,
  decodeMemberAddresses,
  encodeMemberAddresses,
  learnerNotReady,
  MemberAction,
  MemberChangeProblem,
  PROMOTE_MAX_LAG,
  parseMemberChange,
  RETRYABLE_REFUSALS,
} from './membership.js';
export type { StateGauge } from './metrics.js';
export { NodeMetrics } from './metrics.js';
export type { MemberCurve, MemberOptions, ServedStateMachine } from './options.js';
export { DEFAULT_WAL_SEGMENT_BYTES, engineTicks } from './options.js';
export { peerRoutes } from './peerRoutes.js';
export type { MemberHandle } from './RunningMember.js';
export { roleChangeReason } from './roleChange.js';
export type { SeedOptions } from './seedDataDir.js';
export { seedDataDir } from './seedDataDir.js';
export { startMember } from './startMember.js';
export type { MemberStatus } from './status.js';
