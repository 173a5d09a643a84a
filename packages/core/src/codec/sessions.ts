import type { SessionRecord, SessionsImage } from '../runtime/SessionTable.js';
import { DecodeErrorReason } from './errors.js';
import type { Reader } from './Reader.js';
import type { Writer } from './Writer.js';

/**
 * The binary form of a `SessionTable`'s image, for state machines that put their sessions in their
 * snapshots (times must be non-negative integers: log-clock milliseconds):
 *
 *   highestClientId:varint  count:varint  session*          (least recently active first)
 *   session = clientId:varint  lastSeq:varint  lastActive:varint  hasResult:u8  [result]
 *
 * The result's bytes are the machine's: `writeResult`/`readResult` encode one.
 */
export function writeSessions<Result>(
  w: Writer,
  image: SessionsImage<Result>,
  writeResult: (w: Writer, result: Result) => void,
): void {
  w.varint(image.highestClientId);
  w.varint(image.sessions.length);
  for (const s of image.sessions) {
    w.varint(s.clientId);
    w.varint(s.lastSeq);
    w.varint(s.lastActive);
    w.u8(s.lastResult === null ? 0 : 1);
    if (s.lastResult !== null) writeResult(w, s.lastResult);
  }
}

/**
 * Reads what `writeSessions` wrote, checking everything a table relies on: ids issued and unique, a
 * result exactly when a command ran, activity in order and not after `clock` (the machine's log
 * clock as of the snapshot). A violation calls `corrupt` (default: a `DecodeError`), which must throw.
 */
export function readSessions<Result>(
  r: Reader,
  clock: number,
  readResult: (r: Reader) => Result,
  corrupt: (message: string) => never = (message) => r.fail(DecodeErrorReason.Malformed, message),
): SessionsImage<Result> {
  const highestClientId = r.varint();
  // Every record takes at least one byte per field: a corrupt count cannot allocate much.
  const count = r.count(r.remaining, 'session count');
  const sessions: SessionRecord<Result>[] = [];
  const seen = new Set<number>();
  let lastActivity = 0;
  for (let i = 0; i < count; i++) {
    const clientId = r.varint();
    const lastSeq = r.varint();
    const lastActive = r.varint();
    const hasResult = r.u8();
    if (hasResult > 1) corrupt(`session ${clientId}: result flag ${hasResult}`);
    const lastResult = hasResult === 1 ? readResult(r) : null;
    if (clientId === 0 || clientId > highestClientId) corrupt(`session ${clientId} was never issued`);
    if (seen.has(clientId)) corrupt(`session ${clientId} appears twice`);
    if ((lastSeq === 0) !== (lastResult === null))
      corrupt(`session ${clientId}: sequence and response disagree`);
    if (lastActive < lastActivity || lastActive > clock)
      corrupt(`session ${clientId}: activity out of order`);
    lastActivity = lastActive;
    seen.add(clientId);
    sessions.push({ clientId, lastSeq, lastResult, lastActive });
  }
  return { highestClientId, sessions };
}
