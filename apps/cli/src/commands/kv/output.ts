import type { KeyValue } from '@keel/kv';
import type { Io } from '../../io.js';
import { type Encoding, humanBytes, jsonBytes } from './encoding.js';

const encoder = new TextEncoder();
const NEWLINE = encoder.encode('\n');
const TAB = encoder.encode('\t');

/** How keys and values are spelled in this invocation's output. */
export interface Spelling {
  readonly key: Encoding;
  readonly value: Encoding;
}

/**
 * One line of bytes on stdout, exactly as they are (a value need not be UTF-8 text). Without a
 * byte sink (tests), the line goes to `out` as its UTF-8 decoding.
 */
export function printLine(io: Io, parts: readonly (Uint8Array | string)[]): void {
  const bytes = parts.map((p) => (typeof p === 'string' ? encoder.encode(p) : p));
  if (io.writeBytes === undefined) {
    io.out(new TextDecoder('utf-8', { ignoreBOM: true }).decode(join(bytes)));
    return;
  }
  io.writeBytes(join([...bytes, NEWLINE]));
}

/** Human output of one item: `key<TAB>value`, the key alone, or the value alone. */
export function printItem(io: Io, kv: KeyValue, spelling: Spelling, show: 'both' | 'key' | 'value'): void {
  const key = humanBytes(kv.key, spelling.key);
  const value = humanBytes(kv.value, spelling.value);
  if (show === 'key') printLine(io, [key]);
  else if (show === 'value') printLine(io, [value]);
  else printLine(io, [key, TAB, value]);
}

/** `{ key[, keyEncoding] }`: a key in JSON, without loss (see encoding.ts). */
export function keyJson(key: Uint8Array, spelling: Spelling): Record<string, unknown> {
  const k = jsonBytes(key, spelling.key);
  return { key: k.text, ...(k.encoding === null ? {} : { keyEncoding: k.encoding }) };
}

/**
 * One key in JSON: `{ key, value, version, createRevision, modRevision }`, plus `keyEncoding` /
 * `valueEncoding` ("base64" or "hex") when that string is not the bytes' UTF-8 text.
 */
export function kvJson(kv: KeyValue, spelling: Spelling): Record<string, unknown> {
  const v = jsonBytes(kv.value, spelling.value);
  return {
    ...keyJson(kv.key, spelling),
    value: v.text,
    ...(v.encoding === null ? {} : { valueEncoding: v.encoding }),
    version: kv.version,
    createRevision: kv.createRevision,
    modRevision: kv.modRevision,
    ...(kv.lease === undefined ? {} : { lease: kv.lease }),
  };
}

function join(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
