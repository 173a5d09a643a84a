// The duration syntax of every `keel` option that takes a time (`--timeout`, `--catch-up`) is the
// one of @keel/ops, shared with the bench and chaos tools; a bare number is seconds here.
export { type DurationBounds, type DurationResult, formatDuration, parseDuration } from '@keel/ops/duration';
