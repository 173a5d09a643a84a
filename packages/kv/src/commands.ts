/**
 * The commands of the replicated store and their binary form. A command travels twice: from a
 * client to a member inside a request (protocol.ts), and from the leader to every member inside a
 * log entry, where it is wrapped with the leader's clock reading:
 *
 *   entry   = version:u8 (1)  time:varint  command
 *   command = type:u8  body
 *
 *   put             flags:u8 [session]  key  value  [lease:varint]     flags: 0x01 session, 0x02 lease
 *   delete          flags:u8 [session]  key                            flags: 0x01 session
 *   cas             flags:u8 [session]  key  [expected]  [value]       flags: 0x01 session,
 *                   0x02 expect a version (else a value), 0x04 expected value present (else absent),
 *                   0x08 new value present (else the swap deletes the key)
 *   incr            flags:u8 [session]  key  delta:varint              flags: 0x01 session,
 *                   0x02 delta is negative (magnitude in the varint; never -0)
 *   get             key
 *   getAt           key  revision:varint                               (a key as of a past revision)
 *   scan            flags:u8  start|prefix  [end]  limit:varint  [after]
 *                   flags: 0x01 prefix (else a range), 0x02 end present, 0x04 after present
 *   registerSession (empty)
 *   keepAlive       clientId:varint
 *   closeSession    clientId:varint
 *   txn             flags:u8 [session]  body                           (body: see txn.ts)
 *   leaseGrant .. leaseList (codes 12-17)                              (see leaseCommands.ts)
 *
 * New commands take new type codes (incr is 9) and leave existing layouts alone, so the entry
 * version stays 1; a member that predates a type rejects it as an unknown type.
 *
 *   session = clientId:varint  seq:varint;  key, value, start, prefix, end, after = len:varint bytes
 *   expected = version:varint | len:varint bytes
 *
 * Decoding is strict (unknown flag bits, non-canonical varints and trailing bytes are rejected), so
 * every accepted byte string re-encodes to itself: members that agree on the bytes agree on the
 * command. Decoded byte fields are copies, never views into the input.
 */
import { DecodeError, DecodeErrorReason, EncodeError, Reader, Writer } from '@keel/core/codec';
import {
  isLeaseId,
  type LeaseCommand,
  LeaseCommandCode,
  type LeaseExpireCommand,
  type LeaseLeaderCommand,
  type LeaseListCommand,
  type LeaseWriteCommand,
  leaseProblem,
  readLeaseBody,
  writeLeaseBody,
} from './leaseCommands.js';
import { DEFAULT_KV_LIMITS, type KvLimits } from './limits.js';
import { readTxnBody, type TxnCommand, txnProblem, writeTxnBody } from './txn.js';

/** Which client sent a write, and its position in that client's sequence (dissertation §6.3). */
export interface SessionRef {
  /** Issued by `registerSession`: the log index of the registering entry. */
  readonly clientId: number;
  /** 1, 2, 3, ... per client; a retry repeats the number of the command it retries. */
  readonly seq: number;
}

/** What a compare-and-swap compares: the current value (null = absent) or version (0 = absent). */
export type CasExpect = { readonly value: Uint8Array | null } | { readonly version: number };

/**
 * Keys a scan visits, in byte order: every key starting with `prefix`, or every key in
 * `[start, end)` (`end` null = to the last key; an empty `start` = from the first key).
 */
export type ScanRange =
  | { readonly prefix: Uint8Array }
  | { readonly start: Uint8Array; readonly end: Uint8Array | null };

export type PutCommand = {
  readonly type: 'put';
  readonly key: Uint8Array;
  readonly value: Uint8Array;
  /** Attach the key to this lease (absent or 0: detach it from any lease). */
  readonly lease?: number;
  readonly session?: SessionRef;
};
export type DeleteCommand = {
  readonly type: 'delete';
  readonly key: Uint8Array;
  readonly session?: SessionRef;
};
export type CasCommand = {
  readonly type: 'cas';
  readonly key: Uint8Array;
  readonly expect: CasExpect;
  /** The value to store when the comparison holds; null deletes the key. */
  readonly value: Uint8Array | null;
  readonly session?: SessionRef;
};
/**
 * Adds `delta` to a key holding a decimal integer (an absent key counts as 0) and stores the sum in
 * decimal: a counter that, named by a session, counts each increment exactly once under retries.
 */
