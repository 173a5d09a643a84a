import { KeelError } from './errors.js';
import type { NodeId } from './types.js';

/**
 * The one definition of a member id, checked at every entry (flags, config files, admin API, CLI,
 * wire decode, Config entries). An id is 1-64 ASCII characters: a letter or digit, then letters,
 * digits, '.', '_' or '-'. Requiring a letter or digit first keeps out the names JavaScript gives
 * meaning to (`__proto__`) and anything that reads as a flag (`-x`) or a path (`.`, `..`).
 * Ids such as `constructor` or `toString` stay valid, so every id-keyed record is a Map (or a
 * null-prototype object), never a plain object.
 */
export const MEMBER_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** Longest member id, in characters (= bytes: ids are ASCII). */
export const MAX_ID_LENGTH = 64;

/** The rule in words, for error messages. */
export const MEMBER_ID_RULE = '1-64 characters of [A-Za-z0-9._-], starting with a letter or digit';

export const MEMBER_ID_ERROR_CODE = 'KEEL_INVALID_MEMBER_ID';

/** True for a valid member id (see MEMBER_ID_PATTERN). */
export function isValidMemberId(id: unknown): id is NodeId {
  return typeof id === 'string' && MEMBER_ID_PATTERN.test(id);
}

/** An id that is not a valid member id, from any entry point. `id` is the rejected input. */
export class InvalidMemberIdError extends KeelError {
  override readonly name = 'InvalidMemberIdError';
  readonly id: unknown;
  constructor(id: unknown, what = 'member id') {
    super(MEMBER_ID_ERROR_CODE, `${what} ${describeId(id)} is invalid: must be ${MEMBER_ID_RULE}`);
    this.id = id;
  }
}

/** Returns `id` when valid; throws InvalidMemberIdError otherwise. */
export function checkMemberId(id: unknown, what = 'member id'): NodeId {
  if (!isValidMemberId(id)) throw new InvalidMemberIdError(id, what);
  return id;
}

/** A short, printable rendering of a rejected id (bounded, quoted, control characters escaped). */
export function describeId(id: unknown): string {
  if (typeof id !== 'string') return `of type ${id === null ? 'null' : typeof id}`;
  const shown = id.length > MAX_ID_LENGTH + 8 ? `${id.slice(0, MAX_ID_LENGTH)}…(${id.length} chars)` : id;
  return JSON.stringify(shown);
}
