import { MEMBER_ID_PATTERN } from '@keel/core';
import { DecodeError, EncodeError, Writer } from '@keel/core/codec';
import { SPECIAL_VALID_IDS } from '@keel/core/testing';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_KV_LIMITS,
  decodeEntry,
  decodeRequest,
  decodeRequestFrame,
  decodeResponse,
  decodeResponseFrame,
  encodeEntry,
  encodeRequest,
  encodeRequestFrame,
  encodeResponse,
  encodeResponseFrame,
  type KvRequest,
  type KvResponse,
  MemberErrorCode,
  ReadConsistency,
} from '../src/index.js';
import { b, commandArb, hex, resultArb, unhex } from './helpers.js';
import { assertProperty } from './propertySeeds.js';

const consistency = fc.constantFrom(...Object.values(ReadConsistency));
const request: fc.Arbitrary<KvRequest> = fc.record({ command: commandArb(), consistency });
const nodeId = fc.oneof(fc.stringMatching(MEMBER_ID_PATTERN), fc.constantFrom(...SPECIAL_VALID_IDS));
const response: fc.Arbitrary<KvResponse> = fc.oneof(
  fc.record({ kind: fc.constant('result' as const), result: resultArb }),
  fc.record({
    kind: fc.constant('error' as const),
    code: fc.constantFrom(...Object.values(MemberErrorCode)),
    message: fc.string({ maxLength: 30 }),
    leaderHint: fc.option(nodeId, { nil: null }),
  }),
);

describe('client protocol', () => {
  it('pins a linearizable get and a not-leader reply (golden hex)', () => {
    expect(hex(encodeRequest({ command: { type: 'get', key: b('k') }, consistency: 'linearizable' }))).toBe(
      '01 00 04 016b'.replace(/\s+/g, ''),
    );
    expect(hex(encodeRequest({ command: { type: 'get', key: b('k') }, consistency: 'stale' }))).toBe(
      '010104016b',
    );
    const reply = encodeResponse({ kind: 'error', code: 'not-leader', message: 'no', leaderHint: 'n2' });
    expect(hex(reply)).toBe('01 01 01 026e6f 01 026e32'.replace(/\s+/g, ''));
    expect(decodeResponse(reply)).toEqual({
      kind: 'error',
      code: 'not-leader',
      message: 'no',
      leaderHint: 'n2',
    });
  });

  it('round-trips requests and responses', () => {
    const w = new Writer(256);
    assertProperty(
      fc.property(request, response, (req, res) => {
        expect(decodeRequest(encodeRequest(req, w))).toEqual(req);
        expect(decodeResponse(encodeResponse(res, w))).toEqual(res);
      }),
      { numRuns: 400 },
    );
  });

  it('round-trips whole frames with request ids; one bad payload does not spoil the frame', () => {
    const frame = encodeRequestFrame([
      { id: 1, request: { command: { type: 'get', key: b('a') }, consistency: 'stale' } },
      { id: 2, request: { command: { type: 'registerSession' }, consistency: 'linearizable' } },
    ]);
    expect(decodeRequestFrame(frame)).toEqual([
      { id: 1, ok: true, request: { command: { type: 'get', key: b('a') }, consistency: 'stale' } },
      { id: 2, ok: true, request: { command: { type: 'registerSession' }, consistency: 'linearizable' } },
    ]);
    // requests frame: version 1, kind 0x10, 2 records: id 7 with a good payload, id 8 with junk
    const decoded = decodeRequestFrame(unhex('0110 02 07 03 010006 08 02 0909'));
    expect(decoded[0]).toEqual({
      id: 7,
      ok: true,
      request: { command: { type: 'registerSession' }, consistency: 'linearizable' },
    });
    expect(decoded[1]).toMatchObject({ id: 8, ok: false });
    expect((decoded[1] as { error: unknown }).error).toBeInstanceOf(DecodeError);
    expect(() => decodeRequestFrame(frame.subarray(0, 3))).toThrow(DecodeError);

    const replies = encodeResponseFrame([
      { id: 9, response: { kind: 'result', result: { ok: true, type: 'keepAlive' } } },
      { id: 10, response: { kind: 'error', code: 'busy', message: 'later', leaderHint: null } },
    ]);
    expect(decodeResponseFrame(replies)).toEqual([
      { id: 9, response: { kind: 'result', result: { ok: true, type: 'keepAlive' } } },
      { id: 10, response: { kind: 'error', code: 'busy', message: 'later', leaderHint: null } },
    ]);
  });

  it('refuses to encode unknown codes and invalid commands, leaving the writer clean', () => {
    const w = new Writer();
    const badConsistency = {
      command: { type: 'registerSession' },
      consistency: 'eventual',
    } as unknown as KvRequest;
    expect(() => encodeRequest(badConsistency, w)).toThrow(EncodeError);
    expect(() =>
      encodeRequest({ command: { type: 'get', key: new Uint8Array(0) }, consistency: 'stale' }, w),
    ).toThrow(EncodeError);
    expect(() =>
      encodeResponse(
        { kind: 'error', code: 'oops', message: '', leaderHint: null } as unknown as KvResponse,
        w,
      ),
    ).toThrow(EncodeError);
    expect(() =>
      encodeResponse({ kind: 'error', code: 'not-leader', message: '', leaderHint: 'bad id!' }, w),
    ).toThrow(EncodeError);
    expect(w.length).toBe(0);
  });

  it('rejects other versions, statuses, consistencies, codes and oversized fields', () => {
    for (const h of ['02 00 06', '01 03 06', '01 00 06 00', '01', '']) {
      expect(() => decodeRequest(unhex(h)), h).toThrow(DecodeError);
    }
    for (const h of [
      '01 02',
      '01 01 00 00 00',
      '01 01 08 00 00',
      '01 01 01 00 02',
      '01 01 01 00 01 00',
      '01 00 7f',
    ]) {
      expect(() => decodeResponse(unhex(h)), h).toThrow(DecodeError);
    }
    const big = encodeRequest({
      command: { type: 'put', key: b('k'), value: new Uint8Array(1000) },
      consistency: 'stale',
    });
    expect(() => decodeRequest(big, { ...DEFAULT_KV_LIMITS, maxValueBytes: 999 })).toThrow(/above limit 999/);
  });
});

