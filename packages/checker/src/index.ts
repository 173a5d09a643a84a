export {
  type CheckOptions,
  type CheckResult,
  checkHistory,
  DEFAULT_MAX_STEPS,
  type KeyResult,
  type LinearizedOperation,
  type State,
  type Verdict,
  type Violation,
} from './check.js';
export { CheckerError, CheckerErrorCode } from './errors.js';
export {
  type FormatOptions,
  formatCommand,
  formatOperation,
  formatResult,
  formatViolation,
} from './format.js';
export type {
  Acked,
  CasCommand,
  CasOperation,
  Command,
  CommandKind,
  DeleteCommand,
  DeleteOperation,
  Failed,
  GetCommand,
  GetOperation,
  History,
  IncrCommand,
  IncrOperation,
  Indeterminate,
  KeyCommand,
  KeyOperation,
  Ok,
  Operation,
  Outcome,
  OutcomeStatus,
  PutCommand,
  PutOperation,
  TxnCommand,
  TxnCompare,
  TxnOperation,
  TxnResult,
  TxnStep,
  Value,
} from './history.js';
export { isTxn, keysOf } from './history.js';
export { type KeyValues, step, stepTxn } from './model.js';
export { validateHistory } from './validate.js';
export type { UnknownReason } from './wgl.js';
