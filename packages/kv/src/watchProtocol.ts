/**
 * The watch requests and replies, beside the KV protocol (protocol.ts) on the same client frames:
 *
 *   request = 0x57 ('W')  op:u8  body
 *     op 1 create: flags:u8 (1 prefix, 2 prevValue, 4 from)  key/prefix:lenBytes  [from:varint]
 *     op 2 poll:   id:varint  from:varint  waitMs:varint  tag:varint   (from: first revision not
 *                  received; tag: `watchTag` of the watch, checked by the member)
 *     op 3 cancel: id:varint
 *   reply   = version:u8 (1)  0x02  tag:u8  body               (0x00/0x01: a KV result or error)
 *     tag 1 created: id:varint  revision:varint
 *     tag 2 events:  revision:varint  count:varint  event*
 *       event = type:u8 (1 put, 2 delete)  key  value  version  createRevision  modRevision  hasPrev:u8  [prev kv]
 *     tag 3 ended:   reason:u8  message:utf8  oldest:varint
 *
 * The first byte tells a watch request from a KV request (whose first byte is the protocol
 * version, 1). Decoders check every length against `KvLimits` before allocating.
 */
import { DecodeErrorReason, EncodeError, Reader, type Writer } from '@keel/core/codec';
import { defaultWriter } from './commands.js';
import { DEFAULT_KV_LIMITS, type KvLimits } from './limits.js';
import { PROTOCOL_VERSION } from './protocol.js';
import { clampMessage, type KeyValue, readKeyValue, writeKeyValue } from './results.js';
import { type WatchCreated, WatchEndReason, type WatchPoll } from './WatchHub.js';
import type { WatchEvent, WatchRange } from './watchEvents.js';

export const WATCH_REQUEST_TAG = 0x57;
const STATUS_WATCH = 2;

/** The longest a member holds a poll with nothing to deliver before answering its progress. */
export const MAX_WATCH_WAIT_MS = 30_000;

export type WatchRequest =
  | {
      readonly op: 'create';
      readonly range: WatchRange;
      readonly prevValue: boolean;
      readonly from?: number;
    }
  | {
      readonly op: 'poll';
      readonly id: number;
      readonly from: number;
      readonly waitMs: number;
      readonly tag: number;
    }
  | { readonly op: 'cancel'; readonly id: number };

export type WatchReply = WatchCreated | WatchPoll;

const OPS = ['create', 'poll', 'cancel'] as const;
const REASONS: readonly WatchEndReason[] = Object.values(WatchEndReason);
const F_PREFIX = 1;
const F_PREV = 2;
const F_FROM = 4;

export function isWatchRequest(payload: Uint8Array): boolean {
  return payload.length > 0 && payload[0] === WATCH_REQUEST_TAG;
}

export function encodeWatchRequest(req: WatchRequest, w: Writer = defaultWriter()): Uint8Array {
  try {
    w.u8(WATCH_REQUEST_TAG);
    w.u8(OPS.indexOf(req.op) + 1);
    if (req.op === 'create') {
      const prefix = 'prefix' in req.range;
      w.u8((prefix ? F_PREFIX : 0) | (req.prevValue ? F_PREV : 0) | (req.from === undefined ? 0 : F_FROM));
      w.lenBytes('prefix' in req.range ? req.range.prefix : req.range.key);
      if (req.from !== undefined) w.varint(req.from);
    } else if (req.op === 'poll') {
      w.varint(req.id);
      w.varint(req.from);
      w.varint(Math.min(Math.max(0, Math.floor(req.waitMs)), MAX_WATCH_WAIT_MS));
      w.varint(req.tag);
    } else {
      w.varint(req.id);
    }
  } catch (err) {
    w.reset();
    throw err;
  }
  return w.finish();
}

export function decodeWatchRequest(payload: Uint8Array, limits: KvLimits = DEFAULT_KV_LIMITS): WatchRequest {
  const r = new Reader(payload);
  if (r.u8() !== WATCH_REQUEST_TAG) r.fail(DecodeErrorReason.Malformed, 'not a watch request');
  const code = r.u8();
  const op = OPS[code - 1] ?? r.fail(DecodeErrorReason.UnknownType, `watch op ${code}`);
  let req: WatchRequest;
  if (op === 'create') {
    const flags = r.u8();
    if ((flags & ~(F_PREFIX | F_PREV | F_FROM)) !== 0)
      r.fail(DecodeErrorReason.Malformed, `watch flags ${flags}`);
    const bytes = r.lenBytes(limits.maxKeyBytes).slice();
    if (!(flags & F_PREFIX) && bytes.length === 0) r.fail(DecodeErrorReason.Malformed, 'empty key');
    const range: WatchRange = flags & F_PREFIX ? { prefix: bytes } : { key: bytes };
    const prevValue = (flags & F_PREV) !== 0;
    if (flags & F_FROM) {
      const from = r.varint();
      if (from === 0) r.fail(DecodeErrorReason.Malformed, 'start revision 0');
      req = { op, range, prevValue, from };
    } else {
      req = { op, range, prevValue };
    }
  } else if (op === 'poll') {
    const id = r.varint();
    const from = r.varint();
    const waitMs = Math.min(r.varint(), MAX_WATCH_WAIT_MS);
    const tag = r.varint();
    if (tag > 0xffffffff) r.fail(DecodeErrorReason.Malformed, `watch tag ${tag}`);
    req = { op, id, from, waitMs, tag };
  } else {
    req = { op, id: r.varint() };
  }
  r.done();
  return req;
}

