import { afterEach, describe, expect, it } from 'vitest';
import { KvClient, KvClientErrorCode, type KvClientOptions } from '../src/index.js';
import { FakeCluster, failure } from './fakeCluster.js';

const clients: KvClient[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
});

function client(cluster: FakeCluster, options: Partial<KvClientOptions> = {}): KvClient {
  const c = new KvClient({
    endpoints: cluster.endpoints,
    connect: cluster.connect,
    members: cluster.directory,
    timeoutMs: 2000,
    attemptTimeoutMs: 100,
    backoffMs: { min: 1, max: 10 },
    ...options,
  });
  clients.push(c);
  return c;
}

const at = (cluster: FakeCluster, id: string, type: string) =>
  cluster.requests(type).filter((r) => r.endpoint === cluster.member(id).endpoint).length;

describe('KvClient: outcomes, one test per class', () => {
  it('not-applied: every member down, so nothing was ever sent', async () => {
    const cluster = new FakeCluster(['n1', 'n2', 'n3'], 'n1');
    for (const m of cluster.members.values()) m.mode = 'down';
    const kv = client(cluster, { timeoutMs: 200, session: false });
    const err = await failure(kv.put('a', '1'));
    expect(err.code).toBe(KvClientErrorCode.Unavailable);
    expect(err.outcome).toBe('not-applied');
    expect(err.outcomeUnknown).toBe(false);
    expect(cluster.notSent).toBeGreaterThan(0);
    expect(cluster.received).toEqual([]);
  });

  it('unknown: a member answered `stopped` (it may or may not have taken effect)', async () => {
    const cluster = new FakeCluster(['n1'], 'n1');
    cluster.member('n1').mode = 'stopped';
    const kv = client(cluster, { timeoutMs: 200, session: false });
    const err = await failure(kv.put('a', '1'));
    expect(err.code).toBe(KvClientErrorCode.Timeout);
    expect(err.outcome).toBe('unknown');
    expect(err.message).toContain('may or may not have been applied');
  });

  it('unknown: sent, then no answer before the deadline', async () => {
    const cluster = new FakeCluster(['n1'], 'n1');
    cluster.member('n1').dropRepliesAfterApply = 100;
    const kv = client(cluster, { timeoutMs: 300, session: false });
    const err = await failure(kv.put('a', '1'));
    expect(err.outcome).toBe('unknown');
  });

  it('applied: the store executed the write but answered something unusable', async () => {
    const cluster = new FakeCluster(['n1'], 'n1');
    cluster.member('n1').script.push({
      kind: 'result',
      result: { ok: true, type: 'delete', revision: 3, deleted: true },
    });
    const kv = client(cluster, { session: false });
    const err = await failure(kv.put('a', '1'));
    expect(err.code).toBe(KvClientErrorCode.Protocol);
    expect(err.outcome).toBe('applied');
  });

  it('a read that fails is never unknown', async () => {
    const cluster = new FakeCluster(['n1'], 'n1');
    cluster.member('n1').mode = 'stopped';
    const kv = client(cluster, { timeoutMs: 200 });
    expect((await failure(kv.get('a'))).outcome).toBe('not-applied');
  });
});

describe('KvClient: never waiting on the dead', () => {
  it('skips members whose channel is down, without sending to them again', async () => {
    const cluster = new FakeCluster(['n1', 'n2', 'n3'], 'n3');
    cluster.member('n1').mode = 'down';
    cluster.member('n2').mode = 'down';
    // Attempts long enough that a wait on a dead member would run out the deadline.
    const kv = client(cluster, { attemptTimeoutMs: 5000, timeoutMs: 4000 });
    for (let i = 0; i < 20; i++) expect((await kv.put(`k${i}`, 'v')).ok).toBe(true);
    expect((await kv.get('k0')).kv).not.toBeNull();
    // Each dead member refused one request (when the client did not yet know), then was skipped.
    expect(cluster.notSent).toBeLessThanOrEqual(2);
  });

  it('follows the leader hint of a `stopped` answer at once', async () => {
    const cluster = new FakeCluster(['n1', 'n2', 'n3'], 'n3');
    cluster.member('n1').forward = false;
    cluster.member('n1').script.push({ kind: 'error', code: 'stopped', message: 'bye', leaderHint: 'n3' });
    const kv = client(cluster, { session: false });
    expect((await kv.put('a', '1')).ok).toBe(true);
    expect(cluster.requests('put').map((r) => r.endpoint)).toEqual([
      cluster.member('n1').endpoint,
      cluster.member('n3').endpoint,
    ]);
  });

  it('hedges a read to the next member when the first stays silent', async () => {
    const cluster = new FakeCluster(['n1', 'n2'], 'n2');
    cluster.member('n1').mode = 'silent';
    // One attempt could never finish in time: only the hedge can answer before the deadline.
    const kv = client(cluster, {
      attemptTimeoutMs: 60_000,
      timeoutMs: 5000,
      hedgeDelayMs: { min: 1, max: 5 },
    });
    expect((await kv.get('a', { consistency: 'stale' })).kv).toBeNull();
    expect(at(cluster, 'n1', 'get')).toBe(1);
    expect(at(cluster, 'n2', 'get')).toBe(1);
  });

  it('hedges a session write, which still applies once', async () => {
    const cluster = new FakeCluster(['n1', 'n2'], 'n1');
    const kv = client(cluster, {
      attemptTimeoutMs: 60_000,
      timeoutMs: 5000,
      hedgeDelayMs: { min: 1, max: 5 },
    });
    await kv.put('a', '0'); // registers the session
    // n1 applies the next write and loses its answer; the hedge through n2 gets the cached one.
    cluster.member('n1').dropRepliesAfterApply = 1;
    const r = await kv.put('a', '1');
    expect(r.version).toBe(2);
    expect((await kv.get('a')).kv?.version).toBe(2);
    expect(at(cluster, 'n2', 'put')).toBe(1);
  });

  it('never hedges a write without a session', async () => {
    const cluster = new FakeCluster(['n1', 'n2'], 'n1');
    cluster.member('n1').mode = 'silent';
    const kv = client(cluster, {
      session: false,
      attemptTimeoutMs: 60_000,
      timeoutMs: 300,
      hedgeDelayMs: { min: 1, max: 5 },
    });
    const err = await failure(kv.put('a', '1'));
    expect(err.outcome).toBe('unknown');
    // n2 may get a retry once n1's attempt has timed out (at the deadline), never a hedge before.
    const [first, ...rest] = cluster.requests('put');
    expect(first?.endpoint).toBe(cluster.member('n1').endpoint);
    for (const r of rest) expect(r.at - first!.at).toBeGreaterThanOrEqual(250);
  });
});
