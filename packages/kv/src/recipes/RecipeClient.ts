import type { KvClient } from '../KvClient.js';

/**
 * What the recipes use of a client: transactions, scans, watches and leases. `KvClient` is one;
 * the narrow type keeps the recipes honest about what they depend on.
 */
export type RecipeClient = Pick<
  KvClient,
  'txn' | 'scan' | 'watch' | 'grantLease' | 'revokeLease' | 'keepAlive'
>;

const encoder = new TextEncoder();

/** Bytes, or a string taken as its UTF-8 encoding. */
export type Bytes = string | Uint8Array;

export function toBytes(b: Bytes): Uint8Array {
  return typeof b === 'string' ? encoder.encode(b) : b;
}

/** Whether two byte strings are equal. */
export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** A name for keys: not empty, no trailing `/` (the recipes add `/` and the holder's lease). */
export function checkName(kind: string, name: string): string {
  if (typeof name !== 'string' || name.length === 0 || name.endsWith('/')) {
    throw new TypeError(
      `${kind} name must be a non-empty string not ending in '/', got ${JSON.stringify(name)}`,
    );
  }
  return name;
}
