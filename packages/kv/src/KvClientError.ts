import { KeelError } from '@keel/core';

/**
 * Stable codes of the errors `KvClient` throws. Outcomes of the store itself (`compare-failed`, a
 * missing key) are results, never errors.
 */
export const KvClientErrorCode = {
  /**
   * The operation's deadline passed while members were answering but none completed it (no leader
   * elected in time, reads not confirmed). For a write, `outcomeUnknown` says whether it may still
   * have been applied.
   */
  Timeout: 'KEEL_CLIENT_TIMEOUT',
  /** The deadline passed and no member answered at all: every endpoint is down or unreachable. */
  Unavailable: 'KEEL_CLIENT_UNAVAILABLE',
  /**
   * The session expired (or was evicted) while a write was being retried: the store no longer
   * remembers whether that write was applied. `outcomeUnknown` is true; the client has dropped the
   * session and registers a new one for its next write.
   */
  SessionExpired: 'KEEL_CLIENT_SESSION_EXPIRED',
  /**
   * A write without a session (`retryUnknownWrites: false`) reached a member and its outcome was
   * lost (no answer, or `stopped`/`timeout`); it was not sent again. `outcome` is `unknown`.
   */
  OutcomeUnknown: 'KEEL_CLIENT_OUTCOME_UNKNOWN',
  /** The request breaks a limit or does not decode (checked locally first, then by the member). */
  BadRequest: 'KEEL_CLIENT_BAD_REQUEST',
  /** The member does not offer this (for example `lease` reads on members started without them). */
  Unsupported: 'KEEL_CLIENT_UNSUPPORTED',
  /** `close()` was called before the operation finished. */
  Closed: 'KEEL_CLIENT_CLOSED',
  /**
   * A watch asked for a revision older than every reachable member's history window;
   * `oldestRevision` is the oldest one available.
   */
  Compacted: 'KEEL_CLIENT_COMPACTED',
  /** A watch was ended by its member because its reader fell too far behind (`slow-watcher`). */
  SlowWatcher: 'KEEL_CLIENT_SLOW_WATCHER',
  /**
   * A lock's or an election's lease expired or was revoked while it was held: someone else may hold
   * the lock (lead) now. Also what `proclaim` throws once the candidate no longer leads.
   */
  LeaseLost: 'KEEL_CLIENT_LEASE_LOST',
  /** A member answered something this client does not understand (a version mismatch or a bug). */
  Protocol: 'KEEL_CLIENT_PROTOCOL',
  /**
   * The lease does not exist: never granted, revoked, or expired (`keepAliveOnce`, `put` or a txn
   * put with `lease`). Nothing was written. The store's result code is `lease-not-found`.
   */
  LeaseNotFound: 'KEEL_CLIENT_LEASE_NOT_FOUND',
} as const;
export type KvClientErrorCode = (typeof KvClientErrorCode)[keyof typeof KvClientErrorCode];

/**
 * What became of the operation an error ends: `applied` (the store executed it, but the answer
 * could not be used), `not-applied` (certainly not executed: never sent, refused, or a read), or
 * `unknown` (a request reached a member and its answer was lost, or the member answered `stopped`
 * or `timeout`: it may or may not take effect).
 */
export type KvOutcome = 'applied' | 'not-applied' | 'unknown';

export class KvClientError extends KeelError {
  override readonly name = 'KvClientError';
  declare readonly code: KvClientErrorCode;
  /** What became of the operation (see `KvOutcome`). */
  readonly outcome: KvOutcome;
  /** Attempts made (requests sent to members) before giving up. */
  readonly attempts: number;
  /** For `KEEL_CLIENT_COMPACTED`: the oldest revision a watch can start from. */
  readonly oldestRevision: number | undefined;

  constructor(
    code: KvClientErrorCode,
    message: string,
    options: {
      outcome?: KvOutcome;
      outcomeUnknown?: boolean;
      attempts?: number;
      cause?: unknown;
      oldestRevision?: number;
    } = {},
  ) {
    super(code, message, options.cause === undefined ? undefined : { cause: options.cause });
    this.outcome = options.outcome ?? (options.outcomeUnknown === true ? 'unknown' : 'not-applied');
    this.attempts = options.attempts ?? 0;
    this.oldestRevision = options.oldestRevision;
  }

  /**
   * True when a write may have been applied even though this error was thrown (`outcome` is
   * `unknown`). False for reads, and for writes known not to have applied.
   */
  get outcomeUnknown(): boolean {
    return this.outcome === 'unknown';
  }
}
