/** Limits that keep one command bounded in memory and on the wire. */
export const KeyLimits = {
  maxKeyBytes: 4096,
  maxValueBytes: 1024 * 1024,
} as const;

export type KeyCheck = { ok: true } | { ok: false; code: 'key-empty' | 'key-too-large'; message: string };

/** A key is a non-empty byte string of at most `KeyLimits.maxKeyBytes` bytes. */
export function checkKey(key: Uint8Array): KeyCheck {
  if (key.length === 0) return { ok: false, code: 'key-empty', message: 'key must not be empty' };
  if (key.length > KeyLimits.maxKeyBytes) {
    return {
      ok: false,
      code: 'key-too-large',
      message: `key is ${key.length} bytes; the limit is ${KeyLimits.maxKeyBytes}`,
    };
  }
  return { ok: true };
}
