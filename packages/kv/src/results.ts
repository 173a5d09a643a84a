/**
 * What applying a command returns, and its binary form. Results travel in replies to clients
 * (protocol.ts) and, as the cached response of a session, inside snapshots (snapshot.ts), so one
 * codec serves both:
 *
 *   result = tag:u8  body
 *     0x01 put              revision:varint  version:varint
 *     0x02 delete           revision:varint  deleted:u8
 *     0x03 cas              revision:varint  version:varint
 *     0x04 get              revision:varint  present:u8  [kv]
 *     0x05 scan             revision:varint  count:varint  kv*  more:u8
 *     0x06 registerSession  clientId:varint
 *     0x07 keepAlive
 *     0x08 closeSession
 *     0x09 incr             revision:varint  version:varint  negative:u8  magnitude:varint
 *     0x0a txn              succeeded:u8  revision:varint  count:varint  opResult*   (see txn.ts)
 *     0x0b leaseGrant       id:varint  ttlSeconds:varint
 *     0x0c leaseRevoke      revoked:u8  revision:varint
 *     0x0d leaseKeepAlive   id:varint  ttlSeconds:varint
 *     0x0e leaseTimeToLive  id:varint  grantedTtlSeconds:varint  remainingMs:varint  hasKeys:u8 [count:varint key*]
 *     0x0f leaseList        count:varint  (id:varint ttlSeconds:varint)*
 *     0x81 compare-failed   message  revision:varint  present:u8  [kv]
 *     0x82.. other failures message
 *   kv = key  value  version:varint  createRevision:varint  modRevision:varint  lease:varint
 *        (key, value: len:varint bytes; lease 0 = none. Snapshots of format 1 hold kvs without the
 *        lease field: `readResult(r, limits, false)` reads those)
 *   message = len:varint UTF-8
 */
import { DecodeErrorReason, EncodeError, type Reader, type Writer } from '@keel/core/codec';
import { type LeaseResult, LeaseResultTag, readLeaseResult, writeLeaseResult } from './leaseResults.js';
import { DEFAULT_KV_LIMITS, type KvLimits } from './limits.js';
import { readTxnResult, type TxnResult, writeTxnResult } from './txn.js';

/**
 * One key as stored. `version` counts writes since the key was (re)created: 1 after the first put,
 * and back to 0 (absent) when deleted. `createRevision` and `modRevision` are the store revisions of
 * the write that created the key and of the latest write to it.
 *
 * Byte fields are shared with the store: treat them as read-only.
 */
export interface KeyValue {
  readonly key: Uint8Array;
  readonly value: Uint8Array;
  readonly version: number;
  readonly createRevision: number;
  readonly modRevision: number;
  /** The lease the key is attached to (deleted with it); absent when none (0 on the wire). */
  readonly lease?: number;
}

/** Every `code` a result can fail with. */
export const ResultCode = {
  /** cas: the key's current value or version is not the expected one; nothing was written. */
  CompareFailed: 'compare-failed',
  /** The session id was never issued by this store. */
  UnknownSession: 'unknown-session',
  /** The session was issued but expired (or was closed, or evicted): register a new one. */
  SessionExpired: 'session-expired',
  /** The command's sequence number is below the session's last one: its response is gone. */
  StaleSequence: 'stale-sequence',
  /** The entry does not decode as a command (corrupt, or from a newer version). */
  InvalidCommand: 'invalid-command',
  /** incr: the key holds something other than a decimal integer, or the sum leaves ±(2^53-1). */
  NotAnInteger: 'not-an-integer',
  /** getAt: the revision is older than the answering member's history window. */
  Compacted: 'compacted',
  /** getAt: the revision is past the store's. */
  FutureRevision: 'future-revision',
  /** A put, txn put or lease operation named a lease that does not exist (never granted, revoked or expired). */
  LeaseNotFound: 'lease-not-found',
} as const;
export type ResultCode = (typeof ResultCode)[keyof typeof ResultCode];

