import { describe, expect, it } from 'vitest';
import { durationMs } from '../src/duration.js';

describe('keel bench durations', () => {
  it('take units, and a bare number keeps the unit the flag had', () => {
    expect(durationMs('500ms', 1000)).toBe(500);
    expect(durationMs('5s', 1)).toBe(5000);
    expect(durationMs('1m30s', 1)).toBe(90_000);
    expect(durationMs('5', 1000)).toBe(5000); // --duration 5: seconds, as before
    expect(durationMs('2000', 1)).toBe(2000); // --timeout 2000: milliseconds, as before
    expect(durationMs(' 0.5 ', 1000)).toBe(500);
  });

  it('refuse anything else', () => {
    for (const bad of ['', 's', '5 s', '-1s', '5sec', '1e3', '1m30']) expect(durationMs(bad, 1)).toBeNull();
  });
});
