import {
  type ConfChange,
  type ConfChangeOutcome,
  type ConfState,
  concatChunks,
  confOf,
  decodeConfEntry,
  EntryType,
  type NodeId,
  type ProposeOutcome,
  RaftNode,
  type Ready,
  Role,
  type SeededRng,
} from '@keel/core';
import { decodeMessage, encodeMessage } from '@keel/core/codec';
import {
  MemoryLogStore,
  MemorySnapshotStore,
  type RaftTestingConfig,
  type TestingBugs,
} from '@keel/core/testing';
import { describeMessage, describeReady, formatTime } from './describe.js';
import { type DurableView, InvariantChecker, type InvariantViolation, Property } from './invariants.js';
import type { NemesisTarget } from './Nemesis.js';
import { commandId, RegisterMachine, type RegisterResult } from './RegisterMachine.js';
import { SimDisk } from './SimDisk.js';
import { SimHost } from './SimHost.js';
import { SimNetwork } from './SimNetwork.js';
import { SimScheduler } from './SimScheduler.js';
import { pick, Stream, streamRng, uniform } from './simRng.js';
import type { ClientGateway } from './Workload.js';

export interface SimClusterOptions {
  readonly seed: number;
  readonly nodes: number;
  readonly electionTicks?: number;
  readonly heartbeatTicks?: number;
  readonly tickMs?: number;
  /** Payload bytes per AppendEntries (small values send one entry per message). */
  readonly maxMsgBytes?: number;
  readonly preVote?: boolean;
  readonly checkQuorum?: boolean;
  /** Planted bugs in the engine, to show that the checks catch them. */
  readonly bugs?: TestingBugs;
  /** Collect a readable trace of every event. */
  readonly trace?: boolean;
  /** Invariants not to report. */
  readonly disabledChecks?: readonly Property[];
  /** Lease reads (the engine's `readLease`); reads must then go through `read`. */
  readonly readLease?: boolean;
  /**
   * Each member's clock runs at its own rate, drawn from [1 - drift, 1 + drift] (timers fire
   * that much late or early). Default 0.02; lease reads assume it is bounded.
   */
  readonly clockDrift?: number;
  /** PLANTED BUG for tests: disks acknowledge writes before they are durable. */
  readonly lyingDisks?: boolean;
  /** PLANTED BUG for tests: transactions apply their writes in two steps (`RegisterMachineOptions`). */
  readonly splitTxnWrites?: boolean;
  /** Encode and decode every message with the wire codec. Default true. */
  readonly wire?: boolean;
  /** Snapshot every this many applied entries (the driver's `snapshotEntries`). Default 0: never. */
  readonly snapshotEntries?: number;
  /** Entries kept behind a snapshot (the driver's `compactKeepEntries`). Default 0. */
  readonly compactKeepEntries?: number;
  /** InstallSnapshot chunk size; small, so that transfers take several chunks. Default 16. */
  readonly snapshotChunkBytes?: number;
  /** Hosts beyond `nodes` that membership changes may add (n<nodes+1>, ...). Default 0. */
  readonly spares?: number;
}

/** Membership changes over a run (see `Fault.Membership`). */
export interface MembershipStats {
  /** Changes a leader accepted (its Config entry was appended). */
  proposed: number;
  /** Changes applied on the member that proposed them. */
  applied: number;
  /** Changes refused (not leader, one pending, invalid, ...). */
  refused: number;
  /** Removed members stopped and wiped once their removal committed. */
  retired: number;
}

