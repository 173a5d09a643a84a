import { SeededRng } from '@keel/core';
import { sleep } from '@keel/ops';
import type { ChaosCluster, ChaosMember } from './cluster.js';
import type { FaultEvent } from './faults.js';
import { type ChangeOutcome, MembershipClient } from './membership.js';
import type { LinkMode } from './proxy.js';
import { describeAction, type FaultAction, type FaultStep, maxRemoved, type Target } from './schedule.js';
import { allLinks, cutLinks } from './topology.js';
import { damageWal, readSyncState, wipeWal } from './walDamage.js';

/** How a step that runs in its own method records its event: opens it, notes on it, closes it. */
interface StepRecord {
  open(members: readonly string[]): FaultEvent;
  close(e: FaultEvent): void;
  readonly notes: string[];
}

/** Bounds on each membership change and on a re-added learner's catch-up. */
const CHANGE_TIMEOUT_MS = 30_000;
const CATCH_UP_TIMEOUT_MS = 30_000;
/** How long a transfer waits for a leader to hand over (a pause or partition may have left none). */
const LEADER_WAIT_MS = 5000;

/**
 * Runs a fault schedule against a live cluster and records every fault as it happened. Process
 * faults resolve "the leader" when they start; each step is undone after its duration (restart,
 * SIGCONT, heal, re-add), and `healAll` undoes whatever is still active at the end.
 */
export class Nemesis {
  readonly events: FaultEvent[] = [];
  private stopped = false;
  private readonly membership: MembershipClient;
  /** Membership steps holding a member out of the configuration now (at most `maxRemoved`). */
  private lent = 0;
  private readonly slotWaiters: (() => void)[] = [];
  /** The members those steps hold. */
  private readonly lentOut = new Set<string>();
  private readonly membershipSteps = new Set<Promise<void>>();
  /** The step that last removed each member: where `healAll` notes what it restored. */
  private readonly removedBy = new Map<string, FaultEvent>();
  /**
   * Members sent SIGTERM by a transfer that have not exited yet. A second SIGTERM makes a member
   * exit at once with code 1 (its "second signal" rule), which the verdict would count as a crash.
   */
  private readonly stopping = new Set<string>();

  constructor(
    private readonly cluster: ChaosCluster,
    private readonly clock: () => number,
    private readonly log: (line: string) => void,
  ) {
    this.membership = new MembershipClient(cluster);
  }

  /** Runs every step at its offset from `t0` (the clock's reading when the run began). */
  async run(steps: readonly FaultStep[], t0: number): Promise<void> {
    await Promise.all(
      steps.map(async (s, i) => {
        await sleep(Math.max(0, t0 + s.atMs - this.clock()));
        if (this.stopped) return;
        await this.step(i, s);
      }),
    );
  }

  /** Stops scheduling new faults (steps already running still finish). */
  stop(): void {
    this.stopped = true;
  }

