import { LeaseSession, type SessionOptions } from './LeaseSession.js';
import { enqueue, waitForTurn } from './queue.js';
import { checkName, type RecipeClient, toBytes } from './RecipeClient.js';

const decoder = new TextDecoder();

export interface AcquireOptions {
  /** Gives up waiting: `acquire` rejects with the signal's reason and leaves the queue. */
  readonly signal?: AbortSignal;
}

/** A held lock. Release it with `release()`, or let `await using` do it. */
export interface LockHandle extends AsyncDisposable {
  /** The holder's key (`<name>/<lease in hex>`). */
  readonly key: string;
  /**
   * The fencing token: the create revision of the holder's key. Every later holder has a larger
   * one, so a store that guards writes with it (`compare: [{ key, createRevision: revision }]` in
   * Keel, or "reject tokens below the largest seen" elsewhere) refuses a holder that lost the lock
   * without knowing it (paused, partitioned, its lease expired).
   */
  readonly revision: number;
  /** The lease the key is attached to. */
  readonly lease: number;
  /** Aborts when the lock is lost: the lease expired or was revoked before `release()`. */
  readonly signal: AbortSignal;
  /** Deletes the key and revokes the lease the lock granted; safe to call twice. */
  release(): Promise<void>;
}

/**
 * A distributed mutex (etcd's `concurrency.Mutex`, in Keel's terms): contenders queue by the create
 * revision of a key attached to their lease, the first in line holds it, and the others each wait
 * for the key just ahead of them to go. Fair (first come, first served), and a crashed holder
 * releases it when its lease expires (the TTL, 60 s by default).
 *
 * ```ts
 * const lock = new Lock(client, 'jobs/nightly', { ttlSeconds: 10 });
 * await using held = await lock.acquire();
 * await client.txn({ compare: [{ key: held.key, createRevision: held.revision }], success: [...] });
 * ```
 */
export class Lock {
  private readonly prefix: Uint8Array;

  constructor(
    private readonly client: RecipeClient,
    readonly name: string,
    private readonly options: SessionOptions = {},
  ) {
    this.prefix = toBytes(`${checkName('lock', name)}/`);
  }

  /** Waits in line until the lock is held. */
  async acquire(options: AcquireOptions = {}): Promise<LockHandle> {
    return holdInLine(this.client, this.prefix, new Uint8Array(0), this.options, options.signal);
  }
}

/** Queues under `prefix` with `value`, waits for the turn, and hands back the held position. */
export async function holdInLine(
  client: RecipeClient,
  prefix: Uint8Array,
  value: Uint8Array,
  sessionOptions: SessionOptions,
  signal: AbortSignal | undefined,
): Promise<LockHandle> {
  signal?.throwIfAborted();
  const session = await LeaseSession.open(client, sessionOptions);
  const keyBytes = new Uint8Array(prefix.length + 16);
  const suffix = toBytes(session.lease.toString(16));
  keyBytes.set(prefix);
  keyBytes.set(suffix, prefix.length);
  const key = keyBytes.subarray(0, prefix.length + suffix.length);
  let revision = 0;
  try {
    revision = await enqueue(client, key, value, session.lease);
    const stop = signal === undefined ? session.signal : AbortSignal.any([signal, session.signal]);
    await waitForTurn(client, prefix, revision, stop);
  } catch (err) {
    await leave(client, key, revision, session);
    throw err;
  }
  let released = false;
  const release = async (): Promise<void> => {
    if (released) return;
    released = true;
    await leave(client, key, revision, session);
  };
  return {
    key: decoder.decode(key),
    revision,
    lease: session.lease,
    signal: session.signal,
    release,
    [Symbol.asyncDispose]: release,
  };
}

/** Deletes the key if it is still this holder's (same create revision), then ends the session. */
async function leave(
  client: RecipeClient,
  key: Uint8Array,
  revision: number,
  session: LeaseSession,
): Promise<void> {
  try {
    if (revision > 0) {
      await client.txn({ compare: [{ key, createRevision: revision }], success: [{ delete: key }] });
    }
  } finally {
    await session.close();
  }
}