interface Member {
  readonly id: NodeId;
  readonly index: number;
  readonly host: SimHost;
  disk: SimDisk;
  snaps: MemorySnapshotStore;
  /**
   * active: a member process (or one on its way in or out); idle: a spare with an empty disk;
   * retired: removed and wiped, never to come back under this id (a stale member may still count
   * the id as a voter: an empty disk answering for it would break Leader Completeness).
   */
  state: 'active' | 'idle' | 'retired';
  /** The bootstrap voters it starts with: the initial configuration, or none (join mode). */
  bootVoters: readonly NodeId[];
  node: RaftNode<RegisterResult> | null;
  machine: RegisterMachine;
  incarnation: number;
  /** Virtual ms this member's process spent paused, over the whole run (current pause excluded). */
  pausedMs: number;
  /** When the current pause began, or null. */
  pausedSince: number | null;
  /**
   * The last transfer this incarnation's engine accepted: when (virtual ms) and the member's
   * paused time at that moment. Null once it cannot refuse proposals any more.
   */
  transfer: {
    readonly at: number;
    readonly pausedMs: number;
    readonly to: NodeId;
    readonly term: number;
  } | null;
  /**
   * When this incarnation last sent TimeoutNow to each member (virtual ms). Per target: one Ready
   * can carry two (the transfer's hand-over, then a removed leader's hand-over to another voter).
   */
  readonly timeoutNow: Map<NodeId, number>;
  /** The pending transfer's target while it holds the leader's whole log, and since when (virtual ms). */
  caughtUp: { readonly to: NodeId; readonly since: number } | null;
}

/** Leadership transfers over a run (see `Fault.Transfer`). */
export interface TransferStats {
  /** Transfers a leader accepted and began (not counting "transfer to yourself"). */
  attempted: number;
  /** Transfers whose target won the election it started on TimeoutNow. */
  completed: number;
  /** Requests that reached a member that no longer led. */
  refused: number;
}

/**
 * A simulated cluster in virtual time: members running `RaftNode` over simulated disks and one
 * simulated network, with the invariant checker watching every Ready and every apply. It is the
 * nemesis's target and the clients' gateway; `runSeed` drives it through the phases of a run.
 */
export class SimCluster implements NemesisTarget, ClientGateway {
  readonly sched = new SimScheduler();
  readonly network: SimNetwork;
  readonly checker: InvariantChecker;
  readonly members: readonly NodeId[];
  readonly traceLines: string[] | null;
  private readonly byId = new Map<NodeId, Member>();
  private readonly appendedOps = new Set<number>();
  private readonly diskRng: SeededRng;
  /** Members campaigning on TimeoutNow, with the term of that campaign. */
  private readonly transferCampaigns = new Map<NodeId, number>();
  readonly transfers: TransferStats = { attempted: 0, completed: 0, refused: 0 };
  readonly membership: MembershipStats = { proposed: 0, applied: 0, refused: 0, retired: 0 };
  restarts = 0;
  /** Snapshots saved and installed, over the run. */
  snapshots = { taken: 0, installed: 0 };
  /** The initial voters. */
  readonly initialVoters: readonly NodeId[];
  /** The configuration of the highest Config entry any member applied (so: committed). */
  private committedConf: ConfState;
  private committedConfIndex = 0;
  private readonly memberRng: SeededRng;
  private readonly snapRng: SeededRng;
  /** Called when a member saved a snapshot (the nemesis may crash it around the compaction). */
  onSnapshotTaken: ((id: NodeId) => void) | null = null;

