import { EntryType } from '@keel/core';
import { describe, expect, it } from 'vitest';
import {
  type Command,
  decodeCommand,
  encodeCommand,
  JobQueue,
  JobQueueClient,
  JobQueueSessionError,
  type JobResult,
  OutcomeUnknownError,
  type Propose,
} from '../src/index.js';
import { applyAt, bytes } from './helpers.js';

/** Opens a session at `index` and returns its id. */
function open(q: JobQueue, index: number, at = 0): number {
  const r = applyAt(q, index, { kind: 'openSession', at });
  if (r.kind !== 'sessionOpened') throw new Error(`openSession: ${JSON.stringify(r)}`);
  return r.clientId;
}

describe('JobQueue sessions: exactly-once writes (@keel/core SessionTable)', () => {
  it('a resent enqueue is one job, answered with the first result', () => {
    const q = new JobQueue();
    const id = open(q, 1);
    expect(id).toBe(1);
    const enqueue: Command = {
      kind: 'enqueue',
      at: 5,
      payload: bytes('a'),
      session: { clientId: id, seq: 1 },
    };
    expect(applyAt(q, 2, enqueue)).toEqual({ kind: 'enqueued', jobId: 1 });
    expect(applyAt(q, 3, enqueue)).toEqual({ kind: 'enqueued', jobId: 1 });
    expect(q.view()).toMatchObject({ queued: [1], nextJobId: 2 });
  });

  it('a resent claim hands back the same lease, not a second job', () => {
    const q = new JobQueue();
    const id = open(q, 1);
    applyAt(q, 2, { kind: 'enqueue', at: 0, payload: bytes('a') });
    applyAt(q, 3, { kind: 'enqueue', at: 0, payload: bytes('b') });
    const claim: Command = {
      kind: 'claim',
      at: 1,
      worker: 'w',
      leaseMs: 100,
      session: { clientId: id, seq: 1 },
    };
    const first = applyAt(q, 4, claim);
    expect(first).toMatchObject({ kind: 'claimed', leaseId: 4, job: { id: 1 } });
    expect(applyAt(q, 5, claim)).toEqual(first);
    expect(q.view()).toMatchObject({ queued: [2], leased: [{ leaseId: 4, jobId: 1 }] });
  });

  it('refuses a sequence below the last, an unknown session, and one that expired by the log clock', () => {
    const q = new JobQueue({ sessionTimeoutMs: 1000 });
    const id = open(q, 1);
    const at = (n: number, seq: number, clientId = id): Command => ({
      kind: 'enqueue',
      at: n,
      payload: bytes('x'),
      session: { clientId, seq },
    });
    applyAt(q, 2, at(0, 2));
    expect(applyAt(q, 3, at(0, 1))).toEqual({ kind: 'refused', reason: 'stale-sequence' });
    expect(applyAt(q, 4, at(0, 1, 99))).toEqual({ kind: 'refused', reason: 'unknown-session' });
    expect(applyAt(q, 5, { kind: 'tick', at: 1001 })).toEqual({ kind: 'ticked', now: 1001 });
    expect(applyAt(q, 6, at(1001, 3))).toEqual({ kind: 'refused', reason: 'session-expired' });
    expect(q.view().nextJobId).toBe(2);
  });

  it('closeSession ends it', () => {
    const q = new JobQueue();
    const id = open(q, 1);
    expect(applyAt(q, 2, { kind: 'closeSession', at: 0, clientId: id })).toEqual({ kind: 'sessionClosed' });
    expect(applyAt(q, 3, { kind: 'closeSession', at: 0, clientId: id })).toEqual({
      kind: 'refused',
      reason: 'session-expired',
    });
    expect(q.view().sessions).toBe(0);
  });

  it('a snapshot carries the sessions: a resend after restore is still answered from the cache', () => {
    const q = new JobQueue();
    const id = open(q, 1, 7.5);
    const enqueue: Command = {
      kind: 'enqueue',
      at: 9,
      payload: bytes('a'),
      session: { clientId: id, seq: 1 },
    };
    applyAt(q, 2, enqueue);
    const restored = new JobQueue();
    restored.restore(q.snapshot());
    expect(restored.snapshot()).toEqual(q.snapshot());
    expect(applyAt(restored, 3, enqueue)).toEqual({ kind: 'enqueued', jobId: 1 });
    expect(restored.view()).toMatchObject({ queued: [1], sessions: 1 });
  });

  it('refuses a snapshot whose sessions are corrupt', () => {
    const q = new JobQueue();
    open(q, 1);
    const snap = q.snapshot();
    // The last bytes are the session blob: highestClientId 1, one session whose id is 1. Claim id 2.
    const bad = snap.slice();
    bad[bad.length - 4] = 2;
    expect(() => new JobQueue().restore(bad)).toThrow(/never issued/);
  });
});

