import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { crc32c, crc32cBytewise, crc32cRecord, crc32cWords } from '../src/crc32c.js';
import { assertProperty } from './propertySeeds.js';

// Bitwise reference: the definition, one bit at a time.
function reference(buf: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of buf) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
  }
  return ~c >>> 0;
}

describe('crc32c', () => {
  it('matches the published check value and RFC 3720 vectors', () => {
    expect(crc32c(new TextEncoder().encode('123456789'))).toBe(0xe3069283);
    expect(crc32c(new Uint8Array(32))).toBe(0x8a9136aa);
    expect(crc32c(new Uint8Array(32).fill(0xff))).toBe(0x62a8ab43);
    expect(crc32c(new Uint8Array(0))).toBe(0);
  });

  it('agrees with the bitwise definition and chains across splits', () => {
    assertProperty(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.nat(), (buf, cut) => {
        const at = buf.length === 0 ? 0 : cut % buf.length;
        expect(crc32c(buf)).toBe(reference(buf));
        expect(crc32c(buf, crc32c(buf, 0, 0, at), at)).toBe(crc32c(buf));
      }),
    );
  });

  it('takes the same value on the word path as byte by byte, at any alignment', () => {
    assertProperty(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 400 }), fc.nat(), fc.nat(), (bytes, a, b) => {
        // Copy into a fresh, 8-aligned buffer at offset 0..7 so both paths get exercised.
        const shift = a % 8;
        const backing = new Uint8Array(bytes.length + 8);
        const buf = backing.subarray(shift, shift + bytes.length);
        buf.set(bytes);
        const start = b % buf.length;
        const end = start + ((a >>> 3) % (buf.length - start + 1));
        expect(crc32c(buf, 7, start, end)).toBe(crc32cBytewise(buf, 7, start, end));
        expect(crc32c(buf, 0, start, end)).toBe(reference(buf.subarray(start, end)));
        const words = new Int32Array(backing.buffer, 0, backing.length >> 2);
        if (shift === 0) {
          const w0 = start >> 2;
          const w1 = end >> 2;
          expect(crc32cWords(words, 3, w0, w1)).toBe(crc32cBytewise(buf, 3, w0 * 4, w1 * 4));
        }
        if (end - start >= 8 && ((shift + start) & 3) === 0 && ((end - start) & 3) === 0) {
          const rec = crc32cBytewise(buf, crc32cBytewise(buf, 0, start, start + 4), start + 8, end);
          expect(crc32cRecord(buf, start, end)).toBe(rec);
        }
      }),
      { numRuns: 100 },
    );
  });
});
