/**
 * The client side of leases: grant, revoke, keep-alive (once, or as a stream), time to live, list.
 * `KvClient` delegates to these; they use its `LeaseOps` (a session write, a leader query, a read).
 *
 * Whose clock: the leader's. The leader keeps each lease's deadline and renews it on a keep-alive
 * to (its clock when the request arrived) + TTL. The client counts its own deadline from when it
 * SENT the request that succeeded, which is earlier: the client's view of a lease always ends
 * before the leader's, so a client that believes it holds a lease does.
 */
import type { KvCommand, SessionRef, WriteCommand } from './commands.js';
import { KvClientError, KvClientErrorCode } from './KvClientError.js';
import type { CallOptions } from './KvClientOptions.js';
import type { LeaseGrant, LeaseTimeToLiveResult } from './leaseResults.js';
import type { KvResult } from './results.js';

/** What the lease functions need of `KvClient`. */
export interface LeaseOps {
  /** A write through the session pool (exactly once with sessions on). */
  write(build: (session: SessionRef | undefined) => WriteCommand, options: CallOptions): Promise<KvResult>;
  /** A request sent until a member answers it (routed to the leader by `not-leader` hints). */
  query(command: KvCommand, options: CallOptions): Promise<KvResult>;
  /** The client's default deadline of one operation. */
  timeoutMs(): number;
}

/** `revokeLease`: whether the lease existed, and the revision of its keys' deletion. */
export interface LeaseRevoked {
  readonly revoked: boolean;
  readonly revision: number;
}

/** `leaseTimeToLive`: the TTL granted, the time left as the leader sees it, and the keys if asked. */
export interface LeaseTtl {
  readonly id: number;
  readonly grantedTtlSeconds: number;
  readonly remainingMs: number;
  readonly keys?: readonly Uint8Array[];
}

/**
 * A running keep-alive: the answers as an async iterable (ends when the lease is gone or on
 * `close()`), and `expired`, which resolves once the lease is known gone — the leader answered
 * `lease-not-found`, or the client's own deadline passed without a successful renewal.
 */
export interface LeaseKeepAlive extends AsyncIterable<LeaseGrant> {
  readonly expired: Promise<void>;
  /** Stops renewing (the lease then expires on its own unless revoked). */
  close(): void;
}

const withSession = <C extends WriteCommand>(cmd: C, session: SessionRef | undefined): C =>
  session === undefined ? cmd : { ...cmd, session };

function unexpected(r: KvResult, what: string): KvClientError {
  const got = r.ok ? r.type : `${r.code}: ${r.message}`;
  return new KvClientError(KvClientErrorCode.Protocol, `expected a ${what} result, got ${got}`);
}

function notFound(id: number, message: string): KvClientError {
  return new KvClientError(KvClientErrorCode.LeaseNotFound, `lease ${id}: ${message}`);
}

export async function grantLease(
  ops: LeaseOps,
  ttlSeconds: number,
  options: CallOptions = {},
): Promise<LeaseGrant> {
  const r = await ops.write((s) => withSession({ type: 'leaseGrant', ttlSeconds }, s), options);
  if (r.ok && r.type === 'leaseGrant') return { id: r.id, ttlSeconds: r.ttlSeconds };
  throw unexpected(r, 'leaseGrant');
}

export async function revokeLease(
  ops: LeaseOps,
  id: number,
  options: CallOptions = {},
): Promise<LeaseRevoked> {
  const r = await ops.write((s) => withSession({ type: 'leaseRevoke', id }, s), options);
  if (r.ok && r.type === 'leaseRevoke') return { revoked: r.revoked, revision: r.revision };
  throw unexpected(r, 'leaseRevoke');
}

export async function keepAliveOnce(
  ops: LeaseOps,
  id: number,
  options: CallOptions = {},
): Promise<LeaseGrant> {
  const r = await ops.query({ type: 'leaseKeepAlive', id }, options);
  if (r.ok && r.type === 'leaseKeepAlive') return { id: r.id, ttlSeconds: r.ttlSeconds };
  if (!r.ok && r.code === 'lease-not-found') throw notFound(id, r.message);
  throw unexpected(r, 'leaseKeepAlive');
}

