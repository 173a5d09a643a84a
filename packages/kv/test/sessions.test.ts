import { describe, expect, it } from 'vitest';
import { DEFAULT_SESSION_TIMEOUT_MS } from '../src/index.js';
import { b, Harness, str } from './helpers.js';

describe('sessions: registration', () => {
  it('a session is named by the index of the entry that registered it', () => {
    const h = new Harness();
    h.put('x', '1'); // index 1
    expect(h.apply({ type: 'registerSession' })).toEqual({ ok: true, type: 'registerSession', clientId: 2 });
    expect(h.register()).toBe(3);
    expect(h.sm.sessionCount).toBe(2);
  });
});

describe('sessions: exactly-once writes (dissertation §6.3)', () => {
  it('a retried command returns the original response and is not executed again', () => {
    const h = new Harness();
    const clientId = h.register();
    const first = h.put('counter', '1', { clientId, seq: 1 });
    expect(first).toEqual({ ok: true, type: 'put', revision: 1, version: 1 });
    // The reply was lost; the client retries the same command with the same sequence number.
    const retry = h.put('counter', '1', { clientId, seq: 1 });
    expect(retry).toEqual(first);
    expect(h.sm.revision).toBe(1);
    expect(h.sm.get(b('counter'))!.version).toBe(1);
  });

  it('a counter incremented by cas increments once per client operation, however often it is retried', () => {
    const h = new Harness();
    const clientId = h.register();
    h.put('counter', '0');
    for (let n = 1; n <= 5; n++) {
      const kv = h.sm.get(b('counter'))!;
      const op = () => h.cas('counter', { version: kv.version }, String(n), { clientId, seq: n });
      const r = op();
      expect(r).toMatchObject({ ok: true, type: 'cas' });
      // Each retry sees the cached success, not a compare-failed from its own earlier write.
      expect(op()).toEqual(r);
      expect(op()).toEqual(r);
    }
    expect(str(h.sm.get(b('counter'))!.value)).toBe('5');
    expect(h.sm.revision).toBe(6);
  });

  it('a failed cas is cached too: a retry reports the same failure even if it would now succeed', () => {
    const h = new Harness();
    const clientId = h.register();
    const r = h.cas('a', { version: 1 }, 'x', { clientId, seq: 1 });
    expect(r).toMatchObject({ ok: false, code: 'compare-failed' });
    h.put('a', 'now version 1');
    expect(h.cas('a', { version: 1 }, 'x', { clientId, seq: 1 })).toEqual(r);
  });

  it('a sequence number below the last one is refused with stale-sequence, without executing', () => {
    const h = new Harness();
    const clientId = h.register();
    h.put('a', '1', { clientId, seq: 1 });
    h.put('a', '2', { clientId, seq: 2 });
    expect(h.put('a', 'old', { clientId, seq: 1 })).toMatchObject({ ok: false, code: 'stale-sequence' });
    expect(str(h.sm.get(b('a'))!.value)).toBe('2');
    // The session is unaffected: the latest response is still cached.
    expect(h.put('a', '2', { clientId, seq: 2 })).toEqual({ ok: true, type: 'put', revision: 2, version: 2 });
  });

  it('sequence numbers may skip (a client that gave up on a number moves on)', () => {
    const h = new Harness();
    const clientId = h.register();
    h.put('a', '1', { clientId, seq: 1 });
    expect(h.put('a', '2', { clientId, seq: 7 })).toMatchObject({ ok: true, revision: 2 });
  });

  it('sessions are independent: equal sequence numbers of two clients are two commands', () => {
    const h = new Harness();
    const c1 = h.register();
    const c2 = h.register();
    h.put('a', '1', { clientId: c1, seq: 1 });
    h.put('a', '2', { clientId: c2, seq: 1 });
    expect(h.sm.get(b('a'))!.version).toBe(2);
  });

  it('writes without a session execute every time (at-least-once)', () => {
    const h = new Harness();
    h.put('a', '1');
    h.put('a', '1');
    expect(h.sm.revision).toBe(2);
  });
});

