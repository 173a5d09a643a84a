import { describe, expect, it } from 'vitest';
import {
  decodeWatchReply,
  decodeWatchRequest,
  encodeWatchReply,
  encodeWatchRequest,
  KvStateMachine,
  type WatchEvent,
  type WatchPoll,
} from '../src/index.js';
import { WatchHistory } from '../src/WatchHistory.js';
import { watchTag } from '../src/watchEvents.js';
import { b, Harness, str } from './helpers.js';

function put(key: string, value: string, revision: number, prev: WatchEvent['prev'] = null): WatchEvent {
  return {
    type: 'put',
    kv: { key: b(key), value: b(value), version: 1, createRevision: revision, modRevision: revision },
    prev,
  };
}

/** The revisions and keys of a poll's events. */
function seen(p: WatchPoll): string[] {
  return p.kind === 'events' ? p.events.map((e) => `${e.kv.modRevision}:${e.type}:${str(e.kv.key)}`) : [];
}

describe('the watch history window', () => {
  it('keeps the newest events, bounded by count, with no gap', () => {
    const h = new WatchHistory({ maxEvents: 3, maxBytes: 1 << 20 });
    expect([h.start, h.end, h.size]).toEqual([1, 0, 0]);
    for (let r = 1; r <= 5; r++) h.append([put('k', 'v', r)]);
    expect([h.start, h.end, h.size]).toEqual([3, 5, 3]);
    expect(h.at(2)).toBeUndefined();
    expect(h.at(4)?.[0]?.kv.modRevision).toBe(4);
  });

  it('is bounded by bytes, but always keeps the newest event', () => {
    const h = new WatchHistory({ maxEvents: 100, maxBytes: 200 });
    h.append([put('a', 'x'.repeat(50), 1)]);
    h.append([put('b', 'x'.repeat(50), 2)]);
    expect(h.size).toBe(1);
    h.append([put('c', 'x'.repeat(500), 3)]);
    expect([h.start, h.end]).toEqual([3, 3]);
  });

  it('refuses an event out of revision order, and starts after the revision it is reset to', () => {
    const h = new WatchHistory();
    expect(() => h.append([put('k', 'v', 2)])).toThrow(/revision 2 after 0/);
    h.reset(41);
    expect([h.start, h.end]).toEqual([42, 41]);
    h.append([put('k', 'v', 42)]);
    expect(h.at(42)).toBeDefined();
  });
});

