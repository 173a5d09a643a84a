import { SeededRng } from '@keel/core';
import { type KvClient, Lock } from '@keel/kv';
import { sleep } from '@keel/ops';

/** The key the lock holders write, fenced by their token (lockCheck.ts). */
export const LOCK_OWNER_KEY = 'chaos-lock/owner';
const LOCK_NAME = 'chaos';

export interface LockStats {
  /** Times a client acquired the lock. */
  acquired: number;
  /** Holds whose lease was lost before the release (`signal` aborted). */
  lost: number;
  /** Fenced writes acknowledged, and refused by their fence (the holder had lost the lock). */
  fencedOk: number;
  fencedRefused: number;
  /** Calls that failed or timed out (acquire, write or release). */
  errors: number;
}

/**
 * A few clients that loop on one `Lock` (2 s TTL, so a paused or cut-off holder loses it under
 * faults): acquire, write the owner key two or three times through a transaction fenced by the
 * holder's token, release.
 */
export class LockWorkload {
  readonly stats: LockStats = { acquired: 0, lost: 0, fencedOk: 0, fencedRefused: 0, errors: 0 };
  private running = false;
  private loops: Promise<void>[] = [];

  constructor(
    private readonly o: { readonly client: () => KvClient; readonly clients: number; readonly seed: number },
  ) {}

  start(): void {
    this.running = true;
    for (let c = 0; c < this.o.clients; c++) {
      this.loops.push(this.loop(c, this.o.client(), new SeededRng(this.o.seed + 15_485_863 * (c + 1))));
    }
  }

  async stop(): Promise<LockStats> {
    this.running = false;
    await Promise.all(this.loops);
    return this.stats;
  }

  private async loop(c: number, kv: KvClient, rng: SeededRng): Promise<void> {
    const lock = new Lock(kv, LOCK_NAME, { ttlSeconds: 2 });
    let seq = 0;
    while (this.running) {
      const giveUp = AbortSignal.timeout(10_000);
      let held: Awaited<ReturnType<Lock['acquire']>>;
      try {
        held = await lock.acquire({ signal: giveUp });
      } catch {
        this.stats.errors++;
        await sleep(50);
        continue;
      }
      this.stats.acquired++;
      const writes = 2 + rng.int(2);
      for (let i = 0; i < writes && this.running; i++) {
        try {
          const r = await kv.txn(
            {
              compare: [{ key: held.key, createRevision: held.revision }],
              success: [{ put: LOCK_OWNER_KEY, value: `${held.revision}:${c}:${++seq}` }],
            },
            { timeoutMs: 2000 },
          );
          if (r.succeeded) this.stats.fencedOk++;
          else this.stats.fencedRefused++;
        } catch {
          this.stats.errors++;
        }
        await sleep(rng.int(50));
      }
      if (held.signal.aborted) this.stats.lost++;
      try {
        await held.release();
      } catch {
        this.stats.errors++;
      }
    }
  }
}
