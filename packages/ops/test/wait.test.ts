import { describe, expect, it } from 'vitest';
import { waitFor } from '../src/index.js';

describe('waitFor', () => {
  it('returns the first value that is not undefined', async () => {
    let n = 0;
    await expect(waitFor('n to reach 3', () => (++n >= 3 ? n : undefined), 10_000, 1)).resolves.toBe(3);
  });

  it('fails after its bound, naming what it waited for and the last error', async () => {
    await expect(
      waitFor(
        'a miracle',
        () => {
          throw new Error('not yet');
        },
        30,
        5,
      ),
    ).rejects.toThrow('timed out after 30 ms waiting for a miracle: not yet');
  });
});