  constructor(private readonly options: SimClusterOptions) {
    this.traceLines = options.trace === true ? [] : null;
    this.checker = new InvariantChecker(
      () => this.sched.now(),
      (v) => this.onViolation(v),
      new Set(options.disabledChecks ?? []),
    );
    const tracing = this.traceLines !== null;
    this.network = new SimNetwork({
      scheduler: this.sched,
      rng: streamRng(options.seed, Stream.Network),
      ...(options.wire !== false ? { wire: { encode: encodeMessage, decode: decodeMessage } } : {}),
      ...(tracing
        ? {
            onDeliver: (m) => this.trace(m.to, `recv ${describeMessage(m)}`),
            onDrop: (m, why) => this.trace('net', `drop ${describeMessage(m)} (${why})`),
          }
        : {}),
    });
    this.diskRng = streamRng(options.seed, Stream.Disk);
    this.memberRng = streamRng(options.seed, Stream.Membership);
    this.snapRng = streamRng(options.seed, Stream.Snapshot);
    const clockRng = streamRng(options.seed, Stream.Clock);
    this.checker.durableLogs = () => this.durableLogs(this.committedConf.voters);
    const ids: NodeId[] = [];
    for (let i = 1; i <= options.nodes + (options.spares ?? 0); i++) ids.push(`n${i}`);
    this.members = ids;
    this.initialVoters = ids.slice(0, options.nodes);
    this.committedConf = confOf(this.initialVoters);
    ids.forEach((id, index) => {
      const drift = options.clockDrift ?? 0.02;
      const host = new SimHost(id, this.sched, 1 + (clockRng.float() * 2 - 1) * drift);
      this.network.addHost(host);
      const disk = new SimDisk(
        new MemoryLogStore({ schedule: 'manual' }),
        host,
        this.diskRng,
        options.lyingDisks === true,
      );
      const initial = index < options.nodes;
      this.byId.set(id, {
        id,
        index,
        host,
        disk,
        // A snapshot save completes after a simulated write + fsync + rename; a crash first loses it.
        snaps: this.snapshotStore(host),
        state: initial ? 'active' : 'idle',
        bootVoters: initial ? this.initialVoters : [],
        node: null,
        machine: this.newMachine(),
        incarnation: 0,
        pausedMs: 0,
        pausedSince: null,
        transfer: null,
        timeoutNow: new Map(),
        caughtUp: null,
      });
    });
  }

  get tracing(): boolean {
    return this.traceLines !== null;
  }

  trace(who: string, what: string): void {
    this.traceLines?.push(`${formatTime(this.sched.now())} ${who.padEnd(4)} ${what}`);
  }

  note(what: string): void {
    this.trace('nem', what);
  }

  /** Boots every initial member (spares wait until a membership change adds them). */
  start(): void {
    for (const id of this.initialVoters) this.boot(this.member(id));
  }

  isUp(id: NodeId): boolean {
    return this.member(id).host.up;
  }

  isPaused(id: NodeId): boolean {
    return this.member(id).host.isPaused;
  }

  node(id: NodeId): RaftNode<RegisterResult> | null {
    return this.member(id).node;
  }

  disk(id: NodeId): SimDisk {
    return this.member(id).disk;
  }

  /** Power loss: everything not yet durable is gone; the process and its state machine too. */
  crash(id: NodeId): void {
    const m = this.member(id);
    if (!m.host.up) return;
    this.trace(id, `CRASH (${m.disk.store.pendingCount} appends not durable are lost)`);
    // Take the durable image first: stopping may flush or close the store.
    const recovered = m.disk.crash();
    const node = m.node;
    m.node = null;
    this.endPause(m);
    m.transfer = null;
    m.timeoutNow.clear();
    m.caughtUp = null;
    this.transferCampaigns.delete(id);
    m.host.crash();
    this.checker.nodeStopped(id);
    node?.stop();
    m.disk = new SimDisk(recovered, m.host, this.diskRng, this.options.lyingDisks === true);
    m.snaps = m.snaps.crash();
    this.network.hostChanged(id);
    this.checkDurability();
  }

  /**
   * What would survive if every member lost power now must still hold every committed entry, on
   * enough voters of every configuration that could elect a leader: the committed one and the
   * leader's (which may include one uncommitted change).
   */
  checkDurability(): void {
    this.checker.checkDurableQuorum(this.durableLogs(this.committedConf.voters));
    // The leader's configuration may hold one more (uncommitted) change. Only a leader of the
    // newest term counts: a deposed leader that has not noticed yet may still list a configuration
    // whose entries others have since replaced, and no candidate could win with it (its log is
    // behind every member that holds the newer entries).
    const leader = this.leader();
    if (leader === null) return;
    const status = this.member(leader).node!.status();
    for (const id of this.members) {
      const n = this.member(id).node;
      if (n !== null && this.member(id).host.up && n.status().term > status.term) return;
    }
    this.checker.checkDurableQuorum(this.durableLogs(status.conf.voters));
  }

