import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  applyConfChange,
  checkMemberId,
  confOf,
  decodeConfEntry,
  encodeConfEntry,
  InvalidMemberIdError,
  isValidMemberId,
  MEMBER_ID_ERROR_CODE,
  MEMBER_ID_PATTERN,
  resolveConfig,
  SeededRng,
} from '../src/index.js';
import { INVALID_IDS, SPECIAL_VALID_IDS } from '../src/testing/index.js';
import { assertProperty } from './helpers/propertySeeds.js';

describe('member ids: one definition', () => {
  it('accepts 1-64 of [A-Za-z0-9._-] starting with a letter or digit, including Object.prototype names', () => {
    for (const id of ['n1', 'A', '9', 'node-1.zone_b', ...SPECIAL_VALID_IDS])
      expect(isValidMemberId(id), id).toBe(true);
  });

  it('refuses __proto__, empty, too long, non-ASCII, a leading mark, spaces and separators', () => {
    for (const id of INVALID_IDS) expect(isValidMemberId(id), JSON.stringify(id)).toBe(false);
    expect(isValidMemberId(undefined)).toBe(false);
    expect(isValidMemberId(7)).toBe(false);
  });

  it('checkMemberId throws a coded error that names the id and the rule', () => {
    expect(checkMemberId('n1')).toBe('n1');
    let err: unknown;
    try {
      checkMemberId('__proto__', '--id');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(InvalidMemberIdError);
    expect(err).toMatchObject({ code: MEMBER_ID_ERROR_CODE, id: '__proto__' });
    expect((err as Error).message).toBe(
      '--id "__proto__" is invalid: must be 1-64 characters of [A-Za-z0-9._-], starting with a letter or digit',
    );
  });

  it('a very long id is shortened in the message', () => {
    expect(() => checkMemberId('x'.repeat(10_000))).toThrow(/…\(10000 chars\)/);
  });

  it('the engine configuration, a configuration change and a Config entry use it', () => {
    const rng = new SeededRng(1);
    expect(() => resolveConfig({ id: '__proto__', voters: [], rng })).toThrow(InvalidMemberIdError);
    expect(() => resolveConfig({ id: 'a', voters: ['a', '_b'], rng })).toThrow(/voter id "_b" is invalid/);
    expect(applyConfChange(confOf(['a']), { type: 'addLearner', id: '__proto__' })).toMatch(/is invalid/);
    const conf = confOf(['a'], ['constructor'], new Map([['constructor', 'tcp://c:1']]));
    const entry = decodeConfEntry(encodeConfEntry({ type: 'addLearner', id: 'constructor' }, conf));
    expect(entry?.conf).toEqual(conf);
    expect(entry?.conf.addresses.get('constructor')).toBe('tcp://c:1');
    expect(() => encodeConfEntry({ type: 'addLearner', id: '__proto__' }, conf)).toThrow(RangeError);
  });

  it('property: the pattern and isValidMemberId agree on random strings', () => {
    assertProperty(
      fc.property(
        fc.oneof(fc.string({ maxLength: 70 }), fc.constantFrom(...INVALID_IDS, ...SPECIAL_VALID_IDS)),
        (s) => {
          expect(isValidMemberId(s)).toBe(MEMBER_ID_PATTERN.test(s));
          expect(isValidMemberId(s)).toBe(
            s.length >= 1 && s.length <= 64 && /^[A-Za-z0-9]/.test(s) && /^[A-Za-z0-9._-]*$/.test(s),
          );
        },
      ),
      { numRuns: 500 },
    );
  });
});
