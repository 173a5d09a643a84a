import { describe, expect, it } from 'vitest';
import { checkFencedWrites } from '../src/lockCheck.js';

const at = (values: string[]) => values.map((value, i) => ({ revision: 100 + i, value }));

describe('the chaos lock check', () => {
  it('passes one block per holder in increasing token order', () => {
    const r = checkFencedWrites(at(['10:1:1', '10:1:2', '14:2:1', '14:2:2', '14:2:3', '20:1:3']));
    expect(r).toEqual({ ok: true, writes: 6, holders: 3, problems: [] });
  });

  it('fails interleaved blocks: an unfenced holder that lost the lock (paused past its TTL) writes again', () => {
    // The planted bug, at the level of the history: holder 10 was paused, lost its lease, holder 14
    // took the lock, and 10 wrote on resuming because its write carried no fence.
    const r = checkFencedWrites(at(['10:1:1', '14:2:1', '10:1:2', '14:2:2']));
    expect(r.ok).toBe(false);
    expect(r.problems[0]).toMatch(
      /owner@102: "10:1:2" written after "14:2:1" \(@101\): a holder wrote after a later holder/,
    );
  });
});
