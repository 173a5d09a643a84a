import { decodeMessage, encodeMessage } from '../codec/messages.js';
import type { RaftConfig, TestingBugs } from '../raft/config.js';
import type { SeededRng } from '../raft/rng.js';
import { type NodeId, type Ready, Role } from '../raft/types.js';
import { type ProposeOutcome, RaftNode } from '../runtime/RaftNode.js';
import { describeMessage, describeReady, formatTime } from './describe.js';
import { type DurableView, InvariantChecker, type InvariantViolation, Property } from './invariants.js';
import { MemoryLogStore } from './MemoryLogStore.js';
import type { NemesisTarget } from './Nemesis.js';
import { commandId, RegisterMachine, type RegisterResult } from './RegisterMachine.js';
import { SimDisk } from './SimDisk.js';
import { SimHost } from './SimHost.js';
import { SimNetwork } from './SimNetwork.js';
import { SimScheduler } from './SimScheduler.js';
import { Stream, streamRng } from './simRng.js';
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
  /** Encode and decode every message with the wire codec. Default true. */
  readonly wire?: boolean;
}

interface Member {
  readonly id: NodeId;
  readonly index: number;
  readonly host: SimHost;
  disk: SimDisk;
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
  restarts = 0;

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
    const clockRng = streamRng(options.seed, Stream.Clock);
    const durable = new Map<NodeId, DurableView>();
    this.checker.durableLogs = () => {
      for (const id of this.members) durable.set(id, this.member(id).disk.durable);
      return durable;
    };
    const ids: NodeId[] = [];
    for (let i = 1; i <= options.nodes; i++) ids.push(`n${i}`);
    this.members = ids;
    ids.forEach((id, index) => {
      const drift = options.clockDrift ?? 0.02;
      const host = new SimHost(id, this.sched, 1 + (clockRng.float() * 2 - 1) * drift);
      this.network.addHost(host);
      const disk = new SimDisk(new MemoryLogStore(), host, this.diskRng, options.lyingDisks === true);
      this.byId.set(id, {
        id,
        index,
        host,
        disk,
        node: null,
        machine: new RegisterMachine(),
        incarnation: 0,
        pausedMs: 0,
        pausedSince: null,
        transfer: null,
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

  /** Boots every member. */
  start(): void {
    for (const id of this.members) this.boot(this.member(id));
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
    this.transferCampaigns.delete(id);
    m.host.crash();
    this.checker.nodeStopped(id);
    node?.stop();
    m.disk = new SimDisk(recovered, m.host, this.diskRng, this.options.lyingDisks === true);
    this.network.hostChanged(id);
    this.checkDurability();
  }

  /** What would survive if every member lost power now must still hold every committed entry. */
  checkDurability(): void {
    this.checker.checkDurableQuorum(this.durableLogs());
  }

  private durableLogs(): Map<NodeId, DurableView> {
    const durable = new Map<NodeId, DurableView>();
    for (const id of this.members) durable.set(id, this.member(id).disk.durable);
    return durable;
  }

  restart(id: NodeId): void {
    const m = this.member(id);
    if (m.host.up) return;
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
      const r = n.transferLeader(to);
      if (!r.ok) {
        this.transfers.refused++;
        this.trace(leader, `transferLeader(${to}) refused: ${r.reason}`);
        return;
      }
      if (to === leader) {
        this.trace(leader, `transferLeader(${to}): already leads`);
        return;
      }
      this.transfers.attempted++;
      m.transfer = { at: this.sched.now(), pausedMs: m.pausedMs, to, term: n.status().term };
      this.trace(leader, `transferLeader(${to}) started`);
    });
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

  private boot(m: Member): void {
    m.incarnation++;
    m.machine = new RegisterMachine();
    m.host.boot();
    const id = m.id;
    this.trace(id, m.incarnation === 1 ? 'start' : `RESTART (log ends at ${m.disk.lastIndex()})`);
    this.checker.nodeStarted(id, m.disk);
    const raft: RaftConfig = {
      id,
      voters: this.members,
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
        apply: (nid, e) => this.checker.onApply(nid, e),
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
      }
    }
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
