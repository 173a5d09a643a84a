import type { KvClient } from '@keel/kv';
import { ExitCode, type Io } from '../../io.js';
import { decodeArg, readValue } from './input.js';
import { keyEncoding, type Parsed, positionals, valueEncoding } from './options.js';

/** `put <key> <value>`, `put <key> -` (stdin), `put <key> --file <path>`. */
export async function put(kv: KvClient, p: Parsed, io: Io): Promise<ExitCode> {
  const { values } = p;
  const file = typeof values.file === 'string' ? values.file : undefined;
  const [key, arg] = positionals('put', p, file === undefined ? ['<key>', '<value>'] : ['<key>']) as [
    string,
    string | undefined,
  ];
  const k = decodeArg(key, keyEncoding(values), 'key');
  const v = await readValue(arg, file, valueEncoding(values), io);
  const r = await kv.put(k, v);
  io.out(values.json === true ? JSON.stringify(r) : 'OK');
  return ExitCode.Ok;
}
