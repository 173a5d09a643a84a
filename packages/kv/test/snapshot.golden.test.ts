import { describe, expect, it } from 'vitest';
import { KvStateMachine } from '../src/index.js';
import { b, Harness, hex } from './helpers.js';

/**
 * The snapshot format with sessions, pinned byte for byte: a fixed workload (registrations, writes
 * in sessions, a retry, a stale sequence, a close, an eviction at the limit, an expiry) must give
 * these bytes and these results. Taken before the sessions moved into @keel/core's SessionTable, so
 * the move is shown to keep the format and the semantics; a change here is a format change.
 */
function workload(): { results: string; snapshot: string } {
  const h = new Harness({ sessionTimeoutMs: 5_000, maxSessions: 3 });
  const out: unknown[] = [];
  const a = h.register();
  const c = h.register();
  out.push(h.put('k1', 'v1', { clientId: a, seq: 1 }));
  out.push(h.put('k1', 'v1-retry', { clientId: a, seq: 1 }));
  h.advance(1_000);
  out.push(h.cas('k2', { version: 0 }, 'x', { clientId: c, seq: 1 }));
  out.push(h.put('k3', 'v3', { clientId: c, seq: 3 }));
  out.push(h.put('k3', 'old', { clientId: c, seq: 2 }));
  out.push(h.del('k1', { clientId: a, seq: 2 }));
  const d = h.register();
  h.advance(1_000);
  const e = h.register(); // evicts the least recently active
  out.push(h.put('k4', 'v4', { clientId: a, seq: 3 }));
  out.push(h.apply({ type: 'closeSession', clientId: d }));
  out.push(h.apply({ type: 'keepAlive', clientId: e }));
  h.advance(4_500);
  out.push(h.put('k5', 'v5')); // expires what was idle for 5 s
  out.push(h.put('k6', 'v6', { clientId: c, seq: 4 }));
  out.push(h.apply({ type: 'keepAlive', clientId: 999 }));
  out.push(h.sm.sessionCount);
  return { results: JSON.stringify(out), snapshot: hex(h.sm.snapshotBytes()) };
}

describe('snapshot format with sessions (golden)', () => {
  it('a fixed workload gives the same results and bytes', () => {
    const { results, snapshot } = workload();
    expect(results).toBe(RESULTS);
    expect(snapshot).toBe(SNAPSHOT);
  });

  it('the pinned bytes restore to a store that snapshots to the same bytes', () => {
    const sm = new KvStateMachine({ sessionTimeoutMs: 5_000, maxSessions: 3 });
    sm.restore(new Uint8Array(Buffer.from(SNAPSHOT, 'hex')));
    expect(hex(sm.snapshotBytes())).toBe(SNAPSHOT);
    expect(sm.get(b('k5'))).not.toBeNull();
    expect(sm.sessionCount).toBe(2);
  });

  it('a format-1 snapshot (before leases) still loads, as the same store without leases', () => {
    const sm = new KvStateMachine({ sessionTimeoutMs: 5_000, maxSessions: 3 });
    sm.restore(new Uint8Array(Buffer.from(SNAPSHOT_V1, 'hex')));
    expect(hex(sm.snapshotBytes())).toBe(SNAPSHOT);
    expect(sm.leaseCount).toBe(0);
    expect(sm.sessionCount).toBe(2);
  });
});

const RESULTS =
  '[{"ok":true,"type":"put","revision":1,"version":1},{"ok":true,"type":"put","revision":1,"version":1},{"ok":true,"type":"cas","revision":2,"version":1},{"ok":true,"type":"put","revision":3,"version":1},{"ok":false,"code":"stale-sequence","message":"session 2: sequence 2 is below the last executed 3; its response is gone"},{"ok":true,"type":"delete","revision":4,"deleted":true},{"ok":true,"type":"put","revision":5,"version":1},{"ok":true,"type":"closeSession"},{"ok":true,"type":"keepAlive"},{"ok":true,"type":"put","revision":6,"version":1},{"ok":false,"code":"session-expired","message":"session 2 expired or was closed; register a new one"},{"ok":false,"code":"unknown-session","message":"session 999 was never registered"},2]';
/** Format 2: a lease section after the sessions (here: none issued) and a lease id per key. */
const SNAPSHOT =
  '4b56534e0206cc3a0a020103b817010105010a00b81700000004026b32017801020200026b3302763301030300026b3402763401050500026b3502763501060600680a35fd';
/** The same store in format 1, as the build before leases wrote it. */
const SNAPSHOT_V1 =
  '4b56534e0106cc3a0a020103b817010105010a00b8170004026b320178010202026b33027633010303026b34027634010505026b35027635010606b468cf12';
