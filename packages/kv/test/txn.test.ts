import { EntryType } from '@keel/core';
import { Reader, Writer } from '@keel/core/codec';
import { describe, expect, it } from 'vitest';
import { defaultWriter } from '../src/commands.js';
import {
  CommandCode,
  DEFAULT_KV_LIMITS,
  decodeEntry,
  ENTRY_VERSION,
  encodeEntry,
  KvClient,
  type KvResult,
  KvStateMachine,
  readResult,
  writeResult,
} from '../src/index.js';
import { MAX_TXN_OPS, type TxnCommand, writeTxnBody } from '../src/txn.js';
import { FakeCluster } from './fakeCluster.js';
import { b, Harness, str } from './helpers.js';

function txn(h: Harness, cmd: Omit<TxnCommand, 'type'>): KvResult {
  return h.apply({ type: 'txn', ...cmd });
}

describe('transactions', () => {
  it('runs then when every compare holds, all writes at one revision, reads seeing earlier writes', () => {
    const h = new Harness();
    h.put('a', '1');
    h.put('b', '2');
    const r = txn(h, {
      compare: [
        { key: b('a'), target: 'value', op: '=', value: b('1') },
        { key: b('b'), target: 'version', op: '>', value: 0 },
        { key: b('c'), target: 'exists', op: '=', value: false },
        { key: b('a'), target: 'modRevision', op: '<', value: 2 },
      ],
      success: [
        { type: 'put', key: b('a'), value: b('10') },
        { type: 'delete', key: b('b') },
        { type: 'put', key: b('c'), value: b('30') },
        { type: 'get', key: b('a') },
        { type: 'range', range: { prefix: b('') }, limit: 10 },
      ],
      failure: [],
    });
    expect(r.ok && r.type === 'txn' && r.succeeded).toBe(true);
    if (!r.ok || r.type !== 'txn') throw new Error('not a txn result');
    expect(r.revision).toBe(3);
    expect(r.results.map((x) => x.type)).toEqual(['put', 'delete', 'put', 'get', 'range']);
    expect(r.results[0]).toEqual({ type: 'put', version: 2 });
    expect(r.results[1]).toEqual({ type: 'delete', deleted: true });
    const got = r.results[3];
    expect(got?.type === 'get' && got.kv !== null && [str(got.kv.value), got.kv.modRevision]).toEqual([
      '10',
      3,
    ]);
    const range = r.results[4];
    expect(
      range?.type === 'range' && range.items.map((kv) => `${str(kv.key)}=${str(kv.value)}@${kv.modRevision}`),
    ).toEqual(['a=10@3', 'c=30@3']);
    expect(h.sm.revision).toBe(3);
    expect(h.sm.get(b('c'))).toMatchObject({ createRevision: 3, version: 1 });
    // A watch sees the three writes together, at revision 3.
    const w = h.sm.watches.create({ prefix: b('') }, { from: 3 });
    if (w.kind !== 'created') throw new Error('not created');
    const p = h.sm.watches.poll(w.id);
    expect(
      p.kind === 'events' && p.events.map((e) => `${e.type} ${str(e.kv.key)}@${e.kv.modRevision}`),
    ).toEqual(['put a@3', 'delete b@3', 'put c@3']);
  });

  it('runs else when a compare fails; a branch that writes nothing leaves the revision alone', () => {
    const h = new Harness();
    h.put('a', '1');
    const r = txn(h, {
      compare: [{ key: b('missing'), target: 'value', op: '!=', value: b('x') }],
      success: [{ type: 'put', key: b('a'), value: b('no') }],
      failure: [
        { type: 'get', key: b('a') },
        { type: 'delete', key: b('missing') },
      ],
    });
    expect(r).toMatchObject({ ok: true, type: 'txn', succeeded: false, revision: 1 });
    expect(h.sm.revision).toBe(1);
    expect(str(h.sm.get(b('a'))!.value)).toBe('1');
  });

  it('compares absent keys as version and revisions 0, and values bytewise', () => {
    const h = new Harness();
    h.put('k', 'abc');
    const holds = (compare: TxnCommand['compare'][number]) =>
      (txn(h, { compare: [compare], success: [], failure: [] }) as { succeeded: boolean }).succeeded;
    expect(holds({ key: b('none'), target: 'version', op: '=', value: 0 })).toBe(true);
    expect(holds({ key: b('none'), target: 'createRevision', op: '<', value: 1 })).toBe(true);
    expect(holds({ key: b('none'), target: 'exists', op: '!=', value: true })).toBe(true);
    expect(holds({ key: b('k'), target: 'value', op: '<', value: b('abd') })).toBe(true);
    expect(holds({ key: b('k'), target: 'value', op: '>', value: b('ab') })).toBe(true);
    expect(holds({ key: b('k'), target: 'value', op: '!=', value: b('abc') })).toBe(false);
    expect(holds({ key: b('k'), target: 'createRevision', op: '=', value: 1 })).toBe(true);
  });

  it('refuses a branch writing one key twice and too many operations, as invalid-command', () => {
    const h = new Harness();
    const dupCmd: TxnCommand = {
      type: 'txn',
      compare: [],
      success: [
        { type: 'put', key: b('a'), value: b('1') },
        { type: 'delete', key: b('a') },
      ],
      failure: [],
    };
    expect(() => encodeEntry({ time: 1, command: dupCmd })).toThrow(/writes one key twice/);
    // An entry that carries one anyway (the encoder refuses it; a member must still agree on it).
    const w = new Writer();
    w.u8(ENTRY_VERSION);
    w.varint(1);
    w.u8(CommandCode.txn);
    w.u8(0);
    writeTxnBody(w, dupCmd);
    const dup = h.sm.apply({ index: 1, term: 1, type: EntryType.Normal, data: w.finish().slice() });
    expect(dup).toMatchObject({
      ok: false,
      code: 'invalid-command',
      message: expect.stringMatching(/one key twice/),
    });
    const many = Array.from({ length: MAX_TXN_OPS + 1 }, (_, i) => ({
      type: 'get' as const,
      key: b(`k${i}`),
    }));
    expect(() =>
      encodeEntry({ time: 1, command: { type: 'txn', compare: [], success: many, failure: [] } }),
    ).toThrow(/129 then operations; the limit is 128/);
    expect(h.sm.revision).toBe(0);
  });

  it('gives the range results of one transaction one scan budget', () => {
    const h = new Harness({ limits: { ...DEFAULT_KV_LIMITS, maxScanLimit: 3 } });
    for (const k of ['a', 'b', 'c', 'd']) h.put(k, 'v');
    const r = txn(h, {
      compare: [],
      success: [
        { type: 'range', range: { prefix: b('') }, limit: 2 },
        { type: 'range', range: { prefix: b('') }, limit: 3 },
        { type: 'range', range: { prefix: b('') }, limit: 3 },
      ],
      failure: [],
    });
    if (!r.ok || r.type !== 'txn') throw new Error('not a txn result');
    expect(r.results.map((x) => (x.type === 'range' ? [x.items.length, x.more] : null))).toEqual([
      [2, true],
      [1, true],
      [0, true],
    ]);
  });

  it('round-trips through the entry and result codecs, and is executed once within a session', () => {
    const cmd: TxnCommand = {
      type: 'txn',
      compare: [
        { key: b('a'), target: 'exists', op: '=', value: true },
        { key: b('a'), target: 'value', op: '>', value: b('0') },
        { key: b('a'), target: 'modRevision', op: '!=', value: 7 },
      ],
      success: [
        { type: 'put', key: b('a'), value: b('v') },
        { type: 'range', range: { start: b('a'), end: b('z') }, limit: 5 },
      ],
      failure: [
        { type: 'range', range: { prefix: b('p') }, limit: 1 },
        { type: 'delete', key: b('q') },
      ],
      session: { clientId: 3, seq: 9 },
    };
    const entry = encodeEntry({ time: 5, command: cmd }).slice();
    expect(decodeEntry(entry)).toEqual({ time: 5, command: cmd });
    const h = new Harness();
    const id = h.register();
    const once = { ...cmd, compare: [], session: { clientId: id, seq: 1 } };
    const first = h.apply(once);
    expect(h.apply(once)).toEqual(first);
    expect(h.sm.revision).toBe(1);
    const w = defaultWriter();
    writeResult(w, first);
    expect(readResult(new Reader(w.finish().slice()))).toEqual(first);
    expect(new KvStateMachine().revision).toBe(0);
  });
});

