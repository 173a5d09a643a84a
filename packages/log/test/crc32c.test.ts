import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { crc32c } from '../src/index.js';

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
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.nat(), (buf, cut) => {
        const at = buf.length === 0 ? 0 : cut % buf.length;
        expect(crc32c(buf)).toBe(reference(buf));
        expect(crc32c(buf, crc32c(buf, 0, 0, at), at)).toBe(crc32c(buf));
      }),
    );
  });
});
