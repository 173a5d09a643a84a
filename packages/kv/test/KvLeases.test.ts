import { describe, expect, it } from 'vitest';
import { KvClient, KvClientError } from '../src/index.js';
import { FakeCluster } from './fakeCluster.js';

function setup() {
  const cluster = new FakeCluster(['n1', 'n2', 'n3'], 'n1');
  const kv = new KvClient({
    endpoints: cluster.endpoints,
    members: cluster.directory,
    connect: cluster.connect,
    timeoutMs: 2000,
    attemptTimeoutMs: 300,
  });
  return { cluster, kv };
}

/** Waits for `p` at most `ms` (a bounded wait, never a fixed sleep). */
function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  return Promise.race([
    p,
    new Promise<T>((_r, reject) => setTimeout(() => reject(new Error(`not within ${ms} ms: ${what}`)), ms)),
  ]);
}

describe('KvClient leases against a fake cluster', () => {
  it('keepAlive renews at once, then every ttl/3; close() stops it without reporting expiry', async () => {
    const { cluster, kv } = setup();
    const { id } = await kv.grantLease(3);
    const ka = kv.keepAlive(id);
    const seen: number[] = [];
    for await (const g of ka) {
      seen.push(g.ttlSeconds);
      if (seen.length === 3) break; // at once, ~1 s, ~2 s
    }
    expect(seen).toEqual([3, 3, 3]);
    const times = cluster.requests('leaseKeepAlive').map((r) => r.at);
    expect(times.length).toBe(3);
    // Spaced by about ttl/3 (1 s): never back to back.
    expect(times[1]! - times[0]!).toBeGreaterThan(500);
    let expired = false;
    void ka.expired.then(() => {
      expired = true;
    });
    await new Promise((r) => setImmediate(r));
    expect(expired).toBe(false);
    await kv.close();
  });

  it('a revoked lease: keepAliveOnce throws lease-not-found, keepAlive reports expired and ends', async () => {
    const { cluster, kv } = setup();
    const { id } = await kv.grantLease(2);
    const ka = kv.keepAlive(id);
    const first = await ka[Symbol.asyncIterator]().next();
    expect(first.value).toEqual({ id, ttlSeconds: 2 });
    cluster.store.apply({ type: 'leaseRevoke', id });
    await within(ka.expired, 5000, 'expired after the revoke');
    expect((await ka[Symbol.asyncIterator]().next()).done).toBe(true);
    const err = await kv.keepAliveOnce(id).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KvClientError);
    expect((err as KvClientError).code).toBe('KEEL_CLIENT_LEASE_NOT_FOUND');
    const put = await kv.put('k', 'v', { lease: id }).catch((e: unknown) => e);
    expect((put as KvClientError).code).toBe('KEEL_CLIENT_LEASE_NOT_FOUND');
    await kv.close();
  });

  it('rides out a not-leader answer; expires on its own deadline once no member answers', async () => {
    const { cluster, kv } = setup();
    const { id } = await kv.grantLease(2);
    cluster
      .member('n1')
      .script.push({ kind: 'error', code: 'not-leader', message: 'moved', leaderHint: 'n1' });
    const ka = kv.keepAlive(id);
    const it = ka[Symbol.asyncIterator]();
    expect((await within(it.next(), 5000, 'a renewal after not-leader')).value).toEqual({
      id,
      ttlSeconds: 2,
    });
    for (const m of cluster.members.values()) m.mode = 'silent';
    // The lease still exists in the store: only the client's own deadline can end it.
    await within(ka.expired, 10_000, 'expired by the client deadline');
    expect(cluster.store.sm.lease(id)).not.toBeNull();
    await kv.close();
  });
});
