export { makeDirectory } from './makeDirectory.js';
export type {
  MemberAddresses,
  MemberChangeReply,
  MemberChangeRequest,
  MemberInfo,
  MembersView,
} from './membership.js';
export { changeInEffect, MemberAction, PROMOTE_MAX_LAG, RETRYABLE_REFUSALS } from './membership.js';
export type { ParseResult, PeerAddress } from './peers.js';
export { parseAddress, parsePeers } from './peers.js';