describe('decoders under fuzzing', () => {
  /** xorshift32: fast, seeded, good enough to make junk. */
  function rng(seed: number): () => number {
    let x = seed >>> 0 || 1;
    return () => {
      x ^= x << 13;
      x >>>= 0;
      x ^= x >>> 17;
      x ^= x << 5;
      x >>>= 0;
      return x;
    };
  }

  function expectOnlyDecodeErrors(
    decode: (bytes: Uint8Array) => unknown,
    inputs: Iterable<Uint8Array>,
  ): number {
    let accepted = 0;
    for (const bytes of inputs) {
      try {
        decode(bytes);
        accepted++;
      } catch (err) {
        if (!(err instanceof DecodeError)) {
          throw new Error(`non-DecodeError for ${hex(bytes)}: ${String(err)}`);
        }
      }
    }
    return accepted;
  }

  /** Half pure noise, half valid encodings with a few bytes changed, inserted, or cut off. */
  function* inputs(seed: number, n: number, valid: readonly Uint8Array[]): Generator<Uint8Array> {
    const next = rng(seed);
    for (let i = 0; i < n; i++) {
      if (i % 2 === 0) {
        const len = next() % 48;
        const out = new Uint8Array(len);
        for (let j = 0; j < len; j++) out[j] = next() & 0xff;
        // Often start with the right version byte so the decoder gets past the first check.
        if (len > 0 && next() % 2 === 0) out[0] = 1;
        yield out;
      } else {
        const base = valid[next() % valid.length]!;
        const out = base.slice(0, base.length - (next() % 4 === 0 ? next() % (base.length + 1) : 0));
        const edits = 1 + (next() % 3);
        for (let e = 0; e < edits && out.length > 0; e++) out[next() % out.length] = next() & 0xff;
        yield out;
      }
    }
  }

  const valid = fc.sample(fc.tuple(request, response), { numRuns: 300, seed: 7 });
  const w = new Writer();
  const requests = valid.map(([req]) => encodeRequest(req, w).slice());
  const responses = valid.map(([, res]) => encodeResponse(res, w).slice());
  const entries = valid.map(([req], i) => encodeEntry({ time: i * 1000, command: req.command }, w).slice());

  it('decodeRequest: 100k inputs, nothing but DecodeError', () => {
    const accepted = expectOnlyDecodeErrors((x) => decodeRequest(x), inputs(1, 100_000, requests));
    expect(accepted).toBeGreaterThan(0); // some mutations are still valid requests
  });

  it('decodeResponse: 100k inputs, nothing but DecodeError', () => {
    expectOnlyDecodeErrors((x) => decodeResponse(x), inputs(2, 100_000, responses));
  });

  it('decodeEntry: 100k inputs, nothing but DecodeError', () => {
    expectOnlyDecodeErrors((x) => decodeEntry(x), inputs(3, 100_000, entries));
  });
});
