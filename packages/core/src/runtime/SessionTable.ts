/**
 * Exactly-once client sessions (dissertation §6.3), for any state machine: the part of a machine's
 * replicated state that remembers, per client, the last command it executed and that command's
 * result, so that a client retrying a command whose outcome it never heard gets the first result
 * back instead of a second execution.
 *
 * The table is replicated state, so it obeys the state machine's rules: it never reads a clock (the
 * machine passes `now`, its log clock: a time carried by the entries, so every member agrees), it
 * never throws for what an entry asks (failures are values), and the same entries give the same
 * table on every member. The machine calls, for each committed entry:
 *
 * 1. `expire(now)` — sessions idle for longer than `timeoutMs` of log time end;
 * 2. then, for what the entry asks: `register(entry.index, now)` (the entry's index names the
 *    session: unique in the log and the same everywhere), `keepAlive`, `close`, or
 *    `execute(clientId, seq, now, run)` for a command in a session: `run` is called only for a
 *    sequence number above the last one; the last one is answered from the cache; a lower one
 *    fails `stale-sequence` (its result is gone).
 *
 * A session holds one result, so a client has at most one command in flight per session (a client
 * wanting more in flight opens more sessions). At `maxSessions`, registering evicts the least
 * recently active session. Snapshots carry the table through `image()` and `new SessionTable(limits,
 * image)`; `writeSessions`/`readSessions` in `@keel/core/codec` give it a binary form.
 */

/** Log-time milliseconds after which an idle session expires: 10 minutes. */
export const DEFAULT_SESSION_TIMEOUT_MS = 10 * 60_000;
/** Sessions kept at most by default. */
export const DEFAULT_MAX_SESSIONS = 10_000;

/**
 * Part of the replicated semantics: every member must use the same values, or members would
 * disagree on which sessions are alive.
 */
export interface SessionLimits {
  /** Log-time milliseconds after which an idle session expires; default 10 minutes. */
  readonly timeoutMs?: number;
  /** Most live sessions; at the limit, a registration evicts the least recently active one. Default 10 000. */
  readonly maxSessions?: number;
}

/** Why a session command failed; the same on every member for the same entry. */
export const SessionErrorCode = {
  /** The client id was never issued. */
  UnknownSession: 'unknown-session',
  /** The session expired or was closed: register a new one. */
  SessionExpired: 'session-expired',
  /** The sequence number is below the last executed one: its result is no longer kept. */
  StaleSequence: 'stale-sequence',
  /** A registration whose id does not increase: only a log applied out of order gets this. */
  InvalidCommand: 'invalid-command',
} as const;
export type SessionErrorCode = (typeof SessionErrorCode)[keyof typeof SessionErrorCode];

export interface SessionFailure {
  readonly ok: false;
  readonly code: SessionErrorCode;
  readonly message: string;
}

/** One session as kept in a snapshot. */
export interface SessionRecord<Result> {
  readonly clientId: number;
  /** Highest sequence number executed; 0 before the first command. */
  readonly lastSeq: number;
  /** The result of `lastSeq`; null before the first command. */
  readonly lastResult: Result | null;
  /** Log clock of the last entry that named this session. */
  readonly lastActive: number;
}

/** The whole table as plain data: sessions in order of last activity, least recent first. */
export interface SessionsImage<Result> {
  /** The largest client id ever issued: lower ids that are not live expired (or were closed). */
  readonly highestClientId: number;
  readonly sessions: readonly SessionRecord<Result>[];
}

interface Live<Result> {
  lastSeq: number;
  lastResult: Result | null;
  lastActive: number;
}

function failure(code: SessionErrorCode, message: string): SessionFailure {
  return { ok: false, code, message };
}

function positiveInteger(value: number, name: string): number {
  if (!(Number.isSafeInteger(value) && value > 0)) {
    throw new RangeError(`${name} must be a positive integer, got ${value}`);
  }
  return value;
}

export class SessionTable<Result> {
  readonly timeoutMs: number;
  readonly maxSessions: number;
  /** By client id, in order of last activity (least recent first): touching one moves it to the end. */
  readonly #sessions = new Map<number, Live<Result>>();
  #highestClientId = 0;

