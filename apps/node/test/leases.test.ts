import { KvClientError } from '@keel/kv';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type InProcessCluster, startInProcessCluster } from './helpers/inProcess.js';

const text = new TextDecoder();

/** Polls `check` until it holds or `ms` passed (never a fixed sleep). */
async function until(check: () => Promise<boolean> | boolean, ms: number, what: string): Promise<void> {
  const deadline = performance.now() + ms;
  while (!(await check())) {
    if (performance.now() > deadline) throw new Error(`not within ${ms} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

let cluster: InProcessCluster;

beforeAll(async () => {
  cluster = await startInProcessCluster(3);
});

afterAll(async () => {
  await cluster?.close();
});

function leaderIndex(): number {
  return cluster.members.findIndex((m) => m.status().role === 'leader');
}

describe('leases on a 3-member cluster (in process)', () => {
  it('grant, put with the lease, revoke: the keys go at one revision', async () => {
    const kv = cluster.client();
    const { id, ttlSeconds } = await kv.grantLease(30);
    expect(ttlSeconds).toBe(30);
    await kv.put('r/a', '1', { lease: id });
    await kv.put('r/b', '2', { lease: id });
    expect((await kv.get('r/a')).kv?.lease).toBe(id);
    const ttl = await kv.leaseTimeToLive(id, { keys: true });
    expect(ttl?.grantedTtlSeconds).toBe(30);
    expect(ttl?.remainingMs).toBeGreaterThan(0);
    expect(ttl?.remainingMs).toBeLessThanOrEqual(30_000);
    expect(ttl?.keys?.map((k) => text.decode(k))).toEqual(['r/a', 'r/b']);
    expect((await kv.leases()).some((l) => l.id === id)).toBe(true);
    const r = await kv.revokeLease(id);
    expect(r.revoked).toBe(true);
    expect((await kv.get('r/a')).kv).toBeNull();
    expect((await kv.get('r/b')).kv).toBeNull();
    expect(await kv.leaseTimeToLive(id)).toBeNull();
    const err = await kv.keepAliveOnce(id).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KvClientError);
    expect((err as KvClientError).code).toBe('KEEL_CLIENT_LEASE_NOT_FOUND');
    const put = await kv.put('r/c', '1', { lease: id }).catch((e: unknown) => e);
    expect((put as KvClientError).code).toBe('KEEL_CLIENT_LEASE_NOT_FOUND');
  });

  it('a key put with a 2 s lease disappears after expiry, and a watcher sees its delete', async () => {
    const kv = cluster.client();
    const { id } = await kv.grantLease(2);
    const put = await kv.put('exp/k', 'v', { lease: id });
    const ac = new AbortController();
    const deletes: number[] = [];
    const watching = (async () => {
      for await (const batch of kv.watch('exp/k', { fromRevision: put.revision + 1, signal: ac.signal })) {
        for (const e of batch.events) if (e.type === 'delete') deletes.push(e.kv.modRevision);
        if (deletes.length > 0) break;
      }
    })();
    await until(async () => (await kv.get('exp/k')).kv === null, 15_000, 'the leased key expires');
    await until(() => deletes.length > 0, 10_000, 'the watcher sees the delete');
    ac.abort();
    await watching.catch(() => undefined);
    expect(await kv.leaseTimeToLive(id)).toBeNull();
    // Every member counts the expiry it applied (what keel_lease_expired_total exports).
    await until(() => cluster.stores.every((s) => s.leasesExpired >= 1), 10_000, 'every member counts it');
  });

  it('with keepAlive running, a 2 s lease survives three TTLs and more', async () => {
    const kv = cluster.client();
    const { id } = await kv.grantLease(2);
    await kv.put('ka/k', 'v', { lease: id });
    const ka = kv.keepAlive(id);
    let renewals = 0;
    const counting = (async () => {
      for await (const _ of ka) renewals++;
    })();
    let lost = false;
    void ka.expired.then(() => {
      lost = true;
    });
    const start = performance.now();
    // Checked every 100 ms for 6.5 s (> 3 TTLs): the key is there every time.
    while (performance.now() - start < 6500) {
      expect((await kv.get('ka/k')).kv, `at ${Math.round(performance.now() - start)} ms`).not.toBeNull();
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(lost).toBe(false);
    expect(renewals).toBeGreaterThanOrEqual(3);
    ka.close();
    await counting;
    // Without renewals it expires.
    await until(async () => (await kv.get('ka/k')).kv === null, 15_000, 'expiry after keep-alive stops');
  });

  it('a leader change while keepAlive runs does not expire the lease', async () => {
    const kv = cluster.client();
    const { id } = await kv.grantLease(3);
    await kv.put('lc/k', 'v', { lease: id });
    const ka = kv.keepAlive(id);
    let lost = false;
    void ka.expired.then(() => {
      lost = true;
    });
    await until(() => leaderIndex() >= 0, 10_000, 'a leader');
    const from = leaderIndex();
    const to = (from + 1) % 3;
    const ids = ['m1', 'm2', 'm3'];
    await until(
      () => {
        const l = leaderIndex();
        if (l === to) return true;
        if (l >= 0) cluster.members[l]!.transfer(ids[to]!);
        return false;
      },
      15_000,
      `leadership moves to ${ids[to]}`,
    );
    const start = performance.now();
    while (performance.now() - start < 7000) {
      expect((await kv.get('lc/k')).kv, `at ${Math.round(performance.now() - start)} ms`).not.toBeNull();
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(lost).toBe(false);
    // The new leader armed it: once renewals stop, it expires there.
    ka.close();
    await until(async () => (await kv.get('lc/k')).kv === null, 20_000, 'expiry by the new leader');
  });
});
