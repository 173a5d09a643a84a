import type { KvClient, ReadConsistency, ScanRangeInput } from '@keel/kv';
import { ExitCode, type Io } from '../../io.js';
import { usage } from './errors.js';
import { keyEncoding, limitOf, type Values, valueEncoding } from './options.js';
import { keyJson, kvJson, printItem, type Spelling } from './output.js';

/** What get, scan and del print: every item, the keys alone, or only how many. */
export type Show = 'items' | 'keys' | 'count';

export function showOf(values: Values): Show {
  if (values['keys-only'] === true && values['count-only'] === true)
    throw usage('use --keys-only or --count-only, not both');
  return values['keys-only'] === true ? 'keys' : values['count-only'] === true ? 'count' : 'items';
}

export function spellingOf(values: Values): Spelling {
  return { key: keyEncoding(values), value: valueEncoding(values) };
}

export function consistencyOf(values: Values): ReadConsistency {
  return values.stale === true ? 'stale' : 'linearizable';
}

/**
 * Prints a range in key order as it arrives, page by page: `key<TAB>value` lines (or JSON lines
 * with `--json`), keys alone, or the count. An empty range prints nothing (the count: 0).
 */
export async function printRange(
  kv: KvClient,
  range: ScanRangeInput,
  values: Values,
  io: Io,
): Promise<ExitCode> {
  const limit = limitOf(values);
  const show = showOf(values);
  const spelling = spellingOf(values);
  const json = values.json === true;
  let n = 0;
  for await (const page of kv.scanPages(range, {
    consistency: consistencyOf(values),
    limit: Math.min(1000, limit),
  })) {
    for (const item of page.items) {
      if (n >= limit) break;
      n++;
      if (show === 'count') continue;
      if (json)
        io.out(JSON.stringify(show === 'keys' ? keyJson(item.key, spelling) : kvJson(item, spelling)));
      else printItem(io, item, spelling, show === 'keys' ? 'key' : 'both');
    }
    if (n >= limit) break;
  }
  if (show === 'count') printCount(io, n, json);
  return ExitCode.Ok;
}

export function printCount(io: Io, n: number, json: boolean): void {
  io.out(json ? JSON.stringify({ count: n }) : String(n));
}