export async function leaseTimeToLive(
  ops: LeaseOps,
  id: number,
  options: CallOptions & { readonly keys?: boolean } = {},
): Promise<LeaseTtl | null> {
  const r = await ops.query({ type: 'leaseTimeToLive', id, keys: options.keys === true }, options);
  if (!r.ok && r.code === 'lease-not-found') return null;
  if (!(r.ok && r.type === 'leaseTimeToLive')) throw unexpected(r, 'leaseTimeToLive');
  const { ok: _ok, type: _type, ...ttl } = r satisfies LeaseTimeToLiveResult;
  return ttl;
}

export async function listLeases(ops: LeaseOps, options: CallOptions = {}): Promise<readonly LeaseGrant[]> {
  const r = await ops.query({ type: 'leaseList' }, options);
  if (r.ok && r.type === 'leaseList') return r.leases;
  throw unexpected(r, 'leaseList');
}

/** Most answers kept for a reader that does not keep up (older ones are dropped). */
const MAX_QUEUED = 16;
/** Pause between failed renewals (each one already retries across members until its deadline). */
const RETRY_PAUSE_MS = 100;

/**
 * Renews `id` every ttl/3 (the first at once) until `close()`, the signal, or the lease is gone.
 * Transient failures (no leader, a member down, timeouts) are retried until the client's own
 * deadline (the send time of the last success + TTL; before the first success, the client's
 * `timeoutMs` from the start).
 */
export function keepAlive(
  ops: LeaseOps,
  id: number,
  options: { readonly signal?: AbortSignal } = {},
): LeaseKeepAlive {
  return new KeepAliveLoop(ops, id, options.signal);
}

class KeepAliveLoop implements LeaseKeepAlive {
  readonly expired: Promise<void>;
  private markExpired!: () => void;
  private stopped = false;
  private readonly queue: LeaseGrant[] = [];
  private readonly readers: ((r: IteratorResult<LeaseGrant>) => void)[] = [];
  private wake: (() => void) | null = null;

  constructor(
    private readonly ops: LeaseOps,
    private readonly id: number,
    signal: AbortSignal | undefined,
  ) {
    this.expired = new Promise((resolve) => {
      this.markExpired = resolve;
    });
    if (signal?.aborted === true) this.stopped = true;
    signal?.addEventListener('abort', () => this.close(), { once: true });
    void this.run();
  }

  close(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.wake?.();
    this.finish();
  }

  private finish(): void {
    for (const r of this.readers.splice(0)) r({ done: true, value: undefined });
  }

  private async run(): Promise<void> {
    let deadline = performance.now() + this.ops.timeoutMs();
    while (!this.stopped) {
      const sentAt = performance.now();
      const left = deadline - sentAt;
      if (left <= 0) break;
      let pauseMs: number;
      try {
        const g = await keepAliveOnce(this.ops, this.id, { timeoutMs: left });
        if (this.stopped) return;
        deadline = sentAt + g.ttlSeconds * 1000;
        this.deliver(g);
        pauseMs = (g.ttlSeconds * 1000) / 3;
      } catch (err) {
        if (this.stopped) return;
        if (err instanceof KvClientError && err.code === KvClientErrorCode.LeaseNotFound) break;
        if (err instanceof KvClientError && err.code === KvClientErrorCode.Closed) {
          this.close();
          return;
        }
        pauseMs = RETRY_PAUSE_MS;
      }
      await this.sleep(Math.min(pauseMs, Math.max(0, deadline - performance.now())));
    }
    if (this.stopped) return;
    this.stopped = true;
    this.markExpired();
    this.finish();
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
      this.wake = done;
    });
  }

  private deliver(g: LeaseGrant): void {
    const reader = this.readers.shift();
    if (reader !== undefined) {
      reader({ done: false, value: g });
      return;
    }
    this.queue.push(g);
    if (this.queue.length > MAX_QUEUED) this.queue.shift();
  }

  [Symbol.asyncIterator](): AsyncIterator<LeaseGrant> {
    return {
      next: () => {
        const g = this.queue.shift();
        if (g !== undefined) return Promise.resolve({ done: false, value: g });
        if (this.stopped) return Promise.resolve({ done: true, value: undefined });
        return new Promise((resolve) => this.readers.push(resolve));
      },
      return: () => {
        this.close();
        return Promise.resolve({ done: true, value: undefined });
      },
    };
  }
}
