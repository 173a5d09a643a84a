import { crc32 } from './crc32.js';
import type { KeyValue } from './results.js';

/**
 * One change to one key, as a watch delivers it. Every revision of the store is exactly one event:
 * a put (`kv` is the key as written) or a delete (`kv.value` is empty, `version` and
 * `createRevision` are 0, `modRevision` is the delete's revision). `prev` is the key before the
 * change (null when it did not exist); a watcher gets it only when it asked for previous values.
 */
export interface WatchEvent {
  readonly type: 'put' | 'delete';
  readonly kv: KeyValue;
  readonly prev: KeyValue | null;
}

/** What a watch follows: one key, or every key starting with `prefix` (empty: every key). */
export type WatchRange = { readonly key: Uint8Array } | { readonly prefix: Uint8Array };

/** Memory one event is charged in the history window and in a watcher's backlog (bytes held plus overhead). */
export function eventSize(e: WatchEvent): number {
  return 64 + e.kv.key.length + e.kv.value.length + (e.prev === null ? 0 : e.prev.value.length);
}

/** The revision an event happened at. */
export function eventRevision(e: WatchEvent): number {
  return e.kv.modRevision;
}

/**
 * A fingerprint of what a watch follows. A poll carries it, so a poll meant for a watch of a member
 * that restarted (watch ids start over) is never answered from another client's watch.
 */
export function watchTag(range: WatchRange, prevValue: boolean): number {
  const flags = ('prefix' in range ? 1 : 0) | (prevValue ? 2 : 0);
  return crc32('prefix' in range ? range.prefix : range.key, crc32(new Uint8Array([flags])));
}

export function rangeMatches(range: WatchRange, key: Uint8Array): boolean {
  if ('key' in range) {
    const k = range.key;
    if (k.length !== key.length) return false;
    for (let i = 0; i < k.length; i++) if (k[i] !== key[i]) return false;
    return true;
  }
  const p = range.prefix;
  if (key.length < p.length) return false;
  for (let i = 0; i < p.length; i++) if (p[i] !== key[i]) return false;
  return true;
}
