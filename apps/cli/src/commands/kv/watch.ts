import type { KvClient, WatchEvent } from '@keel/kv';
import { ExitCode, type Io } from '../../io.js';
import { humanBytes } from './encoding.js';
import { usage } from './errors.js';
import { decodeArg } from './input.js';
import { spellingOf } from './listing.js';
import { keyEncoding, type Parsed, positionals, revisionOf } from './options.js';
import { keyJson, kvJson, printLine, type Spelling } from './output.js';

const TAB = '\t';

/** `--limit <n>` for watch: stop after n events (default: watch until interrupted). */
function countOf(limit: string | boolean | undefined): number {
  if (typeof limit !== 'string') return Number.POSITIVE_INFINITY;
  if (!/^\d+$/.test(limit) || Number(limit) < 1)
    throw usage(`--limit must be a positive integer, got '${limit}'`);
  return Number(limit);
}

/**
 * One event in JSON: `{ type, revision, key, value, version, createRevision, modRevision }` (a
 * delete: no value, version 0), plus `prev` (the key before the change, or null) with `--prev`.
 */
function eventJson(e: WatchEvent, spelling: Spelling, prev: boolean): Record<string, unknown> {
  const base =
    e.type === 'put'
      ? kvJson(e.kv, spelling)
      : { ...keyJson(e.kv.key, spelling), version: 0, modRevision: e.kv.modRevision };
  return {
    type: e.type,
    revision: e.kv.modRevision,
    ...base,
    ...(prev ? { prev: e.prev === null ? null : kvJson(e.prev, spelling) } : {}),
  };
}

/**
 * `watch <key> | --prefix <p> [--rev N] [--limit N] [--prev] [--json]`: every change from revision
 * N (default: from now), one line each, in revision order, until interrupted or `--limit` events.
 * Human lines: `PUT<TAB>revision<TAB>key<TAB>value` or `DELETE<TAB>revision<TAB>key`.
 */
export async function watch(kv: KvClient, p: Parsed, io: Io): Promise<ExitCode> {
  const { values } = p;
  let target: Uint8Array;
  const prefix = typeof values.prefix === 'string';
  if (prefix) {
    positionals('watch', p, []);
    target = decodeArg(values.prefix as string, keyEncoding(values), '--prefix');
  } else {
    const [key] = positionals('watch', p, ['<key>']) as [string];
    target = decodeArg(key, keyEncoding(values), 'key');
  }
  const fromRevision = revisionOf(values.rev);
  const limit = countOf(values.limit);
  const spelling = spellingOf(values);
  const json = values.json === true;
  const prev = values.prev === true;
  let n = 0;
  const stream = kv.watch(target, {
    prefix,
    prevValue: prev,
    ...(fromRevision === undefined ? {} : { fromRevision }),
  });
  for await (const batch of stream) {
    for (const e of batch.events) {
      if (json) io.out(JSON.stringify(eventJson(e, spelling, prev)));
      else if (e.type === 'put') {
        const key = humanBytes(e.kv.key, spelling.key);
        printLine(io, [
          'PUT',
          TAB,
          String(e.kv.modRevision),
          TAB,
          key,
          TAB,
          humanBytes(e.kv.value, spelling.value),
        ]);
      } else {
        printLine(io, ['DELETE', TAB, String(e.kv.modRevision), TAB, humanBytes(e.kv.key, spelling.key)]);
      }
      if (++n >= limit) return ExitCode.Ok;
    }
  }
  return ExitCode.Ok;
}
