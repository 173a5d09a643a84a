import type { RaftConfig } from '../raft/config.js';
import { ErrorCode, KeelError } from '../raft/errors.js';
import { Raft } from '../raft/Raft.js';
import {
  type Entry,
  EntryType,
  type Message,
  type NodeId,
  type Ready,
  type Role,
  type TransferResult,
} from '../raft/types.js';
import {
  type LogStore,
  PeerEvent,
  type Scheduler,
  type StateMachine,
  type TimerHandle,
  type Transport,
} from './interfaces.js';

export interface RaftNodeOptions<R> {
  /** Engine settings (id, voters, rng, election/heartbeat ticks, ...). */
  readonly raft: RaftConfig;
  readonly storage: LogStore;
  readonly transport: Transport;
  readonly stateMachine: StateMachine<R>;
  readonly scheduler: Scheduler;
  /** Milliseconds per engine tick. Default 10 (so electionTicks 15 = 150 ms). */
  readonly tickMs?: number;
  /** How long a linearizable read may wait for confirmation before failing with 'timeout'. Default 2000. */
  readonly readTimeoutMs?: number;
  /** Called once when the node stops because of a fatal error (failed fsync, broken invariant). */
  readonly onFatal?: (err: Error) => void;
  /** Observation hooks for tests and metrics; must not mutate what they are given. */
  readonly observer?: RaftObserver;
}

export interface RaftObserver {
  /** Every Ready, right after the engine produced it and before the driver acts on it. */
  ready?(node: NodeId, ready: Ready): void;
  /** Every entry, right before it is applied to the state machine. */
  apply?(node: NodeId, entry: Entry): void;
}

export type ProposeOutcome<R> =
  | { readonly ok: true; readonly index: number; readonly result: R }
  | { readonly ok: false; readonly reason: 'not-leader'; readonly leaderHint: NodeId | null }
  /**
   * `proposal-dropped`: the command will never apply (the leader refused it before appending, or a
   * newer leader's entry took its index). `stopped`: the node stopped first; the command may or may
   * not have been committed by others.
   */
  | { readonly ok: false; readonly reason: 'proposal-dropped' | 'stopped'; readonly message: string };

/** A linearizable read's outcome: once `ok`, the local state machine reflects every write that completed before the read began. */
export type ReadOutcome =
  | { readonly ok: true; readonly index: number }
  | { readonly ok: false; readonly reason: 'not-leader'; readonly leaderHint: NodeId | null }
  | {
      readonly ok: false;
      readonly reason: 'leadership-lost' | 'timeout' | 'stopped';
      readonly message: string;
    };

export interface NodeStatus {
  readonly id: NodeId;
  readonly role: Role;
  readonly term: number;
  readonly leader: NodeId | null;
  readonly commitIndex: number;
  readonly appliedIndex: number;
  readonly lastIndex: number;
}

/**
 * Runs the pure engine against real (or simulated) storage, transport, state machine and clock,
 * following DESIGN.md's driver loop: send `messages` now, hand entries and hard state to the store,
 * send `messagesAfterPersist` and report `persisted` once the store says they are durable, apply
 * committed entries and answer their proposers. Inputs that arrive together (many proposals, a
 * burst of messages) are coalesced into one Ready by deferring the pump, which is what turns many
 * client requests into one WAL write and one AppendEntries per follower.
 *
 * All callbacks are plain functions (no promises inside), so a simulator can run it in virtual time.
 */
export class RaftNode<R = unknown> {
  readonly id: NodeId;
  private readonly raft: Raft;
  private readonly storage: LogStore;
  private readonly transport: Transport;
  private readonly stateMachine: StateMachine<R>;
  private readonly scheduler: Scheduler;
  private readonly tickMs: number;
  private readonly onFatal: ((err: Error) => void) | undefined;
  private readonly observer: RaftObserver | undefined;

  private running = false;
  private stopped = false;
  private tickTimer: TimerHandle | null = null;
  /** Scheduler time at which the next engine tick is due. */
  private nextTickAt = 0;
  private pumpScheduled = false;
  /** Readys handed to the store, oldest first, waiting to be durable. */
  private readonly unsynced: {
    number: number;
    write: boolean;
    durable: boolean;
    after: readonly Message[];
  }[] = [];
  private readonly readTimeoutMs: number;
  private readCounter = 0;
  /** Reads waiting for the leader's confirmation, by context. */
  private readonly reads = new Map<number, { done: (o: ReadOutcome) => void; timer: TimerHandle }>();
  /** Confirmed reads waiting for the local apply to reach their index, oldest first. */
  private readonly readsAwaitingApply: { index: number; done: (o: ReadOutcome) => void }[] = [];
  /** Proposals waiting for their entry to be applied, by index. */
  private readonly waiting = new Map<number, { term: number; done: (o: ProposeOutcome<R>) => void }>();

