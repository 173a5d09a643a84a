/**
 * The network client of the store. It talks to members through `ClientChannel`s it opens with the
 * injected `connect`, so this package needs no network library (apps pass
 * `(a) => new ClientConnection({ address: \`tcp://${a}\` })` from `@keel/transport-zmq`).
 *
 * Any member serves any request: followers forward writes to the leader and serve linearizable
 * reads with a ReadIndex round through it (dissertation §6.4), so the client only has to find a
 * member that answers. It sticks to the last endpoint that answered and moves on when a member is
 * silent, stopping, or without a leader, until the operation's deadline.
 *
 * Writes are exactly-once under retries (dissertation §6.3): with sessions on (the default), each
 * write carries `{clientId, seq}` and every retry of it repeats the same `seq`, so the store executes
 * it once and answers retries from its cache. A session allows one write in flight, so the client
 * keeps a small pool of sessions (`sessions`, default 8) and queues further writes in arrival order.
 *
 * Members known down (their channel reports `down`) are skipped; a request that gets no answer
 * within a short adaptive delay (see `HedgeDelay`) is sent to the next live member as well when
 * that is safe — reads, and writes under a session (executed once whatever the copies) — never a
 * write without a session. A `not-leader` or `stopped` answer with a leader hint is retried there
 * at once. Errors say what became of the operation (`KvClientError.outcome`).
 *
 * Unlike the state machine, this file is the I/O edge of the package: it reads the clock and sets
 * timers (the purity test exempts it from those rules only).
 */
import {
  ChannelErrorCode,
  type ClientChannel,
  InvalidMemberIdError,
  isValidMemberId,
  type NodeId,
} from '@keel/core';
import {
  checkCommand,
  isLeaseLeaderCommand,
  isReadCommand,
  type KvCommand,
  type ScanRange,
  type SessionRef,
  type WriteCommand,
} from './commands.js';
import { HedgeDelay } from './HedgeDelay.js';
import { KvClientError, KvClientErrorCode, type KvOutcome } from './KvClientError.js';
import type {
  Bytes,
  CallOptions,
  CasExpectInput,
  KvClientOptions,
  PutOptions,
  ReadOptions,
  ScanOptions,
  ScanPage,
  ScanRangeInput,
} from './KvClientOptions.js';
import type { LeaseKeepAlive, LeaseRevoked, LeaseTtl } from './KvLeases.js';
import * as leases from './KvLeases.js';
import { type WatchBatch, type WatchOptions, watchStream } from './KvWatch.js';
import type { LeaseGrant } from './leaseResults.js';
import { DEFAULT_KV_LIMITS, type KvLimits } from './limits.js';
import { decodeResponse, encodeRequest, type KvResponse, ReadConsistency } from './protocol.js';
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
} from './results.js';
import type { TxnResult } from './txn.js';
import { type TxnInput, txnCommand } from './txnInput.js';

const DEFAULT_TIMEOUT_MS = 10_000;
const DEFAULT_ATTEMPT_TIMEOUT_MS = 3000;
const DEFAULT_SESSIONS = 8;
const DEFAULT_SCAN_LIMIT = 1000;
const DEFAULT_BACKOFF = { min: 10, max: 500 } as const;
/** `close()` gives its best-effort closeSession requests this long. */
const CLOSE_SESSION_MS = 500;

const encoder = new TextEncoder();
const bytes = (b: Bytes): Uint8Array => (typeof b === 'string' ? encoder.encode(b) : b);

interface Session {
  readonly clientId: number;
  nextSeq: number;
}

/** A write or read waiting for a session (resolves null: "register one yourself"). */
interface Waiter {
  readonly resolve: (s: Session | null) => void;
  readonly reject: (err: Error) => void;
}

/** What one attempt at one member came to (`notSent`: the channel knows it never left). */
type Attempt =
  | { readonly kind: 'response'; readonly response: KvResponse }
  | { readonly kind: 'no-answer'; readonly message: string; readonly notSent: boolean }
  | { readonly kind: 'garbled'; readonly message: string };

