import { open } from 'node:fs/promises';
import { DEFAULT_KV_LIMITS } from '@keel/kv';
import type { Io } from '../../io.js';
import { decodeBytes, decodeText, type Encoding, EncodingError } from './encoding.js';
import { usage } from './errors.js';

/** The store's value limit; input is read up to one byte past it, never unbounded. */
const MAX_VALUE_BYTES = DEFAULT_KV_LIMITS.maxValueBytes;
/** base64 of the largest value, with line breaks and some slack: more is over the limit anyway. */
const MAX_ENCODED_BYTES = MAX_VALUE_BYTES * 3;

/**
 * A value: the argument itself, `-` for standard input, or `--file <path>` (then there is no
 * argument). Encoded input (`--base64`, `--hex`) is decoded. Above the store's limit: a usage
 * error naming the limit, before anything is sent.
 */
export async function readValue(
  arg: string | undefined,
  file: string | undefined,
  encoding: Encoding,
  io: Io,
): Promise<Uint8Array> {
  const cap = encoding === 'text' ? MAX_VALUE_BYTES : MAX_ENCODED_BYTES;
  const tooLarge = (from: string) =>
    usage(
      `the value from ${from} is more than ${MAX_VALUE_BYTES} bytes (${MAX_VALUE_BYTES / 1024 / 1024} MiB), the store's limit for one value`,
    );
  let from = 'the argument';
  let bytes: Uint8Array;
  if (file !== undefined || arg === '-') {
    from = file !== undefined ? `--file ${file}` : 'standard input';
    if (file === undefined && io.stdin === undefined && process.stdin.isTTY === true)
      io.err('keel: reading the value from the terminal; end it with Ctrl-D');
    const raw =
      file !== undefined ? await readFileCapped(file, cap) : await readCapped(io.stdin ?? process.stdin, cap);
    if (raw.length > cap) throw tooLarge(from);
    bytes = decodeRead(raw, encoding, from);
  } else {
    bytes = decodeArg(arg ?? '', encoding, 'value');
  }
  if (bytes.length > MAX_VALUE_BYTES) throw tooLarge(from);
  return bytes;
}

/** A key, prefix or value given as an argument, in `encoding`. */
export function decodeArg(text: string, encoding: Encoding, what: string): Uint8Array {
  try {
    return decodeText(text, encoding);
  } catch (err) {
    if (err instanceof EncodingError) throw usage(`${what} '${short(text)}' is ${err.message}`);
    throw err;
  }
}

function decodeRead(bytes: Uint8Array, encoding: Encoding, from: string): Uint8Array {
  try {
    return decodeBytes(bytes, encoding);
  } catch (err) {
    if (err instanceof EncodingError) throw usage(`the value from ${from} is ${err.message}`);
    throw err;
  }
}

const short = (s: string): string => (s.length > 40 ? `${s.slice(0, 37)}...` : s);

/** Up to `cap + 1` bytes of a stream (one past the cap tells "too large" without reading it all). */
export async function readCapped(stream: AsyncIterable<Uint8Array>, cap: number): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let total = 0;
  for await (const chunk of stream) {
    chunks.push(chunk);
    total += chunk.length;
    if (total > cap) break;
  }
  return concat(chunks, Math.min(total, cap + 1));
}

async function readFileCapped(path: string, cap: number): Promise<Uint8Array> {
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(path, 'r');
  } catch (err) {
    throw usage(
      `cannot read --file ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
    );
  }
  try {
    return await readCapped(handle.createReadStream({ autoClose: false }), cap);
  } catch (err) {
    throw usage(
      `cannot read --file ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
    );
  } finally {
    await handle.close();
  }
}

function concat(chunks: readonly Uint8Array[], length: number): Uint8Array {
  const out = new Uint8Array(length);
  let at = 0;
  for (const c of chunks) {
    if (at >= length) break;
    const part = c.subarray(0, length - at);
    out.set(part, at);
    at += part.length;
  }
  return out;
}
