import {
  DEFAULT_MAX_SESSIONS,
  DEFAULT_SESSION_TIMEOUT_MS,
  type Entry,
  type SessionLimits,
  type StateMachine,
} from '@keel/core';
import { DecodeError } from '@keel/core/codec';
import {
  type CasCommand,
  type CasExpect,
  decodeEntry,
  type IncrCommand,
  type KvCommand,
  type ReadCommand,
  type ScanRange,
  type WriteCommand,
} from './commands.js';
import { crc32 } from './crc32.js';
import type { LeaseListener } from './LeaseTable.js';
import type { LeaseGrantResult, LeaseListResult, LeaseRevokeResult } from './leaseResults.js';
import { DEFAULT_KV_LIMITS, type KvLimits } from './limits.js';
import type {
  CasResult,
  CompareFailed,
  DeleteResult,
  Failure,
  GetResult,
  IncrResult,
  KeyValue,
  KvResult,
  PutResult,
  ScanResult,
} from './results.js';
import { keyString, prefixEnd } from './SortedKeys.js';
import {
  decodeSnapshot,
  encodeSnapshot,
  encodeSnapshotInBackground,
  freeze,
  SNAPSHOT_SLICE_KEYS,
} from './snapshot.js';
import { emptyState, type KvState } from './state.js';
import { compareHolds, type TxnCommand, type TxnOpResult, type TxnResult, txnProblem } from './txn.js';
import { WatchHub, type WatchLimits } from './WatchHub.js';
import type { WatchEvent } from './watchEvents.js';

/**
 * A session unheard of for this long (in log time) expires: 10 minutes (@keel/core's
 * `SessionTable` default). `keel node --session-timeout` uses it too, since members that disagree
 * on it disagree on which sessions are alive. Long enough for a client to ride out a leader change,
 * a restart or a long pause; short enough that a crashed client's cached responses do not linger.
 * `DEFAULT_MAX_SESSIONS`: sessions kept at most; registering one more evicts the least recently active.
 */
export { DEFAULT_MAX_SESSIONS, DEFAULT_SESSION_TIMEOUT_MS };

/**
 * Settings that are part of the replicated semantics: every member must use the same values, or
 * members would disagree on which sessions are alive and which entries are valid.
 */
export interface KvStateMachineOptions {
  /** Log-time milliseconds after which an idle session expires. Default `DEFAULT_SESSION_TIMEOUT_MS` (10 minutes). */
  readonly sessionTimeoutMs?: number;
  /** Most live sessions; at the limit, a registration evicts the least recently active one. */
  readonly maxSessions?: number;
  readonly limits?: KvLimits;
  /**
   * How to yield to the event loop between slices of a snapshot's encoding, e.g.
   * `() => new Promise((r) => setImmediate(r))`. With it, `snapshot()` of a store larger than one
   * slice captures the store at once and encodes it in the background; without it (the default,
   * which keeps this package free of timers) snapshots are encoded in one go.
   */
  readonly snapshotYield?: () => Promise<void>;
  /**
   * Bounds of the member-local watch service (history window, watchers, backlogs). Not replicated
   * semantics: members may differ. Default `DEFAULT_WATCH_LIMITS`.
   */
  readonly watch?: Partial<WatchLimits>;
}

const EMPTY = new Uint8Array(0);
const DECIMAL = /^-?(0|[1-9][0-9]*)$/;
const textDecoder = new TextDecoder();
const textEncoder = new TextEncoder();

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function fail(code: Failure['code'], message: string): Failure {
  return { ok: false, code, message };
}

function leaseNotFound(id: number): Failure {
  return fail('lease-not-found', `lease ${id} does not exist (never granted, revoked or expired)`);
}

function describeExpect(e: CasExpect): string {
  if ('version' in e) return e.version === 0 ? 'absent (version 0)' : `version ${e.version}`;
  return e.value === null ? 'absent' : `a value of ${e.value.length} byte(s)`;
}

