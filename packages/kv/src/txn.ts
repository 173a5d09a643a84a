/**
 * Transactions: compare, then one branch of operations, applied atomically at one revision.
 *
 *   txn     = flags:u8 [session]  nCompare:varint compare*  nThen:varint op*  nElse:varint op*
 *             flags: 0x01 session
 *   compare = target:u8 (1 value, 2 version, 3 createRevision, 4 modRevision, 5 exists, 6 lease)
 *             op:u8 (1 =, 2 !=, 3 <, 4 >)  key  operand     (value: bytes; exists: u8 0/1; else varint)
 *   op      = 1 put key value | 2 delete key | 3 get key | 4 range flags:u8 start|prefix [end] limit:varint
 *             | 5 put key value lease:varint (a put attaching the key to a lease)
 *             (range flags as scan's: 0x01 prefix, 0x02 end present)
 *
 * Semantics (etcd's, restated): every compare reads the store as it was before the transaction;
 * if all hold, the `then` operations run in order, else the `else` ones. Reads see the writes
 * before them in the same branch. All writes of the branch share one new revision (the store's
 * revision goes up by one, however many keys change; by none when nothing changes), so a watch
 * delivers them together. A key absent compares as version 0, create/mod revision 0, and fails
 * every value comparison; a key with no lease compares as lease 0. A put naming a lease attaches the
 * key to it (one without detaches it); a lease that does not exist fails the whole transaction with
 * `lease-not-found` before anything is written. A branch may not write the same key twice. Limits: `MAX_TXN_OPS`
 * compares and operations per branch; the range results of one transaction share one scan's
 * budget (`maxScanLimit` items, about `maxScanBytes`): a range past it comes back empty with
 * `more` set, to be read with a scan.
 */
import { DecodeErrorReason, type Reader, type Writer } from '@keel/core/codec';
import type { ScanRange, SessionRef } from './commands.js';
import type { KvLimits } from './limits.js';
import type { KeyValue } from './results.js';

/** Most compares, and most operations per branch, in one transaction (etcd's default is 128 too). */
export const MAX_TXN_OPS = 128;

export type CompareOp = '=' | '!=' | '<' | '>';
export type TxnCompare =
  | { readonly key: Uint8Array; readonly target: 'value'; readonly op: CompareOp; readonly value: Uint8Array }
  | {
      readonly key: Uint8Array;
      readonly target: 'version' | 'createRevision' | 'modRevision' | 'lease';
      readonly op: CompareOp;
      readonly value: number;
    }
  | { readonly key: Uint8Array; readonly target: 'exists'; readonly op: '=' | '!='; readonly value: boolean };

export type TxnOp =
  | { readonly type: 'put'; readonly key: Uint8Array; readonly value: Uint8Array; readonly lease?: number }
  | { readonly type: 'delete'; readonly key: Uint8Array }
  | { readonly type: 'get'; readonly key: Uint8Array }
  | { readonly type: 'range'; readonly range: ScanRange; readonly limit: number };

export type TxnCommand = {
  readonly type: 'txn';
  readonly compare: readonly TxnCompare[];
  readonly success: readonly TxnOp[];
  readonly failure: readonly TxnOp[];
  readonly session?: SessionRef;
};

export type TxnOpResult =
  | { readonly type: 'put'; readonly version: number }
  | { readonly type: 'delete'; readonly deleted: boolean }
  | { readonly type: 'get'; readonly kv: KeyValue | null }
  | { readonly type: 'range'; readonly items: readonly KeyValue[]; readonly more: boolean };

export type TxnResult = {
  readonly ok: true;
  readonly type: 'txn';
  /** Whether every compare held (the `then` branch ran) or not (the `else` branch ran). */
  readonly succeeded: boolean;
  /** The store revision after the transaction (its writes' revision, when it wrote). */
  readonly revision: number;
  /** One result per operation of the branch that ran, in order. */
  readonly results: readonly TxnOpResult[];
};

const TARGETS = ['value', 'version', 'createRevision', 'modRevision', 'exists', 'lease'] as const;
const OP_PUT_LEASE = 5;
const OPS: readonly CompareOp[] = ['=', '!=', '<', '>'];
const OP_TYPES = ['put', 'delete', 'get', 'range'] as const;

function bytesCompare(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}

function holdsOrder(c: number, op: CompareOp): boolean {
  return op === '=' ? c === 0 : op === '!=' ? c !== 0 : op === '<' ? c < 0 : c > 0;
}

/** Whether compare `c` holds for the key as it is (`kv` null: absent). */
export function compareHolds(c: TxnCompare, kv: KeyValue | null): boolean {
  switch (c.target) {
    case 'value':
      return kv !== null && holdsOrder(bytesCompare(kv.value, c.value), c.op);
    case 'exists':
      return (kv !== null) === c.value ? c.op === '=' : c.op === '!=';
    default: {
      const n = kv === null ? 0 : (kv[c.target] ?? 0);
      return holdsOrder(n < c.value ? -1 : n > c.value ? 1 : 0, c.op);
    }
  }
}