function writeEvent(w: Writer, e: WatchEvent): void {
  w.u8(e.type === 'put' ? 1 : 2);
  w.lenBytes(e.kv.key);
  w.lenBytes(e.kv.value);
  w.varint(e.kv.version);
  w.varint(e.kv.createRevision);
  w.varint(e.kv.modRevision);
  w.u8(e.prev === null ? 0 : 1);
  if (e.prev !== null) writeKeyValue(w, e.prev);
}

function readEvent(r: Reader, limits: KvLimits): WatchEvent {
  const t = r.u8();
  if (t !== 1 && t !== 2) r.fail(DecodeErrorReason.UnknownType, `event type ${t}`);
  const key = r.lenBytes(limits.maxKeyBytes).slice();
  const value = r.lenBytes(limits.maxValueBytes).slice();
  const kv: KeyValue = {
    key,
    value,
    version: r.varint(),
    createRevision: r.varint(),
    modRevision: r.varint(),
  };
  if (key.length === 0 || kv.modRevision === 0) r.fail(DecodeErrorReason.Malformed, 'event key or revision');
  const hasPrev = r.u8();
  if (hasPrev > 1) r.fail(DecodeErrorReason.Malformed, `prev flag ${hasPrev}`);
  const prev = hasPrev === 1 ? readKeyValue(r, limits) : null;
  return { type: t === 1 ? 'put' : 'delete', kv, prev };
}

export function encodeWatchReply(
  reply: WatchReply,
  w: Writer = defaultWriter(),
  limits: KvLimits = DEFAULT_KV_LIMITS,
): Uint8Array {
  try {
    w.u8(PROTOCOL_VERSION);
    w.u8(STATUS_WATCH);
    switch (reply.kind) {
      case 'created':
        w.u8(1);
        w.varint(reply.id);
        w.varint(reply.revision);
        break;
      case 'events':
      case 'idle': {
        const events = reply.kind === 'events' ? reply.events : [];
        w.u8(2);
        w.varint(reply.revision);
        w.varint(events.length);
        for (const e of events) writeEvent(w, e);
        break;
      }
      case 'ended': {
        const c = REASONS.indexOf(reply.reason);
        if (c < 0) throw new EncodeError(`unknown watch end reason ${JSON.stringify(reply.reason)}`);
        w.u8(3);
        w.u8(c + 1);
        w.utf8(clampMessage(reply.message, limits));
        w.varint(reply.oldest);
        break;
      }
    }
  } catch (err) {
    w.reset();
    throw err;
  }
  return w.finish();
}

/** True when a reply payload is a watch reply (else it is a KV response: `decodeResponse`). */
export function isWatchReply(payload: Uint8Array): boolean {
  return payload.length > 1 && payload[0] === PROTOCOL_VERSION && payload[1] === STATUS_WATCH;
}

export function decodeWatchReply(payload: Uint8Array, limits: KvLimits = DEFAULT_KV_LIMITS): WatchReply {
  const r = new Reader(payload);
  const v = r.u8();
  if (v !== PROTOCOL_VERSION) r.fail(DecodeErrorReason.Version, `protocol version ${v}`);
  if (r.u8() !== STATUS_WATCH) r.fail(DecodeErrorReason.Malformed, 'not a watch reply');
  const tag = r.u8();
  let reply: WatchReply;
  if (tag === 1) {
    reply = { kind: 'created', id: r.varint(), revision: r.varint() };
  } else if (tag === 2) {
    const revision = r.varint();
    const count = r.varint();
    // Each event takes at least 9 bytes: a count beyond what the payload can hold is a lie.
    if (count * 9 > payload.length) r.fail(DecodeErrorReason.Malformed, `event count ${count}`);
    const events: WatchEvent[] = [];
    for (let i = 0; i < count; i++) events.push(readEvent(r, limits));
    reply = count === 0 ? { kind: 'idle', revision } : { kind: 'events', events, revision };
  } else if (tag === 3) {
    const c = r.u8();
    const reason = REASONS[c - 1] ?? r.fail(DecodeErrorReason.UnknownType, `watch end reason ${c}`);
    const message = r.utf8(limits.maxMessageBytes);
    reply = { kind: 'ended', reason, message, oldest: r.varint() };
  } else {
    return r.fail(DecodeErrorReason.UnknownType, `watch reply tag ${tag}`);
  }
  r.done();
  return reply;
}
