import { type NodeId, PeerEvent, type SeededRng } from '@keel/core';
import type { SimNetwork } from './SimNetwork.js';
import type { SimScheduler } from './SimScheduler.js';
import { chance, pick, shuffled, uniform } from './simRng.js';

/** The kinds of trouble the nemesis can make; a run enables any subset. */
export const Fault = {
  /** Messages lost at random. */
  Drop: 'drop',
  /** Messages delivered twice. */
  Dup: 'dup',
  /** Links stop being FIFO. */
  Reorder: 'reorder',
  /** Latency spikes, some longer than an election timeout. */
  Delay: 'delay',
  /** Isolation, majority/minority splits, isolating the leader, bridges, asymmetric links. */
  Partition: 'partition',
  /** Power loss: the member loses whatever was not yet durable, and restarts later. */
  Crash: 'crash',
  /** The process stops running for a while (SIGSTOP, a GC pause), then resumes. */
  Pause: 'pause',
  /** False "peer disconnected" hints from the transport. */
  Hint: 'hint',
  /**
   * Leadership transfer (§3.10) at a random moment, to a random member: sometimes the most lagging
   * one, sometimes one that is down, paused or cut off (the transfer must then abort and the leader
   * serve again), sometimes a second transfer while the first is still under way.
   */
  Transfer: 'transfer',
  /**
   * Membership changes (dissertation ch. 4) asked of the leader at random moments: add a spare as
   * a learner then promote it, remove a voter or a learner, replace a voter. Removed members keep
   * running for a while, then stop and are retired for good (ids are never reused).
   */
  Membership: 'membership',
} as const;
export type Fault = (typeof Fault)[keyof typeof Fault];

export const ALL_FAULTS: readonly Fault[] = Object.values(Fault);

/** Named fault mixes for the CLI and the test suite. */
export const FaultMix: Readonly<Record<string, readonly Fault[]>> = {
  none: [],
  all: ALL_FAULTS,
  net: [Fault.Drop, Fault.Dup, Fault.Reorder, Fault.Delay],
  partitions: [Fault.Partition, Fault.Hint],
  crashes: [Fault.Crash, Fault.Pause],
  'crash-partition': [Fault.Crash, Fault.Partition],
  /** Transfer-heavy: one action in three is a transfer, among the faults that make targets unreachable. */
  transfers: [Fault.Partition, Fault.Crash, Fault.Transfer],
  /** Membership-heavy: changes among crashes (some around compaction points), partitions and loss. */
  membership: [Fault.Membership, Fault.Membership, Fault.Crash, Fault.Partition, Fault.Drop],
};

/** What the nemesis acts on. */
export interface NemesisTarget {
  readonly members: readonly NodeId[];
  readonly network: SimNetwork;
  /** The member that currently believes it leads with the highest term, if any. */
  leader(): NodeId | null;
  isUp(id: NodeId): boolean;
  isPaused(id: NodeId): boolean;
  crash(id: NodeId): void;
  restart(id: NodeId): void;
  pause(id: NodeId): void;
  resume(id: NodeId): void;
  /**
   * Asks `leader` to hand leadership to `to`, as an operator's request reaching that member's
   * process (so it waits while the process is paused and is lost if it crashes).
   */
  transferLeader(leader: NodeId, to: NodeId): void;
  /** The replication index `leader` knows for `peer`, or null when it does not lead. */
  matchIndex(leader: NodeId, peer: NodeId): number | null;
  /** A membership change asked of the current leader (see `Fault.Membership`). */
  changeMembership?(kind: 'add' | 'promote' | 'remove' | 'replace'): void;
  note(what: string): void;
}

export interface NemesisStats {
  actions: number;
  crashes: number;
  pauses: number;
  partitions: number;
  /** Transfers the nemesis asked a leader for (whether or not the leader still led). */
  transfers: number;
  /** Membership changes the nemesis asked for. */
  membership: number;
  /** Crashes aimed right after a snapshot was saved (around the log compaction). */
  compactionCrashes: number;
}

/**
 * Draws a fault schedule from the seed: every so often it picks one enabled fault kind and applies
 * it. Crashed members restart and paused members resume after a random while; `healAll` ends
 * everything at once.
 */
export class Nemesis {
  readonly stats: NemesisStats = {
    actions: 0,
    crashes: 0,
    pauses: 0,
    partitions: 0,
    transfers: 0,
    membership: 0,
    compactionCrashes: 0,
  };
  private active = false;
  private readonly gapMs: number;