const DEFAULT_HEDGE_DELAY = { min: 20, max: 1000 } as const;
/** Hedge delay before the client has seen enough answers to know the cluster's latency. */
const HEDGE_FALLBACK_MS = 200;

/** Per-operation bookkeeping that decides which error to give up with. */
interface Progress {
  attempts: number;
  /** Some member answered (so the cluster is reachable). */
  answered: boolean;
  /** Some attempt of this write may have reached the state machine. */
  mayHaveApplied: boolean;
  lastProblem: string;
}

export class KvClient {
  private readonly endpoints: readonly string[];
  private readonly connect: (address: string) => ClientChannel;
  private readonly members: ReadonlyMap<NodeId, number>;
  private readonly timeoutMs: number;
  private readonly attemptTimeoutMs: number;
  private readonly useSessions: boolean;
  private readonly retryUnknownWrites: boolean;
  private readonly maxSessions: number;
  private readonly backoff: { readonly min: number; readonly max: number };
  private readonly limits: KvLimits;
  private readonly hedge: boolean;
  private readonly hedgeDelay: HedgeDelay;
  private readonly channels = new Map<number, ClientChannel>();
  /** The endpoint that answered last; the next operation starts there (the first one at first). */
  private preferred = 0;
  private closed = false;
  private readonly idle: Session[] = [];
  private busy = 0;
  private registering = 0;
  private readonly waiters: Waiter[] = [];

  constructor(options: KvClientOptions) {
    if (options.endpoints.length === 0) {
      throw new KvClientError(KvClientErrorCode.BadRequest, 'KvClient needs at least one endpoint');
    }
    this.endpoints = [...options.endpoints];
    this.connect = options.connect;
    const members = new Map<NodeId, number>();
    for (const [id, endpoint] of options.members ?? []) {
      if (!isValidMemberId(id))
        throw new KvClientError(KvClientErrorCode.BadRequest, new InvalidMemberIdError(id).message);
      const i = this.endpoints.indexOf(endpoint);
      if (i >= 0) members.set(id, i);
    }
    this.members = members;
    this.timeoutMs = positive(options.timeoutMs, DEFAULT_TIMEOUT_MS, 'timeoutMs');
    this.attemptTimeoutMs = positive(
      options.attemptTimeoutMs,
      DEFAULT_ATTEMPT_TIMEOUT_MS,
      'attemptTimeoutMs',
    );
    this.useSessions = options.session ?? true;
    this.retryUnknownWrites = options.retryUnknownWrites ?? true;
    this.maxSessions = positive(options.sessions, DEFAULT_SESSIONS, 'sessions');
    this.backoff = options.backoffMs ?? DEFAULT_BACKOFF;
    this.limits = options.limits ?? DEFAULT_KV_LIMITS;
    this.hedge = options.hedge ?? true;
    this.hedgeDelay = new HedgeDelay(options.hedgeDelayMs ?? DEFAULT_HEDGE_DELAY, HEDGE_FALLBACK_MS);
  }

  // --- the operations ---------------------------------------------------------------------------

  /** `lease`: attach the key to that lease; a lease that does not exist throws `lease-not-found`. */
  async put(key: Bytes, value: Bytes, options: PutOptions = {}): Promise<PutResult> {
    const k = bytes(key);
    const v = bytes(value);
    const lease = options.lease ?? 0;
    const put =
      lease === 0
        ? ({ type: 'put', key: k, value: v } as const)
        : ({ type: 'put', key: k, value: v, lease } as const);
    const r = await this.write((session) => withSession(put, session), options);
    if (!r.ok && r.code === 'lease-not-found')
      throw new KvClientError(KvClientErrorCode.LeaseNotFound, r.message);
    return expectType(r, 'put');
  }

  // --- leases: grantLease, revokeLease, keepAliveOnce, keepAlive, leaseTimeToLive, leases ----------
  // (documented in KvLeases.ts; `leases()` is a linearizable read of the applied state, any member)