  private durableLogs(voters: readonly NodeId[]): Map<NodeId, DurableView> {
    const durable = new Map<NodeId, DurableView>();
    for (const id of voters) {
      const m = this.byId.get(id);
      if (m !== undefined) durable.set(id, m.disk.durable);
    }
    return durable;
  }

  /** A snapshot save completes after a simulated write + fsync + rename; a crash first loses it. */
  private snapshotStore(host: SimHost): MemorySnapshotStore {
    return new MemorySnapshotStore({ schedule: (fn) => host.after(uniform(this.snapRng, 0.1, 3), fn) });
  }

  /** The configuration of the latest committed Config entry (the initial one before any). */
  get committedConfiguration(): ConfState {
    return this.committedConf;
  }

  restart(id: NodeId): void {
    const m = this.member(id);
    if (m.host.up || m.state !== 'active') return;
    this.restarts++;
    this.boot(m);
  }

  pause(id: NodeId): void {
    const m = this.member(id);
    m.host.pause();
    if (m.host.isPaused && m.pausedSince === null) m.pausedSince = this.sched.now();
    this.trace(id, 'PAUSE');
  }

  resume(id: NodeId): void {
    const m = this.member(id);
    this.endPause(m);
    m.host.resume();
    this.trace(id, 'RESUME');
  }

  private endPause(m: Member): void {
    if (m.pausedSince === null) return;
    m.pausedMs += this.sched.now() - m.pausedSince;
    m.pausedSince = null;
  }

  /**
   * An operator asks `leader` to hand over to `to` (dissertation §3.10). The request reaches the
   * member's process like a client request: it waits while the process is paused and is lost if
   * the process crashes first.
   */
  transferLeader(leader: NodeId, to: NodeId): void {
    const m = this.member(leader);
    if (!m.host.up) return;
    m.host.after(0.5, () => {
      const n = m.node;
      if (n === null) return;
      const pending = n.status().transferee;
      const r = n.transferLeader(to);
      if (!r.ok) {
        this.transfers.refused++;
        this.trace(leader, `transferLeader(${to}) refused: ${r.reason}`);
        return;
      }
      if (to === leader) {
        // A transfer to the leader itself cancels the pending one: proposals must flow at once,
        // which checkTransferRefusal holds the engine to (no transfer under way any more).
        if (pending !== null) m.transfer = null;
        this.trace(
          leader,
          `transferLeader(${to}): already leads${pending !== null ? `, transfer to ${pending} cancelled` : ''}`,
        );
        return;
      }
      if (pending === to && m.transfer !== null) {
        // A repeat of the pending transfer keeps its deadline: the abort bound still counts from
        // the first request, so a retrying operator cannot keep the leader refusing writes.
        this.trace(leader, `transferLeader(${to}): already under way, deadline kept`);
        return;
      }
      this.transfers.attempted++;
      m.transfer = { at: this.sched.now(), pausedMs: m.pausedMs, to, term: n.status().term };
      this.trace(leader, `transferLeader(${to}) started`);
    });
  }