export type IncrCommand = {
  readonly type: 'incr';
  readonly key: Uint8Array;
  /** A safe integer; negative decrements. */
  readonly delta: number;
  readonly session?: SessionRef;
};
export type GetCommand = { readonly type: 'get'; readonly key: Uint8Array };
/**
 * The key as it was at `revision`, from the answering member's watch history window (a member-local
 * read: `compacted` when the window no longer covers it, `future-revision` past the store's).
 */
export type GetAtCommand = { readonly type: 'getAt'; readonly key: Uint8Array; readonly revision: number };
export type ScanCommand = {
  readonly type: 'scan';
  readonly range: ScanRange;
  /** Most items to return: 1 to `maxScanLimit`. */
  readonly limit: number;
  /** Continuation: return only keys after this one (the last key of the previous page). */
  readonly after?: Uint8Array;
};
/** Opens a session; its client id is the index of the entry that carries this command. */
export type RegisterSessionCommand = { readonly type: 'registerSession' };
/** Marks a session active without writing anything. */
export type KeepAliveCommand = { readonly type: 'keepAlive'; readonly clientId: number };
/** Ends a session and frees its cached response. */
export type CloseSessionCommand = { readonly type: 'closeSession'; readonly clientId: number };

export type WriteCommand =
  | PutCommand
  | DeleteCommand
  | CasCommand
  | IncrCommand
  | TxnCommand
  | LeaseWriteCommand;
export type ReadCommand = GetCommand | GetAtCommand | ScanCommand | LeaseListCommand;
export type SessionCommand = RegisterSessionCommand | KeepAliveCommand | CloseSessionCommand;
export type KvCommand = WriteCommand | ReadCommand | SessionCommand | LeaseExpireCommand | LeaseLeaderCommand;
export type KvCommandType = KvCommand['type'];

/**
 * One log entry's payload. `time` is the leader's clock (ms) when it proposed the entry; it is used
 * only to expire sessions, so every member reaches the same verdict from the log alone (§6.3).
 */
export interface KvEntry {
  readonly time: number;
  readonly command: KvCommand;
}

/** Version byte of log entries. Bump it (and keep decoding the old one) when the layout changes. */
export const ENTRY_VERSION = 1;

export const CommandCode = {
  put: 1,
  delete: 2,
  cas: 3,
  get: 4,
  scan: 5,
  registerSession: 6,
  keepAlive: 7,
  closeSession: 8,
  incr: 9,
  txn: 10,
  getAt: 11,
  ...LeaseCommandCode,
} as const satisfies Record<KvCommandType, number>;

const F_SESSION = 0x01;
const F_PUT_LEASE = 0x02;
const F_CAS_VERSION = 0x02;
const F_CAS_EXPECTED_PRESENT = 0x04;
const F_CAS_VALUE_PRESENT = 0x08;
const F_INCR_NEGATIVE = 0x02;
const F_SCAN_PREFIX = 0x01;
const F_SCAN_END = 0x02;
const F_SCAN_AFTER = 0x04;

export function isWriteCommand(cmd: KvCommand): cmd is WriteCommand {
  return (
    cmd.type === 'put' ||
    cmd.type === 'delete' ||
    cmd.type === 'cas' ||
    cmd.type === 'incr' ||
    cmd.type === 'txn' ||
    cmd.type === 'leaseGrant' ||
    cmd.type === 'leaseRevoke'
  );
}

export function isReadCommand(cmd: KvCommand): cmd is ReadCommand {
  return cmd.type === 'get' || cmd.type === 'getAt' || cmd.type === 'scan' || cmd.type === 'leaseList';
}

/** Lease requests the leader serves from its deadlines (never logged, never a write). */
export function isLeaseLeaderCommand(cmd: KvCommand): cmd is LeaseLeaderCommand {
  return cmd.type === 'leaseKeepAlive' || cmd.type === 'leaseTimeToLive';
}

