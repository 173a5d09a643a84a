import { claimedLeader, fetchMetrics, fetchStatus, type MemberStatus } from '@keel/ops';
import { histogramTotals, meanMsBetween } from './metrics.js';
import type { Timeline } from './Timeline.js';
import type { ClusterSource, MemberRef, MemberView, Snapshot } from './types.js';

type Totals = { sum: number; count: number } | null;

interface MemberTrack {
  /** Applied index a second ago, for ops/s. */
  applied: { at: number; index: number; pid: number | null } | null;
  opsPerSec: number | null;
  fsync: Totals;
  commit: Totals;
  fsyncMs: number | null;
  commitMs: number | null;
  state: string | null;
}

export type WatchSnapshot = Pick<
  Snapshot,
  'members' | 'leader' | 'term' | 'leaderlessSince' | 'conf' | 'replication'
>;

/**
 * Reads the cluster: every poll asks each member with an admin endpoint for `/status` (in
 * parallel, each bounded by `timeoutMs`), about once a second for `/metrics` too, and records in
 * the timeline what changed: a new leader (and how long the cluster went without one), a member
 * whose process state changed.
 */
export class ClusterWatch {
  private readonly tracks = new Map<string, MemberTrack>();
  private leader: string | null = null;
  private leaderTerm: number | null = null;
  private leaderlessSince: number | null = null;
  /** When a poll first saw no leader after one had led; null while one leads (or none has yet). */
  private lostLeaderAt: number | null = null;
  private lastMetricsAt = 0;
  private first = true;

  constructor(
    private readonly source: ClusterSource,
    private readonly timeline: Timeline,
    private readonly timeoutMs = 300,
  ) {}

  /**
   * `quiet`: members an action is working on right now; their process state changes are not
   * logged until it is done (a SIGKILL shows the process gone a moment before the launcher
   * records it stopped: the action's own entry says what happened).
   */
  async poll(quiet: ReadonlySet<string> = new Set()): Promise<WatchSnapshot> {
    const refs = await this.source.members();
    const asked = Date.now();
    const metricsDue = asked - this.lastMetricsAt >= 1000;
    if (metricsDue) this.lastMetricsAt = asked;
    const answers = await Promise.all(
      refs.map(async (m) => {
        if (m.http === null || m.state !== 'running') return { m, status: null, metrics: null };
        const [status, metrics] = await Promise.all([
          fetchStatus(m.http, this.timeoutMs),
          metricsDue ? fetchMetrics(m.http, this.timeoutMs) : Promise.resolve(null),
        ]);
        return { m, status, metrics };
      }),
    );
    // The time of the answers, not of the question: an answer may take up to timeoutMs.
    const now = Date.now();
    const claimed = claimedLeader(answers.map((a) => a.status));
    const leader = claimed === null ? null : (answers[claimed]?.status ?? null);
    this.noteLeader(leader, now);
    const members = answers.map((a) => this.view(a.m, a.status, a.metrics, leader, now, quiet.has(a.m.id)));
    const terms = answers.flatMap((a) => (a.status === null ? [] : [a.status.term]));
    this.first = false;
    return {
      members,
      leader: leader?.id ?? null,
      term: terms.length > 0 ? Math.max(...terms) : null,
      leaderlessSince: this.leaderlessSince,
      conf: leader?.conf ?? null,
      replication: leader?.peers ?? [],
    };
  }

  private noteLeader(leader: MemberStatus | null, now: number): void {
    const id = leader?.id ?? null;
    const term = leader?.term ?? null;
    if (id === this.leader && term === this.leaderTerm) return;
    if (id === null) {
      this.leaderlessSince = now;
      // At start-up the cluster may simply not have elected anyone yet: nothing was lost.
      if (!this.first) {
        this.lostLeaderAt = now;
        this.timeline.add({ at: now, kind: 'no-leader', text: `no leader (was ${this.leader})`, bad: true });
      }
    } else {
      // How long the cluster went without a leader, when a poll saw it without one; else the
      // leader this one followed directly (the election fell between two polls).
      const gap =
        this.leader !== null
          ? ` (after ${this.leader} in term ${this.leaderTerm})`
          : this.lostLeaderAt !== null
            ? `, ${now - this.lostLeaderAt} ms without a leader`
            : '';
      this.timeline.add({ at: now, kind: 'leader', text: `${id} leads in term ${term}${gap}` });
      this.leaderlessSince = null;
      this.lostLeaderAt = null;
    }
    this.leader = id;
    this.leaderTerm = term;
  }

  private view(
    m: MemberRef,
    s: MemberStatus | null,
    metrics: string | null,
    leader: MemberStatus | null,
    now: number,
    quiet: boolean,
  ): MemberView {
    let t = this.tracks.get(m.id);
    if (t === undefined) {
      t = {
        applied: null,
        opsPerSec: null,
        fsync: null,
        commit: null,
        fsyncMs: null,
        commitMs: null,
        state: null,
      };
      this.tracks.set(m.id, t);
    }
    if (quiet) {
      // keep t.state: the change is logged once the action is over
    } else if (t.state !== null && t.state !== m.state) {
      const bad = m.state === 'down';
      this.timeline.add({
        at: now,
        kind: 'member',
        text: `${m.id} is ${m.state}${m.pid ? ` (pid ${m.pid})` : ''}`,
        bad,
      });
    }
    if (!quiet) t.state = m.state;
    if (s !== null) {
      // ops/s over about a second: a 100 ms window would jitter with every batch.
      if (t.applied === null || t.applied.pid !== m.pid || s.appliedIndex < t.applied.index) {
        t.applied = { at: now, index: s.appliedIndex, pid: m.pid };
      } else if (now - t.applied.at >= 1000) {
        t.opsPerSec = Math.round(((s.appliedIndex - t.applied.index) * 1000) / (now - t.applied.at));
        t.applied = { at: now, index: s.appliedIndex, pid: m.pid };
      }
    } else {
      t.applied = null;
      t.opsPerSec = null;
    }
    if (metrics !== null) {
      const fsync = histogramTotals(metrics, 'keel_disk_wal_fsync_duration_seconds');
      const commit = histogramTotals(metrics, 'keel_commit_latency_seconds');
      t.fsyncMs = meanMsBetween(t.fsync, fsync);
      t.commitMs = meanMsBetween(t.commit, commit);
      t.fsync = fsync;
      t.commit = commit;
    } else if (s === null) {
      t.fsync = t.commit = null;
      t.fsyncMs = t.commitMs = null;
    }
    return {
      id: m.id,
      pid: m.pid,
      state: m.state,
      reachable: s !== null,
      isolated: s?.isolated === true,
      role: s?.role ?? null,
      term: s?.term ?? null,
      leader: s?.leader ?? null,
      commitIndex: s?.commitIndex ?? null,
      appliedIndex: s?.appliedIndex ?? null,
      lastIndex: s?.lastIndex ?? null,
      lag: leader !== null && s !== null ? Math.max(0, leader.lastIndex - s.appliedIndex) : null,
      opsPerSec: t.opsPerSec,
      fsyncMs: round(t.fsyncMs),
      commitMs: round(t.commitMs),
      http: m.http,
      client: m.client,
    };
  }
}

function round(v: number | null): number | null {
  return v === null ? null : Math.round(v * 100) / 100;
}
