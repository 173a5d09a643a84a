import { EntryType } from '@keel/core';
import { describe, expect, it } from 'vitest';
import { type Command, JobQueue, type JobResult } from '../src/index.js';
import { applyAt, bytes, prng, text } from './helpers.js';

/** Feeds commands at consecutive indexes from 1; returns the results. */
function run(q: JobQueue, cmds: readonly Command[], from = 1): JobResult[] {
  return cmds.map((c, i) => applyAt(q, from + i, c));
}

describe('JobQueue: FIFO with leases', () => {
  it('hands jobs out oldest first, each under a lease whose id is the claim entry index', () => {
    const q = new JobQueue();
    run(q, [
      { kind: 'enqueue', at: 10, payload: bytes('a') },
      { kind: 'enqueue', at: 11, payload: bytes('b') },
    ]);
    const c1 = applyAt(q, 3, { kind: 'claim', at: 12, worker: 'w', leaseMs: 100 });
    expect(c1).toMatchObject({ kind: 'claimed', leaseId: 3, deadline: 112, job: { id: 1, attempt: 1 } });
    if (c1.kind === 'claimed') expect(text(c1.job.payload)).toBe('a');
    expect(applyAt(q, 4, { kind: 'claim', at: 12, worker: 'w', leaseMs: 100 })).toMatchObject({
      job: { id: 2 },
    });
    expect(applyAt(q, 5, { kind: 'claim', at: 12, worker: 'w', leaseMs: 100 })).toEqual({
      kind: 'refused',
      reason: 'empty',
    });
  });

  it('ack of a live lease finishes the job for good; a second ack or a nack is refused', () => {
    const q = new JobQueue();
    run(q, [
      { kind: 'enqueue', at: 0, payload: bytes('a') },
      { kind: 'claim', at: 0, worker: 'w', leaseMs: 50 },
    ]);
    expect(applyAt(q, 3, { kind: 'ack', at: 49, leaseId: 2 })).toEqual({ kind: 'acked', jobId: 1 });
    expect(applyAt(q, 4, { kind: 'ack', at: 49, leaseId: 2 })).toEqual({
      kind: 'refused',
      reason: 'lease-lost',
    });
    expect(applyAt(q, 5, { kind: 'nack', at: 49, leaseId: 2 })).toEqual({
      kind: 'refused',
      reason: 'lease-lost',
    });
    // Long after, nothing comes back: the job is gone.
    expect(applyAt(q, 6, { kind: 'tick', at: 10_000 })).toEqual({ kind: 'ticked', now: 10_000 });
    expect(q.view()).toMatchObject({ queued: [], leased: [], done: 1, nextJobId: 2 });
  });

  it('nack puts the job back at its place in enqueue order, ahead of younger jobs', () => {
    const q = new JobQueue();
    run(q, [
      { kind: 'enqueue', at: 0, payload: bytes('a') },
      { kind: 'enqueue', at: 0, payload: bytes('b') },
      { kind: 'claim', at: 0, worker: 'w', leaseMs: 50 },
      { kind: 'enqueue', at: 0, payload: bytes('c') },
    ]);
    expect(applyAt(q, 5, { kind: 'nack', at: 1, leaseId: 3 })).toEqual({ kind: 'nacked', jobId: 1 });
    expect(q.view().queued).toEqual([1, 2, 3]);
    expect(applyAt(q, 6, { kind: 'claim', at: 1, worker: 'w', leaseMs: 50 })).toMatchObject({
      job: { id: 1, attempt: 2 },
    });
  });
});

