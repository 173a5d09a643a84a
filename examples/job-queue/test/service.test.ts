import { EntryType } from '@keel/core';
import { describe, expect, it } from 'vitest';
import {
  commandRequest,
  decodeReply,
  encodeCommand,
  JobQueue,
  jobQueueService,
  viewRequest,
} from '../src/index.js';

// The job queue's client protocol (src/service.ts): what a member makes of a request's bytes,
// and what a client reads back from a reply's.

describe('jobQueueService', () => {
  it('takes a command request as a write that proposes the command bytes unchanged', () => {
    const command = encodeCommand({ kind: 'enqueue', at: 5, payload: Uint8Array.of(1, 2, 3) });
    const r = jobQueueService.decode(commandRequest(command));
    expect(r.kind).toBe('write');
    if (r.kind === 'write') expect(r.command(123)).toEqual(command);
  });

  it('rejects a malformed command and an unknown tag as bad-request, without a log entry', () => {
    expect(jobQueueService.decode(commandRequest(Uint8Array.of(9, 9)))).toMatchObject({
      kind: 'reject',
      code: 'bad-request',
    });
    expect(jobQueueService.decode(Uint8Array.of(42))).toMatchObject({ kind: 'reject', code: 'bad-request' });
    expect(jobQueueService.decode(new Uint8Array())).toMatchObject({ kind: 'reject', code: 'bad-request' });
  });

  it('serves view reads at the consistency asked for', () => {
    const queue = new JobQueue();
    queue.apply({
      index: 1,
      term: 1,
      type: EntryType.Normal,
      data: encodeCommand({ kind: 'enqueue', at: 7, payload: new Uint8Array() }),
    });
    for (const consistency of ['linearizable', 'stale'] as const) {
      const r = jobQueueService.decode(viewRequest(consistency));
      expect(r).toMatchObject({ kind: 'read', consistency });
      if (r.kind !== 'read') continue;
      const reply = decodeReply(jobQueueService.encodeResult(r.run(queue)));
      expect(reply).toEqual({ kind: 'view', view: queue.view() });
    }
  });

  it('round-trips results and errors through the reply frame', () => {
    const result = { kind: 'enqueued', jobId: 3 } as const;
    expect(decodeReply(jobQueueService.encodeResult(result))).toEqual({ kind: 'result', result });
    const error = { code: 'not-leader', message: 'no leader known', leaderHint: 'b' } as const;
    expect(decodeReply(jobQueueService.encodeError(error))).toEqual({ kind: 'error', error });
    expect(() => decodeReply(Uint8Array.of(77))).toThrow(/unknown reply tag/);
  });
});