  /**
   * A membership change chosen by the nemesis (dissertation ch. 4), asked of the current leader:
   * - add: a spare host starts in join mode and is added as a learner, then promoted later;
   * - promote: a learner becomes a voter;
   * - remove: a voter (keeping at least three) or a learner leaves; once the removal commits the
   *   member keeps running for a while (it must not disrupt anyone), then stops and is wiped;
   * - replace: add a spare, and once it is promoted remove another voter.
   */
  changeMembership(kind: 'add' | 'promote' | 'remove' | 'replace'): void {
    const leader = this.leader();
    if (leader === null) {
      this.note(`membership ${kind}: no leader`);
      return;
    }
    const conf = this.member(leader).node!.status().conf;
    switch (kind) {
      case 'add':
      case 'replace': {
        const idle = this.members.filter((id) => this.member(id).state === 'idle');
        if (idle.length === 0 || conf.voters.length + conf.learners.length >= 7) {
          this.note(`membership ${kind}: no spare`);
          return;
        }
        const id = pick(this.memberRng, idle);
        const m = this.member(id);
        m.state = 'active';
        m.bootVoters = [];
        this.boot(m);
        this.proposeChange(leader, { type: 'addLearner', id, address: `sim://${id}` }, () => {
          // Promote once it has had a moment to catch up (promoting early is safe, only slower).
          this.sched.after(uniform(this.memberRng, 10, 300), () => {
            const l = this.leader();
            if (l === null) return;
            this.proposeChange(l, { type: 'promote', id }, () => {
              if (kind !== 'replace') return;
              const l2 = this.leader();
              if (l2 === null) return;
              const voters = this.member(l2)
                .node!.status()
                .conf.voters.filter((v) => v !== id);
              if (voters.length >= 3)
                this.proposeChange(l2, { type: 'remove', id: pick(this.memberRng, voters) });
            });
          });
        });
        return;
      }
      case 'promote': {
        if (conf.learners.length === 0) {
          this.note('membership promote: no learner');
          return;
        }
        this.proposeChange(leader, { type: 'promote', id: pick(this.memberRng, conf.learners) });
        return;
      }
      case 'remove': {
        const candidates = [...(conf.voters.length > 3 ? conf.voters : []), ...conf.learners];
        if (candidates.length === 0) {
          this.note('membership remove: nobody to remove');
          return;
        }
        this.proposeChange(leader, { type: 'remove', id: pick(this.memberRng, candidates) });
        return;
      }
    }
  }

  /** Asks `leader` (as an operator request reaching its process) for a change; `then` once applied there. */
  private proposeChange(leader: NodeId, change: ConfChange, then?: () => void): void {
    const m = this.member(leader);
    if (!m.host.up) return;
    m.host.after(0.5, () => {
      const n = m.node;
      if (n === null) return;
      // A refusal is answered at once; a later answer means the entry was appended first.
      let sync = true;
      let refused = false;
      n.proposeConfChange(change, (o: ConfChangeOutcome) => {
        if (!o.ok) {
          if (sync) {
            refused = true;
            this.membership.refused++;
          }
          this.trace(
            leader,
            `${change.type}(${change.id}): ${o.reason}${'message' in o ? ` (${o.message})` : ''}`,
          );
          return;
        }
        this.membership.applied++;
        this.trace(leader, `${change.type}(${change.id}) applied at ${o.index}`);
        then?.();
      });
      sync = false;
      if (!refused) {
        this.membership.proposed++;
        this.trace(leader, `${change.type}(${change.id}) proposed`);
      }
    });
  }

  /** A Config entry was applied somewhere: it is committed. Members it removed are retired later. */
  private confApplied(index: number, data: Uint8Array): void {
    if (index <= this.committedConfIndex) return;
    const decoded = decodeConfEntry(data);
    if (decoded === null) return;
    const before = this.committedConf;
    this.committedConf = decoded.conf;
    this.committedConfIndex = index;
    const now = new Set([...decoded.conf.voters, ...decoded.conf.learners]);
    for (const id of [...before.voters, ...before.learners]) {
      if (now.has(id)) continue;
      // It keeps running for a while (a removed member must not disrupt the cluster), then stops.
      this.sched.after(uniform(this.memberRng, 20, 400), () => this.retire(id, index));
    }
  }

  /**
   * Stops a member whose removal committed and wipes it. Its id is never used again: a member
   * with a stale configuration may still count that id as a voter, and a fresh process answering
   * for it with an empty log would let a stale candidate win (found by the simulator: Leader
   * Completeness broken within a few thousand seeds when ids were reused).
   */
  private retire(id: NodeId, removedAt: number): void {
    const m = this.member(id);
    const c = this.committedConf;
    if (m.state !== 'active' || c.voters.includes(id) || c.learners.includes(id)) return;
    if (this.committedConfIndex < removedAt) return;
    this.trace(id, 'RETIRE (removed from the configuration)');
    if (m.host.up) this.crash(id);
    m.state = 'retired';
    m.disk = new SimDisk(
      new MemoryLogStore({ schedule: 'manual' }),
      m.host,
      this.diskRng,
      this.options.lyingDisks === true,
    );
    m.snaps = this.snapshotStore(m.host);
    this.membership.retired++;
  }

