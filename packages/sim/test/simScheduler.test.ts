import { describe, expect, it } from 'vitest';
import { SimHost } from '../src/SimHost.js';
import { SimScheduler } from '../src/SimScheduler.js';

describe('SimScheduler', () => {
  it('runs events in time order, and in scheduling order at equal times', () => {
    const s = new SimScheduler();
    const seen: string[] = [];
    s.after(5, () => seen.push('b@5'));
    s.after(1, () => seen.push('a@1'));
    s.after(5, () => seen.push('c@5'));
    s.defer(() => seen.push('now'));
    while (s.step());
    expect(seen).toEqual(['now', 'a@1', 'b@5', 'c@5']);
    expect(s.now()).toBe(5);
  });

  it('defer runs after everything already due now', () => {
    const s = new SimScheduler();
    const seen: string[] = [];
    s.at(0, () => {
      seen.push('first');
      s.defer(() => seen.push('deferred'));
    });
    s.at(0, () => seen.push('second'));
    while (s.step());
    expect(seen).toEqual(['first', 'second', 'deferred']);
  });

  it('skips cancelled timers', () => {
    const s = new SimScheduler();
    const seen: number[] = [];
    const h = s.setTimeout(() => seen.push(1), 10);
    s.setTimeout(() => seen.push(2), 20);
    s.clearTimeout(h);
    while (s.step());
    expect(seen).toEqual([2]);
  });

  it('runUntil stops at the bound, moves the clock there, and stops early on request', () => {
    const s = new SimScheduler();
    const seen: number[] = [];
    for (const t of [1, 2, 3, 10]) s.at(t, () => seen.push(t));
    expect(s.runUntil(5)).toBe(true);
    expect(seen).toEqual([1, 2, 3]);
    expect(s.now()).toBe(5);
    s.at(6, () => seen.push(6));
    expect(s.runUntil(20, () => seen.length === 4)).toBe(false);
    expect(seen).toEqual([1, 2, 3, 6]);
    expect(s.now()).toBe(6);
  });

  it('never schedules into the past and stops for good once halted', () => {
    const s = new SimScheduler();
    s.runUntil(100);
    const t = s.at(50, () => {});
    expect(t.time).toBe(100);
    s.halt();
    expect(s.step()).toBe(false);
  });
});

describe('SimHost', () => {
  it('holds work while paused and runs it in order on resume', () => {
    const s = new SimScheduler();
    const h = new SimHost('n1', s);
    h.boot();
    const seen: string[] = [];
    const clock = h.scheduler();
    clock.setTimeout(() => seen.push('timer'), 5);
    h.after(3, () => seen.push('message'));
    s.at(1, () => h.pause());
    s.at(10, () => h.resume());
    while (s.step());
    expect(seen).toEqual(['message', 'timer']);
    expect(s.now()).toBe(10);
  });

  it('drops everything of an incarnation once it crashed, even after a restart', () => {
    const s = new SimScheduler();
    const h = new SimHost('n1', s);
    h.boot();
    const seen: string[] = [];
    h.scheduler().setTimeout(() => seen.push('old timer'), 5);
    h.after(5, () => seen.push('old message'));
    s.at(1, () => {
      h.crash();
      h.boot();
      h.after(1, () => seen.push('new message'));
    });
    while (s.step());
    expect(seen).toEqual(['new message']);
  });

  it('a timer cleared while held does not run on resume', () => {
    const s = new SimScheduler();
    const h = new SimHost('n1', s);
    h.boot();
    const clock = h.scheduler();
    const seen: string[] = [];
    const t = clock.setTimeout(() => seen.push('timer'), 2);
    s.at(1, () => h.pause());
    s.at(3, () => {
      clock.clearTimeout(t);
      h.resume();
    });
    while (s.step());
    expect(seen).toEqual([]);
  });
});