  private async step(index: number, s: FaultStep): Promise<void> {
    const a = s.action;
    const notes: string[] = [];
    const ev = (members: readonly string[]): FaultEvent => {
      const e: FaultEvent = {
        step: index,
        kind: a.kind === 'partition' ? `partition:${a.shape.kind}` : a.kind,
        description: describeAction(a),
        members,
        start: this.clock(),
        end: null,
        notes,
      };
      this.events.push(e);
      this.log(`fault ${index}: ${e.description}${members.length > 0 ? ` (${members.join(', ')})` : ''}`);
      return e;
    };
    const close = (e: FaultEvent): void => {
      e.end = this.clock();
      this.log(`fault ${index} over: ${e.description}${notes.length > 0 ? ` — ${notes.join('; ')}` : ''}`);
    };
    if (a.kind === 'power-loss' && a.everyone === true) {
      await this.outage(a.seed, s.durationMs, { open: ev, close, notes });
      return;
    }
    switch (a.kind) {
      case 'kill':
      case 'torn-wal':
      case 'power-loss': {
        const m = await this.resolve(a.target, index, notes);
        if (!this.cluster.running(m)) return;
        const e = ev([m.id]);
        const pid = m.pid;
        this.cluster.signal(m, 'SIGKILL');
        if (!(await this.cluster.waitGone(m))) notes.push(`pid ${pid} did not exit after SIGKILL`);
        if (a.kind !== 'kill') notes.push(this.damage(m, a.kind, a.seed, pid));
        await sleep(s.durationMs);
        this.restart(m, notes);
        close(e);
        return;
      }
      case 'pause': {
        const m = await this.resolve(a.target, index, notes);
        if (!this.cluster.running(m) || m.paused) return;
        const e = ev([m.id]);
        this.cluster.signal(m, 'SIGSTOP');
        await sleep(s.durationMs);
        this.cluster.signal(m, 'SIGCONT');
        close(e);
        return;
      }
      case 'transfer': {
        const leader = await this.cluster.awaitLeader(LEADER_WAIT_MS);
        if (leader === null) {
          this.log(`fault ${index}: transfer skipped (no leader within ${LEADER_WAIT_MS} ms)`);
          return;
        }
        const m = this.cluster.members[leader]!;
        if (this.stopping.has(m.id)) {
          this.log(`fault ${index}: transfer skipped (${m.id} is already handing over and stopping)`);
          return;
        }
        const e = ev([m.id]);
        // SIGTERM: the member hands leadership to its most up-to-date follower, then exits.
        this.stopping.add(m.id);
        this.cluster.signal(m, 'SIGTERM');
        if (!(await this.cluster.waitGone(m))) {
          notes.push('no exit within 10 s of SIGTERM: killed');
          this.cluster.signal(m, 'SIGKILL');
          await this.cluster.waitGone(m);
        }
        this.stopping.delete(m.id);
        const after = await this.cluster.leader();
        notes.push(`leader after: ${after === null ? 'none yet' : this.cluster.members[after]!.id}`);
        await sleep(s.durationMs);
        this.restart(m, notes);
        close(e);
        return;
      }
      case 'partition': {
        const leader = await this.cluster.leader();
        const links = cutLinks(a.shape, this.cluster.members.length, leader);
        const mode: LinkMode =
          a.shape.kind === 'slow'
            ? { kind: 'slow', delayMs: a.shape.delayMs, jitterMs: a.shape.jitterMs }
            : a.shape.kind === 'flaky'
              ? { kind: 'flaky', resetsPerSecond: a.shape.resetsPerSecond }
              : a.reject === true
                ? { kind: 'reset' }
                : { kind: 'cut' };
        const chosen = links ?? allLinks(this.cluster.members.length);
        if (chosen.length === 0) {
          this.log(`fault ${index}: ${describeAction(a)} skipped (no leader)`);
          return;
        }
        if ((mode.kind === 'slow' || mode.kind === 'flaky') && !this.cluster.network.linkModes) return;
        const hit = [...new Set(chosen.flatMap((l) => [l.from, l.to]))]
          .sort()
          .map((i) => this.cluster.members[i]!.id);
        const e = ev(hit);
        notes.push(`links ${chosen.map((l) => `n${l.from + 1}->n${l.to + 1}`).join(' ')}`);
        await this.cluster.network.apply(chosen, mode);
        await sleep(s.durationMs);
        await this.cluster.network.heal();
        close(e);
        return;
      }
      case 'amnesia':
        await this.amnesia(a, s, { open: ev, close, notes });
        return;
      case 'membership': {
        const run = this.lendMember(index, a.target, s.durationMs, { open: ev, close, notes });
        this.membershipSteps.add(run);
        await run.finally(() => this.membershipSteps.delete(run));
        return;
      }
    }
  }

