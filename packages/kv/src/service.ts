import type { RequestService, ServiceRequest } from '@keel/core';
import { DecodeError } from '@keel/core/codec';
import { encodeEntry, isWriteCommand } from './commands.js';
import type { KvStateMachine } from './KvStateMachine.js';
import { leaseDeadlines, serveLeaseRequest } from './leaseService.js';
import { decodeRequest, encodeResponse, type KvRequest } from './protocol.js';
import type { KvResult } from './results.js';
import { decodeWatchRequest, encodeWatchReply, isWatchRequest } from './watchProtocol.js';

/**
 * The KV store's client protocol as a `RequestService`: what a member's request server
 * (`@keel/server`) needs to serve KV clients. Reads (`get`, `scan`) run against the store once
 * safe at the request's consistency; writes and session commands are proposed as log entries
 * stamped with the leader's clock (sessions expire by log time, never local time: §6.3).
 */
export const kvService: RequestService<KvStateMachine, KvResult> = {
  decode(payload: Uint8Array): ServiceRequest<KvStateMachine, KvResult> {
    if (isWatchRequest(payload)) return decodeWatch(payload);
    let request: KvRequest;
    try {
      request = decodeRequest(payload);
    } catch (err) {
      const message = err instanceof DecodeError ? err.message : 'malformed request';
      return { kind: 'reject', label: 'malformed', code: 'bad-request', message };
    }
    const cmd = request.command;
    const label: string = cmd.type;
    if (cmd.type === 'leaseKeepAlive' || cmd.type === 'leaseTimeToLive') {
      return {
        kind: 'leader',
        label: cmd.type,
        run: (sm, deadlines) => serveLeaseRequest(sm, cmd, deadlines),
      };
    }
    if (cmd.type === 'get' || cmd.type === 'getAt' || cmd.type === 'scan' || cmd.type === 'leaseList') {
      return { kind: 'read', label: cmd.type, consistency: request.consistency, run: (sm) => sm.read(cmd) };
    }
    if (
      isWriteCommand(cmd) ||
      cmd.type === 'registerSession' ||
      cmd.type === 'keepAlive' ||
      cmd.type === 'closeSession'
    ) {
      // The shared writer's bytes are reused by the next encode: the proposal keeps a copy.
      return {
        kind: 'write',
        label: cmd.type,
        command: (time) => encodeEntry({ time, command: cmd }).slice(),
      };
    }
    return { kind: 'reject', label, code: 'unsupported', message: 'unsupported command' };
  },
  encodeResult: (result) => encodeResponse({ kind: 'result', result }).slice(),
  encodeError: (error) => encodeResponse({ kind: 'error', ...error }).slice(),
  deadlines: leaseDeadlines,
};

/**
 * Watch requests are served by whichever member receives them, from what it applied (followers
 * too, so watch load spreads). A poll with nothing to deliver is held until the member applies a
 * matching event or `waitMs` passes; then it answers its progress (an empty batch), which is also
 * how a client tells a quiet watch from a dead member.
 */
function decodeWatch(payload: Uint8Array): ServiceRequest<KvStateMachine, KvResult> {
  let req: ReturnType<typeof decodeWatchRequest>;
  try {
    req = decodeWatchRequest(payload);
  } catch (err) {
    const message = err instanceof DecodeError ? err.message : 'malformed watch request';
    return { kind: 'reject', label: 'malformed', code: 'bad-request', message };
  }
  const encode = (reply: Parameters<typeof encodeWatchReply>[0]): Uint8Array =>
    encodeWatchReply(reply).slice();
  switch (req.op) {
    case 'create': {
      const options =
        req.from === undefined ? { prevValue: req.prevValue } : { prevValue: req.prevValue, from: req.from };
      const once = (sm: KvStateMachine) => encode(sm.watches.create(req.range, options));
      return { kind: 'wait', label: 'watch', maxWaitMs: 0, poll: once, expire: once };
    }
    case 'cancel': {
      const once = (sm: KvStateMachine) => encode(sm.watches.cancel(req.id));
      return { kind: 'wait', label: 'watchCancel', maxWaitMs: 0, poll: once, expire: once };
    }
    case 'poll': {
      let from: number | undefined = req.from;
      return {
        kind: 'wait',
        label: 'watchPoll',
        maxWaitMs: req.waitMs,
        poll: (sm) => {
          const r = sm.watches.poll(req.id, from, req.tag);
          // Rewind only once: later polls of this request continue from the cursor.
          from = undefined;
          return r.kind === 'idle' ? null : encode(r);
        },
        expire: (sm) => encode(sm.watches.poll(req.id, undefined, req.tag)),
      };
    }
  }
}