/**
 * The replicated key-value store. `apply` executes one committed log entry; every member applies
 * the same entries in the same order and, because nothing here reads a clock, a random number or
 * the environment, ends in the same state with the same results.
 *
 * Writes named by a session are executed at most once (dissertation §6.3): the session remembers
 * the last sequence number and its response, and a retry gets that response back. Session expiry
 * is decided from the time the leader stamped on each entry, so the log alone decides it.
 *
 * `get`, `scan` and `read` serve reads from local state without the log: stale reads, or
 * linearizable reads once the member's ReadIndex says this state is recent enough.
 */
export class KvStateMachine implements StateMachine<KvResult> {
  private state: KvState;
  /** `stateHash()` of the current state; dropped by every apply and restore. */
  private hash: string | null = null;
  readonly sessionTimeoutMs: number;
  readonly maxSessions: number;
  readonly limits: KvLimits;
  private readonly snapshotYield: (() => Promise<void>) | undefined;
  private readonly sessionLimits: SessionLimits;
  /** The watch service over what this member applied: events in revision order, and the watchers. */
  readonly watches: WatchHub;

  constructor(options: KvStateMachineOptions = {}) {
    this.sessionTimeoutMs = options.sessionTimeoutMs ?? DEFAULT_SESSION_TIMEOUT_MS;
    this.snapshotYield = options.snapshotYield;
    this.maxSessions = options.maxSessions ?? DEFAULT_MAX_SESSIONS;
    this.limits = options.limits ?? DEFAULT_KV_LIMITS;
    if (!(Number.isSafeInteger(this.sessionTimeoutMs) && this.sessionTimeoutMs > 0)) {
      throw new RangeError(`sessionTimeoutMs must be a positive integer, got ${this.sessionTimeoutMs}`);
    }
    if (!(Number.isSafeInteger(this.maxSessions) && this.maxSessions > 0)) {
      throw new RangeError(`maxSessions must be a positive integer, got ${this.maxSessions}`);
    }
    this.sessionLimits = { timeoutMs: this.sessionTimeoutMs, maxSessions: this.maxSessions };
    this.state = emptyState(this.sessionLimits);
    this.watches = new WatchHub(options.watch);
  }

  /** The store revision: how many writes changed a key so far. */
  get revision(): number {
    return this.state.revision;
  }

  /** Number of keys. */
  get size(): number {
    return this.state.data.size;
  }

  /** Bytes of the live keys and values (what `keel_kv_bytes` exports). */
  get bytes(): number {
    return this.state.bytes;
  }

  /** The log clock: the largest entry time applied so far. */
  get clock(): number {
    return this.state.clock;
  }

  /** Number of live sessions (expired ones are dropped as entries advance the log clock). */
  get sessionCount(): number {
    return this.state.sessions.size;
  }

  // --- the log ---------------------------------------------------------------------------------

  /** Applies one committed Normal entry. Never throws for bad entry data: it returns `invalid-command`. */
  apply(entry: Entry): KvResult {
    this.hash = null;
    let decoded: ReturnType<typeof decodeEntry>;
    try {
      decoded = decodeEntry(entry.data, this.limits);
    } catch (err) {
      if (err instanceof DecodeError) return fail('invalid-command', `entry ${entry.index}: ${err.message}`);
      throw err;
    }
    const s = this.state;
    if (decoded.time > s.clock) s.clock = decoded.time;
    s.sessions.expire(s.clock);
    return this.execute(decoded.command, entry.index);
  }

  private execute(cmd: KvCommand, index: number): KvResult {
    switch (cmd.type) {
      case 'get':
      case 'getAt':
      case 'scan':
        return this.read(cmd);
      case 'registerSession': {
        // The entry's index is unique in the log, so it names the session on every member alike.
        const r = this.state.sessions.register(index, this.state.clock);
        return r.ok ? { ok: true, type: 'registerSession', clientId: r.clientId } : r;
      }
      case 'keepAlive': {
        const r = this.state.sessions.keepAlive(cmd.clientId, this.state.clock);
        return r.ok ? { ok: true, type: 'keepAlive' } : r;
      }
      case 'closeSession': {
        const r = this.state.sessions.close(cmd.clientId, this.state.clock);
        return r.ok ? { ok: true, type: 'closeSession' } : r;
      }
      case 'leaseExpire':
        return this.revoke(cmd.id, true);
      case 'leaseKeepAlive':
      case 'leaseTimeToLive':
        return fail('invalid-command', `entry ${index}: ${cmd.type} is served by the leader, never logged`);
      case 'leaseList':
        return this.read(cmd);
      default:
        return this.executeWrite(cmd);
    }
  }

