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
  PROMOTE_MAX_LAG,
  parseAddress,
  parsePeers,
  RETRYABLE_REFUSALS,
  seedDataDir,
} from '@keel/server';
// Key files, ConfigError and makeDirectory: the light entry point `@keel/node/files` holds them.
export * from './files.js';
