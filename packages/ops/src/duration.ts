/**
 * The one duration syntax of every Keel command-line option that takes a time (`keel` and its
 * tools): a number with a unit, `500ms`, `5s`, `2m`, `1h`, or several added up (`1m30s`), as Go's
 * time.ParseDuration and etcdctl spell it. A bare number keeps the unit the option had before
 * units came (`bareUnitMs`; seconds unless the option counted milliseconds), so old command lines
 * mean what they meant. Also `@keel/ops/duration`, which loads nothing else.
 */

const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 } as const;
type Unit = keyof typeof UNIT_MS;

const PART = /(\d+(?:\.\d+)?)(ms|s|m|h)/y;
const BARE = /^\d+(?:\.\d+)?$/;

export type DurationResult = { ok: true; ms: number } | { ok: false; message: string };

/** The bounds of one option, in milliseconds (inclusive). */
export interface DurationBounds {
  readonly minMs: number;
  readonly maxMs: number;
}

/** `text` in milliseconds, or null when it is not a duration. */
export function durationMs(text: string, bareUnitMs: number = UNIT_MS.s): number | null {
  const t = text.trim();
  if (BARE.test(t)) return Number(t) * bareUnitMs;
  if (t === '') return null;
  let total = 0;
  PART.lastIndex = 0;
  while (PART.lastIndex < t.length) {
    const m = PART.exec(t);
    if (m === null) return null;
    total += Number(m[1]) * UNIT_MS[m[2] as Unit];
  }
  return total;
}

/**
 * `text` in milliseconds, or why it is not a duration within `bounds`; the message names `flag`
 * and is one line a user can act on.
 */
export function parseDuration(
  text: string,
  flag: string,
  bounds: DurationBounds,
  bareUnitMs: number = UNIT_MS.s,
): DurationResult {
  const ms = durationMs(text, bareUnitMs);
  const range = `from ${formatDuration(bounds.minMs)} to ${formatDuration(bounds.maxMs)}`;
  const bare =
    bareUnitMs === UNIT_MS.s ? 'seconds' : bareUnitMs === 1 ? 'milliseconds' : `${bareUnitMs} ms units`;
  if (ms === null) {
    return {
      ok: false,
      message: `${flag} must be a duration like 500ms, 5s or 2m (a bare number is ${bare}), ${range}; got '${text}'`,
    };
  }
  if (ms < bounds.minMs || ms > bounds.maxMs) {
    return { ok: false, message: `${flag} must be ${range}, got '${text}'` };
  }
  return { ok: true, ms };
}

/** `ms` the way a user writes it: `500ms`, `5s`, `1.5s`, `2m`, `1h`. */
export function formatDuration(ms: number): string {
  if (ms === 0) return '0s';
  if (ms % UNIT_MS.h === 0) return `${ms / UNIT_MS.h}h`;
  if (ms % UNIT_MS.m === 0) return `${ms / UNIT_MS.m}m`;
  if (ms >= UNIT_MS.s) return `${ms / UNIT_MS.s}s`;
  return `${ms}ms`;
}
