import type { KeyValue } from '../results.js';
import type { RecipeClient } from './RecipeClient.js';

/**
 * The queue under a lock or an election: every contender puts one key `<prefix><lease>` attached to
 * its lease, and the key's create revision is its place in line. The contender with the smallest
 * create revision holds the lock (leads); each other one waits for the deletion of the key just
 * ahead of it, so a release wakes one waiter, not all of them. A holder that crashes loses its key
 * when its lease expires.
 */

/** The contender's key, created with the lease unless it exists already, and its create revision. */
export async function enqueue(
  client: RecipeClient,
  key: Uint8Array,
  value: Uint8Array,
  lease: number,
): Promise<number> {
  const r = await client.txn({
    compare: [{ key, exists: false }],
    success: [{ put: key, value, lease }],
    failure: [{ get: key }],
  });
  if (r.succeeded) return r.revision;
  const got = r.results[0];
  if (got?.type === 'get' && got.kv !== null) return got.kv.createRevision;
  // Deleted between the compare and the get cannot happen (one revision); be explicit anyway.
  throw new Error(`the key of lease ${lease} vanished while it was being queued`);
}

/** Every key under `prefix` now, at one revision per page (continuation by key keeps it complete). */
async function contenders(
  client: RecipeClient,
  prefix: Uint8Array,
): Promise<{ items: KeyValue[]; revision: number }> {
  const items: KeyValue[] = [];
  let after: Uint8Array | undefined;
  let revision = 0;
  for (;;) {
    const page = await client.scan({ prefix }, after === undefined ? {} : { after });
    items.push(...page.items);
    revision = Math.max(revision, page.revision);
    if (!page.more || page.after === null) return { items, revision };
    after = page.after;
  }
}

/** The contender first in line (smallest create revision), or null when there is none. */
export async function firstInLine(
  client: RecipeClient,
  prefix: Uint8Array,
): Promise<{ kv: KeyValue | null; revision: number }> {
  const { items, revision } = await contenders(client, prefix);
  let first: KeyValue | null = null;
  for (const kv of items) if (first === null || kv.createRevision < first.createRevision) first = kv;
  return { kv: first, revision };
}

/**
 * Resolves once no key under `prefix` has a create revision below `mine`: the caller is first in
 * line. Keys created later only queue behind, and keys ahead can only go away, so a scan that sees
 * none ahead is final. Rejects with the signal's reason when `signal` aborts.
 */
export async function waitForTurn(
  client: RecipeClient,
  prefix: Uint8Array,
  mine: number,
  signal: AbortSignal,
): Promise<void> {
  for (;;) {
    signal.throwIfAborted();
    const { items, revision } = await contenders(client, prefix);
    let ahead: KeyValue | null = null;
    for (const kv of items) {
      if (kv.createRevision < mine && (ahead === null || kv.createRevision > ahead.createRevision))
        ahead = kv;
    }
    if (ahead === null) return;
    await waitForDelete(client, ahead, revision, signal);
  }
}

/** Waits until `kv` (as seen at `seenAt`) is deleted or replaced by a newer key of the same name. */
async function waitForDelete(
  client: RecipeClient,
  kv: KeyValue,
  seenAt: number,
  signal: AbortSignal,
): Promise<void> {
  for await (const batch of client.watch(kv.key, { fromRevision: seenAt + 1, signal })) {
    for (const e of batch.events) {
      if (e.type === 'delete' || e.kv.createRevision !== kv.createRevision) return;
    }
  }
  // The watch ends without an error only when `signal` aborted.
  signal.throwIfAborted();
}