  private executeWrite(cmd: WriteCommand): KvResult {
    if (cmd.session === undefined) return this.write(cmd);
    // §6.3: a command already executed is answered from the session's cache, never executed again.
    const { clientId, seq } = cmd.session;
    return this.state.sessions.execute(clientId, seq, this.state.clock, () => this.write(cmd));
  }

  private write(cmd: WriteCommand): KvResult {
    switch (cmd.type) {
      case 'put': {
        const lease = cmd.lease ?? 0;
        if (lease !== 0 && !this.state.leases.byId.has(lease)) return leaseNotFound(lease);
        return this.put(cmd.key, cmd.value, undefined, lease);
      }
      case 'leaseGrant': {
        const id = this.state.leases.grant(cmd.ttlSeconds);
        this.leaseListener?.granted(id, cmd.ttlSeconds);
        return { ok: true, type: 'leaseGrant', id, ttlSeconds: cmd.ttlSeconds } satisfies LeaseGrantResult;
      }
      case 'leaseRevoke':
        return this.revoke(cmd.id, false);
      case 'delete':
        return this.delete(cmd.key);
      case 'cas':
        return this.cas(cmd);
      case 'incr':
        return this.incr(cmd);
      case 'txn':
        return this.txn(cmd);
    }
  }

  /** Events of the transaction being applied (its writes share one revision), or null. */
  private txnEvents: WatchEvent[] | null = null;

  private emit(e: WatchEvent): void {
    if (this.txnEvents !== null) this.txnEvents.push(e);
    else this.watches.record([e]);
  }

  /** Compares against the store as it is, then runs one branch; all its writes at one new revision. */
  private txn(cmd: TxnCommand): TxnResult | Failure {
    const problem = txnProblem(cmd, this.limits);
    if (problem !== null) return fail('invalid-command', `txn: ${problem}`);
    const s = this.state;
    const succeeded = cmd.compare.every((c) => compareHolds(c, this.get(c.key)));
    for (const op of succeeded ? cmd.success : cmd.failure) {
      if (op.type === 'put' && op.lease !== undefined && op.lease !== 0 && !s.leases.byId.has(op.lease)) {
        return leaseNotFound(op.lease);
      }
    }
    const at = s.revision + 1;
    const results: TxnOpResult[] = [];
    // All range results of one transaction share one scan's budget (items and about its bytes).
    let items = 0;
    let bytes = 0;
    this.txnEvents = [];
    try {
      for (const op of succeeded ? cmd.success : cmd.failure) {
        if (op.type === 'put')
          results.push({ type: 'put', version: this.put(op.key, op.value, at, op.lease ?? 0).version });
        else if (op.type === 'delete')
          results.push({ type: 'delete', deleted: this.delete(op.key, at).deleted });
        else if (op.type === 'get') results.push({ type: 'get', kv: this.get(op.key) });
        else if (items >= this.limits.maxScanLimit || bytes >= this.limits.maxScanBytes) {
          results.push({ type: 'range', items: [], more: true });
        } else {
          const page = this.scan(op.range, Math.min(op.limit, this.limits.maxScanLimit - items));
          items += page.items.length;
          for (const kv of page.items) bytes += kv.key.length + kv.value.length;
          results.push({ type: 'range', items: page.items, more: page.more });
        }
      }
      if (this.txnEvents.length > 0) {
        s.revision = at;
        this.watches.record(this.txnEvents);
      }
    } finally {
      this.txnEvents = null;
    }
    return { ok: true, type: 'txn', succeeded, revision: s.revision, results };
  }

