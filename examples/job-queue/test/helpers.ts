import { type Entry, EntryType } from '@keel/core';
import { type Command, encodeCommand, type JobQueue, type JobResult } from '../src/index.js';

/** Applies `c` to `q` as the entry at `index`, as a member's driver would. */
export function applyAt(q: JobQueue, index: number, c: Command): JobResult {
  const entry: Entry = { index, term: 1, type: EntryType.Normal, data: encodeCommand(c) };
  return q.apply(entry);
}

/** A small deterministic PRNG for generated command sequences (mulberry32). */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const bytes = (s: string) => new TextEncoder().encode(s);
export const text = (b: Uint8Array) => new TextDecoder().decode(b);
