import type { RequestError, RequestService } from '@keel/core';
import { JobQueueDecodeError } from './bytes.js';
import { decodeCommand, decodeResult, encodeResult } from './codec.js';
import type { JobResult } from './commands.js';
import type { JobQueue, QueueView } from './JobQueue.js';

/**
 * The job queue's client protocol, for `@keel/server`'s `startMember`: what travels between a
 * client and a member's client port. One byte says what a frame is; the rest is the codec's bytes
 * (commands, results) or JSON (views, errors).
 *
 *   request: 1 | command          a write: the command is proposed as it is
 *            2                    read the queue's view, linearizably (ReadIndex on the leader)
 *            3                    read the view of this member's state as it is (stale)
 *   reply:   1 | result           the command's result
 *            2 | view:json        the view
 *            3 | error:json       the member's error: { code, message, leader }
 */
const RequestTag = { command: 1, view: 2, staleView: 3 } as const;
const ReplyTag = { result: 1, view: 2, error: 3 } as const;

/** What a member answers: a command's result or a view. */
export type ServedResult = JobResult | { readonly kind: 'view'; readonly view: QueueView };

/** A member's answer as a client reads it. */
export type JobQueueReply =
  | { readonly kind: 'result'; readonly result: JobResult }
  | { readonly kind: 'view'; readonly view: QueueView }
  | { readonly kind: 'error'; readonly error: RequestError };

const utf8 = new TextEncoder();
const text = new TextDecoder();

/** A write: `command` is a command's bytes (`encodeCommand`). */
export function commandRequest(command: Uint8Array): Uint8Array {
  return tagged(RequestTag.command, command);
}

/** A view read: `linearizable` is answered by the leader only; `stale` by any member. */
export function viewRequest(consistency: 'linearizable' | 'stale'): Uint8Array {
  return Uint8Array.of(consistency === 'stale' ? RequestTag.staleView : RequestTag.view);
}

/** Decodes a member's reply; throws JobQueueDecodeError when it is not one. */
export function decodeReply(bytes: Uint8Array): JobQueueReply {
  const body = bytes.subarray(1);
  switch (bytes[0]) {
    case ReplyTag.result:
      return { kind: 'result', result: decodeResult(body) };
    case ReplyTag.view:
      return { kind: 'view', view: JSON.parse(text.decode(body)) as QueueView };
    case ReplyTag.error: {
      const e = JSON.parse(text.decode(body)) as {
        code: RequestError['code'];
        message: string;
        leader: string | null;
      };
      return { kind: 'error', error: { code: e.code, message: e.message, leaderHint: e.leader } };
    }
    default:
      throw new JobQueueDecodeError(`unknown reply tag ${String(bytes[0])}`);
  }
}

export const jobQueueService: RequestService<JobQueue, ServedResult> = {
  decode(payload) {
    switch (payload[0]) {
      case RequestTag.command: {
        const command = payload.slice(1);
        try {
          // Checked here so a malformed command is answered at once instead of taking a log entry.
          decodeCommand(command);
        } catch (err) {
          if (!(err instanceof JobQueueDecodeError)) throw err;
          return { kind: 'reject', label: 'malformed', code: 'bad-request', message: err.message };
        }
        return { kind: 'write', label: 'command', command: () => command };
      }
      case RequestTag.view:
      case RequestTag.staleView:
        return {
          kind: 'read',
          label: 'view',
          consistency: payload[0] === RequestTag.view ? 'linearizable' : 'stale',
          run: (queue) => ({ kind: 'view', view: queue.view() }),
        };
      default:
        return { kind: 'reject', label: 'unknown', code: 'bad-request', message: 'unknown request tag' };
    }
  },
  encodeResult: (r) =>
    r.kind === 'view'
      ? tagged(ReplyTag.view, utf8.encode(JSON.stringify(r.view)))
      : tagged(ReplyTag.result, encodeResult(r)),
  encodeError: (e) =>
    tagged(
      ReplyTag.error,
      utf8.encode(JSON.stringify({ code: e.code, message: e.message, leader: e.leaderHint })),
    ),
};

function tagged(tag: number, body: Uint8Array): Uint8Array {
  const out = new Uint8Array(1 + body.length);
  out[0] = tag;
  out.set(body, 1);
  return out;
}