  private incr(cmd: IncrCommand): IncrResult | Failure {
    const current = this.state.data.get(keyString(cmd.key));
    let n = 0;
    if (current !== undefined) {
      const text = textDecoder.decode(current.value);
      if (!DECIMAL.test(text) || !Number.isSafeInteger(Number(text))) {
        return fail(
          'not-an-integer',
          `the key holds ${current.value.length} byte(s) that are not a decimal integer`,
        );
      }
      n = Number(text);
    }
    const value = n + cmd.delta;
    if (!Number.isSafeInteger(value)) {
      return fail('not-an-integer', `${n} + ${cmd.delta} leaves the safe integer range`);
    }
    const put = this.put(cmd.key, textEncoder.encode(String(value)));
    return { ok: true, type: 'incr', revision: put.revision, version: put.version, value };
  }

  /**
   * `at`: the revision of the transaction this put is part of (the caller moves the store's
   * revision). `lease`: the lease to attach the key to (the caller checked it exists); 0 detaches it.
   */
  private put(key: Uint8Array, value: Uint8Array, at?: number, lease = 0): PutResult {
    const s = this.state;
    const ks = keyString(key);
    const current = s.data.get(ks);
    const revision = at ?? ++s.revision;
    let kv: KeyValue;
    if (current === undefined) {
      kv = { key, value, version: 1, createRevision: revision, modRevision: revision };
      s.index.insert(ks);
      s.bytes += key.length + value.length;
    } else {
      s.bytes += value.length - current.value.length;
      kv = {
        key: current.key,
        value,
        version: current.version + 1,
        createRevision: current.createRevision,
        modRevision: revision,
      };
    }
    if (lease !== 0) kv = { ...kv, lease };
    s.leases.move(ks, current?.lease ?? 0, lease);
    this.remember(s, ks, current);
    s.data.set(ks, kv);
    this.emit({ type: 'put', kv, prev: current ?? null });
    return { ok: true, type: 'put', revision, version: kv.version };
  }

  private delete(key: Uint8Array, at?: number): DeleteResult {
    const s = this.state;
    const ks = keyString(key);
    const old = s.data.get(ks);
    if (old === undefined) return { ok: true, type: 'delete', revision: s.revision, deleted: false };
    this.remember(s, ks, old);
    s.data.delete(ks);
    s.leases.move(ks, old.lease ?? 0, 0);
    s.bytes -= old.key.length + old.value.length;
    s.index.delete(ks);
    const revision = at ?? ++s.revision;
    this.emit({
      type: 'delete',
      kv: { key: old.key, value: EMPTY, version: 0, createRevision: 0, modRevision: revision },
      prev: old,
    });
    return { ok: true, type: 'delete', revision, deleted: true };
  }

  /**
   * Deletes every key of the lease at one new revision (watchers get the deletes in one batch) and
   * drops the lease. An unknown lease is not an error: it may have expired first.
   */
  private revoke(id: number, expired: boolean): LeaseRevokeResult {
    const s = this.state;
    const lease = s.leases.byId.get(id);
    if (lease === undefined) return { ok: true, type: 'leaseRevoke', revoked: false, revision: s.revision };
    // Byte order, not attachment order: a member that restored a snapshot attached them in another.
    const keys = [...lease.keys].sort();
    const at = s.revision + 1;
    this.txnEvents = [];
    try {
      for (const ks of keys) this.delete(s.data.get(ks)!.key, at);
      if (this.txnEvents.length > 0) {
        s.revision = at;
        this.watches.record(this.txnEvents);
      }
    } finally {
      this.txnEvents = null;
    }
    s.leases.byId.delete(id);
    if (expired) this.leasesExpired++;
    this.leaseListener?.removed(id);
    return { ok: true, type: 'leaseRevoke', revoked: true, revision: s.revision };
  }

  // --- leases ----------------------------------------------------------------------------------

