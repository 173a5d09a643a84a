import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Entry, EntryType } from '@keel/core';
import type { WalLogger } from '../src/index.js';

export async function tempDir(prefix = 'keel-wal-'): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** Deterministic payload of entry (index, term): a reader can check any entry without a model. */
export function payload(index: number, term: number, size = 24 + (index % 40)): Uint8Array {
  const b = new Uint8Array(size);
  let x = (index * 2654435761 + term * 40503) >>> 0;
  for (let i = 0; i < size; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    b[i] = x >>> 24;
  }
  return b;
}

/** Whether `data` is payload(index, term, size) for some size, compared without allocating. */
export function isPayload(data: Uint8Array, index: number, term: number, size = 24 + (index % 40)): boolean {
  if (data.byteLength !== size) return false;
  let x = (index * 2654435761 + term * 40503) >>> 0;
  for (let i = 0; i < size; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    if (data[i] !== x >>> 24) return false;
  }
  return true;
}

export function mkEntries(lo: number, hi: number, term: number, size?: number): Entry[] {
  const out: Entry[] = [];
  for (let i = lo; i < hi; i++)
    out.push({ index: i, term, type: 1 as EntryType, data: payload(i, term, size) });
  return out;
}

export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.byteLength === b.byteLength && Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(b);
}

export interface Logged {
  level: 'info' | 'warn' | 'error';
  obj: object;
  msg: string;
}

export function recordingLogger(): WalLogger & { logs: Logged[] } {
  const logs: Logged[] = [];
  return {
    logs,
    info: (obj, msg) => logs.push({ level: 'info', obj, msg }),
    warn: (obj, msg) => logs.push({ level: 'warn', obj, msg }),
    error: (obj, msg) => logs.push({ level: 'error', obj, msg }),
  };
}

/** Waits until `cond()` holds, polling on the event loop, or fails after `ms`. */
export async function waitFor(cond: () => boolean, ms = 10_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}
