// `@keel/server/config`: the pieces of the server that tools handling a member's files need (the CLI
// writing key files and cluster directories), without loading the server itself, its metrics and
// its logger: a one-shot `keel get` must start fast.
export { ConfigError } from './errors.js';
export { makeDirectory } from './makeDirectory.js';
