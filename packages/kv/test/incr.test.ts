import { Reader, Writer } from '@keel/core/codec';
import { afterEach, describe, expect, it } from 'vitest';
import {
  CommandCode,
  decodeEntry,
  encodeEntry,
  KvClient,
  KvStateMachine,
  readResult,
  writeResult,
} from '../src/index.js';
import { FakeCluster } from './fakeCluster.js';
import { b, Harness, hex, str, unhex } from './helpers.js';

describe('incr: the command on the wire', () => {
  it('encodes flags, session, key and the delta magnitude (0x02 marks a negative delta)', () => {
    const bytes = encodeEntry({
      time: 5,
      command: { type: 'incr', key: b('n'), delta: -3, session: { clientId: 2, seq: 7 } },
    });
    expect(CommandCode.incr).toBe(9);
    // version 1, time 5, type 9, flags session|negative, client 2, seq 7, key "n", magnitude 3
    expect(hex(bytes)).toBe('010509030207016e03');
    expect(decodeEntry(bytes).command).toEqual({
      type: 'incr',
      key: b('n'),
      delta: -3,
      session: { clientId: 2, seq: 7 },
    });
    const plain = encodeEntry({ time: 0, command: { type: 'incr', key: b('n'), delta: 1 } });
    expect(decodeEntry(plain).command).toEqual({ type: 'incr', key: b('n'), delta: 1 });
  });

  it('rejects -0, unknown flag bits and a delta that is not a safe integer', () => {
    expect(() => decodeEntry(unhex('010009 02 016e 00'))).toThrow(/-0/);
    expect(() => decodeEntry(unhex('010009 04 016e 01'))).toThrow(/flag/);
    expect(() => encodeEntry({ time: 0, command: { type: 'incr', key: b('n'), delta: 0.5 } })).toThrow(
      /safe integer/,
    );
  });

  it('its result round-trips, negative values included', () => {
    for (const value of [0, 7, -7, Number.MAX_SAFE_INTEGER]) {
      const w = new Writer();
      writeResult(w, { ok: true, type: 'incr', revision: 3, version: 2, value });
      expect(readResult(new Reader(w.finish()))).toEqual({
        ok: true,
        type: 'incr',
        revision: 3,
        version: 2,
        value,
      });
    }
  });
});

describe('incr: the state machine', () => {
  const incr = (h: Harness, key: string, delta: number, session?: { clientId: number; seq: number }) =>
    h.apply(
      session === undefined
        ? { type: 'incr', key: b(key), delta }
        : { type: 'incr', key: b(key), delta, session },
    );

  it('counts from an absent key as 0 and stores the sum in decimal', () => {
    const h = new Harness();
    expect(incr(h, 'n', 1)).toEqual({ ok: true, type: 'incr', revision: 1, version: 1, value: 1 });
    expect(incr(h, 'n', 41)).toEqual({ ok: true, type: 'incr', revision: 2, version: 2, value: 42 });
    expect(incr(h, 'n', -50)).toMatchObject({ value: -8 });
    expect(str(h.sm.get(b('n'))!.value)).toBe('-8');
    h.put('m', '10');
    expect(incr(h, 'm', 5)).toMatchObject({ ok: true, value: 15 });
  });

  it('refuses a key that does not hold a decimal integer, or a sum outside the safe range', () => {
    const h = new Harness();
    for (const v of ['abc', '', '01', '1.5', '+1', '9007199254740993']) {
      h.put('x', v);
      expect(incr(h, 'x', 1)).toMatchObject({ ok: false, code: 'not-an-integer' });
      expect(str(h.sm.get(b('x'))!.value)).toBe(v);
    }
    h.put('big', String(Number.MAX_SAFE_INTEGER));
    expect(incr(h, 'big', 1)).toMatchObject({ ok: false, code: 'not-an-integer' });
  });

  it('a retried increment under a session is counted once (dissertation §6.3)', () => {
    const h = new Harness();
    const clientId = h.register();
    const first = incr(h, 'n', 1, { clientId, seq: 1 });
    expect(incr(h, 'n', 1, { clientId, seq: 1 })).toEqual(first);
    expect(incr(h, 'n', 1, { clientId, seq: 2 })).toMatchObject({ value: 2 });
    expect(str(h.sm.get(b('n'))!.value)).toBe('2');
    // The cached result survives a snapshot: a retry on a restored member is still answered once.
    const restored = new Harness({}, new KvStateMachine());
    restored.sm.restore(h.sm.snapshotBytes());
    restored.index = h.index;
    expect(incr(restored, 'n', 1, { clientId, seq: 2 })).toMatchObject({ value: 2 });
  });
});

describe('stateHash', () => {
  it('is equal for members that applied the same entries and differs once they diverge', () => {
    const a = new Harness();
    const c = new Harness();
    for (const h of [a, c]) {
      h.put('k', 'v');
      h.register();
      h.apply({ type: 'incr', key: b('n'), delta: 2 });
    }
    expect(a.sm.stateHash()).toMatch(/^[0-9a-f]{8}$/);
    expect(a.sm.stateHash()).toBe(c.sm.stateHash());
    const before = a.sm.stateHash();
    a.put('k', 'w');
    expect(a.sm.stateHash()).not.toBe(before);
    expect(a.sm.stateHash()).not.toBe(c.sm.stateHash());
    const r = new KvStateMachine();
    r.restore(a.sm.snapshotBytes());
    expect(r.stateHash()).toBe(a.sm.stateHash());
  });
});

describe('KvClient.incr', () => {
  const clients: KvClient[] = [];
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close()));
  });

  it('returns the new value; a lost reply is retried in the session and counted once', async () => {
    const cluster = new FakeCluster(['n1', 'n2', 'n3'], 'n1');
    const kv = new KvClient({
      endpoints: cluster.endpoints,
      connect: cluster.connect,
      timeoutMs: 2000,
      attemptTimeoutMs: 100,
      backoffMs: { min: 1, max: 10 },
    });
    clients.push(kv);
    expect(await kv.incr('n')).toMatchObject({ ok: true, type: 'incr', value: 1 });
    cluster.member('n1').dropRepliesAfterApply = 1;
    expect(await kv.incr('n', 5)).toMatchObject({ ok: true, value: 6 });
    expect(str(cluster.store.sm.get(b('n'))!.value)).toBe('6');
    await kv.put('s', 'text');
    expect(await kv.incr('s')).toMatchObject({ ok: false, code: 'not-an-integer' });
  });
});
