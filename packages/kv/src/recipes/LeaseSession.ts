import { KvClientError, KvClientErrorCode } from '../KvClientError.js';
import type { LeaseKeepAlive } from '../KvLeases.js';
import type { RecipeClient } from './RecipeClient.js';

/** Default lease TTL of a lock holder or an election candidate: etcd's concurrency default. */
export const DEFAULT_RECIPE_TTL_SECONDS = 60;

export interface SessionOptions {
  /** TTL of the lease the recipe grants (default 60 s): how long a crashed holder blocks others. */
  readonly ttlSeconds?: number;
  /**
   * Use this existing lease instead of granting one; the caller keeps it alive and revokes it (the
   * recipe neither renews nor revokes it, and cannot tell when it is lost).
   */
  readonly lease?: number;
}

/**
 * A lease kept alive in the background for as long as a recipe holds something with it. `signal`
 * aborts when the lease is known to be gone (expired, revoked, or renewals failed past its TTL):
 * from then on whatever was held under it may be held by someone else.
 */
export class LeaseSession {
  private readonly lost = new AbortController();
  private closed = false;

  private constructor(
    private readonly client: RecipeClient,
    readonly lease: number,
    private readonly keepAlive: LeaseKeepAlive | null,
  ) {
    if (keepAlive !== null) {
      keepAlive.expired.then(
        () => this.markLost(),
        () => this.markLost(),
      );
      // Drain the renewals: the iterator is how the keep-alive runs.
      void (async () => {
        try {
          for await (const _ of keepAlive) {
            if (this.closed) break;
          }
        } catch {
          this.markLost();
        }
      })();
    }
  }

  static async open(client: RecipeClient, options: SessionOptions = {}): Promise<LeaseSession> {
    if (options.lease !== undefined) return new LeaseSession(client, options.lease, null);
    const ttl = options.ttlSeconds ?? DEFAULT_RECIPE_TTL_SECONDS;
    const grant = await client.grantLease(ttl);
    return new LeaseSession(client, grant.id, client.keepAlive(grant.id));
  }

  /** Aborted (with a `KEEL_CLIENT_LEASE_LOST` error as its reason) once the lease is gone. */
  get signal(): AbortSignal {
    return this.lost.signal;
  }

  /** Stops renewing and revokes the lease this session granted (a lease passed in is left alone). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.keepAlive === null) return;
    this.keepAlive.close();
    try {
      await this.client.revokeLease(this.lease);
    } catch {
      // Best effort: an unrevoked lease expires on its own after its TTL.
    }
  }

  private markLost(): void {
    if (this.closed || this.lost.signal.aborted) return;
    this.lost.abort(
      new KvClientError(KvClientErrorCode.LeaseLost, `lease ${this.lease} expired or was revoked`),
    );
  }
}
