import { concatChunks, KeelError } from '@keel/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  crc32,
  encodeEntry,
  KvErrorCode,
  KvStateMachine,
  SNAPSHOT_CHUNK_BYTES,
  SnapshotError,
} from '../src/index.js';
import { b, dump, Harness, hex, run, stateOps, str } from './helpers.js';
import { assertProperty } from './propertySeeds.js';

const OPTIONS = { sessionTimeoutMs: 2_000, maxSessions: 8 };

function expectSnapshotError(fn: () => unknown, reason?: string): void {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(SnapshotError);
    expect((err as SnapshotError).code).toBe(KvErrorCode.SnapshotCorrupt);
    if (reason !== undefined) expect((err as SnapshotError).reason).toBe(reason);
    return;
  }
  throw new Error('expected a SnapshotError');
}

/** A snapshot with a fresh, valid checksum over `body` (to reach the checks behind the checksum). */
function withCrc(body: Uint8Array): Uint8Array {
  const out = new Uint8Array(body.length + 4);
  out.set(body);
  new DataView(out.buffer).setUint32(body.length, crc32(body));
  return out;
}

describe('crc32', () => {
  it('matches the standard check value', () => {
    expect(crc32(b('123456789')).toString(16)).toBe('cbf43926');
    expect(crc32(new Uint8Array(0))).toBe(0);
    expect(crc32(b('6789'), crc32(b('12345')))).toBe(crc32(b('123456789')));
  });
});

describe('snapshot and restore', () => {
  it('round-trips an empty store', () => {
    const sm = new KvStateMachine();
    const snap = sm.snapshotBytes();
    expect(hex(snap.subarray(0, 5))).toBe('4b56534e02');
    const other = new KvStateMachine();
    other.restore(snap);
    expect(hex(other.snapshotBytes())).toBe(hex(snap));
  });

  it('random history → snapshot → restore: same contents, same bytes, same answers afterwards', () => {
    assertProperty(
      fc.property(stateOps(150), stateOps(60), (before, after) => {
        const a = new Harness(OPTIONS);
        run(a, before);
        const snap = a.sm.snapshotBytes();

        const restored = new KvStateMachine(OPTIONS);
        restored.restore(snap);
        const c = new Harness(OPTIONS, restored);
        c.index = a.index;
        c.time = a.time;

        expect(dump(restored)).toEqual(dump(a.sm));
        expect(restored.revision).toBe(a.sm.revision);
        expect(restored.sessionCount).toBe(a.sm.sessionCount);
        expect(restored.clock).toBe(a.sm.clock);
        expect(hex(restored.snapshotBytes())).toBe(hex(snap));
        // Sessions, cached responses and expiry order came along: the future is the same too.
        expect(run(c, after)).toEqual(run(a, after));
        expect(hex(restored.snapshotBytes())).toBe(hex(a.sm.snapshotBytes()));
      }),
      { numRuns: 60 },
    );
  });

  it('keeps cached responses: a retry after a restore is still answered from the cache', () => {
    const a = new Harness();
    const clientId = a.register();
    const first = a.put('k', 'v', { clientId, seq: 1 });
    const restored = new KvStateMachine();
    restored.restore(a.sm.snapshotBytes());
    const c = new Harness({}, restored);
    c.index = a.index;
    expect(c.put('k', 'v', { clientId, seq: 1 })).toEqual(first);
    expect(restored.revision).toBe(1);
  });

  it('replaces the state entirely: keys that only the old state had are gone', () => {
    const a = new Harness();
    a.put('only-in-a', '1');
    const b1 = new Harness();
    b1.put('only-in-b', '2');
    a.sm.restore(b1.sm.snapshotBytes());
    expect(a.sm.get(b('only-in-a'))).toBeNull();
    expect(str(a.sm.get(b('only-in-b'))!.value)).toBe('2');
  });

  it('rejects every single-byte corruption and every truncation with a typed error, leaving the state as it was', () => {
    const h = new Harness();
    const clientId = h.register();
    h.put('a', '1', { clientId, seq: 1 });
    h.put('bb', '22');
    h.cas('a', { version: 5 }, 'x', { clientId, seq: 2 }); // a cached compare-failed with a current value
    const snap = h.sm.snapshotBytes();
    const target = new Harness();
    target.put('mine', 'x');
    const before = hex(target.sm.snapshotBytes());
    for (let i = 0; i < snap.length; i++) {
      for (const mask of [0x01, 0x80, 0xff]) {
        const bad = snap.slice();
        bad[i]! ^= mask;
        expectSnapshotError(() => target.sm.restore(bad));
      }
    }
    for (let n = 0; n < snap.length; n++) expectSnapshotError(() => target.sm.restore(snap.subarray(0, n)));
    expectSnapshotError(() => target.sm.restore(new Uint8Array([...snap, 0])));
    expect(hex(target.sm.snapshotBytes())).toBe(before);
  });

  it('names the reason: magic, version, checksum, truncated', () => {
    const snap = new KvStateMachine().snapshotBytes();
    expectSnapshotError(() => new KvStateMachine().restore(new Uint8Array(3)), 'truncated');
    const magic = snap.slice();
    magic[0] = 0;
    expectSnapshotError(() => new KvStateMachine().restore(magic), 'magic');
    const version = snap.slice();
    version[4] = 3;
    expectSnapshotError(() => new KvStateMachine().restore(version), 'version');
    const crc = snap.slice();
    crc[crc.length - 1]! ^= 1;
    expectSnapshotError(() => new KvStateMachine().restore(crc), 'checksum');
  });

  it('behind a valid checksum, still rejects content the store could not have produced', () => {
    const header = [0x4b, 0x56, 0x53, 0x4e, 0x01];
    const cases: Record<string, number[]> = {
      'keys out of order': [...header, 5, 0, 0, 0, 2, 1, 0x62, 0, 1, 1, 1, 1, 0x61, 0, 1, 2, 2],
      'duplicate key': [...header, 5, 0, 0, 0, 2, 1, 0x61, 0, 1, 1, 1, 1, 0x61, 0, 1, 2, 2],
      'key modified after the store revision': [...header, 1, 0, 0, 0, 1, 1, 0x61, 0, 1, 1, 5],
      'key version 0': [...header, 1, 0, 0, 0, 1, 1, 0x61, 0, 0, 1, 1],
      'session never issued': [...header, 0, 0, 3, 1, 9, 0, 0, 0, 0],
      'session twice': [...header, 0, 0, 3, 2, 1, 0, 0, 0, 1, 0, 0, 0, 0],
      'sequence without a response': [...header, 0, 0, 3, 1, 1, 4, 0, 0, 0],
      'activity after the clock': [...header, 0, 0, 3, 1, 1, 0, 9, 0, 0],
      'absurd key count': [...header, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0x7f],
      'trailing bytes': [...header, 0, 0, 0, 0, 0, 0],
    };
    for (const [name, body] of Object.entries(cases)) {
      expect(() => new KvStateMachine().restore(withCrc(Uint8Array.from(body))), name).toThrow(SnapshotError);
    }
    // The same layout with valid content restores (so the cases above fail for their stated reason).
    const good = new KvStateMachine();
    good.restore(
      withCrc(
        Uint8Array.from([...header, 5, 7, 3, 1, 1, 0, 6, 0, 2, 1, 0x61, 0, 1, 1, 1, 1, 0x62, 0, 1, 2, 2]),
      ),
    );
    expect(good.size).toBe(2);
    expect(good.sessionCount).toBe(1);
  });

  it('never throws anything but a SnapshotError on random input', () => {
    assertProperty(
      fc.property(fc.uint8Array({ maxLength: 64 }), fc.boolean(), (tail, fixCrc) => {
        const body = Uint8Array.from([0x4b, 0x56, 0x53, 0x4e, 0x01, ...tail]);
        const sm = new KvStateMachine();
        try {
          sm.restore(fixCrc ? withCrc(body) : body);
        } catch (err) {
          expect(err).toBeInstanceOf(SnapshotError);
          expect(err).toBeInstanceOf(KeelError);
        }
      }),
      { numRuns: 1000 },
    );
  });
});

