/**
 * Inputs that are special to JavaScript, for tests of every id-keyed or key-keyed record (issue
 * #22): a plain object keyed by one of them changes its prototype or shadows a method. Tests draw
 * them explicitly, beside random ones.
 */

/** Valid member ids that name members of Object.prototype, or are otherwise unusual. */
export const SPECIAL_VALID_IDS: readonly string[] = [
  'constructor',
  'prototype',
  'hasOwnProperty',
  'toString',
  'valueOf',
  'isPrototypeOf',
  'propertyIsEnumerable',
  'toLocaleString',
  'length',
  '0',
  'a'.repeat(64),
  'x.y_z-0',
];

/** Strings that are no member id (see MEMBER_ID_PATTERN); every entry point must refuse them. */
export const INVALID_IDS: readonly string[] = [
  '__proto__',
  '',
  'a'.repeat(65),
  'é',
  'n1\u00e9',
  '-a',
  '.',
  '..',
  '_x',
  'a b',
  'a/b',
  'a\u0000',
  '\u{1F600}',
];

/** KV keys (as text) that would subvert a plain object keyed by them; KV keys are bytes. */
export const SPECIAL_KEYS: readonly string[] = [
  '__proto__',
  'constructor',
  'prototype',
  'hasOwnProperty',
  'toString',
  '',
  'k'.repeat(4096),
  'ключ-🔑',
  '\u0000',
];
