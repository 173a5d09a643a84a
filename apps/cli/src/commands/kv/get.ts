import type { KvClient } from '@keel/kv';
import { ExitCode, type Io } from '../../io.js';
import { usage } from './errors.js';
import { decodeArg } from './input.js';
import { consistencyOf, printCount, printRange, showOf, spellingOf } from './listing.js';
import { keyEncoding, type Parsed, positionals, revisionOf } from './options.js';
import { keyJson, kvJson, printItem } from './output.js';

/**
 * `get <key>`: the value; a missing key prints nothing on stdout and exits 1. `get --prefix <p>`:
 * every key under the prefix, as `scan` prints them.
 */
export async function get(kv: KvClient, p: Parsed, io: Io): Promise<ExitCode> {
  const { values } = p;
  if (typeof values.prefix === 'string') {
    if (values.rev !== undefined) throw usage('--rev goes with a single key, not --prefix');
    positionals('get', p, []);
    return printRange(kv, { prefix: decodeArg(values.prefix, keyEncoding(values), '--prefix') }, values, io);
  }
  if (values.limit !== undefined) throw usage('--limit goes with --prefix (a single key is one item)');
  const [key] = positionals('get', p, ['<key>']) as [string];
  const show = showOf(values);
  const spelling = spellingOf(values);
  const json = values.json === true;
  const k = decodeArg(key, spelling.key, 'key');
  const r =
    values.rev === undefined
      ? await kv.get(k, { consistency: consistencyOf(values) })
      : await kv.getAt(k, revisionOf(values.rev) ?? 1, { consistency: consistencyOf(values) });
  if (!r.ok) {
    // compacted (older than the answering member's history) or a future revision.
    io.err(`keel get: ${r.message} [${r.code}]`);
    return ExitCode.Failure;
  }
  if (show === 'count') {
    printCount(io, r.kv === null ? 0 : 1, json);
    return ExitCode.Ok;
  }
  if (r.kv === null) {
    io.err(`keel get: ${JSON.stringify(key)} not found`);
    return ExitCode.Failure;
  }
  if (json) io.out(JSON.stringify(show === 'keys' ? keyJson(r.kv.key, spelling) : kvJson(r.kv, spelling)));
  else printItem(io, r.kv, spelling, show === 'keys' ? 'key' : 'value');
  return ExitCode.Ok;
}
