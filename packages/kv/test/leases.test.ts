import { Reader, Writer } from '@keel/core/codec';
import { describe, expect, it } from 'vitest';
import { crc32 } from '../src/crc32.js';
import {
  decodeEntry,
  encodeEntry,
  type KvCommand,
  type KvResult,
  KvStateMachine,
  readResult,
  writeResult,
} from '../src/index.js';
import { b, Harness, hex, str } from './helpers.js';

function grant(h: Harness, ttlSeconds = 10): number {
  const r = h.apply({ type: 'leaseGrant', ttlSeconds });
  if (!(r.ok && r.type === 'leaseGrant')) throw new Error(`grant failed: ${JSON.stringify(r)}`);
  return r.id;
}

function putLease(h: Harness, key: string, value: string, lease: number): KvResult {
  return h.apply({ type: 'put', key: b(key), value: b(value), lease });
}

describe('leases in the state machine', () => {
  it('grants deterministic ids from a counter: 1, 2, 3 on every member', () => {
    const a = new Harness();
    const c = new Harness();
    expect([grant(a), grant(a, 5), grant(a)]).toEqual([1, 2, 3]);
    expect([grant(c), grant(c, 5), grant(c)]).toEqual([1, 2, 3]);
    expect(a.sm.leases().leases).toEqual([
      { id: 1, ttlSeconds: 10 },
      { id: 2, ttlSeconds: 5 },
      { id: 3, ttlSeconds: 10 },
    ]);
    // A revoked id is never issued again.
    a.apply({ type: 'leaseRevoke', id: 3 });
    expect(grant(a)).toBe(4);
  });

  it('attaches keys with put, and revoke deletes them all at ONE new revision, watchers see them together', () => {
    const h = new Harness();
    const id = grant(h);
    putLease(h, 'svc/a', '1', id);
    putLease(h, 'svc/b', '2', id);
    h.put('other', 'x');
    expect(h.sm.get(b('svc/a'))?.lease).toBe(id);
    expect(h.sm.get(b('other'))?.lease).toBeUndefined();
    const w = h.sm.watches.create({ prefix: b('svc/') }, { prevValue: false });
    if (w.kind !== 'created') throw new Error('watch not created');
    const before = h.sm.revision;
    const r = h.apply({ type: 'leaseRevoke', id });
    expect(r).toEqual({ ok: true, type: 'leaseRevoke', revoked: true, revision: before + 1 });
    expect(h.sm.get(b('svc/a'))).toBeNull();
    expect(h.sm.get(b('svc/b'))).toBeNull();
    expect(h.sm.get(b('other'))).not.toBeNull();
    expect(h.sm.leaseCount).toBe(0);
    const batch = h.sm.watches.poll(w.id);
    if (batch.kind !== 'events') throw new Error(`no events: ${batch.kind}`);
    expect(batch.events.map((e) => [e.type, str(e.kv.key), e.kv.modRevision])).toEqual([
      ['delete', 'svc/a', before + 1],
      ['delete', 'svc/b', before + 1],
    ]);
    // Revoking again is not an error, and changes nothing.
    expect(h.apply({ type: 'leaseRevoke', id })).toEqual({
      ok: true,
      type: 'leaseRevoke',
      revoked: false,
      revision: before + 1,
    });
  });

  it('leaseExpire is a revoke, counted as an expiry', () => {
    const h = new Harness();
    const id = grant(h);
    putLease(h, 'k', 'v', id);
    expect(h.apply({ type: 'leaseExpire', id })).toMatchObject({ type: 'leaseRevoke', revoked: true });
    expect(h.sm.get(b('k'))).toBeNull();
    expect(h.sm.leasesExpired).toBe(1);
    h.apply({ type: 'leaseExpire', id });
    expect(h.sm.leasesExpired).toBe(1);
  });

  it('a put without a lease detaches the key, a delete detaches it, a put with another lease moves it', () => {
    const h = new Harness();
    const one = grant(h);
    const two = grant(h);
    putLease(h, 'a', '1', one);
    putLease(h, 'b', '1', one);
    putLease(h, 'c', '1', one);
    h.put('a', 'plain'); // detached
    h.del('b'); // detached
    putLease(h, 'b', 'again', two); // re-created under lease two
    putLease(h, 'c', '2', two); // moved
    expect(h.sm.lease(one)?.keys.map(str)).toEqual([]);
    expect(h.sm.lease(two)?.keys.map(str)).toEqual(['b', 'c']);
    h.apply({ type: 'leaseRevoke', id: one });
    expect(h.sm.get(b('a'))).not.toBeNull();
    h.apply({ type: 'leaseRevoke', id: two });
    expect(h.sm.size).toBe(1);
  });

  it('a put or txn put naming an unknown lease fails with lease-not-found and writes nothing', () => {
    const h = new Harness();
    const rev = h.sm.revision;
    expect(putLease(h, 'k', 'v', 42)).toMatchObject({ ok: false, code: 'lease-not-found' });
    const id = grant(h);
    const txn: KvCommand = {
      type: 'txn',
      compare: [],
      success: [
        { type: 'put', key: b('x'), value: b('1'), lease: id },
        { type: 'put', key: b('y'), value: b('1'), lease: 99 },
      ],
      failure: [],
    };
    expect(h.apply(txn)).toMatchObject({ ok: false, code: 'lease-not-found' });
    expect(h.sm.revision).toBe(rev);
    expect(h.sm.size).toBe(0);
    // The branch that does not run is not checked.
    const other: KvCommand = {
      type: 'txn',
      compare: [{ key: b('x'), target: 'exists', op: '=', value: true }],
      success: [{ type: 'put', key: b('y'), value: b('1'), lease: 99 }],
      failure: [{ type: 'put', key: b('x'), value: b('1'), lease: id }],
    };
    expect(h.apply(other)).toMatchObject({ ok: true, succeeded: false });
    expect(h.sm.get(b('x'))?.lease).toBe(id);
  });

  it('txn compares on the lease (0 when none)', () => {
    const h = new Harness();
    const id = grant(h);
    putLease(h, 'k', 'v', id);
    const run = (key: string, op: '=' | '!=' | '<' | '>', value: number) =>
      h.apply({
        type: 'txn',
        compare: [{ key: b(key), target: 'lease', op, value }],
        success: [],
        failure: [],
      });
    expect(run('k', '=', id)).toMatchObject({ succeeded: true });
    expect(run('k', '=', 0)).toMatchObject({ succeeded: false });
    expect(run('absent', '=', 0)).toMatchObject({ succeeded: true });
    expect(run('k', '>', 0)).toMatchObject({ succeeded: true });
  });

  it('refuses TTLs outside 2..9e9 s and lease id 0 before encoding', () => {
    for (const ttlSeconds of [0, 1, 1.5, 9_000_000_001]) {
      expect(
        () => encodeEntry({ time: 0, command: { type: 'leaseGrant', ttlSeconds } }),
        String(ttlSeconds),
      ).toThrow(/lease TTL/);
    }
    expect(() => encodeEntry({ time: 0, command: { type: 'leaseRevoke', id: 0 } })).toThrow(/lease id/);
    expect(() =>
      encodeEntry({ time: 0, command: { type: 'put', key: b('k'), value: b(''), lease: -1 } }),
    ).toThrow(/lease id/);
  });

  it('grant goes through sessions: a retry answers the same id and grants nothing more', () => {
    const h = new Harness();
    const clientId = h.register();
    const cmd: KvCommand = { type: 'leaseGrant', ttlSeconds: 5, session: { clientId, seq: 1 } };
    const first = h.apply(cmd);
    expect(h.apply(cmd)).toEqual(first);
    expect(h.sm.leaseCount).toBe(1);
  });

  it('keepAlive and timeToLive are never executed from the log', () => {
    const h = new Harness();
    const id = grant(h);
    expect(h.apply({ type: 'leaseKeepAlive', id })).toMatchObject({ ok: false, code: 'invalid-command' });
  });

  it('a snapshot round trip keeps leases, attachments and the id counter', () => {
    const h = new Harness();
    const one = grant(h, 7);
    const two = grant(h);
    grant(h);
    h.apply({ type: 'leaseRevoke', id: 3 });
    putLease(h, 'a', '1', one);
    putLease(h, 'b', '2', two);
    h.put('c', '3');
    const bytes = h.sm.snapshotBytes();
    const copy = new KvStateMachine();
    copy.restore(bytes);
    expect(hex(copy.snapshotBytes())).toBe(hex(bytes));
    expect(copy.leases().leases).toEqual([
      { id: 1, ttlSeconds: 7 },
      { id: 2, ttlSeconds: 10 },
    ]);
    expect(copy.lease(one)?.keys.map(str)).toEqual(['a']);
    const ch = new Harness({}, copy);
    expect(grant(ch)).toBe(4);
    ch.apply({ type: 'leaseRevoke', id: two });
    expect(copy.get(b('b'))).toBeNull();
    expect(copy.get(b('a'))?.lease).toBe(one);
  });

  it('rejects a snapshot whose key names a lease that does not exist', () => {
    const h = new Harness();
    const id = grant(h);
    putLease(h, 'a', '1', id);
    const bytes = h.sm.snapshotBytes();
    // Find the lease section (lastId=1, count=1, id=1, ttl=10) and drop the lease from it.
    const at = hex(bytes).indexOf('0101010a');
    expect(at).toBeGreaterThan(0);
    const body = Buffer.from(`${hex(bytes).slice(0, at)}0100${hex(bytes).slice(at + 8, -8)}`, 'hex');
    const out = new Uint8Array(body.length + 4);
    out.set(body);
    new DataView(out.buffer).setUint32(body.length, crc32(out.subarray(0, body.length)));
    expect(() => new KvStateMachine().restore(out)).toThrow(/names lease 1/);
  });

  it('lease commands and results round-trip through their codecs', () => {
    const cmds: KvCommand[] = [
      { type: 'leaseGrant', ttlSeconds: 2 },
      { type: 'leaseGrant', ttlSeconds: 60, session: { clientId: 3, seq: 4 } },
      { type: 'leaseRevoke', id: 7 },
      { type: 'leaseExpire', id: 7 },
      { type: 'leaseKeepAlive', id: 7 },
      { type: 'leaseTimeToLive', id: 7, keys: true },
      { type: 'leaseList' },
      { type: 'put', key: b('k'), value: b('v'), lease: 300 },
    ];
    for (const command of cmds) {
      expect(decodeEntry(encodeEntry({ time: 5, command }).slice()).command).toEqual(command);
    }
    const results: KvResult[] = [
      { ok: true, type: 'leaseGrant', id: 1, ttlSeconds: 2 },
      { ok: true, type: 'leaseRevoke', revoked: true, revision: 9 },
      { ok: true, type: 'leaseKeepAlive', id: 1, ttlSeconds: 2 },
      { ok: true, type: 'leaseTimeToLive', id: 1, grantedTtlSeconds: 2, remainingMs: 1500 },
      { ok: true, type: 'leaseTimeToLive', id: 1, grantedTtlSeconds: 2, remainingMs: 0, keys: [b('a')] },
      { ok: true, type: 'leaseList', leases: [{ id: 1, ttlSeconds: 2 }] },
      { ok: false, code: 'lease-not-found', message: 'gone' },
      {
        ok: true,
        type: 'get',
        revision: 3,
        kv: { key: b('k'), value: b(''), version: 1, createRevision: 2, modRevision: 3, lease: 1 },
      },
    ];
    for (const r of results) {
      const w = new Writer();
      writeResult(w, r);
      expect(readResult(new Reader(w.finish().slice()))).toEqual(r);
    }
  });
});
