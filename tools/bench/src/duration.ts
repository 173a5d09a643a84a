/**
 * The duration syntax of `keel`'s options (apps/cli): `500ms`, `5s`, `2m`, `1h` or sums such as
 * `1m30s`. A bare number keeps the unit the flag had before units came (`bareUnitMs`: seconds for
 * --warmup/--duration, milliseconds for --timeout/--poll/--election-timeout), so old command
 * lines mean what they meant. Tools cannot import apps/cli; the three copies (here, apps/cli,
 * tools/chaos) belong in @keel/ops once one helper may touch it.
 */
const UNIT_MS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Milliseconds, or null when `text` is not a duration. */
export function durationMs(text: string, bareUnitMs: number): number | null {
  const t = text.trim();
  if (/^\d+(?:\.\d+)?$/.test(t)) return Number(t) * bareUnitMs;
  if (!/^(?:\d+(?:\.\d+)?(?:ms|s|m|h))+$/.test(t)) return null;
  let total = 0;
  for (const m of t.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g)) total += Number(m[1]) * UNIT_MS[m[2]!]!;
  return total;
}