  private leaseListener: LeaseListener | null = null;
  /** Leases this member saw expire (`leaseExpire` entries that removed one): a member-local count. */
  leasesExpired = 0;

  /** Tells `listener` about every lease granted, revoked, expired or restored from here on. */
  onLeases(listener: LeaseListener): () => void {
    this.leaseListener = listener;
    return () => {
      if (this.leaseListener === listener) this.leaseListener = null;
    };
  }

  /** Live leases. */
  get leaseCount(): number {
    return this.state.leases.size;
  }

  /** A lease's TTL and attached keys (in byte order), or null. */
  lease(id: number): { readonly ttlSeconds: number; readonly keys: readonly Uint8Array[] } | null {
    const l = this.state.leases.byId.get(id);
    if (l === undefined) return null;
    const keys = [...l.keys].sort().map((ks) => this.state.data.get(ks)!.key);
    return { ttlSeconds: l.ttlSeconds, keys };
  }

  /** Every live lease, by id. */
  leases(): LeaseListResult {
    const leases = [...this.state.leases.byId]
      .map(([id, l]) => ({ id, ttlSeconds: l.ttlSeconds }))
      .sort((a, b) => a.id - b.id);
    return { ok: true, type: 'leaseList', leases };
  }

  private cas(cmd: CasCommand): CasResult | CompareFailed {
    const s = this.state;
    const current = s.data.get(keyString(cmd.key)) ?? null;
    const e = cmd.expect;
    const holds =
      'version' in e
        ? (current?.version ?? 0) === e.version
        : e.value === null
          ? current === null
          : current !== null && bytesEqual(current.value, e.value);
    if (!holds) {
      const found = current === null ? 'absent' : `version ${current.version}`;
      return {
        ok: false,
        code: 'compare-failed',
        message: `expected ${describeExpect(e)}, found ${found}`,
        revision: s.revision,
        current,
      };
    }
    if (cmd.value !== null) {
      const put = this.put(cmd.key, cmd.value);
      return { ok: true, type: 'cas', revision: put.revision, version: put.version };
    }
    const del = this.delete(cmd.key);
    return { ok: true, type: 'cas', revision: del.revision, version: 0 };
  }

  // --- local reads -----------------------------------------------------------------------------

  /** The key as stored here, or null. Its byte fields are shared with the store: do not mutate. */
  get(key: Uint8Array): KeyValue | null {
    return this.state.data.get(keyString(key)) ?? null;
  }

  /**
   * Keys in `range` in byte order, at most `limit` (clamped to 1..maxScanLimit) and about
   * `maxScanBytes` of keys and values; `after` continues from a previous page's last key.
   */
  scan(range: ScanRange, limit: number, after?: Uint8Array): ScanResult {
    const s = this.state;
    let from: string;
    let to: string | null;
    if ('prefix' in range) {
      from = keyString(range.prefix);
      to = prefixEnd(from);
    } else {
      from = keyString(range.start);
      to = range.end === null ? null : keyString(range.end);
    }
    let exclusive = false;
    if (after !== undefined) {
      const a = keyString(after);
      if (a >= from) {
        from = a;
        exclusive = true;
      }
    }
    const max = Number.isFinite(limit)
      ? Math.min(Math.max(1, Math.floor(limit)), this.limits.maxScanLimit)
      : 1;
    const budget = this.limits.maxScanBytes;
    const items: KeyValue[] = [];
    let bytes = 0;
    let more = false;
    s.index.forEachInRange(from, exclusive, to, (k) => {
      const kv = s.data.get(k)!;
      const size = kv.key.length + kv.value.length;
      if (items.length === max || (items.length > 0 && bytes + size > budget)) {
        more = true;
        return false;
      }
      items.push(kv);
      bytes += size;
      return true;
    });
    return { ok: true, type: 'scan', revision: s.revision, items, more };
  }