  constructor(
    private readonly sched: SimScheduler,
    private readonly rng: SeededRng,
    private readonly target: NemesisTarget,
    private readonly faults: readonly Fault[],
  ) {
    // Seeds differ in how busy their nemesis is.
    this.gapMs = pick(rng, [60, 150, 400]);
  }

  /** Acts from `from` until `until` (virtual ms). */
  start(from: number, until: number): void {
    if (this.faults.length === 0) return;
    this.active = true;
    const loop = (): void => {
      if (!this.active || this.sched.now() >= until) return;
      this.act(pick(this.rng, this.faults));
      this.sched.after(uniform(this.rng, 0.2, 1.8) * this.gapMs, loop);
    };
    this.sched.at(from, loop);
  }

  /** Ends every fault: links restored, network faults off, members restarted and resumed. */
  healAll(): void {
    this.active = false;
    this.target.network.heal();
    for (const id of this.target.members) {
      if (!this.target.isUp(id)) this.target.restart(id);
      else if (this.target.isPaused(id)) this.target.resume(id);
    }
    this.target.note('heal all');
  }

  private victim(): NodeId {
    const leader = this.target.leader();
    return leader !== null && chance(this.rng, 0.4) ? leader : pick(this.rng, this.target.members);
  }

  private act(fault: Fault): void {
    const t = this.target;
    const net = t.network;
    this.stats.actions++;
    switch (fault) {
      case Fault.Drop:
        net.faults.dropRate = pick(this.rng, [0, 0.02, 0.1, 0.3]);
        t.note(`drop rate ${net.faults.dropRate}`);
        return;
      case Fault.Dup:
        net.faults.dupRate = pick(this.rng, [0, 0.05, 0.25]);
        t.note(`duplication rate ${net.faults.dupRate}`);
        return;
      case Fault.Reorder:
        net.faults.reorder = !net.faults.reorder;
        t.note(`reordering ${net.faults.reorder ? 'on' : 'off'}`);
        return;
      case Fault.Delay:
        net.faults.extraDelayMs = pick(this.rng, [0, 5, 30, 250]);
        t.note(`extra delay up to ${net.faults.extraDelayMs}ms`);
        return;
      case Fault.Partition:
        this.partition();
        return;
      case Fault.Crash: {
        const id = this.victim();
        if (!t.isUp(id)) return;
        this.stats.crashes++;
        t.crash(id);
        this.sched.after(uniform(this.rng, 5, 1200), () => {
          if (this.active && !t.isUp(id)) t.restart(id);
        });
        return;
      }
      case Fault.Pause: {
        const id = this.victim();
        if (!t.isUp(id) || t.isPaused(id)) return;
        this.stats.pauses++;
        t.pause(id);
        this.sched.after(uniform(this.rng, 5, 1000), () => {
          if (this.active && t.isPaused(id)) t.resume(id);
        });
        return;
      }
      case Fault.Hint: {
        const id = pick(this.rng, t.members);
        const leader = t.leader();
        const others = t.members.filter((m) => m !== id);
        const peer =
          leader !== null && leader !== id && chance(this.rng, 0.5) ? leader : pick(this.rng, others);
        t.note(`false hint to ${id}: ${peer} disconnected`);
        net.falseHint(id, peer, PeerEvent.Disconnected);
        this.sched.after(uniform(this.rng, 1, 300), () => net.falseHint(id, peer, PeerEvent.Connected));
        return;
      }
      case Fault.Transfer:
        this.transfer();
        return;
      case Fault.Membership: {
        if (t.changeMembership === undefined) return;
        const kind = pick(this.rng, ['add', 'add', 'promote', 'remove', 'replace'] as const);
        this.stats.membership++;
        t.note(`membership: ${kind}`);
        t.changeMembership(kind);
        return;
      }
    }
  }

  /**
   * `id` just saved a snapshot and is about to compact its log: with crashes enabled, sometimes
   * crash it now or a moment later, between the save, the engine learning of it, and the
   * compaction becoming durable.
   */
  aroundCompaction(id: NodeId): void {
    if (!this.active || !this.faults.includes(Fault.Crash) || !chance(this.rng, 0.1)) return;
    const t = this.target;
    this.sched.after(uniform(this.rng, 0, 2), () => {
      if (!this.active || !t.isUp(id)) return;
      this.stats.crashes++;
      this.stats.compactionCrashes++;
      t.note(`crash ${id} around its compaction`);
      t.crash(id);
      this.sched.after(uniform(this.rng, 5, 600), () => {
        if (this.active && !t.isUp(id)) t.restart(id);
      });
    });
  }

