export type {
  MemberAddresses,
  MemberChangeReply,
  MemberChangeRequest,
  MemberInfo,
  MembersView,
  ParseResult,
  PeerAddress,
  SeedOptions,
} from '@keel/server';
export {
  changeInEffect,
  MemberAction,
  makeDirectory,
  PROMOTE_MAX_LAG,
  parseAddress,
  parsePeers,
  RETRYABLE_REFUSALS,
  seedDataDir,
} from '@keel/server';