  /**
   * Takes a voter out of the configuration for `durationMs` — its process and data stay as they
   * are, like a member cut off by a partition — then brings it back under the same id and address
   * (learner, catch-up, promotion). Re-adding the same id is safe only because its durable state
   * is intact; a wiped one would be amnesia under a reused id. Waits for a free slot first, so
   * never more than `maxRemoved` members are out at once, and a step's member is back before the
   * step that follows it on its track removes another.
   */
  private async lendMember(
    index: number,
    t: Target,
    durationMs: number,
    { open: ev, close, notes }: StepRecord,
  ): Promise<void> {
    while (this.lent >= maxRemoved(this.cluster.members.length)) {
      await new Promise<void>((r) => this.slotWaiters.push(r));
    }
    this.lent++;
    try {
      if (this.stopped) return;
      const m = await this.resolve(t, index, notes);
      // Claimed before the next await: two steps that resolve the same member (the other slot's,
      // or "the leader" while it is being removed) must not both take it out and bring it back.
      if (this.lentOut.has(m.id)) {
        this.log(`fault ${index}: membership skipped (${m.id} is out already)`);
        return;
      }
      this.lentOut.add(m.id);
      try {
        const leader = await this.membership.leaderView(performance.now() + 10_000);
        const role = leader?.view.members.find((x) => x.id === m.id)?.role;
        if (role !== 'voter') {
          this.log(
            `fault ${index}: membership skipped (${leader === null ? 'no leader' : `${m.id} is no voter now`})`,
          );
          return;
        }
        const e = ev([m.id]);
        this.removedBy.set(m.id, e);
        const removed = await this.membership.change({ action: 'remove', id: m.id }, CHANGE_TIMEOUT_MS);
        notes.push(`${removed.ok ? 'removed' : 'removing failed:'} ${m.id} ${changeNote(removed)}`);
        if (removed.ok) await sleep(durationMs);
        // The slot stays taken until the member votes again: a failed re-add (no leader for 30 s)
        // is retried, so a second member is never taken out while the first is still out. Once
        // the heal has begun, it takes over.
        while (!(await this.restoreMember(m, notes, false))) {
          await sleep(500);
          if (this.stopped) break;
        }
        close(e);
      } finally {
        this.lentOut.delete(m.id);
      }
    } finally {
      this.lent--;
      this.slotWaiters.shift()?.();
    }
  }

  /**
   * Makes `m` a voter again: re-added as a learner under its id and address if absent, promoted
   * once it holds what the leader had committed. `force`: promoted even if it did not catch up in
   * time (at the heal, where every original member must vote again); otherwise it stays a learner
   * for now. Resolves with whether `m` is a voter again.
   */
  private async restoreMember(m: ChaosMember, notes: string[], force: boolean): Promise<boolean> {
    const leader = await this.membership.leaderView(performance.now() + CHANGE_TIMEOUT_MS);
    if (leader === null) {
      notes.push(`${m.id} not restored: no leader within ${CHANGE_TIMEOUT_MS} ms`);
      return false;
    }
    const role = leader.view.members.find((x) => x.id === m.id)?.role;
    if (role === 'voter') return true;
    if (role === undefined) {
      const added = await this.membership.change(
        { action: 'add', id: m.id, peer: m.peer, client: m.client, http: m.http, learner: true },
        CHANGE_TIMEOUT_MS,
      );
      notes.push(`${added.ok ? 're-added' : 're-adding failed:'} ${m.id} as a learner ${changeNote(added)}`);
      if (!added.ok) return false;
    }
    const caughtUp = await this.membership.waitCaughtUp(m.id, CATCH_UP_TIMEOUT_MS);
    notes.push(caughtUp.detail);
    if (!caughtUp.ok && !force) return false;
    const promoted = await this.membership.change(
      { action: 'promote', id: m.id, ...(force && !caughtUp.ok ? { force: true as const } : {}) },
      CHANGE_TIMEOUT_MS,
    );
    notes.push(`${promoted.ok ? 'promoted' : 'promoting failed:'} ${m.id} to voter ${changeNote(promoted)}`);
    return promoted.ok;
  }

  /** Emulates a crash of `m`'s machine on its (already killed) WAL; returns a note on what changed. */
  private damage(m: ChaosMember, kind: 'torn-wal' | 'power-loss', seed: number, pid: number): string {
    const d = damageWal(m.walDir, readSyncState(m.syncFile), kind, seed, pid);
    const who = `${m.id}: `;
    if (d.skipped !== null) return `${who}no damage: ${d.skipped}`;
    if (d.removed) return `${who}removed ${d.file} (its name was not durable)`;
    return `${who}${d.file}: synced ${d.syncedBytes}, written ${d.writtenBytes}, cut at ${d.cutAt} + ${d.garbageBytes} garbage bytes`;
  }