  private readonly leaseOps: leases.LeaseOps = {
    write: (build, options) => this.write(build, options),
    query: (command, options) =>
      this.call(command, 'linearizable', now() + (options.timeoutMs ?? this.timeoutMs), newProgress()),
    timeoutMs: () => this.timeoutMs,
  };
  grantLease = (ttlSeconds: number, options?: CallOptions): Promise<LeaseGrant> =>
    leases.grantLease(this.leaseOps, ttlSeconds, options);
  revokeLease = (id: number, options?: CallOptions): Promise<LeaseRevoked> =>
    leases.revokeLease(this.leaseOps, id, options);
  keepAliveOnce = (id: number, options?: CallOptions): Promise<LeaseGrant> =>
    leases.keepAliveOnce(this.leaseOps, id, options);
  keepAlive = (id: number, options?: { signal?: AbortSignal }): LeaseKeepAlive =>
    leases.keepAlive(this.leaseOps, id, options);
  leaseTimeToLive = (id: number, options?: CallOptions & { keys?: boolean }): Promise<LeaseTtl | null> =>
    leases.leaseTimeToLive(this.leaseOps, id, options);
  leases = (options?: CallOptions): Promise<readonly LeaseGrant[]> =>
    leases.listLeases(this.leaseOps, options);

  async delete(key: Bytes, options: CallOptions = {}): Promise<DeleteResult> {
    const k = bytes(key);
    const r = await this.write((session) => withSession({ type: 'delete', key: k }, session), options);
    return expectType(r, 'delete');
  }

  /**
   * Compare-and-swap: writes `value` (null deletes the key) only if the key matches `expect`.
   * A failed comparison is a result (`{ ok: false, code: 'compare-failed', current }`), not an error.
   */
  async cas(
    key: Bytes,
    expect: CasExpectInput,
    value: Bytes | null,
    options: CallOptions = {},
  ): Promise<CasResult | CompareFailed> {
    const k = bytes(key);
    const e = 'version' in expect ? { version: expect.version } : { value: nullable(expect.value) };
    const v = nullable(value);
    const r = await this.write(
      (session) => withSession({ type: 'cas', key: k, expect: e, value: v }, session),
      options,
    );
    if (!r.ok && r.code === 'compare-failed') return r;
    return expectType(r, 'cas');
  }

  /**
   * Adds `delta` (default 1; negative decrements) to a key holding a decimal integer, an absent key
   * counting as 0, and returns the new value. With sessions on (the default) a retried increment is
   * counted once. A key holding anything else is a result (`{ ok: false, code: 'not-an-integer' }`).
   */
  async incr(key: Bytes, delta = 1, options: CallOptions = {}): Promise<IncrResult | Failure> {
    const k = bytes(key);
    const r = await this.write((session) => withSession({ type: 'incr', key: k, delta }, session), options);
    if (!r.ok && r.code === 'not-an-integer') return r;
    return expectType(r, 'incr');
  }

  /** Reads one key; `kv` is null when it is absent. */
  async get(key: Bytes, options: ReadOptions = {}): Promise<GetResult> {
    const r = await this.read({ type: 'get', key: bytes(key) }, options);
    return expectType(r, 'get');
  }

  /** One page of keys in byte order. */
  /**
   * The key as it was at `revision`, from the answering member's history window: a `compacted`
   * result when the window no longer reaches back that far, `future-revision` past the store's.
   */
  async getAt(key: Bytes, revision: number, options: ReadOptions = {}): Promise<GetResult | Failure> {
    const r = await this.read({ type: 'getAt', key: bytes(key), revision }, options);
    if (!r.ok && (r.code === 'compacted' || r.code === 'future-revision')) return r;
    return expectType(r, 'get');
  }

