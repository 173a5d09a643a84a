import type { ServerResponse } from 'node:http';
import type { StoredSnapshot } from '@keel/core';

/** What `GET /snapshot` needs of the member. */
export interface SnapshotSource {
  readonly id: string;
  /** The latest snapshot saved on disk (meta and bytes), or null before the first. */
  latestSnapshot(): StoredSnapshot | null;
  /** Starts a snapshot of the applied state (false: nothing new since the last one, or one is under way). */
  takeSnapshot(): boolean;
  /** Resolves once the state holds every write committed before the call (ReadIndex): the applied index then. */
  readBarrier(): Promise<number>;
  /** The member's cluster id. */
  status(): { readonly clusterId: string };
}

/** How long `GET /snapshot?fresh=1` waits for the snapshot it asked for. */
export const FRESH_SNAPSHOT_TIMEOUT_MS = 120_000;
const POLL_MS = 25;

function fail(res: ServerResponse, status: number, message: string): void {
  res
    .writeHead(status, { 'content-type': 'application/json' })
    .end(`${JSON.stringify({ ok: false, message })}\n`);
}

/**
 * `GET /snapshot`: the member's latest saved snapshot, streamed. With `fresh=1` the member first
 * makes sure it has applied every write committed before the request (a ReadIndex read, §6.4, so
 * a lagging follower catches up and a partitioned one refuses with 503 rather than serve an old
 * state), snapshots that state (or waits for one under way) and streams a snapshot at that index
 * or later: a backup holds every write acknowledged before it was asked for. Either way the bytes are the state machine's state at one
 * applied index, never a mix: the snapshot store keeps each snapshot whole in memory, and a newer
 * one replaces the reference, not the bytes being sent. The meta rides in headers:
 * `x-keel-snapshot-index`, `x-keel-snapshot-term`, `x-keel-cluster-id`, `x-keel-member`,
 * `x-keel-snapshot-voters` (comma-separated). 404: no snapshot yet; 503: the fresh one did not come
 * within FRESH_SNAPSHOT_TIMEOUT_MS.
 */
export async function serveSnapshot(
  res: ServerResponse,
  member: SnapshotSource,
  fresh: boolean,
  timeoutMs = FRESH_SNAPSHOT_TIMEOUT_MS,
): Promise<void> {
  let snap = member.latestSnapshot();
  if (fresh) {
    let target: number;
    try {
      target = await member.readBarrier();
    } catch (err) {
      fail(res, 503, `cannot confirm this member holds every committed write: ${(err as Error).message}`);
      return;
    }
    const deadline = performance.now() + timeoutMs;
    while (snap === null || snap.meta.index < target) {
      if (performance.now() > deadline) {
        fail(res, 503, `no snapshot at index ${target} or later within ${timeoutMs} ms`);
        return;
      }
      // Refused while one is under way (it may be older than `target`: ask again once it is saved).
      member.takeSnapshot();
      await new Promise((r) => setTimeout(r, POLL_MS));
      snap = member.latestSnapshot();
    }
  }
  if (snap === null) {
    fail(res, 404, 'this member has no snapshot yet; ask for a fresh one with ?fresh=1');
    return;
  }
  let length = 0;
  for (const c of snap.chunks) length += c.length;
  res.writeHead(200, {
    'content-type': 'application/octet-stream',
    'content-length': String(length),
    'x-keel-snapshot-index': String(snap.meta.index),
    'x-keel-snapshot-term': String(snap.meta.term),
    'x-keel-snapshot-voters': snap.meta.conf.voters.join(','),
    'x-keel-cluster-id': member.status().clusterId,
    'x-keel-member': member.id,
  });
  for (const c of snap.chunks) {
    if (res.destroyed) return;
    if (!res.write(c)) {
      await new Promise<void>((r) => {
        res.once('drain', r);
        res.once('close', r);
      });
    }
  }
  res.end();
}