/** What is wrong with a transaction, or null (limits, duplicate writes, operands). */
export function txnProblem(cmd: TxnCommand, limits: KvLimits): string | null {
  if (cmd.compare.length > MAX_TXN_OPS) return `${cmd.compare.length} compares; the limit is ${MAX_TXN_OPS}`;
  for (const [name, ops] of [
    ['then', cmd.success],
    ['else', cmd.failure],
  ] as const) {
    if (ops.length > MAX_TXN_OPS) return `${ops.length} ${name} operations; the limit is ${MAX_TXN_OPS}`;
    const written = new Set<string>();
    for (const op of ops) {
      if (op.type === 'range') {
        const keys =
          'prefix' in op.range
            ? [op.range.prefix]
            : [op.range.start, ...(op.range.end === null ? [] : [op.range.end])];
        if (keys.some((k) => k.length > limits.maxKeyBytes))
          return `a range bound is over ${limits.maxKeyBytes} bytes`;
        if (!(Number.isSafeInteger(op.limit) && op.limit >= 1 && op.limit <= limits.maxScanLimit)) {
          return `range limit ${op.limit} is outside 1..${limits.maxScanLimit}`;
        }
        continue;
      }
      if (op.key.length === 0) return `${op.type}: key is empty`;
      if (op.key.length > limits.maxKeyBytes)
        return `${op.type}: key is ${op.key.length} bytes; the limit is ${limits.maxKeyBytes}`;
      if (op.type === 'put' && op.value.length > limits.maxValueBytes) {
        return `put: value is ${op.value.length} bytes; the limit is ${limits.maxValueBytes}`;
      }
      if (op.type === 'put' && op.lease !== undefined && !(Number.isSafeInteger(op.lease) && op.lease >= 0)) {
        return `put: lease id ${op.lease} is not a positive integer`;
      }
      if (op.type === 'put' || op.type === 'delete') {
        const k = Array.from(op.key, (b) => b.toString(16).padStart(2, '0')).join('');
        if (written.has(k)) return `the ${name} branch writes one key twice`;
        written.add(k);
      }
    }
  }
  for (const c of cmd.compare) {
    if (c.key.length === 0) return 'compare: key is empty';
    if (c.key.length > limits.maxKeyBytes)
      return `compare: key is ${c.key.length} bytes; the limit is ${limits.maxKeyBytes}`;
    if (c.target === 'value' && c.value.length > limits.maxValueBytes) return 'compare: value over the limit';
    if (
      (c.target === 'version' ||
        c.target === 'createRevision' ||
        c.target === 'modRevision' ||
        c.target === 'lease') &&
      !(Number.isSafeInteger(c.value) && c.value >= 0)
    ) {
      return `compare: ${c.target} ${c.value} is not a count`;
    }
    if (c.target === 'exists' && c.op !== '=' && c.op !== '!=') return 'compare: exists takes = or !=';
  }
  return null;
}

// --- codec (the type byte and the session are written by commands.ts) ---------------------------

export function writeTxnBody(w: Writer, cmd: TxnCommand): void {
  w.varint(cmd.compare.length);
  for (const c of cmd.compare) {
    w.u8(TARGETS.indexOf(c.target) + 1);
    w.u8(OPS.indexOf(c.op) + 1);
    w.lenBytes(c.key);
    if (c.target === 'value') w.lenBytes(c.value);
    else if (c.target === 'exists') w.u8(c.value ? 1 : 0);
    else w.varint(c.value);
  }
  for (const ops of [cmd.success, cmd.failure]) {
    w.varint(ops.length);
    for (const op of ops) {
      const leased = op.type === 'put' && op.lease !== undefined && op.lease !== 0;
      w.u8(leased ? OP_PUT_LEASE : OP_TYPES.indexOf(op.type) + 1);
      if (op.type === 'range') {
        const r = op.range;
        w.u8('prefix' in r ? 1 : r.end === null ? 0 : 2);
        if ('prefix' in r) w.lenBytes(r.prefix);
        else {
          w.lenBytes(r.start);
          if (r.end !== null) w.lenBytes(r.end);
        }
        w.varint(op.limit);
        continue;
      }
      w.lenBytes(op.key);
      if (op.type === 'put') w.lenBytes(op.value);
      if (op.type === 'put' && leased) w.varint(op.lease ?? 0);
    }
  }
}

function readKey(r: Reader, limits: KvLimits, allowEmpty: boolean): Uint8Array {
  const k = r.lenBytes(limits.maxKeyBytes).slice();
  if (k.length === 0 && !allowEmpty) r.fail(DecodeErrorReason.Malformed, 'empty key');
  return k;
}