  matchIndex(leader: NodeId, peer: NodeId): number | null {
    const n = this.member(leader).node;
    if (n === null || leader === peer) return null;
    return n.progress(peer)?.match ?? null;
  }

  /** The running member that believes it leads, with the highest term. */
  leader(): NodeId | null {
    let best: NodeId | null = null;
    let bestTerm = -1;
    for (const id of this.members) {
      const m = this.member(id);
      if (m.node === null || !m.host.up) continue;
      const s = m.node.status();
      if (s.role === Role.Leader && s.term > bestTerm) {
        best = id;
        bestTerm = s.term;
      }
    }
    return best;
  }

  propose(node: NodeId, data: Uint8Array, reply: (outcome: ProposeOutcome<RegisterResult>) => void): boolean {
    const m = this.member(node);
    if (!m.host.up) return false;
    m.host.after(0.5, () => {
      if (m.node === null) return;
      m.node.propose(data, (o) => {
        if (!o.ok && o.reason === 'proposal-dropped') this.checkTransferRefusal(m, o.message);
        reply(o);
      });
    });
    return true;
  }

  /**
   * A leader refuses proposals while it hands over, but a transfer that did not complete within an
   * election timeout must abort (§3.10): otherwise one transfer to a dead member would stop the
   * cluster taking writes for good. The engine counts the timeout in ticks, so the bound is
   * electionTicks (plus two for the tick in progress and the one that aborts) at this member's
   * clock rate, in time the process actually ran. Relies on the engine's refusal message.
   */
  private checkTransferRefusal(m: Member, message: string): void {
    if (!message.startsWith('leadership is being transferred')) return;
    const tr = m.transfer;
    const tickMs = this.options.tickMs ?? 10;
    const bound = ((this.options.electionTicks ?? 10) + 2) * (tickMs / m.host.clockRate);
    const ran =
      tr === null ? Number.POSITIVE_INFINITY : this.sched.now() - tr.at - (m.pausedMs - tr.pausedMs);
    if (ran > bound) {
      this.checker.report(
        Property.TransferAbort,
        m.id,
        tr === null
          ? `refused a proposal (${message}) with no transfer under way in this incarnation`
          : `still refusing proposals (${message}) ${ran.toFixed(3)}ms of running time after the transfer to ` +
              `${tr.to} began (bound ${bound.toFixed(3)}ms: an election timeout)`,
      );
    }
  }

  read(node: NodeId, key: string, reply: (outcome: ProposeOutcome<RegisterResult>) => void): boolean {
    const m = this.member(node);
    if (!m.host.up) return false;
    m.host.after(0.5, () => {
      const n = m.node;
      if (n === null) return;
      const machine = m.machine;
      n.read((o) => {
        if (o.ok) reply({ ok: true, index: o.index, result: { kind: 'get', value: machine.get(key) } });
        else if (o.reason === 'not-leader') reply(o);
        else reply({ ok: false, reason: 'proposal-dropped', message: `read failed: ${o.reason}` });
      });
    });
    return true;
  }

  /**
   * PLANTED BUG for tests: answers a read from the member's own state machine whenever it believes
   * it leads, with no log entry and no ReadIndex. A deposed leader that has not noticed yet serves
   * stale values, which the linearizability checker must catch.
   */
  readLocally(node: NodeId, key: string, reply: (outcome: ProposeOutcome<RegisterResult>) => void): boolean {
    const m = this.member(node);
    if (!m.host.up) return false;
    m.host.after(0.5, () => {
      const n = m.node;
      if (n === null) return;
      const s = n.status();
      if (s.role !== Role.Leader) reply({ ok: false, reason: 'not-leader', leaderHint: s.leader });
      else reply({ ok: true, index: s.appliedIndex, result: { kind: 'get', value: m.machine.get(key) } });
    });
    return true;
  }