  constructor(options: RaftNodeOptions<R>) {
    this.raft = new Raft(options.raft, options.storage);
    this.id = this.raft.id;
    this.storage = options.storage;
    this.transport = options.transport;
    this.stateMachine = options.stateMachine;
    this.scheduler = options.scheduler;
    this.tickMs = options.tickMs ?? 10;
    this.onFatal = options.onFatal;
    this.observer = options.observer;
    this.readTimeoutMs = options.readTimeoutMs ?? 2000;
  }

  start(): void {
    if (this.running || this.stopped) return;
    this.running = true;
    const started = this.transport.start({
      message: (m) => this.input(() => this.raft.step(m)),
      peer: (peer, event) => this.peerEvent(peer, event),
    });
    if (started instanceof Promise) started.catch((err: unknown) => this.fail(toError(err)));
    this.nextTickAt = this.scheduler.now() + this.tickMs;
    this.scheduleTick();
    this.schedulePump();
  }

  propose(data: Uint8Array, done: (outcome: ProposeOutcome<R>) => void): void {
    if (this.stopped) {
      done({ ok: false, reason: 'stopped', message: 'the node is stopped' });
      return;
    }
    let r: ReturnType<Raft['propose']>;
    try {
      r = this.raft.propose(data);
    } catch (err) {
      this.fail(toError(err));
      done({ ok: false, reason: 'stopped', message: 'the node stopped on a fatal error' });
      return;
    }
    if (!r.ok) {
      done(r.reason === 'not-leader' ? r : { ok: false, reason: 'proposal-dropped', message: r.message });
      return;
    }
    this.waiting.set(r.firstIndex, { term: r.term, done });
    this.schedulePump();
  }

  /**
   * A linearizable read (ReadIndex, §6.4; or the leader's lease when enabled). `done` is called once:
   * `ok` when the local state machine may be read, or with a reason. Never reports ok for a read
   * that could observe stale state.
   */
  read(done: (outcome: ReadOutcome) => void): void {
    if (this.stopped) {
      done({ ok: false, reason: 'stopped', message: 'the node is stopped' });
      return;
    }
    // Time first: after a pause, the lease must be judged by the clock, not by missed timer firings.
    this.catchUpTicks();
    const context = ++this.readCounter;
    const r = this.raft.readIndex(context);
    if (!r.ok) {
      done(r.reason === 'not-leader' ? r : { ok: false, reason: 'leadership-lost', message: r.message });
      return;
    }
    const timer = this.scheduler.setTimeout(() => {
      const w = this.reads.get(context);
      if (w === undefined) return;
      this.reads.delete(context);
      w.done({ ok: false, reason: 'timeout', message: `read not confirmed within ${this.readTimeoutMs} ms` });
    }, this.readTimeoutMs);
    this.reads.set(context, { done, timer });
    this.schedulePump();
  }

  /** Hands leadership to `to` (dissertation §3.10); the outcome shows in status() within an election timeout. */
  transferLeader(to: NodeId): TransferResult {
    if (this.stopped) return { ok: false, reason: 'not-leader', leaderHint: null };
    const r = this.raft.transferLeader(to);
    this.schedulePump();
    return r;
  }

  /** Starts an election at once (tests and tools; normal operation relies on the timer). */
  campaign(): void {
    this.input(() => this.raft.campaign());
  }

  status(): NodeStatus {
    return {
      id: this.id,
      role: this.raft.role,
      term: this.raft.term,
      leader: this.raft.leader,
      commitIndex: this.raft.log.committed,
      appliedIndex: this.raft.log.applied,
      lastIndex: this.raft.log.lastIndex(),
    };
  }

  /** Replication state of `peer` as the leader sees it (null on followers). */
  progress(peer: NodeId): { match: number; next: number; state: string } | null {
    return this.raft.progressOf(peer);
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.running = false;
    if (this.tickTimer !== null) this.scheduler.clearTimeout(this.tickTimer);
    this.tickTimer = null;
    const waiting = [...this.waiting.values()];
    this.waiting.clear();
    for (const w of waiting) w.done({ ok: false, reason: 'stopped', message: 'the node stopped' });
    const reads = [...this.reads.values()].map((r) => r.done);
    for (const r of this.reads.values()) this.scheduler.clearTimeout(r.timer);
    this.reads.clear();
    for (const r of this.readsAwaitingApply.splice(0)) reads.push(r.done);
    for (const done of reads) done({ ok: false, reason: 'stopped', message: 'the node stopped' });
  }

  // ---------------------------------------------------------------------------------------------

  private input(fn: () => void): void {
    if (this.stopped) return;
    try {
      fn();
    } catch (err) {
      this.fail(toError(err));
      return;
    }
    this.schedulePump();
  }

  private peerEvent(peer: NodeId, event: PeerEvent): void {
    // Reachability hints feed fast failover; safety never depends on them.
    this.input(() => {
      if (event === PeerEvent.Disconnected) this.raft.peerDisconnected(peer);
      else this.raft.peerConnected(peer);
    });
  }