  /**
   * The key as it was at `revision`, rebuilt from the watch history: the previous value of the
   * first change after `revision`, or the key as it is when nothing changed it since. Needs the
   * window to cover every revision after `revision`.
   */
  getAt(key: Uint8Array, revision: number): GetResult | Failure {
    const s = this.state;
    const h = this.watches.history;
    if (revision > s.revision) {
      return fail('future-revision', `revision ${revision} is past the store's revision ${s.revision}`);
    }
    if (revision < h.start - 1) {
      return fail(
        'compacted',
        `revision ${revision} is compacted on this member: the oldest revision available is ${h.start - 1}`,
      );
    }
    const ks = keyString(key);
    for (let r = revision + 1; r <= h.end; r++) {
      for (const e of h.at(r)!) {
        if (keyString(e.kv.key) === ks) return { ok: true, type: 'get', revision, kv: e.prev };
      }
    }
    return { ok: true, type: 'get', revision, kv: this.get(key) };
  }

  /** Executes a read command against local state (what `apply` does for reads sent through the log). */
  read(cmd: ReadCommand): GetResult | ScanResult | LeaseListResult | Failure {
    if (cmd.type === 'leaseList') return this.leases();
    if (cmd.type === 'get')
      return { ok: true, type: 'get', revision: this.state.revision, kv: this.get(cmd.key) };
    if (cmd.type === 'getAt') return this.getAt(cmd.key, cmd.revision);
    return this.scan(cmd.range, cmd.limit, cmd.after);
  }

  // --- snapshots -------------------------------------------------------------------------------

  /** The whole store (keys, sessions, revision, log clock) as checksummed bytes. */
  snapshotBytes(): Uint8Array {
    return encodeSnapshot(this.state, this.limits);
  }

  /**
   * The store as of now, for Raft snapshots: captured at the call, encoded in the background in
   * slices, as chunks whose concatenation is `snapshotBytes()`, so a large store does not stall
   * the member. Small stores (below one slice) are encoded at once, as one buffer.
   */
  snapshot(): Uint8Array | Promise<Uint8Array[]> {
    const pause = this.snapshotYield;
    if (pause === undefined || this.shadow !== null || this.state.data.size <= SNAPSHOT_SLICE_KEYS) {
      return this.snapshotBytes();
    }
    // Copy-on-write: freeze the key order now; from here until the encoding ends, every write
    // first records the value its key had (null: absent), and the encoder reads through that.
    const state = this.state;
    const before = new Map<string, KeyValue | null>();
    this.shadow = { state, before };
    const valueAt = (ks: string): KeyValue => {
      const kv = before.has(ks) ? before.get(ks) : state.data.get(ks);
      if (kv == null) throw new Error(`snapshot: key ${ks} vanished from the frozen state`);
      return kv;
    };
    return encodeSnapshotInBackground(freeze(state), valueAt, pause, this.limits).finally(() => {
      if (this.shadow?.before === before) this.shadow = null;
    });
  }

  /** The background snapshot's copy-on-write record, while one is being encoded. */
  private shadow: { readonly state: KvState; readonly before: Map<string, KeyValue | null> } | null = null;

  private remember(s: KvState, ks: string, old: KeyValue | undefined): void {
    const sh = this.shadow;
    if (sh !== null && sh.state === s && !sh.before.has(ks)) sh.before.set(ks, old ?? null);
  }

  /**
   * Replaces the whole store with a snapshot. Validates everything first: on a `SnapshotError` the
   * current state is left as it was.
   */
  restore(bytes: Uint8Array): void {
    this.state = decodeSnapshot(bytes, this.limits, this.sessionLimits);
    this.hash = null;
    this.watches.reset(this.state.revision);
    this.leaseListener?.reset();
  }

  /**
   * A fingerprint of the whole state (keys, sessions, revision, log clock): CRC-32 of the snapshot
   * bytes, as 8 hex digits. Members that applied the same log prefix report the same hash, so
   * comparing it with the applied index tells whether replicas converged. Computed on demand and
   * cached until the next apply or restore: a scrape costs one snapshot encoding per change.
   */
  stateHash(): string {
    this.hash ??= crc32(this.snapshotBytes()).toString(16).padStart(8, '0');
    return this.hash;
  }
}
