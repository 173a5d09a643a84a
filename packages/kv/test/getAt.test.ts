import { describe, expect, it } from 'vitest';
import { decodeEntry, encodeEntry, KvClient } from '../src/index.js';
import { FakeCluster } from './fakeCluster.js';
import { b, Harness, str } from './helpers.js';

const valueAt = (h: Harness, key: string, rev: number): string | null | { code: string } => {
  const r = h.sm.getAt(b(key), rev);
  if (!r.ok) return { code: r.code };
  return r.kv === null ? null : `${str(r.kv.value)}@${r.kv.modRevision}`;
};

describe('reads at a past revision (getAt)', () => {
  it('rebuilds a key at any revision the history window covers', () => {
    const h = new Harness();
    h.put('a', '1'); // 1
    h.put('a', '2'); // 2
    h.del('a'); // 3
    h.put('b', 'x'); // 4
    h.apply({
      type: 'txn',
      compare: [],
      success: [{ type: 'put', key: b('a'), value: b('3') }],
      failure: [],
    }); // 5
    expect([1, 2, 3, 4, 5].map((r) => valueAt(h, 'a', r))).toEqual(['1@1', '2@2', null, null, '3@5']);
    expect(valueAt(h, 'b', 3)).toBeNull();
    expect(valueAt(h, 'b', 5)).toBe('x@4');
    expect(valueAt(h, 'a', 6)).toEqual({ code: 'future-revision' });
  });

  it('refuses a revision older than the window as compacted, naming the oldest', () => {
    const h = new Harness({ watch: { maxEvents: 2 } });
    for (let i = 1; i <= 5; i++) h.put('k', String(i));
    expect(valueAt(h, 'k', 3)).toBe('3@3');
    const r = h.sm.getAt(b('k'), 2);
    expect(r).toMatchObject({
      ok: false,
      code: 'compacted',
      message: expect.stringMatching(/oldest revision available is 3/),
    });
  });

  it('travels as command getAt, through the client', async () => {
    const cmd = { type: 'getAt', key: b('k'), revision: 7 } as const;
    expect(decodeEntry(encodeEntry({ time: 1, command: cmd }).slice()).command).toEqual(cmd);
    const cluster = new FakeCluster(['n1', 'n2', 'n3'], 'n1');
    const kv = new KvClient({
      endpoints: cluster.endpoints,
      connect: cluster.connect,
      timeoutMs: 2000,
      attemptTimeoutMs: 100,
    });
    try {
      await kv.put('k', 'old');
      await kv.put('k', 'new');
      const r = await kv.getAt('k', 1);
      expect(r.ok && r.type === 'get' && r.kv !== null && str(r.kv.value)).toBe('old');
      expect(await kv.getAt('k', 99)).toMatchObject({ ok: false, code: 'future-revision' });
    } finally {
      await kv.close();
    }
  });
});
