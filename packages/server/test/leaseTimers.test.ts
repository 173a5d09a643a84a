import type { DeadlineSource, TimerHandle } from '@keel/core';
import { describe, expect, it } from 'vitest';
import { LeaseTimers } from '../src/LeaseTimers.js';

/** A clock and timers that move only when the test says so. */
class FakeClock {
  t = 0;
  private timers = new Map<number, { at: number; fn: () => void }>();
  private next = 1;
  readonly scheduler = {
    now: () => this.t,
    setTimeout: (fn: () => void, ms: number): TimerHandle => {
      const id = this.next++;
      this.timers.set(id, { at: this.t + ms, fn });
      return id as unknown as TimerHandle;
    },
    clearTimeout: (h: TimerHandle) => {
      this.timers.delete(h as unknown as number);
    },
  };
  get pending(): number {
    return this.timers.size;
  }
  advance(ms: number): void {
    const end = this.t + ms;
    for (;;) {
      let first: [number, { at: number; fn: () => void }] | undefined;
      for (const e of this.timers)
        if (e[1].at <= end && (first === undefined || e[1].at < first[1].at)) first = e;
      if (first === undefined) break;
      this.timers.delete(first[0]);
      this.t = Math.max(this.t, first[1].at);
      first[1].fn();
    }
    this.t = end;
  }
}

/** The state machine's side: a table of leases the test grants and drops. */
class FakeLeases {
  readonly table = new Map<number, number>();
  private on: Parameters<DeadlineSource<FakeLeases>['follow']>[1] | null = null;
  readonly source: DeadlineSource<FakeLeases> = {
    all: (m) => [...m.table].map(([id, s]) => [id, s * 1000] as const),
    follow: (_m, on) => {
      this.on = on;
      return () => {
        this.on = null;
      };
    },
    expire: (id) => new TextEncoder().encode(String(id)),
  };
  grant(id: number, ttlSeconds: number): void {
    this.table.set(id, ttlSeconds);
    this.on?.armed(id, ttlSeconds * 1000);
  }
  drop(id: number): void {
    this.table.delete(id);
    this.on?.dropped(id);
  }
}

/** `applies`: each proposed expiry commits and applies at once (the lease is dropped). */
function setup(applies = true) {
  const clock = new FakeClock();
  const leases = new FakeLeases();
  const proposed: number[] = [];
  const timers = new LeaseTimers<FakeLeases>({
    source: leases.source,
    machine: leases,
    scheduler: clock.scheduler,
    propose: (data) => {
      const id = Number(new TextDecoder().decode(data));
      proposed.push(id);
      if (applies) leases.drop(id);
    },
    wallClock: () => 0,
    retryMs: 1000,
  });
  return { clock, leases, proposed, timers };
}

describe('the leader’s lease timers', () => {
  it('expiry proposes once at the deadline (again only after the retry interval)', () => {
    const { clock, leases, proposed, timers } = setup(false);
    timers.setLeader(true);
    leases.grant(1, 2);
    clock.advance(1999);
    expect(proposed).toEqual([]);
    clock.advance(1);
    expect(proposed).toEqual([1]);
    clock.advance(999);
    expect(proposed).toEqual([1]);
    // The entry was lost (the lease is still there): proposed again after retryMs.
    clock.advance(1);
    expect(proposed).toEqual([1, 1]);
    // It applied: the lease is gone, nothing more.
    leases.drop(1);
    clock.advance(10_000);
    expect(proposed).toEqual([1, 1]);
    expect(clock.pending).toBe(0);
  });

  it('arms nothing on a follower', () => {
    const { clock, leases, proposed, timers } = setup();
    leases.grant(1, 2);
    clock.advance(60_000);
    expect(proposed).toEqual([]);
    expect(timers.size).toBe(0);
    expect(clock.pending).toBe(0);
  });

  it('re-arms every lease with its full TTL on becoming leader, and drops them on losing it', () => {
    const { clock, leases, proposed, timers } = setup();
    leases.grant(1, 2);
    leases.grant(2, 5);
    clock.advance(4000); // as a follower: the old leader's time, unknown here
    timers.setLeader(true);
    clock.advance(1999);
    expect(proposed).toEqual([]);
    clock.advance(1);
    expect(proposed).toEqual([1]);
    timers.setLeader(false);
    expect(timers.size).toBe(0);
    clock.advance(60_000);
    expect(proposed).toEqual([1]);
    // Leading again: lease 2 gets its full 5 s from now.
    timers.setLeader(true);
    clock.advance(4999);
    expect(proposed).toEqual([1]);
    clock.advance(1);
    expect(proposed).toEqual([1, 2]);
  });

  it('a keep-alive extends the deadline from its arrival, never shortens it', () => {
    const { clock, leases, proposed, timers } = setup();
    timers.setLeader(true);
    leases.grant(7, 3);
    clock.advance(2000);
    const arrived = clock.t;
    clock.advance(500); // the ReadIndex round
    timers.view(arrived).extend(7, 3000);
    expect(timers.view(clock.t).remaining(7)).toBe(2500);
    clock.advance(2499);
    expect(proposed).toEqual([]);
    // An older keep-alive answered late does not move it back.
    timers.view(arrived - 1000).extend(7, 3000);
    clock.advance(1);
    expect(proposed).toEqual([7]);
  });

  it('keeps thousands of leases on one timer', () => {
    const { clock, leases, proposed, timers } = setup();
    timers.setLeader(true);
    for (let i = 1; i <= 5000; i++) leases.grant(i, 2 + (i % 50));
    expect(clock.pending).toBe(1);
    for (let i = 1; i <= 5000; i += 2) timers.view(clock.t).extend(i, 100_000);
    clock.advance(60_000);
    expect(proposed.length).toBe(2500);
    expect(new Set(proposed).size).toBe(2500);
    expect(proposed.every((id) => id % 2 === 0)).toBe(true);
  });
});
