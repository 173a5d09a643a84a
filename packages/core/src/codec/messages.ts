/**
 * The peer wire format: Raft messages between members, many to a frame.
 *
 *   frame   = version:u8 (1)  kind:u8 (0x01)  from:id  to:id  count:varint  message{count}
 *   id      = length:u8 (1-64)  ASCII [A-Za-z0-9_-]
 *   message = code:u8  term:varint  body (per code, below)
 *
 * Integers are unsigned LEB128 varints (canonical, at most 2^53 - 1); flags are one byte whose
 * unused bits must be zero. A frame is decoded completely before any message is handed out, so a
 * frame with one bad byte delivers nothing. Decoding is canonical: a frame that decodes re-encodes
 * to the same bytes.
 */
import { addressOf } from '../raft/confChange.js';
import { MAX_ID_LENGTH } from '../raft/memberId.js';
import type {
  AppMessage,
  AppRespMessage,
  ConfState,
  Entry,
  HeartbeatMessage,
  HeartbeatRespMessage,
  Message,
  NodeId,
  ReadIndexMessage,
  ReadIndexRespMessage,
  SnapAckMessage,
  SnapChunkMessage,
  SnapshotMessage,
  SnapshotMeta,
  TimeoutNowMessage,
  VoteMessage,
  VoteRespMessage,
} from '../raft/types.js';
import { EntryType, MessageType } from '../raft/types.js';
import { DecodeError, DecodeErrorReason, EncodeError } from './errors.js';
import {
  type CodecLimits,
  DEFAULT_CODEC_LIMITS,
  FrameKind,
  openFrame,
  readId,
  writeFrameHeader,
  writeId,
} from './frame.js';
import type { Reader } from './Reader.js';
import { MAX_VARINT_BYTES, Writer } from './Writer.js';

/** One byte per message type on the wire. Never renumber: add new codes at the end. */
export const MessageCode = {
  App: 1,
  AppResp: 2,
  Vote: 3,
  VoteResp: 4,
  PreVote: 5,
  PreVoteResp: 6,
  Heartbeat: 7,
  HeartbeatResp: 8,
  TimeoutNow: 9,
  ReadIndex: 10,
  ReadIndexResp: 11,
  Snapshot: 12,
  SnapChunk: 13,
  SnapAck: 14,
} as const;
export type MessageCode = (typeof MessageCode)[keyof typeof MessageCode];

const FLAG = 0x01;

/** Bytes a frame header can take at most: version, kind, two ids, count. */
export const BATCH_HEADER_MAX_BYTES = 2 + 2 * (1 + MAX_ID_LENGTH) + MAX_VARINT_BYTES;

/**
 * An upper bound on the bytes `message` takes inside a frame, cheap to compute: the transport
 * sizes its queues and frames with it, so a frame it builds never exceeds the limit.
 */
export function messageSizeBound(message: Message): number {
  // code + term + at most four varints and one flags byte.
  let n = 1 + MAX_VARINT_BYTES + 4 * MAX_VARINT_BYTES + 1;
  if (message.type === MessageType.App) {
    const entries = message.entries;
    n += MAX_VARINT_BYTES;
    for (let i = 0; i < entries.length; i++) n += 3 * MAX_VARINT_BYTES + 1 + entries[i]!.data.length;
  } else if (message.type === MessageType.Snapshot || message.type === MessageType.SnapChunk) {
    n += metaSizeBound(message.meta);
    if (message.type === MessageType.SnapChunk) n += MAX_VARINT_BYTES + message.data.length;
  }
  return n;
}

function metaSizeBound(meta: SnapshotMeta): number {
  const c = meta.conf;
  let n = 5 * MAX_VARINT_BYTES;
  for (const id of [...c.voters, ...c.learners]) {
    // id, then the address as UTF-8 (at most 3 bytes per UTF-16 unit) with its length.
    n += 1 + MAX_ID_LENGTH + MAX_VARINT_BYTES + 3 * addressOf(c.addresses, id).length;
  }
  return n;
}

/** Most members a snapshot's configuration may list on the wire. */
const MAX_CONF_MEMBERS = 1024;
/** Longest member address on the wire, in bytes. */
const MAX_ADDRESS_BYTES = 4096;

