import type { ScanRange } from './commands.js';
import type { CompareOp, TxnCommand, TxnCompare, TxnOp } from './txn.js';

/** Bytes, or a string taken as its UTF-8 encoding. */
type Bytes = string | Uint8Array;

/**
 * One compare of `KvClient.txn`, named by what it compares; `op` defaults to `=`.
 * `{ key, value }`, `{ key, version }`, `{ key, createRevision }`, `{ key, modRevision }`, or
 * `{ key, exists }` (with `=` or `!=` only), or `{ key, lease }` (the key's lease id, 0 when none).
 */
export type CompareInput =
  | { readonly key: Bytes; readonly value: Bytes; readonly op?: CompareOp }
  | { readonly key: Bytes; readonly version: number; readonly op?: CompareOp }
  | { readonly key: Bytes; readonly createRevision: number; readonly op?: CompareOp }
  | { readonly key: Bytes; readonly modRevision: number; readonly op?: CompareOp }
  | { readonly key: Bytes; readonly exists: boolean; readonly op?: '=' | '!=' }
  | { readonly key: Bytes; readonly lease: number; readonly op?: CompareOp };

/**
 * One operation of a branch: `{ put, value, lease? }` (`lease` attaches the key to that lease),
 * `{ delete }`, `{ get }` or `{ range, limit? }`.
 */
export type TxnOpInput =
  | { readonly put: Bytes; readonly value: Bytes; readonly lease?: number }
  | { readonly delete: Bytes }
  | { readonly get: Bytes }
  | {
      readonly range: { readonly prefix: Bytes } | { readonly start: Bytes; readonly end?: Bytes | null };
      readonly limit?: number;
    };

/**
 * A transaction as `KvClient.txn` takes it (the same shape `keel txn` reads as JSON): `success`
 * runs when every compare holds, else `failure` (etcd's names; `then` would make it a thenable).
 */
export interface TxnInput {
  readonly compare?: readonly CompareInput[];
  readonly success?: readonly TxnOpInput[];
  readonly failure?: readonly TxnOpInput[];
}

const encoder = new TextEncoder();
const DEFAULT_RANGE_LIMIT = 1000;

function bytes(b: Bytes): Uint8Array {
  return typeof b === 'string' ? encoder.encode(b) : b;
}

function compareOf(c: CompareInput): TxnCompare {
  const key = bytes(c.key);
  const op = c.op ?? '=';
  if ('value' in c) return { key, target: 'value', op, value: bytes(c.value) };
  if ('exists' in c) return { key, target: 'exists', op: op === '!=' ? '!=' : '=', value: c.exists };
  if ('version' in c) return { key, target: 'version', op, value: c.version };
  if ('createRevision' in c) return { key, target: 'createRevision', op, value: c.createRevision };
  if ('lease' in c) return { key, target: 'lease', op, value: c.lease };
  return { key, target: 'modRevision', op, value: c.modRevision };
}

function opOf(o: TxnOpInput): TxnOp {
  if ('put' in o) {
    const put = { type: 'put', key: bytes(o.put), value: bytes(o.value) } as const;
    return o.lease === undefined || o.lease === 0 ? put : { ...put, lease: o.lease };
  }
  if ('delete' in o) return { type: 'delete', key: bytes(o.delete) };
  if ('get' in o) return { type: 'get', key: bytes(o.get) };
  const r = o.range;
  const range: ScanRange =
    'prefix' in r
      ? { prefix: bytes(r.prefix) }
      : { start: bytes(r.start), end: r.end === undefined || r.end === null ? null : bytes(r.end) };
  return { type: 'range', range, limit: o.limit ?? DEFAULT_RANGE_LIMIT };
}

/** The command of a transaction input (no session yet). */
export function txnCommand(t: TxnInput): TxnCommand {
  return {
    type: 'txn',
    compare: (t.compare ?? []).map(compareOf),
    success: (t.success ?? []).map(opOf),
    failure: (t.failure ?? []).map(opOf),
  };
}
