import { EntryType } from '@keel/core';
import { describe, expect, it } from 'vitest';
import { encodeEntry, KvStateMachine } from '../src/index.js';
import { b, Harness, str } from './helpers.js';

describe('put and get', () => {
  it('a put creates a key at version 1; the store revision counts every write', () => {
    const h = new Harness();
    expect(h.sm.revision).toBe(0);
    expect(h.put('a', '1')).toEqual({ ok: true, type: 'put', revision: 1, version: 1 });
    expect(h.put('b', '2')).toEqual({ ok: true, type: 'put', revision: 2, version: 1 });
    expect(h.put('a', '3')).toEqual({ ok: true, type: 'put', revision: 3, version: 2 });
    expect(h.sm.get(b('a'))).toEqual({
      key: b('a'),
      value: b('3'),
      version: 2,
      createRevision: 1,
      modRevision: 3,
    });
    expect(h.sm.revision).toBe(3);
    expect(h.sm.size).toBe(2);
  });

  it('a get through the log reads the state at its position in the log and writes nothing', () => {
    const h = new Harness();
    expect(h.apply({ type: 'get', key: b('a') })).toEqual({ ok: true, type: 'get', revision: 0, kv: null });
    h.put('a', 'x');
    const r = h.apply({ type: 'get', key: b('a') });
    expect(r).toEqual({
      ok: true,
      type: 'get',
      revision: 1,
      kv: { key: b('a'), value: b('x'), version: 1, createRevision: 1, modRevision: 1 },
    });
    expect(h.sm.revision).toBe(1);
  });

  it('keys and values are bytes: binary keys, empty values, keys that differ only in length', () => {
    const h = new Harness();
    const k1 = Uint8Array.of(0, 0xff, 0x80);
    const k2 = Uint8Array.of(0, 0xff);
    h.apply({ type: 'put', key: k1, value: new Uint8Array(0) });
    h.apply({ type: 'put', key: k2, value: Uint8Array.of(1) });
    expect(h.sm.get(k1)?.value).toEqual(new Uint8Array(0));
    expect(h.sm.get(k2)?.value).toEqual(Uint8Array.of(1));
    expect(h.sm.get(Uint8Array.of(0))).toBeNull();
  });

  it('stores copies: changing the entry bytes afterwards does not change the store', () => {
    const sm = new KvStateMachine();
    const data = encodeEntry({ time: 1, command: { type: 'put', key: b('k'), value: b('v') } }).slice();
    sm.apply({ index: 1, term: 1, type: EntryType.Normal, data });
    data.fill(0);
    expect(str(sm.get(b('k'))!.value)).toBe('v');
  });
});

describe('delete', () => {
  it('removes the key and creates a revision; deleting an absent key changes nothing', () => {
    const h = new Harness();
    h.put('a', '1');
    expect(h.del('a')).toEqual({ ok: true, type: 'delete', revision: 2, deleted: true });
    expect(h.sm.get(b('a'))).toBeNull();
    expect(h.del('a')).toEqual({ ok: true, type: 'delete', revision: 2, deleted: false });
    expect(h.sm.revision).toBe(2);
  });

  it('a key created again after a delete starts over at version 1 with a new create revision', () => {
    const h = new Harness();
    h.put('a', '1');
    h.put('a', '2');
    h.del('a');
    expect(h.put('a', '3')).toEqual({ ok: true, type: 'put', revision: 4, version: 1 });
    expect(h.sm.get(b('a'))).toMatchObject({ version: 1, createRevision: 4, modRevision: 4 });
  });
});