/**
 * A snapshot's meta: index, term, then the configuration: voters and learners as ids, each
 * followed by its address (UTF-8, length-prefixed).
 */
function writeMeta(w: Writer, meta: SnapshotMeta): void {
  w.varint(meta.index);
  w.varint(meta.term);
  const c = meta.conf;
  for (const list of [c.voters, c.learners]) {
    w.varint(list.length);
    for (const id of list) {
      writeId(w, id);
      w.utf8(addressOf(c.addresses, id));
    }
  }
}

function readMeta(r: Reader): SnapshotMeta {
  const index = r.varint();
  const term = r.varint();
  const addresses = new Map<NodeId, string>();
  const lists: NodeId[][] = [[], []];
  for (const list of lists) {
    const n = r.count(MAX_CONF_MEMBERS, 'configuration members');
    for (let i = 0; i < n; i++) {
      const id = readId(r);
      if (addresses.has(id)) r.fail(DecodeErrorReason.Malformed, `member ${id} listed twice`);
      addresses.set(id, r.utf8(MAX_ADDRESS_BYTES));
      list.push(id);
    }
  }
  const conf: ConfState = { voters: lists[0]!, learners: lists[1]!, addresses };
  return { index, term, conf };
}

function flag(value: boolean): number {
  return value ? FLAG : 0;
}

/** Writes one message body (code onward); `from` and `to` live in the frame header. */
export function writeMessage(w: Writer, m: Message): void {
  switch (m.type) {
    case MessageType.App: {
      w.u8(MessageCode.App);
      w.varint(m.term);
      w.varint(m.prevIndex);
      w.varint(m.prevTerm);
      w.varint(m.commit);
      const entries = m.entries;
      w.varint(entries.length);
      for (let i = 0; i < entries.length; i++) {
        const e = entries[i]!;
        w.varint(e.index);
        w.varint(e.term);
        w.u8(e.type);
        w.lenBytes(e.data);
      }
      return;
    }
    case MessageType.AppResp:
      w.u8(MessageCode.AppResp);
      w.varint(m.term);
      w.u8(flag(m.reject));
      w.varint(m.index);
      w.varint(m.hintIndex);
      w.varint(m.hintTerm);
      return;
    case MessageType.Vote:
    case MessageType.PreVote:
      w.u8(m.type === MessageType.Vote ? MessageCode.Vote : MessageCode.PreVote);
      w.varint(m.term);
      w.u8(flag(m.transfer));
      w.varint(m.lastIndex);
      w.varint(m.lastTerm);
      return;
    case MessageType.VoteResp:
    case MessageType.PreVoteResp:
      w.u8(m.type === MessageType.VoteResp ? MessageCode.VoteResp : MessageCode.PreVoteResp);
      w.varint(m.term);
      w.u8(flag(m.reject));
      return;
    case MessageType.Heartbeat:
      w.u8(MessageCode.Heartbeat);
      w.varint(m.term);
      w.varint(m.commit);
      w.varint(m.context);
      return;
    case MessageType.HeartbeatResp:
      w.u8(MessageCode.HeartbeatResp);
      w.varint(m.term);
      w.varint(m.context);
      return;
    case MessageType.TimeoutNow:
      w.u8(MessageCode.TimeoutNow);
      w.varint(m.term);
      return;
    case MessageType.ReadIndex:
      w.u8(MessageCode.ReadIndex);
      w.varint(m.term);
      w.varint(m.context);
      return;
    case MessageType.ReadIndexResp:
      w.u8(MessageCode.ReadIndexResp);
      w.varint(m.term);
      w.u8(flag(m.reject));
      w.varint(m.context);
      w.varint(m.index);
      return;
    case MessageType.Snapshot:
      w.u8(MessageCode.Snapshot);
      w.varint(m.term);
      writeMeta(w, m.meta);
      return;
    case MessageType.SnapChunk:
      w.u8(MessageCode.SnapChunk);
      w.varint(m.term);
      writeMeta(w, m.meta);
      w.varint(m.offset);
      w.varint(m.total);
      w.lenBytes(m.data);
      return;
    case MessageType.SnapAck:
      w.u8(MessageCode.SnapAck);
      w.varint(m.term);
      w.u8(flag(m.reject));
      w.varint(m.index);
      w.varint(m.snapTerm);
      w.varint(m.next);
      return;
    default: {
      const unknown: never = m;
      throw new EncodeError(`unknown message type ${JSON.stringify((unknown as Message).type)}`);
    }
  }
}

