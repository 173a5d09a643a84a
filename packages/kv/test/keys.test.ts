import { describe, expect, it } from 'vitest';
import { checkKey, KeyLimits } from '../src/index.js';

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
});
