/**
 * What clients and members say to each other. Each request or response is one payload inside the
 * client frames of `@keel/core` (kinds 0x10/0x11), which carry the request id that matches a
 * response to its request; the payloads here carry everything else:
 *
 *   request  = version:u8 (1)  consistency:u8  command                   (command: see commands.ts)
 *   response = version:u8 (1)  0x00  result                              (result: see results.ts)
 *            | version:u8 (1)  0x01  code:u8  message  hasLeader:u8  [leaderId]
 *
 *   consistency: 0 linearizable, 1 stale, 2 lease (meaningful for get and scan; writes ignore it)
 *   error code:  1 not-leader, 2 proposal-dropped, 3 timeout, 4 stopped, 5 bad-request,
 *                6 unsupported, 7 busy
 *
 * A result is what the state machine answered (including its own failures, such as
 * `compare-failed` or `session-expired`); an error is the member's: the command did not reach the
 * state machine (or, for `timeout`, the member does not know whether it did).
 *
 * Decoders trust nothing: every length and count is checked against `KvLimits` before anything is
 * allocated, and malformed input raises a `DecodeError` (code `KEEL_DECODE_FAILED`), never another
 * exception.
 */
import { type NodeId, RequestErrorCode } from '@keel/core';
import {
  DecodeError,
  DecodeErrorReason,
  decodeClientReplies,
  decodeClientRequests,
  EncodeError,
  Reader,
  ReplyStatus,
  readId,
  Writer,
  writeClientReplies,
  writeClientRequests,
  writeId,
} from '@keel/core/codec';
import { defaultWriter, type KvCommand, readCommand, writeCommand } from './commands.js';
import { DEFAULT_KV_LIMITS, type KvLimits } from './limits.js';
import { clampMessage, type KvResult, readResult, writeResult } from './results.js';

export const PROTOCOL_VERSION = 1;

/**
 * How fresh a read must be:
 * - `linearizable`: reflects every write acknowledged before the read began. The member confirms
 *   it is still the leader with a ReadIndex round (dissertation §6.4) and answers once it has
 *   applied up to that index; no log entry is written.
 * - `stale`: served at once from the local state of whichever member receives it; may miss recent
 *   writes, never shows writes that were not committed.
 * - `lease`: the leader answers from local state while its lease holds (§6.4.1), skipping the
 *   ReadIndex round; correct only if clock drift between members stays below the lease margin.
 *   Members serve it only when lease reads are enabled, and answer `unsupported` otherwise.
 */
export const ReadConsistency = {
  Linearizable: 'linearizable',
  Stale: 'stale',
  Lease: 'lease',
} as const;
export type ReadConsistency = (typeof ReadConsistency)[keyof typeof ReadConsistency];

const CONSISTENCY_CODES: readonly ReadConsistency[] = ['linearizable', 'stale', 'lease'];

export interface KvRequest {
  readonly command: KvCommand;
  readonly consistency: ReadConsistency;
}

/**
 * Why a member answered with an error instead of a state machine result: the server's codes
 * (`RequestErrorCode` in @keel/core), under the name KV clients know.
 */
export const MemberErrorCode = RequestErrorCode;
export type MemberErrorCode = RequestErrorCode;

const ERROR_CODES: readonly MemberErrorCode[] = [
  'not-leader',
  'proposal-dropped',
  'timeout',
  'stopped',
  'bad-request',
  'unsupported',
  'busy',
];

export type KvResponse =
  | { readonly kind: 'result'; readonly result: KvResult }
  | {
      readonly kind: 'error';
      readonly code: MemberErrorCode;
      readonly message: string;
      readonly leaderHint: NodeId | null;
    };

const lenientDecoder = new TextDecoder('utf-8', { fatal: false });

const STATUS_RESULT = 0;
const STATUS_ERROR = 1;

function version(r: Reader): void {
  const v = r.u8();
  if (v !== PROTOCOL_VERSION)
    r.fail(DecodeErrorReason.Version, `protocol version ${v}, expected ${PROTOCOL_VERSION}`);
}

export function encodeRequest(
  req: KvRequest,
  w: Writer = defaultWriter(),
  limits: KvLimits = DEFAULT_KV_LIMITS,
): Uint8Array {
  try {
    w.u8(PROTOCOL_VERSION);
    const c = CONSISTENCY_CODES.indexOf(req.consistency);
    if (c < 0) throw new EncodeError(`unknown read consistency ${JSON.stringify(req.consistency)}`);
    w.u8(c);
    writeCommand(w, req.command, limits);
  } catch (err) {
    w.reset();
    throw err;
  }
  return w.finish();
}

export function decodeRequest(payload: Uint8Array, limits: KvLimits = DEFAULT_KV_LIMITS): KvRequest {
  const r = new Reader(payload);
  version(r);
  const c = r.u8();
  const consistency = CONSISTENCY_CODES[c] ?? r.fail(DecodeErrorReason.Malformed, `read consistency ${c}`);
  const command = readCommand(r, limits);
  r.done();
  return { command, consistency };
}

