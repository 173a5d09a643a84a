import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ChunkReader, chunksLength, concatChunks, toChunks } from '../src/runtime/snapshotBytes.js';
import { assertProperty } from './helpers/propertySeeds.js';

describe('snapshot chunks', () => {
  it('every range of a chunk sequence reads the bytes of its concatenation', () => {
    assertProperty(
      fc.property(
        fc.array(fc.uint8Array({ maxLength: 12 }), { maxLength: 8 }),
        fc.nat(),
        fc.nat(),
        (chunks, a, b) => {
          const whole = concatChunks(chunks.length === 0 ? [new Uint8Array(0)] : chunks);
          const r = new ChunkReader(chunks);
          expect(r.length).toBe(whole.length);
          expect(chunksLength(chunks)).toBe(whole.length);
          const start = whole.length === 0 ? 0 : a % (whole.length + 1);
          const end = start + (whole.length === start ? 0 : b % (whole.length - start + 1));
          expect(r.slice(start, end)).toEqual(whole.subarray(start, end));
        },
      ),
    );
  });

  it('a range inside one chunk is a view, not a copy; a single buffer is one chunk', () => {
    const c = new Uint8Array([1, 2, 3, 4]);
    const r = new ChunkReader([new Uint8Array(0), c, new Uint8Array([5])]);
    expect(r.slice(1, 3).buffer).toBe(c.buffer);
    expect(r.slice(3, 5)).toEqual(new Uint8Array([4, 5]));
    expect(toChunks(c)).toEqual([c]);
    expect(concatChunks([c])).toBe(c);
    expect(() => r.slice(2, 9)).toThrow(RangeError);
  });
});
