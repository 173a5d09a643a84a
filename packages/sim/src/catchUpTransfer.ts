import { type NodeId, Role } from '@keel/core';
import { Property } from './invariants.js';
import type { SimCluster } from './SimCluster.js';
import { chance, pick, Stream, streamRng } from './simRng.js';

/** How the catch-up transfer phase of a run went. */
export type CatchUpTransferOutcome =
  /** The target caught up (by InstallSnapshot) and won the election TimeoutNow started. */
  /** Reordered messages made the catch-up outlast the transfer, which aborted in time. */
  | { readonly kind: 'aborted' }
  | {
      readonly kind: 'completed';
      readonly ms: number;
      readonly snapshotAtLast: boolean;
      readonly reorder: boolean;
    }
  /** The phase could not set up its scenario (no leader, no follower, no compaction in time). */
  | { readonly kind: 'skipped'; readonly why: string }
  /** A violation was reported. */
  | { readonly kind: 'failed' };

export interface CatchUpTransferOptions {
  /** Virtual ms to wait for the leader to compact past the crashed follower. */
  readonly prepareMs: number;
  /** Virtual ms within which the transfer must complete, on a quiet network. */
  readonly boundMs: number;
}

/**
 * Leadership transfer to a member that catches up by InstallSnapshot (§3.10 with §7), on a healed
 * network while clients keep writing:
 * 1. crash a follower and wait until the leader's log starts after the follower's last entry (it
 *    can only catch up by snapshot), preferably at a moment the leader's snapshot covers its whole
 *    log, so the snapshot alone brings the target to the leader's last index (issue #15's first
 *    bug: the leader then never sent TimeoutNow and the transfer silently aborted);
 * 2. restart it and at once ask the leader to hand over to it;
 * 3. nothing else goes wrong meanwhile, so the transfer must complete, not abort: the target must
 *    lead within `boundMs`. This is the liveness half of "a transfer always ends"; the abort half
 *    (proposals flow again within an election timeout) is the `transfer-abort` check.
 */
export function catchUpTransfer(
  cluster: SimCluster,
  seed: number,
  options: CatchUpTransferOptions,
): CatchUpTransferOutcome {
  const { sched, checker } = cluster;
  const rng = streamRng(seed, Stream.Handover);
  const leader = cluster.leader();
  if (leader === null) return { kind: 'skipped', why: 'no leader' };
  const ln = cluster.node(leader)!;
  const followers = ln.status().conf.voters.filter((id) => id !== leader && cluster.isUp(id));
  if (followers.length === 0) return { kind: 'skipped', why: 'no follower' };
  const target: NodeId = pick(rng, followers);

  cluster.trace('sim', `catch-up transfer: crash ${target}, wait for ${leader} to compact past it`);
  cluster.crash(target);
  const targetLast = cluster.disk(target).lastIndex();
  const stillLeads = (): boolean => cluster.leader() === leader && ln.status().role === Role.Leader;
  const lagging = (): boolean => ln.status().firstIndex > targetLast + 1;
  const snapshotAtLast = (): boolean => {
    const s = ln.status();
    return s.snapshotIndex === s.lastIndex;
  };
  const prepareEnd = sched.now() + options.prepareMs;
  sched.runUntil(prepareEnd, () => !checker.ok || !stillLeads() || (lagging() && snapshotAtLast()));
  if (checker.ok && stillLeads() && !lagging()) {
    // Keep going after a first compaction past the target; the snapshot-at-last moment may not come.
    sched.runUntil(prepareEnd, () => !checker.ok || !stillLeads() || lagging());
  }
  if (!checker.ok) return { kind: 'failed' };
  if (!stillLeads() || !lagging()) {
    cluster.restart(target);
    return { kind: 'skipped', why: stillLeads() ? 'no compaction past the target' : 'leader changed' };
  }

  // Half the runs reorder messages (nothing is lost, so the transfer must still complete): the
  // target's append acknowledgement may then overtake the last snapshot chunk's acknowledgement,
  // and reach the leader while it still counts the target as receiving a snapshot.
  const reorder = chance(rng, 0.5);
  const atLast = snapshotAtLast();
  const s = ln.status();
  cluster.trace(
    'sim',
    `catch-up transfer: restart ${target} (log ends at ${targetLast}), ${leader} → ${target} ` +
      `(leader log ${s.firstIndex}..${s.lastIndex}, snapshot ${s.snapshotIndex})${reorder ? ', reordering' : ''}`,
  );
  cluster.network.faults.reorder = reorder;
  cluster.restart(target);
  cluster.transferLeader(leader, target);
  const start = sched.now();
  sched.runUntil(start + options.boundMs, () => !checker.ok || cluster.leader() === target);
  cluster.network.faults.reorder = false;
  if (!checker.ok) return { kind: 'failed' };
  // A membership change begun before healing may still remove the target meanwhile (the leader
  // then refuses the transfer as unknown-member): nothing to require of this transfer.
  if (!ln.status().conf.voters.includes(target))
    return { kind: 'skipped', why: 'target left the configuration' };
  // With reordering the catch-up may legitimately outlast the transfer's election timeout (the
  // leader then aborts and serves again, which `transfer-abort` checks); the leader's side of the
  // hand-over is still checked at every Ready (`checkHandOver`). Without it, the target must win.
  if (cluster.leader() !== target && !reorder) {
    checker.report(
      Property.TransferComplete,
      leader,
      `transfer to ${target}, catching up by snapshot (its log ended at ${targetLast}; leader log ` +
        `${s.firstIndex}..${s.lastIndex}, snapshot ${s.snapshotIndex}), did not complete within ` +
        `${options.boundMs}ms with no message lost; leader now ${cluster.leader() ?? 'none'}`,
    );
    return { kind: 'failed' };
  }
  if (cluster.leader() !== target) return { kind: 'aborted' };
  return { kind: 'completed', ms: sched.now() - start, snapshotAtLast: atLast, reorder };
}