  async scan(range: ScanRangeInput, options: ScanOptions = {}): Promise<ScanPage> {
    const limit = options.limit ?? DEFAULT_SCAN_LIMIT;
    const r = expectType(
      await this.read(
        {
          type: 'scan',
          range: scanRange(range),
          limit,
          ...(options.after === undefined ? {} : { after: bytes(options.after) }),
        },
        options,
      ),
      'scan',
    );
    const last = r.items[r.items.length - 1];
    return {
      revision: r.revision,
      items: r.items,
      more: r.more,
      after: last === undefined ? null : last.key,
    };
  }

  /**
   * Every page of a range, following `more`. Each page is a separate read: together they are not
   * one snapshot, but every key is visited once, in order, even when keys change between pages.
   */
  async *scanPages(range: ScanRangeInput, options: ScanOptions = {}): AsyncGenerator<ScanPage> {
    let after: Bytes | undefined = options.after;
    for (;;) {
      const page = await this.scan(range, { ...options, ...(after === undefined ? {} : { after }) });
      yield page;
      if (!page.more || page.after === null) return;
      after = page.after;
    }
  }

  /** Every item of a range, as one array (see `scanPages`). */
  async scanAll(range: ScanRangeInput, options: ScanOptions = {}): Promise<KeyValue[]> {
    const items: KeyValue[] = [];
    for await (const page of this.scanPages(range, options)) items.push(...page.items);
    return items;
  }

  /**
   * Closes the sessions it can in a short moment (best effort: unclosed sessions expire on their
   * own) and every channel. Operations still running fail with `KEEL_CLIENT_CLOSED`.
   */
  /** A transaction (txn.ts): compares, then the `success` or `failure` operations, atomically at one revision. */
  async txn(t: TxnInput, options: CallOptions = {}): Promise<TxnResult> {
    const cmd = txnCommand(t);
    const r = await this.write((session) => withSession(cmd, session), options);
    if (!r.ok && r.code === 'lease-not-found')
      throw new KvClientError(KvClientErrorCode.LeaseNotFound, r.message);
    return expectType(r, 'txn');
  }

  /**
   * Watches a key, or every key under a prefix (`prefix: true`), from `fromRevision` (default: the
   * next revision): batches of events in revision order, each event exactly once, resumed on
   * another member after a failure (see KvWatch.ts). Ends on `signal` or `close()`.
   */
  watch(keyOrPrefix: Bytes, options: WatchOptions = {}): AsyncGenerator<WatchBatch, void, undefined> {
    return watchStream(
      {
        endpoints: this.endpoints,
        timeoutMs: this.timeoutMs,
        attemptTimeoutMs: this.attemptTimeoutMs,
        closed: () => this.closed,
        request: (target, payload, timeoutMs) => this.channel(target).request(payload, { timeoutMs }),
        pause: (failures) => this.pause(failures),
      },
      keyOrPrefix,
      options,
    );
  }

  async close(): Promise<void> {
    if (this.closed) return;
    const sessions = this.idle.splice(0);
    const deadline = now() + CLOSE_SESSION_MS;
    await Promise.allSettled(
      sessions.map((s) =>
        this.call({ type: 'closeSession', clientId: s.clientId }, 'linearizable', deadline, newProgress()),
      ),
    );
    this.closed = true;
    for (const w of this.waiters.splice(0)) w.reject(closedError());
    const channels = [...this.channels.values()];
    this.channels.clear();
    await Promise.allSettled(channels.map((c) => c.close()));
  }

  // --- writes and sessions ----------------------------------------------------------------------

  private async read(command: KvCommand, options: ReadOptions): Promise<KvResult> {
    const deadline = now() + (options.timeoutMs ?? this.timeoutMs);
    return this.call(command, options.consistency ?? ReadConsistency.Linearizable, deadline, newProgress());
  }