describe('JobQueue: the lease rule (time is what the log says)', () => {
  it('a lease lapses when an applied entry carries a clock at or past its deadline, not before', () => {
    const q = new JobQueue();
    run(q, [
      { kind: 'enqueue', at: 1000, payload: bytes('a') },
      { kind: 'claim', at: 1000, worker: 'w', leaseMs: 100 },
    ]);
    applyAt(q, 3, { kind: 'tick', at: 1099 });
    expect(q.view().leased.map((l) => l.jobId)).toEqual([1]);
    applyAt(q, 4, { kind: 'tick', at: 1100 });
    expect(q.view()).toMatchObject({ queued: [1], leased: [] });
    // The worker that held it learns it lost the lease; the job runs again, attempt 2.
    expect(applyAt(q, 5, { kind: 'ack', at: 1100, leaseId: 2 })).toEqual({
      kind: 'refused',
      reason: 'lease-lost',
    });
    expect(applyAt(q, 6, { kind: 'claim', at: 1100, worker: 'v', leaseMs: 100 })).toMatchObject({
      job: { id: 1, attempt: 2 },
      leaseId: 6,
    });
  });

  it('expiry is decided before the command: an ack carrying a clock past the deadline is refused', () => {
    const q = new JobQueue();
    run(q, [
      { kind: 'enqueue', at: 0, payload: bytes('a') },
      { kind: 'claim', at: 0, worker: 'w', leaseMs: 10 },
    ]);
    expect(applyAt(q, 3, { kind: 'ack', at: 10, leaseId: 2 })).toEqual({
      kind: 'refused',
      reason: 'lease-lost',
    });
    expect(q.view().queued).toEqual([1]);
  });

  it('the clock never goes back: a command stamped by a slow clock neither rewinds it nor revives a lease', () => {
    const q = new JobQueue();
    run(q, [
      { kind: 'enqueue', at: 500, payload: bytes('a') },
      { kind: 'claim', at: 500, worker: 'w', leaseMs: 100 },
      { kind: 'tick', at: 700 },
    ]);
    expect(q.view()).toMatchObject({ now: 700, queued: [1] });
    expect(applyAt(q, 4, { kind: 'ack', at: 550, leaseId: 2 })).toEqual({
      kind: 'refused',
      reason: 'lease-lost',
    });
    expect(q.view().now).toBe(700);
    // A claim stamped behind the clock still gets a deadline from the log's clock.
    expect(applyAt(q, 5, { kind: 'claim', at: 1, worker: 'w', leaseMs: 100 })).toMatchObject({
      deadline: 800,
    });
  });

  it('several leases due at once expire by (deadline, lease id) and requeue in job order', () => {
    const q = new JobQueue();
    run(q, [
      { kind: 'enqueue', at: 0, payload: bytes('a') },
      { kind: 'enqueue', at: 0, payload: bytes('b') },
      { kind: 'enqueue', at: 0, payload: bytes('c') },
      { kind: 'claim', at: 0, worker: 'w', leaseMs: 30 }, // job 1, deadline 30
      { kind: 'claim', at: 0, worker: 'w', leaseMs: 10 }, // job 2, deadline 10
      { kind: 'claim', at: 0, worker: 'w', leaseMs: 500 }, // job 3, deadline 500
    ]);
    applyAt(q, 7, { kind: 'tick', at: 40 });
    expect(q.view()).toMatchObject({ queued: [1, 2], leased: [{ leaseId: 6, jobId: 3, deadline: 500 }] });
  });

  it('a malformed entry is refused the same way everywhere and changes nothing', () => {
    const q = new JobQueue();
    applyAt(q, 1, { kind: 'enqueue', at: 5, payload: bytes('a') });
    const before = q.snapshot();
    const r = q.apply({ index: 2, term: 1, type: EntryType.Normal, data: new Uint8Array([1, 99, 0]) });
    expect(r).toEqual({ kind: 'refused', reason: 'bad-command' });
    expect(q.snapshot()).toEqual(before);
  });
});

/** A random but valid command stream: enqueues, claims, acks/nacks of recent leases, ticks. */
function stream(seed: number, n: number): Command[] {
  const rnd = prng(seed);
  const out: Command[] = [];
  let clock = 1_000;
  for (let i = 1; i <= n; i++) {
    clock += Math.floor(rnd() * 20) - 3; // clocks wobble; the log's clock takes the max
    const x = rnd();
    const leaseId = Math.max(1, i - 1 - Math.floor(rnd() * 12));
    if (x < 0.35) out.push({ kind: 'enqueue', at: clock, payload: bytes(`job-${i}`) });
    else if (x < 0.6)
      out.push({ kind: 'claim', at: clock, worker: `w${i % 3}`, leaseMs: 5 + Math.floor(rnd() * 80) });
    else if (x < 0.8) out.push({ kind: 'ack', at: clock, leaseId });
    else if (x < 0.9) out.push({ kind: 'nack', at: clock, leaseId });
    else out.push({ kind: 'tick', at: clock });
  }
  return out;
}

describe('JobQueue: determinism and snapshots', () => {
  for (const seed of [1, 2, 3, 20261203]) {
    it(`seed ${seed}: two members applying the same log agree on every result and every byte`, () => {
      const cmds = stream(seed, 2_000);
      const a = new JobQueue();
      const b = new JobQueue();
      expect(run(a, cmds)).toEqual(run(b, cmds));
      expect(a.snapshot()).toEqual(b.snapshot());
      expect(a.view().done).toBeGreaterThan(0);
    });

    it(`seed ${seed}: a member restored from a snapshot mid-log continues exactly like one that never stopped`, () => {
      const cmds = stream(seed, 2_000);
      const cut = 777;
      const whole = new JobQueue();
      run(whole, cmds.slice(0, cut));
      const snap = whole.snapshot();
      const restored = new JobQueue();
      restored.restore(snap);
      expect(restored.snapshot()).toEqual(snap);
      expect(restored.view()).toEqual(whole.view());
      expect(run(restored, cmds.slice(cut), cut + 1)).toEqual(run(whole, cmds.slice(cut), cut + 1));
      expect(restored.snapshot()).toEqual(whole.snapshot());
    });
  }

  it('restore replaces the whole state and refuses corrupt bytes', () => {
    const q = new JobQueue();
    run(q, stream(9, 200));
    const snap = q.snapshot();
    const other = new JobQueue();
    applyAt(other, 1, { kind: 'enqueue', at: 1, payload: bytes('x') });
    other.restore(snap);
    expect(other.snapshot()).toEqual(snap);
    expect(() => new JobQueue().restore(snap.subarray(0, snap.length - 1))).toThrow(/truncated/);
    expect(() => new JobQueue().restore(new Uint8Array([...snap, 0]))).toThrow(/trailing/);
    expect(() => new JobQueue().restore(new Uint8Array([9, ...snap.subarray(1)]))).toThrow(/version/);
  });
});
