export { ErrorCode, InvariantError, invariant, KeelError } from './raft/errors.js';
