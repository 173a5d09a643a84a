import type { KvClient } from '@keel/kv';
import { ExitCode, type Io } from '../../io.js';
import { usage } from './errors.js';
import { decodeArg } from './input.js';
import { keyEncoding, type Parsed, positionals } from './options.js';

/** `incr <key> [delta]`: adds delta (default 1, may be negative) and prints the new value. */
export async function incr(kv: KvClient, p: Parsed, io: Io): Promise<ExitCode> {
  const { values } = p;
  const names = p.positionals.length > 1 ? ['<key>', '[delta]'] : ['<key>'];
  const [key, d] = positionals('incr', p, names) as [string, string | undefined];
  let delta = 1;
  if (d !== undefined) {
    delta = Number(d);
    if (!/^-?\d+$/.test(d) || !Number.isSafeInteger(delta))
      throw usage(`delta must be an integer within ±(2^53-1), got '${d}'`);
  }
  const r = await kv.incr(decodeArg(key, keyEncoding(values), 'key'), delta);
  if (values.json === true) io.out(JSON.stringify(r));
  if (!r.ok) {
    io.err(`keel incr: '${key}' is not changed: ${r.message}`);
    return ExitCode.Failure;
  }
  if (values.json !== true) io.out(String(r.value));
  return ExitCode.Ok;
}
