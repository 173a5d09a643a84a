/**
 * Keys and values are bytes; a command line and a JSON document are text. These helpers are the
 * one place where the two meet, so every command spells bytes the same way:
 * - in: `text` (the argument's UTF-8 bytes), `base64` or `hex` (ASCII whitespace ignored, so the
 *   wrapped output of `base64` pastes as it is; anything else malformed is refused, never guessed);
 * - out, human: the bytes as they are (`text`), or encoded;
 * - out, JSON: lossless — a string when the bytes are valid UTF-8, else base64 with the encoding
 *   named beside it (`"value": "AP8B", "valueEncoding": "base64"`).
 */
export const Encoding = { Text: 'text', Base64: 'base64', Hex: 'hex' } as const;
export type Encoding = (typeof Encoding)[keyof typeof Encoding];

/** How bytes were spelled in a JSON string: absent in the document means UTF-8 text. */
export type JsonEncoding = typeof Encoding.Base64 | typeof Encoding.Hex;

export class EncodingError extends Error {
  override readonly name = 'EncodingError';
}

const encoder = new TextEncoder();
// `ignoreBOM`: a leading U+FEFF is part of the value, not a marker to drop (lossless).
const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const lossyUtf8 = new TextDecoder('utf-8', { fatal: false, ignoreBOM: true });

const WHITESPACE = /[\t\n\v\f\r ]+/g;
// Single character-class loops plus a length check: linear on megabytes of input, where a regex
// of repeated groups overflowed the stack (an 8 MiB value is 11 MB of base64).
const BASE64_CHARS = /^[A-Za-z0-9+/]*={0,2}$/;
const HEX_CHARS = /^[0-9a-fA-F]*$/;

/** The bytes `text` spells in `encoding`; throws `EncodingError` naming what is wrong. */
export function decodeText(text: string, encoding: Encoding): Uint8Array {
  if (encoding === Encoding.Text) return encoder.encode(text);
  const compact = text.replace(WHITESPACE, '');
  if (encoding === Encoding.Base64) {
    if (compact.length % 4 !== 0 || !BASE64_CHARS.test(compact))
      throw new EncodingError('not valid base64 (A-Z a-z 0-9 + /, padded with =)');
    return new Uint8Array(Buffer.from(compact, 'base64'));
  }
  if (compact.length % 2 !== 0 || !HEX_CHARS.test(compact))
    throw new EncodingError('not valid hex (pairs of 0-9 a-f)');
  return new Uint8Array(Buffer.from(compact, 'hex'));
}

/** Bytes read from stdin or a file: taken as they are, or decoded from their base64/hex text. */
export function decodeBytes(bytes: Uint8Array, encoding: Encoding): Uint8Array {
  if (encoding === Encoding.Text) return bytes;
  return decodeText(lossyUtf8.decode(bytes), encoding);
}

/** `bytes` as text when they are valid UTF-8, else null. */
export function utf8(bytes: Uint8Array): string | null {
  try {
    return strictUtf8.decode(bytes);
  } catch {
    return null;
  }
}

/** `bytes` spelled in `encoding` (text: their UTF-8 decoding, U+FFFD for invalid sequences). */
export function encodeText(bytes: Uint8Array, encoding: Encoding): string {
  if (encoding === Encoding.Base64) return Buffer.from(bytes).toString('base64');
  if (encoding === Encoding.Hex) return Buffer.from(bytes).toString('hex');
  return lossyUtf8.decode(bytes);
}

/**
 * Bytes for a JSON document, without loss: the UTF-8 text when valid and no encoding is asked
 * for, else base64 (or the encoding asked for) with that encoding named.
 */
export function jsonBytes(
  bytes: Uint8Array,
  encoding: Encoding,
): { readonly text: string; readonly encoding: JsonEncoding | null } {
  if (encoding === Encoding.Text) {
    const text = utf8(bytes);
    if (text !== null) return { text, encoding: null };
    return { text: encodeText(bytes, Encoding.Base64), encoding: Encoding.Base64 };
  }
  return { text: encodeText(bytes, encoding), encoding };
}

/** `bytes` for a human: their encoding when one is asked for, else as they are. */
export function humanBytes(bytes: Uint8Array, encoding: Encoding): Uint8Array {
  return encoding === Encoding.Text ? bytes : encoder.encode(encodeText(bytes, encoding));
}