export type CommandCheck =
  | { readonly ok: true }
  | {
      readonly ok: false;
      readonly code: 'key-empty' | 'key-too-large' | 'value-too-large' | 'invalid-argument';
      readonly message: string;
    };

const OK: CommandCheck = { ok: true };

function isCount(n: number): boolean {
  return Number.isSafeInteger(n) && n >= 0;
}

function keyProblem(key: Uint8Array, limits: KvLimits, what: string, allowEmpty: boolean): CommandCheck {
  if (key.length === 0 && !allowEmpty) return { ok: false, code: 'key-empty', message: `${what} is empty` };
  if (key.length > limits.maxKeyBytes) {
    return {
      ok: false,
      code: 'key-too-large',
      message: `${what} is ${key.length} bytes; the limit is ${limits.maxKeyBytes}`,
    };
  }
  return OK;
}

function valueProblem(value: Uint8Array, limits: KvLimits): CommandCheck {
  if (value.length > limits.maxValueBytes) {
    return {
      ok: false,
      code: 'value-too-large',
      message: `value is ${value.length} bytes; the limit is ${limits.maxValueBytes}`,
    };
  }
  return OK;
}

function sessionProblem(s: SessionRef | undefined): CommandCheck {
  if (s === undefined) return OK;
  if (!isCount(s.clientId) || s.clientId === 0) {
    return {
      ok: false,
      code: 'invalid-argument',
      message: `client id ${s.clientId} is not a positive integer`,
    };
  }
  if (!isCount(s.seq) || s.seq === 0) {
    return { ok: false, code: 'invalid-argument', message: `sequence ${s.seq} is not a positive integer` };
  }
  return OK;
}

function first(...checks: CommandCheck[]): CommandCheck {
  for (const c of checks) if (!c.ok) return c;
  return OK;
}

/**
 * Checks a command against the limits: what a member calls before proposing, so a client gets a
 * precise code (`key-too-large`, ...) instead of a decoding failure. The encoders refuse exactly
 * what this refuses.
 */
export function checkCommand(cmd: KvCommand, limits: KvLimits = DEFAULT_KV_LIMITS): CommandCheck {
  switch (cmd.type) {
    case 'put':
      return first(
        sessionProblem(cmd.session),
        keyProblem(cmd.key, limits, 'key', false),
        valueProblem(cmd.value, limits),
        cmd.lease === undefined || cmd.lease === 0 || isLeaseId(cmd.lease)
          ? OK
          : {
              ok: false,
              code: 'invalid-argument',
              message: `lease id ${cmd.lease} is not a positive integer`,
            },
      );
    case 'delete':
      return first(sessionProblem(cmd.session), keyProblem(cmd.key, limits, 'key', false));
    case 'cas': {
      const e = cmd.expect;
      const expectCheck: CommandCheck =
        'version' in e
          ? isCount(e.version)
            ? OK
            : { ok: false, code: 'invalid-argument', message: `expected version ${e.version} is not a count` }
          : e.value === null
            ? OK
            : valueProblem(e.value, limits);
      return first(
        sessionProblem(cmd.session),
        keyProblem(cmd.key, limits, 'key', false),
        expectCheck,
        cmd.value === null ? OK : valueProblem(cmd.value, limits),
      );
    }
    case 'incr':
      return first(
        sessionProblem(cmd.session),
        keyProblem(cmd.key, limits, 'key', false),
        Number.isSafeInteger(cmd.delta)
          ? OK
          : { ok: false, code: 'invalid-argument', message: `delta ${cmd.delta} is not a safe integer` },
      );
    case 'get':
      return keyProblem(cmd.key, limits, 'key', false);
    case 'getAt':
      return first(
        keyProblem(cmd.key, limits, 'key', false),
        isCount(cmd.revision) && cmd.revision > 0
          ? OK
          : {
              ok: false,
              code: 'invalid-argument',
              message: `revision ${cmd.revision} is not a positive integer`,
            },
      );
    case 'scan': {
      const r = cmd.range;
      const rangeCheck =
        'prefix' in r
          ? keyProblem(r.prefix, limits, 'prefix', true)
          : first(
              keyProblem(r.start, limits, 'start', true),
              r.end === null ? OK : keyProblem(r.end, limits, 'end', true),
            );
      const limitCheck: CommandCheck =
        Number.isSafeInteger(cmd.limit) && cmd.limit >= 1 && cmd.limit <= limits.maxScanLimit
          ? OK
          : {
              ok: false,
              code: 'invalid-argument',
              message: `limit ${cmd.limit} is outside 1..${limits.maxScanLimit}`,
            };
      return first(
        rangeCheck,
        limitCheck,
        cmd.after === undefined ? OK : keyProblem(cmd.after, limits, 'after', false),
      );
    }
    case 'txn': {
      const problem = txnProblem(cmd, limits);
      return first(
        sessionProblem(cmd.session),
        problem === null ? OK : { ok: false, code: 'invalid-argument', message: problem },
      );
    }
    case 'registerSession':
      return OK;
    case 'keepAlive':
    case 'closeSession':
      return isCount(cmd.clientId) && cmd.clientId > 0
        ? OK
        : {
            ok: false,
            code: 'invalid-argument',
            message: `client id ${cmd.clientId} is not a positive integer`,
          };
    default: {
      const problem = leaseProblem(cmd);
      return first(
        'session' in cmd ? sessionProblem(cmd.session) : OK,
        problem === null ? OK : { ok: false, code: 'invalid-argument', message: problem },
      );
    }
  }
}