  appended(id: number): boolean {
    return this.appendedOps.has(id);
  }

  /** Compares every running member's store with the log its Readys described. */
  checkStores(): void {
    for (const id of this.members) {
      const m = this.member(id);
      if (m.node !== null && m.host.up) this.checker.checkStore(id, m.disk);
    }
  }

  private newMachine(): RegisterMachine {
    return new RegisterMachine(this.options.splitTxnWrites === true ? { splitTxnWrites: true } : {});
  }

  private boot(m: Member): void {
    m.incarnation++;
    m.machine = this.newMachine();
    m.host.boot();
    const id = m.id;
    this.trace(
      id,
      m.incarnation === 1
        ? 'start'
        : `RESTART (log ends at ${m.disk.lastIndex()}${m.bootVoters.length === 0 ? ', join mode' : ''})`,
    );
    this.checker.nodeStarted(id, m.disk);
    const raft: RaftTestingConfig = {
      id,
      voters: m.bootVoters,
      rng: streamRng(this.options.seed, Stream.Node, m.index, m.incarnation),
      electionTicks: this.options.electionTicks ?? 10,
      heartbeatTicks: this.options.heartbeatTicks ?? 2,
      ...(this.options.maxMsgBytes !== undefined ? { maxMsgBytes: this.options.maxMsgBytes } : {}),
      ...(this.options.preVote !== undefined ? { preVote: this.options.preVote } : {}),
      ...(this.options.checkQuorum !== undefined ? { checkQuorum: this.options.checkQuorum } : {}),
      ...(this.options.readLease === true ? { readLease: true } : {}),
      ...(this.options.bugs !== undefined ? { testingBugs: this.options.bugs } : {}),
    };
    const node = new RaftNode<RegisterResult>({
      raft,
      storage: m.disk,
      transport: this.network.transport(id),
      stateMachine: m.machine,
      scheduler: m.host.scheduler(),
      tickMs: this.options.tickMs ?? 10,
      snapshotStore: m.snaps,
      snapshotEntries: this.options.snapshotEntries ?? 0,
      compactKeepEntries: this.options.compactKeepEntries ?? 0,
      snapshotChunkBytes: this.options.snapshotChunkBytes ?? 16,
      snapshotWindowChunks: 2,
      snapshotRetryMs: 25,
      snapshotMaxRetries: 3,
      onFatal: (err) => {
        const code = (err as { code?: unknown }).code;
        this.checker.report(
          Property.Fatal,
          id,
          `${typeof code === 'string' ? `${code}: ` : ''}${err.message}`,
        );
      },
      observer: {
        ready: (nid, rd) => {
          this.watchTransfers(nid, rd);
          for (const e of rd.entries) {
            if (e.type === 1) {
              const op = commandId(e.data);
              if (op !== null) this.appendedOps.add(op);
            }
          }
          if (this.tracing) {
            const d = describeReady(rd);
            if (d !== '') this.trace(nid, d);
          }
          this.checker.onReady(nid, rd);
        },
        apply: (nid, e) => {
          this.checker.onApply(nid, e);
          if (e.type === EntryType.Config) this.confApplied(e.index, e.data);
        },
        snapshot: (nid, meta, chunks) => {
          this.snapshots.taken++;
          this.trace(nid, `snapshot saved at ${meta.index}@${meta.term}`);
          this.checker.onSnapshot(nid, meta, concatChunks(chunks));
          this.onSnapshotTaken?.(nid);
        },
        restore: (nid, meta, data) => {
          this.snapshots.installed++;
          this.trace(nid, `state machine restored from snapshot ${meta.index}@${meta.term}`);
          this.checker.onRestore(nid, meta, data);
        },
      },
    });
    m.node = node;
    this.network.hostChanged(id);
    node.start();
  }

