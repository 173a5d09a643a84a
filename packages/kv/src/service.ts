import type { RequestService, ServiceRequest } from '@keel/core';
import { DecodeError } from '@keel/core/codec';
import { encodeEntry, isWriteCommand } from './commands.js';
import type { KvStateMachine } from './KvStateMachine.js';
import { decodeRequest, encodeResponse, type KvRequest } from './protocol.js';
import type { KvResult } from './results.js';

/**
 * The KV store's client protocol as a `RequestService`: what a member's request server
 * (`@keel/server`) needs to serve KV clients. Reads (`get`, `scan`) run against the store once
 * safe at the request's consistency; writes and session commands are proposed as log entries
 * stamped with the leader's clock (sessions expire by log time, never local time: §6.3).
 */
export const kvService: RequestService<KvStateMachine, KvResult> = {
  decode(payload: Uint8Array): ServiceRequest<KvStateMachine, KvResult> {
    let request: KvRequest;
    try {
      request = decodeRequest(payload);
    } catch (err) {
      const message = err instanceof DecodeError ? err.message : 'malformed request';
      return { kind: 'reject', label: 'malformed', code: 'bad-request', message };
    }
    const cmd = request.command;
    const label: string = cmd.type;
    if (cmd.type === 'get' || cmd.type === 'scan') {
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
};
