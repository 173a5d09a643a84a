import type { CasExpectInput, KvClient } from '@keel/kv';
import { ExitCode, type Io } from '../../io.js';
import { encodeText, utf8 } from './encoding.js';
import { usage } from './errors.js';
import { decodeArg, readValue } from './input.js';
import { spellingOf } from './listing.js';
import { type Parsed, positionals } from './options.js';
import { kvJson } from './output.js';

/**
 * `cas <key> <expected> <new>`, `--absent`, `--version <n>`; `<new>` may be `-` (stdin) or
 * replaced by `--file <path>`. A failed comparison writes nothing and exits 1.
 */
export async function cas(kv: KvClient, p: Parsed, io: Io): Promise<ExitCode> {
  const { values } = p;
  const file = typeof values.file === 'string' ? values.file : undefined;
  if (values.absent === true && values.version !== undefined)
    throw usage('use --absent or --version, not both');
  const byValue = values.absent !== true && values.version === undefined;
  const names = ['<key>', ...(byValue ? ['<expected>'] : []), ...(file === undefined ? ['<new>'] : [])];
  const args = positionals('cas', p, names);
  const spelling = spellingOf(values);
  const key = args[0] as string;
  let expect: CasExpectInput;
  let describe: string;
  if (values.absent === true) {
    expect = { value: null };
    describe = 'absent';
  } else if (typeof values.version === 'string') {
    if (!/^\d+$/.test(values.version)) throw usage(`--version must be an integer, got '${values.version}'`);
    expect = { version: Number(values.version) };
    describe = `version ${values.version}`;
  } else {
    expect = { value: decodeArg(args[1] as string, spelling.value, '<expected>') };
    describe = `'${args[1]}'`;
  }
  const k = decodeArg(key, spelling.key, 'key');
  const v = await readValue(byValue ? args[2] : args[1], file, spelling.value, io);
  const r = await kv.cas(k, expect, v);
  if (values.json === true) {
    io.out(
      JSON.stringify(r.ok ? r : { ...r, current: r.current === null ? null : kvJson(r.current, spelling) }),
    );
    return r.ok ? ExitCode.Ok : ExitCode.Failure;
  }
  if (r.ok) {
    io.out('OK');
    return ExitCode.Ok;
  }
  const current = r.current;
  const now =
    current === null ? 'absent' : `${quoted(current.value, spelling.value)} (version ${current.version})`;
  io.err(`keel cas: comparison failed, nothing written: '${key}' is ${now}, expected ${describe}`);
  return ExitCode.Failure;
}

/** A value in a one-line message: quoted text, or its encoding when it is not (or not asked as) text. */
function quoted(bytes: Uint8Array, encoding: 'text' | 'base64' | 'hex'): string {
  const text = encoding === 'text' ? utf8(bytes) : null;
  if (text !== null && !/[\n\r]/.test(text)) return `'${text}'`;
  const e = encoding === 'hex' ? 'hex' : 'base64';
  return `${e}:${encodeText(bytes, e)}`;
}
