import { describe, expect, it } from 'vitest';
import {
  DecodeError,
  DecodeErrorReason,
  decodeBatch,
  decodeMessage,
  EncodeError,
  encodeBatch,
  encodeMessage,
  FrameKind,
  messageSizeBound,
  openFrame,
  Reader,
  WIRE_VERSION,
  Writer,
  writeBatch,
  writeFrameHeader,
} from '../src/codec/index.js';
import { EntryType, type Message, MessageType } from '../src/index.js';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const unhex = (s: string): Uint8Array => new Uint8Array(Buffer.from(s.replace(/\s+/g, ''), 'hex'));
const ascii = (s: string): Uint8Array => new TextEncoder().encode(s);

function decodeError(fn: () => unknown): DecodeError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(DecodeError);
    return err as DecodeError;
  }
  throw new Error('expected a DecodeError');
}

describe('Writer and Reader', () => {
  it('write varints in canonical LEB128 and read them back, up to 2^53-1', () => {
    const cases: [number, string][] = [
      [0, '00'],
      [1, '01'],
      [127, '7f'],
      [128, '8001'],
      [300, 'ac02'],
      [2 ** 32, '8080808010'],
      [Number.MAX_SAFE_INTEGER, 'ffffffffffffff0f'],
    ];
    for (const [value, expected] of cases) {
      const w = new Writer(4);
      w.varint(value);
      const bytes = w.finish();
      expect(hex(bytes)).toBe(expected);
      const r = new Reader(bytes);
      expect(r.varint()).toBe(value);
      r.done();
    }
  });

  it('refuse to encode numbers a varint cannot carry', () => {
    const w = new Writer();
    for (const bad of [-1, 0.5, Number.NaN, 2 ** 53, Number.POSITIVE_INFINITY]) {
      expect(() => w.varint(bad)).toThrow(EncodeError);
    }
  });

  it('reject non-canonical, over-long, too-large and truncated varints', () => {
    expect(decodeError(() => new Reader(unhex('8000')).varint()).reason).toBe(DecodeErrorReason.Malformed);
    expect(decodeError(() => new Reader(unhex('ffffffffffffffff01')).varint()).reason).toBe(
      DecodeErrorReason.Malformed,
    );
    expect(decodeError(() => new Reader(unhex('8080808080808010')).varint()).reason).toBe(
      DecodeErrorReason.Malformed,
    );
    expect(decodeError(() => new Reader(unhex('ff')).varint()).reason).toBe(DecodeErrorReason.Truncated);
    expect(decodeError(() => new Reader(unhex('')).varint()).reason).toBe(DecodeErrorReason.Truncated);
  });

  it('back-patch a 4-byte length across a move to a bigger buffer', () => {
    const w = new Writer(8);
    w.u8(0xaa);
    const token = w.beginLength();
    w.raw(new Uint8Array(20).fill(7));
    w.endLength(token);
    w.u16(0xbeef);
    const frame = w.finish();
    expect(hex(frame)).toBe(`aa00000014${'07'.repeat(20)}beef`);
    const r = new Reader(frame);
    expect(r.u8()).toBe(0xaa);
    expect(r.u32()).toBe(20);
    expect(r.bytesView(20).every((b) => b === 7)).toBe(true);
    expect(r.u16()).toBe(0xbeef);
    r.done();
  });

  it('never rewrite a finished frame when the pool is reused or replaced', () => {
    const w = new Writer(16);
    const frames: Uint8Array[] = [];
    for (let i = 0; i < 50; i++) {
      w.u32(i);
      w.raw(new Uint8Array(i % 7).fill(i));
      frames.push(w.finish());
    }
    frames.forEach((f, i) => {
      expect(new Reader(f).u32()).toBe(i);
      expect(f.length).toBe(4 + (i % 7));
    });
  });

  it('round-trip UTF-8 and length-prefixed bytes with limits', () => {
    const w = new Writer();
    w.utf8('plain');
    w.utf8('ключ ✓');
    w.lenBytes(ascii('xyz'));
    const r = new Reader(w.finish());
    expect(r.utf8(100)).toBe('plain');
    expect(r.utf8(100)).toBe('ключ ✓');
    expect(decodeError(() => r.lenBytes(2)).reason).toBe(DecodeErrorReason.Oversized);
  });

  it('reject invalid UTF-8 and trailing bytes', () => {
    expect(decodeError(() => new Reader(unhex('02c328')).utf8(10)).reason).toBe(DecodeErrorReason.Malformed);
    const r = new Reader(unhex('0100'));
    r.u8();
    expect(decodeError(() => r.done()).reason).toBe(DecodeErrorReason.Malformed);
  });
});

