/**
 * What a member's `GET /status` answers (JSON), field for field: the one description of that
 * document for every reader (the CLI's dashboard, the benchmarks, the chaos tool, tests). The
 * member's admin API writes it (`@keel/server`'s `MemberStatus`); a change there is a change here,
 * and apps/node/test/statusContract.test.ts fails until both say the same.
 */
export interface MemberStatus {
  readonly id: string;
  readonly clusterId: string;
  readonly role: string;
  readonly term: number;
  readonly leader: string | null;
  readonly commitIndex: number;
  readonly appliedIndex: number;
  readonly lastIndex: number;
  readonly peers: readonly PeerStatus[];
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
  readonly conf: { readonly voters: readonly string[]; readonly learners: readonly string[] };
  /** Cut off from every peer by fault injection (`POST /isolate`); absent from older members. */
  readonly isolated?: boolean;
  /** First index still in the WAL, and the latest snapshot's index (0: none). */
  readonly firstIndex: number;
  readonly snapshotIndex: number;
}

/** One other member as this member sees it: replication progress (leader only) and link state. */
export interface PeerStatus {
  readonly id: string;
  readonly match: number | null;
  readonly next: number | null;
  readonly state: string | null;
  readonly connected: boolean;
  /** Milliseconds since this member last heard from that one; null: never. */
  readonly lastContactMs?: number | null;
}

/**
 * The reply as a `MemberStatus` when its core fields have their types (role, term and the
 * indexes every reader relies on), else null: a stranger on the port, or a half-written reply,
 * counts as a member that did not answer.
 */
export function asMemberStatus(v: unknown): MemberStatus | null {
  if (typeof v !== 'object' || v === null) return null;
  const s = v as Record<string, unknown>;
  const num = (k: string): boolean => typeof s[k] === 'number';
  if (typeof s.id !== 'string' || typeof s.role !== 'string' || !num('term')) return null;
  if (!num('commitIndex') || !num('appliedIndex') || !num('lastIndex')) return null;
  if (s.leader !== null && typeof s.leader !== 'string') return null;
  return v as MemberStatus;
}