function readFlag(r: Reader): boolean {
  const f = r.u8();
  if ((f & ~FLAG) !== 0) r.fail(DecodeErrorReason.Malformed, `unknown flag bits 0x${f.toString(16)}`);
  return f === FLAG;
}

function readEntryType(r: Reader): EntryType {
  const t = r.u8();
  if (t !== EntryType.Noop && t !== EntryType.Normal && t !== EntryType.Config) {
    r.fail(DecodeErrorReason.UnknownType, `entry type ${t}`);
  }
  return t;
}

/** Reads one message body written by `writeMessage`. */
export function readMessage(r: Reader, from: string, to: string, limits: CodecLimits): Message {
  const code = r.u8();
  const term = r.varint();
  switch (code) {
    case MessageCode.App: {
      const prevIndex = r.varint();
      const prevTerm = r.varint();
      const commit = r.varint();
      const count = r.count(limits.maxEntriesPerMessage, 'entry count');
      // No preallocation by the claimed count: each entry consumes at least 4 bytes, so the
      // array never outgrows the frame.
      const entries: Entry[] = [];
      for (let i = 0; i < count; i++) {
        const index = r.varint();
        const eterm = r.varint();
        const type = readEntryType(r);
        const data = r.lenBytes(limits.maxFrameBytes);
        entries.push({ index, term: eterm, type, data });
      }
      const m: AppMessage = { type: MessageType.App, from, to, term, prevIndex, prevTerm, entries, commit };
      return m;
    }
    case MessageCode.AppResp: {
      const reject = readFlag(r);
      const index = r.varint();
      const hintIndex = r.varint();
      const hintTerm = r.varint();
      const m: AppRespMessage = {
        type: MessageType.AppResp,
        from,
        to,
        term,
        index,
        reject,
        hintIndex,
        hintTerm,
      };
      return m;
    }
    case MessageCode.Vote:
    case MessageCode.PreVote: {
      const transfer = readFlag(r);
      const lastIndex = r.varint();
      const lastTerm = r.varint();
      const type = code === MessageCode.Vote ? MessageType.Vote : MessageType.PreVote;
      const m: VoteMessage = { type, from, to, term, lastIndex, lastTerm, transfer };
      return m;
    }
    case MessageCode.VoteResp:
    case MessageCode.PreVoteResp: {
      const reject = readFlag(r);
      const type = code === MessageCode.VoteResp ? MessageType.VoteResp : MessageType.PreVoteResp;
      const m: VoteRespMessage = { type, from, to, term, reject };
      return m;
    }
    case MessageCode.Heartbeat: {
      const commit = r.varint();
      const context = r.varint();
      const m: HeartbeatMessage = { type: MessageType.Heartbeat, from, to, term, commit, context };
      return m;
    }
    case MessageCode.HeartbeatResp: {
      const context = r.varint();
      const m: HeartbeatRespMessage = { type: MessageType.HeartbeatResp, from, to, term, context };
      return m;
    }
    case MessageCode.TimeoutNow: {
      const m: TimeoutNowMessage = { type: MessageType.TimeoutNow, from, to, term };
      return m;
    }
    case MessageCode.ReadIndex: {
      const context = r.varint();
      const m: ReadIndexMessage = { type: MessageType.ReadIndex, from, to, term, context };
      return m;
    }
    case MessageCode.ReadIndexResp: {
      const reject = readFlag(r);
      const context = r.varint();
      const index = r.varint();
      const m: ReadIndexRespMessage = {
        type: MessageType.ReadIndexResp,
        from,
        to,
        term,
        context,
        index,
        reject,
      };
      return m;
    }
    case MessageCode.Snapshot: {
      const meta = readMeta(r);
      const m: SnapshotMessage = { type: MessageType.Snapshot, from, to, term, meta };
      return m;
    }
    case MessageCode.SnapChunk: {
      const meta = readMeta(r);
      const offset = r.varint();
      const total = r.varint();
      const data = r.lenBytes(limits.maxFrameBytes);
      if (offset + data.length > total) {
        r.fail(
          DecodeErrorReason.Malformed,
          `chunk [${offset}, ${offset + data.length}) beyond ${total} bytes`,
        );
      }
      const m: SnapChunkMessage = { type: MessageType.SnapChunk, from, to, term, meta, offset, total, data };
      return m;
    }
    case MessageCode.SnapAck: {
      const reject = readFlag(r);
      const index = r.varint();
      const snapTerm = r.varint();
      const next = r.varint();
      const m: SnapAckMessage = { type: MessageType.SnapAck, from, to, term, index, snapTerm, next, reject };
      return m;
    }
    default:
      return r.fail(DecodeErrorReason.UnknownType, `message type code ${code}`);
  }
}

