// The duration syntax of `keel`'s options lives in @keel/ops (`500ms`, `5s`, `1m30s`); a bare number
// keeps the unit the bench flag had before units came (`bareUnitMs`: seconds for --warmup/--duration,
// milliseconds for --timeout/--poll/--election-timeout).
export { durationMs } from '@keel/ops/duration';