// --- encoding ------------------------------------------------------------------------------------

function writeSession(w: Writer, s: SessionRef): void {
  w.varint(s.clientId);
  w.varint(s.seq);
}

/** Writes one command (no frame header, no time) or throws an EncodeError if `checkCommand` fails. */
export function writeCommand(w: Writer, cmd: KvCommand, limits: KvLimits = DEFAULT_KV_LIMITS): void {
  const check = checkCommand(cmd, limits);
  if (!check.ok) throw new EncodeError(`${cmd.type}: ${check.message}`);
  w.u8(CommandCode[cmd.type]);
  switch (cmd.type) {
    case 'put': {
      const lease = cmd.lease ?? 0;
      w.u8((cmd.session === undefined ? 0 : F_SESSION) | (lease === 0 ? 0 : F_PUT_LEASE));
      if (cmd.session !== undefined) writeSession(w, cmd.session);
      w.lenBytes(cmd.key);
      w.lenBytes(cmd.value);
      if (lease !== 0) w.varint(lease);
      return;
    }
    case 'delete':
      w.u8(cmd.session === undefined ? 0 : F_SESSION);
      if (cmd.session !== undefined) writeSession(w, cmd.session);
      w.lenBytes(cmd.key);
      return;
    case 'cas': {
      const e = cmd.expect;
      let flags = cmd.session === undefined ? 0 : F_SESSION;
      if ('version' in e) flags |= F_CAS_VERSION;
      else if (e.value !== null) flags |= F_CAS_EXPECTED_PRESENT;
      if (cmd.value !== null) flags |= F_CAS_VALUE_PRESENT;
      w.u8(flags);
      if (cmd.session !== undefined) writeSession(w, cmd.session);
      w.lenBytes(cmd.key);
      if ('version' in e) w.varint(e.version);
      else if (e.value !== null) w.lenBytes(e.value);
      if (cmd.value !== null) w.lenBytes(cmd.value);
      return;
    }
    case 'incr': {
      const negative = cmd.delta < 0;
      w.u8((cmd.session === undefined ? 0 : F_SESSION) | (negative ? F_INCR_NEGATIVE : 0));
      if (cmd.session !== undefined) writeSession(w, cmd.session);
      w.lenBytes(cmd.key);
      w.varint(Math.abs(cmd.delta));
      return;
    }
    case 'get':
      w.lenBytes(cmd.key);
      return;
    case 'getAt':
      w.lenBytes(cmd.key);
      w.varint(cmd.revision);
      return;
    case 'scan': {
      const r = cmd.range;
      let flags = 0;
      if ('prefix' in r) flags |= F_SCAN_PREFIX;
      else if (r.end !== null) flags |= F_SCAN_END;
      if (cmd.after !== undefined) flags |= F_SCAN_AFTER;
      w.u8(flags);
      if ('prefix' in r) w.lenBytes(r.prefix);
      else {
        w.lenBytes(r.start);
        if (r.end !== null) w.lenBytes(r.end);
      }
      w.varint(cmd.limit);
      if (cmd.after !== undefined) w.lenBytes(cmd.after);
      return;
    }
    case 'txn':
      w.u8(cmd.session === undefined ? 0 : F_SESSION);
      if (cmd.session !== undefined) writeSession(w, cmd.session);
      writeTxnBody(w, cmd);
      return;
    case 'registerSession':
      return;
    case 'keepAlive':
    case 'closeSession':
      w.varint(cmd.clientId);
      return;
    default:
      writeLeaseBody(w, cmd, writeSession);
  }
}

