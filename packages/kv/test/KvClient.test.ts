import { afterEach, describe, expect, it } from 'vitest';
import { KvClient, KvClientErrorCode, type KvClientOptions } from '../src/index.js';
import { FakeCluster, failure } from './fakeCluster.js';
import { str } from './helpers.js';

const clients: KvClient[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
});

function client(cluster: FakeCluster, options: Partial<KvClientOptions> = {}): KvClient {
  const c = new KvClient({
    endpoints: cluster.endpoints,
    connect: cluster.connect,
    timeoutMs: 2000,
    attemptTimeoutMs: 100,
    backoffMs: { min: 1, max: 10 },
    ...options,
  });
  clients.push(c);
  return c;
}

const sessionOf = (r: { request: { command: unknown } }) =>
  (r.request.command as { session?: { clientId: number; seq: number } }).session;

describe('KvClient: finding the leader', () => {
  it('writes through a follower that forwards, over one channel per endpoint', async () => {
    const cluster = new FakeCluster(['n1', 'n2', 'n3'], 'n3');
    const kv = client(cluster);
    expect(await kv.put('a', '1')).toEqual({ ok: true, type: 'put', revision: 1, version: 1 });
    const got = await kv.get('a');
    expect(got.kv && str(got.kv.value)).toBe('1');
    expect(cluster.opened).toEqual(['127.0.0.1:7201']);
    expect(cluster.received.map((r) => r.endpoint)).toEqual(Array(3).fill('127.0.0.1:7201'));
  });

  it('follows a leader hint straight to the leader when it knows the member ids', async () => {
    const cluster = new FakeCluster(['n1', 'n2', 'n3'], 'n3');
    for (const m of cluster.members.values()) m.forward = false;
    const kv = client(cluster, { members: cluster.directory });
    await kv.put('a', '1');
    // registerSession: n1 says "n3", n3 registers; the put then starts at n3, the last that answered.
    expect(cluster.received.map((r) => `${r.endpoint} ${r.request.command.type}`)).toEqual([
      '127.0.0.1:7201 registerSession',
      '127.0.0.1:7203 registerSession',
      '127.0.0.1:7203 put',
    ]);
  });

  it('without ids, tries the next endpoint on not-leader until one accepts', async () => {
    const cluster = new FakeCluster(['n1', 'n2', 'n3'], 'n3');
    for (const m of cluster.members.values()) m.forward = false;
    const kv = client(cluster, { session: false });
    await kv.put('a', '1');
    expect(cluster.received.map((r) => r.endpoint)).toEqual([
      '127.0.0.1:7201',
      '127.0.0.1:7202',
      '127.0.0.1:7203',
    ]);
  });

  it('moves past a silent member (attempt timeout) and a stopping one', async () => {
    const cluster = new FakeCluster(['n1', 'n2', 'n3'], 'n3');
    cluster.member('n1').mode = 'silent';
    cluster.member('n2').mode = 'stopped';
    const kv = client(cluster);
    expect((await kv.put('a', '1')).ok).toBe(true);
    expect(cluster.store.sm.revision).toBe(1);
  });

  it('waits out an election: not-leader without a hint, then a new leader', async () => {
    const cluster = new FakeCluster(['n1', 'n2', 'n3'], null);
    const kv = client(cluster, { session: false });
    const put = kv.put('a', '1');
    setTimeout(() => {
      cluster.leader = 'n2';
    }, 50);
    expect((await put).ok).toBe(true);
    expect(cluster.requests('put').length).toBeGreaterThan(1);
  });

  it('rides out a leader change while many writes are in flight', async () => {
    const cluster = new FakeCluster(['n1', 'n2', 'n3'], 'n1');
    const kv = client(cluster);
    const writes = Array.from({ length: 200 }, (_v, i) => kv.put(`k${i}`, `v${i}`));
    setTimeout(() => {
      cluster.member('n1').mode = 'silent'; // killed
      setTimeout(() => {
        cluster.leader = 'n2';
      }, 30);
    }, 1);
    const results = await Promise.all(writes);
    expect(results.every((r) => r.ok)).toBe(true);
    for (let i = 0; i < 200; i++) {
      const kvi = cluster.store.sm.get(new TextEncoder().encode(`k${i}`));
      expect(kvi && str(kvi.value)).toBe(`v${i}`);
      // Exactly once: the first write of a key gives version 1, a re-execution would make it 2.
      expect(kvi?.version).toBe(1);
    }
  });
});

