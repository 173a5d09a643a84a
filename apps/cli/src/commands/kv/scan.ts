import type { KvClient, ScanRangeInput } from '@keel/kv';
import type { ExitCode, Io } from '../../io.js';
import { usage } from './errors.js';
import { decodeArg } from './input.js';
import { printRange } from './listing.js';
import { keyEncoding, type Parsed, positionals } from './options.js';

/** `scan [--prefix <p> | --start <a> [--end <b>]]`: keys in byte order (default: every key). */
export async function scan(kv: KvClient, p: Parsed, io: Io): Promise<ExitCode> {
  positionals('scan', p, []);
  const { values } = p;
  const { prefix, start, end } = values;
  if (typeof prefix === 'string' && (start !== undefined || end !== undefined)) {
    throw usage('use --prefix or --start/--end, not both');
  }
  const enc = keyEncoding(values);
  const range: ScanRangeInput =
    typeof prefix === 'string'
      ? { prefix: decodeArg(prefix, enc, '--prefix') }
      : {
          start: typeof start === 'string' ? decodeArg(start, enc, '--start') : new Uint8Array(),
          end: typeof end === 'string' ? decodeArg(end, enc, '--end') : null,
        };
  return printRange(kv, range, values, io);
}
