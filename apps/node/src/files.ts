// `@keel/node/files`: key files and directories, for tools that prepare members (the CLI) without
// loading the member itself: a one-shot `keel get` must start fast.
export { ConfigError, makeDirectory } from '@keel/server/config';
export type { KeyPairFile } from './keyFiles.js';
export {
  readKeyPairFile,
  readPeerKeys,
  readPublicKeyFile,
  readPublicKeys,
  readSecretFile,
  writeKeyPairFiles,
} from './keyFiles.js';