export function encodeResponse(
  res: KvResponse,
  w: Writer = defaultWriter(),
  limits: KvLimits = DEFAULT_KV_LIMITS,
): Uint8Array {
  try {
    w.u8(PROTOCOL_VERSION);
    if (res.kind === 'result') {
      w.u8(STATUS_RESULT);
      writeResult(w, res.result, limits);
    } else {
      w.u8(STATUS_ERROR);
      const c = ERROR_CODES.indexOf(res.code);
      if (c < 0) throw new EncodeError(`unknown member error code ${JSON.stringify(res.code)}`);
      w.u8(c + 1);
      w.utf8(clampMessage(res.message, limits));
      w.u8(res.leaderHint === null ? 0 : 1);
      if (res.leaderHint !== null) writeId(w, res.leaderHint);
    }
  } catch (err) {
    w.reset();
    throw err;
  }
  return w.finish();
}

export function decodeResponse(payload: Uint8Array, limits: KvLimits = DEFAULT_KV_LIMITS): KvResponse {
  const r = new Reader(payload);
  version(r);
  const status = r.u8();
  let res: KvResponse;
  if (status === STATUS_RESULT) {
    res = { kind: 'result', result: readResult(r, limits) };
  } else if (status === STATUS_ERROR) {
    const c = r.u8();
    const code = ERROR_CODES[c - 1] ?? r.fail(DecodeErrorReason.UnknownType, `member error code ${c}`);
    const message = r.utf8(limits.maxMessageBytes);
    const hasLeader = r.u8();
    if (hasLeader > 1) r.fail(DecodeErrorReason.Malformed, `leader flag ${hasLeader}`);
    res = { kind: 'error', code, message, leaderHint: hasLeader === 1 ? readId(r) : null };
  } else {
    return r.fail(DecodeErrorReason.UnknownType, `response status ${status}`);
  }
  r.done();
  return res;
}

// --- whole frames --------------------------------------------------------------------------------

/** A request with the id its response will carry. */
export interface IdentifiedRequest {
  readonly id: number;
  readonly request: KvRequest;
}

export interface IdentifiedResponse {
  readonly id: number;
  readonly response: KvResponse;
}

/**
 * One decoded request record of a frame: a frame whose records decode on their own is not thrown
 * away because one payload is bad; the member answers that one with `bad-request`.
 */
export type DecodedRequest =
  | { readonly id: number; readonly ok: true; readonly request: KvRequest }
  | { readonly id: number; readonly ok: false; readonly error: DecodeError };

/** Packs requests into one client frame (the form a transport sends). */
export function encodeRequestFrame(
  requests: readonly IdentifiedRequest[],
  w: Writer = defaultWriter(),
  limits: KvLimits = DEFAULT_KV_LIMITS,
): Uint8Array {
  const scratch = new Writer(4096);
  const records = requests.map(({ id, request }) => ({
    id,
    payload: encodeRequest(request, scratch, limits),
  }));
  return writeClientRequests(w, records);
}

/** Unpacks a client frame. Throws a DecodeError only when the frame itself is broken. */
export function decodeRequestFrame(
  frame: Uint8Array,
  limits: KvLimits = DEFAULT_KV_LIMITS,
): DecodedRequest[] {
  return decodeClientRequests(frame).map(({ id, payload }) => {
    try {
      return { id, ok: true, request: decodeRequest(payload, limits) };
    } catch (err) {
      if (err instanceof DecodeError) return { id, ok: false, error: err };
      throw err;
    }
  });
}

export function encodeResponseFrame(
  responses: readonly IdentifiedResponse[],
  w: Writer = defaultWriter(),
  limits: KvLimits = DEFAULT_KV_LIMITS,
): Uint8Array {
  const scratch = new Writer(4096);
  const records = responses.map(({ id, response }) => ({
    id,
    status: ReplyStatus.Ok,
    payload: encodeResponse(response, scratch, limits),
  }));
  return writeClientReplies(w, records);
}

/**
 * Unpacks a reply frame. A record the transport marked as an error (its payload is a UTF-8 message)
 * becomes a `bad-request` error response.
 */
export function decodeResponseFrame(
  frame: Uint8Array,
  limits: KvLimits = DEFAULT_KV_LIMITS,
): IdentifiedResponse[] {
  return decodeClientReplies(frame).map(({ id, status, payload }) => {
    if (status === ReplyStatus.Ok) return { id, response: decodeResponse(payload, limits) };
    const message = payload.subarray(0, limits.maxMessageBytes);
    return {
      id,
      response: {
        kind: 'error',
        code: 'bad-request',
        message: lenientDecoder.decode(message),
        leaderHint: null,
      },
    };
  });
}
