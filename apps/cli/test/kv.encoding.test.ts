import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  decodeBytes,
  decodeText,
  Encoding,
  EncodingError,
  encodeText,
  humanBytes,
  jsonBytes,
  utf8,
} from '../src/commands/kv/encoding.js';
import { CommandError } from '../src/commands/kv/errors.js';
import { readCapped, readValue } from '../src/commands/kv/input.js';
import { parse } from '../src/commands/kv/options.js';
import { kvJson } from '../src/commands/kv/output.js';
import { ExitCode, type Io } from '../src/index.js';

const bytes = (...b: number[]): Uint8Array => new Uint8Array(b);
const all256 = Uint8Array.from({ length: 256 }, (_v, i) => i);
const MiB = 1024 * 1024;
/** Byte equality without vitest's element-by-element diffing (slow on a MiB). */
const same = (a: Uint8Array, b: Uint8Array): boolean => Buffer.compare(a, b) === 0;
const dir = mkdtempSync(join(tmpdir(), 'keel-cli-enc-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function* chunks(data: Uint8Array, size: number): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < data.length; i += size) yield data.subarray(i, i + size);
}
const io = (stdin?: Uint8Array): Io => ({
  out: () => undefined,
  err: () => undefined,
  ...(stdin === undefined ? {} : { stdin: chunks(stdin, 64 * 1024) }),
});

async function refused(p: Promise<unknown>): Promise<CommandError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof CommandError) return err;
    throw err;
  }
  throw new Error('expected a CommandError');
}

describe('value encodings', () => {
  it('decodes text as its UTF-8 bytes, base64 and hex strictly, ignoring whitespace', () => {
    expect(decodeText('é', Encoding.Text)).toEqual(bytes(0xc3, 0xa9));
    expect(decodeText('AP8B', Encoding.Base64)).toEqual(bytes(0, 255, 1));
    expect(decodeText('AP\n8B\n', Encoding.Base64)).toEqual(bytes(0, 255, 1));
    expect(decodeText('00 ff 01', Encoding.Hex)).toEqual(bytes(0, 255, 1));
    expect(decodeText('', Encoding.Base64)).toEqual(bytes());
    for (const bad of ['AP8', 'AP8B=', 'A*8B', 'AP==AP8B']) {
      expect(() => decodeText(bad, Encoding.Base64), bad).toThrow(EncodingError);
    }
    for (const bad of ['0', 'zz', '00f'])
      expect(() => decodeText(bad, Encoding.Hex), bad).toThrow(EncodingError);
  });

  it('round-trips every byte value through base64 and hex', () => {
    for (const e of [Encoding.Base64, Encoding.Hex]) {
      expect(decodeText(encodeText(all256, e), e)).toEqual(all256);
      expect(decodeBytes(new TextEncoder().encode(encodeText(all256, e)), e)).toEqual(all256);
    }
    expect(decodeBytes(all256, Encoding.Text)).toBe(all256);
  });

  it('tells UTF-8 text from other bytes, keeping a leading BOM', () => {
    expect(utf8(bytes(0x61, 0x09, 0x0a, 0x00))).toBe('a\t\n\u0000');
    expect(utf8(bytes(0xef, 0xbb, 0xbf, 0x61))).toBe('\ufeffa');
    expect(utf8(bytes(0x00, 0xff, 0x01))).toBeNull();
    expect(utf8(bytes(0xc3))).toBeNull(); // a sequence cut short
  });

  it('JSON: a string when UTF-8, else base64 with its encoding named; or the encoding asked for', () => {
    expect(jsonBytes(bytes(0x61), Encoding.Text)).toEqual({ text: 'a', encoding: null });
    expect(jsonBytes(bytes(0, 255, 1), Encoding.Text)).toEqual({ text: 'AP8B', encoding: 'base64' });
    expect(jsonBytes(bytes(0x61), Encoding.Hex)).toEqual({ text: '61', encoding: 'hex' });
    const kv = { key: bytes(0x6b), value: all256, version: 2, createRevision: 3, modRevision: 4 };
    const doc = JSON.parse(JSON.stringify(kvJson(kv, { key: 'text', value: 'text' })));
    expect(doc).toEqual({
      key: 'k',
      value: Buffer.from(all256).toString('base64'),
      valueEncoding: 'base64',
      version: 2,
      createRevision: 3,
      modRevision: 4,
    });
    expect(new Uint8Array(Buffer.from(doc.value, 'base64'))).toEqual(all256);
    const binKey = kvJson({ ...kv, key: bytes(0xff), value: bytes(0x61) }, { key: 'text', value: 'text' });
    expect(binKey).toMatchObject({ key: '/w==', keyEncoding: 'base64', value: 'a' });
    expect(binKey).not.toHaveProperty('valueEncoding');
  });

  it('human output: bytes as they are, or their encoding', () => {
    expect(humanBytes(all256, Encoding.Text)).toBe(all256);
    expect(new TextDecoder().decode(humanBytes(bytes(0, 255), Encoding.Hex))).toBe('00ff');
  });
});