  private async write(
    build: (session: SessionRef | undefined) => WriteCommand,
    options: CallOptions,
  ): Promise<KvResult> {
    const deadline = now() + (options.timeoutMs ?? this.timeoutMs);
    // Checked before a session is taken (or registered) for it.
    this.check(build(undefined));
    if (!this.useSessions) return this.call(build(undefined), 'linearizable', deadline, newProgress());
    for (;;) {
      const session = await this.acquire(deadline);
      // A retry repeats this seq (inside `call`), so the store executes the write once (§6.3).
      const ref = { clientId: session.clientId, seq: session.nextSeq++ };
      const progress = newProgress();
      let r: KvResult;
      try {
        r = await this.call(build(ref), 'linearizable', deadline, progress);
      } catch (err) {
        this.release(session);
        throw err;
      }
      if (!r.ok && (r.code === 'session-expired' || r.code === 'unknown-session')) {
        this.discard();
        if (progress.mayHaveApplied) {
          throw new KvClientError(
            KvClientErrorCode.SessionExpired,
            `session ${session.clientId} expired while write ${ref.seq} was being retried; it may or may not have been applied`,
            { outcome: 'unknown', attempts: progress.attempts },
          );
        }
        continue; // Certainly not executed: run it again under a new session.
      }
      if (!r.ok && r.code === 'stale-sequence') {
        this.discard();
        throw new KvClientError(
          KvClientErrorCode.Protocol,
          `session ${session.clientId} rejected seq ${ref.seq} as stale; its outcome is unknown`,
          { outcome: 'unknown', attempts: progress.attempts },
        );
      }
      this.release(session);
      return r;
    }
  }

  /** An idle session, a new one (up to `sessions`), or a place in the queue. */
  private async acquire(deadline: number): Promise<Session> {
    for (;;) {
      if (this.closed) throw closedError();
      const idle = this.idle.pop();
      if (idle !== undefined) {
        this.busy++;
        return idle;
      }
      if (this.busy + this.registering < this.maxSessions) return this.register(deadline);
      const handed = await this.waitForSession(deadline);
      if (handed !== null) return handed;
    }
  }

  private async register(deadline: number): Promise<Session> {
    this.registering++;
    try {
      const r = await this.call({ type: 'registerSession' }, 'linearizable', deadline, newProgress());
      const { clientId } = expectType(r, 'registerSession');
      this.busy++;
      return { clientId, nextSeq: 1 };
    } catch (err) {
      // Someone queued behind us may still have time to register.
      this.waiters.shift()?.resolve(null);
      throw err;
    } finally {
      this.registering--;
    }
  }