describe('sessions: unknown, expired, closed', () => {
  it('a command for a session never registered is refused with unknown-session, without executing', () => {
    const h = new Harness();
    expect(h.put('a', '1', { clientId: 42, seq: 1 })).toEqual({
      ok: false,
      code: 'unknown-session',
      message: 'session 42 was never registered',
    });
    expect(h.apply({ type: 'keepAlive', clientId: 42 })).toMatchObject({
      ok: false,
      code: 'unknown-session',
    });
    expect(h.sm.revision).toBe(0);
  });

  it('a session expires when the log time passes its timeout; a retry then fails clearly, never re-executes', () => {
    const h = new Harness({ sessionTimeoutMs: 10_000 });
    const clientId = h.register(); // at time 1000
    h.put('a', '1', { clientId, seq: 1 });
    h.advance(10_000); // exactly the timeout: still alive
    expect(h.put('a', '1', { clientId, seq: 1 })).toMatchObject({ ok: true, revision: 1 });
    h.advance(10_001);
    expect(h.put('a', '1', { clientId, seq: 1 })).toMatchObject({ ok: false, code: 'session-expired' });
    expect(h.sm.revision).toBe(1);
    expect(h.sm.sessionCount).toBe(0);
  });

  it('expiry follows the time on the entries, not the time at which they are applied', () => {
    // Two members apply the same entries at wildly different wall-clock moments; only logged time counts.
    const h = new Harness({ sessionTimeoutMs: 1_000 });
    const clientId = h.register();
    h.apply({ type: 'get', key: b('x') }, 1_000 + 999); // any entry advances the log clock
    expect(h.apply({ type: 'keepAlive', clientId })).toEqual({ ok: true, type: 'keepAlive' });
    h.apply({ type: 'get', key: b('x') }, 1_000 + 999 + 1_001);
    expect(h.apply({ type: 'keepAlive', clientId })).toMatchObject({ ok: false, code: 'session-expired' });
  });

  it('the log clock never goes back: an entry stamped earlier (a new leader with a slower clock) does not revive', () => {
    const h = new Harness({ sessionTimeoutMs: 1_000 });
    const clientId = h.register();
    h.apply({ type: 'get', key: b('x') }, 5_000);
    expect(h.sm.clock).toBe(5_000);
    expect(h.put('a', '1', { clientId, seq: 1 })).toMatchObject({ code: 'session-expired' });
    expect(h.apply({ type: 'keepAlive', clientId }, 1_000)).toMatchObject({ code: 'session-expired' });
    expect(h.sm.clock).toBe(5_000);
  });

  it('activity keeps a session alive: any command naming it, keepAlive included', () => {
    const h = new Harness({ sessionTimeoutMs: 1_000 });
    const clientId = h.register();
    for (let i = 0; i < 10; i++) {
      h.advance(900);
      expect(h.apply({ type: 'keepAlive', clientId })).toEqual({ ok: true, type: 'keepAlive' });
    }
    h.advance(900);
    expect(h.put('a', '1', { clientId, seq: 1 })).toMatchObject({ ok: true });
    h.advance(900);
    expect(h.put('a', '1', { clientId, seq: 1 })).toMatchObject({ ok: true, revision: 1 }); // retry, cached
  });

  it('idle sessions are dropped as the log advances, not only when they are named again', () => {
    const h = new Harness({ sessionTimeoutMs: 1_000 });
    h.register();
    h.register();
    const c3 = h.register();
    h.advance(600);
    h.apply({ type: 'keepAlive', clientId: c3 });
    h.advance(600);
    h.apply({ type: 'get', key: b('x') });
    expect(h.sm.sessionCount).toBe(1);
  });

  it('closeSession frees a session; later commands for it get session-expired', () => {
    const h = new Harness();
    const clientId = h.register();
    expect(h.apply({ type: 'closeSession', clientId })).toEqual({ ok: true, type: 'closeSession' });
    expect(h.sm.sessionCount).toBe(0);
    expect(h.put('a', '1', { clientId, seq: 1 })).toMatchObject({ ok: false, code: 'session-expired' });
    expect(h.apply({ type: 'closeSession', clientId })).toMatchObject({ ok: false, code: 'session-expired' });
  });

  it('at maxSessions, a registration evicts the least recently active session', () => {
    const h = new Harness({ maxSessions: 2 });
    const c1 = h.register();
    const c2 = h.register();
    h.apply({ type: 'keepAlive', clientId: c1 }); // c2 is now the least recently active
    const c3 = h.register();
    expect(h.sm.sessionCount).toBe(2);
    expect(h.apply({ type: 'keepAlive', clientId: c2 })).toMatchObject({ code: 'session-expired' });
    expect(h.apply({ type: 'keepAlive', clientId: c1 })).toMatchObject({ ok: true });
    expect(h.apply({ type: 'keepAlive', clientId: c3 })).toMatchObject({ ok: true });
  });

  it('the default timeout is ten minutes of log time, the same as keel node', () => {
    expect(DEFAULT_SESSION_TIMEOUT_MS).toBe(600_000);
    expect(new Harness().sm.sessionTimeoutMs).toBe(DEFAULT_SESSION_TIMEOUT_MS);
  });
});
