import type { KvClient } from '@keel/kv';
import type { PeerStatus } from '@keel/ops';

/**
 * How the launcher sees a member: what the dashboard cannot learn from the member itself (its
 * process state while it is paused or stopped answers nothing).
 */
export const ProcessState = {
  Running: 'running',
  Paused: 'paused',
  Stopped: 'stopped',
  /** Recorded as running, but its process is gone (crashed, or killed from outside). */
  Down: 'down',
} as const;
export type ProcessState = (typeof ProcessState)[keyof typeof ProcessState];

/** One member as the cluster's launcher records it. */
export interface MemberRef {
  readonly id: string;
  /** Admin HTTP endpoint `host:port` (`/status`, `/metrics`); null: none. */
  readonly http: string | null;
  /** Client endpoint `host:port`. */
  readonly client: string | null;
  readonly pid: number | null;
  readonly state: ProcessState;
}

/** The port the dashboard reads the cluster through (apps/cli implements it over its cluster file). */
export interface ClusterSource {
  /** A name for the page's title (the cluster directory). */
  readonly name: string;
  /** The members now; called on every poll (~10 Hz), so it must be cheap. */
  members(): Promise<readonly MemberRef[]> | readonly MemberRef[];
}

/** What an action answers: shown on the page and logged in the timeline. */
export interface ActionResult {
  readonly ok: boolean;
  readonly message: string;
}

/**
 * The operations the page offers, each the same as a CLI command (the port apps/cli implements).
 * A missing one is not offered. They may take seconds (a graceful stop, a leader transfer).
 */
export interface DashboardActions {
  kill?(id: string): Promise<ActionResult>;
  stop?(id: string): Promise<ActionResult>;
  restart?(id: string): Promise<ActionResult>;
  pause?(id: string): Promise<ActionResult>;
  resume?(id: string): Promise<ActionResult>;
  /** Cut the member off from its peers (both ways), as a network partition would; `heal` undoes it. */
  isolate?(id: string): Promise<ActionResult>;
  heal?(id: string): Promise<ActionResult>;
  transferLeader?(id: string): Promise<ActionResult>;
  addMember?(learner: boolean): Promise<ActionResult>;
  removeMember?(id: string): Promise<ActionResult>;
}

/** The part of `KvClient` the write load and the put/get console use. */
export type DashboardKv = Pick<KvClient, 'put' | 'get' | 'close' | 'watch'>;

/** The console's watch: what it follows and its newest events (text, as the console shows them). */
export interface WatchView {
  readonly key: string;
  readonly prefix: boolean;
  /** Events received since it started (more than `events` holds once it overflows). */
  readonly count: number;
  /** Every event up to this revision has arrived; null before the first answer. */
  readonly revision: number | null;
  readonly events: readonly {
    readonly type: 'put' | 'delete';
    readonly key: string;
    /** null for a delete. */
    readonly value: string | null;
    readonly revision: number;
  }[];
  /** Why the watch ended (`compacted`, no member reachable), or null while it runs. */
  readonly error: string | null;
}

/** The few log lines the dashboard writes (pino's shape, so a pino logger fits). */
export interface DashboardLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
}

/** One member as the page shows it. */
export interface MemberView {
  readonly id: string;
  readonly pid: number | null;
  readonly state: ProcessState;
  /** The member answered its last `/status`. */
  readonly reachable: boolean;
  /** Cut off from its peers by fault injection (its `/status` says so). */
  readonly isolated: boolean;
  readonly role: string | null;
  readonly term: number | null;
  readonly leader: string | null;
  readonly commitIndex: number | null;
  readonly appliedIndex: number | null;
  readonly lastIndex: number | null;
  /** Leader's last index minus this member's applied index. */
  readonly lag: number | null;
  /** Applied entries per second over the last second. */
  readonly opsPerSec: number | null;
  /** Mean fsync and commit latency over the last metrics interval (~1 s), milliseconds. */
  readonly fsyncMs: number | null;
  readonly commitMs: number | null;
  readonly http: string | null;
  readonly client: string | null;
}

export interface TimelineEvent {
  /** Milliseconds since the epoch. */
  readonly at: number;
  readonly kind: 'leader' | 'no-leader' | 'member' | 'action' | 'load';
  readonly text: string;
  /** An action that failed, a member that went down. */
  readonly bad?: boolean;
}

export interface LoadPoint {
  readonly at: number;
  readonly writesPerSec: number;
  readonly p50Ms: number | null;
  readonly p99Ms: number | null;
}

export interface LoadView {
  readonly running: boolean;
  readonly rate: number;
  readonly concurrency: number;
  readonly ok: number;
  readonly failed: number;
  readonly writesPerSec: number;
  readonly p50Ms: number | null;
  readonly p99Ms: number | null;
  /** The last minute, one point a second (also while idle, so the chart shows the stop). */
  readonly history: readonly LoadPoint[];
  readonly lastError: string | null;
}

/** Everything the page draws, pushed on every change (and at least once a second). */
export interface Snapshot {
  readonly at: number;
  readonly name: string;
  readonly leader: string | null;
  readonly term: number | null;
  /** Since when no member has led (epoch ms); null while one leads. */
  readonly leaderlessSince: number | null;
  readonly members: readonly MemberView[];
  /** The leader's view of its configuration and of each follower's replication. */
  readonly conf: { readonly voters: readonly string[]; readonly learners: readonly string[] } | null;
  readonly replication: readonly PeerStatus[];
  readonly timeline: readonly TimelineEvent[];
  readonly load: LoadView;
  /** The actions this dashboard offers (`kill`, `transfer-leader`, ...) and whether put/get works. */
  readonly actions: readonly string[];
  readonly kv: boolean;
  /** The console's watch, if one was started. */
  readonly watch: WatchView | null;
}