export type PutResult = {
  readonly ok: true;
  readonly type: 'put';
  /** The store revision this write created (also the key's new `modRevision`). */
  readonly revision: number;
  /** The key's version after the write. */
  readonly version: number;
};
export type DeleteResult = {
  readonly ok: true;
  readonly type: 'delete';
  /** The revision the delete created, or the unchanged current revision when the key was absent. */
  readonly revision: number;
  readonly deleted: boolean;
};
export type CasResult = {
  readonly ok: true;
  readonly type: 'cas';
  /** The revision after the swap (unchanged when the swap deleted an absent key). */
  readonly revision: number;
  /** The key's version after the swap (0 when it deleted the key). */
  readonly version: number;
};
export type IncrResult = {
  readonly ok: true;
  readonly type: 'incr';
  readonly revision: number;
  /** The key's version after the increment. */
  readonly version: number;
  /** The counter after the increment. */
  readonly value: number;
};
export type GetResult = {
  readonly ok: true;
  readonly type: 'get';
  /** The store revision the read observed. */
  readonly revision: number;
  readonly kv: KeyValue | null;
};
export type ScanResult = {
  readonly ok: true;
  readonly type: 'scan';
  readonly revision: number;
  readonly items: readonly KeyValue[];
  /** More keys remain in the range: ask again with `after` = the last item's key. */
  readonly more: boolean;
};
export type RegisterSessionResult = {
  readonly ok: true;
  readonly type: 'registerSession';
  readonly clientId: number;
};
export type KeepAliveResult = { readonly ok: true; readonly type: 'keepAlive' };
export type CloseSessionResult = { readonly ok: true; readonly type: 'closeSession' };

export type CompareFailed = {
  readonly ok: false;
  readonly code: 'compare-failed';
  readonly message: string;
  readonly revision: number;
  /** The key as it is now (null: absent), so the client can retry without another read. */
  readonly current: KeyValue | null;
};
export type Failure = {
  readonly ok: false;
  readonly code: Exclude<ResultCode, 'compare-failed'>;
  readonly message: string;
};

export type KvResult =
  | PutResult
  | DeleteResult
  | CasResult
  | IncrResult
  | GetResult
  | ScanResult
  | RegisterSessionResult
  | KeepAliveResult
  | CloseSessionResult
  | TxnResult
  | LeaseResult
  | CompareFailed
  | Failure;

const Tag = {
  put: 0x01,
  delete: 0x02,
  cas: 0x03,
  get: 0x04,
  scan: 0x05,
  registerSession: 0x06,
  keepAlive: 0x07,
  closeSession: 0x08,
  incr: 0x09,
  txn: 0x0a,
  ...LeaseResultTag,
} as const;

const FailureTag = {
  'compare-failed': 0x81,
  'unknown-session': 0x82,
  'session-expired': 0x83,
  'stale-sequence': 0x84,
  'invalid-command': 0x85,
  'not-an-integer': 0x86,
  compacted: 0x87,
  'future-revision': 0x88,
  'lease-not-found': 0x89,
} as const satisfies Record<ResultCode, number>;

const FAILURE_BY_TAG = new Map<number, ResultCode>(
  Object.entries(FailureTag).map(([code, tag]) => [tag, code as ResultCode]),
);

const textEncoder = new TextEncoder();

/** Messages are for people: cut (at a character boundary) rather than refused when too long. */
export function clampMessage(message: string, limits: KvLimits = DEFAULT_KV_LIMITS): string {
  if (message.length * 3 <= limits.maxMessageBytes) return message;
  let s = message;
  while (textEncoder.encode(s).length > limits.maxMessageBytes) s = s.slice(0, Math.floor(s.length * 0.9));
  // Do not leave half a surrogate pair behind.
  const last = s.charCodeAt(s.length - 1);
  return last >= 0xd800 && last <= 0xdbff ? s.slice(0, -1) : s;
}

export function writeKeyValue(w: Writer, kv: KeyValue): void {
  w.lenBytes(kv.key);
  w.lenBytes(kv.value);
  w.varint(kv.version);
  w.varint(kv.createRevision);
  w.varint(kv.modRevision);
  w.varint(kv.lease ?? 0);
}

/** `withLease` false: the layout before leases (format-1 snapshots). */
export function readKeyValue(r: Reader, limits: KvLimits, withLease = true): KeyValue {
  const key = r.lenBytes(limits.maxKeyBytes).slice();
  if (key.length === 0) r.fail(DecodeErrorReason.Malformed, 'empty key');
  const value = r.lenBytes(limits.maxValueBytes).slice();
  const version = r.varint();
  const createRevision = r.varint();
  const modRevision = r.varint();
  if (version === 0 || createRevision === 0 || modRevision < createRevision) {
    r.fail(DecodeErrorReason.Malformed, 'key version or revisions out of order');
  }
  const lease = withLease ? r.varint() : 0;
  return lease === 0
    ? { key, value, version, createRevision, modRevision }
    : { key, value, version, createRevision, modRevision, lease };
}

function writeBool(w: Writer, b: boolean): void {
  w.u8(b ? 1 : 0);
}

