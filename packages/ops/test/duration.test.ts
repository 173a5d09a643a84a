import { describe, expect, it } from 'vitest';
import { durationMs, formatDuration, parseDuration } from '../src/duration.js';

describe('durations', () => {
  it('read units, sums, and a bare number in the unit the option had', () => {
    expect(['500ms', '5s', '2m', '1h', '1m30s', '1.5s', ' 2s '].map((t) => durationMs(t))).toEqual([
      500, 5000, 120_000, 3_600_000, 90_000, 1500, 2000,
    ]);
    expect(durationMs('5')).toBe(5000);
    expect(durationMs('250', 1)).toBe(250);
    for (const bad of ['', 's', '5x', '5 s', '-1s', '1s2']) expect(durationMs(bad), bad).toBeNull();
  });

  it('say what is wrong in one line naming the flag and its range', () => {
    expect(parseDuration('3s', '--timeout', { minMs: 1, maxMs: 60_000 })).toEqual({ ok: true, ms: 3000 });
    expect(parseDuration('soon', '--timeout', { minMs: 1, maxMs: 60_000 })).toEqual({
      ok: false,
      message:
        "--timeout must be a duration like 500ms, 5s or 2m (a bare number is seconds), from 1ms to 1m; got 'soon'",
    });
    expect(parseDuration('2h', '--poll', { minMs: 10, maxMs: 60_000 }, 1)).toEqual({
      ok: false,
      message: "--poll must be from 10ms to 1m, got '2h'",
    });
    expect(formatDuration(1500)).toBe('1.5s');
  });
});