let sharedWriter: Writer | null = null;

/** The Writer encoders use when the caller passes none (frames are never rewritten once handed out). */
export function defaultWriter(): Writer {
  sharedWriter ??= new Writer();
  return sharedWriter;
}

/** Encodes a log entry's payload: what the leader proposes. Throws EncodeError on a bad command. */
export function encodeEntry(
  entry: KvEntry,
  w: Writer = defaultWriter(),
  limits: KvLimits = DEFAULT_KV_LIMITS,
): Uint8Array {
  try {
    w.u8(ENTRY_VERSION);
    w.varint(entry.time);
    writeCommand(w, entry.command, limits);
  } catch (err) {
    w.reset();
    throw err;
  }
  return w.finish();
}

// --- decoding ------------------------------------------------------------------------------------

function readSession(r: Reader): SessionRef {
  const clientId = r.varint();
  const seq = r.varint();
  if (clientId === 0) r.fail(DecodeErrorReason.Malformed, 'client id 0');
  if (seq === 0) r.fail(DecodeErrorReason.Malformed, 'sequence number 0');
  return { clientId, seq };
}

function readKey(r: Reader, limits: KvLimits, allowEmpty = false): Uint8Array {
  const key = r.lenBytes(limits.maxKeyBytes);
  if (key.length === 0 && !allowEmpty) r.fail(DecodeErrorReason.Malformed, 'empty key');
  return key.slice();
}

function readValue(r: Reader, limits: KvLimits): Uint8Array {
  return r.lenBytes(limits.maxValueBytes).slice();
}

function readFlags(r: Reader, allowed: number): number {
  const flags = r.u8();
  if ((flags & ~allowed) !== 0)
    r.fail(DecodeErrorReason.Malformed, `unknown flag bits 0x${flags.toString(16)}`);
  return flags;
}