  /** Every member loses power at once: all killed, every WAL cut back to its fsynced bytes. */
  private async outage(
    seed: number,
    durationMs: number,
    { open: ev, close, notes }: StepRecord,
  ): Promise<void> {
    const ms = this.cluster.members;
    const victims = ms.filter((m) => this.cluster.running(m));
    const e = ev(victims.map((m) => m.id));
    const pids = victims.map((m) => m.pid);
    for (const m of victims) this.cluster.signal(m, 'SIGKILL');
    for (const m of victims) await this.cluster.waitGone(m);
    victims.forEach((m, i) => {
      notes.push(this.damage(m, 'power-loss', (seed + i * 0x9e3779b9) >>> 0, pids[i]!));
    });
    await sleep(durationMs);
    for (const m of ms) this.restart(m, notes);
    close(e);
  }

  /** Outside the fault model: every member but one forgets its WAL; they restart first. */
  private async amnesia(
    a: Extract<FaultAction, { kind: 'amnesia' }>,
    s: FaultStep,
    { open: ev, close, notes }: StepRecord,
  ): Promise<void> {
    const ms = this.cluster.members;
    const e = ev(ms.map((m) => m.id));
    for (const m of ms) if (this.cluster.running(m)) this.cluster.signal(m, 'SIGKILL');
    for (const m of ms) await this.cluster.waitGone(m);
    const kept = ms[a.keep]!;
    for (const m of ms) if (m !== kept) wipeWal(m.walDir);
    notes.push(
      `wiped the WAL of ${ms
        .filter((m) => m !== kept)
        .map((m) => m.id)
        .join(', ')}; ${kept.id} kept its`,
    );
    for (const m of ms) if (m !== kept) this.restart(m, notes);
    await sleep(s.durationMs);
    this.restart(kept, notes);
    close(e);
  }

  private async resolve(t: Target, index: number, notes: string[]): Promise<ChaosMember> {
    const ms = this.cluster.members;
    if (t.kind === 'member') return ms[t.index]!;
    const leader = await this.cluster.leader();
    if (leader !== null) return ms[leader]!;
    // No leader right now: a member chosen by the step's position, so the run stays reproducible.
    const m = ms[new SeededRng(index).int(ms.length)]!;
    notes.push(`no leader known; hit ${m.id} instead`);
    return m;
  }

  private restart(m: ChaosMember, notes: string[]): void {
    if (this.cluster.running(m)) return;
    try {
      this.cluster.restart(m);
    } catch (err) {
      notes.push(`restart of ${m.id} failed: ${(err as Error).message}`);
    }
  }

  /**
   * Undoes everything: continue paused members, start dead ones, heal every link, let membership
   * steps under way finish (each of their changes is bounded), then make every original member a
   * voter again, so the convergence check covers them all.
   */
  async healAll(): Promise<void> {
    this.stopped = true;
    await this.cluster.network.heal();
    for (const m of this.cluster.members) {
      if (m.paused) this.cluster.signal(m, 'SIGCONT');
      if (!this.cluster.running(m)) this.cluster.restart(m);
    }
    await Promise.allSettled([...this.membershipSteps]);
    if (this.removedBy.size === 0) return;
    for (const m of this.cluster.members) {
      const e = this.removedBy.get(m.id);
      const notes: string[] = [];
      await this.restoreMember(m, notes, true);
      if (notes.length === 0) continue;
      e?.notes.push(...notes.map((n) => `heal: ${n}`));
      this.log(`heal: ${notes.join('; ')}`);
    }
  }
}

/** `at index 12 (leader n1), 1 attempt`. */
function changeNote(o: ChangeOutcome): string {
  return `${o.detail}, ${o.attempts} attempt${o.attempts === 1 ? '' : 's'}`;
}
