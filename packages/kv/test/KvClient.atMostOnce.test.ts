import { afterEach, describe, expect, it } from 'vitest';
import { KvClient, KvClientErrorCode, type KvClientOptions } from '../src/index.js';
import { FakeCluster, failure } from './fakeCluster.js';

// `retryUnknownWrites: false` (what the one-shot CLI uses): a write without a session is retried
// only while it certainly has not run, so a lost answer never makes a `cas` or `incr` count twice.
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
    session: false,
    ...options,
  });
  clients.push(c);
  return c;
}

const counter = async (cluster: FakeCluster): Promise<string | undefined> => {
  const kv = client(cluster);
  const r = await kv.get('n');
  return r.kv === null ? undefined : new TextDecoder().decode(r.kv.value);
};

describe('KvClient without sessions, retryUnknownWrites: false', () => {
  it('gives up with outcome-unknown after a lost reply, and the incr counted once', async () => {
    const cluster = new FakeCluster(['n1'], 'n1');
    cluster.member('n1').dropRepliesAfterApply = 1;
    const kv = client(cluster, { retryUnknownWrites: false });
    const err = await failure(kv.incr('n'));
    expect(err.code).toBe(KvClientErrorCode.OutcomeUnknown);
    expect(err.outcome).toBe('unknown');
    expect(err.message).toContain('may or may not have been applied');
    expect(cluster.requests('incr')).toHaveLength(1);
    expect(await counter(cluster)).toBe('1');
  });

  it('the default (at-least-once) retries the same incr and counts it twice', async () => {
    const cluster = new FakeCluster(['n1'], 'n1');
    cluster.member('n1').dropRepliesAfterApply = 1;
    const kv = client(cluster);
    const r = await kv.incr('n');
    expect(r.ok).toBe(true);
    expect(cluster.requests('incr')).toHaveLength(2);
    expect(await counter(cluster)).toBe('2');
  });

  it('does not retry a `stopped` answer (the member may have run it)', async () => {
    const cluster = new FakeCluster(['n1', 'n2'], 'n1');
    cluster.member('n1').mode = 'stopped';
    const kv = client(cluster, { retryUnknownWrites: false });
    const err = await failure(kv.put('a', '1'));
    expect(err.code).toBe(KvClientErrorCode.OutcomeUnknown);
    expect(cluster.requests('put')).toHaveLength(1);
  });

  it('still retries what certainly did not run: not-leader, and a member that is down', async () => {
    const cluster = new FakeCluster(['n1', 'n2', 'n3'], 'n3');
    cluster.member('n1').mode = 'down';
    cluster.member('n2').forward = false;
    const kv = client(cluster, { retryUnknownWrites: false });
    const r = await kv.cas('a', { value: null }, '1');
    expect(r.ok).toBe(true);
    expect(cluster.requests('cas').map((x) => x.endpoint)).toEqual([
      cluster.member('n2').endpoint,
      cluster.member('n3').endpoint,
    ]);
  });

  it('a write with a session is unaffected (retried, applied once)', async () => {
    const cluster = new FakeCluster(['n1'], 'n1');
    cluster.member('n1').dropRepliesAfterApply = 1;
    const kv = client(cluster, { session: true, retryUnknownWrites: false });
    expect((await kv.incr('n')).ok).toBe(true);
    expect(await counter(cluster)).toBe('1');
  });
});
