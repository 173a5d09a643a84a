/**
 * What one command, reply or scan may hold. Every decoder checks these before it allocates, so a
 * hostile or corrupt frame costs at most the bytes it arrived in.
 *
 * The state machine applies the same limits to log entries: they are part of the replicated
 * semantics and must be identical on every member (a member with larger limits would accept an
 * entry the others reject as invalid).
 */
export interface KvLimits {
  /** Largest key, in bytes (keys are 1 byte or more). */
  readonly maxKeyBytes: number;
  /** Largest value, in bytes (an empty value is valid). */
  readonly maxValueBytes: number;
  /** Most items one scan may ask for and one reply may carry. */
  readonly maxScanLimit: number;
  /**
   * A scan stops adding items once their keys and values reach this many bytes (it always returns
   * at least one item when one exists, so a scan over large values still makes progress).
   */
  readonly maxScanBytes: number;
  /** Longest error message carried in a result or reply, in bytes. */
  readonly maxMessageBytes: number;
}

export const DEFAULT_KV_LIMITS: KvLimits = {
  maxKeyBytes: 4096,
  // 8 MiB: a 5 MB blob (a config bundle, a small artefact) fits, as operators asked; a value this
  // size is one entry of its own in AppendEntries (frames carry up to 16 MiB).
  maxValueBytes: 8 * 1024 * 1024,
  maxScanLimit: 10_000,
  maxScanBytes: 4 * 1024 * 1024,
  maxMessageBytes: 1024,
};

/** The key and value limits alone (kept for callers that only validate keys). */
export const KeyLimits = {
  maxKeyBytes: DEFAULT_KV_LIMITS.maxKeyBytes,
  maxValueBytes: DEFAULT_KV_LIMITS.maxValueBytes,
} as const;

export type KeyCheck =
  | { readonly ok: true }
  | { readonly ok: false; readonly code: 'key-empty' | 'key-too-large'; readonly message: string };

export type ValueCheck =
  | { readonly ok: true }
  | { readonly ok: false; readonly code: 'value-too-large'; readonly message: string };

/** A key is a non-empty byte string of at most `limits.maxKeyBytes` bytes. */
export function checkKey(key: Uint8Array, limits: Pick<KvLimits, 'maxKeyBytes'> = KeyLimits): KeyCheck {
  if (key.length === 0) return { ok: false, code: 'key-empty', message: 'key must not be empty' };
  if (key.length > limits.maxKeyBytes) {
    return {
      ok: false,
      code: 'key-too-large',
      message: `key is ${key.length} bytes; the limit is ${limits.maxKeyBytes}`,
    };
  }
  return { ok: true };
}

/** A value is a byte string (possibly empty) of at most `limits.maxValueBytes` bytes. */
export function checkValue(
  value: Uint8Array,
  limits: Pick<KvLimits, 'maxValueBytes'> = KeyLimits,
): ValueCheck {
  if (value.length > limits.maxValueBytes) {
    return {
      ok: false,
      code: 'value-too-large',
      message: `value is ${value.length} bytes; the limit is ${limits.maxValueBytes}`,
    };
  }
  return { ok: true };
}