describe('compare-and-swap', () => {
  it('on an absent key: expecting absence (value null or version 0) succeeds and creates it', () => {
    const h = new Harness();
    expect(h.cas('a', { value: null }, '1')).toEqual({ ok: true, type: 'cas', revision: 1, version: 1 });
    expect(h.cas('b', { version: 0 }, '1')).toEqual({ ok: true, type: 'cas', revision: 2, version: 1 });
  });

  it('on an absent key: expecting a value or a version fails with compare-failed and current null', () => {
    const h = new Harness();
    expect(h.cas('a', { value: b('x') }, '1')).toEqual({
      ok: false,
      code: 'compare-failed',
      message: 'expected a value of 1 byte(s), found absent',
      revision: 0,
      current: null,
    });
    expect(h.cas('a', { version: 1 }, '1')).toMatchObject({
      ok: false,
      code: 'compare-failed',
      current: null,
    });
    expect(h.sm.get(b('a'))).toBeNull();
    expect(h.sm.revision).toBe(0);
  });

  it('by version: succeeds only on the current version', () => {
    const h = new Harness();
    h.put('a', '1');
    h.put('a', '2'); // version 2
    expect(h.cas('a', { version: 1 }, 'x')).toMatchObject({
      ok: false,
      code: 'compare-failed',
      revision: 2,
      current: { value: b('2'), version: 2, modRevision: 2 },
    });
    expect(h.cas('a', { version: 0 }, 'x')).toMatchObject({ ok: false, code: 'compare-failed' });
    expect(h.cas('a', { version: 2 }, 'x')).toEqual({ ok: true, type: 'cas', revision: 3, version: 3 });
    expect(str(h.sm.get(b('a'))!.value)).toBe('x');
  });

  it('by value: compares bytes, and expecting absence fails on a present key', () => {
    const h = new Harness();
    h.put('a', 'old');
    expect(h.cas('a', { value: b('ol') }, 'new')).toMatchObject({ ok: false, code: 'compare-failed' });
    expect(h.cas('a', { value: null }, 'new')).toMatchObject({ ok: false, code: 'compare-failed' });
    expect(h.cas('a', { value: b('old') }, 'new')).toEqual({
      ok: true,
      type: 'cas',
      revision: 2,
      version: 2,
    });
  });

  it('an empty value is a value, not absence', () => {
    const h = new Harness();
    h.put('a', '');
    expect(h.cas('a', { value: null }, 'x')).toMatchObject({ ok: false, code: 'compare-failed' });
    expect(h.cas('a', { value: new Uint8Array(0) }, 'x')).toMatchObject({ ok: true, version: 2 });
  });

  it('a null new value deletes the key when the comparison holds', () => {
    const h = new Harness();
    h.put('a', '1');
    expect(h.cas('a', { version: 1 }, null)).toEqual({ ok: true, type: 'cas', revision: 2, version: 0 });
    expect(h.sm.get(b('a'))).toBeNull();
    // Deleting what is already absent holds and changes nothing.
    expect(h.cas('a', { version: 0 }, null)).toEqual({ ok: true, type: 'cas', revision: 2, version: 0 });
  });
});

describe('entries that are not commands', () => {
  it('answer invalid-command without changing anything, and never throw', () => {
    const h = new Harness();
    h.put('a', '1');
    for (const data of [
      new Uint8Array(0),
      Uint8Array.of(9, 0, 1),
      Uint8Array.of(1, 0, 99),
      Uint8Array.of(1, 0, 1, 0, 0),
    ]) {
      const r = h.sm.apply({ index: ++h.index, term: 1, type: EntryType.Normal, data });
      expect(r).toMatchObject({ ok: false, code: 'invalid-command' });
    }
    expect(h.sm.revision).toBe(1);
  });
});

describe('options', () => {
  it('rejects nonsense settings', () => {
    expect(() => new KvStateMachine({ sessionTimeoutMs: 0 })).toThrow(RangeError);
    expect(() => new KvStateMachine({ maxSessions: 1.5 })).toThrow(RangeError);
  });
});

describe('size in bytes', () => {
  it('counts live keys and values through puts, overwrites, deletes, cas, incr and a restore', () => {
    const h = new Harness();
    expect(h.sm.bytes).toBe(0);
    h.put('ab', 'xyz'); // 2 + 3
    h.put('c', ''); // 1 + 0
    expect(h.sm.bytes).toBe(6);
    h.put('ab', 'x'); // value 3 -> 1
    expect(h.sm.bytes).toBe(4);
    h.cas('c', { version: 1 }, 'four');
    expect(h.sm.bytes).toBe(8);
    h.apply({ type: 'incr', key: b('n'), delta: 10 }); // 1 + 2
    expect(h.sm.bytes).toBe(11);
    h.del('ab');
    h.del('missing');
    expect(h.sm.bytes).toBe(8);
    const copy = new KvStateMachine();
    copy.restore(h.sm.snapshotBytes());
    expect(copy.bytes).toBe(8);
  });
});