describe('KvClient: exactly-once retries', () => {
  it('retries a write whose reply was lost with the same session and seq; it applies once', async () => {
    const cluster = new FakeCluster(['n1', 'n2', 'n3'], 'n1');
    const kv = client(cluster);
    await kv.put('counter', '0');
    cluster.member('n1').dropRepliesAfterApply = 1;
    const r = await kv.cas('counter', { value: '0' }, '1');
    // The retry got the cached answer of the first execution, not compare-failed.
    expect(r).toEqual({ ok: true, type: 'cas', revision: 2, version: 2 });
    const cas = cluster.requests('cas');
    expect(cas.length).toBe(2);
    expect(sessionOf(cas[0]!)).toEqual(sessionOf(cas[1]!));
    expect(sessionOf(cas[0]!)?.seq).toBe(2);
    expect(cluster.store.sm.revision).toBe(2);
  });

  it('retries a member timeout with the same seq', async () => {
    const cluster = new FakeCluster(['n1', 'n2', 'n3'], 'n1');
    const kv = client(cluster);
    await kv.put('first', '1');
    cluster
      .member('n1')
      .script.push(
        { kind: 'error', code: 'timeout', message: 'not committed in time', leaderHint: 'n1' },
        { kind: 'error', code: 'proposal-dropped', message: 'lost leadership', leaderHint: null },
      );
    expect((await kv.put('x', 'y')).ok).toBe(true);
    const puts = cluster.requests('put').slice(1);
    expect(puts.length).toBeGreaterThanOrEqual(2);
    expect(new Set(puts.map((p) => JSON.stringify(sessionOf(p)))).size).toBe(1);
    expect(cluster.store.sm.revision).toBe(2);
  });

  it('numbers writes 1, 2, 3 within a session and keeps one write in flight per session', async () => {
    const cluster = new FakeCluster(['n1'], 'n1');
    const kv = client(cluster, { sessions: 2 });
    await Promise.all(Array.from({ length: 10 }, (_v, i) => kv.put(`k${i}`, 'v')));
    expect(cluster.requests('registerSession').length).toBe(2);
    const seqs = new Map<number, number[]>();
    for (const p of cluster.requests('put')) {
      const s = sessionOf(p);
      if (s === undefined) throw new Error('put without a session');
      seqs.set(s.clientId, [...(seqs.get(s.clientId) ?? []), s.seq]);
    }
    for (const list of seqs.values()) expect(list).toEqual(list.map((_v, i) => i + 1));
    expect([...seqs.values()].flat().length).toBe(10);
  });

  it('sends writes without a session when sessions are off', async () => {
    const cluster = new FakeCluster(['n1'], 'n1');
    const kv = client(cluster, { session: false });
    await kv.put('a', '1');
    await kv.delete('a');
    expect(cluster.requests('registerSession')).toEqual([]);
    expect(cluster.received.map(sessionOf)).toEqual([undefined, undefined]);
  });

  it('re-registers transparently when the session expired before the write ran', async () => {
    const cluster = new FakeCluster(['n1'], 'n1', { sessionTimeoutMs: 1000 });
    const kv = client(cluster);
    await kv.put('a', '1');
    cluster.store.advance(5000);
    expect((await kv.put('a', '2')).version).toBe(2);
    expect(cluster.requests('registerSession').length).toBe(2);
  });

  it('reports KEEL_CLIENT_SESSION_EXPIRED when a retried write meets an expired session', async () => {
    const cluster = new FakeCluster(['n1'], 'n1', { sessionTimeoutMs: 1000 });
    const kv = client(cluster);
    await kv.put('a', '1');
    cluster.member('n1').dropRepliesAfterApply = 1;
    const put = kv.put('a', '2');
    // The first attempt applied and lost its reply; the session expires before the retry lands.
    await new Promise((r) => setTimeout(r, 20));
    cluster.store.advance(5000);
    cluster.store.apply({ type: 'registerSession' }); // any entry moves the log clock
    const err = await failure(put);
    expect(err.code).toBe(KvClientErrorCode.SessionExpired);
    expect(err.outcomeUnknown).toBe(true);
    // The next write gets a new session.
    expect((await kv.put('b', '1')).ok).toBe(true);
  });
});

