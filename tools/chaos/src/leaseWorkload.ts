import { SeededRng } from '@keel/core';
import { type KvClient, KvClientError, KvClientErrorCode } from '@keel/kv';
import { sleep } from '@keel/ops';
import type { KeepAliveRecord, LeaseRecord } from './leaseCheck.js';

export interface LeaseWorkloadOptions {
  /** A fresh client per worker. */
  readonly client: () => KvClient;
  readonly workers: number;
  readonly ttlSeconds: number;
  readonly seed: number;
  readonly clock: () => number;
}

/** Keys of the lease workers: not registers of the main workload (the watch check skips them). */
export const LEASE_PREFIX = 'chaos-lease/';

type MutableLease = {
  -readonly [K in keyof LeaseRecord]: LeaseRecord[K];
} & { keepAlives: KeepAliveRecord[] };

/**
 * A few clients that each loop: grant a lease, put a key with it, renew it by `keepAliveOnce` for a
 * random 1–4 TTLs while reading the key back (an absent key while renewing is the evidence check (a)
 * of leaseCheck.ts looks for), then stop renewing and read until the key is gone. Every keep-alive
 * is recorded with when it was sent and answered; a key's deletion with the completion of the first
 * read that found it absent (the delete committed before that). `stop()` keeps renewing until it is
 * called — after the heal, so that the leases then let go expire under a stable leader.
 */
export class LeaseWorkload {
  readonly records: MutableLease[] = [];
  private running = false;
  private letGo = false;
  private loops: Promise<void>[] = [];

  constructor(private readonly o: LeaseWorkloadOptions) {}

  start(): void {
    this.running = true;
    for (let w = 0; w < this.o.workers; w++) {
      this.loops.push(this.loop(w, this.o.client(), new SeededRng(this.o.seed + 104_729 * (w + 1))));
    }
  }

  /** Stops renewing every lease, waits (bounded) until each key is gone, and resolves with the records. */
  async stop(): Promise<readonly LeaseRecord[]> {
    this.letGo = true;
    await Promise.all(this.loops);
    return this.records;
  }

  private async loop(w: number, kv: KvClient, rng: SeededRng): Promise<void> {
    const ttlMs = this.o.ttlSeconds * 1000;
    const clock = this.o.clock;
    for (let n = 0; this.running && !this.letGo; n++) {
      let id: number;
      try {
        id = (await kv.grantLease(this.o.ttlSeconds)).id;
      } catch {
        await sleep(100);
        continue;
      }
      const rec: MutableLease = {
        id,
        ttlMs,
        key: `${LEASE_PREFIX}${w}-${n}`,
        granted: clock(),
        keepAlives: [],
        stoppedAt: null,
        deletedAt: null,
        revokedAt: null,
      };
      this.records.push(rec);
      let written = true;
      try {
        await kv.put(rec.key, String(id), { lease: id });
      } catch {
        // Unknown whether it was written: let the lease go at once and see.
        written = false;
      }
      const until = clock() + ttlMs * (1 + rng.float() * 3);
      while (written && !this.letGo && clock() < until && rec.deletedAt === null) {
        const sent = clock();
        try {
          await kv.keepAliveOnce(id, { timeoutMs: Math.floor(ttlMs / 2) });
          rec.keepAlives.push({ sent, answered: clock(), ok: true });
        } catch (err) {
          const gone = err instanceof KvClientError && err.code === KvClientErrorCode.LeaseNotFound;
          rec.keepAlives.push({ sent, answered: gone ? clock() : null, ok: false });
          if (gone) break;
        }
        await this.probe(kv, rec);
        await sleep(ttlMs / 4);
      }
      rec.stoppedAt = clock();
      // Read until the key is gone: bounded by the TTL plus 20 s (an outage can hold expiry back).
      const deadline = clock() + ttlMs + 20_000;
      while (rec.deletedAt === null && clock() < deadline) {
        await this.probe(kv, rec);
        if (rec.deletedAt === null) await sleep(50);
      }
    }
  }

  private async probe(kv: KvClient, rec: MutableLease): Promise<void> {
    try {
      const r = await kv.get(rec.key, { timeoutMs: 1000 });
      if (r.kv === null && rec.deletedAt === null) rec.deletedAt = this.o.clock();
    } catch {
      // No answer: no evidence either way.
    }
  }
}