  private waitForSession(deadline: number): Promise<Session | null> {
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        resolve: (s) => {
          clearTimeout(timer);
          resolve(s);
        },
        reject: (err) => {
          clearTimeout(timer);
          reject(err);
        },
      };
      const timer = setTimeout(
        () => {
          const i = this.waiters.indexOf(waiter);
          if (i >= 0) this.waiters.splice(i, 1);
          reject(
            new KvClientError(
              KvClientErrorCode.Timeout,
              `no session free within the deadline (${this.maxSessions} writes in flight); the write was not sent`,
            ),
          );
        },
        Math.max(0, deadline - now()),
      );
      this.waiters.push(waiter);
    });
  }

  private release(session: Session): void {
    const next = this.waiters.shift();
    if (next !== undefined) next.resolve(session);
    else {
      this.busy--;
      this.idle.push(session);
    }
  }

  /** The session in hand is gone: free its slot, and let a queued write register a new one. */
  private discard(): void {
    this.busy--;
    this.waiters.shift()?.resolve(null);
  }

  // --- one operation against the cluster --------------------------------------------------------

  private async call(
    command: KvCommand,
    consistency: ReadConsistency,
    deadline: number,
    progress: Progress,
  ): Promise<KvResult> {
    this.check(command);
    const payload = encodeRequest({ command, consistency }, undefined, this.limits).slice();
    const isWrite = !isReadCommand(command) && !isLeaseLeaderCommand(command);
    // A copy of a read changes nothing; a copy of a session write is executed once (§6.3).
    const hedgeable = this.hedge && (!isWrite || 'session' in command);
    // At-most-once: with sessions off, a write is not sent again once it may have run.
    const atMostOnce = isWrite && !this.useSessions && !this.retryUnknownWrites;
    let target = this.preferred;
    let failures = 0;
    for (;;) {
      if (this.closed) throw closedError(progress, isWrite);
      const remaining = deadline - now();
      if (remaining <= 0) throw this.giveUp(command, progress, isWrite);
      target = this.live(target);
      const tried = await this.attemptHedged(
        target,
        payload,
        Math.min(remaining, this.attemptTimeoutMs),
        hedgeable,
        progress,
      );
      for (const t of tried.all) this.note(t.attempt, progress, isWrite);
      const { attempt } = tried.best;
      target = tried.best.target;
      const endpoint = this.endpoints[target] as string;
      let pause = true;
      if (attempt.kind === 'response' && attempt.response.kind === 'result') {
        this.preferred = target;
        return attempt.response.result;
      }
      if (attempt.kind === 'no-answer') {
        progress.lastProblem = `${endpoint}: ${attempt.message}`;
        target = this.next(target);
        // Not sent: the member is down; go on at once unless every member is. Sent and silent:
        // back off once around the ring.
        pause = attempt.notSent ? this.allDown() : failures >= this.endpoints.length - 1;
      } else if (attempt.kind === 'garbled') {
        throw new KvClientError(
          KvClientErrorCode.Protocol,
          `${endpoint} answered with a reply that does not decode: ${attempt.message}`,
          { outcome: isWrite ? 'unknown' : 'not-applied', attempts: progress.attempts },
        );
      } else {
        const error = attempt.response;
        if (error.kind !== 'error') throw new Error('unreachable');
        progress.lastProblem = `${endpoint}: ${error.code}${error.message === '' ? '' : ` (${error.message})`}`;
        const hinted = error.leaderHint === null ? undefined : this.members.get(error.leaderHint);
        const goHinted = hinted !== undefined && hinted !== target && !this.down(hinted);
        switch (error.code) {
          case 'not-leader':
          case 'stopped':
            // A hint is a place to go now; no hint (an election is running, or the member is
            // stopping): try the next member, pausing once every member has been tried.
            target = goHinted ? hinted : this.next(target);
            pause = !goHinted && (error.code === 'not-leader' || failures >= this.endpoints.length - 1);
            break;
          case 'timeout':
            target = goHinted ? hinted : this.next(target);
            break;
          case 'proposal-dropped':
          case 'busy':
            break; // Not executed; the same member will know better after a pause.
          case 'bad-request':
            throw new KvClientError(
              KvClientErrorCode.BadRequest,
              `${endpoint} refused the request: ${error.message}`,
              { attempts: progress.attempts, outcome: outcomeOf(progress, isWrite) },
            );
          case 'unsupported':
            throw new KvClientError(KvClientErrorCode.Unsupported, `${endpoint}: ${error.message}`, {
              attempts: progress.attempts,
              outcome: outcomeOf(progress, isWrite),
            });
        }
      }
      if (atMostOnce && progress.mayHaveApplied) {
        throw new KvClientError(
          KvClientErrorCode.OutcomeUnknown,
          `${command.type}: ${progress.lastProblem}; it may or may not have been applied (not retried: no session)`,
          { outcome: 'unknown', attempts: progress.attempts },
        );
      }
      // Operations starting meanwhile should not begin where this one just failed (a stopping
      // member, one that is down, a follower that does not forward).
      if (tried.best.target === this.preferred) this.preferred = target;
      failures++;
      if (pause) await sleep(Math.min(this.pause(failures), Math.max(0, deadline - now())));
    }
  }

  /** What an attempt tells about the operation: was the cluster reached, may a write have run? */
  private note(attempt: Attempt, progress: Progress, isWrite: boolean): void {
    if (attempt.kind === 'no-answer') {
      // Sent and unanswered: it may have reached the leader and been applied; only the answer is
      // missing. Not sent: certainly not.
      if (isWrite && !attempt.notSent) progress.mayHaveApplied = true;
      return;
    }
    if (attempt.kind !== 'response' || attempt.response.kind !== 'error') return;
    progress.answered = true;
    // `stopped` and `timeout`: the member does not know whether the command was applied (the
    // session makes the retry safe).
    const code = attempt.response.code;
    if (isWrite && (code === 'stopped' || code === 'timeout')) progress.mayHaveApplied = true;
  }

  private check(command: KvCommand): void {
    const check = checkCommand(command, this.limits);
    if (!check.ok) throw new KvClientError(KvClientErrorCode.BadRequest, `${check.code}: ${check.message}`);
  }

  private giveUp(command: KvCommand, progress: Progress, isWrite: boolean): KvClientError {
    const what = command.type;
    const unknown = isWrite && progress.mayHaveApplied;
    const outcome = isWrite
      ? unknown
        ? '; it may or may not have been applied'
        : '; it was not applied'
      : '';
    if (!progress.answered) {
      return new KvClientError(
        KvClientErrorCode.Unavailable,
        `${what}: no member answered (${this.endpoints.join(', ')}; last: ${progress.lastProblem || 'none'})${outcome}`,
        { outcome: unknown ? 'unknown' : 'not-applied', attempts: progress.attempts },
      );
    }
    return new KvClientError(
      KvClientErrorCode.Timeout,
      `${what}: not completed before the deadline (last: ${progress.lastProblem})${outcome}`,
      { outcome: unknown ? 'unknown' : 'not-applied', attempts: progress.attempts },
    );
  }

  private pause(failures: number): number {
    const ceiling = Math.min(this.backoff.max, this.backoff.min * 2 ** Math.min(failures - 1, 16));
    return ceiling / 2 + Math.random() * (ceiling / 2);
  }

  private next(target: number): number {
    return (target + 1) % this.endpoints.length;
  }

  /** The channel to `target` is known down (a never-opened channel is not). */
  private down(target: number): boolean {
    return this.channels.get(target)?.state?.() === 'down';
  }

  private allDown(): boolean {
    for (let i = 0; i < this.endpoints.length; i++) if (!this.down(i)) return false;
    return true;
  }

  /** `target`, or the first member after it not known down (`target` itself if all are). */
  private live(target: number): number {
    for (let i = 0, t = target; i < this.endpoints.length; i++, t = this.next(t)) {
      if (!this.down(t)) return t;
    }
    return target;
  }

  /**
   * One attempt at `target`; when `hedgeable` and no answer came within the hedge delay, one more
   * at the next live member. Resolves with the first result, or once every attempt has ended,
   * with the most useful of them (an answer over a silence).
   */
  private attemptHedged(
    target: number,
    payload: Uint8Array,
    timeoutMs: number,
    hedgeable: boolean,
    progress: Progress,
  ): Promise<{ best: Tried; all: Tried[] }> {
    return new Promise((resolve) => {
      const all: Tried[] = [];
      let running = 0;
      let done = false;
      let hedgeTimer: ReturnType<typeof setTimeout> | undefined;
      const finish = (best: Tried): void => {
        if (done) return;
        done = true;
        clearTimeout(hedgeTimer);
        resolve({ best, all });
      };
      const launch = (t: number, ms: number): void => {
        running++;
        progress.attempts++;
        void this.attempt(t, payload, ms).then((attempt) => {
          const tried = { target: t, attempt };
          all.push(tried);
          running--;
          if (attempt.kind === 'response' && attempt.response.kind === 'result') finish(tried);
          else if (running === 0) finish(mostUseful(all));
        });
      };
      launch(target, timeoutMs);
      const delay = this.hedgeDelay.ms;
      if (!hedgeable || delay >= timeoutMs) return;
      hedgeTimer = setTimeout(() => {
        if (done || running === 0) return;
        const other = this.live(this.next(target));
        if (other === target || this.down(other)) return;
        launch(other, timeoutMs - delay);
      }, delay);
    });
  }

  private channel(target: number): ClientChannel {
    let c = this.channels.get(target);
    if (c === undefined) {
      c = this.connect(this.endpoints[target] as string);
      this.channels.set(target, c);
    }
    return c;
  }

  private attempt(target: number, payload: Uint8Array, timeoutMs: number): Promise<Attempt> {
    return new Promise((resolve) => {
      let done = false;
      const finish = (a: Attempt): void => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        resolve(a);
      };
      // Our own timer too: a channel that never settles must not hold the operation past its deadline.
      const timer = setTimeout(
        () => finish({ kind: 'no-answer', message: `no reply within ${timeoutMs} ms`, notSent: false }),
        timeoutMs,
      );
      let channel: ClientChannel;
      try {
        channel = this.channel(target);
      } catch (err) {
        finish({ kind: 'no-answer', message: `cannot connect: ${(err as Error).message}`, notSent: true });
        return;
      }
      const t0 = now();
      channel.request(payload, { timeoutMs }).then(
        (reply) => {
          this.hedgeDelay.observe(now() - t0);
          try {
            finish({ kind: 'response', response: decodeResponse(reply, this.limits) });
          } catch (err) {
            finish({ kind: 'garbled', message: (err as Error).message });
          }
        },
        (err: unknown) =>
          finish({
            kind: 'no-answer',
            message: err instanceof Error ? err.message : String(err),
            notSent: (err as { code?: unknown } | null)?.code === ChannelErrorCode.NotSent,
          }),
      );
    });
  }
}

