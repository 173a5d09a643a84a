import { describe, expect, it } from 'vitest';
import { checkKey, checkValue, DEFAULT_KV_LIMITS, KeyLimits } from '../src/index.js';

describe('checkKey', () => {
  it('accepts keys from 1 byte up to the limit', () => {
    expect(checkKey(new Uint8Array(1))).toEqual({ ok: true });
    expect(checkKey(new Uint8Array(KeyLimits.maxKeyBytes))).toEqual({ ok: true });
  });
  it('rejects empty and oversized keys with a code', () => {
    expect(checkKey(new Uint8Array(0))).toMatchObject({ ok: false, code: 'key-empty' });
    expect(checkKey(new Uint8Array(KeyLimits.maxKeyBytes + 1))).toMatchObject({
      ok: false,
      code: 'key-too-large',
    });
  });
  it('takes other limits', () => {
    expect(checkKey(new Uint8Array(3), { maxKeyBytes: 2 })).toMatchObject({
      ok: false,
      code: 'key-too-large',
    });
  });
});

describe('checkValue', () => {
  it('accepts empty values and values up to the limit, rejects larger ones', () => {
    expect(checkValue(new Uint8Array(0))).toEqual({ ok: true });
    expect(checkValue(new Uint8Array(DEFAULT_KV_LIMITS.maxValueBytes))).toEqual({ ok: true });
    expect(checkValue(new Uint8Array(DEFAULT_KV_LIMITS.maxValueBytes + 1))).toMatchObject({
      ok: false,
      code: 'value-too-large',
    });
  });
});