describe('KvClient: results and errors', () => {
  it('returns compare-failed as a result with the current value', async () => {
    const cluster = new FakeCluster(['n1'], 'n1');
    const kv = client(cluster);
    await kv.put('k', 'old');
    const r = await kv.cas('k', { version: 7 }, 'new');
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.code).toBe('compare-failed');
    expect(r.current && str(r.current.value)).toBe('old');
    expect(await kv.cas('k', { value: 'old' }, null)).toMatchObject({ ok: true, version: 0 });
    expect((await kv.get('k')).kv).toBeNull();
    expect(await kv.cas('k', { value: null }, new Uint8Array([1, 2]))).toMatchObject({
      ok: true,
      version: 1,
    });
  });

  it('scans in pages, as an async iterator or an array', async () => {
    const cluster = new FakeCluster(['n1'], 'n1');
    const kv = client(cluster);
    for (let i = 0; i < 25; i++) await kv.put(`user/${String(i).padStart(2, '0')}`, `${i}`);
    await kv.put('other', 'x');
    const first = await kv.scan({ prefix: 'user/' }, { limit: 10 });
    expect(first.items.length).toBe(10);
    expect(first.more).toBe(true);
    expect(str(first.after as Uint8Array)).toBe('user/09');
    const pages = [];
    for await (const p of kv.scanPages({ prefix: 'user/' }, { limit: 10 })) pages.push(p.items.length);
    expect(pages).toEqual([10, 10, 5]);
    const all = await kv.scanAll({ start: 'user/20', end: null }, { limit: 2, consistency: 'stale' });
    expect(all.map((x) => str(x.key))).toEqual(['user/20', 'user/21', 'user/22', 'user/23', 'user/24']);
    expect((await kv.scanAll({ start: 'a', end: 'p' })).map((x) => str(x.key))).toEqual(['other']);
  });

  it('refuses a bad request locally, before sending anything', async () => {
    const cluster = new FakeCluster(['n1'], 'n1');
    const kv = client(cluster);
    const err = await failure(kv.put('', 'x'));
    expect(err.code).toBe(KvClientErrorCode.BadRequest);
    expect(err.message).toContain('key-empty');
    expect((await failure(kv.scan({ prefix: 'a' }, { limit: 0 }))).code).toBe(KvClientErrorCode.BadRequest);
    expect(cluster.received).toEqual([]);
  });

  it('maps a member bad-request and unsupported to typed errors without retrying', async () => {
    const cluster = new FakeCluster(['n1'], 'n1');
    cluster
      .member('n1')
      .script.push({ kind: 'error', code: 'bad-request', message: 'nope', leaderHint: null });
    const kv = client(cluster, { session: false });
    expect((await failure(kv.put('a', '1'))).code).toBe(KvClientErrorCode.BadRequest);
    expect((await failure(kv.get('a', { consistency: 'lease' }))).code).toBe(KvClientErrorCode.Unsupported);
    expect(cluster.received.length).toBe(2);
  });

  it('gives up with KEEL_CLIENT_UNAVAILABLE when no member answers', async () => {
    const cluster = new FakeCluster(['n1', 'n2'], 'n1');
    for (const m of cluster.members.values()) m.mode = 'silent';
    const kv = client(cluster, { timeoutMs: 300 });
    const t0 = Date.now();
    const err = await failure(kv.get('a'));
    expect(err.code).toBe(KvClientErrorCode.Unavailable);
    expect(err.outcomeUnknown).toBe(false);
    expect(Date.now() - t0).toBeLessThan(1000);
    const w = await failure(kv.put('a', '1', { timeoutMs: 200 }));
    expect(w.code).toBe(KvClientErrorCode.Unavailable);
  });

  it('gives up with KEEL_CLIENT_TIMEOUT when members answer but no leader emerges', async () => {
    const cluster = new FakeCluster(['n1', 'n2'], null);
    const kv = client(cluster, { timeoutMs: 200, session: false });
    const err = await failure(kv.put('a', '1'));
    expect(err.code).toBe(KvClientErrorCode.Timeout);
    expect(err.outcomeUnknown).toBe(false);
    expect(err.message).toContain('it was not applied');
    expect(err.attempts).toBeGreaterThan(2);
  });

  it('marks a write whose attempts timed out as outcome unknown', async () => {
    const cluster = new FakeCluster(['n1'], 'n1');
    cluster.member('n1').dropRepliesAfterApply = 100;
    const kv = client(cluster, { timeoutMs: 300, session: false });
    const err = await failure(kv.put('a', '1'));
    expect(err.outcomeUnknown).toBe(true);
    expect(err.code).toBe(KvClientErrorCode.Unavailable);
  });

  it('close() fails operations in flight with KEEL_CLIENT_CLOSED, ends sessions and closes channels', async () => {
    const cluster = new FakeCluster(['n1', 'n2'], 'n1');
    const kv = client(cluster);
    await kv.put('a', '1');
    cluster.member('n2').mode = 'silent';
    cluster.member('n1').mode = 'silent';
    const pending = kv.get('a');
    const t0 = Date.now();
    await kv.close(); // its closeSession gets no answer either: close gives up on it after 500 ms
    expect(Date.now() - t0).toBeLessThan(1500);
    expect((await failure(pending)).code).toBe(KvClientErrorCode.Closed);
    expect(cluster.requests('closeSession').length).toBeGreaterThanOrEqual(1);
    expect(cluster.closedChannels).toBe(cluster.opened.length);
    expect((await failure(kv.put('b', '1'))).code).toBe(KvClientErrorCode.Closed);
  });
});