describe('KvClient.txn', () => {
  it('creates a key only if absent (a lock), runs else otherwise, and reads in the same revision', async () => {
    const cluster = new FakeCluster(['n1', 'n2', 'n3'], 'n2');
    const kv = new KvClient({
      endpoints: cluster.endpoints,
      connect: cluster.connect,
      timeoutMs: 2000,
      attemptTimeoutMs: 100,
      backoffMs: { min: 1, max: 10 },
    });
    try {
      const lock = {
        compare: [{ key: 'lock', exists: false }],
        success: [{ put: 'lock', value: 'me' }],
        failure: [{ get: 'lock' }],
      };
      const first = await kv.txn(lock);
      expect(first).toMatchObject({ succeeded: true, results: [{ type: 'put', version: 1 }] });
      const second = await kv.txn(lock);
      expect(second.succeeded).toBe(false);
      const held = second.results[0];
      expect(held?.type === 'get' && held.kv !== null && str(held.kv.value)).toBe('me');
      const moved = await kv.txn({
        compare: [
          { key: 'lock', value: 'me' },
          { key: 'lock', modRevision: first.revision, op: '=' },
        ],
        success: [{ delete: 'lock' }, { put: 'owner', value: 'you' }, { range: { prefix: '' } }],
      });
      expect(moved.succeeded).toBe(true);
      const range = moved.results[2];
      expect(range?.type === 'range' && range.items.map((i) => str(i.key))).toEqual(['owner']);
      expect(moved.revision).toBe(first.revision + 1);
    } finally {
      await kv.close();
    }
  });
});
