import { describe, expect, it } from 'vitest';
import { step } from '../src/index.js';

const ok = <R>(result: R) => ({ status: 'ok' as const, result });
const acked = { status: 'ok' as const };
const unknown = { status: 'unknown' as const };

describe('the register model', () => {
  it('put and delete always apply', () => {
    expect(step(null, { kind: 'put', value: 'a' }, acked)).toBe('a');
    expect(step('a', { kind: 'delete' }, acked)).toBe(null);
    expect(step(null, { kind: 'delete' }, unknown)).toBe(null);
  });

  it('get applies only if it read the current value, and then changes nothing', () => {
    expect(step('a', { kind: 'get' }, ok('a'))).toBe('a');
    expect(step(null, { kind: 'get' }, ok(null))).toBe(null);
    expect(step('a', { kind: 'get' }, ok('b'))).toBeUndefined();
    expect(step('a', { kind: 'get' }, ok(null))).toBeUndefined();
  });

  it('cas swaps exactly when the key holds the expected value, and must report which', () => {
    const cas = { kind: 'cas', expected: 'a', value: 'b' } as const;
    expect(step('a', cas, ok(true))).toBe('b');
    expect(step('a', cas, ok(false))).toBeUndefined();
    expect(step('z', cas, ok(false))).toBe('z');
    expect(step('z', cas, ok(true))).toBeUndefined();
    expect(step(null, { kind: 'cas', expected: null, value: 'b' }, ok(true))).toBe('b');
    // Nobody saw the result: it swaps if it can, and otherwise changes nothing.
    expect(step('a', cas, unknown)).toBe('b');
    expect(step('z', cas, unknown)).toBe('z');
  });

  it('incr adds to a decimal integer (absent counts as 0) and reports the new value', () => {
    expect(step(null, { kind: 'incr' }, ok('1'))).toBe('1');
    expect(step('41', { kind: 'incr', delta: 1 }, ok('42'))).toBe('42');
    expect(step('5', { kind: 'incr', delta: -7 }, ok('-2'))).toBe('-2');
    expect(step('41', { kind: 'incr' }, ok('41'))).toBeUndefined();
    expect(step('41', { kind: 'incr' }, unknown)).toBe('42');
  });

  it('incr of a value that is not an integer cannot succeed and has no effect', () => {
    expect(step('abc', { kind: 'incr' }, ok('1'))).toBeUndefined();
    expect(step('007', { kind: 'incr' }, ok('8'))).toBeUndefined();
    expect(step('abc', { kind: 'incr' }, unknown)).toBe('abc');
  });
});
