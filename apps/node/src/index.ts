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
  ConfigError,
  changeInEffect,
  MemberAction,
  makeDirectory,
  PROMOTE_MAX_LAG,
  parseAddress,
  parsePeers,
  RETRYABLE_REFUSALS,
  seedDataDir,
} from '@keel/server';
export type { KeyPairFile } from './keyFiles.js';
export {
  readKeyPairFile,
  readPeerKeys,
  readPublicKeyFile,
  readPublicKeys,
  readSecretFile,
  writeKeyPairFiles,
} from './keyFiles.js';
