import {
  changeInEffect,
  type MemberInfo as NodeMemberInfo,
  type MembersView as NodeMembersView,
  RETRYABLE_REFUSALS,
} from '@keel/node';
import { adminJson, sleep } from '@keel/ops';

/** What the client needs of a cluster: the members' HTTP endpoints and who says it leads. */
export interface LeaderLookup {
  readonly members: readonly { readonly id: string; readonly http: string }[];
  /** The index of the member that says it leads (highest term), or null. */
  leader(): Promise<number | null>;
}

/** The parts of a member in `GET /members` (apps/node's `MemberInfo`) that the nemesis reads. */
export type MemberInfo = Pick<NodeMemberInfo, 'id' | 'role' | 'match'>;

/** The parts of `GET /members` (the configuration as the answering member has it) read here. */
export interface MembersView extends Pick<NodeMembersView, 'id' | 'leader' | 'commitIndex'> {
  readonly members: readonly MemberInfo[];
}

/** One `POST /members` body: a single-server change. */
export type MemberChange =
  | { readonly action: 'remove'; readonly id: string }
  /** `force`: even a learner the leader finds behind (it refuses with learner-not-ready otherwise). */
  | { readonly action: 'promote'; readonly id: string; readonly force?: true }
  | {
      readonly action: 'add';
      readonly id: string;
      readonly peer: string;
      readonly client: string;
      readonly http: string;
      readonly learner: true;
    };

interface ChangeReply {
  readonly ok: boolean;
  readonly index?: number;
  readonly reason?: string;
  readonly message?: string;
}

/** What became of one change. */
export interface ChangeOutcome {
  readonly ok: boolean;
  /** The change's log index when the leader answered; null when only its view confirmed it. */
  readonly index: number | null;
  /** POSTs sent (retries after refusals, leader changes and unknown outcomes included). */
  readonly attempts: number;
  /** `at index 12`, `confirmed by n3's configuration (commit 40) after an unknown outcome`, or why it failed. */
  readonly detail: string;
}

/**
 * Refusals that a retry (later, or at another leader) can get past, and a leader that did not
 * answer; for the nemesis also a learner the leader finds still behind, which catches up meanwhile.
 */
const TRANSIENT = new Set([...RETRYABLE_REFUSALS, 'unreachable', 'learner-not-ready']);

/**
 * Membership changes on a chaos cluster through the members' HTTP admin endpoint, as `keel members`
 * makes them: find the leader (`/status`, then its `GET /members` to be sure it still leads), send
 * it one change, retry with bounded timeouts across refusals and leader changes, and when an
 * outcome is unknown (a timeout, a leader that lost office or removed itself) let the leader's
 * configuration tell. Changes are serialized here: the engine refuses a second pending one.
 */
export class MembershipClient {
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly cluster: LeaderLookup) {}

  /** The leader's id, HTTP endpoint and view, or null if none is found before `deadline` (performance.now()). */
  async leaderView(
    deadline: number,
  ): Promise<{ member: LeaderLookup['members'][number]; view: MembersView } | null> {
    for (;;) {
      const i = await this.cluster.leader();
      if (i !== null) {
        const member = this.cluster.members[i]!;
        const view = (await adminJson<MembersView>(member.http, '/members', 1000))?.json;
        if (view !== undefined && view.leader === view.id) return { member, view };
      }
      if (performance.now() >= deadline) return null;
      await sleep(100);
    }
  }

  /** Makes one change (after any earlier one finished), bounded by `timeoutMs`. */
  change(c: MemberChange, timeoutMs: number): Promise<ChangeOutcome> {
    const run = this.queue.then(() => this.attempt(c, performance.now() + timeoutMs));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async attempt(c: MemberChange, deadline: number): Promise<ChangeOutcome> {
    let attempts = 0;
    let last = 'no leader found';
    for (;;) {
      const leader = await this.leaderView(deadline);
      if (leader === null) return { ok: false, index: null, attempts, detail: `gave up: ${last}` };
      const { member, view } = leader;
      // Checked before the first attempt too: a change already in effect is not made twice.
      if (changeInEffect(view, c)) {
        const how = attempts === 0 ? 'already in effect' : 'confirmed after an unknown outcome';
        return {
          ok: true,
          index: null,
          attempts,
          detail: `${how} by ${member.id}'s configuration (commit ${view.commitIndex})`,
        };
      }
      attempts++;
      const r = (
        await adminJson<ChangeReply>(
          member.http,
          '/members',
          Math.min(10_000, Math.max(1000, deadline - performance.now())),
          c,
        )
      )?.json;
      if (r?.ok === true && r.index !== undefined) {
        return { ok: true, index: r.index, attempts, detail: `at index ${r.index} (leader ${member.id})` };
      }
      const reason = r === undefined ? 'unreachable' : (r.reason ?? 'unknown');
      last = `${member.id}: ${reason}${r?.message === undefined ? '' : ` (${r.message})`}`;
      if (!TRANSIENT.has(reason)) return { ok: false, index: null, attempts, detail: `refused by ${last}` };
      if (performance.now() >= deadline)
        return { ok: false, index: null, attempts, detail: `gave up: ${last}` };
      await sleep(100);
    }
  }

  /**
   * Waits until learner `id` holds what the leader had committed when the wait began (a busy
   * cluster's moving commit index cannot keep it waiting forever). Resolves with a note.
   */
  async waitCaughtUp(id: string, timeoutMs: number): Promise<{ ok: boolean; detail: string }> {
    const t0 = performance.now();
    const deadline = t0 + timeoutMs;
    let target: number | null = null;
    let match = 0;
    for (;;) {
      const leader = await this.leaderView(deadline);
      if (leader !== null) {
        target ??= leader.view.commitIndex;
        const m = leader.view.members.find((x) => x.id === id);
        if (m === undefined) return { ok: false, detail: `${id} is no longer a member` };
        match = m.match ?? 0;
        if (match >= target) {
          return {
            ok: true,
            detail: `${id} caught up to ${target} in ${Math.round(performance.now() - t0)} ms`,
          };
        }
      }
      if (performance.now() >= deadline) {
        return {
          ok: false,
          detail: `${id} did not catch up within ${timeoutMs} ms (${match} of ${target ?? 'no leader'})`,
        };
      }
      await sleep(50);
    }
  }
}
