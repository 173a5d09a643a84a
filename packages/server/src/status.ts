import type { NodeId } from '@keel/core';

/**
 * `GET /status`: one member's view, as `keel status`, bench and chaos read it (through
 * `@keel/ops`'s reader-side copy of this type; apps/node/test/statusContract.test.ts keeps the two
 * the same document).
 */
export interface MemberStatus {
  readonly id: NodeId;
  readonly clusterId: string;
  readonly role: string;
  readonly term: number;
  readonly leader: NodeId | null;
  readonly commitIndex: number;
  readonly appliedIndex: number;
  readonly lastIndex: number;
  readonly peers: readonly {
    id: NodeId;
    match: number | null;
    next: number | null;
    state: string | null;
    connected: boolean;
    /** Milliseconds since a message from this peer last arrived; null: none yet. */
    lastContactMs: number | null;
  }[];
  readonly addresses: { readonly peer: string; readonly client: string; readonly http: string | null };
  readonly wal: { readonly fsyncs: number; readonly bytesWritten: number; readonly entriesPerFsync: number };
  readonly stats: { readonly proposals: number; readonly reads: number; readonly clientRequests: number };
  readonly pid: number;
  readonly uptimeMs: number;
  /**
   * The state machine's fingerprint (`/status?hash=1` only: it encodes the whole store, so it is
   * not computed for every poll): equal applied index and hash means equal stores.
   */
  readonly stateHash?: string;
  /** The configuration this member has: voters and learners. */
  readonly conf: { readonly voters: readonly NodeId[]; readonly learners: readonly NodeId[] };
  /** Cut off from every peer by fault injection (`POST /isolate`); absent from older members. */
  readonly isolated?: boolean;
  /** First index still in the WAL, and the latest snapshot's index (0: none). */
  readonly firstIndex: number;
  readonly snapshotIndex: number;
}