function readBool(r: Reader): boolean {
  const b = r.u8();
  if (b > 1) r.fail(DecodeErrorReason.Malformed, `boolean ${b}`);
  return b === 1;
}

function writeOptionalKv(w: Writer, kv: KeyValue | null): void {
  writeBool(w, kv !== null);
  if (kv !== null) writeKeyValue(w, kv);
}

function readOptionalKv(r: Reader, limits: KvLimits, withLease: boolean): KeyValue | null {
  return readBool(r) ? readKeyValue(r, limits, withLease) : null;
}

/** Writes one result. Messages longer than `maxMessageBytes` are cut. */
export function writeResult(w: Writer, result: KvResult, limits: KvLimits = DEFAULT_KV_LIMITS): void {
  if (!result.ok) {
    w.u8(FailureTag[result.code]);
    w.utf8(clampMessage(result.message, limits));
    if (result.code === 'compare-failed') {
      w.varint(result.revision);
      writeOptionalKv(w, result.current);
    }
    return;
  }
  w.u8(Tag[result.type]);
  switch (result.type) {
    case 'put':
    case 'cas':
      w.varint(result.revision);
      w.varint(result.version);
      return;
    case 'delete':
      w.varint(result.revision);
      writeBool(w, result.deleted);
      return;
    case 'get':
      w.varint(result.revision);
      writeOptionalKv(w, result.kv);
      return;
    case 'scan':
      if (result.items.length > limits.maxScanLimit) {
        throw new EncodeError(`scan result of ${result.items.length} items above ${limits.maxScanLimit}`);
      }
      w.varint(result.revision);
      w.varint(result.items.length);
      for (const kv of result.items) writeKeyValue(w, kv);
      writeBool(w, result.more);
      return;
    case 'incr':
      w.varint(result.revision);
      w.varint(result.version);
      writeBool(w, result.value < 0);
      w.varint(Math.abs(result.value));
      return;
    case 'registerSession':
      w.varint(result.clientId);
      return;
    case 'txn':
      writeTxnResult(w, result, writeKeyValue);
      return;
    case 'keepAlive':
    case 'closeSession':
      return;
    default:
      writeLeaseResult(w, result);
  }
}

/** Reads one result written by `writeResult`; throws a DecodeError on anything else. */
export function readResult(r: Reader, limits: KvLimits = DEFAULT_KV_LIMITS, withLease = true): KvResult {
  const tag = r.u8();
  switch (tag) {
    case Tag.put:
    case Tag.cas: {
      const revision = r.varint();
      const version = r.varint();
      return { ok: true, type: tag === Tag.put ? 'put' : 'cas', revision, version };
    }
    case Tag.delete: {
      const revision = r.varint();
      return { ok: true, type: 'delete', revision, deleted: readBool(r) };
    }
    case Tag.get: {
      const revision = r.varint();
      return { ok: true, type: 'get', revision, kv: readOptionalKv(r, limits, withLease) };
    }
    case Tag.scan: {
      const revision = r.varint();
      const count = r.count(limits.maxScanLimit, 'scan item count');
      const items: KeyValue[] = [];
      for (let i = 0; i < count; i++) items.push(readKeyValue(r, limits, withLease));
      return { ok: true, type: 'scan', revision, items, more: readBool(r) };
    }
    case Tag.incr: {
      const revision = r.varint();
      const version = r.varint();
      const negative = readBool(r);
      const magnitude = r.varint();
      if (negative && magnitude === 0) r.fail(DecodeErrorReason.Malformed, 'counter -0');
      return { ok: true, type: 'incr', revision, version, value: negative ? -magnitude : magnitude };
    }
    case Tag.registerSession:
      return { ok: true, type: 'registerSession', clientId: r.varint() };
    case Tag.txn:
      return readTxnResult(r, limits, (rr) => readKeyValue(rr, limits, withLease));
    case Tag.keepAlive:
      return { ok: true, type: 'keepAlive' };
    case Tag.closeSession:
      return { ok: true, type: 'closeSession' };
    default: {
      if (tag >= LeaseResultTag.leaseGrant && tag <= LeaseResultTag.leaseList) {
        return readLeaseResult(r, tag, limits);
      }
      const code = FAILURE_BY_TAG.get(tag);
      if (code === undefined)
        return r.fail(DecodeErrorReason.UnknownType, `result tag 0x${tag.toString(16)}`);
      const message = r.utf8(limits.maxMessageBytes);
      if (code === 'compare-failed') {
        const revision = r.varint();
        return { ok: false, code, message, revision, current: readOptionalKv(r, limits, withLease) };
      }
      return { ok: false, code, message };
    }
  }
}