describe('determinism', () => {
  it('the same entries give the same results and the same snapshot bytes', () => {
    assertProperty(
      fc.property(stateOps(200), (ops) => {
        const x = new Harness(OPTIONS);
        const y = new Harness(OPTIONS);
        expect(run(x, ops)).toEqual(run(y, ops));
        expect(hex(x.sm.snapshotBytes())).toBe(hex(y.sm.snapshotBytes()));
      }),
      { numRuns: 40 },
    );
  });
});

describe('snapshots of a large store, encoded in the background', () => {
  it('gives the bytes of the synchronous encoding, as of the moment of the call', async () => {
    const sm = new KvStateMachine({ snapshotYield: () => Promise.resolve() });
    const enc = new TextEncoder();
    const put = (i: number, v: string) =>
      sm.apply({
        index: i,
        term: 1,
        type: 1,
        data: encodeEntry({
          time: 1000 + i,
          command: { type: 'put', key: enc.encode(`k${i % 30000}`), value: enc.encode(v) },
        }).slice(),
      });
    for (let i = 1; i <= 30_000; i++) put(i, `a${i}`);
    const before = hex(sm.snapshotBytes());
    const pending = sm.snapshot();
    expect(pending).toBeInstanceOf(Promise); // above one slice: encoded in the background
    for (let i = 30_001; i <= 30_100; i++) put(i, `later${i}`); // overwrites while it is encoded
    sm.apply({
      index: 30_101,
      term: 1,
      type: 1,
      data: encodeEntry({ time: 40_000, command: { type: 'delete', key: enc.encode('k7') } }).slice(),
    });
    put(30_102, 'x'); // k102 again
    sm.apply({
      index: 30_103,
      term: 1,
      type: 1,
      data: encodeEntry({
        time: 40_001,
        command: { type: 'put', key: enc.encode('new-key'), value: enc.encode('n') },
      }).slice(),
    });
    const chunks = (await pending) as Uint8Array[];
    // Chunks of about SNAPSHOT_CHUNK_BYTES, never one buffer the size of the store.
    expect(chunks.length).toBeGreaterThan(2);
    expect(Math.max(...chunks.map((c) => c.length))).toBeLessThan(SNAPSHOT_CHUNK_BYTES + 1024);
    expect(hex(concatChunks(chunks))).toBe(before);
    expect(sm.get(enc.encode('k7'))).toBeNull(); // the live store moved on
    expect(sm.snapshot()).toBeInstanceOf(Promise); // and the next snapshot starts fresh
    expect(new KvStateMachine().snapshot()).toBeInstanceOf(Uint8Array); // no yield given: at once
    expect(hex(sm.snapshotBytes())).not.toBe(before);
  });
});