describe('session commands on the wire', () => {
  it('round-trip with and without a session', () => {
    const cmds: Command[] = [
      { kind: 'openSession', at: 1 },
      { kind: 'closeSession', at: 2, clientId: 7 },
      { kind: 'enqueue', at: 3, payload: bytes('p'), session: { clientId: 7, seq: 300 } },
      { kind: 'ack', at: 4, leaseId: 9, session: { clientId: 7, seq: 301 } },
      { kind: 'ack', at: 4, leaseId: 9 },
    ];
    for (const c of cmds) expect(decodeCommand(encodeCommand(c))).toEqual(c);
  });

  it('refuses a session on a command that cannot carry one, and sequence 0', () => {
    const tick = encodeCommand({ kind: 'tick', at: 1 });
    tick[1]! |= 0x80;
    expect(() => decodeCommand(new Uint8Array([...tick, 1, 1]))).toThrow(/cannot be in a session/);
    const zero = encodeCommand({ kind: 'ack', at: 1, leaseId: 1, session: { clientId: 1, seq: 1 } });
    zero[11] = 0; // seq, after version, tag, at:f64 and clientId
    expect(() => decodeCommand(zero)).toThrow(/start at 1/);
  });
});

/** A propose over one local queue that applies each command; `lose(n)` loses the next n answers. */
function lossyPropose(q: JobQueue, initiallyLost = 0) {
  let index = 0;
  let sent = 0;
  let lost = initiallyLost;
  const propose: Propose = async (command) => {
    sent++;
    const result: JobResult = q.apply({ index: ++index, term: 1, type: EntryType.Normal, data: command });
    if (lost > 0) {
      lost--;
      throw new OutcomeUnknownError('the member stopped after taking the command');
    }
    return result;
  };
  const lose = (n: number): void => {
    lost = n;
  };
  return { propose, sent: () => sent, lose };
}

describe('JobQueueClient with a session', () => {
  it('resends a write whose outcome is unknown, and the queue runs it once', async () => {
    const q = new JobQueue();
    const flaky = lossyPropose(q);
    const client = new JobQueueClient(flaky.propose, { now: () => 1 });
    await client.openSession();
    flaky.lose(2);
    expect(await client.enqueue(bytes('once'))).toBe(1);
    // 1 open, then the enqueue 3 times: applied once, 2 answers lost, the third from the cache.
    expect(flaky.sent()).toBe(4);
    expect(q.view()).toMatchObject({ queued: [1], nextJobId: 2 });
  });

  it('gives up after resendForMs with the OutcomeUnknownError', async () => {
    const q = new JobQueue();
    const flaky = lossyPropose(q);
    const client = new JobQueueClient(flaky.propose, { now: () => 1, resendForMs: 0 });
    await client.openSession();
    flaky.lose(1_000);
    await expect(client.enqueue(bytes('x'))).rejects.toThrow(OutcomeUnknownError);
    expect(q.view().nextJobId).toBe(2);
  });

  it('without a session the same loss surfaces as OutcomeUnknownError and is not resent', async () => {
    const q = new JobQueue();
    const flaky = lossyPropose(q, 1);
    const client = new JobQueueClient(flaky.propose, { now: () => 1 });
    await expect(client.enqueue(bytes('maybe'))).rejects.toThrow(OutcomeUnknownError);
    expect(flaky.sent()).toBe(1);
  });

  it('writes in a session go one at a time, in call order', async () => {
    const q = new JobQueue();
    const client = new JobQueueClient(lossyPropose(q, 0).propose, { now: () => 1 });
    await client.openSession();
    const ids = await Promise.all([1, 2, 3, 4].map((n) => client.enqueue(bytes(`j${n}`))));
    expect(ids).toEqual([1, 2, 3, 4]);
  });

  it('a session that expired is reported, not silently replaced', async () => {
    const q = new JobQueue({ sessionTimeoutMs: 10 });
    let now = 0;
    const client = new JobQueueClient(lossyPropose(q, 0).propose, { now: () => now });
    await client.openSession();
    now = 100;
    await expect(client.enqueue(bytes('late'))).rejects.toThrow(JobQueueSessionError);
    expect(q.view().nextJobId).toBe(1);
  });
});
