import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  DecodeError,
  decodeClientReplies,
  decodeClientRequests,
  EncodeError,
  ReplyStatus,
  Writer,
  writeClientReplies,
  writeClientRequests,
} from '../src/codec/index.js';
import { assertProperty } from './helpers/propertySeeds.js';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const unhex = (s: string): Uint8Array => new Uint8Array(Buffer.from(s.replace(/\s+/g, ''), 'hex'));

describe('client wire format', () => {
  it('pins requests: header, count, then id + length-prefixed payload each (golden hex)', () => {
    const frame = writeClientRequests(new Writer(), [
      { id: 1, payload: unhex('aabb') },
      { id: 300, payload: new Uint8Array(0) },
    ]);
    expect(hex(frame)).toBe('0110 02 01 02aabb ac02 00'.replace(/\s+/g, ''));
    expect(decodeClientRequests(frame)).toEqual([
      { id: 1, payload: unhex('aabb') },
      { id: 300, payload: new Uint8Array(0) },
    ]);
  });

  it('pins replies: id, status, length-prefixed payload (golden hex)', () => {
    const frame = writeClientReplies(new Writer(), [
      { id: 7, status: ReplyStatus.Ok, payload: unhex('01') },
      { id: 8, status: ReplyStatus.Error, payload: new TextEncoder().encode('no') },
    ]);
    expect(hex(frame)).toBe('0111 02 07 00 0101 08 01 026e6f'.replace(/\s+/g, ''));
    expect(decodeClientReplies(frame)[1]).toEqual({
      id: 8,
      status: ReplyStatus.Error,
      payload: unhex('6e6f'),
    });
  });

  it('rejects bad statuses, empty frames, the other kind and trailing bytes', () => {
    for (const bad of ['0111 01 07 02 00', '0111 00', '0110 01 0100', '0111 01 07 00 00 ff']) {
      expect(() => decodeClientReplies(unhex(bad))).toThrow(DecodeError);
    }
    expect(() => decodeClientRequests(unhex('0110 01 01 05 00'))).toThrow(DecodeError);
    expect(() => writeClientRequests(new Writer(), [])).toThrow(EncodeError);
    const limits = { maxFrameBytes: 16, maxMessagesPerFrame: 2, maxEntriesPerMessage: 1 };
    const w = new Writer();
    expect(() => writeClientRequests(w, [{ id: 1, payload: new Uint8Array(32) }], limits)).toThrow(
      EncodeError,
    );
    expect(w.length).toBe(0);
  });

  it('round-trips any requests and replies', () => {
    const w = new Writer(64);
    assertProperty(
      fc.property(
        fc.array(fc.record({ id: fc.maxSafeNat(), payload: fc.uint8Array({ maxLength: 200 }) }), {
          minLength: 1,
          maxLength: 20,
        }),
        fc.constantFrom(ReplyStatus.Ok, ReplyStatus.Error),
        (records, status) => {
          expect(decodeClientRequests(writeClientRequests(w, records))).toEqual(records);
          const replies = records.map((r) => ({ ...r, status }));
          expect(decodeClientReplies(writeClientReplies(w, replies))).toEqual(replies);
        },
      ),
      { numRuns: 100 },
    );
  });

  it('survives 100,000 mutated client frames: a DecodeError or a canonical accept, nothing else', () => {
    let s = 12345;
    const next = () => {
      s ^= s << 13;
      s >>>= 0;
      s ^= s >>> 17;
      s ^= s << 5;
      s >>>= 0;
      return s;
    };
    const seedFrames = [
      writeClientRequests(new Writer(), [
        { id: 1, payload: unhex('aabbcc') },
        { id: 2 ** 40, payload: unhex('') },
      ]).slice(),
      writeClientReplies(new Writer(), [{ id: 5, status: ReplyStatus.Ok, payload: unhex('0102') }]).slice(),
    ];
    const w = new Writer();
    for (let i = 0; i < 100_000; i++) {
      const frame = seedFrames[i % 2]!.slice();
      for (let k = 0; k <= next() % 3; k++) frame[next() % frame.length] = next();
      const cut = frame.subarray(0, next() % (frame.length + 1));
      try {
        if (i % 2 === 0) expect(writeClientRequests(w, decodeClientRequests(cut))).toEqual(cut);
        else expect(writeClientReplies(w, decodeClientReplies(cut))).toEqual(cut);
      } catch (err) {
        if (!(err instanceof DecodeError)) throw err;
      }
    }
  });
});