interface Tried {
  readonly target: number;
  readonly attempt: Attempt;
}

/** Of attempts that all failed: an answer (it may carry a leader hint) over a silence. */
function mostUseful(all: readonly Tried[]): Tried {
  return all.find((t) => t.attempt.kind !== 'no-answer') ?? (all[0] as Tried);
}

function outcomeOf(progress: Progress, isWrite: boolean): KvOutcome {
  return isWrite && progress.mayHaveApplied ? 'unknown' : 'not-applied';
}

function newProgress(): Progress {
  return { attempts: 0, answered: false, mayHaveApplied: false, lastProblem: '' };
}

function closedError(progress?: Progress, isWrite = false): KvClientError {
  return new KvClientError(KvClientErrorCode.Closed, 'the client was closed', {
    outcome: isWrite && (progress?.mayHaveApplied ?? false) ? 'unknown' : 'not-applied',
    attempts: progress?.attempts ?? 0,
  });
}

function positive(v: number | undefined, dflt: number, name: string): number {
  if (v === undefined) return dflt;
  if (!Number.isFinite(v) || v <= 0) {
    throw new KvClientError(KvClientErrorCode.BadRequest, `${name} must be a positive number, got ${v}`);
  }
  return v;
}

function nullable(b: Bytes | null): Uint8Array | null {
  return b === null ? null : bytes(b);
}

function withSession<C extends WriteCommand>(cmd: C, session: SessionRef | undefined): C {
  return session === undefined ? cmd : { ...cmd, session };
}

function scanRange(range: ScanRangeInput): ScanRange {
  if ('prefix' in range) return { prefix: bytes(range.prefix) };
  return {
    start: bytes(range.start),
    end: range.end === undefined || range.end === null ? null : bytes(range.end),
  };
}

type Success = Extract<KvResult, { readonly ok: true }>;

function expectType<T extends Success['type']>(r: KvResult, type: T): Extract<Success, { readonly type: T }> {
  if (r.ok && r.type === type) return r as Extract<Success, { readonly type: T }>;
  const got = r.ok ? r.type : `${r.code}: ${r.message}`;
  // A write answered with a success of another kind was executed, only its answer is unusable.
  const outcome = r.ok && type !== 'get' && type !== 'scan' ? 'applied' : 'not-applied';
  throw new KvClientError(KvClientErrorCode.Protocol, `expected a ${type} result, got ${got}`, { outcome });
}

function now(): number {
  return performance.now();
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