describe('frame header', () => {
  it('is the version byte then the kind', () => {
    const w = new Writer();
    writeFrameHeader(w, FrameKind.ClientRequests);
    expect(hex(w.finish())).toBe('0110');
    expect(WIRE_VERSION).toBe(1);
  });

  it('rejects a wrong version, an unknown kind, an unexpected kind and an oversized frame', () => {
    const limits = { maxFrameBytes: 8, maxMessagesPerFrame: 4, maxEntriesPerMessage: 4 };
    expect(decodeError(() => openFrame(unhex('0201'), FrameKind.RaftBatch, limits)).reason).toBe('version');
    expect(decodeError(() => openFrame(unhex('017f'), FrameKind.RaftBatch, limits)).reason).toBe(
      'unknown-type',
    );
    expect(decodeError(() => openFrame(unhex('0110'), FrameKind.RaftBatch, limits)).reason).toBe('malformed');
    expect(decodeError(() => openFrame(new Uint8Array(9), FrameKind.RaftBatch, limits)).reason).toBe(
      'oversized',
    );
    expect(decodeError(() => openFrame(unhex('01'), FrameKind.RaftBatch, limits)).reason).toBe('truncated');
  });
});

// Golden frames pin the wire format: a change here breaks mixed-version clusters.
describe('peer wire format (golden hex)', () => {
  const golden: [string, Message, string][] = [
    [
      'heartbeat',
      { type: MessageType.Heartbeat, from: 'n1', to: 'n2', term: 5, commit: 10, context: 0 },
      '0101 026e31 026e32 01 07 05 0a 00',
    ],
    [
      'heartbeat response',
      { type: MessageType.HeartbeatResp, from: 'n2', to: 'n1', term: 5, context: 3 },
      '0101 026e32 026e31 01 08 05 03',
    ],
    [
      'append entries with one entry',
      {
        type: MessageType.App,
        from: 'n1',
        to: 'n2',
        term: 300,
        prevIndex: 7,
        prevTerm: 2,
        commit: 6,
        entries: [{ index: 8, term: 300, type: EntryType.Normal, data: ascii('hi') }],
      },
      '0101 026e31 026e32 01 01 ac02 07 02 06 01 08 ac02 01 02 6869',
    ],
    [
      'append rejection with a hint',
      {
        type: MessageType.AppResp,
        from: 'n2',
        to: 'n1',
        term: 4,
        index: 9,
        reject: true,
        hintIndex: 5,
        hintTerm: 3,
      },
      '0101 026e32 026e31 01 02 04 01 09 05 03',
    ],
    [
      'vote request by transfer',
      {
        type: MessageType.Vote,
        from: 'a',
        to: 'b',
        term: 7,
        lastIndex: 1000,
        lastTerm: 6,
        transfer: true,
      },
      '0101 0161 0162 01 03 07 01 e807 06',
    ],
    [
      'pre-vote request',
      {
        type: MessageType.PreVote,
        from: 'a',
        to: 'b',
        term: 8,
        lastIndex: 0,
        lastTerm: 0,
        transfer: false,
      },
      '0101 0161 0162 01 05 08 00 00 00',
    ],
    [
      'vote grant',
      { type: MessageType.VoteResp, from: 'b', to: 'a', term: 7, reject: false },
      '0101 0162 0161 01 04 07 00',
    ],
    [
      'pre-vote rejection at the largest term',
      { type: MessageType.PreVoteResp, from: 'n3', to: 'n1', term: Number.MAX_SAFE_INTEGER, reject: true },
      '0101 026e33 026e31 01 06 ffffffffffffff0f 01',
    ],
    [
      'timeout now',
      { type: MessageType.TimeoutNow, from: 'n1', to: 'n2', term: 2 },
      '0101 026e31 026e32 01 09 02',
    ],
    [
      'read index',
      { type: MessageType.ReadIndex, from: 'n2', to: 'n1', term: 2, context: 77 },
      '0101 026e32 026e31 01 0a 02 4d',
    ],
    [
      'read index response',
      {
        type: MessageType.ReadIndexResp,
        from: 'n1',
        to: 'n2',
        term: 3,
        context: 42,
        index: 128,
        reject: false,
      },
      '0101 026e31 026e32 01 0b 03 00 2a 8001',
    ],
    [
      'snapshot (the engine asking its driver for one; encodable, normally never sent)',
      {
        type: MessageType.Snapshot,
        from: 'n1',
        to: 'n2',
        term: 3,
        meta: {
          index: 40,
          term: 3,
          conf: {
            voters: ['n1', 'n2'],
            learners: ['n3'],
            addresses: new Map([
              ['n1', ''],
              ['n2', ''],
              ['n3', 'x'],
            ]),
          },
        },
      },
      '0101 026e31 026e32 01 0c 03 28 03 02 026e3100 026e3200 01 026e330178',
    ],
    [
      'snapshot chunk',
      {
        type: MessageType.SnapChunk,
        from: 'n1',
        to: 'n2',
        term: 3,
        meta: {
          index: 40,
          term: 3,
          conf: { voters: ['n1'], learners: [], addresses: new Map([['n1', '']]) },
        },
        offset: 16,
        total: 20,
        data: new Uint8Array([1, 2, 3, 4]),
      },
      '0101 026e31 026e32 01 0d 03 28 03 01 026e3100 00 10 14 04 01020304',
    ],
    [
      'snapshot acknowledgement',
      {
        type: MessageType.SnapAck,
        from: 'n2',
        to: 'n1',
        term: 3,
        index: 40,
        snapTerm: 3,
        next: 16,
        reject: false,
      },
      '0101 026e32 026e31 01 0e 03 00 28 03 10',
    ],
  ];

  for (const [name, message, expected] of golden) {
    it(`encodes a ${name}`, () => {
      const frame = encodeMessage(message);
      expect(hex(frame)).toBe(expected.replace(/\s+/g, ''));
      expect(decodeMessage(frame)).toEqual(message);
      expect(messageSizeBound(message)).toBeGreaterThanOrEqual(frame.length - 8);
    });
  }

  it('packs many messages between the same two members into one frame', () => {
    const hb: Message = { type: MessageType.Heartbeat, from: 'n1', to: 'n2', term: 1, commit: 0, context: 0 };
    const tn: Message = { type: MessageType.TimeoutNow, from: 'n1', to: 'n2', term: 1 };
    const frame = encodeBatch([hb, tn, hb]);
    expect(hex(frame)).toBe('0101026e31026e3203' + '07010000' + '0901' + '07010000');
    expect(decodeBatch(frame)).toEqual([hb, tn, hb]);
  });

  it('refuses to put messages for different members in one frame', () => {
    const a: Message = { type: MessageType.TimeoutNow, from: 'n1', to: 'n2', term: 1 };
    const b: Message = { type: MessageType.TimeoutNow, from: 'n1', to: 'n3', term: 1 };
    expect(() => encodeBatch([a, b])).toThrow(EncodeError);
    expect(() => encodeBatch([])).toThrow(EncodeError);
    expect(() => encodeMessage({ ...a, from: 'bad id' })).toThrow(EncodeError);
    expect(() => encodeMessage({ ...a, term: -1 })).toThrow(EncodeError);
    // A failed encode leaves nothing behind in the writer.
    const w = new Writer();
    expect(() => writeBatch(w, 'n1', 'n2', [a, b])).toThrow(EncodeError);
    expect(w.length).toBe(0);
  });

  it('enforces the frame, message and entry limits on both sides', () => {
    const limits = { maxFrameBytes: 64, maxMessagesPerFrame: 2, maxEntriesPerMessage: 1 };
    const tn: Message = { type: MessageType.TimeoutNow, from: 'n1', to: 'n2', term: 1 };
    const entry = { index: 1, term: 1, type: EntryType.Normal, data: new Uint8Array(1) };
    const app: Message = {
      type: MessageType.App,
      from: 'n1',
      to: 'n2',
      term: 1,
      prevIndex: 0,
      prevTerm: 0,
      commit: 0,
      entries: [entry, entry],
    };
    expect(() => encodeBatch([tn, tn, tn], limits)).toThrow(EncodeError);
    expect(() => encodeBatch([app], limits)).toThrow(EncodeError);
    expect(() =>
      encodeBatch([{ ...app, entries: [{ ...entry, data: new Uint8Array(100) }] }], limits),
    ).toThrow(EncodeError);
    expect(decodeError(() => decodeBatch(encodeBatch([tn, tn, tn]), limits)).reason).toBe('oversized');
    expect(decodeError(() => decodeBatch(encodeBatch([app]), limits)).reason).toBe('oversized');
  });

  it('rejects unknown codes, entry types and flag bits, empty and trailing frames', () => {
    expect(decodeError(() => decodeBatch(unhex('0101026e31026e32010f01'))).reason).toBe('unknown-type');
    expect(decodeError(() => decodeBatch(unhex('0101026e31026e3201010100000001010103 00'))).reason).toBe(
      'unknown-type',
    );
    expect(decodeError(() => decodeBatch(unhex('0101026e31026e3201040702'))).reason).toBe('malformed');
    expect(decodeError(() => decodeBatch(unhex('0101026e31026e3200'))).reason).toBe('malformed');
    expect(decodeError(() => decodeBatch(unhex('0101026e31026e3201090200'))).reason).toBe('malformed');
    expect(decodeError(() => decodeBatch(unhex('0101026e31026e320109'))).reason).toBe('truncated');
    expect(decodeError(() => decodeBatch(unhex('0101026e20026e3201090200'))).reason).toBe(
      'invalid-member-id',
    );
    expect(decodeError(() => decodeBatch(unhex('010100026e3201090200'))).reason).toBe('invalid-member-id');
    expect(
      decodeError(() =>
        decodeMessage(
          encodeBatch([
            { type: MessageType.TimeoutNow, from: 'n1', to: 'n2', term: 1 },
            { type: MessageType.TimeoutNow, from: 'n1', to: 'n2', term: 1 },
          ]),
        ),
      ).reason,
    ).toBe('malformed');
  });

  it('rejects a snapshot chunk that runs past its total and a configuration listing a member twice', () => {
    expect(
      decodeError(() =>
        // The golden chunk with total 18 < 16 + 4. (Before ids had their own reject reason, this
        // frame lacked the member id and was rejected for that, not for its total.)
        decodeBatch(unhex('0101026e31026e32010d03280301026e3100 00 10 12 04 01020304'.replace(/ /g, ''))),
      ).reason,
    ).toBe('malformed');
    expect(
      decodeError(() =>
        decodeBatch(unhex('0101026e31026e32010c032803 02 026e3100 026e3100 00'.replace(/ /g, ''))),
      ).reason,
    ).toBe('malformed');
  });

  it('hands entry data out as views into the frame, without copying', () => {
    const frame = encodeMessage(golden[2]![1]);
    const [m] = decodeBatch(frame);
    expect(m!.type).toBe(MessageType.App);
    if (m!.type !== MessageType.App) return;
    expect(m.entries[0]!.data.buffer).toBe(frame.buffer);
  });
});