  private scheduleTick(): void {
    // Re-arm for the time left to the next due tick: a timer that fires a little early (Node's
    // can, by about a millisecond) must not lose that tick.
    const delay = Math.max(0, this.nextTickAt - this.scheduler.now());
    this.tickTimer = this.scheduler.setTimeout(() => {
      if (this.stopped) return;
      this.catchUpTicks();
      this.scheduleTick();
    }, delay);
  }

  /**
   * Delivers every tick that is due by the clock, not one per timer firing: a process that was
   * paused (SIGSTOP, a long GC, an overloaded host) must see its logical time jump, or a leader
   * would keep trusting a lease that expired while it was frozen. Bounded so a long pause costs
   * at most a couple of election timeouts' worth of ticks.
   */
  private catchUpTicks(): void {
    const now = this.scheduler.now();
    if (now < this.nextTickAt) return;
    const due = 1 + Math.floor((now - this.nextTickAt) / this.tickMs);
    const n = Math.min(due, 2 * this.raft.electionTimeoutTicks + 1);
    this.nextTickAt += due * this.tickMs;
    this.input(() => {
      for (let i = 0; i < n; i++) this.raft.tick();
    });
  }

  private schedulePump(): void {
    if (this.pumpScheduled || this.stopped) return;
    this.pumpScheduled = true;
    this.scheduler.defer(() => {
      this.pumpScheduled = false;
      this.pump();
    });
  }

  private pump(): void {
    if (this.stopped) return;
    try {
      for (let rd = this.raft.ready(); rd !== null; rd = this.raft.ready()) this.handle(rd);
    } catch (err) {
      this.fail(toError(err));
    }
  }

  private handle(rd: Ready): void {
    this.observer?.ready?.(this.id, rd);
    if (rd.messages.length > 0) this.transport.send(rd.messages);

    const write = rd.entries.length > 0 || rd.hardState !== null;
    const item = { number: rd.number, write, durable: !write, after: rd.messagesAfterPersist };
    this.unsynced.push(item);
    if (write) {
      this.storage.append(rd.entries, rd.hardState, (err) => {
        if (this.stopped) return;
        if (err !== null) {
          this.fail(new KeelError(ErrorCode.StorageFailed, `storage failed: ${err.message}`, { cause: err }));
          return;
        }
        item.durable = true;
        this.releaseDurable();
      });
    } else {
      this.releaseDurable();
    }

    if (rd.committed.length > 0) this.apply(rd.committed);
    for (const rs of rd.readStates) {
      const w = this.reads.get(rs.context);
      if (w === undefined) continue; // timed out already
      this.reads.delete(rs.context);
      this.scheduler.clearTimeout(w.timer);
      if (!rs.ok) {
        const message = rs.reason === 'not-leader' ? 'the leader refused the read' : 'leadership was lost';
        w.done({ ok: false, reason: 'leadership-lost', message });
      } else if (rs.index <= this.raft.log.applied) {
        w.done({ ok: true, index: rs.index });
      } else {
        this.awaitApply(rs.index, w.done);
      }
    }
  }

  private awaitApply(index: number, done: (o: ReadOutcome) => void): void {
    const q = this.readsAwaitingApply;
    let at = q.length;
    while (at > 0 && q[at - 1]!.index > index) at--;
    q.splice(at, 0, { index, done });
  }

  /** Sends what waited for durability, in Ready order, and tells the engine how far it got. */
  private releaseDurable(): void {
    let last = -1;
    while (this.unsynced.length > 0 && this.unsynced[0]!.durable) {
      const item = this.unsynced.shift()!;
      if (item.after.length > 0) this.transport.send(item.after);
      last = item.number;
    }
    if (last >= 0) this.input(() => this.raft.persisted(last));
  }

  private apply(entries: readonly Entry[]): void {
    for (const e of entries) {
      this.observer?.apply?.(this.id, e);
      let result: R | undefined;
      if (e.type === EntryType.Normal) result = this.stateMachine.apply(e);
      const w = this.waiting.get(e.index);
      if (w !== undefined) {
        this.waiting.delete(e.index);
        if (w.term === e.term) w.done({ ok: true, index: e.index, result: result as R });
        else
          w.done({
            ok: false,
            reason: 'proposal-dropped',
            message: `entry ${e.index} was replaced by a newer leader`,
          });
      }
    }
    const last = entries[entries.length - 1]!.index;
    this.raft.applied(last);
    const q = this.readsAwaitingApply;
    let served = 0;
    while (served < q.length && q[served]!.index <= last) served++;
    if (served > 0) for (const r of q.splice(0, served)) r.done({ ok: true, index: r.index });
  }

  private fail(err: Error): void {
    if (this.stopped) return;
    this.stop();
    this.onFatal?.(err);
  }
}

function toError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}