describe('watches on the state machine', () => {
  it('delivers puts and deletes of a prefix in revision order, with previous values on request', () => {
    const h = new Harness();
    const sm = h.sm;
    h.put('a/1', 'one');
    const w = sm.watches.create({ prefix: b('a/') }, { from: 1, prevValue: true });
    const k = sm.watches.create({ key: b('a/1') });
    h.put('b', 'other');
    h.put('a/1', 'uno');
    h.del('a/1');
    if (w.kind !== 'created' || k.kind !== 'created') throw new Error('not created');
    const p = sm.watches.poll(w.id);
    expect(seen(p)).toEqual(['1:put:a/1', '3:put:a/1', '4:delete:a/1']);
    expect(p.kind === 'events' && p.events.map((e) => (e.prev === null ? null : str(e.prev.value)))).toEqual([
      null,
      'one',
      'uno',
    ]);
    expect(p.kind === 'events' && p.revision).toBe(4);
    expect(sm.watches.poll(w.id)).toEqual({ kind: 'idle', revision: 4 });
    // Without prevValue the previous value is left out; the key watch starts at the next revision.
    const q = sm.watches.poll(k.id);
    expect(seen(q)).toEqual(['3:put:a/1', '4:delete:a/1']);
    expect(q.kind === 'events' && q.events.every((e) => e.prev === null)).toBe(true);
  });

  it('answers a poll again from the revision the client names (a lost reply leaves no gap)', () => {
    const h = new Harness();
    const w = h.sm.watches.create({ prefix: b('') });
    h.put('x', '1');
    h.put('y', '2');
    if (w.kind !== 'created') throw new Error('not created');
    expect(seen(h.sm.watches.poll(w.id))).toEqual(['1:put:x', '2:put:y']);
    expect(seen(h.sm.watches.poll(w.id, 2))).toEqual(['2:put:y']);
  });

  it('answers a poll naming another range, or a position past the watch, as unknown (ids restart with the member)', () => {
    const h = new Harness();
    const w = h.sm.watches.create({ prefix: b('mine/') });
    h.put('mine/1', 'v');
    if (w.kind !== 'created') throw new Error('not created');
    const mine = watchTag({ prefix: b('mine/') }, false);
    expect(h.sm.watches.poll(w.id, 1, watchTag({ prefix: b('theirs/') }, false))).toMatchObject({
      reason: 'unknown',
    });
    expect(h.sm.watches.poll(w.id, 5, mine)).toMatchObject({ kind: 'ended', reason: 'unknown' });
    // The watch itself is untouched, for its own client.
    expect(seen(h.sm.watches.poll(w.id, 1, mine))).toEqual(['1:put:mine/1']);
  });

  it('refuses a start older than the window as compacted, naming the oldest revision', () => {
    const h = new Harness({ watch: { maxEvents: 5 } });
    for (let i = 0; i < 8; i++) h.put(`k${i}`, 'v');
    expect(h.sm.watches.create({ prefix: b('') }, { from: 3 })).toMatchObject({
      kind: 'ended',
      reason: 'compacted',
      oldest: 4,
    });
    expect(h.sm.watches.create({ prefix: b('') }, { from: 4 }).kind).toBe('created');
    expect(new KvStateMachine().watches.history.start).toBe(1);
  });

  it('cancels a watcher whose unsent backlog passes the bound as slow-watcher; others go on', () => {
    const h = new Harness({ watch: { maxBacklogEvents: 3 } });
    const slow = h.sm.watches.create({ prefix: b('s/') });
    const quiet = h.sm.watches.create({ prefix: b('q/') });
    if (slow.kind !== 'created' || quiet.kind !== 'created') throw new Error('not created');
    for (let i = 0; i < 4; i++) h.put(`s/${i}`, 'v');
    expect(h.sm.watches.watcherCount).toBe(1);
    expect(h.sm.watches.poll(slow.id)).toMatchObject({ kind: 'ended', reason: 'slow-watcher' });
    expect(h.sm.watches.poll(quiet.id)).toEqual({ kind: 'idle', revision: 4 });
  });

  it('cancels a watcher whose position leaves the window, and moves up one that had nothing pending', () => {
    const h = new Harness({ watch: { maxEvents: 2 } });
    const behind = h.sm.watches.create({ prefix: b('a') });
    const other = h.sm.watches.create({ prefix: b('z') });
    if (behind.kind !== 'created' || other.kind !== 'created') throw new Error('not created');
    for (let i = 0; i < 4; i++) h.put(`a${i}`, 'v');
    expect(h.sm.watches.poll(behind.id)).toMatchObject({ kind: 'ended', reason: 'slow-watcher' });
    expect(h.sm.watches.poll(other.id)).toEqual({ kind: 'idle', revision: 4 });
  });

  it('bounds the number of watchers: the least recently polled is evicted', () => {
    const h = new Harness({ watch: { maxWatchers: 2 } });
    const ids = [0, 1, 2].map(() => {
      const c = h.sm.watches.create({ key: b('k') });
      if (c.kind !== 'created') throw new Error('not created');
      return c.id;
    });
    expect(h.sm.watches.watcherCount).toBe(2);
    expect(h.sm.watches.poll(ids[0]!)).toMatchObject({ kind: 'ended', reason: 'evicted' });
    expect(h.sm.watches.cancel(ids[1]!)).toMatchObject({ reason: 'cancelled' });
    expect(h.sm.watches.poll(ids[1]!)).toMatchObject({ reason: 'cancelled' });
    expect(h.sm.watches.poll(999)).toMatchObject({ reason: 'unknown' });
  });

  it('after a restore, the window starts at the snapshot revision; watchers behind it end as restored', () => {
    const h = new Harness();
    h.put('a', '1');
    h.put('a', '2');
    const bytes = h.sm.snapshotBytes();
    const other = new Harness();
    const behind = other.sm.watches.create({ key: b('a') }, { from: 1 });
    const ahead = other.sm.watches.create({ key: b('a') }, { from: 3 });
    other.sm.restore(bytes);
    expect([other.sm.watches.history.start, other.sm.watches.history.end]).toEqual([3, 2]);
    if (behind.kind !== 'created' || ahead.kind !== 'created') throw new Error('not created');
    expect(other.sm.watches.poll(behind.id)).toMatchObject({ reason: 'restored' });
    other.put('a', '3');
    expect(seen(other.sm.watches.poll(ahead.id))).toEqual(['3:put:a']);
  });
});

describe('the watch protocol', () => {
  it('round-trips requests and replies', () => {
    for (const req of [
      { op: 'create', range: { prefix: b('p/') }, prevValue: true, from: 7 },
      { op: 'create', range: { key: b('k') }, prevValue: false },
      { op: 'poll', id: 3, from: 9, waitMs: 1000, tag: 0xfedcba98 },
      { op: 'cancel', id: 3 },
    ] as const) {
      expect(decodeWatchRequest(encodeWatchRequest(req).slice())).toEqual(req);
    }
    const events = [
      put('k', 'v', 5, { key: b('k'), value: b('u'), version: 1, createRevision: 4, modRevision: 4 }),
    ];
    for (const reply of [
      { kind: 'created', id: 1, revision: 4 },
      { kind: 'events', events, revision: 6 },
      { kind: 'idle', revision: 6 },
      { kind: 'ended', reason: 'compacted', message: 'gone', oldest: 3 },
    ] as const) {
      expect(decodeWatchReply(encodeWatchReply(reply).slice())).toEqual(reply);
    }
  });
});