  /** Counts transfers that completed: the target won the election it started on TimeoutNow. */
  private watchTransfers(id: NodeId, rd: Ready): void {
    for (const list of [rd.messages, rd.messagesAfterPersist]) {
      for (const msg of list) {
        if (msg.type === 'vote' && msg.transfer) this.transferCampaigns.set(id, msg.term);
        if (msg.type === 'timeoutNow') this.member(id).timeoutNow.set(msg.to, this.sched.now());
      }
    }
    this.checkHandOver(id);
    const s = rd.softState;
    if (s === null) return;
    const m = this.member(id);
    // A leader that stepped down refuses with not-leader, and a new term's leader starts with no
    // transfer: either way an earlier transfer cannot cause refusals any more.
    if (m.transfer !== null && (s.role !== Role.Leader || s.term !== m.transfer.term)) m.transfer = null;
    if (s.role === Role.Leader) {
      const term = this.transferCampaigns.get(id);
      if (term === s.term) {
        this.transfers.completed++;
        this.trace(id, `transfer completed: leads term ${term}`);
      }
      this.transferCampaigns.delete(id);
    } else if (s.role === Role.Follower) {
      this.transferCampaigns.delete(id);
    }
  }

  /**
   * §3.10: once the transfer target holds the leader's whole log (by appends or by InstallSnapshot),
   * the leader sends it TimeoutNow. Checked at each of the leader's Readys (it makes one every
   * heartbeat): the target caught up more than two heartbeat intervals ago and no TimeoutNow left
   * for it since the transfer began is a violation. Without this rule a transfer silently aborts
   * after an election timeout (issue #15: a target caught up by a snapshot of the leader's last index).
   */
  private checkHandOver(id: NodeId): void {
    const m = this.member(id);
    const n = m.node;
    const to = n?.status().transferee ?? null;
    const caught = m.caughtUp;
    if (n === null || to === null || m.transfer === null || m.transfer.to !== to) {
      const was = m.transfer;
      if (n !== null && to === null && was !== null && caught?.to === was.to && !this.timedOutNow(m, was)) {
        this.checker.report(
          Property.TransferComplete,
          id,
          `the transfer to ${was.to} ended without TimeoutNow although ${was.to} had matched the whole log since ` +
            `${caught.since.toFixed(3)}ms`,
        );
      }
      m.caughtUp = null;
      return;
    }
    const s = n.status();
    if (n.progress(to)?.match !== s.lastIndex) {
      m.caughtUp = null;
      return;
    }
    const now = this.sched.now();
    const since = caught?.to === to ? caught.since : now;
    m.caughtUp = { to, since };
    if (this.timedOutNow(m, m.transfer)) return;
    const tickMs = this.options.tickMs ?? 10;
    const bound = 2 * (this.options.heartbeatTicks ?? 2) * (tickMs / m.host.clockRate) + 1;
    if (now - since > bound) {
      this.checker.report(
        Property.TransferComplete,
        id,
        `transfer target ${to} has matched the whole log (${s.lastIndex}) for ` +
          `${(now - since).toFixed(3)}ms but no TimeoutNow was sent to it (bound ${bound.toFixed(3)}ms)`,
      );
    }
  }

  /** Whether `m` sent TimeoutNow to the target of `transfer` since that transfer began. */
  private timedOutNow(m: Member, transfer: { readonly to: NodeId; readonly at: number }): boolean {
    const at = m.timeoutNow.get(transfer.to);
    return at !== undefined && at >= transfer.at;
  }

  private member(id: NodeId): Member {
    const m = this.byId.get(id);
    if (m === undefined) throw new Error(`unknown member ${id}`);
    return m;
  }

  private onViolation(v: InvariantViolation): void {
    this.trace(v.node ?? 'sim', `VIOLATION ${v.property}: ${v.message}`);
    this.sched.halt();
  }
}