  /**
   * Asks the current leader to hand over to a member chosen to exercise every path of §3.10: any
   * member, the one furthest behind (the leader must catch it up first), one that is down, paused or
   * cut off from the leader (the transfer must abort after an election timeout), or the leader
   * itself. Sometimes a second transfer follows while the first may still be running.
   */
  private transfer(): void {
    const t = this.target;
    const leader = t.leader();
    if (leader === null) {
      t.note('transfer: no leader');
      return;
    }
    const others = t.members.filter((m) => m !== leader);
    const kind = pick(this.rng, ['any', 'any', 'lagging', 'unreachable', 'self'] as const);
    let to = leader;
    let why = 'itself';
    if (others.length > 0 && kind !== 'self') {
      to = pick(this.rng, others);
      why = 'random';
      if (kind === 'lagging') {
        let least = Number.POSITIVE_INFINITY;
        for (const m of others) {
          const match = t.matchIndex(leader, m) ?? -1;
          if (match < least) {
            least = match;
            to = m;
          }
        }
        why = `lagging, match ${least}`;
      } else if (kind === 'unreachable') {
        const cutOff = (m: NodeId): boolean =>
          !t.isUp(m) || t.isPaused(m) || t.network.isCut(leader, m) || t.network.isCut(m, leader);
        const unreachable = others.filter(cutOff);
        if (unreachable.length > 0) {
          to = pick(this.rng, unreachable);
          why = !t.isUp(to) ? 'down' : t.isPaused(to) ? 'paused' : 'cut off';
        }
      }
    }
    this.stats.transfers++;
    t.note(`transfer leadership ${leader} → ${to} (${why})`);
    t.transferLeader(leader, to);
    if (chance(this.rng, 0.25)) {
      this.sched.after(uniform(this.rng, 1, 100), () => {
        if (this.active) this.transfer();
      });
    }
  }

  private partition(): void {
    const t = this.target;
    const net = t.network;
    const n = t.members.length;
    const kind = pick(this.rng, [
      'heal',
      'isolate',
      'split',
      'isolate-leader',
      'bridge',
      'asymmetric',
      'full',
    ]);
    net.healLinks();
    if (kind !== 'heal') this.stats.partitions++;
    const order = shuffled(this.rng, t.members);
    switch (kind) {
      case 'heal':
        t.note('partition healed');
        return;
      case 'isolate': {
        net.isolate(order[0]!);
        t.note(`isolate ${order[0]}`);
        return;
      }
      case 'isolate-leader': {
        const leader = t.leader() ?? order[0]!;
        net.isolate(leader);
        t.note(`isolate leader ${leader}`);
        return;
      }
      case 'split': {
        const minority = 1 + this.rng.int(Math.floor((n - 1) / 2));
        const a = order.slice(0, minority);
        const b = order.slice(minority);
        net.partition([a, b]);
        t.note(`split {${a.join(',')}} | {${b.join(',')}}`);
        return;
      }
      case 'bridge': {
        // Two halves that cannot see each other; the bridge sees both.
        const bridge = order[0]!;
        const rest = order.slice(1);
        const half = rest.length >> 1;
        const left = rest.slice(0, half);
        const right = rest.slice(half);
        net.bridge(left, right);
        t.note(`bridge ${bridge} between {${left.join(',')}} and {${right.join(',')}}`);
        return;
      }
      case 'asymmetric': {
        const x = chance(this.rng, 0.5) ? (t.leader() ?? order[0]!) : order[0]!;
        const mode = this.rng.int(3);
        if (mode === 0) {
          const y = order.find((m) => m !== x)!;
          net.cutLink(x, y);
          t.note(`asymmetric: ${x}→${y} cut, ${y}→${x} works`);
          return;
        }
        for (const m of t.members) {
          if (m === x) continue;
          if (mode === 1) net.cutLink(x, m);
          else net.cutLink(m, x);
        }
        t.note(mode === 1 ? `asymmetric: ${x} cannot send` : `asymmetric: ${x} cannot receive`);
        return;
      }
      case 'full': {
        net.partition(t.members.map((m) => [m]));
        t.note('full partition: every member alone');
        return;
      }
    }
  }
}
