/**
 * The one duration syntax of every `keel` option that takes a time (`--timeout`, `--catch-up`):
 * a number with a unit, `500ms`, `5s`, `2m`, `1h`, or several of them added up (`1m30s`), as Go's
 * time.ParseDuration and etcdctl spell it. A bare number means seconds: every such option counted
 * seconds before the units came, so `--timeout 5` keeps meaning five seconds.
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

/** `text` in milliseconds, or why it is not a duration within `bounds` (the message names `flag`). */
export function parseDuration(text: string, flag: string, bounds: DurationBounds): DurationResult {
  const ms = durationMs(text.trim());
  const range = `from ${formatDuration(bounds.minMs)} to ${formatDuration(bounds.maxMs)}`;
  if (ms === null) {
    return {
      ok: false,
      message: `${flag} must be a duration like 500ms, 5s or 2m (a bare number is seconds), ${range}; got '${text}'`,
    };
  }
  if (ms < bounds.minMs || ms > bounds.maxMs) {
    return { ok: false, message: `${flag} must be ${range}, got '${text}'` };
  }
  return { ok: true, ms };
}

function durationMs(text: string): number | null {
  if (BARE.test(text)) return Number(text) * UNIT_MS.s;
  if (text === '') return null;
  let total = 0;
  PART.lastIndex = 0;
  while (PART.lastIndex < text.length) {
    const m = PART.exec(text);
    if (m === null) return null;
    total += Number(m[1]) * UNIT_MS[m[2] as Unit];
  }
  return total;
}

/** `ms` the way a user writes it: `500ms`, `5s`, `1.5s`, `2m`, `1h`. */
export function formatDuration(ms: number): string {
  if (ms === 0) return '0s';
  if (ms % UNIT_MS.h === 0) return `${ms / UNIT_MS.h}h`;
  if (ms % UNIT_MS.m === 0) return `${ms / UNIT_MS.m}m`;
  if (ms >= UNIT_MS.s) return `${ms / UNIT_MS.s}s`;
  return `${ms}ms`;
}