export function readTxnBody(r: Reader, limits: KvLimits, session: SessionRef | undefined): TxnCommand {
  const compare: TxnCompare[] = [];
  const nc = r.count(MAX_TXN_OPS, 'txn compare count');
  for (let i = 0; i < nc; i++) {
    const t = r.u8();
    const target = TARGETS[t - 1] ?? r.fail(DecodeErrorReason.UnknownType, `compare target ${t}`);
    const o = r.u8();
    const op = OPS[o - 1] ?? r.fail(DecodeErrorReason.UnknownType, `compare op ${o}`);
    const key = readKey(r, limits, false);
    if (target === 'value')
      compare.push({ key, target, op, value: r.lenBytes(limits.maxValueBytes).slice() });
    else if (target === 'exists') {
      const b = r.u8();
      if (b > 1 || (op !== '=' && op !== '!=')) r.fail(DecodeErrorReason.Malformed, 'exists compare');
      compare.push({ key, target, op: op as '=' | '!=', value: b === 1 });
    } else compare.push({ key, target, op, value: r.varint() });
  }
  const branches: TxnOp[][] = [];
  for (let b = 0; b < 2; b++) {
    const ops: TxnOp[] = [];
    const n = r.count(MAX_TXN_OPS, 'txn operation count');
    for (let i = 0; i < n; i++) {
      const code = r.u8();
      if (code === OP_PUT_LEASE) {
        const key = readKey(r, limits, false);
        const value = r.lenBytes(limits.maxValueBytes).slice();
        const lease = r.varint();
        if (lease === 0) r.fail(DecodeErrorReason.Malformed, 'txn put with lease 0');
        ops.push({ type: 'put', key, value, lease });
        continue;
      }
      const type = OP_TYPES[code - 1] ?? r.fail(DecodeErrorReason.UnknownType, `txn operation ${code}`);
      if (type === 'range') {
        const flags = r.u8();
        if (flags > 2) r.fail(DecodeErrorReason.Malformed, `range flags ${flags}`);
        const range: ScanRange =
          flags === 1
            ? { prefix: readKey(r, limits, true) }
            : { start: readKey(r, limits, true), end: flags === 2 ? readKey(r, limits, true) : null };
        ops.push({ type, range, limit: r.varint() });
      } else if (type === 'put') {
        ops.push({ type, key: readKey(r, limits, false), value: r.lenBytes(limits.maxValueBytes).slice() });
      } else ops.push({ type, key: readKey(r, limits, false) });
    }
    branches.push(ops);
  }
  const cmd: TxnCommand = { type: 'txn', compare, success: branches[0]!, failure: branches[1]! };
  return session === undefined ? cmd : { ...cmd, session };
}

// --- results ------------------------------------------------------------------------------------

export function writeTxnResult(
  w: Writer,
  result: TxnResult,
  writeKv: (w: Writer, kv: KeyValue) => void,
): void {
  w.u8(result.succeeded ? 1 : 0);
  w.varint(result.revision);
  w.varint(result.results.length);
  for (const r of result.results) {
    w.u8(OP_TYPES.indexOf(r.type) + 1);
    if (r.type === 'put') w.varint(r.version);
    else if (r.type === 'delete') w.u8(r.deleted ? 1 : 0);
    else if (r.type === 'get') {
      w.u8(r.kv === null ? 0 : 1);
      if (r.kv !== null) writeKv(w, r.kv);
    } else {
      w.varint(r.items.length);
      for (const kv of r.items) writeKv(w, kv);
      w.u8(r.more ? 1 : 0);
    }
  }
}

function readFlag(r: Reader): boolean {
  const b = r.u8();
  if (b > 1) r.fail(DecodeErrorReason.Malformed, `boolean ${b}`);
  return b === 1;
}

export function readTxnResult(r: Reader, limits: KvLimits, readKv: (r: Reader) => KeyValue): TxnResult {
  const succeeded = readFlag(r);
  const revision = r.varint();
  const n = r.count(MAX_TXN_OPS, 'txn result count');
  const results: TxnOpResult[] = [];
  for (let i = 0; i < n; i++) {
    const code = r.u8();
    const type = OP_TYPES[code - 1] ?? r.fail(DecodeErrorReason.UnknownType, `txn result ${code}`);
    if (type === 'put') results.push({ type, version: r.varint() });
    else if (type === 'delete') results.push({ type, deleted: readFlag(r) });
    else if (type === 'get') results.push({ type, kv: readFlag(r) ? readKv(r) : null });
    else {
      const count = r.count(limits.maxScanLimit, 'range item count');
      const items: KeyValue[] = [];
      for (let j = 0; j < count; j++) items.push(readKv(r));
      results.push({ type, items, more: readFlag(r) });
    }
  }
  return { ok: true, type: 'txn', succeeded, revision, results };
}