/** Reads one command written by `writeCommand`; throws a DecodeError on anything else. */
export function readCommand(r: Reader, limits: KvLimits = DEFAULT_KV_LIMITS): KvCommand {
  const code = r.u8();
  switch (code) {
    case CommandCode.put: {
      const flags = readFlags(r, F_SESSION | F_PUT_LEASE);
      const session = flags & F_SESSION ? readSession(r) : undefined;
      const key = readKey(r, limits);
      const value = readValue(r, limits);
      const put: PutCommand =
        flags & F_PUT_LEASE
          ? { type: 'put', key, value, lease: readLeaseId(r) }
          : { type: 'put', key, value };
      return session === undefined ? put : { ...put, session };
    }
    case CommandCode.delete: {
      const flags = readFlags(r, F_SESSION);
      const session = flags & F_SESSION ? readSession(r) : undefined;
      const key = readKey(r, limits);
      return session === undefined ? { type: 'delete', key } : { type: 'delete', key, session };
    }
    case CommandCode.cas: {
      const flags = readFlags(r, F_SESSION | F_CAS_VERSION | F_CAS_EXPECTED_PRESENT | F_CAS_VALUE_PRESENT);
      if (flags & F_CAS_VERSION && flags & F_CAS_EXPECTED_PRESENT) {
        r.fail(DecodeErrorReason.Malformed, 'cas expects both a version and a value');
      }
      const session = flags & F_SESSION ? readSession(r) : undefined;
      const key = readKey(r, limits);
      const expect: CasExpect =
        flags & F_CAS_VERSION
          ? { version: r.varint() }
          : { value: flags & F_CAS_EXPECTED_PRESENT ? readValue(r, limits) : null };
      const value = flags & F_CAS_VALUE_PRESENT ? readValue(r, limits) : null;
      return session === undefined
        ? { type: 'cas', key, expect, value }
        : { type: 'cas', key, expect, value, session };
    }
    case CommandCode.incr: {
      const flags = readFlags(r, F_SESSION | F_INCR_NEGATIVE);
      const session = flags & F_SESSION ? readSession(r) : undefined;
      const key = readKey(r, limits);
      const magnitude = r.varint();
      if (flags & F_INCR_NEGATIVE && magnitude === 0) r.fail(DecodeErrorReason.Malformed, 'delta -0');
      const delta = flags & F_INCR_NEGATIVE ? -magnitude : magnitude;
      return session === undefined ? { type: 'incr', key, delta } : { type: 'incr', key, delta, session };
    }
    case CommandCode.get:
      return { type: 'get', key: readKey(r, limits) };
    case CommandCode.getAt: {
      const key = readKey(r, limits);
      const revision = r.varint();
      if (revision === 0) r.fail(DecodeErrorReason.Malformed, 'revision 0');
      return { type: 'getAt', key, revision };
    }
    case CommandCode.scan: {
      const flags = readFlags(r, F_SCAN_PREFIX | F_SCAN_END | F_SCAN_AFTER);
      let range: ScanRange;
      if (flags & F_SCAN_PREFIX) {
        if (flags & F_SCAN_END) r.fail(DecodeErrorReason.Malformed, 'a prefix scan has no end');
        range = { prefix: readKey(r, limits, true) };
      } else {
        const start = readKey(r, limits, true);
        range = { start, end: flags & F_SCAN_END ? readKey(r, limits, true) : null };
      }
      const limit = r.count(limits.maxScanLimit, 'scan limit');
      if (limit === 0) r.fail(DecodeErrorReason.Malformed, 'scan limit 0');
      if (flags & F_SCAN_AFTER) return { type: 'scan', range, limit, after: readKey(r, limits) };
      return { type: 'scan', range, limit };
    }
    case CommandCode.registerSession:
      return { type: 'registerSession' };
    case CommandCode.keepAlive:
    case CommandCode.closeSession: {
      const clientId = r.varint();
      if (clientId === 0) r.fail(DecodeErrorReason.Malformed, 'client id 0');
      return { type: code === CommandCode.keepAlive ? 'keepAlive' : 'closeSession', clientId };
    }
    case CommandCode.txn: {
      const flags = readFlags(r, F_SESSION);
      return readTxnBody(r, limits, flags & F_SESSION ? readSession(r) : undefined);
    }
    default: {
      if (code < LeaseCommandCode.leaseGrant || code > LeaseCommandCode.leaseList) {
        return r.fail(DecodeErrorReason.UnknownType, `command type ${code}`);
      }
      const cmd: LeaseCommand = readLeaseBody(r, code, readSession);
      const problem = leaseProblem(cmd);
      if (problem !== null) r.fail(DecodeErrorReason.Malformed, problem);
      return cmd;
    }
  }
}

function readLeaseId(r: Reader): number {
  const id = r.varint();
  if (id === 0) r.fail(DecodeErrorReason.Malformed, 'lease id 0 (omit it instead)');
  return id;
}

/** Decodes a log entry's payload or throws a DecodeError. */
export function decodeEntry(bytes: Uint8Array, limits: KvLimits = DEFAULT_KV_LIMITS): KvEntry {
  const r = new Reader(bytes);
  const version = r.u8();
  if (version !== ENTRY_VERSION) {
    throw new DecodeError(
      DecodeErrorReason.Version,
      `entry version ${version}, expected ${ENTRY_VERSION}`,
      0,
    );
  }
  const time = r.varint();
  const command = readCommand(r, limits);
  r.done();
  return { time, command };
}