/**
 * Writes a whole frame for `messages`, which must all share `from` and `to`. Returns the frame
 * (a view into the writer's pool; see Writer).
 */
export function writeBatch(
  w: Writer,
  from: string,
  to: string,
  messages: readonly Message[],
  limits: CodecLimits = DEFAULT_CODEC_LIMITS,
): Uint8Array {
  if (messages.length === 0) throw new EncodeError('a frame carries at least one message');
  if (messages.length > limits.maxMessagesPerFrame) {
    throw new EncodeError(`${messages.length} messages above limit ${limits.maxMessagesPerFrame}`);
  }
  try {
    writeFrameHeader(w, FrameKind.RaftBatch);
    writeId(w, from);
    writeId(w, to);
    w.varint(messages.length);
    for (let i = 0; i < messages.length; i++) {
      const m = messages[i]!;
      if (m.from !== from || m.to !== to) {
        throw new EncodeError(`message ${i} is ${m.from}->${m.to}, the frame is ${from}->${to}`);
      }
      if (m.type === MessageType.App && m.entries.length > limits.maxEntriesPerMessage) {
        throw new EncodeError(`${m.entries.length} entries above limit ${limits.maxEntriesPerMessage}`);
      }
      writeMessage(w, m);
    }
    if (w.length > limits.maxFrameBytes) {
      throw new EncodeError(`frame of ${w.length} bytes above limit ${limits.maxFrameBytes}`);
    }
  } catch (err) {
    w.reset();
    throw err;
  }
  return w.finish();
}

let sharedWriter: Writer | null = null;

/** Encodes messages that share `from` and `to` into one frame. */
export function encodeBatch(
  messages: readonly Message[],
  limits: CodecLimits = DEFAULT_CODEC_LIMITS,
): Uint8Array {
  if (messages.length === 0) throw new EncodeError('a frame carries at least one message');
  sharedWriter ??= new Writer();
  const first = messages[0]!;
  return writeBatch(sharedWriter, first.from, first.to, messages, limits);
}

/**
 * Decodes a frame into its messages, or throws a `DecodeError` (never anything else for any
 * input). Entry data are views into `frame`.
 */
export function decodeBatch(frame: Uint8Array, limits: CodecLimits = DEFAULT_CODEC_LIMITS): Message[] {
  const r = openFrame(frame, FrameKind.RaftBatch, limits);
  const from = readId(r);
  const to = readId(r);
  const count = r.count(limits.maxMessagesPerFrame, 'message count');
  if (count === 0) r.fail(DecodeErrorReason.Malformed, 'empty frame');
  const messages: Message[] = [];
  for (let i = 0; i < count; i++) messages.push(readMessage(r, from, to, limits));
  r.done();
  return messages;
}

/** One message as a frame of its own. */
export function encodeMessage(message: Message, limits: CodecLimits = DEFAULT_CODEC_LIMITS): Uint8Array {
  return encodeBatch([message], limits);
}

/** Decodes a frame that must hold exactly one message. */
export function decodeMessage(frame: Uint8Array, limits: CodecLimits = DEFAULT_CODEC_LIMITS): Message {
  const messages = decodeBatch(frame, limits);
  if (messages.length !== 1) {
    throw new DecodeError(DecodeErrorReason.Malformed, `expected one message, found ${messages.length}`, 0);
  }
  return messages[0]!;
}