describe('reading a value', () => {
  it('reads stdin up to one byte past the cap, then stops', async () => {
    let pulled = 0;
    async function* endless(): AsyncGenerator<Uint8Array> {
      for (;;) {
        pulled++;
        yield new Uint8Array(1000);
      }
    }
    const got = await readCapped(endless(), 2500);
    expect(got.length).toBe(2501);
    expect(pulled).toBe(3);
  });

  it('takes a 8 MiB value of every byte value from stdin and a file; refuses one byte more (exit 2)', async () => {
    const value = Uint8Array.from({ length: 8 * MiB }, (_v, i) => i % 256);
    expect(same(await readValue('-', undefined, Encoding.Text, io(value)), value)).toBe(true);
    const path = join(dir, 'v.bin');
    writeFileSync(path, value);
    expect(same(await readValue(undefined, path, Encoding.Text, io()), value)).toBe(true);

    const over = new Uint8Array(8 * MiB + 1);
    const e1 = await refused(readValue('-', undefined, Encoding.Text, io(over)));
    expect(e1.exitCode).toBe(ExitCode.Usage);
    expect(e1.message).toBe(
      "the value from standard input is more than 8388608 bytes (8 MiB), the store's limit for one value",
    );
    writeFileSync(path, over);
    expect((await refused(readValue(undefined, path, Encoding.Text, io()))).message).toContain(
      `the value from --file ${path} is more than 8388608 bytes`,
    );
    // The limit applies to the decoded bytes.
    const b64 = new TextEncoder().encode(Buffer.from(over).toString('base64'));
    expect((await refused(readValue('-', undefined, Encoding.Base64, io(b64)))).message).toContain(
      'is more than 8388608 bytes',
    );
    const ok64 = new TextEncoder().encode(Buffer.from(value).toString('base64'));
    expect(same(await readValue('-', undefined, Encoding.Base64, io(ok64)), value)).toBe(true);
  });

  it('names a bad encoding or an unreadable file in one line', async () => {
    expect((await refused(readValue('AP8', undefined, Encoding.Base64, io()))).message).toBe(
      "value 'AP8' is not valid base64 (A-Z a-z 0-9 + /, padded with =)",
    );
    expect((await refused(readValue(undefined, join(dir, 'nope'), Encoding.Text, io()))).message).toBe(
      `cannot read --file ${join(dir, 'nope')}: ENOENT`,
    );
  });
});

describe('arguments', () => {
  it('incr takes a negative delta as an argument, not an option', () => {
    expect(parse('incr', ['n', '-3']).positionals).toEqual(['n', '-3']);
    expect(() => parse('incr', ['n', '-x'])).toThrow(/unknown option '-x' for 'incr'/);
  });
});
