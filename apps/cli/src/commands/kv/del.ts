import type { KvClient } from '@keel/kv';
import { ExitCode, type Io } from '../../io.js';
import { humanBytes } from './encoding.js';
import { usage } from './errors.js';
import { decodeArg } from './input.js';
import { showOf, spellingOf } from './listing.js';
import { keyEncoding, limitOf, type Parsed, positionals, type Values } from './options.js';
import { keyJson, printLine, type Spelling } from './output.js';

/**
 * `del <key>` or `del --prefix <p> [--limit n]`: prints how many keys it deleted (0 is not an
 * error), or with `--keys-only` the deleted keys.
 */
export async function del(kv: KvClient, p: Parsed, io: Io): Promise<ExitCode> {
  const { values } = p;
  if (typeof values.prefix === 'string') {
    positionals('del', p, []);
    return delPrefix(kv, decodeArg(values.prefix, keyEncoding(values), '--prefix'), values, io);
  }
  if (values.limit !== undefined) throw usage('--limit goes with --prefix (a single key is one item)');
  const [key] = positionals('del', p, ['<key>']) as [string];
  const k = decodeArg(key, keyEncoding(values), 'key');
  const r = await kv.delete(k);
  const spelling = spellingOf(values);
  if (showOf(values) === 'keys') {
    if (r.deleted) printKey(io, k, spelling, values.json === true);
  } else
    io.out(values.json === true ? JSON.stringify({ deleted: r.deleted ? 1 : 0 }) : r.deleted ? '1' : '0');
  return ExitCode.Ok;
}

/**
 * Not one atomic operation: the range is read page by page and each key is deleted by a `cas` on
 * the version that was read, so a key written after it was read is left alone (counted as
 * skipped), never deleted unseen. Keys added behind the cursor meanwhile are not visited.
 */
async function delPrefix(kv: KvClient, prefix: Uint8Array, values: Values, io: Io): Promise<ExitCode> {
  const limit = limitOf(values);
  const keysOnly = showOf(values) === 'keys';
  const spelling = spellingOf(values);
  const json = values.json === true;
  let seen = 0;
  let deleted = 0;
  let skipped = 0;
  for await (const page of kv.scanPages({ prefix }, { limit: Math.min(1000, limit) })) {
    for (const item of page.items) {
      if (seen >= limit) break;
      seen++;
      const r = await kv.cas(item.key, { version: item.version }, null);
      if (!r.ok) {
        skipped++;
        continue;
      }
      deleted++;
      if (keysOnly) printKey(io, item.key, spelling, json);
    }
    if (seen >= limit) break;
  }
  if (!keysOnly) io.out(json ? JSON.stringify({ deleted, skipped }) : String(deleted));
  if (skipped > 0) io.err(`keel del: ${skipped} key(s) changed after they were read; left as they are`);
  return ExitCode.Ok;
}

function printKey(io: Io, key: Uint8Array, spelling: Spelling, json: boolean): void {
  if (json) io.out(JSON.stringify(keyJson(key, spelling)));
  else printLine(io, [humanBytes(key, spelling.key)]);
}
