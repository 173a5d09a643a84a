import { Election, type ElectionLeader, KvClientError, Lock } from '@keel/kv';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type InProcessCluster, startInProcessCluster } from './helpers/inProcess.js';
import { waitFor } from './helpers/procs.js';

// The Lock and Election recipes of @keel/kv against three real members in this process.
let cluster: InProcessCluster;

beforeAll(async () => {
  cluster = await startInProcessCluster(3);
}, 60_000);

afterAll(async () => {
  await cluster?.close();
});

const text = (b: Uint8Array) => new TextDecoder().decode(b);

describe('Lock', () => {
  it('is held by one contender at a time, in arrival order, with growing fencing revisions', async () => {
    const lock = new Lock(cluster.client(), 'locks/fair', { ttlSeconds: 10 });
    const first = await lock.acquire();
    const order: string[] = [];
    const waiting = ['b', 'c', 'd'].map(async (name, i) => {
      // Arrive one after another: each queues only once the one before it has a key.
      await waitFor(
        `contender ${i} queued`,
        async () => ((await queued('locks/fair/')) >= i + 1 ? true : undefined),
        20_000,
      );
      const held = await new Lock(cluster.client(), 'locks/fair', { ttlSeconds: 10 }).acquire();
      order.push(name);
      return held;
    });
    // Nobody gets in while `first` holds it.
    await waitFor(
      'three waiters queued',
      async () => ((await queued('locks/fair/')) === 4 ? true : undefined),
      20_000,
    );
    expect(order).toEqual([]);
    await first.release();
    const holders = [];
    for (const w of waiting) {
      const held = await w;
      holders.push(held);
      await held.release();
    }
    expect(order).toEqual(['b', 'c', 'd']);
    const revisions = [first, ...holders].map((h) => h.revision);
    expect([...revisions].sort((a, b) => a - b)).toEqual(revisions);
    expect(await queued('locks/fair/')).toBe(0);
  }, 60_000);

  it('works with await using, and its revision fences writes of a holder that lost it', async () => {
    const client = cluster.client();
    const lock = new Lock(client, 'locks/fence', { ttlSeconds: 10 });
    let stale = 0;
    {
      await using held = await lock.acquire();
      stale = held.revision;
      const w = await client.txn({
        compare: [{ key: held.key, createRevision: held.revision }],
        success: [{ put: 'fenced', value: 'one' }],
      });
      expect(w.succeeded).toBe(true);
    }
    // Released at the end of the block: the next holder gets in, and the old token no longer works.
    const again = await lock.acquire();
    expect(again.revision).toBeGreaterThan(stale);
    const late = await client.txn({
      compare: [{ key: again.key, createRevision: stale }],
      success: [{ put: 'fenced', value: 'late' }],
    });
    expect(late.succeeded).toBe(false);
    await again.release();
  }, 60_000);

  it('leaves the queue when the wait is aborted, and reports a lost lease through its signal', async () => {
    const client = cluster.client();
    const holder = await new Lock(client, 'locks/abort', { ttlSeconds: 10 }).acquire();
    const stop = new AbortController();
    const waiter = new Lock(cluster.client(), 'locks/abort', { ttlSeconds: 10 }).acquire({
      signal: stop.signal,
    });
    await waitFor(
      'the waiter queued',
      async () => ((await queued('locks/abort/')) === 2 ? true : undefined),
      20_000,
    );
    stop.abort(new Error('gave up'));
    await expect(waiter).rejects.toThrow('gave up');
    await waitFor(
      'the waiter gone from the queue',
      async () => ((await queued('locks/abort/')) === 1 ? true : undefined),
      20_000,
    );
    // Revoking the holder's lease behind its back: its signal aborts with a lease-lost reason.
    await client.revokeLease(holder.lease);
    await waitFor('the holder told', () => (holder.signal.aborted ? true : undefined), 20_000);
    expect(holder.signal.reason).toBeInstanceOf(KvClientError);
    expect((holder.signal.reason as KvClientError).code).toBe('KEEL_CLIENT_LEASE_LOST');
    await holder.release();
  }, 60_000);
});

describe('Election', () => {
  it('elects in campaign order, follows proclaims, and hands over on resign', async () => {
    const a = new Election(cluster.client(), 'elections/svc', { ttlSeconds: 10 });
    const b = new Election(cluster.client(), 'elections/svc', { ttlSeconds: 10 });
    expect(await a.leader()).toBeNull();
    const stop = new AbortController();
    const seen: (string | null)[] = [];
    const observing = (async () => {
      for await (const l of a.observe({ signal: stop.signal })) seen.push(show(l));
    })();
    await waitFor('the observer started', () => (seen.length === 1 ? true : undefined), 20_000);
    const la = await a.campaign('a-1');
    await waitFor('the observer to see a-1', () => (seen.includes('a-1') ? true : undefined), 20_000);
    let bLeads = false;
    const lb = b.campaign('b-1').then((l) => {
      bLeads = true;
      return l;
    });
    await waitFor(
      'b queued',
      async () => ((await queued('elections/svc/')) === 2 ? true : undefined),
      20_000,
    );
    await la.proclaim('a-2');
    expect(show(await b.leader())).toBe('a-2');
    expect(bLeads).toBe(false);
    await waitFor('the observer to see a-2', () => (seen.includes('a-2') ? true : undefined), 20_000);
    await la.resign();
    const won = await lb;
    expect(won.revision).toBeGreaterThan(la.revision);
    await expect(la.proclaim('a-3')).rejects.toThrow(/no longer the leader/);
    await won.resign();
    await waitFor(
      'the observer to see every leader',
      () => (seen.at(-1) === null && seen.includes('b-1') ? true : undefined),
      20_000,
    );
    stop.abort();
    await observing;
    // Every change, in order, each once (the first `null` is before anyone campaigned).
    expect(seen).toEqual([null, 'a-1', 'a-2', 'b-1', null]);
  }, 60_000);
});

function show(l: ElectionLeader | null): string | null {
  return l === null ? null : text(l.value);
}

/** How many contenders are queued under a prefix now. */
async function queued(prefix: string): Promise<number> {
  return (await cluster.client().scanAll({ prefix })).length;
}