  /** A table with no session, or the one `image` describes (from `image()` or `readSessions`). */
  constructor(limits: SessionLimits = {}, image?: SessionsImage<Result>) {
    this.timeoutMs = positiveInteger(limits.timeoutMs ?? DEFAULT_SESSION_TIMEOUT_MS, 'timeoutMs');
    this.maxSessions = positiveInteger(limits.maxSessions ?? DEFAULT_MAX_SESSIONS, 'maxSessions');
    if (image !== undefined) {
      this.#highestClientId = image.highestClientId;
      for (const s of image.sessions) {
        this.#sessions.set(s.clientId, {
          lastSeq: s.lastSeq,
          lastResult: s.lastResult,
          lastActive: s.lastActive,
        });
      }
    }
  }

  /** Live sessions. */
  get size(): number {
    return this.#sessions.size;
  }

  get highestClientId(): number {
    return this.#highestClientId;
  }

  /** Ends every session idle since before `now - timeoutMs`. Call it for every entry applied. */
  expire(now: number): void {
    const deadline = now - this.timeoutMs;
    // Activity order and a log clock that never goes back: the expired ones are at the front.
    for (const [id, s] of this.#sessions) {
      if (s.lastActive >= deadline) break;
      this.#sessions.delete(id);
    }
  }

  /** Opens session `clientId` (the registering entry's index: ids must increase). */
  register(clientId: number, now: number): { readonly ok: true; readonly clientId: number } | SessionFailure {
    if (clientId <= this.#highestClientId || this.#sessions.has(clientId)) {
      return failure(
        SessionErrorCode.InvalidCommand,
        `entry ${clientId} cannot register a session: ids must increase`,
      );
    }
    while (this.#sessions.size >= this.maxSessions) {
      const oldest = this.#sessions.keys().next().value as number;
      this.#sessions.delete(oldest);
    }
    this.#highestClientId = clientId;
    this.#sessions.set(clientId, { lastSeq: 0, lastResult: null, lastActive: now });
    return { ok: true, clientId };
  }

  /** Marks a session active at `now`, so it does not expire. */
  keepAlive(clientId: number, now: number): { readonly ok: true } | SessionFailure {
    const found = this.#touch(clientId, now);
    return found.ok ? { ok: true } : found;
  }

  /** Ends a session; its id is never live again. */
  close(clientId: number, now: number): { readonly ok: true } | SessionFailure {
    const found = this.#touch(clientId, now);
    if (!found.ok) return found;
    this.#sessions.delete(clientId);
    return { ok: true };
  }

  /**
   * Executes command `seq` of session `clientId` at most once: `run()` for a new sequence number
   * (its result is kept), the kept result for the last one, `stale-sequence` below it.
   */
  execute(clientId: number, seq: number, now: number, run: () => Result): Result | SessionFailure {
    const found = this.#touch(clientId, now);
    if (!found.ok) return found;
    const s = found.session;
    if (seq === s.lastSeq && s.lastResult !== null) return s.lastResult;
    if (seq <= s.lastSeq) {
      return failure(
        SessionErrorCode.StaleSequence,
        `session ${clientId}: sequence ${seq} is below the last executed ${s.lastSeq}; its response is gone`,
      );
    }
    const result = run();
    s.lastSeq = seq;
    s.lastResult = result;
    return result;
  }

  /** A copy of the table as data (records are copied: later commands do not change it). */
  image(): SessionsImage<Result> {
    const sessions: SessionRecord<Result>[] = [];
    for (const [clientId, s] of this.#sessions) {
      sessions.push({ clientId, lastSeq: s.lastSeq, lastResult: s.lastResult, lastActive: s.lastActive });
    }
    return { highestClientId: this.#highestClientId, sessions };
  }

  #touch(clientId: number, now: number): { ok: true; session: Live<Result> } | SessionFailure {
    const session = this.#sessions.get(clientId);
    if (session === undefined) {
      return clientId <= this.#highestClientId
        ? failure(
            SessionErrorCode.SessionExpired,
            `session ${clientId} expired or was closed; register a new one`,
          )
        : failure(SessionErrorCode.UnknownSession, `session ${clientId} was never registered`);
    }
    session.lastActive = now;
    this.#sessions.delete(clientId);
    this.#sessions.set(clientId, session);
    return { ok: true, session };
  }
}
