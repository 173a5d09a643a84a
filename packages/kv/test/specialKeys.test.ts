import { SPECIAL_KEYS } from '@keel/core/testing';
import { describe, expect, it } from 'vitest';
import { KvClient, KvStateMachine } from '../src/index.js';
import { b, Harness, str } from './helpers.js';

/**
 * KV keys are bytes and must survive any content (issue #22): keys and values named after
 * Object.prototype members, empty, long or non-ASCII go through put, get, scan, delete, and a
 * snapshot and restore unchanged, and never reach a prototype.
 */
describe('keys and values special to JavaScript', () => {
  // The store refuses an empty key (a value may be empty).
  const keys = [...SPECIAL_KEYS.filter((k) => k !== ''), '\u00ff\u00fe', 'a'];

  it('put, get, scan, delete, snapshot and restore keep every one of them', () => {
    const h = new Harness();
    for (const k of keys) expect(h.put(k, k === 'a' ? '__proto__' : `v:${k}`)).toMatchObject({ ok: true });
    for (const k of keys) expect(str(h.sm.get(b(k))!.value)).toBe(k === 'a' ? '__proto__' : `v:${k}`);
    const all = h.sm.scan({ start: new Uint8Array(0), end: null }, 1000);
    const sorted = [...new Set(keys)].map(b).sort(Buffer.compare).map(str);
    expect(all.items.map((kv) => str(kv.key))).toEqual(sorted);

    const restored = new KvStateMachine();
    restored.restore(h.sm.snapshotBytes());
    expect(restored.scan({ start: new Uint8Array(0), end: null }, 1000)).toEqual(all);
    expect(restored.stateHash()).toBe(h.sm.stateHash());
    expect(restored.scan({ prefix: b('__') }, 10).items.map((kv) => str(kv.key))).toEqual(['__proto__']);

    for (const k of keys) expect(h.del(k)).toMatchObject({ ok: true });
    expect(h.sm.scan({ start: new Uint8Array(0), end: null }, 1000).items).toEqual([]);
    expect(Object.getPrototypeOf({})).toBe(Object.prototype);
    expect(({} as { polluted?: unknown }).polluted).toBeUndefined();
  });

  it('the client refuses a members map with an invalid id, and takes one named like a prototype member', () => {
    const connect = () => {
      throw new Error('not used');
    };
    expect(
      () => new KvClient({ endpoints: ['x:1'], connect, members: new Map([['__proto__', 'x:1']]) }),
    ).toThrow(/member id "__proto__" is invalid/);
    const kv = new KvClient({ endpoints: ['x:1'], connect, members: new Map([['constructor', 'x:1']]) });
    void kv.close();
  });
});
