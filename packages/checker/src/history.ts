/**
 * The history format: what clients asked for, when, and what they were told.
 *
 * Times are plain numbers on one clock shared by all clients (simulator ticks, or a monotonic clock
 * of the one machine that ran the clients). Intervals are closed: an operation that completes at
 * `t` and one that is invoked at `t` count as concurrent, so equal timestamps never produce a false
 * violation; they only make the check less sharp.
 */

/** A key's value; `null` means the key is absent. */
export type Value = string | null;

export interface PutCommand {
  readonly kind: 'put';
  readonly value: string;
}
export interface GetCommand {
  readonly kind: 'get';
}
export interface DeleteCommand {
  readonly kind: 'delete';
}
/** Sets `value` only if the key currently holds `expected` (`null`: only if the key is absent). */
export interface CasCommand {
  readonly kind: 'cas';
  readonly expected: Value;
  readonly value: string;
}
/** Adds `delta` (default 1) to a key holding a decimal integer; an absent key counts as 0. */
export interface IncrCommand {
  readonly kind: 'incr';
  readonly delta?: number;
}
export type Command = PutCommand | GetCommand | DeleteCommand | CasCommand | IncrCommand;
export type CommandKind = Command['kind'];

/** The operation took effect exactly once, and the client saw `result`. */
export interface Ok<R> {
  readonly status: 'ok';
  readonly result: R;
}
/** A write's acknowledgement: there is no result to compare. */
export interface Acked {
  readonly status: 'ok';
  readonly result?: undefined;
}
/** The operation definitely did not take effect (e.g. rejected before it was proposed). */
export interface Failed {
  readonly status: 'fail';
}
/**
 * Indeterminate: a timeout or lost connection. The operation may have taken effect at any time
 * after it was invoked — even after the client gave up — or never.
 */
export interface Indeterminate {
  readonly status: 'unknown';
}
export type Outcome = Ok<Value> | Ok<boolean> | Ok<string> | Acked | Failed | Indeterminate;
export type OutcomeStatus = Outcome['status'];

interface OperationBase<C extends Command, O extends Outcome> {
  /** Unique within the history. */
  readonly id: number;
  /** The client that issued it; only used to label reports. */
  readonly process: number | string;
  readonly key: string;
  readonly op: C;
  readonly invoke: number;
  /** When the client got its answer; `null` if it never did (then the outcome must be `unknown`). */
  readonly complete: number | null;
  readonly outcome: O;
}

export type PutOperation = OperationBase<PutCommand, Acked | Failed | Indeterminate>;
/** A get's result is the value read. */
export type GetOperation = OperationBase<GetCommand, Ok<Value> | Failed | Indeterminate>;
export type DeleteOperation = OperationBase<DeleteCommand, Acked | Failed | Indeterminate>;
/** A cas's result says whether the swap happened. */
export type CasOperation = OperationBase<CasCommand, Ok<boolean> | Failed | Indeterminate>;
/** An incr's result is the new value, in decimal. */
export type IncrOperation = OperationBase<IncrCommand, Ok<string> | Failed | Indeterminate>;

export type Operation = PutOperation | GetOperation | DeleteOperation | CasOperation | IncrOperation;
export type History = readonly Operation[];
