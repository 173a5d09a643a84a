import { DecodeError, EncodeError, Reader, Writer } from '@keel/core/codec';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  checkCommand,
  DEFAULT_KV_LIMITS,
  decodeEntry,
  encodeEntry,
  type KvCommand,
  readResult,
  writeResult,
} from '../src/index.js';
import { b, commandArb, hex, resultArb, unhex } from './helpers.js';
import { assertProperty } from './propertySeeds.js';

describe('log entry codec', () => {
  it('pins a put with a session (golden hex): version, time, type, flags, session, key, value', () => {
    const bytes = encodeEntry({
      time: 1000,
      command: { type: 'put', key: b('k'), value: b('v'), session: { clientId: 5, seq: 300 } },
    });
    expect(hex(bytes)).toBe('01 e807 01 01 05ac02 016b 0176'.replace(/\s+/g, ''));
    expect(decodeEntry(bytes)).toEqual({
      time: 1000,
      command: { type: 'put', key: b('k'), value: b('v'), session: { clientId: 5, seq: 300 } },
    });
  });

  it('pins a cas on an absent key by version 0 (golden hex)', () => {
    const bytes = encodeEntry({
      time: 0,
      command: { type: 'cas', key: b('k'), expect: { version: 0 }, value: b('v') },
    });
    expect(hex(bytes)).toBe('01 00 03 0a 016b 00 0176'.replace(/\s+/g, ''));
  });

  it('round-trips every command', () => {
    const w = new Writer(256);
    assertProperty(
      fc.property(fc.maxSafeNat(), commandArb(), (time, command) => {
        const bytes = encodeEntry({ time, command }, w);
        expect(decodeEntry(bytes)).toEqual({ time, command });
      }),
      { numRuns: 400 },
    );
  });

  it('decoded byte fields are copies, not views of the entry', () => {
    const bytes = encodeEntry({
      time: 1,
      command: { type: 'put', key: b('key'), value: b('value') },
    }).slice();
    const cmd = decodeEntry(bytes).command;
    bytes.fill(0);
    expect(cmd).toEqual({ type: 'put', key: b('key'), value: b('value') });
  });

  it('accepts only canonical bytes: whatever decodes re-encodes to the same bytes', () => {
    const w = new Writer();
    assertProperty(
      fc.property(
        fc.maxSafeNat(),
        commandArb(),
        fc.nat(),
        fc.integer({ min: 0, max: 255 }),
        (time, command, pos, byte) => {
          const bytes = encodeEntry({ time, command }, w).slice();
          bytes[pos % bytes.length] = byte;
          let decoded: ReturnType<typeof decodeEntry>;
          try {
            decoded = decodeEntry(bytes);
          } catch (err) {
            expect(err).toBeInstanceOf(DecodeError);
            return;
          }
          expect(hex(encodeEntry(decoded, w))).toBe(hex(bytes));
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('rejects unknown versions, unknown types, unknown flags, trailing bytes and broken limits', () => {
    const bad = [
      '02 00 04 016b', // entry version 2
      '01 00 63', // command type 99
      '01 00 01 80 016b 0176', // put with an unknown flag bit
      '01 00 04 016b 00', // trailing byte
      '01 00 04 00', // empty key
      '01 00 01 01 00 01 016b 00', // client id 0
      '01 00 01 01 01 00 016b 00', // sequence 0
      '01 00 03 06 016b 00', // cas expecting both a version and a value
      '01 00 05 03 00 00 01', // prefix scan with an end
      '01 00 05 00 00 00', // scan limit 0
      '01 00 05 00 00 904e', // scan limit 10000 is fine...
    ];
    for (const h of bad.slice(0, -1)) expect(() => decodeEntry(unhex(h)), h).toThrow(DecodeError);
    expect(decodeEntry(unhex(bad[bad.length - 1]!)).command).toMatchObject({ type: 'scan', limit: 10_000 });
    expect(() => decodeEntry(unhex('01 00 05 00 00 914e'))).toThrow(/scan limit 10001 above limit/);
    const big = encodeEntry({
      time: 0,
      command: { type: 'get', key: new Uint8Array(DEFAULT_KV_LIMITS.maxKeyBytes) },
    });
    expect(() => decodeEntry(big, { ...DEFAULT_KV_LIMITS, maxKeyBytes: 100 })).toThrow(/above limit 100/);
  });

  it('refuses to encode what it would refuse to decode, leaving the writer clean', () => {
    const w = new Writer();
    const bad: KvCommand[] = [
      { type: 'put', key: new Uint8Array(0), value: b('v') },
      { type: 'put', key: new Uint8Array(DEFAULT_KV_LIMITS.maxKeyBytes + 1), value: b('v') },
      { type: 'put', key: b('k'), value: new Uint8Array(DEFAULT_KV_LIMITS.maxValueBytes + 1) },
      { type: 'put', key: b('k'), value: b('v'), session: { clientId: 0, seq: 1 } },
      { type: 'delete', key: b('k'), session: { clientId: 1, seq: 0 } },
      { type: 'cas', key: b('k'), expect: { version: -1 }, value: null },
      { type: 'scan', range: { prefix: b('') }, limit: 0 },
      { type: 'scan', range: { prefix: b('') }, limit: DEFAULT_KV_LIMITS.maxScanLimit + 1 },
      { type: 'scan', range: { prefix: b('') }, limit: 1, after: new Uint8Array(0) },
      { type: 'keepAlive', clientId: 0 },
    ];
    for (const command of bad) {
      expect(checkCommand(command).ok).toBe(false);
      expect(() => encodeEntry({ time: 0, command }, w)).toThrow(EncodeError);
      expect(w.length).toBe(0);
    }
    expect(() => encodeEntry({ time: -1, command: { type: 'registerSession' } }, w)).toThrow(EncodeError);
    expect(checkCommand(bad[1]!)).toMatchObject({ code: 'key-too-large' });
    expect(checkCommand(bad[2]!)).toMatchObject({ code: 'value-too-large' });
    expect(checkCommand(bad[0]!)).toMatchObject({ code: 'key-empty' });
  });
});

describe('result codec', () => {
  it('round-trips every result', () => {
    const w = new Writer(256);
    assertProperty(
      fc.property(resultArb, (r) => {
        writeResult(w, r);
        const bytes = w.finish();
        const reader = new Reader(bytes);
        expect(readResult(reader)).toEqual(r);
        reader.done();
      }),
      { numRuns: 400 },
    );
  });

  it('cuts overlong messages at a character boundary instead of failing', () => {
    const w = new Writer();
    writeResult(w, { ok: false, code: 'invalid-command', message: '€'.repeat(2000) });
    const r = readResult(new Reader(w.finish()));
    expect(r.ok).toBe(false);
    const message = (r as { message: string }).message;
    expect(new TextEncoder().encode(message).length).toBeLessThanOrEqual(DEFAULT_KV_LIMITS.maxMessageBytes);
    expect(message).toMatch(/^€+$/);
  });
});
