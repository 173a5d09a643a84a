import { describe, expect, it } from 'vitest';
import { decodeEntry, decodeResponse, encodeRequest, KvStateMachine, kvService } from '../src/index.js';
import { b } from './helpers.js';

describe('kvService: the KV protocol as a request service for @keel/server', () => {
  it('makes a put a write whose entry carries the leader time it is given', () => {
    const command = { type: 'put', key: b('k'), value: b('v') } as const;
    const req = kvService.decode(encodeRequest({ command, consistency: 'linearizable' }));
    expect(req.kind).toBe('write');
    if (req.kind !== 'write') return;
    expect(req.label).toBe('put');
    const entry = req.command(1234);
    const again = req.command(99); // the shared writer is reused: each entry is a copy
    expect(decodeEntry(entry)).toEqual({ time: 1234, command });
    expect(decodeEntry(again)).toEqual({ time: 99, command });
  });

  it('makes a get a read at the requested consistency, run against the machine', () => {
    const sm = new KvStateMachine();
    const req = kvService.decode(
      encodeRequest({ command: { type: 'get', key: b('k') }, consistency: 'lease' }),
    );
    expect(req).toMatchObject({ kind: 'read', label: 'get', consistency: 'lease' });
    if (req.kind !== 'read') return;
    expect(decodeResponse(kvService.encodeResult(req.run(sm)))).toEqual({
      kind: 'result',
      result: sm.read({ type: 'get', key: b('k') }),
    });
  });

  it('rejects bytes that do not decode as bad-request, labelled malformed', () => {
    expect(kvService.decode(Uint8Array.of(0xff, 1, 2))).toMatchObject({
      kind: 'reject',
      label: 'malformed',
      code: 'bad-request',
    });
  });

  it('encodes the server errors as KV error responses, leader hint included', () => {
    const bytes = kvService.encodeError({ code: 'not-leader', message: 'not the leader', leaderHint: 'n2' });
    expect(decodeResponse(bytes)).toEqual({
      kind: 'error',
      code: 'not-leader',
      message: 'not the leader',
      leaderHint: 'n2',
    });
  });
});
