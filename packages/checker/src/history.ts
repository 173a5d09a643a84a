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
/** The commands on one key. */
export type KeyCommand = PutCommand | GetCommand | DeleteCommand | CasCommand | IncrCommand;

/**
 * A comparison of a transaction, made on the store as it was before the transaction (etcd's
 * semantics, which Keel's store follows): `value` compares the key's value as a string (`<` and `>`
 * in code-unit order, which is UTF-8 byte order for the ASCII a workload writes); an absent key
 * fails every value comparison, `!=` included. `exists` asks whether the key is present.
 */
export type TxnCompare =
  | {
      readonly key: string;
      readonly target: 'value';
      readonly op: '=' | '!=' | '<' | '>';
      readonly value: string;
    }
  | { readonly key: string; readonly target: 'exists'; readonly op: '=' | '!='; readonly value: boolean };

/** One operation of a transaction's branch. */
export type TxnStep =
  | { readonly kind: 'put'; readonly key: string; readonly value: string }
  | { readonly kind: 'delete'; readonly key: string }
  | { readonly kind: 'get'; readonly key: string };

/**
 * A transaction over several keys, applied atomically: if every compare holds, the `success` steps
 * run in order, else the `failure` ones; a get sees the writes before it in its branch.
 */
export interface TxnCommand {
  readonly kind: 'txn';
  readonly compare: readonly TxnCompare[];
  readonly success: readonly TxnStep[];
  readonly failure: readonly TxnStep[];
}

/** What a transaction's client saw: which branch ran, and the values its gets read, in order. */
export interface TxnResult {
  readonly succeeded: boolean;
  readonly gets: readonly Value[];
}

export type Command = KeyCommand | TxnCommand;
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
export type Outcome = Ok<Value> | Ok<boolean> | Ok<string> | Ok<TxnResult> | Acked | Failed | Indeterminate;
export type OutcomeStatus = Outcome['status'];

interface OperationBase<C extends Command, O extends Outcome> {
  /** Unique within the history. */
  readonly id: number;
  /** The client that issued it; only used to label reports. */
  readonly process: number | string;
  readonly op: C;
  readonly invoke: number;
  /** When the client got its answer; `null` if it never did (then the outcome must be `unknown`). */
  readonly complete: number | null;
  readonly outcome: O;
}

/** An operation on one key. */
type KeyOperationBase<C extends KeyCommand, O extends Outcome> = OperationBase<C, O> & {
  readonly key: string;
};

export type PutOperation = KeyOperationBase<PutCommand, Acked | Failed | Indeterminate>;
/** A get's result is the value read. */
export type GetOperation = KeyOperationBase<GetCommand, Ok<Value> | Failed | Indeterminate>;
export type DeleteOperation = KeyOperationBase<DeleteCommand, Acked | Failed | Indeterminate>;
/** A cas's result says whether the swap happened. */
export type CasOperation = KeyOperationBase<CasCommand, Ok<boolean> | Failed | Indeterminate>;
/** An incr's result is the new value, in decimal. */
export type IncrOperation = KeyOperationBase<IncrCommand, Ok<string> | Failed | Indeterminate>;
export type KeyOperation = PutOperation | GetOperation | DeleteOperation | CasOperation | IncrOperation;

/** A transaction names its keys in its command (see `keysOf`); it has no `key` of its own. */
export type TxnOperation = OperationBase<TxnCommand, Ok<TxnResult> | Failed | Indeterminate>;

export type Operation = KeyOperation | TxnOperation;
export type History = readonly Operation[];

/** The keys an operation reads or writes, each once, in order of first mention. */
export function keysOf(o: Operation): readonly string[] {
  if (!isTxn(o)) return [o.key];
  const keys = new Set<string>();
  for (const c of o.op.compare) keys.add(c.key);
  for (const s of o.op.success) keys.add(s.key);
  for (const s of o.op.failure) keys.add(s.key);
  return [...keys];
}

export function isTxn(o: Operation): o is TxnOperation {
  return o.op.kind === 'txn';
}
